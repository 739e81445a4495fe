/* scripts/bench/query_client.c: sluice-qclient, the timing client of
 * scripts/bench-query. Posts one Insights query to POST /api/v1/query over a
 * keep-alive connection a few times, times each answer from the first byte
 * sent to the last byte read, and prints the timings, the statistics and the
 * result rows as tab-separated text for the script to check. A benchmark
 * tool: it knows the REST shape only, nothing of the server's code. */
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_GROUPS 16
#define MAX_RUNS 100

struct opts {
    const char *host;
    const char *port;
    const char *groups[MAX_GROUPS];
    int ngroups;
    long long start, end;       /* ms since the epoch, both inclusive */
    const char *query;
    long long limit;            /* 0: the server's default */
    long runs;                  /* timed runs */
    long warmup;                /* untimed runs first */
    double wait_s;              /* "wait" of the request; 0: server default */
};

/* A growable byte buffer for replies. */
struct rbuf {
    char *p;
    size_t n, cap;
};

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "sluice-qclient: out of memory\n");
        exit(1);
    }
    return p;
}

static void rbuf_reserve(struct rbuf *b, size_t more)
{
    if (b->n + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->n + more + 1)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* ------------------------------------------------------------ HTTP client */

static int dial(const struct opts *o)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai, *p;
    int fd = -1, rc = getaddrinfo(o->host, o->port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "sluice-qclient: %s:%s: %s\n", o->host, o->port, gai_strerror(rc));
        return -1;
    }
    for (p = ai; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype, p->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        fprintf(stderr, "sluice-qclient: cannot connect to %s:%s: %s\n", o->host, o->port,
                strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads until b holds at least want bytes; false at EOF or error. */
static bool read_until(int fd, struct rbuf *b, size_t want)
{
    while (b->n < want) {
        rbuf_reserve(b, 65536);
        ssize_t r = recv(fd, b->p + b->n, b->cap - b->n - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        b->n += (size_t)r;
    }
    return true;
}

static const char *find_mem(const char *h, size_t hn, const char *needle)
{
    size_t nn = strlen(needle);
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, needle, nn) == 0)
            return h + i;
    return NULL;
}

/* The value of header name in the head [p, p+n), or NULL. */
static const char *header(const char *p, size_t n, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *e = p + n;
    for (const char *l = p; l < e;) {
        const char *eol = find_mem(l, (size_t)(e - l), "\r\n");
        if (!eol)
            eol = e;
        if ((size_t)(eol - l) > nl && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            *len = (size_t)(eol - v);
            return v;
        }
        l = eol + 2;
    }
    return NULL;
}

/* One request and its whole reply. *status gets the HTTP status, body the
 * decoded body (chunked or sized), *keep whether the connection stays. */
static bool roundtrip(int fd, const char *req, size_t req_len, int *status,
                      struct rbuf *body, bool *keep)
{
    struct rbuf in = {0};
    bool ok = false;
    body->n = 0;
    if (!send_all(fd, req, req_len))
        goto out;
    const char *end;
    for (;;) {
        end = in.n ? find_mem(in.p, in.n, "\r\n\r\n") : NULL;
        if (end)
            break;
        if (!read_until(fd, &in, in.n + 1))
            goto out;
    }
    size_t head = (size_t)(end - in.p) + 4, vl;
    if (in.n < 12 || sscanf(in.p, "HTTP/1.%*d %d", status) != 1)
        goto out;
    const char *v = header(in.p, head - 2, "Connection", &vl);
    *keep = !(v && vl >= 5 && strncasecmp(v, "close", 5) == 0);
    v = header(in.p, head - 2, "Transfer-Encoding", &vl);
    if (v && vl >= 7 && strncasecmp(v, "chunked", 7) == 0) {
        size_t pos = head;
        for (;;) {
            const char *crlf;
            while (!(crlf = find_mem(in.p + pos, in.n - pos, "\r\n")))
                if (!read_until(fd, &in, in.n + 1))
                    goto out;
            size_t sz = strtoul(in.p + pos, NULL, 16);
            pos = (size_t)(crlf - in.p) + 2;
            if (!read_until(fd, &in, pos + sz + 2))
                goto out;
            if (sz == 0)
                break;      /* no trailers from this server */
            rbuf_reserve(body, sz);
            memcpy(body->p + body->n, in.p + pos, sz);
            body->n += sz;
            pos += sz + 2;
        }
    } else {
        v = header(in.p, head - 2, "Content-Length", &vl);
        if (!v) {
            *keep = false;      /* the body runs to EOF */
            while (read_until(fd, &in, in.n + 1))
                ;
            rbuf_reserve(body, in.n - head);
            memcpy(body->p, in.p + head, in.n - head);
            body->n = in.n - head;
        } else {
            size_t cl = strtoul(v, NULL, 10);
            if (!read_until(fd, &in, head + cl))
                goto out;
            rbuf_reserve(body, cl);
            memcpy(body->p, in.p + head, cl);
            body->n = cl;
        }
    }
    rbuf_reserve(body, 0);
    body->p[body->n] = '\0';
    ok = true;
out:
    free(in.p);
    return ok;
}

/* ----------------------------------------------------------------- output */

/* Prints a JSON value as one TSV cell: text as it is (tabs and newlines as
 * spaces), numbers in full precision, null as nothing. */
static void print_cell(const json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        for (; *s; s++)
            putchar(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
    } else if (json_is_integer(v)) {
        printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        printf("%.15g", json_real_value(v));
    } else if (json_is_true(v) || json_is_false(v)) {
        fputs(json_is_true(v) ? "true" : "false", stdout);
    }
}

/* The rows of an answer as "ROW\tv1\tv2..." lines in the order of
 * "fields" (a field a row lacks prints empty). */
static void print_rows(json_t *ans)
{
    json_t *fields = json_object_get(ans, "fields"), *rows = json_object_get(ans, "results");
    size_t i, j;
    json_t *f, *row;
    printf("FIELDS");
    json_array_foreach(fields, i, f)
        printf("\t%s", json_string_value(f) ? json_string_value(f) : "");
    putchar('\n');
    json_array_foreach(rows, i, row) {
        printf("ROW");
        json_array_foreach(fields, j, f) {
            putchar('\t');
            if (json_string_value(f))
                print_cell(json_object_get(row, json_string_value(f)));
        }
        putchar('\n');
    }
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The rows of an answer, one string each, sorted: equal answers compare
 * equal whatever order the server put unsorted groups in. */
static char *canonical_rows(json_t *ans)
{
    json_t *rows = json_object_get(ans, "results"), *row;
    size_t n = json_array_size(rows), i, total = 1;
    char **s = xrealloc(NULL, (n ? n : 1) * sizeof(*s));
    json_array_foreach(rows, i, row) {
        s[i] = json_dumps(row, JSON_SORT_KEYS | JSON_COMPACT);
        if (!s[i]) {
            fprintf(stderr, "sluice-qclient: out of memory\n");
            exit(1);
        }
        total += strlen(s[i]) + 1;
    }
    qsort(s, n, sizeof(*s), cmp_str);
    char *out = xrealloc(NULL, total), *p = out;
    for (i = 0; i < n; i++) {
        size_t l = strlen(s[i]);
        memcpy(p, s[i], l);
        p[l] = '\n';
        p += l + 1;
        free(s[i]);
    }
    *p = '\0';
    free(s);
    return out;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: sluice-qclient --port P --group G [--group G2 ...] --start MS --end MS\n"
        "                      --query TEXT [options]\n"
        "  --host H        server address (127.0.0.1)\n"
        "  --limit N       the request's row limit (server default)\n"
        "  --runs N        timed runs (3)\n"
        "  --warmup N      untimed runs before them (1)\n"
        "  --wait SEC      the request's wait before the server answers 408\n"
        "Posts {\"groups\",\"start\",\"end\",\"query\"} to POST /api/v1/query on one\n"
        "keep-alive connection and prints \"RUN i ms=...\" per run, then\n"
        "\"RESULT status=.. best_ms=.. median_ms=.. rows=.. <statistics>\",\n"
        "\"FIELDS\\tf1...\" and one \"ROW\\tv1...\" per result row. Exits 1 when a\n"
        "request fails or the status is not Complete, 3 when runs disagree.\n");
}

static bool parse_ll(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    struct opts o = {.host = "127.0.0.1", .runs = 3, .warmup = 1, .start = -1, .end = -1};
    long long ll;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "sluice-qclient: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--host") == 0) {
            o.host = v;
        } else if (strcmp(a, "--port") == 0) {
            o.port = v;
        } else if (strcmp(a, "--group") == 0) {
            ok = o.ngroups < MAX_GROUPS;
            if (ok)
                o.groups[o.ngroups++] = v;
        } else if (strcmp(a, "--start") == 0) {
            ok = parse_ll(v, &o.start);
        } else if (strcmp(a, "--end") == 0) {
            ok = parse_ll(v, &o.end);
        } else if (strcmp(a, "--query") == 0) {
            o.query = v;
        } else if (strcmp(a, "--limit") == 0) {
            ok = parse_ll(v, &o.limit) && o.limit > 0;
        } else if (strcmp(a, "--runs") == 0) {
            ok = parse_ll(v, &ll) && ll >= 1 && ll <= MAX_RUNS;
            o.runs = (long)ll;
        } else if (strcmp(a, "--warmup") == 0) {
            ok = parse_ll(v, &ll) && ll >= 0 && ll <= MAX_RUNS;
            o.warmup = (long)ll;
        } else if (strcmp(a, "--wait") == 0) {
            o.wait_s = strtod(v, NULL);
            ok = o.wait_s > 0;
        } else {
            fprintf(stderr, "sluice-qclient: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "sluice-qclient: bad value for %s: %s\n", a, v);
            return 2;
        }
    }
    if (!o.port || !o.ngroups || !o.query || o.start < 0 || o.end < 0) {
        usage(stderr);
        return 2;
    }

    /* the body, built once; the query text is escaped by jansson */
    json_t *groups = json_array();
    for (int i = 0; i < o.ngroups; i++)
        json_array_append_new(groups, json_string(o.groups[i]));
    json_t *req = json_pack("{s:o, s:I, s:I, s:s}", "groups", groups, "start",
                            (json_int_t)o.start, "end", (json_int_t)o.end, "query", o.query);
    if (o.limit)
        json_object_set_new(req, "limit", json_integer(o.limit));
    if (o.wait_s > 0)
        json_object_set_new(req, "wait", json_real(o.wait_s));
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    size_t blen = strlen(body);
    size_t cap = blen + 512;
    char *msg = xrealloc(NULL, cap);
    int mlen = snprintf(msg, cap,
                        "POST /api/v1/query HTTP/1.1\r\nHost: %s\r\n"
                        "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                        o.host, blen, body);
    free(body);

    double ms[MAX_RUNS];
    struct rbuf reply = {0};
    json_t *last = NULL;
    char *first_rows = NULL;
    int fd = -1, rc = 0;
    for (long r = 0; r < o.warmup + o.runs; r++) {
        int status = 0;
        bool keep = true;
        if (fd < 0 && (fd = dial(&o)) < 0)
            return 1;
        double t0 = now_ms();
        bool ok = roundtrip(fd, msg, (size_t)mlen, &status, &reply, &keep);
        double t = now_ms() - t0;
        if (!ok) {
            fprintf(stderr, "sluice-qclient: the connection failed mid-request\n");
            return 1;
        }
        if (!keep) {
            close(fd);
            fd = -1;
        }
        bool warm = r < o.warmup;
        if (!warm)
            ms[r - o.warmup] = t;
        printf("RUN %ld %sms=%.3f\n", r, warm ? "warmup " : "", t);
        json_error_t jerr;
        json_t *ans = json_loadb(reply.p, reply.n, 0, &jerr);
        const char *st = ans ? json_string_value(json_object_get(ans, "status")) : NULL;
        if (status != 200 || !st || strcmp(st, "Complete") != 0) {
            fprintf(stderr, "sluice-qclient: HTTP %d, status %s: %.2000s\n", status,
                    st ? st : "?", reply.p ? reply.p : "");
            return 1;
        }
        char *rows = canonical_rows(ans);
        if (!first_rows) {
            first_rows = rows;
        } else {
            if (strcmp(rows, first_rows) != 0) {
                fprintf(stderr, "sluice-qclient: run %ld answered differently from the "
                        "first run:\n--- first\n%.3000s--- run %ld\n%.3000s", r, first_rows,
                        r, rows);
                rc = 3;
            }
            free(rows);
        }
        if (last)
            json_decref(last);
        last = ans;
    }
    if (fd >= 0)
        close(fd);

    double sorted[MAX_RUNS];
    memcpy(sorted, ms, (size_t)o.runs * sizeof(*ms));
    qsort(sorted, (size_t)o.runs, sizeof(*sorted), cmp_dbl);
    printf("RESULT status=Complete best_ms=%.3f median_ms=%.3f worst_ms=%.3f rows=%zu",
           sorted[0], sorted[o.runs / 2], sorted[o.runs - 1],
           json_array_size(json_object_get(last, "results")));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(last, "statistics"), k, v) {
        printf(" %s=", k);
        print_cell(v);
    }
    putchar('\n');
    print_rows(last);
    json_decref(last);
    free(first_rows);
    free(reply.p);
    free(msg);
    return rc;
}
