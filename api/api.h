/* api/api.h: the HTTP surfaces of Sluice (native REST and the CloudWatch
 * Logs JSON protocol on POST /) without knowing the HTTP library. server/ turns
 * each request into an api_req and sends back the api_resp. A handler
 * either answers at once (API_DONE) or, for writes waiting on a group
 * commit, answers later: it returns API_PENDING and, once the outcome is
 * known, calls req->resume(req->resume_ctx) from the writer thread; the
 * response is filled by then, or by req->finish on the server's thread.
 * A streaming answer (live tail) fills resp->stream and returns API_DONE:
 * the server sends the status and headers, then pulls the body. */
#ifndef SLUICE_API_API_H
#define SLUICE_API_API_H

#include "common/arena.h"
#include "common/status.h"
#include "storage/store.h"

#include <stddef.h>
#include <stdint.h>

struct api;

/* Limits and identity; defaults from api_config_defaults(). */
struct api_config {
    size_t max_batch_events;     /* events per ingest request (10,000) */
    size_t max_batch_bytes;      /* message bytes + 26 per event (1,048,576) */
    size_t max_event_bytes;      /* message bytes of one event (262,144) */
    int64_t max_age_ms;          /* oldest accepted event, before now (14 d) */
    int64_t max_ahead_ms;        /* newest accepted event, after now (2 h) */
    size_t max_inflight_bytes;   /* request bodies held at once, all requests */
    char account_id[13];         /* 12 digits, in ARNs ("000000000000") */
    char region[64];             /* in ARNs ("us-east-1") */
    int max_queries;             /* queries running at once (20) */
    int64_t query_timeout_ms;    /* longest query run; 0 = none (15 min) */
    size_t query_mem;            /* rows and aggregation state a query may
                                    hold (256 MiB) */
};

void api_config_defaults(struct api_config *c);

struct api_req {
    const char *method;          /* "GET", "POST", ... */
    const char *path;            /* raw, still percent-encoded, no query */
    const char *query;           /* raw text after '?', or "" */
    const char *content_type;    /* header value or NULL */
    const char *body;            /* request body (borrowed) */
    size_t body_len;
    struct arena *arena;         /* dies with the request */
    void (*resume)(void *ctx);   /* for API_PENDING; called once */
    void *resume_ctx;
    /* Set by api/ for API_PENDING, or left NULL: the server calls it on
     * its own thread after resume and before sending resp, which it fills.
     * What resume's caller (the writer's syncer, between two syncs of
     * every ingest) would otherwise do, building the answer, then costs
     * nobody else's wait. */
    void (*finish)(void *ctx);
    void *finish_ctx;
    /* Value of request header name (case-insensitive) or NULL; the value
     * lives as long as the request. May be NULL: no headers. */
    const char *(*header)(void *ctx, const char *name);
    void *header_ctx;
    /* Filled by api/: the access key id of a SigV4 Authorization header
     * (CloudWatch protocol), or NULL. Recorded, not checked yet. */
    const char *access_key_id;
};

/* The body of a streaming answer, pulled by the server piece by piece.
 * While a stream is open req->resume may be called any number of times,
 * from any thread, to say "pull again"; never after close returned. */
struct api_stream {
    /* Copies up to cap bytes of the body into out and returns how many;
     * 0 when nothing is ready (the server waits for req->resume);
     * API_STREAM_END when the body is complete. One thread at a time. */
    long (*pull)(void *ctx, char *out, size_t cap);
    /* Called once when the answer is over (sent, client gone, or never
     * started); frees ctx. */
    void (*close)(void *ctx);
    void *ctx;
};

#define API_STREAM_END (-1L)

struct api_resp {
    int status;                  /* HTTP status */
    const char *content_type;    /* static string */
    char *body;                  /* owned (sl_alloc), may be NULL */
    size_t body_len;
    int retry_after;             /* seconds for a Retry-After header, 0 none */
    const char *request_id;      /* x-amzn-RequestId header value, or NULL;
                                    lives as long as the request */
    struct api_stream stream;    /* pull non-NULL: a streaming answer;
                                    body is then unused */
};

enum api_result { API_DONE, API_PENDING };

/* Borrows store for its lifetime. NULL when memory or a thread is
 * missing. */
struct api *api_create(struct store *s, const struct api_config *c);
/* Ends long-running work before the HTTP server stops: running queries
 * are cancelled and requests waiting on them answered; new queries get
 * 503. Call before the server's own shutdown, then api_destroy after. */
void api_shutdown(struct api *a);
void api_destroy(struct api *a);
/* Ends every streaming answer (live tails) promptly: call before the
 * server's shutdown waits for requests in flight. */
void api_streams_end(struct api *a);

/* Handles one complete request. resp must stay valid until the response
 * is sent (for API_PENDING, until after resume was called). */
enum api_result api_handle(struct api *a, struct api_req *req,
                           struct api_resp *resp);

/* Accounting of request bodies being received: false when admitting
 * bytes more would pass max_inflight_bytes (answer 503 with Retry-After). */
bool api_inflight_admit(struct api *a, size_t bytes);
void api_inflight_release(struct api *a, size_t bytes);

#endif
