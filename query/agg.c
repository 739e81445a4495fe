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

    if (s->distinct == NULL) {
        s->distinct = sl_calloc(1, sizeof(*s->distinct));
        if (s->distinct == NULL)
            return SL_NOMEM;
    }
    if (v->kind == VAL_STR)
        return set_add(s->distinct, v->u.s, v->len, true, a, grew);
    buf_init(&b, 64);
    st = val_format(v, &b);
    if (st == SL_OK)
        st = set_add(s->distinct, b.data ? b.data : "", b.len, true, a, grew);
    buf_fini(&b);
    return st;
}

/* ---- pct -------------------------------------------------------------- */

static enum sl_status nums_push(struct agg_state *s, double d, size_t *grew)
{
    if (s->nnums == s->capnums) {
        size_t cap = s->capnums ? s->capnums * 2 : 64;
        double *p = sl_realloc(s->nums, cap * sizeof(*p));
        if (p == NULL)
            return SL_NOMEM;
        *grew += (cap - s->capnums) * sizeof(*p);
        s->nums = p;
        s->capnums = cap;
    }
    s->nums[s->nnums++] = d;
    return SL_OK;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- taking values ---------------------------------------------------- */

/* Keeps v in s when better says so (copying its bytes into a). */
static enum sl_status keep(struct agg_state *s, const struct val *v,
                           struct arena *a, size_t *grew)
{
    enum sl_status st = val_copy(a, v, &s->v);
    if (st == SL_OK) {
        s->set = true;
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
    double d = x - s->mean;
    s->n++;
    s->mean += d / (double)s->n;
    s->m2 += d * (x - s->mean);
    return SL_OK;
}

enum sl_status agg_add(struct agg_state *s, const struct agg_spec *sp,
                       const struct val *v, int64_t ts, struct arena *a,
                       size_t *grew)
{
    double d;

    if (sp->fn == FN_COUNT && sp->arg == NULL) {
        s->n++;
        return SL_OK;
    }
    if (val_is_null(v))
        return SL_OK;
    switch (sp->fn) {
    case FN_COUNT:
        s->n++;
        return SL_OK;
    case FN_COUNT_DISTINCT:
        return distinct_add(s, v, a, grew);
    case FN_SUM:
    case FN_AVG:
        if (val_to_num(v, &d)) {
            s->sum += d;
            s->n++;
        }
        return SL_OK;
    case FN_STDDEV:
        return val_to_num(v, &d) ? add_welford(s, d) : SL_OK;
    case FN_PCT:
        return val_to_num(v, &d) ? nums_push(s, d, grew) : SL_OK;
    case FN_EARLIEST:
    case FN_LATEST:
        if (s->set && (sp->fn == FN_EARLIEST ? ts >= s->ts : ts <= s->ts))
            return SL_OK;
        s->ts = ts;
        return keep(s, v, a, grew);
    default: /* min max sortsFirst sortsLast */
        if (s->set && !extreme_better(sp, v, &s->v))
            return SL_OK;
        return keep(s, v, a, grew);
    }
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
        dst->n += src->n;
        dst->sum += src->sum;
        break;
    case FN_STDDEV:
        if (src->n > 0) {
            /* Chan et al.: combine two (n, mean, M2) triples. */
            double n = (double)dst->n + (double)src->n;
            double delta = src->mean - dst->mean;
            dst->m2 += src->m2 + delta * delta * (double)dst->n * (double)src->n / n;
            dst->mean += delta * (double)src->n / n;
            dst->n += src->n;
        }
        break;
    case FN_PCT:
        for (size_t i = 0; i < src->nnums && st == SL_OK; i++)
            st = nums_push(dst, src->nums[i], grew);
        break;
    case FN_COUNT_DISTINCT:
        if (src->distinct == NULL)
            break;
        /* Keys live in src's arena, which dies after the merge: copy. */
        if (dst->distinct == NULL) {
            dst->distinct = sl_calloc(1, sizeof(*dst->distinct));
            if (dst->distinct == NULL) {
                st = SL_NOMEM;
                break;
            }
        }
        for (size_t i = 0; i < src->distinct->cap && st == SL_OK; i++) {
            if (src->distinct->hashes[i] != 0)
                st = set_add(dst->distinct, src->distinct->keys[i],
                             src->distinct->lens[i], true, a, grew);
        }
        break;
    case FN_EARLIEST:
    case FN_LATEST:
        if (src->set && (!dst->set || (sp->fn == FN_EARLIEST ? src->ts < dst->ts
                                                             : src->ts > dst->ts))) {
            dst->ts = src->ts;
            st = keep(dst, &src->v, a, grew);
        }
        break;
    default:
        if (src->set && (!dst->set || extreme_better(sp, &src->v, &dst->v)))
            st = keep(dst, &src->v, a, grew);
        break;
    }
    agg_free(src);
    memset(src, 0, sizeof(*src));
    return st;
}

struct val agg_result(struct agg_state *s, const struct agg_spec *sp)
{
    switch (sp->fn) {
    case FN_COUNT:
        return val_num((double)s->n);
    case FN_COUNT_DISTINCT:
        return val_num(s->distinct ? (double)s->distinct->n : 0);
    case FN_SUM:
        return s->n ? val_num(s->sum) : val_null();
    case FN_AVG:
        return s->n ? val_num(s->sum / (double)s->n) : val_null();
    case FN_STDDEV:
        if (s->n == 0)
            return val_null();
        return val_num(s->n > 1 ? sqrt(s->m2 / (double)(s->n - 1)) : 0);
    case FN_PCT: {
        size_t rank;
        double p = sp->pct < 0 ? 0 : sp->pct > 100 ? 100 : sp->pct;
        if (s->nnums == 0)
            return val_null();
        qsort(s->nums, s->nnums, sizeof(*s->nums), dbl_cmp);
        /* Nearest rank: the smallest value with at least p% at or below. */
        rank = (size_t)ceil(p / 100.0 * (double)s->nnums);
        return val_num(s->nums[rank == 0 ? 0 : rank - 1]);
    }
    default:
        return s->set ? s->v : val_null();
    }
}

void agg_free(struct agg_state *s)
{
    sl_free(s->nums);
    s->nums = NULL;
    s->nnums = s->capnums = 0;
    set_free(s->distinct);
    s->distinct = NULL;
}
