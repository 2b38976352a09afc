#ifndef UNITFORGE_SHOW_H
#define UNITFORGE_SHOW_H

#include <lua.h>

/* `unitforge show`: prints every key of each resolved config (array at
 * `configs`) with its value and origin (array at `origins`), and the
 * exposure score of its main unit (table at `exposures`, unit name ->
 * {score, level}), as text or JSON. The formatting lives in
 * lua/unitforge.show.lua. */
void show_configs(lua_State *L, int configs, int origins, int exposures, int json);

#endif
