#ifndef UNITFORGE_RUN_LIMITS_H
#define UNITFORGE_RUN_LIMITS_H

#include <lua.h>
#include <stddef.h>

/* Bounds on user code, so a runaway config (endless loop, unbounded
 * memory) stops a deploy with a clear message instead of hanging it or
 * making the machine swap. */
struct limits {
    size_t max_bytes;      /* memory the Lua state may hold */
    double max_seconds;    /* run time of the Lua code */
    size_t used_bytes;
    int memory_exceeded;   /* set when an allocation was refused */
};

#define LIMITS_DEFAULT_MIB 512
#define LIMITS_DEFAULT_SECONDS 10

/* A Lua state whose allocator and an alarm enforce `limits` (which must
 * outlive it); NULL when even that cannot be allocated. One at a time. */
lua_State *limits_new_state(struct limits *limits);

/* Raises the run-stopping time-limit failure once the time is up. */
void limits_stop_if_expired(lua_State *L);

/* Gives the Lua code still to run a full time budget again, after a
 * phase (systemd-analyze) whose time is not the config's. */
void limits_rearm(lua_State *L);

/* Stops the alarm and closes the state. */
void limits_close_state(lua_State *L);

/* The message for a run that hit a limit, or NULL. */
const char *limits_message(const struct limits *limits, int status);

#endif
