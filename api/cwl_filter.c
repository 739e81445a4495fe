/* api/cwl_filter.c: FilterLogEvents (reference 2.9): the events of several
 * streams of a group, interleaved by time, optionally matched against a
 * filter pattern, in pages of at most limit events and 1 MB.
 *
 * Every event has a key (timestamp, seq) and seqs are global, so keys
 * order the events of all streams at once and a page ends at one key: the
 * token is that key (with the group and the direction), and the next page
 * is every event past it. A page is built stream by stream:
 *
 *   kept:  the best page so far, sorted    [k1 k2 ... kn]
 *   fresh: this stream's events past the cursor, in order, copied while
 *          they could still enter the page (the scan stops at the first
 *          one that cannot: worse than kn with the page full)
 *   merge: kept + fresh -> the new kept (first limit events, 1 MB)
 *
 * Events the filter pattern rejects are skipped as they stream by (one
 * compiled matcher, query/filter_pattern.h). Anything left out (the
 * stopped scans, the merge's overflow) means more
 * may follow, and only then is a nextToken sent. Streams whose first and
 * last event times miss the range are skipped from the catalogue alone.
 * Memory stays near two pages: kept lives in one arena, the merge writes
 * into a second, and the two swap. */
#include "api/cwl_int.h"

#include "query/filter_pattern.h"
#include "storage/catalog.h"
#include "storage/reader.h"
#include "storage/segment.h"
#include "storage/token.h"

#include <string.h>

#define FILTER_MAX_LIMIT  10000
#define PAGE_BYTES        (1024 * 1024)
#define LIST_BATCH        1000          /* streams read from the catalogue at once */
#define MAX_NAMED_STREAMS 100

struct fstream {
    int64_t id;
    const char *name;                   /* in the request arena */
    int64_t first_ms, last_ms;
};

struct hit {
    int64_t ts, ingest, seq;
    const char *msg;                    /* in kept's or fresh's arena */
    uint32_t len;
    uint32_t stream;                    /* index into the stream list */
};

struct filter_page {
    const struct fpat *pat;             /* NULL: every event */
    bool desc;                          /* newest first */
    size_t limit;
    struct hit *kept;                   /* limit slots */
    size_t n_kept, kept_bytes;
    struct hit *fresh;                  /* limit slots */
    size_t n_fresh, fresh_bytes;
    struct arena arenas[3];             /* kept, spare, fresh */
    struct arena *keep, *spare, *scratch;
    uint32_t stream;                    /* the stream being scanned */
    bool more;                          /* events past the page exist */
    bool nomem;
};

/* Whether key a comes before key b in the page's direction. */
static bool before(const struct filter_page *p, int64_t ts_a, int64_t seq_a,
                   int64_t ts_b, int64_t seq_b)
{
    return p->desc ? seg_key_less(ts_b, seq_b, ts_a, seq_a)
                   : seg_key_less(ts_a, seq_a, ts_b, seq_b);
}

/* Whether n events of bytes may take one more of len. */
static bool fits(const struct filter_page *p, size_t n, size_t bytes,
                 size_t len)
{
    return n < p->limit && (n == 0 || bytes + len <= PAGE_BYTES);
}

static bool visit(void *ctx, const struct rd_event *e)
{
    struct filter_page *p = ctx;
    const struct hit *worst = p->n_kept ? &p->kept[p->n_kept - 1] : NULL;
    struct hit *h;
    char *msg;

    if (p->pat != NULL && !fpat_match(p->pat, e->msg, e->len))
        return true;
    if (worst != NULL && !fits(p, p->n_kept, p->kept_bytes, e->len) &&
        !before(p, e->ts, e->seq, worst->ts, worst->seq)) {
        p->more = true;                 /* this and the rest come later */
        return false;
    }
    if (!fits(p, p->n_fresh, p->fresh_bytes, e->len)) {
        p->more = true;
        return false;
    }
    msg = arena_alloc(p->scratch, e->len ? e->len : 1);
    if (msg == NULL) {
        p->nomem = true;
        return false;
    }
    memcpy(msg, e->msg, e->len);
    h = &p->fresh[p->n_fresh++];
    *h = (struct hit){.ts = e->ts, .ingest = e->ingest, .seq = e->seq,
                      .msg = msg, .len = e->len, .stream = p->stream};
    p->fresh_bytes += e->len;
    return true;
}

/* kept + fresh -> kept, in the spare arena; then the arenas swap. */
static enum sl_status merge(struct filter_page *p, struct hit *out,
                            struct sl_err *err)
{
    size_t i = 0, j = 0, n = 0, bytes = 0;
    struct arena *t;

    while (i < p->n_kept || j < p->n_fresh) {
        const struct hit *h;
        char *msg;
        if (j == p->n_fresh ||
            (i < p->n_kept && before(p, p->kept[i].ts, p->kept[i].seq,
                                     p->fresh[j].ts, p->fresh[j].seq)))
            h = &p->kept[i++];
        else
            h = &p->fresh[j++];
        if (!fits(p, n, bytes, h->len)) {
            p->more = true;
            break;
        }
        msg = arena_alloc(p->spare, h->len ? h->len : 1);
        if (msg == NULL)
            return sl_fail(err, SL_NOMEM, "out of memory");
        memcpy(msg, h->msg, h->len);
        out[n] = *h;
        out[n].msg = msg;
        bytes += h->len;
        n++;
    }
    memcpy(p->kept, out, n * sizeof(*out));
    p->n_kept = n;
    p->kept_bytes = bytes;
    p->n_fresh = 0;
    p->fresh_bytes = 0;
    t = p->keep;
    p->keep = p->spare;
    p->spare = t;
    arena_reset(p->spare);
    arena_reset(p->scratch);
    return SL_OK;
}

/* Appends a stream to the list (growing it in the arena). */
static enum sl_status add_stream(struct cwl_call *c, struct fstream **list,
                                 size_t *n, size_t *cap,
                                 const struct cat_stream *s)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct fstream *bigger = arena_alloc(c->arena, ncap * sizeof(*bigger));
        if (bigger == NULL)
            return sl_fail(&c->err, SL_NOMEM, "out of memory");
        if (*n > 0)
            memcpy(bigger, *list, *n * sizeof(*bigger));
        *list = bigger;
        *cap = ncap;
    }
    (*list)[*n] = (struct fstream){.id = s->id, .first_ms = s->first_event_ms,
                                   .last_ms = s->last_event_ms,
                                   .name = arena_strndup(c->arena, s->name,
                                                         strlen(s->name))};
    if ((*list)[*n].name == NULL)
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    (*n)++;
    return SL_OK;
}

/* The streams to search: the named ones that exist (each once), or every
 * stream of the group with the prefix. */
static enum sl_status list_streams(struct cwl_call *c, sqlite3 *db,
                                   int64_t group_id, const char **names,
                                   size_t n_names, const char *prefix,
                                   struct fstream **out, size_t *n)
{
    struct cat_cursor after = {.set = false};
    struct cat_stream *batch;
    size_t cap = 0;
    int got;
    bool more = true;

    *out = NULL;
    *n = 0;
    if (names != NULL) {
        for (size_t i = 0; i < n_names; i++) {
            struct cat_stream s;
            struct sl_err e = {0};
            bool dup = false;
            enum sl_status st = cat_stream_get(db, group_id, names[i], &s, &e);
            if (st == SL_NOT_FOUND)
                continue;
            if (st != SL_OK)
                return sl_fail(&c->err, st, "%s", e.msg);
            for (size_t k = 0; k < *n && !dup; k++)
                dup = (*out)[k].id == s.id;
            if (!dup && add_stream(c, out, n, &cap, &s) != SL_OK)
                return c->err.code;
        }
        return SL_OK;
    }
    batch = arena_alloc(c->arena, LIST_BATCH * sizeof(*batch));
    if (batch == NULL)
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    while (more) {
        if (cat_stream_list(db, group_id, prefix, CAT_ORDER_NAME, false, &after,
                            LIST_BATCH, batch, &got, &more, &c->err) != SL_OK)
            return c->err.code;
        for (int i = 0; i < got; i++)
            if (add_stream(c, out, n, &cap, &batch[i]) != SL_OK)
                return c->err.code;
        if (got > 0) {
            after.set = true;
            memcpy(after.name, batch[got - 1].name, strlen(batch[got - 1].name) + 1);
        }
    }
    return SL_OK;
}

/* Whether a stream may hold events of the scan, from its catalogue times. */
static bool may_hold(const struct fstream *s, const struct rd_scan *scan)
{
    if (s->first_ms == CAT_NONE)
        return false;
    if (s->last_ms < scan->start || s->first_ms >= scan->end)
        return false;
    if (scan->has_after)
        return scan->desc ? s->first_ms <= scan->after_ts
                          : s->last_ms >= scan->after_ts;
    return true;
}

static enum sl_status parse_token(struct cwl_call *c, const char *s,
                                  int64_t group_id, struct rd_scan *scan)
{
    struct tok t;
    if (!tok_decode(s, strlen(s), &t) || t.kind != TOK_KIND_CWL_FILTER ||
        t.nvals != 4 || t.vals[0] != group_id || (t.vals[3] != 0 && t.vals[3] != 1))
        return sl_fail(&c->err, SL_INVALID, "The specified nextToken is invalid.");
    scan->has_after = true;
    scan->after_ts = t.vals[1];
    scan->after_seq = t.vals[2];
    scan->desc = t.vals[3] == 1;       /* the first request's direction */
    return SL_OK;
}

static json_t *page_json(const struct filter_page *p,
                         const struct fstream *streams, int64_t group_id)
{
    json_t *o = json_object(), *arr = json_array();

    for (size_t i = 0; i < p->n_kept; i++) {
        const struct hit *h = &p->kept[i];
        json_t *e = json_object();
        char id[57];
        cwl_event_id(id, h->ts, h->seq);
        json_object_set_new(e, "logStreamName", json_string(streams[h->stream].name));
        json_object_set_new(e, "timestamp", json_integer(h->ts));
        json_object_set_new(e, "message", json_stringn_nocheck(h->msg, h->len));
        json_object_set_new(e, "ingestionTime", json_integer(h->ingest));
        json_object_set_new(e, "eventId", json_string(id));
        json_array_append_new(arr, e);
    }
    json_object_set_new(o, "events", arr);
    /* Deprecated by AWS in 2020 and always empty since. */
    json_object_set_new(o, "searchedLogStreams", json_array());
    if (p->more && p->n_kept > 0) {
        const struct hit *last = &p->kept[p->n_kept - 1];
        struct tok t = {.kind = TOK_KIND_CWL_FILTER, .nvals = 4,
                        .vals = {group_id, last->ts, last->seq, p->desc}};
        page_set_token(o, &t);
    }
    return o;
}

/* Scans every stream that may hold events into p. */
static enum sl_status scan_streams(struct cwl_call *c, sqlite3 *db,
                                   struct filter_page *p,
                                   const struct fstream *streams, size_t n,
                                   struct rd_scan *scan, struct hit *tmp)
{
    for (size_t i = 0; i < n; i++) {
        if (!may_hold(&streams[i], scan))
            continue;
        scan->stream_id = streams[i].id;
        p->stream = (uint32_t)i;
        if (rd_stream_scan(db, scan, visit, p, &c->err) != SL_OK)
            return c->err.code;
        if (p->nomem)
            return sl_fail(&c->err, SL_NOMEM, "out of memory");
        if (p->n_fresh > 0 && merge(p, tmp, &c->err) != SL_OK)
            return c->err.code;
    }
    return SL_OK;
}

enum sl_status cwl_filter_log_events(struct cwl_call *c)
{
    struct filter_page p = {0};
    struct rd_scan scan = {0};
    struct cat_group g;
    struct fstream *streams = NULL;
    struct hit *tmp;
    struct fpat *pat = NULL;
    const char *group, *prefix, *pattern, *token, **names;
    size_t n_names, n_streams = 0;
    int64_t start, end, limit;
    bool from_head, interleaved, unmask;
    sqlite3 *db;
    enum sl_status st;

    if (cwl_group_ref(c, &group) != SL_OK ||
        cwl_str_list(c, "logStreamNames", CWL_OPTIONAL, 1, MAX_NAMED_STREAMS,
                     CAT_NAME_MAX, &names, &n_names) != SL_OK ||
        cwl_str(c, "logStreamNamePrefix", CWL_OPTIONAL, 1, CAT_NAME_MAX,
                &prefix) != SL_OK ||
        cwl_int(c, "startTime", 0, INT64_MAX, INT64_MIN, &start) != SL_OK ||
        cwl_int(c, "endTime", 0, INT64_MAX, INT64_MAX, &end) != SL_OK ||
        cwl_str(c, "filterPattern", CWL_OPTIONAL, 0, 1024, &pattern) != SL_OK ||
        cwl_int(c, "limit", 1, FILTER_MAX_LIMIT, FILTER_MAX_LIMIT, &limit) != SL_OK ||
        cwl_bool(c, "startFromHead", true, &from_head) != SL_OK ||
        cwl_bool(c, "interleaved", true, &interleaved) != SL_OK ||
        cwl_bool(c, "unmask", false, &unmask) != SL_OK ||
        cwl_str(c, "nextToken", CWL_OPTIONAL, 1, TOK_MAX_LEN, &token) != SL_OK)
        return c->err.code;
    if (names != NULL && prefix != NULL)
        return sl_fail(&c->err, SL_INVALID,
                       "logStreamNames and logStreamNamePrefix are mutually "
                       "exclusive parameters.");
    if (pattern != NULL &&
        fpat_compile(pattern, strlen(pattern), &pat, &c->err) != SL_OK)
        return c->err.code;
    if (pat != NULL && fpat_kind(pat) != FPAT_ALL)
        p.pat = pat;
    scan.start = start;
    scan.end = end == INT64_MAX ? INT64_MAX : end + 1;   /* endTime inclusive */
    scan.desc = !from_head;
    p.limit = (size_t)limit;
    p.kept = arena_alloc(c->arena, p.limit * sizeof(*p.kept));
    p.fresh = arena_alloc(c->arena, p.limit * sizeof(*p.fresh));
    tmp = arena_alloc(c->arena, p.limit * sizeof(*tmp));
    if (p.kept == NULL || p.fresh == NULL || tmp == NULL) {
        fpat_free(pat);
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    }
    for (int i = 0; i < 3; i++)
        arena_init(&p.arenas[i], 64 * 1024, 0);
    p.keep = &p.arenas[0];
    p.spare = &p.arenas[1];
    p.scratch = &p.arenas[2];

    db = store_reader(c->api->store);
    st = cat_group_find(db, group, c->arena, &g, &c->err);
    if (st == SL_OK && token != NULL)
        st = parse_token(c, token, g.id, &scan);
    p.desc = scan.desc;
    if (st == SL_OK)
        st = list_streams(c, db, g.id, names, n_names, prefix, &streams,
                          &n_streams);
    if (st == SL_OK)
        st = scan_streams(c, db, &p, streams, n_streams, &scan, tmp);
    store_reader_release(c->api->store, db);
    if (st == SL_OK)
        cwl_reply(c, page_json(&p, streams, g.id));
    for (int i = 0; i < 3; i++)
        arena_fini(&p.arenas[i]);
    fpat_free(pat);
    return st;
}
