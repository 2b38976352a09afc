#include "lua_env.h"

#include "embedded.h"
#include "failure.h"
#include "refs.h"

#include <lauxlib.h>
#include <lua-cjson.h>
#include <lualib.h>
#include <string.h>

const struct embedded_file *embedded_find(const struct embedded_file *table, const char *name)
{
    for (; table->name; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}

/* package.preload loader for an embedded module; upvalue 1 is its name. */
static int load_embedded_module(lua_State *L)
{
    const char *name = lua_tostring(L, lua_upvalueindex(1));
    const struct embedded_file *file = embedded_find(embedded_modules, name);
    lua_pushfstring(L, "=%s.lua", name);
    if (luaL_loadbufferx(L, file->data, file->len, lua_tostring(L, -1), "t") != LUA_OK)
        return lua_error(L);
    lua_pushstring(L, name);
    lua_call(L, 1, 1); /* our own module: runs under the caller's protection */
    return 1;
}

static void register_preloads(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const struct embedded_file *m = embedded_modules; m->name; m++) {
        lua_pushstring(L, m->name);
        lua_pushcclosure(L, load_embedded_module, 1);
        lua_setfield(L, -2, m->name);
    }
    lua_pushcfunction(L, luaopen_cjson);
    lua_setfield(L, -2, "cjson");
    lua_pop(L, 1);
}

/* Modules beside the config (and in its lua/ folder) come first, so a
 * team's shared filters and base configs are plain files in the repo.
 * Native modules are not loaded: a config has no business running
 * arbitrary shared objects inside the generator. */
static void set_search_paths(lua_State *L, const char *config_dir)
{
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s/lua/?.lua;%s/lua/?/init.lua",
                    config_dir, config_dir, config_dir, config_dir);
    lua_setfield(L, -2, "path");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
}

void lua_env_require(lua_State *L, const char *module)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    lua_call(L, 1, 1);
}

static void install_helper_module(lua_State *L)
{
    lua_env_require(L, "unitforge");
    lua_pushliteral(L, UNITFORGE_VERSION);
    lua_setfield(L, -2, "version");
    lua_setglobal(L, "unitforge");
}

void lua_env_setup(lua_State *L, const char *config_dir, const char *env)
{
    luaL_openlibs(L);
    register_preloads(L);
    set_search_paths(L, config_dir);
    refs_install(L);
    lua_pushstring(L, env);
    lua_setglobal(L, "env");
    install_helper_module(L);
}
