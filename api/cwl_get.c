/* api/cwl_get.c: GetLogEvents (reference 2.8): one stream's events in
 * pages, with the forward and backward tokens AWS hands out.
 *
 * A token is a boundary in the stream's (timestamp, seq) order, written as
 * the key K of the event just before it:
 *
 *     ... e1  e2 | e3  e4 ...        boundary after e2: K = key(e2)
 *
 *   f/K  reads forward, the events after K, oldest first;
 *   b/K  reads backward, the events up to and including K, newest first
 *        (and shows them oldest first, as every page is).
 *
 * A page e_first..e_last answers f/key(e_last) and b/(key(e_first) - 1):
 * keys are integer pairs, so (ts, seq - 1) is the last key before e_first
 * and the backward read from it starts just before e_first. A page that
 * finds nothing gives the caller's token back (the end marker clients
 * stop on) and the other direction from the same boundary. Without a
 * token the first page is the oldest (startFromHead) or the newest events;
 * an empty answer then points before everything, so later events are
 * still found going forward. Tokens are checksummed (storage/token.h) and
 * name their stream: another stream's token is invalid. */
#include "api/cwl_int.h"

#include "storage/catalog.h"
#include "storage/reader.h"
#include "storage/token.h"

#include <string.h>

#define GET_MAX_LIMIT   10000
#define PAGE_BYTES      (1024 * 1024)   /* as CloudWatch: 1 MB a page */

struct boundary {
    int64_t ts, seq;
};

/* Before every event. */
static const struct boundary BEFORE_ALL = {INT64_MIN, 0};

struct get_page {
    struct arena *arena;
    json_t **ev;                 /* limit slots, scan order */
    int64_t limit;
    int64_t n;
    size_t bytes;
    int64_t first_ts, first_seq; /* keys of ev[0] and ev[n-1] */
    int64_t last_ts, last_seq;
};

static bool collect(void *ctx, const struct rd_event *e)
{
    struct get_page *p = ctx;
    json_t *o;

    if (p->n == p->limit || (p->n > 0 && p->bytes + e->len > PAGE_BYTES))
        return false;
    o = json_object();
    json_object_set_new(o, "timestamp", json_integer(e->ts));
    json_object_set_new(o, "message", json_stringn_nocheck(e->msg, e->len));
    json_object_set_new(o, "ingestionTime", json_integer(e->ingest));
    if (p->n == 0) {
        p->first_ts = e->ts;
        p->first_seq = e->seq;
    }
    p->last_ts = e->ts;
    p->last_seq = e->seq;
    p->ev[p->n++] = o;
    p->bytes += e->len;
    return true;
}

/* "f/<token>" or "b/<token>" for a boundary of stream_id, in the arena. */
static char *token_text(struct cwl_call *c, char dir, int64_t stream_id,
                        struct boundary b)
{
    struct tok t = {.kind = TOK_KIND_CWL_EVENTS, .nvals = 4,
                    .vals = {stream_id, b.ts, b.seq, dir}};
    char *s = arena_alloc(c->arena, TOK_MAX_LEN + 3);
    if (s == NULL)
        return NULL;
    s[0] = dir;
    s[1] = '/';
    if (tok_encode(&t, s + 2, TOK_MAX_LEN + 1) == 0)
        return NULL;
    return s;
}

/* Parses a caller's token into its direction ('f' or 'b') and boundary. */
static enum sl_status parse_token(struct cwl_call *c, const char *s,
                                  int64_t stream_id, char *dir,
                                  struct boundary *b)
{
    struct tok t;

    if ((s[0] != 'f' && s[0] != 'b') || s[1] != '/' ||
        !tok_decode(s + 2, strlen(s + 2), &t) ||
        t.kind != TOK_KIND_CWL_EVENTS || t.nvals != 4 || t.vals[3] != s[0] ||
        t.vals[2] == INT64_MAX)
        return sl_fail(&c->err, SL_INVALID, "The specified nextToken is invalid.");
    if (t.vals[0] != stream_id)
        return sl_fail(&c->err, SL_INVALID,
                       "The specified nextToken is invalid: it belongs to "
                       "another log stream.");
    *dir = s[0];
    b->ts = t.vals[1];
    b->seq = t.vals[2];
    return SL_OK;
}

/* Reads the page the request asks for into p. */
static enum sl_status read_page(struct cwl_call *c, sqlite3 *db,
                                struct rd_scan *scan, const char *token,
                                char dir, struct boundary b,
                                bool from_head, struct get_page *p)
{
    if (token != NULL && dir == 'f') {
        scan->has_after = true;
        scan->after_ts = b.ts;
        scan->after_seq = b.seq;
    } else if (token != NULL) {
        scan->desc = true;
        scan->has_after = true;          /* strictly before (ts, seq + 1) */
        scan->after_ts = b.ts;
        scan->after_seq = b.seq + 1;
    } else {
        scan->desc = !from_head;
    }
    return rd_stream_scan(db, scan, collect, p, &c->err);
}

enum sl_status cwl_get_log_events(struct cwl_call *c)
{
    struct rd_scan scan = {0};
    struct get_page p = {.arena = c->arena};
    struct cat_group g;
    struct cat_stream s;
    struct boundary b = BEFORE_ALL, fwd, back;
    const char *group, *stream, *token, *ftok, *btok;
    char dir = 0;
    bool from_head, unmask;
    sqlite3 *db;
    enum sl_status st;
    json_t *o, *arr;

    if (cwl_group_ref(c, &group) != SL_OK ||
        cwl_stream_name(c, "logStreamName", &stream) != SL_OK ||
        cwl_int(c, "startTime", 0, INT64_MAX, INT64_MIN, &scan.start) != SL_OK ||
        cwl_int(c, "endTime", 0, INT64_MAX, INT64_MAX, &scan.end) != SL_OK ||
        cwl_int(c, "limit", 1, GET_MAX_LIMIT, GET_MAX_LIMIT, &p.limit) != SL_OK ||
        cwl_bool(c, "startFromHead", false, &from_head) != SL_OK ||
        cwl_bool(c, "unmask", false, &unmask) != SL_OK ||
        cwl_str(c, "nextToken", CWL_OPTIONAL, 1, TOK_MAX_LEN + 2, &token) != SL_OK)
        return c->err.code;
    p.ev = arena_alloc(c->arena, (size_t)p.limit * sizeof(*p.ev));
    if (p.ev == NULL)
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    db = store_reader(c->api->store);
    st = cat_group_find(db, group, c->arena, &g, &c->err);
    if (st == SL_OK)
        st = cat_stream_get(db, g.id, stream, &s, &c->err);
    if (st == SL_OK && token != NULL)
        st = parse_token(c, token, s.id, &dir, &b);
    if (st == SL_OK) {
        scan.stream_id = s.id;
        st = read_page(c, db, &scan, token, dir, b, from_head, &p);
    }
    store_reader_release(c->api->store, db);
    if (st != SL_OK) {
        for (int64_t i = 0; i < p.n; i++)
            json_decref(p.ev[i]);
        return st;
    }

    arr = json_array();
    for (int64_t i = 0; i < p.n; i++)          /* oldest first either way */
        json_array_append_new(arr, p.ev[scan.desc ? p.n - 1 - i : i]);
    if (p.n == 0) {
        fwd = back = b;
    } else if (scan.desc) {
        fwd = (struct boundary){p.first_ts, p.first_seq};
        back = (struct boundary){p.last_ts, p.last_seq - 1};
    } else {
        fwd = (struct boundary){p.last_ts, p.last_seq};
        back = (struct boundary){p.first_ts, p.first_seq - 1};
    }
    ftok = p.n == 0 && dir == 'f' ? token : token_text(c, 'f', s.id, fwd);
    btok = p.n == 0 && dir == 'b' ? token : token_text(c, 'b', s.id, back);
    o = json_object();
    json_object_set_new(o, "events", arr);
    json_object_set_new(o, "nextForwardToken", json_string(ftok ? ftok : ""));
    json_object_set_new(o, "nextBackwardToken", json_string(btok ? btok : ""));
    cwl_reply(c, o);
    return SL_OK;
}
