#ifndef UNITFORGE_VALIDATE_H
#define UNITFORGE_VALIDATE_H

#include "problems.h"

/* Checks the user's raw service table at `raw` (unknown keys) and its
 * resolved config at `cfg` (types, formats, version gates), adding one
 * line per problem, each starting with `prefix` ("deploy.lua: "). */
void validate_service(lua_State *L, int raw, int cfg, const char *prefix, struct problems *p);

#endif
