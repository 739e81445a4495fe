/* api/query_fields.c: GetLogGroupFields for both fronts: the fields a
 * group's events have and the share of events that have each, from a
 * sample of the newest events in the time range: up to FIELDS_SAMPLE
 * events, shared out over the FIELDS_MAX_STREAMS streams that logged last,
 * each read newest first. */
#include "api/query_common.h"

#include "common/alloc.h"
#include "query/discover.h"
#include "storage/catalog.h"
#include "storage/reader.h"
#include "storage/store.h"

#include <stdlib.h>
#include <string.h>

#define FIELDS_SAMPLE       1000    /* events looked at */
#define FIELDS_MAX_STREAMS  100     /* streams they come from */
#define FIELDS_MAX_NAMES    1000    /* discovered fields per group (AWS) */
#define FIELDS_SCRATCH      (4u << 20)

static const char *const system_fields[] = {
    "@timestamp", "@message", "@logStream", "@log", "@ingestionTime"};

struct tally {
    json_t *counts;              /* name -> events that have it */
    json_t *seen;                /* names of the event being looked at */
    const struct disc_flow_format *flow;
    struct arena scratch;        /* reset per event */
    int64_t quota;               /* events to take from this stream */
    int64_t taken;               /* from this stream */
    int64_t events;              /* in total */
    enum sl_status st;
};

static enum sl_status count_field(void *ctx, const char *name,
                                  const struct val *v)
{
    struct tally *t = ctx;
    json_t *c;

    if (val_is_null(v))
        return SL_OK;                       /* '-' in a flow log: absent */
    if (json_object_get(t->seen, name) != NULL)
        return SL_OK;                       /* once per event */
    json_object_set_new(t->seen, name, json_true());
    c = json_object_get(t->counts, name);
    if (c != NULL)
        json_integer_set(c, json_integer_value(c) + 1);
    else if (json_object_size(t->counts) < FIELDS_MAX_NAMES)
        json_object_set_new(t->counts, name, json_integer(1));
    return SL_OK;
}

static bool visit(void *ctx, const struct rd_event *e)
{
    struct tally *t = ctx;

    if (t->taken >= t->quota || t->events >= FIELDS_SAMPLE)
        return false;
    arena_reset(&t->scratch);
    json_object_clear(t->seen);
    t->st = disc_each(t->flow, e->msg, e->len, &t->scratch, count_field, t);
    if (t->st != SL_OK)
        return false;
    t->taken++;
    t->events++;
    return true;
}

static int by_percent(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t px = json_integer_value(json_object_get(x, "percent"));
    json_int_t py = json_integer_value(json_object_get(y, "percent"));
    if (px != py)
        return px > py ? -1 : 1;
    return strcmp(json_string_value(json_object_get(x, "name")),
                  json_string_value(json_object_get(y, "name")));
}

static json_t *field_json(const char *name, int64_t count, int64_t events)
{
    json_t *o = json_object();
    int64_t pct = (count * 100 + events / 2) / events;
    if (pct == 0 && count > 0)
        pct = 1;                 /* present, however rarely */
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "percent", json_integer(pct));
    return o;
}

/* [{"name","percent"}...] by percent, then name; NULL without memory. */
static json_t *answer(const struct tally *t)
{
    size_t n = 0, total = t->events > 0 ? 5 + json_object_size(t->counts) : 0;
    json_t **items = sl_calloc(total ? total : 1, sizeof(*items));
    json_t *arr, *v;
    const char *k;

    if (items == NULL)
        return NULL;
    arr = json_array();
    if (t->events > 0) {
        for (size_t i = 0; i < 5; i++)
            items[n++] = field_json(system_fields[i], t->events, t->events);
        json_object_foreach(t->counts, k, v)
            items[n++] = field_json(k, json_integer_value(v), t->events);
        qsort(items, n, sizeof(*items), by_percent);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, items[i]);
    }
    sl_free(items);
    return arr;
}

enum sl_status qc_group_fields(struct api *api, const char *group,
                               int64_t start, int64_t end, struct arena *a,
                               json_t **fields, int64_t *sampled,
                               struct sl_err *err)
{
    struct tally t = {0};
    struct cat_group g;
    struct cat_stream *streams;
    int n = 0;
    bool more;
    sqlite3 *db;
    enum sl_status st;

    *fields = NULL;
    *sampled = 0;
    streams = arena_alloc(a, FIELDS_MAX_STREAMS * sizeof(*streams));
    if (streams == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    t.counts = json_object();
    t.seen = json_object();
    arena_init(&t.scratch, 64u << 10, FIELDS_SCRATCH);
    db = store_reader(api->store);
    st = cat_group_find(db, group, a, &g, err);
    if (st == SL_OK && g.field_format != NULL) {
        struct disc_flow_format *f = NULL;
        st = disc_flow_format_compile(g.field_format, strlen(g.field_format),
                                      a, &f, err);
        t.flow = f;
    }
    if (st == SL_OK)
        st = cat_stream_list(db, g.id, NULL, CAT_ORDER_LAST_EVENT, true, NULL,
                             FIELDS_MAX_STREAMS, streams, &n, &more, err);
    for (int i = 0; st == SL_OK && i < n && t.events < FIELDS_SAMPLE; i++) {
        struct rd_scan scan = {.stream_id = streams[i].id, .start = start,
                               .end = end + 1, .desc = true};
        if (streams[i].last_event_ms == CAT_NONE ||
            streams[i].last_event_ms < start || streams[i].first_event_ms > end)
            continue;
        /* An equal share of what is left for each stream still to read. */
        t.quota = (FIELDS_SAMPLE - t.events + (n - i) - 1) / (n - i);
        t.taken = 0;
        st = rd_stream_scan(db, &scan, visit, &t, err);
        if (st == SL_OK && t.st != SL_OK)
            st = sl_fail(err, t.st, "field discovery failed: %s",
                         sl_status_text(t.st));
    }
    store_reader_release(api->store, db);
    arena_fini(&t.scratch);
    if (st == SL_OK) {
        *fields = answer(&t);
        *sampled = t.events;
        if (*fields == NULL)
            st = sl_fail(err, SL_NOMEM, "out of memory");
    }
    json_decref(t.counts);
    json_decref(t.seen);
    return st;
}
