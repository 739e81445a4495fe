/* server/http.c: libmicrohttpd set-up and the request lifecycle; see
 * http.h.
 *
 *   uri_log_cb     first sight of a request: keep the raw URI in the
 *                  connection (MHD decodes %2F before the handler sees it)
 *   handle         called repeatedly: headers (allocate the request), body
 *                  chunks, end of body;
 *                  at the end api_handle() runs; API_PENDING suspends the
 *                  connection until the writer's callback resumes it;
 *                  a streaming answer (resp.stream) goes out chunked,
 *                  pulled by stream_read, which suspends the connection
 *                  while nothing is ready until the api resumes it
 *   completed_cb   the response went out (or the client left): free all
 */
#include "server/http.h"

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/per_thread.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct srv_http {
    struct MHD_Daemon *d;
    struct api *api;
    size_t max_body;
    int listen_fd;
    atomic_int in_flight;        /* requests past their body, not yet done:
                                    what shutdown waits for */
    atomic_bool stopping;        /* shutting down: start no new work */
    pthread_mutex_t live_mu;     /* guards live */
    struct req *live;            /* requests in flight, for shutdown reports */
};

enum req_state { REQ_NEW, REQ_BODY, REQ_PENDING, REQ_READY };

struct req {
    struct srv_http *h;
    struct MHD_Connection *conn;
    char *raw_uri;               /* owned */
    struct arena arena;
    struct buf body;
    size_t admitted;             /* bytes counted against the in-flight cap */
    bool too_large;              /* body passed max_body: answer 413 */
    bool refused;                /* resp holds a refusal, sent once the body
                                    is read (and dropped) so the client sees
                                    it instead of a reset mid-upload */
    enum req_state state;
    pthread_mutex_t mu;          /* guards suspended/resumed */
    bool suspended, answered;
    bool woken;                  /* resume_cb ran since stream_read began */
    bool counted;                /* included in in_flight */
    struct api_req areq;
    struct api_resp resp;
    struct req *live_prev, *live_next;  /* srv_http.live list */
};

/* Per connection: the raw URI of its current request. MHD calls the URI
 * log callback before it decodes the URI, but calls the completion callback
 * only for requests that reached the handler, so nothing that must be freed
 * per request is allocated here. */
struct conn_ctx {
    char *raw_uri;               /* owned, NUL-terminated */
    size_t cap;
};

static void conn_notify_cb(void *cls, struct MHD_Connection *conn,
                           void **socket_ctx, enum MHD_ConnectionNotificationCode code)
{
    struct conn_ctx *c = *socket_ctx;
    (void)cls;
    (void)conn;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_ctx = sl_calloc(1, sizeof(struct conn_ctx));
    } else if (c != NULL) {
        sl_free(c->raw_uri);
        sl_free(c);
        *socket_ctx = NULL;
    }
}

static struct conn_ctx *conn_ctx_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct conn_ctx *c = conn_ctx_of(conn);
    size_t n = uri ? strlen(uri) : 0;
    (void)cls;
    if (c == NULL)
        return NULL;
    if (c->cap < n + 1) {
        char *p = sl_realloc(c->raw_uri, n + 1);
        if (p == NULL) {
            c->cap = 0;
            sl_free(c->raw_uri);
            c->raw_uri = NULL;
            return NULL;
        }
        c->raw_uri = p;
        c->cap = n + 1;
    }
    memcpy(c->raw_uri, uri ? uri : "", n + 1);
    return NULL;
}

/* First call of the handler for a request: from here on MHD promises the
 * completion callback, which frees what this allocates. */
static struct req *req_new(struct srv_http *h, struct MHD_Connection *conn,
                           const char *url)
{
    struct conn_ctx *c = conn_ctx_of(conn);
    struct req *r = sl_calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->h = h;
    r->conn = conn;
    /* Without a raw URI (out of memory) the decoded one is the best left. */
    r->raw_uri = sl_strdup(c && c->raw_uri ? c->raw_uri : url);
    if (r->raw_uri == NULL) {
        sl_free(r);
        return NULL;
    }
    arena_init(&r->arena, 16 * 1024, 0);
    buf_init(&r->body, h->max_body);
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_lock(&h->live_mu);
    r->live_next = h->live;
    if (h->live != NULL)
        h->live->live_prev = r;
    h->live = r;
    pthread_mutex_unlock(&h->live_mu);
    return r;
}

/* Each thread keeps the body buffer of its last request, up to this size,
 * for its next one: a fresh buffer for a 1 MiB batch cost 256 page faults
 * (glibc hands big freed blocks back to the kernel), half of all the
 * faults of ingesting 1 MiB batches. */
#define SPARE_BODY_MAX (2u << 20)

static void *spare_make(void)
{
    struct buf *b = sl_alloc(sizeof(*b));
    if (b != NULL)
        buf_init(b, SIZE_MAX);
    return b;
}

static void spare_free(void *p)
{
    buf_fini(p);
    sl_free(p);
}

/* This thread's spare buffer (empty: data NULL). */
static struct sl_per_thread thread_spare = {.make = spare_make,
                                            .destroy = spare_free};

/* Makes r->body (empty) ready for len bytes, from the spare if it fits. */
static enum sl_status body_reserve(struct req *r, size_t len)
{
    struct buf *spare = sl_per_thread_get(&thread_spare);

    if (spare != NULL && spare->data != NULL && spare->cap > len) {
        buf_fini(&r->body);
        r->body = *spare;
        r->body.max = r->h->max_body;
        buf_clear(&r->body);
        buf_init(spare, SIZE_MAX);
    }
    return buf_reserve(&r->body, len);
}

/* Keeps r's body buffer as this thread's spare, or frees it. */
static void body_release(struct req *r)
{
    struct buf *spare;

    if (r->body.data != NULL && r->body.cap <= SPARE_BODY_MAX &&
        (spare = sl_per_thread_get(&thread_spare)) != NULL && spare->data == NULL) {
        *spare = r->body;
        spare->max = SIZE_MAX;
        buf_init(&r->body, 0);
        return;
    }
    buf_fini(&r->body);
}

static void req_free(struct req *r)
{
    /* First: after close returns the api no longer calls resume_cb. */
    if (r->resp.stream.close != NULL)
        r->resp.stream.close(r->resp.stream.ctx);
    pthread_mutex_lock(&r->h->live_mu);
    if (r->live_prev != NULL)
        r->live_prev->live_next = r->live_next;
    else
        r->h->live = r->live_next;
    if (r->live_next != NULL)
        r->live_next->live_prev = r->live_prev;
    pthread_mutex_unlock(&r->h->live_mu);
    if (r->admitted)
        api_inflight_release(r->h->api, r->admitted);
    if (r->counted)
        atomic_fetch_sub(&r->h->in_flight, 1);
    sl_free(r->raw_uri);
    arena_fini(&r->arena);
    body_release(r);
    sl_free(r->resp.body);
    pthread_mutex_destroy(&r->mu);
    sl_free(r);
}

static void completed_cb(void *cls, struct MHD_Connection *conn,
                         void **req_cls, enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)conn;
    (void)why;
    if (*req_cls != NULL)
        req_free(*req_cls);
    *req_cls = NULL;
}

static enum MHD_Result send_resp(struct req *r)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(r->resp.body_len, r->resp.body,
                                           MHD_RESPMEM_MUST_FREE);
    if (resp == NULL)
        return MHD_NO;
    r->resp.body = NULL; /* MHD frees it now */
    if (r->resp.body_len > 0 || r->resp.status != 204)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                r->resp.content_type ? r->resp.content_type
                                                     : "application/json");
    if (r->resp.retry_after > 0) {
        char v[16];
        snprintf(v, sizeof(v), "%d", r->resp.retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (r->resp.request_id != NULL)
        MHD_add_response_header(resp, "x-amzn-RequestId", r->resp.request_id);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "sluice/" SLUICE_VERSION);
    if (atomic_load(&r->h->stopping))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(r->conn, (unsigned)r->resp.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Fills r->resp with an error answer; false when out of memory. */
static bool set_error(struct req *r, int status, const char *name,
                      const char *msg, int retry_after)
{
    struct buf b;
    buf_init(&b, 4096);
    if (buf_printf(&b, "{\"error\":\"%s\",\"message\":\"%s\"}", name, msg) != SL_OK)
        return false;
    r->resp.status = status;
    r->resp.content_type = "application/json";
    r->resp.body = buf_steal(&b, &r->resp.body_len);
    r->resp.retry_after = retry_after;
    return true;
}

static enum MHD_Result send_error(struct req *r, int status, const char *name,
                                  const char *msg, int retry_after)
{
    if (!set_error(r, status, name, msg, retry_after))
        return MHD_NO;
    return send_resp(r);
}

/* Writer thread: the outcome is known; wake the connection. Once the
 * connection is resumed its thread may finish and send the answer and
 * free r at once, so r is not touched after the unlock. For a streaming
 * answer the api calls this whenever there is something to pull (see
 * api_stream). */
static void resume_cb(void *ctx)
{
    struct req *r = ctx;
    struct MHD_Connection *conn = r->conn;
    bool wake;

    pthread_mutex_lock(&r->mu);
    r->answered = true;
    r->woken = true;
    wake = r->suspended;
    r->suspended = false;
    pthread_mutex_unlock(&r->mu);
    if (wake)
        MHD_resume_connection(conn);
}

/* MHD's content reader of a streaming answer. Returning 0 would make MHD
 * call again at once (a busy loop), so when the api has nothing ready the
 * connection is suspended until resume_cb; a resume_cb that came during
 * the pull means: pull again now. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct req *r = cls;
    (void)pos;
    for (;;) {
        long n;
        pthread_mutex_lock(&r->mu);
        r->woken = false;
        pthread_mutex_unlock(&r->mu);
        n = r->resp.stream.pull(r->resp.stream.ctx, out, max);
        if (n > 0)
            return (ssize_t)n;
        if (n < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&r->mu);
        if (!r->woken) {
            r->suspended = true;
            MHD_suspend_connection(r->conn);
            pthread_mutex_unlock(&r->mu);
            return 0;
        }
        pthread_mutex_unlock(&r->mu);
    }
}

static enum MHD_Result send_stream(struct req *r)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                             stream_read, r, NULL);
    if (resp == NULL)
        return MHD_NO;
    r->state = REQ_READY;        /* for report_live: streaming */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->resp.content_type ? r->resp.content_type
                                                 : "application/octet-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (r->resp.request_id != NULL)
        MHD_add_response_header(resp, "x-amzn-RequestId", r->resp.request_id);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "sluice/" SLUICE_VERSION);
    ret = MHD_queue_response(r->conn, (unsigned)r->resp.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* api_req.header: a request header, names matched case-insensitively. */
static const char *req_header(void *ctx, const char *name)
{
    struct req *r = ctx;
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* The answer of an API_PENDING request, once resumed. */
static enum MHD_Result send_pending(struct req *r)
{
    if (r->areq.finish != NULL)
        r->areq.finish(r->areq.finish_ctx);
    return send_resp(r);
}

static enum MHD_Result run_api(struct req *r, const char *method)
{
    char *q = strchr(r->raw_uri, '?');
    enum api_result res;

    /* Count first, then look at the flag: shutdown sets the flag, then
     * waits for the count, so every request either is waited for or sees
     * the flag and gets a retryable answer (nothing new is suspended, and
     * MHD must not stop with a suspended connection). Requests still
     * receiving a body are not waited for: they hold no acknowledged data. */
    r->counted = true;
    atomic_fetch_add(&r->h->in_flight, 1);
    if (atomic_load(&r->h->stopping))
        return send_error(r, 503, "ServiceUnavailableException",
                          "the server is shutting down; retry", 1);

    if (q != NULL)
        *q++ = '\0';
    r->areq = (struct api_req){
        .method = method,
        .path = r->raw_uri,
        .query = q ? q : "",
        .content_type = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_CONTENT_TYPE),
        .body = r->body.data ? r->body.data : "",
        .body_len = r->body.len,
        .arena = &r->arena,
        .resume = resume_cb,
        .resume_ctx = r,
        .header = req_header,
        .header_ctx = r,
    };
    res = api_handle(r->h->api, &r->areq, &r->resp);
    if (res == API_DONE && r->resp.stream.pull != NULL)
        return send_stream(r);
    if (res == API_DONE)
        return send_resp(r);
    pthread_mutex_lock(&r->mu);
    r->state = REQ_PENDING;
    if (!r->answered) {
        r->suspended = true;
        MHD_suspend_connection(r->conn);
        pthread_mutex_unlock(&r->mu);
        return MHD_YES;
    }
    pthread_mutex_unlock(&r->mu);
    return send_pending(r);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    struct srv_http *h = cls;
    struct req *r = *req_cls;

    (void)version;
    if (r == NULL) {
        r = *req_cls = req_new(h, conn, url);
        if (r == NULL)
            return MHD_NO; /* out of memory: drop the connection */
    }
    if (r->state == REQ_NEW) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
        r->state = REQ_BODY;
        if (len > h->max_body) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "request body of %llu bytes exceeds the limit of %zu bytes",
                     len, h->max_body);
            return send_error(r, 413, "PayloadTooLargeException", msg, 0);
        }
        if (len > 0) {
            if (!api_inflight_admit(h->api, (size_t)len)) {
                /* The body is within max_body: read and drop it, then
                 * answer, so the client is not reset while still sending. */
                r->refused = set_error(r, 503, "ServiceUnavailableException",
                                       "too many request bytes in flight; retry later", 1);
                return r->refused ? MHD_YES : MHD_NO;
            }
            r->admitted = (size_t)len;
            /* One allocation for the whole body instead of doublings. */
            if (body_reserve(r, (size_t)len) != SL_OK)
                return send_error(r, 503, "ServiceUnavailableException",
                                  "out of memory", 1);
        }
        return MHD_YES;
    }
    if (r->state == REQ_BODY && *upload_data_size > 0) {
        if (!r->too_large && !r->refused &&
            buf_append(&r->body, upload_data, *upload_data_size) != SL_OK)
            r->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->state == REQ_BODY) {
        if (r->refused)
            return send_resp(r);
        if (r->too_large) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "request body exceeds the limit of %zu bytes", h->max_body);
            return send_error(r, 413, "PayloadTooLargeException", msg, 0);
        }
        return run_api(r, method);
    }
    /* REQ_PENDING: resumed after the writer answered. */
    return send_pending(r);
}

static int open_listener(const struct cfg *c, struct sl_err *err)
{
    struct addrinfo hints = {0}, *res = NULL;
    char port[16];
    int fd, one = 1, rc;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", c->port);
    rc = getaddrinfo(c->host, port, &hints, &res);
    if (rc != 0) {
        sl_fail(err, SL_INVALID, "cannot resolve listen address %s: %s",
                c->host, gai_strerror(rc));
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        sl_fail(err, SL_IO, "socket: %s", strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        sl_fail(err, SL_IO, "cannot listen on %s:%d: %s%s", c->host, c->port,
                strerror(errno),
                errno == EADDRINUSE ? " (another server is using the port; "
                                      "pick another with --listen HOST:PORT)"
                                    : "");
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* MHD's logger hands over its own printf format. */
__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;
    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    sl_warn("http: %s", line);
}

struct srv_http *srv_http_start(const struct cfg *c, struct api *api,
                                struct sl_err *err)
{
    struct srv_http *h = sl_calloc(1, sizeof(*h));
    if (h == NULL) {
        sl_fail(err, SL_NOMEM, "out of memory");
        return NULL;
    }
    h->api = api;
    h->max_body = c->max_body;
    pthread_mutex_init(&h->live_mu, NULL);
    h->listen_fd = open_listener(c, err);
    if (h->listen_fd < 0) {
        sl_free(h);
        return NULL;
    }
    h->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        0, NULL, NULL, handle, h,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
        MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, h,
        MHD_OPTION_NOTIFY_CONNECTION, conn_notify_cb, h,
        MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
        MHD_OPTION_END);
    if (h->d == NULL) {
        sl_fail(err, SL_IO, "cannot start the HTTP server on %s:%d", c->host,
                c->port);
        close(h->listen_fd);
        sl_free(h);
        return NULL;
    }
    return h;
}

/* Logs every request still in flight (shutdown diagnostics). */
static void report_live(struct srv_http *h)
{
    static const char *const states[] = {"new", "body", "pending", "ready"};
    pthread_mutex_lock(&h->live_mu);
    for (struct req *r = h->live; r != NULL; r = r->live_next)
        if (r->counted)
            sl_warn("in flight: %s state=%s suspended=%d answered=%d body=%zu",
                r->raw_uri, states[r->state], r->suspended, r->answered,
                r->body.len);
    pthread_mutex_unlock(&h->live_mu);
}

void srv_http_stop(struct srv_http *h, int grace_ms)
{
    int64_t start = sl_mono_ms(), deadline = start + grace_ms;
    bool reported = false;

    if (h == NULL)
        return;
    /* No MHD_quiesce_daemon: with a thread pool on epoll it can abort when
     * a worker has the listen socket out of its set. New requests are
     * answered 503 with Connection: close instead (see run_api). */
    atomic_store(&h->stopping, true);
    while (atomic_load(&h->in_flight) > 0 && sl_mono_ms() < deadline) {
        usleep(10000);
        if (!reported && sl_mono_ms() - start > 2000) {
            report_live(h);  /* say what we are waiting for */
            reported = true;
        }
    }
    if (atomic_load(&h->in_flight) > 0) {
        sl_warn("stopping with %d requests still in flight",
                atomic_load(&h->in_flight));
        report_live(h);
    }
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->live_mu);
    sl_free(h);
}
