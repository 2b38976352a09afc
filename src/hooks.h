#ifndef UNITFORGE_HOOKS_H
#define UNITFORGE_HOOKS_H

#include <lua.h>

/* Lua post-processing (README: Filters and hooks). Each user
 * function runs through the one protected call (failure_call_user); an
 * error names the hook and the user's file:line. Hooks get `view`, the
 * read-only view of the resolved config at `cfg`. */

/* hooks.after_resolve(c): the team's own validation rules. */
void hooks_after_resolve(lua_State *L, int cfg, int view);

/* filters, then hooks.after_render(units, c), over the units of one
 * service: the entries first..#units of the array at `units`. What they
 * return replaces those entries; output_check() checks it all later. */
void hooks_post_process(lua_State *L, int cfg, int view, int units, lua_Integer first);

#endif
