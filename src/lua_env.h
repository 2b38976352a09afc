#ifndef UNITFORGE_LUA_ENV_H
#define UNITFORGE_LUA_ENV_H

#include <lua.h>

/* Prepares the state a config runs in: the standard libraries, the
 * embedded modules in package.preload, `require` looking in `config_dir`
 * and its lua/ folder first, and the globals env, ref, specifier and
 * unitforge. */
void lua_env_setup(lua_State *L, const char *config_dir, const char *env);

/* Requires a module (embedded or found on the path); pushes its value. */
void lua_env_require(lua_State *L, const char *module);

#endif
