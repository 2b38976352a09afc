#ifndef UNITFORGE_KEYS_H
#define UNITFORGE_KEYS_H

#include <lua.h>
#include <stddef.h>

struct resolver;

enum key_type {
    KEY_STRING,
    KEY_INTEGER,
    KEY_BOOLEAN,
    KEY_SCALAR,   /* a string or a number */
    KEY_LIST,     /* array of strings */
    KEY_TABLE,    /* hooks: a table of functions */
    KEY_FUNCTIONS /* filters: an array of functions */
};

/* What a string value (or each element of a list) must look like. */
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
    FORMAT_FOLDER_NAME,    /* mix_env: one folder of the output path */
    FORMAT_RELATIVE_OR_ABSOLUTE /* a folder on this machine: not empty */
};

/* `false` means "off / not set" for this key (nil always does). */
#define KEY_OPTIONAL 1u
/* Written unquoted as a directive's whole value (WorkingDirectory=,
 * PIDFile=, SyslogIdentifier= ...): systemd strips whitespace at its
 * edges, and a final backslash would join the next line. */
#define KEY_WRITTEN_RAW 2u

/* Pushes the default value of a key (nil for none) and returns its
 * origin as shown by `show`: "default" or "mix.exs". */
typedef const char *(*default_fn)(struct resolver *r);

struct key_spec {
    const char *name;
    enum key_type type;
    default_fn default_value; /* NULL: no default (nil) */
    enum key_format format;
    unsigned flags;
    /* FORMAT_CHOICE: the allowed strings; KEY_BOOLEAN: strings allowed
     * besides true and false. NULL-terminated. */
    const char *const *choices;
};

/* Every key a service table accepts, in the order `show` lists them. */
/* An upper bound on keys_count, for per-key arrays. */
#define KEYS_MAX 128

extern const struct key_spec keys_all[];
extern const size_t keys_count;

const struct key_spec *keys_find(const char *name);

/* The known key closest to an unknown name, or NULL when none is close. */
const char *keys_suggest(const char *name);

/* Pushes "unknown key" with a did-you-mean for `name` when one is close. */
const char *keys_push_unknown(lua_State *L, const char *name);

#endif
