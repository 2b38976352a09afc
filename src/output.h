#ifndef UNITFORGE_OUTPUT_H
#define UNITFORGE_OUTPUT_H

#include <lua.h>

struct options;

/* Checks every unit of the array at `units` before anything is written:
 * valid unit names, texts systemd reads as written, and no two units of
 * the run on one path. Raises a failure listing every problem. */
void output_check(lua_State *L, int units, const char *config_path);

/* Prints the units (--stdout), reports what would change (--dry-run), or
 * writes each changed unit atomically, reporting created, updated or
 * unchanged. Raises an I/O failure when a write fails. */
void output_emit(lua_State *L, int units, const struct options *opts);

#endif
