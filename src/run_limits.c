#include "run_limits.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <time.h>

/* How often (in VM instructions) the clock is looked at: rarely enough to
 * cost nothing, often enough to stop within milliseconds. */
#define HOOK_INSTRUCTIONS 100000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *bounded_alloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    struct limits *limits = ud;
    if (!ptr)
        old_size = 0; /* then old_size is the object type, not a size */
    if (new_size == 0) {
        free(ptr);
        limits->used_bytes -= old_size;
        return NULL;
    }
    if (new_size > old_size && new_size - old_size > limits->max_bytes - limits->used_bytes) {
        limits->memory_exceeded = 1;
        return NULL;
    }
    void *block = realloc(ptr, new_size);
    if (block)
        limits->used_bytes += new_size - old_size;
    return block;
}

static void time_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct limits *limits;
    lua_getallocf(L, (void **)&limits);
    if (now() - limits->started <= limits->max_seconds)
        return;
    /* inside a hook, level 0 is the interrupted function: name its line */
    luaL_where(L, 0);
    lua_pushfstring(L, "stopped after %d s: the config, a function, filter or hook runs too long "
                       "(an endless loop?); raise the limit with --timeout", (int)limits->max_seconds);
    lua_concat(L, 2);
    lua_error(L);
}

lua_State *limits_new_state(struct limits *limits)
{
    limits->used_bytes = 0;
    limits->memory_exceeded = 0;
    limits->started = now();
    lua_State *L = lua_newstate(bounded_alloc, limits);
    if (L) {
        lua_sethook(L, time_hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
        /* a run makes many short-lived tables per service and keeps few */
        lua_gc(L, LUA_GCGEN, 0, 0);
    }
    return L;
}

const char *limits_message(const struct limits *limits, int status)
{
    /* a refused allocation may surface as a plain error after passing
     * through a protected call, so the flag, not the status, tells */
    if (status != LUA_OK && limits->memory_exceeded)
        return "stopped: the config used more than its memory limit (unbounded data?); "
               "raise the limit with --max-memory";
    if (status == LUA_ERRMEM)
        return "not enough memory";
    return NULL;
}
