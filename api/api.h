/* api/api.h: the HTTP surfaces of Sluice (native REST now; the CloudWatch
 * JSON protocol joins here) without knowing the HTTP library. server/ turns
 * each request into an api_req and sends back the api_resp. A handler
 * either answers at once (API_DONE) or, for writes waiting on a group
 * commit, answers later: it returns API_PENDING and, once the response is
 * filled, calls req->resume(req->resume_ctx) from the writer thread. */
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
};

struct api_resp {
    int status;                  /* HTTP status */
    const char *content_type;    /* static string */
    char *body;                  /* owned (sl_alloc), may be NULL */
    size_t body_len;
    int retry_after;             /* seconds for a Retry-After header, 0 none */
};

enum api_result { API_DONE, API_PENDING };

/* Borrows store for its lifetime. */
struct api *api_create(struct store *s, const struct api_config *c);
void api_destroy(struct api *a);

/* Handles one complete request. resp must stay valid until the response
 * is sent (for API_PENDING, until after resume was called). */
enum api_result api_handle(struct api *a, struct api_req *req,
                           struct api_resp *resp);

/* Accounting of request bodies being received: false when admitting
 * bytes more would pass max_inflight_bytes (answer 503 with Retry-After). */
bool api_inflight_admit(struct api *a, size_t bytes);
void api_inflight_release(struct api *a, size_t bytes);

#endif
