#include "show.h"

#include "keys.h"
#include "lua_env.h"
#include "read_only.h"

#include <lauxlib.h>
#include <stdio.h>

/* Replaces a function (or the functions inside a table) at the top of
 * the stack with "<function file:line>", which text and JSON can hold;
 * a table comes out as a plain copy of what its view shows. */
static void describe_functions(lua_State *L)
{
    if (lua_type(L, -1) == LUA_TFUNCTION) {
        lua_Debug ar;
        lua_pushvalue(L, -1);
        lua_getinfo(L, ">S", &ar);
        lua_pushfstring(L, "<function %s:%d>", ar.short_src, ar.linedefined);
        lua_replace(L, -2);
        return;
    }
    if (lua_type(L, -1) != LUA_TTABLE)
        return;
    read_only_push_backing(L, -1);
    lua_replace(L, -2);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3)) {
        describe_functions(L);
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -4);
    }
    lua_replace(L, -2);
}

/* Pushes { name = service_name, keys = { {name, value, origin}... } }. */
static void push_service(lua_State *L, int cfg, int origins, int exposures)
{
    lua_createtable(L, 0, 3);
    lua_getfield(L, cfg, "service_name");
    lua_pushfstring(L, "%s.service", lua_tostring(L, -1));
    lua_gettable(L, exposures);
    lua_setfield(L, -3, "exposure");
    lua_setfield(L, -2, "name");
    lua_createtable(L, (int)keys_count, 0);
    lua_Integer shown = 0;
    for (size_t i = 0; i < keys_count; i++) {
        /* a key that does not matter for this service is left out, unless
         * the user set it */
        int given = lua_getfield(L, origins, keys_all[i].name) != LUA_TNIL;
        lua_pop(L, 1);
        if (!given && !keys_applies(L, &keys_all[i], cfg))
            continue;
        lua_createtable(L, 0, 3);
        lua_pushstring(L, keys_all[i].name);
        lua_setfield(L, -2, "name");
        lua_getfield(L, cfg, keys_all[i].name);
        describe_functions(L);
        lua_setfield(L, -2, "value");
        if (lua_getfield(L, origins, keys_all[i].name) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_pushliteral(L, "default"); /* the resolver records only other origins */
        }
        lua_setfield(L, -2, "origin");
        lua_rawseti(L, -2, ++shown);
    }
    lua_setfield(L, -2, "keys");
}

void show_configs(lua_State *L, int configs, int origins, int exposures, int json)
{
    configs = lua_absindex(L, configs);
    origins = lua_absindex(L, origins);
    exposures = lua_absindex(L, exposures);
    lua_env_require(L, "unitforge.show");
    lua_getfield(L, -1, json ? "json" : "text");
    lua_newtable(L);
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, configs); i <= n; i++) {
        lua_rawgeti(L, configs, i);
        lua_rawgeti(L, origins, i);
        push_service(L, lua_gettop(L) - 1, lua_gettop(L), exposures);
        lua_rawseti(L, -4, i);
        lua_pop(L, 2);
    }
    lua_env_require(L, "cjson");
    lua_call(L, 2, 1);
    /* the module is ours, but the string and table functions it calls
     * are the config's to change */
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "show: the output is a %s, not text (did the config change the string or table library?)",
                   luaL_typename(L, -1));
    fputs(lua_tostring(L, -1), stdout);
    lua_pop(L, 2);
}
