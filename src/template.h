#ifndef UNITFORGE_TEMPLATE_H
#define UNITFORGE_TEMPLATE_H

#include <lua.h>
#include <stddef.h>

/* Compiles an EEx-like template (`<%= expr %>` emits a value, `<% code %>`
 * runs Lua, `<%# comment %>` is dropped, `<%%` is a literal "<%") into a
 * Lua function of one argument, the resolved config `c`, returning the
 * rendered text. A line holding only code or comment tags leaves nothing
 * behind, not even its newline. The function's globals are the table at
 * `env_index`. `chunkname` follows lua_load's conventions ("@file" or
 * "=name"). Pushes the function, or raises a failure naming the template. */
void template_compile(lua_State *L, const char *chunkname, const char *text, size_t len, int env_index);

/* Generates the Lua source for a template (pushed as a string); exposed
 * for the fuzz target. */
void template_translate(lua_State *L, const char *text, size_t len);

#endif
