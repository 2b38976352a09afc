#include "read_only.h"

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

static void push_raw_reader(lua_State *L, int view)
{
    lua_getmetatable(L, view); /* the real one: __metatable only hides it from Lua */
    lua_rawgeti(L, -1, 2);
    lua_remove(L, -2);
}

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

void read_only_push_backing(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    if (!read_only_is_view(L, index)) {
        lua_pushvalue(L, index);
        return;
    }
    push_raw_reader(L, index);
    if (lua_type(L, -1) != LUA_TTABLE) {
        /* a config being resolved reads through a function */
        lua_pop(L, 1);
        lua_newtable(L);
    }
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

/* Pushes the frozen copy of the table at `index`. `seen` (0 until a
 * nested table is met) maps each table copied so far to its copy, so a
 * table is copied once however often it is held, itself included. */
static void push_frozen_table(lua_State *L, int index, int seen)
{
    luaL_checkstack(L, 6, "copying a value");
    lua_newtable(L); /* backing */
    int backing = lua_gettop(L);
    read_only_push_view(L, backing);
    int view = lua_gettop(L);
    if (seen) {
        lua_pushvalue(L, index);
        lua_pushvalue(L, view);
        lua_rawset(L, seen);
    }
    lua_pushnil(L);
    while (lua_next(L, index)) { /* backing view [seen] key value */
        if (lua_type(L, -1) == LUA_TTABLE && !read_only_is_view(L, -1)) {
            if (!seen) {
                lua_newtable(L);
                lua_insert(L, view + 1);
                seen = view + 1;
                lua_pushvalue(L, index);
                lua_pushvalue(L, view);
                lua_rawset(L, seen);
            }
            lua_pushvalue(L, -1);
            if (lua_rawget(L, seen) == LUA_TNIL) {
                lua_pop(L, 1);
                push_frozen_table(L, lua_gettop(L), seen);
            }
            lua_replace(L, -2);
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, backing);
    }
    lua_settop(L, view);
    lua_remove(L, backing);
}

void read_only_push_copy(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    if (lua_type(L, index) != LUA_TTABLE || read_only_is_view(L, index))
        lua_pushvalue(L, index);
    else
        push_frozen_table(L, index, 0);
}
