/* scripts/bench/loadgen.c: sluice-loadgen, the HTTP/1.1 keep-alive load
 * generator of scripts/bench-ingest. Reads sluice-gen rows, pre-builds every
 * JSON request body (batches as large as CloudWatch allows, or exactly K
 * events), then C clients, one keep-alive connection each with one request
 * in flight, post them as fast as the server answers. With --get PATH they
 * send bodiless GETs instead: the rate of the HTTP layer alone, the ceiling
 * of any 1-event scenario. It must never be the bottleneck: the clients
 * share a few epoll loops (a thread per client spent 29 us of a 2-core
 * machine's CPU per 1-event request, taken from the server it measures),
 * bodies are reused, replies are parsed only for status, Content-Length
 * and the accepted count. */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define CWL_EVENT_OVERHEAD 26           /* CloudWatch counts message bytes + 26 per event */
#define CWL_MAX_BATCH_BYTES 1048576
#define CWL_MAX_BATCH_EVENTS 10000
#define RBUF_SIZE 65536                 /* reply bytes kept; the rest is read and dropped */
#define ERR_KEEP 600                    /* bytes of the first error reply kept for printing */

struct opts {
    const char *host;
    const char *port;
    const char *group;
    const char *stream;         /* stream name, or prefix of "<stream>-<client>" */
    bool one_stream;            /* every client posts to the same stream */
    const char *input;          /* sluice-gen rows: ts<TAB>message */
    const char *label;
    long limit;                 /* use at most this many rows (0 = all) */
    long clients;
    long loops;                 /* epoll loop threads (0 = online CPUs) */
    long batch_bytes;           /* CloudWatch-counted bytes per batch */
    long batch_events;          /* exact events per batch (0 = fill batch_bytes) */
    double duration;            /* seconds; 0 = post every body once */
    const char *get_path;       /* GET this path instead of posting events */
};

/* One pre-built request body. */
struct body {
    char *data;
    size_t len;
    uint32_t events;
    uint64_t raw;               /* message bytes (unescaped) */
};

/* State every client thread shares; counters are per thread. */
struct shared {
    const struct opts *o;
    struct body *bodies;
    size_t nbodies;
    atomic_size_t next;         /* next body index to send */
    pthread_barrier_t start;
    struct timespec t0;         /* set by main before the start barrier */
    pthread_mutex_t err_lock;
    char first_err[ERR_KEEP];   /* first non-200 reply, or first rejection */
    char first_reject[ERR_KEEP];
};

/* One client: a keep-alive connection with one request in flight. */
struct client {
    struct shared *sh;
    int fd;
    bool done;                  /* its time or the bodies are up, or it failed */
    char prefix[2048];          /* request line and headers up to Content-Length's value */
    size_t prefix_len;
    /* the request in flight */
    const struct body *b;
    struct timespec t1;         /* when it began */
    char clen[40];
    struct iovec iov[3];
    int iov_at, niov;           /* what is left to send: iov[iov_at..+niov) */
    /* its reply */
    char rbuf[RBUF_SIZE];
    size_t have;                /* bytes kept in rbuf */
    size_t dropped;             /* bytes read past rbuf and dropped */
    size_t hdr_end;             /* header bytes, 0 until they are whole */
    size_t want;                /* header + body bytes */
    int status;
    bool close;                 /* the server closes after this reply */
    bool to_eof;                /* no length: the body runs to the close */
    uint32_t *lat_us;           /* one latency per request, microseconds */
    size_t nlat, caplat;
    uint64_t requests, errors, events_ok, raw_ok, rejected;
    bool failed;                /* could not (re)connect: the thread gave up */
};

/* ------------------------------------------------------------- helpers */

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

static double tv_secs(const struct timeval *t)
{
    return (double)t->tv_sec + (double)t->tv_usec * 1e-6;
}

static void now(struct timespec *t)
{
    clock_gettime(CLOCK_MONOTONIC, t);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "sluice-loadgen: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
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

static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0)
        return false;
    *out = v;
    return true;
}

/* Percent-encodes name for a path segment (group names hold '/'). */
static void pct_encode(const char *name, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && n + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
}

/* ------------------------------------------------------ input and bodies */

/* The rows of the input file, borrowed from one buffer holding the file. */
struct rows {
    char *buf;
    size_t n;
    int64_t *ts;
    const char **msg;
    uint32_t *len;
};

static void rows_load(const char *path, long limit, struct rows *r)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "sluice-loadgen: cannot read %s: %s\n", path, strerror(errno));
        exit(1);
    }
    size_t size = (size_t)st.st_size, got = 0;
    r->buf = xmalloc(size + 1);
    while (got < size) {
        ssize_t k = read(fd, r->buf + got, size - got);
        if (k <= 0) {
            fprintf(stderr, "sluice-loadgen: short read on %s\n", path);
            exit(1);
        }
        got += (size_t)k;
    }
    close(fd);
    r->buf[size] = '\n';

    size_t lines = 0;
    for (const char *p = r->buf; (p = memchr(p, '\n', (size_t)(r->buf + size - p))) != NULL; p++)
        lines++;
    if (limit > 0 && (size_t)limit < lines)
        lines = (size_t)limit;
    r->ts = xmalloc(lines * sizeof(*r->ts));
    r->msg = xmalloc(lines * sizeof(*r->msg));
    r->len = xmalloc(lines * sizeof(*r->len));
    r->n = 0;

    char *p = r->buf, *end = r->buf + size;
    while (p < end && r->n < lines) {
        char *nl = memchr(p, '\n', (size_t)(end - p) + 1);
        char *tab = memchr(p, '\t', (size_t)(nl - p));
        if (!tab) {
            fprintf(stderr, "sluice-loadgen: %s row %zu has no TAB (want ts<TAB>message)\n",
                    path, r->n + 1);
            exit(1);
        }
        int64_t ts = 0;
        for (const char *q = p; q < tab; q++) {
            if (*q < '0' || *q > '9') {
                fprintf(stderr, "sluice-loadgen: %s row %zu: bad timestamp\n", path, r->n + 1);
                exit(1);
            }
            ts = ts * 10 + (*q - '0');
        }
        r->ts[r->n] = ts;
        r->msg[r->n] = tab + 1;
        r->len[r->n] = (uint32_t)(nl - tab - 1);
        r->n++;
        p = nl + 1;
    }
}

/* Bytes of s once escaped as a JSON string body (quotes not counted). */
static size_t json_escaped_len(const char *s, size_t n)
{
    size_t out = n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
            out += 1;
        else if (c < 0x20)
            out += 5;
    }
    return out;
}

static char *json_escape(char *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':  *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\b': *o++ = '\\'; *o++ = 'b'; break;
        case '\f': *o++ = '\\'; *o++ = 'f'; break;
        default:
            if (c < 0x20) {
                memcpy(o, "\\u00", 4);
                o += 4;
                *o++ = hex[c >> 4];
                *o++ = hex[c & 15];
            } else {
                *o++ = (char)c;
            }
        }
    }
    return o;
}

/* Cuts rows into batches (exactly batch_events each, or as many as fit
 * batch_bytes counted as CloudWatch counts, at most 10,000) and renders each
 * as [{"timestamp":T,"message":"..."},...]. */
static struct body *bodies_build(const struct rows *r, const struct opts *o, size_t *count)
{
    size_t cap = 64, n = 0, i = 0;
    struct body *b = xmalloc(cap * sizeof(*b));
    while (i < r->n) {
        size_t first = i, cw = 0, json = 2;
        while (i < r->n) {
            size_t ev = r->len[i] + CWL_EVENT_OVERHEAD;
            size_t k = i - first;
            if (o->batch_events ? k >= (size_t)o->batch_events
                                : (k >= CWL_MAX_BATCH_EVENTS ||
                                   (k > 0 && cw + ev > (size_t)o->batch_bytes)))
                break;
            cw += ev;
            json += 48 + json_escaped_len(r->msg[i], r->len[i]);   /* {"timestamp":<20 digits>,"message":""}, */
            i++;
        }
        if (n == cap) {
            cap *= 2;
            struct body *nb = realloc(b, cap * sizeof(*b));
            if (!nb) {
                fprintf(stderr, "sluice-loadgen: out of memory\n");
                exit(1);
            }
            b = nb;
        }
        char *d = xmalloc(json), *p = d;
        uint64_t raw = 0;
        *p++ = '[';
        for (size_t j = first; j < i; j++) {
            char num[24];
            int k = snprintf(num, sizeof(num), "%" PRId64, r->ts[j]);
            if (j > first)
                *p++ = ',';
            memcpy(p, "{\"timestamp\":", 13);
            p += 13;
            memcpy(p, num, (size_t)k);
            p += k;
            memcpy(p, ",\"message\":\"", 12);
            p += 12;
            p = json_escape(p, r->msg[j], r->len[j]);
            memcpy(p, "\"}", 2);
            p += 2;
            raw += r->len[j];
        }
        *p++ = ']';
        b[n].data = d;
        b[n].len = (size_t)(p - d);
        b[n].events = (uint32_t)(i - first);
        b[n].raw = raw;
        n++;
    }
    *count = n;
    return b;
}

/* ------------------------------------------------------------ HTTP client */

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

static bool header_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len >= n && strncasecmp(line, name, n) == 0;
}

/* Headers of the reply in rbuf[0..have) once "\r\n\r\n" has arrived: sets
 * hdr_end, status, want (header + body bytes) and close. False when the
 * bytes are not an HTTP/1.x reply. */
static bool parse_headers(struct client *c, const char *end)
{
    c->hdr_end = (size_t)(end - c->rbuf) + 4;
    if (c->have < 12 || memcmp(c->rbuf, "HTTP/1.", 7) != 0)
        return false;
    c->status = (c->rbuf[9] - '0') * 100 + (c->rbuf[10] - '0') * 10 + (c->rbuf[11] - '0');
    c->close = memcmp(c->rbuf, "HTTP/1.0", 8) == 0;
    c->to_eof = false;

    long long clen = -1;
    const char *line = (const char *)memchr(c->rbuf, '\n', c->hdr_end) + 1;
    while (line < c->rbuf + c->hdr_end - 2) {
        const char *eol = memchr(line, '\n', (size_t)(c->rbuf + c->hdr_end - line));
        size_t len = (size_t)(eol - line);
        if (header_is(line, len, "content-length:")) {
            clen = 0;
            for (const char *q = line + 15; q < eol; q++)
                if (*q >= '0' && *q <= '9')
                    clen = clen * 10 + (*q - '0');
        } else if (header_is(line, len, "connection:")) {
            for (const char *q = line + 11; q + 5 <= eol; q++)
                if (strncasecmp(q, "close", 5) == 0)
                    c->close = true;
        }
        line = eol + 1;
    }
    if (clen < 0) {
        if (c->status == 204 || c->status == 304 || c->status < 200) {
            clen = 0;
        } else {
            /* no length: the body runs to the end of the connection */
            c->close = c->to_eof = true;
            clen = (long long)(sizeof(c->rbuf) - c->hdr_end);
        }
    }
    c->want = c->hdr_end + (size_t)clen;
    return true;
}

static void keep_first(struct shared *sh, char *slot, const char *fmt_prefix,
                       int status, const char *body, size_t len)
{
    pthread_mutex_lock(&sh->err_lock);
    if (!slot[0]) {
        int k = snprintf(slot, ERR_KEEP, "%s %d: ", fmt_prefix, status);
        size_t room = ERR_KEEP - 1 - (size_t)k;
        if (len > room)
            len = room;
        memcpy(slot + k, body, len);
        slot[(size_t)k + len] = '\0';
    }
    pthread_mutex_unlock(&sh->err_lock);
}

/* Counts what a 200 reply says: {"accepted":N,"rejected":[...]} */
static void count_reply(struct client *c, const char *body, size_t body_len)
{
    const struct body *b = c->b;
    const char *a = memmem(body, body_len, "\"accepted\":", 11);
    uint64_t accepted = 0;
    if (a) {
        for (a += 11; a < body + body_len && *a >= '0' && *a <= '9'; a++)
            accepted = accepted * 10 + (uint64_t)(*a - '0');
    }
    c->events_ok += accepted;
    c->raw_ok += accepted == b->events ? b->raw : b->raw * accepted / (b->events ? b->events : 1);
    if (accepted != b->events) {
        c->rejected += b->events - (accepted < b->events ? accepted : b->events);
        keep_first(c->sh, c->sh->first_reject, "events rejected, reply", c->status,
                   body, body_len);
    }
}

static void add_latency(struct client *c, double secs)
{
    if (c->nlat == c->caplat) {
        c->caplat = c->caplat ? c->caplat * 2 : 4096;
        uint32_t *n = realloc(c->lat_us, c->caplat * sizeof(*n));
        if (!n) {
            fprintf(stderr, "sluice-loadgen: out of memory\n");
            exit(1);
        }
        c->lat_us = n;
    }
    double us = secs * 1e6;
    c->lat_us[c->nlat++] = us > 4e9 ? 4000000000U : (uint32_t)us;
}

/* (Re)connects c and registers the new socket, non-blocking and
 * edge-triggered, with its loop's epoll set. */
static bool reconnect(struct client *c, int ep)
{
    if (c->fd >= 0)
        close(c->fd);   /* also leaves the epoll set */
    for (int tries = 0; tries < 50; tries++) {
        c->fd = connect_to(c->sh->o->host, c->sh->o->port);
        if (c->fd >= 0) {
            struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                    .data.ptr = c};
            fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
            if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) == 0)
                return true;
            close(c->fd);
            c->fd = -1;
        }
        usleep(20000);
    }
    return false;
}

static void finish(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->done = true;
}

/* Sends what is left of the request; true once all of it is out or the
 * socket is full (EPOLLOUT resumes it), false when the connection failed. */
static bool send_some(struct client *c)
{
    while (c->niov > 0) {
        struct msghdr m = {0};
        m.msg_iov = c->iov + c->iov_at;
        m.msg_iovlen = (size_t)c->niov;
        ssize_t k = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        struct iovec *iov = c->iov + c->iov_at;
        while (c->niov > 0 && (size_t)k >= iov->iov_len) {
            k -= (ssize_t)iov->iov_len;
            iov++;
            c->iov_at++;
            c->niov--;
        }
        if (c->niov > 0) {
            iov->iov_base = (char *)iov->iov_base + k;
            iov->iov_len -= (size_t)k;
        }
    }
    return true;
}

/* Reconnects c, or gives it up (failed, done) when the server stays away. */
static bool relink(struct client *c, int ep)
{
    if (reconnect(c, ep))
        return true;
    c->failed = true;
    finish(c);
    return false;
}

/* Counts a lost connection (errno why) and relinks. */
static bool recover(struct client *c, int ep, int why)
{
    c->errors++;
    keep_first(c->sh, c->sh->first_err, "connection lost, errno", why, "", 0);
    return relink(c, ep);
}

/* Starts c's next request, or ends c when its time or the bodies are up. */
static void begin(struct client *c, int ep)
{
    struct shared *sh = c->sh;
    const struct opts *o = sh->o;

    while (!c->done) {
        now(&c->t1);
        if (o->duration > 0 && ts_diff(&sh->t0, &c->t1) >= o->duration) {
            finish(c);
            return;
        }
        size_t idx = atomic_fetch_add(&sh->next, 1);
        if (o->duration > 0)
            idx %= sh->nbodies;
        else if (idx >= sh->nbodies) {
            finish(c);
            return;
        }
        c->b = &sh->bodies[idx];
        int k = snprintf(c->clen, sizeof(c->clen), "%zu\r\n\r\n", c->b->len);
        c->iov[0] = (struct iovec){c->prefix, c->prefix_len};
        c->iov[1] = (struct iovec){c->clen, (size_t)k};
        c->iov[2] = (struct iovec){c->b->data, c->b->len};
        c->iov_at = 0;
        c->niov = o->get_path ? 1 : 3;
        c->have = c->hdr_end = c->dropped = 0;
        c->requests++;
        if (send_some(c))
            return;
        recover(c, ep, errno);
    }
}

/* The reply is whole: records it and starts the next request. */
static void complete(struct client *c, int ep)
{
    struct timespec t2;
    now(&t2);
    add_latency(c, ts_diff(&c->t1, &t2));
    const char *body = c->rbuf + c->hdr_end;
    size_t body_len = (c->have < c->want ? c->have : c->want) - c->hdr_end;
    if (c->status != 200) {
        c->errors++;
        keep_first(c->sh, c->sh->first_err, "HTTP", c->status, body, body_len);
    } else if (!c->sh->o->get_path) {
        count_reply(c, body, body_len);
    }
    if (c->niov > 0)
        c->close = true;    /* answered before all of it went out (a 413) */
    if (c->close && !relink(c, ep))
        return;
    begin(c, ep);
}

/* The connection broke mid-request: starts over with the next body on a
 * new one. */
static void lost(struct client *c, int ep, int why)
{
    if (recover(c, ep, why))
        begin(c, ep);
}

/* Reads what has arrived of the reply (the first RBUF_SIZE bytes kept, the
 * rest dropped) until the socket is empty or the reply is whole. */
static void receive(struct client *c, int ep)
{
    for (;;) {
        char sink[16384];
        bool keep = c->have < sizeof(c->rbuf);
        char *dst = keep ? c->rbuf + c->have : sink;
        size_t room = keep ? sizeof(c->rbuf) - c->have : sizeof(sink);
        ssize_t k = recv(c->fd, dst, room, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (k <= 0) {
            if (c->hdr_end > 0 && c->to_eof) {
                complete(c, ep);
                return;
            }
            lost(c, ep, k == 0 ? 0 : errno);
            return;
        }
        if (keep) {
            size_t was = c->have;
            c->have += (size_t)k;
            if (c->hdr_end == 0) {
                size_t from = was > 3 ? was - 3 : 0;
                const char *end = memmem(c->rbuf + from, c->have - from, "\r\n\r\n", 4);
                if (end == NULL) {
                    if (c->have == sizeof(c->rbuf)) {   /* 64 KiB of headers: not our server */
                        lost(c, ep, EPROTO);
                        return;
                    }
                    continue;
                }
                if (!parse_headers(c, end)) {
                    lost(c, ep, EPROTO);
                    return;
                }
            }
        } else {
            c->dropped += (size_t)k;
        }
        if (!c->to_eof && c->have + c->dropped >= c->want) {
            complete(c, ep);
            return;
        }
    }
}

/* One event loop: its clients' connections in one epoll set. */
struct loop {
    pthread_t th;
    struct shared *sh;
    struct client *cl;          /* clients first, first + step, ... */
    long first, step, count;
};

static void *loop_main(void *arg)
{
    struct loop *l = arg;
    struct shared *sh = l->sh;
    int ep = epoll_create1(EPOLL_CLOEXEC);

    for (long n = l->first; n < l->count; n += l->step) {
        struct client *c = &l->cl[n];
        c->fd = -1;
        if (ep < 0 || !reconnect(c, ep)) {
            c->failed = true;
            c->done = true;
        }
    }
    pthread_barrier_wait(&sh->start);
    for (long n = l->first; n < l->count; n += l->step)
        if (!l->cl[n].done)
            begin(&l->cl[n], ep);
    for (;;) {
        long active = 0;
        for (long n = l->first; n < l->count; n += l->step)
            active += !l->cl[n].done;
        if (active == 0)
            break;
        struct epoll_event ev[64];
        int k = epoll_wait(ep, ev, 64, 100);
        for (int i = 0; i < k; i++) {
            struct client *c = ev[i].data.ptr;
            if (c->done)
                continue;
            if (c->niov > 0 && !send_some(c)) {
                lost(c, ep, errno);
                continue;
            }
            if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                receive(c, ep);
        }
    }
    if (ep >= 0)
        close(ep);
    return NULL;
}

/* ------------------------------------------------------------------ main */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: sluice-loadgen --port P --group G --input FILE [options]\n"
        "  --host H            server address (127.0.0.1)\n"
        "  --stream S          stream name; each client posts to S-<n> (bench)\n"
        "  --one-stream        every client posts to stream S itself\n"
        "  --clients N         clients, one keep-alive connection each (8)\n"
        "  --loops N           threads running the clients' epoll loops\n"
        "                      (online CPUs, at most N clients)\n"
        "  --batch-bytes B     batch as many events as fit B bytes counted as\n"
        "                      CloudWatch counts (message + 26 each), at most\n"
        "                      10,000 events (1048576)\n"
        "  --batch K           exactly K events per request instead\n"
        "  --limit N           use only the first N rows of FILE\n"
        "  --duration SEC      post bodies round-robin for SEC seconds\n"
        "                      (default: post every body once)\n"
        "  --label NAME        name printed with the results\n"
        "  --get PATH          send bodiless GET PATH requests instead (with\n"
        "                      --duration; --group and --input are not needed)\n"
        "FILE holds rows \"timestamp_ms<TAB>message\" (sluice-gen). Prints a\n"
        "summary on stderr and one line \"RESULT key=value ...\" on stdout.\n"
        "Exit status 1 when any request failed or any event was rejected.\n");
}

int main(int argc, char **argv)
{
    struct opts o = {.host = "127.0.0.1", .stream = "bench", .label = "load",
                     .clients = 8, .batch_bytes = CWL_MAX_BATCH_BYTES};
    int ai = 1;
    while (ai < argc) {
        const char *a = argv[ai];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--one-stream") == 0) {
            o.one_stream = true;
            ai++;
            continue;
        }
        const char *v = ai + 1 < argc ? argv[ai + 1] : NULL;
        bool ok = true;
        if (!v) {
            fprintf(stderr, "sluice-loadgen: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--host") == 0)
            o.host = v;
        else if (strcmp(a, "--port") == 0)
            o.port = v;
        else if (strcmp(a, "--group") == 0)
            o.group = v;
        else if (strcmp(a, "--stream") == 0)
            o.stream = v;
        else if (strcmp(a, "--input") == 0)
            o.input = v;
        else if (strcmp(a, "--label") == 0)
            o.label = v;
        else if (strcmp(a, "--clients") == 0)
            ok = parse_long(v, &o.clients) && o.clients > 0 && o.clients <= 4096;
        else if (strcmp(a, "--loops") == 0)
            ok = parse_long(v, &o.loops) && o.loops > 0 && o.loops <= 256;
        else if (strcmp(a, "--batch-bytes") == 0)
            ok = parse_long(v, &o.batch_bytes) && o.batch_bytes > 0;
        else if (strcmp(a, "--batch") == 0)
            ok = parse_long(v, &o.batch_events) && o.batch_events > 0;
        else if (strcmp(a, "--limit") == 0)
            ok = parse_long(v, &o.limit);
        else if (strcmp(a, "--duration") == 0)
            ok = parse_double(v, &o.duration);
        else if (strcmp(a, "--get") == 0)
            o.get_path = v;
        else {
            fprintf(stderr, "sluice-loadgen: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "sluice-loadgen: bad value for %s: %s\n", a, v);
            return 2;
        }
        ai += 2;
    }
    if (o.get_path && o.duration <= 0) {
        fprintf(stderr, "sluice-loadgen: --get needs --duration\n");
        return 2;
    }
    if (!o.port || (!o.get_path && (!o.group || !o.input))) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    struct timespec p0, p1;
    now(&p0);
    struct rows rows;
    if (o.get_path) {           /* one unused body keeps the loop uniform */
        static int64_t ts0;
        static const char *msg0 = "";
        static uint32_t len0;
        rows = (struct rows){.n = 1, .ts = &ts0, .msg = &msg0, .len = &len0};
        o.input = "--get";
    } else {
        rows_load(o.input, o.limit, &rows);
    }
    struct shared sh = {.o = &o};
    sh.bodies = bodies_build(&rows, &o, &sh.nbodies);
    now(&p1);
    if (sh.nbodies == 0) {
        fprintf(stderr, "sluice-loadgen: %s has no rows\n", o.input);
        return 1;
    }
    uint64_t body_bytes = 0;
    for (size_t i = 0; i < sh.nbodies; i++)
        body_bytes += sh.bodies[i].len;
    fprintf(stderr, "loadgen %s: %zu rows -> %zu requests of %.0f events, %.0f bytes on average"
            " (built in %.2f s)\n", o.label, rows.n, sh.nbodies,
            (double)rows.n / (double)sh.nbodies, (double)body_bytes / (double)sh.nbodies,
            ts_diff(&p0, &p1));

    char genc[1600], senc[1600];
    pct_encode(o.group ? o.group : "", genc, sizeof(genc));
    struct client *cl = calloc((size_t)o.clients, sizeof(*cl));
    if (!cl) {
        fprintf(stderr, "sluice-loadgen: out of memory\n");
        return 1;
    }
    if (o.loops == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        o.loops = cpus > 0 ? cpus : 1;
    }
    if (o.loops > o.clients)
        o.loops = o.clients;
    pthread_mutex_init(&sh.err_lock, NULL);
    pthread_barrier_init(&sh.start, NULL, (unsigned)o.loops + 1);
    for (long n = 0; n < o.clients; n++) {
        struct client *c = &cl[n];
        char sname[600];
        if (o.one_stream)
            snprintf(sname, sizeof(sname), "%s", o.stream);
        else
            snprintf(sname, sizeof(sname), "%s-%ld", o.stream, n);
        pct_encode(sname, senc, sizeof(senc));
        c->sh = &sh;
        int k = o.get_path
            ? snprintf(c->prefix, sizeof(c->prefix), "GET %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n",
                       o.get_path, o.host, o.port)
            : snprintf(c->prefix, sizeof(c->prefix),
                       "POST /api/v1/groups/%s/streams/%s/events?create=true HTTP/1.1\r\n"
                       "Host: %s:%s\r\nContent-Type: application/json\r\n"
                       "Content-Length: ", genc, senc, o.host, o.port);
        if (k < 0 || (size_t)k >= sizeof(c->prefix)) {
            fprintf(stderr, "sluice-loadgen: names too long\n");
            return 2;
        }
        c->prefix_len = (size_t)k;
    }
    struct loop *loops = calloc((size_t)o.loops, sizeof(*loops));
    if (!loops) {
        fprintf(stderr, "sluice-loadgen: out of memory\n");
        return 1;
    }
    for (long n = 0; n < o.loops; n++) {
        loops[n] = (struct loop){.sh = &sh, .cl = cl, .first = n, .step = o.loops,
                                 .count = o.clients};
        if (pthread_create(&loops[n].th, NULL, loop_main, &loops[n]) != 0) {
            fprintf(stderr, "sluice-loadgen: cannot start thread %ld\n", n);
            return 1;
        }
    }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    now(&sh.t0);
    pthread_barrier_wait(&sh.start);
    for (long i = 0; i < o.loops; i++)
        pthread_join(loops[i].th, NULL);
    free(loops);
    struct timespec t_end;
    now(&t_end);
    double secs = ts_diff(&sh.t0, &t_end);
    getrusage(RUSAGE_SELF, &ru1);
    double cpu = tv_secs(&ru1.ru_utime) + tv_secs(&ru1.ru_stime) -
                 tv_secs(&ru0.ru_utime) - tv_secs(&ru0.ru_stime);

    uint64_t req = 0, err = 0, ev = 0, raw = 0, rej = 0, failed = 0;
    size_t nlat = 0;
    for (long i = 0; i < o.clients; i++) {
        req += cl[i].requests;
        err += cl[i].errors;
        ev += cl[i].events_ok;
        raw += cl[i].raw_ok;
        rej += cl[i].rejected;
        failed += cl[i].failed;
        nlat += cl[i].nlat;
    }
    uint32_t *lat = xmalloc(nlat * sizeof(*lat));
    size_t at = 0;
    for (long i = 0; i < o.clients; i++) {
        if (cl[i].nlat)
            memcpy(lat + at, cl[i].lat_us, cl[i].nlat * sizeof(*lat));
        at += cl[i].nlat;
    }
    qsort(lat, nlat, sizeof(*lat), cmp_u32);
    double p50 = nlat ? (double)lat[(size_t)(0.50 * (double)(nlat - 1))] / 1000.0 : 0;
    double p99 = nlat ? (double)lat[(size_t)(0.99 * (double)(nlat - 1))] / 1000.0 : 0;
    double pmax = nlat ? (double)lat[nlat - 1] / 1000.0 : 0;
    double eps = (double)ev / secs, rps = (double)(req - err) / secs;
    double mbps = (double)raw / secs / 1e6;

    fprintf(stderr, "loadgen %s: %" PRIu64 " events accepted in %" PRIu64 " requests over %.2f s"
            " from %ld clients: %.0f events/s, %.0f requests/s, %.1f MB/s raw;"
            " latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; %" PRIu64 " errors, %" PRIu64
            " rejected; client CPU %.2f s (%.0f%% of one core)\n", o.label, ev, req, secs,
            o.clients, eps, rps, mbps, p50, p99, pmax, err, rej, cpu, 100.0 * cpu / secs);
    if (sh.first_err[0])
        fprintf(stderr, "loadgen %s: first error: %s\n", o.label, sh.first_err);
    if (sh.first_reject[0])
        fprintf(stderr, "loadgen %s: first rejection: %s\n", o.label, sh.first_reject);
    if (failed)
        fprintf(stderr, "loadgen %s: %" PRIu64 " clients could not connect\n", o.label, failed);
    uint64_t want = 0;
    if (o.duration <= 0)
        for (size_t i = 0; i < sh.nbodies; i++)
            want += sh.bodies[i].events;
    if (o.duration <= 0 && ev != want)
        fprintf(stderr, "loadgen %s: %" PRIu64 " of %" PRIu64 " events accepted\n",
                o.label, ev, want);
    printf("RESULT label=%s events=%" PRIu64 " requests=%" PRIu64 " seconds=%.3f"
           " events_per_s=%.0f requests_per_s=%.0f mb_per_s=%.2f raw_bytes=%" PRIu64
           " p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%" PRIu64 " rejected=%" PRIu64
           " events_per_request=%.0f client_cpu_s=%.3f\n",
           o.label, ev, req, secs, eps, rps, mbps, raw, p50, p99, pmax, err, rej,
           (double)rows.n / (double)sh.nbodies, cpu);
    fflush(stdout);

    for (long n = 0; n < o.clients; n++)
        free(cl[n].lat_us);
    free(cl);
    free(lat);
    for (size_t n = 0; n < sh.nbodies; n++)
        free(sh.bodies[n].data);
    free(sh.bodies);
    if (!o.get_path) {
        free(rows.buf);
        free(rows.ts);
        free(rows.msg);
        free(rows.len);
    }
    pthread_barrier_destroy(&sh.start);
    pthread_mutex_destroy(&sh.err_lock);
    return err || rej || failed || (o.duration <= 0 && ev != want) ? 1 : 0;
}
