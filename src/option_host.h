#ifndef UNITFORGE_OPTION_HOST_H
#define UNITFORGE_OPTION_HOST_H

#include <lua.h>

/* Pushes the table of host helpers the option table's defaults use:
 * the run's `env`, `out` (nil without --out) and `config_dir`, the app
 * name of the mix.exs beside the config, and the command-line escapers.
 * Only the option table gets it. */
void option_host_push(lua_State *L, const char *config_dir, const char *env, const char *out);

#endif
