#include "refs.h"

#include "keys.h"
#include "unit_value.h"

#include <lauxlib.h>
#include <string.h>

#define REF_TYPE "unitforge.ref"
#define SPECIFIER_TYPE "unitforge.specifier"

/* Registry references of the two metatables: every value of a config
 * passes object_name, which must not look them up by name. */
static int ref_meta = LUA_NOREF, specifier_meta = LUA_NOREF;

static int forbid_concat(lua_State *L)
{
    return luaL_error(L, "a ref or specifier cannot be joined with '..'; "
                         "use a part list instead: {\"prefix\", ref.key, \"suffix\"}");
}

static int ref_tostring(lua_State *L)
{
    luaL_checkudata(L, 1, REF_TYPE);
    lua_getiuservalue(L, 1, 1);
    lua_pushfstring(L, "ref.%s", lua_tostring(L, -1));
    return 1;
}

static int specifier_tostring(lua_State *L)
{
    luaL_checkudata(L, 1, SPECIFIER_TYPE);
    lua_getiuservalue(L, 1, 1);
    lua_pushfstring(L, "specifier.%s", lua_tostring(L, -1));
    return 1;
}

/* For __index(factory, name): a new object of `type` named `name`,
 * cached in the factory table. */
static int push_new_object(lua_State *L, const char *type)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_newuserdatauv(L, 0, 1);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, type);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

/* ref.KEY: creates the ref once and caches it in the ref table, so a
 * config that builds thousands of services does not allocate per use. */
static int ref_index(lua_State *L)
{
    const char *key = luaL_checkstring(L, 2);
    if (!keys_find(key))
        return luaL_error(L, "ref.%s: %s", key, keys_push_unknown(L, key));
    return push_new_object(L, REF_TYPE);
}

static int specifier_index(lua_State *L)
{
    size_t len;
    const char *letter = luaL_checklstring(L, 2, &len);
    if (len != 1 || !unit_value_is_specifier_letter(letter[0]))
        return luaL_error(L, "specifier.%s: systemd has no such specifier", letter);
    return push_new_object(L, SPECIFIER_TYPE);
}

static int forbid_assignment(lua_State *L)
{
    return luaL_error(L, "ref and specifier are read-only");
}

static void install_object_type(lua_State *L, const char *type, lua_CFunction tostring)
{
    luaL_newmetatable(L, type);
    lua_pushcfunction(L, forbid_concat);
    lua_setfield(L, -2, "__concat");
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushboolean(L, 0); /* getmetatable() must not reach the C functions */
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

static void install_factory(lua_State *L, const char *global, lua_CFunction index)
{
    lua_newtable(L);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, forbid_assignment);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_setglobal(L, global);
}

void refs_install(lua_State *L)
{
    install_object_type(L, REF_TYPE, ref_tostring);
    luaL_getmetatable(L, REF_TYPE);
    ref_meta = luaL_ref(L, LUA_REGISTRYINDEX);
    install_object_type(L, SPECIFIER_TYPE, specifier_tostring);
    luaL_getmetatable(L, SPECIFIER_TYPE);
    specifier_meta = luaL_ref(L, LUA_REGISTRYINDEX);
    install_factory(L, "ref", ref_index);
    install_factory(L, "specifier", specifier_index);
}

static const char *object_name(lua_State *L, int index, int meta)
{
    if (lua_type(L, index) != LUA_TUSERDATA || !lua_getmetatable(L, index))
        return NULL;
    lua_rawgeti(L, LUA_REGISTRYINDEX, meta);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!same)
        return NULL;
    lua_getiuservalue(L, index, 1);
    const char *name = lua_tostring(L, -1);
    lua_pop(L, 1); /* the userdata keeps its name alive */
    return name;
}

const char *refs_key(lua_State *L, int index)
{
    return object_name(L, index, ref_meta);
}

int refs_specifier(lua_State *L, int index)
{
    const char *letter = object_name(L, index, specifier_meta);
    return letter ? letter[0] : 0;
}
