#include "lua_env.h"

#include "embedded.h"
#include "failure.h"
#include "file_io.h"
#include "read_only.h"
#include "refs.h"
#include "run_limits.h"

#include <lauxlib.h>
#include <lua-cjson.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

const struct embedded_file *embedded_find(const struct embedded_file *table, const char *name)
{
    for (; table->name; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}

/* package.preload loader for an embedded module; upvalue 1 is its name. */
static int load_embedded_module(lua_State *L)
{
    const char *name = lua_tostring(L, lua_upvalueindex(1));
    const struct embedded_file *file = embedded_find(embedded_modules, name);
    lua_pushfstring(L, "=%s.lua", name);
    if (luaL_loadbufferx(L, file->data, file->len, lua_tostring(L, -1), "b") != LUA_OK)
        return lua_error(L);
    lua_pushstring(L, name);
    lua_call(L, 1, 1); /* our own module: runs under the caller's protection */
    return 1;
}

static void register_preloads(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const struct embedded_file *m = embedded_modules; m->name; m++) {
        lua_pushstring(L, m->name);
        lua_pushcclosure(L, load_embedded_module, 1);
        lua_setfield(L, -2, m->name);
    }
    lua_pop(L, 1);
}

/* The module every config sees as the global `unitforge`. */
#define PUBLIC_MODULE "unitforge"

/* Registry key of the host's own modules (all embedded ones but
 * PUBLIC_MODULE, and cjson for show --json), kept out of the config's
 * reach: a config that replaced or changed one could make the host run
 * what it does not expect, and cjson's C code neither limits its depth
 * nor allocates from the bounded state. Those that `require` each other
 * are loaded before the config runs, while `require` is Lua's own; the
 * rest (show and cjson, which only `show` needs) when first asked for,
 * straight from the binary. */
static const char host_modules_key;
static const char *const modules_loaded_first[] = {"unitforge.hardening", "unitforge.template", NULL};

static void load_host_modules(lua_State *L)
{
    lua_newtable(L); /* host */
    for (const char *const *name = modules_loaded_first; *name; name++) {
        lua_getglobal(L, "require");
        lua_pushstring(L, *name);
        lua_call(L, 1, 1); /* our own module: under the run's protection */
        lua_setfield(L, -2, *name);
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &host_modules_key);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    for (const struct embedded_file *m = embedded_modules; m->name; m++) {
        if (strcmp(m->name, PUBLIC_MODULE) == 0)
            continue;
        lua_pushnil(L);
        lua_setfield(L, -2, m->name);
        lua_pushnil(L);
        lua_setfield(L, -3, m->name);
    }
    lua_pop(L, 2);
}

void lua_env_require(lua_State *L, const char *module)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &host_modules_key);
    if (lua_getfield(L, -1, module) == LUA_TNIL) {
        lua_pop(L, 1);
        if (strcmp(module, "cjson") == 0) {
            lua_pushcfunction(L, luaopen_cjson);
        } else {
            if (!embedded_find(embedded_modules, module))
                luaL_error(L, "unitforge's own module %s is missing", module);
            lua_pushstring(L, module);
            lua_pushcclosure(L, load_embedded_module, 1);
        }
        lua_call(L, 0, 1);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, module);
    }
    lua_remove(L, -2);
}

/* Modules beside the config (and in its lua/ folder) come first, so a
 * team's shared filters and base configs are plain files in the repo.
 * Native modules are not loaded: a config has no business running
 * arbitrary shared objects inside the generator. */
static void set_search_paths(lua_State *L, const char *config_dir)
{
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s/lua/?.lua;%s/lua/?/init.lua",
                    config_dir, config_dir, config_dir, config_dir);
    lua_setfield(L, -2, "path");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
}

static void install_helper_module(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, PUBLIC_MODULE);
    lua_call(L, 1, 1);
    lua_pushliteral(L, UNITFORGE_VERSION);
    lua_setfield(L, -2, "version");
    lua_setglobal(L, "unitforge");
}

/* ---- what a config may do ----
 *
 * A config computes values; it runs on deploy machines, often as root,
 * and its output goes to stdout with --stdout. So it may read files and
 * the environment, but not run programs, write or delete files, load
 * native code or bytecode, exit the process behind the generator's back,
 * or reach the debug library (which could remove the time limit). */

/* What a config may not have is absent (nil), so that `if io.popen then`
 * still tells; calling one says why, through the hint the failure
 * handler adds to "attempt to call a nil value (field 'popen')". */
struct removed {
    const char *table; /* a library's global, or NULL for a global itself */
    const char *name;
    const char *why;
};

#define NO_PROGRAMS                                                                                          \
    "a config cannot run programs: compute the value in Lua, read what a program wrote with io.open, or "    \
    "pass it in with --set KEY=VALUE or an environment variable (os.getenv)"
#define NO_WRITES "a config cannot write, move or remove files (unitforge writes the units; io.open reads files)"
#define NO_DEFAULT_FILES                                                                                     \
    "a config has no default input or output: read a file with io.open(path), standard input with "          \
    "io.stdin; print() writes to standard error"

static const struct removed removed_functions[] = {
    {"os", "execute", NO_PROGRAMS},
    {"io", "popen", NO_PROGRAMS},
    {"os", "exit", "a config cannot end the run; call error(\"why\") to stop it with a message"},
    {"os", "remove", NO_WRITES},
    {"os", "rename", NO_WRITES},
    {"os", "tmpname", NO_WRITES},
    {"io", "tmpfile", NO_WRITES},
    {"io", "output", NO_DEFAULT_FILES},
    {"io", "write", NO_DEFAULT_FILES},
    {"io", "close", NO_DEFAULT_FILES},
    {"io", "input", NO_DEFAULT_FILES},
    {"io", "read", NO_DEFAULT_FILES},
    {"io", "stdout", "standard output carries the units; print() writes to standard error"},
    {"os", "setlocale", "a config cannot change the locale of the run"},
    {"package", "loadlib", "a config cannot load native code; a module beside the config is loaded as Lua text"},
    {"string", "dump", "a config cannot make bytecode; load takes Lua text"},
    {NULL, "debug", "the debug library is not available to a config (it could change the host's own state)"},
};

static void remove_functions(lua_State *L)
{
    for (size_t i = 0; i < sizeof removed_functions / sizeof removed_functions[0]; i++) {
        if (removed_functions[i].table)
            lua_getglobal(L, removed_functions[i].table);
        else
            lua_pushglobaltable(L);
        lua_pushnil(L);
        lua_setfield(L, -2, removed_functions[i].name);
        lua_pop(L, 1);
    }
}

/* "...a nil value (field 'popen')" or "undefined global 'debug'": why a
 * config has no io.popen, or no debug. The field could be one of the
 * config's own tables: the hint says whose function it means. */
static const char *sandbox_hint(lua_State *L, const char *message)
{
    static const char *const markers[] = {"a nil value (field '", "undefined global '"};
    for (size_t m = 0; m < sizeof markers / sizeof markers[0]; m++) {
        const char *name = strstr(message, markers[m]);
        if (!name)
            continue;
        name += strlen(markers[m]);
        size_t len = strcspn(name, "'");
        for (size_t i = 0; i < sizeof removed_functions / sizeof removed_functions[0]; i++) {
            const struct removed *r = &removed_functions[i];
            if ((r->table == NULL) != (m == 1) || strlen(r->name) != len || strncmp(name, r->name, len) != 0)
                continue;
            if (!r->table)
                return lua_pushstring(L, r->why);
            return lua_pushfstring(L, "%s.%s is not available: %s", r->table, r->name, r->why);
        }
    }
    return NULL;
}

/* io.open for reading only. */
static int read_only_open(lua_State *L)
{
    const char *mode = luaL_optstring(L, 2, "r");
    if (strcmp(mode, "r") != 0 && strcmp(mode, "rb") != 0)
        return luaL_error(L, "io.open: a config may only read files (mode \"r\"), not \"%s\"", mode);
    int base = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushstring(L, mode);
    lua_call(L, 2, LUA_MULTRET);
    return lua_gettop(L) - base;
}

/* load with text chunks only. A reader function's errors come back as
 * load's result, so a reached limit is raised again here. */
static int text_only_load(lua_State *L)
{
    /* an explicit nil env differs from none: keep the argument count */
    int nargs = lua_gettop(L) > 4 ? 4 : lua_gettop(L);
    lua_settop(L, nargs < 3 ? 3 : nargs);
    if (lua_type(L, 3) == LUA_TSTRING && strchr(lua_tostring(L, 3), 'b'))
        return luaL_error(L, "load: binary chunks are not allowed");
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    if (lua_isnil(L, 1))
        limits_stop_if_reached(L);
    return lua_gettop(L);
}

/* Loads the regular file at `path` as a text chunk named "@path" and
 * pushes the function; on failure pushes the message and returns the
 * error status (*missing: there is no such file). Every file of Lua code a config reaches comes in here:
 * never bytecode (a mutated chunk crashes the VM), never a FIFO or a
 * device, and never more than the memory limit. */
static int load_text_file(lua_State *L, const char *path, int *missing)
{
    size_t len;
    enum file_status status = file_push_regular(L, path, &len);
    *missing = status == FILE_MISSING;
    if (status != FILE_OK) {
        lua_pushfstring(L, "cannot read %s: %s", path, file_status_text(status));
        return LUA_ERRFILE;
    }
    lua_pushfstring(L, "@%s", path);
    int result = luaL_loadbufferx(L, lua_tostring(L, -2), len, lua_tostring(L, -1), "t");
    lua_replace(L, -3); /* the function or message, over the text */
    lua_pop(L, 1);
    return result;
}

static int text_only_loadfile(lua_State *L)
{
    const char *path = luaL_optstring(L, 1, NULL);
    if (!path)
        return luaL_error(L, "loadfile: a config cannot read chunks from standard input");
    int missing;
    if (load_text_file(L, path, &missing) != LUA_OK) {
        limits_stop_if_reached(L);
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    if (!lua_isnone(L, 3)) {
        lua_pushvalue(L, 3);
        if (!lua_setupvalue(L, -2, 1))
            lua_pop(L, 1);
    }
    return 1;
}

static int text_only_dofile(lua_State *L)
{
    const char *path = luaL_optstring(L, 1, NULL);
    if (!path)
        return luaL_error(L, "dofile: a config cannot read chunks from standard input");
    lua_settop(L, 1);
    int missing;
    if (load_text_file(L, path, &missing) != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, LUA_MULTRET);
    return lua_gettop(L) - 1;
}

/* package.searchers[2], in place of Lua's own (which loads bytecode and
 * blocks on a FIFO): finds `name` along package.path like
 * package.searchpath and loads it with load_text_file. Upvalue 1 is the
 * package table. */
static int search_text_module(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    lua_getfield(L, lua_upvalueindex(1), "path");
    const char *path = lua_tostring(L, -1);
    if (!path)
        return luaL_error(L, "package.path must be a string");
    const char *file_name = luaL_gsub(L, name, ".", "/");
    luaL_Buffer tried;
    luaL_buffinit(L, &tried);
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ";");
        lua_pushlstring(L, p, len);
        const char *candidate = luaL_gsub(L, lua_tostring(L, -1), "?", file_name);
        lua_remove(L, -2);
        int missing;
        if (load_text_file(L, candidate, &missing) == LUA_OK) {
            lua_pushvalue(L, -2);
            return 2; /* the loader and its file, as require expects */
        }
        if (!missing)
            return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, candidate,
                              failure_message(L, -1)); /* a message handler may have made it a failure */
        lua_pop(L, 1);
        lua_pushfstring(L, "\n\tno file '%s'", candidate);
        lua_remove(L, -2);
        luaL_addvalue(&tried);
        p += len + (p[len] == ';');
    }
    luaL_pushresult(&tried);
    return 1;
}

/* print goes to stderr: stdout carries the units with --stdout. */
static int print_to_stderr(lua_State *L)
{
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        if (i > 1)
            fputc('\t', stderr);
        fwrite(s, 1, len, stderr);
        lua_pop(L, 1);
    }
    fputc('\n', stderr);
    return 0;
}

/* setmetatable without __gc: Lua runs finalizers with hooks off, so a
 * looping one could not be stopped by the time limit. Raw, as Lua itself
 * looks: an __index on the metatable could add __gc while being asked. */
/* Calls the wrapped function (upvalue 1) with the first `nargs`
 * arguments, returning its one result. */
static int call_wrapped(lua_State *L, int nargs)
{
    lua_settop(L, nargs);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, nargs, 1);
    return 1;
}

static int setmetatable_without_gc(lua_State *L)
{
    lua_settop(L, 2);
    lua_pushliteral(L, "__gc");
    if (lua_type(L, 2) == LUA_TTABLE && lua_rawget(L, 2) != LUA_TNIL)
        return luaL_error(L, "setmetatable: finalizers (__gc) are not available to a config");
    return call_wrapped(L, 2);
}

/* rawset on a read-only view of the config would give it a field of
 * its own, in front of what it reads through: every later reader (the
 * next template, a hook) would see it. */
static int rawset_except_views(lua_State *L)
{
    if (read_only_is_view(L, 1))
        return luaL_error(L, "the resolved config is read-only (tried to rawset '%s')", luaL_tolstring(L, 2, NULL));
    return call_wrapped(L, 3);
}

/* next, rawget and rawlen on a view see what it reads through, as they
 * saw the plain tables a config was handed before views. */
static int through_views(lua_State *L)
{
    int n = lua_gettop(L);
    if (n >= 1 && read_only_is_view(L, 1)) {
        read_only_push_backing(L, 1);
        lua_replace(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* coroutine.create and coroutine.wrap: a coroutine made before a limit
 * is reached has no hook of its own (run_limits.c), so it gets one that
 * watches for the limit. */
static int watched_coroutine(lua_State *L)
{
    int wrapped = lua_toboolean(L, lua_upvalueindex(2));
    call_wrapped(L, 1);
    if (wrapped)
        lua_getupvalue(L, -1, 1); /* coroutine.wrap's function holds its thread */
    else
        lua_pushvalue(L, -1);
    if (lua_type(L, -1) == LUA_TTHREAD)
        limits_watch_thread(lua_tothread(L, -1));
    lua_pop(L, 1);
    return 1;
}

static void wrap_coroutine_maker(lua_State *L, const char *name, int wrapped)
{
    lua_getglobal(L, "coroutine");
    lua_getfield(L, -1, name);
    lua_pushboolean(L, wrapped);
    lua_pushcclosure(L, watched_coroutine, 2);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

/* pcall, xpcall, coroutine.resume and coroutine.close, which catch
 * errors, and load, whose reader's errors it returns: each lets a
 * reached limit through. User code may catch its own errors, not that
 * one. Upvalue 1 is the original function; its results come back as
 * they are. */
static int passing_stops(lua_State *L)
{
    int base = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, base, LUA_MULTRET);
    int n = lua_gettop(L);
    if (n >= 1 && !lua_toboolean(L, 1))
        limits_stop_if_reached(L); /* whatever a message handler made of it */
    return n;
}

static int undefined_global(lua_State *L)
{
    return luaL_error(L, "undefined global '%s'", luaL_tolstring(L, 2, NULL));
}

static void wrap_global(lua_State *L, const char *table, const char *name, lua_CFunction wrapper)
{
    if (table)
        lua_getglobal(L, table);
    else
        lua_pushglobaltable(L);
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, wrapper, 1);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

static void restrict_libraries(lua_State *L)
{
    remove_functions(L);
    failure_set_hint(sandbox_hint);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushnil(L);
    lua_setfield(L, -2, "debug");
    lua_pop(L, 1);
    /* without the C searchers, setting package.cpath cannot load native
     * code either; Lua's own file searcher would load bytecode */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    lua_pushnil(L);
    lua_rawseti(L, -2, 4);
    lua_pushnil(L);
    lua_rawseti(L, -2, 3);
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, search_text_module, 1);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
    wrap_global(L, "io", "open", read_only_open);
    wrap_global(L, NULL, "load", text_only_load);
    wrap_global(L, NULL, "setmetatable", setmetatable_without_gc);
    wrap_global(L, NULL, "rawset", rawset_except_views);
    wrap_global(L, NULL, "next", through_views);
    wrap_global(L, NULL, "rawget", through_views);
    wrap_global(L, NULL, "rawlen", through_views);
    wrap_coroutine_maker(L, "create", 0);
    wrap_coroutine_maker(L, "wrap", 1);
    wrap_global(L, NULL, "pcall", passing_stops);
    wrap_global(L, NULL, "xpcall", passing_stops);
    wrap_global(L, "coroutine", "resume", passing_stops);
    wrap_global(L, "coroutine", "close", passing_stops);
    lua_register(L, "loadfile", text_only_loadfile);
    lua_register(L, "dofile", text_only_dofile);
    lua_register(L, "print", print_to_stderr);
}

/* getmetatable() on the value at the top of the stack answers false from
 * now on. A metatable the host made and a config could change is a way
 * to make the host run user code where no limit applies: a __gc added to
 * the metatable of file handles or of failures would run, with hooks
 * off, for every handle or failure made after. */
static void hide_metatable_of_top(lua_State *L)
{
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void hide_library_metatables(lua_State *L)
{
    lua_getglobal(L, "io");
    lua_getfield(L, -1, "stderr"); /* a file handle: its metatable is every handle's */
    lua_remove(L, -2);
    hide_metatable_of_top(L);
    lua_pushliteral(L, "");
    hide_metatable_of_top(L);
}

/* Reading an undefined global is a typo, not nil. A config may drop the
 * check (setmetatable(_G, nil)): _G is never finalized, and the __gc
 * refusal above covers any table it hands this metatable to. */
static void make_globals_strict(lua_State *L)
{
    lua_pushglobaltable(L);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, undefined_global);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
}

void lua_env_setup(lua_State *L, const char *config_dir, const char *env)
{
    luaL_openlibs(L);
    register_preloads(L);
    set_search_paths(L, config_dir);
    refs_install(L);
    lua_pushstring(L, env);
    lua_setglobal(L, "env");
    install_helper_module(L);
    load_host_modules(L);
    restrict_libraries(L);
    hide_library_metatables(L);
    make_globals_strict(L);
}
