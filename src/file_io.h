#ifndef UNITFORGE_FILE_IO_H
#define UNITFORGE_FILE_IO_H

#include <lua.h>
#include <stddef.h>

/* Reading the files unitforge reads itself (modules, templates, mix.exs,
 * units already on disk). Opening never blocks: a FIFO or a device is
 * refused without being read, so no such file can hang a run or feed it
 * without end. */

enum file_status {
    FILE_OK,
    FILE_MISSING,     /* it does not exist (ENOENT) */
    FILE_NOT_REGULAR, /* a folder, FIFO, socket or device */
    FILE_ERROR,       /* any other failure; errno says which */
};

/* Pushes the whole regular file at `path` as a Lua string (only on
 * FILE_OK). Its bytes are Lua memory, so --max-memory bounds them. */
enum file_status file_push_regular(lua_State *L, const char *path, size_t *len);

/* Why a file could not be read, for a message ("is not a regular file",
 * or errno's text). */
const char *file_status_text(enum file_status status);

/* write(2) of all `len` bytes, retried on EINTR. 0, or -1 with errno. */
int file_write_all(int fd, const char *data, size_t len);

enum file_comparison {
    FILE_SAME,
    FILE_DIFFERENT,
    FILE_ABSENT,
    FILE_UNREADABLE, /* errno set; ENOTDIR, EACCES, EIO ... */
    FILE_IN_THE_WAY, /* not a regular file: a folder, FIFO, device */
};

/* Compares the file `name` in the folder `dirfd` (AT_FDCWD: `name` is a
 * path) with `data`, reading no more of it than `len` bytes. Uses no Lua. */
enum file_comparison file_compare(int dirfd, const char *name, const char *data, size_t len);

#endif
