#include "template.h"

#include "failure.h"

#include <lauxlib.h>
#include <string.h>

enum segment_kind { SEG_TEXT, SEG_CODE, SEG_EXPR, SEG_COMMENT };

struct segment {
    enum segment_kind kind;
    const char *start;
    size_t len;
};

struct translator {
    lua_State *L;
    luaL_Buffer *out;
    const char *text, *end;
    const char *pos;
    int line;
    int pieces; /* what the template writes outside loops: its buffer's size */
};

static int count_newlines(const char *s, size_t len)
{
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n;
}

static void add_newlines(luaL_Buffer *b, int n)
{
    while (n-- > 0)
        luaL_addchar(b, '\n');
}

static void add_lua_string(luaL_Buffer *b, const char *s, size_t len)
{
    luaL_addchar(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            luaL_addchar(b, '\\');
            luaL_addchar(b, (char)ch);
        } else if (ch == '\n') {
            luaL_addstring(b, "\\n");
        } else if (ch < 0x20 || ch == 0x7f) {
            char esc[5];
            esc[0] = '\\';
            esc[1] = (char)('0' + ch / 100);
            esc[2] = (char)('0' + ch / 10 % 10);
            esc[3] = (char)('0' + ch % 10);
            esc[4] = '\0';
            luaL_addstring(b, esc);
        } else {
            luaL_addchar(b, (char)ch);
        }
    }
    luaL_addchar(b, '"');
}

/* Whether Lua code has a `--` comment outside its string literals: the
 * comment would run to the end of the generated line and swallow the
 * template text after the tag. */
static int has_lua_comment(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\'') {
            char quote = s[i];
            for (i++; i < len && s[i] != quote; i++)
                if (s[i] == '\\')
                    i++;
        } else if (s[i] == '[' && i + 1 < len && (s[i + 1] == '[' || s[i + 1] == '=')) {
            size_t level = 0, j = i + 1;
            while (j < len && s[j] == '=')
                level++, j++;
            if (j >= len || s[j] != '[')
                continue;
            /* skip to the matching ]=*] */
            for (j++; j < len; j++) {
                if (s[j] != ']')
                    continue;
                size_t k = j + 1, eq = 0;
                while (k < len && s[k] == '=')
                    eq++, k++;
                if (eq == level && k < len && s[k] == ']') {
                    j = k;
                    break;
                }
            }
            i = j;
        } else if (s[i] == '-' && i + 1 < len && s[i + 1] == '-') {
            return 1;
        }
    }
    return 0;
}

/* Reads the next segment: text runs up to and including one newline, so
 * that every line of the template can be judged on its own. */
static int next_segment(struct translator *t, struct segment *seg)
{
    if (t->pos >= t->end)
        return 0;
    if (t->end - t->pos >= 2 && t->pos[0] == '<' && t->pos[1] == '%' &&
        !(t->end - t->pos >= 3 && t->pos[2] == '%')) {
        const char *body = t->pos + 2;
        seg->kind = SEG_CODE;
        if (body < t->end && *body == '=')
            seg->kind = SEG_EXPR, body++;
        else if (body < t->end && *body == '#')
            seg->kind = SEG_COMMENT, body++;
        const char *close = NULL;
        for (const char *p = body; p + 1 < t->end; p++)
            if (p[0] == '%' && p[1] == '>') {
                close = p;
                break;
            }
        if (!close)
            luaL_error(t->L, "%d: '<%%' without a closing '%%>'", t->line);
        seg->start = body;
        seg->len = (size_t)(close - body);
        if (seg->kind != SEG_COMMENT && has_lua_comment(seg->start, seg->len))
            luaL_error(t->L, "%d: a Lua comment (--) in a tag would swallow the text after it; "
                             "use <%%# ... %%> for comments", t->line);
        t->pos = close + 2;
    } else {
        /* "<%%" stands for a literal "<%": emit "<%" and skip one '%' */
        int literal_tag = t->end - t->pos >= 3 && memcmp(t->pos, "<%%", 3) == 0;
        const char *p = t->pos + (literal_tag ? 3 : 0);
        while (p < t->end && *p != '\n' && !(p + 1 < t->end && p[0] == '<' && p[1] == '%'))
            p++;
        if (p < t->end && *p == '\n')
            p++;
        seg->kind = SEG_TEXT;
        seg->start = t->pos;
        seg->len = (size_t)(p - t->pos);
        if (literal_tag) {
            /* emitted as two pieces so the extra '%' is not copied */
            seg->len = 2;
            t->pos += 3;
            t->line += count_newlines(seg->start, seg->len);
            return 1;
        }
        t->pos = p;
    }
    t->line += count_newlines(seg->start, seg->len);
    return 1;
}

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n')
            return 0;
    return 1;
}

static void emit_segment(struct translator *t, const struct segment *seg, int trimmed)
{
    luaL_Buffer *b = t->out;
    switch (seg->kind) {
    case SEG_TEXT:
        if (!trimmed) {
            t->pieces++;
            luaL_addstring(b, " _n=_n+1 _o[_n]=");
            add_lua_string(b, seg->start, seg->len);
        }
        add_newlines(b, count_newlines(seg->start, seg->len));
        break;
    case SEG_EXPR:
        t->pieces++;
        luaL_addstring(b, " _n=_n+1 _o[_n]=_v(");
        luaL_addlstring(b, seg->start, seg->len);
        luaL_addchar(b, ')');
        break;
    case SEG_CODE:
        luaL_addchar(b, ' ');
        luaL_addlstring(b, seg->start, seg->len);
        luaL_addchar(b, ' ');
        break;
    case SEG_COMMENT:
        add_newlines(b, count_newlines(seg->start, seg->len));
        break;
    }
}

#define MAX_LINE_SEGMENTS 64

/* Emits one template line (up to and including a newline outside tags).
 * A line whose text is blank and whose tags are all code or comments is
 * dropped entirely: that is what keeps `<% if %>` lines from leaving
 * blank lines in the unit. */
static int translate_line(struct translator *t)
{
    struct segment segs[MAX_LINE_SEGMENTS];
    int n = 0, has_expr = 0, has_code = 0, text_blank = 1;
    while (n < MAX_LINE_SEGMENTS && next_segment(t, &segs[n])) {
        struct segment *s = &segs[n++];
        if (s->kind == SEG_EXPR)
            has_expr = 1;
        else if (s->kind != SEG_TEXT)
            has_code = 1;
        else if (!is_blank(s->start, s->len))
            text_blank = 0;
        if (s->kind == SEG_TEXT && s->len > 0 && s->start[s->len - 1] == '\n')
            break;
    }
    int trimmed = has_code && !has_expr && text_blank;
    for (int i = 0; i < n; i++)
        emit_segment(t, &segs[i], trimmed);
    return n > 0;
}

void template_translate(lua_State *L, const char *text, size_t len)
{
    luaL_Buffer b;
    struct translator t = {.L = L, .out = &b, .text = text, .end = text + len, .pos = text, .line = 1};
    luaL_buffinit(L, &b);
    while (translate_line(&t))
        ;
    luaL_addstring(&b, " return _join(_o, _n)");
    luaL_pushresult(&b);
    /* before the code, on its first line so that template lines are Lua
     * lines: the buffer, sized for what the template writes outside loops */
    lua_pushfstring(L, "local c = ... local _o, _n, _v = _buffer(%d), 0, _emit", t.pieces);
    lua_insert(L, -2);
    lua_concat(L, 2);
}

static int translate_protected(lua_State *L)
{
    size_t len;
    const char *text = lua_tolstring(L, 1, &len);
    template_translate(L, text, len);
    return 1;
}

void template_compile(lua_State *L, const char *chunkname, const char *text, size_t len, int env_index)
{
    env_index = lua_absindex(L, env_index);
    const char *shown = chunkname + 1;
    lua_pushcfunction(L, translate_protected);
    lua_pushlstring(L, text, len);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        failure_raise(L, EXIT_INVALID_CONFIG, "%s:%s", shown, lua_tostring(L, -1));
    size_t code_len;
    const char *code = lua_tolstring(L, -1, &code_len);
    if (luaL_loadbufferx(L, code, code_len, chunkname, "t") != LUA_OK) {
        /* a syntax error names the template and line; running out of C
         * stack (nesting too deep) names nothing */
        const char *msg = failure_message(L, -1);
        if (msg && strncmp(msg, shown, strlen(shown)) == 0)
            failure_raise(L, EXIT_INVALID_CONFIG, "template %s", msg);
        failure_raise(L, EXIT_INVALID_CONFIG, "template %s: %s", shown, msg ? msg : "cannot be compiled");
    }
    lua_remove(L, -2);
    lua_pushvalue(L, env_index);
    if (!lua_setupvalue(L, -2, 1))
        lua_pop(L, 1);
}
