#ifndef UNITFORGE_FILE_IO_H
#define UNITFORGE_FILE_IO_H

#include <lua.h>
#include <stddef.h>

/* The whole file, NUL-terminated, or NULL with errno set. */
char *file_read(const char *path, size_t *len);

/* Pushes the whole file as a Lua string and returns it, or returns NULL
 * (pushing nothing) with errno set. Unlike file_read, nothing leaks when
 * Lua raises an error later: the file is owned by a Lua file handle. */
const char *file_push(lua_State *L, const char *path, size_t *len);

#endif
