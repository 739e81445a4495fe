/* tests/unit/test_registry.c: the query registry without HTTP or storage:
 * fake jobs (qreg_start_job) that publish results, block until cancelled,
 * fail or time out, so every status, the cap, stop, snapshots, waiters,
 * expiry and shutdown are tested deterministically. */
#include "../harness.h"

#include "common/alloc.h"
#include "common/clock.h"
#include "query/registry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

/* What a fake job does. */
enum fake_mode {
    FAKE_COMPLETE,      /* publishes `partials` partials and a final */
    FAKE_BLOCK,         /* publishes one partial, then waits for cancel */
    FAKE_FAIL,          /* returns SL_LIMIT with a message */
    FAKE_GATE           /* publishes partials until gate opens */
};

struct fake {
    enum fake_mode mode;
    int partials;
    atomic_bool cancelled;
    atomic_bool *gate;           /* FAKE_GATE */
    atomic_int *destroyed;       /* counts destroy calls */
    atomic_int *published;       /* counts publishes */
};

static atomic_int destroyed;

static struct qx_result *result(double scanned)
{
    struct qx_result *r = sl_calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    arena_init(&r->arena, 1024, 0);
    r->stats.records_scanned = scanned;
    return r;
}

static enum sl_status fake_run(void *job, qx_publish_fn publish, void *pctx,
                               struct sl_err *err)
{
    struct fake *f = job;
    int n = 0;

    switch (f->mode) {
    case FAKE_COMPLETE:
        for (int i = 0; i < f->partials; i++)
            publish(pctx, result(i + 1), false);
        publish(pctx, result(1000), true);
        return SL_OK;
    case FAKE_BLOCK:
        publish(pctx, result(1), false);
        while (!atomic_load(&f->cancelled))
            usleep(1000);
        return SL_CANCELLED;
    case FAKE_FAIL:
        return sl_fail(err, SL_LIMIT, "the query needs more than 1 MiB; "
                                      "raise --query-mem");
    case FAKE_GATE:
        while (!atomic_load(f->gate) && !atomic_load(&f->cancelled)) {
            publish(pctx, result(++n), false);
            if (f->published != NULL)
                atomic_fetch_add(f->published, 1);
            usleep(1000);
        }
        publish(pctx, result(1000), true);
        return SL_OK;
    }
    return SL_INTERNAL;
}

static void fake_cancel(void *job)
{
    struct fake *f = job;
    atomic_store(&f->cancelled, true);
}

static void fake_destroy(void *job)
{
    atomic_fetch_add(&destroyed, 1);
    sl_free(job);
}

static const struct qreg_job_ops fake_ops = {fake_run, fake_cancel,
                                             fake_destroy};

static struct fake *fake_new(enum fake_mode mode)
{
    struct fake *f = sl_calloc(1, sizeof(*f));
    f->mode = mode;
    atomic_init(&f->cancelled, false);
    return f;
}

static enum sl_status start(struct qreg *r, struct fake *f, const char *group,
                            char id[QREG_ID_LEN + 1], struct sl_err *err)
{
    const char *groups[] = {group};
    struct qreg_meta m = {.text = "stats count(*)", .len = 14,
                          .groups = groups, .ngroups = 1};
    return qreg_start_job(r, &fake_ops, f, &m, id, err);
}

static struct qreg *registry(int max_active, int64_t timeout_ms,
                             size_t max_kept)
{
    struct qreg_config c;
    struct sl_err err = {0};
    qreg_config_defaults(&c);
    c.max_active = max_active;
    c.timeout_ms = timeout_ms;
    c.max_kept = max_kept;
    return qreg_create(&c, &err);
}

/* Polls until the query has status want (5 s at most). */
static bool wait_status(struct qreg *r, const char *id, enum qreg_status want)
{
    int64_t end = sl_mono_ms() + 5000;
    while (sl_mono_ms() < end) {
        struct qreg_info i;
        struct sl_err err = {0};
        enum qreg_status s;
        if (qreg_get(r, id, &i, &err) != SL_OK)
            return false;
        s = i.status;
        qreg_info_release(&i);
        if (s == want)
            return true;
        usleep(1000);
    }
    return false;
}

TEST(status_names_round_trip)
{
    enum qreg_status s;
    CHECK_EQ_STR(qreg_status_name(QREG_SCHEDULED), "Scheduled");
    CHECK_EQ_STR(qreg_status_name(QREG_TIMEOUT), "Timeout");
    CHECK(qreg_status_parse("complete", &s) && s == QREG_COMPLETE);
    CHECK(qreg_status_parse("Cancelled", &s) && s == QREG_CANCELLED);
    CHECK(!qreg_status_parse("Done", &s));
    CHECK(qreg_is_active(QREG_RUNNING) && !qreg_is_active(QREG_FAILED));
}

TEST(complete_keeps_final_result_and_meta)
{
    struct qreg *r = registry(4, 0, 10);
    struct fake *f = fake_new(FAKE_COMPLETE);
    char id[QREG_ID_LEN + 1];
    struct sl_err err = {0};
    struct qreg_info i;

    REQUIRE(r != NULL);
    f->partials = 3;
    REQUIRE_OK(start(r, f, "/g/one", id, &err));
    /* UUID v4 text: 8-4-4-4-12 lowercase hex, version 4, variant 10xx */
    CHECK_EQ_INT(strlen(id), 36);
    CHECK(id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-');
    CHECK(id[14] == '4');
    CHECK(strchr("89ab", id[19]) != NULL);
    REQUIRE(wait_status(r, id, QREG_COMPLETE));
    REQUIRE_OK(qreg_get(r, id, &i, &err));
    CHECK_EQ_STR(i.id, id);
    CHECK_EQ_STR(i.text, "stats count(*)");
    REQUIRE_EQ_INT(i.ngroups, 1);
    CHECK_EQ_STR(i.groups[0], "/g/one");
    REQUIRE(i.result != NULL);
    CHECK(i.result->stats.records_scanned == 1000.0);
    CHECK(i.create_ms > 0);
    CHECK(i.duration_ms >= 0);
    qreg_info_release(&i);
    qreg_free(r);
}

TEST(failure_keeps_the_error)
{
    struct qreg *r = registry(4, 0, 10);
    char id[QREG_ID_LEN + 1];
    struct sl_err err = {0};
    struct qreg_info i;

    REQUIRE_OK(start(r, fake_new(FAKE_FAIL), "/g", id, &err));
    REQUIRE(wait_status(r, id, QREG_FAILED));
    REQUIRE_OK(qreg_get(r, id, &i, &err));
    CHECK_EQ_INT(i.error.code, SL_LIMIT);
    CHECK(strstr(i.error.msg, "--query-mem") != NULL);
    CHECK(i.result == NULL);
    qreg_info_release(&i);
    qreg_free(r);
}

TEST(stop_running_then_stop_finished_is_invalid)
{
    struct qreg *r = registry(4, 0, 10);
    char id[QREG_ID_LEN + 1];
    struct sl_err err = {0};
    int before = atomic_load(&destroyed);

    REQUIRE_OK(start(r, fake_new(FAKE_BLOCK), "/g", id, &err));
    REQUIRE(wait_status(r, id, QREG_RUNNING));
    REQUIRE_OK(qreg_stop(r, id, &err));
    REQUIRE(wait_status(r, id, QREG_CANCELLED));
    CHECK_EQ_INT(qreg_stop(r, id, &err), SL_INVALID);
    CHECK(strstr(err.msg, "not running") != NULL);
    CHECK(strstr(err.msg, "Cancelled") != NULL);
    sl_err_clear(&err);
    CHECK_EQ_INT(qreg_stop(r, "00000000-0000-4000-8000-000000000000", &err),
                 SL_NOT_FOUND);
    sl_err_clear(&err);
    CHECK_EQ_INT(qreg_get(r, "nope", &(struct qreg_info){0}, &err),
                 SL_NOT_FOUND);
    CHECK(strstr(err.msg, "nope") != NULL);
    qreg_free(r);
    CHECK_EQ_INT(atomic_load(&destroyed) - before, 1);
}

TEST(cap_on_active_queries)
{
    struct qreg *r = registry(2, 0, 10);
    char a[QREG_ID_LEN + 1], b[QREG_ID_LEN + 1], c[QREG_ID_LEN + 1];
    struct sl_err err = {0};

    REQUIRE_OK(start(r, fake_new(FAKE_BLOCK), "/g", a, &err));
    REQUIRE_OK(start(r, fake_new(FAKE_BLOCK), "/g", b, &err));
    CHECK_EQ_INT(start(r, fake_new(FAKE_BLOCK), "/g", c, &err), SL_LIMIT);
    CHECK(strstr(err.msg, "limit is 2") != NULL);
    sl_err_clear(&err);
    REQUIRE_OK(qreg_stop(r, a, &err));
    REQUIRE(wait_status(r, a, QREG_CANCELLED));
    CHECK_OK(start(r, fake_new(FAKE_BLOCK), "/g", c, &err));
    qreg_free(r);      /* cancels b and c */
}

TEST(timeout_ends_as_timeout_with_message)
{
    struct qreg *r = registry(4, 50, 10);
    char id[QREG_ID_LEN + 1];
    struct sl_err err = {0};
    struct qreg_info i;

    REQUIRE_OK(start(r, fake_new(FAKE_BLOCK), "/g", id, &err));
    REQUIRE(wait_status(r, id, QREG_TIMEOUT));
    REQUIRE_OK(qreg_get(r, id, &i, &err));
    CHECK_EQ_INT(i.error.code, SL_TIMEOUT);
    CHECK(strstr(i.error.msg, "50 ms") != NULL);
    CHECK(i.result != NULL);       /* the partial stays readable */
    qreg_info_release(&i);
    qreg_free(r);
}

TEST(snapshot_held_stays_while_query_publishes)
{
    struct qreg *r = registry(4, 0, 10);
    struct fake *f = fake_new(FAKE_GATE);
    atomic_bool gate;
    atomic_int published;
    char id[QREG_ID_LEN + 1];
    struct sl_err err = {0};
    struct qreg_info held, later;
    double seen;
    int64_t end;

    atomic_init(&gate, false);
    atomic_init(&published, 0);
    f->gate = &gate;
    f->published = &published;
    REQUIRE_OK(start(r, f, "/g", id, &err));
    end = sl_mono_ms() + 5000;
    while (atomic_load(&published) < 2 && sl_mono_ms() < end)
        usleep(1000);
    REQUIRE_OK(qreg_get(r, id, &held, &err));
    CHECK_EQ_INT(held.status, QREG_RUNNING);
    REQUIRE(held.result != NULL);
    seen = held.result->stats.records_scanned;
    int target = atomic_load(&published) + 5;
    while (atomic_load(&published) < target && sl_mono_ms() < end)
        usleep(1000);
    CHECK(held.result->stats.records_scanned == seen);  /* same snapshot */
    REQUIRE_OK(qreg_get(r, id, &later, &err));
    REQUIRE(later.result != NULL);
    CHECK(later.result->stats.records_scanned > seen);  /* a newer one */
    qreg_info_release(&later);
    atomic_store(&gate, true);
    REQUIRE(wait_status(r, id, QREG_COMPLETE));
    CHECK(held.result->stats.records_scanned == seen);
    qreg_info_release(&held);
    qreg_free(r);
}

struct wake {
    atomic_int calls;
    atomic_bool ended;
};

static void on_wake(void *ctx, bool ended)
{
    struct wake *w = ctx;
    atomic_store(&w->ended, ended);
    atomic_fetch_add(&w->calls, 1);
}

static bool wait_calls(struct wake *w, int n)
{
    int64_t end = sl_mono_ms() + 5000;
    while (atomic_load(&w->calls) < n && sl_mono_ms() < end)
        usleep(1000);
    return atomic_load(&w->calls) >= n;
}

TEST(waiter_fires_once_when_the_query_ends)
{
    struct qreg *r = registry(4, 0, 10);
    char id[QREG_ID_LEN + 1];
    struct sl_err err = {0};
    struct wake w = {0};
    struct qreg_waiter qw = {.fn = on_wake, .ctx = &w};
    bool ended = true;

    REQUIRE_OK(start(r, fake_new(FAKE_BLOCK), "/g", id, &err));
    qw.deadline_ms = sl_mono_ms() + 60000;
    REQUIRE_OK(qreg_wait(r, id, &qw, &ended, &err));
    CHECK(!ended);
    usleep(20000);
    CHECK_EQ_INT(atomic_load(&w.calls), 0);
    REQUIRE_OK(qreg_stop(r, id, &err));
    REQUIRE(wait_calls(&w, 1));
    CHECK(atomic_load(&w.ended));
    REQUIRE_OK(qreg_wait(r, id, &qw, &ended, &err));   /* already over */
    CHECK(ended);
    usleep(20000);
    CHECK_EQ_INT(atomic_load(&w.calls), 1);
    qreg_free(r);
}

TEST(waiter_deadline_passes_first)
{
    struct qreg *r = registry(4, 0, 10);
    char id[QREG_ID_LEN + 1];
    struct sl_err err = {0};
    struct wake w = {0};
    struct qreg_waiter qw = {.fn = on_wake, .ctx = &w};
    bool ended;
    int64_t t0 = sl_mono_ms();

    atomic_store(&w.ended, true);
    REQUIRE_OK(start(r, fake_new(FAKE_BLOCK), "/g", id, &err));
    qw.deadline_ms = t0 + 30;
    REQUIRE_OK(qreg_wait(r, id, &qw, &ended, &err));
    REQUIRE(wait_calls(&w, 1));
    CHECK(!atomic_load(&w.ended));
    CHECK(sl_mono_ms() - t0 >= 30);
    CHECK(wait_status(r, id, QREG_RUNNING));   /* the query goes on */
    REQUIRE_OK(qreg_stop(r, id, &err));
    REQUIRE(wait_status(r, id, QREG_CANCELLED));
    CHECK_EQ_INT(atomic_load(&w.calls), 1);
    qreg_free(r);
}

struct collect {
    int n;
    char ids[16][QREG_ID_LEN + 1];
};

static bool collect_one(void *ctx, const struct qreg_info *i)
{
    struct collect *c = ctx;
    if (c->n < 16)
        memcpy(c->ids[c->n++], i->id, QREG_ID_LEN + 1);
    return true;
}

TEST(list_filters_newest_first_and_keeps_at_most_max_kept)
{
    struct qreg *r = registry(8, 0, 3);
    char ids[5][QREG_ID_LEN + 1], blk[QREG_ID_LEN + 1];
    struct sl_err err = {0};
    struct collect c = {0};

    for (int i = 0; i < 5; i++) {
        REQUIRE_OK(start(r, fake_new(FAKE_COMPLETE), i % 2 ? "/odd" : "/even",
                         ids[i], &err));
        REQUIRE(wait_status(r, ids[i], QREG_COMPLETE));
    }
    REQUIRE_OK(start(r, fake_new(FAKE_BLOCK), "/even", blk, &err));
    REQUIRE(wait_status(r, blk, QREG_RUNNING));
    qreg_list(r, false, QREG_RUNNING, NULL, collect_one, &c);
    REQUIRE_EQ_INT(c.n, 4);            /* 3 finished + the running one */
    CHECK_EQ_STR(c.ids[0], blk);
    CHECK_EQ_STR(c.ids[1], ids[4]);
    CHECK_EQ_STR(c.ids[3], ids[2]);
    CHECK_EQ_INT(qreg_get(r, ids[0], &(struct qreg_info){0}, &err), SL_NOT_FOUND);
    memset(&c, 0, sizeof(c));
    qreg_list(r, true, QREG_RUNNING, NULL, collect_one, &c);
    REQUIRE_EQ_INT(c.n, 1);
    CHECK_EQ_STR(c.ids[0], blk);
    memset(&c, 0, sizeof(c));
    qreg_list(r, true, QREG_COMPLETE, "/odd", collect_one, &c);
    REQUIRE_EQ_INT(c.n, 1);
    CHECK_EQ_STR(c.ids[0], ids[3]);
    qreg_free(r);
}

TEST(finished_queries_expire_after_keep_ms)
{
    struct qreg_config cfg;
    struct sl_err err = {0};
    struct collect c = {0};
    char id[QREG_ID_LEN + 1];
    struct qreg *r;

    qreg_config_defaults(&cfg);
    cfg.keep_ms = 30;
    r = qreg_create(&cfg, &err);
    REQUIRE(r != NULL);
    REQUIRE_OK(start(r, fake_new(FAKE_COMPLETE), "/g", id, &err));
    REQUIRE(wait_status(r, id, QREG_COMPLETE));
    usleep(60000);
    qreg_list(r, false, QREG_RUNNING, NULL, collect_one, &c);
    CHECK_EQ_INT(c.n, 0);
    CHECK_EQ_INT(qreg_get(r, id, &(struct qreg_info){0}, &err), SL_NOT_FOUND);
    qreg_free(r);
}

TEST(shutdown_cancels_answers_waiters_and_refuses_new_queries)
{
    struct qreg *r = registry(4, 0, 10);
    char id[QREG_ID_LEN + 1], id2[QREG_ID_LEN + 1];
    struct sl_err err = {0};
    struct wake w = {0};
    struct qreg_waiter qw = {.fn = on_wake, .ctx = &w};
    struct qreg_info i;
    bool ended;
    int before = atomic_load(&destroyed);

    REQUIRE_OK(start(r, fake_new(FAKE_BLOCK), "/g", id, &err));
    qw.deadline_ms = sl_mono_ms() + 60000;
    REQUIRE_OK(qreg_wait(r, id, &qw, &ended, &err));
    qreg_shutdown(r);
    REQUIRE(wait_calls(&w, 1));
    CHECK(atomic_load(&w.ended));
    REQUIRE_OK(qreg_get(r, id, &i, &err));
    CHECK_EQ_INT(i.status, QREG_CANCELLED);
    qreg_info_release(&i);
    CHECK_EQ_INT(start(r, fake_new(FAKE_COMPLETE), "/g", id2, &err),
                 SL_UNAVAILABLE);
    qreg_free(r);
    CHECK_EQ_INT(atomic_load(&destroyed) - before, 2);
}

/* Many threads start, read, stop and list at once (for TSan). */
struct hammer {
    struct qreg *r;
    int seed;
};

static void *hammer_main(void *arg)
{
    struct hammer *h = arg;
    for (int k = 0; k < 50; k++) {
        char id[QREG_ID_LEN + 1];
        struct sl_err err = {0};
        struct qreg_info i;
        struct collect c = {0};
        struct fake *f = fake_new((k + h->seed) % 3 == 0 ? FAKE_BLOCK : FAKE_COMPLETE);
        f->partials = 2;
        if (start(h->r, f, "/h", id, &err) != SL_OK)
            continue;           /* the cap: fine */
        if (qreg_get(h->r, id, &i, &err) == SL_OK) {
            if (i.result != NULL)
                (void)i.result->stats.records_scanned;
            qreg_info_release(&i);
        }
        if (qreg_stop(h->r, id, &err) != SL_OK)
            sl_err_clear(&err);     /* already over: fine */
        qreg_list(h->r, false, QREG_RUNNING, "/h", collect_one, &c);
    }
    return NULL;
}

TEST(concurrent_use)
{
    struct qreg *r = registry(6, 0, 20);
    pthread_t t[4];
    struct hammer h[4];

    for (int i = 0; i < 4; i++) {
        h[i] = (struct hammer){r, i};
        pthread_create(&t[i], NULL, hammer_main, &h[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    qreg_free(r);
    CHECK(1);
}

TEST_MAIN()
