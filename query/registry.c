/* query/registry.c: the queries of the server by id; see registry.h.
 *
 * One mutex (mu) guards the list, the mutable fields of every entry and the
 * waiters. Three kinds of threads touch an entry:
 *
 *   request threads   qreg_start / get / stop / list / wait
 *   runner (1/query)  status Running, run the job (which publishes
 *                     snapshots), final status, hand the waiters their
 *                     answer, then put itself on the zombie list
 *   timer (1)         waiter deadlines, query timeouts, repeated cancels,
 *                     expiry of finished queries, joining zombie runners
 *
 *   list (newest first):  head ─> [e3 Running] ─> [e2 Complete] ─> [e1 Failed] <─ tail
 *                                     │ snap ─> {refs, qx_result}
 *                                     └ waiters ─> w ─> w
 *
 * Entries and snapshots are reference-counted (the list holds one
 * reference, each qreg_info one more), so a reader formats a result of
 * 10,000 rows with no lock held while the query publishes the next one
 * and the registry may drop the entry. A callback (waiter, job cancel) is
 * never called with the lock held, except ops->cancel, which only sets a
 * flag. */
#include "query/registry.h"

#include "common/alloc.h"
#include "common/clock.h"
#include "common/uuid.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PRUNE_EVERY_MS      60000   /* expiry check when nothing else wakes us */
#define RECANCEL_EVERY_MS   100     /* a cancel that raced the run's start */
#define SHUTDOWN_WAIT_MS    10000   /* how long qreg_shutdown waits for runs */

struct snap {
    atomic_int refs;
    struct qx_result *res;       /* owned */
};

struct entry {
    atomic_int refs;             /* the list's (or a zombie's) + each info's */
    struct qreg *reg;
    char id[QREG_ID_LEN + 1];
    char *text;                  /* owned, NUL-terminated */
    char **groups;               /* owned, each owned */
    size_t ngroups;
    int64_t create_ms;           /* wall clock */
    int64_t start_mono;          /* qreg_start */
    int64_t deadline_mono;       /* timeout; 0 = none */
    const struct qreg_job_ops *ops;
    pthread_t thread;
    /* under reg->mu: */
    enum qreg_status status;
    int64_t end_mono;            /* set when it ends */
    bool in_list;
    bool cancel_requested;       /* qreg_stop or shutdown */
    bool timed_out;              /* the timer passed deadline_mono */
    bool lost_final;             /* no memory to keep the final result */
    struct sl_err err;           /* Failed / Timeout */
    struct snap *snap;           /* newest published result or NULL */
    void *job;                   /* NULL once run returned */
    struct qreg_waiter *waiters;
    struct entry *prev, *next;   /* the list */
    struct entry *zombie_next;   /* runner done, thread to join */
    struct entry *drop_next;     /* pruned, to unref after the unlock */
};

struct qreg {
    pthread_mutex_t mu;
    pthread_cond_t cond;         /* CLOCK_MONOTONIC; timer and shutdown wait */
    struct qreg_config cfg;
    struct entry *head, *tail;
    size_t n_active;             /* Scheduled + Running */
    size_t n_kept;               /* finished, still listed */
    struct entry *zombies;
    bool stopping;               /* shutdown began: no new queries */
    bool quit;                   /* the timer thread should exit */
    pthread_t timer;
};

static const char *const status_names[QREG_STATUS_COUNT] = {
    [QREG_SCHEDULED] = "Scheduled", [QREG_RUNNING] = "Running",
    [QREG_COMPLETE] = "Complete",   [QREG_FAILED] = "Failed",
    [QREG_CANCELLED] = "Cancelled", [QREG_TIMEOUT] = "Timeout",
};

const char *qreg_status_name(enum qreg_status s)
{
    return (unsigned)s < QREG_STATUS_COUNT ? status_names[s] : "Unknown";
}

bool qreg_status_parse(const char *s, enum qreg_status *out)
{
    for (int i = 0; i < QREG_STATUS_COUNT; i++) {
        if (strcasecmp(s, status_names[i]) == 0) {
            *out = (enum qreg_status)i;
            return true;
        }
    }
    return false;
}

bool qreg_is_active(enum qreg_status s)
{
    return s == QREG_SCHEDULED || s == QREG_RUNNING;
}

void qreg_config_defaults(struct qreg_config *c)
{
    c->max_active = 20;
    c->timeout_ms = 15 * SL_MS_PER_MIN;
    c->keep_ms = 7 * SL_MS_PER_DAY;
    c->max_kept = 1000;
}

/* ------------------------------------------------------------------ */
/* References                                                          */

static void snap_unref(struct snap *s)
{
    if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1) {
        qx_result_free(s->res);
        sl_free(s);
    }
}

static void entry_free(struct entry *e)
{
    for (size_t i = 0; i < e->ngroups; i++)
        sl_free(e->groups[i]);
    sl_free(e->groups);
    sl_free(e->text);
    snap_unref(e->snap);
    sl_free(e);
}

static void entry_unref(struct entry *e)
{
    if (e != NULL && atomic_fetch_sub(&e->refs, 1) == 1)
        entry_free(e);
}

/* ------------------------------------------------------------------ */
/* Helpers under the lock                                              */

static void timespec_at(int64_t mono_ms, struct timespec *ts)
{
    ts->tv_sec = (time_t)(mono_ms / 1000);
    ts->tv_nsec = (long)(mono_ms % 1000) * 1000000L;
}

static struct entry *find(struct qreg *r, const char *id)
{
    for (struct entry *e = r->head; e != NULL; e = e->next)
        if (strcmp(e->id, id) == 0)
            return e;
    return NULL;
}

static void unlink_entry(struct qreg *r, struct entry *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        r->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        r->tail = e->prev;
    e->prev = e->next = NULL;
    e->in_list = false;
}

/* Drops finished queries past keep_ms, and the oldest beyond max_kept.
 * The dropped entries go to *out (their list reference with them) so
 * they are freed after the unlock. */
static void prune(struct qreg *r, int64_t now, struct entry **out)
{
    struct entry *e = r->tail, *prev;
    for (; e != NULL; e = prev) {
        prev = e->prev;
        if (qreg_is_active(e->status))
            continue;
        if (r->n_kept > r->cfg.max_kept || now - e->end_mono >= r->cfg.keep_ms) {
            unlink_entry(r, e);
            r->n_kept--;
            e->drop_next = *out;
            *out = e;
        }
    }
}

static void unref_chain(struct entry *e)
{
    while (e != NULL) {
        struct entry *next = e->drop_next;
        entry_unref(e);
        e = next;
    }
}

static void fire(struct qreg_waiter *w, bool ended)
{
    while (w != NULL) {
        struct qreg_waiter *next = w->next_;  /* w may die in fn */
        w->next_ = NULL;
        w->fn(w->ctx, ended);
        w = next;
    }
}

static void fill_info(const struct entry *e, int64_t now, struct qreg_info *i)
{
    memset(i, 0, sizeof(*i));
    i->id = e->id;
    i->text = e->text;
    i->groups = (const char *const *)e->groups;
    i->ngroups = e->ngroups;
    i->create_ms = e->create_ms;
    i->duration_ms = (qreg_is_active(e->status) ? now : e->end_mono) - e->start_mono;
    i->status = e->status;
    i->error = e->err;
    i->result = e->snap ? e->snap->res : NULL;
}

/* ------------------------------------------------------------------ */
/* The runner thread of one query                                      */

static void publish(void *ctx, struct qx_result *res, bool final)
{
    struct entry *e = ctx;
    struct qreg *r = e->reg;
    struct snap *s = sl_alloc(sizeof(*s)), *old;

    if (s == NULL) {
        qx_result_free(res);
        if (final) {
            pthread_mutex_lock(&r->mu);
            e->lost_final = true;
            pthread_mutex_unlock(&r->mu);
        }
        return;
    }
    atomic_init(&s->refs, 1);
    s->res = res;
    pthread_mutex_lock(&r->mu);
    old = e->snap;
    e->snap = s;
    pthread_mutex_unlock(&r->mu);
    snap_unref(old);
}

static void format_duration(int64_t ms, char *out, size_t cap)
{
    if (ms % 1000 == 0)
        snprintf(out, cap, "%lld s", (long long)(ms / 1000));
    else
        snprintf(out, cap, "%lld ms", (long long)ms);
}

/* The final status from how run ended; under the lock. */
static void settle(struct entry *e, enum sl_status st, const struct sl_err *err)
{
    char limit[32];

    sl_err_clear(&e->err);
    if (e->cancel_requested) {
        e->status = QREG_CANCELLED;
    } else if (e->timed_out || st == SL_TIMEOUT) {
        e->status = QREG_TIMEOUT;
        format_duration(e->reg->cfg.timeout_ms, limit, sizeof(limit));
        if (st == SL_TIMEOUT && err->msg[0] != '\0')
            sl_fail(&e->err, SL_TIMEOUT, "%s", err->msg);
        else
            sl_fail(&e->err, SL_TIMEOUT,
                    "the query ran longer than %s, the most a query may run",
                    limit);
    } else if (st == SL_OK && e->lost_final) {
        e->status = QREG_FAILED;
        sl_fail(&e->err, SL_NOMEM, "out of memory while keeping the results");
    } else if (st == SL_OK) {
        e->status = QREG_COMPLETE;
    } else if (st == SL_CANCELLED) {
        e->status = QREG_CANCELLED;
    } else {
        e->status = QREG_FAILED;
        if (err->code != SL_OK && err->msg[0] != '\0')
            e->err = *err;
        else
            sl_fail(&e->err, st, "the query failed: %s", sl_status_text(st));
        if (e->err.code == SL_OK)
            e->err.code = st;
    }
}

static void *runner_main(void *arg)
{
    struct entry *e = arg;
    struct qreg *r = e->reg;
    struct sl_err err = {0};
    enum sl_status st = SL_CANCELLED;
    struct qreg_waiter *waiters;
    void *job;
    bool run;

    pthread_setname_np(pthread_self(), "sl-query");
    pthread_mutex_lock(&r->mu);
    run = !e->cancel_requested && !e->timed_out;
    if (run)
        e->status = QREG_RUNNING;
    job = e->job;
    pthread_mutex_unlock(&r->mu);

    if (run)
        st = e->ops->run(job, publish, e, &err);

    pthread_mutex_lock(&r->mu);
    settle(e, st, &err);
    e->end_mono = sl_mono_ms();
    r->n_active--;
    if (e->in_list)
        r->n_kept++;
    waiters = e->waiters;
    e->waiters = NULL;
    e->job = NULL;
    atomic_fetch_add(&e->refs, 1);           /* the zombie list's */
    e->zombie_next = r->zombies;
    r->zombies = e;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);

    e->ops->destroy(job);
    fire(waiters, true);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The timer thread                                                    */

/* Deadlines of one active entry; under the lock. Detached waiters go to
 * *fired; *next becomes the earliest deadline still ahead. */
static void tick_entry(struct entry *e, int64_t now, struct qreg_waiter **fired,
                       int64_t *next)
{
    struct qreg_waiter **pw = &e->waiters;

    if (e->deadline_mono != 0 && !e->timed_out) {
        if (now >= e->deadline_mono)
            e->timed_out = true;
        else if (e->deadline_mono < *next)
            *next = e->deadline_mono;
    }
    if ((e->cancel_requested || e->timed_out) && e->job != NULL &&
        e->status == QREG_RUNNING) {
        e->ops->cancel(e->job);
        if (now + RECANCEL_EVERY_MS < *next)
            *next = now + RECANCEL_EVERY_MS;
    }
    while (*pw != NULL) {
        struct qreg_waiter *w = *pw;
        if (now >= w->deadline_ms) {
            *pw = w->next_;
            w->next_ = *fired;
            *fired = w;
        } else {
            if (w->deadline_ms < *next)
                *next = w->deadline_ms;
            pw = &w->next_;
        }
    }
}

static void *timer_main(void *arg)
{
    struct qreg *r = arg;

    pthread_setname_np(pthread_self(), "sl-qtimer");
    pthread_mutex_lock(&r->mu);
    for (;;) {
        struct qreg_waiter *fired = NULL;
        struct entry *dropped = NULL, *z = r->zombies;
        int64_t now, next;
        struct timespec ts;

        if (z != NULL) {
            r->zombies = NULL;
            pthread_mutex_unlock(&r->mu);
            while (z != NULL) {
                struct entry *zn = z->zombie_next;
                pthread_join(z->thread, NULL);
                entry_unref(z);
                z = zn;
            }
            pthread_mutex_lock(&r->mu);
            continue;
        }
        if (r->quit)
            break;
        now = sl_mono_ms();
        next = now + PRUNE_EVERY_MS;
        for (struct entry *e = r->head; e != NULL; e = e->next)
            if (qreg_is_active(e->status))
                tick_entry(e, now, &fired, &next);
        prune(r, now, &dropped);
        if (fired != NULL || dropped != NULL) {
            pthread_mutex_unlock(&r->mu);
            fire(fired, false);
            unref_chain(dropped);
            pthread_mutex_lock(&r->mu);
            continue;
        }
        timespec_at(next, &ts);
        pthread_cond_timedwait(&r->cond, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */

struct qreg *qreg_create(const struct qreg_config *c, struct sl_err *err)
{
    struct qreg *r = sl_calloc(1, sizeof(*r));
    pthread_condattr_t ca;

    if (r == NULL) {
        sl_fail(err, SL_NOMEM, "out of memory creating the query registry");
        return NULL;
    }
    r->cfg = *c;
    if (r->cfg.max_active < 1)
        r->cfg.max_active = 1;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&r->timer, NULL, timer_main, r) != 0) {
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->mu);
        sl_free(r);
        sl_fail(err, SL_UNAVAILABLE, "cannot start the query registry's thread");
        return NULL;
    }
    return r;
}

void qreg_shutdown(struct qreg *r)
{
    struct qreg_waiter *left = NULL;
    struct timespec ts;
    int64_t deadline = sl_mono_ms() + SHUTDOWN_WAIT_MS;

    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    for (struct entry *e = r->head; e != NULL; e = e->next) {
        if (!qreg_is_active(e->status))
            continue;
        e->cancel_requested = true;
        if (e->job != NULL && e->status == QREG_RUNNING)
            e->ops->cancel(e->job);
    }
    timespec_at(deadline, &ts);
    while (r->n_active > 0 && sl_mono_ms() < deadline)
        pthread_cond_timedwait(&r->cond, &r->mu, &ts);
    /* Runs that ignored the cancel: their waiters hear "not ended". */
    for (struct entry *e = r->head; e != NULL; e = e->next) {
        struct qreg_waiter *w = e->waiters;
        while (w != NULL) {
            struct qreg_waiter *next = w->next_;
            w->next_ = left;
            left = w;
            w = next;
        }
        e->waiters = NULL;
    }
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    fire(left, false);
}

void qreg_free(struct qreg *r)
{
    struct entry *e, *next;

    if (r == NULL)
        return;
    qreg_shutdown(r);
    pthread_mutex_lock(&r->mu);
    while (r->n_active > 0)
        pthread_cond_wait(&r->cond, &r->mu);
    r->quit = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->timer, NULL);
    /* The timer may have quit before the last runners became zombies. */
    for (e = r->zombies; e != NULL; e = next) {
        next = e->zombie_next;
        pthread_join(e->thread, NULL);
        entry_unref(e);
    }
    for (e = r->head; e != NULL; e = next) {
        next = e->next;
        entry_unref(e);
    }
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mu);
    sl_free(r);
}

/* ------------------------------------------------------------------ */
/* Starting                                                            */

_Static_assert(QREG_ID_LEN == SL_UUID_LEN, "query ids are UUIDs");

static enum sl_status make_id(char out[QREG_ID_LEN + 1], struct sl_err *err)
{
    if (!sl_uuid4(out))
        return sl_fail(err, SL_INTERNAL, "getrandom failed: no query id");
    return SL_OK;
}

static struct entry *entry_new(const struct qreg_meta *m)
{
    struct entry *e = sl_calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    atomic_init(&e->refs, 1);
    e->text = sl_strndup(m->text ? m->text : "", m->text ? m->len : 0);
    e->groups = sl_calloc(m->ngroups ? m->ngroups : 1, sizeof(*e->groups));
    if (e->text == NULL || e->groups == NULL)
        goto fail;
    for (; e->ngroups < m->ngroups; e->ngroups++) {
        e->groups[e->ngroups] = sl_strdup(m->groups[e->ngroups]);
        if (e->groups[e->ngroups] == NULL)
            goto fail;
    }
    return e;
fail:
    entry_free(e);
    return NULL;
}

enum sl_status qreg_start_job(struct qreg *r, const struct qreg_job_ops *ops,
                              void *job, const struct qreg_meta *m,
                              char id[QREG_ID_LEN + 1], struct sl_err *err)
{
    struct entry *e, *dropped = NULL;
    enum sl_status st;

    e = entry_new(m);
    if (e == NULL) {
        ops->destroy(job);
        return sl_fail(err, SL_NOMEM, "out of memory starting a query");
    }
    st = make_id(e->id, err);
    if (st != SL_OK)
        goto out_free;
    e->reg = r;
    e->ops = ops;
    e->job = job;
    e->status = QREG_SCHEDULED;
    e->create_ms = sl_now_ms();
    e->start_mono = sl_mono_ms();
    if (r->cfg.timeout_ms > 0)
        e->deadline_mono = e->start_mono + r->cfg.timeout_ms;

    pthread_mutex_lock(&r->mu);
    if (r->stopping) {
        st = sl_fail(err, SL_UNAVAILABLE,
                     "the server is shutting down and starts no new queries");
        goto out_unlock;
    }
    if (r->n_active >= (size_t)r->cfg.max_active) {
        st = sl_fail(err, SL_LIMIT,
                     "too many concurrent queries: %zu are running and the "
                     "limit is %d; wait for one to finish or stop one",
                     r->n_active, r->cfg.max_active);
        goto out_unlock;
    }
    e->next = r->head;
    if (r->head != NULL)
        r->head->prev = e;
    r->head = e;
    if (r->tail == NULL)
        r->tail = e;
    e->in_list = true;
    r->n_active++;
    if (pthread_create(&e->thread, NULL, runner_main, e) != 0) {
        unlink_entry(r, e);
        r->n_active--;
        st = sl_fail(err, SL_UNAVAILABLE,
                     "cannot start a thread for the query; retry later");
        goto out_unlock;
    }
    memcpy(id, e->id, QREG_ID_LEN + 1);
    prune(r, e->start_mono, &dropped);
    pthread_cond_broadcast(&r->cond);   /* the timer learns the deadline */
    pthread_mutex_unlock(&r->mu);
    unref_chain(dropped);
    return SL_OK;

out_unlock:
    pthread_mutex_unlock(&r->mu);
out_free:
    ops->destroy(job);
    entry_free(e);
    return st;
}

/* The qx-backed job of qreg_start. */
struct qx_job {
    struct qx *q;
    struct store *s;
};

static enum sl_status qx_job_run(void *job, qx_publish_fn publish_fn,
                                 void *pctx, struct sl_err *err)
{
    struct qx_job *j = job;
    return qx_run(j->q, j->s, publish_fn, pctx, err);
}

static void qx_job_cancel(void *job)
{
    struct qx_job *j = job;
    qx_cancel(j->q);
}

static void qx_job_destroy(void *job)
{
    struct qx_job *j = job;
    if (j == NULL)
        return;
    qx_free(j->q);
    sl_free(j);
}

static const struct qreg_job_ops qx_job_ops = {
    .run = qx_job_run,
    .cancel = qx_job_cancel,
    .destroy = qx_job_destroy,
};

enum sl_status qreg_start(struct qreg *r, struct qx *q, struct store *s,
                          const struct qreg_meta *m, char id[QREG_ID_LEN + 1],
                          struct sl_err *err)
{
    struct qx_job *j = sl_alloc(sizeof(*j));
    if (j == NULL) {
        qx_free(q);
        return sl_fail(err, SL_NOMEM, "out of memory starting a query");
    }
    j->q = q;
    j->s = s;
    return qreg_start_job(r, &qx_job_ops, j, m, id, err);
}

/* ------------------------------------------------------------------ */
/* Reading, stopping, listing, waiting                                 */

static enum sl_status not_found(const char *id, struct sl_err *err)
{
    return sl_fail(err, SL_NOT_FOUND,
                   "no query has the id '%.64s' (finished queries are kept "
                   "for a limited time)", id);
}

enum sl_status qreg_get(struct qreg *r, const char *id, struct qreg_info *out,
                        struct sl_err *err)
{
    struct entry *e;

    pthread_mutex_lock(&r->mu);
    e = find(r, id);
    if (e == NULL) {
        pthread_mutex_unlock(&r->mu);
        return not_found(id, err);
    }
    fill_info(e, sl_mono_ms(), out);
    atomic_fetch_add(&e->refs, 1);
    if (e->snap != NULL)
        atomic_fetch_add(&e->snap->refs, 1);
    out->entry_ = e;
    out->snap_ = e->snap;
    pthread_mutex_unlock(&r->mu);
    return SL_OK;
}

void qreg_info_release(struct qreg_info *i)
{
    snap_unref(i->snap_);
    entry_unref(i->entry_);
    memset(i, 0, sizeof(*i));
}

enum sl_status qreg_stop(struct qreg *r, const char *id, struct sl_err *err)
{
    struct entry *e;
    enum sl_status st = SL_OK;

    pthread_mutex_lock(&r->mu);
    e = find(r, id);
    if (e == NULL) {
        st = not_found(id, err);
    } else if (!qreg_is_active(e->status)) {
        st = sl_fail(err, SL_INVALID,
                     "query %s is not running: it is %s already", e->id,
                     qreg_status_name(e->status));
    } else {
        e->cancel_requested = true;
        if (e->job != NULL && e->status == QREG_RUNNING)
            e->ops->cancel(e->job);
        pthread_cond_broadcast(&r->cond);   /* the timer repeats the cancel */
    }
    pthread_mutex_unlock(&r->mu);
    return st;
}

void qreg_list(struct qreg *r, bool has_status, enum qreg_status status,
               const char *group, qreg_list_fn fn, void *ctx)
{
    struct entry *dropped = NULL;
    struct qreg_info info;
    int64_t now = sl_mono_ms();

    pthread_mutex_lock(&r->mu);
    prune(r, now, &dropped);
    for (struct entry *e = r->head; e != NULL; e = e->next) {
        bool match = group == NULL;
        if (has_status && e->status != status)
            continue;
        for (size_t i = 0; !match && i < e->ngroups; i++)
            match = strcmp(e->groups[i], group) == 0;
        if (!match)
            continue;
        fill_info(e, now, &info);
        if (!fn(ctx, &info))
            break;
    }
    pthread_mutex_unlock(&r->mu);
    unref_chain(dropped);
}

enum sl_status qreg_wait(struct qreg *r, const char *id, struct qreg_waiter *w,
                         bool *ended, struct sl_err *err)
{
    struct entry *e;

    *ended = false;
    pthread_mutex_lock(&r->mu);
    e = find(r, id);
    if (e == NULL) {
        pthread_mutex_unlock(&r->mu);
        return not_found(id, err);
    }
    if (!qreg_is_active(e->status)) {
        *ended = true;
    } else {
        w->next_ = e->waiters;
        e->waiters = w;
        pthread_cond_broadcast(&r->cond);   /* the timer learns the deadline */
    }
    pthread_mutex_unlock(&r->mu);
    return SL_OK;
}
