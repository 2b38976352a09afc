#include "render.h"

#include "embedded.h"
#include "escape.h"
#include "failure.h"
#include "file_io.h"
#include "hooks.h"
#include "keys.h"
#include "lua_env.h"
#include "read_only.h"
#include "template.h"
#include "unit_record.h"
#include "unit_value.h"

#include <errno.h>
#include <lauxlib.h>
#include <string.h>

#define TEMPLATE_BUFFER_MAX 256

/* Registry keys (their addresses are unique). */
static const char template_env_key;
static const char template_cache_key;

/* The units a service is made of, from the option table's `units`
 * (whose strings the table keeps alive). */
struct unit_kind {
    const char *template;
    const char *suffix; /* appended to service_name */
    struct key_condition when;
};

#define UNIT_KINDS_MAX 16
static struct unit_kind unit_kinds[UNIT_KINDS_MAX];
static size_t unit_kinds_count;

static void read_unit_kinds(lua_State *L)
{
    keys_push_options(L);
    lua_getfield(L, -1, "units");
    unit_kinds_count = 0;
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TTABLE && unit_kinds_count < UNIT_KINDS_MAX; i++) {
        struct unit_kind *kind = &unit_kinds[unit_kinds_count++];
        lua_getfield(L, -1, "template");
        lua_getfield(L, -2, "suffix");
        kind->template = lua_tostring(L, -2);
        kind->suffix = lua_tostring(L, -1);
        lua_pop(L, 2);
        if (!keys_read_condition(L, "when", &kind->when))
            luaL_error(L, "option table: units[%d]: when", (int)i);
        if (!keys_link_condition(&kind->when))
            luaL_error(L, "option table: units[%d]: when names no key", (int)i);
        lua_pop(L, 1);
    }
    lua_pop(L, 3);
}

/* Whether the service whose resolved config is at `cfg` has the unit. */
static int has_unit(lua_State *L, int cfg, const struct unit_kind *kind)
{
    return keys_condition_holds(L, cfg, &kind->when);
}

/* has_unit(c, template): whether the service has the unit of that
 * template (the main unit asks for its helpers). */
static int template_has_unit(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *template = luaL_checkstring(L, 2);
    read_only_push_backing(L, 1);
    for (size_t i = 0; i < unit_kinds_count; i++)
        if (strcmp(unit_kinds[i].template, template) == 0)
            return lua_pushboolean(L, has_unit(L, -1, &unit_kinds[i])), 1;
    return luaL_error(L, "has_unit: no unit is made from %s", template);
}

/* _emit(value): what `<%= value %>` writes. */
static int template_emit(lua_State *L)
{
    const char *problem = NULL;
    if (!unit_value_push(L, 1, &problem))
        return luaL_error(L, "cannot write this value into a unit: %s", problem);
    return 1;
}

/* _buffer(n): the table a template writes its pieces to, sized for
 * them (growing it piece by piece costs more than the rest of a run). */
static int template_buffer(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    lua_createtable(L, n < 0 ? 0 : n > TEMPLATE_BUFFER_MAX ? TEMPLATE_BUFFER_MAX : (int)n, 0);
    return 1;
}

/* _join(pieces, n): the unit's text, copied once (table.concat grows its
 * buffer as it goes and looks for metamethods on every piece). */
static int template_join(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_checkinteger(L, 2);
    size_t total = 0, len;
    /* as table.concat took them: numbers as text; a piece a template
     * skipped (a hole) is nothing */
    for (lua_Integer i = 1; i <= n; i++) {
        int type = lua_rawgeti(L, 1, i);
        if (type != LUA_TSTRING && type != LUA_TNUMBER && type != LUA_TNIL)
            return luaL_error(L, "a template's piece %d is a %s, not text", (int)i, luaL_typename(L, -1));
        if (type != LUA_TNIL) {
            lua_tolstring(L, -1, &len);
            total += len;
        }
        if (type == LUA_TNUMBER)
            lua_rawseti(L, 1, i); /* as the string it became */
        else
            lua_pop(L, 1);
    }
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, total);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, 1, i) != LUA_TNIL) {
            const char *s = lua_tolstring(L, -1, &len);
            memcpy(out, s, len);
            out += len;
        }
        lua_pop(L, 1);
    }
    luaL_pushresultsize(&b, total);
    return 1;
}

/* The escaping helpers templates call: env(assignment), cmd(command
 * line), word(data in a command line's arguments), exe(data that is a
 * command line's executable), glob(an EnvironmentFile= path); upvalue 1
 * picks the escaper. */
static void (*const escapers[])(lua_State *, const char *, size_t) = {
    escape_word, escape_command_line, escape_command_word, escape_executable, escape_file_pattern,
};

static int template_escape(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    escapers[lua_tointeger(L, lua_upvalueindex(1))](L, s, len);
    return 1;
}

/* Where systemd reads ':' in a directory name as "directory:symlink". */
#define DIRECTORY_SYMLINKS_SINCE 250

/* dir(name, version): one RuntimeDirectory=-style name. */
static int template_dir(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    escape_directory_name(L, s, len, luaL_checkinteger(L, 2) >= DIRECTORY_SYMLINKS_SINCE);
    return 1;
}

/* paths(list): the list's paths escaped, space-joined. Lists reach
 * templates as read-only views, which these helpers read through. */
static int template_paths(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    read_only_push_backing(L, 1);
    lua_replace(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, 1); i <= n; i++) {
        size_t len;
        if (i > 1)
            luaL_addchar(&b, ' ');
        lua_rawgeti(L, 1, i);
        const char *s = luaL_checklstring(L, -1, &len);
        escape_word(L, s, len);
        lua_remove(L, -2);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return 1;
}

/* has(list, value): whether value is an element of list. In C because
 * templates call it a dozen times per unit. */
static int template_has(lua_State *L)
{
    read_only_push_backing(L, 1);
    lua_replace(L, 1);
    if (lua_type(L, 1) == LUA_TTABLE)
        for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, 1); i <= n; i++) {
            lua_rawgeti(L, 1, i);
            if (lua_rawequal(L, -1, 2))
                return lua_pushboolean(L, 1), 1;
            lua_pop(L, 1);
        }
    lua_pushboolean(L, 0);
    return 1;
}

static int forbid_global_assignment(lua_State *L)
{
    return luaL_error(L, "templates cannot set globals (tried '%s'); use local", luaL_tolstring(L, 2, NULL));
}

static int unknown_global(lua_State *L)
{
    return luaL_error(L, "unknown name '%s' in a template", luaL_tolstring(L, 2, NULL));
}

/* Templates see the helpers of unitforge.template, a few safe standard
 * functions, and nothing they could write through. */
static void push_template_env(lua_State *L)
{
    static const char *const std_names[] = {"ipairs", "pairs", "tostring", "tonumber", "type",
                                            "error", "assert", "select", "next", "string",
                                            "table", "math", "utf8", NULL};
    lua_newtable(L);
    for (const char *const *n = std_names; *n; n++) {
        lua_getglobal(L, *n);
        lua_setfield(L, -2, *n);
    }
    lua_env_require(L, "unitforge.template");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -5);
    }
    lua_pop(L, 1);
    /* what the option table says about directories and versions, frozen:
     * a user template must not change what the next one sees */
    static const char *const from_options[] = {"dir_kinds", "dir_env_order", "dir_directive_order", "available",
                                               NULL};
    keys_push_options(L);
    for (const char *const *n = from_options; *n; n++) {
        lua_getfield(L, -1, *n);
        read_only_push_copy(L, -1);
        lua_setfield(L, -4, *n);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    static const luaL_Reg helpers[] = {
        {"_emit", template_emit}, {"paths", template_paths}, {"has", template_has}, {"dir", template_dir},
        {"has_unit", template_has_unit}, {"_buffer", template_buffer}, {"_join", template_join}, {NULL, NULL},
    };
    luaL_setfuncs(L, helpers, 0);
    static const char *const escaper_names[] = {"env", "cmd", "word", "exe", "glob"};
    for (int i = 0; i < 5; i++) {
        lua_pushinteger(L, i);
        lua_pushcclosure(L, template_escape, 1);
        lua_setfield(L, -2, escaper_names[i]);
    }
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, unknown_global);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, forbid_global_assignment);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
}

void render_init(lua_State *L)
{
    read_unit_kinds(L);
    push_template_env(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &template_env_key);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &template_cache_key);
}

/* Pushes the cache entry for `key` and returns its type. */
static int cache_get(lua_State *L, const char *key)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &template_cache_key);
    int type = lua_getfield(L, -1, key);
    lua_remove(L, -2);
    return type;
}

/* Stores the value on top of the stack under `key`, leaving it there. */
static void cache_set(lua_State *L, const char *key)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &template_cache_key);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, key);
    lua_pop(L, 1);
}

static void compile(lua_State *L, const char *chunkname, const char *text, size_t len)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &template_env_key);
    template_compile(L, chunkname, text, len, -1);
    lua_remove(L, -2);
}

/* Pushes the compiled template at `path` and returns 1, or returns 0
 * (pushing nothing) when there is no such file. */
static int push_override(lua_State *L, const char *path)
{
    int type = cache_get(L, path);
    if (type == LUA_TFUNCTION)
        return 1;
    lua_pop(L, 1);
    if (type == LUA_TBOOLEAN)
        return 0;
    size_t len;
    enum file_status status = file_push_regular(L, path, &len);
    if (status == FILE_MISSING) {
        lua_pushboolean(L, 0);
        cache_set(L, path);
        lua_pop(L, 1);
        return 0;
    }
    if (status != FILE_OK)
        failure_raise(L, EXIT_INVALID_CONFIG, "cannot read template %s: %s", path, file_status_text(status));
    const char *text = lua_tostring(L, -1);
    lua_pushfstring(L, "@%s", path);
    compile(L, lua_tostring(L, -1), text, len);
    lua_replace(L, -3); /* over the text */
    lua_pop(L, 1);
    cache_set(L, path);
    return 1;
}

static void push_builtin(lua_State *L, const char *name)
{
    if (cache_get(L, name) == LUA_TFUNCTION)
        return;
    lua_pop(L, 1);
    /* compiled when unitforge was built (cmake/compile_lua.c) */
    const struct embedded_file *code = embedded_find(embedded_template_code, name);
    if (!code || luaL_loadbufferx(L, code->data, code->len, name, "b") != LUA_OK)
        luaL_error(L, "unitforge's template %s cannot be loaded", name);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &template_env_key);
    if (!lua_setupvalue(L, -2, 1))
        lua_pop(L, 1);
    cache_set(L, name);
}

/* Pushes the compiled template: the file of that name in templates_dir
 * when there is one, else the built-in one (mix_systemd failed without
 * `init`; unitforge falls back file by file). */
static void push_template(lua_State *L, const char *templates_dir, const char *name)
{
    const char *path = lua_pushfstring(L, "%s/%s", templates_dir ? templates_dir : ".", name);
    int found = push_override(L, path);
    lua_remove(L, found ? -2 : -1);
    if (!found)
        push_builtin(L, name);
}

/* `view` is the read-only view of `cfg` the template gets: a template
 * must not change what is written where. (Built-in ones too: they call
 * the shared helpers, which a user's template may have replaced.) */
static void render_unit(lua_State *L, int cfg, int view, int units, const struct unit_kind *kind)
{
    lua_getfield(L, cfg, "templates_dir");
    lua_getfield(L, cfg, "service_name");
    const char *service = lua_tostring(L, -1);
    lua_pushfstring(L, "%s%s", service ? service : "", kind->suffix);
    push_template(L, lua_tostring(L, -3), kind->template);
    lua_pushvalue(L, view);
    failure_call_user(L, 1, 1, NULL);
    if (lua_type(L, -1) != LUA_TSTRING)
        failure_raise(L, EXIT_INVALID_CONFIG, "template %s returned a %s, not text", kind->template,
                      luaL_typename(L, -1));
    unit_record_push(L, cfg);
    lua_rawseti(L, units, (lua_Integer)lua_rawlen(L, units) + 1);
    lua_pop(L, 2); /* service_name, templates_dir */
}

void render_service(lua_State *L, int cfg, int view, int units)
{
    cfg = lua_absindex(L, cfg);
    view = lua_absindex(L, view);
    units = lua_absindex(L, units);
    lua_Integer first = (lua_Integer)lua_rawlen(L, units) + 1;
    for (size_t i = 0; i < unit_kinds_count; i++)
        if (has_unit(L, cfg, &unit_kinds[i]))
            render_unit(L, cfg, view, units, &unit_kinds[i]);
    hooks_post_process(L, cfg, view, units, first);
}
