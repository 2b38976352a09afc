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

void escape_executable(lua_State *L, const char *s, size_t len)
{
    if (len > 0 && !needs_quotes(s, len, " \t\"'\\")) {
        lua_pushlstring(L, s, len);
        return;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    add_quoted(&b, s, len, 0);
    luaL_pushresult(&b);
}

void escape_directory_name(lua_State *L, const char *s, size_t len, int escape_colon)
{
    if (len > 0 && !needs_quotes(s, len, " \t\"'\\:")) {
        lua_pushlstring(L, s, len);
        return;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            luaL_addstring(&b, "\\x22"); /* this parser refuses \" */
        else if (s[i] == '\\' || (s[i] == ':' && escape_colon))
            luaL_addchar(&b, '\\'), luaL_addchar(&b, s[i]);
        else
            luaL_addchar(&b, s[i]);
    }
    luaL_addchar(&b, '"');
    luaL_pushresult(&b);
}

void escape_file_pattern(lua_State *L, const char *s, size_t len)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < len; i++) {
        if (strchr("\\*?[", s[i]) && s[i] != '\0')
            luaL_addchar(&b, '\\');
        luaL_addchar(&b, s[i]);
    }
    luaL_pushresult(&b);
}

void command_context_scan(struct command_context *ctx, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (ctx->escaped)
            ctx->escaped = 0;
        else if (c == '\\')
            ctx->escaped = 1;
        else if (ctx->quote && c == ctx->quote)
            ctx->quote = 0;
        else if (!ctx->quote && (c == '"' || c == '\''))
            ctx->quote = c;
        else if (!ctx->quote && (c == ' ' || c == '\t')) {
            if (ctx->position == COMMAND_EXECUTABLE)
                ctx->position = COMMAND_ARGUMENTS;
            continue;
        }
        if (ctx->position == COMMAND_START)
            ctx->position = COMMAND_EXECUTABLE;
    }
}

/* Inside an open quote: the quote character and backslashes escaped,
 * and (in arguments) '$' doubled, so the data closes nothing. */
static void escape_inside_quote(lua_State *L, char quote, int double_dollar, const char *s, size_t len)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' || s[i] == quote)
            luaL_addchar(&b, '\\');
        else if (s[i] == '$' && double_dollar)
            luaL_addchar(&b, '$');
        luaL_addchar(&b, s[i]);
    }
    luaL_pushresult(&b);
}

void escape_command_data(lua_State *L, const struct command_context *ctx, const char *s, size_t len)
{
    int arguments = ctx->position == COMMAND_ARGUMENTS;
    if (ctx->quote)
        escape_inside_quote(L, ctx->quote, arguments, s, len);
    else if (arguments)
        escape_command_word(L, s, len);
    else
        escape_executable(L, s, len);
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

