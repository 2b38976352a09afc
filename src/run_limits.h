#ifndef UNITFORGE_RUN_LIMITS_H
#define UNITFORGE_RUN_LIMITS_H

#include "block_pool.h"

#include <lua.h>
#include <stddef.h>

/* Bounds on a run, so a runaway config (endless loop, unbounded memory,
 * a pattern that backtracks for ever, a read that never returns) stops a
 * deploy with a clear message instead of hanging it or making the
 * machine swap. Both limits cover everything before writing starts. */

enum limit_hit {
    LIMIT_NONE,
    LIMIT_TIME,
    LIMIT_MEMORY,
};

struct limits {
    size_t max_bytes;    /* memory the Lua state may hold */
    double max_seconds;  /* run time until writing starts */
    size_t used_bytes;
    enum limit_hit hit;  /* the first limit reached; it stays reached */
    int counting;        /* limits are reached only while the clock runs */
    double spent;        /* seconds the clock has run before its last start */
    double started;      /* when it last started (monotonic seconds) */
    struct block_pool pool; /* where the state's memory comes from */
};

#define LIMITS_DEFAULT_MIB 512
#define LIMITS_DEFAULT_SECONDS 10

/* A Lua state whose allocator and an alarm enforce `limits` (which must
 * outlive it); NULL when even that cannot be allocated. One at a time. */
lua_State *limits_new_state(struct limits *limits);

/* Raises the run-stopping failure again once a limit was reached: user
 * code that caught it (pcall, a coroutine, load's reader) is stopped. */
void limits_stop_if_reached(lua_State *L);

/* Gives a coroutine a hook of its own that stops it once a limit is
 * reached (the state's own is set only then, and a coroutine made before
 * does not inherit it). */
void limits_watch_thread(lua_State *thread);

/* Stops the clock (a limit reached by then stays reached). */
void limits_stop(lua_State *L);

/* Stops the clock for host work that is not the config's (writing,
 * systemd-analyze); raises first when a limit was already reached. */
void limits_pause(lua_State *L);

/* Starts the clock again, with the time the run has left. */
void limits_resume(lua_State *L);

/* Stops the clock and closes the state. */
void limits_close_state(lua_State *L);

/* The message for a run that reached a limit, or NULL. It is the same
 * wherever the limit was reached. */
const char *limits_message(const struct limits *limits);

#endif
