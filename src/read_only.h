#ifndef UNITFORGE_READ_ONLY_H
#define UNITFORGE_READ_ONLY_H

#include <lua.h>

/* Read-only views of tables: what Lua code (computed values, hooks,
 * filters, templates) gets of a resolved config. A view is an empty
 * table whose hidden metatable reads through to a table no Lua code can
 * reach, refuses every write, and answers # and pairs; its nested
 * tables are views too, so nothing a function, hook or template does
 * can change what the next one sees. */

/* Pushes a read-only copy of the value at `index`: a table is copied
 * deeply (each table once, so one that holds itself gives a view that
 * holds itself) and the copy made a view; a view is pushed as it is,
 * since nothing can change it; other values as they are. */
void read_only_push_copy(lua_State *L, int index);

/* Pushes a new view over the table at `backing`, which the caller keeps
 * out of Lua's reach. */
void read_only_push_view(lua_State *L, int backing);

/* Whether the value at `index` is a view. */
int read_only_is_view(lua_State *L, int index);

/* Whether the value at `index` is a table without a metatable that
 * holds no table: its copy needs nothing followed, and what it shows is
 * what a raw walk sees. */
int read_only_is_flat(lua_State *L, int index);

/* Pushes the table a view reads through (for the host's own reading:
 * never hand it to Lua code), or the value itself when it is no view. */
void read_only_push_backing(lua_State *L, int index);

#endif
