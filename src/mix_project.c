/* Reads the app name out of mix.exs the way Mix sees it: the `app:` of
 * the keyword list project/0 returns. A text search would also find the
 * `app:` of a comment, a string, a dependency or another function, so
 * this is a small Elixir lexer plus just enough structure (brackets and
 * do/fn/end blocks) to know where each token sits. Anything it does not
 * understand gives "not found", never a guess.
 *
 * A module body is code that runs as it compiles, so what project/0
 * returns is only known when nothing there can change it: the reader
 * refuses a second or hidden definition of project/0 (or of the releases
 * function), an attribute it reads set other than by plain `@attr value`
 * lines, and whatever can run code it does not see (macros brought in by
 * use/import/require, unquote, Module and Code evaluation, compile hooks,
 * a second Mix project). */
#include "mix_project.h"


#include <string.h>

enum kind { T_EOF, T_ERROR, T_IDENT, T_KEY, T_ATOM, T_OPEN, T_CLOSE, T_COMMA, T_AT, T_OTHER };

struct token {
    enum kind kind;
    const char *start;
    size_t len;
    /* Of an identifier, key or atom; NULL when quoted with escapes or
     * interpolation, as its real name is then only known at run time. */
    const char *name;
    size_t name_len;
    int newline; /* a line break came before it */
    int depth;   /* nesting level it sits at; -1 once past the region's end */
};

struct lexer {
    const char *p, *end;
    int interpolation; /* nesting of #{...}, bounded to bound the recursion */
    /* An interpolation held code that may define a function or set an
     * attribute: `"#{@app :x}"` in a module body sets @app. */
    int hidden;
};

#define MAX_INTERPOLATION 16
#define MAX_DEPTH 64

/* A byte, or -1 past the end: the buffer may hold NULs, so a NUL cannot
 * mark the end. */
static int peek(const struct lexer *lx, size_t ahead)
{
    return (size_t)(lx->end - lx->p) > ahead ? (unsigned char)lx->p[ahead] : -1;
}

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_space(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
/* Bytes of UTF-8 sequences count as letters: Elixir allows Unicode
 * identifiers, and splitting `éapp:` would invent an `app:` key. */
static int is_ident_start(int c) { return is_alpha(c) || c == '_' || c >= 0x80; }
static int is_ident_char(int c) { return is_ident_start(c) || is_digit(c); }

static int is_word(const struct token *t, const char *word)
{
    size_t n = strlen(word);
    return t->kind == T_IDENT && t->len == n && memcmp(t->start, word, n) == 0;
}

static int is_any_word(const struct token *t, const char *const *words)
{
    for (; *words; words++)
        if (is_word(t, *words))
            return 1;
    return 0;
}

/* The words that define a function: each may define project/0. */
static const char *const DEFINES[] = {"def", "defp", "defmacro", "defmacrop", "defdelegate", "defguard", "defguardp", NULL};

/* Words that bring in or run code the reader cannot see (Module and
 * Code only in some calls: see note_module_call). */
static const char *const OPAQUE[] = {"unquote", "unquote_splicing", "defoverridable", "import", "require", "use",
                                     "Module", "Code", NULL};

/* Whether `@name` followed by `next` sets the attribute: `@name value` is
 * a call of `name` with an argument, while a read ends its expression or
 * is followed by a binary operator. What is not known to be a read
 * counts as a set. */
static int attribute_set(const struct token *name, const struct token *next, const char *end)
{
    if (next->newline || next->kind == T_EOF || next->kind == T_COMMA || next->kind == T_CLOSE)
        return 0;
    if (next->kind == T_OPEN) /* `@a[:key]` reads; `@a [x]`, `@a (x)`, `@a do` set */
        return *next->start != '[' || next->start != name->start + name->len;
    if (next->kind == T_IDENT)
        return !is_any_word(next, (const char *const[]){"and", "or", "in", "when", NULL});
    if (next->kind != T_OTHER)
        return 1; /* an atom, a key, another @ */
    int c = (unsigned char)*next->start, after = next->start + 1 < end ? (unsigned char)next->start[1] : -1;
    if (strchr(";.|=>*/\\:", c))
        return 0;
    if (c == '<')
        return after == '<'; /* `<<...>>` is a value, `<>` `<=` `<-` operators */
    if (c == '-' || c == '+')
        return after != c && after != '>' && !is_space(after); /* `@a -1` passes -1 */
    if (c == '&' || c == '!')
        return after != (c == '&' ? '&' : '=');
    return 1; /* strings, numbers, sigils, ?c, %{...}, ^, ~ */
}

static struct token lex(struct lexer *lx);

/* Whitespace, comments and `\` line continuations; returns whether a
 * line ended, which is what ends a statement in Elixir. */
static int skip_blank(struct lexer *lx)
{
    int newline = 0;
    for (int c; (c = peek(lx, 0)) >= 0; lx->p++) {
        if (c == '#')
            while (peek(lx, 1) >= 0 && peek(lx, 1) != '\n')
                lx->p++;
        else if (c == '\\' && peek(lx, 1) == '\n')
            lx->p++;
        else if (c == '\n')
            newline = 1;
        else if (!is_space(c))
            break;
    }
    return newline;
}

/* The code inside #{...}, after the `#{`, up to its own `}`: it is
 * Elixir again, so its strings and braces are lexed, not counted. */
static int skip_interpolation(struct lexer *lx)
{
    if (lx->interpolation == MAX_INTERPOLATION)
        return 0;
    lx->interpolation++;
    int braces = 0;
    struct token t, before[2] = {{0}, {0}};
    do {
        t = lex(lx);
        braces += t.kind == T_OPEN && *t.start == '{';
        braces -= t.kind == T_CLOSE && *t.start == '}';
        if (is_any_word(&t, DEFINES) || is_any_word(&t, OPAQUE) || (before[1].kind == T_AT && t.kind != T_IDENT)
            || (before[0].kind == T_AT && before[1].kind == T_IDENT && attribute_set(&before[1], &t, lx->end)))
            lx->hidden = 1;
        before[0] = before[1];
        before[1] = t;
    } while (t.kind != T_EOF && t.kind != T_ERROR && braces >= 0);
    lx->interpolation--;
    return braces < 0;
}

/* A quoted body after its opening delimiter, up to and including the
 * close. Sigil delimiters do not nest in Elixir, so a plain search for
 * the close (past escapes) is right. A heredoc closes only on a line of
 * its own. Escapes and interpolation clear *plain. */
static int skip_quoted(struct lexer *lx, int close, int heredoc, int interpolates, int *plain)
{
    int line_start = 0;
    if (heredoc) { /* only blanks may follow the opening """ */
        while (peek(lx, 0) == ' ' || peek(lx, 0) == '\t' || peek(lx, 0) == '\r')
            lx->p++;
        if (peek(lx, 0) != '\n')
            return 0;
    }
    for (int c; (c = peek(lx, 0)) >= 0;) {
        if (heredoc ? line_start && c == close && peek(lx, 1) == close && peek(lx, 2) == close
                    : c == close) {
            lx->p += heredoc ? 3 : 1;
            return 1;
        }
        if (c == '\\' || (interpolates && c == '#' && peek(lx, 1) == '{')) {
            *plain = 0;
            lx->p += peek(lx, 1) >= 0 ? 2 : 1;
            if (c == '#' && !skip_interpolation(lx))
                return 0;
            line_start = 0;
            continue;
        }
        line_start = c == '\n' || (line_start && (c == ' ' || c == '\t'));
        lx->p++;
    }
    return 0;
}

/* `key: value` needs the space; `a::b` is the type operator. */
static int take_key_colon(struct lexer *lx)
{
    if (peek(lx, 0) != ':' || !is_space(peek(lx, 1)))
        return 0;
    lx->p++;
    return 1;
}

static void take_suffix(struct lexer *lx)
{
    if (peek(lx, 0) == '?' || peek(lx, 0) == '!')
        lx->p++;
}

static void lex_ident(struct lexer *lx, struct token *t)
{
    while (is_ident_char(peek(lx, 0)))
        lx->p++;
    take_suffix(lx);
    t->name = t->start;
    t->name_len = (size_t)(lx->p - t->start);
    t->kind = take_key_colon(lx) ? T_KEY : T_IDENT;
}

/* "...", '...' and their heredocs; either may be a quoted key `"app":`. */
static void lex_string(struct lexer *lx, struct token *t)
{
    int quote = peek(lx, 0), plain = 1;
    int heredoc = peek(lx, 1) == quote && peek(lx, 2) == quote;
    lx->p += heredoc ? 3 : 1;
    const char *body = lx->p;
    if (!skip_quoted(lx, quote, heredoc, 1, &plain)) {
        t->kind = T_ERROR;
        return;
    }
    if (plain && !heredoc) {
        t->name = body;
        t->name_len = (size_t)(lx->p - 1 - body);
    }
    t->kind = take_key_colon(lx) ? T_KEY : T_OTHER;
}

/* :name, :"quoted", and the operators `:` and `::`. */
static void lex_atom(struct lexer *lx, struct token *t)
{
    int c = peek(lx, 1), plain = 1;
    lx->p++;
    t->kind = T_OTHER;
    if (c == '"' || c == '\'') {
        const char *body = ++lx->p;
        if (!skip_quoted(lx, c, 0, 1, &plain)) {
            t->kind = T_ERROR;
            return;
        }
        t->kind = T_ATOM;
        if (plain) {
            t->name = body;
            t->name_len = (size_t)(lx->p - 1 - body);
        }
    } else if (is_ident_start(c)) {
        t->name = lx->p;
        while (is_ident_char(peek(lx, 0)) || peek(lx, 0) == '@')
            lx->p++;
        take_suffix(lx);
        t->kind = T_ATOM;
        t->name_len = (size_t)(lx->p - t->name);
    } else if (c == ':') {
        lx->p++;
    }
}

static int sigil_close(int open)
{
    const char *opens = "([{<", *closes = ")]}>";
    const char *o = open > 0 ? strchr(opens, open) : NULL;
    if (o)
        return closes[o - opens];
    return open > 0 && strchr("/|\"'", open) ? open : 0;
}

static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }

/* ~s(...), ~S"...", ~r/.../i, ~w[...]a, ~s"""...""", ~HTML"..." (a
 * lowercase name is one letter, an uppercase one may go on in capitals
 * and digits). A `~` that starts none is an operator such as `~>`. */
static void lex_sigil(struct lexer *lx, struct token *t)
{
    int letter = peek(lx, 1), plain = 1;
    size_t letters = letter >= 'a' && letter <= 'z';
    while (is_upper(letter) && (is_upper(peek(lx, 1 + letters)) || (letters && is_digit(peek(lx, 1 + letters)))))
        letters++;
    int open = letters ? peek(lx, 1 + letters) : -1;
    int close = sigil_close(open);
    t->kind = T_OTHER;
    if (!close) {
        lx->p++;
        return;
    }
    int heredoc = (open == '"' || open == '\'') && peek(lx, 2 + letters) == open && peek(lx, 3 + letters) == open;
    lx->p += 1 + letters + (heredoc ? 3 : 1);
    if (!skip_quoted(lx, close, heredoc, letter >= 'a' && letter <= 'z', &plain)) {
        t->kind = T_ERROR;
        return;
    }
    while (is_alpha(peek(lx, 0)) || is_digit(peek(lx, 0)))
        lx->p++;
}

/* ?a, ?", ?#, ?\n: one character, never the start of a string or
 * comment. */
static void lex_char(struct lexer *lx, struct token *t)
{
    lx->p++;
    if (peek(lx, 0) == '\\')
        lx->p++;
    if (peek(lx, 0) >= 0)
        lx->p++;
    while ((peek(lx, 0) & 0xC0) == 0x80)
        lx->p++;
    t->kind = T_OTHER;
}

/* 1_000, 0x1F, 1.5e3; letters are swallowed so `1app:` is no key. */
static void lex_number(struct lexer *lx, struct token *t)
{
    while (is_ident_char(peek(lx, 0)) || (peek(lx, 0) == '.' && is_digit(peek(lx, 1))))
        lx->p++;
    t->kind = T_OTHER;
}

/* Control bytes other than blanks are no Elixir token (though fine in
 * comments and strings). */
static void lex_punct(struct lexer *lx, struct token *t)
{
    int c = peek(lx, 0);
    lx->p++;
    t->kind = c < 0x20 || c == 0x7F ? T_ERROR
              : strchr("([{", c) ? T_OPEN
              : strchr(")]}", c) ? T_CLOSE
              : c == ',' ? T_COMMA
              : c == '@' ? T_AT
                         : T_OTHER;
}

static struct token lex(struct lexer *lx)
{
    struct token t = {0};
    t.newline = skip_blank(lx);
    t.start = lx->p;
    int c = peek(lx, 0);
    if (c < 0)
        t.kind = T_EOF;
    else if (is_ident_start(c))
        lex_ident(lx, &t);
    else if (c == '"' || c == '\'')
        lex_string(lx, &t);
    else if (c == ':')
        lex_atom(lx, &t);
    else if (c == '~')
        lex_sigil(lx, &t);
    else if (c == '?')
        lex_char(lx, &t);
    else if (is_digit(c))
        lex_number(lx, &t);
    else
        lex_punct(lx, &t);
    t.len = (size_t)(lx->p - t.start);
    return t;
}

/* Tokens with their nesting. A scan may start inside a block (a module
 * body, a function body): the closer of that block comes out with depth
 * -1, which is how a region's end is seen. */
struct scan {
    struct lexer lx;
    char expect[MAX_DEPTH]; /* the closer each open bracket or block awaits */
    int depth;
    int failed;
};

static void scan_init(struct scan *s, const char *start, const char *end)
{
    memset(s, 0, sizeof *s);
    s->lx.p = start;
    s->lx.end = end;
}

static int is_open(const struct token *t, char c) { return t->kind == T_OPEN && *t->start == c; }
static int is_close(const struct token *t, char c) { return t->kind == T_CLOSE && *t->start == c; }

static int same_name(const struct token *t, const char *name, size_t len)
{
    return t->name && t->name_len == len && memcmp(t->name, name, len) == 0;
}

static int is_key(const struct token *t, const char *key)
{
    return t->kind == T_KEY && same_name(t, key, strlen(key));
}

/* do/fn open a block that `end` closes, like a bracket: they become
 * T_OPEN 'd'/'f' and T_CLOSE 'e'. */
static struct token scan_next(struct scan *s)
{
    struct token t = lex(&s->lx);
    if (is_word(&t, "do") || is_word(&t, "fn"))
        t.kind = T_OPEN;
    else if (is_word(&t, "end"))
        t.kind = T_CLOSE;
    if (s->failed)
        t.kind = T_ERROR;
    s->failed = t.kind == T_ERROR;
    t.depth = s->depth;
    if (t.kind == T_OPEN) {
        if (s->depth == MAX_DEPTH)
            t.kind = T_ERROR, s->failed = 1;
        else
            s->expect[s->depth++] = *t.start == '(' ? ')' : *t.start == '[' ? ']' : *t.start == '{' ? '}' : 'e';
    } else if (t.kind == T_CLOSE) {
        if (s->depth == 0)
            t.depth = -1;
        else if (s->expect[s->depth - 1] != *t.start)
            t.kind = T_ERROR, s->failed = 1;
        else
            t.depth = --s->depth;
    }
    return t;
}

/* Whether `t` starts a new statement instead of continuing the one
 * before it: Elixir continues an expression onto the next line after an
 * operator, even one that starts that line (`|> f()`). */
static int ends_statement(const struct token *t, int base)
{
    if (t->kind == T_EOF || t->depth < base)
        return 1;
    if (t->depth != base)
        return 0;
    if (t->kind == T_OTHER && *t->start == ';')
        return 1;
    static const char *const operators[] = {"and", "or", "in", "when", "not"};
    for (size_t i = 0; i < sizeof operators / sizeof *operators; i++)
        if (is_word(t, operators[i]))
            return 0;
    return t->newline && (t->kind == T_AT || t->kind == T_IDENT);
}

/* The first three tokens of a value and how many sit at its own level,
 * which tells `:atom`, `@attr`, `name()` and `[...]` from the rest. */
struct value {
    struct token tok[3];
    int count, top;
};

/* Reads one value, leaving the token that ends it unread: a `,` or the
 * list's closer in a list, else whatever starts the next statement. */
static struct token read_value(struct scan *s, int in_list, struct value *v)
{
    int base = s->depth;
    memset(v, 0, sizeof *v);
    for (;;) {
        struct scan before = *s;
        struct token t = scan_next(s);
        int ends = in_list ? t.kind == T_COMMA && t.depth == base
                           : v->count ? ends_statement(&t, base) : t.newline;
        if (ends || t.kind == T_ERROR || t.kind == T_EOF || t.depth < base) {
            *s = before;
            return t;
        }
        if (v->count < 3)
            v->tok[v->count] = t;
        v->count++;
        v->top += t.depth == base;
    }
}

struct keyword {
    const char *name;
    int found;
    struct value value;
};

/* The elements of a keyword list after its `[`, through its `]`. The
 * first value of each wanted key is kept, as Keyword.get takes it; the
 * first key is kept too. A key whose name is only known at run time
 * might be any wanted one, so it makes the list unreadable. */
static int read_keywords(struct scan *s, struct keyword *want, size_t n, struct token *first)
{
    int base = s->depth;
    if (first)
        memset(first, 0, sizeof *first);
    for (int i = 0;; i++) {
        struct token t = scan_next(s);
        if (is_close(&t, ']') && t.depth == base - 1)
            return 1;
        if (t.kind != T_KEY || !t.name)
            return 0;
        if (i == 0 && first)
            *first = t;
        struct value v;
        read_value(s, 1, &v);
        for (size_t k = 0; k < n; k++)
            if (!want[k].found && same_name(&t, want[k].name, strlen(want[k].name))) {
                want[k].found = 1;
                want[k].value = v;
            }
        struct token stop = scan_next(s);
        if (v.count == 0 || stop.kind != T_COMMA)
            return v.count > 0 && is_close(&stop, ']') && stop.depth == base - 1;
    }
}

/* After `def name`, the zero-arity heads `do`, `() do`, `, do:` and
 * `(), do:`; notes where the body starts. `s` is a copy: a look-ahead. */
static int def_header(struct scan s, const char **body, int *block)
{
    struct token t = scan_next(&s);
    if (is_open(&t, '(')) {
        t = scan_next(&s);
        if (!is_close(&t, ')'))
            return 0;
        t = scan_next(&s);
    }
    *block = is_open(&t, 'd');
    if (!*block) {
        if (t.kind != T_COMMA)
            return 0;
        t = scan_next(&s);
        if (!is_key(&t, "do"))
            return 0;
    }
    *body = s.lx.p;
    return 1;
}

/* A function body that is one keyword list and nothing else. */
static int read_def_list(const char *body, const char *end, int block, struct keyword *want, size_t n,
                         struct token *first)
{
    struct scan s;
    scan_init(&s, body, end);
    struct token t = scan_next(&s);
    if (!is_open(&t, '[') || !read_keywords(&s, want, n, first))
        return 0;
    t = scan_next(&s);
    return block ? is_close(&t, 'e') && t.depth < 0 : ends_statement(&t, 0);
}

struct project {
    const char *module; /* just after the `do` of its defmodule */
    const char *def;    /* the `def` of project/0 */
    const char *body;
    int block;
    const char *end;
    /* Anywhere in the file (a helper module can be called from the
     * project's body): Module.put_attribute and its kind, which matter
     * when the name is read from an attribute; and other Module calls
     * or Code evaluation, which may define project/0. */
    int sets_attributes, evaluates;
};

static int is_dot(const struct token *t) { return t->kind == T_OTHER && t->len == 1 && *t->start == '.'; }

/* After `Mod` (read from `s`, a copy): `fun` of `Mod.fun`, or a token
 * of no kind. */
static struct token remote_function(struct scan s)
{
    struct token dot = scan_next(&s), function = scan_next(&s), none = {0};
    return is_dot(&dot) && function.kind == T_IDENT ? function : none;
}

/* Notes what `Module` or `Code` (just read from `s`) does: Code may
 * check and load code, but not evaluate it, and in the project module not
 * even load it (a loaded file runs as the module compiles). */
static void note_module_call(struct project *pr, const struct token *t, struct scan s, int in_project)
{
    if (!is_word(t, "Module") && !is_word(t, "Code"))
        return;
    struct token function = remote_function(s);
    if (is_word(t, "Module"))
        *(is_any_word(&function, (const char *const[]){"put_attribute", "register_attribute", "delete_attribute", NULL})
              ? &pr->sets_attributes
              : &pr->evaluates) = 1;
    else if (function.kind != T_IDENT
             || is_any_word(&function, (const char *const[]){"eval_string", "eval_quoted", "eval_quoted_with_env",
                                                            "eval_file", "compile_string", "compile_quoted",
                                                            "compile_file", NULL})
             || (in_project && is_any_word(&function, (const char *const[]){"require_file", "load_file", NULL})))
        pr->evaluates = 1;
}

/* Whether `use` (just read from `s`) is `use Mix.Project`. */
static int is_use_mix_project(struct scan s)
{
    struct token mix = scan_next(&s), dot = scan_next(&s), project = scan_next(&s), after = scan_next(&s);
    return is_word(&mix, "Mix") && is_dot(&dot) && is_word(&project, "Project") && !is_dot(&after);
}

/* Whether `alias` (just read from `s`) may make a name `Mix` (`as: Mix`,
 * `alias Other.Mix`): a bare Mix in the next few tokens, not Mix.Project. */
static int aliases_mix(struct scan s)
{
    struct token t = scan_next(&s);
    for (int i = 0; i < 12 && t.kind != T_EOF && t.kind != T_ERROR; i++) {
        struct token next = scan_next(&s);
        if (is_word(&t, "Mix") && !is_dot(&next))
            return 1;
        t = next;
    }
    return 0;
}

/* Whether `defmodule` (just read from `s`) names Mix or a module in it. */
static int defines_mix_module(struct scan s)
{
    struct token name = scan_next(&s);
    return is_word(&name, "Mix") || is_word(&name, "Elixir");
}

/* Whether the module body at `module` says `use Mix.Project`: only that
 * module is a Mix project, another module's project/0 is just a
 * function. */
static int uses_mix_project(const char *module, const char *end)
{
    struct scan s;
    scan_init(&s, module, end);
    for (;;) {
        struct token t = scan_next(&s);
        if (t.kind == T_EOF || t.kind == T_ERROR || t.depth < 0)
            return 0;
        if (t.depth == 0 && is_word(&t, "use") && is_use_mix_project(s))
            return 1;
    }
}

/* One pass over the whole file: it must lex and balance, and the first
 * zero-arity `def project` of a Mix project module is noted. Mix takes
 * the last project a file defines, so there must be one `use
 * Mix.Project`; and what the file imports or requires reaches into the
 * module. */
static int find_project(const char *text, struct project *pr)
{
    struct scan s;
    scan_init(&s, text, pr->end);
    const char *module = NULL;
    int defmodule = 0, projects = 0;
    struct token prev = {0};
    for (;;) {
        struct token t = scan_next(&s);
        if (t.kind == T_ERROR || t.depth < 0)
            return 0;
        if (t.kind == T_EOF)
            return s.depth == 0 && pr->body;
        if (is_word(&t, "use") && is_use_mix_project(s) && ++projects > 1)
            return 0;
        /* anything that could make another module answer to Mix.Project:
         * a use spelled any other way (use(Mix.Project), Elixir.Mix...),
         * an alias, a module of the file named Mix... */
        if (is_word(&t, "use") && !is_use_mix_project(s))
            return 0;
        if (is_word(&t, "alias") && aliases_mix(s))
            return 0;
        if (is_word(&t, "defmodule") && defines_mix_module(s))
            return 0;
        note_module_call(pr, &t, s, module && t.depth > 0);
        if (t.depth == 0 && is_any_word(&t, (const char *const[]){"use", "import", "require", NULL}))
            return 0;
        if (t.depth == 0 && is_word(&t, "defmodule"))
            defmodule = 1;
        if (t.kind == T_OPEN && t.depth == 0) {
            /* each module is looked through once: linear in the file */
            int project_module = defmodule && is_open(&t, 'd') && !pr->body && uses_mix_project(s.lx.p, pr->end);
            module = project_module ? s.lx.p : NULL;
            defmodule = 0;
        }
        if (!pr->body && module && t.depth == 1 && prev.depth == 1 && is_word(&prev, "def") && is_word(&t, "project")
            && def_header(s, &pr->body, &pr->block)) {
            pr->module = module;
            pr->def = prev.start;
        }
        prev = t;
    }
}

static int is_attribute_read(const struct value *v)
{
    return v->count == 2 && v->tok[0].kind == T_AT && v->tok[1].kind == T_IDENT;
}

static int is_atom(const struct value *v) { return v->count == 1 && v->tok[0].kind == T_ATOM; }

/* `[name: [...], ...]` */
static int is_release_list(const struct value *v)
{
    return v->top == 2 && is_open(&v->tok[0], '[') && v->count > 2 && v->tok[1].kind == T_KEY;
}

/* `name()` */
static int is_call(const struct value *v)
{
    return v->count == 3 && v->top == 3 && v->tok[0].kind == T_IDENT && is_open(&v->tok[1], '(')
           && is_close(&v->tok[2], ')');
}

/* After a word of DEFINES (read from `s`, a copy): the name it defines,
 * and whether that may take no arguments: `def f`, `def f()`, `def f
 * when ...`, `def(f, do: ...)`, or arguments that all have a default
 * (`def f(a \\ 1)` defines f/0 too). */
static int may_define_zero_arity(struct scan s, struct token *name)
{
    struct token t = scan_next(&s);
    if (is_open(&t, '('))
        t = scan_next(&s);
    *name = t;
    if (t.kind != T_IDENT)
        return 0;
    t = scan_next(&s);
    if (!is_open(&t, '('))
        return 1;
    /* arguments, and those with a `\\` in them */
    int depth = t.depth, args = 0, defaults = 0, has_default = 0;
    for (int first = 1;; first = 0) {
        t = scan_next(&s);
        if (t.kind == T_EOF || t.kind == T_ERROR || t.depth < 0)
            return 1;
        int next_arg = first || (t.kind == T_COMMA && t.depth == depth + 1);
        int close = is_close(&t, ')') && t.depth == depth;
        if ((next_arg || close) && !first)
            defaults += has_default, has_default = 0;
        if (close)
            return defaults == args;
        args += next_arg;
        has_default |= t.kind == T_OTHER && *t.start == '\\';
    }
}

/* Whether a line break after `t` ends the statement: not after an
 * operator, a comma or a key. */
static int ends_value(const struct token *t)
{
    int c = (unsigned char)*t->start;
    return (t->kind == T_IDENT && !is_any_word(t, (const char *const[]){"and", "or", "in", "when", "not", NULL}))
           || t->kind == T_ATOM || t->kind == T_CLOSE
           || (t->kind == T_OTHER && (c == '"' || c == '\'' || c == '?' || is_digit(c) || (c == '~' && t->len > 1)));
}

/* What the name is read through: an attribute project/0 reads, and for
 * releases the function that returns them. */
struct uses {
    const struct token *attribute, *function;
    int releases; /* the attribute holds the releases, not an atom */
};

/* Attributes that are no plain value: Elixir reads, accumulates or
 * refuses them. */
static const char *const RESERVED[] = {
    "after_compile", "after_verify", "before_compile", "behaviour", "callback", "compile", "deprecated", "derive",
    "dialyzer", "doc", "enforce_keys", "external_resource", "file", "impl", "macrocallback", "moduledoc", "nifs",
    "on_definition", "on_load", "opaque", "optional_callbacks", "spec", "type", "typedoc", "typep", "vsn", NULL};

/* A look through the whole project module for anything that can make
 * project/0 return other than what its text says. At the module's own
 * level, a definition of project/0 (or of the releases function) is
 * counted and must be the only one; inside any block there (if, for,
 * fn, ...) it is refused, unless in a `quote do` or a nested module,
 * where it defines nothing of this module. The attribute must be set only
 * by plain `@attr value` statements at the module's level, each with a
 * value of the kind wanted; its value is that of the last before
 * project/0, as that is when the body reads it. Linear: each look-ahead
 * reads only the next few tokens, a value, or a definition's argument
 * list. */
static int audit(const struct project *pr, const struct uses *u, struct value *attribute)
{
    if (pr->evaluates || (u->attribute && (pr->sets_attributes || is_any_word(u->attribute, RESERVED)))
        || (u->function && is_word(u->function, "project")))
        return 0;
    struct scan s;
    scan_init(&s, pr->module, pr->end);
    /* Per depth: a statement starts next; the last token can end one
     * (a line after `,`, `do:` or `&&` goes on with it); the statement
     * so far is `quote` or `defmodule Name`; the block is inside one. */
    char fresh[MAX_DEPTH + 1] = {1}, ends[MAX_DEPTH + 1] = {0}, head[MAX_DEPTH + 1] = {0},
         quoted[MAX_DEPTH + 1] = {0};
    int projects = 0, functions = 0, set = 0;
    for (;;) {
        struct token t = scan_next(&s), name;
        if (t.kind == T_ERROR || t.kind == T_EOF)
            return 0;
        if (t.depth < 0)
            break;
        int d = t.depth;
        int start = fresh[d] || (ends[d] && ends_statement(&t, d));
        head[d] = start ? (is_word(&t, "quote") ? 'q' : is_word(&t, "defmodule") ? 'm' : 0)
                  : head[d] == 'm' && (t.kind == T_IDENT || is_dot(&t)) ? 'm'
                  : is_open(&t, 'd')                                   ? head[d]
                                                                       : 0;
        fresh[d] = t.kind == T_OTHER && *t.start == ';';
        ends[d] = ends_value(&t);
        if (t.kind == T_OPEN) {
            fresh[d + 1] = 1;
            quoted[d + 1] = quoted[d] || (is_open(&t, 'd') && head[d]);
        }
        /* Module and Code were looked at with the whole file */
        if (is_any_word(&t, OPAQUE) && !is_any_word(&t, (const char *const[]){"Module", "Code", NULL})
            && !(is_word(&t, "use") && d == 0 && is_use_mix_project(s)))
            return 0;
        if (t.kind == T_AT) {
            struct scan look = s;
            struct token id = scan_next(&look);
            struct scan value_at = look;
            struct token next = scan_next(&look);
            /* hooks that run code on the module, and compiler options
             * (a parse transform rewrites it) */
            if (is_any_word(&id, (const char *const[]){"before_compile", "on_definition", "compile", NULL}))
                return 0;
            if (u->attribute && id.kind != T_IDENT)
                return 0;
            if (u->attribute && same_name(&id, u->attribute->name, u->attribute->name_len)
                && attribute_set(&id, &next, s.lx.end)) {
                struct value v;
                read_value(&value_at, 0, &v);
                if (d != 0 || !start || !(u->releases ? is_release_list(&v) : is_atom(&v)))
                    return 0;
                if (t.start < pr->def)
                    *attribute = v, set = 1;
            }
        }
        if (is_any_word(&t, DEFINES) && may_define_zero_arity(s, &name)) {
            int project = same_name(&name, "project", 7);
            int function = u->function && same_name(&name, u->function->name, u->function->name_len);
            if ((project || function) && d > 0 && !quoted[d])
                return 0;
            projects += project && d == 0;
            functions += function && d == 0;
        }
    }
    return !s.lx.hidden && projects == 1 && (!u->function || functions == 1) && (!u->attribute || set);
}

/* The first key of the list a module-level zero-arity `def`/`defp name`
 * returns. */
static int function_first_key(const struct project *pr, const struct token *name, struct token *out)
{
    struct scan s;
    scan_init(&s, pr->module, pr->end);
    struct token prev = {0};
    for (;;) {
        struct token t = scan_next(&s);
        if (t.kind == T_EOF || t.kind == T_ERROR || t.depth < 0)
            return 0;
        const char *body;
        int block;
        if (t.depth == 0 && prev.depth == 0 && (is_word(&prev, "def") || is_word(&prev, "defp"))
            && t.kind == T_IDENT && same_name(&t, name->name, name->name_len) && def_header(s, &body, &block))
            return read_def_list(body, pr->end, block, NULL, 0, out) && out->kind == T_KEY;
        prev = t;
    }
}

/* The first release's name: `releases` is `[name: [...], ...]` or
 * `name()` of a function returning one. */
static int first_release(const struct project *pr, const struct value *v, struct token *out)
{
    *out = v->tok[1];
    return is_release_list(v) || (is_call(v) && function_first_key(pr, &v->tok[0], out));
}

/* Mix app names are atoms; unquoted-atom characters only, ASCII. nil
 * and the booleans are refused: Mix takes `app: :nil` for no app, and
 * mix_systemd passes over a `default_release: :false`. */
static int copy_name(const struct token *t, char *name, size_t size)
{
    size_t n = t->name ? t->name_len : 0;
    if (n == 0 || n >= size || is_digit((unsigned char)t->name[0]) || t->name[0] == '@' || same_name(t, "nil", 3)
        || same_name(t, "true", 4) || same_name(t, "false", 5))
        return 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)t->name[i];
        int suffix = i == n - 1 && n > 1 && (c == '?' || c == '!');
        if (!suffix && !is_alpha(c) && !is_digit(c) && c != '_' && c != '@')
            return 0;
    }
    memcpy(name, t->name, n);
    name[n] = '\0';
    return 1;
}

/* Elixir refuses a file that is not UTF-8, wherever the bad bytes are:
 * no overlong forms, surrogates or code points past U+10FFFF. */
static int is_utf8(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned c = s[i++], more = c < 0x80 ? 0 : c < 0xC2 ? 9 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : c < 0xF5 ? 3 : 9;
        unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80, hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
        if (more == 9 || more > len - i)
            return 0;
        for (unsigned k = 0; k < more; k++, i++)
            if (s[i] < (k ? 0x80 : lo) || s[i] > (k ? 0xBF : hi))
                return 0;
    }
    return 1;
}

enum { APP, APPS_PATH, DEFAULT_RELEASE, RELEASES };

int mix_project_parse_app_name(const char *text, size_t len, char *name, size_t size)
{
    if (!text || !name || !is_utf8((const unsigned char *)text, len))
        return 0;
    struct project pr = {.end = text + len};
    struct keyword want[] = {{.name = "app"}, {.name = "apps_path"}, {.name = "default_release"}, {.name = "releases"}};
    if (!find_project(text, &pr)
        || !read_def_list(pr.body, pr.end, pr.block, want, sizeof want / sizeof *want, NULL))
        return 0;
    /* the value that names it; mix_systemd looks at releases only in an
     * umbrella */
    const struct value *v = want[APP].found               ? &want[APP].value
                            : !want[APPS_PATH].found      ? NULL
                            : want[DEFAULT_RELEASE].found ? &want[DEFAULT_RELEASE].value
                            : want[RELEASES].found        ? &want[RELEASES].value
                                                          : NULL;
    if (!v)
        return 0;
    struct uses u = {.releases = v == &want[RELEASES].value};
    if (is_attribute_read(v))
        u.attribute = &v->tok[1];
    else if (u.releases && is_call(v))
        u.function = &v->tok[0];
    struct value attribute;
    if (!audit(&pr, &u, &attribute))
        return 0;
    if (u.attribute)
        v = &attribute;
    struct token found;
    int ok = u.releases ? first_release(&pr, v, &found) : is_atom(v) && (found = v->tok[0], 1);
    return ok && copy_name(&found, name, size);
}
