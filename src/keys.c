#include "keys.h"

#include "escape.h"
#include "file_io.h"
#include "mix_project.h"
#include "resolver.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

static const char *push_string(struct resolver *r, const char *s)
{
    lua_pushstring(resolver_state(r), s);
    return "default";
}

static const char *push_path(struct resolver *r, const char *parent_key, const char *child)
{
    const char *parent = resolver_string(r, parent_key);
    lua_State *L = resolver_state(r);
    if (parent)
        lua_pushfstring(L, "%s/%s", parent, child);
    else
        lua_pushnil(L);
    return "default";
}

static const char *push_copy_of(struct resolver *r, const char *key)
{
    resolver_push(r, key);
    return "default";
}

static const char *push_empty_list(struct resolver *r)
{
    lua_newtable(resolver_state(r));
    return "default";
}

static const char *push_false(struct resolver *r)
{
    lua_pushboolean(resolver_state(r), 0);
    return "default";
}

/* ---- names ---- */

/* Registry key of the app name read from mix.exs: read once per run,
 * and only when a service needs it. */
static const char mix_app_name_key;

/* Pushes the app name of the mix.exs beside the config, or a string
 * saying why there is none (returns 0 then). */
static int push_mix_app_name(lua_State *L, const char *config_dir)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &mix_app_name_key) == LUA_TNIL) {
        lua_pop(L, 1);
        const char *path = lua_pushfstring(L, "%s/mix.exs", config_dir);
        int base = lua_gettop(L);
        size_t len;
        char name[256];
        enum file_status status = file_push_regular(L, path, &len);
        if (status == FILE_MISSING)
            lua_pushfstring(L, "no %s to read it from", path);
        else if (status != FILE_OK)
            lua_pushfstring(L, "%s cannot be read: %s", path, file_status_text(status));
        else if (mix_project_parse_app_name(lua_tostring(L, -1), len, name, sizeof name)) {
            lua_createtable(L, 1, 0); /* { name }: a found name, unlike a reason */
            lua_pushstring(L, name);
            lua_rawseti(L, -2, 1);
        } else
            lua_pushfstring(L, "%s has no `app: :name` in the keyword list of project/0", path);
        lua_replace(L, base); /* the result, over the path */
        lua_settop(L, base);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &mix_app_name_key);
    }
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_rawgeti(L, -1, 1);
        lua_remove(L, -2);
        return 1;
    }
    return 0;
}

static const char *default_app_name(struct resolver *r)
{
    const struct run_context *ctx = resolver_context(r);
    if (!push_mix_app_name(resolver_state(r), ctx->config_dir))
        resolver_fail(r, "app_name", "not set, and %s", lua_tostring(resolver_state(r), -1));
    return "mix.exs";
}

/* foo_bar -> FooBar, my_API -> MyApi */
static const char *default_module_name(struct resolver *r)
{
    const char *app = resolver_string(r, "app_name");
    luaL_Buffer b;
    luaL_buffinit(resolver_state(r), &b);
    for (int start_of_piece = 1; app && *app; app++) {
        if (*app == '_') {
            start_of_piece = 1;
            continue;
        }
        luaL_addchar(&b, (char)(start_of_piece ? toupper((unsigned char)*app) : tolower((unsigned char)*app)));
        start_of_piece = 0;
    }
    luaL_pushresult(&b);
    return "default";
}

static const char *default_ext_name(struct resolver *r)
{
    lua_State *L = resolver_state(r);
    const char *app = resolver_string(r, "app_name");
    luaL_gsub(L, app ? app : "", "_", "-");
    return "default";
}

static const char *default_release_name(struct resolver *r) { return push_copy_of(r, "app_name"); }
static const char *default_service_name(struct resolver *r) { return push_copy_of(r, "ext_name"); }
static const char *default_app_user(struct resolver *r) { return push_copy_of(r, "ext_name"); }
static const char *default_syslog_identifier(struct resolver *r) { return push_copy_of(r, "service_name"); }
static const char *default_root_directory(struct resolver *r) { return push_copy_of(r, "current_dir"); }

static int is_true(struct resolver *r, const char *key)
{
    resolver_push(r, key);
    int yes = lua_toboolean(resolver_state(r), -1);
    lua_pop(resolver_state(r), 1);
    return yes;
}

/* A host path as the service sees it: under chroot, paths below
 * root_directory are relative to it (systemd resolves WorkingDirectory=
 * and Exec paths inside the root). mix_systemd kept host paths, so its
 * chrooted units could not start. */
static void push_service_path(struct resolver *r, const char *dir, const char *rest)
{
    lua_State *L = resolver_state(r);
    const char *root = is_true(r, "chroot") ? resolver_string(r, "root_directory") : NULL;
    size_t root_len = root ? strlen(root) : 0;
    while (root_len > 1 && root[root_len - 1] == '/')
        root_len--;
    if (dir && root && strncmp(dir, root, root_len) == 0 && (dir[root_len] == '/' || dir[root_len] == '\0'))
        dir += root_len;
    lua_pushfstring(L, "%s%s", dir && *dir ? dir : (rest ? "" : "/"), rest ? rest : "");
}

/* <current_dir>/bin/<release> as a word of a command line: its
 * executable, or the first argument of a wrapper (where systemd would
 * substitute a '$'). */
static void push_command_path(struct resolver *r, const char *current, const char *release, int executable)
{
    lua_State *L = resolver_state(r);
    push_service_path(r, current, lua_pushfstring(L, "/bin/%s", release ? release : ""));
    size_t len;
    const char *path = lua_tolstring(L, -1, &len);
    if (executable)
        escape_executable(L, path, len);
    else
        escape_command_word(L, path, len);
    lua_replace(L, -3);
    lua_pop(L, 1);
}

static const char *default_working_dir(struct resolver *r)
{
    push_service_path(r, resolver_string(r, "current_dir"), NULL);
    return "default";
}

/* ---- paths ---- */

static const char *default_base_dir(struct resolver *r) { return push_string(r, "/srv"); }
static const char *default_deploy_dir(struct resolver *r)
{
    const char *ext = resolver_string(r, "ext_name");
    return push_path(r, "base_dir", ext ? ext : "");
}
static const char *default_releases_dir(struct resolver *r) { return push_path(r, "deploy_dir", "releases"); }
static const char *default_scripts_dir(struct resolver *r) { return push_path(r, "deploy_dir", "bin"); }
static const char *default_flags_dir(struct resolver *r) { return push_path(r, "deploy_dir", "flags"); }
static const char *default_current_dir(struct resolver *r) { return push_path(r, "deploy_dir", "current"); }

static const char *default_mix_env(struct resolver *r) { return push_string(r, resolver_context(r)->env); }
static const char *default_env_lang(struct resolver *r) { return push_string(r, "en_US.utf8"); }

static const char *default_output_dir(struct resolver *r)
{
    const struct run_context *ctx = resolver_context(r);
    lua_State *L = resolver_state(r);
    if (ctx->out) {
        lua_pushfstring(L, "%s/lib/systemd/system", ctx->out);
    } else {
        const char *mix_env = resolver_string(r, "mix_env");
        lua_pushfstring(L, "_build/%s/systemd/lib/systemd/system",
                        mix_env && *mix_env ? mix_env : ctx->env);
    }
    return "default";
}

static const char *default_templates_dir(struct resolver *r)
{
    lua_pushfstring(resolver_state(r), "%s/rel/templates/systemd", resolver_context(r)->config_dir);
    return "default";
}

/* ---- directories (OPTIONS.md section 2) ---- */

#define DIR_KIND_DEFAULTS(kind, base)                                                  \
    static const char *default_##kind##_directory(struct resolver *r)                  \
    {                                                                                  \
        return push_copy_of(r, "service_name");                                        \
    }                                                                                  \
    static const char *default_##kind##_directory_base(struct resolver *r)             \
    {                                                                                  \
        return push_string(r, base);                                                   \
    }                                                                                  \
    static const char *default_##kind##_dir(struct resolver *r)                        \
    {                                                                                  \
        const char *name = resolver_string(r, #kind "_directory");                     \
        return push_path(r, #kind "_directory_base", name ? name : "");                \
    }

DIR_KIND_DEFAULTS(runtime, "/run")
DIR_KIND_DEFAULTS(configuration, "/etc")
DIR_KIND_DEFAULTS(logs, "/var/log")
DIR_KIND_DEFAULTS(state, "/var/lib")
DIR_KIND_DEFAULTS(cache, "/var/cache")
DIR_KIND_DEFAULTS(tmp, "/var/tmp")

static const char *default_directory_mode(struct resolver *r) { return push_string(r, "750"); }
static const char *default_preserve(struct resolver *r) { return push_string(r, "no"); }

/* ---- process ---- */

static const char *default_release_system(struct resolver *r) { return push_string(r, "mix"); }
static const char *default_service_type(struct resolver *r) { return push_string(r, "simple"); }

static const char *default_start_command(struct resolver *r)
{
    const char *system = resolver_string(r, "release_system");
    const char *type = resolver_string(r, "service_type");
    int forking = type && strcmp(type, "forking") == 0;
    if (system && strcmp(system, "distillery") == 0)
        return push_string(r, forking ? "start" : "foreground");
    if (system && strcmp(system, "none") == 0) {
        lua_pushnil(resolver_state(r));
        return "default";
    }
    return push_string(r, forking ? "daemon" : "start");
}

static int release_system_is_none(struct resolver *r)
{
    const char *system = resolver_string(r, "release_system");
    return system && strcmp(system, "none") == 0;
}

static const char *default_exec_start(struct resolver *r)
{
    if (release_system_is_none(r))
        resolver_fail(r, "exec_start", "required when release_system is \"none\"");
    lua_State *L = resolver_state(r);
    const char *wrap = resolver_string(r, "exec_start_wrap");
    const char *current = resolver_string(r, "current_dir");
    const char *release = resolver_string(r, "release_name");
    const char *command = resolver_string(r, "start_command");
    int base = lua_gettop(L);
    int wrapped = wrap && *wrap;
    if (wrapped) {
        /* mix_systemd glued the wrapper onto the command (OPTIONS.md 7.1) */
        size_t len = strlen(wrap);
        while (len > 0 && wrap[len - 1] == ' ')
            len--;
        lua_pushlstring(L, wrap, len);
        lua_pushliteral(L, " ");
    }
    push_command_path(r, current, release, !wrapped);
    if (command && *command)
        lua_pushfstring(L, " %s", command);
    lua_concat(L, lua_gettop(L) - base);
    return "default";
}

static const char *default_exec_stop(struct resolver *r)
{
    if (release_system_is_none(r)) {
        lua_pushnil(resolver_state(r));
        return "default";
    }
    lua_State *L = resolver_state(r);
    const char *current = resolver_string(r, "current_dir");
    const char *release = resolver_string(r, "release_name");
    push_command_path(r, current, release, 1);
    lua_pushliteral(L, " stop");
    lua_concat(L, 2);
    return "default";
}

static const char *default_pid_file(struct resolver *r)
{
    const char *base = resolver_string(r, "runtime_directory_base");
    const char *dir = resolver_string(r, "runtime_directory");
    const char *app = resolver_string(r, "app_name");
    lua_pushfstring(resolver_state(r), "%s/%s/%s.pid", base ? base : "", dir ? dir : "", app ? app : "");
    return "default";
}

/* systemd refuses Restart=always for oneshot services: their default is
 * systemd's own, "no". */
static const char *default_restart(struct resolver *r)
{
    const char *type = resolver_string(r, "service_type");
    return push_string(r, type && strcmp(type, "oneshot") == 0 ? "no" : "always");
}
static int is_strict(struct resolver *r)
{
    resolver_push(r, "paranoia");
    const char *s = lua_type(resolver_state(r), -1) == LUA_TSTRING ? lua_tostring(resolver_state(r), -1) : NULL;
    int strict = s && strcmp(s, "strict") == 0;
    lua_pop(resolver_state(r), 1);
    return strict;
}

/* Files the release creates are private to it under the strict profile. */
static const char *default_umask(struct resolver *r) { return push_string(r, is_strict(r) ? "0077" : "0027"); }

static const char *default_true(struct resolver *r)
{
    lua_pushboolean(resolver_state(r), 1);
    return "default";
}
static const char *default_restart_method(struct resolver *r) { return push_string(r, "systemctl"); }

static const char *default_limit_nofile(struct resolver *r)
{
    lua_pushinteger(resolver_state(r), 65535);
    return "default";
}

static const char *default_systemd_version(struct resolver *r)
{
    lua_pushinteger(resolver_state(r), 235);
    return "default";
}

static const char *default_expand_keys(struct resolver *r)
{
    static const char *const names[] = {
        "env_files", "env_vars", "runtime_environment_service_script", "exec_start",
        "exec_start_pre", "exec_start_wrap", "exec_stop", "read_write_paths",
        "read_only_paths", "inaccessible_paths",
    };
    lua_State *L = resolver_state(r);
    lua_createtable(L, (int)(sizeof names / sizeof names[0]), 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return "default";
}

static const char *const dir_kinds[] = {"runtime", "configuration", "logs", "state", "cache", "tmp", NULL};
static const char *const preserve_choices[] = {"no", "yes", "restart", NULL};
static const char *const release_systems[] = {"mix", "distillery", "none", NULL};
static const char *const service_types[] = {"simple", "exec", "notify", "forking", "oneshot",
                                            "notify-reload", NULL};
static const char *const restart_choices[] = {"no", "always", "on-success", "on-failure",
                                              "on-abnormal", "on-abort", "on-watchdog", NULL};
static const char *const restart_methods[] = {"systemctl", "systemd_flag", "touch", NULL};
static const char *const paranoia_levels[] = {"strict", NULL};
static const char *const network_levels[] = {"local", NULL};

#define STRING(name, def, format) {name, KEY_STRING, def, format, 0, NULL}
#define RAW_STRING(name, def, format) {name, KEY_STRING, def, format, KEY_WRITTEN_RAW, NULL}
#define OPTIONAL(type, name, def, format) {name, type, def, format, KEY_OPTIONAL, NULL}
#define CHOICE(name, def, choices) {name, KEY_STRING, def, FORMAT_CHOICE, 0, choices}
#define LIST(name, def, format) {name, KEY_LIST, def, format, 0, NULL}
#define FLAG(name) {name, KEY_BOOLEAN, push_false, FORMAT_TEXT, KEY_OPTIONAL, NULL}

#define DIR_KIND_KEYS(kind)                                                             \
    STRING(#kind "_directory", default_##kind##_directory, FORMAT_DIRECTORY_NAME),      \
    STRING(#kind "_directory_base", default_##kind##_directory_base, FORMAT_ABSOLUTE_PATH), \
    STRING(#kind "_directory_mode", default_directory_mode, FORMAT_OCTAL_MODE),         \
    STRING(#kind "_dir", default_##kind##_dir, FORMAT_ABSOLUTE_PATH)

const struct key_spec keys_all[] = {
    STRING("app_name", default_app_name, FORMAT_APP_NAME),
    STRING("module_name", default_module_name, FORMAT_TEXT),
    STRING("release_name", default_release_name, FORMAT_RELATIVE_PATH),
    STRING("ext_name", default_ext_name, FORMAT_UNIT_PREFIX),
    STRING("service_name", default_service_name, FORMAT_UNIT_PREFIX),
    STRING("app_user", default_app_user, FORMAT_USER_NAME),
    STRING("app_group", default_app_user, FORMAT_USER_NAME),
    RAW_STRING("syslog_identifier", default_syslog_identifier, FORMAT_SYSLOG_IDENTIFIER),
    STRING("base_dir", default_base_dir, FORMAT_ABSOLUTE_PATH),
    STRING("deploy_dir", default_deploy_dir, FORMAT_ABSOLUTE_PATH),
    STRING("releases_dir", default_releases_dir, FORMAT_ABSOLUTE_PATH),
    STRING("scripts_dir", default_scripts_dir, FORMAT_ABSOLUTE_PATH),
    STRING("flags_dir", default_flags_dir, FORMAT_ABSOLUTE_PATH),
    STRING("current_dir", default_current_dir, FORMAT_ABSOLUTE_PATH),
    RAW_STRING("working_dir", default_working_dir, FORMAT_ABSOLUTE_PATH),
    RAW_STRING("root_directory", default_root_directory, FORMAT_ABSOLUTE_PATH),
    STRING("output_dir", default_output_dir, FORMAT_RELATIVE_OR_ABSOLUTE),
    STRING("templates_dir", default_templates_dir, FORMAT_RELATIVE_OR_ABSOLUTE),
    OPTIONAL(KEY_STRING, "mix_env", default_mix_env, FORMAT_FOLDER_NAME),
    OPTIONAL(KEY_STRING, "env_lang", default_env_lang, FORMAT_TEXT),
    {"dirs", KEY_LIST, push_empty_list, FORMAT_CHOICE, 0, dir_kinds},
    DIR_KIND_KEYS(runtime),
    DIR_KIND_KEYS(configuration),
    DIR_KIND_KEYS(logs),
    DIR_KIND_KEYS(state),
    DIR_KIND_KEYS(cache),
    DIR_KIND_KEYS(tmp),
    CHOICE("runtime_directory_preserve", default_preserve, preserve_choices),
    CHOICE("release_system", default_release_system, release_systems),
    CHOICE("service_type", default_service_type, service_types),
    OPTIONAL(KEY_STRING, "start_command", default_start_command, FORMAT_TEXT),
    STRING("exec_start", default_exec_start, FORMAT_COMMAND),
    OPTIONAL(KEY_STRING, "exec_stop", default_exec_stop, FORMAT_COMMAND),
    LIST("exec_start_pre", push_empty_list, FORMAT_COMMAND),
    OPTIONAL(KEY_STRING, "exec_start_wrap", NULL, FORMAT_COMMAND),
    RAW_STRING("pid_file", default_pid_file, FORMAT_ABSOLUTE_PATH),
    CHOICE("restart", default_restart, restart_choices),
    {"restart_sec", KEY_SCALAR, NULL, FORMAT_TIME_SPAN, KEY_OPTIONAL | KEY_WRITTEN_RAW, NULL},
    {"timeout_start_sec", KEY_SCALAR, NULL, FORMAT_TIME_SPAN, KEY_OPTIONAL | KEY_WRITTEN_RAW, NULL},
    OPTIONAL(KEY_SCALAR, "limit_nofile", default_limit_nofile, FORMAT_LIMIT),
    OPTIONAL(KEY_SCALAR, "limit_core", NULL, FORMAT_LIMIT),
    STRING("umask", default_umask, FORMAT_OCTAL_MODE),
    LIST("env_vars", push_empty_list, FORMAT_ENV_ASSIGNMENT),
    LIST("env_files", push_empty_list, FORMAT_ENV_FILE),
    {"unit_after_targets", KEY_LIST, push_empty_list, FORMAT_UNIT_NAME, KEY_WRITTEN_RAW, NULL},
    {"systemd_version", KEY_INTEGER, default_systemd_version, FORMAT_TEXT, 0, NULL},
    CHOICE("restart_method", default_restart_method, restart_methods),
    OPTIONAL(KEY_STRING, "runtime_environment_service_script", NULL, FORMAT_RELATIVE_PATH),
    {"runtime_environment_unit_after_targets", KEY_LIST, push_empty_list, FORMAT_UNIT_NAME, KEY_WRITTEN_RAW, NULL},
    {"paranoia", KEY_BOOLEAN, push_false, FORMAT_TEXT, KEY_OPTIONAL, paranoia_levels},
    FLAG("chroot"),
    LIST("capabilities", push_empty_list, FORMAT_CAPABILITY),
    LIST("address_families", push_empty_list, FORMAT_ADDRESS_FAMILY),
    {"network", KEY_BOOLEAN, default_true, FORMAT_TEXT, KEY_OPTIONAL, network_levels},
    {"memory_deny_write_execute", KEY_BOOLEAN, default_true, FORMAT_TEXT, KEY_OPTIONAL, NULL},
    LIST("syscall_filter", push_empty_list, FORMAT_SYSCALL_GROUP),
    {"hardening_extra", KEY_TABLE, NULL, FORMAT_DIRECTIVES, KEY_OPTIONAL | KEY_WRITTEN_RAW, NULL},
    FLAG("clustering"),
    LIST("read_write_paths", push_empty_list, FORMAT_SANDBOX_PATH),
    LIST("read_only_paths", push_empty_list, FORMAT_SANDBOX_PATH),
    LIST("inaccessible_paths", push_empty_list, FORMAT_SANDBOX_PATH),
    LIST("expand_keys", default_expand_keys, FORMAT_KEY_NAME),
    LIST("expand_keys_extra", push_empty_list, FORMAT_KEY_NAME),
    {"filters", KEY_FUNCTIONS, push_empty_list, FORMAT_TEXT, 0, NULL},
    {"hooks", KEY_TABLE, NULL, FORMAT_TEXT, KEY_OPTIONAL, NULL},
};
const size_t keys_count = sizeof keys_all / sizeof keys_all[0];
_Static_assert(sizeof keys_all / sizeof keys_all[0] <= KEYS_MAX, "raise KEYS_MAX");

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
    for (size_t i = 0; i < keys_count; i++) {
        unsigned slot = hash_name(keys_all[i].name) % KEY_SLOTS;
        while (key_slots[slot])
            slot = (slot + 1) % KEY_SLOTS;
        key_slots[slot] = &keys_all[i];
    }
}

const struct key_spec *keys_find(const char *name)
{
    static int built;
    if (!built) {
        build_key_slots();
        built = 1;
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
    const char *hint = keys_suggest(name);
    if (hint)
        return lua_pushfstring(L, "unknown key (did you mean '%s'?)", hint);
    return lua_pushliteral(L, "unknown key");
}
