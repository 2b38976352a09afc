#include "command_line.h"

#include "path_rules.h"
#include "unit_value.h"

#include <stdlib.h>
#include <string.h>

/* systemd 239 finds a bare program name (`myapp`) in a fixed search
 * path; before it, the executable had to be absolute. */
#define BARE_NAMES_SINCE 239

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

const char *command_executable_problem(const char *path, long version)
{
    if (!*path)
        return "expected a command";
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p == (unsigned char)SPECIFIER_MARK && p[1])
            p++; /* specifier.X: systemd expands it in the path */
        else if (*p < 0x20 || *p == 0x7f)
            return "systemd refuses a control character in the executable";
        else if (*p == '"' || *p == '\'' || *p == '\\')
            return "systemd refuses quotes and backslashes in the executable";
    }
    if (path[strlen(path) - 1] == '/')
        return "the executable ends with '/', which names a folder";
    if (!strchr(path, '/')) {
        if (version < BARE_NAMES_SINCE)
            return "a bare program name needs systemd_version >= 239; give the absolute path (/usr/bin/...)";
        if (strlen(path) > PATH_NAME_MAX || strcmp(path, ".") == 0 || strcmp(path, "..") == 0)
            return "not a valid program name";
        return NULL;
    }
    if (path[0] != '/')
        return "a relative executable: systemd needs an absolute path (or, from systemd 239, a bare program name)";
    return path_length_problem(path);
}

/* Reads the word at *p as systemd would: quotes removed, unquoted
 * whitespace ends it. Fills `word` (NUL-terminated, as long as the line) and
 * moves *p past it. A backslash is refused in the executable rather than
 * guessed at (systemd would C-unescape it). */
static const char *take_executable(const char **p, char *word)
{
    size_t n = 0;
    char quote = 0;
    const char *s = *p;
    for (; *s && (quote || !is_blank(*s)); s++) {
        if (*s == '\\')
            return s[1] == '"' || s[1] == '\'' || s[1] == '\\'
                       ? "systemd refuses quotes and backslashes in the executable"
                       : "systemd reads a backslash in the executable as an escape; write the path plainly";
        if (quote && *s == quote)
            quote = 0;
        else if (!quote && (*s == '"' || *s == '\''))
            quote = *s;
        else
            word[n++] = *s; /* the word is never longer than the line */
    }
    if (quote)
        return "a quote is not closed";
    word[n] = '\0';
    *p = s;
    return NULL;
}

/* Skips the arguments of one command; stops after a lone ';' (returning
 * 1) or at the end (0). Unclosed quotes make the line invalid (-1).
 * *words counts the arguments. */
static int skip_arguments(const char **p, int *words)
{
    const char *s = *p;
    *words = 0;
    for (;;) {
        while (is_blank(*s))
            s++;
        if (!*s)
            break;
        if (s[0] == ';' && (!s[1] || is_blank(s[1]))) {
            *p = s + 1;
            return 1;
        }
        char quote = 0;
        for (; *s && (quote || !is_blank(*s)); s++) {
            if (*s == '\\' && s[1])
                s++;
            else if (quote && *s == quote)
                quote = 0;
            else if (!quote && (*s == '"' || *s == '\''))
                quote = *s;
        }
        if (quote)
            return -1;
        (*words)++;
    }
    *p = s;
    return 0;
}

/* The prefixes systemd takes, as config_parse_exec() takes them: '-', '@',
 * ':' and '|' once each; '+' or '!' (not both), or "!!"; anything after
 * that is the path. Returns the path; *argv0 is set for '@'. */
static const char *take_prefixes(const char *word, int *argv0)
{
    int ignore = 0, no_env = 0, shell = 0, privileged = 0, no_setuid = 0, ambient = 0;
    *argv0 = 0;
    for (;; word++) {
        if (*word == '-' && !ignore)
            ignore = 1;
        else if (*word == '@' && !*argv0)
            *argv0 = 1;
        else if (*word == ':' && !no_env)
            no_env = 1;
        else if (*word == '|' && !shell)
            shell = 1;
        else if (*word == '+' && !privileged && !no_setuid && !ambient)
            privileged = 1;
        else if (*word == '!' && !privileged && !no_setuid && !ambient)
            no_setuid = 1;
        else if (*word == '!' && no_setuid && !ambient)
            no_setuid = 0, ambient = 1;
        else
            return word;
    }
}

const char *command_line_problem(const char *line, long version, int several)
{
    size_t size = strlen(line) + 1;
    char *word = malloc(size);
    if (!word)
        return "not enough memory to check the command";
    const char *p = line, *problem = NULL;
    int commands = 0, more = 1;
    while (more && !problem) {
        while (is_blank(*p))
            p++;
        if (!*p)
            break;
        if (p[0] == ';' && (!p[1] || is_blank(p[1]))) {
            p++;
            continue;
        }
        if (++commands > 1 && !several) {
            problem = "systemd takes one command here (several, separated by ';', only for oneshot services)";
            break;
        }
        int argv0, arguments;
        problem = take_executable(&p, word);
        const char *path = problem ? NULL : take_prefixes(word, &argv0);
        if (path)
            problem = command_executable_problem(path, version);
        if (!problem && (more = skip_arguments(&p, &arguments)) < 0)
            problem = "a quote is not closed";
        if (!problem && argv0 && arguments == 0)
            problem = "the '@' prefix needs the name the program sees as argv[0] after the executable";
    }
    free(word);
    if (!problem && commands == 0)
        return "expected a command";
    return problem;
}
