#include "read_only.h"

#include "failure.h"

#include <lauxlib.h>

static int refuse_write(lua_State *L)
{
    return luaL_error(L, "the resolved config is read-only (tried to set '%s')", luaL_tolstring(L, 2, NULL));
}

/* upvalue 1: the backing table */
static int backing_next(lua_State *L)
{
    lua_settop(L, 2);
    if (!lua_next(L, lua_upvalueindex(1)))
        return 0;
    return 2;
}

/* A view's metatable holds, besides its metamethods, this mark at [1]
 * and what it reads through at [2]: found without hashing a name. */
static const char view_mark;

static int view_pairs(lua_State *L)
{
    read_only_push_backing(L, 1);
    lua_pushcclosure(L, backing_next, 1);
    lua_pushnil(L);
    lua_pushnil(L);
    return 3;
}

static int view_len(lua_State *L)
{
    read_only_push_backing(L, 1);
    lua_pushinteger(L, lua_type(L, -1) == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, -1) : 0);
    return 1;
}

int read_only_is_view(lua_State *L, int index)
{
    if (lua_type(L, index) != LUA_TTABLE || !lua_getmetatable(L, index))
        return 0;
    lua_rawgeti(L, -1, 1);
    int yes = lua_touserdata(L, -1) == &view_mark;
    lua_pop(L, 2);
    return yes;
}

int read_only_is_flat(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    if (lua_type(L, index) != LUA_TTABLE)
        return 0;
    if (lua_getmetatable(L, index)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushnil(L);
    while (lua_next(L, index)) {
        if (lua_type(L, -1) == LUA_TTABLE) {
            lua_pop(L, 2);
            return 0;
        }
        lua_pop(L, 1);
    }
    return 1;
}

void read_only_push_backing(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    /* the real metatable: __metatable only hides it from Lua */
    if (lua_type(L, index) == LUA_TTABLE && lua_getmetatable(L, index)) {
        lua_rawgeti(L, -1, 1);
        if (lua_touserdata(L, -1) == &view_mark) {
            lua_rawgeti(L, -2, 2); /* metatable mark backing */
            lua_replace(L, -3);
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 2);
    }
    lua_pushvalue(L, index);
}

void read_only_push_view(lua_State *L, int backing)
{
    backing = lua_absindex(L, backing);
    lua_newtable(L);
    lua_createtable(L, 2, 5);
    lua_pushlightuserdata(L, (void *)&view_mark);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, backing);
    lua_rawseti(L, -2, 2);
    lua_pushvalue(L, backing);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, refuse_write);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, view_len);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, view_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0); /* getmetatable(view) must not hand out the backing */
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

/* Deeper than any value a key takes (lists of lists at most). A table
 * nested deeper is copied as an empty one, which the checks then report
 * for what it is, rather than followed for ever. */
#define COPY_DEPTH_MAX 32
/* How many tables of __index a copy follows for what a table inherits. */
#define INHERIT_MAX 32

static void push_frozen_table(lua_State *L, int index, int seen, int depth);

/* Puts the key and value on top (popping them) into the copy at
 * `backing`, a table value copied in turn (once: `seen` maps tables to
 * their copies). A key the copy has already keeps its value, so what a
 * table inherits never overrides its own. */
static void put_copied(lua_State *L, int backing, int seen, int depth)
{
    lua_pushvalue(L, -2);
    if (lua_rawget(L, backing) != LUA_TNIL) {
        lua_pop(L, 3);
        return;
    }
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TTABLE && !read_only_is_view(L, -1)) {
        lua_pushvalue(L, -1);
        if (lua_rawget(L, seen) == LUA_TNIL) {
            lua_pop(L, 1);
            push_frozen_table(L, lua_gettop(L), seen, depth + 1);
        }
        lua_replace(L, -2);
    }
    lua_rawset(L, backing);
}

/* Copies what pairs() shows of the table at `index`: through its
 * __pairs (user code, called on the protected path) when it has one. */
static void copy_entries(lua_State *L, int index, int backing, int seen, int depth)
{
    if (luaL_getmetafield(L, index, "__pairs") == LUA_TNIL) {
        lua_pushnil(L);
        while (lua_next(L, index)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2); /* key key value */
            put_copied(L, backing, seen, depth);
        }
        return;
    }
    lua_pushvalue(L, index);
    failure_call_user(L, 1, 3, "pairs"); /* next state key */
    int iterator = lua_gettop(L) - 2;
    for (;;) {
        lua_pushvalue(L, iterator);
        lua_pushvalue(L, iterator + 1);
        lua_pushvalue(L, iterator + 2);
        failure_call_user(L, 2, 2, "pairs");
        if (lua_isnil(L, -2)) {
            lua_pop(L, 2);
            break;
        }
        lua_pushvalue(L, -2);
        lua_replace(L, iterator + 2);
        put_copied(L, backing, seen, depth);
    }
    lua_settop(L, iterator - 1);
}

/* Copies what the table at `index` inherits through tables of __index
 * (an __index function is not asked: it may answer every key, or none). */
static void copy_inherited(lua_State *L, int index, int backing, int seen, int depth)
{
    lua_pushvalue(L, index);
    for (int hops = 0; hops < INHERIT_MAX && lua_getmetatable(L, -1); hops++) {
        lua_pushliteral(L, "__index");
        int type = lua_rawget(L, -2); /* table metatable parent */
        lua_remove(L, -2);
        lua_remove(L, -2);
        if (type != LUA_TTABLE)
            break;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            put_copied(L, backing, seen, depth);
        }
    }
    lua_pop(L, 1);
}

/* Pushes the frozen copy of the table at `index`. */
static void push_frozen_table(lua_State *L, int index, int seen, int depth)
{
    luaL_checkstack(L, 8, "copying a value");
    lua_newtable(L); /* backing */
    int backing = lua_gettop(L);
    read_only_push_view(L, backing);
    lua_pushvalue(L, index);
    lua_pushvalue(L, -2);
    lua_rawset(L, seen);
    if (depth <= COPY_DEPTH_MAX) {
        copy_entries(L, index, backing, seen, depth);
        copy_inherited(L, index, backing, seen, depth);
    }
    lua_remove(L, backing);
}

void read_only_push_copy(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    if (lua_type(L, index) != LUA_TTABLE || read_only_is_view(L, index)) {
        lua_pushvalue(L, index);
        return;
    }
    if (read_only_is_flat(L, index)) {
        /* most values: a list of strings, with nothing to follow */
        lua_createtable(L, (int)lua_rawlen(L, index), 0);
        lua_pushnil(L);
        while (lua_next(L, index)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, -4);
        }
        read_only_push_view(L, -1);
        lua_remove(L, -2);
        return;
    }
    lua_newtable(L); /* seen */
    push_frozen_table(L, index, lua_gettop(L), 0);
    lua_remove(L, -2);
}
