#ifndef UNITFORGE_REFS_H
#define UNITFORGE_REFS_H

#include <lua.h>

/* Installs the globals `ref` and `specifier`. */
void refs_install(lua_State *L);

/* The key named by the ref at `index`, or NULL when it is not a ref. */
const char *refs_key(lua_State *L, int index);

/* The letter of the specifier at `index`, or 0 when it is not one. */
int refs_specifier(lua_State *L, int index);

#endif
