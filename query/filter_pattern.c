/* query/filter_pattern.c: compiles and matches CloudWatch Logs filter
 * patterns; see filter_pattern.h. A recursive-descent compiler over the
 * pattern text, a zero-copy JSON scanner and a token walker over the
 * message, PCRE2 for %regex% values. It knows nothing of HTTP, storage or
 * jansson, and allocates only at compile time (the pattern's arena). */
#include "query/filter_pattern.h"

#include "common/alloc.h"
#include "query/json_scan.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * What a compiled pattern looks like
 * ----------------------------------
 * The first non-blank byte picks the kind; each kind compiles to its own
 * shape inside one arena owned by struct fpat:
 *
 *   ERROR -DEBUG ?WARN ?%5\d\d%    terms[]: +"ERROR" -"DEBUG" ?"WARN" ?re#0
 *     match = every + present  AND  no - present  AND  (no ? or one ? present)
 *     (substring tests with memmem; a regex is an unanchored search)
 *
 *   { ($.a = "x*" || $.n > 5) && $.z NOT EXISTS }
 *                     and                 sels[]: 0 $.a  1 $.n  2 $.z
 *                   /     \
 *                 or       not-exists sel 2
 *               /    \
 *      = sel 0 "x*"   > sel 1 5
 *     The message must be one JSON object (validated once per event, no
 *     DOM). Each leaf walks the raw text from the root to its selector,
 *     skipping unrelated values with jscan_skip; a duplicated key
 *     resolves to its last occurrence, as in jansson.
 *
 *   [ip, ..., status = 4* || status = 5*, size > 100]
 *     fields[]: ip | ... | status (or (= "4*") (= "5*")) | size (> 100)
 *     The message is read as tokens, never split into an array:
 *
 *       10.0.0.1 - - [10/Oct/2000:13:25:15 -0700] "GET / HTTP/1.0" 404 1534
 *       ^ip      ^---- ... (as few as needed) ----------------^   ^st ^size
 *
 *     Matching is glob matching with '...' as the star and one token per
 *     named field: on a failure the latest '...' takes one more token and
 *     the fields after it are tried again (O(tokens x fields), no
 *     recursion). Without any '...' the last field takes the rest of the
 *     line, so [w1=ERROR, w2] reads "first word is ERROR".
 *
 * Comparisons ('=' '!=' '<' '<=' '>' '>=') share one routine over a
 * "subject": the decoded text of a JSON scalar or a message token. A text
 * value ("x*", bare 4*) is a glob of literal pieces and '*' wildcards;
 * a number value compares numerically with subjects that read as numbers
 * (JSON numbers; any token) and, for tokens only, as text otherwise, so
 * [a != 404] holds for the token "-". JSON strings are never numbers.
 */

/* Deepest nesting of parentheses in a JSON pattern. */
#define FPAT_MAX_NEST 64
/* Regexes a term pattern may hold (structured ones: FPAT_MAX_REGEX). */
#define FPAT_RE_SLOTS 16
/* How far a single regex search may backtrack before it counts as no
 * match (PCRE2 match limit and backtracking heap in KiB). */
#define FPAT_RE_MATCH_LIMIT 1000000u
#define FPAT_RE_HEAP_KIB 1024u
/* Longest quote of the pattern in an error message. */
#define FPAT_QUOTE_MAX 40
/* JSON strings up to this many bytes are unescaped on the stack. */
#define FPAT_STACK_TEXT 512

/* ------------------------------------------------------------------ */
/* Compiled form                                                        */
/* ------------------------------------------------------------------ */

enum role {
    ROLE_ALL,   /* plain term: must be present */
    ROLE_ANY,   /* ?term: one of these must be present */
    ROLE_NONE   /* -term: must be absent */
};

struct term {
    enum role role;   /* how the term counts */
    const char *s;    /* decoded bytes of a word or phrase */
    size_t n;         /* bytes of s */
    int re;           /* index into fpat.re, or -1 for a substring */
    bool token;       /* unquoted word: matches whole tokens only */
};

/* One literal stretch of a glob. */
struct piece {
    const char *s;    /* bytes, arena-owned */
    size_t n;         /* bytes of s (non-zero unless the glob is "") */
};

/* A string with '*' wildcards: pieces separated by wildcards. */
struct glob {
    struct piece *pc; /* the literal pieces in order */
    size_t npc;       /* pieces; exactly 1 when !wild */
    bool wild;        /* holds at least one wildcard */
    bool star_first;  /* a wildcard comes before the first piece */
    bool star_last;   /* a wildcard comes after the last piece */
};

enum val_kind {
    VAL_TEXT,         /* glob compared with = and != */
    VAL_NUMBER,       /* number; g holds its literal text */
    VAL_REGEX         /* %regex%, = and != only */
};

struct value {
    enum val_kind kind;
    struct glob g;    /* VAL_TEXT, VAL_NUMBER (no wildcards) */
    double num;       /* VAL_NUMBER */
    int re;           /* VAL_REGEX: index into fpat.re */
    const char *src;  /* number or regex body as written, for explain */
    size_t srclen;    /* bytes of src */
};

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

enum node_kind {
    N_AND, N_OR,      /* l && r, l || r */
    N_CMP,            /* subject op value */
    N_IS_NULL, N_IS_TRUE, N_IS_FALSE, N_NOT_EXISTS  /* JSON only */
};

struct node {
    enum node_kind kind;
    struct node *l;   /* N_AND, N_OR */
    struct node *r;   /* N_AND, N_OR */
    size_t sel;       /* JSON leaves: index into fpat.sels */
    enum op op;       /* N_CMP */
    struct value v;   /* N_CMP */
};

/* One step of a JSON selector. */
struct step {
    const char *key;  /* member name, or NULL for an array index */
    size_t klen;      /* bytes of key */
    size_t index;     /* the index when key is NULL */
};

struct sel {
    struct step *st;  /* steps from the root */
    size_t nst;       /* steps (at least 1) */
    const char *name; /* canonical text, e.g. "$.a[0].b", NUL-terminated */
};

/* One field of a space-delimited pattern. */
struct dfield {
    const char *name; /* NULL for '...' */
    size_t nlen;      /* bytes of name */
    struct node *cond;/* NULL: any token will do */
};

struct fpat {
    enum fpat_kind kind;
    struct arena a;            /* every part below lives here */
    struct term *terms;        /* FPAT_TERMS */
    size_t nterms;
    bool has_any;              /* some term is a ?term */
    struct node *root;         /* FPAT_JSON condition */
    struct sel *sels;          /* FPAT_JSON distinct selectors */
    size_t nsels;
    size_t sels_cap;
    struct dfield *fields;     /* FPAT_DELIM */
    size_t nfields;
    bool has_ellipsis;         /* some field is '...' */
    const char **names;        /* fpat_field() names */
    size_t nnames;
    pcre2_code *re[FPAT_RE_SLOTS]; /* compiled %regex% values */
    size_t nre;
    pcre2_general_context *gctx;   /* compile-time allocations */
    pcre2_compile_context *cctx;
    pcre2_match_context *mctx;     /* limits, shared read-only by matches */
};

enum ref_kind { REF_CONST, REF_JSON, REF_FIELD };

struct fpat_ref {
    enum ref_kind kind;
    struct arena a;   /* owns text and selector steps */
    double num;       /* REF_CONST */
    const char *text; /* REF_CONST literal text */
    size_t len;       /* bytes of text */
    struct sel sel;   /* REF_JSON */
    size_t field;     /* REF_FIELD: index into fpat.fields */
};

/* ------------------------------------------------------------------ */
/* Characters and numbers                                               */
/* ------------------------------------------------------------------ */

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_alnum(char ch)
{
    char low = (char)(ch | 0x20);
    return is_digit(ch) || (low >= 'a' && low <= 'z');
}

static bool is_high(char ch)
{
    return (unsigned char)ch >= 0x80;
}

/* Bytes of an unquoted term (reference 3.1; non-ASCII counts as letters). */
static bool is_word_char(char ch)
{
    return is_alnum(ch) || ch == '_' || is_high(ch);
}

/* Bytes of a JSON selector's member name. */
static bool is_key_char(char ch)
{
    return is_word_char(ch) || ch == '-';
}

/* Bytes of a space-delimited field name. */
static bool is_name_char(char ch)
{
    return is_alnum(ch) || ch == '_';
}

static bool in_set(char ch, const char *set)
{
    return ch != '\0' && strchr(set, ch) != NULL;
}

/* Bytes of an unquoted value (JSON and space-delimited conditions). */
static bool is_bare_char(char ch)
{
    return is_word_char(ch) || in_set(ch, ".-+*:/@");
}

/* Bytes that end an unquoted value. */
static bool is_bare_end(char ch)
{
    return is_blank(ch) || in_set(ch, ")}],&|");
}

/* Bytes a %regex% may hold unescaped (reference 3.2, plus the blank). */
static bool is_regex_char(char ch)
{
    return is_alnum(ch) || in_set(ch, " _#=@/;,-:^$?[]{}|*+.");
}

static bool is_printable_ascii(char ch)
{
    return ch >= 0x20 && ch < 0x7f;
}

/* Whole s[0..n) is [+-]? (d+ (. d*)? | . d+) ([eE] [+-]? d+)?. */
static bool is_number_text(const char *s, size_t n)
{
    size_t i = 0, digits = 0;

    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && is_digit(s[i]); i++)
        digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && is_digit(s[i]); i++)
            digits++;
    if (digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < n && is_digit(s[i]); i++)
            exp++;
        if (exp == 0)
            return false;
    }
    return i == n;
}

/* Reads s[0..n) as a finite double; false when it is not number text.
 * strtod needs a NUL: short texts are copied to the stack. Assumes the C
 * locale's decimal point, as the server never calls setlocale. */
static bool to_number(const char *s, size_t n, double *out)
{
    char small[64];
    char *copy = small;
    double d;

    if (!is_number_text(s, n))
        return false;
    if (n >= sizeof(small)) {
        copy = sl_alloc(n + 1);
        if (copy == NULL)
            return false;
    }
    memcpy(copy, s, n);
    copy[n] = '\0';
    d = strtod(copy, NULL);
    if (copy != small)
        sl_free(copy);
    if (!isfinite(d))
        return false;
    *out = d;
    return true;
}

/* ------------------------------------------------------------------ */
/* Globs                                                                */
/* ------------------------------------------------------------------ */

/* True when the whole of s[0..n) fits the glob. Pieces between wildcards
 * are found leftmost-first, which is exact for '*'-only globs. */
static bool glob_match(const struct glob *g, const char *s, size_t n)
{
    size_t i = 0, end = n, k = 0, last = g->npc;

    if (!g->wild)
        return n == g->pc[0].n && (n == 0 || memcmp(s, g->pc[0].s, n) == 0);
    if (!g->star_first) {
        if (n < g->pc[0].n || memcmp(s, g->pc[0].s, g->pc[0].n) != 0)
            return false;
        i = g->pc[0].n;
        k = 1;
    }
    if (!g->star_last && last > k) {
        const struct piece *t = &g->pc[last - 1];
        if (end - i < t->n || memcmp(s + n - t->n, t->s, t->n) != 0)
            return false;
        end = n - t->n;
        last--;
    }
    for (; k < last; k++) {
        const char *hit = memmem(s + i, end - i, g->pc[k].s, g->pc[k].n);
        if (hit == NULL)
            return false;
        i = (size_t)(hit - s) + g->pc[k].n;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Compiler state and errors                                            */
/* ------------------------------------------------------------------ */

struct comp {
    const char *s;        /* text being compiled */
    size_t n;             /* its length */
    size_t i;             /* next byte to read */
    struct fpat *p;       /* pattern being built (read-only for refs) */
    struct arena *a;      /* where parts go */
    struct sl_err *err;   /* first failure */
    int depth;            /* open parentheses */
};

static enum sl_status cfail(struct comp *c, size_t at, const char *fmt, ...)
    SL_PRINTF(3, 4);

/* Records an SL_INVALID at byte `at`; the message should name the column. */
static enum sl_status cfail(struct comp *c, size_t at, const char *fmt, ...)
{
    char msg[sizeof(c->err->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->err != NULL && c->err->code == SL_OK) {
        sl_fail(c->err, SL_INVALID, "%s", msg);
        c->err->line = 1;
        c->err->col = (int)at + 1;
    }
    return SL_INVALID;
}

static enum sl_status nomem(struct comp *c)
{
    return sl_fail(c->err, SL_NOMEM, "out of memory compiling the filter pattern");
}

/* Zeroed arena memory, or NULL (the caller returns nomem()). */
static void *comp_alloc(struct comp *c, size_t size)
{
    void *p = arena_alloc(c->a, size);
    if (p != NULL)
        memset(p, 0, size);
    return p;
}

static char peek(const struct comp *c)
{
    return c->i < c->n ? c->s[c->i] : '\0';
}

static bool at_end(const struct comp *c)
{
    return c->i >= c->n;
}

static void skip_blanks(struct comp *c)
{
    while (c->i < c->n && is_blank(c->s[c->i]))
        c->i++;
}

/* Consumes tok when the text continues with it. */
static bool eat(struct comp *c, const char *tok)
{
    size_t n = strlen(tok);
    if (c->n - c->i < n || memcmp(c->s + c->i, tok, n) != 0)
        return false;
    c->i += n;
    return true;
}

/* Consumes a keyword (any case) that is not followed by a name byte. */
static bool eat_word(struct comp *c, const char *word)
{
    size_t n = strlen(word), j;

    if (c->n - c->i < n)
        return false;
    for (j = 0; j < n; j++)
        if ((c->s[c->i + j] | 0x20) != (word[j] | 0x20))
            return false;
    if (c->i + n < c->n && is_key_char(c->s[c->i + n]))
        return false;
    c->i += n;
    return true;
}

/* ch for a message: 'x' or "byte 0xc3". */
static const char *describe_byte(char ch, char buf[16])
{
    if (is_printable_ascii(ch))
        snprintf(buf, 16, "'%c'", ch);
    else
        snprintf(buf, 16, "byte 0x%02x", (unsigned)(unsigned char)ch);
    return buf;
}

/* Length of s[0..n) to quote in a message. */
static int quote_len(size_t n)
{
    return (int)(n > FPAT_QUOTE_MAX ? FPAT_QUOTE_MAX : n);
}

/* ------------------------------------------------------------------ */
/* Lexical pieces: quoted strings, regexes, values                      */
/* ------------------------------------------------------------------ */

/* Reads "..." at c->i; *raw and *rawn get the body, escapes undecoded. */
static enum sl_status read_quoted(struct comp *c, const char **raw, size_t *rawn)
{
    size_t open = c->i, j = open + 1;

    while (j < c->n && c->s[j] != '"')
        j += c->s[j] == '\\' ? 2 : 1;
    if (j >= c->n)
        return cfail(c, open, "Unterminated quoted string at column %zu: "
                     "add the closing '\"'", open + 1);
    *raw = c->s + open + 1;
    *rawn = j - open - 1;
    c->i = j + 1;
    return SL_OK;
}

/* Decodes \" and \\ of a quoted term into the arena; other backslashes
 * stay as written. */
static enum sl_status unquote(struct comp *c, const char *raw, size_t n,
                              const char **out, size_t *outn)
{
    char *d = arena_alloc(c->a, n + 1);
    size_t k = 0;

    if (d == NULL)
        return nomem(c);
    for (size_t i = 0; i < n; i++) {
        if (raw[i] == '\\' && i + 1 < n && in_set(raw[i + 1], "\"\\"))
            i++;
        d[k++] = raw[i];
    }
    d[k] = '\0';
    *out = d;
    *outn = k;
    return SL_OK;
}

/* Builds a glob from raw[0..n): '*' is a wildcard; in quoted text \*, \"
 * and \\ stand for the character itself. */
static enum sl_status build_glob(struct comp *c, const char *raw, size_t n,
                                 bool quoted, struct glob *g)
{
    char *lit = arena_alloc(c->a, n + 1);
    struct piece *pc = arena_alloc(c->a, (n / 2 + 2) * sizeof(*pc));
    size_t len = 0, start = 0;
    bool any = false, last_star = false;

    if (lit == NULL || pc == NULL)
        return nomem(c);
    memset(g, 0, sizeof(*g));
    g->pc = pc;
    for (size_t i = 0; i < n; i++) {
        char ch = raw[i];
        if (quoted && ch == '\\' && i + 1 < n && in_set(raw[i + 1], "\"\\*")) {
            ch = raw[++i];
        } else if (ch == '*') {
            if (len > start)
                pc[g->npc++] = (struct piece){lit + start, len - start};
            start = len;
            g->star_first |= !any;
            g->wild = any = last_star = true;
            continue;
        }
        lit[len++] = ch;
        any = true;
        last_star = false;
    }
    if (len > start || !g->wild)
        pc[g->npc++] = (struct piece){lit + start, len - start};
    g->star_last = last_star;
    return SL_OK;
}

static void *re_malloc(PCRE2_SIZE n, void *data)
{
    (void)data;
    return sl_alloc(n);
}

static void re_free(void *p, void *data)
{
    (void)data;
    sl_free(p);
}

/* Creates the contexts every regex of p shares, once. */
static enum sl_status re_contexts(struct comp *c)
{
    struct fpat *p = c->p;

    if (p->mctx != NULL)
        return SL_OK;
    p->gctx = pcre2_general_context_create(re_malloc, re_free, NULL);
    if (p->gctx != NULL)
        p->cctx = pcre2_compile_context_create(p->gctx);
    if (p->cctx != NULL)
        p->mctx = pcre2_match_context_create(p->gctx);
    if (p->mctx == NULL)
        return nomem(c);
    pcre2_set_match_limit(p->mctx, FPAT_RE_MATCH_LIMIT);
    pcre2_set_heap_limit(p->mctx, FPAT_RE_HEAP_KIB);
    return SL_OK;
}

/* Compiles body[0..n) (the text between the '%'s at `at`) into p->re. */
static enum sl_status add_regex(struct comp *c, const char *body, size_t n,
                                size_t at, int *id)
{
    struct fpat *p = c->p;
    size_t limit = p->kind == FPAT_TERMS ? FPAT_RE_SLOTS : FPAT_MAX_REGEX;
    PCRE2_UCHAR pmsg[120];
    PCRE2_SIZE eoff;
    pcre2_code *re;
    int ec;
    enum sl_status st;

    if (p->nre >= limit)
        return cfail(c, at, "Too many regular expressions at column %zu: a %s "
                     "pattern may hold at most %zu", at + 1,
                     p->kind == FPAT_TERMS ? "term" : "JSON or space-delimited",
                     limit);
    st = re_contexts(c);
    if (st != SL_OK)
        return st;
    re = pcre2_compile((PCRE2_SPTR)body, n, 0, &ec, &eoff, p->cctx);
    if (re == NULL) {
        if (ec == PCRE2_ERROR_NOMEMORY || ec == PCRE2_ERROR_HEAP_FAILED)
            return nomem(c);
        if (pcre2_get_error_message(ec, pmsg, sizeof(pmsg)) < 0)
            snprintf((char *)pmsg, sizeof(pmsg), "error %d", ec);
        return cfail(c, at + 1 + eoff, "Invalid regex %%%.*s%% at column %zu: %s",
                     quote_len(n), body, at + 1 + eoff + 1, (const char *)pmsg);
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* else the interpreter */
    *id = (int)p->nre;
    p->re[p->nre++] = re;
    return SL_OK;
}

/* Reads %regex% at c->i (reference 3.2: no groups, ASCII only). */
static enum sl_status read_regex(struct comp *c, int *id)
{
    size_t open = c->i, j;
    char b[16];
    enum sl_status st;

    for (j = open + 1; j < c->n && c->s[j] != '%'; j++) {
        char ch = c->s[j];
        if (ch == '\\') {
            if (j + 1 >= c->n || !is_printable_ascii(c->s[j + 1]))
                return cfail(c, j, "Invalid escape in regex at column %zu: a "
                             "'\\' must precede a printable ASCII character",
                             j + 1);
            j++;
        } else if (!is_regex_char(ch)) {
            return cfail(c, j, "Invalid character %s in regex at column %zu: "
                         "regexes may hold letters, digits, blanks, "
                         "_ # = @ / ; , - : and ^ $ ? [ ] { } | \\ * + . "
                         "(no parentheses)", describe_byte(ch, b), j + 1);
        }
    }
    if (j >= c->n)
        return cfail(c, open, "Unterminated regex at column %zu: add the "
                     "closing '%%'", open + 1);
    if (j == open + 1)
        return cfail(c, open, "Empty regex '%%%%' at column %zu", open + 1);
    st = add_regex(c, c->s + open + 1, j - open - 1, open, id);
    c->i = j + 1;
    return st;
}

static const char *op_text(enum op op)
{
    static const char *const text[] = {"=", "!=", "<", "<=", ">", ">="};
    return text[op];
}

static bool read_op(struct comp *c, enum op *op)
{
    if (eat(c, "!="))
        *op = OP_NE;
    else if (eat(c, "<="))
        *op = OP_LE;
    else if (eat(c, ">="))
        *op = OP_GE;
    else if (eat(c, "="))
        *op = OP_EQ;
    else if (eat(c, "<"))
        *op = OP_LT;
    else if (eat(c, ">"))
        *op = OP_GT;
    else
        return false;
    return true;
}

/* Reads an unquoted value: a number or a glob. */
static enum sl_status read_bare(struct comp *c, enum op op, struct value *v)
{
    size_t start = c->i, j;
    const char *s = c->s + start;
    char b[16];

    for (j = start; j < c->n && !is_bare_end(c->s[j]); j++)
        if (!is_bare_char(c->s[j]))
            return cfail(c, j, "Invalid character(s) in value at column %zu "
                         "(%s): quote values that hold characters other than "
                         "letters, digits and _ . - + * : / @", j + 1,
                         describe_byte(c->s[j], b));
    if (j == start)
        return cfail(c, start, "Expected a value after '%s' at column %zu",
                     op_text(op), start + 1);
    c->i = j;
    v->src = s;
    v->srclen = j - start;
    if (is_number_text(s, j - start)) {
        if (!to_number(s, j - start, &v->num))
            return cfail(c, start, "Number '%.*s' at column %zu is out of range",
                         quote_len(j - start), s, start + 1);
        v->kind = VAL_NUMBER;
    }
    return build_glob(c, s, j - start, false, &v->g);
}

/* Reads the value after op: "quoted", %regex% or bare; checks that
 * numeric operators get numbers and regexes only = or !=. */
static enum sl_status read_value(struct comp *c, enum op op, struct value *v)
{
    size_t start;
    enum sl_status st;

    skip_blanks(c);
    start = c->i;
    memset(v, 0, sizeof(*v));
    v->kind = VAL_TEXT;
    if (peek(c) == '"') {
        const char *raw;
        size_t n;
        st = read_quoted(c, &raw, &n);
        if (st == SL_OK)
            st = build_glob(c, raw, n, true, &v->g);
        if (st == SL_OK && op != OP_EQ && op != OP_NE && !v->g.wild &&
            to_number(v->g.pc[0].s, v->g.pc[0].n, &v->num)) {
            v->kind = VAL_NUMBER;
            v->src = raw;
            v->srclen = n;
        }
    } else if (peek(c) == '%') {
        v->kind = VAL_REGEX;
        st = read_regex(c, &v->re);
        v->src = c->s + start + 1;
        v->srclen = c->i > start + 2 ? c->i - start - 2 : 0;
        if (st == SL_OK && op != OP_EQ && op != OP_NE)
            return cfail(c, start, "A regex at column %zu can only follow = or "
                         "!=, not %s", start + 1, op_text(op));
    } else {
        st = read_bare(c, op, v);
    }
    if (st == SL_OK && op != OP_EQ && op != OP_NE && v->kind != VAL_NUMBER)
        return cfail(c, start, "'%s' needs a number; got '%.*s' at column %zu",
                     op_text(op), quote_len(c->i - start), c->s + start,
                     start + 1);
    return st;
}

static struct node *new_node(struct comp *c, enum node_kind kind)
{
    struct node *nd = comp_alloc(c, sizeof(*nd));
    if (nd != NULL)
        nd->kind = kind;
    return nd;
}

/* Joins *acc and r under a new and/or node. */
static enum sl_status join(struct comp *c, enum node_kind kind,
                           struct node **acc, struct node *r)
{
    struct node *nd = new_node(c, kind);
    if (nd == NULL)
        return nomem(c);
    nd->l = *acc;
    nd->r = r;
    *acc = nd;
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* Term patterns                                                        */
/* ------------------------------------------------------------------ */

/* Reads an unquoted word; every byte must be a letter, digit or '_'. */
static enum sl_status read_word(struct comp *c, struct term *t)
{
    size_t start = c->i, j, bad = SIZE_MAX;

    for (j = start; j < c->n && !is_blank(c->s[j]); j++)
        if (bad == SIZE_MAX && !is_word_char(c->s[j]))
            bad = j;
    c->i = j;
    if (bad != SIZE_MAX)
        return cfail(c, bad, "Invalid character(s) in term '%.*s' at column %zu:"
                     " quote terms that hold characters other than letters, "
                     "digits and '_', e.g. \"%.*s\"", quote_len(j - start),
                     c->s + start, bad + 1, quote_len(j - start), c->s + start);
    t->s = c->s + start;
    t->n = j - start;
    t->token = true;
    return SL_OK;
}

/* A quoted phrase of blanks only counts as empty (reference 3: `" "`
 * matches every event). */
static bool is_all_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_blank(s[i]))
            return false;
    return true;
}

/* Reads one item: [?|-] (word | "phrase" | %regex%). */
static enum sl_status read_term(struct comp *c, struct term *t)
{
    size_t start = c->i;
    enum sl_status st;
    const char *raw;
    size_t n;

    t->role = ROLE_ALL;
    t->re = -1;
    t->token = false;
    if (peek(c) == '?' || peek(c) == '-') {
        t->role = peek(c) == '?' ? ROLE_ANY : ROLE_NONE;
        c->i++;
        if (at_end(c) || is_blank(peek(c)))
            return cfail(c, start, "'%c' at column %zu must be followed by a "
                         "term, with no blank between", c->s[start], start + 1);
    }
    if (peek(c) == '"') {
        st = read_quoted(c, &raw, &n);
        if (st == SL_OK)
            st = unquote(c, raw, n, &t->s, &t->n);
        if (st == SL_OK && is_all_blank(t->s, t->n))
            t->n = 0;
    } else if (peek(c) == '%') {
        st = read_regex(c, &t->re);
        t->s = c->s + start + (t->role != ROLE_ALL) + 1;   /* body, for explain */
        t->n = st == SL_OK ? c->i - 1 - (size_t)(t->s - c->s) : 0;
    } else {
        return read_word(c, t);
    }
    if (st == SL_OK && !at_end(c) && !is_blank(peek(c)))
        return cfail(c, c->i, "Expected a blank after the term ending at "
                     "column %zu", c->i);
    return st;
}

static enum sl_status parse_terms(struct comp *c)
{
    struct fpat *p = c->p;
    size_t cap = c->n / 2 + 1;
    enum sl_status st;

    p->terms = comp_alloc(c, cap * sizeof(*p->terms));
    if (p->terms == NULL)
        return nomem(c);
    for (skip_blanks(c); !at_end(c); skip_blanks(c)) {
        struct term *t = &p->terms[p->nterms];
        st = read_term(c, t);
        if (st != SL_OK)
            return st;
        if (t->role == ROLE_ALL && t->re < 0 && t->n == 0)
            continue;                     /* present in every message */
        p->has_any |= t->role == ROLE_ANY;
        p->nterms++;
    }
    if (p->nterms == 0)
        p->kind = FPAT_ALL;
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* JSON patterns                                                        */
/* ------------------------------------------------------------------ */

/* Reads one ".name" or "[index]" step; fills st when non-NULL. */
static enum sl_status read_step(struct comp *c, struct step *st)
{
    size_t start = c->i, j;

    if (eat(c, ".")) {
        for (j = c->i; j < c->n && is_key_char(c->s[j]); j++)
            ;
        if (j == c->i)
            return cfail(c, start, "Expected a field name after '.' at column "
                         "%zu (letters, digits, '-' and '_')", start + 1);
        if (st != NULL)
            *st = (struct step){c->s + c->i, j - c->i, 0};
        c->i = j;
        return SL_OK;
    }
    c->i++;                                               /* '[' */
    if (peek(c) == '*')
        return cfail(c, start, "Array wildcard '[*]' at column %zu is not "
                     "supported; use an index such as [0]", start + 1);
    for (j = c->i; j < c->n && is_digit(c->s[j]); j++)
        ;
    if (j == c->i || j >= c->n || c->s[j] != ']')
        return cfail(c, start, "Expected an array index such as [0] at column "
                     "%zu", start + 1);
    if (j - c->i > 9)
        return cfail(c, start, "Array index at column %zu is too large",
                     start + 1);
    if (st != NULL)
        *st = (struct step){NULL, 0, (size_t)strtoul(c->s + c->i, NULL, 10)};
    c->i = j + 1;
    return SL_OK;
}

/* Reads the steps after '$' at c->i; counts them when steps is NULL. */
static enum sl_status read_steps(struct comp *c, struct step *steps, size_t *n)
{
    enum sl_status st;

    *n = 0;
    while (peek(c) == '.' || peek(c) == '[') {
        st = read_step(c, steps != NULL ? &steps[*n] : NULL);
        if (st != SL_OK)
            return st;
        (*n)++;
    }
    return SL_OK;
}

/* Writes the canonical text of sel into the arena. */
static enum sl_status sel_name(struct comp *c, struct sel *sel, size_t written)
{
    size_t cap = written + 24 * sel->nst + 2, k = 1;
    char *name = arena_alloc(c->a, cap);

    if (name == NULL)
        return nomem(c);
    name[0] = '$';
    for (size_t i = 0; i < sel->nst; i++) {
        const struct step *st = &sel->st[i];
        if (st->key != NULL)
            k += (size_t)snprintf(name + k, cap - k, ".%.*s", (int)st->klen, st->key);
        else
            k += (size_t)snprintf(name + k, cap - k, "[%zu]", st->index);
    }
    sel->name = name;
    return SL_OK;
}

/* Reads a selector "$.a[0].b" at c->i: checks and counts the steps, then
 * reads them again into storage of the right size. */
static enum sl_status read_selector(struct comp *c, struct sel *sel)
{
    size_t start = c->i;
    enum sl_status st;

    c->i++;                                               /* '$' */
    st = read_steps(c, NULL, &sel->nst);
    if (st != SL_OK)
        return st;
    if (sel->nst == 0)
        return cfail(c, start, "Expected '.field' or '[index]' after '$' at "
                     "column %zu", start + 1);
    sel->st = comp_alloc(c, sel->nst * sizeof(*sel->st));
    if (sel->st == NULL)
        return nomem(c);
    c->i = start + 1;
    st = read_steps(c, sel->st, &sel->nst);
    if (st != SL_OK)
        return st;
    return sel_name(c, sel, c->i - start);
}

/* Finds or adds sel in p->sels. */
static enum sl_status sel_intern(struct comp *c, const struct sel *sel, size_t *idx)
{
    struct fpat *p = c->p;

    for (size_t i = 0; i < p->nsels; i++) {
        if (strcmp(p->sels[i].name, sel->name) == 0) {
            *idx = i;
            return SL_OK;
        }
    }
    if (p->nsels == p->sels_cap) {
        size_t cap = p->sels_cap ? 2 * p->sels_cap : 8;
        struct sel *grown = arena_alloc(c->a, cap * sizeof(*grown));
        if (grown == NULL)
            return nomem(c);
        if (p->nsels > 0)
            memcpy(grown, p->sels, p->nsels * sizeof(*grown));
        p->sels = grown;
        p->sels_cap = cap;
    }
    p->sels[p->nsels] = *sel;
    *idx = p->nsels++;
    return SL_OK;
}

/* After a selector: IS NULL|TRUE|FALSE, NOT EXISTS, or op value. */
static enum sl_status json_condition(struct comp *c, struct node *nd)
{
    size_t at;

    skip_blanks(c);
    at = c->i;
    if (eat_word(c, "IS")) {
        skip_blanks(c);
        if (eat_word(c, "NULL"))
            nd->kind = N_IS_NULL;
        else if (eat_word(c, "TRUE"))
            nd->kind = N_IS_TRUE;
        else if (eat_word(c, "FALSE"))
            nd->kind = N_IS_FALSE;
        else
            return cfail(c, c->i, "Expected NULL, TRUE or FALSE after IS at "
                         "column %zu (IS NOT is not supported)", c->i + 1);
        return SL_OK;
    }
    if (eat_word(c, "NOT")) {
        skip_blanks(c);
        if (!eat_word(c, "EXISTS"))
            return cfail(c, c->i, "Expected EXISTS after NOT at column %zu",
                         c->i + 1);
        nd->kind = N_NOT_EXISTS;
        return SL_OK;
    }
    nd->kind = N_CMP;
    if (!read_op(c, &nd->op))
        return cfail(c, at, "Expected =, !=, <, <=, >, >=, IS or NOT EXISTS "
                     "after the selector at column %zu", at + 1);
    return read_value(c, nd->op, &nd->v);
}

/* selector condition */
static enum sl_status json_leaf(struct comp *c, struct node **out)
{
    struct node *nd = new_node(c, N_CMP);
    struct sel sel = {0};
    char b[16];
    enum sl_status st;

    if (nd == NULL)
        return nomem(c);
    st = read_selector(c, &sel);
    if (st == SL_OK && !at_end(c) && !is_blank(peek(c)) &&
        !in_set(peek(c), "=!<>)}&|"))
        return cfail(c, c->i, "Invalid character %s in selector at column %zu:"
                     " field names hold letters, digits, '-' and '_'",
                     describe_byte(peek(c), b), c->i + 1);
    if (st == SL_OK)
        st = sel_intern(c, &sel, &nd->sel);
    if (st == SL_OK)
        st = json_condition(c, nd);
    *out = nd;
    return st;
}

static enum sl_status json_or(struct comp *c, struct node **out);

/* ( expr ) | selector condition */
static enum sl_status json_primary(struct comp *c, struct node **out)
{
    size_t open;
    enum sl_status st;

    skip_blanks(c);
    open = c->i;
    if (peek(c) == '$')
        return json_leaf(c, out);
    if (peek(c) != '(')
        return cfail(c, c->i, "Expected a selector such as $.field or '(' at "
                     "column %zu", c->i + 1);
    if (++c->depth > FPAT_MAX_NEST)
        return cfail(c, open, "Parentheses nested deeper than %d at column %zu",
                     FPAT_MAX_NEST, open + 1);
    c->i++;
    st = json_or(c, out);
    if (st != SL_OK)
        return st;
    skip_blanks(c);
    if (!eat(c, ")"))
        return cfail(c, c->i, "Expected '&&', '||' or ')' at column %zu to "
                     "close the '(' at column %zu", c->i + 1, open + 1);
    c->depth--;
    return SL_OK;
}

static enum sl_status json_and(struct comp *c, struct node **out)
{
    struct node *r;
    enum sl_status st = json_primary(c, out);

    for (;;) {
        if (st != SL_OK)
            return st;
        skip_blanks(c);
        if (!eat(c, "&&"))
            return SL_OK;
        st = json_primary(c, &r);
        if (st == SL_OK)
            st = join(c, N_AND, out, r);
    }
}

static enum sl_status json_or(struct comp *c, struct node **out)
{
    struct node *r;
    enum sl_status st = json_and(c, out);

    for (;;) {
        if (st != SL_OK)
            return st;
        skip_blanks(c);
        if (!eat(c, "||"))
            return SL_OK;
        st = json_and(c, &r);
        if (st == SL_OK)
            st = join(c, N_OR, out, r);
    }
}

static enum sl_status parse_json(struct comp *c)
{
    enum sl_status st;

    c->i++;                                               /* '{' */
    st = json_or(c, &c->p->root);
    if (st != SL_OK)
        return st;
    skip_blanks(c);
    if (!eat(c, "}"))
        return cfail(c, c->i, "Expected '&&', '||' or '}' at column %zu",
                     c->i + 1);
    skip_blanks(c);
    if (!at_end(c))
        return cfail(c, c->i, "Unexpected text after the closing '}' at column "
                     "%zu", c->i + 1);
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* Space-delimited patterns                                             */
/* ------------------------------------------------------------------ */

/* [name] op value, inside field f's condition. */
static enum sl_status delim_cmp(struct comp *c, const struct dfield *f,
                                struct node **out)
{
    struct node *nd = new_node(c, N_CMP);
    size_t at, j;

    if (nd == NULL)
        return nomem(c);
    skip_blanks(c);
    at = c->i;
    for (j = at; j < c->n && is_name_char(c->s[j]); j++)
        ;
    if (j > at && (j - at != f->nlen || memcmp(c->s + at, f->name, f->nlen) != 0))
        return cfail(c, at, "Condition at column %zu names '%.*s' inside field "
                     "'%.*s'; a field's conditions can only test that field",
                     at + 1, quote_len(j - at), c->s + at, (int)f->nlen, f->name);
    c->i = j;
    skip_blanks(c);
    if (!read_op(c, &nd->op))
        return cfail(c, c->i, "Expected =, !=, <, <=, >, >= after '%.*s' at "
                     "column %zu", (int)f->nlen, f->name, c->i + 1);
    *out = nd;
    return read_value(c, nd->op, &nd->v);
}

static enum sl_status delim_and(struct comp *c, const struct dfield *f,
                                struct node **out)
{
    struct node *r;
    enum sl_status st = delim_cmp(c, f, out);

    for (;;) {
        if (st != SL_OK)
            return st;
        skip_blanks(c);
        if (!eat(c, "&&"))
            return SL_OK;
        st = delim_cmp(c, f, &r);
        if (st == SL_OK)
            st = join(c, N_AND, out, r);
    }
}

/* A field's conditions: && binds tighter than ||, no parentheses. */
static enum sl_status delim_or(struct comp *c, const struct dfield *f,
                               struct node **out)
{
    struct node *r;
    enum sl_status st = delim_and(c, f, out);

    for (;;) {
        if (st != SL_OK)
            return st;
        skip_blanks(c);
        if (!eat(c, "||"))
            return SL_OK;
        st = delim_and(c, f, &r);
        if (st == SL_OK)
            st = join(c, N_OR, out, r);
    }
}

static bool field_exists(const struct fpat *p, const char *name, size_t n)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (p->fields[i].name != NULL && p->fields[i].nlen == n &&
            memcmp(p->fields[i].name, name, n) == 0)
            return true;
    return false;
}

/* '...' | name [conditions] */
static enum sl_status delim_field(struct comp *c, struct dfield *f)
{
    size_t at = c->i, j;

    if (eat(c, "...")) {
        c->p->has_ellipsis = true;
        return SL_OK;
    }
    for (j = at; j < c->n && is_name_char(c->s[j]); j++)
        ;
    if (j == at)
        return cfail(c, at, "Expected a field name or '...' at column %zu "
                     "(names hold letters, digits and '_')", at + 1);
    if (field_exists(c->p, c->s + at, j - at))
        return cfail(c, at, "Field name '%.*s' at column %zu is used twice",
                     quote_len(j - at), c->s + at, at + 1);
    f->name = c->s + at;
    f->nlen = j - at;
    c->i = j;
    skip_blanks(c);
    if (!in_set(peek(c), "=!<>"))
        return SL_OK;
    return delim_or(c, f, &f->cond);
}

static enum sl_status parse_delim(struct comp *c)
{
    struct fpat *p = c->p;
    size_t cap = 1;
    enum sl_status st;

    for (size_t i = 0; i < c->n; i++)
        cap += c->s[i] == ',';
    p->fields = comp_alloc(c, cap * sizeof(*p->fields));
    if (p->fields == NULL)
        return nomem(c);
    c->i++;                                               /* '[' */
    skip_blanks(c);
    if (peek(c) == ']')
        return cfail(c, c->i, "A space-delimited pattern needs at least one "
                     "field (column %zu)", c->i + 1);
    for (;;) {
        skip_blanks(c);
        st = delim_field(c, &p->fields[p->nfields]);
        if (st != SL_OK)
            return st;
        p->nfields++;
        skip_blanks(c);
        if (eat(c, "]"))
            break;
        if (!eat(c, ","))
            return cfail(c, c->i, "Expected ',' or ']' at column %zu",
                         c->i + 1);
    }
    skip_blanks(c);
    if (!at_end(c))
        return cfail(c, c->i, "Unexpected text after the closing ']' at column "
                     "%zu", c->i + 1);
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* Compile entry points                                                 */
/* ------------------------------------------------------------------ */

/* Checks length (in characters) and control bytes before parsing. */
static enum sl_status check_text(struct comp *c)
{
    size_t chars = 0;

    for (size_t i = 0; i < c->n; i++) {
        unsigned char u = (unsigned char)c->s[i];
        if ((u < 0x20 && !is_blank(c->s[i])) || u == 0x7f)
            return cfail(c, i, "Invalid control character 0x%02x at column %zu",
                         (unsigned)u, i + 1);
        chars += (u & 0xC0) != 0x80;
    }
    if (chars > FPAT_MAX_CHARS)
        return cfail(c, 0, "Filter pattern is %zu characters long; at most %d "
                     "are allowed", chars, FPAT_MAX_CHARS);
    return SL_OK;
}

/* The names fpat_field() reports: "$name" per named field, or the JSON
 * selectors. */
static enum sl_status collect_names(struct comp *c)
{
    struct fpat *p = c->p;
    size_t n = p->kind == FPAT_JSON ? p->nsels : p->nfields;

    if (n == 0)
        return SL_OK;
    p->names = comp_alloc(c, n * sizeof(*p->names));
    if (p->names == NULL)
        return nomem(c);
    for (size_t i = 0; i < n; i++) {
        if (p->kind == FPAT_JSON) {
            p->names[p->nnames++] = p->sels[i].name;
        } else if (p->fields[i].name != NULL) {
            char *s = arena_alloc(c->a, p->fields[i].nlen + 2);
            if (s == NULL)
                return nomem(c);
            s[0] = '$';
            memcpy(s + 1, p->fields[i].name, p->fields[i].nlen);
            s[p->fields[i].nlen + 1] = '\0';
            p->names[p->nnames++] = s;
        }
    }
    return SL_OK;
}

static enum sl_status compile_into(struct comp *c)
{
    enum sl_status st = check_text(c);

    if (st != SL_OK)
        return st;
    skip_blanks(c);
    if (at_end(c)) {
        c->p->kind = FPAT_ALL;
        return SL_OK;
    }
    switch (peek(c)) {
    case '{':
        c->p->kind = FPAT_JSON;
        st = parse_json(c);
        break;
    case '[':
        c->p->kind = FPAT_DELIM;
        st = parse_delim(c);
        break;
    default:
        c->p->kind = FPAT_TERMS;
        st = parse_terms(c);
        break;
    }
    if (st == SL_OK)
        st = collect_names(c);
    return st;
}

enum sl_status fpat_compile(const char *text, size_t len, struct fpat **out,
                            struct sl_err *err)
{
    struct fpat *p = sl_calloc(1, sizeof(*p));
    struct comp c;
    enum sl_status st;

    *out = NULL;
    if (p == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory compiling the filter pattern");
    arena_init(&p->a, 2048, 0);
    /* Compile from a copy the pattern owns: words and phrases point into
     * the text, and a compiled pattern outlives the caller's buffer. */
    if (text == NULL)
        len = 0;
    text = arena_strndup(&p->a, text != NULL ? text : "", len);
    if (text == NULL) {
        fpat_free(p);
        return sl_fail(err, SL_NOMEM, "out of memory compiling the filter pattern");
    }
    c = (struct comp){text, len, 0, p, &p->a, err, 0};
    st = compile_into(&c);
    if (st != SL_OK) {
        fpat_free(p);
        return st;
    }
    *out = p;
    return SL_OK;
}

void fpat_free(struct fpat *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nre; i++)
        pcre2_code_free(p->re[i]);
    pcre2_match_context_free(p->mctx);
    pcre2_compile_context_free(p->cctx);
    pcre2_general_context_free(p->gctx);
    arena_fini(&p->a);
    sl_free(p);
}

enum fpat_kind fpat_kind(const struct fpat *p)
{
    return p->kind;
}

size_t fpat_nfields(const struct fpat *p)
{
    return p->nnames;
}

const char *fpat_field(const struct fpat *p, size_t i)
{
    return i < p->nnames ? p->names[i] : NULL;
}

/* ------------------------------------------------------------------ */
/* Per-call match state and regexes                                     */
/* ------------------------------------------------------------------ */

/* Stack memory for one call's PCRE2 general context and match data, so a
 * regex match normally touches no heap and no shared state. Anything that
 * does not fit (backtracking frames without JIT) goes to sl_alloc. */
struct re_scratch {
    size_t used;                                /* bytes handed out */
    alignas(max_align_t) unsigned char mem[768];
};

static void *scratch_alloc(PCRE2_SIZE n, void *data)
{
    struct re_scratch *s = data;
    size_t need = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);

    if (need >= n && need <= sizeof(s->mem) - s->used) {
        void *p = s->mem + s->used;
        s->used += need;
        return p;
    }
    return sl_alloc(n);
}

static void scratch_free(void *p, void *data)
{
    struct re_scratch *s = data;
    uintptr_t u = (uintptr_t)p, lo = (uintptr_t)s->mem;

    if (u >= lo && u < lo + sizeof(s->mem))
        return;
    sl_free(p);
}

/* Everything one fpat_match() call needs; lives on the caller's stack. */
struct run {
    const struct fpat *p;
    const char *msg;              /* the event message */
    size_t len;                   /* its bytes */
    pcre2_general_context *gc;    /* from scratch, made on first regex */
    pcre2_match_data *md;         /* from gc */
    struct re_scratch scratch;
};

static void run_init(struct run *r, const struct fpat *p, const char *msg,
                     size_t len)
{
    r->p = p;
    r->msg = msg != NULL ? msg : "";
    r->len = msg != NULL ? len : 0;
    r->gc = NULL;
    r->md = NULL;
    r->scratch.used = 0;
}

static void run_fini(struct run *r)
{
    if (r->md != NULL)
        pcre2_match_data_free(r->md);
    if (r->gc != NULL)
        pcre2_general_context_free(r->gc);
}

/* Unanchored search of regex id in s[0..n). Errors (match limit, memory)
 * count as no match. */
static bool run_regex(struct run *r, int id, const char *s, size_t n)
{
    if (r->md == NULL) {
        if (r->gc == NULL)
            r->gc = pcre2_general_context_create(scratch_alloc, scratch_free,
                                                 &r->scratch);
        if (r->gc == NULL)
            return false;
        r->md = pcre2_match_data_create(1, r->gc);
        if (r->md == NULL)
            return false;
    }
    return pcre2_match(r->p->re[id], (PCRE2_SPTR)s, n, 0, 0, r->md,
                       r->p->mctx) >= 0;
}

/* ------------------------------------------------------------------ */
/* Comparisons                                                          */
/* ------------------------------------------------------------------ */

/* What a condition compares against: a JSON scalar or a message token. */
struct subj {
    const char *s;        /* text for = and != */
    size_t n;             /* bytes of s */
    int num_state;        /* 0 not read yet, 1 num holds it, -1 not a number */
    double num;           /* when num_state is 1 */
    bool text_fallback;   /* a number value may compare as text (tokens) */
};

static bool subj_number(struct subj *sj, double *out)
{
    if (sj->num_state == 0)
        sj->num_state = to_number(sj->s, sj->n, &sj->num) ? 1 : -1;
    *out = sj->num;
    return sj->num_state == 1;
}

static bool num_cmp(enum op op, double a, double b)
{
    switch (op) {
    case OP_EQ: return a == b;
    case OP_NE: return a != b;
    case OP_LT: return a < b;
    case OP_LE: return a <= b;
    case OP_GT: return a > b;
    case OP_GE: return a >= b;
    }
    return false;
}

static bool cmp_value(struct run *r, enum op op, const struct value *v,
                      struct subj *sj)
{
    double d;
    bool m;

    switch (v->kind) {
    case VAL_REGEX:
        m = run_regex(r, v->re, sj->s, sj->n);
        break;
    case VAL_NUMBER:
        if (subj_number(sj, &d))
            return num_cmp(op, d, v->num);
        if (!sj->text_fallback || (op != OP_EQ && op != OP_NE))
            return false;
        m = glob_match(&v->g, sj->s, sj->n);
        break;
    default:
        m = glob_match(&v->g, sj->s, sj->n);
        break;
    }
    return op == OP_EQ ? m : !m;
}

/* and/or over one subject (space-delimited fields). */
static bool eval_cond(struct run *r, const struct node *nd, struct subj *sj)
{
    switch (nd->kind) {
    case N_AND:
        return eval_cond(r, nd->l, sj) && eval_cond(r, nd->r, sj);
    case N_OR:
        return eval_cond(r, nd->l, sj) || eval_cond(r, nd->r, sj);
    default:
        return cmp_value(r, nd->op, &nd->v, sj);
    }
}

/* ------------------------------------------------------------------ */
/* Term matching                                                        */
/* ------------------------------------------------------------------ */

/* An unquoted word matches a whole token: the bytes around it are not
 * letters, digits or '_' (reference 3.1's recommendation, the reported AWS
 * behaviour: Exception does not match NullPointerException, [ERROR 400]
 * matches ERROR). Quoted phrases match anywhere. */
static bool token_found(const char *msg, size_t len, const char *w, size_t n)
{
    const char *end = msg + len, *at = msg;

    while ((size_t)(end - at) >= n) {
        const char *p = memmem(at, (size_t)(end - at), w, n);
        if (p == NULL)
            return false;
        if ((p == msg || !is_word_char(p[-1])) && (p + n == end || !is_word_char(p[n])))
            return true;
        at = p + 1;
    }
    return false;
}

static bool term_found(struct run *r, const struct term *t)
{
    if (t->re >= 0)
        return run_regex(r, t->re, r->msg, r->len);
    if (t->n == 0)
        return true;
    if (t->token)
        return token_found(r->msg, r->len, t->s, t->n);
    return memmem(r->msg, r->len, t->s, t->n) != NULL;
}

static bool match_terms(struct run *r)
{
    const struct fpat *p = r->p;

    for (size_t i = 0; i < p->nterms; i++) {
        const struct term *t = &p->terms[i];
        if (t->role != ROLE_ANY && term_found(r, t) != (t->role == ROLE_ALL))
            return false;
    }
    if (!p->has_any)
        return true;
    for (size_t i = 0; i < p->nterms; i++)
        if (p->terms[i].role == ROLE_ANY && term_found(r, &p->terms[i]))
            return true;
    return false;
}

/* ------------------------------------------------------------------ */
/* JSON scanner                                                         */
/* ------------------------------------------------------------------ */

/*
 * The scanner reads the message in place, through query/json_scan.h.
 * js_validate() checks once that the whole message is one JSON object
 * (jscan_check: RFC 8259 grammar, nesting up to FPAT_JSON_MAX_DEPTH). The
 * walkers after it still check every bound, so a bug can only miss, never
 * over-read.
 *
 *   {"a": {"b": [10, {"c": "x\u00e9"}]}}      $.a.b[1].c
 *    ^root  ^js_member("a")
 *            ^js_member("b") -> [ ^js_element(1) -> ^js_member("c")
 *                                      -> string body x\u00e9, unescaped
 *                                         only when compared
 */

_Static_assert(FPAT_JSON_MAX_DEPTH <= JSCAN_MAX_DEPTH,
               "jscan_check follows at most JSCAN_MAX_DEPTH levels");

enum jtype { J_STRING, J_NUMBER, J_TRUE, J_FALSE, J_NULL, J_OBJECT, J_ARRAY };

/* A value inside the message. */
struct jv {
    enum jtype type;
    size_t off;           /* first byte; for strings the byte after '"' */
    size_t len;           /* bytes; for strings the raw body */
};

/* The first non-blank offset at or after i. */
static size_t js_ws(const char *s, size_t n, size_t i)
{
    return (size_t)(jscan_ws(s + i, s + n) - s);
}

/* True when s[0..n) is exactly one JSON object (blanks around it allowed);
 * *root gets the offset of its '{'. */
static bool js_validate(const char *s, size_t n, size_t *root)
{
    const char *end = s + n, *p = jscan_ws(s, end);

    if (p == end || *p != '{')
        return false;
    *root = (size_t)(p - s);
    p = jscan_check(p, end, FPAT_JSON_MAX_DEPTH);
    return p != NULL && jscan_ws(p, end) == end;
}

/* The end of the value starting at s[i] (validated text), or n. */
static size_t js_skip(const char *s, size_t n, size_t i)
{
    const char *e = jscan_skip(s + i, s + n, FPAT_JSON_MAX_DEPTH, NULL);
    return e == NULL ? n : (size_t)(e - s);
}

/* Whether the raw key body raw[0..n) (esc: it holds a backslash) decodes
 * to key[0..klen), compared an escape at a time without a copy. */
static bool js_key_eq(const char *raw, size_t n, bool esc, const char *key,
                      size_t klen)
{
    size_t i = 0, k = 0;

    if (!esc)
        return n == klen && memcmp(raw, key, n) == 0;
    while (i < n) {
        char u[4];
        size_t used = 1, m = 1;
        if (raw[i] == '\\')
            used = jscan_escape(raw + i, n - i, u, &m);
        else
            u[0] = raw[i];
        if (used == 0 || klen - k < m || memcmp(key + k, u, m) != 0)
            return false;
        i += used;
        k += m;
    }
    return k == klen;
}

/* The value of member key in the object at s[i]; the last one wins. */
static bool js_member(const char *s, size_t n, size_t i, const struct step *key,
                      size_t *val)
{
    bool found = false;

    i = js_ws(s, n, i + 1);
    while (i < n && s[i] == '"') {
        size_t ks = i + 1;
        bool esc;
        const char *q = jscan_string_end(s + ks, s + n, &esc);
        if (q == NULL)
            return false;
        size_t klen = (size_t)(q - (s + ks));
        i = js_ws(s, n, ks + klen + 1);
        if (i >= n || s[i] != ':')
            return false;
        i = js_ws(s, n, i + 1);
        if (js_key_eq(s + ks, klen, esc, key->key, key->klen)) {
            *val = i;
            found = true;
        }
        i = js_ws(s, n, js_skip(s, n, i));
        if (i >= n || s[i] != ',')
            break;
        i = js_ws(s, n, i + 1);
    }
    return found;
}

/* Element idx of the array at s[i]. */
static bool js_element(const char *s, size_t n, size_t i, size_t idx, size_t *val)
{
    i = js_ws(s, n, i + 1);
    if (i < n && s[i] == ']')
        return false;
    for (size_t k = 0; i < n; k++) {
        if (k == idx) {
            *val = i;
            return true;
        }
        i = js_ws(s, n, js_skip(s, n, i));
        if (i >= n || s[i] != ',')
            return false;
        i = js_ws(s, n, i + 1);
    }
    return false;
}

static void js_classify(const char *s, size_t n, size_t i, struct jv *v)
{
    size_t end = js_skip(s, n, i);

    v->off = i;
    v->len = end - i;
    switch (s[i]) {
    case '"':
        v->type = J_STRING;
        v->off = i + 1;
        v->len = end > i + 1 ? end - i - 2 : 0;
        break;
    case '{': v->type = J_OBJECT; break;
    case '[': v->type = J_ARRAY; break;
    case 't': v->type = J_TRUE; break;
    case 'f': v->type = J_FALSE; break;
    case 'n': v->type = J_NULL; break;
    default:  v->type = J_NUMBER; break;
    }
}

/* Follows sel from the root object at s[root]; false when a step is
 * missing or lands on the wrong kind of container. */
static bool js_resolve(const char *s, size_t n, size_t root, const struct sel *sel,
                       struct jv *out)
{
    size_t i = root;

    for (size_t k = 0; k < sel->nst; k++) {
        const struct step *st = &sel->st[k];
        i = js_ws(s, n, i);
        if (i >= n)
            return false;
        if (st->key != NULL) {
            if (s[i] != '{' || !js_member(s, n, i, st, &i))
                return false;
        } else if (s[i] != '[' || !js_element(s, n, i, st->index, &i)) {
            return false;
        }
    }
    if (i >= n)
        return false;
    js_classify(s, n, i, out);
    return true;
}

/* ------------------------------------------------------------------ */
/* JSON matching                                                        */
/* ------------------------------------------------------------------ */

/* Compares a JSON scalar: strings unescaped (on the stack when short),
 * numbers and booleans as their text; null and containers never match. */
static bool json_cmp(struct run *r, const struct node *nd, const struct jv *v)
{
    char small[FPAT_STACK_TEXT];
    char *heap = NULL;
    struct subj sj = {r->msg + v->off, v->len, -1, 0, false};
    long dn;
    bool m;

    if (v->type == J_NULL || v->type == J_OBJECT || v->type == J_ARRAY)
        return false;
    if (v->type == J_NUMBER)
        sj.num_state = 0;
    if (v->type == J_STRING && memchr(sj.s, '\\', sj.n) != NULL) {
        char *buf = small;
        if (sj.n > sizeof(small)) {
            buf = heap = sl_alloc(sj.n);
            if (heap == NULL)
                return false;
        }
        dn = jscan_unescape(sj.s, sj.n, buf);
        if (dn < 0) {                     /* validated text: never */
            sl_free(heap);
            return false;
        }
        sj.n = (size_t)dn;
        sj.s = buf;
    }
    m = cmp_value(r, nd->op, &nd->v, &sj);
    sl_free(heap);
    return m;
}

static bool json_leaf_match(struct run *r, const struct node *nd, size_t root)
{
    struct jv v;
    bool found = js_resolve(r->msg, r->len, root, &r->p->sels[nd->sel], &v);

    switch (nd->kind) {
    case N_NOT_EXISTS: return !found;
    case N_IS_NULL:    return found && v.type == J_NULL;
    case N_IS_TRUE:    return found && v.type == J_TRUE;
    case N_IS_FALSE:   return found && v.type == J_FALSE;
    default:           return found && json_cmp(r, nd, &v);
    }
}

static bool eval_json(struct run *r, const struct node *nd, size_t root)
{
    switch (nd->kind) {
    case N_AND:
        return eval_json(r, nd->l, root) && eval_json(r, nd->r, root);
    case N_OR:
        return eval_json(r, nd->l, root) || eval_json(r, nd->r, root);
    default:
        return json_leaf_match(r, nd, root);
    }
}

/* ------------------------------------------------------------------ */
/* Space-delimited matching                                             */
/* ------------------------------------------------------------------ */

/* One token of a message: its raw extent and its value. */
struct tok {
    size_t start, end;    /* raw bytes, delimiters included */
    size_t vs, ve;        /* value: without enclosing "" or [] */
};

/* A value extracted for a named field. */
struct span {
    size_t off, len;
};

static bool msg_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* The end of a "quoted" (backslash escapes honoured) or [bracketed]
 * token opening at s[i], or 0 when it is not closed. */
static size_t token_close(const char *s, size_t n, size_t i)
{
    const char *hit;

    if (s[i] == '[') {
        hit = memchr(s + i + 1, ']', n - i - 1);
        return hit != NULL ? (size_t)(hit - s) + 1 : 0;
    }
    for (size_t j = i + 1; j < n; j++) {
        if (s[j] == '\\')
            j++;
        else if (s[j] == '"')
            return j + 1;
    }
    return 0;
}

/* Reads the token after *pos; false at the end of the message. An
 * unclosed quote or bracket is an ordinary byte. */
static bool next_token(const char *s, size_t n, size_t *pos, struct tok *t)
{
    size_t i = *pos, end = 0;

    while (i < n && msg_blank(s[i]))
        i++;
    if (i >= n)
        return false;
    if (s[i] == '"' || s[i] == '[')
        end = token_close(s, n, i);
    if (end != 0) {
        *t = (struct tok){i, end, i + 1, end - 1};
    } else {
        for (end = i; end < n && !msg_blank(s[end]); end++)
            ;
        *t = (struct tok){i, end, i, end};
    }
    *pos = end;
    return true;
}

static bool field_ok(struct run *r, const struct dfield *f, size_t vs, size_t ve)
{
    struct subj sj = {r->msg + vs, ve - vs, 0, 0, true};

    return f->cond == NULL || eval_cond(r, f->cond, &sj);
}

/* The last field's value when more tokens follow: the rest of the line
 * from its token on, trailing blanks dropped. */
static void rest_of_line(const struct run *r, struct tok *t)
{
    size_t q = t->end, e = r->len;
    struct tok u;

    if (!next_token(r->msg, r->len, &q, &u))
        return;
    while (e > t->start && msg_blank(r->msg[e - 1]))
        e--;
    t->vs = t->start;
    t->ve = e;
}

/* No '...': one token per field, the last one taking the rest. */
static bool match_fixed(struct run *r, struct span *caps)
{
    const struct fpat *p = r->p;
    size_t pos = 0;
    struct tok t;

    for (size_t f = 0; f < p->nfields; f++) {
        if (!next_token(r->msg, r->len, &pos, &t))
            return false;
        if (f + 1 == p->nfields)
            rest_of_line(r, &t);
        if (!field_ok(r, &p->fields[f], t.vs, t.ve))
            return false;
        if (caps != NULL)
            caps[f] = (struct span){t.vs, t.ve - t.vs};
    }
    return true;
}

/* Glob matching with '...' as the star (see the essay at the top). */
static bool match_ellipsis(struct run *r, struct span *caps)
{
    const struct fpat *p = r->p;
    size_t fi = 0, pos = 0, star = SIZE_MAX, star_pos = 0;
    struct tok t;

    for (;;) {
        size_t next = pos;
        bool have;
        if (fi < p->nfields && p->fields[fi].name == NULL) {
            star = fi++;
            star_pos = pos;
            continue;
        }
        have = next_token(r->msg, r->len, &next, &t);
        if (fi == p->nfields && !have)
            return true;
        if (fi < p->nfields && !have)
            return false;                 /* a longer '...' cannot help */
        if (fi < p->nfields && field_ok(r, &p->fields[fi], t.vs, t.ve)) {
            if (caps != NULL)
                caps[fi] = (struct span){t.vs, t.ve - t.vs};
            fi++;
            pos = next;
            continue;
        }
        if (star == SIZE_MAX || !next_token(r->msg, r->len, &star_pos, &t))
            return false;
        pos = star_pos;
        fi = star + 1;
    }
}

static bool match_delim(struct run *r, struct span *caps)
{
    return r->p->has_ellipsis ? match_ellipsis(r, caps) : match_fixed(r, caps);
}

/* ------------------------------------------------------------------ */
/* Matching entry points                                                */
/* ------------------------------------------------------------------ */

/* Runs the pattern; caps (FPAT_DELIM) and *root (FPAT_JSON) tell the
 * caller where values are. */
static bool run_match(struct run *r, struct span *caps, size_t *root)
{
    switch (r->p->kind) {
    case FPAT_ALL:
        return true;
    case FPAT_TERMS:
        return match_terms(r);
    case FPAT_JSON:
        return js_validate(r->msg, r->len, root) && eval_json(r, r->p->root, *root);
    case FPAT_DELIM:
        return match_delim(r, caps);
    }
    return false;
}

bool fpat_match(const struct fpat *p, const char *msg, size_t len)
{
    struct run r;
    size_t root = 0;
    bool m;

    if (p->kind == FPAT_ALL)
        return true;
    run_init(&r, p, msg, len);
    m = run_match(&r, NULL, &root);
    run_fini(&r);
    return m;
}

/* ------------------------------------------------------------------ */
/* References (metric values, dimensions)                               */
/* ------------------------------------------------------------------ */

enum ref_use { USE_VALUE, USE_DIMENSION };

static const char *use_name(enum ref_use use)
{
    return use == USE_VALUE ? "metric value" : "dimension value";
}

/* Fails with "Invalid metric value '<text>': <why>". */
static enum sl_status ref_fail(struct sl_err *err, enum ref_use use,
                               const char *text, size_t len, const char *why)
{
    return sl_fail(err, SL_INVALID, "Invalid %s '%.*s': %s", use_name(use),
                   quote_len(len), text, why);
}

/* "$.a.b": the whole text must be one selector. */
static enum sl_status ref_json(const struct fpat *p, struct fpat_ref *ref,
                               const char *text, size_t len, enum ref_use use,
                               struct sl_err *err)
{
    struct sl_err inner = {0};
    struct comp c = {text, len, 0, NULL, &ref->a, &inner, 0};
    enum sl_status st;

    if (p->kind != FPAT_JSON)
        return ref_fail(err, use, text, len, "$.field selects a JSON field, but "
                        "the filter pattern is not a JSON pattern");
    st = read_selector(&c, &ref->sel);
    if (st == SL_NOMEM)
        return sl_fail(err, SL_NOMEM, "out of memory");
    if (st == SL_OK && c.i != len)
        st = cfail(&c, c.i, "unexpected text at column %zu", c.i + 1);
    if (st != SL_OK)
        return ref_fail(err, use, text, len, inner.msg);
    ref->kind = REF_JSON;
    return SL_OK;
}

/* "$name": a named field of the space-delimited pattern. */
static enum sl_status ref_field(const struct fpat *p, struct fpat_ref *ref,
                                const char *text, size_t len, enum ref_use use,
                                struct sl_err *err)
{
    if (p->kind != FPAT_DELIM)
        return ref_fail(err, use, text, len, "$name selects a field of a "
                        "space-delimited pattern, but the filter pattern is not "
                        "one");
    for (size_t i = 0; i < p->nfields; i++) {
        const struct dfield *f = &p->fields[i];
        if (f->name != NULL && f->nlen == len - 1 &&
            memcmp(f->name, text + 1, len - 1) == 0) {
            ref->kind = REF_FIELD;
            ref->field = i;
            return SL_OK;
        }
    }
    return ref_fail(err, use, text, len, "the filter pattern has no field of "
                    "that name");
}

static enum sl_status ref_const(struct fpat_ref *ref, const char *text,
                                size_t len, struct sl_err *err)
{
    char *copy = arena_strndup(&ref->a, text, len);

    if (copy == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    if (!to_number(text, len, &ref->num))
        return ref_fail(err, USE_VALUE, text, len, "the number is out of range");
    ref->kind = REF_CONST;
    ref->text = copy;
    ref->len = len;
    return SL_OK;
}

static bool is_field_ref(const char *text, size_t len)
{
    if (len < 2 || text[0] != '$')
        return false;
    for (size_t i = 1; i < len; i++)
        if (!is_name_char(text[i]))
            return false;
    return true;
}

/* Picks the form of text and compiles it into ref. */
static enum sl_status ref_parse(const struct fpat *p, struct fpat_ref *ref,
                                const char *text, size_t len, enum ref_use use,
                                struct sl_err *err)
{
    if (len == 0)
        return sl_fail(err, SL_INVALID, "Invalid %s: it is empty", use_name(use));
    if (use == USE_VALUE && is_number_text(text, len))
        return ref_const(ref, text, len, err);
    if (len >= 2 && text[0] == '$' && (text[1] == '.' || text[1] == '['))
        return ref_json(p, ref, text, len, use, err);
    if (is_field_ref(text, len))
        return ref_field(p, ref, text, len, use, err);
    if (use == USE_VALUE)
        return ref_fail(err, use, text, len, "use a number, $.field (JSON "
                        "patterns) or $name (space-delimited patterns)");
    return ref_fail(err, use, text, len, "use $.field (JSON patterns) or $name "
                    "(space-delimited patterns)");
}

static enum sl_status ref_compile(const struct fpat *p, const char *text,
                                  size_t len, enum ref_use use,
                                  struct fpat_ref **out, struct sl_err *err)
{
    struct fpat_ref *ref;
    enum sl_status st;

    *out = NULL;
    if (text == NULL) {
        text = "";
        len = 0;
    }
    while (len > 0 && is_blank(text[0]))
        text++, len--;
    while (len > 0 && is_blank(text[len - 1]))
        len--;
    ref = sl_calloc(1, sizeof(*ref));
    if (ref == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    arena_init(&ref->a, 256, 0);
    st = ref_parse(p, ref, text, len, use, err);
    if (st != SL_OK) {
        fpat_ref_free(ref);
        return st;
    }
    *out = ref;
    return SL_OK;
}

enum sl_status fpat_ref_value(const struct fpat *p, const char *text,
                              size_t len, struct fpat_ref **out,
                              struct sl_err *err)
{
    return ref_compile(p, text, len, USE_VALUE, out, err);
}

enum sl_status fpat_ref_dimension(const struct fpat *p, const char *text,
                                  size_t len, struct fpat_ref **out,
                                  struct sl_err *err)
{
    return ref_compile(p, text, len, USE_DIMENSION, out, err);
}

void fpat_ref_free(struct fpat_ref *r)
{
    if (r == NULL)
        return;
    arena_fini(&r->a);
    sl_free(r);
}

/* Fills v from a JSON value; strings with escapes are unescaped into a. */
static enum sl_status json_val(struct run *r, const struct jv *jv,
                               struct arena *a, struct fpat_val *v)
{
    const char *s = r->msg + jv->off;
    size_t n = jv->len;

    switch (jv->type) {
    case J_STRING:
        if (memchr(s, '\\', n) != NULL) {
            char *buf = arena_alloc(a, n + 1);
            long dn;
            if (buf == NULL)
                return SL_NOMEM;
            dn = jscan_unescape(s, n, buf);
            if (dn < 0)                   /* validated text: never */
                return SL_OK;
            n = (size_t)dn;
            s = buf;
        }
        break;
    case J_NUMBER:
        break;
    case J_TRUE:
    case J_FALSE:
        break;
    default:
        return SL_OK;                     /* null, object, array: not found */
    }
    v->found = true;
    v->text = s;
    v->len = n;
    v->is_num = jv->type != J_TRUE && jv->type != J_FALSE && to_number(s, n, &v->num);
    return SL_OK;
}

static enum sl_status ref_eval(struct run *r, const struct fpat_ref *ref,
                               const struct span *caps, size_t root,
                               struct arena *a, struct fpat_val *v)
{
    struct jv jv;

    memset(v, 0, sizeof(*v));
    switch (ref->kind) {
    case REF_CONST:
        *v = (struct fpat_val){true, true, ref->num, ref->text, ref->len};
        return SL_OK;
    case REF_FIELD:
        v->found = true;
        v->text = r->msg + caps[ref->field].off;
        v->len = caps[ref->field].len;
        v->is_num = to_number(v->text, v->len, &v->num);
        return SL_OK;
    case REF_JSON:
        if (!js_resolve(r->msg, r->len, root, &ref->sel, &jv))
            return SL_OK;
        return json_val(r, &jv, a, v);
    }
    return SL_OK;
}

enum sl_status fpat_eval(const struct fpat *p, const char *msg, size_t len,
                         struct fpat_ref *const *refs, size_t nrefs,
                         struct arena *a, struct fpat_val *vals, bool *matched)
{
    struct run r;
    struct span *caps = NULL;
    size_t root = 0;
    enum sl_status st = SL_OK;

    *matched = false;
    run_init(&r, p, msg, len);
    if (p->kind == FPAT_DELIM) {
        caps = arena_alloc(a, p->nfields * sizeof(*caps));
        if (caps == NULL) {
            st = SL_NOMEM;
            goto out_fini;
        }
    }
    *matched = run_match(&r, caps, &root);
    for (size_t i = 0; *matched && i < nrefs && st == SL_OK; i++)
        st = ref_eval(&r, refs[i], caps, root, a, &vals[i]);
out_fini:
    run_fini(&r);
    return st;
}

/* ------------------------------------------------------------------ */
/* Explain                                                              */
/* ------------------------------------------------------------------ */

/* A buffer and the first failure writing to it. */
struct out {
    struct buf *b;
    enum sl_status st;
};

static void out_mem(struct out *o, const char *s, size_t n)
{
    if (o->st == SL_OK && n > 0)
        o->st = buf_append(o->b, s, n);
}

static void out_str(struct out *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

/* Writes s quoted, escaping '"', '\\' and, when stars, a literal '*'. */
static void out_quoted(struct out *o, const char *s, size_t n, bool stars)
{
    out_str(o, "\"");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\' || (stars && s[i] == '*'))
            out_str(o, "\\");
        out_mem(o, s + i, 1);
    }
    out_str(o, "\"");
}

static void out_glob(struct out *o, const struct glob *g)
{
    out_str(o, "\"");
    if (g->star_first)
        out_str(o, "*");
    for (size_t k = 0; k < g->npc; k++) {
        for (size_t i = 0; i < g->pc[k].n; i++) {
            char ch = g->pc[k].s[i];
            if (ch == '"' || ch == '\\' || ch == '*')
                out_str(o, "\\");
            out_mem(o, &ch, 1);
        }
        if (k + 1 < g->npc || (g->star_last && g->npc > 0))
            out_str(o, "*");
    }
    out_str(o, "\"");
}

static void out_value(struct out *o, const struct value *v)
{
    switch (v->kind) {
    case VAL_NUMBER:
        out_mem(o, v->src, v->srclen);
        break;
    case VAL_REGEX:
        out_str(o, "%");
        out_mem(o, v->src, v->srclen);
        out_str(o, "%");
        break;
    default:
        out_glob(o, &v->g);
        break;
    }
}

static void out_node(struct out *o, const struct fpat *p, const struct node *nd);

/* The operands of a chain of one and/or kind, flattened. */
static void out_chain(struct out *o, const struct fpat *p, const struct node *nd,
                      enum node_kind kind)
{
    if (nd->kind != kind) {
        out_str(o, " ");
        out_node(o, p, nd);
        return;
    }
    out_chain(o, p, nd->l, kind);
    out_chain(o, p, nd->r, kind);
}

static void out_node(struct out *o, const struct fpat *p, const struct node *nd)
{
    static const char *const words[] = {
        [N_IS_NULL] = "is-null", [N_IS_TRUE] = "is-true",
        [N_IS_FALSE] = "is-false", [N_NOT_EXISTS] = "not-exists"};

    out_str(o, "(");
    if (nd->kind == N_AND || nd->kind == N_OR) {
        out_str(o, nd->kind == N_AND ? "and" : "or");
        out_chain(o, p, nd->l, nd->kind);
        out_chain(o, p, nd->r, nd->kind);
    } else if (nd->kind == N_CMP) {
        out_str(o, op_text(nd->op));
        if (p->kind == FPAT_JSON) {
            out_str(o, " ");
            out_str(o, p->sels[nd->sel].name);
        }
        out_str(o, " ");
        out_value(o, &nd->v);
    } else {
        out_str(o, words[nd->kind]);
        out_str(o, " ");
        out_str(o, p->sels[nd->sel].name);
    }
    out_str(o, ")");
}

static void out_terms(struct out *o, const struct fpat *p)
{
    static const char *const sign[] = {" +", " ?", " -"};

    out_str(o, "terms");
    for (size_t i = 0; i < p->nterms; i++) {
        const struct term *t = &p->terms[i];
        out_str(o, sign[t->role]);
        if (t->re >= 0) {
            out_str(o, "%");
            out_mem(o, t->s, t->n);
            out_str(o, "%");
        } else {
            out_quoted(o, t->s, t->n, false);
        }
    }
}

static void out_delim(struct out *o, const struct fpat *p)
{
    out_str(o, "delim [");
    for (size_t i = 0; i < p->nfields; i++) {
        const struct dfield *f = &p->fields[i];
        if (i > 0)
            out_str(o, ", ");
        if (f->name == NULL) {
            out_str(o, "...");
            continue;
        }
        out_mem(o, f->name, f->nlen);
        if (f->cond != NULL) {
            out_str(o, " ");
            out_node(o, p, f->cond);
        }
    }
    out_str(o, "]");
}

enum sl_status fpat_explain(const struct fpat *p, struct buf *b)
{
    struct out o = {b, SL_OK};

    switch (p->kind) {
    case FPAT_ALL:
        out_str(&o, "all");
        break;
    case FPAT_TERMS:
        out_terms(&o, p);
        break;
    case FPAT_JSON:
        out_str(&o, "json ");
        out_node(&o, p, p->root);
        break;
    case FPAT_DELIM:
        out_delim(&o, p);
        break;
    }
    return o.st;
}
