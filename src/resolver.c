#include "resolver.h"

#include "escape.h"
#include "failure.h"
#include "keys.h"
#include "read_only.h"
#include "refs.h"
#include "run_limits.h"
#include "unit_value.h"
#include "validate.h"

#include <assert.h>
#include <lauxlib.h>
#include <stdarg.h>
#include <string.h>

/* Deep enough for any real chain of derived keys; deeper means a loop
 * that the cycle check would report anyway. */
#define MAX_RESOLVE_DEPTH 64
#define MAX_PART_NESTING 32
#define CONDITIONS_KEPT 16
_Static_assert(KEYS_MAX < 255, "referred_by holds a key's index + 1 in a byte");

/* Values are kept in two tables while they are resolved. `values` holds
 * the right ones, and is what `c` reads through, so functions read a
 * resolved key without calling the host; a miss (a key not resolved
 * yet, or nil) calls view_index through its metatable. `wrong` holds the
 * values the user gave that failed their check, and the defaults that
 * could not be made or were made from a wrong value: reading one always
 * reaches the host, which marks the key being made as made from a wrong
 * value, so that it is not reported again. The two are joined when the
 * service is resolved. */
struct resolver {
    lua_State *L;
    const struct run_context *ctx;
    const char *prefix;  /* of problems: "deploy.lua: " */
    struct problems *problems;
    struct problems *warnings;
    int raw_ref;     /* the user's service table */
    int values_ref;  /* key -> resolved value (tables as read-only views) */
    int wrong_ref;   /* key -> a wrong value, or one made from one */
    int origins_ref; /* key -> origin, when not "default" */
    int view_ref;    /* the read-only `c` handed to functions */
    int expand_ref;  /* set of keys whose values are part lists, or LUA_NOREF */
    int errors_ref;  /* key index -> why its default could not be made */
    int by_key_ref;  /* key index -> the problems of its value */
    int depth;
    int function_depth; /* depth at which the running function was called */
    const struct key_spec *stack[MAX_RESOLVE_DEPTH];
    unsigned char made_from_wrong[MAX_RESOLVE_DEPTH]; /* per stack level */
    /* per key: resolved, or being resolved now; a resolved nil is simply
     * absent from the values tables */
    unsigned char resolved[KEYS_MAX];
    unsigned char active[KEYS_MAX];
    /* per key: the user gave it (or a function of theirs computed it);
     * its value is wrong or made from one; its default is a constant of
     * the option table; making its default failed (the reason is in
     * errors_ref) */
    unsigned char given[KEYS_MAX];
    unsigned char wrong[KEYS_MAX];
    unsigned char constant[KEYS_MAX];
    unsigned char failed[KEYS_MAX];
    unsigned char tainted[KEYS_MAX]; /* made from a wrong value */
    /* per key with a made_when: 1 + the index of the first key whose
     * value refers to it (ref.KEY), 0 when none does */
    unsigned char referred_by[KEYS_MAX];
    int raw_has_metatable; /* the service table's lookups may run user code */
    struct condition {
        const void *id;
        int applies;
    } condition[CONDITIONS_KEPT]; /* of `when`s, once known */
    int conditions;
};

static void resolver_fail(struct resolver *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

static void resolver_fail(struct resolver *r, const char *key, const char *fmt, ...)
{
    lua_State *L = r->L;
    va_list ap;
    va_start(ap, fmt);
    lua_pushfstring(L, "%s%s: ", r->prefix, key);
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
        luaL_addstring(&b, r->stack[i]->name);
        luaL_addstring(&b, " -> ");
    }
    luaL_addstring(&b, r->stack[from]->name);
    luaL_pushresult(&b);
    resolver_fail(r, r->stack[from]->name, "cycle: %s", lua_tostring(L, -1));
}

static void enter(struct resolver *r, const struct key_spec *spec)
{
    if (r->active[spec->index]) {
        for (int i = 0; i < r->depth; i++)
            if (r->stack[i] == spec)
                fail_cycle(r, i);
    }
    if (r->depth == MAX_RESOLVE_DEPTH)
        resolver_fail(r, spec->name, "keys refer to each other more than %d deep", MAX_RESOLVE_DEPTH);
    r->active[spec->index] = 1;
    r->made_from_wrong[r->depth] = 0;
    r->stack[r->depth++] = spec;
}

static void leave(struct resolver *r)
{
    r->active[r->stack[--r->depth]->index] = 0;
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

static void resolver_push(struct resolver *r, const char *key);
static void push_key(struct resolver *r, const struct key_spec *spec);

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
    if (read_only_is_view(L, index)) {
        read_only_push_backing(L, index);
        reject_marks_in(r, key, -1, visited, depth);
        lua_pop(L, 1);
        return;
    }
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
    if (read_only_is_flat(L, index)) {
        /* no table inside: no visited set */
        lua_pushnil(L);
        while (lua_next(L, index)) {
            reject_marks_in(r, key, -1, 0, 0);
            lua_pop(L, 1);
        }
        return;
    }
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
    if (status != LUA_OK) {
        limits_stop_if_reached(L);
        /* a function that read a wrong value (reported under its own key)
         * may well fail on it: that is no second problem */
        if (depth == 0 || !r->made_from_wrong[depth - 1])
            lua_error(L); /* a failure with the user's traceback */
        lua_pop(L, 1);
        lua_pushliteral(L, ""); /* a value made from a wrong one: never checked */
        return;
    }
    if (lua_type(L, -1) == LUA_TFUNCTION)
        resolver_fail(r, key, "the function returned another function");
    reject_marks(r, key, -1);
}

static int is_command_key(const char *key)
{
    const struct key_spec *spec = keys_find(key);
    return spec && spec->format == FORMAT_COMMAND;
}

/* A ref to a wrong value (reported under its own key) gives "", and
 * makes what is being made a value made from a wrong one. */
static void push_ref_value(struct resolver *r, const char *key, const char *target)
{
    const struct key_spec *spec = known_key(r, target, "ref.");
    if (spec->made_when.count && !r->referred_by[spec->index])
        r->referred_by[spec->index] = (unsigned char)(r->stack[r->depth - 1]->index + 1);
    push_key(r, spec);
    if (r->wrong[spec->index]) {
        lua_pop(r->L, 1);
        lua_pushliteral(r->L, "");
        return;
    }
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
        read_only_push_backing(L, index); /* a nested list of a copy is a view */
        lua_replace(L, index);
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
    if (validate_push_non_list_key(L, list))
        resolver_fail(r, key, "expected a list, but it has the key %s", lua_tostring(L, -1));
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, list, i);
        expand_to_string(r, key);
        lua_rawseti(L, -2, i);
    }
    lua_remove(L, list);
}

static int is_expand_key(struct resolver *r, const struct key_spec *spec);

/* Turns what the user wrote for a key (top of the stack) into its value:
 * a bare ref becomes the referenced value, a function its result, and the
 * part lists of expandable keys their strings. Returns 1 when the value
 * is a new table of strings (an expanded list), which needs no copy. */
static int normalize(struct resolver *r, const struct key_spec *spec)
{
    lua_State *L = r->L;
    const char *target = refs_key(L, -1);
    if (target) {
        lua_pop(L, 1);
        push_ref_value(r, spec->name, target);
        return 0;
    }
    if (lua_type(L, -1) == LUA_TFUNCTION && spec->type != KEY_FUNCTIONS) {
        call_user_function(r, spec->name);
        return normalize(r, spec);
    }
    if (!is_expand_key(r, spec))
        return 0;
    if (lua_type(L, -1) == LUA_TTABLE) {
        /* a table with a metatable is read as any other of the user's
         * (what its metatables show), from a copy; another key's value (a
         * view) is expanded afresh */
        int copy = !read_only_is_view(L, -1) && lua_getmetatable(L, -1);
        if (copy) {
            lua_pop(L, 1);
            read_only_push_copy(L, -1);
            lua_replace(L, -2);
            reject_marks(r, spec->name, -1);
        }
        read_only_push_backing(L, -1);
        lua_remove(L, -2);
    }
    if (spec->type == KEY_LIST && lua_type(L, -1) == LUA_TTABLE) {
        expand_list(r, spec->name);
        return 1;
    }
    if (spec->type == KEY_STRING && (lua_type(L, -1) == LUA_TTABLE || lua_type(L, -1) == LUA_TUSERDATA))
        expand_to_string(r, spec->name);
    return 0;
}

static void build_expand_set(struct resolver *r)
{
    lua_State *L = r->L;
    lua_newtable(L);
    static const char *const lists[] = {"expand_keys", "expand_keys_extra"};
    for (size_t l = 0; l < 2; l++) {
        resolver_push(r, lists[l]);
        read_only_push_backing(L, -1);
        if (lua_type(L, -1) == LUA_TTABLE) {
            for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
                if (lua_type(L, -1) != LUA_TSTRING)
                    resolver_fail(r, lists[l], "expected key names, got a %s", luaL_typename(L, -1));
                known_key(r, lua_tostring(L, -1), "");
                lua_pushboolean(L, 1);
                lua_rawset(L, -5);
            }
            lua_pop(L, 1); /* the nil that ended the list */
        }
        lua_pop(L, 2);
    }
    r->expand_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

static int is_expand_key(struct resolver *r, const struct key_spec *spec)
{
    if (spec->format == FORMAT_KEY_NAME) /* expand_keys and expand_keys_extra themselves */
        return 0;
    if (r->expand_ref == LUA_NOREF)
        build_expand_set(r);
    lua_rawgeti(r->L, LUA_REGISTRYINDEX, r->expand_ref);
    keys_push_name(r->L, spec);
    int yes = lua_rawget(r->L, -2) != LUA_TNIL;
    lua_pop(r->L, 2);
    return yes;
}

/* Pushes the table of a reference made on first use: the tables of
 * wrong values, errors and problems stay unmade for a right service. */
static void push_lazy(lua_State *L, int *ref)
{
    if (*ref == LUA_NOREF) {
        lua_newtable(L);
        lua_pushvalue(L, -1);
        *ref = luaL_ref(L, LUA_REGISTRYINDEX);
        return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, *ref);
}

/* ---- defaults and the strict profile ---- */

/* Calls the option table's function below its `nargs` arguments (the
 * first is always `c`), as user functions are called, leaving
 * `nresults`. An error of the function itself is kept as the key's
 * problem (reported unless the key was made from a value that is wrong
 * already), and leaves nils; one raised by user code it reached, or by
 * the resolver, stops the run as it would anywhere. */
static int call_table_function(struct resolver *r, const struct key_spec *spec, int nargs, int nresults)
{
    lua_State *L = r->L;
    int depth = r->depth, function_depth = r->function_depth;
    r->function_depth = depth;
    int status = lua_pcall(L, nargs, nresults, 0);
    r->depth = depth;
    r->function_depth = function_depth;
    r->L = L;
    if (status == LUA_OK)
        return 1;
    limits_stop_if_reached(L);
    if (!failure_message(L, -1) || failure_is_failure(L, -1))
        lua_error(L);
    push_lazy(L, &r->errors_ref);
    lua_insert(L, -2);
    lua_rawseti(L, -2, spec->index + 1);
    lua_pop(L, 1);
    r->failed[spec->index] = 1;
    for (int i = 0; i < nresults; i++)
        lua_pushnil(L);
    return 0;
}

static const char *const origins_known[] = {"default", "mix.exs", "strict", NULL};

/* A default written as a ref or a part list (keys_push_default's
 * integers and lists), on top of the stack, is replaced by its string;
 * when a key it names is wrong or not a string, the default is not
 * made: nil, and made from a wrong value. */
static void expand_default(struct resolver *r)
{
    lua_State *L = r->L;
    int parts = lua_gettop(L);
    int whole = lua_type(L, parts) == LUA_TNUMBER;
    lua_Integer n = whole ? 1 : (lua_Integer)lua_rawlen(L, parts);
    int made = 1;
    luaL_checkstack(L, (int)n + 2, "making a default");
    for (lua_Integer i = 1; i <= n; i++) {
        if (!whole)
            lua_rawgeti(L, parts, i);
        else
            lua_pushvalue(L, parts);
        if (lua_type(L, -1) == LUA_TNUMBER) {
            const struct key_spec *target = &keys_all[lua_tointeger(L, -1) - 1];
            lua_pop(L, 1);
            push_key(r, target);
            made &= lua_type(L, -1) == LUA_TSTRING && !r->wrong[target->index];
        }
    }
    if (!made) {
        lua_settop(L, parts - 1);
        lua_pushnil(L);
        r->made_from_wrong[r->depth - 1] = 1;
        return;
    }
    lua_concat(L, (int)n);
    lua_replace(L, parts);
}

static const char *compute_default(struct resolver *r, const struct key_spec *spec)
{
    lua_State *L = r->L;
    keys_push_default(L, spec);
    int type = lua_type(L, -1);
    if (spec->type == KEY_STRING && (type == LUA_TNUMBER || type == LUA_TTABLE)) {
        expand_default(r);
        return "default";
    }
    if (type != LUA_TFUNCTION) {
        r->constant[spec->index] = 1;
        return "default";
    }
    /* our own functions read the values table itself, not the view
     * users get: they write nothing, and a read through a view costs
     * more than the rest of most defaults */
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->values_ref);
    call_table_function(r, spec, 1, 2);
    const char *origin = "default";
    for (const char *const *o = origins_known; *o; o++)
        if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), *o) == 0)
            origin = *o;
    lua_pop(L, 1);
    return origin;
}

static int is_strict(struct resolver *r)
{
    resolver_push(r, "paranoia");
    int strict = lua_type(r->L, -1) == LUA_TSTRING && strcmp(lua_tostring(r->L, -1), "strict") == 0;
    lua_pop(r->L, 1);
    return strict;
}

/* paranoia = "strict": the profile's additions to the value on top. */
static const char *add_strict(struct resolver *r, const struct key_spec *spec, const char *origin)
{
    static const char *const joined[][2] = {
        {"default", "strict"}, {"config", "config+strict"}, {"cli", "cli+strict"},
        {"computed", "computed+strict"}, {"mix.exs", "mix.exs+strict"},
    };
    lua_State *L = r->L;
    if (r->failed[spec->index])
        return origin; /* its default failed: nothing to add to */
    if (lua_isnil(L, -1)) {
        /* a function of the user's gave nil: the profile adds to nothing */
        lua_pop(L, 1);
        lua_newtable(L);
    }
    r->constant[spec->index] = 0;
    keys_push_strict(L, spec);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->values_ref);
    lua_pushvalue(L, -3);
    call_table_function(r, spec, 2, 1);
    /* the profile only adds: the same length is nothing added */
    int added = lua_type(L, -1) == LUA_TTABLE && luaL_len(L, -1) != luaL_len(L, -2);
    if (!added && lua_type(L, -1) == LUA_TTABLE) {
        lua_pop(L, 1);
        return origin;
    }
    lua_remove(L, -2);
    for (size_t i = 0; i < sizeof joined / sizeof joined[0]; i++)
        if (strcmp(origin, joined[i][0]) == 0)
            return joined[i][1];
    return origin;
}

/* ---- resolution ---- */

static int from_command_line(struct resolver *r, const struct key_spec *spec)
{
    lua_State *L = r->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->ctx->overrides_ref);
    keys_push_name(L, spec);
    int found = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    return found;
}

static int get_field(lua_State *L)
{
    lua_gettable(L, 1);
    return 1;
}

/* Pushes what the user's service table says for the key and returns its
 * type. What the table inherits counts too; a metatable's __index is
 * user code, called through the protected path. */
static int push_given(struct resolver *r, const struct key_spec *spec)
{
    lua_State *L = r->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->raw_ref);
    keys_push_name(L, spec);
    if (!r->raw_has_metatable) {
        int type = lua_rawget(L, -2);
        lua_remove(L, -2);
        return type;
    }
    lua_pushcfunction(L, get_field);
    lua_insert(L, -3);
    failure_call_user(L, 2, 1, NULL);
    return lua_type(L, -1);
}

/* Makes the table on top read-only: `fresh` is a table the resolver made
 * itself, of values it took from the user's (which needs no copy); a view
 * is read-only already; anything else is copied. `c` itself is no value:
 * it is still being filled. */
static void freeze(struct resolver *r, const struct key_spec *spec, int fresh)
{
    lua_State *L = r->L;
    if (lua_type(L, -1) != LUA_TTABLE)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->view_ref);
    int is_c = lua_rawequal(L, -1, -2);
    lua_pop(L, 1);
    if (is_c)
        resolver_fail(r, spec->name, "the value is the config itself (c), not a value of its own");
    if (read_only_is_view(L, -1))
        return;
    if (fresh) {
        read_only_push_view(L, -1);
    } else {
        /* a copy may hold what metamethods gave, which no check has seen;
         * a flat table's copy is what was checked */
        int flat = read_only_is_flat(L, -1);
        read_only_push_copy(L, -1);
        if (!flat) {
            read_only_push_backing(L, -1);
            reject_marks(r, spec->name, -1);
            lua_pop(L, 1);
        }
    }
    lua_replace(L, -2);
}

/* Pushes the key's value, before it is stored (tables read-only), and
 * returns its origin. */
static const char *compute(struct resolver *r, const struct key_spec *spec)
{
    lua_State *L = r->L;
    int type = push_given(r, spec);
    const char *origin;
    int fresh = 0;
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        origin = compute_default(r, spec);
    } else {
        reject_marks(r, spec->name, -1);
        fresh = normalize(r, spec);
        if (type == LUA_TFUNCTION && spec->type != KEY_FUNCTIONS)
            origin = "computed";
        else
            origin = from_command_line(r, spec) ? "cli" : "config";
    }
    freeze(r, spec, fresh);
    return origin;
}

/* Pushes the table the key's value is kept in: right or wrong values. */
static void push_values_of(struct resolver *r, const struct key_spec *spec)
{
    if (r->wrong[spec->index])
        push_lazy(r->L, &r->wrong_ref);
    else
        lua_rawgeti(r->L, LUA_REGISTRYINDEX, r->values_ref);
}

static void push_resolved(struct resolver *r, const struct key_spec *spec)
{
    lua_State *L = r->L;
    push_values_of(r, spec);
    keys_push_name(L, spec);
    lua_rawget(L, -2);
    lua_remove(L, -2);
}

static int is_given(const char *origin)
{
    return strcmp(origin, "default") != 0 && strcmp(origin, "strict") != 0;
}

/* Checks a value the user gave (on top of the stack) as it is stored;
 * its problems are kept in the key's slot, reported in the order of the
 * option table when the service is resolved. This may run inside a
 * user's function, even in a coroutine: the problems are collected on
 * the stack at hand. Returns whether the value is wrong. */
static int check_given(struct resolver *r, const struct key_spec *spec)
{
    lua_State *L = r->L;
    struct problems found;
    problems_init(L, &found);
    if (lua_isnil(L, -2) && spec->has_default && !(spec->flags & KEY_OPTIONAL))
        problems_add(L, &found, "%s%s: the function gave nil; leave the key out for its default", r->prefix,
                     spec->name);
    else
        validate_value(L, &found, r->prefix, spec, -2);
    if (found.count == 0) {
        lua_pop(L, 1);
        return 0;
    }
    push_lazy(L, &r->by_key_ref);
    lua_insert(L, -2);
    lua_rawseti(L, -2, spec->index + 1);
    lua_pop(L, 1);
    return 1;
}

/* Records the value on top of the stack as the key's, a table as a
 * read-only view, which replaces it on the stack: what the user's table
 * holds later, or what any code does with `c`, cannot change it. A
 * table the resolver made itself (`fresh`) needs no copy. */
static void store(struct resolver *r, const struct key_spec *spec, const char *origin, int given, int given_wrong,
                  int made_from_wrong_value)
{
    lua_State *L = r->L;
    int index = spec->index;
    r->given[index] = (unsigned char)given;
    r->tainted[index] = (unsigned char)made_from_wrong_value;
    r->wrong[index] = (unsigned char)(r->failed[index] || made_from_wrong_value || given_wrong);
    if (!lua_isnil(L, -1)) {
        push_values_of(r, spec);
        keys_push_name(L, spec);
        lua_pushvalue(L, -3);
        lua_rawset(L, -3);
        lua_pop(L, 1);
    }
    if (strcmp(origin, "default") != 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->origins_ref);
        keys_push_name(L, spec);
        lua_pushstring(L, origin);
        lua_rawset(L, -3);
        lua_pop(L, 1);
    }
    r->resolved[index] = 1;
}

static void push_key(struct resolver *r, const struct key_spec *spec)
{
    if (r->resolved[spec->index]) {
        if (r->wrong[spec->index] && r->depth > 0)
            r->made_from_wrong[r->depth - 1] = 1;
        push_resolved(r, spec);
        return;
    }
    enter(r, spec);
    const char *origin = compute(r, spec);
    int given = is_given(origin);
    /* a value the user gave is checked as it is, before the strict
     * profile adds to it (which then needs a list to add to) */
    int given_wrong = given && !r->made_from_wrong[r->depth - 1] && check_given(r, spec);
    if (spec->has_strict && !given_wrong && !r->failed[spec->index] && is_strict(r)) {
        /* it reads the frozen value: no metamethod of the user's answers */
        origin = add_strict(r, spec, origin);
        freeze(r, spec, 1);
        if (given && !r->made_from_wrong[r->depth - 1] && !r->failed[spec->index])
            given_wrong = check_given(r, spec); /* what it added */
    }
    int made_from_wrong_value = r->made_from_wrong[r->depth - 1];
    leave(r);
    store(r, spec, origin, given, given_wrong, made_from_wrong_value);
    if (r->wrong[spec->index] && r->depth > 0)
        r->made_from_wrong[r->depth - 1] = 1;
}

static void resolver_push(struct resolver *r, const char *key)
{
    push_key(r, known_key(r, key, ""));
}

/* ---- the view `c` ---- */

static int view_index(lua_State *L)
{
    struct resolver *r = lua_touserdata(L, lua_upvalueindex(1));
    const char *key = luaL_checkstring(L, 2);
    /* the caller may be a coroutine: resolve on its stack, not the main
     * thread's (the function's caller puts the main thread back) */
    lua_State *caller = r->L;
    r->L = L;
    /* a failure the function caught with pcall may have left keys on the
     * stack above it: they are not being resolved any more */
    while (r->depth > r->function_depth)
        leave(r);
    resolver_push(r, key);
    r->L = caller;
    return 1;
}

/* ---- checking the defaults ---- */

/* The option table's constant defaults are the same for every service:
 * checked with the first service of the run. */
static int constants_checked;

/* A default is checked when the key matters for this service and it was
 * not made from a wrong value (that one is reported); one that could
 * not be made is reported with its reason. A default that is wrong
 * itself is reported, and so are the defaults made from it, each naming
 * what reaches systemd. */
/* keys_applies, remembered per condition for the service (the keys of
 * one directory kind share theirs). */
static int applies(struct resolver *r, const struct key_spec *spec, int values)
{
    if (!spec->when.count)
        return 1;
    for (int i = 0; i < r->conditions; i++)
        if (r->condition[i].id == spec->when.id)
            return r->condition[i].applies;
    int yes = keys_applies(r->L, spec, values);
    if (r->conditions < CONDITIONS_KEPT)
        r->condition[r->conditions++] = (struct condition){spec->when.id, yes};
    return yes;
}

static void check_default(struct resolver *r, const struct key_spec *spec, int values)
{
    lua_State *L = r->L;
    int index = spec->index;
    if (r->tainted[index])
        return;
    if (r->failed[index]) {
        push_lazy(L, &r->errors_ref);
        lua_rawgeti(L, -1, index + 1);
        problems_add(L, r->problems, "%s%s: %s", r->prefix, spec->name, failure_message(L, -1));
        lua_pop(L, 2);
        return;
    }
    if ((r->constant[index] && constants_checked) || !applies(r, spec, values))
        return;
    keys_push_name(L, spec);
    lua_rawget(L, values);
    validate_value(L, r->problems, r->prefix, spec, -1);
    lua_pop(L, 1);
}

/* Pushes what makes `cond` hold, in words, its keys in the option
 * table's order: `dirs lacks "runtime", runtime_environment_service_script
 * is not set`. */
static void push_unmet(lua_State *L, const struct key_condition *cond)
{
    int order[2] = {0, 1};
    if (cond->count == 2 && cond->specs[1]->index < cond->specs[0]->index)
        order[0] = 1, order[1] = 0;
    lua_pushliteral(L, "");
    for (int k = 0; k < cond->count; k++) {
        int i = order[k];
        if (!cond->values[i])
            lua_pushfstring(L, "%s%s is not set", k ? ", " : "", cond->keys[i]);
        else if (cond->specs[i]->type == KEY_LIST)
            lua_pushfstring(L, "%s%s lacks \"%s\"", k ? ", " : "", cond->keys[i], cond->values[i]);
        else
            lua_pushfstring(L, "%s%s is not \"%s\"", k ? ", " : "", cond->keys[i], cond->values[i]);
        lua_concat(L, 2);
    }
}

/* A ref to what is not made (the key's made_when does not hold), from a
 * key that matters: the unit would name a path nothing creates. */
static void warn_unmade(struct resolver *r, const struct key_spec *spec, int values)
{
    lua_State *L = r->L;
    if (!r->referred_by[spec->index] || keys_condition_holds(L, values, &spec->made_when))
        return;
    const struct key_spec *by = &keys_all[r->referred_by[spec->index] - 1];
    if (!applies(r, by, values))
        return;
    lua_getfield(L, values, spec->name);
    push_unmet(L, &spec->made_when);
    problems_add(L, r->warnings, "%s%s: ref.%s is %s, which nothing creates: %s", r->prefix, by->name, spec->name,
                 lua_tostring(L, -2), lua_tostring(L, -1));
    lua_pop(L, 2);
}

/* Whether the value on top is the key's constant default, or no value:
 * giving that changes nothing, wherever it is given (a shared base
 * config that says network = true). */
static int changes_nothing(lua_State *L, const struct key_spec *spec)
{
    if (lua_isnil(L, -1))
        return 1;
    if (!spec->constant_default)
        return 0;
    keys_push_default(L, spec);
    int same = lua_rawequal(L, -1, -2);
    if (!same && lua_type(L, -1) == LUA_TTABLE && lua_type(L, -2) == LUA_TTABLE) {
        read_only_push_backing(L, -2);
        same = lua_rawlen(L, -2) == 0 && lua_rawlen(L, -1) == 0;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return same;
}

/* A key given where it would do nothing (its `when` does not hold, as
 * for the strict profile's knobs without paranoia = "strict") is an
 * error, unless the value changes nothing, or the level was set on the
 * command line (--set paranoia=false to try a run without the profile):
 * then a warning. A level that is wrong itself is reported already. */
static void check_only_when(struct resolver *r, const struct key_spec *spec, int values)
{
    lua_State *L = r->L;
    const struct key_condition *when = &spec->when;
    const struct key_spec *level = when->specs[0];
    if (applies(r, spec, values) || r->wrong[level->index])
        return;
    lua_getfield(L, values, spec->name);
    int nothing = changes_nothing(L, spec);
    lua_pop(L, 1);
    if (nothing)
        return;
    if (from_command_line(r, level) && !from_command_line(r, spec))
        problems_add(L, r->warnings, "%s%s: ignored: --set %s turned off what it works with (%s = \"%s\")",
                     r->prefix, spec->name, level->name, when->keys[0], when->values[0] ? when->values[0] : "");
    else if (when->values[0])
        problems_add(L, r->problems, "%s%s: works only with %s = \"%s\"; set that, or leave %s out", r->prefix,
                     spec->name, when->keys[0], when->values[0], spec->name);
    else
        problems_add(L, r->problems, "%s%s: works only when %s is set; set it, or leave %s out", r->prefix,
                     spec->name, when->keys[0], spec->name);
}

/* Joins the wrong values to the right ones, and reports the problems in
 * the order of the option table: those of the values the user gave,
 * found as they were stored, and those of the defaults. */
static void finish_values(struct resolver *r)
{
    lua_State *L = r->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->values_ref);
    int values = lua_gettop(L);
    lua_pushnil(L);
    lua_setmetatable(L, values); /* no more resolving */
    if (r->wrong_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->wrong_ref);
        lua_pushnil(L);
        while (lua_next(L, values + 1)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, values);
        }
        lua_pop(L, 1);
    }
    push_lazy(L, &r->by_key_ref); /* values by_key */
    for (size_t i = 0; i < keys_count; i++) {
        if (!r->given[i])
            check_default(r, &keys_all[i], values);
        else if (lua_rawgeti(L, values + 1, (lua_Integer)i + 1) == LUA_TTABLE)
            problems_append(L, r->problems, -1);
        else
            lua_pop(L, 1);
        if (r->given[i] && (keys_all[i].flags & KEY_ONLY_WHEN))
            check_only_when(r, &keys_all[i], values);
        warn_unmade(r, &keys_all[i], values);
    }
    lua_pop(L, 2);
    constants_checked = 1;
}

/* Makes the table `values` reads through while the service is resolved:
 * a miss resolves the key. */
static void make_values(struct resolver *r)
{
    lua_State *L = r->L;
    lua_createtable(L, 0, (int)keys_count);
    lua_createtable(L, 0, 1);
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, view_index, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    r->values_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Most keys of most services are their constant default: those are
 * stored in one pass before anything else is resolved, with none of the
 * bookkeeping a value that could be wrong or depend on others needs.
 * The constants are checked with the first service (finish_values). */
static void store_constants(struct resolver *r, int service)
{
    lua_State *L = r->L;
    if (r->raw_has_metatable)
        return; /* its lookups are user code: resolved in the table's order */
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->values_ref);
    keys_push_names(L);
    keys_push_defaults(L); /* values names defaults */
    int values = lua_gettop(L) - 2;
    for (size_t i = 0; i < keys_count; i++) {
        const struct key_spec *spec = &keys_all[i];
        if (!spec->constant_default || spec->has_strict)
            continue;
        lua_rawgeti(L, values + 1, (lua_Integer)i + 1);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, service) != LUA_TNIL) {
            lua_pop(L, 2); /* given: resolved with the others */
            continue;
        }
        lua_pop(L, 1);
        if (lua_rawgeti(L, values + 2, (lua_Integer)i + 1) != LUA_TNIL)
            lua_rawset(L, values);
        else
            lua_pop(L, 2);
        r->constant[i] = 1;
        r->resolved[i] = 1;
    }
    lua_pop(L, 3);
}

void resolver_resolve(lua_State *L, int service, const struct run_context *ctx, const char *prefix,
                      struct problems *p, struct problems *warnings)
{
    struct resolver r = {.L = L, .ctx = ctx, .prefix = prefix, .problems = p, .warnings = warnings,
                         .expand_ref = LUA_NOREF,
                         .wrong_ref = LUA_NOREF, .errors_ref = LUA_NOREF, .by_key_ref = LUA_NOREF};
    int top = lua_gettop(L);
    (void)top; /* read by the asserts of debug builds */
    service = lua_absindex(L, service);
    r.raw_has_metatable = lua_getmetatable(L, service);
    if (r.raw_has_metatable)
        lua_pop(L, 1);
    lua_pushvalue(L, service);
    r.raw_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    make_values(&r);
    lua_createtable(L, 0, 8);
    r.origins_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r.values_ref);
    read_only_push_view(L, -1);
    r.view_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);

    store_constants(&r, service);
    for (size_t i = 0; i < keys_count; i++) {
        if (r.resolved[i])
            continue;
        push_key(&r, &keys_all[i]);
        lua_pop(L, 1);
        assert(lua_gettop(L) == top && r.depth == 0);
    }
    finish_values(&r);
    assert(lua_gettop(L) == top);

    lua_rawgeti(L, LUA_REGISTRYINDEX, r.values_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r.origins_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r.view_ref);
    int refs[] = {r.raw_ref, r.values_ref, r.wrong_ref, r.origins_ref, r.errors_ref, r.by_key_ref, r.view_ref,
                  r.expand_ref};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        luaL_unref(L, LUA_REGISTRYINDEX, refs[i]);
    assert(lua_gettop(L) == top + 3); /* values origins view */
}
