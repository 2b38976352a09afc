/* Build tool: compiles one of unitforge's own Lua modules, or one of its
 * built-in templates, to bytecode with the Lua the binary links, so the
 * binary loads them without parsing them at every start.
 * Usage: compile_lua [--template] CHUNKNAME IN OUT.
 * Only our own files go this way; what a config loads is text only. */
#include "template.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

/* Runs template_compile, which raises on a broken template. */
static int compile_template(lua_State *L)
{
    size_t len;
    const char *text = lua_tolstring(L, 2, &len);
    lua_newtable(L); /* the globals: set by the binary when it loads the chunk */
    template_compile(L, lua_tostring(L, 1), text, len, -1);
    return 1;
}

static int write_chunk(lua_State *L, const void *p, size_t size, void *out)
{
    (void)L;
    return fwrite(p, 1, size, out) == size ? 0 : 1;
}

int main(int argc, char **argv)
{
    int template = argc == 5 && strcmp(argv[1], "--template") == 0;
    argv += template;
    argc -= template;
    if (argc != 4) {
        fputs("usage: compile_lua [--template] CHUNKNAME IN OUT\n", stderr);
        return 2;
    }
    lua_State *L = luaL_newstate();
    FILE *in = fopen(argv[2], "rb");
    static char text[1 << 20];
    size_t len = in ? fread(text, 1, sizeof text, in) : 0;
    if (!L || !in || ferror(in) || len == sizeof text) {
        fprintf(stderr, "compile_lua: cannot read %s\n", argv[2]);
        return 1;
    }
    fclose(in);
    int status;
    if (template) {
        lua_pushcfunction(L, compile_template);
        lua_pushstring(L, argv[1]);
        lua_pushlstring(L, text, len);
        status = lua_pcall(L, 2, 1, 0);
    } else {
        status = luaL_loadbufferx(L, text, len, argv[1], "t");
    }
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "compile_lua: %s\n", msg ? msg : "the template does not compile");
        return 1;
    }
    FILE *out = fopen(argv[3], "wb");
    if (!out || lua_dump(L, write_chunk, out, 0) != 0 || fclose(out) != 0) {
        fprintf(stderr, "compile_lua: cannot write %s\n", argv[3]);
        return 1;
    }
    lua_close(L);
    return 0;
}
