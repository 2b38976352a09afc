#include "resolver.h"

#include "escape.h"
#include "failure.h"
#include "keys.h"
#include "refs.h"
#include "unit_value.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <string.h>

/* Deep enough for any real chain of derived keys; deeper means a loop
 * that the cycle check would report anyway. */
#define MAX_RESOLVE_DEPTH 64
#define MAX_PART_NESTING 32

struct resolver {
    lua_State *L;
    const struct run_context *ctx;
    int raw_ref;     /* the user's service table */
    int values_ref;  /* key -> resolved value */
    int origins_ref; /* key -> origin, when not "default" */
    int view_ref;    /* the read-only `c` handed to functions */
    int expand_ref;  /* set of keys whose values are part lists, or LUA_NOREF */
    int depth;
    int function_depth; /* depth at which the running user function was called */
    const char *stack[MAX_RESOLVE_DEPTH];
    /* per key (index in keys_all): resolved, or being resolved now; a
     * resolved nil is simply absent from the values table */
    unsigned char resolved[KEYS_MAX];
    unsigned char active[KEYS_MAX];
};

lua_State *resolver_state(struct resolver *r) { return r->L; }
const struct run_context *resolver_context(struct resolver *r) { return r->ctx; }

void resolver_fail(struct resolver *r, const char *key, const char *fmt, ...)
{
    lua_State *L = r->L;
    va_list ap;
    va_start(ap, fmt);
    lua_pushfstring(L, "%s: %s: ", r->ctx->config_path, key);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_concat(L, 2);
    failure_raise_top(L, EXIT_INVALID_CONFIG);
}

static void fail_cycle(struct resolver *r, int from)
{
    lua_State *L = r->L;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = from; i < r->depth; i++) {
        luaL_addstring(&b, r->stack[i]);
        luaL_addstring(&b, " -> ");
    }
    luaL_addstring(&b, r->stack[from]);
    luaL_pushresult(&b);
    resolver_fail(r, r->stack[from], "cycle: %s", lua_tostring(L, -1));
}

static void enter(struct resolver *r, const struct key_spec *spec)
{
    if (r->active[spec - keys_all]) {
        for (int i = 0; i < r->depth; i++)
            if (strcmp(r->stack[i], spec->name) == 0)
                fail_cycle(r, i);
    }
    if (r->depth == MAX_RESOLVE_DEPTH)
        resolver_fail(r, spec->name, "keys refer to each other more than %d deep", MAX_RESOLVE_DEPTH);
    r->active[spec - keys_all] = 1;
    r->stack[r->depth++] = spec->name;
}

static void leave(struct resolver *r, const struct key_spec *spec)
{
    r->active[spec - keys_all] = 0;
    r->depth--;
}

static const struct key_spec *known_key(struct resolver *r, const char *key, const char *context)
{
    const struct key_spec *spec = keys_find(key);
    if (!spec) {
        lua_State *L = r->L;
        failure_raise(L, EXIT_INVALID_CONFIG, "%s: %s%s: %s", r->ctx->config_path, context, key,
                      keys_push_unknown(L, key));
    }
    return spec;
}

/* ---- values the user wrote ---- */

/* The specifier mark is how expansion tells specifier.X from a literal
 * '%': it must never come from the user. Every user value passes here on
 * its way in (config, --set, function results), strings inside tables
 * included; the validator later refuses every other control character. */
static void reject_marks_in(struct resolver *r, const char *key, int index, int visited, int depth)
{
    lua_State *L = r->L;
    index = lua_absindex(L, index);
    if (lua_type(L, index) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, index, &len);
        if (memchr(s, SPECIFIER_MARK, len))
            resolver_fail(r, key, "contains a control character (\\x01); use specifier.X for a systemd specifier");
        return;
    }
    if (lua_type(L, index) != LUA_TTABLE || depth > MAX_PART_NESTING)
        return;
    /* each table once: a table may hold itself many times over */
    lua_pushvalue(L, index);
    if (lua_rawget(L, visited) != LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, index);
    lua_pushboolean(L, 1);
    lua_rawset(L, visited);
    luaL_checkstack(L, 3, "checking a value");
    lua_pushnil(L);
    while (lua_next(L, index)) {
        reject_marks_in(r, key, -1, visited, depth + 1);
        lua_pop(L, 1);
    }
}

static void reject_marks(struct resolver *r, const char *key, int index)
{
    lua_State *L = r->L;
    int type = lua_type(L, index);
    if (type != LUA_TTABLE) {
        if (type == LUA_TSTRING)
            reject_marks_in(r, key, index, 0, 0); /* a string needs no visited set */
        return;
    }
    index = lua_absindex(L, index);
    lua_newtable(L);
    reject_marks_in(r, key, index, lua_gettop(L), 0);
    lua_pop(L, 1);
}

static void call_user_function(struct resolver *r, const char *key)
{
    lua_State *L = r->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->view_ref);
    int depth = r->depth, function_depth = r->function_depth;
    r->function_depth = depth;
    int status = failure_pcall(L, 1, 1);
    /* in case the function swallowed a failure with pcall */
    r->depth = depth;
    r->function_depth = function_depth;
    r->L = L;
    if (status != LUA_OK)
        lua_error(L); /* already a failure with the user's traceback */
    if (lua_type(L, -1) == LUA_TFUNCTION)
        resolver_fail(r, key, "the function returned another function");
    reject_marks(r, key, -1);
}

static int is_expand_key(struct resolver *r, const char *key);

static int is_command_key(const char *key)
{
    const struct key_spec *spec = keys_find(key);
    return spec && spec->format == FORMAT_COMMAND;
}

static void push_ref_value(struct resolver *r, const char *key, const char *target)
{
    known_key(r, target, "ref.");
    resolver_push(r, target);
    if (lua_isnil(r->L, -1))
        resolver_fail(r, key, "ref.%s has no value", target);
}

/* Inside the part list of a command, literal strings are command-line
 * syntax and everything else is data: a ref's or a function's value is
 * escaped as one literal piece of the word it lands in (the executable
 * or an argument: `ctx` follows the syntax so far). Replaces the string
 * on top of the stack and moves `ctx` over what it became. */
static void escape_data_piece(lua_State *L, struct command_context *ctx)
{
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    escape_command_data(L, ctx, s, len);
    lua_remove(L, -2);
    s = lua_tolstring(L, -1, &len);
    command_context_scan(ctx, s, len);
}

static void scan_piece(lua_State *L, struct command_context *ctx)
{
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (ctx)
        command_context_scan(ctx, s, len);
}

/* Pushes the string one piece of a part list stands for: a string,
 * number, ref, specifier, function of `c`, or a nested list. `ctx` is
 * the command line being built (NULL for other keys, and for the pieces
 * of data, which are joined as they are). Pieces are joined with
 * lua_concat rather than a luaL_Buffer, because expanding a piece may
 * run user code and push values of its own. */
static void expand_part(struct resolver *r, const char *key, int index, int nesting, struct command_context *ctx)
{
    lua_State *L = r->L;
    index = lua_absindex(L, index);
    const char *target;
    int letter;
    char mark[2];
    if (nesting > MAX_PART_NESTING)
        resolver_fail(r, key, "part lists nested more than %d deep", MAX_PART_NESTING);
    luaL_checkstack(L, 4, "expanding a part list");
    switch (lua_type(L, index)) {
    case LUA_TSTRING:
        lua_pushvalue(L, index);
        scan_piece(L, ctx);
        return;
    case LUA_TNUMBER:
        if (!unit_value_push_decimal(L, index))
            resolver_fail(r, key, "%s cannot be written as a decimal number", lua_tostring(L, index));
        scan_piece(L, ctx);
        return;
    case LUA_TFUNCTION:
        lua_pushvalue(L, index);
        call_user_function(r, key);
        /* a list element that is a function gives the element itself */
        expand_part(r, key, -1, nesting + 1, nesting > 0 ? NULL : ctx);
        lua_remove(L, -2);
        if (nesting > 0 && ctx)
            escape_data_piece(L, ctx);
        return;
    case LUA_TTABLE:
        lua_pushliteral(L, "");
        for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, index); i <= n; i++) {
            lua_rawgeti(L, index, i);
            expand_part(r, key, -1, nesting + 1, ctx);
            lua_remove(L, -2);
            lua_concat(L, 2);
        }
        return;
    case LUA_TUSERDATA:
        if ((target = refs_key(L, index))) {
            push_ref_value(r, key, target);
            if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
                resolver_fail(r, key, "ref.%s is a %s, not a string", target, luaL_typename(L, -1));
            expand_part(r, key, -1, nesting + 1, NULL);
            lua_remove(L, -2);
            if (ctx && nesting > 0)
                escape_data_piece(L, ctx);
            else
                scan_piece(L, ctx);
            return;
        }
        if ((letter = refs_specifier(L, index))) {
            mark[0] = SPECIFIER_MARK;
            mark[1] = (char)letter;
            lua_pushlstring(L, mark, 2);
            scan_piece(L, ctx);
            return;
        }
        break;
    default:
        break;
    }
    resolver_fail(r, key, "a part list holds strings, numbers, refs, specifiers and functions, not a %s",
                  luaL_typename(L, index));
}

/* Replaces the value on top of the stack with the string its parts make. */
static void expand_to_string(struct resolver *r, const char *key)
{
    struct command_context ctx = {COMMAND_START, 0, 0};
    expand_part(r, key, -1, 0, is_command_key(key) ? &ctx : NULL);
    lua_remove(r->L, -2);
}

/* A list-valued key: each element is expanded on its own. */
static void expand_list(struct resolver *r, const char *key)
{
    lua_State *L = r->L;
    int list = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, list);
    lua_pushnil(L);
    while (lua_next(L, list)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n)
            resolver_fail(r, key, "expected a list, but it has the key %s", luaL_tolstring(L, -1, NULL));
    }
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, list, i);
        expand_to_string(r, key);
        lua_rawseti(L, -2, i);
    }
    lua_remove(L, list);
}

/* Turns what the user wrote for a key (top of the stack) into its value:
 * a bare ref becomes the referenced value, a function its result, and the
 * part lists of expandable keys their strings. */
static void normalize(struct resolver *r, const struct key_spec *spec)
{
    lua_State *L = r->L;
    const char *target = refs_key(L, -1);
    if (target) {
        lua_pop(L, 1);
        push_ref_value(r, spec->name, target);
        return;
    }
    if (lua_type(L, -1) == LUA_TFUNCTION && spec->type != KEY_FUNCTIONS) {
        call_user_function(r, spec->name);
        normalize(r, spec);
        return;
    }
    if (!is_expand_key(r, spec->name))
        return;
    if (spec->type == KEY_LIST && lua_type(L, -1) == LUA_TTABLE)
        expand_list(r, spec->name);
    else if (spec->type == KEY_STRING && (lua_type(L, -1) == LUA_TTABLE || lua_type(L, -1) == LUA_TUSERDATA))
        expand_to_string(r, spec->name);
}

static void build_expand_set(struct resolver *r)
{
    lua_State *L = r->L;
    lua_newtable(L);
    static const char *const lists[] = {"expand_keys", "expand_keys_extra"};
    for (size_t l = 0; l < 2; l++) {
        resolver_push(r, lists[l]);
        if (lua_type(L, -1) == LUA_TTABLE) {
            for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
                if (lua_type(L, -1) != LUA_TSTRING)
                    resolver_fail(r, lists[l], "expected key names, got a %s", luaL_typename(L, -1));
                known_key(r, lua_tostring(L, -1), "");
                lua_pushboolean(L, 1);
                lua_rawset(L, -4);
            }
            lua_pop(L, 1); /* the nil that ended the list */
        }
        lua_pop(L, 1);
    }
    r->expand_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

static int is_expand_key(struct resolver *r, const char *key)
{
    if (strcmp(key, "expand_keys") == 0 || strcmp(key, "expand_keys_extra") == 0)
        return 0;
    if (r->expand_ref == LUA_NOREF)
        build_expand_set(r);
    lua_rawgeti(r->L, LUA_REGISTRYINDEX, r->expand_ref);
    int yes = lua_getfield(r->L, -1, key) != LUA_TNIL;
    lua_pop(r->L, 2);
    return yes;
}

/* ---- resolution ---- */

static int from_command_line(struct resolver *r, const char *key)
{
    lua_State *L = r->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx->overrides_ref);
    int found = lua_getfield(L, -1, key) != LUA_TNIL;
    lua_pop(L, 2);
    return found;
}

static const char *compute(struct resolver *r, const struct key_spec *spec)
{
    lua_State *L = r->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->raw_ref);
    int type = lua_getfield(L, -1, spec->name);
    lua_remove(L, -2);
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        if (!spec->default_value) {
            lua_pushnil(L);
            return "default";
        }
        return spec->default_value(r);
    }
    reject_marks(r, spec->name, -1);
    normalize(r, spec);
    if (type == LUA_TFUNCTION && spec->type != KEY_FUNCTIONS)
        return "computed";
    return from_command_line(r, spec->name) ? "cli" : "config";
}

static void push_resolved(struct resolver *r, const struct key_spec *spec)
{
    lua_State *L = r->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->values_ref);
    lua_getfield(L, -1, spec->name);
    lua_remove(L, -2);
}

/* Records the value on top of the stack (left there) as the key's. */
static void store(struct resolver *r, const struct key_spec *spec, const char *origin)
{
    lua_State *L = r->L;
    if (!lua_isnil(L, -1)) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->values_ref);
        lua_pushvalue(L, -2);
        lua_setfield(L, -2, spec->name);
        lua_pop(L, 1);
    }
    if (strcmp(origin, "default") != 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->origins_ref);
        lua_pushstring(L, origin);
        lua_setfield(L, -2, spec->name);
        lua_pop(L, 1);
    }
    r->resolved[spec - keys_all] = 1;
}

void resolver_push(struct resolver *r, const char *key)
{
    const struct key_spec *spec = known_key(r, key, "");
    if (r->resolved[spec - keys_all]) {
        push_resolved(r, spec);
        return;
    }
    enter(r, spec);
    const char *origin = compute(r, spec);
    leave(r, spec);
    store(r, spec, origin);
}

const char *resolver_string(struct resolver *r, const char *key)
{
    resolver_push(r, key);
    const char *s = lua_type(r->L, -1) == LUA_TSTRING ? lua_tostring(r->L, -1) : NULL;
    lua_pop(r->L, 1); /* the values table keeps the string alive */
    return s;
}

/* ---- the view `c` ---- */

static int view_index(lua_State *L)
{
    struct resolver *r = lua_touserdata(L, lua_upvalueindex(1));
    const char *key = luaL_checkstring(L, 2);
    /* the caller may be a coroutine: resolve on its stack, not the main
     * thread's (call_user_function puts the main thread back) */
    lua_State *caller = r->L;
    r->L = L;
    /* a failure the function caught with pcall may have left keys on the
     * stack above it: they are not being resolved any more */
    while (r->depth > r->function_depth)
        leave(r, keys_find(r->stack[r->depth - 1]));
    resolver_push(r, key);
    r->L = caller;
    return 1;
}

static int view_assign(lua_State *L)
{
    return luaL_error(L, "the config view is read-only (tried to set '%s')", luaL_tolstring(L, 2, NULL));
}

static void make_view(struct resolver *r)
{
    lua_State *L = r->L;
    lua_newtable(L);
    lua_createtable(L, 0, 3);
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, view_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, view_assign);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    r->view_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Once everything is resolved the view must not reach the resolver any
 * more (it lives on the C stack): it now reads the final values. */
static void retire_view(struct resolver *r, int values)
{
    lua_State *L = r->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->view_ref);
    lua_getmetatable(L, -1);
    lua_pushvalue(L, values);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 2);
}


void resolver_resolve(lua_State *L, int service, const struct run_context *ctx)
{
    struct resolver r = {.L = L, .ctx = ctx, .expand_ref = LUA_NOREF};
    lua_pushvalue(L, service);
    r.raw_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, 0, (int)keys_count);
    r.values_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_createtable(L, 0, 8);
    r.origins_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    make_view(&r);

    for (size_t i = 0; i < keys_count; i++) {
        resolver_push(&r, keys_all[i].name);
        lua_pop(L, 1);
    }

    lua_rawgeti(L, LUA_REGISTRYINDEX, r.values_ref);
    retire_view(&r, lua_gettop(L));
    lua_rawgeti(L, LUA_REGISTRYINDEX, r.origins_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, r.raw_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, r.values_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, r.origins_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, r.view_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, r.expand_ref);
}
