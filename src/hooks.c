#include "hooks.h"

#include "failure.h"

#include <lauxlib.h>
#include <string.h>

static int forbid_assignment(lua_State *L)
{
    return luaL_error(L, "the resolved config is read-only (tried to set '%s')", luaL_tolstring(L, 2, NULL));
}

/* The iterator of pairs(view): next over the config, which it holds as
 * an upvalue so that the config itself is never handed out. */
static int view_next(lua_State *L)
{
    lua_settop(L, 2);
    if (!lua_next(L, lua_upvalueindex(1)))
        return 0;
    return 2;
}

static int view_pairs(lua_State *L)
{
    lua_getmetatable(L, 1); /* the raw one: __metatable only hides it from Lua */
    lua_getfield(L, -1, "__index");
    lua_pushcclosure(L, view_next, 1);
    lua_pushnil(L);
    lua_pushnil(L);
    return 3;
}

void hooks_push_view(lua_State *L, int cfg)
{
    cfg = lua_absindex(L, cfg);
    lua_newtable(L);
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, cfg);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, forbid_assignment);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, view_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0); /* getmetatable(c) must not hand out the config */
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

/* Calls the function below its `nargs` arguments; on error, raises a
 * failure whose message starts with `what`. Leaves one result. */
static void call_user(lua_State *L, int nargs, const char *what)
{
    if (failure_pcall(L, nargs, 1) != LUA_OK)
        failure_raise_prefixed(L, what);
}

/* Pushes hooks[name] when it is a function and returns 1; else 0. */
static int push_hook(lua_State *L, int cfg, const char *name)
{
    if (lua_getfield(L, cfg, "hooks") != LUA_TTABLE) {
        lua_pop(L, 1);
        return 0;
    }
    int type = lua_getfield(L, -1, name);
    lua_remove(L, -2);
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (type != LUA_TFUNCTION)
        failure_raise(L, EXIT_INVALID_CONFIG, "hooks.%s: expected a function, got %s", name, luaL_typename(L, -1));
    return 1;
}

/* Pushes a copy of the table at `index`, nested tables copied too, so
 * that what a hook changes inside a list cannot reach the units. */
static void push_deep_copy(lua_State *L, int index, int depth)
{
    index = lua_absindex(L, index);
    luaL_checkstack(L, 4, "copying the config for a hook");
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, index)) {
        if (lua_type(L, -1) == LUA_TTABLE && depth < 8) {
            push_deep_copy(L, -1, depth + 1);
            lua_replace(L, -2);
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

void hooks_after_resolve(lua_State *L, int cfg)
{
    cfg = lua_absindex(L, cfg);
    if (!push_hook(L, cfg, "after_resolve"))
        return;
    push_deep_copy(L, cfg, 0);
    hooks_push_view(L, -1);
    lua_remove(L, -2);
    call_user(L, 1, "hooks.after_resolve");
    lua_pop(L, 1);
}

static const char *unit_kind(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : "";
}

static void apply_filters(lua_State *L, int cfg, int units, lua_Integer first)
{
    lua_getfield(L, cfg, "filters");
    int filters = lua_gettop(L);
    lua_Integer nfilters = lua_type(L, filters) == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, filters) : 0;
    for (lua_Integer u = first, n = (lua_Integer)lua_rawlen(L, units); u <= n; u++) {
        lua_rawgeti(L, units, u);
        for (lua_Integer f = 1; f <= nfilters; f++) {
            lua_rawgeti(L, filters, f);
            lua_getfield(L, -2, "text");
            lua_createtable(L, 0, 2);
            lua_getfield(L, -4, "name");
            lua_setfield(L, -2, "name");
            lua_getfield(L, -4, "kind");
            lua_setfield(L, -2, "kind");
            lua_getfield(L, -1, "name");
            const char *what = lua_pushfstring(L, "filters[%d] on %s", (int)f, lua_tostring(L, -1));
            lua_replace(L, -2);
            lua_insert(L, -4); /* below the function and its arguments */
            call_user(L, 2, what);
            if (lua_type(L, -1) != LUA_TSTRING)
                failure_raise(L, EXIT_INVALID_CONFIG, "%s: a filter must return the unit's text, got %s", what,
                              luaL_typename(L, -1));
            lua_setfield(L, -3, "text");
            lua_pop(L, 1); /* what */
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* The units of this service as the plain {name=, text=} list a hook sees. */
static void push_unit_list(lua_State *L, int units, lua_Integer first)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, units);
    lua_createtable(L, (int)(n - first + 1), 0);
    for (lua_Integer u = first; u <= n; u++) {
        lua_rawgeti(L, units, u);
        lua_createtable(L, 0, 2);
        lua_getfield(L, -2, "name");
        lua_setfield(L, -2, "name");
        lua_getfield(L, -2, "text");
        lua_setfield(L, -2, "text");
        lua_rawseti(L, -3, u - first + 1);
        lua_pop(L, 1);
    }
}

/* Replaces entries first.. of `units` with the hook's list on top. */
static void take_unit_list(lua_State *L, int cfg, int units, lua_Integer first)
{
    int list = lua_gettop(L);
    for (lua_Integer u = (lua_Integer)lua_rawlen(L, units); u >= first; u--) {
        lua_pushnil(L);
        lua_rawseti(L, units, u);
    }
    lua_getfield(L, cfg, "output_dir");
    lua_getfield(L, cfg, "service_name");
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, list); i <= n; i++) {
        if (lua_rawgeti(L, list, i) != LUA_TTABLE)
            failure_raise(L, EXIT_INVALID_CONFIG, "hooks.after_render: units[%d] is a %s, not a table", (int)i,
                          luaL_typename(L, -1));
        lua_getfield(L, -1, "name");
        lua_getfield(L, -2, "text");
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            failure_raise(L, EXIT_INVALID_CONFIG, "hooks.after_render: units[%d] needs a string name and text", (int)i);
        lua_createtable(L, 0, 5);
        lua_insert(L, -3);
        lua_setfield(L, -3, "text");
        lua_pushstring(L, unit_kind(lua_tostring(L, -1)));
        lua_setfield(L, -3, "kind");
        lua_setfield(L, -2, "name");
        lua_pushvalue(L, list + 1);
        lua_setfield(L, -2, "dir");
        lua_pushvalue(L, list + 2);
        lua_setfield(L, -2, "service");
        lua_rawseti(L, units, first + i - 1);
        lua_pop(L, 1);
    }
    lua_pop(L, 3);
}

void hooks_post_process(lua_State *L, int cfg, int units, lua_Integer first)
{
    cfg = lua_absindex(L, cfg);
    units = lua_absindex(L, units);
    apply_filters(L, cfg, units, first);
    if (!push_hook(L, cfg, "after_render"))
        return;
    push_unit_list(L, units, first);
    lua_pushvalue(L, -1);
    lua_insert(L, -3); /* keep the list below the call */
    hooks_push_view(L, cfg);
    call_user(L, 2, "hooks.after_render");
    if (lua_type(L, -1) == LUA_TTABLE)
        lua_replace(L, -2); /* a returned list wins over the edited one */
    else
        lua_pop(L, 1);
    take_unit_list(L, cfg, units, first);
}
