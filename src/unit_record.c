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

void unit_record_store(lua_State *L, int records, int store)
{
    static const char *const fields[] = {[UNIT_NAME] = "name", [UNIT_DIR] = "dir", [UNIT_SERVICE] = "service",
                                         [UNIT_TEXT] = "text"};
    records = lua_absindex(L, records);
    store = lua_absindex(L, store);
    lua_Integer next = (lua_Integer)lua_rawlen(L, store) + 1;
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, records); i <= n; i++) {
        lua_rawgeti(L, records, i);
        for (int f = UNIT_NAME; f < UNIT_FIELDS + 1; f++) {
            /* a field a hook left out is kept as false: the list has no holes */
            if (lua_getfield(L, -1, fields[f]) == LUA_TNIL) {
                lua_pop(L, 1);
                lua_pushboolean(L, 0);
            }
            lua_rawseti(L, store, next++);
        }
        lua_pop(L, 1);
    }
    for (lua_Integer i = (lua_Integer)lua_rawlen(L, records); i >= 1; i--) {
        lua_pushnil(L);
        lua_rawseti(L, records, i);
    }
}

lua_Integer unit_record_count(lua_State *L, int store)
{
    return (lua_Integer)lua_rawlen(L, store) / UNIT_FIELDS;
}

const char *unit_record_field(lua_State *L, int store, lua_Integer i, enum unit_field field, size_t *len)
{
    lua_rawgeti(L, store, i * UNIT_FIELDS + field);
    if (lua_type(L, -1) != LUA_TSTRING)
        return NULL;
    return lua_tolstring(L, -1, len);
}
