/* query/exec_rows.c: result rows (one allocation holding the slots, the
 * sort key values and their bytes), their order, and the collector that
 * keeps the first k rows of an order with a heap (top-k for
 * sort ... | limit N and for the newest-first default). */
#include "query/exec_int.h"

#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

static size_t val_bytes(const struct val *v)
{
    return (v->kind == VAL_STR || v->kind == VAL_JSON) ? v->len : 0;
}

static void copy_vals(struct val *dst, const struct val *src, size_t n,
                      char **bytes)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = src[i];
        if (val_bytes(&src[i]) > 0) {
            memcpy(*bytes, src[i].u.s, src[i].len);
            dst[i].u.s = *bytes;
            *bytes += src[i].len;
        }
    }
}

struct xrow *xrow_new(const struct qx *q, const struct val *slots,
                      const struct val *keys, size_t nkeys)
{
    size_t strs = 0, size;
    struct xrow *r;
    char *bytes;

    for (size_t i = 0; i < q->nslots; i++)
        strs += val_bytes(&slots[i]);
    for (size_t i = 0; i < nkeys; i++)
        strs += val_bytes(&keys[i]);
    size = sizeof(*r) + (q->nslots + nkeys) * sizeof(struct val) + strs;
    r = sl_alloc(size);
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->bytes = size;
    r->group = -1;
    bytes = (char *)(r->slots + q->nslots + nkeys);
    copy_vals(r->slots, slots, q->nslots, &bytes);
    copy_vals(r->slots + q->nslots, keys, nkeys, &bytes);
    r->keys = r->slots + q->nslots;
    return r;
}

void xrow_free(struct xrow *r)
{
    sl_free(r);
}

void xrow_copy_origin(struct xrow *dst, const struct xrow *src)
{
    dst->ts = src->ts;
    dst->seq = src->seq;
    dst->stream_id = src->stream_id;
    dst->group = src->group;
    dst->stream_name = src->stream_name;
}

int xrow_cmp(const struct order *o, const struct xrow *a, const struct xrow *b)
{
    if (o->nkeys == 0) {
        int c;
        if (a->ts != b->ts)
            c = a->ts < b->ts ? -1 : 1;
        else if (a->seq != b->seq)
            c = a->seq < b->seq ? -1 : 1;
        else
            c = (a->stream_id > b->stream_id) - (a->stream_id < b->stream_id);
        return o->ts_asc ? c : -c;
    }
    for (size_t i = 0; i < o->nkeys; i++) {
        int c;
        /* Missing values last in both directions. */
        bool an = val_is_null(&a->keys[i]), bn = val_is_null(&b->keys[i]);
        if (an || bn) {
            if (an != bn)
                return an ? 1 : -1;
            continue;
        }
        c = val_natural_cmp(&a->keys[i], &b->keys[i]);
        if (c != 0)
            return o->desc[i] ? -c : c;
    }
    /* Ties: newest first, then by seq, so every run answers the same. */
    if (a->ts != b->ts)
        return a->ts > b->ts ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return (a->stream_id > b->stream_id) - (a->stream_id < b->stream_id);
}

void coll_init(struct collector *c, const struct order *o, size_t k)
{
    memset(c, 0, sizeof(*c));
    c->ord = *o;
    c->k = k;
}

/* Heap of the kept rows with the last one (in order) at the root. */
static void sift_up(struct collector *c, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (xrow_cmp(&c->ord, c->rows[p], c->rows[i]) >= 0)
            break;
        struct xrow *t = c->rows[p];
        c->rows[p] = c->rows[i];
        c->rows[i] = t;
        i = p;
    }
}

static void sift_down(struct collector *c, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < c->n && xrow_cmp(&c->ord, c->rows[l], c->rows[m]) > 0)
            m = l;
        if (r < c->n && xrow_cmp(&c->ord, c->rows[r], c->rows[m]) > 0)
            m = r;
        if (m == i)
            return;
        struct xrow *t = c->rows[m];
        c->rows[m] = c->rows[i];
        c->rows[i] = t;
        i = m;
    }
}

bool coll_wants_ts(const struct collector *c, int64_t max_ts, int64_t min_ts)
{
    const struct xrow *root;
    if (c->k == 0 || c->n < c->k || c->ord.nkeys != 0)
        return true;
    root = c->rows[0];
    return c->ord.ts_asc ? min_ts <= root->ts : max_ts >= root->ts;
}

bool coll_would_take(const struct collector *c, const struct val *keys,
                     int64_t ts, int64_t seq, int64_t stream_id)
{
    struct xrow probe;
    if (c->k == 0 || c->n < c->k)
        return true;
    memset(&probe, 0, sizeof(probe));
    probe.ts = ts;
    probe.seq = seq;
    probe.stream_id = stream_id;
    probe.keys = keys;
    return xrow_cmp(&c->ord, &probe, c->rows[0]) < 0;
}

static enum sl_status push(struct collector *c, struct xrow *r)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        struct xrow **n = sl_realloc(c->rows, cap * sizeof(*n));
        if (n == NULL) {
            xrow_free(r);
            return SL_NOMEM;
        }
        c->mem += (cap - c->cap) * sizeof(*n);
        c->rows = n;
        c->cap = cap;
    }
    c->rows[c->n++] = r;
    c->mem += r->bytes;
    if (c->k > 0)
        sift_up(c, c->n - 1);
    return SL_OK;
}

enum sl_status coll_add(struct collector *c, struct xrow *r)
{
    if (c->k == 0 || c->n < c->k)
        return push(c, r);
    if (xrow_cmp(&c->ord, r, c->rows[0]) >= 0) {
        xrow_free(r);
        return SL_OK;
    }
    c->mem -= c->rows[0]->bytes;
    xrow_free(c->rows[0]);
    c->rows[0] = r;
    c->mem += r->bytes;
    sift_down(c, 0);
    return SL_OK;
}

enum sl_status coll_merge(struct collector *dst, struct collector *src)
{
    enum sl_status st = SL_OK;
    for (size_t i = 0; i < src->n; i++) {
        if (st == SL_OK)
            st = coll_add(dst, src->rows[i]);
        else
            xrow_free(src->rows[i]);
    }
    src->n = 0;
    src->mem = 0;
    return st;
}

static int cmp_r(const void *a, const void *b, void *ctx)
{
    return xrow_cmp(ctx, *(struct xrow *const *)a, *(struct xrow *const *)b);
}

void coll_sort(struct collector *c)
{
    if (c->n > 1)
        qsort_r(c->rows, c->n, sizeof(*c->rows), cmp_r, &c->ord);
}

void coll_fini(struct collector *c)
{
    for (size_t i = 0; i < c->n; i++)
        xrow_free(c->rows[i]);
    sl_free(c->rows);
    memset(c, 0, sizeof(*c));
}
