#ifndef UNITFORGE_KEYS_H
#define UNITFORGE_KEYS_H

#include <lua.h>
#include <stddef.h>

/* The keys a service table accepts, as the host reads them from the
 * option table (lua/unitforge.options.lua), which is the only place a
 * key is described. */

enum key_type {
    KEY_STRING,
    KEY_INTEGER,
    KEY_BOOLEAN,
    KEY_SCALAR,   /* a string or a number */
    KEY_LIST,     /* array of strings */
    KEY_TABLE,    /* hooks, hardening_extra */
    KEY_FUNCTIONS /* filters: an array of functions */
};

/* What a string value (or each element of a list) must look like; the
 * option table names them in lower case without the prefix. */
enum key_format {
    FORMAT_TEXT,           /* any single line */
    FORMAT_APP_NAME,       /* [a-z][a-z0-9_]* */
    FORMAT_UNIT_PREFIX,    /* the part of a unit name before its suffix */
    FORMAT_UNIT_NAME,      /* a full unit name such as redis.service */
    FORMAT_USER_NAME,
    FORMAT_ABSOLUTE_PATH,
    FORMAT_SANDBOX_PATH,   /* [-][+]/absolute/path, as ReadWritePaths= takes */
    FORMAT_RELATIVE_PATH,  /* below a base directory, no ".." */
    FORMAT_DIRECTORY_NAME, /* RuntimeDirectory= and the like: relative, normalized */
    FORMAT_SYSLOG_IDENTIFIER, /* 1 to 254 bytes: journald drops a longer one */
    FORMAT_OCTAL_MODE,
    FORMAT_ENV_ASSIGNMENT, /* NAME=value */
    FORMAT_ENV_FILE,       /* [-]/absolute/path */
    FORMAT_COMMAND,        /* an Exec*= command line */
    FORMAT_TIME_SPAN,      /* seconds, or a systemd time span */
    FORMAT_LIMIT,          /* a count, or "infinity" */
    FORMAT_CHOICE,         /* one of `choices` */
    FORMAT_KEY_NAME,       /* the name of a known key */
    FORMAT_CAPABILITY,     /* CAP_NET_BIND_SERVICE */
    FORMAT_ADDRESS_FAMILY, /* AF_NETLINK */
    FORMAT_SYSCALL_GROUP,  /* @resources, ~@privileged, ~ptrace */
    FORMAT_DIRECTIVES,     /* hardening_extra: { Directive = value } */
    FORMAT_HOOKS,          /* hooks: { after_resolve = f, after_render = g } */
    FORMAT_FOLDER_NAME,    /* mix_env: one folder of the output path */
    FORMAT_FOLDER,         /* a folder on this machine: not empty */
    FORMAT_VERSION,        /* systemd_version: 1 to 9999 */
};

/* `false` means "off / not set" for this key (nil always does). */
#define KEY_OPTIONAL 1u
/* Written unquoted as a directive's whole value (WorkingDirectory=,
 * PIDFile=, SyslogIdentifier= ...): systemd strips whitespace at its
 * edges, and a final backslash would join the next line. */
#define KEY_WRITTEN_RAW 2u
/* May be given as a part list (in expand_keys by default). */
#define KEY_PARTS 4u
/* Does nothing unless its `when` holds: a value the user gives while it
 * does not is an error, not a silent no-op (the strict profile's knobs). */
#define KEY_ONLY_WHEN 8u

/* A value of a key that needs a newer systemd than the key itself. */
struct key_gate {
    const char *value;
    lua_Integer since;
};

/* A `when` of the option table: whether a key matters, or a service has
 * a unit. It holds when one of `keys` has its value (a list: holds it;
 * NULL: is set); with no keys it always holds. `id` is the same for
 * everything that shares the condition. */
struct key_condition {
    int count;
    const char *keys[2];
    const char *values[2];
    const void *id;
    const struct key_spec *specs[2]; /* of keys, once linked */
};

struct key_spec {
    const char *name;
    int index; /* in keys_all */
    enum key_type type;
    enum key_format format;
    unsigned flags;
    /* FORMAT_CHOICE: the allowed strings; KEY_BOOLEAN: strings allowed
     * besides true and false. NULL-terminated, or NULL. */
    const char *const *choices;
    const struct key_gate *gates; /* ends with a NULL value, or NULL */
    lua_Integer since;            /* 0: any version */
    struct key_condition when; /* when the key matters */
    /* when what the key names (a directory) is made; a ref to it
     * otherwise warns: a path nothing creates. count 0: always */
    struct key_condition made_when;
    int has_strict;  /* the strict profile adds to the value */
    int has_default; /* the option table gives a default */
    /* the default is a value, the same for every service (not a
     * function, ref or part list), or there is none */
    int constant_default;
};

/* An upper bound on keys_count, for per-key arrays. */
#define KEYS_MAX 128

extern const struct key_spec *keys_all;
extern size_t keys_count;

/* Runs the option table (embedded) with the host's helpers at `host`
 * as its argument and reads every key from it. Once per run, before
 * any other function here. */
void keys_load(lua_State *L, int host);

const struct key_spec *keys_find(const char *name);

/* Pushes the option table (lua/unitforge.options.lua). */
void keys_push_options(lua_State *L);

/* Pushes the key's name as a Lua string (cheaper than from the C one). */
void keys_push_name(lua_State *L, const struct key_spec *spec);

/* Pushes the tables of every key's name and default, by key index + 1
 * (for loops over all keys). */
void keys_push_names(lua_State *L);
void keys_push_defaults(lua_State *L);

/* Pushes the key's default: a value (tables shared and read-only), a
 * function of `c`, nil, or for a string key a ref as the integer index
 * + 1 of its key, or a part list of strings and such integers. */
void keys_push_default(lua_State *L, const struct key_spec *spec);

/* Pushes the strict profile's function(c, value) for the key, or nil. */
void keys_push_strict(lua_State *L, const struct key_spec *spec);

/* Reads the condition `field` ("when", "made_when") of the option
 * table's entry on top of the stack (its strings stay alive with the
 * table). Returns 0 for one it cannot read. */
int keys_read_condition(lua_State *L, const char *field, struct key_condition *when);

/* Finds the keys a condition read before every key was known names;
 * 0 when one names no key (a mistake of the option table). */
int keys_link_condition(struct key_condition *when);

/* Whether the condition holds for the resolved config at `cfg` (its
 * keys linked). */
int keys_condition_holds(lua_State *L, int cfg, const struct key_condition *when);

/* Whether the key matters for the resolved config at `cfg`. */
int keys_applies(lua_State *L, const struct key_spec *spec, int cfg);

/* The known key closest to an unknown name, or NULL when none is close. */
const char *keys_suggest(const char *name);

/* Pushes "unknown key" with a did-you-mean for `name` when one is close. */
const char *keys_push_unknown(lua_State *L, const char *name);

#endif
