#ifndef UNITFORGE_VALIDATE_H
#define UNITFORGE_VALIDATE_H

#include "problems.h"

struct key_spec;

/* Each adds one line per problem, starting with `prefix` ("deploy.lua: ",
 * or "deploy.lua: services[2]." in a list). */

/* Keys of the user's raw service table at `raw` that no key is. */
void validate_unknown_keys(lua_State *L, int raw, const char *prefix, struct problems *p);

/* When the table at `index` holds more than its list 1..n, pushes the
 * first other key (as text) and returns 1; else returns 0. */
int validate_push_non_list_key(lua_State *L, int index);

/* One value of the key (at `index`): its type and format. */
void validate_value(lua_State *L, struct problems *p, const char *prefix, const struct key_spec *spec, int index);

/* The rules that join several keys of the resolved config at `cfg`,
 * whose values each passed validate_value: values and command prefixes
 * the target systemd does not know, commands as systemd splits them. */
void validate_service(lua_State *L, int cfg, const char *prefix, struct problems *p);

#endif
