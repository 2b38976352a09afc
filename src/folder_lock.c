#include "folder_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int open_folder(const char *path)
{
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int remember(struct locked_folder *item, const char *path, size_t len)
{
    char **bigger = realloc(item->created, (item->ncreated + 1) * sizeof *bigger);
    if (!bigger)
        return -1;
    item->created = bigger;
    if (!(item->created[item->ncreated] = strndup(path, len)))
        return -1;
    item->ncreated++;
    return 0;
}

/* mkdir -p that remembers what it made, outermost first. */
static int make_folders(struct locked_folder *item, const char *path)
{
    size_t len = strlen(path);
    if (len == 0) {
        errno = ENOENT;
        return -1;
    }
    for (size_t end = 1; end <= len; end++) {
        if (end < len && path[end] != '/')
            continue;
        char *prefix = strndup(path, end);
        if (!prefix)
            return -1;
        int made = mkdir(prefix, 0755) == 0;
        int saved = errno;
        free(prefix);
        if (made && remember(item, path, end) != 0)
            return -1;
        if (!made && saved != EEXIST) {
            errno = saved;
            return -1;
        }
    }
    return 0;
}

static void remove_created(const struct locked_folder *item)
{
    for (size_t j = item->ncreated; j-- > 0;)
        rmdir(item->created[j]); /* fails, harmlessly, where not empty */
}

static void close_item(struct locked_folder *item)
{
    if (item->fd >= 0)
        close(item->fd); /* releases the lock */
    item->fd = -1;
}

static void free_item(struct locked_folder *item)
{
    close_item(item);
    free(item->path);
    free(item->real);
    for (size_t i = 0; i < item->ncreated; i++)
        free(item->created[i]);
    free(item->created);
}

static int compare_identity(const void *a, const void *b)
{
    const struct locked_folder *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return 0;
}

static int fail(char *error, size_t size, const char *what, const char *path)
{
    snprintf(error, size, "cannot %s %s: %s", what, path, strerror(errno));
    return -1;
}

/* Makes and opens the folder of paths[i] unless an item already is that
 * folder; index[i] receives the item. */
static int add_folder(struct folder_set *set, const char *path, size_t *index, char *error, size_t size)
{
    /* a path already opened is that folder: most units share one */
    for (size_t i = set->count; i-- > 0;)
        if (set->items[i].path && strcmp(set->items[i].path, path) == 0) {
            *index = i;
            return 0;
        }
    struct locked_folder item = {.fd = -1};
    int fd = open_folder(path);
    if (fd < 0 && errno == ENOENT) {
        if (make_folders(&item, path) != 0) {
            int saved = errno;
            remove_created(&item);
            free_item(&item);
            errno = saved;
            return fail(error, size, "create folder", path);
        }
        fd = open_folder(path);
    }
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        remove_created(&item);
        free_item(&item);
        errno = saved;
        return fail(error, size, "open folder", path);
    }
    for (size_t i = 0; i < set->count; i++)
        if (set->items[i].dev == st.st_dev && set->items[i].ino == st.st_ino) {
            close(fd);
            free_item(&item);
            *index = i;
            return 0;
        }
    item.fd = fd;
    item.dev = st.st_dev;
    item.ino = st.st_ino;
    item.path = strdup(path);
    set->items[set->count] = item;
    *index = set->count++;
    if (!item.path) {
        errno = ENOMEM;
        return fail(error, size, "open folder", path);
    }
    return 0;
}

/* Whether the locked folder is still the one at its path: a run that
 * failed may have removed it (and another made it again) while this one
 * waited for the lock. */
static int still_in_place(const struct locked_folder *item)
{
    struct stat by_path, by_fd;
    return stat(item->path, &by_path) == 0 && fstat(item->fd, &by_fd) == 0 && by_fd.st_nlink > 0 &&
           by_path.st_dev == item->dev && by_path.st_ino == item->ino;
}

static int flock_waiting(int fd, int operation)
{
    int r;
    while ((r = flock(fd, operation)) != 0 && errno == EINTR)
        ;
    return r;
}

int folder_set_lock_all(struct folder_set *set, char *error, size_t size)
{
    for (size_t i = 0; i < set->count; i++) {
        struct locked_folder *item = &set->items[i];
        if (flock_waiting(item->fd, LOCK_EX) != 0)
            return fail(error, size, "lock folder", item->path);
        if (!still_in_place(item))
            return 0;
    }
    return 1;
}

static void release_items(struct folder_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        free_item(&set->items[i]);
    free(set->items);
    set->items = NULL;
    set->count = 0;
}

/* Sorting moves items: index[] follows them by identity. */
static int sort_items(struct folder_set *set, size_t n, size_t *index)
{
    dev_t *devs = malloc(n * sizeof *devs + 1);
    ino_t *inos = malloc(n * sizeof *inos + 1);
    if (!devs || !inos) {
        free(devs);
        free(inos);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        devs[i] = set->items[index[i]].dev, inos[i] = set->items[index[i]].ino;
    qsort(set->items, set->count, sizeof *set->items, compare_identity);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < set->count; j++)
            if (set->items[j].dev == devs[i] && set->items[j].ino == inos[i])
                index[i] = j;
    free(devs);
    free(inos);
    return 0;
}

int folder_set_open(struct folder_set *set, const char *const *paths, size_t n, size_t *index, char *error,
                    size_t size)
{
    set->items = calloc(n ? n : 1, sizeof *set->items);
    set->count = 0;
    int result = set->items ? 0 : -1;
    if (!set->items)
        snprintf(error, size, "not enough memory to open the output folders");
    for (size_t i = 0; result == 0 && i < n; i++)
        result = add_folder(set, paths[i], &index[i], error, size);
    for (size_t i = 0; result == 0 && i < set->count; i++)
        if (!(set->items[i].real = realpath(set->items[i].path, NULL)))
            result = fail(error, size, "resolve folder", set->items[i].path);
    if (result == 0 && sort_items(set, n, index) != 0) {
        errno = ENOMEM;
        result = fail(error, size, "open", "the output folders");
    }
    if (result != 0) {
        folder_set_remove_created(set);
        release_items(set);
    }
    return result;
}

void folder_set_remove_created(struct folder_set *set)
{
    for (size_t i = set->count; i-- > 0;)
        remove_created(&set->items[i]);
}

void folder_set_release(struct folder_set *set)
{
    release_items(set);
}

static int lock_within(int fd, int seconds)
{
    if (seconds < 0)
        return flock_waiting(fd, LOCK_EX);
    struct timespec pause = {0, 50 * 1000 * 1000};
    for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; waited++) {
        if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= seconds * 20)
            return -1;
        nanosleep(&pause, NULL);
    }
    return 0;
}

int folder_lock_path(const char *path, int seconds)
{
    int fd = open_folder(path);
    if (fd < 0 || lock_within(fd, seconds) == 0)
        return fd;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}
