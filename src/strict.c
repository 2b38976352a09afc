#include "strict.h"

#include "lua_env.h"

#include <string.h>

void strict_prepare(lua_State *L, int cfg)
{
    cfg = lua_absindex(L, cfg);
    lua_getfield(L, cfg, "paranoia");
    int strict = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "strict") == 0;
    lua_pop(L, 1);
    if (!strict)
        return;
    lua_env_require(L, "unitforge.hardening");
    lua_getfield(L, -1, "strict_additions");
    lua_pushvalue(L, cfg);
    lua_call(L, 1, 2); /* our own module, under the run's protection */
    lua_setfield(L, cfg, "env_vars");
    lua_setfield(L, cfg, "dirs");
    lua_pop(L, 1);
}
