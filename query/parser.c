/* query/parser.c: recursive descent over the command pipeline and
 * precedence climbing over expressions; see parser.h. Every error names
 * the token found and what would have been accepted there. */
#include "query/parser.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Grammar (keywords in any case; '|' or a new line starting with a command
 * keyword separates commands)
 * ------------------------------------------------------------------------
 *   query    := [source] command { sep command }
 *   source   := SOURCE ( string {string} | logGroups '(' [arg {, arg}] ')' )
 *               { (START | END) '=' ( ['-'] period | integer ) }
 *   command  := fields items | display items | (filter|where|filterIndex) expr
 *             | stats items [[group] by items] | sort [by] keys
 *             | limit [any] integer | parse [field] (string|regex) [as names]
 *             | dedup field {, field} | pattern expr
 *   items    := expr [as name] {, expr [as name]}
 *   keys     := expr [as name] [asc|desc] {, ...}
 *
 * Expressions climb this table; binary operators are left-associative
 * except '^', comparisons do not chain (a < b < c is an error):
 *
 *   prec  operators                          kind
 *   ----  ---------------------------------  -------------
 *    1    or                                 binary
 *    2    and                                binary
 *    3    not x                              prefix
 *    4    = != < <= > >= =~ [not] like       comparison
 *         [not] in
 *    5    + -                                binary
 *    6    * / %                              binary
 *    7    -x                                 prefix (-2 is a literal)
 *    8    ^                                  binary, right-assoc
 *         literals, fields, f(args), ( expr ) primary
 *
 * so  not a = 1 and b + 2 * 3 ^ 2 > 4  reads
 *     (and (not (= a 1)) (> (+ b (* 2 (^ 3 2))) 4)).
 */

#define PREC_NOT 3
#define PREC_CMP 4
#define PREC_NEG 7

static const struct {
    unsigned char prec;   /* 0: not a binary operator */
    unsigned char op;     /* enum ast_op for plain binary operators */
    unsigned char right;  /* right-associative */
} binops[LEX_KIND_COUNT] = {
    [LEX_OR] = {1, AST_OP_OR, 0},      [LEX_AND] = {2, AST_OP_AND, 0},
    [LEX_EQ] = {4, AST_OP_EQ, 0},      [LEX_NE] = {4, AST_OP_NE, 0},
    [LEX_LT] = {4, AST_OP_LT, 0},      [LEX_LE] = {4, AST_OP_LE, 0},
    [LEX_GT] = {4, AST_OP_GT, 0},      [LEX_GE] = {4, AST_OP_GE, 0},
    [LEX_MATCH] = {4, 0, 0},           [LEX_LIKE] = {4, 0, 0},
    [LEX_IN] = {4, 0, 0},              [LEX_NOT] = {4, 0, 0},
    [LEX_PLUS] = {5, AST_OP_ADD, 0},   [LEX_MINUS] = {5, AST_OP_SUB, 0},
    [LEX_STAR] = {6, AST_OP_MUL, 0},   [LEX_SLASH] = {6, AST_OP_DIV, 0},
    [LEX_PERCENT] = {6, AST_OP_MOD, 0}, [LEX_CARET] = {8, AST_OP_POW, 1},
};

/* Command keywords. Unsupported ones are refused by name. */
enum cmd_support { CMD_OK, CMD_INDEX, CMD_HEADER, CMD_UNSUPPORTED };

static const struct {
    const char *name;
    enum ast_cmd_kind kind;
    enum cmd_support support;
} commands[] = {
    {"fields", AST_CMD_FIELDS, CMD_OK},
    {"display", AST_CMD_DISPLAY, CMD_OK},
    {"filter", AST_CMD_FILTER, CMD_OK},
    {"where", AST_CMD_FILTER, CMD_OK},
    {"filterIndex", AST_CMD_FILTER, CMD_INDEX},
    {"stats", AST_CMD_STATS, CMD_OK},
    {"sort", AST_CMD_SORT, CMD_OK},
    {"limit", AST_CMD_LIMIT, CMD_OK},
    {"parse", AST_CMD_PARSE, CMD_OK},
    {"dedup", AST_CMD_DEDUP, CMD_OK},
    {"pattern", AST_CMD_PATTERN, CMD_OK},
    {"source", AST_CMD_FIELDS, CMD_HEADER},
    /* in the reference but outside issue 3: refused by name */
    {"unnest", 0, CMD_UNSUPPORTED},      {"diff", 0, CMD_UNSUPPORTED},
    {"anomaly", 0, CMD_UNSUPPORTED},     {"unmask", 0, CMD_UNSUPPORTED},
    {"lookup", 0, CMD_UNSUPPORTED},      {"join", 0, CMD_UNSUPPORTED},
    {"addtotals", 0, CMD_UNSUPPORTED},   {"autoregress", 0, CMD_UNSUPPORTED},
    {"logcompare", 0, CMD_UNSUPPORTED},  {"filldown", 0, CMD_UNSUPPORTED},
    {"fillmissing", 0, CMD_UNSUPPORTED}, {"cidrlookup", 0, CMD_UNSUPPORTED},
    {"outlier", 0, CMD_UNSUPPORTED},     {"accum", 0, CMD_UNSUPPORTED},
    {"appendcols", 0, CMD_UNSUPPORTED},  {"sessionize", 0, CMD_UNSUPPORTED},
    {"countFrequent", 0, CMD_UNSUPPORTED},
    {"relevantfields", 0, CMD_UNSUPPORTED},
    {"expand", 0, CMD_UNSUPPORTED},      {"search", 0, CMD_UNSUPPORTED},
    {"order", 0, CMD_UNSUPPORTED},       {"head", 0, CMD_UNSUPPORTED},
    {"tail", 0, CMD_UNSUPPORTED},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

struct parser {
    struct arena *a;
    const char *text;        /* the arena copy */
    size_t len;
    struct lexer lx;         /* positioned just after cur */
    struct lexer before;     /* positioned just before cur, to re-read it */
    struct lex_token cur;    /* the next token to consume */
    enum lex_mode cur_mode;  /* the mode cur was read in */
    struct lex_token prev;   /* the last token consumed */
    bool have_prev;
    int depth;               /* parse_binary nesting */
    struct sl_err *err;
};

/* ------------------------------------------------------------------ */
/* Tokens and errors                                                    */

static enum sl_status fail_at(struct parser *p, size_t off, const char *fmt,
                              ...) SL_PRINTF(3, 4);

static enum sl_status fail_at(struct parser *p, size_t off, const char *fmt,
                              ...)
{
    char what[224];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return lex_fail(p->text, p->len, off, p->err, "%s", what);
}

static enum sl_status fail_nomem(struct parser *p)
{
    return sl_fail(p->err, SL_NOMEM, "out of memory while parsing the query");
}

/* "expected <what> after '<prev>', found <cur>" at cur. */
static enum sl_status fail_expected(struct parser *p, const char *what)
{
    char found[64], after[64];

    lex_describe(p->text, &p->cur, found, sizeof(found));
    if (!p->have_prev)
        return fail_at(p, p->cur.off, "expected %s, found %s", what, found);
    lex_describe(p->text, &p->prev, after, sizeof(after));
    return fail_at(p, p->cur.off, "expected %s after %s, found %s", what,
                   after, found);
}

/* After a value '/' divides; anywhere else it opens a regex. */
static enum lex_mode mode_after(enum lex_kind k)
{
    switch (k) {
    case LEX_IDENT: case LEX_QIDENT: case LEX_NUMBER: case LEX_STRING:
    case LEX_PERIOD: case LEX_REGEX: case LEX_RPAREN: case LEX_RBRACKET:
        return LEX_MODE_OPERATOR;
    default:
        return LEX_MODE_VALUE;
    }
}

static enum sl_status read_cur(struct parser *p, enum lex_mode mode)
{
    p->before = p->lx;
    p->cur_mode = mode;
    return lex_next(&p->lx, mode, &p->cur, p->err);
}

/* Consumes cur. */
static enum sl_status next(struct parser *p)
{
    p->prev = p->cur;
    p->have_prev = true;
    return read_cur(p, mode_after(p->prev.kind));
}

/* Re-reads cur in mode when '/' would mean something else there. */
static enum sl_status relex(struct parser *p, enum lex_mode mode)
{
    if (p->cur_mode == mode ||
        (p->cur.kind != LEX_SLASH && p->cur.kind != LEX_REGEX))
        return SL_OK;
    p->lx = p->before;
    return read_cur(p, mode);
}

/* The token after cur, or LEX_EOF if it does not lex. */
static struct lex_token peek2(const struct parser *p)
{
    struct lexer tmp = p->lx;
    struct lex_token t;

    if (lex_next(&tmp, mode_after(p->cur.kind), &t, NULL) != SL_OK)
        t.kind = LEX_EOF;
    return t;
}

static bool is_word(const struct parser *p, const char *word)
{
    return lex_is_word(p->text, &p->cur, word);
}

static int command_index(const char *name, size_t len)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const char *c = commands[i].name;
        if (strlen(c) == len && strncasecmp(c, name, len) == 0)
            return (int)i;
    }
    return -1;
}

bool parse_is_command(const char *name, size_t len)
{
    return command_index(name, len) >= 0;
}

/* cur is an identifier at the start of a line naming a command. */
static bool at_command_line(const struct parser *p)
{
    return p->cur.kind == LEX_IDENT && p->cur.line_start &&
           parse_is_command(p->text + p->cur.off, p->cur.len);
}

static bool starts_value(enum lex_kind k)
{
    switch (k) {
    case LEX_IDENT: case LEX_QIDENT: case LEX_NUMBER: case LEX_STRING:
    case LEX_PERIOD: case LEX_REGEX: case LEX_LPAREN: case LEX_MINUS:
    case LEX_NOT:
        return true;
    default:
        return false;
    }
}

static const char *copy(struct parser *p, const char *s, size_t n)
{
    return arena_strndup(p->a, s, n);
}

/* Decoded body of cur (string, back-quoted name or regex). */
static const char *decode_cur(struct parser *p, size_t *len, unsigned *flags)
{
    char *out = arena_alloc(p->a, (size_t)p->cur.len + 1);

    if (out == NULL)
        return NULL;
    *len = lex_decode(p->text, &p->cur, out, flags);
    return out;
}

/* ------------------------------------------------------------------ */
/* Expressions                                                          */

static enum sl_status parse_binary(struct parser *p, int min_prec,
                                   struct ast_expr **out);

static enum sl_status new_node(struct parser *p, enum ast_expr_kind kind,
                               uint32_t off, uint32_t end,
                               struct ast_expr **out)
{
    *out = ast_new_expr(p->a, kind, off, end - off);
    return *out != NULL ? SL_OK : fail_nomem(p);
}

/* Sets e->height from a child and enforces the cap. */
static enum sl_status grow(struct parser *p, struct ast_expr *e,
                           const struct ast_expr *child)
{
    if (child->height + 1 > e->height)
        e->height = (uint16_t)(child->height + 1);
    if (e->height > PARSE_MAX_HEIGHT)
        return fail_at(p, e->off, "expression nested more than %d levels "
                       "deep", PARSE_MAX_HEIGHT);
    return SL_OK;
}

static uint32_t end_of(const struct ast_expr *e)
{
    return e->off + e->len;
}

static enum sl_status parse_number(struct parser *p, struct ast_expr **out)
{
    char tmp[64];
    const char *s = p->text + p->cur.off;
    size_t n = p->cur.len;
    struct ast_expr *e;
    enum sl_status st;

    if (n >= sizeof(tmp))
        return fail_at(p, p->cur.off, "number '%.20s...' is too long", s);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    st = new_node(p, AST_NUMBER, p->cur.off, p->cur.off + p->cur.len, &e);
    if (st != SL_OK)
        return st;
    e->u.num.value = strtod(tmp, NULL);
    if (!isfinite(e->u.num.value))
        return fail_at(p, p->cur.off, "number '%s' is out of range", tmp);
    if (strpbrk(tmp, ".eE") == NULL) {
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (errno == 0) {
            e->u.num.is_int = true;
            e->u.num.ivalue = v;
        }
    }
    *out = e;
    return next(p);
}

/* A string or regex literal at cur. */
static enum sl_status parse_text_literal(struct parser *p,
                                         struct ast_expr **out)
{
    bool re = p->cur.kind == LEX_REGEX;
    struct ast_expr *e;
    enum sl_status st;
    size_t n;
    unsigned flags;
    const char *s;

    st = new_node(p, re ? AST_REGEX : AST_STRING, p->cur.off,
                  p->cur.off + p->cur.len, &e);
    if (st != SL_OK)
        return st;
    s = decode_cur(p, &n, &flags);
    if (s == NULL)
        return fail_nomem(p);
    if (re) {
        e->u.regex.pattern = s;
        e->u.regex.len = n;
        e->u.regex.flags = flags;
    } else {
        e->u.str.s = s;
        e->u.str.len = n;
    }
    *out = e;
    return next(p);
}

static enum sl_status parse_field_token(struct parser *p,
                                        struct ast_expr **out)
{
    struct ast_expr *e;
    enum sl_status st;
    size_t n;

    st = new_node(p, AST_FIELD, p->cur.off, p->cur.off + p->cur.len, &e);
    if (st != SL_OK)
        return st;
    if (p->cur.kind == LEX_QIDENT) {
        e->u.field.name = decode_cur(p, &n, NULL);
        e->u.field.quoted = true;
    } else {
        n = p->cur.len;
        e->u.field.name = copy(p, p->text + p->cur.off, n);
    }
    if (e->u.field.name == NULL)
        return fail_nomem(p);
    e->u.field.len = n;
    *out = e;
    return next(p);
}

/* name '(' [arg {, arg}] ')' with cur at '('. */
static enum sl_status parse_call(struct parser *p, struct lex_token name,
                                 struct ast_expr **out)
{
    struct ast_expr *e, *arg;
    size_t cap = 0;
    enum sl_status st;

    st = new_node(p, AST_CALL, name.off, name.off + name.len, &e);
    if (st != SL_OK)
        return st;
    e->u.call.name = copy(p, p->text + name.off, name.len);
    if (e->u.call.name == NULL)
        return fail_nomem(p);
    e->u.call.len = name.len;
    st = next(p);                                  /* '(' */
    while (st == SL_OK && p->cur.kind != LEX_RPAREN) {
        if (p->cur.kind == LEX_STAR) {
            st = new_node(p, AST_STAR, p->cur.off, p->cur.off + 1, &arg);
            if (st == SL_OK)
                st = next(p);
        } else if (starts_value(p->cur.kind)) {
            st = parse_binary(p, 0, &arg);
        } else {
            return fail_expected(p, e->u.call.nargs == 0
                                        ? "a value or ')'" : "a value");
        }
        if (st != SL_OK)
            return st;
        e->u.call.args = ast_grow(p->a, e->u.call.args, e->u.call.nargs, &cap,
                                  sizeof(arg));
        if (e->u.call.args == NULL)
            return fail_nomem(p);
        e->u.call.args[e->u.call.nargs++] = arg;
        st = grow(p, e, arg);
        if (st != SL_OK)
            return st;
        if (p->cur.kind == LEX_COMMA)
            st = next(p);
        else if (p->cur.kind != LEX_RPAREN)
            return fail_expected(p, "',' or ')'");
    }
    if (st != SL_OK)
        return st;
    e->len = p->cur.off + 1 - e->off;
    *out = e;
    return next(p);                                /* ')' */
}

static enum sl_status parse_primary(struct parser *p, struct ast_expr **out)
{
    struct lex_token t = p->cur;
    enum sl_status st;

    switch (t.kind) {
    case LEX_NUMBER:
        return parse_number(p, out);
    case LEX_STRING:
    case LEX_REGEX:
        return parse_text_literal(p, out);
    case LEX_PERIOD:
        st = new_node(p, AST_PERIOD, t.off, t.off + t.len, out);
        if (st == SL_OK)
            st = lex_period_value(p->text, p->len, &t, &(*out)->u.period,
                                  p->err);
        return st == SL_OK ? next(p) : st;
    case LEX_QIDENT:
        return parse_field_token(p, out);
    case LEX_IDENT:
        if (peek2(p).kind == LEX_LPAREN) {
            st = next(p);
            return st == SL_OK ? parse_call(p, t, out) : st;
        }
        return parse_field_token(p, out);
    case LEX_LPAREN:
        st = next(p);
        if (st != SL_OK)
            return st;
        if (!starts_value(p->cur.kind))
            return fail_expected(p, "a value");
        st = parse_binary(p, 0, out);
        if (st != SL_OK)
            return st;
        if (p->cur.kind != LEX_RPAREN)
            return fail_expected(p, "')'");
        /* the span takes in the parentheses, as the user wrote them */
        (*out)->off = t.off;
        (*out)->len = p->cur.off + 1 - t.off;
        return next(p);
    default:
        return fail_expected(p, "a value");
    }
}

static enum sl_status parse_prefix(struct parser *p, struct ast_expr **out)
{
    struct lex_token t = p->cur;
    struct ast_expr *operand, *e;
    enum sl_status st;

    if (t.kind != LEX_NOT && t.kind != LEX_MINUS)
        return parse_primary(p, out);
    st = next(p);
    if (st != SL_OK)
        return st;
    if (!starts_value(p->cur.kind))
        return fail_expected(p, "a value");
    st = parse_binary(p, t.kind == LEX_NOT ? PREC_NOT : PREC_NEG, &operand);
    if (st != SL_OK)
        return st;
    if (t.kind == LEX_MINUS && operand->kind == AST_NUMBER) {
        /* -2 is a literal: fold the sign in */
        operand->u.num.value = -operand->u.num.value;
        operand->u.num.ivalue = -operand->u.num.ivalue;
        operand->len = end_of(operand) - t.off;
        operand->off = t.off;
        *out = operand;
        return SL_OK;
    }
    st = new_node(p, AST_UNARY, t.off, end_of(operand), &e);
    if (st != SL_OK)
        return st;
    e->u.unary.op = t.kind == LEX_NOT ? AST_OP_NOT : AST_OP_NEG;
    e->u.unary.operand = operand;
    *out = e;
    return grow(p, e, operand);
}

/* '[' literal {, literal} ']' after in; items into e. */
static enum sl_status parse_in_list(struct parser *p, struct ast_expr *e)
{
    size_t cap = 0;
    enum sl_status st;

    if (p->cur.kind != LEX_LBRACKET)
        return fail_expected(p, "'[' and a list of values");
    st = next(p);
    while (st == SL_OK) {
        struct ast_expr *item;
        uint32_t minus = p->cur.off;
        bool neg = p->cur.kind == LEX_MINUS &&
                   peek2(p).kind == LEX_NUMBER;
        if (neg)
            st = next(p);
        if (st != SL_OK)
            return st;
        if (p->cur.kind == LEX_NUMBER)
            st = parse_number(p, &item);
        else if (p->cur.kind == LEX_STRING)
            st = parse_text_literal(p, &item);
        else
            return fail_expected(p, "a string or a number");
        if (st != SL_OK)
            return st;
        if (neg) {
            item->u.num.value = -item->u.num.value;
            item->u.num.ivalue = -item->u.num.ivalue;
            item->len += item->off - minus;
            item->off = minus;
        }
        e->u.in.items = ast_grow(p->a, e->u.in.items, e->u.in.n, &cap,
                                 sizeof(item));
        if (e->u.in.items == NULL)
            return fail_nomem(p);
        e->u.in.items[e->u.in.n++] = item;
        if (p->cur.kind == LEX_RBRACKET)
            break;
        if (p->cur.kind != LEX_COMMA)
            return fail_expected(p, "',' or ']'");
        st = next(p);
    }
    if (st != SL_OK)
        return st;
    e->len = p->cur.off + 1 - e->off;
    return next(p);
}

/* Operator at cur, folding "not like" and "not in"; prec 0 if none. */
static int binop_at(const struct parser *p, bool *negated)
{
    enum lex_kind k = p->cur.kind;

    *negated = false;
    if (k == LEX_NOT) {
        enum lex_kind k2 = peek2(p).kind;
        if (k2 != LEX_LIKE && k2 != LEX_IN)
            return 0;
        *negated = true;
    }
    return (unsigned)k < LEX_KIND_COUNT ? binops[k].prec : 0;
}

static enum sl_status parse_binary(struct parser *p, int min_prec,
                                   struct ast_expr **out)
{
    struct ast_expr *lhs = NULL, *rhs = NULL, *e = NULL;
    bool last_cmp = false, negated;
    enum sl_status st;
    int prec;

    if (++p->depth > PARSE_MAX_DEPTH) {
        st = fail_at(p, p->cur.off, "expression nested more than %d levels "
                     "deep", PARSE_MAX_DEPTH);
        goto out;
    }
    st = parse_prefix(p, &lhs);
    while (st == SL_OK && (prec = binop_at(p, &negated)) >= min_prec &&
           prec > 0) {
        struct lex_token op = p->cur;
        if (negated)
            op = peek2(p);              /* the like/in after not */
        if (prec == PREC_CMP && last_cmp) {
            st = fail_at(p, p->cur.off, "comparisons do not chain: join them "
                         "with 'and'");
            break;
        }
        st = next(p);
        if (st == SL_OK && negated)
            st = next(p);
        if (st != SL_OK)
            break;
        if (op.kind == LEX_LIKE || op.kind == LEX_MATCH) {
            st = relex(p, LEX_MODE_VALUE);
            if (st != SL_OK)
                break;
            if (p->cur.kind != LEX_STRING && p->cur.kind != LEX_REGEX) {
                st = fail_expected(p, op.kind == LEX_LIKE
                                   ? "a \"string\" or a /regex/"
                                   : "a /regex/");
                break;
            }
            st = new_node(p, op.kind == LEX_LIKE ? AST_LIKE : AST_MATCH,
                          lhs->off, p->cur.off + p->cur.len, &e);
            if (st == SL_OK)
                st = parse_text_literal(p, &rhs);
            if (st != SL_OK)
                break;
            e->u.like.subject = lhs;
            e->u.like.pattern = rhs;
            e->u.like.negated = negated;
        } else if (op.kind == LEX_IN) {
            st = new_node(p, AST_IN, lhs->off, end_of(lhs), &e);
            if (st == SL_OK) {
                e->u.in.subject = lhs;
                e->u.in.negated = negated;
                st = parse_in_list(p, e);
            }
            if (st != SL_OK)
                break;
        } else {
            if (!starts_value(p->cur.kind)) {
                st = fail_expected(p, "a value");
                break;
            }
            st = parse_binary(p, binops[op.kind].right ? prec : prec + 1,
                              &rhs);
            if (st == SL_OK)
                st = new_node(p, AST_BINARY, lhs->off, end_of(rhs), &e);
            if (st != SL_OK)
                break;
            e->u.binary.op = (enum ast_op)binops[op.kind].op;
            e->u.binary.l = lhs;
            e->u.binary.r = rhs;
        }
        st = grow(p, e, lhs);
        if (st == SL_OK && rhs != NULL)
            st = grow(p, e, rhs);
        lhs = e;
        rhs = NULL;
        last_cmp = prec == PREC_CMP;
    }
out:
    p->depth--;
    *out = lhs;
    return st;
}

/* The first value of a command or list: says what the command wanted. */
static enum sl_status parse_expr(struct parser *p, const char *what,
                                 struct ast_expr **out)
{
    int i = p->cur.kind == LEX_IDENT && p->cur.line_start
                ? command_index(p->text + p->cur.off, p->cur.len) : -1;

    /* "stats count(*) by" then a new line "sort x": the user forgot the
     * value, the new line is the next command */
    if (!starts_value(p->cur.kind) ||
        (i >= 0 && commands[i].support != CMD_UNSUPPORTED &&
         p->have_prev && p->prev.kind == LEX_IDENT))
        return fail_expected(p, what);
    return parse_binary(p, 0, out);
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */

/* A name after 'as' (or in a parse list): identifier or `quoted`. */
static enum sl_status parse_name(struct parser *p, const char **name,
                                 size_t *len, uint32_t *off)
{
    if (p->cur.kind == LEX_QIDENT) {
        *name = decode_cur(p, len, NULL);
    } else if (p->cur.kind == LEX_IDENT) {
        *len = p->cur.len;
        *name = copy(p, p->text + p->cur.off, *len);
    } else {
        return fail_expected(p, "a field name");
    }
    if (*name == NULL)
        return fail_nomem(p);
    *off = p->cur.off;
    return next(p);
}

enum item_opts { ITEM_PLAIN = 0, ITEM_ALIAS = 1, ITEM_DIR = 2 };

/* expr [as name] [asc|desc] {, ...}; stops before anything else. */
static enum sl_status parse_items(struct parser *p, unsigned opts,
                                  const char *what, struct ast_item **items,
                                  size_t *n)
{
    size_t cap = 0;
    enum sl_status st = SL_OK;

    *items = NULL;
    *n = 0;
    for (;;) {
        struct ast_item it = {0};
        st = parse_expr(p, what, &it.expr);
        if (st != SL_OK)
            return st;
        if ((opts & ITEM_ALIAS) && is_word(p, "as")) {
            st = next(p);
            if (st == SL_OK)
                st = parse_name(p, &it.alias, &it.alias_len, &it.alias_off);
            if (st != SL_OK)
                return st;
        }
        if ((opts & ITEM_DIR) && (is_word(p, "asc") || is_word(p, "desc"))) {
            it.dir = is_word(p, "asc") ? AST_SORT_ASC : AST_SORT_DESC;
            st = next(p);
            if (st != SL_OK)
                return st;
        }
        *items = ast_grow(p->a, *items, *n, &cap, sizeof(it));
        if (*items == NULL)
            return fail_nomem(p);
        (*items)[(*n)++] = it;
        if (p->cur.kind != LEX_COMMA)
            return SL_OK;
        st = next(p);
        if (st != SL_OK)
            return st;
        what = "a field name or expression";
    }
}

static enum sl_status parse_stats(struct parser *p, struct ast_cmd *c)
{
    enum sl_status st;

    if (is_word(p, "by"))
        return fail_expected(p, "an aggregation such as count(*)");
    st = parse_items(p, ITEM_ALIAS, "an aggregation such as count(*)",
                     &c->u.stats.aggs, &c->u.stats.naggs);
    if (st != SL_OK)
        return st;
    if (is_word(p, "group")) {
        st = next(p);
        if (st != SL_OK)
            return st;
        if (!is_word(p, "by"))
            return fail_expected(p, "'by'");
    }
    if (!is_word(p, "by"))
        return SL_OK;
    st = next(p);
    if (st != SL_OK)
        return st;
    return parse_items(p, ITEM_ALIAS, "a field name or expression",
                       &c->u.stats.by, &c->u.stats.nby);
}

static enum sl_status parse_sort(struct parser *p, struct ast_cmd *c)
{
    enum sl_status st = SL_OK;

    /* "sort by x" is an observed alias of "sort x" */
    if (is_word(p, "by") && starts_value(peek2(p).kind))
        st = next(p);
    if (st != SL_OK)
        return st;
    return parse_items(p, ITEM_ALIAS | ITEM_DIR, "a field name or expression",
                       &c->u.sort.keys, &c->u.sort.n);
}

static enum sl_status parse_limit(struct parser *p, struct ast_cmd *c)
{
    enum sl_status st = SL_OK;
    int64_t v = 0;

    if (is_word(p, "any") && peek2(p).kind == LEX_NUMBER) {
        c->u.limit.any = true;
        st = next(p);
        if (st != SL_OK)
            return st;
    }
    if (p->cur.kind != LEX_NUMBER)
        return fail_expected(p, "a whole number of rows");
    for (uint32_t i = 0; i < p->cur.len; i++) {
        char ch = p->text[p->cur.off + i];
        if (ch < '0' || ch > '9')
            return fail_expected(p, "a whole number of rows");
        if (v > (INT64_MAX - 9) / 10)
            return fail_at(p, p->cur.off, "limit %.*s is too large",
                           (int)p->cur.len, p->text + p->cur.off);
        v = v * 10 + (ch - '0');
    }
    c->u.limit.n = v;
    c->u.limit.n_off = p->cur.off;
    return next(p);
}

static enum sl_status parse_parse(struct parser *p, struct ast_cmd *c)
{
    enum sl_status st = relex(p, LEX_MODE_VALUE);
    size_t cap = 0;

    if (st == SL_OK && (p->cur.kind == LEX_IDENT ||
                        p->cur.kind == LEX_QIDENT)) {
        st = parse_field_token(p, &c->u.parse.source);
        if (st == SL_OK)
            st = relex(p, LEX_MODE_VALUE);
    }
    if (st != SL_OK)
        return st;
    if (is_word(p, "logfmt") || is_word(p, "csv"))
        return fail_at(p, p->cur.off, "'parse ... %.*s' is not supported",
                       (int)p->cur.len, p->text + p->cur.off);
    if (p->cur.kind != LEX_STRING && p->cur.kind != LEX_REGEX)
        return fail_expected(p, "a \"glob*\" pattern or a /regex/");
    st = parse_text_literal(p, &c->u.parse.pattern);
    if (st != SL_OK)
        return st;
    if (is_word(p, "multi"))
        return fail_at(p, p->cur.off, "'parse ... multi' is not supported");
    if (!is_word(p, "as")) {
        if (c->u.parse.pattern->kind == AST_STRING)
            return fail_expected(p, "'as' and one field name for each *");
        return SL_OK;
    }
    c->u.parse.names_written = true;
    st = next(p);
    while (st == SL_OK) {
        struct ast_name nm = {0};
        st = parse_name(p, &nm.name, &nm.len, &nm.off);
        if (st != SL_OK)
            return st;
        c->u.parse.names = ast_grow(p->a, c->u.parse.names, c->u.parse.nnames,
                                    &cap, sizeof(nm));
        if (c->u.parse.names == NULL)
            return fail_nomem(p);
        c->u.parse.names[c->u.parse.nnames++] = nm;
        if (p->cur.kind != LEX_COMMA)
            break;
        st = next(p);
    }
    return st;
}

static enum sl_status parse_dedup(struct parser *p, struct ast_cmd *c)
{
    size_t cap = 0;
    enum sl_status st = SL_OK;

    while (st == SL_OK) {
        struct ast_item it = {0};
        if (p->cur.kind != LEX_IDENT && p->cur.kind != LEX_QIDENT)
            return fail_expected(p, "a field name");
        st = parse_field_token(p, &it.expr);
        if (st != SL_OK)
            return st;
        c->u.list.items = ast_grow(p->a, c->u.list.items, c->u.list.n, &cap,
                                   sizeof(it));
        if (c->u.list.items == NULL)
            return fail_nomem(p);
        c->u.list.items[c->u.list.n++] = it;
        if (p->cur.kind != LEX_COMMA)
            break;
        st = next(p);
    }
    return st;
}

static enum sl_status parse_command(struct parser *p, struct ast_cmd **out)
{
    struct ast_cmd *c;
    enum sl_status st;
    int i;

    if (p->cur.kind != LEX_IDENT)
        return fail_expected(p, "a command such as fields, filter or stats");
    i = command_index(p->text + p->cur.off, p->cur.len);
    if (i < 0)
        return fail_at(p, p->cur.off, "unknown command '%.*s'; expected "
                       "fields, display, filter, stats, sort, limit, parse, "
                       "dedup or pattern", (int)(p->cur.len > 40 ? 40
                                                 : p->cur.len),
                       p->text + p->cur.off);
    if (commands[i].support == CMD_UNSUPPORTED)
        return fail_at(p, p->cur.off, "command '%s' is not supported",
                       commands[i].name);
    if (commands[i].support == CMD_HEADER)
        return fail_at(p, p->cur.off, "SOURCE may only begin the query");
    c = arena_alloc(p->a, sizeof(*c));
    if (c == NULL)
        return fail_nomem(p);
    memset(c, 0, sizeof(*c));
    c->kind = commands[i].kind;
    c->off = p->cur.off;
    c->len = p->cur.len;
    *out = c;
    st = next(p);
    if (st != SL_OK)
        return st;
    switch (c->kind) {
    case AST_CMD_FIELDS:
    case AST_CMD_DISPLAY:
        return parse_items(p, ITEM_ALIAS, "a field name or expression",
                           &c->u.list.items, &c->u.list.n);
    case AST_CMD_FILTER:
        c->u.filter.index_only = commands[i].support == CMD_INDEX;
        return parse_expr(p, "a condition", &c->u.filter.cond);
    case AST_CMD_STATS:
        return parse_stats(p, c);
    case AST_CMD_SORT:
        return parse_sort(p, c);
    case AST_CMD_LIMIT:
        return parse_limit(p, c);
    case AST_CMD_PARSE:
        return parse_parse(p, c);
    case AST_CMD_DEDUP:
        return parse_dedup(p, c);
    case AST_CMD_PATTERN:
        return parse_expr(p, "a field name or expression",
                          &c->u.pattern.expr);
    }
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* SOURCE header                                                        */

static enum sl_status push_string(struct parser *p, struct ast_strlist *l,
                                  size_t *cap, size_t *cap_off)
{
    size_t n;
    const char *str = decode_cur(p, &n, NULL);

    if (str == NULL)
        return fail_nomem(p);
    l->s = ast_grow(p->a, l->s, l->n, cap, sizeof(*l->s));
    if (l->s == NULL)
        return fail_nomem(p);
    l->off = ast_grow(p->a, l->off, l->n, cap_off, sizeof(*l->off));
    if (l->off == NULL)
        return fail_nomem(p);
    l->s[l->n] = str;
    l->off[l->n++] = p->cur.off;
    return next(p);
}

/* "s" or ["s", ...] into l. */
static enum sl_status parse_string_list(struct parser *p,
                                        struct ast_strlist *l)
{
    size_t cap = 0, cap_off = 0;
    enum sl_status st = SL_OK;

    if (p->cur.kind == LEX_STRING)
        return push_string(p, l, &cap, &cap_off);
    if (p->cur.kind != LEX_LBRACKET)
        return fail_expected(p, "a [list] of \"strings\"");
    st = next(p);
    while (st == SL_OK && p->cur.kind != LEX_RBRACKET) {
        if (p->cur.kind != LEX_STRING)
            return fail_expected(p, "a \"string\"");
        st = push_string(p, l, &cap, &cap_off);
        if (st == SL_OK && p->cur.kind == LEX_COMMA)
            st = next(p);
        else if (st == SL_OK && p->cur.kind != LEX_RBRACKET)
            return fail_expected(p, "',' or ']'");
    }
    return st == SL_OK ? next(p) : st;
}

/* logGroups( [name: value {, name: value}] ) with cur at '('. */
static enum sl_status parse_log_groups(struct parser *p, struct ast_source *s)
{
    enum sl_status st = next(p);

    s->log_groups = true;
    while (st == SL_OK && p->cur.kind != LEX_RPAREN) {
        struct lex_token key = p->cur;
        if (key.kind != LEX_IDENT)
            return fail_expected(p, "namePrefix:, class: or "
                                    "accountIdentifiers:");
        st = next(p);
        if (st == SL_OK && p->cur.kind != LEX_COLON)
            return fail_expected(p, "':'");
        if (st == SL_OK)
            st = next(p);
        if (st != SL_OK)
            return st;
        if (lex_is_word(p->text, &key, "namePrefix")) {
            st = parse_string_list(p, &s->prefixes);
        } else if (lex_is_word(p->text, &key, "accountIdentifiers")) {
            st = parse_string_list(p, &s->accounts);
        } else if (lex_is_word(p->text, &key, "class")) {
            size_t n;
            if (p->cur.kind != LEX_STRING)
                return fail_expected(p, "\"STANDARD\" or \"INFREQUENT_ACCESS\"");
            s->class_off = p->cur.off;
            s->class_name = decode_cur(p, &n, NULL);
            if (s->class_name == NULL)
                return fail_nomem(p);
            st = next(p);
        } else {
            return fail_at(p, key.off, "unknown logGroups() argument '%.*s'; "
                           "expected namePrefix, class or accountIdentifiers",
                           (int)(key.len > 40 ? 40 : key.len),
                           p->text + key.off);
        }
        if (st == SL_OK && p->cur.kind == LEX_COMMA)
            st = next(p);
        else if (st == SL_OK && p->cur.kind != LEX_RPAREN)
            return fail_expected(p, "',' or ')'");
    }
    return st == SL_OK ? next(p) : st;
}

/* START=... or END=... with cur at the keyword. */
static enum sl_status parse_time(struct parser *p, struct ast_time *t)
{
    struct lex_token key = p->cur;
    enum sl_status st;

    if (t->kind != AST_TIME_NONE)
        return fail_at(p, key.off, "%.*s is given twice", (int)key.len,
                       p->text + key.off);
    st = next(p);
    if (st == SL_OK && p->cur.kind != LEX_EQ)
        return fail_expected(p, "'='");
    if (st == SL_OK)
        st = next(p);
    if (st == SL_OK && p->cur.kind == LEX_MINUS) {
        t->negative = true;
        st = next(p);
        if (st == SL_OK && p->cur.kind != LEX_PERIOD)
            return fail_expected(p, "a time period such as 3600s");
    }
    if (st != SL_OK)
        return st;
    t->off = p->cur.off;
    if (p->cur.kind == LEX_PERIOD) {
        t->kind = AST_TIME_RELATIVE;
        st = lex_period_value(p->text, p->len, &p->cur, &t->rel, p->err);
    } else if (p->cur.kind == LEX_NUMBER) {
        int64_t v = 0;
        for (uint32_t i = 0; i < p->cur.len; i++) {
            char ch = p->text[p->cur.off + i];
            if (ch < '0' || ch > '9' || v > (INT64_MAX - 9) / 10)
                return fail_at(p, p->cur.off, "%.*s must be whole "
                               "milliseconds since the epoch or a time period "
                               "such as -3600s", (int)key.len,
                               p->text + key.off);
            v = v * 10 + (ch - '0');
        }
        t->kind = AST_TIME_EPOCH_MS;
        t->ms = v;
    } else {
        return fail_expected(p, "epoch milliseconds or a time period such "
                                "as -3600s");
    }
    return st == SL_OK ? next(p) : st;
}

static enum sl_status parse_source(struct parser *p, struct ast_source **out)
{
    struct ast_source *s = arena_alloc(p->a, sizeof(*s));
    enum sl_status st;
    size_t cap = 0, cap_off = 0;

    if (s == NULL)
        return fail_nomem(p);
    memset(s, 0, sizeof(*s));
    s->off = p->cur.off;
    *out = s;
    st = next(p);
    if (st != SL_OK)
        return st;
    if (is_word(p, "logGroups") && peek2(p).kind == LEX_LPAREN) {
        st = next(p);
        if (st == SL_OK)
            st = parse_log_groups(p, s);
    } else if (p->cur.kind != LEX_STRING) {
        return fail_expected(p, "a \"log group name\" or logGroups(...)");
    }
    while (st == SL_OK && p->cur.kind == LEX_STRING)
        st = push_string(p, &s->groups, &cap, &cap_off);
    while (st == SL_OK && (is_word(p, "start") || is_word(p, "end")))
        st = parse_time(p, is_word(p, "start") ? &s->start : &s->end);
    return st;
}

/* ------------------------------------------------------------------ */
/* Query                                                                */

enum sl_status parse_query(const char *text, size_t len, struct arena *a,
                           struct ast_query **out, struct sl_err *err)
{
    struct parser p = {0};
    struct ast_query *q;
    struct ast_cmd **tail;
    enum sl_status st;

    *out = NULL;
    if (len > LEX_MAX_TEXT)
        return lex_fail(text, 0, 0, err, "the query is %zu bytes long; at "
                        "most %u are accepted", len, LEX_MAX_TEXT);
    q = arena_alloc(a, sizeof(*q));
    if (q == NULL || (q->text = arena_strndup(a, len ? text : "", len)) ==
                         NULL)
        return sl_fail(err, SL_NOMEM, "out of memory while parsing the query");
    q->len = len;
    q->source = NULL;
    q->first = NULL;
    q->ncmds = 0;
    tail = &q->first;
    p.a = a;
    p.text = q->text;
    p.len = len;
    p.err = err;
    lex_init(&p.lx, p.text, len);
    st = read_cur(&p, LEX_MODE_VALUE);
    if (st == SL_OK && is_word(&p, "source"))
        st = parse_source(&p, &q->source);
    if (st == SL_OK && p.cur.kind == LEX_EOF && q->source == NULL)
        st = fail_at(&p, p.cur.off, "the query is empty: write a command "
                     "such as fields, filter or stats");
    if (st == SL_OK && q->source != NULL && p.cur.kind != LEX_EOF) {
        if (p.cur.kind == LEX_PIPE)
            st = next(&p);
        else if (!at_command_line(&p))
            st = fail_expected(&p, "START=, END= or '|'");
        if (st == SL_OK && p.cur.kind == LEX_EOF)
            st = fail_expected(&p, "a command");
    }
    while (st == SL_OK && p.cur.kind != LEX_EOF) {
        struct ast_cmd *c = NULL;
        st = parse_command(&p, &c);
        if (st != SL_OK)
            break;
        *tail = c;
        tail = &c->next;
        q->ncmds++;
        if (p.cur.kind == LEX_PIPE) {
            st = next(&p);
            if (st == SL_OK && p.cur.kind == LEX_EOF)
                st = fail_expected(&p, "a command");
        } else if (p.cur.kind != LEX_EOF && !at_command_line(&p)) {
            st = fail_expected(&p, "'|' or the end of the query");
        }
    }
    if (st == SL_OK)
        *out = q;
    return st;
}
