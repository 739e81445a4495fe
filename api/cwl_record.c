/* api/cwl_record.c: GetLogRecord (every field of the event an @ptr points
 * at, as strings) and GetLogGroupFields (the fields a group's recent
 * events have, with the share of events that have each) on the
 * CloudWatch Logs JSON protocol; the work is query_record.c's and
 * query_fields.c's, shared with the REST front. */
#include "api/cwl_int.h"

#include "api/query_common.h"
#include "common/clock.h"

#include <string.h>

#define RECORD_MAX      (8u << 20)      /* the answer: one event, its fields */
#define PTR_MAX         2048
#define FIELDS_AROUND   (8 * 60 * 1000) /* time given: time +- 8 min */
#define FIELDS_RECENT   (15 * 60 * 1000) /* no time: the last 15 min */

enum sl_status cwl_get_log_record(struct cwl_call *c)
{
    const char *ptr;
    bool unmask;
    struct buf out;
    enum sl_status st;

    if (cwl_str(c, "logRecordPointer", CWL_REQUIRED, 1, PTR_MAX, &ptr) != SL_OK ||
        cwl_bool(c, "unmask", false, &unmask) != SL_OK)   /* nothing is masked */
        return c->err.code;
    buf_init(&out, RECORD_MAX);
    st = buf_puts(&out, "{\"logRecord\":");
    if (st == SL_OK &&
        qc_record(c->api, ptr, strlen(ptr), c->arena, &out, &c->err) != SL_OK) {
        buf_fini(&out);
        return c->err.code;
    }
    if (st == SL_OK)
        st = buf_putc(&out, '}');
    return cwl_reply_buf(c, &out, st);
}

enum sl_status cwl_get_log_group_fields(struct cwl_call *c)
{
    const char *group;
    int64_t t, now = sl_now_ms(), start, end, sampled;
    json_t *fields, *out;

    if (cwl_group_ref(c, &group) != SL_OK ||
        cwl_int(c, "time", 0, INT64_MAX / 1000 - 1, -1, &t) != SL_OK)
        return c->err.code;
    if (t >= 0) {
        start = t * 1000 - FIELDS_AROUND;
        end = t * 1000 + FIELDS_AROUND;
    } else {
        start = now - FIELDS_RECENT;
        end = now;
    }
    if (qc_group_fields(c->api, group, start, end, c->arena, &fields, &sampled,
                        &c->err) != SL_OK) {
        if (c->err.code == SL_NOT_FOUND)
            sl_fail(&c->err, SL_NOT_FOUND,
                    "The specified log group does not exist.");
        return c->err.code;
    }
    out = json_object();
    json_object_set_new(out, "logGroupFields", fields);
    cwl_reply(c, out);
    return SL_OK;
}
