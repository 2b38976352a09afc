#include "failure.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILURE_TYPE "unitforge.failure"
#define TRACEBACK_FRAMES 8

/* A failure is a userdata, so user code that catches one with pcall can
 * read it (tostring) but neither change its exit status nor forge one. */
struct failure {
    enum exit_status status;
};

static int failure_tostring(lua_State *L)
{
    luaL_checkudata(L, 1, FAILURE_TYPE);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

static void ensure_metatable(lua_State *L)
{
    if (luaL_newmetatable(L, FAILURE_TYPE)) {
        lua_pushcfunction(L, failure_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushboolean(L, 0); /* getmetatable(err) must not reach it */
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
}

/* Pushes a failure carrying the string at `message_index`. */
static void push_failure(lua_State *L, enum exit_status status, int message_index)
{
    message_index = lua_absindex(L, message_index);
    ensure_metatable(L);
    struct failure *f = lua_newuserdatauv(L, sizeof *f, 1);
    f->status = status;
    lua_pushvalue(L, message_index);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, FAILURE_TYPE);
}

void failure_raise_top(lua_State *L, enum exit_status status)
{
    push_failure(L, status, -1);
    lua_error(L);
    abort(); /* lua_error does not return; this tells the compiler */
}

const char *failure_message(lua_State *L, int index)
{
    if (luaL_testudata(L, index, FAILURE_TYPE)) {
        lua_getiuservalue(L, index, 1);
        const char *msg = lua_tostring(L, -1);
        lua_pop(L, 1); /* the failure keeps its message alive */
        return msg;
    }
    return lua_tostring(L, index);
}

void failure_raise_prefixed(lua_State *L, const char *what)
{
    enum exit_status status = EXIT_INVALID_CONFIG;
    struct failure *f = luaL_testudata(L, -1, FAILURE_TYPE);
    if (f)
        status = f->status;
    const char *msg = failure_message(L, -1);
    lua_pushfstring(L, "%s: %s", what, msg ? msg : "unknown error");
    failure_raise_top(L, status);
}

void failure_raise(lua_State *L, enum exit_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    failure_raise_top(L, status);
}

/* Only frames of Lua files are shown: the user cares about deploy.lua:12,
 * not about the host's C functions or embedded helpers. */
static void append_traceback(lua_State *L, luaL_Buffer *b)
{
    lua_Debug ar;
    int shown = 0;
    for (int level = 1; lua_getstack(L, level, &ar) && shown < TRACEBACK_FRAMES; level++) {
        if (!lua_getinfo(L, "Sln", &ar) || ar.source[0] != '@' || ar.currentline <= 0)
            continue;
        if (shown++ == 0)
            luaL_addstring(b, "\nstack traceback:");
        lua_pushfstring(L, "\n\t%s:%d: in %s", ar.short_src, ar.currentline,
                        ar.name ? ar.name : (*ar.what == 'm' ? "main chunk" : "function"));
        luaL_addvalue(b);
    }
}

int failure_is_failure(lua_State *L, int index)
{
    return luaL_testudata(L, index, FAILURE_TYPE) != NULL;
}

static failure_hint message_hint;

void failure_set_hint(failure_hint hint)
{
    message_hint = hint;
}

int failure_message_handler(lua_State *L)
{
    lua_settop(L, 1);
    if (failure_is_failure(L, 1))
        return 1;
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    const char *hint = message_hint ? message_hint(L, msg) : NULL; /* pushed when not NULL */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, msg);
    if (hint) {
        luaL_addstring(&b, ": ");
        luaL_addstring(&b, hint);
    }
    append_traceback(L, &b);
    luaL_pushresult(&b);
    push_failure(L, EXIT_INVALID_CONFIG, -1);
    return 1;
}

int failure_pcall(lua_State *L, int nargs, int nresults)
{
    int function = lua_gettop(L) - nargs;
    lua_pushcfunction(L, failure_message_handler);
    lua_insert(L, function);
    int status = lua_pcall(L, nargs, nresults, function);
    lua_remove(L, function);
    return status;
}

void failure_call_user(lua_State *L, int nargs, int nresults, const char *what)
{
    if (failure_pcall(L, nargs, nresults) == LUA_OK)
        return;
    if (what)
        failure_raise_prefixed(L, what);
    lua_error(L); /* a failure already, carrying the user's traceback */
}

void failure_print_text(FILE *out, const char *text, size_t len)
{
    /* what the user wrote may hold terminal escapes: show them, do not send them */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
}

/* Every line gets the program name so that multi-error reports read as
 * a list in a deploy log. */
static void print_prefixed(const char *msg)
{
    const char *line = msg;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (line[0] != '\t' && strncmp(line, "stack traceback:", 16) != 0)
            fputs("unitforge: ", stderr);
        failure_print_text(stderr, line, len);
        fputc('\n', stderr);
        line += len + (end ? 1 : 0);
    }
}

enum exit_status failure_report(lua_State *L)
{
    struct failure *f = luaL_testudata(L, -1, FAILURE_TYPE);
    enum exit_status status = f ? f->status : EXIT_INVALID_CONFIG;
    const char *msg = failure_message(L, -1);
    print_prefixed(msg ? msg : "unknown error");
    lua_pop(L, 1);
    return status;
}
