/* tests/unit/test_exec.c: the query executor end to end over a real store:
 * generated events go in through the writer, queries run through
 * qx_compile/qx_run, and every answer is checked against values computed
 * here, independently, from the generated data (counts, sums, averages,
 * percentiles, distinct counts, bins, sort order, top-k, dedup, parse,
 * time range edges, stream pruning, partial results and cancellation). */
#include "common/alloc.h"
#include "query/exec.h"
#include "storage/store.h"
#include "storage/writer.h"
#include "tests/harness.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[256];

#define NEV   6000              /* events per stream */
#define NSTR  3                 /* streams */
#define T0    1700000000000LL   /* first timestamp */
#define STEP  1000              /* ms between events of a stream */

/* The generated events, kept for computing expected answers. */
struct gen {
    int64_t ts;
    int stream;
    int user;       /* 0..9 */
    int ms;         /* 0..999 */
    bool error;
    char msg[160];
};

static struct gen events[NSTR * NEV];
static int64_t group_id, stream_ids[NSTR];
static const char *const stream_names[NSTR] = {"web-1", "web-2", "batch"};

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- ingest through the writer ------------------------------------------ */

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
};

static void job_done(struct wr_job *job, void *ctx)
{
    struct waiter *w = ctx;
    (void)job;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void ingest(struct store *s, int64_t gid, int64_t sid, const struct gen *g,
                   int n)
{
    struct seg_event *ev = sl_calloc((size_t)n, sizeof(*ev));
    struct wr_piece *pieces = sl_calloc((size_t)n, sizeof(*pieces));
    struct buf blobs;
    size_t np = 0;
    struct sl_err err = {0};
    struct waiter w = {.done = false};
    struct wr_job job;

    for (int i = 0; i < n; i++)
        ev[i] = (struct seg_event){.ts = g[i].ts, .ingest = g[i].ts + 7, .seq = i,
                                   .msg = g[i].msg, .len = (uint32_t)strlen(g[i].msg)};
    buf_init(&blobs, SIZE_MAX);
    if (wr_encode_pieces(ev, (size_t)n, true, NULL, &blobs, pieces, &np, &err) != SL_OK)
        abort();
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    job = (struct wr_job){.kind = WR_INGEST, .stream_id = sid, .group_id = gid,
                          .ev = ev, .n = (size_t)n, .pieces = pieces, .n_pieces = np,
                          .blobs = blobs.data, .ingest_ms = g[0].ts, .done = job_done,
                          .ctx = &w};
    wr_submit(store_writer(s), &job);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    CHECK_EQ_INT(job.status, SL_OK);
    buf_fini(&blobs);
    sl_free(ev);
    sl_free(pieces);
}

static struct store *store;

static void setup(void)
{
    struct sl_err err = {0};
    char cmd[300];
    struct store_opts o = {.dir = dir, .sync = DB_SYNC_NORMAL, .read_conns = 2};

    snprintf(dir, sizeof(dir), "/tmp/sluice-test-exec-%d", (int)getpid());
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        abort();
    store = store_open(&o, &err);
    if (store == NULL) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        abort();
    }
    for (int s = 0; s < NSTR; s++) {
        if (store_ensure_stream(store, "app", stream_names[s], &group_id,
                                &stream_ids[s], &err) != SL_OK)
            abort();
        for (int i = 0; i < NEV; i++) {
            struct gen *g = &events[s * NEV + i];
            g->ts = T0 + (int64_t)i * STEP + s;
            g->stream = s;
            g->user = (int)(next_rand() % 10);
            g->ms = (int)(next_rand() % 1000);
            g->error = next_rand() % 7 == 0;
            snprintf(g->msg, sizeof(g->msg), "%s user=u%d ms=%d path=/p%d",
                     g->error ? "ERROR" : "INFO", g->user, g->ms, g->user % 3);
        }
        /* Several batches, so a stream has several segments. */
        for (int b = 0; b < NEV; b += 1000)
            ingest(store, group_id, stream_ids[s], &events[s * NEV + b], 1000);
    }
}

/* ---- running queries ------------------------------------------------------ */

struct got {
    struct qx_result *final;
    int partials;
};

static void publish(void *ctx, struct qx_result *r, bool final)
{
    struct got *g = ctx;
    if (final) {
        qx_result_free(g->final);
        g->final = r;
    } else {
        g->partials++;
        qx_result_free(r);
    }
}

/* Runs text over [start, end]; returns the result (NULL and err on failure). */
static struct qx_result *run_group(int64_t gid, const char *gname, const char *text,
                                   int64_t start, int64_t end, int64_t limit,
                                   struct sl_err *err)
{
    struct qx *q;
    struct qx_opts o = {.workers = 2, .mem_cap = 64 << 20, .now_ms = T0 + 3600000};
    struct qx_group g = {.id = gid, .name = gname};
    struct got got = {0};

    if (qx_compile(text, strlen(text), start, end, limit, &o, &q, err) != SL_OK)
        return NULL;
    if (qx_add_group(q, &g, err) != SL_OK || qx_run(q, store, publish, &got, err) != SL_OK) {
        qx_free(q);
        qx_result_free(got.final);
        return NULL;
    }
    qx_free(q);
    return got.final;
}

static struct qx_result *run_range(const char *text, int64_t start, int64_t end,
                                   int64_t limit, struct sl_err *err)
{
    return run_group(group_id, "app", text, start, end, limit, err);
}

static struct qx_result *run(const char *text)
{
    struct sl_err err = {0};
    struct qx_result *r = run_range(text, T0, T0 + 10LL * NEV * STEP, 0, &err);
    if (r == NULL)
        fprintf(stderr, "  query failed: %s\n    %s\n", text, err.msg);
    return r;
}

static const char *cell(const struct qx_row *row, const char *field)
{
    for (size_t i = 0; i < row->ncells; i++) {
        if (strcmp(row->cells[i].field, field) == 0)
            return row->cells[i].value;
    }
    return NULL;
}

static double num(const struct qx_row *row, const char *field)
{
    const char *v = cell(row, field);
    return v ? strtod(v, NULL) : (double)NAN;
}

/* @timestamp as results print it, computed with gmtime_r. */
static void fmt_ts(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char date[24];
    gmtime_r(&secs, &tm);
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, 32, "%.19s.%03u", date, (unsigned)(ms % 1000));
}

/* ---- tests ----------------------------------------------------------------- */

TEST(setup_store)
{
    setup();
    REQUIRE(store != NULL);
}

TEST(default_newest_first_with_limit)
{
    struct qx_result *r = run("fields @timestamp, @message | limit 5");
    int64_t best[5];
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, 5);
    /* Expected: the 5 largest timestamps over all streams. */
    for (int k = 0; k < 5; k++) {
        int64_t m = INT64_MIN;
        for (int i = 0; i < NSTR * NEV; i++) {
            bool taken = false;
            for (int j = 0; j < k; j++)
                taken |= events[i].ts == best[j];
            if (!taken && events[i].ts > m)
                m = events[i].ts;
        }
        best[k] = m;
    }
    for (int k = 0; k < 5; k++) {
        char want[32];
        fmt_ts(best[k], want);
        CHECK_EQ_STR(cell(&r->rows[k], "@timestamp"), want);
        CHECK(cell(&r->rows[k], "@message") != NULL);
        /* Event rows end with @ptr. */
        CHECK_EQ_STR(r->rows[k].cells[r->rows[k].ncells - 1].field, "@ptr");
    }
    CHECK_EQ_INT((int64_t)r->stats.records_matched > 0, 1);
    qx_result_free(r);
}

TEST(count_with_term_filter)
{
    struct qx_result *r = run("filter @message like \"ERROR\" | stats count(*) as n");
    int want = 0;
    int64_t bytes = 0;
    for (int i = 0; i < NSTR * NEV; i++) {
        want += events[i].error;
        bytes += (int64_t)strlen(events[i].msg);
    }
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, 1);
    CHECK_EQ_INT((int64_t)num(&r->rows[0], "n"), want);
    /* events between two occurrences of the term are counted in bulk */
    CHECK_EQ_INT((int64_t)r->stats.records_scanned, NSTR * NEV);
    CHECK_EQ_INT((int64_t)r->stats.bytes_scanned, bytes);
    CHECK_EQ_INT((int64_t)r->stats.records_matched, want);
    qx_result_free(r);
}

TEST(parse_and_aggregate_by_user)
{
    struct qx_result *r = run(
        "parse @message \"user=* ms=* \" as user, ms\n"
        "| stats count(*) as n, sum(ms) as total, avg(ms) as mean, min(ms) as lo,\n"
        "        max(ms) as hi, count_distinct(ms) as d, stddev(ms) as sd,\n"
        "        pct(ms, 90) as p90 by user\n"
        "| sort user asc");
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, 10);
    for (int u = 0; u < 10; u++) {
        const struct qx_row *row = &r->rows[u];
        char name[16];
        int n = 0, lo = 1000, hi = -1, d = 0;
        double total = 0, mean, ss = 0, sd;
        bool seen[1000] = {false};
        int *vals = sl_calloc(NSTR * NEV, sizeof(int)), nv = 0;
        snprintf(name, sizeof(name), "u%d", u);
        CHECK_EQ_STR(cell(row, "user"), name);
        for (int i = 0; i < NSTR * NEV; i++) {
            if (events[i].user != u)
                continue;
            n++;
            total += events[i].ms;
            lo = events[i].ms < lo ? events[i].ms : lo;
            hi = events[i].ms > hi ? events[i].ms : hi;
            if (!seen[events[i].ms]) {
                seen[events[i].ms] = true;
                d++;
            }
            vals[nv++] = events[i].ms;
        }
        mean = total / n;
        for (int i = 0; i < nv; i++)
            ss += (vals[i] - mean) * (vals[i] - mean);
        sd = sqrt(ss / (n - 1));
        /* Nearest rank: sort and take ceil(0.9 n) - 1. */
        for (int i = 1; i < nv; i++) {
            int x = vals[i], j = i - 1;
            while (j >= 0 && vals[j] > x) {
                vals[j + 1] = vals[j];
                j--;
            }
            vals[j + 1] = x;
        }
        CHECK_EQ_INT((int64_t)num(row, "n"), n);
        CHECK_EQ_INT((int64_t)num(row, "total"), (int64_t)total);
        CHECK(fabs(num(row, "mean") - mean) < 1e-9);
        CHECK_EQ_INT((int64_t)num(row, "lo"), lo);
        CHECK_EQ_INT((int64_t)num(row, "hi"), hi);
        CHECK_EQ_INT((int64_t)num(row, "d"), d);
        CHECK(fabs(num(row, "sd") - sd) < 1e-6);
        CHECK_EQ_INT((int64_t)num(row, "p90"), vals[(int)ceil(0.9 * nv) - 1]);
        sl_free(vals);
    }
    qx_result_free(r);
}

TEST(sort_desc_limit_is_top_k)
{
    struct qx_result *r = run("parse @message \"ms=* \" as ms | sort ms desc | limit 7 "
                              "| display ms, @logStream");
    int top[7];
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, 7);
    for (int k = 0; k < 7; k++) {
        int best = -1, cnt = 0;
        /* k-th largest value counting duplicates. */
        for (int v = 999; v >= 0 && best < 0; v--) {
            for (int i = 0; i < NSTR * NEV; i++)
                cnt += events[i].ms == v;
            if (cnt > k)
                best = v;
        }
        top[k] = best;
        CHECK_EQ_INT((int64_t)num(&r->rows[k], "ms"), top[k]);
        CHECK_EQ_INT((int64_t)r->rows[k].ncells, 3); /* ms, @logStream, @ptr */
    }
    qx_result_free(r);
}

TEST(time_range_is_inclusive_and_prunes)
{
    struct sl_err err = {0};
    /* Stream 0 events are at T0 + i*STEP: [T0+1000, T0+3000] holds 3 of them,
     * stream 1 (offset 1 ms) 2, stream 2 (offset 2) 2. */
    struct qx_result *r = run_range("stats count(*) as n", T0 + 1000, T0 + 3000, 0, &err);
    REQUIRE(r != NULL);
    CHECK_EQ_INT((int64_t)num(&r->rows[0], "n"), 7);
    CHECK(r->stats.records_scanned < NSTR * NEV / 2);
    CHECK_EQ_INT((int64_t)(r->stats.records_scanned + r->stats.records_skipped), NSTR * NEV);
    CHECK(r->stats.segments_skipped > 0);
    CHECK(r->stats.bytes_skipped > 0);
    qx_result_free(r);
}

TEST(stream_constraint_prunes_segments)
{
    struct qx_result *r = run("filter @logStream = \"batch\" | stats count(*) as n by @logStream");
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, 1);
    CHECK_EQ_STR(cell(&r->rows[0], "@logStream"), "batch");
    CHECK_EQ_INT((int64_t)num(&r->rows[0], "n"), NEV);
    CHECK_EQ_INT((int64_t)r->stats.records_scanned, NEV);
    qx_result_free(r);
}

TEST(dedup_keeps_newest_per_key)
{
    struct qx_result *r = run("parse @message \"user=* \" as user | display user, @timestamp "
                              "| dedup user");
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, 10);
    for (size_t k = 0; k < r->nrows; k++) {
        const char *u = cell(&r->rows[k], "user");
        int64_t newest = INT64_MIN;
        char want[32];
        REQUIRE(u != NULL);
        for (int i = 0; i < NSTR * NEV; i++) {
            if (events[i].user == atoi(u + 1) && events[i].ts > newest)
                newest = events[i].ts;
        }
        /* Default order is newest first: each user's row is its newest. */
        fmt_ts(newest, want);
        CHECK_EQ_STR(cell(&r->rows[k], "@timestamp"), want);
        if (k > 0)
            CHECK(strcmp(cell(&r->rows[k - 1], "@timestamp"), cell(&r->rows[k], "@timestamp")) > 0);
    }
    qx_result_free(r);
}

TEST(second_stats_over_first)
{
    struct qx_result *r = run("parse @message \"user=* \" as user | stats count(*) as n by user "
                              "| stats sum(n) as total, count(*) as users");
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, 1);
    CHECK_EQ_INT((int64_t)num(&r->rows[0], "total"), NSTR * NEV);
    CHECK_EQ_INT((int64_t)num(&r->rows[0], "users"), 10);
    qx_result_free(r);
}

TEST(regex_parse_and_in_filter)
{
    struct qx_result *r = run("parse @message /user=(?<u>u\\d+) ms=(?<m>\\d+)/ "
                              "| filter u in [\"u1\", \"u2\"] and m >= 500 | stats count(*) as n");
    int want = 0;
    for (int i = 0; i < NSTR * NEV; i++)
        want += (events[i].user == 1 || events[i].user == 2) && events[i].ms >= 500;
    REQUIRE(r != NULL);
    CHECK_EQ_INT((int64_t)num(&r->rows[0], "n"), want);
    qx_result_free(r);
}

TEST(pattern_clusters_messages)
{
    /* Messages are "<LEVEL> user=uN ms=N path=/pN": two templates. */
    struct qx_result *r = run("pattern @message");
    int errors = 0;
    for (int i = 0; i < NSTR * NEV; i++)
        errors += events[i].error;
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, 2);
    CHECK_EQ_STR(cell(&r->rows[0], "@pattern"), "INFO user=<*> ms=<*> path=<*>");
    CHECK_EQ_INT((int64_t)num(&r->rows[0], "@sampleCount"), NSTR * NEV - errors);
    CHECK_EQ_STR(cell(&r->rows[0], "@severityLabel"), "INFO");
    CHECK_EQ_STR(cell(&r->rows[1], "@pattern"), "ERROR user=<*> ms=<*> path=<*>");
    CHECK_EQ_INT((int64_t)num(&r->rows[1], "@sampleCount"), errors);
    CHECK(fabs(num(&r->rows[1], "@ratio") - (double)errors / (NSTR * NEV)) < 1e-9);
    qx_result_free(r);
}

/* ---- discovered fields: VPC flow logs, JSON, Lambda ------------------------ */

#define NFLOW 5000

struct flow {
    int64_t ts;
    int src;        /* 10.0.0.<src> */
    int port;
    int bytes;
    bool reject, nodata;
    int lat, status, path;   /* the JSON twin of the event */
};

static struct flow flows[NFLOW];
static int64_t flow_gid, json_gid, lambda_gid;

TEST(setup_discovery_groups)
{
    struct gen *g = sl_calloc(NFLOW, sizeof(*g));
    int64_t sid;
    struct sl_err err = {0};

    REQUIRE(g != NULL);
    REQUIRE_OK(store_ensure_stream(store, "flow", "eni-1-all", &flow_gid, &sid, &err));
    for (int i = 0; i < NFLOW; i++) {
        struct flow *f = &flows[i];
        f->ts = T0 + (int64_t)i * 997;
        f->src = (int)(next_rand() % 40);
        f->port = (int)(next_rand() % 4) * 1000 + 22;
        f->bytes = (int)(next_rand() % 100000);
        f->reject = next_rand() % 4 == 0;
        f->nodata = next_rand() % 50 == 0;
        g[i].ts = f->ts;
        if (f->nodata)
            snprintf(g[i].msg, sizeof(g[i].msg),
                     "2 123456789012 eni-1 - - - - - - - %lld %lld - NODATA",
                     (long long)(f->ts / 1000), (long long)(f->ts / 1000 + 60));
        else
            snprintf(g[i].msg, sizeof(g[i].msg),
                     "2 123456789012 eni-1 10.0.0.%d 172.31.0.1 %d 443 6 3 %d %lld %lld %s OK",
                     f->src, f->port, f->bytes, (long long)(f->ts / 1000),
                     (long long)(f->ts / 1000 + 60), f->reject ? "REJECT" : "ACCEPT");
    }
    ingest(store, flow_gid, sid, g, NFLOW);
    REQUIRE_OK(store_ensure_stream(store, "json", "app-1", &json_gid, &sid, &err));
    for (int i = 0; i < NFLOW; i++) {
        struct flow *f = &flows[i];
        f->lat = (int)(next_rand() % 2000);
        f->status = next_rand() % 10 == 0 ? 503 : 200;
        f->path = (int)(next_rand() % 3);
        snprintf(g[i].msg, sizeof(g[i].msg),
                 "{\"req\":{\"path\":\"/p%d\",\"status\":%d},\"latencyMs\":%d,\"ok\":%s}",
                 f->path, f->status, f->lat, f->status == 200 ? "true" : "false");
    }
    ingest(store, json_gid, sid, g, NFLOW);
    REQUIRE_OK(store_ensure_stream(store, "lambda", "2024/01/01/[$LATEST]abc", &lambda_gid,
                                   &sid, &err));
    for (int i = 0; i < NFLOW; i++) {
        snprintf(g[i].msg, sizeof(g[i].msg),
                 "REPORT RequestId: r-%d\tDuration: %d.5 ms\tBilled Duration: %d ms\t"
                 "Memory Size: 128 MB\tMax Memory Used: 70 MB", i, i % 100, i % 100 + 1);
    }
    ingest(store, lambda_gid, sid, g, NFLOW);
    sl_free(g);
}

static struct qx_result *run_in(int64_t gid, const char *name, const char *text)
{
    struct sl_err err = {0};
    struct qx_result *r = run_group(gid, name, text, T0, T0 + 100LL * NFLOW * 1000, 0, &err);
    if (r == NULL)
        fprintf(stderr, "  query failed: %s\n    %s\n", text, err.msg);
    return r;
}

TEST(flow_rejections_by_source_top_3)
{
    struct qx_result *r = run_in(flow_gid, "flow",
        "filter action=\"REJECT\" | stats count(*) as c by srcAddr | sort c desc | limit 3");
    int counts[40] = {0};
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, 3);
    for (int i = 0; i < NFLOW; i++)
        counts[flows[i].src] += flows[i].reject && !flows[i].nodata;
    for (size_t k = 0; k < 3; k++) {
        const char *a = cell(&r->rows[k], "srcAddr");
        REQUIRE(a != NULL);
        CHECK_EQ_INT((int64_t)num(&r->rows[k], "c"), counts[atoi(a + 7)]);
        for (int x = 0; x < 40; x++)   /* nobody beats the k-th */
            CHECK(k > 0 || counts[x] <= counts[atoi(a + 7)]);
    }
    qx_result_free(r);
}

TEST(flow_bytes_by_5_minute_bins)
{
    struct qx_result *r = run_in(flow_gid, "flow", "stats sum(bytes) as b by bin(5m) as t | sort t asc");
    int64_t first = (flows[0].ts / 300000) * 300000, last = (flows[NFLOW - 1].ts / 300000) * 300000;
    int64_t nbins = (last - first) / 300000 + 1;
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, nbins);
    for (int64_t b = 0; b < nbins; b++) {
        int64_t lo = first + b * 300000, sum = 0;
        char want[32];
        for (int i = 0; i < NFLOW; i++)
            sum += (!flows[i].nodata && flows[i].ts >= lo && flows[i].ts < lo + 300000) ? flows[i].bytes : 0;
        fmt_ts(lo, want);
        CHECK_EQ_STR(cell(&r->rows[b], "t"), want);
        CHECK_EQ_INT((int64_t)num(&r->rows[b], "b"), sum);
    }
    qx_result_free(r);
}

TEST(flow_dash_is_absent)
{
    struct qx_result *r = run_in(flow_gid, "flow",
        "stats count(*) as all, count(srcAddr) as with_src, count_distinct(dstPort) as ports "
        "by logStatus | sort logStatus asc");
    int nodata = 0;
    for (int i = 0; i < NFLOW; i++)
        nodata += flows[i].nodata;
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, 2);
    CHECK_EQ_STR(cell(&r->rows[0], "logStatus"), "NODATA");
    CHECK_EQ_INT((int64_t)num(&r->rows[0], "all"), nodata);
    CHECK_EQ_INT((int64_t)num(&r->rows[0], "with_src"), 0);
    CHECK_EQ_STR(cell(&r->rows[1], "logStatus"), "OK");
    CHECK_EQ_INT((int64_t)num(&r->rows[1], "with_src"), NFLOW - nodata);
    CHECK_EQ_INT((int64_t)num(&r->rows[1], "ports"), 1);
    qx_result_free(r);
}

TEST(json_nested_fields_and_percentile)
{
    struct qx_result *r = run_in(json_gid, "json",
        "filter req.status = 200 and ok | stats pct(latencyMs, 50) as p50, count(*) as n "
        "by req.path | sort req.path");
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, 3);
    for (size_t k = 0; k < 3; k++) {
        /* sort without asc/desc is descending: /p2, /p1, /p0 */
        int path = 2 - (int)k, n = 0;
        int *v = sl_calloc(NFLOW, sizeof(int));
        char want[8];
        snprintf(want, sizeof(want), "/p%u", (unsigned)path % 10u);
        CHECK_EQ_STR(cell(&r->rows[k], "req.path"), want);
        for (int i = 0; i < NFLOW; i++) {
            if (flows[i].status == 200 && flows[i].path == path)
                v[n++] = flows[i].lat;
        }
        for (int i = 1; i < n; i++) {
            int x = v[i], j = i - 1;
            while (j >= 0 && v[j] > x) {
                v[j + 1] = v[j];
                j--;
            }
            v[j + 1] = x;
        }
        CHECK_EQ_INT((int64_t)num(&r->rows[k], "n"), n);
        CHECK_EQ_INT((int64_t)num(&r->rows[k], "p50"), v[(int)ceil(0.5 * n) - 1]);
        sl_free(v);
    }
    qx_result_free(r);
}

TEST(lambda_report_fields)
{
    struct qx_result *r = run_in(lambda_gid, "lambda",
        "filter @type = \"REPORT\" | stats avg(@duration) as d, max(@billedDuration) as b, "
        "max(@maxMemoryUsed / 1000 / 1000) as mb");
    double sum = 0;
    for (int i = 0; i < NFLOW; i++)
        sum += i % 100 + 0.5;
    REQUIRE(r != NULL);
    REQUIRE_EQ_INT(r->nrows, 1);
    CHECK(fabs(num(&r->rows[0], "d") - sum / NFLOW) < 1e-9);
    CHECK_EQ_INT((int64_t)num(&r->rows[0], "b"), 100);
    CHECK_EQ_INT((int64_t)num(&r->rows[0], "mb"), 70);
    qx_result_free(r);
}

/* Cancels the query from the publish callback after the first partial. */
struct cancel_ctx {
    struct qx *q;
    int partials;
    bool final;
    int64_t last_n;
    bool grew;
};

static void publish_then_cancel(void *ctx, struct qx_result *r, bool final)
{
    struct cancel_ctx *c = ctx;
    if (final)
        c->final = true;
    else
        c->partials++;
    if (r->nrows == 1) {
        int64_t n = (int64_t)num(&r->rows[0], "n");
        c->grew |= n > c->last_n;
        c->last_n = n;
    }
    qx_result_free(r);
    if (c->partials == 2)
        qx_cancel(c->q);
}

TEST(partial_results_then_cancel)
{
    const char *text = "stats count(*) as n";
    struct qx_opts o = {.workers = 1, .mem_cap = 64 << 20, .round_bytes = 1, .publish_ms = -1};
    struct qx_group g = {.id = group_id, .name = "app"};
    struct cancel_ctx c = {0};
    struct sl_err err = {0};

    REQUIRE_OK(qx_compile(text, strlen(text), T0, T0 + 10LL * NEV * STEP, 0, &o, &c.q, &err));
    REQUIRE_OK(qx_add_group(c.q, &g, &err));
    c.last_n = 0;
    /* One segment a round, a partial result after each: stopped after two. */
    CHECK_EQ_INT(qx_run(c.q, store, publish_then_cancel, &c, &err), SL_CANCELLED);
    CHECK_EQ_INT(c.partials, 2);
    CHECK(!c.final);
    CHECK(c.grew);
    CHECK(c.last_n > 0 && c.last_n < NSTR * NEV);
    qx_free(c.q);
}

TEST(partial_results_match_the_final_one)
{
    const char *text = "parse @message \"user=* \" as user | stats count(*) as n by user | sort n desc";
    struct qx_opts o = {.workers = 2, .mem_cap = 64 << 20, .round_bytes = 1, .publish_ms = -1};
    struct qx_group g = {.id = group_id, .name = "app"};
    struct got got = {0};
    struct qx *q;
    struct sl_err err = {0};
    int64_t total = 0;

    REQUIRE_OK(qx_compile(text, strlen(text), T0, T0 + 10LL * NEV * STEP, 0, &o, &q, &err));
    REQUIRE_OK(qx_add_group(q, &g, &err));
    REQUIRE_OK(qx_run(q, store, publish, &got, &err));
    CHECK(got.partials >= 3);
    REQUIRE(got.final != NULL);
    for (size_t i = 0; i < got.final->nrows; i++)
        total += (int64_t)num(&got.final->rows[i], "n");
    CHECK_EQ_INT(total, NSTR * NEV);
    qx_result_free(got.final);
    qx_free(q);
}

/* Runs text with one segment a round (a merge of both workers' groups
 * after every segment) and returns the final result. */
static struct qx_result *run_small_rounds(const char *text)
{
    struct qx_opts o = {.workers = 2, .mem_cap = 64 << 20, .round_bytes = 1,
                        .publish_ms = -1, .now_ms = T0 + 3600000};
    struct qx_group g = {.id = group_id, .name = "app"};
    struct got got = {0};
    struct qx *q;
    struct sl_err err = {0};

    if (qx_compile(text, strlen(text), T0, T0 + 10LL * NEV * STEP, 0, &o, &q, &err) != SL_OK)
        return NULL;
    if (qx_add_group(q, &g, &err) != SL_OK || qx_run(q, store, publish, &got, &err) != SL_OK) {
        qx_result_free(got.final);
        got.final = NULL;
    }
    qx_free(q);
    return got.final;
}

TEST(merging_partial_groups_changes_no_cell)
{
    /* Groups that meet in several workers and rounds are merged, groups
     * new to the merged table are moved into it: every aggregation, those
     * that keep memory of their own included, must come out the same as
     * from one round. */
    const char *text =
        "parse @message \"user=* ms=* path=*\" as user, ms, path"
        " | stats count(*) as n, sum(ms) as s, avg(ms) as a, min(ms) as lo,"
        " max(ms) as hi, pct(ms, 90) as p, stddev(ms) as sd,"
        " count_distinct(path) as d, earliest(path) as e, latest(path) as l,"
        " sortsFirst(path) as f by user, bin(1m) as t | sort user, t";
    struct qx_result *one = run(text), *many = run_small_rounds(text);

    REQUIRE(one != NULL && many != NULL);
    REQUIRE(one->nrows > 10);
    REQUIRE_EQ_INT(many->nrows, one->nrows);
    for (size_t i = 0; i < one->nrows; i++) {
        REQUIRE_EQ_INT(many->rows[i].ncells, one->rows[i].ncells);
        for (size_t c = 0; c < one->rows[i].ncells; c++) {
            const char *f = one->rows[i].cells[c].field;
            const char *want = one->rows[i].cells[c].value;
            const char *got = cell(&many->rows[i], f);
            if (strcmp(f, "a") == 0 || strcmp(f, "sd") == 0)
                CHECK(got != NULL && fabs(strtod(got, NULL) - strtod(want, NULL)) <
                                         1e-9 * (1 + fabs(strtod(want, NULL))));
            else
                CHECK_EQ_STR(got, want);
        }
    }
    qx_result_free(one);
    qx_result_free(many);
}

TEST(malformed_query_never_scans)
{
    struct sl_err err = {0};
    struct qx_result *r = run_range("stats count(*) by", T0, T0 + 1, 0, &err);
    CHECK(r == NULL);
    CHECK_EQ_INT(err.code, SL_MALFORMED_QUERY);
    CHECK_EQ_INT(err.line, 1);
}

TEST(api_limit_caps_rows)
{
    struct sl_err err = {0};
    struct qx_result *r = run_range("fields @message", T0, T0 + 10LL * NEV * STEP, 3, &err);
    REQUIRE(r != NULL);
    CHECK_EQ_INT(r->nrows, 3);
    qx_result_free(r);
}

TEST(teardown)
{
    char cmd[300];
    store_close(store);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

TEST_MAIN()
