#ifndef UNITFORGE_KEYS_H
#define UNITFORGE_KEYS_H

#include <stddef.h>

struct resolver;

enum key_type {
    KEY_STRING,
    KEY_INTEGER,
    KEY_BOOLEAN,
    KEY_LIST,     /* array of strings */
    KEY_TABLE,    /* hooks: a table of functions */
    KEY_FUNCTIONS /* filters: an array of functions */
};

/* Pushes the default value of a key (nil for none) and returns its
 * origin as shown by `show`: "default" or "mix.exs". */
typedef const char *(*default_fn)(struct resolver *r);

struct key_spec {
    const char *name;
    enum key_type type;
    default_fn default_value; /* NULL: no default (nil) */
};

/* Every key a service table accepts, in the order `show` lists them. */
extern const struct key_spec keys_all[];
extern const size_t keys_count;

const struct key_spec *keys_find(const char *name);

/* The known key closest to an unknown name, or NULL when none is close. */
const char *keys_suggest(const char *name);

#endif
