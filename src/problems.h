#ifndef UNITFORGE_PROBLEMS_H
#define UNITFORGE_PROBLEMS_H

#include "failure.h"

#include <lua.h>

/* Collected problems of a run: every one is reported, not just the
 * first. */
struct problems {
    int list; /* stack index of the array of messages */
    int count;
};

/* Pushes the array that collects the messages. */
void problems_init(lua_State *L, struct problems *p);
/* Adds a line; the format is lua_pushfstring's. */
void problems_add(lua_State *L, struct problems *p, const char *fmt, ...);
/* Adds the problems of the array at `index` (popped when on top). */
void problems_append(lua_State *L, struct problems *p, int index);
/* Raises one failure listing every problem, if there are any; otherwise
 * pops the array. */
void problems_raise(lua_State *L, struct problems *p);
/* Prints each line to standard error as a warning, pops the array and
 * returns how many there were. */
int problems_warn(lua_State *L, struct problems *p);
/* The same, with another exit status than 1 (invalid configuration). */
void problems_raise_as(lua_State *L, struct problems *p, enum exit_status exit_status);

#endif
