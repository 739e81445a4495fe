/* query/exec_groups.c: the hash table of stats groups. A group's key is
 * its by values encoded as bytes (kind, then the 8 bytes of a number or
 * time, or a length and the text of a string); each group holds one
 * aggregation state per aggregation of the stats. Scan threads fill tables
 * of their own; gt_merge folds them together; gt_rows turns groups into
 * output rows. */
#include "query/exec_int.h"

#include "common/alloc.h"

#include <string.h>

struct xgroup {
    struct xgroup *next;         /* insertion order */
    uint64_t hash;
    uint32_t keylen;
    const char *key;
    struct val *by;              /* copies of the by values */
    struct agg_state st[];       /* one per aggregation */
};

void gt_init(struct gtable *g, const struct stats_plan *sp)
{
    memset(g, 0, sizeof(*g));
    g->sp = sp;
    g->tail = &g->first;
    arena_init(&g->arena, 64 * 1024, 0);
}

void gt_fini(struct gtable *g)
{
    for (size_t i = 0; g->sp != NULL && i < g->sp->naggs; i++) {
        if (!agg_allocates(&g->sp->aggs[i]))
            continue;
        for (struct xgroup *x = g->first; x != NULL; x = x->next)
            agg_free(&x->st[i], &g->sp->aggs[i]);
    }
    sl_free(g->buckets);
    arena_fini(&g->arena);
    memset(g, 0, sizeof(*g));
}

static uint64_t hash_key(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* Encodes by values into key (at most cap bytes); returns the length, or
 * 0 when it does not fit (the caller falls back to a heap buffer). */
static size_t encode_key(const struct val *by, size_t n, char *key, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const struct val *v = &by[i];
        size_t need = 1 + ((v->kind == VAL_STR || v->kind == VAL_JSON) ? 4 + v->len
                           : v->kind == VAL_NULL ? 0 : 8);
        if (len + need > cap)
            return 0;
        key[len++] = (char)v->kind;
        if (v->kind == VAL_NUM) {
            double d = v->u.num == 0 ? 0 : v->u.num; /* -0 and 0 group together */
            memcpy(key + len, &d, 8);
            len += 8;
        } else if (v->kind == VAL_TIME) {
            memcpy(key + len, &v->u.ms, 8);
            len += 8;
        } else if (v->kind == VAL_BOOL) {
            int64_t b = v->u.b;
            memcpy(key + len, &b, 8);
            len += 8;
        } else if (v->kind == VAL_STR || v->kind == VAL_JSON) {
            uint32_t l = v->len;
            memcpy(key + len, &l, 4);
            memcpy(key + len + 4, v->u.s, v->len);
            len += 4 + v->len;
        }
    }
    return len;
}

/* Whether two encoded keys of n bytes are equal. Most keys are one number
 * or a short string (9 to 16 bytes): two overlapping 8-byte loads instead
 * of a call to memcmp, which was a twentieth of `stats ... by bin(5m)`. */
static bool key_eq(const char *a, const char *b, size_t n)
{
    uint64_t a0, b0, a1, b1;

    if (n < 8 || n > 16)
        return memcmp(a, b, n) == 0;
    memcpy(&a0, a, 8);
    memcpy(&b0, b, 8);
    memcpy(&a1, a + n - 8, 8);
    memcpy(&b1, b + n - 8, 8);
    return a0 == b0 && a1 == b1;
}

/* Open addressing with linear probing over (hash, group) pairs: a probe
 * compares hashes without touching the group, so a miss costs one cache
 * line, not one per chained group. */
struct gslot {
    uint64_t hash;
    struct xgroup *g;            /* NULL: empty */
};

static enum sl_status grow(struct gtable *g)
{
    size_t nb = g->nbuckets ? g->nbuckets * 2 : 64;
    struct gslot *b = sl_calloc(nb, sizeof(*b));

    if (b == NULL)
        return SL_NOMEM;
    /* from the old slots, which hold the hashes: walking the groups would
     * touch every one of them */
    for (size_t j = 0; j < g->nbuckets; j++) {
        size_t i;
        if (g->buckets[j].g == NULL)
            continue;
        i = g->buckets[j].hash & (nb - 1);
        while (b[i].g != NULL)
            i = (i + 1) & (nb - 1);
        b[i] = g->buckets[j];
    }
    g->mem += (nb - g->nbuckets) * sizeof(*b);
    sl_free(g->buckets);
    g->buckets = b;
    g->nbuckets = nb;
    return SL_OK;
}

/* The group of key in g, or NULL and in *slot where it would go; makes
 * room for one more group first. */
static enum sl_status find(struct gtable *g, const char *key, size_t keylen,
                           uint64_t h, struct xgroup **found, size_t *slot)
{
    struct gslot *slots;
    size_t i;

    if ((g->n + 1) * 2 > g->nbuckets && grow(g) != SL_OK)
        return SL_NOMEM;
    slots = g->buckets;
    for (i = h & (g->nbuckets - 1); slots[i].g != NULL; i = (i + 1) & (g->nbuckets - 1)) {
        struct xgroup *x = slots[i].g;
        if (slots[i].hash == h && x->keylen == keylen && key_eq(x->key, key, keylen)) {
            *found = x;
            return SL_OK;
        }
    }
    *found = NULL;
    *slot = i;
    return SL_OK;
}

/* Puts group x (key, hash and states set) in the empty slot i of g and at
 * the end of its list. */
static void place(struct gtable *g, size_t i, struct xgroup *x)
{
    g->buckets[i].hash = x->hash;
    g->buckets[i].g = x;
    x->next = NULL;
    *g->tail = x;
    g->tail = &x->next;
    g->n++;
    g->mem += sizeof(*x) + g->sp->naggs * sizeof(struct agg_state) +
              2 * x->keylen + 64;
}

/* Finds the group of key, creating it (with copies of by) when new. */
static enum sl_status lookup(struct gtable *g, const char *key, size_t keylen,
                             uint64_t h, const struct val *by,
                             struct xgroup **out)
{
    size_t naggs = g->sp->naggs, nby = g->sp->nby;
    struct xgroup *x;
    char *k;
    size_t i;
    enum sl_status st = find(g, key, keylen, h, &x, &i);

    if (st != SL_OK || x != NULL) {
        *out = x;
        return st;
    }
    /* the key right behind the group: a hit reads one place, not two */
    x = arena_alloc(&g->arena, sizeof(*x) + naggs * sizeof(struct agg_state) +
                                   keylen);
    if (x == NULL)
        return SL_NOMEM;
    k = (char *)x + sizeof(*x) + naggs * sizeof(struct agg_state);
    memset(x, 0, sizeof(*x) + naggs * sizeof(struct agg_state));
    x->by = arena_alloc(&g->arena, (nby ? nby : 1) * sizeof(*x->by));
    if (x->by == NULL)
        return SL_NOMEM;
    for (size_t j = 0; j < nby; j++) {
        if (val_copy(&g->arena, &by[j], &x->by[j]) != SL_OK)
            return SL_NOMEM;
    }
    memcpy(k, key, keylen);
    x->key = k;
    x->keylen = (uint32_t)keylen;
    x->hash = h;
    place(g, i, x);
    *out = x;
    return SL_OK;
}

enum sl_status gt_add(struct gtable *g, const struct val *by,
                      const struct val *args, int64_t ts)
{
    char small[512];
    char *key = small;
    size_t keylen = encode_key(by, g->sp->nby, small, sizeof(small));
    struct xgroup *x;
    enum sl_status st;

    if (keylen == 0 && g->sp->nby > 0) {
        size_t cap = 16;
        for (size_t i = 0; i < g->sp->nby; i++)
            cap += 16 + by[i].len;
        key = sl_alloc(cap);
        if (key == NULL)
            return SL_NOMEM;
        keylen = encode_key(by, g->sp->nby, key, cap);
    }
    x = g->last;
    if (x == NULL || x->keylen != keylen || !key_eq(x->key, key, keylen)) {
        st = lookup(g, key, keylen, hash_key(key, keylen), by, &x);
        g->last = st == SL_OK ? x : NULL;
    } else {
        st = SL_OK;
    }
    if (key != small)
        sl_free(key);
    for (size_t i = 0; i < g->sp->naggs && st == SL_OK; i++) {
        size_t grew = 0;
        st = agg_add(&x->st[i], &g->sp->aggs[i], &args[i], ts, &g->arena, &grew);
        g->mem += grew;
    }
    return st;
}

/* Empties g for the next round but keeps its slot array, zeroed: a worker
 * meets about as many groups each round, and growing the array again from
 * 64 slots (rehashing, fresh pages) was a tenth of query (2). */
static void gt_clear(struct gtable *g)
{
    struct gslot *b = g->buckets;
    size_t nb = g->nbuckets;
    const struct stats_plan *sp = g->sp;

    g->buckets = NULL;
    gt_fini(g);
    gt_init(g, sp);
    if (b != NULL) {
        memset(b, 0, nb * sizeof(*b));
        g->buckets = b;
        g->nbuckets = nb;
        g->mem = nb * sizeof(*b);
    }
}

/* Exchanges two tables; tail may point into the struct itself. */
static void gt_swap(struct gtable *a, struct gtable *b)
{
    struct gtable t = *a;
    *a = *b;
    *b = t;
    if (a->first == NULL)
        a->tail = &a->first;
    if (b->first == NULL)
        b->tail = &b->first;
}

/* How many groups ahead gt_merge fetches dst's slots. */
#define GT_PREFETCH 8

enum sl_status gt_merge(struct gtable *dst, struct gtable *src)
{
    enum sl_status st = SL_OK;

    /* Into an empty table: take src's groups as they are (no re-insert). */
    if (dst->n == 0 && dst->sp == src->sp) {
        gt_swap(dst, src);
        return SL_OK;
    }

    /* A group new to dst moves there as it is, with src's memory (arena
     * adopted below): no copy of key, values and states. Almost every
     * REJECT row of the benchmark's query (2) starts a group, and copying
     * them here, on one thread, was a seventh of the query's time. Groups
     * merged into one of dst's stay in src's list, whose states die with
     * src. */
    struct xgroup *x, *next, *keep = NULL, **keep_tail = &keep;
    struct xgroup *ahead = src->first;
    for (int i = 0; i < GT_PREFETCH && ahead != NULL; i++)
        ahead = ahead->next;
    for (x = src->first; x != NULL; x = next) {
        struct xgroup *d = NULL;
        size_t slot = 0;
        next = x->next;
        /* dst's slot of a group a few places ahead, fetched while these
         * are merged: with 100k+ groups every probe misses the cache */
        if (ahead != NULL) {
            if (dst->nbuckets > 0)
                __builtin_prefetch(&dst->buckets[ahead->hash & (dst->nbuckets - 1)]);
            ahead = ahead->next;
        }
        if (st == SL_OK)
            st = find(dst, x->key, x->keylen, x->hash, &d, &slot);
        if (st == SL_OK && d == NULL) {
            place(dst, slot, x);
            continue;
        }
        for (size_t i = 0; i < dst->sp->naggs && st == SL_OK; i++) {
            size_t grew = 0;
            st = agg_merge(&d->st[i], &x->st[i], &dst->sp->aggs[i], &dst->arena, &grew);
            dst->mem += grew;
        }
        *keep_tail = x;
        keep_tail = &x->next;
    }
    *keep_tail = NULL;
    src->first = keep;
    arena_adopt(&dst->arena, &src->arena);
    gt_clear(src);
    return st;
}

enum sl_status gt_rows(struct gtable *g, const struct qx *q,
                       struct cx_env *env, const struct stage *sort,
                       struct collector *out)
{
    struct val keys[32];
    size_t nkeys = sort ? sort->nkeys : 0;
    const struct stats_plan *sp = g->sp;
    struct val *slots = sl_calloc(q->nslots, sizeof(*slots));
    struct val *aggs = sl_calloc(sp->naggs ? sp->naggs : 1, sizeof(*aggs));
    enum sl_status st = (slots && aggs && nkeys <= 32) ? SL_OK : SL_NOMEM;
    int64_t ordinal = 0;

    for (struct xgroup *x = g->first; x != NULL && st == SL_OK; x = x->next) {
        struct xrow *r;
        int64_t tie;
        for (size_t i = 0; i < q->nslots; i++)
            slots[i] = val_null();
        for (size_t i = 0; i < sp->nby; i++)
            slots[sp->by_slots[i]] = x->by[i];
        for (size_t i = 0; i < sp->naggs; i++)
            aggs[i] = agg_result(&x->st[i], &sp->aggs[i]);
        env->slots = slots;
        env->aggs = aggs;
        for (size_t i = 0; i < sp->nouts && st == SL_OK; i++) {
            struct val v;
            st = cx_eval(sp->outs[i].expr, env, &q->regexes, &v);
            slots[sp->outs[i].slot] = v;
        }
        for (size_t i = 0; i < nkeys && st == SL_OK; i++)
            st = cx_eval(sort->keys[i], env, &q->regexes, &keys[i]);
        if (st != SL_OK)
            break;
        /* Rows that tie on the sort keys are ordered by seq. Under a sort
         * that is the group's key hash, not the order workers happened to
         * meet the groups in, so a limit cuts the same ties every run. */
        tie = nkeys > 0 ? (int64_t)(x->hash >> 1) : ordinal;
        ordinal++;
        if (!coll_would_take(out, keys, 0, tie, 0))
            continue; /* top-k: would be dropped at once */
        r = xrow_new(q, slots, keys, nkeys);
        if (r == NULL) {
            st = SL_NOMEM;
            break;
        }
        r->seq = tie;
        st = coll_add(out, r);
    }
    env->aggs = NULL;
    sl_free(slots);
    sl_free(aggs);
    return st;
}
