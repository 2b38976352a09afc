#ifndef UNITFORGE_EMBEDDED_H
#define UNITFORGE_EMBEDDED_H

#include <stddef.h>

/* Files compiled into the binary by cmake/embed.cmake. Each table ends
 * with an entry whose name is NULL; data is NUL-terminated. */
struct embedded_file {
    const char *name;
    const char *data;
    size_t len;
};

extern const struct embedded_file embedded_modules[];
extern const struct embedded_file embedded_templates[];
/* The built-in templates compiled (Lua bytecode), by the same names. */
extern const struct embedded_file embedded_template_code[];

const struct embedded_file *embedded_find(const struct embedded_file *table, const char *name);

#endif
