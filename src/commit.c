#include "commit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What was done for one change, so it can be undone. */
struct step {
    char *target;
    char *temp;   /* written, not yet renamed */
    char *backup; /* hard link to the file the target replaced */
    int renamed;
};

/* Folders created by this commit, innermost last. */
struct created_folders {
    char **paths;
    size_t count, capacity;
};

static char *join(const char *folder, const char *prefix, const char *name, const char *suffix)
{
    size_t len = strlen(folder) + strlen(prefix) + strlen(name) + strlen(suffix) + 2;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s/%s%s%s", folder, prefix, name, suffix);
    return s;
}

static int remember_folder(struct created_folders *created, const char *path)
{
    if (created->count == created->capacity) {
        size_t capacity = created->capacity ? created->capacity * 2 : 8;
        char **paths = realloc(created->paths, capacity * sizeof *paths);
        if (!paths)
            return -1;
        created->paths = paths;
        created->capacity = capacity;
    }
    char *copy = strdup(path);
    if (!copy)
        return -1;
    created->paths[created->count++] = copy;
    return 0;
}

/* mkdir -p that remembers what it created. */
static int make_folders(const char *path, struct created_folders *created)
{
    if (!*path) {
        errno = ENOENT;
        return -1;
    }
    char *buf = strdup(path);
    if (!buf)
        return -1;
    int result = 0;
    for (char *p = buf + 1; result == 0; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0755) == 0)
            result = remember_folder(created, buf);
        else if (errno != EEXIST)
            result = -1;
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(buf);
    struct stat st;
    if (result != 0 || stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_temp(struct step *step, const struct file_change *change)
{
    step->temp = join(change->folder, ".", change->name, ".XXXXXX");
    if (!step->temp)
        return -1;
    int fd = mkstemp(step->temp);
    if (fd < 0) {
        free(step->temp);
        step->temp = NULL;
        return -1;
    }
    /* Unit files are world-readable, like the ones packages install. No
     * fsync: these are build artefacts, and a run writing thousands of
     * units must stay fast; rename keeps readers from half files. */
    int ok = fchmod(fd, change->mode ? (mode_t)change->mode : 0644) == 0 &&
             write_all(fd, change->data, change->len) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok)
        ok = 0, saved = errno;
    errno = saved;
    return ok ? 0 : -1;
}

/* Keeps the file being replaced reachable until the commit succeeds. */
static int keep_backup(struct step *step, const struct file_change *change)
{
    struct stat st;
    if (lstat(step->target, &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        char suffix[32];
        snprintf(suffix, sizeof suffix, ".old%d-%d", (int)getpid(), attempt);
        step->backup = join(change->folder, ".", change->name, suffix);
        if (!step->backup)
            return -1;
        if (link(step->target, step->backup) == 0)
            return 0;
        int saved = errno;
        free(step->backup);
        step->backup = NULL;
        if (saved != EEXIST) {
            errno = saved;
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

static void undo(struct step *steps, size_t n, struct created_folders *created)
{
    for (size_t i = n; i-- > 0;) {
        struct step *s = &steps[i];
        if (s->renamed) {
            if (s->backup)
                rename(s->backup, s->target);
            else
                unlink(s->target);
        } else if (s->backup) {
            unlink(s->backup);
        }
        if (s->temp && !s->renamed)
            unlink(s->temp);
    }
    for (size_t i = created->count; i-- > 0;)
        rmdir(created->paths[i]);
}

static void release(struct step *steps, size_t n, struct created_folders *created, int succeeded)
{
    for (size_t i = 0; i < n; i++) {
        if (succeeded && steps[i].backup)
            unlink(steps[i].backup);
        free(steps[i].target);
        free(steps[i].temp);
        free(steps[i].backup);
    }
    free(steps);
    for (size_t i = 0; i < created->count; i++)
        free(created->paths[i]);
    free(created->paths);
}

static int fail(char *error, size_t size, const char *what, const char *path)
{
    snprintf(error, size, "cannot %s %s: %s", what, path, strerror(errno));
    return -1;
}

static int prepare(struct step *steps, const struct file_change *changes, size_t n,
                   struct created_folders *created, char *error, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        steps[i].target = join(changes[i].folder, "", changes[i].name, "");
        if (!steps[i].target)
            return fail(error, size, "write", changes[i].name);
        if (make_folders(changes[i].folder, created) != 0)
            return fail(error, size, "create folder", changes[i].folder);
        if (write_temp(&steps[i], &changes[i]) != 0)
            return fail(error, size, "write", steps[i].target);
    }
    return 0;
}

static int install(struct step *steps, const struct file_change *changes, size_t n, char *error, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        if (keep_backup(&steps[i], &changes[i]) != 0)
            return fail(error, size, "replace", steps[i].target);
        if (rename(steps[i].temp, steps[i].target) != 0)
            return fail(error, size, "write", steps[i].target);
        steps[i].renamed = 1;
    }
    return 0;
}

int commit_changes(const struct file_change *changes, size_t n, char *error, size_t error_size)
{
    struct created_folders created = {0};
    struct step *steps = calloc(n ? n : 1, sizeof *steps);
    if (!steps) {
        snprintf(error, error_size, "not enough memory to write the units");
        return -1;
    }
    int result = prepare(steps, changes, n, &created, error, error_size);
    if (result == 0)
        result = install(steps, changes, n, error, error_size);
    if (result != 0)
        undo(steps, n, &created);
    release(steps, n, &created, result == 0);
    return result;
}
