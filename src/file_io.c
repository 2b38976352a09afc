#include "file_io.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>

char *file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap);
    while (buf) {
        used += fread(buf + used, 1, cap - used - 1, f);
        if (used < cap - 1)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            errno = ENOMEM;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf)
        return NULL;
    if (failed) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[used] = '\0';
    *len = used;
    return buf;
}

static int close_stream(lua_State *L)
{
    luaL_Stream *stream = luaL_checkudata(L, 1, LUA_FILEHANDLE);
    return luaL_fileresult(L, fclose(stream->f) == 0, NULL);
}

const char *file_push(lua_State *L, const char *path, size_t *len)
{
    luaL_Stream *stream = lua_newuserdatauv(L, sizeof *stream, 0);
    stream->closef = NULL; /* marks it closed until it is open */
    luaL_setmetatable(L, LUA_FILEHANDLE);
    stream->f = fopen(path, "rb");
    if (!stream->f) {
        int saved = errno;
        lua_pop(L, 1);
        errno = saved;
        return NULL;
    }
    stream->closef = close_stream;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t n;
    errno = 0;
    do {
        char *chunk = luaL_prepbuffer(&b);
        n = fread(chunk, 1, LUAL_BUFFERSIZE, stream->f);
        luaL_addsize(&b, n);
    } while (n == LUAL_BUFFERSIZE);
    int failed = ferror(stream->f);
    int saved = errno; /* EISDIR for a folder */
    luaL_pushresult(&b);
    fclose(stream->f);
    stream->closef = NULL;
    lua_remove(L, -2);
    if (failed) {
        lua_pop(L, 1);
        errno = saved ? saved : EIO;
        return NULL;
    }
    return lua_tolstring(L, -1, len);
}
