#ifndef UNITFORGE_CONFIG_FILE_H
#define UNITFORGE_CONFIG_FILE_H

#include <lua.h>

/* Runs the config file and pushes the array of service tables it stands
 * for: a service table, an array of them, or a function of `ctx`
 * returning either. Raises a failure with file:line on Lua errors. */
void config_file_load(lua_State *L, const char *path, const char *env);

#endif
