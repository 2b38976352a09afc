#ifndef UNITFORGE_VALIDATE_H
#define UNITFORGE_VALIDATE_H

#include <lauxlib.h>

/* Collected problems of a run: every one is reported, not just the
 * first. */
struct problems {
    int list; /* stack index of the array of messages */
    int count;
};

/* Pushes the array that collects the messages. */
void problems_init(lua_State *L, struct problems *p);
/* Adds a line; the format is lua_pushfstring's. */
void problems_add(lua_State *L, struct problems *p, const char *fmt, ...);
/* Raises one failure listing every problem, if there are any; otherwise
 * pops the array. */
void problems_raise(lua_State *L, struct problems *p);

/* Checks the user's raw service table at `raw` (unknown keys) and its
 * resolved config at `cfg` (types, formats, version gates), adding one
 * line per problem, each starting with `prefix` ("deploy.lua: "). */
void validate_service(lua_State *L, int raw, int cfg, const char *prefix, struct problems *p);

#endif
