#ifndef UNITFORGE_RESOLVER_H
#define UNITFORGE_RESOLVER_H

#include <lua.h>

/* What the run knows beyond the service table itself. */
struct run_context {
    const char *config_path;   /* as given on the command line */
    const char *config_dir;    /* folder of the config ("." when none) */
    const char *env;           /* --env */
    const char *out;           /* --out, or NULL */
    int overrides_ref;         /* registry ref to the --set table */
};

struct resolver;

/* Resolves the service table at index `service` into a new plain table of
 * every key's final value, pushed on the stack, and a second table of the
 * origin of each key ("default", "config", "computed", "mix.exs") pushed
 * above it. Raises a failure on unknown refs, cycles and missing values. */
void resolver_resolve(lua_State *L, int service, const struct run_context *ctx);

/* For default functions: the resolved value of another key. */
lua_State *resolver_state(struct resolver *r);
const struct run_context *resolver_context(struct resolver *r);
void resolver_push(struct resolver *r, const char *key);
/* NULL when the key resolves to nil or false; the string stays valid as
 * long as the resolution runs. */
const char *resolver_string(struct resolver *r, const char *key);
/* Raises a failure about `key` (prefixed with the config path). */
void resolver_fail(struct resolver *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#endif
