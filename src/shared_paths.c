#include "shared_paths.h"

#include "keys.h"

#include <lauxlib.h>

static const struct shared_path {
    const char *key;
    const char *path; /* the format of the path, from the key's value */
    const char *what;
    const char *why;
} shared_paths[] = {
    {"runtime_directory", "/run/%s", "the runtime directory", "systemd removes it when either service stops"},
    {"flags_dir", "%s/restart.flag", "the restart flag file", "touching it restarts both"},
};

void shared_paths_check(lua_State *L, int seen, int cfg, lua_Integer i, const char *prefix, struct problems *p)
{
    for (size_t r = 0; r < sizeof shared_paths / sizeof shared_paths[0]; r++) {
        const struct shared_path *rule = &shared_paths[r];
        if (!keys_applies(L, keys_find(rule->key), cfg))
            continue;
        lua_getfield(L, cfg, rule->key);
        const char *path = lua_pushfstring(L, rule->path, lua_tostring(L, -1));
        if (lua_getfield(L, seen, path) == LUA_TNUMBER) {
            problems_add(L, p, "%s%s: services[%d] has %s %s too; %s: give each service its own %s", prefix,
                         rule->key, (int)lua_tointeger(L, -1), rule->what, path, rule->why, rule->key);
            lua_pop(L, 1);
        } else {
            lua_pop(L, 1);
            lua_pushinteger(L, i);
            lua_setfield(L, seen, path);
        }
        lua_pop(L, 2); /* value, path */
    }
}
