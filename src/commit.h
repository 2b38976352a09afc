#ifndef UNITFORGE_COMMIT_H
#define UNITFORGE_COMMIT_H

#include <stddef.h>

/* One file a run replaces or creates. */
struct file_change {
    const char *folder;
    const char *name;
    const char *data;
    size_t len;
    unsigned mode; /* 0 for 0644 */
};

/* Writes every change or none: all contents go to temporary files first,
 * then each is renamed over its target, with the replaced files kept as
 * hard links until every rename succeeded. On failure everything is
 * rolled back (targets restored, temporary files and folders this call
 * created removed) and -1 is returned with `error` describing the first
 * failure. Uses no Lua, so nothing can jump out of it half-way. */
int commit_changes(const struct file_change *changes, size_t n, char *error, size_t error_size);

#endif
