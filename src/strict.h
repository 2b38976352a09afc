#ifndef UNITFORGE_STRICT_H
#define UNITFORGE_STRICT_H

#include <lua.h>

/* paranoia = "strict": adds to the resolved config at `cfg` the
 * directories and environment a release needs to keep working under the
 * profile (lua/unitforge.hardening.lua), where the user has not set them. */
void strict_prepare(lua_State *L, int cfg);

#endif
