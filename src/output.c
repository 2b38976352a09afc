#include "output.h"

#include "cli.h"
#include "failure.h"
#include "commit.h"
#include "file_io.h"
#include "journal.h"
#include "path_rules.h"
#include "unit_name.h"
#include "unit_record.h"
#include "unit_value.h"
#include "problems.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A drop-in, UNIT.d/FILE.conf, is the one name with a folder in it. */
static const char *drop_in_problem(const char *name, const char *slash)
{
    char unit[UNIT_NAME_MAX + 1];
    size_t len = (size_t)(slash - name);
    if (len < 3 || len > UNIT_NAME_MAX || memcmp(slash - 2, ".d", 2) != 0)
        return "has a '/' but is not a drop-in (UNIT.d/NAME.conf)";
    memcpy(unit, name, len - 2);
    unit[len - 2] = '\0';
    const char *file = slash + 1;
    size_t file_len = strlen(file);
    if (file_len <= 5 || strcmp(file + file_len - 5, ".conf") != 0 || strchr(file, '/') || file[0] == '.')
        return "is a drop-in whose file is not NAME.conf";
    if (file_len > UNIT_NAME_MAX)
        return "is a drop-in whose file name is longer than 255 bytes";
    for (const char *p = file; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *p))
            return "is a drop-in whose file name has characters other than letters, digits and \"-_.\"";
    return unit_name_problem(unit, UNIT_NAME_TEMPLATE_OK);
}

/* A unit file's name: a unit (a template too), or a drop-in of one. */
static const char *file_name_problem(const char *name)
{
    const char *slash = strchr(name, '/');
    return slash ? drop_in_problem(name, slash) : unit_name_problem(name, UNIT_NAME_TEMPLATE_OK);
}

/* dir/name with two spellings of one path folded into one (path_fold). */
static const char *push_normal_path(lua_State *L, const char *dir, const char *name)
{
    const char *joined = lua_pushfstring(L, "%s/%s", dir, name);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, strlen(joined) + 2);
    luaL_pushresultsize(&b, path_fold(joined, out));
    lua_remove(L, -2);
    return lua_tostring(L, -1);
}

static void check_unit(lua_State *L, int units, lua_Integer i, int seen, struct problems *p, const char *config)
{
    size_t len, name_len = 0;
    const char *name = unit_record_field(L, units, i, UNIT_NAME, &name_len);
    const char *dir = unit_record_field(L, units, i, UNIT_DIR, NULL);
    const char *text = unit_record_field(L, units, i, UNIT_TEXT, &len);
    const char *service = unit_record_field(L, units, i, UNIT_SERVICE, NULL);
    const char *problem;
    int line;
    if (!name || !dir || !text) {
        problems_add(L, p, "%s: a unit needs a name, a folder and a text", config);
    } else if (strlen(name) != name_len) {
        problems_add(L, p, "%s: unit name '%s' contains a NUL byte", config, name);
    } else if ((problem = file_name_problem(name))) {
        problems_add(L, p, "%s: unit name '%s' %s", config, name, problem);
    } else if ((problem = unit_value_check_text(text, len, &line))) {
        problems_add(L, p, "%s: unit %s, line %d: %s", config, name, line, problem);
    } else {
        const char *path = push_normal_path(L, dir, name);
        if (lua_getfield(L, seen, path) == LUA_TSTRING)
            problems_add(L, p, "%s: services '%s' and '%s' both write %s", config,
                        lua_tostring(L, -1), service ? service : "?", path);
        lua_pop(L, 1);
        lua_pushstring(L, service ? service : "?");
        lua_setfield(L, seen, path);
        lua_pop(L, 1);
    }
    lua_pop(L, 4);
}

void output_check(lua_State *L, int units, const char *config_path)
{
    units = lua_absindex(L, units);
    lua_newtable(L); /* path -> service that writes it */
    int seen = lua_gettop(L);
    struct problems problems;
    problems_init(L, &problems);
    for (lua_Integer i = 0, n = unit_record_count(L, units); i < n; i++)
        check_unit(L, units, i, seen, &problems, config_path);
    problems_raise(L, &problems);
    lua_pop(L, 1);
}

static void print_units(lua_State *L, int units)
{
    lua_Integer n = unit_record_count(L, units);
    for (lua_Integer i = 0; i < n; i++) {
        const char *name = unit_record_field(L, units, i, UNIT_NAME, NULL);
        size_t len;
        const char *text = unit_record_field(L, units, i, UNIT_TEXT, &len);
        /* several units read like `systemctl cat`; one unit is just itself */
        if (n > 1)
            printf("%s# %s\n", i > 0 ? "\n" : "", name);
        fwrite(text, 1, len, stdout);
        lua_pop(L, 2);
    }
}

static const char *verb(enum file_comparison state, int dry_run)
{
    switch (state) {
    case FILE_SAME:
        return "unchanged";
    case FILE_ABSENT:
        return dry_run ? "would create" : "created";
    default:
        return dry_run ? "would update" : "updated";
    }
}

/* Fills change `c` from unit `i`: a drop-in (UNIT.d/NAME.conf) keeps its
 * folder in its name, and is written with the folder's units. The units
 * keep every string alive. */
static void describe_change(lua_State *L, int units, lua_Integer i, struct file_change *c)
{
    c->folder = unit_record_field(L, units, i, UNIT_DIR, NULL);
    c->name = unit_record_field(L, units, i, UNIT_NAME, NULL);
    c->data = unit_record_field(L, units, i, UNIT_TEXT, &c->len);
    c->mode = 0;
    lua_pop(L, 3);
}

static void report(const struct file_change *changes, lua_Integer n, int dry_run)
{
    for (lua_Integer i = 0; i < n; i++)
        printf("%s %s/%s\n", verb(changes[i].state, dry_run), changes[i].folder, changes[i].name);
}

/* --dry-run changes nothing, so it settles no interrupted run: it says
 * so when it sees one, once per folder. `seen` is a table of folders. */
static void note_interrupted_run(lua_State *L, int seen, const char *folder)
{
    if (lua_getfield(L, seen, folder) != LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, seen, folder);
    struct stat st;
    if (stat(lua_pushfstring(L, "%s/" JOURNAL_NAME, folder), &st) == 0)
        fprintf(stderr, "unitforge: %s holds what an interrupted run left; the next run that writes there finishes "
                        "or undoes it first, so what would change may differ\n", folder);
    lua_pop(L, 1);
}

/* --dry-run: compares without locking or creating anything. */
static void compare_only(lua_State *L, struct file_change *changes, lua_Integer n)
{
    lua_newtable(L);
    int seen = lua_gettop(L);
    for (lua_Integer i = 0; i < n; i++) {
        struct file_change *c = &changes[i];
        note_interrupted_run(L, seen, c->folder);
        const char *path = lua_pushfstring(L, "%s/%s", c->folder, c->name);
        c->state = file_compare(AT_FDCWD, path, c->data, c->len);
        if (c->state == FILE_UNREADABLE)
            failure_raise(L, EXIT_IO, "cannot read %s: %s", path, strerror(errno));
        if (c->state == FILE_IN_THE_WAY)
            failure_raise(L, EXIT_IO, "cannot write %s: it is not a regular file (a folder, a FIFO, a device, "
                                      "a masked unit's link)", path);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* Locks the folders, compares and writes in C alone, so no Lua error can
 * leave the folders locked or the run half-committed. */
static void write_changes(lua_State *L, struct file_change *changes, lua_Integer n)
{
    struct commit commit;
    char error[8192];
    int result = commit_begin(&commit, changes, (size_t)n, error, sizeof error);
    if (result == 0)
        result = commit_compare(&commit, changes, (size_t)n, error, sizeof error);
    if (result == 0)
        result = commit_write(&commit, changes, (size_t)n, error, sizeof error);
    commit_end(&commit, result != 0);
    if (result != 0)
        failure_raise(L, result == COMMIT_CONFLICT ? EXIT_INVALID_CONFIG : EXIT_IO, "%s", error);
}

void output_emit(lua_State *L, int units, const struct options *opts)
{
    units = lua_absindex(L, units);
    if (opts->to_stdout) {
        print_units(L, units);
        return;
    }
    lua_Integer n = unit_record_count(L, units);
    struct file_change *changes = lua_newuserdatauv(L, sizeof *changes * (size_t)(n ? n : 1), 0);
    for (lua_Integer i = 0; i < n; i++)
        describe_change(L, units, i, &changes[i]);
    if (opts->dry_run)
        compare_only(L, changes, n);
    else
        write_changes(L, changes, n);
    report(changes, n, opts->dry_run);
    lua_pop(L, 1);
}
