#ifndef UNITFORGE_REFS_H
#define UNITFORGE_REFS_H

#include <lua.h>

/* Marks a systemd specifier inside a resolved string. Control characters
 * never survive validation, so this byte cannot come from a user: the
 * renderer turns it back into '%' and doubles every literal '%'. */
#define SPECIFIER_MARK '\x01'

/* Installs the globals `ref` and `specifier`. */
void refs_install(lua_State *L);

/* The key named by the ref at `index`, or NULL when it is not a ref. */
const char *refs_key(lua_State *L, int index);

/* Whether systemd knows %c as a specifier. */
int refs_is_specifier_letter(char c);

/* The letter of the specifier at `index`, or 0 when it is not one. */
int refs_specifier(lua_State *L, int index);

#endif
