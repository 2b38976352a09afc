/* The writing floor for bench/run.sh: writes the units of a saved
 * `unitforge --stdout` stream into DIR/lib/systemd/system the way an
 * atomic writer does at the least: the folder made once (mkdir -p), then
 * for each unit openat(dirfd, tmp, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC,
 * 0644), write, close, renameat to the final name. No fsync, since
 * unitforge does none (bench/run.sh checks with strace); with a third
 * argument "fsync", each file is fsynced before its close and the
 * folder once at the end, for a unitforge that syncs.
 *
 * The stream is the units joined by "\n", each one preceded by a
 * "# NAME\n" header line: "# a.service\n<text>\n# b.path\n<text>".
 * The stream is read whole before anything is written.
 *
 * Usage: write_floor DIR STREAM [fsync] */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what, const char *name) {
    fprintf(stderr, "write_floor: %s %s: %s\n", what, name, strerror(errno));
    exit(1);
}

static char *read_all(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open", path);
    struct stat st;
    if (fstat(fd, &st) != 0) die("stat", path);
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) die("malloc", path);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0) { if (errno == EINTR) continue; die("read", path); }
        if (n == 0) break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *len = got;
    return buf;
}

static void mkdir_p(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) die("mkdir", path);
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) die("mkdir", path);
}

static int sync_files;

static void write_unit(int dirfd, const char *name, const char *text, size_t len) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, ".%s.tmp", name) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        die("name", name);
    }
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) die("openat", tmp);
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0) { if (errno == EINTR) continue; die("write", tmp); }
        text += n;
        len -= (size_t)n;
    }
    if (sync_files && fsync(fd) != 0) die("fsync", tmp);
    if (close(fd) != 0) die("close", tmp);
    if (renameat(dirfd, tmp, dirfd, name) != 0) die("renameat", name);
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "fsync") != 0)) {
        fprintf(stderr, "usage: write_floor DIR STREAM [fsync]\n");
        return 2;
    }
    sync_files = argc == 4;
    size_t len;
    char *s = read_all(argv[2], &len);
    char *end = s + len;

    const char *suffix = "/lib/systemd/system";
    char *dir = malloc(strlen(argv[1]) + strlen(suffix) + 1);
    if (!dir) die("malloc", argv[1]);
    strcpy(dir, argv[1]);
    strcat(dir, suffix);
    mkdir_p(dir);
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) die("open", dir);

    char *p = s;
    while (p < end) {
        if (end - p < 2 || p[0] != '#' || p[1] != ' ') {
            fprintf(stderr, "write_floor: no \"# NAME\" header at byte %zu\n", (size_t)(p - s));
            return 1;
        }
        char *name = p + 2;
        char *nl = memchr(name, '\n', (size_t)(end - name));
        if (!nl) { fprintf(stderr, "write_floor: header without newline\n"); return 1; }
        *nl = '\0';
        char *text = nl + 1;
        /* The unit ends before the blank line that precedes the next
         * header, or at the end of the stream. */
        char *sep = memmem(text, (size_t)(end - text), "\n\n# ", 4);
        char *next = sep ? sep + 2 : end;
        size_t tlen = sep ? (size_t)(sep + 1 - text) : (size_t)(end - text);
        write_unit(dirfd, name, text, tlen);
        p = next;
    }
    if (sync_files && fsync(dirfd) != 0) die("fsync", dir);
    close(dirfd);
    return 0;
}
