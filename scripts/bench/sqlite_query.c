/* scripts/bench/sqlite_query.c: sluice-sqlite-query, the SQLite side of
 * scripts/bench-query. Loads sluice-gen rows into tables with one column per
 * field (VPC flow log v2 records split on spaces, flat JSON objects split by
 * key, parsed here by hand), indexed on the timestamp, then times SQL
 * statements and prints their rows, so the benchmark can check Sluice's
 * answers and compare speed. Knows nothing of the server's code. */
#include <errno.h>
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

#define MAX_RUNS 100
#define FLOW_FIELDS 14

/* The table of flow log records: "-" loads as NULL; numbers as integers. */
static const char *const flow_cols[FLOW_FIELDS] = {
    "version", "accountId", "interfaceId", "srcAddr", "dstAddr", "srcPort", "dstPort",
    "protocol", "packets", "bytes", "startTime", "endTime", "action", "logStatus"};
static const bool flow_num[FLOW_FIELDS] = {
    true, false, false, false, false, true, true, true, true, true, true, true, false, false};

/* The keys sluice-gen writes in its JSON application logs. */
#define JSON_FIELDS 9
static const char *const json_cols[JSON_FIELDS] = {
    "level", "time", "service", "path", "status", "latencyMs", "requestId", "userId", "msg"};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "sluice-sqlite-query: out of memory\n");
        exit(1);
    }
    return p;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "sluice-sqlite-query: %s: %s\n", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    return rc;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        fprintf(stderr, "sluice-sqlite-query: %s: %s\n", sql, sqlite3_errmsg(db));
        return NULL;
    }
    return q;
}

/* The whole file in one buffer, NUL-terminated; *n its size. */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        fprintf(stderr, "sluice-sqlite-query: cannot read %s: %s\n", path, strerror(errno));
        exit(1);
    }
    *n = (size_t)st.st_size;
    char *b = xmalloc(*n + 1);
    if (fread(b, 1, *n, f) != *n) {
        fprintf(stderr, "sluice-sqlite-query: short read on %s\n", path);
        exit(1);
    }
    fclose(f);
    b[*n] = '\0';
    return b;
}

/* Binds [s, s+n) as an integer when it is all digits, else as text. */
static void bind_token(sqlite3_stmt *q, int col, const char *s, size_t n, bool num)
{
    if (n == 1 && s[0] == '-') {
        sqlite3_bind_null(q, col);
        return;
    }
    if (num) {
        int64_t v = 0;
        size_t i = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            v = v * 10 + (s[i] - '0');
        if (i == n && n > 0 && n < 19) {
            sqlite3_bind_int64(q, col, v);
            return;
        }
    }
    sqlite3_bind_text(q, col, s, (int)n, SQLITE_STATIC);
}

/* ------------------------------------------------------ flat JSON objects */

/* One value of a flat JSON object: text (unescaped into buf) or a number. */
struct jval {
    enum { JV_NULL, JV_STR, JV_NUM, JV_BOOL } kind;
    const char *s;              /* JV_STR: unescaped text; JV_NUM: its digits */
    size_t n;
    double num;
};

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Parses the string at p (just after its opening quote) into out, which
 * has room for the input's length; returns the byte after the closing
 * quote, or NULL. \uXXXX escapes of ASCII only: the generator writes none. */
static const char *parse_str(const char *p, char *out, size_t *n)
{
    size_t k = 0;
    for (; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            c = *++p;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    char h = *++p;
                    v = v * 16 + (unsigned)(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
                }
                c = v < 128 ? (char)v : '?';
                break;
            }
            case '\0': return NULL;
            default: break;     /* \" \\ \/ */
            }
        }
        out[k++] = c;
    }
    if (*p != '"')
        return NULL;
    *n = k;
    return p + 1;
}

/* Splits one JSON object line into vals[] by the names in json_cols;
 * unknown keys are skipped. Returns false on anything but a flat object. */
static bool parse_json_line(const char *p, char *scratch, struct jval *vals)
{
    for (int i = 0; i < JSON_FIELDS; i++)
        vals[i].kind = JV_NULL;
    p = skip_ws(p);
    if (*p++ != '{')
        return false;
    p = skip_ws(p);
    if (*p == '}')
        return true;
    for (;;) {
        char *key = scratch;
        size_t kn;
        if (*p != '"' || !(p = parse_str(p + 1, key, &kn)))
            return false;
        scratch += kn;
        p = skip_ws(p);
        if (*p++ != ':')
            return false;
        p = skip_ws(p);
        struct jval v = {0};
        if (*p == '"') {
            v.kind = JV_STR;
            v.s = scratch;
            if (!(p = parse_str(p + 1, scratch, &v.n)))
                return false;
            scratch += v.n;
        } else if (strncmp(p, "null", 4) == 0) {
            v.kind = JV_NULL;
            p += 4;
        } else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
            v.kind = JV_BOOL;
            v.num = *p == 't';
            p += *p == 't' ? 4 : 5;
        } else {
            char *end;
            v.kind = JV_NUM;
            v.num = strtod(p, &end);
            if (end == p)
                return false;
            v.s = p;
            v.n = (size_t)(end - p);
            p = end;
        }
        for (int i = 0; i < JSON_FIELDS; i++)
            if (strlen(json_cols[i]) == kn && memcmp(json_cols[i], key, kn) == 0)
                vals[i] = v;
        p = skip_ws(p);
        if (*p == '}')
            return true;
        if (*p++ != ',')
            return false;
        p = skip_ws(p);
    }
}

/* ------------------------------------------------------------------ load */

/* Loads sluice-gen rows "ts<TAB>message" of path into table (flow or app);
 * returns the rows loaded or -1. */
static long long load(sqlite3 *db, const char *path, bool flow)
{
    char sql[1024];
    int n = snprintf(sql, sizeof(sql), "INSERT INTO %s(ts, message", flow ? "flow" : "app");
    int ncols = flow ? FLOW_FIELDS : JSON_FIELDS;
    for (int i = 0; i < ncols; i++)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, ", %s", flow ? flow_cols[i] : json_cols[i]);
    n += snprintf(sql + n, sizeof(sql) - (size_t)n, ") VALUES (?, ?");
    for (int i = 0; i < ncols; i++)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, ", ?");
    snprintf(sql + n, sizeof(sql) - (size_t)n, ")");
    sqlite3_stmt *ins = prepare(db, sql);
    if (!ins)
        return -1;

    size_t size;
    char *buf = slurp(path, &size), *p = buf, *end = buf + size;
    char *scratch = xmalloc(size + 1);
    long long rows = 0;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        char *tab = memchr(p, '\t', (size_t)(nl - p)), *q;
        errno = 0;
        long long ts = tab ? strtoll(p, &q, 10) : 0;
        if (!tab || errno || q != tab) {
            fprintf(stderr, "sluice-sqlite-query: %s row %lld: not \"ts<TAB>message\"\n",
                    path, rows + 1);
            rows = -1;
            break;
        }
        const char *msg = tab + 1;
        size_t mlen = (size_t)(nl - tab - 1);
        sqlite3_bind_int64(ins, 1, ts);
        sqlite3_bind_text(ins, 2, msg, (int)mlen, SQLITE_STATIC);
        if (flow) {
            /* default v2 format: 14 space-separated fields, "-" for absent */
            const char *f = msg, *e = msg + mlen;
            for (int i = 0; i < FLOW_FIELDS; i++) {
                const char *sp = f < e ? memchr(f, ' ', (size_t)(e - f)) : NULL;
                const char *fe = sp ? sp : e;
                if (f < e)
                    bind_token(ins, 3 + i, f, (size_t)(fe - f), flow_num[i]);
                else
                    sqlite3_bind_null(ins, 3 + i);
                f = sp ? sp + 1 : e;
            }
        } else {
            struct jval v[JSON_FIELDS];
            *nl = '\0';
            if (!parse_json_line(msg, scratch, v)) {
                fprintf(stderr, "sluice-sqlite-query: %s row %lld: not a flat JSON object\n",
                        path, rows + 1);
                rows = -1;
                break;
            }
            for (int i = 0; i < JSON_FIELDS; i++) {
                int col = 3 + i;
                if (v[i].kind == JV_STR)
                    sqlite3_bind_text(ins, col, v[i].s, (int)v[i].n, SQLITE_TRANSIENT);
                else if (v[i].kind == JV_NUM || v[i].kind == JV_BOOL)
                    sqlite3_bind_double(ins, col, v[i].num);
                else
                    sqlite3_bind_null(ins, col);
            }
        }
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fprintf(stderr, "sluice-sqlite-query: insert: %s\n", sqlite3_errmsg(db));
            rows = -1;
            break;
        }
        sqlite3_reset(ins);
        rows++;
        p = nl + 1;
    }
    sqlite3_finalize(ins);
    free(scratch);
    free(buf);
    return rows;
}

static int do_load(const char *dbpath, const char *flow_path, const char *json_path)
{
    sqlite3 *db = NULL;
    char sql[1024];
    int rc = 1;

    unlink(dbpath);
    if (sqlite3_open(dbpath, &db) != SQLITE_OK) {
        fprintf(stderr, "sluice-sqlite-query: cannot open %s: %s\n", dbpath, sqlite3_errmsg(db));
        goto out;
    }
    /* a bulk load: no journal to make it crash-safe, one transaction */
    if (exec_sql(db, "PRAGMA journal_mode=OFF") || exec_sql(db, "PRAGMA synchronous=OFF") ||
        exec_sql(db, "BEGIN"))
        goto out;
    int n = snprintf(sql, sizeof(sql), "CREATE TABLE flow(ts INTEGER NOT NULL, message TEXT NOT NULL");
    for (int i = 0; i < FLOW_FIELDS; i++)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, ", %s %s", flow_cols[i],
                      flow_num[i] ? "INTEGER" : "TEXT");
    snprintf(sql + n, sizeof(sql) - (size_t)n, ")");
    if (exec_sql(db, sql))
        goto out;
    n = snprintf(sql, sizeof(sql), "CREATE TABLE app(ts INTEGER NOT NULL, message TEXT NOT NULL");
    for (int i = 0; i < JSON_FIELDS; i++)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, ", %s", json_cols[i]);
    snprintf(sql + n, sizeof(sql) - (size_t)n, ")");
    if (exec_sql(db, sql))
        goto out;

    double t0 = now_ms();
    long long nf = flow_path ? load(db, flow_path, true) : 0;
    long long nj = json_path ? load(db, json_path, false) : 0;
    if (nf < 0 || nj < 0)
        goto out;
    double t1 = now_ms();
    if (exec_sql(db, "CREATE INDEX flow_ts ON flow(ts)") ||
        exec_sql(db, "CREATE INDEX app_ts ON app(ts)") || exec_sql(db, "COMMIT") ||
        exec_sql(db, "ANALYZE"))
        goto out;
    double t2 = now_ms();
    struct stat st;
    long long size = stat(dbpath, &st) == 0 ? (long long)st.st_size : 0;
    printf("RESULT flow_rows=%lld json_rows=%lld load_s=%.2f index_s=%.2f file_bytes=%lld\n",
           nf, nj, (t1 - t0) / 1e3, (t2 - t1) / 1e3, size);
    rc = 0;
out:
    sqlite3_close(db);
    return rc;
}

/* ------------------------------------------------------------------- run */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void print_value(FILE *f, sqlite3_stmt *q, int c)
{
    switch (sqlite3_column_type(q, c)) {
    case SQLITE_INTEGER:
        fprintf(f, "%lld", (long long)sqlite3_column_int64(q, c));
        break;
    case SQLITE_FLOAT:
        fprintf(f, "%.15g", sqlite3_column_double(q, c));
        break;
    case SQLITE_NULL:
        break;
    default: {
        const unsigned char *s = sqlite3_column_text(q, c);
        for (; s && *s; s++)
            putc(*s == '\t' || *s == '\n' ? ' ' : *s, f);
    }
    }
}

/* Runs sql warmup + runs times, timing each from the first step to the last
 * row read; prints the rows of the last run. */
static int do_run(const char *dbpath, const char *sql, long runs, long warmup)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    double ms[MAX_RUNS];
    long long rows = 0;
    int rc = 1;

    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "sluice-sqlite-query: cannot open %s: %s\n", dbpath, sqlite3_errmsg(db));
        goto out;
    }
    if (!(q = prepare(db, sql)))
        goto out;
    for (long r = 0; r < warmup + runs; r++) {
        bool last = r == warmup + runs - 1;
        int st;
        rows = 0;
        double t0 = now_ms(), t;
        /* rows are printed after the clock stops: the clock times SQLite */
        char *out = NULL;
        size_t outlen = 0;
        FILE *mem = last ? open_memstream(&out, &outlen) : NULL;
        while ((st = sqlite3_step(q)) == SQLITE_ROW) {
            rows++;
            if (mem) {
                fputs("ROW", mem);
                for (int c = 0; c < sqlite3_column_count(q); c++) {
                    putc('\t', mem);
                    print_value(mem, q, c);
                }
                putc('\n', mem);
            }
        }
        t = now_ms() - t0;
        if (mem)
            fclose(mem);
        if (st != SQLITE_DONE) {
            fprintf(stderr, "sluice-sqlite-query: %s: %s\n", sql, sqlite3_errmsg(db));
            free(out);
            goto out;
        }
        sqlite3_reset(q);
        if (r >= warmup)
            ms[r - warmup] = t;
        printf("RUN %ld %sms=%.3f\n", r, r < warmup ? "warmup " : "", t);
        if (out) {
            printf("FIELDS");
            for (int c = 0; c < sqlite3_column_count(q); c++)
                printf("\t%s", sqlite3_column_name(q, c));
            putchar('\n');
            fputs(out, stdout);
            free(out);
        }
    }
    qsort(ms, (size_t)runs, sizeof(*ms), cmp_dbl);
    printf("RESULT best_ms=%.3f median_ms=%.3f worst_ms=%.3f rows=%lld\n", ms[0],
           ms[runs / 2], ms[runs - 1], rows);
    rc = 0;
out:
    sqlite3_finalize(q);
    sqlite3_close(db);
    return rc;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: sluice-sqlite-query --db PATH --load-flow FILE [--load-json FILE]\n"
        "       sluice-sqlite-query --db PATH --sql TEXT [--runs N] [--warmup N]\n"
        "  The first form creates PATH afresh with tables\n"
        "    flow(ts, message, version, accountId, interfaceId, srcAddr, dstAddr, srcPort,\n"
        "         dstPort, protocol, packets, bytes, startTime, endTime, action, logStatus)\n"
        "    app(ts, message, level, time, service, path, status, latencyMs, requestId,\n"
        "        userId, msg)\n"
        "  from sluice-gen rows (\"-\" and JSON null load as NULL) and indexes ts.\n"
        "  The second runs TEXT --warmup (1) times untimed, then --runs (3) times,\n"
        "  and prints \"RUN i ms=..\" lines, FIELDS and ROW lines (tab-separated)\n"
        "  of the last run, and \"RESULT best_ms=.. median_ms=.. rows=..\".\n");
}

int main(int argc, char **argv)
{
    const char *db = NULL, *flow = NULL, *json = NULL, *sql = NULL;
    long runs = 3, warmup = 1;

    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "sluice-sqlite-query: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--db") == 0) {
            db = v;
        } else if (strcmp(a, "--load-flow") == 0) {
            flow = v;
        } else if (strcmp(a, "--load-json") == 0) {
            json = v;
        } else if (strcmp(a, "--sql") == 0) {
            sql = v;
        } else if (strcmp(a, "--runs") == 0 || strcmp(a, "--warmup") == 0) {
            char *end;
            long n = strtol(v, &end, 10);
            bool is_runs = strcmp(a, "--runs") == 0;
            if (*end || end == v || n < (is_runs ? 1 : 0) || n > MAX_RUNS) {
                fprintf(stderr, "sluice-sqlite-query: bad value for %s: %s\n", a, v);
                return 2;
            }
            if (is_runs)
                runs = n;
            else
                warmup = n;
        } else {
            fprintf(stderr, "sluice-sqlite-query: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!db || (!sql && !flow && !json) || (sql && (flow || json))) {
        usage(stderr);
        return 2;
    }
    return sql ? do_run(db, sql, runs, warmup) : do_load(db, flow, json);
}
