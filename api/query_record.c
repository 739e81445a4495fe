/* api/query_record.c: GetLogRecord for both fronts: the whole event an
 * @ptr of a query result points at, with every field: the system fields
 * (times as epoch-ms text, as GetLogRecord answers) and every field
 * discovery finds in the message, all as strings, as one JSON object. */
#include "api/query_common.h"

#include "api/json_out.h"
#include "query/discover.h"
#include "query/exec.h"
#include "query/value.h"
#include "storage/catalog.h"
#include "storage/reader.h"
#include "storage/store.h"

#include <string.h>

#define VALUE_MAX       (8u << 20)      /* one value's text */

struct record {
    int64_t ts, seq;
    const char *account;         /* of @log */
    const char *group;
    const char *stream;
    const struct disc_flow_format *flow;
    struct arena *scratch;
    struct buf *out;
    struct buf text;             /* one value's output text */
    bool found;
    enum sl_status st;
};

static enum sl_status put_field(struct buf *o, const char *name,
                                const char *v, size_t n)
{
    enum sl_status st = buf_putc(o, ',');
    if (st == SL_OK)
        st = jout_key(o, name);
    return st == SL_OK ? jout_str(o, v, n) : st;
}

static enum sl_status put_time(struct buf *o, const char *name, int64_t ms)
{
    char t[24];
    int n = snprintf(t, sizeof(t), "%lld", (long long)ms);
    return put_field(o, name, t, (size_t)n);
}

static enum sl_status put_discovered(void *ctx, const char *name,
                                     const struct val *v)
{
    struct record *rec = ctx;
    enum sl_status st;

    buf_clear(&rec->text);
    st = val_format(v, &rec->text);
    if (st == SL_OK)
        st = put_field(rec->out, name, rec->text.data ? rec->text.data : "",
                       rec->text.len);
    return st;
}

/* {"@timestamp":..,"@ingestionTime":..,...discovered} */
static bool visit(void *ctx, const struct rd_event *e)
{
    struct record *rec = ctx;
    struct buf *o = rec->out;
    enum sl_status st;

    if (e->ts != rec->ts || e->seq != rec->seq)
        return false;            /* the event is gone */
    rec->found = true;
    st = buf_puts(o, "{\"@timestamp\":");
    if (st == SL_OK) {
        char t[24];
        int n = snprintf(t, sizeof(t), "%lld", (long long)e->ts);
        st = jout_str(o, t, (size_t)n);
    }
    if (st == SL_OK)
        st = put_time(o, "@ingestionTime", e->ingest);
    if (st == SL_OK)
        st = put_field(o, "@logStream", rec->stream, strlen(rec->stream));
    if (st == SL_OK) {
        /* account digits and [A-Za-z0-9._/#-] need no escaping */
        st = buf_printf(o, ",\"@log\":\"%s:%s\"", rec->account, rec->group);
    }
    if (st == SL_OK)
        st = put_field(o, "@message", e->msg, e->len);
    if (st == SL_OK)
        st = disc_each(rec->flow, e->msg, e->len, rec->scratch,
                       put_discovered, rec);
    if (st == SL_OK)
        st = buf_putc(o, '}');
    rec->st = st;
    return false;
}

struct by_id {
    int64_t id;
    struct cat_group *out;
    bool found;
};

static enum sl_status match_id(void *ctx, const struct cat_group *g,
                               bool *go_on, struct sl_err *err)
{
    struct by_id *b = ctx;
    (void)err;
    if (g->id == b->id) {
        *b->out = *g;
        b->found = true;
        *go_on = false;
    }
    return SL_OK;
}

/* The live group with this id (the catalogue is read by name). */
static enum sl_status group_by_id(sqlite3 *db, int64_t id, struct arena *a,
                                  struct cat_group *out, struct sl_err *err)
{
    struct by_id b = {.id = id, .out = out};
    enum sl_status st = qc_each_group(db, NULL, a, match_id, &b, err);

    if (st == SL_OK && !b.found)
        st = sl_fail(err, SL_NOT_FOUND,
                     "the log group of this pointer no longer exists");
    return st;
}

enum sl_status qc_record(struct api *api, const char *ptr, size_t len,
                         struct arena *a, struct buf *out, struct sl_err *err)
{
    struct record rec = {0};
    struct cat_group g;
    struct arena scratch;
    int64_t gid, sid, *ids = NULL;
    const char **names = NULL;
    int n = 0;
    sqlite3 *db;
    enum sl_status st;

    if (!qx_ptr_decode(ptr, len, &gid, &sid, &rec.ts, &rec.seq))
        return sl_fail(err, SL_INVALID,
                       "'%.80s' is not a record pointer: use the @ptr value "
                       "of a query result row", ptr);
    db = store_reader(api->store);
    st = group_by_id(db, gid, a, &g, err);
    if (st == SL_OK)
        st = cat_group_streams(db, gid, a, &ids, &names, &n, err);
    for (int i = 0; st == SL_OK && i < n && rec.stream == NULL; i++)
        if (ids[i] == sid)
            rec.stream = names[i];
    if (st == SL_OK && rec.stream == NULL)
        st = sl_fail(err, SL_NOT_FOUND,
                     "the log stream of this pointer no longer exists");
    if (st == SL_OK && g.field_format != NULL) {
        struct disc_flow_format *f = NULL;
        st = disc_flow_format_compile(g.field_format, strlen(g.field_format),
                                      a, &f, err);
        rec.flow = f;
    }
    arena_init(&scratch, 64u << 10, 4u << 20);
    buf_init(&rec.text, VALUE_MAX);
    if (st == SL_OK) {
        /* Strictly after (ts, seq - 1): the event itself comes first. */
        struct rd_scan scan = {.stream_id = sid, .start = rec.ts,
                               .end = rec.ts + 1, .has_after = true,
                               .after_ts = rec.ts, .after_seq = rec.seq - 1};
        rec.group = g.name;
        rec.account = api->cfg.account_id;
        rec.scratch = &scratch;
        rec.out = out;
        st = rd_stream_scan(db, &scan, visit, &rec, err);
        if (st == SL_OK && !rec.found)
            st = sl_fail(err, SL_NOT_FOUND,
                         "the event of this pointer no longer exists "
                         "(retention or deletion removed it)");
        if (st == SL_OK && rec.st != SL_OK)
            st = sl_fail(err, rec.st, "could not build the record: %s",
                         sl_status_text(rec.st));
    }
    store_reader_release(api->store, db);
    arena_fini(&scratch);
    buf_fini(&rec.text);
    return st;
}
