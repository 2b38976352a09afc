#include "option_host.h"

#include "escape.h"
#include "file_io.h"
#include "mix_project.h"

#include <lauxlib.h>

/* mix_app_name(): the app name of the mix.exs beside the config. It
 * raises the reason there is none, which the resolver reports as
 * app_name's problem. Read once per run (upvalue 2 caches it), and only
 * when a service needs it. upvalue 1: the config's folder. */
static int mix_app_name(lua_State *L)
{
    if (lua_type(L, lua_upvalueindex(2)) == LUA_TSTRING) {
        lua_pushvalue(L, lua_upvalueindex(2));
        return 1;
    }
    const char *path = lua_pushfstring(L, "%s/mix.exs", lua_tostring(L, lua_upvalueindex(1)));
    size_t len;
    char name[256];
    enum file_status status = file_push_regular(L, path, &len);
    /* raised without a position: the reason is about the file, not a line */
    if (status == FILE_MISSING)
        return lua_pushfstring(L, "not set, and no %s to read it from", path), lua_error(L);
    if (status != FILE_OK)
        return lua_pushfstring(L, "not set, and %s cannot be read: %s", path, file_status_text(status)), lua_error(L);
    if (!mix_project_parse_app_name(lua_tostring(L, -1), len, name, sizeof name))
        return lua_pushfstring(L, "not set, and %s has no `app: :name` in the keyword list of project/0", path),
               lua_error(L);
    lua_pushstring(L, name);
    lua_copy(L, -1, lua_upvalueindex(2));
    return 1;
}

/* escape_executable(path) and escape_command_word(path): a path as the
 * first word of a command line, or as an argument after a wrapper. */
static int escape_executable_word(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    escape_executable(L, s, len);
    return 1;
}

static int escape_argument_word(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    escape_command_word(L, s, len);
    return 1;
}

void option_host_push(lua_State *L, const char *config_dir, const char *env, const char *out)
{
    lua_createtable(L, 0, 6);
    lua_pushstring(L, config_dir);
    lua_setfield(L, -2, "config_dir");
    lua_pushstring(L, env);
    lua_setfield(L, -2, "env");
    if (out) {
        lua_pushstring(L, out);
        lua_setfield(L, -2, "out");
    }
    lua_pushstring(L, config_dir);
    lua_pushnil(L);
    lua_pushcclosure(L, mix_app_name, 2);
    lua_setfield(L, -2, "mix_app_name");
    static const luaL_Reg helpers[] = {
        {"escape_executable", escape_executable_word},
        {"escape_command_word", escape_argument_word},
        {NULL, NULL},
    };
    luaL_setfuncs(L, helpers, 0);
}
