#ifndef UNITFORGE_RENDER_H
#define UNITFORGE_RENDER_H

#include <lua.h>

/* Sets up what every render of the run shares: the template globals and
 * the cache of compiled templates (each template compiles once a run). */
void render_init(lua_State *L);

/* Appends to the array at `units` one unit record (unit_record.h) per
 * unit the resolved config at `cfg` calls for, after the service's
 * filters and after_render hook. Templates and hooks get `view`, the
 * config's read-only view. */
void render_service(lua_State *L, int cfg, int view, int units);

#endif
