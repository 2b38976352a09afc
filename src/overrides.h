#ifndef UNITFORGE_OVERRIDES_H
#define UNITFORGE_OVERRIDES_H

#include <lua.h>

struct options;

/* Pushes the --set options as a table key -> value, each value read as
 * its key's type (true/false, an integer, a string, a comma-separated
 * list). Raises a usage failure for unknown keys and values that do not
 * fit. */
void overrides_push(lua_State *L, const struct options *opts);

/* Copies the overrides at `overrides` into the service table at
 * `service`, replacing what the config said. */
void overrides_apply(lua_State *L, int overrides, int service);

#endif
