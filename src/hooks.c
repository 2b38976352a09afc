#include "hooks.h"

#include "failure.h"
#include "read_only.h"
#include "unit_record.h"

#include <lauxlib.h>

/* Pushes hooks[name] when it is a function and returns 1; else 0. The
 * types were checked with the config. */
static int push_hook(lua_State *L, int cfg, const char *name)
{
    if (lua_getfield(L, cfg, "hooks") != LUA_TTABLE) {
        lua_pop(L, 1);
        return 0;
    }
    int type = lua_getfield(L, -1, name);
    lua_remove(L, -2);
    if (type != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

void hooks_after_resolve(lua_State *L, int cfg, int view)
{
    cfg = lua_absindex(L, cfg);
    view = lua_absindex(L, view);
    if (!push_hook(L, cfg, "after_resolve"))
        return;
    lua_pushvalue(L, view);
    failure_call_user(L, 1, 0, "hooks.after_resolve");
}

/* Pushes "deploy.lua:12: ", where the function on top was written, or
 * "" for a function of C (string.upper given as a filter). */
static void push_place_of_function(lua_State *L)
{
    lua_Debug ar;
    lua_pushvalue(L, -1);
    lua_getinfo(L, ">S", &ar);
    if (ar.linedefined > 0)
        lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.linedefined);
    else
        lua_pushliteral(L, "");
}

/* Runs filter `f` (on top) over the unit record at `unit`, whose text
 * it replaces. */
static void run_filter(lua_State *L, int unit, lua_Integer f)
{
    push_place_of_function(L);
    lua_insert(L, -2); /* place filter */
    lua_getfield(L, unit, "text");
    lua_createtable(L, 0, 2);
    lua_getfield(L, unit, "name");
    lua_setfield(L, -2, "name");
    lua_getfield(L, unit, "kind");
    lua_setfield(L, -2, "kind");
    lua_getfield(L, unit, "name");
    const char *what = lua_pushfstring(L, "filters[%d] on %s", (int)f, lua_tostring(L, -1));
    lua_replace(L, -2);
    lua_insert(L, -4); /* what filter text info */
    failure_call_user(L, 2, 1, what); /* place what text */
    if (lua_type(L, -1) != LUA_TSTRING)
        failure_raise(L, EXIT_INVALID_CONFIG, "%s: %sthe filter returned %s%s; a filter returns the unit's text",
                      what, lua_tostring(L, -3), lua_isnil(L, -1) ? "" : "a ", luaL_typename(L, -1));
    lua_setfield(L, unit, "text");
    lua_pop(L, 2); /* place, what */
}

/* Runs the filters over units first.. of `units`, but for those whose
 * name the table at `skip` holds (0: none). */
static void apply_filters(lua_State *L, int cfg, int units, lua_Integer first, int skip)
{
    lua_getfield(L, cfg, "filters");
    read_only_push_backing(L, -1);
    lua_remove(L, -2);
    int filters = lua_gettop(L);
    lua_Integer nfilters = lua_type(L, filters) == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, filters) : 0;
    for (lua_Integer u = first, n = (lua_Integer)lua_rawlen(L, units); u <= n; u++) {
        lua_rawgeti(L, units, u);
        if (skip) {
            lua_getfield(L, -1, "name");
            int seen = lua_rawget(L, skip) != LUA_TNIL;
            lua_pop(L, 1);
            if (seen) {
                lua_pop(L, 1);
                continue;
            }
        }
        for (lua_Integer f = 1; f <= nfilters; f++) {
            lua_rawgeti(L, filters, f);
            run_filter(L, filters + 1, f);
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

/* The set of the names of units first.. of `units`. */
static void push_unit_names(lua_State *L, int units, lua_Integer first)
{
    lua_newtable(L);
    for (lua_Integer u = first, n = (lua_Integer)lua_rawlen(L, units); u <= n; u++) {
        lua_rawgeti(L, units, u);
        lua_getfield(L, -1, "name");
        lua_pushboolean(L, 1);
        lua_rawset(L, -4);
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
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, list); i <= n; i++) {
        if (lua_rawgeti(L, list, i) != LUA_TTABLE)
            failure_raise(L, EXIT_INVALID_CONFIG, "hooks.after_render: units[%d] is a %s, not a table", (int)i,
                          luaL_typename(L, -1));
        lua_getfield(L, -1, "name");
        lua_getfield(L, -2, "text");
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            failure_raise(L, EXIT_INVALID_CONFIG, "hooks.after_render: units[%d] needs a string name and text", (int)i);
        unit_record_push(L, cfg);
        lua_rawseti(L, units, first + i - 1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

void hooks_post_process(lua_State *L, int cfg, int view, int units, lua_Integer first)
{
    cfg = lua_absindex(L, cfg);
    view = lua_absindex(L, view);
    units = lua_absindex(L, units);
    apply_filters(L, cfg, units, first, 0);
    if (!push_hook(L, cfg, "after_render"))
        return;
    push_unit_names(L, units, first);
    lua_insert(L, -2); /* names hook */
    push_unit_list(L, units, first);
    lua_pushvalue(L, -1);
    lua_insert(L, -3); /* keep the list below the call */
    lua_pushvalue(L, view);
    failure_call_user(L, 2, 1, "hooks.after_render");
    if (lua_type(L, -1) == LUA_TTABLE)
        lua_replace(L, -2); /* a returned list wins over the edited one */
    else
        lua_pop(L, 1);
    take_unit_list(L, cfg, units, first);
    /* the units the hook added are the service's too: filtered as well */
    apply_filters(L, cfg, units, first, lua_gettop(L));
    lua_pop(L, 1); /* names */
}
