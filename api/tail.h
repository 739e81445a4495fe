/* api/tail.h: the live-tail hub. Tailers (StartLiveTail in cwl_tail.c, the
 * native server-sent events in rest_tail.c) subscribe with a set of groups,
 * optional stream names or prefixes and a filter pattern; the ingest core
 * (ingest.c) publishes every batch once the writer has committed it, so
 * only committed events reach tailers. Each subscriber has a bounded queue:
 * events beyond it are dropped and counted. A ticker thread wakes every
 * subscriber every TAIL_TICK_MS so tailers can send periodic updates and
 * keep-alives; a subscriber that asks for it is also woken on new data.
 *
 * Threads: publish runs on the writer thread, take on a connection
 * thread, wake hooks run with the hub lock held (they must only signal).
 * After tail_unsubscribe returns, the subscriber's wake hook is never
 * called again. Internal to api/. */
#ifndef SLUICE_API_TAIL_H
#define SLUICE_API_TAIL_H

#include "common/arena.h"
#include "common/buf.h"
#include "common/status.h"
#include "query/filter_pattern.h"
#include "storage/segment.h"
#include "storage/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAIL_TICK_MS 250
#define TAIL_MAX_GROUPS 10
/* Tails open at once, both faces together (AWS allows 15 live tail
 * sessions an account; each tail here holds a connection). */
#define TAIL_MAX_SUBS 256

struct tail_hub;
struct tail_sub;

/* What a subscriber wants. Strings and arrays are copied; pattern (may be
 * NULL: everything) is taken, also on failure. */
struct tail_spec {
    size_t n_groups;
    int64_t group_ids[TAIL_MAX_GROUPS];
    const char *group_labels[TAIL_MAX_GROUPS]; /* echoed with each event */
    const char *const *stream_names;  /* exact names, or NULL */
    size_t n_stream_names;
    const char *const *stream_prefixes;
    size_t n_stream_prefixes;
    struct fpat *pattern;
    size_t max_queue;                 /* events held before dropping */
    bool wake_on_data;                /* wake at once on new events */
    void (*wake)(void *ctx);
    void *wake_ctx;
};

/* One queued event (owned by the subscriber until taken). */
struct tail_ev {
    struct tail_ev *next;
    int64_t ts, ingest;
    const char *group_label;     /* the subscriber's, lives as long as it */
    char *stream;                /* points into this allocation */
    char *msg;                   /* ditto, NUL-terminated */
    size_t len;
};

struct tail_hub *tail_hub_create(struct store *s);
/* Every subscriber is told to end (tail_take reports ended) and woken;
 * new subscriptions fail with SL_UNAVAILABLE. */
void tail_hub_shutdown(struct tail_hub *h);
/* After every subscriber has unsubscribed. NULL is fine. */
void tail_hub_destroy(struct tail_hub *h);

/* SL_LIMIT with TAIL_MAX_SUBS tails open, SL_UNAVAILABLE after
 * tail_hub_shutdown. */
enum sl_status tail_subscribe(struct tail_hub *h, const struct tail_spec *spec,
                              struct tail_sub **out, struct sl_err *err)
    SL_MUST_CHECK;
void tail_unsubscribe(struct tail_sub *s);

/* Detaches every queued event (oldest first) into *list; *dropped gets the
 * events dropped since the last take; *ended whether the hub is shutting
 * down. Returns how many events were taken. */
size_t tail_take(struct tail_sub *s, struct tail_ev **list, uint64_t *dropped,
                 bool *ended);
void tail_ev_free(struct tail_ev *list);
/* Whether the hub is shutting down (the subscriber should end). */
bool tail_closing(struct tail_sub *s);

/* Whether anyone tails group_id (cheap; for the ingest core). */
bool tail_wanted(struct tail_hub *h, int64_t group_id);
/* The name of stream_id in group_id, copied into a: from a cache, else
 * from the catalogue (a read connection is taken: call it on a request
 * thread). NULL when unknown or out of memory. */
const char *tail_stream_name(struct tail_hub *h, int64_t group_id,
                             int64_t stream_id, struct arena *a);
/* Offers committed events of one stream to the subscribers. */
void tail_publish(struct tail_hub *h, int64_t group_id, const char *stream,
                  const struct seg_event *ev, size_t n, int64_t ingest_ms);

/* Copies pending bytes of b (from *off) into out: the pull step of a
 * streaming answer. Clears b once all of it is out. */
size_t tail_drain(struct buf *b, size_t *off, char *out, size_t cap);

#endif
