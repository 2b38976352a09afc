#ifndef UNITFORGE_VALIDATE_H
#define UNITFORGE_VALIDATE_H

#include "problems.h"

/* Checks the user's raw service table at `raw` (unknown keys) and the
 * values of its resolved config at `cfg` that did not come from defaults
 * (their origins at `origins`): types, formats, version gates. Adds one
 * line per problem, each starting with `prefix` ("deploy.lua: "). */
void validate_service(lua_State *L, int raw, int cfg, int origins, const char *prefix, struct problems *p);

#endif
