#include "validate.h"

#include "command_line.h"
#include "escape.h"
#include "keys.h"
#include "path_rules.h"
#include "read_only.h"
#include "systemd_names.h"
#include "unit_name.h"
#include "unit_value.h"

#include <lauxlib.h>

#include <assert.h>
#include <errno.h>
#include <ctype.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

/* ---- string formats ---- */

/* systemd's longest unit name (255) less ".service" */
#define UNIT_PREFIX_MAX 247

static int all_chars_in(const char *s, const char *allowed)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(allowed, *s))
            return 0;
    return 1;
}

static const char *check_user_name(const char *s)
{
    /* the portable subset systemd's valid_user_group_name() accepts */
    size_t len = strlen(s);
    if (len == 0 || len > 31 || !(isalpha((unsigned char)s[0]) || s[0] == '_') || !all_chars_in(s, "_-"))
        return "expected a user or group name: a letter or _, then letters, digits, _ or -, at most 31";
    return NULL;
}

static const char *check_env_assignment(const char *s)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s || isdigit((unsigned char)s[0]))
        return "expected NAME=value with NAME made of letters, digits and _";
    for (const char *p = s; p < eq; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return "expected NAME=value with NAME made of letters, digits and _";
    return NULL;
}

static const char *check_octal_mode(const char *s)
{
    size_t len = strlen(s);
    if (len < 3 || len > 4 || strspn(s, "01234567") != len)
        return "expected an octal mode of 3 or 4 digits, such as \"750\" or \"0027\"";
    return NULL;
}

static int has_edge_whitespace(const char *s)
{
    size_t len = strlen(s);
    return len > 0 && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1]));
}

/* For KEY_WRITTEN_RAW: what systemd would change or join. */
static const char *check_raw_value(const char *s)
{
    if (has_edge_whitespace(s))
        return "systemd strips whitespace at the start and end of this value";
    if (escape_line_continues(s, strlen(s)))
        return "a final backslash would join the next line of the unit";
    return NULL;
}

/* systemd's parse_sec() units, in the order it tries them: the first
 * that the text starts with is taken ("5mins" is 5 min, then "s" alone,
 * which is no number). In microseconds. */
static const struct {
    const char *name;
    unsigned long long usec;
} time_units[] = {
    {"seconds", 1000000ULL}, {"second", 1000000ULL}, {"sec", 1000000ULL}, {"s", 1000000ULL},
    {"minutes", 60000000ULL}, {"minute", 60000000ULL}, {"min", 60000000ULL},
    {"months", 2629800000000ULL}, {"month", 2629800000000ULL}, {"M", 2629800000000ULL},
    {"msec", 1000ULL}, {"ms", 1000ULL}, {"m", 60000000ULL},
    {"hours", 3600000000ULL}, {"hour", 3600000000ULL}, {"hr", 3600000000ULL}, {"h", 3600000000ULL},
    {"days", 86400000000ULL}, {"day", 86400000000ULL}, {"d", 86400000000ULL},
    {"weeks", 604800000000ULL}, {"week", 604800000000ULL}, {"w", 604800000000ULL},
    {"years", 31557600000000ULL}, {"year", 31557600000000ULL}, {"y", 31557600000000ULL},
    {"usec", 1ULL}, {"us", 1ULL}, {"\xc2\xb5s", 1ULL}, {"\xce\xbcs", 1ULL},
};

/* systemd counts time in 64-bit microseconds; the largest is infinity. */
#define USEC_LIMIT 18446744073709551615ULL

/* One "<number>[ ][unit]" of a time span, added to *usec as parse_sec()
 * adds it (a whole part of at least UINT64_MAX / unit overflows); returns
 * what follows it, NULL when it is not one, or `overflow`. A number
 * without a unit is seconds, and must end the span or meet a blank. */
static const char *time_span_part(const char *s, unsigned long long *usec, const char *overflow)
{
    const char *start = s;
    size_t whole = strspn(s, "0123456789"), fraction = 0;
    s += whole;
    if (*s == '.') {
        fraction = strspn(s + 1, "0123456789");
        if (fraction == 0)
            return NULL;
        s += 1 + fraction;
    } else if (whole == 0) {
        return NULL;
    }
    s += strspn(s, " \t");
    unsigned long long unit = 0;
    for (size_t i = 0; i < sizeof time_units / sizeof time_units[0] && !unit; i++)
        if (strncmp(s, time_units[i].name, strlen(time_units[i].name)) == 0) {
            unit = time_units[i].usec;
            s += strlen(time_units[i].name);
        }
    if (!unit && *s && s[-1] != ' ' && s[-1] != '\t')
        return NULL;
    if (!unit)
        unit = 1000000ULL;
    errno = 0;
    unsigned long long count = whole ? strtoull(start, NULL, 10) : 0;
    if (errno == ERANGE || count >= USEC_LIMIT / unit)
        return overflow;
    unsigned long long part = count * unit + (unsigned long long)(strtod(start + whole, NULL) * (double)unit);
    if (part > USEC_LIMIT - *usec)
        return overflow;
    *usec += part;
    return s;
}

static const char *check_time_span(const char *s)
{
    static const char overflow[] = "";
    const char *problem = "expected seconds or a systemd time span such as \"5s\" or \"1min 30s\"";
    unsigned long long usec = 0;
    s += strspn(s, " \t");
    if (strcmp(s, "infinity") == 0)
        return NULL;
    if (!*s)
        return problem;
    while (*s) {
        s = time_span_part(s, &usec, overflow);
        if (s == overflow)
            return "longer than systemd can count (about 584,542 years)";
        if (!s)
            return problem;
        s += strspn(s, " \t");
    }
    return NULL;
}

/* A count (or "infinity", as the largest) of a limit; -1 when it is not one. */
static double limit_value(const char *s, size_t len)
{
    if (len == 8 && strncmp(s, "infinity", 8) == 0)
        return INFINITY;
    if (len == 0 || len > 19 || strspn(s, "0123456789") < len)
        return -1;
    return strtod(s, NULL);
}

/* LimitNOFILE= and LimitCORE=: a count or "infinity", or SOFT:HARD with
 * SOFT no higher than HARD. */
static const char *check_limit(const char *s)
{
    const char *colon = strchr(s, ':');
    double soft = limit_value(s, colon ? (size_t)(colon - s) : strlen(s));
    double hard = colon ? limit_value(colon + 1, strlen(colon + 1)) : soft;
    if (soft < 0 || hard < 0)
        return "expected a whole number or \"infinity\", or SOFT:HARD of those";
    if (soft > hard)
        return "the soft limit is higher than the hard one, which systemd ignores";
    return NULL;
}

/* ReadWritePaths= and its kin: "-" (may be missing), then "+" (inside
 * RootDirectory=), each once, then an absolute path. */
static const char *check_sandbox_path(const char *s)
{
    s += s[0] == '-';
    s += s[0] == '+';
    return path_absolute_problem(s);
}

static const char *check_env_file(const char *s)
{
    /* the path is glob-escaped when written, so any character may stay */
    if (has_edge_whitespace(s))
        return "systemd strips whitespace at the start and end of this value";
    s += s[0] == '-';
    if (s[0] && strchr("!@:+|", s[0]))
        return "only '-' (the file may be missing) is a prefix in EnvironmentFile=; systemd ignores a line "
               "with another";
    return path_absolute_problem(s);
}

static const char *check_unit_name(const char *s) { return unit_name_problem(s, 0); }

static const char *check_syslog_identifier(const char *s)
{
    return *s && strlen(s) <= 254 ? NULL : "expected 1 to 254 bytes: journald drops a longer identifier's output";
}

/* The formats whose check needs nothing but the string. */
static const char *(*const string_checks[])(const char *) = {
    [FORMAT_UNIT_NAME] = check_unit_name, [FORMAT_USER_NAME] = check_user_name,
    [FORMAT_ABSOLUTE_PATH] = path_absolute_problem, [FORMAT_SANDBOX_PATH] = check_sandbox_path,
    [FORMAT_RELATIVE_PATH] = path_relative_problem, [FORMAT_DIRECTORY_NAME] = path_directory_name_problem,
    [FORMAT_SYSLOG_IDENTIFIER] = check_syslog_identifier, [FORMAT_OCTAL_MODE] = check_octal_mode,
    [FORMAT_ENV_ASSIGNMENT] = check_env_assignment, [FORMAT_ENV_FILE] = check_env_file,
    [FORMAT_TIME_SPAN] = check_time_span, [FORMAT_LIMIT] = check_limit,
};

static const char *check_format(const struct key_spec *spec, const char *s, const char **detail)
{
    if ((size_t)spec->format < sizeof string_checks / sizeof string_checks[0] && string_checks[spec->format])
        return string_checks[spec->format](s);
    switch (spec->format) {
    case FORMAT_TEXT:
        return NULL;
    case FORMAT_APP_NAME:
        /* the names made from it (unit, user, group) must hold: a user's
         * name; a release's is narrower still (check_release_app_name) */
        return check_user_name(s) ? "expected [a-z][a-z0-9_]* (a release's, an OTP application's), or for "
                                    "release_system = \"none\" a user's name (a letter or _, then letters, "
                                    "digits, _ or -, at most 31)"
                                  : NULL;
    case FORMAT_UNIT_PREFIX:
        if (strlen(s) > UNIT_PREFIX_MAX)
            return "too long: the unit name NAME.service must fit in 255 bytes";
        return *s && all_chars_in(s, "_.:-") && !strstr(s, "..")
                   ? NULL : "expected a name of letters, digits and _ . : -";
    case FORMAT_COMMAND:
        return NULL; /* whole command lines are checked with the target's version */
    case FORMAT_KEY_NAME:
        if (keys_find(s))
            return NULL;
        *detail = keys_suggest(s);
        return "unknown key";
    case FORMAT_CHOICE:
        for (const char *const *c = spec->choices; *c; c++)
            if (strcmp(s, *c) == 0)
                return NULL;
        return "not one of the allowed values";
    case FORMAT_CAPABILITY:
        return systemd_knows_capability(s) ? NULL : "expected a capability systemd knows, such as CAP_NET_BIND_SERVICE";
    case FORMAT_ADDRESS_FAMILY:
        return systemd_knows_address_family(s) ? NULL : "expected an address family systemd knows, such as AF_NETLINK";
    case FORMAT_SYSCALL_GROUP:
        s += s[0] == '~';
        if (s[0] == '@')
            return systemd_knows_syscall_group(s) ? NULL : "not a system call group of systemd 252 (see systemd-analyze "
                                                           "syscall-filter)";
        /* a single system call: systemd 252 drops an unknown one; unitforge
         * has no list of them, verify's systemd-analyze has */
        return *s && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s)
                   ? NULL : "expected a system call or @group, ~ to deny it";
    case FORMAT_DIRECTIVES:
    case FORMAT_HOOKS:
    case FORMAT_VERSION:
        return NULL; /* tables and integers: checked by their shape */
    case FORMAT_FOLDER:
        return *s ? NULL : "expected a folder, not an empty string";
    case FORMAT_FOLDER_NAME:
        /* "" omits MIX_ENV; anything else names _build/<mix_env> */
        return strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0
                   ? "expected a folder name: no '/', not '.' or '..'" : NULL;
    default:
        return NULL; /* checked by string_checks above */
    }
    return NULL;
}

/* ---- types ---- */

#define SHOWN_VALUE_MAX 80

/* A string as a message can show it: quoted, control characters escaped,
 * long values cut; a specifier as the user means it (%i), since no user
 * value holds the mark itself. */
static void push_shown_string(lua_State *L, const char *s, size_t len)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "string \"");
    for (size_t i = 0; i < len && i < SHOWN_VALUE_MAX; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == SPECIFIER_MARK && i + 1 < len) {
            luaL_addchar(&b, '%');
            luaL_addchar(&b, s[++i]);
        } else if (ch == '\n')
            luaL_addstring(&b, "\\n");
        else if (ch < 0x20 || ch == 0x7f) {
            lua_pushfstring(L, "\\%d", (int)ch);
            luaL_addvalue(&b);
        } else if (ch == '"' || ch == '\\') {
            luaL_addchar(&b, '\\');
            luaL_addchar(&b, (char)ch);
        } else
            luaL_addchar(&b, (char)ch);
    }
    luaL_addstring(&b, len > SHOWN_VALUE_MAX ? "\"..." : "\"");
    luaL_pushresult(&b);
}

static const char *push_description(lua_State *L, int index)
{
    size_t len;
    const char *s;
    switch (lua_type(L, index)) {
    case LUA_TSTRING:
        s = lua_tolstring(L, index, &len);
        push_shown_string(L, s, len);
        return lua_tostring(L, -1);
    case LUA_TNUMBER:
    case LUA_TBOOLEAN: {
        index = lua_absindex(L, index);
        luaL_tolstring(L, index, NULL);
        lua_pushfstring(L, "%s %s", luaL_typename(L, index), lua_tostring(L, -1));
        lua_remove(L, -2);
        return lua_tostring(L, -1);
    }
    default:
        return lua_pushstring(L, luaL_typename(L, index));
    }
}

static void add_choices(lua_State *L, luaL_Buffer *b, const char *const *choices)
{
    (void)L;
    luaL_addstring(b, " (one of:");
    for (const char *const *c = choices; *c; c++) {
        luaL_addstring(b, " ");
        luaL_addstring(b, *c);
    }
    luaL_addstring(b, ")");
}

/* Adds "<prefix><key>: <problem>, got <value>" for the value at `index`. */
static void report(lua_State *L, struct problems *p, const char *prefix, const char *where,
                   const struct key_spec *spec, const char *problem, const char *detail, int index)
{
    index = lua_absindex(L, index);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, problem);
    if (spec->format == FORMAT_CHOICE && strcmp(problem, "not one of the allowed values") == 0)
        add_choices(L, &b, spec->choices);
    if (detail) {
        luaL_addstring(&b, " (did you mean '");
        luaL_addstring(&b, detail);
        luaL_addstring(&b, "'?)");
    }
    luaL_pushresult(&b);
    push_description(L, index);
    problems_add(L, p, "%s%s: %s, got %s", prefix, where, lua_tostring(L, -2), lua_tostring(L, -1));
    lua_pop(L, 2);
}

static void check_string(lua_State *L, struct problems *p, const char *prefix, const char *where,
                         const struct key_spec *spec, int index)
{
    const char *detail = NULL;
    size_t len;
    const char *s = lua_tolstring(L, index, &len);
    const char *problem = unit_value_problem(s, len);
    if (!problem)
        problem = check_format(spec, s, &detail);
    if (!problem && (spec->flags & KEY_WRITTEN_RAW))
        problem = check_raw_value(s);
    if (problem)
        report(L, p, prefix, where, spec, problem, detail, index);
}

int validate_push_non_list_key(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    lua_Integer n = (lua_Integer)lua_rawlen(L, index);
    lua_pushnil(L);
    while (lua_next(L, index)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n) {
            luaL_tolstring(L, -1, NULL);
            lua_remove(L, -2);
            return 1;
        }
    }
    return 0;
}

static void check_list(lua_State *L, struct problems *p, const char *prefix, const struct key_spec *spec, int index)
{
    read_only_push_backing(L, index);
    index = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, index);
    if (validate_push_non_list_key(L, index)) {
        problems_add(L, p, "%s%s: expected a list, but it has the key %s", prefix, spec->name, lua_tostring(L, -1));
        lua_pop(L, 2);
        return;
    }
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, index, i);
        const char *where = lua_pushfstring(L, "%s[%d]", spec->name, (int)i);
        if (lua_type(L, -2) != LUA_TSTRING)
            report(L, p, prefix, where, spec, "expected a string", NULL, -2);
        else
            check_string(L, p, prefix, where, spec, -2);
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
}

static int type_matches(lua_State *L, const struct key_spec *spec, int index)
{
    int type = lua_type(L, index);
    switch (spec->type) {
    case KEY_STRING:
        return type == LUA_TSTRING;
    case KEY_INTEGER:
        return lua_isinteger(L, index);
    case KEY_BOOLEAN:
        return type == LUA_TBOOLEAN || (type == LUA_TSTRING && spec->choices);
    case KEY_SCALAR:
        return type == LUA_TSTRING || type == LUA_TNUMBER;
    case KEY_LIST:
    case KEY_TABLE:
    case KEY_FUNCTIONS:
        return type == LUA_TTABLE;
    }
    return 0;
}

static const char *expected_type(const struct key_spec *spec)
{
    if (spec->type == KEY_BOOLEAN && spec->choices)
        return "expected true, false or one of the allowed values";
    static const char *const names[] = {
        [KEY_STRING] = "expected a string", [KEY_INTEGER] = "expected an integer",
        [KEY_BOOLEAN] = "expected true or false", [KEY_SCALAR] = "expected a string or a number",
        [KEY_LIST] = "expected a list of strings", [KEY_TABLE] = "expected a table",
        [KEY_FUNCTIONS] = "expected a list of functions",
    };
    return names[spec->type];
}

static void check_functions(lua_State *L, struct problems *p, const char *prefix, const struct key_spec *spec, int index)
{
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, index); i <= n; i++) {
        lua_rawgeti(L, index, i);
        if (lua_type(L, -1) != LUA_TFUNCTION) {
            const char *where = lua_pushfstring(L, "%s[%d]", spec->name, (int)i);
            report(L, p, prefix, where, spec, "expected a function", NULL, -2);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

/* Seconds and limits given as numbers: whole (for limits), not negative,
 * and writable in decimal. */
static void check_count(lua_State *L, struct problems *p, const char *prefix, const struct key_spec *spec, int index)
{
    lua_Number n = lua_tonumber(L, index);
    int whole = lua_isinteger(L, index) || (n == floor(n) && fabs(n) <= 9007199254740992.0);
    /* time spans are counted in microseconds of 64 bits */
    int too_long = spec->format == FORMAT_TIME_SPAN && n >= (double)(USEC_LIMIT / 1000000ULL);
    if (!(n >= 0) || !isfinite(n) || (spec->format == FORMAT_LIMIT && !whole) || n > 9007199254740992.0 || too_long)
        report(L, p, prefix, spec->name, spec,
               spec->format == FORMAT_LIMIT ? "expected a whole number from 0, or \"infinity\""
                                            : "expected a number of seconds from 0", NULL, index);
}

/* paranoia = "strict", network = "local": the words a flag takes. */
static void check_flag_word(lua_State *L, struct problems *p, const char *prefix, const struct key_spec *spec,
                            int index)
{
    const char *s = lua_tostring(L, index);
    for (const char *const *c = spec->choices; *c; c++)
        if (strcmp(s, *c) == 0)
            return;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "expected true, false");
    for (const char *const *c = spec->choices; *c; c++) {
        luaL_addstring(&b, " or \"");
        luaL_addstring(&b, *c);
        luaL_addstring(&b, "\"");
    }
    luaL_pushresult(&b);
    report(L, p, prefix, spec->name, spec, lua_tostring(L, -1), NULL, index);
    lua_pop(L, 1);
}

/* hardening_extra = { Directive = value }: names systemd could know,
 * values that fit on one line (a list gives one line per value). */
static void check_directives(lua_State *L, struct problems *p, const char *prefix, const struct key_spec *spec,
                             int index)
{
    lua_pushnil(L);
    while (lua_next(L, index)) {
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (!name || !isupper((unsigned char)name[0]) || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                   "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(name)) {
            problems_add(L, p, "%s%s: directive names look like ProtectClock, got %s", prefix, spec->name,
                         name ? name : luaL_typename(L, -2));
        } else {
            const char *where = lua_pushfstring(L, "%s.%s", spec->name, name);
            int type = lua_type(L, -2);
            if (type == LUA_TTABLE)
                check_list(L, p, prefix, spec, lua_gettop(L) - 1);
            else if (type == LUA_TSTRING)
                check_string(L, p, prefix, where, spec, -2);
            else if (type != LUA_TNUMBER && type != LUA_TBOOLEAN)
                report(L, p, prefix, where, spec, "expected a string, number, boolean or list", NULL, -2);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

static void check_hooks(lua_State *L, struct problems *p, const char *prefix, const struct key_spec *spec, int index)
{
    lua_pushnil(L);
    while (lua_next(L, index)) {
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        if (strcmp(name, "after_resolve") != 0 && strcmp(name, "after_render") != 0)
            problems_add(L, p, "%s%s.%s: unknown hook (the hooks are after_resolve and after_render)", prefix,
                         spec->name, name);
        else if (lua_type(L, -1) != LUA_TFUNCTION)
            problems_add(L, p, "%s%s.%s: expected a function, got %s", prefix, spec->name, name,
                         luaL_typename(L, -1));
        lua_pop(L, 1);
    }
}

/* systemd_version: the versions systemd has had, give or take. */
static void check_version(lua_State *L, struct problems *p, const char *prefix, const struct key_spec *spec,
                          int index)
{
    lua_Integer version = lua_tointeger(L, index);
    if (version < 1 || version > 9999)
        problems_add(L, p, "%s%s: expected a version number such as 247, got %I", prefix, spec->name,
                     (LUAI_UACINT)version);
}

/* Checks one value of a table (backing at `index`): its shape by format. */
static void check_table(lua_State *L, struct problems *p, const char *prefix, const struct key_spec *spec, int index)
{
    if (spec->type == KEY_LIST)
        check_list(L, p, prefix, spec, index);
    else if (spec->type == KEY_FUNCTIONS)
        check_functions(L, p, prefix, spec, index);
    else if (spec->format == FORMAT_DIRECTIVES)
        check_directives(L, p, prefix, spec, index);
    else if (spec->format == FORMAT_HOOKS)
        check_hooks(L, p, prefix, spec, index);
}

void validate_value(lua_State *L, struct problems *p, const char *prefix, const struct key_spec *spec, int index)
{
    index = lua_absindex(L, index);
    int type = lua_type(L, index);
    if (type == LUA_TNIL || (type == LUA_TBOOLEAN && !lua_toboolean(L, index) && (spec->flags & KEY_OPTIONAL)))
        return;
    if (!type_matches(L, spec, index))
        report(L, p, prefix, spec->name, spec, expected_type(spec), NULL, index);
    else if (type == LUA_TNUMBER && spec->type == KEY_SCALAR)
        check_count(L, p, prefix, spec, index);
    else if (spec->format == FORMAT_VERSION)
        check_version(L, p, prefix, spec, index);
    else if (spec->type == KEY_STRING || (spec->type == KEY_SCALAR && type == LUA_TSTRING))
        check_string(L, p, prefix, spec->name, spec, index);
    else if (spec->type == KEY_BOOLEAN && type == LUA_TSTRING)
        check_flag_word(L, p, prefix, spec, index);
    else if (type == LUA_TTABLE) {
        read_only_push_backing(L, index);
        check_table(L, p, prefix, spec, lua_gettop(L));
        lua_pop(L, 1);
    }
}

void validate_unknown_keys(lua_State *L, int raw, const char *prefix, struct problems *p)
{
    raw = lua_absindex(L, raw);
    lua_pushnil(L);
    while (lua_next(L, raw)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            problems_add(L, p, "%skeys of a service table are names, got %s", prefix, luaL_typename(L, -1));
        } else if (!keys_find(lua_tostring(L, -1))) {
            const char *key = lua_tostring(L, -1);
            const char *unknown = keys_push_unknown(L, key);
            problems_add(L, p, "%s%s: %s", prefix, key, unknown);
            lua_pop(L, 1);
        }
    }
}

static const char *string_field(lua_State *L, int cfg, const char *key)
{
    const char *s = lua_getfield(L, cfg, key) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1); /* cfg keeps the string alive */
    return s;
}

/* The value of `key` when it matters for this service, else NULL. */
static const char *applied_string(lua_State *L, int cfg, const char *key)
{
    return keys_applies(L, keys_find(key), cfg) ? string_field(L, cfg, key) : NULL;
}

/* A release (mix, distillery) is an OTP application, whose name is an
 * atom: mix_systemd's rule. A plain program's is any user's name
 * (FORMAT_APP_NAME). */
static void check_release_app_name(lua_State *L, struct problems *p, const char *prefix, int cfg)
{
    const char *system = string_field(L, cfg, "release_system");
    if (system && strcmp(system, "none") == 0)
        return;
    lua_getfield(L, cfg, "app_name");
    const char *s = lua_tostring(L, -1);
    if (s && !(islower((unsigned char)s[0]) && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s)))
        report(L, p, prefix, "app_name", keys_find("app_name"),
               "expected a lower-case name: [a-z][a-z0-9_]*, an OTP application's (a plain program, "
               "release_system = \"none\", may have any user's name)", NULL, -1);
    lua_pop(L, 1);
}

/* PathModified= takes the flag file, a little longer than flags_dir. */
static void check_flag_file(lua_State *L, struct problems *p, const char *prefix, int cfg)
{
    const char *flags = applied_string(L, cfg, "flags_dir");
    if (!flags)
        return;
    if (path_length_problem(lua_pushfstring(L, "%s/restart.flag", flags)))
        report(L, p, prefix, "flags_dir", keys_find("flags_dir"),
               "PathModified=<flags_dir>/restart.flag would be longer than systemd accepts (4095 bytes)", NULL, -1);
    lua_pop(L, 1);
}

/* ---- rules that join several keys ---- */


/* An Exec prefix the target systemd does not know would be read as part
 * of the path: the command would not run at all. */
static void check_command_prefixes(lua_State *L, struct problems *p, const char *prefix, const char *key,
                                   const char *command, lua_Integer version)
{
    static const struct {
        char prefix;
        lua_Integer since;
    } gates[] = {{'+', 231}, {'!', 235}, {':', 242}, {'|', 253}};
    size_t len = strspn(command, "-@:+!|");
    for (size_t i = 0; i < len; i++)
        for (size_t g = 0; g < sizeof gates / sizeof gates[0]; g++)
            if (command[i] == gates[g].prefix && version < gates[g].since)
                problems_add(L, p, "%s%s: the '%c' prefix needs systemd_version >= %d, target is %d", prefix,
                             key, gates[g].prefix, (int)gates[g].since, (int)version);
}

/* A command line as systemd will split it: prefixes the target knows,
 * an executable it accepts, quotes that close, one command where only
 * one may be. */
static void check_command_value(lua_State *L, struct problems *p, const char *prefix, const char *where, int index,
                                lua_Integer version, int several)
{
    const char *command = lua_tostring(L, index);
    const char *word = command + strspn(command, " \t");
    check_command_prefixes(L, p, prefix, where, word, version);
    const char *problem = command_line_problem(command, (long)version, several);
    if (problem)
        report(L, p, prefix, where, keys_find("exec_start"), problem, NULL, index);
}

static void check_commands(lua_State *L, struct problems *p, const char *prefix, int cfg, lua_Integer version)
{
    /* ExecStart= takes one command, but for oneshot services */
    const char *type = string_field(L, cfg, "service_type");
    int oneshot = type && strcmp(type, "oneshot") == 0;
    static const char *const scalar_keys[] = {"exec_start", "exec_stop", "exec_start_wrap", NULL};
    for (const char *const *k = scalar_keys; *k; k++) {
        if (lua_getfield(L, cfg, *k) == LUA_TSTRING)
            check_command_value(L, p, prefix, *k, -1, version, oneshot || strcmp(*k, "exec_stop") == 0);
        lua_pop(L, 1);
    }
    lua_getfield(L, cfg, "exec_start_pre");
    read_only_push_backing(L, -1);
    lua_remove(L, -2);
    for (lua_Integer i = 1; lua_type(L, -1) == LUA_TTABLE && lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *where = lua_pushfstring(L, "exec_start_pre[%d]", (int)i);
            check_command_value(L, p, prefix, where, -2, version, 1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    const char *script = string_field(L, cfg, "runtime_environment_service_script");
    const char *scripts_dir = string_field(L, cfg, "scripts_dir");
    if (script && scripts_dir) {
        const char *path = lua_pushfstring(L, "%s/%s", scripts_dir, script);
        const char *problem = command_executable_problem(path, (long)version);
        if (problem)
            report(L, p, prefix, "runtime_environment_service_script", keys_find("exec_start"), problem, NULL, -1);
        lua_pop(L, 1);
    }
}

/* Values that need a newer systemd than their key (the option table's
 * gates). */
static void check_value_gates(lua_State *L, struct problems *p, const char *prefix, int cfg, lua_Integer version)
{
    for (size_t i = 0; i < keys_count; i++) {
        const struct key_spec *spec = &keys_all[i];
        const char *value = spec->gates ? string_field(L, cfg, spec->name) : NULL;
        for (const struct key_gate *g = spec->gates; value && g->value; g++)
            if (strcmp(value, g->value) == 0 && version < g->since)
                problems_add(L, p, "%s%s: \"%s\" needs systemd_version >= %d, target is %d", prefix, spec->name,
                             value, (int)g->since, (int)version);
    }
}

/* systemd refuses Restart=always for oneshot services. */
static void check_oneshot_restart(lua_State *L, struct problems *p, const char *prefix, int cfg)
{
    const char *type = string_field(L, cfg, "service_type");
    const char *restart = string_field(L, cfg, "restart");
    if (type && strcmp(type, "oneshot") == 0 && restart &&
        (strcmp(restart, "always") == 0 || strcmp(restart, "on-success") == 0))
        problems_add(L, p, "%srestart: systemd refuses Restart=%s for oneshot services; use \"on-failure\" or \"no\"",
                     prefix, restart);
}

/* The *Directory= names: a ':' in one can be escaped only from systemd
 * 250, which reads an unescaped one as "directory:symlink" (older
 * versions differ in how they take it). */
static void check_directories(lua_State *L, struct problems *p, const char *prefix, int cfg, lua_Integer version)
{
    for (size_t i = 0; version < 250 && i < keys_count; i++) {
        const struct key_spec *spec = &keys_all[i];
        if (spec->format != FORMAT_DIRECTORY_NAME || !spec->since)
            continue; /* not a directive's value */
        const char *value = applied_string(L, cfg, spec->name);
        if (value && strchr(value, ':'))
            problems_add(L, p, "%s%s: a ':' in a directory name needs systemd_version >= 250, target is %d",
                         prefix, spec->name, (int)version);
    }
}

void validate_service(lua_State *L, int cfg, const char *prefix, struct problems *p)
{
    int top = lua_gettop(L);
    (void)top; /* read by the asserts of debug builds */
    cfg = lua_absindex(L, cfg);
    lua_getfield(L, cfg, "systemd_version");
    lua_Integer version = lua_tointeger(L, -1);
    lua_pop(L, 1);
    check_release_app_name(L, p, prefix, cfg);
    check_flag_file(L, p, prefix, cfg);
    check_value_gates(L, p, prefix, cfg, version);
    check_oneshot_restart(L, p, prefix, cfg);
    check_commands(L, p, prefix, cfg, version);
    check_directories(L, p, prefix, cfg, version);
    assert(lua_gettop(L) == top);
}
