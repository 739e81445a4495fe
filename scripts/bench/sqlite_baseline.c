/* scripts/bench/sqlite_baseline.c: sluice-sqlite-baseline, what a user would
 * hand-roll instead of Sluice: one row per event (ts, stream, message) in a
 * plain SQLite table, WAL, one transaction per batch of the same size the
 * load generator posts, single-threaded. Prints events/s and file size over
 * raw bytes, once per synchronous mode. Knows nothing of the server. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CWL_EVENT_OVERHEAD 26           /* CloudWatch counts message bytes + 26 per event */
#define CWL_MAX_BATCH_EVENTS 10000

struct opts {
    const char *input;          /* sluice-gen rows: ts<TAB>message */
    const char *db;             /* database path; -wal and -shm go next to it */
    const char *sync;           /* full, normal or both */
    const char *label;
    long limit;                 /* rows to use (0 = all) */
    long batch_bytes;           /* CloudWatch-counted bytes per transaction */
    long batch_events;          /* exact rows per transaction (0 = fill batch_bytes) */
    long streams;               /* batches go to streams s-0 .. s-(N-1) in turn */
    bool index;                 /* also keep an index on (stream, ts) */
};

/* The input rows, borrowed from one buffer holding the whole file. */
struct rows {
    char *buf;
    size_t n;
    int64_t *ts;
    const char **msg;
    uint32_t *len;
    uint64_t raw;               /* message bytes */
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "sluice-sqlite-baseline: out of memory\n");
        exit(1);
    }
    return p;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static bool parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return false;
    *out = v;
    return true;
}

static void rows_load(const char *path, long limit, struct rows *r)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        fprintf(stderr, "sluice-sqlite-baseline: cannot read %s: %s\n", path, strerror(errno));
        exit(1);
    }
    size_t size = (size_t)st.st_size;
    r->buf = xmalloc(size + 1);
    if (fread(r->buf, 1, size, f) != size) {
        fprintf(stderr, "sluice-sqlite-baseline: short read on %s\n", path);
        exit(1);
    }
    fclose(f);
    r->buf[size] = '\n';

    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += r->buf[i] == '\n';
    if (limit > 0 && (size_t)limit < lines)
        lines = (size_t)limit;
    r->ts = xmalloc(lines * sizeof(*r->ts));
    r->msg = xmalloc(lines * sizeof(*r->msg));
    r->len = xmalloc(lines * sizeof(*r->len));
    r->n = 0;
    r->raw = 0;
    char *p = r->buf, *end = r->buf + size;
    while (p < end && r->n < lines) {
        char *nl = memchr(p, '\n', (size_t)(end - p) + 1);
        char *tab = memchr(p, '\t', (size_t)(nl - p));
        if (!tab) {
            fprintf(stderr, "sluice-sqlite-baseline: %s row %zu has no TAB\n", path, r->n + 1);
            exit(1);
        }
        char *q;
        errno = 0;
        long long ts = strtoll(p, &q, 10);
        if (errno || q != tab) {
            fprintf(stderr, "sluice-sqlite-baseline: %s row %zu: bad timestamp\n", path, r->n + 1);
            exit(1);
        }
        r->ts[r->n] = ts;
        r->msg[r->n] = tab + 1;
        r->len[r->n] = (uint32_t)(nl - tab - 1);
        r->raw += r->len[r->n];
        r->n++;
        p = nl + 1;
    }
}

static int exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "sluice-sqlite-baseline: %s: %s\n", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    return rc;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static void remove_db(const char *db)
{
    char p[4096];
    unlink(db);
    snprintf(p, sizeof(p), "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", db);
    unlink(p);
}

/* Inserts every row in batched transactions; 0 on success. */
static int run_once(const struct opts *o, const struct rows *r, const char *sync)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    char sql[256], wal[4096];
    int rc = 1;
    size_t batches = 0;

    remove_db(o->db);
    snprintf(wal, sizeof(wal), "%s-wal", o->db);
    if (sqlite3_open(o->db, &db) != SQLITE_OK) {
        fprintf(stderr, "sluice-sqlite-baseline: cannot open %s: %s\n", o->db, sqlite3_errmsg(db));
        goto out_close;
    }
    snprintf(sql, sizeof(sql), "PRAGMA synchronous=%s", sync);
    if (exec_sql(db, "PRAGMA journal_mode=WAL") || exec_sql(db, sql) ||
        exec_sql(db, "CREATE TABLE events(ts INTEGER NOT NULL, stream TEXT NOT NULL,"
                     " message TEXT NOT NULL)") ||
        (o->index && exec_sql(db, "CREATE INDEX events_stream_ts ON events(stream, ts)")))
        goto out_close;
    if (sqlite3_prepare_v2(db, "INSERT INTO events(ts, stream, message) VALUES (?1, ?2, ?3)",
                           -1, &ins, NULL) != SQLITE_OK) {
        fprintf(stderr, "sluice-sqlite-baseline: prepare: %s\n", sqlite3_errmsg(db));
        goto out_close;
    }

    double t0 = now_s();
    size_t i = 0;
    while (i < r->n) {
        char stream[32];
        size_t first = i, cw = 0;
        snprintf(stream, sizeof(stream), "s-%ld", (long)(batches % (size_t)o->streams));
        if (exec_sql(db, "BEGIN"))
            goto out_finalize;
        while (i < r->n) {
            size_t ev = r->len[i] + CWL_EVENT_OVERHEAD, k = i - first;
            if (o->batch_events ? k >= (size_t)o->batch_events
                                : (k >= CWL_MAX_BATCH_EVENTS ||
                                   (k > 0 && cw + ev > (size_t)o->batch_bytes)))
                break;
            cw += ev;
            sqlite3_bind_int64(ins, 1, r->ts[i]);
            sqlite3_bind_text(ins, 2, stream, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 3, r->msg[i], (int)r->len[i], SQLITE_STATIC);
            if (sqlite3_step(ins) != SQLITE_DONE) {
                fprintf(stderr, "sluice-sqlite-baseline: insert: %s\n", sqlite3_errmsg(db));
                goto out_finalize;
            }
            sqlite3_reset(ins);
            i++;
        }
        if (exec_sql(db, "COMMIT"))
            goto out_finalize;
        batches++;
    }
    double t1 = now_s();
    long long size_open = file_size(o->db) + file_size(wal);
    sqlite3_finalize(ins);
    ins = NULL;
    sqlite3_close(db);      /* checkpoints the WAL into the database and removes it */
    db = NULL;
    double t2 = now_s();
    long long size = file_size(o->db) + file_size(wal);
    double secs = t1 - t0;

    fprintf(stderr, "sqlite-baseline %s sync=%s: %zu rows in %zu transactions, %.2f s:"
            " %.0f events/s, %.1f MB/s raw; file %lld bytes = %.1f%% of raw"
            " (%lld with the WAL before close; close took %.2f s)\n",
            o->label, sync, r->n, batches, secs, (double)r->n / secs,
            (double)r->raw / secs / 1e6, size, 100.0 * (double)size / (double)r->raw,
            size_open, t2 - t1);
    printf("RESULT label=%s sync=%s events=%zu transactions=%zu seconds=%.3f events_per_s=%.0f"
           " mb_per_s=%.2f raw_bytes=%" PRIu64 " file_bytes=%lld ratio=%.4f close_s=%.3f\n",
           o->label, sync, r->n, batches, secs, (double)r->n / secs,
           (double)r->raw / secs / 1e6, r->raw, size, (double)size / (double)r->raw, t2 - t1);
    fflush(stdout);
    rc = 0;
out_finalize:
    sqlite3_finalize(ins);
out_close:
    sqlite3_close(db);
    remove_db(o->db);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: sluice-sqlite-baseline --input FILE --db PATH [options]\n"
        "  --sync full|normal|both  synchronous mode(s) to run, in that order (both)\n"
        "  --batch-bytes B          rows per transaction: as many as fit B bytes\n"
        "                           counted as CloudWatch counts (1048576)\n"
        "  --batch K                exactly K rows per transaction instead\n"
        "  --streams N              transactions go to streams s-0..s-(N-1) (8)\n"
        "  --limit N                use only the first N rows\n"
        "  --index                  also index (stream, ts), as a reader would need\n"
        "  --label NAME             name printed with the results\n"
        "FILE holds rows \"timestamp_ms<TAB>message\" (sluice-gen). The database\n"
        "is created fresh for each mode and removed afterwards.\n");
}

int main(int argc, char **argv)
{
    struct opts o = {.sync = "both", .label = "sqlite", .batch_bytes = 1048576, .streams = 8};
    int ai = 1;
    while (ai < argc) {
        const char *a = argv[ai];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--index") == 0) {
            o.index = true;
            ai++;
            continue;
        }
        const char *v = ai + 1 < argc ? argv[ai + 1] : NULL;
        bool ok = true;
        if (!v) {
            fprintf(stderr, "sluice-sqlite-baseline: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--input") == 0)
            o.input = v;
        else if (strcmp(a, "--db") == 0)
            o.db = v;
        else if (strcmp(a, "--label") == 0)
            o.label = v;
        else if (strcmp(a, "--sync") == 0)
            o.sync = v;
        else if (strcmp(a, "--batch-bytes") == 0)
            ok = parse_long(v, &o.batch_bytes) && o.batch_bytes > 0;
        else if (strcmp(a, "--batch") == 0)
            ok = parse_long(v, &o.batch_events) && o.batch_events > 0;
        else if (strcmp(a, "--streams") == 0)
            ok = parse_long(v, &o.streams) && o.streams > 0;
        else if (strcmp(a, "--limit") == 0)
            ok = parse_long(v, &o.limit);
        else {
            fprintf(stderr, "sluice-sqlite-baseline: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "sluice-sqlite-baseline: bad value for %s: %s\n", a, v);
            return 2;
        }
        ai += 2;
    }
    bool both = strcmp(o.sync, "both") == 0;
    if (!o.input || !o.db ||
        (!both && strcmp(o.sync, "full") != 0 && strcmp(o.sync, "normal") != 0)) {
        usage(stderr);
        return 2;
    }

    struct rows r;
    rows_load(o.input, o.limit, &r);
    int rc = 0;
    if (both || strcmp(o.sync, "full") == 0)
        rc |= run_once(&o, &r, "FULL");
    if (both || strcmp(o.sync, "normal") == 0)
        rc |= run_once(&o, &r, "NORMAL");
    free(r.buf);
    free(r.ts);
    free(r.msg);
    free(r.len);
    return rc;
}
