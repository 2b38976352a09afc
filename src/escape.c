#include "escape.h"

#include <lauxlib.h>
#include <string.h>

static int needs_quotes(const char *s, size_t len, const char *special)
{
    if (len == 0)
        return 1;
    for (size_t i = 0; i < len; i++)
        if (strchr(special, s[i]) && s[i] != '\0')
            return 1;
    return 0;
}

/* Double quotes with \ and " escaped: the one quoting systemd reads the
 * same way in Environment=, command lines and path lists. */
static void add_quoted(luaL_Buffer *b, const char *s, size_t len, int double_dollar)
{
    luaL_addchar(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' || s[i] == '"')
            luaL_addchar(b, '\\');
        else if (s[i] == '$' && double_dollar)
            luaL_addchar(b, '$');
        luaL_addchar(b, s[i]);
    }
    luaL_addchar(b, '"');
}

void escape_word(lua_State *L, const char *s, size_t len)
{
    if (len > 0 && !needs_quotes(s, len, " \t\"'\\")) {
        lua_pushlstring(L, s, len); /* short strings are interned: no copy */
        return;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    add_quoted(&b, s, len, 0);
    luaL_pushresult(&b);
}

void escape_command_word(lua_State *L, const char *s, size_t len)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (len > 0 && !needs_quotes(s, len, " \t\"'\\;")) {
        for (size_t i = 0; i < len; i++) {
            if (s[i] == '$')
                luaL_addchar(&b, '$');
            luaL_addchar(&b, s[i]);
        }
    } else {
        add_quoted(&b, s, len, 1);
    }
    luaL_pushresult(&b);
}

int escape_line_continues(const char *line, size_t len)
{
    size_t run = 0;
    while (run < len && line[len - 1 - run] == '\\')
        run++;
    return run % 2 == 1;
}

void escape_command_line(lua_State *L, const char *s, size_t len)
{
    lua_pushlstring(L, s, len);
    if (escape_line_continues(s, len)) {
        lua_pushliteral(L, "\\");
        lua_concat(L, 2);
    }
}

