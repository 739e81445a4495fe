/* query/ast.c: node construction, the pre-order walker and the text dump of
 * a query tree; see ast.h. Knows nothing about parsing or checking. */
#include "query/ast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ast_expr *ast_new_expr(struct arena *a, enum ast_expr_kind kind,
                              uint32_t off, uint32_t len)
{
    struct ast_expr *e = arena_alloc(a, sizeof(*e));

    if (e == NULL)
        return NULL;
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->off = off;
    e->len = len;
    e->height = 1;
    return e;
}

void *ast_grow(struct arena *a, void *items, size_t n, size_t *cap,
               size_t size)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return items;
    ncap = *cap ? *cap * 2 : 4;
    while (ncap <= n && ncap < ((size_t)-1) / 2)
        ncap *= 2;
    if (ncap <= n || ncap > ((size_t)-1) / size)
        return NULL;
    p = arena_alloc(a, ncap * size);
    if (p == NULL)
        return NULL;
    if (n != 0)
        memcpy(p, items, n * size);
    *cap = ncap;
    return p;
}

/* ------------------------------------------------------------------ */
/* Walking                                                              */

static enum ast_walk_ret walk(struct ast_expr *e, struct ast_expr *parent,
                              ast_visit_fn visit, void *ctx);

static enum ast_walk_ret walk_children(struct ast_expr *e, ast_visit_fn visit,
                                       void *ctx)
{
    switch (e->kind) {
    case AST_UNARY:
        return walk(e->u.unary.operand, e, visit, ctx);
    case AST_BINARY:
        if (walk(e->u.binary.l, e, visit, ctx) == AST_WALK_ABORT)
            return AST_WALK_ABORT;
        return walk(e->u.binary.r, e, visit, ctx);
    case AST_LIKE:
    case AST_MATCH:
        if (walk(e->u.like.subject, e, visit, ctx) == AST_WALK_ABORT)
            return AST_WALK_ABORT;
        return walk(e->u.like.pattern, e, visit, ctx);
    case AST_IN:
        if (walk(e->u.in.subject, e, visit, ctx) == AST_WALK_ABORT)
            return AST_WALK_ABORT;
        for (size_t i = 0; i < e->u.in.n; i++)
            if (walk(e->u.in.items[i], e, visit, ctx) == AST_WALK_ABORT)
                return AST_WALK_ABORT;
        return AST_WALK_CONTINUE;
    case AST_CALL:
        for (size_t i = 0; i < e->u.call.nargs; i++)
            if (walk(e->u.call.args[i], e, visit, ctx) == AST_WALK_ABORT)
                return AST_WALK_ABORT;
        return AST_WALK_CONTINUE;
    default:
        return AST_WALK_CONTINUE;
    }
}

static enum ast_walk_ret walk(struct ast_expr *e, struct ast_expr *parent,
                              ast_visit_fn visit, void *ctx)
{
    enum ast_walk_ret r;

    if (e == NULL)
        return AST_WALK_CONTINUE;
    r = visit(e, parent, ctx);
    if (r == AST_WALK_ABORT)
        return r;
    if (r == AST_WALK_PRUNE)
        return AST_WALK_CONTINUE;
    return walk_children(e, visit, ctx);
}

enum ast_walk_ret ast_walk_children(struct ast_expr *e, ast_visit_fn visit,
                                    void *ctx)
{
    return e == NULL ? AST_WALK_CONTINUE : walk_children(e, visit, ctx);
}

enum ast_walk_ret ast_walk(struct ast_expr *e, ast_visit_fn visit, void *ctx)
{
    return walk(e, NULL, visit, ctx);
}

static enum ast_walk_ret walk_items(struct ast_item *items, size_t n,
                                    ast_visit_fn visit, void *ctx)
{
    for (size_t i = 0; i < n; i++)
        if (walk(items[i].expr, NULL, visit, ctx) == AST_WALK_ABORT)
            return AST_WALK_ABORT;
    return AST_WALK_CONTINUE;
}

enum ast_walk_ret ast_walk_cmd(struct ast_cmd *cmd, ast_visit_fn visit,
                               void *ctx)
{
    switch (cmd->kind) {
    case AST_CMD_FIELDS:
    case AST_CMD_DISPLAY:
    case AST_CMD_DEDUP:
        return walk_items(cmd->u.list.items, cmd->u.list.n, visit, ctx);
    case AST_CMD_FILTER:
        return walk(cmd->u.filter.cond, NULL, visit, ctx);
    case AST_CMD_STATS:
        if (walk_items(cmd->u.stats.aggs, cmd->u.stats.naggs, visit, ctx) ==
            AST_WALK_ABORT)
            return AST_WALK_ABORT;
        return walk_items(cmd->u.stats.by, cmd->u.stats.nby, visit, ctx);
    case AST_CMD_SORT:
        return walk_items(cmd->u.sort.keys, cmd->u.sort.n, visit, ctx);
    case AST_CMD_PARSE:
        if (walk(cmd->u.parse.source, NULL, visit, ctx) == AST_WALK_ABORT)
            return AST_WALK_ABORT;
        return walk(cmd->u.parse.pattern, NULL, visit, ctx);
    case AST_CMD_PATTERN:
        return walk(cmd->u.pattern.expr, NULL, visit, ctx);
    case AST_CMD_LIMIT:
        break;
    }
    return AST_WALK_CONTINUE;
}

/* ------------------------------------------------------------------ */
/* Names                                                                */

const char *ast_cmd_name(enum ast_cmd_kind kind)
{
    static const char *const names[] = {
        [AST_CMD_FIELDS] = "fields", [AST_CMD_DISPLAY] = "display",
        [AST_CMD_FILTER] = "filter", [AST_CMD_STATS] = "stats",
        [AST_CMD_SORT] = "sort",     [AST_CMD_LIMIT] = "limit",
        [AST_CMD_PARSE] = "parse",   [AST_CMD_DEDUP] = "dedup",
        [AST_CMD_PATTERN] = "pattern",
    };
    return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind]
                                                              : "?";
}

const char *ast_op_name(enum ast_op op)
{
    static const char *const names[] = {
        [AST_OP_NEG] = "neg", [AST_OP_NOT] = "not", [AST_OP_OR] = "or",
        [AST_OP_AND] = "and", [AST_OP_EQ] = "=",    [AST_OP_NE] = "!=",
        [AST_OP_LT] = "<",    [AST_OP_LE] = "<=",   [AST_OP_GT] = ">",
        [AST_OP_GE] = ">=",   [AST_OP_ADD] = "+",   [AST_OP_SUB] = "-",
        [AST_OP_MUL] = "*",   [AST_OP_DIV] = "/",   [AST_OP_MOD] = "%",
        [AST_OP_POW] = "^",
    };
    return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

const char *ast_expr_text(const struct ast_query *q, const struct ast_expr *e,
                          size_t *len)
{
    *len = e->len;
    return q->text + e->off;
}

/* ------------------------------------------------------------------ */
/* Dump                                                                 */

/* Appends s[0..n) in double quotes with \" \\ \n \t \r \xNN escapes. */
static enum sl_status dump_quoted(struct buf *out, const char *s, size_t n,
                                  char q)
{
    enum sl_status st = buf_putc(out, q);

    for (size_t i = 0; i < n && st == SL_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)q || c == '\\') {
            char esc[2] = {'\\', (char)c};
            st = buf_append(out, esc, 2);
        } else if (c == '\n') {
            st = buf_puts(out, "\\n");
        } else if (c == '\t') {
            st = buf_puts(out, "\\t");
        } else if (c == '\r') {
            st = buf_puts(out, "\\r");
        } else if (c < 0x20 || c == 0x7f) {
            st = buf_printf(out, "\\x%02X", c);
        } else {
            st = buf_putc(out, (char)c);
        }
    }
    return st == SL_OK ? buf_putc(out, q) : st;
}

/* A name the lexer reads back as the same LEX_IDENT. */
static bool is_plain_name(const char *s, size_t n)
{
    static const char *const words[] = {"and", "or", "not", "like", "in"};
    size_t i = 0;

    if (i < n && s[i] == '@')
        i++;
    if (i < n && s[i] == '@')
        i++;
    if (i >= n || !((s[i] >= 'A' && s[i] <= 'Z') ||
                    (s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
        return false;
    for (; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.'))
            return false;
    }
    for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
        if (strlen(words[w]) == n && strncasecmp(s, words[w], n) == 0)
            return false;
    return true;
}

static enum sl_status dump_name(struct buf *out, const char *s, size_t n)
{
    if (is_plain_name(s, n))
        return buf_append(out, s, n);
    return dump_quoted(out, s, n, '`');
}

static enum sl_status dump_number(struct buf *out, const struct ast_expr *e)
{
    char tmp[40];

    if (e->u.num.is_int)
        return buf_printf(out, "%lld", (long long)e->u.num.ivalue);
    /* shortest form that reads back as the same double */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, e->u.num.value);
        if (strtod(tmp, NULL) == e->u.num.value)
            break;
    }
    if (strpbrk(tmp, ".eEni") == NULL)
        return buf_printf(out, "%s.0", tmp);
    return buf_puts(out, tmp);
}

static enum sl_status dump_regex(struct buf *out, const struct ast_expr *e)
{
    const char *p = e->u.regex.pattern;
    size_t n = e->u.regex.len;
    enum sl_status st = buf_putc(out, '/');

    for (size_t i = 0; i < n && st == SL_OK; i++) {
        if (p[i] == '\\' && i + 1 < n) {
            st = buf_append(out, p + i, 2);
            i++;
        } else if (p[i] == '/') {
            st = buf_puts(out, "\\/");
        } else {
            st = buf_putc(out, p[i]);
        }
    }
    if (st == SL_OK)
        st = buf_putc(out, '/');
    if (st == SL_OK && (e->u.regex.flags & LEX_RE_CASELESS))
        st = buf_putc(out, 'i');
    if (st == SL_OK && (e->u.regex.flags & LEX_RE_MULTILINE))
        st = buf_putc(out, 'm');
    if (st == SL_OK && (e->u.regex.flags & LEX_RE_DOTALL))
        st = buf_putc(out, 's');
    if (st == SL_OK && (e->u.regex.flags & LEX_RE_EXTENDED))
        st = buf_putc(out, 'x');
    return st;
}

enum sl_status ast_dump_expr(const struct ast_expr *e, struct buf *out)
{
    enum sl_status st = SL_OK;

    switch (e->kind) {
    case AST_NUMBER:
        return dump_number(out, e);
    case AST_STRING:
        return dump_quoted(out, e->u.str.s, e->u.str.len, '"');
    case AST_PERIOD:
        return buf_printf(out, "%lld%s", (long long)e->u.period.count,
                          lex_unit_name(e->u.period.unit));
    case AST_REGEX:
        return dump_regex(out, e);
    case AST_FIELD:
        return dump_name(out, e->u.field.name, e->u.field.len);
    case AST_STAR:
        return buf_putc(out, '*');
    case AST_UNARY:
        st = buf_printf(out, "(%s ", ast_op_name(e->u.unary.op));
        if (st == SL_OK)
            st = ast_dump_expr(e->u.unary.operand, out);
        break;
    case AST_BINARY:
        st = buf_printf(out, "(%s ", ast_op_name(e->u.binary.op));
        if (st == SL_OK)
            st = ast_dump_expr(e->u.binary.l, out);
        if (st == SL_OK)
            st = buf_putc(out, ' ');
        if (st == SL_OK)
            st = ast_dump_expr(e->u.binary.r, out);
        break;
    case AST_LIKE:
    case AST_MATCH:
        st = buf_puts(out, e->kind == AST_MATCH ? "(=~ "
                           : e->u.like.negated ? "(not-like " : "(like ");
        if (st == SL_OK)
            st = ast_dump_expr(e->u.like.subject, out);
        if (st == SL_OK)
            st = buf_putc(out, ' ');
        if (st == SL_OK)
            st = ast_dump_expr(e->u.like.pattern, out);
        break;
    case AST_IN:
        st = buf_puts(out, e->u.in.negated ? "(not-in " : "(in ");
        if (st == SL_OK)
            st = ast_dump_expr(e->u.in.subject, out);
        if (st == SL_OK)
            st = buf_puts(out, " [");
        for (size_t i = 0; i < e->u.in.n && st == SL_OK; i++) {
            if (i > 0)
                st = buf_puts(out, ", ");
            if (st == SL_OK)
                st = ast_dump_expr(e->u.in.items[i], out);
        }
        if (st == SL_OK)
            st = buf_putc(out, ']');
        break;
    case AST_CALL:
        st = buf_putc(out, '(');
        if (st == SL_OK)
            st = buf_append(out, e->u.call.name, e->u.call.len);
        for (size_t i = 0; i < e->u.call.nargs && st == SL_OK; i++) {
            st = buf_putc(out, ' ');
            if (st == SL_OK)
                st = ast_dump_expr(e->u.call.args[i], out);
        }
        break;
    }
    return st == SL_OK ? buf_putc(out, ')') : st;
}

static enum sl_status dump_items(struct buf *out, const struct ast_item *items,
                                 size_t n)
{
    enum sl_status st = SL_OK;

    for (size_t i = 0; i < n && st == SL_OK; i++) {
        if (i > 0)
            st = buf_puts(out, ", ");
        if (st == SL_OK)
            st = ast_dump_expr(items[i].expr, out);
        if (st == SL_OK && items[i].alias != NULL) {
            st = buf_puts(out, " as ");
            if (st == SL_OK)
                st = dump_name(out, items[i].alias, items[i].alias_len);
        }
        if (st == SL_OK && items[i].dir != AST_SORT_DEFAULT)
            st = buf_puts(out, items[i].dir == AST_SORT_ASC ? " asc" : " desc");
    }
    return st;
}

static enum sl_status dump_strlist(struct buf *out, const struct ast_strlist *l,
                                   const char *sep)
{
    enum sl_status st = SL_OK;

    for (size_t i = 0; i < l->n && st == SL_OK; i++) {
        if (i > 0)
            st = buf_puts(out, sep);
        if (st == SL_OK)
            st = dump_quoted(out, l->s[i], strlen(l->s[i]), '"');
    }
    return st;
}

static enum sl_status dump_time(struct buf *out, const char *key,
                                const struct ast_time *t)
{
    switch (t->kind) {
    case AST_TIME_EPOCH_MS:
        return buf_printf(out, " %s=%lld", key, (long long)t->ms);
    case AST_TIME_RELATIVE:
        return buf_printf(out, " %s=%s%lld%s", key, t->negative ? "-" : "",
                          (long long)t->rel.count, lex_unit_name(t->rel.unit));
    default:
        return SL_OK;
    }
}

static enum sl_status dump_source(struct buf *out, const struct ast_source *s)
{
    enum sl_status st = buf_puts(out, "source");
    bool comma = false;

    if (st == SL_OK && s->groups.n > 0) {
        st = buf_putc(out, ' ');
        if (st == SL_OK)
            st = dump_strlist(out, &s->groups, " ");
    }
    if (st == SL_OK && s->log_groups) {
        st = buf_puts(out, " logGroups(");
        if (st == SL_OK && s->prefixes.n > 0) {
            st = buf_puts(out, "namePrefix: [");
            if (st == SL_OK)
                st = dump_strlist(out, &s->prefixes, ", ");
            if (st == SL_OK)
                st = buf_putc(out, ']');
            comma = true;
        }
        if (st == SL_OK && s->class_name != NULL) {
            st = buf_puts(out, comma ? ", class: " : "class: ");
            if (st == SL_OK)
                st = dump_quoted(out, s->class_name, strlen(s->class_name),
                                 '"');
            comma = true;
        }
        if (st == SL_OK && s->accounts.n > 0) {
            st = buf_puts(out, comma ? ", accountIdentifiers: ["
                                     : "accountIdentifiers: [");
            if (st == SL_OK)
                st = dump_strlist(out, &s->accounts, ", ");
            if (st == SL_OK)
                st = buf_putc(out, ']');
        }
        if (st == SL_OK)
            st = buf_putc(out, ')');
    }
    if (st == SL_OK)
        st = dump_time(out, "start", &s->start);
    if (st == SL_OK)
        st = dump_time(out, "end", &s->end);
    return st == SL_OK ? buf_putc(out, '\n') : st;
}

static enum sl_status dump_names(struct buf *out, const char *lead,
                                 const struct ast_name *names, size_t n)
{
    enum sl_status st = buf_puts(out, lead);

    for (size_t i = 0; i < n && st == SL_OK; i++) {
        if (i > 0)
            st = buf_puts(out, ", ");
        if (st == SL_OK)
            st = dump_name(out, names[i].name, names[i].len);
    }
    return st;
}

static enum sl_status dump_cmd(struct buf *out, const struct ast_cmd *c)
{
    enum sl_status st = buf_puts(out, c->kind == AST_CMD_FILTER &&
                                      c->u.filter.index_only
                                          ? "filterIndex"
                                          : ast_cmd_name(c->kind));
    if (st == SL_OK && c->kind != AST_CMD_LIMIT)
        st = buf_putc(out, ' ');
    if (st != SL_OK)
        return st;
    switch (c->kind) {
    case AST_CMD_FIELDS:
    case AST_CMD_DISPLAY:
    case AST_CMD_DEDUP:
        st = dump_items(out, c->u.list.items, c->u.list.n);
        break;
    case AST_CMD_FILTER:
        st = ast_dump_expr(c->u.filter.cond, out);
        break;
    case AST_CMD_STATS:
        st = dump_items(out, c->u.stats.aggs, c->u.stats.naggs);
        if (st == SL_OK && c->u.stats.nby > 0) {
            st = buf_puts(out, " by ");
            if (st == SL_OK)
                st = dump_items(out, c->u.stats.by, c->u.stats.nby);
        }
        break;
    case AST_CMD_SORT:
        st = dump_items(out, c->u.sort.keys, c->u.sort.n);
        break;
    case AST_CMD_LIMIT:
        st = buf_printf(out, "%s %lld", c->u.limit.any ? " any" : "",
                        (long long)c->u.limit.n);
        break;
    case AST_CMD_PARSE:
        if (c->u.parse.source != NULL)
            st = ast_dump_expr(c->u.parse.source, out);
        else
            st = buf_puts(out, "@message");
        if (st == SL_OK)
            st = buf_puts(out, c->u.parse.pattern->kind == AST_REGEX
                                   ? " regex " : " glob ");
        if (st == SL_OK)
            st = ast_dump_expr(c->u.parse.pattern, out);
        if (st == SL_OK && c->u.parse.nnames > 0)
            st = dump_names(out, c->u.parse.names_written ? " as "
                                                          : " captures ",
                            c->u.parse.names, c->u.parse.nnames);
        break;
    case AST_CMD_PATTERN:
        st = ast_dump_expr(c->u.pattern.expr, out);
        break;
    }
    return st == SL_OK ? buf_putc(out, '\n') : st;
}

enum sl_status ast_dump(const struct ast_query *q, struct buf *out)
{
    enum sl_status st = SL_OK;

    if (q->source != NULL)
        st = dump_source(out, q->source);
    for (const struct ast_cmd *c = q->first; c != NULL && st == SL_OK;
         c = c->next)
        st = dump_cmd(out, c);
    return st;
}
