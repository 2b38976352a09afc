#include "run_limits.h"

#include "failure.h"

#include <lauxlib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* Set by the alarm; the hook reads it. A signal handler may do no more. */
static volatile sig_atomic_t time_is_up;

/* How often (in VM instructions) the hook looks at the flag. Any count
 * hook makes the VM check every instruction; the number only sets how
 * soon after the alarm the run stops. */
#define HOOK_INSTRUCTIONS 1000

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

/* Installed at creation, so every coroutine inherits it. Once the time
 * is up it raises on every call: user code that catches the error with
 * pcall is stopped again (and the sandbox's pcall lets it through). */
void limits_stop_if_expired(lua_State *L)
{
    if (!time_is_up)
        return;
    struct limits *limits;
    lua_getallocf(L, (void **)&limits);
    luaL_where(L, 0);
    lua_pushfstring(L, "stopped after %d s: the config, a function, filter or hook runs too long "
                       "(an endless loop?); raise the limit with --timeout", (int)limits->max_seconds);
    lua_concat(L, 2);
    failure_raise_top(L, EXIT_INVALID_CONFIG);
}

static void time_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    limits_stop_if_expired(L);
}

static void on_alarm(int signal_number)
{
    (void)signal_number;
    time_is_up = 1;
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
        lua_sethook(L, time_hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
        time_is_up = 0;
        start_alarm(limits->max_seconds);
    }
    return L;
}

void limits_rearm(lua_State *L)
{
    struct limits *limits;
    lua_getallocf(L, (void **)&limits);
    time_is_up = 0;
    start_alarm(limits->max_seconds);
}

void limits_close_state(lua_State *L)
{
    /* still armed: finalizers run now, and are user code too */
    lua_close(L);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
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
