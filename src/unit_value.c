#include "unit_value.h"

#include "escape.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The letters systemd.unit(5) lists as specifiers ('%' itself excluded:
 * a literal percent sign needs no specifier). */
static const char specifier_letters[] = "aAbBCEfgGhHiIjJlLmMnNopPqsStTuUvVwWyY";

int unit_value_is_specifier_letter(char c)
{
    return c && strchr(specifier_letters, c) != NULL;
}

const char *unit_value_push_decimal(lua_State *L, int index)
{
    if (lua_isinteger(L, index))
        return lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, index));
    lua_Number n = lua_tonumber(L, index);
    /* within +-2^53 every whole float is exact and converts safely */
    if (n == floor(n) && fabs(n) <= 9007199254740992.0)
        return lua_pushfstring(L, "%I", (LUAI_UACINT)(lua_Integer)n);
    if (isfinite(n)) {
        /* the shortest form that reads back as the same number */
        char buf[64];
        for (int digits = 15; digits <= 17; digits++) {
            snprintf(buf, sizeof buf, "%.*g", digits, n);
            if (strtod(buf, NULL) == n)
                break;
        }
        if (!strchr(buf, 'e'))
            return lua_pushstring(L, buf);
    }
    return NULL; /* NaN, infinities, and what only an exponent could write */
}

const char *unit_value_push(lua_State *L, int index, const char **problem)
{
    if (lua_type(L, index) == LUA_TNUMBER) {
        const char *s = unit_value_push_decimal(L, index);
        if (!s)
            *problem = "the number cannot be written in decimal";
        return s;
    }
    if (lua_type(L, index) != LUA_TSTRING) {
        *problem = lua_type(L, index) == LUA_TNIL ? "the value is nil" : "the value is not a string or number";
        return NULL;
    }
    size_t len;
    const char *s = lua_tolstring(L, index, &len);
    size_t plain = 0;
    while (plain < len && ((unsigned char)s[plain] >= 0x20 || s[plain] == '\t') && s[plain] != '%' &&
           s[plain] != 0x7f)
        plain++;
    if (plain == len) {
        /* the common case: nothing to escape or refuse */
        lua_pushvalue(L, index);
        return s;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == (unsigned char)SPECIFIER_MARK && i + 1 < len && unit_value_is_specifier_letter(s[i + 1])) {
            luaL_addchar(&b, '%');
            luaL_addchar(&b, s[++i]);
        } else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            luaL_pushresult(&b);
            lua_pop(L, 1);
            *problem = ch == '\n' ? "the value contains a newline" : "the value contains a control character";
            return NULL;
        } else if (ch == '%') {
            luaL_addstring(&b, "%%");
        } else {
            luaL_addchar(&b, (char)ch);
        }
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

/* Length of the UTF-8 sequence starting at s (at most `left` bytes), or 0
 * when it is not a valid, shortest-form encoding of a scalar value. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    size_t need;
    unsigned int min, cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0)
        need = 2, min = 0x80, cp = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0)
        need = 3, min = 0x800, cp = s[0] & 0x0f;
    else if ((s[0] & 0xf8) == 0xf0)
        need = 4, min = 0x10000, cp = s[0] & 0x07;
    else
        return 0;
    if (need > left)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

enum character { CHARACTER_OK, CHARACTER_CONTROL, CHARACTER_NOT_UTF8 };

/* What the character at s is; *n gets its length when it is fine. A tab
 * is fine; a newline is a control character (the callers look first). */
static enum character character_at(const unsigned char *s, size_t left, size_t *n)
{
    if ((s[0] < 0x20 && s[0] != '\t') || s[0] == 0x7f)
        return CHARACTER_CONTROL;
    *n = utf8_sequence(s, left);
    return *n ? CHARACTER_OK : CHARACTER_NOT_UTF8;
}

const char *unit_value_problem(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    if (len > UNIT_LINE_MAX / 2)
        return "is longer than a unit file line can hold";
    for (size_t i = 0; i < len;) {
        if (u[i] == (unsigned char)SPECIFIER_MARK && i + 1 < len && unit_value_is_specifier_letter(s[i + 1])) {
            i += 2;
            continue;
        }
        if (u[i] >= 0x20 && u[i] < 0x7f) {
            i++; /* the common case */
            continue;
        }
        if (u[i] == '\n')
            return "contains a newline";
        size_t n = 0;
        enum character c = character_at(u + i, len - i, &n);
        if (c != CHARACTER_OK)
            return c == CHARACTER_CONTROL ? "contains a control character" : "is not valid UTF-8";
        i += n;
    }
    return NULL;
}

const char *unit_value_check_text(const char *text, size_t len, int *line)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t line_start = 0;
    *line = 1;
    for (size_t i = 0; i < len;) {
        if (s[i] >= 0x20 && s[i] < 0x7f) {
            i++; /* the common case */
            continue;
        }
        if (s[i] == '\n') {
            if (i - line_start > UNIT_LINE_MAX)
                return "line longer than systemd accepts";
            if (escape_line_continues(text + line_start, i - line_start))
                return "line ends with a backslash, which would join the next line";
            (*line)++;
            line_start = ++i;
            continue;
        }
        size_t n = 0;
        enum character c = character_at(s + i, len - i, &n);
        if (c != CHARACTER_OK)
            return c == CHARACTER_CONTROL ? "control character" : "invalid UTF-8";
        i += n;
    }
    if (len - line_start > UNIT_LINE_MAX)
        return "line longer than systemd accepts";
    if (len == 0 || s[len - 1] != '\n')
        return "text does not end with a newline";
    return NULL;
}
