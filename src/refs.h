#ifndef UNITFORGE_REFS_H
#define UNITFORGE_REFS_H

#include <lua.h>

/* Installs the globals `ref` and `specifier`. */
void refs_install(lua_State *L);

/* Pushes a ref to `key`, which the caller knows to be a key (the option
 * table's defaults are read before the keys are known). */
void refs_push(lua_State *L, const char *key);

/* The key named by the ref at `index`, or NULL when it is not a ref. */
const char *refs_key(lua_State *L, int index);

/* The letter of the specifier at `index`, or 0 when it is not one. */
int refs_specifier(lua_State *L, int index);

#endif
