#include "unit_record.h"

#include <string.h>

void unit_record_push(lua_State *L, int cfg)
{
    cfg = lua_absindex(L, cfg);
    lua_createtable(L, 0, 5); /* name text record */
    lua_insert(L, -3);
    lua_setfield(L, -3, "text");
    const char *name = lua_tostring(L, -1);
    const char *dot = name ? strrchr(name, '.') : NULL;
    lua_pushstring(L, dot ? dot + 1 : "");
    lua_setfield(L, -3, "kind");
    lua_setfield(L, -2, "name");
    lua_getfield(L, cfg, "output_dir");
    lua_setfield(L, -2, "dir");
    lua_getfield(L, cfg, "service_name");
    lua_setfield(L, -2, "service");
}
