#ifndef UNITFORGE_UNIT_VALUE_H
#define UNITFORGE_UNIT_VALUE_H

#include <lua.h>
#include <stddef.h>

/* Marks a systemd specifier inside a resolved string. Control characters
 * never survive validation, so this byte cannot come from a user: the
 * writer turns it back into '%' and doubles every literal '%'. */
#define SPECIFIER_MARK '\x01'

/* Whether systemd knows %c as a specifier. */
int unit_value_is_specifier_letter(char c);

/* Longest line systemd reads from a unit file (LONG_LINE_MAX). */
#define UNIT_LINE_MAX (1024 * 1024)

/* Pushes the value at `index` as it must appear in a unit file: numbers
 * in decimal, every literal '%' doubled, specifiers marked by refs.c
 * turned back into "%X". Returns NULL (pushing nothing) and sets *problem
 * when the value cannot be written: not a string or number, or holding a
 * control character other than a tab (validation decides where a tab
 * may go). */
const char *unit_value_push(lua_State *L, int index, const char **problem);

/* Why a config value cannot go into a unit file (control characters but
 * a tab, a NUL, invalid UTF-8, more than a line can hold), or NULL.
 * Specifiers marked by refs.c are allowed. Where a tab cannot go (an
 * executable, the edge of a value written raw), validation says so. */
const char *unit_value_problem(const char *s, size_t len);

/* Pushes a number in decimal (no exponent) and returns it, or returns
 * NULL, pushing nothing, for NaN, infinities and numbers beyond that. */
const char *unit_value_push_decimal(lua_State *L, int index);

/* The first problem in a rendered unit text, or NULL when it may be
 * written: control characters, invalid UTF-8, over-long lines, no final
 * newline. *line receives the line of the problem. */
const char *unit_value_check_text(const char *text, size_t len, int *line);

#endif
