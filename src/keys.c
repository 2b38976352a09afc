#include "keys.h"

#include "embedded.h"
#include "failure.h"
#include "read_only.h"

#include <assert.h>
#include <lauxlib.h>
#include <string.h>

#define OPTIONS_MODULE "unitforge.options"

static struct key_spec key_table[KEYS_MAX];
const struct key_spec *keys_all = key_table;
size_t keys_count;

/* Registry references (integers, the fastest to look up): the option
 * table, and per key index its name, default and strict addition. */
static int options_ref = LUA_NOREF, names_ref = LUA_NOREF, defaults_ref = LUA_NOREF, stricts_ref = LUA_NOREF;

/* Room for every key's choices and gates, each list NULL-terminated. */
#define CHOICES_MAX 512
static const char *choice_pool[CHOICES_MAX];
static size_t choices_used;
static struct key_gate gate_pool[64];
static size_t gates_used;

static const char *const type_names[] = {
    [KEY_STRING] = "string", [KEY_INTEGER] = "integer", [KEY_BOOLEAN] = "boolean", [KEY_SCALAR] = "scalar",
    [KEY_LIST] = "list", [KEY_TABLE] = "table", [KEY_FUNCTIONS] = "functions",
};

static const char *const format_names[] = {
    [FORMAT_TEXT] = "text", [FORMAT_APP_NAME] = "app_name", [FORMAT_UNIT_PREFIX] = "unit_prefix",
    [FORMAT_UNIT_NAME] = "unit_name", [FORMAT_USER_NAME] = "user_name", [FORMAT_ABSOLUTE_PATH] = "absolute_path",
    [FORMAT_SANDBOX_PATH] = "sandbox_path", [FORMAT_RELATIVE_PATH] = "relative_path",
    [FORMAT_DIRECTORY_NAME] = "directory_name", [FORMAT_SYSLOG_IDENTIFIER] = "syslog_identifier",
    [FORMAT_OCTAL_MODE] = "octal_mode", [FORMAT_ENV_ASSIGNMENT] = "env_assignment", [FORMAT_ENV_FILE] = "env_file",
    [FORMAT_COMMAND] = "command", [FORMAT_TIME_SPAN] = "time_span", [FORMAT_LIMIT] = "limit",
    [FORMAT_CHOICE] = "choice", [FORMAT_KEY_NAME] = "key_name", [FORMAT_CAPABILITY] = "capability",
    [FORMAT_ADDRESS_FAMILY] = "address_family", [FORMAT_SYSCALL_GROUP] = "syscall_group",
    [FORMAT_DIRECTIVES] = "directives", [FORMAT_HOOKS] = "hooks", [FORMAT_FOLDER_NAME] = "folder_name",
    [FORMAT_FOLDER] = "folder", [FORMAT_VERSION] = "version",
};

/* The option table is ours: a mistake in it is a bug, reported as one. */
#define TABLE_BUG(L, spec, what) luaL_error(L, "option table: %s: %s", (spec)->name, what)

static int name_index(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Reads entry field `field` (a string, or nil for `fallback`) as one of
 * `names`. */
static int read_name(lua_State *L, const struct key_spec *spec, const char *field, const char *const *names,
                     size_t n, const char *fallback)
{
    lua_getfield(L, -1, field);
    const char *name = lua_isnil(L, -1) ? fallback : lua_tostring(L, -1);
    int found = name ? name_index(names, n, name) : -1;
    lua_pop(L, 1);
    if (found < 0)
        TABLE_BUG(L, spec, field);
    return found;
}

static int read_flag(lua_State *L, const char *field, unsigned flag)
{
    lua_getfield(L, -1, field);
    int set = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return set ? (int)flag : 0;
}

/* The strings of the option table stay alive with it, in the registry. */
static const char *const *read_choices(lua_State *L, struct key_spec *spec)
{
    if (lua_getfield(L, -1, "choices") != LUA_TTABLE) {
        lua_pop(L, 1);
        return NULL;
    }
    const char **list = &choice_pool[choices_used];
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
        if (choices_used + 2 > CHOICES_MAX)
            TABLE_BUG(L, spec, "too many choices");
        choice_pool[choices_used++] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    choice_pool[choices_used++] = NULL;
    lua_pop(L, 2);
    return list;
}

static const struct key_gate *read_gates(lua_State *L, struct key_spec *spec)
{
    if (lua_getfield(L, -1, "gates") != LUA_TTABLE) {
        lua_pop(L, 1);
        return NULL;
    }
    struct key_gate *list = &gate_pool[gates_used];
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (gates_used + 2 > sizeof gate_pool / sizeof gate_pool[0] || !lua_isinteger(L, -1))
            TABLE_BUG(L, spec, "gates");
        gate_pool[gates_used++] = (struct key_gate){lua_tostring(L, -2), lua_tointeger(L, -1)};
        lua_pop(L, 1);
    }
    gate_pool[gates_used++] = (struct key_gate){NULL, 0};
    lua_pop(L, 1);
    return list;
}

int keys_read_condition(lua_State *L, const char *field, struct key_condition *when)
{
    *when = (struct key_condition){0};
    int ok = 1;
    if (lua_getfield(L, -1, field) == LUA_TTABLE) {
        when->id = lua_topointer(L, -1);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            ok &= when->count < 2 && lua_type(L, -2) == LUA_TSTRING;
            if (when->count < 2) {
                when->keys[when->count] = lua_tostring(L, -2);
                when->values[when->count++] = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
            }
            lua_pop(L, 1);
        }
        ok &= when->count > 0;
    }
    lua_pop(L, 1);
    return ok;
}

/* Stores the entry's default (tables made read-only once: every service
 * shares them) and strict function at the key's index. */
static void keep_functions(lua_State *L, struct key_spec *spec, int defaults, int stricts)
{
    int type = lua_getfield(L, -1, "default");
    spec->has_default = type != LUA_TNIL;
    spec->constant_default = type != LUA_TFUNCTION && !(spec->type == KEY_STRING && type == LUA_TTABLE);
    if (spec->type == KEY_STRING)
        lua_pushvalue(L, -1); /* a ref or a part list: read by the resolver only */
    else
        read_only_push_copy(L, -1);
    lua_rawseti(L, defaults, spec->index + 1);
    lua_pop(L, 1);
    lua_getfield(L, -1, "strict");
    spec->has_strict = lua_type(L, -1) == LUA_TFUNCTION;
    lua_rawseti(L, stricts, spec->index + 1);
}

static void read_entry(lua_State *L, struct key_spec *spec, int defaults, int stricts)
{
    if (lua_getfield(L, -1, "name") != LUA_TSTRING)
        luaL_error(L, "option table: key %d has no name", spec->index + 1);
    spec->name = lua_tostring(L, -1);
    lua_pop(L, 1);
    spec->type = (enum key_type)read_name(L, spec, "type", type_names, sizeof type_names / sizeof *type_names, NULL);
    spec->format = (enum key_format)read_name(L, spec, "format", format_names,
                                              sizeof format_names / sizeof *format_names, "text");
    spec->flags = (unsigned)(read_flag(L, "optional", KEY_OPTIONAL) | read_flag(L, "raw", KEY_WRITTEN_RAW) |
                             read_flag(L, "parts", KEY_PARTS) | read_flag(L, "only_when", KEY_ONLY_WHEN));
    spec->choices = read_choices(L, spec);
    spec->gates = read_gates(L, spec);
    lua_getfield(L, -1, "since");
    spec->since = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (!keys_read_condition(L, "when", &spec->when))
        TABLE_BUG(L, spec, "when: one or two conditions");
    if (!keys_read_condition(L, "made_when", &spec->made_when))
        TABLE_BUG(L, spec, "made_when: one or two conditions");
    keep_functions(L, spec, defaults, stricts);
}

/* The key named by a ref marker { ref = KEY } at the top, or NULL. */
static const char *ref_marker(lua_State *L)
{
    if (lua_type(L, -1) != LUA_TTABLE)
        return NULL;
    const char *key = lua_getfield(L, -1, "ref") == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1); /* the marker keeps the name alive */
    return key;
}

/* A ref in a default (a string key's) as the index + 1 of its key, so
 * that the resolver reads it without looking up a name. */
static void push_ref_index(lua_State *L, const struct key_spec *spec, const char *target)
{
    const struct key_spec *key = keys_find(target);
    if (!key)
        TABLE_BUG(L, spec, "a ref in the default names no key");
    lua_pushinteger(L, key->index + 1);
}

/* Defaults written as refs and part lists become integers (a ref) and
 * lists of strings and integers. */
static void index_default_refs(lua_State *L, int defaults)
{
    for (size_t i = 0; i < keys_count; i++) {
        struct key_spec *spec = &key_table[i];
        lua_rawgeti(L, defaults, (lua_Integer)i + 1);
        const char *target = ref_marker(L);
        if (target) {
            spec->constant_default = 0;
            push_ref_index(L, spec, target);
            lua_rawseti(L, defaults, (lua_Integer)i + 1);
        } else if (spec->type == KEY_STRING && lua_type(L, -1) == LUA_TTABLE) {
            lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
            lua_createtable(L, (int)n, 0);
            for (lua_Integer p = 1; p <= n; p++) {
                lua_rawgeti(L, -2, p);
                if ((target = ref_marker(L))) {
                    lua_pop(L, 1);
                    push_ref_index(L, spec, target);
                } else if (lua_type(L, -1) != LUA_TSTRING) {
                    TABLE_BUG(L, spec, "a part list of the default holds no string or ref");
                }
                lua_rawseti(L, -2, p);
            }
            lua_rawseti(L, defaults, (lua_Integer)i + 1);
        }
        lua_pop(L, 1);
    }
}

void keys_load(lua_State *L, int host)
{
    int top = lua_gettop(L);
    (void)top; /* read by the assert of debug builds */
    host = lua_absindex(L, host);
    const struct embedded_file *file = embedded_find(embedded_modules, OPTIONS_MODULE);
    if (!file || luaL_loadbufferx(L, file->data, file->len, "=" OPTIONS_MODULE ".lua", "b") != LUA_OK)
        luaL_error(L, "unitforge's option table cannot be loaded");
    lua_pushvalue(L, host);
    lua_call(L, 1, 1); /* our own table, under the run's protection */
    lua_pushvalue(L, -1);
    options_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "keys"); /* options keys */
    lua_newtable(L);
    int defaults = lua_gettop(L);
    lua_newtable(L);
    int stricts = lua_gettop(L);
    lua_newtable(L);
    int names = lua_gettop(L);
    keys_count = 0;
    choices_used = gates_used = 0;
    for (lua_Integer i = 1; lua_rawgeti(L, defaults - 1, i) == LUA_TTABLE; i++) {
        if (keys_count == KEYS_MAX)
            luaL_error(L, "option table: more than %d keys: raise KEYS_MAX", KEYS_MAX);
        struct key_spec *spec = &key_table[keys_count];
        *spec = (struct key_spec){.index = (int)keys_count};
        read_entry(L, spec, defaults, stricts);
        lua_getfield(L, -1, "name");
        lua_rawseti(L, names, (lua_Integer)keys_count + 1);
        keys_count++;
        lua_pop(L, 1);
    }
    lua_pop(L, 1); /* the nil after the last entry */
    for (size_t i = 0; i < keys_count; i++)
        if (!keys_link_condition(&key_table[i].when) || !keys_link_condition(&key_table[i].made_when))
            TABLE_BUG(L, &key_table[i], "when or made_when names no key");
    index_default_refs(L, defaults);
    names_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    stricts_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    defaults_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 2); /* keys, options */
    assert(lua_gettop(L) == top);
}

void keys_push_options(lua_State *L)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, options_ref);
}

void keys_push_names(lua_State *L)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, names_ref);
}

void keys_push_defaults(lua_State *L)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, defaults_ref);
}

void keys_push_name(lua_State *L, const struct key_spec *spec)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, names_ref);
    lua_rawgeti(L, -1, spec->index + 1);
    lua_replace(L, -2);
}

void keys_push_default(lua_State *L, const struct key_spec *spec)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, defaults_ref);
    lua_rawgeti(L, -1, spec->index + 1);
    lua_replace(L, -2);
}

void keys_push_strict(lua_State *L, const struct key_spec *spec)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, stricts_ref);
    lua_rawgeti(L, -1, spec->index + 1);
    lua_replace(L, -2);
}

int keys_applies(lua_State *L, const struct key_spec *spec, int cfg)
{
    return keys_condition_holds(L, cfg, &spec->when);
}

/* Whether `key` at the resolved config `cfg` has `value` (see
 * struct key_condition). */
static int key_has(lua_State *L, int cfg, const struct key_spec *key, const char *when_value)
{
    cfg = lua_absindex(L, cfg);
    keys_push_name(L, key);
    int type = lua_rawget(L, cfg);
    int applies;
    if (!when_value) {
        applies = lua_toboolean(L, -1);
    } else if (type == LUA_TTABLE) {
        read_only_push_backing(L, -1); /* a list */
        applies = 0;
        for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, -1); !applies && i <= n; i++) {
            lua_rawgeti(L, -1, i);
            applies = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), when_value) == 0;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    } else {
        applies = type == LUA_TSTRING && strcmp(lua_tostring(L, -1), when_value) == 0;
    }
    lua_pop(L, 1);
    return applies;
}

int keys_condition_holds(lua_State *L, int cfg, const struct key_condition *when)
{
    if (!when->count)
        return 1;
    for (int i = 0; i < when->count; i++)
        if (key_has(L, cfg, when->specs[i], when->values[i]))
            return 1;
    return 0;
}

int keys_link_condition(struct key_condition *when)
{
    int linked = 1;
    for (int i = 0; i < when->count; i++)
        linked &= (when->specs[i] = keys_find(when->keys[i])) != NULL;
    return linked;
}

/* Lookups happen for every key of every service, several times: an
 * open-addressing hash table of the names, built on first use. */
#define KEY_SLOTS 512
static const struct key_spec *key_slots[KEY_SLOTS];
_Static_assert(KEYS_MAX * 2 <= KEY_SLOTS, "the name table must stay sparse");

static unsigned hash_name(const char *name)
{
    unsigned h = 2166136261u;
    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    return h;
}

static void build_key_slots(void)
{
    memset(key_slots, 0, sizeof key_slots);
    for (size_t i = 0; i < keys_count; i++) {
        unsigned slot = hash_name(keys_all[i].name) % KEY_SLOTS;
        while (key_slots[slot])
            slot = (slot + 1) % KEY_SLOTS;
        key_slots[slot] = &keys_all[i];
    }
}

const struct key_spec *keys_find(const char *name)
{
    static size_t built_for;
    if (built_for != keys_count) {
        build_key_slots();
        built_for = keys_count;
    }
    for (unsigned slot = hash_name(name) % KEY_SLOTS; key_slots[slot]; slot = (slot + 1) % KEY_SLOTS)
        if (strcmp(key_slots[slot]->name, name) == 0)
            return key_slots[slot];
    return NULL;
}

/* Levenshtein distance, capped: names longer than this are never close. */
#define SUGGEST_MAX_LEN 64

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[SUGGEST_MAX_LEN + 1];
    if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diagonal + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

const char *keys_suggest(const char *name)
{
    const char *best = NULL;
    size_t limit = strlen(name) / 3 + 1, best_distance = 0;
    if (limit > 3)
        limit = 3;
    for (size_t i = 0; i < keys_count; i++) {
        size_t d = edit_distance(name, keys_all[i].name);
        if (d <= limit && (!best || d < best_distance)) {
            best = keys_all[i].name;
            best_distance = d;
        }
    }
    return best;
}

const char *keys_push_unknown(lua_State *L, const char *name)
{
    /* a key of an older mix_systemd: what took its place */
    lua_rawgeti(L, LUA_REGISTRYINDEX, options_ref);
    lua_getfield(L, -1, "obsolete");
    lua_getfield(L, -1, name); /* options obsolete why */
    if (lua_type(L, -1) == LUA_TSTRING) {
        const char *why = lua_pushfstring(L, "obsolete key of mix_systemd: %s", lua_tostring(L, -1));
        lua_replace(L, -4);
        lua_pop(L, 2);
        return why;
    }
    lua_pop(L, 3);
    const char *hint = keys_suggest(name);
    if (hint)
        return lua_pushfstring(L, "unknown key (did you mean '%s'?)", hint);
    return lua_pushliteral(L, "unknown key");
}
