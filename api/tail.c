/* api/tail.c: the live-tail hub; see tail.h. One mutex guards the
 * subscriber list, every queue and the stream-name cache; the ticker
 * thread wakes every subscriber each TAIL_TICK_MS. */
#include "api/tail.h"

#include "common/alloc.h"
#include "common/log.h"
#include "storage/catalog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define NAME_CACHE_MAX 65536

struct tail_sub {
    struct tail_hub *hub;
    struct tail_sub *prev, *next;
    struct tail_spec spec;       /* its strings point to the copies: */
    char *labels[TAIL_MAX_GROUPS];
    char **names, **prefixes;
    struct tail_ev *head, *tail;
    size_t queued;
    uint64_t dropped;
};

struct name_ent {
    int64_t group_id, stream_id; /* stream_id 0: empty slot */
    char *name;
};

struct tail_hub {
    struct store *store;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t ticker;
    bool closed, stop_ticker;
    atomic_int n_subs;
    struct tail_sub *subs;
    struct name_ent *names;      /* open addressing */
    size_t names_cap, names_n;
};

static void *ticker_main(void *arg)
{
    struct tail_hub *h = arg;

    pthread_setname_np(pthread_self(), "sl-tail");
    pthread_mutex_lock(&h->mu);
    while (!h->stop_ticker) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += TAIL_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
        for (struct tail_sub *s = h->subs; s != NULL; s = s->next)
            s->spec.wake(s->spec.wake_ctx);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

struct tail_hub *tail_hub_create(struct store *s)
{
    struct tail_hub *h = sl_calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->store = s;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    atomic_init(&h->n_subs, 0);
    if (pthread_create(&h->ticker, NULL, ticker_main, h) != 0) {
        pthread_cond_destroy(&h->cv);
        pthread_mutex_destroy(&h->mu);
        sl_free(h);
        return NULL;
    }
    return h;
}

void tail_hub_shutdown(struct tail_hub *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->closed = true;
    for (struct tail_sub *s = h->subs; s != NULL; s = s->next)
        s->spec.wake(s->spec.wake_ctx);
    pthread_mutex_unlock(&h->mu);
}

static void names_clear(struct tail_hub *h)
{
    for (size_t i = 0; i < h->names_cap; i++)
        sl_free(h->names[i].name);
    sl_free(h->names);
    h->names = NULL;
    h->names_cap = h->names_n = 0;
}

void tail_hub_destroy(struct tail_hub *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop_ticker = true;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->ticker, NULL);
    if (h->subs != NULL)
        sl_warn("tail: hub destroyed with subscribers left");
    names_clear(h);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    sl_free(h);
}

/* ---- subscribers ---- */

static void sub_free(struct tail_sub *s)
{
    for (size_t i = 0; i < TAIL_MAX_GROUPS; i++)
        sl_free(s->labels[i]);
    for (size_t i = 0; s->names != NULL && i < s->spec.n_stream_names; i++)
        sl_free(s->names[i]);
    sl_free(s->names);
    for (size_t i = 0; s->prefixes != NULL && i < s->spec.n_stream_prefixes; i++)
        sl_free(s->prefixes[i]);
    sl_free(s->prefixes);
    fpat_free(s->spec.pattern);
    tail_ev_free(s->head);
    sl_free(s);
}

/* Owned copies of n strings; NULL (and *ok false) when memory runs out. */
static char **copy_list(const char *const *src, size_t n, bool *ok)
{
    char **dst;
    if (n == 0)
        return NULL;
    dst = sl_calloc(n, sizeof(*dst));
    if (dst == NULL) {
        *ok = false;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if ((dst[i] = sl_strdup(src[i])) == NULL)
            *ok = false;
    return dst;
}

enum sl_status tail_subscribe(struct tail_hub *h, const struct tail_spec *spec,
                              struct tail_sub **out, struct sl_err *err)
{
    struct tail_sub *s = sl_calloc(1, sizeof(*s));
    bool ok = true;

    *out = NULL;
    if (s == NULL) {
        fpat_free(spec->pattern);
        return sl_fail(err, SL_NOMEM, "out of memory");
    }
    s->hub = h;
    s->spec = *spec;
    for (size_t i = 0; i < spec->n_groups; i++)
        if ((s->labels[i] = sl_strdup(spec->group_labels[i])) == NULL)
            ok = false;
    s->names = copy_list(spec->stream_names, spec->n_stream_names, &ok);
    s->prefixes = copy_list(spec->stream_prefixes, spec->n_stream_prefixes, &ok);
    for (size_t i = 0; i < spec->n_groups; i++)
        s->spec.group_labels[i] = s->labels[i];
    s->spec.stream_names = (const char *const *)s->names;
    s->spec.stream_prefixes = (const char *const *)s->prefixes;
    if (!ok) {
        sub_free(s);
        return sl_fail(err, SL_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&h->mu);
    if (h->closed) {
        pthread_mutex_unlock(&h->mu);
        sub_free(s);
        return sl_fail(err, SL_UNAVAILABLE, "the server is shutting down");
    }
    if (atomic_load(&h->n_subs) >= TAIL_MAX_SUBS) {
        pthread_mutex_unlock(&h->mu);
        sub_free(s);
        return sl_fail(err, SL_LIMIT,
                       "Too many live tails are open (at most %d); close one "
                       "and retry.", TAIL_MAX_SUBS);
    }
    s->next = h->subs;
    if (h->subs != NULL)
        h->subs->prev = s;
    h->subs = s;
    atomic_fetch_add(&h->n_subs, 1);
    pthread_mutex_unlock(&h->mu);
    *out = s;
    return SL_OK;
}

void tail_unsubscribe(struct tail_sub *s)
{
    struct tail_hub *h;
    if (s == NULL)
        return;
    h = s->hub;
    pthread_mutex_lock(&h->mu);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        h->subs = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    atomic_fetch_sub(&h->n_subs, 1);
    pthread_mutex_unlock(&h->mu);
    sub_free(s);
}

size_t tail_take(struct tail_sub *s, struct tail_ev **list, uint64_t *dropped,
                 bool *ended)
{
    struct tail_hub *h = s->hub;
    size_t n;
    pthread_mutex_lock(&h->mu);
    *list = s->head;
    n = s->queued;
    *dropped = s->dropped;
    *ended = h->closed;
    s->head = s->tail = NULL;
    s->queued = 0;
    s->dropped = 0;
    pthread_mutex_unlock(&h->mu);
    return n;
}

bool tail_closing(struct tail_sub *s)
{
    bool closed;
    pthread_mutex_lock(&s->hub->mu);
    closed = s->hub->closed;
    pthread_mutex_unlock(&s->hub->mu);
    return closed;
}

void tail_ev_free(struct tail_ev *list)
{
    while (list != NULL) {
        struct tail_ev *next = list->next;
        sl_free(list);
        list = next;
    }
}

/* ---- publishing ---- */

bool tail_wanted(struct tail_hub *h, int64_t group_id)
{
    bool yes = false;
    if (h == NULL || atomic_load(&h->n_subs) == 0)
        return false;
    pthread_mutex_lock(&h->mu);
    for (struct tail_sub *s = h->subs; s != NULL && !yes; s = s->next)
        for (size_t i = 0; i < s->spec.n_groups; i++)
            if (s->spec.group_ids[i] == group_id)
                yes = true;
    pthread_mutex_unlock(&h->mu);
    return yes;
}

/* The index of group_id in s, or -1. */
static int sub_group(const struct tail_sub *s, int64_t group_id)
{
    for (size_t i = 0; i < s->spec.n_groups; i++)
        if (s->spec.group_ids[i] == group_id)
            return (int)i;
    return -1;
}

static bool sub_stream_ok(const struct tail_sub *s, const char *stream)
{
    if (s->spec.n_stream_names == 0 && s->spec.n_stream_prefixes == 0)
        return true;
    for (size_t i = 0; i < s->spec.n_stream_names; i++)
        if (strcmp(s->spec.stream_names[i], stream) == 0)
            return true;
    for (size_t i = 0; i < s->spec.n_stream_prefixes; i++) {
        const char *p = s->spec.stream_prefixes[i];
        if (strncmp(p, stream, strlen(p)) == 0)
            return true;
    }
    return false;
}

static void sub_push(struct tail_sub *s, int g, const char *stream,
                     const struct seg_event *e, int64_t ingest_ms)
{
    size_t sl = strlen(stream);
    struct tail_ev *t;

    if (s->queued >= s->spec.max_queue) {
        s->dropped++;
        return;
    }
    t = sl_alloc(sizeof(*t) + sl + 1 + e->len + 1);
    if (t == NULL) {
        s->dropped++;
        return;
    }
    t->next = NULL;
    t->ts = e->ts;
    t->ingest = ingest_ms;
    t->group_label = s->spec.group_labels[g];
    t->stream = (char *)(t + 1);
    memcpy(t->stream, stream, sl + 1);
    t->msg = t->stream + sl + 1;
    memcpy(t->msg, e->msg, e->len);
    t->msg[e->len] = '\0';
    t->len = e->len;
    if (s->tail != NULL)
        s->tail->next = t;
    else
        s->head = t;
    s->tail = t;
    s->queued++;
}

void tail_publish(struct tail_hub *h, int64_t group_id, const char *stream,
                  const struct seg_event *ev, size_t n, int64_t ingest_ms)
{
    if (h == NULL || stream == NULL || atomic_load(&h->n_subs) == 0)
        return;
    pthread_mutex_lock(&h->mu);
    for (struct tail_sub *s = h->subs; s != NULL; s = s->next) {
        int g = sub_group(s, group_id);
        size_t before = s->queued;
        if (g < 0 || !sub_stream_ok(s, stream))
            continue;
        for (size_t i = 0; i < n; i++)
            if (s->spec.pattern == NULL ||
                fpat_match(s->spec.pattern, ev[i].msg, ev[i].len))
                sub_push(s, g, stream, &ev[i], ingest_ms);
        if (s->spec.wake_on_data && s->queued > before)
            s->spec.wake(s->spec.wake_ctx);
    }
    pthread_mutex_unlock(&h->mu);
}

/* ---- stream names ---- */

static size_t name_slot(const struct tail_hub *h, int64_t g, int64_t s)
{
    uint64_t k = (uint64_t)g * 0x9E3779B97F4A7C15ull ^ (uint64_t)s * 0xC2B2AE3D27D4EB4Full;
    size_t i = (size_t)(k ^ (k >> 29)) & (h->names_cap - 1);
    while (h->names[i].stream_id != 0 &&
           (h->names[i].group_id != g || h->names[i].stream_id != s))
        i = (i + 1) & (h->names_cap - 1);
    return i;
}

/* Under h->mu. */
static const char *name_find(const struct tail_hub *h, int64_t g, int64_t s)
{
    if (h->names_cap == 0)
        return NULL;
    return h->names[name_slot(h, g, s)].name;
}

/* Under h->mu; a failed insert only loses the cache entry. */
static void name_put(struct tail_hub *h, int64_t g, int64_t s, const char *name)
{
    size_t i;
    if (s == 0)
        return;
    if (h->names_n >= NAME_CACHE_MAX)
        names_clear(h);
    if ((h->names_n + 1) * 2 > h->names_cap) {
        struct name_ent *old = h->names;
        size_t old_cap = h->names_cap, cap = old_cap ? old_cap * 2 : 256;
        struct name_ent *nn = sl_calloc(cap, sizeof(*nn));
        if (nn == NULL)
            return;
        h->names = nn;
        h->names_cap = cap;
        for (size_t j = 0; j < old_cap; j++)
            if (old[j].stream_id != 0)
                h->names[name_slot(h, old[j].group_id, old[j].stream_id)] = old[j];
        sl_free(old);
    }
    i = name_slot(h, g, s);
    if (h->names[i].stream_id != 0)
        return;
    h->names[i].name = sl_strdup(name);
    if (h->names[i].name == NULL)
        return;
    h->names[i].group_id = g;
    h->names[i].stream_id = s;
    h->names_n++;
}

const char *tail_stream_name(struct tail_hub *h, int64_t group_id,
                             int64_t stream_id, struct arena *a)
{
    const char *name;
    char *copy = NULL;
    struct arena tmp;
    struct sl_err err = {0};
    int64_t *ids;
    const char **names;
    int n = 0;
    sqlite3 *db;

    pthread_mutex_lock(&h->mu);
    name = name_find(h, group_id, stream_id);
    if (name != NULL)
        copy = arena_strndup(a, name, strlen(name));
    pthread_mutex_unlock(&h->mu);
    if (name != NULL)
        return copy;
    db = store_reader(h->store);
    if (db == NULL)
        return NULL;
    arena_init(&tmp, 16 * 1024, 0);
    if (cat_group_streams(db, group_id, &tmp, &ids, &names, &n, &err) != SL_OK)
        n = 0;
    store_reader_release(h->store, db);
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < n; i++) {
        name_put(h, group_id, ids[i], names[i]);
        if (ids[i] == stream_id)
            copy = arena_strndup(a, names[i], strlen(names[i]));
    }
    pthread_mutex_unlock(&h->mu);
    arena_fini(&tmp);
    return copy;
}

size_t tail_drain(struct buf *b, size_t *off, char *out, size_t cap)
{
    size_t n = b->len - *off;
    if (n > cap)
        n = cap;
    if (n > 0)
        memcpy(out, b->data + *off, n);
    *off += n;
    if (*off == b->len) {
        buf_clear(b);
        *off = 0;
    }
    return n;
}
