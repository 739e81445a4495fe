/* query/exec_pattern.c: the pattern command. Each value (the message by
 * default) becomes a template: whitespace-separated tokens, with every
 * token that holds a digit replaced by <*> (for key=value and key:value
 * tokens only the value part). Templates are counted in the stats group
 * table during the scan; at the end, templates with the same number of
 * tokens that agree on at least half of their constant tokens are merged
 * (the differing positions become <*>), a Drain-style clustering standing
 * in for AWS's ML one. Output rows: @pattern, @ratio, @sampleCount,
 * @severityLabel and @logSamples, most frequent first. */
#include "query/exec_int.h"

#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

#define PAT_MAX_TOKENS 128
#define PAT_MAX_OUT    1000   /* templates clustered at the end */

static bool has_digit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            return true;
    }
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Appends one token of the template. */
static enum sl_status put_token(struct buf *b, const char *t, size_t n)
{
    size_t key = 0;
    enum sl_status st = SL_OK;

    if (b->len > 0)
        st = buf_putc(b, ' ');
    if (st != SL_OK || !has_digit(t, n))
        return st == SL_OK ? buf_append(b, t, n) : st;
    while (key < n && t[key] != '=' && t[key] != ':')
        key++;
    if (key > 0 && key < n && !has_digit(t, key + 1))
        st = buf_append(b, t, key + 1);
    return st == SL_OK ? buf_puts(b, "<*>") : st;
}

enum sl_status pat_template(const char *s, size_t len, struct buf *out)
{
    size_t i = 0, ntok = 0;
    enum sl_status st = SL_OK;

    buf_clear(out);
    while (i < len && st == SL_OK) {
        size_t start;
        while (i < len && is_space(s[i]))
            i++;
        start = i;
        while (i < len && !is_space(s[i]))
            i++;
        if (i == start)
            break;
        if (++ntok > PAT_MAX_TOKENS) {
            st = buf_puts(out, " <*>");
            break;
        }
        st = put_token(out, s + start, i - start);
    }
    return st;
}

enum sl_status pat_key(const struct qx *q, const struct stage *s,
                       struct cx_env *env, struct buf *tmpl, struct val *by,
                       struct val *args)
{
    struct val v;
    enum sl_status st = cx_eval(s->source, env, &q->regexes, &v);

    if (st != SL_OK)
        return st;
    by[0] = val_null();
    args[0] = val_null();
    args[1] = v;
    if (v.kind != VAL_STR)
        return SL_OK; /* no text: the row joins the group of absent values */
    st = pat_template(v.u.s, v.len, tmpl);
    if (st == SL_OK)
        by[0] = val_str(tmpl->data ? tmpl->data : "", tmpl->len);
    return st;
}

/* ---- clustering at the end --------------------------------------------- */

struct tmpl {
    char *text;                  /* owned by the arena */
    const char *tok[PAT_MAX_TOKENS + 1];
    size_t toklen[PAT_MAX_TOKENS + 1];
    size_t ntok;
    double count;
    struct val sample;
    bool merged;                 /* folded into another */
};

static void split(struct tmpl *t)
{
    char *p = t->text;
    t->ntok = 0;
    while (*p != '\0' && t->ntok <= PAT_MAX_TOKENS) {
        char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        t->tok[t->ntok] = p;
        t->toklen[t->ntok++] = n;
        p += n + (e ? 1 : 0);
    }
}

static bool tok_eq(const struct tmpl *a, const struct tmpl *b, size_t i)
{
    return a->toklen[i] == b->toklen[i] && memcmp(a->tok[i], b->tok[i], a->toklen[i]) == 0;
}

static bool is_wild(const struct tmpl *t, size_t i)
{
    return t->toklen[i] >= 3 && memcmp(t->tok[i] + t->toklen[i] - 3, "<*>", 3) == 0;
}

/* Same length and at least half of the constant positions agree. */
static bool similar(const struct tmpl *a, const struct tmpl *b)
{
    size_t same = 0, consts = 0;
    if (a->ntok != b->ntok || a->ntok == 0)
        return false;
    for (size_t i = 0; i < a->ntok; i++) {
        if (is_wild(a, i) && is_wild(b, i))
            continue;
        consts++;
        same += tok_eq(a, b, i);
    }
    return consts == 0 || same * 2 >= consts;
}

/* Folds b into a: differing tokens become <*>. */
static enum sl_status fold(struct arena *ar, struct tmpl *a, struct tmpl *b)
{
    struct buf t;
    enum sl_status st = SL_OK;
    char *text;

    buf_init(&t, SIZE_MAX);
    for (size_t i = 0; i < a->ntok && st == SL_OK; i++) {
        if (i > 0)
            st = buf_putc(&t, ' ');
        if (st == SL_OK)
            st = tok_eq(a, b, i) ? buf_append(&t, a->tok[i], a->toklen[i]) : buf_puts(&t, "<*>");
    }
    text = st == SL_OK ? arena_strndup(ar, t.data ? t.data : "", t.len) : NULL;
    buf_fini(&t);
    if (text == NULL)
        return SL_NOMEM;
    a->text = text;
    split(a);
    a->count += b->count;
    b->merged = true;
    return SL_OK;
}

static const char *severity(const struct val *v)
{
    static const struct {
        const char *word, *label;
    } words[] = {
        {"FATAL", "ERROR"}, {"CRITICAL", "ERROR"}, {"ERROR", "ERROR"},
        {"Error", "ERROR"}, {"error", "ERROR"}, {"WARN", "WARN"},
        {"Warn", "WARN"}, {"warn", "WARN"}, {"INFO", "INFO"}, {"Info", "INFO"},
        {"info", "INFO"}, {"DEBUG", "DEBUG"}, {"Debug", "DEBUG"},
        {"debug", "DEBUG"}, {"TRACE", "TRACE"},
    };
    if (v->kind != VAL_STR)
        return "UNKNOWN";
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (memmem(v->u.s, v->len, words[i].word, strlen(words[i].word)) != NULL)
            return words[i].label;
    }
    return "UNKNOWN";
}

static int by_count_desc(const void *a, const void *b)
{
    const struct tmpl *x = a, *y = b;
    return (x->count < y->count) - (x->count > y->count);
}

/* Rows of the pattern stage from its group table (by = template, aggs =
 * count, latest sample). */
enum sl_status pat_rows(struct gtable *g, const struct qx *q,
                        const struct stage *s, struct cx_env *env,
                        struct collector *out)
{
    struct collector tmp;
    struct order o = {0};
    struct arena ar;
    struct tmpl *t;
    struct val *slots = sl_calloc(q->nslots, sizeof(*slots));
    double total = 0;
    size_t n = 0;
    enum sl_status st;

    coll_init(&tmp, &o, 0);
    arena_init(&ar, 64 * 1024, 0);
    t = sl_calloc(PAT_MAX_OUT, sizeof(*t));
    st = (t && slots) ? gt_rows(g, q, env, NULL, &tmp) : SL_NOMEM;
    /* gt_rows put the template in the pattern slot, count and sample in
     * the stats outputs. */
    for (size_t i = 0; i < tmp.n && st == SL_OK; i++) {
        const struct val *pv = &tmp.rows[i]->slots[s->pattern_slots[0]];
        const struct val *cv = &tmp.rows[i]->slots[s->pattern_slots[2]];
        total += cv->kind == VAL_NUM ? cv->u.num : 0;
        if (n == PAT_MAX_OUT || pv->kind != VAL_STR)
            continue;
        t[n].text = arena_strndup(&ar, pv->u.s, pv->len);
        if (t[n].text == NULL || val_copy(&ar, &tmp.rows[i]->slots[s->pattern_slots[4]],
                                          &t[n].sample) != SL_OK) {
            st = SL_NOMEM;
            break;
        }
        t[n].count = cv->kind == VAL_NUM ? cv->u.num : 0;
        split(&t[n]);
        n++;
    }
    if (st == SL_OK)
        qsort(t, n, sizeof(*t), by_count_desc);
    for (size_t i = 0; i < n && st == SL_OK; i++) {
        for (size_t j = i + 1; j < n && st == SL_OK && !t[i].merged; j++) {
            if (!t[j].merged && similar(&t[i], &t[j]))
                st = fold(&ar, &t[i], &t[j]);
        }
    }
    if (st == SL_OK)
        qsort(t, n, sizeof(*t), by_count_desc);
    for (size_t i = 0; i < n && st == SL_OK; i++) {
        struct xrow *r;
        if (t[i].merged)
            continue;
        for (size_t k = 0; k < q->nslots; k++)
            slots[k] = val_null();
        slots[s->pattern_slots[0]] = val_str(t[i].text, strlen(t[i].text));
        slots[s->pattern_slots[1]] = val_num(total > 0 ? t[i].count / total : 0);
        slots[s->pattern_slots[2]] = val_num(t[i].count);
        slots[s->pattern_slots[3]] = val_str(severity(&t[i].sample),
                                             strlen(severity(&t[i].sample)));
        slots[s->pattern_slots[4]] = t[i].sample;
        r = xrow_new(q, slots, NULL, 0);
        if (r == NULL) {
            st = SL_NOMEM;
            break;
        }
        r->seq = (int64_t)i;
        st = coll_add(out, r);
    }
    coll_fini(&tmp);
    arena_fini(&ar);
    sl_free(t);
    sl_free(slots);
    return st;
}
