#include "template_init.h"

#include "commit.h"
#include "embedded.h"
#include "failure.h"
#include "keys.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes `files` (each template of each folder), keeping edited ones
 * unless `force`: all of them or none, in one commit. `kept` receives
 * which were kept. Returns how many files are left once one folder
 * named two ways counts once. */
static size_t write_templates(lua_State *L, struct file_change *files, size_t n, int *kept, int force)
{
    struct commit commit;
    char error[8192];
    int result = commit_begin(&commit, files, n, error, sizeof error);
    if (result == 0)
        n = commit_merge_duplicates(&commit, files, n);
    if (result == 0)
        result = commit_compare(&commit, files, n, error, sizeof error);
    for (size_t i = 0; result == 0 && i < n; i++)
        if (files[i].state == FILE_DIFFERENT && !force)
            kept[i] = 1, files[i].state = FILE_SAME;
    if (result == 0)
        result = commit_write(&commit, files, n, error, sizeof error);
    commit_end(&commit, result != 0);
    if (result != 0)
        failure_raise(L, EXIT_IO, "%s", error);
    return n;
}

/* Pushes the distinct templates_dir folders of the configs, as a list. */
static void push_folders(lua_State *L, int configs)
{
    lua_newtable(L);
    int list = lua_gettop(L);
    lua_newtable(L); /* folder -> true: services may share one */
    int seen = lua_gettop(L);
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, configs); i <= n; i++) {
        lua_rawgeti(L, configs, i);
        if (lua_getfield(L, -1, "templates_dir") == LUA_TSTRING) {
            const char *dir = lua_tostring(L, -1);
            if (lua_getfield(L, seen, dir) == LUA_TNIL) {
                lua_pushboolean(L, 1);
                lua_setfield(L, seen, dir);
                lua_pushvalue(L, -2);
                lua_rawseti(L, list, (lua_Integer)lua_rawlen(L, list) + 1);
            }
        }
        lua_settop(L, seen);
    }
    lua_pop(L, 1);
}

void template_init(lua_State *L, int configs, int force)
{
    configs = lua_absindex(L, configs);
    push_folders(L, configs);
    int folders = lua_gettop(L);
    /* the templates of the units a service can be made of, in their order */
    keys_push_options(L);
    lua_getfield(L, -1, "units");
    lua_replace(L, -2);
    int kinds = lua_gettop(L);
    size_t templates = (size_t)lua_rawlen(L, kinds), nfolders = (size_t)lua_rawlen(L, folders);
    size_t n = nfolders * templates;
    struct file_change *files = lua_newuserdatauv(L, sizeof *files * (n ? n : 1), 0);
    int *kept = lua_newuserdatauv(L, sizeof *kept * (n ? n : 1), 0);
    for (size_t f = 0; f < nfolders; f++) {
        lua_rawgeti(L, folders, (lua_Integer)f + 1);
        const char *dir = lua_tostring(L, -1);
        lua_pop(L, 1); /* the list keeps it alive */
        for (size_t t = 0; t < templates; t++) {
            lua_rawgeti(L, kinds, (lua_Integer)t + 1);
            lua_getfield(L, -1, "template");
            const char *name = lua_tostring(L, -1);
            lua_pop(L, 2); /* the option table keeps it alive */
            const struct embedded_file *builtin = embedded_find(embedded_templates, name);
            files[f * templates + t] = (struct file_change){dir, name, builtin->data, builtin->len, 0, FILE_ABSENT};
            kept[f * templates + t] = 0;
        }
    }
    n = write_templates(L, files, n, kept, force);
    for (size_t i = 0; i < n; i++) {
        const char *verb = kept[i] ? "kept" : files[i].state == FILE_SAME ? "unchanged"
                                   : files[i].state == FILE_ABSENT   ? "created" : "updated";
        printf("%s %s/%s%s\n", verb, files[i].folder, files[i].name,
               kept[i] ? " (edited; --force overwrites it)" : "");
    }
    lua_pop(L, 4);
}
