/* scripts/bench/gen_logs.c: sluice-gen, the seeded generator of realistic
 * log lines for scripts/bench-ingest: VPC flow logs (default v2 format) and
 * JSON application logs. Writes "timestamp_ms<TAB>line" rows spread over the
 * span before --now, and optionally the bare lines (the raw file lz4 and the
 * stored/raw ratio are measured against). Same seed and --now, same bytes.
 * A benchmark tool: it knows nothing of the server's code. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* ---------------------------------------------------------------- random */

/* xoshiro256** seeded through splitmix64: fast, good enough, reproducible. */
static uint64_t rng_s[4];

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng_s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_u64(void)
{
    uint64_t r = rotl(rng_s[1] * 5, 7) * 9;
    uint64_t t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0];
    rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2];
    rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t;
    rng_s[3] = rotl(rng_s[3], 45);
    return r;
}

/* Uniform in [0, 1). */
static double rng_unit(void)
{
    return (double)(rng_u64() >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [0, n); the modulo bias is irrelevant at these sizes. */
static uint64_t rng_below(uint64_t n)
{
    return n ? rng_u64() % n : 0;
}

static uint64_t rng_range(uint64_t lo, uint64_t hi)
{
    return lo + rng_below(hi - lo + 1);
}

static bool rng_chance(double p)
{
    return rng_unit() < p;
}

/* Standard normal (Box-Muller; one value per call is plenty here). */
static double rng_normal(void)
{
    double u1 = rng_unit(), u2 = rng_unit();
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Pareto with minimum 1 and shape alpha: heavy-tailed counts. */
static double rng_pareto(double alpha)
{
    double u = 1.0 - rng_unit();
    return pow(u, -1.0 / alpha);
}

/* Zipf-like skew over n ranks: a cumulative table and a binary search. */
struct zipf {
    size_t n;
    double *cdf;    /* cdf[i] = P(rank <= i), cdf[n-1] = 1 */
};

static void zipf_init(struct zipf *z, size_t n, double s)
{
    double sum = 0;
    z->n = n;
    z->cdf = malloc(n * sizeof(*z->cdf));
    if (!z->cdf) {
        fprintf(stderr, "sluice-gen: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        sum += 1.0 / pow((double)(i + 1), s);
        z->cdf[i] = sum;
    }
    for (size_t i = 0; i < n; i++)
        z->cdf[i] /= sum;
}

static void zipf_fini(struct zipf *z)
{
    free(z->cdf);
    z->cdf = NULL;
}

static size_t zipf_pick(const struct zipf *z)
{
    double u = rng_unit();
    size_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A weighted choice among a small table of values. */
struct weighted {
    int value;
    int weight;
};

static int weighted_pick(const struct weighted *w, size_t n)
{
    int total = 0;
    for (size_t i = 0; i < n; i++)
        total += w[i].weight;
    int r = (int)rng_below((uint64_t)total);
    for (size_t i = 0; i < n; i++) {
        if (r < w[i].weight)
            return w[i].value;
        r -= w[i].weight;
    }
    return w[n - 1].value;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------- line buffer */

/* One output line under construction; lines are far below its size. */
struct line {
    char b[1024];
    size_t n;
};

static void put_mem(struct line *l, const char *s, size_t n)
{
    if (l->n + n > sizeof(l->b))
        n = sizeof(l->b) - l->n;    /* unreachable for our line shapes */
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

static void put_str(struct line *l, const char *s)
{
    put_mem(l, s, strlen(s));
}

static void put_ch(struct line *l, char c)
{
    put_mem(l, &c, 1);
}

static void put_u64(struct line *l, uint64_t v)
{
    char t[24];
    size_t i = sizeof(t);
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_mem(l, t + i, sizeof(t) - i);
}

/* v zero-padded to width digits. */
static void put_u64_w(struct line *l, uint64_t v, int width)
{
    char t[24];
    int i = (int)sizeof(t);
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
        width--;
    } while (v || width > 0);
    put_mem(l, t + i, sizeof(t) - (size_t)i);
}

static void put_ip(struct line *l, uint32_t ip)
{
    put_u64(l, ip >> 24);
    put_ch(l, '.');
    put_u64(l, (ip >> 16) & 255);
    put_ch(l, '.');
    put_u64(l, (ip >> 8) & 255);
    put_ch(l, '.');
    put_u64(l, ip & 255);
}

static void put_hex(struct line *l, uint64_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--)
        put_ch(l, hex[(v >> (4 * i)) & 15]);
}

static uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

/* ------------------------------------------------------ VPC flow logs v2 */

/* The world a flow log describes: accounts, interfaces with their private
 * addresses, a skewed pool of private peers (a DNS resolver, databases and
 * caches are hot), a skewed pool of public peers (AWS endpoints, CDNs) and
 * the scanners of the whole internet, which are mostly rejected. */
#define FLOW_ENIS 300
#define FLOW_PRIVATE 2000
#define FLOW_PUBLIC 1000

struct flow_world {
    uint64_t account[3];
    uint64_t eni_id[FLOW_ENIS];
    uint32_t eni_ip[FLOW_ENIS];
    int eni_account[FLOW_ENIS];
    uint32_t priv[FLOW_PRIVATE];
    uint32_t pub[FLOW_PUBLIC];
    struct zipf eni_z, priv_z, pub_z;
};

static uint32_t random_private_ip(void)
{
    if (rng_chance(0.6))    /* a 10.0.0.0/16 VPC with /20 subnets, mostly */
        return ip4(10, 0, (unsigned)rng_below(64), (unsigned)rng_range(4, 254));
    return ip4(172, 31, (unsigned)rng_below(96), (unsigned)rng_range(4, 254));
}

static uint32_t random_public_ip(void)
{
    /* First octets of big AWS, CDN and ISP ranges, then anything public. */
    static const unsigned first[] = {3, 13, 18, 34, 35, 44, 52, 54, 99, 104,
                                     142, 151, 172, 185, 198, 203, 216};
    unsigned a = first[rng_below(COUNT(first))];
    unsigned b = (unsigned)rng_below(256);
    if (a == 172 && b >= 16 && b < 32)
        b += 32;    /* stay out of 172.16.0.0/12 */
    return ip4(a, b, (unsigned)rng_below(256), (unsigned)rng_range(1, 254));
}

static uint32_t scanner_ip(void)
{
    unsigned a;
    do
        a = (unsigned)rng_range(1, 223);
    while (a == 10 || a == 127 || a == 172 || a == 192 || a == 100 || a == 169);
    return ip4(a, (unsigned)rng_below(256), (unsigned)rng_below(256),
               (unsigned)rng_range(1, 254));
}

static void flow_world_init(struct flow_world *w)
{
    w->account[0] = 123456789012ULL;
    w->account[1] = 210987654321ULL;
    w->account[2] = 555566667777ULL;
    for (int i = 0; i < FLOW_ENIS; i++) {
        w->eni_id[i] = rng_u64();    /* "eni-0" + 16 hex digits, as AWS prints them */
        w->eni_ip[i] = random_private_ip();
        w->eni_account[i] = i % 10 < 7 ? 0 : (i % 10 < 9 ? 1 : 2);
    }
    w->priv[0] = ip4(10, 0, 0, 2);      /* the VPC resolver: the hottest peer */
    w->priv[1] = ip4(172, 31, 0, 2);
    for (int i = 2; i < FLOW_PRIVATE; i++)
        w->priv[i] = random_private_ip();
    for (int i = 0; i < FLOW_PUBLIC; i++)
        w->pub[i] = random_public_ip();
    zipf_init(&w->eni_z, FLOW_ENIS, 1.1);
    zipf_init(&w->priv_z, FLOW_PRIVATE, 1.2);
    zipf_init(&w->pub_z, FLOW_PUBLIC, 1.0);
}

static uint64_t ephemeral_port(void)
{
    return rng_chance(0.75) ? rng_range(32768, 60999) : rng_range(49152, 65535);
}

/* One flow log record for event time ts_ms (v2 default format):
 *   version account-id interface-id srcaddr dstaddr srcport dstport protocol
 *   packets bytes start end action log-status */
static void flow_line(struct flow_world *w, int64_t ts_ms, struct line *l)
{
    /* the capture window ends a little before the event reaches the logs */
    int64_t end = ts_ms / 1000 - (int64_t)rng_below(4);
    int64_t start = end - (rng_chance(0.7) ? 59 + (int64_t)rng_below(3)
                                            : 1 + (int64_t)rng_below(58));
    size_t e = zipf_pick(&w->eni_z);
    double u = rng_unit();

    l->n = 0;
    put_str(l, "2 ");
    put_u64(l, w->account[w->eni_account[e]]);
    put_str(l, " eni-0");
    put_hex(l, w->eni_id[e], 16);
    put_ch(l, ' ');

    if (u < 0.012) {    /* no traffic, or records dropped in the window */
        put_str(l, "- - - - - - - ");
        put_u64(l, (uint64_t)start);
        put_ch(l, ' ');
        put_u64(l, (uint64_t)end);
        put_str(l, u < 0.009 ? " - NODATA" : " - SKIPDATA");
        return;
    }

    uint32_t src, dst;
    uint64_t sport, dport, packets, bytes;
    int proto;
    bool reject = rng_chance(0.10);

    if (reject) {
        /* inbound probes of well-known and random ports, a packet or three */
        static const struct weighted probe[] = {
            {22, 20}, {23, 8}, {3389, 10}, {445, 8}, {80, 6}, {8080, 5},
            {1433, 4}, {5900, 3}, {6379, 3}, {3306, 3}, {0, 30}};
        src = rng_chance(0.8) ? scanner_ip() : w->pub[zipf_pick(&w->pub_z)];
        dst = w->eni_ip[e];
        sport = ephemeral_port();
        dport = (uint64_t)weighted_pick(probe, COUNT(probe));
        if (dport == 0)
            dport = rng_range(1, 65535);
        proto = rng_chance(0.9) ? 6 : 17;
        packets = rng_range(1, 3);
        bytes = packets * (proto == 6 ? (rng_chance(0.6) ? 40 : 44) : rng_range(28, 120));
    } else {
        /* value = port; protocol from the port (53, 123: UDP; 0: ICMP) */
        static const struct weighted svc[] = {
            {443, 36}, {80, 8}, {53, 13}, {22, 3}, {3306, 5}, {5432, 6},
            {6379, 6}, {8080, 5}, {123, 2}, {9200, 3}, {27017, 2}, {8443, 3},
            {2049, 2}, {11211, 1}, {0, 2}, {1, 4}};
        int port = weighted_pick(svc, COUNT(svc));
        uint32_t peer = rng_chance(0.6) ? w->priv[zipf_pick(&w->priv_z)]
                                         : w->pub[zipf_pick(&w->pub_z)];
        if (port == 53 || port == 123) {
            proto = 17;
            if (port == 53 && rng_chance(0.7))
                peer = w->priv[0];
        } else if (port == 0) {
            proto = 1;
        } else {
            proto = 6;
        }
        if (port == 1)
            port = (int)rng_range(1024, 10000);
        uint64_t svc_port = (uint64_t)port, client_port = ephemeral_port();
        if (proto == 1)
            svc_port = client_port = 0;
        /* each connection shows up twice: request and response direction */
        bool eni_is_server = rng_chance(0.5), toward_server = rng_chance(0.5);
        uint32_t server = eni_is_server ? w->eni_ip[e] : peer;
        uint32_t client = eni_is_server ? peer : w->eni_ip[e];
        src = toward_server ? client : server;
        dst = toward_server ? server : client;
        sport = toward_server ? client_port : svc_port;
        dport = toward_server ? svc_port : client_port;

        double p = rng_pareto(proto == 17 ? 1.6 : 0.9);
        packets = p > 5e6 ? 5000000 : (uint64_t)p;
        /* small flows carry handshakes and acks; big ones full segments */
        double mean = packets < 4 ? 40.0 + rng_unit() * 60.0
                    : packets < 50 ? 80.0 + rng_unit() * 500.0
                                   : 400.0 + rng_unit() * 1050.0;
        if (proto == 17)
            mean = 60.0 + rng_unit() * 200.0;
        bytes = (uint64_t)((double)packets * mean);
    }

    put_ip(l, src);
    put_ch(l, ' ');
    put_ip(l, dst);
    put_ch(l, ' ');
    put_u64(l, sport);
    put_ch(l, ' ');
    put_u64(l, dport);
    put_ch(l, ' ');
    put_u64(l, (uint64_t)proto);
    put_ch(l, ' ');
    put_u64(l, packets);
    put_ch(l, ' ');
    put_u64(l, bytes);
    put_ch(l, ' ');
    put_u64(l, (uint64_t)start);
    put_ch(l, ' ');
    put_u64(l, (uint64_t)end);
    put_str(l, reject ? " REJECT OK" : " ACCEPT OK");
}

/* -------------------------------------------------------- JSON app logs */

/* A fleet of services behind one gateway: a few are busy, routes carry ids,
 * statuses are mostly 2xx with the usual 4xx and rare 5xx, latencies are
 * log-normal, users are skewed and request ids are random (incompressible,
 * as they are in life). */
#define JSON_USERS 50000

struct route {
    const char *service;
    const char *path;       /* '#' is replaced by a numeric id */
};

static const struct route json_routes[] = {
    {"api-gateway", "/api/v1/orders/#"},  {"api-gateway", "/api/v1/cart"},
    {"checkout", "/api/v1/checkout"},     {"checkout", "/api/v1/orders/#/pay"},
    {"catalog", "/api/v1/products/#"},    {"catalog", "/api/v1/search"},
    {"auth", "/api/v1/login"},            {"auth", "/api/v1/token/refresh"},
    {"users", "/api/v1/users/#"},         {"users", "/api/v1/users/#/prefs"},
    {"inventory", "/internal/stock/#"},   {"shipping", "/api/v1/shipments/#"},
    {"notifications", "/internal/push"},  {"recommendations", "/api/v1/recs/#"},
    {"api-gateway", "/healthz"},          {"payments", "/internal/charges/#"},
};

struct json_world {
    struct zipf route_z, user_z;
};

static const char *json_msg(int status, const char *service)
{
    if (status == 504)
        return "upstream timeout after 3000ms";
    if (status >= 500)
        return "unhandled exception: connection reset by peer";
    if (status == 429)
        return "rate limit exceeded for client";
    if (status == 401 || status == 403)
        return rng_chance(0.5) ? "invalid or expired token" : "access denied";
    if (status == 404)
        return "resource not found";
    if (status == 400)
        return "validation failed: missing field";
    if (strcmp(service, "catalog") == 0 && rng_chance(0.3))
        return "cache miss, loaded from database";
    return rng_chance(0.85) ? "request completed" : "request completed with retries";
}

static void json_line(struct json_world *w, int64_t ts_ms, struct line *l)
{
    static const struct weighted statuses[] = {
        {200, 8000}, {201, 500}, {204, 200}, {304, 300}, {400, 300}, {401, 150},
        {403, 100}, {404, 300}, {429, 50}, {500, 50}, {502, 20}, {503, 10}, {504, 20}};
    const struct route *r = &json_routes[zipf_pick(&w->route_z)];
    int status = weighted_pick(statuses, COUNT(statuses));
    const char *level = status >= 500 ? "error"
                      : status >= 400 ? (rng_chance(0.5) ? "warn" : "info")
                      : rng_chance(0.08) ? "debug" : "info";
    double lat = exp(log(12.0) + 1.1 * rng_normal());
    if (status == 504)
        lat = 3000.0 + rng_unit() * 50.0;
    if (lat > 60000.0)
        lat = 60000.0;
    time_t secs = (time_t)(ts_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);

    l->n = 0;
    put_str(l, "{\"level\":\"");
    put_str(l, level);
    put_str(l, "\",\"time\":\"");
    put_u64_w(l, (uint64_t)tm.tm_year + 1900, 4);
    put_ch(l, '-');
    put_u64_w(l, (uint64_t)tm.tm_mon + 1, 2);
    put_ch(l, '-');
    put_u64_w(l, (uint64_t)tm.tm_mday, 2);
    put_ch(l, 'T');
    put_u64_w(l, (uint64_t)tm.tm_hour, 2);
    put_ch(l, ':');
    put_u64_w(l, (uint64_t)tm.tm_min, 2);
    put_ch(l, ':');
    put_u64_w(l, (uint64_t)tm.tm_sec, 2);
    put_ch(l, '.');
    put_u64_w(l, (uint64_t)(ts_ms % 1000), 3);
    put_str(l, "Z\",\"service\":\"");
    put_str(l, r->service);
    put_str(l, "\",\"path\":\"");
    for (const char *p = r->path; *p; p++) {
        if (*p == '#')
            put_u64(l, rng_chance(0.5) ? rng_range(1000, 99999) : rng_range(100000, 9999999));
        else
            put_ch(l, *p);
    }
    put_str(l, "\",\"status\":");
    put_u64(l, (uint64_t)status);
    put_str(l, ",\"latencyMs\":");
    uint64_t tenths = (uint64_t)(lat * 10.0 + 0.5);
    put_u64(l, tenths / 10);
    put_ch(l, '.');
    put_u64(l, tenths % 10);
    put_str(l, ",\"requestId\":\"");
    put_hex(l, rng_u64() >> 32, 8);
    put_ch(l, '-');
    put_hex(l, rng_u64() >> 48, 4);
    put_str(l, "-4");
    put_hex(l, rng_u64() >> 52, 3);
    put_ch(l, '-');
    put_hex(l, 0x8 | (rng_u64() >> 62), 1);
    put_hex(l, rng_u64() >> 52, 3);
    put_ch(l, '-');
    put_hex(l, rng_u64() >> 16, 12);
    put_str(l, "\",\"userId\":");
    if (strcmp(r->service, "api-gateway") == 0 && rng_chance(0.3)) {
        put_str(l, "null");
    } else {
        put_str(l, "\"u-");
        put_u64_w(l, (uint64_t)zipf_pick(&w->user_z) * 7919 % 1000000, 6);
        put_ch(l, '"');
    }
    put_str(l, ",\"msg\":\"");
    put_str(l, json_msg(status, r->service));
    put_str(l, "\"}");
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: sluice-gen --kind flow|json --events N [--seed S] [--now MS]\n"
        "                  [--span-ms MS] [--out FILE] [--raw FILE]\n"
        "  Writes N rows \"timestamp_ms<TAB>line\" (to --out or stdout), oldest\n"
        "  first with a little jitter, spread over --span-ms (3600000) before\n"
        "  --now (the current time). --raw FILE also writes the bare lines.\n"
        "  Prints the seed and sizes on stderr; the same seed and --now give the\n"
        "  same bytes.\n");
}

static bool parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    const char *kind = NULL, *out_path = NULL, *raw_path = NULL;
    int64_t events = -1, seed = 42, span = 3600000, now = -1;

    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = v != NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--kind") == 0) {
            kind = v;
        } else if (strcmp(a, "--events") == 0) {
            ok = ok && parse_i64(v, &events);
        } else if (strcmp(a, "--seed") == 0) {
            ok = ok && parse_i64(v, &seed);
        } else if (strcmp(a, "--now") == 0) {
            ok = ok && parse_i64(v, &now);
        } else if (strcmp(a, "--span-ms") == 0) {
            ok = ok && parse_i64(v, &span) && span > 0;
        } else if (strcmp(a, "--out") == 0) {
            out_path = v;
        } else if (strcmp(a, "--raw") == 0) {
            raw_path = v;
        } else {
            fprintf(stderr, "sluice-gen: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "sluice-gen: %s needs a non-negative integer or a value\n", a);
            return 2;
        }
    }
    if (!kind || (strcmp(kind, "flow") != 0 && strcmp(kind, "json") != 0) || events < 0) {
        usage(stderr);
        return 2;
    }
    if (now < 0) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        now = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    }

    FILE *out = out_path ? fopen(out_path, "w") : stdout;
    FILE *raw = raw_path ? fopen(raw_path, "w") : NULL;
    if (!out || (raw_path && !raw)) {
        fprintf(stderr, "sluice-gen: cannot open %s: %s\n",
                !out ? out_path : raw_path, strerror(errno));
        return 1;
    }
    static char obuf[1 << 20], rbuf[1 << 20];
    setvbuf(out, obuf, _IOFBF, sizeof(obuf));
    if (raw)
        setvbuf(raw, rbuf, _IOFBF, sizeof(rbuf));

    rng_seed((uint64_t)seed * 2 + (strcmp(kind, "flow") == 0));
    static struct flow_world fw;
    struct json_world jw;
    bool flow = strcmp(kind, "flow") == 0;
    if (flow) {
        flow_world_init(&fw);
    } else {
        zipf_init(&jw.route_z, COUNT(json_routes), 1.0);
        zipf_init(&jw.user_z, JSON_USERS, 1.05);
    }

    struct line l;
    uint64_t raw_bytes = 0;
    int64_t base = now - span;
    for (int64_t i = 0; i < events; i++) {
        /* evenly spread, then up to 2 s late, never outside the span */
        int64_t ts = base + (int64_t)((double)span * (double)i / (double)events);
        ts -= (int64_t)rng_below(2000);
        if (ts < base)
            ts = base;
        if (flow)
            flow_line(&fw, ts, &l);
        else
            json_line(&jw, ts, &l);
        raw_bytes += l.n;
        fprintf(out, "%" PRId64 "\t", ts);
        fwrite(l.b, 1, l.n, out);
        fputc('\n', out);
        if (raw) {
            fwrite(l.b, 1, l.n, raw);
            fputc('\n', raw);
        }
    }
    if (fflush(out) != 0 || (raw && fflush(raw) != 0) || ferror(out) || (raw && ferror(raw))) {
        fprintf(stderr, "sluice-gen: write failed: %s\n", strerror(errno));
        return 1;
    }
    if (flow) {
        zipf_fini(&fw.eni_z);
        zipf_fini(&fw.priv_z);
        zipf_fini(&fw.pub_z);
    } else {
        zipf_fini(&jw.route_z);
        zipf_fini(&jw.user_z);
    }
    if (out != stdout)
        fclose(out);
    if (raw)
        fclose(raw);
    fprintf(stderr, "sluice-gen: %s, %" PRId64 " events, seed %" PRId64 ", now %" PRId64
            ", %" PRIu64 " message bytes (%.1f per event)\n",
            kind, events, seed, now, raw_bytes,
            events ? (double)raw_bytes / (double)events : 0.0);
    return 0;
}
