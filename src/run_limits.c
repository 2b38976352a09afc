#include "run_limits.h"

#include "failure.h"

#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* No hook runs until a limit is reached: any hook makes the VM check
 * every instruction, which costs a third of a run. When the alarm comes
 * (or memory runs out), the hook is set on the state, as lua.c does for
 * SIGINT (lua_sethook may be called from a signal handler), and raises
 * at the next instruction, and again at every one after: no Lua code
 * goes on, whatever it catches. A coroutine made before then does not
 * inherit it: coroutines get a hook of their own (limits_watch_thread),
 * pcall, coroutine.resume and the like let the limit through
 * (lua_env.c), and the alarm's grace ends what still runs. */
static lua_State *hooked_state;

/* How long after the alarm the hook has to stop the run before the alarm
 * ends the process itself: long enough to unwind and report, short
 * enough that C code that cannot be interrupted (a backtracking pattern,
 * a blocking read) still meets the limit. */
#define GRACE_MICROSECONDS 500000

/* The clock as the alarm handler sees it. A signal handler may read and
 * set these and call async-signal-safe functions, nothing more. */
enum clock_state { CLOCK_STOPPED, CLOCK_RUNNING, CLOCK_EXPIRED };
static volatile sig_atomic_t clock_state;

/* Written before the clock starts, so the handler only has to write(2). */
static char time_message[256];

/* The handler's copy of "the memory limit was reached first", so that a
 * run stuck after reaching it ends with its message. */
static volatile sig_atomic_t memory_reached;

static const char memory_message[] =
    "stopped: the config used more than its memory limit (unbounded data?); raise the limit with --max-memory";

static void limit_hook(lua_State *L, lua_Debug *ar);

static void set_limit_hook(void)
{
    if (hooked_state)
        lua_sethook(hooked_state, limit_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static void *bounded_alloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    struct limits *limits = ud;
    if (!ptr)
        old_size = 0; /* then old_size is the object type, not a size */
    if (new_size == 0) {
        block_pool_resize(&limits->pool, ptr, old_size, 0);
        limits->used_bytes -= old_size;
        return NULL;
    }
    if (new_size > old_size && new_size - old_size > limits->max_bytes - limits->used_bytes) {
        /* while writing, a refusal is an ordinary memory error: the run
         * has got past the point where the config's limits apply */
        if (limits->hit == LIMIT_NONE && limits->counting) {
            limits->hit = LIMIT_MEMORY;
            memory_reached = 1;
            set_limit_hook();
        }
        return NULL;
    }
    void *block = block_pool_resize(&limits->pool, ptr, old_size, new_size);
    if (block)
        limits->used_bytes += new_size - old_size;
    return block;
}

static struct limits *limits_of(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

static void record_expired_clock(struct limits *limits)
{
    if (clock_state == CLOCK_EXPIRED && limits->hit == LIMIT_NONE)
        limits->hit = LIMIT_TIME;
}

void limits_stop_if_reached(lua_State *L)
{
    struct limits *limits = limits_of(L);
    record_expired_clock(limits);
    if (limits->hit == LIMIT_NONE)
        return;
    lua_pushstring(L, limits_message(limits));
    failure_raise_top(L, EXIT_INVALID_CONFIG);
}

static void limit_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    limits_stop_if_reached(L);
}

/* How often (in VM instructions) a coroutine's hook looks for a reached
 * limit: it costs a coroutine what every hook costs, but configs run
 * little in coroutines. */
#define COROUTINE_HOOK_INSTRUCTIONS 1000

void limits_watch_thread(lua_State *thread)
{
    if (!lua_gethook(thread))
        lua_sethook(thread, limit_hook, LUA_MASKCOUNT, COROUTINE_HOOK_INSTRUCTIONS);
}

static void set_timer(long microseconds)
{
    struct itimerval timer = {{0, 0}, {microseconds / 1000000, microseconds % 1000000}};
    setitimer(ITIMER_REAL, &timer, NULL);
}

static void on_alarm(int signal_number)
{
    (void)signal_number;
    if (clock_state == CLOCK_RUNNING) {
        clock_state = CLOCK_EXPIRED;
        set_limit_hook();
        set_timer(GRACE_MICROSECONDS);
    } else if (clock_state == CLOCK_EXPIRED) {
        /* Lua did not get control back: C code or a read is stuck.
         * Nothing has been written yet, so ending here is safe. */
        const char *parts[] = {"unitforge: ", memory_reached ? memory_message : time_message, "\n"};
        for (size_t i = 0; i < 3; i++) {
            ssize_t ignored = write(STDERR_FILENO, parts[i], strlen(parts[i]));
            (void)ignored;
        }
        _exit(EXIT_INVALID_CONFIG);
    }
}

static double monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Runs the clock for the time the run has left of --timeout. */
static void start_clock(struct limits *limits)
{
    double seconds = limits->max_seconds - limits->spent;
    if (seconds < 0.001)
        seconds = 0.001; /* spent already: the alarm comes at once */
    limits->counting = 1;
    limits->started = monotonic_seconds();
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;
    action.sa_flags = SA_RESTART; /* a read goes on until the grace ends */
    sigemptyset(&action.sa_mask);
    sigaction(SIGALRM, &action, NULL);
    clock_state = CLOCK_RUNNING;
    set_timer((long)(seconds * 1e6));
}

static void stop_clock(struct limits *limits)
{
    clock_state = CLOCK_STOPPED;
    set_timer(0);
    if (limits->counting)
        limits->spent += monotonic_seconds() - limits->started;
    limits->counting = 0;
}

lua_State *limits_new_state(struct limits *limits)
{
    limits->used_bytes = 0;
    limits->hit = LIMIT_NONE;
    limits->counting = 0;
    limits->spent = 0;
    memory_reached = 0;
    snprintf(time_message, sizeof time_message,
             "stopped after %d s: the config, a function, filter, hook or template runs too long "
             "(an endless loop, a read that never ends?); raise the limit with --timeout",
             (int)limits->max_seconds);
    lua_State *L = lua_newstate(bounded_alloc, limits);
    if (L) {
        /* a run makes many short-lived tables per service and keeps few */
        lua_gc(L, LUA_GCGEN, 0, 0);
        hooked_state = L;
        start_clock(limits);
    }
    return L;
}

void limits_stop(lua_State *L)
{
    record_expired_clock(limits_of(L));
    stop_clock(limits_of(L));
}

void limits_pause(lua_State *L)
{
    limits_stop(L);
    limits_stop_if_reached(L);
}

void limits_resume(lua_State *L)
{
    start_clock(limits_of(L));
}

void limits_close_state(lua_State *L)
{
    limits_stop(L);
    hooked_state = NULL;
    struct limits *limits = limits_of(L);
    /* no user finalizer can exist (__gc is refused, host metatables are
     * hidden), so closing runs only the host's own */
    lua_close(L);
    block_pool_release(&limits->pool);
}

const char *limits_message(const struct limits *limits)
{
    switch (limits->hit) {
    case LIMIT_TIME:
        return time_message;
    case LIMIT_MEMORY:
        return memory_message;
    case LIMIT_NONE:
        break;
    }
    return NULL;
}
