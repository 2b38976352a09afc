#ifndef UNITFORGE_SHARED_PATHS_H
#define UNITFORGE_SHARED_PATHS_H

#include "problems.h"

#include <lua.h>

/* What two services of one run must not share, since what systemd does
 * for one then acts on the other: a runtime directory (removed when
 * either stops) and a restart flag file (touching it restarts both).
 * `seen` is a table the run keeps (path -> "services[N] (NAME)" of the
 * service that has it); service `i`'s resolved config is at `cfg`, `prefix` starts
 * its problems. */
void shared_paths_check(lua_State *L, int seen, int cfg, lua_Integer i, const char *prefix, struct problems *p);

#endif
