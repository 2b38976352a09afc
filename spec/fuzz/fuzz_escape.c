/* libFuzzer target: the escaper. For any value without control
 * characters, reading the escaped form back the way systemd does
 * (extract_first_word with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE for the
 * quoting used here; '$$' is '$' in command lines) must give back the
 * value, and no escaped line may end in a continuation backslash. The
 * executable escaper must keep '$' as it is. */
#include "escape.h"
#include "unit_value.h"

#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static lua_State *L;

/* systemd's reading of one word as escape.c writes it. */
static size_t unquote(const char *s, size_t len, char *out, int dollars)
{
    size_t n = 0, i = 0;
    int quoted = 0;
    while (i < len) {
        char c = s[i++];
        if (c == '"') {
            quoted = !quoted;
            continue;
        }
        if (c == '\\' && i < len) {
            out[n++] = s[i++];
            continue;
        }
        if (!quoted && (c == ' ' || c == '\t'))
            abort(); /* the word was split */
        if (dollars && c == '$') {
            if (i >= len || s[i] != '$')
                abort(); /* systemd would substitute a variable */
            i++;
        }
        out[n++] = c;
    }
    if (quoted)
        abort();
    return n;
}

/* Tabs are allowed: Environment= and command-line words carry them. */
static int has_control(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if ((data[i] < 0x20 && data[i] != '\t') || data[i] == 0x7f)
            return 1;
    return 0;
}

static int has_quote_or_backslash(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (data[i] == '"' || data[i] == '\'' || data[i] == '\\')
            return 1;
    return 0;
}

static void check_round_trip(const char *value, size_t len, int dollars)
{
    size_t escaped_len;
    const char *escaped = lua_tolstring(L, -1, &escaped_len);
    if (escape_line_continues(escaped, escaped_len))
        abort();
    char *back = malloc(escaped_len + 1);
    size_t back_len = unquote(escaped, escaped_len, back, dollars);
    if (back_len != len || memcmp(back, value, len) != 0)
        abort();
    free(back);
    lua_pop(L, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!L)
        L = luaL_newstate();
    const char *value = (const char *)data;
    int line;
    unit_value_problem(value, size);
    unit_value_check_text(value, size, &line);
    escape_command_line(L, value, size);
    size_t len;
    const char *line_out = lua_tolstring(L, -1, &len);
    if (escape_line_continues(line_out, len))
        abort();
    lua_pop(L, 1);
    if (has_control(data, size))
        return 0;
    escape_word(L, value, size);
    check_round_trip(value, size, 0);
    escape_command_word(L, value, size);
    check_round_trip(value, size, 1);
    /* systemd refuses quotes and backslashes in an executable, and
     * substitutes no variables there */
    if (!has_quote_or_backslash(data, size)) {
        escape_executable(L, value, size);
        check_round_trip(value, size, 0);
    }
    return 0;
}
