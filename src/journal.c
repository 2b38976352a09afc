#include "journal.h"

#include "file_io.h"
#include "folder_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_TEMP ".unitforge.journal.tmp"
#define MARKER_TEMP ".unitforge.committed.tmp"
#define JOURNAL_HEADER "unitforge-journal 1"
/* Journals are ours and small (a line per unit); anything larger is not
 * one of them. */
#define JOURNAL_MAX_BYTES (256u * 1024 * 1024)
/* How long recovery waits for a folder that only a journal names: a run
 * holding it finishes in time, and anything longer is someone holding
 * the lock who should not (a journal may be planted). */
#define NAMED_FOLDER_WAIT_SECONDS 15

void journal_new_run_id(char id[JOURNAL_ID_LEN + 1])
{
    unsigned char bytes[JOURNAL_ID_LEN / 2];
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes) {
        unsigned long mix = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
        for (size_t i = 0; i < sizeof bytes; i++, mix = mix * 6364136223846793005ul + 1)
            bytes[i] = (unsigned char)(mix >> 56);
    }
    for (size_t i = 0; i < sizeof bytes; i++)
        snprintf(id + 2 * i, 3, "%02x", bytes[i]);
}

/* Writes `name` whole or not at all: a temporary file renamed over it. */
static int replace_file(int dirfd, const char *temp, const char *name, const char *data, size_t len)
{
    int fd = openat(dirfd, temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -1;
    int ok = file_write_all(fd, data, len) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok)
        ok = 0, saved = errno;
    if (ok && renameat(dirfd, temp, dirfd, name) == 0)
        return 0;
    if (ok)
        saved = errno;
    unlinkat(dirfd, temp, 0);
    errno = saved;
    return -1;
}

int journal_write(int dirfd, const struct journal *j)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        return -1;
    fprintf(out, JOURNAL_HEADER "\nrun %s\n", j->run_id);
    if (j->primary)
        fprintf(out, "primary %s\n", j->primary);
    for (size_t i = 0; i < j->nsecondaries; i++)
        fprintf(out, "secondary %s\n", j->secondaries[i]);
    for (size_t i = 0; i < j->ncreated; i++)
        fprintf(out, "created %s\n", j->created[i]);
    for (size_t i = 0; i < j->nsubfolders; i++)
        fprintf(out, "mkdir %s\n", j->subfolders[i]);
    for (size_t i = 0; i < j->nrenames; i++)
        fprintf(out, "rename %s %s\n", j->renames[i].temp, j->renames[i].target);
    fputs("end\n", out);
    if (fclose(out) != 0) {
        free(text);
        errno = ENOMEM;
        return -1;
    }
    int result = replace_file(dirfd, JOURNAL_TEMP, JOURNAL_NAME, text, len);
    int saved = errno;
    free(text);
    errno = saved;
    return result;
}

int journal_commit(int dirfd, const char *run_id)
{
    char line[JOURNAL_ID_LEN + 2];
    snprintf(line, sizeof line, "%s\n", run_id);
    return replace_file(dirfd, MARKER_TEMP, JOURNAL_MARKER, line, strlen(line));
}

int journal_finish(int dirfd, int primary)
{
    if (unlinkat(dirfd, JOURNAL_NAME, 0) != 0)
        return -1;
    return primary ? unlinkat(dirfd, JOURNAL_MARKER, 0) : 0;
}

int journal_present(int dirfd)
{
    struct stat st;
    return fstatat(dirfd, JOURNAL_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int journal_tidy(int dirfd)
{
    unlinkat(dirfd, JOURNAL_TEMP, 0);
    unlinkat(dirfd, MARKER_TEMP, 0);
    if (journal_present(dirfd))
        return 1;
    unlinkat(dirfd, JOURNAL_MARKER, 0); /* a finished run's last step */
    return 0;
}

/* ---- reading a journal back ---- */

struct parsed {
    char *text; /* owns every string below */
    const char *run;
    const char *primary;
    const char **secondaries, **created, **subfolders;
    size_t nsecondaries, ncreated, nsubfolders;
    struct journal_rename *renames; /* a NULL target: one no run of ours writes */
    size_t nrenames;
    int whole;   /* it ends with "end": it was written out entirely */
    int damaged; /* an entry names something outside the folder */
};

/* A file of ours in the folder, whole and NUL-terminated; NULL with
 * errno set (ENOENT: there is none). */
static char *read_own_file(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size < JOURNAL_MAX_BYTES &&
        (text = malloc((size_t)st.st_size + 1))) {
        ssize_t n = read(fd, text, (size_t)st.st_size);
        if (n < 0) {
            free(text);
            text = NULL;
        } else {
            text[n] = '\0';
        }
    } else if (!text) {
        errno = EINVAL;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return text;
}

/* A name a journal may give: an entry of the folder, nothing that
 * climbs out of it. */
static int is_plain_name(const char *s, size_t len)
{
    return len > 0 && !memchr(s, '/', len) && !(len == 1 && s[0] == '.') && !(len == 2 && strncmp(s, "..", 2) == 0);
}

/* NAME or SUB/NAME. */
static int is_target(const char *s)
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return is_plain_name(s, strlen(s));
    return is_plain_name(s, (size_t)(slash - s)) && is_plain_name(slash + 1, strlen(slash + 1));
}

/* A journal we did not write (a bad target) is never finished, but its
 * temporary files, named as ours, are still removed. */
static int add_rename(struct parsed *p, char *rest)
{
    char *space = strchr(rest, ' ');
    if (!space)
        return -1;
    *space = '\0';
    if (strncmp(rest, JOURNAL_TEMP_PREFIX, strlen(JOURNAL_TEMP_PREFIX)) != 0 || !is_plain_name(rest, strlen(rest)))
        return -1;
    int target_ok = is_target(space + 1);
    p->damaged |= !target_ok;
    p->renames[p->nrenames++] = (struct journal_rename){rest, target_ok ? space + 1 : NULL};
    return 0;
}

/* A folder as journals name them: absolute and normalized, as realpath()
 * gives it, so that comparing names compares folders. */
static int is_real_path(const char *s)
{
    if (s[0] != '/' || (s[1] && s[strlen(s) - 1] == '/'))
        return 0;
    for (const char *c = s; (c = strchr(c, '/')); c++)
        if (c[1] == '/' || (c[1] == '.' && (c[2] == '/' || !c[2] || (c[2] == '.' && (c[3] == '/' || !c[3])))))
            return 0;
    return 1;
}

/* A folder entry; one that is not a real path damages the journal. */
static const char *folder_entry(struct parsed *p, const char *path)
{
    if (is_real_path(path))
        return path;
    p->damaged = 1;
    return NULL;
}

static int add_entry(struct parsed *p, char *line)
{
    const char *folder;
    if (strncmp(line, "run ", 4) == 0)
        p->run = line + 4;
    else if (strncmp(line, "primary ", 8) == 0)
        p->primary = line + 8; /* checked where it is used */
    else if (strncmp(line, "secondary ", 10) == 0 && (folder = folder_entry(p, line + 10)))
        p->secondaries[p->nsecondaries++] = folder;
    else if (strncmp(line, "created ", 8) == 0 && (folder = folder_entry(p, line + 8)))
        p->created[p->ncreated++] = folder;
    else if (strncmp(line, "secondary ", 10) == 0 || strncmp(line, "created ", 8) == 0)
        return 0; /* damaged: kept out */
    else if (strncmp(line, "mkdir ", 6) == 0 && is_plain_name(line + 6, strlen(line + 6)))
        p->subfolders[p->nsubfolders++] = line + 6;
    else if (strncmp(line, "rename ", 7) == 0)
        return add_rename(p, line + 7);
    else if (strcmp(line, "end") == 0)
        p->whole = 1;
    else
        return -1;
    return 0;
}

/* Splits the journal into its entries; stops at the first line that is
 * not one (what came before is kept: it is undone). */
static int parse(struct parsed *p)
{
    size_t lines = 1;
    for (const char *c = p->text; *c; c++)
        lines += *c == '\n';
    p->secondaries = calloc(lines, sizeof *p->secondaries);
    p->created = calloc(lines, sizeof *p->created);
    p->subfolders = calloc(lines, sizeof *p->subfolders);
    p->renames = calloc(lines, sizeof *p->renames);
    if (!p->secondaries || !p->created || !p->subfolders || !p->renames)
        return -1;
    char *line = p->text;
    for (size_t i = 0; *line; i++) {
        char *end = strchr(line, '\n');
        if (!end)
            break; /* an unfinished last line is no entry */
        *end = '\0';
        if (i == 0 ? strcmp(line, JOURNAL_HEADER) != 0 : add_entry(p, line) != 0)
            break;
        line = end + 1;
    }
    return 0;
}

static void free_parsed(struct parsed *p)
{
    free(p->text);
    free(p->secondaries);
    free(p->created);
    free(p->subfolders);
    free(p->renames);
}

/* Reads the folder's journal. 1: read; 0: there is none; -1: error. */
static int load(int dirfd, struct parsed *p)
{
    memset(p, 0, sizeof *p);
    if (!(p->text = read_own_file(dirfd, JOURNAL_NAME)))
        return errno == ENOENT ? 0 : -1;
    if (parse(p) != 0) {
        errno = ENOMEM;
        return -1;
    }
    return 1;
}

/* Whether the marker in the folder `dirfd` names run `run`. */
static int marker_names(int dirfd, const char *run)
{
    char *text = read_own_file(dirfd, JOURNAL_MARKER);
    int same = run && text && strlen(text) == JOURNAL_ID_LEN + 1 && strncmp(text, run, JOURNAL_ID_LEN) == 0;
    free(text);
    return same;
}

static int fail(char *error, size_t size, const char *what, const char *folder, const char *name)
{
    snprintf(error, size, "cannot %s %s/%s, left by an interrupted run: %s", what, folder, name, strerror(errno));
    return -1;
}

/* Puts one temporary file of a committed run in place, making its
 * drop-in folder first if it is missing (and only then: a folder a user
 * removed since is not made again for nothing). A drop-in folder that is
 * a symbolic link is not followed. */
static int finish_rename(int dirfd, const struct journal_rename *r)
{
    struct stat st;
    if (fstatat(dirfd, r->temp, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1; /* renamed before the kill */
    const char *slash = strchr(r->target, '/');
    if (slash) {
        char sub[256];
        snprintf(sub, sizeof sub, "%.*s", (int)(slash - r->target), r->target);
        if (fstatat(dirfd, sub, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return -1;
        }
        if (mkdirat(dirfd, sub, 0755) != 0 && errno != EEXIST)
            return -1;
    }
    return renameat(dirfd, r->temp, dirfd, r->target);
}

/* Whether `path` is `folder` or a folder above it: the only folders a
 * run can have made for it, and so the only ones an undo removes. */
static int is_self_or_above(const char *path, const char *folder)
{
    size_t len = strlen(path);
    return strncmp(path, folder, len) == 0 && (folder[len] == '\0' || folder[len] == '/');
}

/* Finishes (committed) or undoes one folder's part of a run, then
 * removes its journal, and after an undo the folders the run made. */
static int settle(int dirfd, const char *folder, const struct parsed *p, int committed, char *error, size_t size)
{
    for (size_t i = 0; i < p->nrenames; i++) {
        const struct journal_rename *r = &p->renames[i];
        int failed = committed ? finish_rename(dirfd, r) : unlinkat(dirfd, r->temp, 0);
        if (failed && errno != ENOENT)
            return fail(error, size, committed ? "finish writing" : "remove", folder,
                        committed ? r->target : r->temp);
    }
    if (unlinkat(dirfd, JOURNAL_NAME, 0) != 0 && errno != ENOENT)
        return fail(error, size, "remove", folder, JOURNAL_NAME);
    for (size_t i = p->nsubfolders; !committed && i-- > 0;)
        unlinkat(dirfd, p->subfolders[i], AT_REMOVEDIR); /* only where the undo left it empty */
    for (size_t i = p->ncreated; !committed && i-- > 0;)
        if (is_self_or_above(p->created[i], folder))
            rmdir(p->created[i]);
    return 0;
}

/* Settles a whole run from its primary `fd` (locked), the other folders
 * first: their journals may only go while the primary's still tells
 * how the run ended. */
static int settle_from_primary(int fd, const char *path, const struct parsed *p, char *error, size_t size)
{
    int committed = p->whole && !p->damaged && marker_names(fd, p->run);
    struct stat self;
    if (fstat(fd, &self) != 0)
        return fail(error, size, "read", path, "");
    for (size_t i = 0; p->run && i < p->nsecondaries; i++) {
        struct stat st;
        if (stat(p->secondaries[i], &st) == 0 && st.st_dev == self.st_dev && st.st_ino == self.st_ino)
            continue; /* the primary itself: a journal no run of ours wrote */
        int other = folder_lock_path(p->secondaries[i], NAMED_FOLDER_WAIT_SECONDS);
        if (other < 0) {
            if (errno == ENOENT)
                continue; /* removed since: nothing of the run is left there */
            snprintf(error, size, "cannot lock %s to settle an interrupted run: %s", p->secondaries[i],
                     strerror(errno));
            return -1;
        }
        struct parsed s;
        int found = load(other, &s), result = 0;
        if (found < 0)
            result = fail(error, size, "read", p->secondaries[i], JOURNAL_NAME);
        else if (found && s.run && strcmp(s.run, p->run) == 0)
            result = settle(other, p->secondaries[i], &s, committed && !s.damaged, error, size);
        free_parsed(&s);
        close(other);
        if (result != 0)
            return -1;
    }
    if (settle(fd, path, p, committed, error, size) != 0)
        return -1;
    unlinkat(fd, JOURNAL_MARKER, 0);
    return 0;
}

/* Locks the folder at `path` (waiting as folder_lock_path does) and
 * reads its journal. 1: read (*fd holds the lock); 0: nothing to settle
 * there (nothing held); -1: `error`. */
static int lock_and_load(const char *path, int wait, int *fd, struct parsed *p, char *error, size_t size)
{
    memset(p, 0, sizeof *p);
    *fd = folder_lock_path(path, wait);
    if (*fd < 0)
        return errno == ENOENT ? 0 : fail(error, size, "lock", path, "");
    int found = load(*fd, p);
    if (found > 0)
        return 1;
    int saved = errno;
    free_parsed(p);
    close(*fd);
    errno = saved;
    return found < 0 ? fail(error, size, "read", path, JOURNAL_NAME) : 0;
}

static void unlock_and_free(int fd, struct parsed *p)
{
    free_parsed(p);
    close(fd);
}

/* A folder whose primary has no journal of its run any more (the
 * primary was removed): settled alone, committed only if a marker says
 * so. */
static int settle_orphan(const char *path, const char *primary, const char *run, char *error, size_t size)
{
    int fd;
    struct parsed p;
    int found = lock_and_load(path, -1, &fd, &p, error, size), result = 0;
    if (found <= 0)
        return found;
    if (p.run && strcmp(p.run, run) == 0) {
        int pfd = open(primary, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int committed = pfd >= 0 && p.whole && !p.damaged && marker_names(pfd, run);
        if (pfd >= 0)
            close(pfd);
        result = settle(fd, path, &p, committed, error, size);
    }
    unlock_and_free(fd, &p);
    return result;
}

/* For a secondary folder `path`: the run `run` is settled from its
 * primary when the primary still has its journal. */
static int settle_via_primary(const char *path, const char *primary, const char *run, char *error, size_t size)
{
    int fd;
    struct parsed p;
    int found = lock_and_load(primary, NAMED_FOLDER_WAIT_SECONDS, &fd, &p, error, size);
    if (found < 0)
        return -1;
    if (found) {
        int ours = !p.primary && p.run && strcmp(p.run, run) == 0;
        int result = ours ? settle_from_primary(fd, primary, &p, error, size) : 0;
        unlock_and_free(fd, &p);
        if (ours)
            return result;
    }
    return settle_orphan(path, primary, run, error, size);
}

int journal_recover_run(const char *path, char *error, size_t size)
{
    int fd;
    struct parsed p;
    int found = lock_and_load(path, -1, &fd, &p, error, size);
    if (found <= 0)
        return found;
    if (!p.primary || !is_real_path(p.primary)) {
        /* its own primary, or a journal no run of ours wrote (undone) */
        int result = p.primary ? settle(fd, path, &p, 0, error, size) : settle_from_primary(fd, path, &p, error, size);
        unlock_and_free(fd, &p);
        return result;
    }
    /* a secondary: the run is settled from its primary, locked first, as
     * every run locks; this folder is let go meanwhile */
    char *primary = strdup(p.primary), *run = p.run ? strdup(p.run) : NULL;
    unlock_and_free(fd, &p);
    int result = 0;
    if (!primary || !run) {
        errno = ENOMEM;
        result = fail(error, size, "read", path, JOURNAL_NAME);
    } else {
        result = settle_via_primary(path, primary, run, error, size);
    }
    free(primary);
    free(run);
    return result;
}
