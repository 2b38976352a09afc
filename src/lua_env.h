#ifndef UNITFORGE_LUA_ENV_H
#define UNITFORGE_LUA_ENV_H

#include <lua.h>

/* Prepares the state a config runs in: the standard libraries, the
 * embedded modules in package.preload, `require` looking in `config_dir`
 * and its lua/ folder first, and the globals env, ref, specifier and
 * unitforge. */
void lua_env_setup(lua_State *L, const char *config_dir, const char *env);

/* Pushes one of the host's own modules (unitforge.template, .show,
 * .hardening, cjson), which no config can reach or change. */
void lua_env_require(lua_State *L, const char *module);

#endif
