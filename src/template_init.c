#include "template_init.h"

#include "commit.h"
#include "embedded.h"
#include "failure.h"
#include "render.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes the built-in templates into `dir`, keeping edited ones unless
 * `force`; all of them or none. */
static void init_folder(lua_State *L, const char *dir, int force)
{
    enum { COUNT = 8 };
    struct file_change files[COUNT] = {{0}};
    size_t n = 0;
    for (const char *const *name = render_template_names; *name && n < COUNT; name++, n++) {
        const struct embedded_file *builtin = embedded_find(embedded_templates, *name);
        files[n] = (struct file_change){dir, *name, builtin->data, builtin->len, 0, FILE_ABSENT};
    }
    struct commit commit;
    char error[8192];
    int result = commit_begin(&commit, files, n, error, sizeof error);
    if (result == 0)
        result = commit_compare(&commit, files, n, error, sizeof error);
    int kept[COUNT] = {0};
    for (size_t i = 0; result == 0 && i < n; i++)
        if (files[i].state == FILE_DIFFERENT && !force)
            kept[i] = 1, files[i].state = FILE_SAME;
    if (result == 0)
        result = commit_write(&commit, files, n, error, sizeof error);
    commit_end(&commit, result != 0);
    if (result != 0)
        failure_raise(L, EXIT_IO, "%s", error);
    for (size_t i = 0; i < n; i++) {
        const char *verb = kept[i] ? "kept" : files[i].state == FILE_SAME ? "unchanged"
                                   : files[i].state == FILE_ABSENT   ? "created" : "updated";
        printf("%s %s/%s%s\n", verb, dir, render_template_names[i], kept[i] ? " (edited; --force overwrites it)" : "");
    }
}

void template_init(lua_State *L, int configs, int force)
{
    configs = lua_absindex(L, configs);
    lua_newtable(L); /* folders already done: services may share one */
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, configs); i <= n; i++) {
        lua_rawgeti(L, configs, i);
        lua_getfield(L, -1, "templates_dir");
        const char *dir = lua_tostring(L, -1);
        if (dir && lua_getfield(L, -3, dir) == LUA_TNIL) {
            init_folder(L, dir, force);
            lua_pushboolean(L, 1);
            lua_setfield(L, -5, dir);
        }
        lua_pop(L, dir ? 3 : 2);
    }
    lua_pop(L, 1);
}
