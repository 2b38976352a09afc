#include "commit.h"

#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *error, size_t size, const char *what, const char *folder, const char *name, const char *tail)
{
    snprintf(error, size, "cannot %s %s%s%s: %s%s", what, folder, name ? "/" : "", name ? name : "",
             strerror(errno), tail);
    return -1;
}

#define NOTHING_WRITTEN "; nothing was written"

/* Each attempt opens the folders, settles what interrupted runs left
 * there (holding no lock of its own meanwhile, so settling a run never
 * waits in a circle with another run), then locks them all; a run
 * killed between the two is settled by the next attempt. */
#define BEGIN_ATTEMPTS 20

static int settle_interrupted(struct commit *c, char *error, size_t size)
{
    for (size_t i = 0; i < c->folders.count; i++) {
        const struct locked_folder *f = &c->folders.items[i];
        if (journal_present(f->fd) && journal_recover_run(f->real, error, size) != 0)
            return -1;
    }
    return 0;
}

/* 1: locked with no interrupted run left; 0: try again; -1: error. */
static int try_begin(struct commit *c, const char **paths, size_t n, char *error, size_t size)
{
    if (folder_set_open(&c->folders, paths, n, c->folder_of, error, size) != 0)
        return -1;
    if (settle_interrupted(c, error, size) != 0)
        return -1;
    int locked = folder_set_lock_all(&c->folders, error, size);
    if (locked <= 0)
        return locked;
    int clean = 1;
    for (size_t i = 0; i < c->folders.count; i++)
        if (journal_tidy(c->folders.items[i].fd))
            clean = 0;
    return clean;
}

int commit_begin(struct commit *c, const struct file_change *changes, size_t n, char *error, size_t size)
{
    memset(c, 0, sizeof *c);
    const char **paths = malloc((n ? n : 1) * sizeof *paths);
    c->folder_of = malloc((n ? n : 1) * sizeof *c->folder_of);
    int result = paths && c->folder_of ? 0 : -1;
    if (result != 0)
        snprintf(error, size, "not enough memory to write the units");
    for (size_t i = 0; result == 0 && i < n; i++)
        paths[i] = changes[i].folder;
    for (int attempt = 0; result == 0; attempt++) {
        if (attempt == BEGIN_ATTEMPTS) {
            snprintf(error, size, "cannot lock the output folders: they keep changing under this run");
            result = -1;
            break;
        }
        int r = try_begin(c, paths, n, error, size);
        if (r == 1)
            break;
        if (r < 0)
            result = -1;
        else
            folder_set_release(&c->folders);
    }
    free(paths);
    if (result != 0)
        strncat(error, NOTHING_WRITTEN, size - strlen(error) - 1);
    return result;
}

/* For a drop-in, SUB/NAME: SUB must be a folder of its own, not a link
 * that would lead the unit elsewhere. 0: it is (or is missing); -1: not. */
static int check_subfolder(int dirfd, const struct file_change *ch, char *error, size_t size)
{
    const char *slash = strchr(ch->name, '/');
    if (!slash)
        return 0;
    char sub[256];
    snprintf(sub, sizeof sub, "%.*s", (int)(slash - ch->name), ch->name);
    struct stat st;
    if (fstatat(dirfd, sub, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : fail(error, size, "read", ch->folder, sub, NOTHING_WRITTEN);
    if (S_ISLNK(st.st_mode)) {
        snprintf(error, size, "refusing to write into %s/%s: it is a symbolic link" NOTHING_WRITTEN, ch->folder, sub);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(error, size, "cannot write %s/%s: %s is not a folder" NOTHING_WRITTEN, ch->folder, ch->name, sub);
        return -1;
    }
    return 0;
}

/* For sorting changes by folder (its identity, as locked) and name; qsort
 * takes no context, and a run sorts once, in one thread. */
static const struct commit *sorting;
static const struct file_change *sorted_changes;

static int compare_targets(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (sorting->folder_of[i] != sorting->folder_of[j])
        return sorting->folder_of[i] < sorting->folder_of[j] ? -1 : 1;
    return strcmp(sorted_changes[i].name, sorted_changes[j].name);
}

/* Two changes that are one file, through different spellings of its
 * folder (a symbolic link, "..") that no text comparison sees. */
static int find_same_file(const struct commit *c, const struct file_change *changes, size_t n, char *error,
                          size_t size)
{
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) {
        snprintf(error, size, "not enough memory to write the units" NOTHING_WRITTEN);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sorting = c;
    sorted_changes = changes;
    qsort(order, n, sizeof *order, compare_targets);
    int result = 0;
    for (size_t k = 1; k < n && result == 0; k++)
        if (compare_targets(&order[k - 1], &order[k]) == 0) {
            const struct file_change *a = &changes[order[k - 1]], *b = &changes[order[k]];
            snprintf(error, size, "%s/%s and %s/%s are one file: two units of this run would land on it" NOTHING_WRITTEN,
                     a->folder, a->name, b->folder, b->name);
            result = COMMIT_CONFLICT;
        }
    free(order);
    return result;
}

size_t commit_merge_duplicates(struct commit *c, struct file_change *changes, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        int duplicate = 0;
        for (size_t j = 0; j < kept && !duplicate; j++)
            duplicate = c->folder_of[j] == c->folder_of[i] && strcmp(changes[j].name, changes[i].name) == 0 &&
                        changes[j].len == changes[i].len && memcmp(changes[j].data, changes[i].data, changes[i].len) == 0;
        if (!duplicate) {
            changes[kept] = changes[i];
            c->folder_of[kept++] = c->folder_of[i];
        }
    }
    return kept;
}

/* Whether the folder open at `dirfd` holds nothing. */
static int folder_is_empty(int dirfd)
{
    int fd = dup(dirfd);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    int empty = 1;
    struct dirent *entry;
    while (empty && (entry = readdir(dir)))
        empty = strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0;
    closedir(dir);
    return empty;
}

/* Per folder: this run made it, and it is still empty now that it is
 * locked, so no file of the run is there yet (the compare of every file
 * would cost more than writing it). */
static int *find_fresh_folders(const struct commit *c)
{
    int *fresh = calloc(c->folders.count + 1, sizeof *fresh);
    for (size_t f = 0; fresh && f < c->folders.count; f++)
        fresh[f] = c->folders.items[f].ncreated > 0 && folder_is_empty(c->folders.items[f].fd);
    return fresh;
}

/* Sets the state of change `ch`, in the folder open at `dirfd`. */
static int compare_change(int dirfd, struct file_change *ch, char *error, size_t size)
{
    if (check_subfolder(dirfd, ch, error, size) != 0)
        return -1;
    ch->state = file_compare(dirfd, ch->name, ch->data, ch->len);
    if (ch->state == FILE_UNREADABLE)
        return fail(error, size, "read", ch->folder, ch->name, NOTHING_WRITTEN);
    if (ch->state == FILE_IN_THE_WAY) {
        snprintf(error, size, "cannot write %s/%s: it is not a regular file (a folder, a FIFO, a "
                              "device, a masked unit's link)" NOTHING_WRITTEN, ch->folder, ch->name);
        return -1;
    }
    return 0;
}

int commit_compare(struct commit *c, struct file_change *changes, size_t n, char *error, size_t size)
{
    int result = find_same_file(c, changes, n, error, size);
    int *fresh = result == 0 ? find_fresh_folders(c) : NULL;
    for (size_t i = 0; result == 0 && i < n; i++) {
        struct file_change *ch = &changes[i];
        if (fresh && fresh[c->folder_of[i]] && !strchr(ch->name, '/'))
            ch->state = FILE_ABSENT;
        else
            result = compare_change(c->folders.items[c->folder_of[i]].fd, ch, error, size);
    }
    free(fresh);
    return result;
}

/* A drop-in folder (SUB of SUB/NAME) the run makes in one of its folders. */
struct subfolder {
    size_t folder;
    char name[256];
    int made;
};

/* What one commit_write knows about its files. */
struct plan {
    char run_id[JOURNAL_ID_LEN + 1];
    char **temps;             /* per change; NULL where unchanged */
    int *written;             /* per change: its temporary file exists */
    size_t primary;           /* the first folder (lock order) with changes */
    int *changed;             /* per folder: it has changes */
    int *journaled;           /* per folder: its journal exists */
    struct subfolder *subs;   /* drop-in folders to make */
    size_t nsubs;
    mode_t umask;             /* the process's, while prepare has it at 0 */
};

/* No fsync: a kill, the case the journal is for, loses nothing the
 * kernel has; a run writing thousands of units must stay fast. */
static int write_temp(int dirfd, const char *temp, const struct file_change *ch)
{
    /* units are world-readable, like the ones packages install: made
     * with their mode while commit_write has the umask at 0 */
    int fd = openat(dirfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                    ch->mode ? (mode_t)ch->mode : 0644);
    if (fd < 0)
        return -1;
    int ok = file_write_all(fd, ch->data, ch->len) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok)
        ok = 0, saved = errno;
    errno = saved;
    return ok ? 0 : -1;
}

static void free_plan(struct plan *p, size_t n)
{
    for (size_t i = 0; p->temps && i < n; i++)
        free(p->temps[i]);
    free(p->temps);
    free(p->written);
    free(p->changed);
    free(p->journaled);
    free(p->subs);
}

/* Notes the SUB of change `i` when it is missing and not noted yet. */
static void note_subfolder(struct plan *p, const struct commit *c, const struct file_change *ch, size_t i)
{
    const char *slash = strchr(ch->name, '/');
    if (!slash || (size_t)(slash - ch->name) >= sizeof p->subs->name)
        return;
    struct subfolder sub = {.folder = c->folder_of[i]};
    memcpy(sub.name, ch->name, (size_t)(slash - ch->name));
    for (size_t j = 0; j < p->nsubs; j++)
        if (p->subs[j].folder == sub.folder && strcmp(p->subs[j].name, sub.name) == 0)
            return;
    struct stat st;
    if (fstatat(c->folders.items[sub.folder].fd, sub.name, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT)
        p->subs[p->nsubs++] = sub;
}

static int make_plan(struct plan *p, const struct commit *c, const struct file_change *changes, size_t n)
{
    memset(p, 0, sizeof *p);
    size_t folders = c->folders.count;
    p->temps = calloc(n ? n : 1, sizeof *p->temps);
    p->written = calloc(n ? n : 1, sizeof *p->written);
    p->changed = calloc(folders ? folders : 1, sizeof *p->changed);
    p->journaled = calloc(folders ? folders : 1, sizeof *p->journaled);
    p->subs = calloc(n ? n : 1, sizeof *p->subs);
    if (!p->temps || !p->written || !p->changed || !p->journaled || !p->subs)
        return -1;
    journal_new_run_id(p->run_id);
    p->primary = folders;
    for (size_t i = 0; i < n; i++) {
        if (changes[i].state == FILE_SAME)
            continue;
        char name[64];
        snprintf(name, sizeof name, JOURNAL_TEMP_PREFIX "%s.%zu", p->run_id, i);
        if (!(p->temps[i] = strdup(name)))
            return -1;
        p->changed[c->folder_of[i]] = 1;
        if (c->folder_of[i] < p->primary)
            p->primary = c->folder_of[i];
        note_subfolder(p, c, &changes[i], i);
    }
    return 0;
}

/* The journal of folder `f`: its renames, the folders made for it and
 * in it, and the primary (or, in the primary, the other folders). */
static int write_journal(const struct commit *c, struct plan *p, const struct file_change *changes, size_t n,
                         size_t f)
{
    const struct locked_folder *folder = &c->folders.items[f];
    size_t count = c->folders.count;
    struct journal_rename *renames = calloc(n ? n : 1, sizeof *renames);
    const char **secondaries = calloc(count, sizeof *secondaries);
    char **created = calloc(folder->ncreated + 1, sizeof *created);
    const char **subs = calloc(p->nsubs + 1, sizeof *subs);
    struct journal j = {.run_id = p->run_id, .renames = renames, .secondaries = secondaries, .subfolders = subs};
    int result = -1;
    if (renames && secondaries && created && subs) {
        for (size_t i = 0; i < p->nsubs; i++)
            if (p->subs[i].folder == f)
                subs[j.nsubfolders++] = p->subs[i].name;
        for (size_t i = 0; i < n; i++)
            if (p->temps[i] && c->folder_of[i] == f)
                renames[j.nrenames++] = (struct journal_rename){p->temps[i], changes[i].name};
        for (size_t i = 0; f == p->primary && i < count; i++)
            if (p->changed[i] && i != f)
                secondaries[j.nsecondaries++] = c->folders.items[i].real;
        for (size_t i = 0; i < folder->ncreated; i++)
            if ((created[j.ncreated] = realpath(folder->created[i], NULL)))
                j.ncreated++;
        j.created = (const char *const *)created;
        j.primary = f == p->primary ? NULL : c->folders.items[p->primary].real;
        result = journal_write(folder->fd, &j);
        p->journaled[f] = result == 0;
    }
    int saved = errno;
    for (size_t i = 0; created && i < j.ncreated; i++)
        free(created[i]);
    free(created);
    free(renames);
    free(secondaries);
    free(subs);
    errno = saved;
    return result;
}

/* Before the commit: removes every trace of the run. */
static void undo(const struct commit *c, const struct plan *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p->written[i])
            unlinkat(c->folders.items[c->folder_of[i]].fd, p->temps[i], 0);
    for (size_t i = 0; i < p->nsubs; i++)
        if (p->subs[i].made)
            unlinkat(c->folders.items[p->subs[i].folder].fd, p->subs[i].name, AT_REMOVEDIR);
    for (size_t f = 0; f < c->folders.count; f++)
        if (p->journaled[f])
            unlinkat(c->folders.items[f].fd, JOURNAL_NAME, 0);
}

static int prepare(const struct commit *c, struct plan *p, const struct file_change *changes, size_t n,
                   char *error, size_t size)
{
    for (size_t f = 0; f < c->folders.count; f++)
        if (p->changed[f] && write_journal(c, p, changes, n, f) != 0)
            return fail(error, size, "write", c->folders.items[f].path, JOURNAL_NAME, NOTHING_WRITTEN);
    for (size_t i = 0; i < p->nsubs; i++) {
        const struct locked_folder *folder = &c->folders.items[p->subs[i].folder];
        if (mkdirat(folder->fd, p->subs[i].name, 0755 & ~p->umask) != 0)
            return fail(error, size, "create folder", folder->path, p->subs[i].name, NOTHING_WRITTEN);
        p->subs[i].made = 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!p->temps[i])
            continue;
        if (write_temp(c->folders.items[c->folder_of[i]].fd, p->temps[i], &changes[i]) != 0) {
            int saved = errno;
            unlinkat(c->folders.items[c->folder_of[i]].fd, p->temps[i], 0);
            errno = saved;
            return fail(error, size, "write", changes[i].folder, changes[i].name, NOTHING_WRITTEN);
        }
        p->written[i] = 1;
    }
    const struct locked_folder *primary = &c->folders.items[p->primary];
    if (journal_commit(primary->fd, p->run_id) != 0)
        return fail(error, size, "write", primary->path, JOURNAL_MARKER, NOTHING_WRITTEN);
    return 0;
}

/* After the commit: every rename is tried; a failed one stays in the
 * journal, for the next run to finish. */
static int install(const struct commit *c, const struct plan *p, const struct file_change *changes, size_t n,
                   char *error, size_t size)
{
    int result = 0;
    for (size_t i = 0; i < n; i++) {
        int dirfd = c->folders.items[c->folder_of[i]].fd;
        if (p->temps[i] && renameat(dirfd, p->temps[i], dirfd, changes[i].name) != 0 && result == 0)
            result = fail(error, size, "write", changes[i].folder, changes[i].name,
                          "; the run's other files are in place, and the next run puts this one in place too");
    }
    if (result != 0)
        return result;
    for (size_t f = 0; f < c->folders.count; f++)
        if (p->changed[f] && f != p->primary)
            journal_finish(c->folders.items[f].fd, 0);
    journal_finish(c->folders.items[p->primary].fd, 1);
    return 0;
}

/* prepare with the umask at 0, so that files get their mode from open
 * alone (one call fewer per file than a chmod after). */
static int prepare_unmasked(struct commit *c, struct plan *p, const struct file_change *changes, size_t n,
                            char *error, size_t size)
{
    p->umask = umask(0); /* folders still follow it */
    int result = prepare(c, p, changes, n, error, size);
    umask(p->umask);
    return result;
}

int commit_write(struct commit *c, const struct file_change *changes, size_t n, char *error, size_t size)
{
    struct plan p;
    int result = -1;
    if (make_plan(&p, c, changes, n) != 0) {
        snprintf(error, size, "not enough memory to write the units" NOTHING_WRITTEN);
    } else if (p.primary == c->folders.count) {
        result = 0; /* nothing differs */
    } else if (prepare_unmasked(c, &p, changes, n, error, size) != 0) {
        undo(c, &p, n);
    } else {
        result = install(c, &p, changes, n, error, size);
    }
    free_plan(&p, n);
    return result;
}

void commit_end(struct commit *c, int failed)
{
    if (failed)
        folder_set_remove_created(&c->folders);
    folder_set_release(&c->folders);
    free(c->folder_of);
    c->folder_of = NULL;
}

int commit_changes(struct file_change *changes, size_t n, char *error, size_t size)
{
    struct commit c;
    int result = commit_begin(&c, changes, n, error, size);
    if (result == 0)
        result = commit_compare(&c, changes, n, error, size);
    if (result == 0)
        result = commit_write(&c, changes, n, error, size);
    commit_end(&c, result != 0);
    return result;
}
