#include "output.h"

#include "cli.h"
#include "failure.h"
#include "file_io.h"
#include "unit_value.h"
#include "problems.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void check_unit(lua_State *L, int unit, int seen, struct problems *p, const char *config)
{
    lua_getfield(L, unit, "name");
    lua_getfield(L, unit, "dir");
    lua_getfield(L, unit, "text");
    lua_getfield(L, unit, "service");
    const char *name = lua_tostring(L, -4), *dir = lua_tostring(L, -3), *service = lua_tostring(L, -1);
    size_t len;
    const char *text = lua_tolstring(L, -2, &len);
    const char *problem;
    int line;
    if (!name || !dir || !text) {
        problems_add(L, p, "%s: a unit needs a name, a folder and a text", config);
    } else if ((problem = unit_name_problem(name))) {
        problems_add(L, p, "%s: unit name '%s' %s", config, name, problem);
    } else if ((problem = unit_value_check_text(text, len, &line))) {
        problems_add(L, p, "%s: unit %s, line %d: %s", config, name, line, problem);
    } else {
        const char *path = lua_pushfstring(L, "%s/%s", dir, name);
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

static void emit_unit(lua_State *L, int unit, const struct options *opts)
{
    static const char *const verbs[] = {"unchanged", "created", "updated"};
    static const char *const would[] = {"unchanged", "would create", "would update"};
    lua_getfield(L, unit, "dir");
    lua_getfield(L, unit, "name");
    lua_getfield(L, unit, "text");
    const char *dir = lua_tostring(L, -3), *name = lua_tostring(L, -2);
    size_t len;
    const char *text = lua_tolstring(L, -1, &len);
    const char *path = lua_pushfstring(L, "%s/%s", dir, name);
    enum change change = compare_with_disk(path, text, len);
    if (change != UNCHANGED && !opts->dry_run) {
        /* a drop-in (UNIT.d/NAME.conf) goes into its own folder */
        const char *slash = strrchr(path, '/');
        const char *folder = lua_pushlstring(L, path, (size_t)(slash - path));
        if (file_make_dirs(folder) != 0)
            failure_raise(L, EXIT_IO, "cannot create folder %s: %s", folder, strerror(errno));
        if (file_write_atomic(folder, slash + 1, text, len) != 0)
            failure_raise(L, EXIT_IO, "cannot write %s: %s", path, strerror(errno));
        lua_pop(L, 1);
    }
    printf("%s %s\n", (opts->dry_run ? would : verbs)[change], path);
    lua_pop(L, 4);
}

void output_emit(lua_State *L, int units, const struct options *opts)
{
    units = lua_absindex(L, units);
    if (opts->to_stdout) {
        print_units(L, units);
        return;
    }
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, units); i <= n; i++) {
        lua_rawgeti(L, units, i);
        emit_unit(L, lua_gettop(L), opts);
        lua_pop(L, 1);
    }
}
