/* api/rest_admin.c: operator endpoints: compaction on demand and the
 * writer's counters (commits, jobs, merges), which the durability test
 * compares with the fdatasync calls it observes. */
#include "api/api_int.h"

#include "common/clock.h"

void rest_admin_compact(struct route *r)
{
    struct sl_err err = {0};
    struct compact_stats cs;
    int64_t before = 0, after = 0;
    int64_t t0 = sl_mono_ms();

    if (store_segment_count(r->api->store, &before, &err) != SL_OK ||
        store_compact_now(r->api->store, &cs, &err) != SL_OK ||
        store_segment_count(r->api->store, &after, &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "segmentsBefore", json_integer(before));
    json_object_set_new(o, "segmentsAfter", json_integer(after));
    json_object_set_new(o, "merges", json_integer(cs.merges));
    json_object_set_new(o, "bytesBefore", json_integer(cs.bytes_in));
    json_object_set_new(o, "bytesAfter", json_integer(cs.bytes_out));
    json_object_set_new(o, "elapsedMs", json_integer(sl_mono_ms() - t0));
    reply_json(r->resp, 200, o);
}

void rest_admin_stats(struct route *r)
{
    struct sl_err err = {0};
    struct wr_stats ws;
    int64_t segs = 0;

    if (store_segment_count(r->api->store, &segs, &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    wr_get_stats(store_writer(r->api->store), &ws);
    json_t *o = json_object(), *w = json_object();
    json_object_set_new(w, "commits", json_integer((json_int_t)ws.commits));
    json_object_set_new(w, "jobs", json_integer((json_int_t)ws.jobs));
    json_object_set_new(w, "merged", json_integer((json_int_t)ws.merged));
    json_object_set_new(w, "syncs", json_integer((json_int_t)ws.syncs));
    json_object_set_new(w, "ingestJobs", json_integer((json_int_t)ws.ingests));
    json_object_set_new(w, "commitMeanUs", json_integer(ws.commit_mean_ns / 1000));
    json_object_set_new(w, "syncMeanUs", json_integer(ws.sync_mean_ns / 1000));
    json_object_set_new(o, "writer", w);
    json_object_set_new(o, "segments", json_integer(segs));
    reply_json(r->resp, 200, o);
}
