#ifndef UNITFORGE_UNIT_RECORD_H
#define UNITFORGE_UNIT_RECORD_H

#include <lua.h>

/* One unit of a run, from render to output and verify: a table
 *   { name = "foo.service", text = "...", kind = "service",
 *     dir = <output_dir>, service = <service_name> }
 * kind is the unit type, from the name; dir and service come from the
 * service's resolved config. */

/* Pops the unit's name and text (text on top) and pushes its record,
 * for the service whose resolved config is at `cfg`. */
void unit_record_push(lua_State *L, int cfg);

/* Once a service's units are final, the run keeps only their strings,
 * UNIT_FIELDS to a unit in one flat list (a record table per unit would
 * cost a third as much again as the units' text). Field `f` of unit `i`
 * (from 0) is at i * UNIT_FIELDS + f. */
enum unit_field { UNIT_NAME = 1, UNIT_DIR, UNIT_SERVICE, UNIT_TEXT, UNIT_FIELDS = 4 };

/* Moves the records of `records` to the end of the flat list `store`,
 * leaving `records` empty. */
void unit_record_store(lua_State *L, int records, int store);

/* The number of units in `store`. */
lua_Integer unit_record_count(lua_State *L, int store);

/* Pushes field `field` of unit `i` (from 0) of `store`; returns it as a
 * C string (NULL when it is no string), its length in *len when asked. */
const char *unit_record_field(lua_State *L, int store, lua_Integer i, enum unit_field field, size_t *len);

#endif
