/* query/agg.c: stats aggregation states; see agg.h. */
#include "query/agg.h"

#include "common/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- count_distinct: an open-addressing set of value texts ------------ */

struct agg_set {
    uint64_t *hashes;            /* 0 = empty slot */
    const char **keys;
    uint32_t *lens;
    size_t n, cap;
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ? h : 1;
}

static enum sl_status set_grow(struct agg_set *s, size_t *grew)
{
    size_t cap = s->cap ? s->cap * 2 : 16;
    uint64_t *h = sl_calloc(cap, sizeof(*h));
    const char **k = sl_calloc(cap, sizeof(*k));
    uint32_t *l = sl_calloc(cap, sizeof(*l));

    if (h == NULL || k == NULL || l == NULL) {
        sl_free(h);
        sl_free(k);
        sl_free(l);
        return SL_NOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        size_t j;
        if (s->hashes[i] == 0)
            continue;
        for (j = s->hashes[i] & (cap - 1); h[j] != 0; j = (j + 1) & (cap - 1))
            ;
        h[j] = s->hashes[i];
        k[j] = s->keys[i];
        l[j] = s->lens[i];
    }
    sl_free(s->hashes);
    sl_free(s->keys);
    sl_free(s->lens);
    s->hashes = h;
    s->keys = k;
    s->lens = l;
    *grew += (cap - s->cap) * (sizeof(*h) + sizeof(*k) + sizeof(*l));
    s->cap = cap;
    return SL_OK;
}

/* Adds key (copied into a when new). */
static enum sl_status set_add(struct agg_set *s, const char *key, size_t len,
                              bool copy, struct arena *a, size_t *grew)
{
    uint64_t h = hash_bytes(key, len);
    size_t j;

    if ((s->n + 1) * 4 > s->cap * 3) {
        enum sl_status st = set_grow(s, grew);
        if (st != SL_OK)
            return st;
    }
    for (j = h & (s->cap - 1); s->hashes[j] != 0; j = (j + 1) & (s->cap - 1)) {
        if (s->hashes[j] == h && s->lens[j] == len && memcmp(s->keys[j], key, len) == 0)
            return SL_OK;
    }
    if (copy) {
        char *p = arena_alloc(a, len ? len : 1);
        if (p == NULL)
            return SL_NOMEM;
        memcpy(p, key, len);
        key = p;
        *grew += len;
    }
    s->hashes[j] = h;
    s->keys[j] = key;
    s->lens[j] = (uint32_t)len;
    s->n++;
    return SL_OK;
}

static void set_free(struct agg_set *s)
{
    if (s == NULL)
        return;
    sl_free(s->hashes);
    sl_free(s->keys);
    sl_free(s->lens);
    sl_free(s);
}

static enum sl_status distinct_add(struct agg_state *s, const struct val *v,
                                   struct arena *a, size_t *grew)
{
    struct buf b;
    enum sl_status st;

    if (s->u.distinct == NULL) {
        s->u.distinct = sl_calloc(1, sizeof(*s->u.distinct));
        if (s->u.distinct == NULL)
            return SL_NOMEM;
    }
    if (v->kind == VAL_STR)
        return set_add(s->u.distinct, v->u.s, v->len, true, a, grew);
    buf_init(&b, 64);
    st = val_format(v, &b);
    if (st == SL_OK)
        st = set_add(s->u.distinct, b.data ? b.data : "", b.len, true, a, grew);
    buf_fini(&b);
    return st;
}

/* ---- pct -------------------------------------------------------------- */

static enum sl_status nums_push(struct agg_state *s, double d, size_t *grew)
{
    if (s->u.pct.n == s->u.pct.cap) {
        uint32_t cap = s->u.pct.cap ? s->u.pct.cap * 2 : 64;
        double *p = sl_realloc(s->u.pct.nums, (size_t)cap * sizeof(*p));
        if (p == NULL || cap < s->u.pct.cap)
            return SL_NOMEM;
        *grew += (size_t)(cap - s->u.pct.cap) * sizeof(*p);
        s->u.pct.nums = p;
        s->u.pct.cap = cap;
    }
    s->u.pct.nums[s->u.pct.n++] = d;
    return SL_OK;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- taking values ---------------------------------------------------- */

/* Keeps v in s (copying its bytes into a). */
static enum sl_status keep(struct agg_state *s, const struct val *v,
                           struct arena *a, size_t *grew)
{
    enum sl_status st = val_copy(a, v, &s->u.pick.v);
    if (st == SL_OK) {
        s->u.pick.set = true;
        if (v->kind == VAL_STR || v->kind == VAL_JSON)
            *grew += v->len;
    }
    return st;
}

static bool extreme_better(const struct agg_spec *sp, const struct val *v,
                           const struct val *cur)
{
    int c;
    switch (sp->fn) {
    case FN_MIN:
        return val_compare(v, cur, &c) && c < 0;
    case FN_MAX:
        return val_compare(v, cur, &c) && c > 0;
    case FN_SORTSFIRST:
        return val_natural_cmp(v, cur) < 0;
    default: /* FN_SORTSLAST */
        return val_natural_cmp(v, cur) > 0;
    }
}

static enum sl_status add_welford(struct agg_state *s, double x)
{
    double d = x - s->u.var.mean;
    s->u.var.n++;
    s->u.var.mean += d / (double)s->u.var.n;
    s->u.var.m2 += d * (x - s->u.var.mean);
    return SL_OK;
}

enum sl_status agg_add(struct agg_state *s, const struct agg_spec *sp,
                       const struct val *v, int64_t ts, struct arena *a,
                       size_t *grew)
{
    double d;

    if (sp->fn == FN_COUNT && sp->arg == NULL) {
        s->u.cnt.n++;
        return SL_OK;
    }
    if (val_is_null(v))
        return SL_OK;
    switch (sp->fn) {
    case FN_COUNT:
        s->u.cnt.n++;
        return SL_OK;
    case FN_COUNT_DISTINCT:
        return distinct_add(s, v, a, grew);
    case FN_SUM:
    case FN_AVG:
        if (val_to_num(v, &d)) {
            s->u.cnt.sum += d;
            s->u.cnt.n++;
        }
        return SL_OK;
    case FN_STDDEV:
        return val_to_num(v, &d) ? add_welford(s, d) : SL_OK;
    case FN_PCT:
        return val_to_num(v, &d) ? nums_push(s, d, grew) : SL_OK;
    case FN_EARLIEST:
    case FN_LATEST:
        if (s->u.pick.set && (sp->fn == FN_EARLIEST ? ts >= s->u.pick.ts : ts <= s->u.pick.ts))
            return SL_OK;
        s->u.pick.ts = ts;
        return keep(s, v, a, grew);
    default: /* min max sortsFirst sortsLast */
        if (s->u.pick.set && !extreme_better(sp, v, &s->u.pick.v))
            return SL_OK;
        return keep(s, v, a, grew);
    }
}

static enum sl_status merge_distinct(struct agg_state *dst, struct agg_state *src,
                                     struct arena *a, size_t *grew)
{
    struct agg_set *from = src->u.distinct;
    enum sl_status st = SL_OK;

    if (from == NULL)
        return SL_OK;
    /* Keys live in src's arena, which dies after the merge: copy. */
    if (dst->u.distinct == NULL) {
        dst->u.distinct = sl_calloc(1, sizeof(*dst->u.distinct));
        if (dst->u.distinct == NULL)
            return SL_NOMEM;
    }
    for (size_t i = 0; i < from->cap && st == SL_OK; i++) {
        if (from->hashes[i] != 0)
            st = set_add(dst->u.distinct, from->keys[i], from->lens[i], true, a, grew);
    }
    return st;
}

enum sl_status agg_merge(struct agg_state *dst, struct agg_state *src,
                         const struct agg_spec *sp, struct arena *a,
                         size_t *grew)
{
    enum sl_status st = SL_OK;

    switch (sp->fn) {
    case FN_COUNT:
    case FN_SUM:
    case FN_AVG:
        dst->u.cnt.n += src->u.cnt.n;
        dst->u.cnt.sum += src->u.cnt.sum;
        break;
    case FN_STDDEV:
        if (src->u.var.n > 0) {
            /* Chan et al.: combine two (n, mean, M2) triples. */
            double na = (double)dst->u.var.n, nb = (double)src->u.var.n, n = na + nb;
            double delta = src->u.var.mean - dst->u.var.mean;
            dst->u.var.m2 += src->u.var.m2 + delta * delta * na * nb / n;
            dst->u.var.mean += delta * nb / n;
            dst->u.var.n += src->u.var.n;
        }
        break;
    case FN_PCT:
        for (uint32_t i = 0; i < src->u.pct.n && st == SL_OK; i++)
            st = nums_push(dst, src->u.pct.nums[i], grew);
        break;
    case FN_COUNT_DISTINCT:
        st = merge_distinct(dst, src, a, grew);
        break;
    case FN_EARLIEST:
    case FN_LATEST:
        if (src->u.pick.set &&
            (!dst->u.pick.set || (sp->fn == FN_EARLIEST ? src->u.pick.ts < dst->u.pick.ts
                                                        : src->u.pick.ts > dst->u.pick.ts))) {
            dst->u.pick.ts = src->u.pick.ts;
            st = keep(dst, &src->u.pick.v, a, grew);
        }
        break;
    default:
        if (src->u.pick.set &&
            (!dst->u.pick.set || extreme_better(sp, &src->u.pick.v, &dst->u.pick.v)))
            st = keep(dst, &src->u.pick.v, a, grew);
        break;
    }
    agg_free(src, sp);
    memset(src, 0, sizeof(*src));
    return st;
}

struct val agg_result(struct agg_state *s, const struct agg_spec *sp)
{
    switch (sp->fn) {
    case FN_COUNT:
        return val_num((double)s->u.cnt.n);
    case FN_COUNT_DISTINCT:
        return val_num(s->u.distinct ? (double)s->u.distinct->n : 0);
    case FN_SUM:
        return s->u.cnt.n ? val_num(s->u.cnt.sum) : val_null();
    case FN_AVG:
        return s->u.cnt.n ? val_num(s->u.cnt.sum / (double)s->u.cnt.n) : val_null();
    case FN_STDDEV:
        if (s->u.var.n == 0)
            return val_null();
        return val_num(s->u.var.n > 1 ? sqrt(s->u.var.m2 / (double)(s->u.var.n - 1)) : 0);
    case FN_PCT: {
        size_t rank, n = s->u.pct.n;
        double p = sp->pct < 0 ? 0 : sp->pct > 100 ? 100 : sp->pct;
        if (n == 0)
            return val_null();
        qsort(s->u.pct.nums, n, sizeof(double), dbl_cmp);
        /* Nearest rank: the smallest value with at least p% at or below. */
        rank = (size_t)ceil(p / 100.0 * (double)n);
        return val_num(s->u.pct.nums[rank == 0 ? 0 : rank - 1]);
    }
    default:
        return s->u.pick.set ? s->u.pick.v : val_null();
    }
}

bool agg_allocates(const struct agg_spec *sp)
{
    return sp->fn == FN_PCT || sp->fn == FN_COUNT_DISTINCT;
}

void agg_free(struct agg_state *s, const struct agg_spec *sp)
{
    if (sp->fn == FN_PCT) {
        sl_free(s->u.pct.nums);
        s->u.pct.nums = NULL;
        s->u.pct.n = s->u.pct.cap = 0;
    } else if (sp->fn == FN_COUNT_DISTINCT) {
        set_free(s->u.distinct);
        s->u.distinct = NULL;
    }
}
