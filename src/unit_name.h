#ifndef UNITFORGE_UNIT_NAME_H
#define UNITFORGE_UNIT_NAME_H

/* systemd's UNIT_NAME_MAX */
#define UNIT_NAME_MAX 255

/* A template (foo@.service) is a valid name for a unit file, not for a
 * dependency such as After=. */
#define UNIT_NAME_TEMPLATE_OK 1

/* Why systemd's unit_name_is_valid() would refuse `name` (letters,
 * digits and ":-_.\@", one known type suffix, a prefix before it, at most
 * one '@' with a prefix before it), or NULL. */
const char *unit_name_problem(const char *name, int flags);

#endif
