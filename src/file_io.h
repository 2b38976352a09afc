#ifndef UNITFORGE_FILE_IO_H
#define UNITFORGE_FILE_IO_H

#include <stddef.h>

/* The whole file, NUL-terminated, or NULL with errno set. */
char *file_read(const char *path, size_t *len);

/* Creates a folder and its parents (mode 0755). 0 or -1 with errno. */
int file_make_dirs(const char *path);

/* Replaces dir/name with data through a temporary file in the same
 * folder and a rename, so readers never see half a unit. On failure the
 * temporary file is removed and -1 returned with errno set. */
int file_write_atomic(const char *dir, const char *name, const char *data, size_t len);

#endif
