#ifndef UNITFORGE_FOLDER_LOCK_H
#define UNITFORGE_FOLDER_LOCK_H

#include <stddef.h>
#include <sys/types.h>

/* The folders a run writes into, created when missing and locked, so
 * that runs on one folder follow each other instead of mixing their
 * units. The lock is flock(2) on the folder itself: no lock file is left
 * behind, and a killed run's lock goes with its process. */

struct locked_folder {
    char *path;    /* as the run names it */
    char *real;    /* absolute, symbolic links resolved: for journals */
    int fd;        /* open and locked */
    dev_t dev;
    ino_t ino;
    char **created; /* folders made for it, outermost first */
    size_t ncreated;
};

struct folder_set {
    struct locked_folder *items;
    size_t count;
};

/* Creates and opens the distinct folders among paths[0..n) (two
 * spellings of one folder are one folder), in the one order every run
 * locks in (device, inode), so two runs never wait on each other in a
 * circle; index[i] receives the item of paths[i]. Locks nothing. Returns
 * -1 with `error` set, holding nothing, when a folder cannot be made or
 * opened. */
int folder_set_open(struct folder_set *set, const char *const *paths, size_t n, size_t *index, char *error,
                    size_t error_size);

/* Locks every folder of the set, in order. 1: all locked; 0: a folder
 * was removed or replaced meanwhile (release and open again); -1: an
 * error, in `error`. */
int folder_set_lock_all(struct folder_set *set, char *error, size_t error_size);

/* Removes the folders the set created, innermost first, where they are
 * empty: after a failed run nothing it made is left. */
void folder_set_remove_created(struct folder_set *set);

/* Unlocks, closes and frees. */
void folder_set_release(struct folder_set *set);

/* Opens and locks the folder at `path`, waiting for as long as it takes
 * (`seconds` < 0) or at most `seconds`. Returns the descriptor, or -1
 * with errno set (ENOENT when it is gone). */
int folder_lock_path(const char *path, int seconds);

#endif
