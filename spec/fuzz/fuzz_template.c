/* libFuzzer target: the template compiler. Any input must translate
 * without crashing, and the generated Lua must keep the template's line
 * numbers (one newline out for every newline in), or error messages would
 * point at the wrong template line. */
#include "template.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static lua_State *L;

static int translate(lua_State *state)
{
    size_t len;
    const char *text = lua_tolstring(state, 1, &len);
    template_translate(state, text, len);
    return 1;
}

static size_t count_newlines(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!L) {
        L = luaL_newstate();
        luaL_openlibs(L);
    }
    lua_settop(L, 0);
    lua_pushcfunction(L, translate);
    lua_pushlstring(L, (const char *)data, size);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        return 0; /* an unclosed tag: reported, not a crash */
    size_t code_len;
    const char *code = lua_tolstring(L, -1, &code_len);
    if (count_newlines(code, code_len) != count_newlines((const char *)data, size))
        abort();
    /* the generated code may be invalid Lua (the template's own code is
     * arbitrary), but loading it must not crash */
    luaL_loadbufferx(L, code, code_len, "=fuzz", "t");
    return 0;
}
