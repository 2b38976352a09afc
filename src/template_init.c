#include "template_init.h"

#include "commit.h"
#include "embedded.h"
#include "failure.h"
#include "file_io.h"
#include "render.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum init_action { INIT_UNCHANGED, INIT_KEPT, INIT_CREATED, INIT_UPDATED };

static enum init_action decide(const char *path, const struct embedded_file *builtin, int force)
{
    size_t len;
    char *current = file_read(path, &len);
    if (!current)
        return INIT_CREATED;
    int same = len == builtin->len && memcmp(current, builtin->data, len) == 0;
    free(current);
    if (same)
        return INIT_UNCHANGED;
    return force ? INIT_UPDATED : INIT_KEPT;
}

static void init_folder(lua_State *L, const char *dir, int force)
{
    enum { COUNT = 8 };
    struct file_change files[COUNT] = {{0}};
    enum init_action actions[COUNT];
    size_t n = 0, count = 0;
    for (const char *const *name = render_template_names; *name && n < COUNT; name++, n++) {
        const struct embedded_file *builtin = embedded_find(embedded_templates, *name);
        const char *path = lua_pushfstring(L, "%s/%s", dir, *name);
        actions[n] = decide(path, builtin, force);
        lua_pop(L, 1);
        if (actions[n] == INIT_CREATED || actions[n] == INIT_UPDATED)
            files[count++] = (struct file_change){dir, *name, builtin->data, builtin->len, 0};
    }
    char error[512];
    if (commit_changes(files, count, error, sizeof error) != 0)
        failure_raise(L, EXIT_IO, "%s; nothing was written", error);
    static const char *const verbs[] = {"unchanged", "kept", "created", "updated"};
    for (size_t i = 0; i < n; i++)
        printf("%s %s/%s%s\n", verbs[actions[i]], dir, render_template_names[i],
               actions[i] == INIT_KEPT ? " (edited; --force overwrites it)" : "");
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
