#include "config_file.h"

#include "failure.h"

#include <lauxlib.h>
#include <string.h>

static void call_protected(lua_State *L, int nargs)
{
    if (failure_pcall(L, nargs, 1) != LUA_OK)
        lua_error(L); /* a failure carrying the traceback */
}

static void push_context(lua_State *L, const char *env)
{
    lua_createtable(L, 0, 1);
    lua_pushstring(L, env);
    lua_setfield(L, -2, "env");
}

static void fail_shape(lua_State *L, const char *path, const char *what)
{
    failure_raise(L, EXIT_INVALID_CONFIG,
                  "%s: the config must return a service table, a list of service tables, "
                  "or a function returning one of those; got %s", path, what);
}

/* A table whose [1] is set is a list of services; any other table is one
 * service. Leaves the list on the stack in place of the result. */
static void to_service_list(lua_State *L, const char *path)
{
    if (lua_type(L, -1) != LUA_TTABLE)
        fail_shape(L, path, luaL_typename(L, -1));
    if (lua_rawgeti(L, -1, 1) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_createtable(L, 1, 0);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
        return;
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            failure_raise(L, EXIT_INVALID_CONFIG,
                          "%s: the config returned services ([1], [2], ...) and keys (%s) in one table; "
                          "return either one service table or a list of them", path, lua_tostring(L, -1));
    }
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, -1); i <= n; i++) {
        if (lua_rawgeti(L, -1, i) != LUA_TTABLE)
            failure_raise(L, EXIT_INVALID_CONFIG, "%s: service %d of the list is a %s, not a table",
                          path, (int)i, luaL_typename(L, -1));
        lua_pop(L, 1);
    }
}

void config_file_load(lua_State *L, const char *path, const char *env)
{
    int status = luaL_loadfilex(L, path, "t");
    if (status == LUA_ERRFILE)
        failure_raise(L, EXIT_USAGE, "%s", lua_tostring(L, -1));
    if (status != LUA_OK) {
        /* syntax errors name file and line already; a refused binary
         * chunk does not, and a parser that ran out of C stack raised
         * through the message handler, which made a failure of it */
        const char *msg = failure_message(L, -1);
        if (!msg || strncmp(msg, path, strlen(path)) != 0)
            failure_raise(L, EXIT_INVALID_CONFIG, "%s: %s", path, msg ? msg : "cannot be read");
        failure_raise_top(L, EXIT_INVALID_CONFIG);
    }
    call_protected(L, 0);
    if (lua_type(L, -1) == LUA_TFUNCTION) {
        push_context(L, env);
        call_protected(L, 1);
    }
    to_service_list(L, path);
}
