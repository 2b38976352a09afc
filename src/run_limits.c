#include "run_limits.h"

#include <lauxlib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* The state the alarm stops. One run has one state; the signal handler
 * may only touch it through lua_sethook, which is safe there. */
static lua_State *watched_state;

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

/* Runs at the next Lua instruction after the alarm: raises the error in
 * the running user code, naming its line. */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct limits *limits;
    lua_getallocf(L, (void **)&limits);
    lua_sethook(L, NULL, 0, 0);
    luaL_where(L, 0);
    lua_pushfstring(L, "stopped after %d s: the config, a function, filter or hook runs too long "
                       "(an endless loop?); raise the limit with --timeout", (int)limits->max_seconds);
    lua_concat(L, 2);
    lua_error(L);
}

/* Like lua.c's SIGINT handling: no hook costs anything until the time is
 * up; then one is set that fires at once. */
static void on_alarm(int signal_number)
{
    (void)signal_number;
    if (watched_state)
        lua_sethook(watched_state, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static void start_alarm(double seconds)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;
    action.sa_flags = SA_RESTART; /* writes and reads go on undisturbed */
    sigemptyset(&action.sa_mask);
    sigaction(SIGALRM, &action, NULL);
    struct itimerval timer = {{0, 0}, {(time_t)seconds, (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6)}};
    setitimer(ITIMER_REAL, &timer, NULL);
}

lua_State *limits_new_state(struct limits *limits)
{
    limits->used_bytes = 0;
    limits->memory_exceeded = 0;
    lua_State *L = lua_newstate(bounded_alloc, limits);
    if (L) {
        /* a run makes many short-lived tables per service and keeps few */
        lua_gc(L, LUA_GCGEN, 0, 0);
        watched_state = L;
        start_alarm(limits->max_seconds);
    }
    return L;
}

void limits_rearm(lua_State *L)
{
    struct limits *limits;
    lua_getallocf(L, (void **)&limits);
    lua_sethook(L, NULL, 0, 0);
    start_alarm(limits->max_seconds);
}

void limits_close_state(lua_State *L)
{
    /* still armed: finalizers run now, and are user code too */
    lua_close(L);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    watched_state = NULL;
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
