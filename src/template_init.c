#include "template_init.h"

#include "embedded.h"
#include "failure.h"
#include "file_io.h"
#include "render.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void init_one(lua_State *L, const char *dir, const char *name, int force)
{
    const struct embedded_file *builtin = embedded_find(embedded_templates, name);
    const char *path = lua_pushfstring(L, "%s/%s", dir, name);
    size_t len;
    char *current = file_read(path, &len);
    const char *verb = "created";
    if (current) {
        int same = len == builtin->len && memcmp(current, builtin->data, len) == 0;
        free(current);
        if (same || !force) {
            printf("%s %s%s\n", same ? "unchanged" : "kept", path,
                   same ? "" : " (edited; --force overwrites it)");
            lua_pop(L, 1);
            return;
        }
        verb = "updated";
    }
    if (file_make_dirs(dir) != 0)
        failure_raise(L, EXIT_IO, "cannot create folder %s: %s", dir, strerror(errno));
    if (file_write_atomic(dir, name, builtin->data, builtin->len) != 0)
        failure_raise(L, EXIT_IO, "cannot write %s: %s", path, strerror(errno));
    printf("%s %s\n", verb, path);
    lua_pop(L, 1);
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
            for (const char *const *name = render_template_names; *name; name++)
                init_one(L, dir, *name, force);
            lua_pushboolean(L, 1);
            lua_setfield(L, -5, dir);
        }
        lua_pop(L, dir ? 3 : 2);
    }
    lua_pop(L, 1);
}
