#include "overrides.h"

#include "cli.h"
#include "failure.h"
#include "keys.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

static void push_list(lua_State *L, const char *text)
{
    lua_newtable(L);
    lua_Integer n = 0;
    while (*text) {
        const char *comma = strchr(text, ',');
        size_t len = comma ? (size_t)(comma - text) : strlen(text);
        lua_pushlstring(L, text, len);
        lua_rawseti(L, -2, ++n);
        text += len + (comma ? 1 : 0);
    }
}

static int push_integer(lua_State *L, const char *text)
{
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (!*text || *end || errno)
        return 0;
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* Pushes `text` as a value of the key's type, or returns 0. */
static int push_typed(lua_State *L, const struct key_spec *spec, const char *text)
{
    if ((spec->flags & KEY_OPTIONAL) && strcmp(text, "false") == 0) {
        lua_pushboolean(L, 0);
        return 1;
    }
    switch (spec->type) {
    case KEY_BOOLEAN:
        for (const char *const *c = spec->choices; c && *c; c++)
            if (strcmp(text, *c) == 0)
                return lua_pushstring(L, text), 1;
        if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
            return 0;
        lua_pushboolean(L, strcmp(text, "true") == 0);
        return 1;
    case KEY_INTEGER:
        return push_integer(L, text);
    case KEY_SCALAR:
        if (!push_integer(L, text))
            lua_pushstring(L, text);
        return 1;
    case KEY_STRING:
        lua_pushstring(L, text);
        return 1;
    case KEY_LIST:
        push_list(L, text);
        return 1;
    case KEY_TABLE:
    case KEY_FUNCTIONS:
        return 0;
    }
    return 0;
}

static const char *type_words(const struct key_spec *spec)
{
    switch (spec->type) {
    case KEY_BOOLEAN:
        return "true or false";
    case KEY_INTEGER:
        return "an integer";
    case KEY_LIST:
        return "a comma-separated list";
    case KEY_TABLE:
    case KEY_FUNCTIONS:
        return "Lua functions, which only a config can give";
    default:
        return "a string";
    }
}

void overrides_push(lua_State *L, const struct options *opts)
{
    lua_newtable(L);
    for (int i = 0; i < opts->nsets; i++) {
        const char *eq = strchr(opts->sets[i], '=');
        const char *key = lua_pushlstring(L, opts->sets[i], (size_t)(eq - opts->sets[i]));
        const struct key_spec *spec = keys_find(key);
        if (!spec)
            failure_raise(L, EXIT_USAGE, "--set %s: %s", key, keys_push_unknown(L, key));
        if (!push_typed(L, spec, eq + 1))
            failure_raise(L, EXIT_USAGE, "--set %s: expected %s, got '%s'", key, type_words(spec), eq + 1);
        lua_rawset(L, -3);
    }
}

void overrides_apply(lua_State *L, int overrides, int service)
{
    overrides = lua_absindex(L, overrides);
    service = lua_absindex(L, service);
    lua_pushnil(L);
    while (lua_next(L, overrides)) {
        if (lua_type(L, -1) == LUA_TTABLE) {
            /* a list of its own for each service: a hook that changes
             * one service's table must not change the next one's */
            lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
            lua_createtable(L, (int)n, 0);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, -2, i);
                lua_rawseti(L, -2, i);
            }
            lua_replace(L, -2);
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, service);
    }
}
