#ifndef UNITFORGE_RESOLVER_H
#define UNITFORGE_RESOLVER_H

#include <lua.h>

struct problems;

/* What the run knows beyond the service table itself. */
struct run_context {
    const char *config_path;   /* as given on the command line */
    const char *config_dir;    /* folder of the config ("." when none) */
    const char *env;           /* --env */
    const char *out;           /* --out, or NULL */
    int overrides_ref;         /* registry ref to the --set table */
};

/* Resolves the service table at index `service`: every key's final value
 * (what the user gave, a function's result, or the option table's
 * default, with the strict profile's additions), each checked once, its
 * problems added to `p` after `prefix`, and to `warnings` what is not
 * wrong but likely a mistake (a ref to a directory nothing makes). Pushes the table of values (its
 * tables read-only views), the table of origins of the keys not from a
 * plain default ("config", "cli", "computed", "mix.exs", "strict",
 * "config+strict" ...), and the read-only view `c` of the values that
 * functions, hooks and templates get. Raises a failure on unknown refs,
 * cycles and errors in user code. */
void resolver_resolve(lua_State *L, int service, const struct run_context *ctx, const char *prefix,
                      struct problems *p, struct problems *warnings);

#endif
