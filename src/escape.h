#ifndef UNITFORGE_ESCAPE_H
#define UNITFORGE_ESCAPE_H

#include <lua.h>
#include <stddef.h>

/* Writing values so that systemd parses back exactly what the user wrote
 * (systemd.syntax(7), systemd.service(5) "Command lines", systemd.exec(5)
 * "Environment"). Each function pushes its result. '%' is not handled
 * here: every value is %-escaped once more when a template writes it. */

/* One word of a list systemd splits on whitespace: an Environment=
 * assignment NAME=value, a path of ReadWritePaths=. Double-quoted when it
 * holds whitespace, quotes or backslashes. */
void escape_word(lua_State *L, const char *s, size_t len);

/* Data that becomes (part of) one word of a command line: quoted when it
 * holds whitespace, quotes or backslashes, and '$' doubled so systemd does
 * not substitute it. */
void escape_command_word(lua_State *L, const char *s, size_t len);

/* The executable of a command line (its first word), when it comes from
 * data: quoted when it holds whitespace, quotes or backslashes, '$' kept,
 * since systemd does not substitute variables there. Quotes and
 * backslashes cannot be part of an executable systemd accepts: they are
 * escaped only so the line stays whole, and validation refuses them. */
void escape_executable(lua_State *L, const char *s, size_t len);

/* A name of RuntimeDirectory= and its kin, which systemd reads as a list
 * of C-unescaped words and, from version 250, splits at an unescaped ':'
 * into "directory:symlink": quoted when it holds whitespace, quotes,
 * backslashes or ':', with '\\' and '"' escaped, and ':' escaped when
 * `escape_colon` (below 250 it is an ordinary character). */
void escape_directory_name(lua_State *L, const char *s, size_t len, int escape_colon);

/* An EnvironmentFile= path, which systemd expands as a glob pattern when
 * the service starts: '\\', '*', '?' and '[' are backslash-escaped. */
void escape_file_pattern(lua_State *L, const char *s, size_t len);

/* Where a command line being built has got to, as systemd will split
 * it: still before or inside its first word (the executable), or among
 * the arguments, and inside which quote. */
struct command_context {
    enum { COMMAND_START, COMMAND_EXECUTABLE, COMMAND_ARGUMENTS } position;
    char quote;  /* '"', '\'' or 0 */
    int escaped; /* the last character was an unpaired backslash */
};

/* Moves the context over command-line text. */
void command_context_scan(struct command_context *ctx, const char *s, size_t len);

/* Data that becomes part of a command line at `ctx`: one literal piece
 * of the word it lands in, whatever it holds. */
void escape_command_data(lua_State *L, const struct command_context *ctx, const char *s, size_t len);

/* A command line the user wrote: kept as written, except that a final
 * unpaired backslash, which would join the next line of the unit, is
 * written as an escaped backslash. */
void escape_command_line(lua_State *L, const char *s, size_t len);

/* 1 when the line ends in an odd run of backslashes: systemd would read
 * the next line as its continuation. */
int escape_line_continues(const char *line, size_t len);

#endif
