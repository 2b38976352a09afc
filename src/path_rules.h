#ifndef UNITFORGE_PATH_RULES_H
#define UNITFORGE_PATH_RULES_H

#include <stddef.h>

/* The paths systemd takes, and drops with only a log line when they do
 * not fit (path_is_valid(), path_is_normalized() in systemd): refused
 * here instead, with the reason. */

#define PATH_NAME_MAX 255   /* one component */
#define PATH_TOTAL_MAX 4095 /* PATH_MAX, less its NUL */

/* Too long as a whole or in one component, or NULL. */
const char *path_length_problem(const char *path);

/* An absolute path as a directive takes it whole (WorkingDirectory=,
 * EnvironmentFile=, ReadWritePaths= ...), or NULL. */
const char *path_absolute_problem(const char *path);

/* A path below a base folder (a release name, a script): relative and
 * normalized, or NULL. */
const char *path_relative_problem(const char *path);

/* A RuntimeDirectory=-style name: relative, normalized, and not in
 * systemd's own "private" folder. (escape.c writes any character of it;
 * a ':' needs the version check of validate.c.) */
const char *path_directory_name_problem(const char *path);

/* Writes `path` into `out` (strlen(path) + 2 bytes) with repeated
 * slashes, "." components and a trailing slash folded, so that two
 * spellings of one path are one string; returns its length. ".." is
 * left alone: it may climb through a link. */
size_t path_fold(const char *path, char *out);

#endif
