#ifndef UNITFORGE_FAILURE_H
#define UNITFORGE_FAILURE_H

#include <lua.h>
#include <stdio.h>

/* Exit statuses (README: Usage). */
enum exit_status {
    EXIT_SUCCESS_STATUS = 0,
    EXIT_INVALID_CONFIG = 1,
    EXIT_USAGE = 2,
    EXIT_IO = 3,
};

/* Raises a unitforge failure: a Lua error whose value carries the exit
 * status and a message that is already complete (no traceback is added,
 * because it names a key or a file rather than a line of Lua). */
void failure_raise(lua_State *L, enum exit_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* Raises a failure with the string on top of the stack as message. */
void failure_raise_top(lua_State *L, enum exit_status status) __attribute__((noreturn));

/* Whether the value at `index` is a failure (rather than a plain error). */
int failure_is_failure(lua_State *L, int index);

/* The message of a failure, or of a plain Lua error (a string), or NULL. */
const char *failure_message(lua_State *L, int index);

/* Raises the error on top of the stack again with "what: " before its
 * message, keeping a failure's exit status. */
void failure_raise_prefixed(lua_State *L, const char *what) __attribute__((noreturn));

/* Message handler for lua_pcall: turns a plain Lua error into a failure
 * whose message ends with a short traceback of the user's files. */
int failure_message_handler(lua_State *L);

/* lua_pcall of the function below its `nargs` arguments, with the
 * message handler above: on error the failure (traceback included) is on
 * top. Returns lua_pcall's status. */
int failure_pcall(lua_State *L, int nargs, int nresults);

/* The one way the host calls user code (the config, computed values,
 * filters, hooks, templates): the function below its `nargs` arguments
 * runs under the message handler; an error of any kind (a string, a
 * failure, any other value, a memory error) is raised again as a
 * failure, its message prefixed with "what: " when `what` is not NULL. */
void failure_call_user(lua_State *L, int nargs, int nresults, const char *what);

/* Writes text for a terminal: control characters (but tab) as \xNN. */
void failure_print_text(FILE *out, const char *text, size_t len);

/* A function that may explain an error message of user code (pushing
 * the explanation and returning it, or returning NULL): the message
 * handler adds it after the message. */
typedef const char *(*failure_hint)(lua_State *L, const char *message);
void failure_set_hint(failure_hint hint);

/* Prints the failure at the top of the stack and returns its exit status. */
enum exit_status failure_report(lua_State *L);

#endif
