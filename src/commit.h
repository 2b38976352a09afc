#ifndef UNITFORGE_COMMIT_H
#define UNITFORGE_COMMIT_H

#include "file_io.h"
#include "folder_lock.h"

#include <stddef.h>

/* One file a run may create or replace. */
struct file_change {
    const char *folder;
    const char *name;
    const char *data;
    size_t len;
    unsigned mode;              /* 0 for 0644 */
    enum file_comparison state; /* what is on disk, from commit_compare */
};

/* Writing a run's files so that no kill, failure or concurrent run can
 * leave a folder half-written: the folders are locked for the whole
 * run, what an interrupted run left is finished or undone first
 * (journal.h), and every file is written or none is. Uses no Lua, so
 * nothing can jump out of it half-way. Every failure fills `error` with
 * a complete message and returns -1. */
struct commit {
    struct folder_set folders;
    size_t *folder_of; /* per change: its item of `folders` */
};

/* Makes the folders of changes[0..n) where missing, locks them and
 * settles what an interrupted run left there. */
int commit_begin(struct commit *c, const struct file_change *changes, size_t n, char *error, size_t size);

/* Sets each change's state from the file on disk. Fails when one cannot
 * be read or something that is not a file is where it must go, and with
 * COMMIT_CONFLICT when two changes are one file (two spellings of a
 * folder: a symbolic link, ".."). */
#define COMMIT_CONFLICT (-2)
int commit_compare(struct commit *c, struct file_change *changes, size_t n, char *error, size_t size);

/* After commit_begin: drops the changes that are an earlier change again
 * (one file through two spellings of its folder, the same bytes), as
 * `init` makes when two services name one templates_dir two ways.
 * Returns how many are left, at the front of `changes`. Quadratic: for
 * short lists. */
size_t commit_merge_duplicates(struct commit *c, struct file_change *changes, size_t n);

/* Writes every change whose state is not FILE_SAME, all or none. */
int commit_write(struct commit *c, const struct file_change *changes, size_t n, char *error, size_t size);

/* Unlocks. After a failure, removes the folders commit_begin made. */
void commit_end(struct commit *c, int failed);

/* All four steps: writes each change that differs from the disk. */
int commit_changes(struct file_change *changes, size_t n, char *error, size_t size);

#endif
