#include "verify.h"

#include "commit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ANALYZE "systemd-analyze"
#define SYSTEM_UNITS "/usr/lib/systemd/system"

static char *format(const char *fmt, const char *a, const char *b)
{
    size_t len = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, fmt, a, b);
    return s;
}

/* A path as one word of a /bin/sh command line. */
static char *shell_quote(const char *s)
{
    size_t len = 3;
    for (const char *p = s; *p; p++)
        len += *p == '\'' ? 4 : 1;
    char *q = malloc(len), *o = q;
    if (!q)
        return NULL;
    *o++ = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *s;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return q;
}

static int on_path(const char *program)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        char candidate[4096];
        if (snprintf(candidate, sizeof candidate, "%.*s/%s", (int)len, path, program) < (int)sizeof candidate &&
            access(candidate, X_OK) == 0)
            return 1;
        path += len + (path[len] == ':');
    }
    return 0;
}

/* Runs a shell command; returns its exit status and output (malloc'd). */
static int run(const char *command, char **output)
{
    FILE *p = popen(command, "r");
    size_t cap = 4096, used = 0;
    *output = malloc(cap);
    if (*output)
        (*output)[0] = '\0';
    if (!p || !*output) {
        if (p)
            pclose(p);
        return -1;
    }
    size_t n;
    while ((n = fread(*output + used, 1, cap - used - 1, p)) > 0) {
        used += n;
        if (used + 1 == cap) {
            char *bigger = realloc(*output, cap * 2);
            if (!bigger)
                break;
            *output = bigger;
            cap *= 2;
        }
    }
    (*output)[used] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The executable of an Exec*= line's value: prefixes skipped, quotes
 * removed. Returns a malloc'd absolute path, or NULL. */
static char *command_path(const char *value, size_t len)
{
    size_t i = strspn(value, "-@:+!|");
    char *path = malloc(len + 1);
    size_t n = 0;
    int quoted = 0;
    if (!path)
        return NULL;
    for (; i < len; i++) {
        char c = value[i];
        if (c == '"') {
            quoted = !quoted;
        } else if (c == '\\' && i + 1 < len) {
            path[n++] = value[++i];
        } else if (!quoted && (c == ' ' || c == '\t')) {
            break;
        } else {
            path[n++] = c;
        }
    }
    path[n] = '\0';
    if (path[0] != '/' || strstr(path, "/../")) {
        free(path);
        return NULL;
    }
    return path;
}

struct stubs {
    char **paths;
    size_t count, capacity;
};

static void add_stubs(struct stubs *stubs, const char *text, size_t len)
{
    for (const char *line = text; line < text + len;) {
        const char *end = memchr(line, '\n', (size_t)(text + len - line));
        if (!end)
            end = text + len;
        const char *eq = memchr(line, '=', (size_t)(end - line));
        if (eq && strncmp(line, "Exec", 4) == 0) {
            char *path = command_path(eq + 1, (size_t)(end - eq - 1));
            for (size_t i = 0; path && i < stubs->count; i++)
                if (strcmp(stubs->paths[i], path) == 0) {
                    free(path); /* ExecStart= and ExecStop= run one program */
                    path = NULL;
                }
            if (path && stubs->count == stubs->capacity) {
                size_t capacity = stubs->capacity ? stubs->capacity * 2 : 16;
                char **bigger = realloc(stubs->paths, capacity * sizeof *bigger);
                if (bigger) {
                    stubs->paths = bigger;
                    stubs->capacity = capacity;
                }
            }
            if (path && stubs->count < stubs->capacity)
                stubs->paths[stubs->count++] = path;
            else
                free(path);
        }
        line = end + 1;
    }
}

/* The folder and file name of a path below the root, split at the last '/'. */
static int install_files(const char *root, const struct verify_unit *units, size_t n, const struct stubs *stubs)
{
    static const char stub[] = "#!/bin/sh\n";
    size_t total = n + stubs->count;
    struct file_change *files = calloc(total ? total : 1, sizeof *files);
    char **paths = calloc(total ? total : 1, sizeof *paths);
    int result = files && paths ? 0 : -1;
    for (size_t i = 0; result == 0 && i < total; i++) {
        paths[i] = i < n ? format("%s/etc/systemd/system/%s", root, units[i].name)
                         : format("%s%s", root, stubs->paths[i - n]);
        if (!paths[i]) {
            result = -1;
            break;
        }
        char *slash = strrchr(paths[i], '/');
        *slash = '\0';
        files[i] = i < n ? (struct file_change){paths[i], slash + 1, units[i].text, units[i].len, 0, FILE_ABSENT}
                         : (struct file_change){paths[i], slash + 1, stub, sizeof stub - 1, 0755, FILE_ABSENT};
    }
    char error[512];
    if (result == 0 && commit_changes(files, total, error, sizeof error) != 0) {
        fprintf(stderr, "unitforge: verify: %s\n", error);
        result = -1;
    }
    for (size_t i = 0; paths && i < total; i++)
        free(paths[i]);
    free(paths);
    free(files);
    return result;
}

/* Strict verify of every unit (drop-ins ride along with their unit). */
static int run_verify(const char *root, const char *quoted_root, const struct verify_unit *units, size_t n)
{
    size_t len = 256 + strlen(quoted_root);
    for (size_t i = 0; i < n; i++)
        len += strlen(quoted_root) + strlen(units[i].name) + 32;
    char *command = malloc(len);
    if (!command)
        return -1;
    int used = snprintf(command, len, ANALYZE " verify --man=no --root=%s", quoted_root);
    for (size_t i = 0; i < n; i++)
        if (!strchr(units[i].name, '/'))
            used += snprintf(command + used, len - (size_t)used, " %s/etc/systemd/system/'%s'", quoted_root,
                             units[i].name);
    snprintf(command + used, len - (size_t)used, " 2>&1");
    char *output = NULL;
    int status = run(command, &output);
    free(command);
    int clean = status == 0 && output && output[0] == '\0';
    if (output && output[0]) {
        /* findings name files inside the throw-away root: show unit names */
        static const char units_dir[] = "/etc/systemd/system/";
        size_t prefix = strlen(root), root_len = prefix + strlen(units_dir);
        for (char *p = output; (p = strstr(p, root));) {
            if (strncmp(p + prefix, units_dir, strlen(units_dir)) == 0)
                memmove(p, p + root_len, strlen(p + root_len) + 1);
            else
                p += prefix;
        }
        fputs(output, stdout);
    }
    free(output);
    printf("systemd-analyze verify: %s\n", clean ? "ok" : "FAILED (strict: exit 0 and no output)");
    return clean ? 0 : 1;
}

/* systemd-analyze security's overall score for one unit, or -1. */
static double exposure_of(const char *quoted_root, const char *name, char level[32])
{
    char *command = format(ANALYZE " security --offline=yes %s/etc/systemd/system/'%s' 2>&1", quoted_root, name);
    char *output = NULL;
    if (command)
        run(command, &output);
    free(command);
    const char *line = output ? strstr(output, "Overall exposure level for ") : NULL;
    double score = -1;
    level[0] = '\0';
    if (line && (line = strchr(line, ':')) && sscanf(line + 1, "%lf %31s", &score, level) < 1)
        score = -1;
    free(output);
    return score;
}

static int is_service(const char *name)
{
    size_t len = strlen(name);
    return len > 8 && strcmp(name + len - 8, ".service") == 0 && !strchr(name, '/');
}

/* A throw-away root holding systemd's units, the units and stubs. */
struct root {
    char *path;
    char *quoted;
};

static int available(void)
{
    return on_path(ANALYZE) && access(SYSTEM_UNITS, R_OK) == 0;
}

static int root_prepare(struct root *root, const struct verify_unit *units, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    root->quoted = NULL;
    root->path = format("%s/unitforge-verify.XXXXXX", tmp && *tmp ? tmp : "/tmp", "");
    if (!root->path || !mkdtemp(root->path)) {
        fprintf(stderr, "unitforge: verify: cannot create a temporary folder: %s\n", strerror(errno));
        free(root->path);
        root->path = NULL;
        return -1;
    }
    root->quoted = shell_quote(root->path);
    struct stubs stubs = {0};
    for (size_t i = 0; i < n; i++)
        add_stubs(&stubs, units[i].text, units[i].len);
    char *copy = root->quoted ? format("mkdir -p %s/usr/lib/systemd && cp -a " SYSTEM_UNITS " %s/usr/lib/systemd/",
                                       root->quoted, root->quoted) : NULL;
    int result = copy && system(copy) == 0 && install_files(root->path, units, n, &stubs) == 0 ? 0 : -1;
    if (result != 0)
        fprintf(stderr, "unitforge: verify: cannot prepare the verification root in %s\n", root->path);
    for (size_t i = 0; i < stubs.count; i++)
        free(stubs.paths[i]);
    free(stubs.paths);
    free(copy);
    return result;
}

static void root_remove(struct root *root)
{
    char *cleanup = root->quoted ? format("rm -rf %s%s", root->quoted, "") : NULL;
    if (cleanup && system(cleanup) != 0)
        fprintf(stderr, "unitforge: verify: could not remove %s\n", root->path);
    free(cleanup);
    free(root->quoted);
    free(root->path);
}

int verify_units(const struct verify_unit *units, size_t n, double max_exposure)
{
    if (!available()) {
        fprintf(stderr, "unitforge: verify: " ANALYZE " or " SYSTEM_UNITS " not found (install systemd); "
                        "the units were generated and checked, not verified\n");
        return max_exposure >= 0 ? 1 : 0;
    }
    struct root root;
    int result = 3;
    if (root_prepare(&root, units, n) == 0) {
        result = run_verify(root.path, root.quoted, units, n);
        for (size_t i = 0; i < n; i++) {
            if (!is_service(units[i].name))
                continue;
            char level[32];
            double score = exposure_of(root.quoted, units[i].name, level);
            int above = max_exposure >= 0 && (score < 0 || score > max_exposure + 1e-9);
            if (score >= 0)
                printf("%s: exposure %.1f %s%s\n", units[i].name, score, level,
                       above ? " (above --max-exposure)" : "");
            else
                printf("%s: no exposure score from systemd-analyze security\n", units[i].name);
            result |= above;
        }
    }
    if (root.path)
        root_remove(&root);
    return result;
}

int verify_exposures(const struct verify_unit *units, size_t n, double *scores, char (*levels)[32])
{
    for (size_t i = 0; i < n; i++)
        scores[i] = -1;
    struct root root;
    if (!available() || root_prepare(&root, units, n) != 0) {
        if (available())
            root_remove(&root);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (is_service(units[i].name))
            scores[i] = exposure_of(root.quoted, units[i].name, levels[i]);
    root_remove(&root);
    return 0;
}
