/* libFuzzer target: the module loader. Whatever bytes a file beside the
 * config holds (text, mutated bytecode, garbage), finding and loading it
 * with require's searcher must end in a loaded chunk or an error, never
 * a crash. The chunk is not run: random code may loop for ever. */
#include "lua_env.h"

#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static lua_State *L;
static char dir[] = "/tmp/fuzz-loader.XXXXXX";
static char path[64];

static int search(lua_State *state)
{
    lua_getglobal(state, "package");
    lua_getfield(state, -1, "searchers");
    lua_rawgeti(state, -1, 2);
    lua_pushliteral(state, "fuzzed");
    lua_call(state, 1, 2);
    return 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!L) {
        if (!mkdtemp(dir))
            abort();
        snprintf(path, sizeof path, "%s/fuzzed.lua", dir);
        L = luaL_newstate();
        lua_env_setup(L, dir, "prod");
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    lua_settop(L, 0);
    lua_pushcfunction(L, search);
    if (lua_pcall(L, 0, 2, 0) == LUA_OK && lua_type(L, 1) != LUA_TFUNCTION && lua_type(L, 1) != LUA_TSTRING)
        abort(); /* a searcher returns a loader or why it found none */
    return 0;
}
