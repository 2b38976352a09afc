#include "output.h"

#include "cli.h"
#include "failure.h"
#include "commit.h"
#include "file_io.h"
#include "unit_value.h"
#include "problems.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* systemd's UNIT_NAME_MAX */
#define UNIT_NAME_MAX 255

static const char *const unit_suffixes[] = {
    ".service", ".socket", ".device", ".mount", ".automount", ".swap", ".target",
    ".path", ".timer", ".slice", ".scope", NULL,
};

static const char *unit_name_problem(const char *name);

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
    for (const char *p = file; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *p))
            return "is a drop-in whose file name has characters other than letters, digits and \"-_.\"";
    return unit_name_problem(unit);
}

/* The rules of systemd's unit_name_is_valid() for plain and instance
 * names: [A-Za-z0-9:_.\-@] (plus '\\' for escapes), one known suffix. */
static const char *unit_name_problem(const char *name)
{
    const char *slash = strchr(name, '/');
    if (slash)
        return drop_in_problem(name, slash);
    size_t len = strlen(name);
    if (len == 0 || len > UNIT_NAME_MAX)
        return "must be 1 to 255 characters";
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strstr(name, ".."))
        return "must not contain '..'";
    for (const char *p = name; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@", *p))
            return "may only contain letters, digits and \":-_.\\@\"";
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name)
        return "needs a name before a unit type suffix such as .service";
    for (const char *const *s = unit_suffixes; *s; s++)
        if (strcmp(dot, *s) == 0)
            return NULL;
    return "does not end in a systemd unit type (.service, .path, .timer, ...)";
}

/* dir/name with repeated slashes, "." components and a trailing slash
 * folded, so that two spellings of one path are seen as one. */
static const char *push_normal_path(lua_State *L, const char *dir, const char *name)
{
    const char *joined = lua_pushfstring(L, "%s/%s", dir, name);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (*joined == '/')
        luaL_addchar(&b, '/');
    int first = 1;
    for (const char *p = joined; *p;) {
        size_t len = strcspn(p, "/");
        if (len > 0 && !(len == 1 && *p == '.')) {
            if (!first)
                luaL_addchar(&b, '/');
            luaL_addlstring(&b, p, len);
            first = 0;
        }
        p += len + (p[len] == '/');
    }
    luaL_pushresult(&b);
    lua_remove(L, -2);
    return lua_tostring(L, -1);
}

static void check_unit(lua_State *L, int unit, int seen, struct problems *p, const char *config)
{
    lua_getfield(L, unit, "name");
    lua_getfield(L, unit, "dir");
    lua_getfield(L, unit, "text");
    lua_getfield(L, unit, "service");
    const char *name = lua_tostring(L, -4), *dir = lua_tostring(L, -3), *service = lua_tostring(L, -1);
    size_t len, name_len = 0;
    const char *text = lua_tolstring(L, -2, &len);
    const char *problem;
    int line;
    if (name)
        lua_tolstring(L, -4, &name_len);
    if (!name || !dir || !text) {
        problems_add(L, p, "%s: a unit needs a name, a folder and a text", config);
    } else if (strlen(name) != name_len) {
        problems_add(L, p, "%s: unit name '%s' contains a NUL byte", config, name);
    } else if ((problem = unit_name_problem(name))) {
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
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, units); i <= n; i++) {
        lua_rawgeti(L, units, i);
        check_unit(L, lua_gettop(L), seen, &problems, config_path);
        lua_pop(L, 1);
    }
    problems_raise(L, &problems);
    lua_pop(L, 1);
}

static void print_units(lua_State *L, int units)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, units);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, units, i);
        lua_getfield(L, -1, "name");
        lua_getfield(L, -2, "text");
        /* several units read like `systemctl cat`; one unit is just itself */
        if (n > 1)
            printf("%s# %s\n", i > 1 ? "\n" : "", lua_tostring(L, -2));
        fputs(lua_tostring(L, -1), stdout);
        lua_pop(L, 3);
    }
}

enum change { UNCHANGED, CREATED, UPDATED };

static enum change compare_with_disk(const char *path, const char *text, size_t len)
{
    size_t old_len;
    char *old = file_read(path, &old_len);
    if (!old)
        return CREATED;
    enum change c = old_len == len && memcmp(old, text, len) == 0 ? UNCHANGED : UPDATED;
    free(old);
    return c;
}

static const char *const change_verbs[] = {"unchanged", "created", "updated"};
static const char *const dry_run_verbs[] = {"unchanged", "would create", "would update"};

static const char *files_name_of(lua_State *L, int unit)
{
    lua_getfield(L, unit, "name");
    const char *name = lua_tostring(L, -1);
    lua_pop(L, 1); /* the unit keeps it alive */
    return name;
}

/* Every changed unit is written in one commit: all of them or none. The
 * change array lives in a userdata, so a failure cannot leak it. */
static void write_changes(lua_State *L, int units, const enum change *changes, lua_Integer n)
{
    struct file_change *files = lua_newuserdatauv(L, sizeof *files * (size_t)(n ? n : 1), 0);
    size_t count = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        if (changes[i - 1] == UNCHANGED)
            continue;
        lua_rawgeti(L, units, i);
        lua_getfield(L, -1, "path");
        lua_getfield(L, -2, "text");
        const char *path = lua_tostring(L, -2);
        const char *slash = strrchr(path, '/');
        /* a drop-in (UNIT.d/NAME.conf) goes into its own folder, which
         * must not lead elsewhere */
        lua_pushlstring(L, path, (size_t)(slash - path));
        struct stat st;
        if (strchr(files_name_of(L, -4), '/') && lstat(lua_tostring(L, -1), &st) == 0 && S_ISLNK(st.st_mode))
            failure_raise(L, EXIT_IO, "refusing to write into %s: it is a symbolic link; nothing was written",
                          lua_tostring(L, -1));
        lua_setfield(L, -4, "folder");
        lua_getfield(L, -3, "folder");
        files[count].folder = lua_tostring(L, -1);
        files[count].name = slash + 1;
        files[count].data = lua_tolstring(L, -2, &files[count].len);
        files[count].mode = 0;
        count++;
        lua_pop(L, 4); /* the unit table keeps the strings alive */
    }
    char error[512];
    if (commit_changes(files, count, error, sizeof error) != 0)
        failure_raise(L, EXIT_IO, "%s; nothing was written", error);
    lua_pop(L, 1);
}

void output_emit(lua_State *L, int units, const struct options *opts)
{
    units = lua_absindex(L, units);
    if (opts->to_stdout) {
        print_units(L, units);
        return;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, units);
    enum change *changes = lua_newuserdatauv(L, sizeof *changes * (size_t)(n ? n : 1), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, units, i);
        lua_getfield(L, -1, "dir");
        lua_getfield(L, -2, "name");
        lua_getfield(L, -3, "text");
        size_t len;
        const char *text = lua_tolstring(L, -1, &len);
        const char *path = lua_pushfstring(L, "%s/%s", lua_tostring(L, -3), lua_tostring(L, -2));
        changes[i - 1] = compare_with_disk(path, text, len);
        lua_setfield(L, -5, "path");
        lua_pop(L, 4);
    }
    if (!opts->dry_run)
        write_changes(L, units, changes, n);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, units, i);
        lua_getfield(L, -1, "path");
        printf("%s %s\n", (opts->dry_run ? dry_run_verbs : change_verbs)[changes[i - 1]], lua_tostring(L, -1));
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
}
