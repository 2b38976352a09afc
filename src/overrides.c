#include "overrides.h"

#include "cli.h"
#include "failure.h"
#include "keys.h"
#include "problems.h"
#include "unit_value.h"
#include "validate.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

/* "a,b\,c" is { "a", "b,c" }: `\,` is a comma inside an item and `\\` a
 * backslash; any other backslash is itself. "" is the empty list. */
static void push_list(lua_State *L, const char *text)
{
    lua_newtable(L);
    lua_Integer n = 0;
    while (*text) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (; *text && *text != ','; text++) {
            if (text[0] == '\\' && (text[1] == ',' || text[1] == '\\'))
                text++;
            luaL_addchar(&b, *text);
        }
        luaL_pushresult(&b);
        lua_rawseti(L, -2, ++n);
        text += *text == ',';
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
    if (strcmp(text, "false") == 0) {
        if (spec->type == KEY_LIST || spec->type == KEY_FUNCTIONS) {
            lua_newtable(L); /* off, for a list, is empty */
            return 1;
        }
        if (spec->flags & KEY_OPTIONAL) {
            lua_pushboolean(L, 0);
            return 1;
        }
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

/* What the key takes, in words: "true, false or strict". */
static const char *push_type_words(lua_State *L, const struct key_spec *spec)
{
    switch (spec->type) {
    case KEY_BOOLEAN: {
        int pieces = 2;
        lua_pushliteral(L, "true");
        for (const char *const *c = spec->choices; c && *c; c++, pieces++)
            lua_pushfstring(L, ", %s", *c);
        lua_pushliteral(L, " or false");
        lua_concat(L, pieces);
        break;
    }
    case KEY_INTEGER:
        lua_pushliteral(L, "an integer");
        break;
    case KEY_LIST:
        lua_pushliteral(L, "a comma-separated list");
        break;
    default:
        lua_pushliteral(L, "a string");
        break;
    }
    return lua_tostring(L, -1);
}

/* The value on top, checked as the resolver checks a value the config
 * gives: a wrong one is a mistake of the command line (exit 2), found
 * before the config runs. */
static void check_value(lua_State *L, const struct key_spec *spec)
{
    struct problems found;
    problems_init(L, &found);
    validate_value(L, &found, "--set ", spec, -2);
    problems_raise_as(L, &found, EXIT_USAGE);
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
        if (memchr(eq + 1, SPECIFIER_MARK, strlen(eq + 1)))
            failure_raise(L, EXIT_USAGE, "--set %s: contains a control character (\\x01)", key);
        if ((spec->type == KEY_TABLE || spec->type == KEY_FUNCTIONS) && strcmp(eq + 1, "false") != 0)
            failure_raise(L, EXIT_USAGE, "--set %s: the key takes %s, which only a config can give (false turns "
                          "it off)", key, spec->type == KEY_TABLE ? "a Lua table" : "Lua functions");
        if (!push_typed(L, spec, eq + 1))
            failure_raise(L, EXIT_USAGE, "--set %s: expected %s, got '%s'", key, push_type_words(L, spec),
                          eq + 1);
        check_value(L, spec);
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
