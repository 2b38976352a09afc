#include "app.h"

#include "cli.h"
#include "config_file.h"
#include "failure.h"
#include "hooks.h"
#include "keys.h"
#include "option_host.h"
#include "run_limits.h"
#include "show.h"
#include "lua_env.h"
#include "output.h"
#include "overrides.h"
#include "read_only.h"
#include "render.h"
#include "resolver.h"
#include "shared_paths.h"
#include "template_init.h"
#include "unit_record.h"
#include "validate.h"
#include "verify.h"

#include <assert.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

/* The folder of the config file, pushed as a string ("." for none). */
static const char *push_config_dir(lua_State *L, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return lua_pushliteral(L, ".");
    if (slash == path)
        return lua_pushliteral(L, "/");
    return lua_pushlstring(L, path, (size_t)(slash - path));
}

/* What one pass over the services produces, at these stack indices:
 * `units` (generate, verify) or `configs` and `origins` (show, init). */
struct pass {
    int units;
    int configs;
    int origins;
    int warnings; /* how many were printed */
};

static const char *push_problem_prefix(lua_State *L, const char *config_path, lua_Integer i, lua_Integer n)
{
    if (n == 1)
        return lua_pushfstring(L, "%s: ", config_path);
    return lua_pushfstring(L, "%s: services[%d].", config_path, (int)i);
}

/* --only: which services a run renders, shows or copies templates of.
 * Every service is still resolved and checked: the config is one file,
 * and a service is known by its resolved service_name. */
struct selection {
    const char *const *names;
    int count;                  /* 0: every service */
    unsigned char matched[MAX_SETS];
    int all_names;              /* a list of every service_name, for the message */
};

static int is_selected(lua_State *L, int cfg, struct selection *sel)
{
    if (sel->count == 0)
        return 1;
    lua_getfield(L, cfg, "service_name");
    const char *name = lua_tostring(L, -1);
    int yes = 0;
    for (int i = 0; name && i < sel->count; i++)
        if (strcmp(name, sel->names[i]) == 0)
            yes = sel->matched[i] = 1;
    if (name)
        lua_rawseti(L, sel->all_names, (lua_Integer)lua_rawlen(L, sel->all_names) + 1);
    else
        lua_pop(L, 1);
    return yes;
}

/* A name of --only that no service has is a mistake of the command line. */
static void check_selection(lua_State *L, const struct selection *sel, const char *config_path)
{
    for (int i = 0; i < sel->count; i++) {
        if (sel->matched[i])
            continue;
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        lua_Integer n = (lua_Integer)lua_rawlen(L, sel->all_names);
        for (lua_Integer k = 1; k <= n && k <= 20; k++) {
            lua_rawgeti(L, sel->all_names, k);
            luaL_addvalue(&b);
            if (k < n)
                luaL_addstring(&b, k == 20 ? ", ..." : ", ");
        }
        luaL_pushresult(&b);
        failure_raise(L, EXIT_USAGE, "--only %s: no service of %s has that service_name (its services: %s)",
                      sel->names[i], config_path, lua_tostring(L, -1));
    }
}

/* Resolves, validates and (for generate and verify) renders the services
 * of the list on top of the stack one by one, so a run of thousands of
 * services holds only their units, not every resolved config. Problems
 * of all services are reported together, before anything is written. */
static void process_services(lua_State *L, const struct run_context *ctx, struct selection *sel, int render,
                             struct pass *pass)
{
    int services = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, services), kept = 0;
    struct problems problems;
    lua_newtable(L);
    pass->units = render ? lua_gettop(L) : 0;
    lua_createtable(L, render ? 0 : (int)n, 0);
    pass->configs = render ? 0 : lua_gettop(L);
    lua_createtable(L, render ? 0 : (int)n, 0);
    pass->origins = render ? 0 : lua_gettop(L);
    problems_init(L, &problems);
    struct problems warnings;
    problems_init(L, &warnings);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->overrides_ref);
    int overrides = lua_gettop(L);
    lua_newtable(L);
    int records = lua_gettop(L); /* of the service being rendered */
    lua_newtable(L);
    sel->all_names = lua_gettop(L);
    lua_newtable(L);
    int shared = lua_gettop(L); /* paths two services must not share */
    int top = lua_gettop(L);
    (void)top; /* read by the asserts of debug builds */
    for (lua_Integer i = 1; i <= n; i++) {
        /* services units configs origins problems warnings overrides records names shared */
        assert(lua_gettop(L) == top);
        lua_rawgeti(L, services, i);
        overrides_apply(L, overrides, -1);
        int before = problems.count;
        const char *prefix = push_problem_prefix(L, ctx->config_path, i, n);
        validate_unknown_keys(L, -2, prefix, &problems);
        resolver_resolve(L, -2, ctx, prefix, &problems, &warnings); /* service prefix cfg origins view */
        int cfg = lua_absindex(L, -3);
        if (problems.count == before)
            validate_service(L, cfg, prefix, &problems);
        if (problems.count == before && n > 1)
            shared_paths_check(L, shared, cfg, i, prefix, &problems);
        if (problems.count == before)
            hooks_after_resolve(L, cfg, -1);
        int selected = problems.count == before && is_selected(L, cfg, sel);
        if (render && problems.count == 0 && selected) {
            render_service(L, cfg, -1, records);
            unit_record_store(L, records, pass->units);
        }
        if (!render && selected) {
            lua_pop(L, 1);
            lua_rawseti(L, pass->origins, ++kept);
            lua_rawseti(L, pass->configs, kept);
            lua_pop(L, 2);
        } else {
            lua_pop(L, 5);
        }
    }
    if (problems.count == 0)
        check_selection(L, sel, ctx->config_path);
    lua_pop(L, 4); /* overrides, records, names, shared */
    /* the warnings of a config that has problems wait for it to be right */
    pass->warnings = problems.count == 0 ? problems_warn(L, &warnings) : 0;
    problems_raise(L, &problems);
}
/* The units array as the C list verify.c reads, in a userdata (pushed). */
static struct verify_unit *push_verify_list(lua_State *L, int units, lua_Integer n)
{
    struct verify_unit *list = lua_newuserdatauv(L, sizeof *list * (size_t)(n ? n : 1), 0);
    for (lua_Integer i = 0; i < n; i++) {
        list[i].name = unit_record_field(L, units, i, UNIT_NAME, NULL);
        list[i].text = unit_record_field(L, units, i, UNIT_TEXT, &list[i].len);
        lua_pop(L, 2); /* the units keep the strings alive */
    }
    return list;
}

/* Fails on the run's warnings too: a CI pipeline's verify catches what a
 * generate only mentions. */
static void verify(lua_State *L, int units, int warnings, const struct options *opts)
{
    lua_Integer n = unit_record_count(L, units);
    struct verify_unit *list = push_verify_list(L, units, n);
    limits_pause(L);
    int status = verify_units(list, (size_t)n, opts->max_exposure);
    limits_resume(L);
    if (status != 0 && status != 1)
        failure_raise(L, EXIT_IO, "verify: could not run the checks");
    if (status == 1)
        failure_raise(L, EXIT_INVALID_CONFIG, "verify: %s did not pass", opts->config_path);
    if (warnings > 0)
        failure_raise(L, EXIT_INVALID_CONFIG, "verify: %s did not pass: %d warning%s (above)", opts->config_path,
                      warnings, warnings == 1 ? "" : "s");
    lua_pop(L, 1);
}

/* Pushes unit name -> { score =, level = } for every service unit of the
 * resolved configs, from systemd-analyze security (empty without it). */
static void push_exposures(lua_State *L, int configs)
{
    lua_newtable(L);
    int units = lua_gettop(L);
    lua_newtable(L);
    int records = lua_gettop(L);
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, configs); i <= n; i++) {
        lua_rawgeti(L, configs, i);
        read_only_push_view(L, -1);
        render_service(L, -2, -1, records);
        unit_record_store(L, records, units);
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    lua_Integer n = unit_record_count(L, units);
    struct verify_unit *list = push_verify_list(L, units, n);
    double *scores = lua_newuserdatauv(L, sizeof *scores * (size_t)(n ? n : 1), 0);
    char(*levels)[32] = lua_newuserdatauv(L, sizeof *levels * (size_t)(n ? n : 1), 0);
    lua_newtable(L);
    limits_pause(L);
    int found = verify_exposures(list, (size_t)n, scores, levels) == 0;
    limits_resume(L);
    if (found)
        for (lua_Integer i = 0; i < n; i++) {
            if (scores[i] < 0)
                continue;
            lua_createtable(L, 0, 2);
            lua_pushnumber(L, scores[i]);
            lua_setfield(L, -2, "score");
            lua_pushstring(L, levels[i]);
            lua_setfield(L, -2, "level");
            lua_setfield(L, -2, list[i].name);
        }
    lua_replace(L, units);
    lua_pop(L, 3);
}

static void write_units(lua_State *L, int units, int warnings, const struct options *opts)
{
    output_check(L, units, opts->config_path);
    if (opts->command == COMMAND_VERIFY) {
        verify(L, units, warnings, opts);
    } else {
        /* --timeout covers the run up to here: writing is not stopped
         * half-way by the clock */
        limits_pause(L);
        output_emit(L, units, opts);
    }
}

/* Everything runs inside this one protected function, so that even an
 * allocation failure during set-up is reported instead of a panic. */
static int protected_main(lua_State *L)
{
    const struct options *opts = lua_touserdata(L, 1);
    struct run_context ctx = {
        .config_path = opts->config_path,
        .config_dir = push_config_dir(L, opts->config_path),
        .env = opts->env,
        .out = opts->out,
    };
    lua_env_setup(L, ctx.config_dir, opts->env);
    option_host_push(L, ctx.config_dir, opts->env, opts->out);
    keys_load(L, -1);
    lua_pop(L, 1);
    overrides_push(L, opts);
    ctx.overrides_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    config_file_load(L, opts->config_path, opts->env);
    int render = opts->command == COMMAND_GENERATE || opts->command == COMMAND_VERIFY;
    if (opts->command != COMMAND_INIT)
        render_init(L);
    struct pass pass;
    struct selection selection = {.names = opts->only, .count = opts->nonly};
    process_services(L, &ctx, &selection, render, &pass);
    switch (opts->command) {
    case COMMAND_INIT:
        limits_pause(L); /* the limits cover the run up to writing */
        template_init(L, pass.configs, opts->force);
        break;
    case COMMAND_SHOW:
        push_exposures(L, pass.configs);
        show_configs(L, pass.configs, pass.origins, lua_gettop(L), opts->json);
        break;
    case COMMAND_GENERATE:
    case COMMAND_VERIFY:
        write_units(L, pass.units, pass.warnings, opts);
        break;
    }
    return 0;
}

int app_run(const struct options *opts)
{
    struct limits limits = {
        .max_bytes = opts->max_memory_mib * 1024 * 1024,
        .max_seconds = opts->timeout_seconds,
    };
    lua_State *L = limits_new_state(&limits);
    if (!L) {
        fputs("unitforge: not enough memory to start Lua\n", stderr);
        return EXIT_INVALID_CONFIG;
    }
    lua_pushcfunction(L, failure_message_handler);
    lua_pushcfunction(L, protected_main);
    lua_pushlightuserdata(L, (void *)opts);
    int status = lua_pcall(L, 1, 0, 1);
    limits_stop(L);
    int exit_status = EXIT_SUCCESS_STATUS;
    const char *limit = limits_message(&limits);
    if (limit) {
        fprintf(stderr, "unitforge: %s\n", limit);
        exit_status = EXIT_INVALID_CONFIG;
    } else if (status != LUA_OK) {
        exit_status = (int)failure_report(L);
    }
    if (fflush(stdout) != 0 && exit_status == EXIT_SUCCESS_STATUS) {
        perror("unitforge: cannot write to standard output");
        exit_status = EXIT_IO;
    }
    limits_close_state(L);
    return exit_status;
}
