#ifndef UNITFORGE_UNIT_RECORD_H
#define UNITFORGE_UNIT_RECORD_H

#include <lua.h>

/* One unit of a run, from render to output and verify: a table
 *   { name = "foo.service", text = "...", kind = "service",
 *     dir = <output_dir>, service = <service_name> }
 * kind is the unit type, from the name; dir and service come from the
 * service's resolved config. Output adds `path` when it plans writing. */

/* Pops the unit's name and text (text on top) and pushes its record,
 * for the service whose resolved config is at `cfg`. */
void unit_record_push(lua_State *L, int cfg);

#endif
