#include "shared_paths.h"

#include "keys.h"
#include "path_rules.h"

#include <lauxlib.h>
#include <string.h>

static const struct shared_path {
    const char *key;
    const char *path; /* the format of the path, from the key's value */
    const char *what;
    const char *why;
} shared_paths[] = {
    {"runtime_directory", "/run/%s", "the runtime directory", "systemd removes it when either service stops"},
    {"flags_dir", "%s/restart.flag", "the restart flag file", "touching it restarts both"},
};

/* Pushes the path of `rule` for the service at `cfg`, in one spelling. */
static const char *push_path(lua_State *L, const struct shared_path *rule, int cfg)
{
    lua_getfield(L, cfg, rule->key);
    const char *path = lua_pushfstring(L, rule->path, lua_tostring(L, -1));
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, strlen(path) + 2);
    luaL_pushresultsize(&b, path_fold(path, out));
    lua_replace(L, -3);
    lua_pop(L, 1);
    return lua_tostring(L, -1);
}

void shared_paths_check(lua_State *L, int seen, int cfg, lua_Integer i, const char *prefix, struct problems *p)
{
    int named = 0; /* the service's name for the messages of later ones, once pushed */
    for (size_t r = 0; r < sizeof shared_paths / sizeof shared_paths[0]; r++) {
        const struct shared_path *rule = &shared_paths[r];
        if (!keys_applies(L, keys_find(rule->key), cfg))
            continue;
        if (!named) {
            lua_getfield(L, cfg, "service_name");
            lua_pushfstring(L, "services[%d] (%s)", (int)i, lua_tostring(L, -1));
            lua_remove(L, -2);
            named = lua_gettop(L);
        }
        const char *path = push_path(L, rule, cfg);
        if (lua_getfield(L, seen, path) == LUA_TSTRING) {
            problems_add(L, p, "%s%s: %s has %s %s too; %s: give each service its own %s", prefix, rule->key,
                         lua_tostring(L, -1), rule->what, path, rule->why, rule->key);
            lua_pop(L, 1);
        } else {
            lua_pop(L, 1);
            lua_pushvalue(L, named);
            lua_setfield(L, seen, path);
        }
        lua_pop(L, 1); /* path */
    }
    if (named)
        lua_pop(L, 1);
}
