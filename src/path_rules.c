#include "path_rules.h"

#include <string.h>

const char *path_length_problem(const char *path)
{
    if (strlen(path) > PATH_TOTAL_MAX)
        return "the path is longer than systemd accepts (4095 bytes)";
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, "/");
        if (len > PATH_NAME_MAX)
            return "a name in the path is longer than systemd accepts (255 bytes)";
        p += len + (p[len] == '/');
    }
    return NULL;
}

/* Whether a component of `path` is exactly `name`. */
static int has_component(const char *path, const char *name)
{
    size_t name_len = strlen(name);
    for (const char *p = path;;) {
        size_t len = strcspn(p, "/");
        if (len == name_len && strncmp(p, name, len) == 0)
            return 1;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

const char *path_absolute_problem(const char *path)
{
    if (path[0] != '/')
        return "expected an absolute path (starting with /)";
    if (has_component(path, ".."))
        return "a path must not contain '..'";
    return path_length_problem(path);
}

const char *path_relative_problem(const char *path)
{
    if (!*path)
        return "must not be empty";
    if (path[0] == '/')
        return "expected a relative path (no leading /)";
    if (has_component(path, ".."))
        return "a path must not contain '..'";
    if (has_component(path, ".") || has_component(path, ""))
        return "expected a normalized path: no '.' parts, no '//', no trailing '/'";
    return path_length_problem(path);
}

const char *path_directory_name_problem(const char *path)
{
    const char *problem = path_relative_problem(path);
    if (problem)
        return problem;
    if (strncmp(path, "private", 7) == 0 && (path[7] == '\0' || path[7] == '/'))
        return "systemd keeps 'private' for DynamicUser= and ignores a directory named so";
    return NULL;
}

size_t path_fold(const char *path, char *out)
{
    size_t n = 0;
    if (*path == '/')
        out[n++] = '/';
    int first = 1;
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, "/");
        if (len > 0 && !(len == 1 && *p == '.')) {
            if (!first)
                out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
            first = 0;
        }
        p += len + (p[len] == '/');
    }
    out[n] = '\0';
    return n;
}
