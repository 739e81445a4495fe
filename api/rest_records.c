/* api/rest_records.c: GET /api/v1/records/{ptr} (GetLogRecord): the whole
 * event an @ptr of a query result points at, built by query_record.c,
 * answered as {"record":{field: string, ...}}. */
#include "api/api_int.h"

#include "api/json_out.h"
#include "api/query_common.h"

#include <string.h>

#define RECORD_MAX      (8u << 20)      /* the answer: one event, its fields */

void rest_record_get(struct route *r)
{
    struct sl_err err = {0};
    struct buf out;
    enum sl_status st;

    buf_init(&out, RECORD_MAX);
    st = buf_puts(&out, "{\"record\":");
    if (st == SL_OK)
        st = qc_record(r->api, r->id, strlen(r->id), r->req->arena, &out, &err);
    if (st == SL_OK)
        st = buf_putc(&out, '}');
    if (st != SL_OK) {
        buf_fini(&out);
        if (err.code == SL_OK)
            sl_fail(&err, st, "out of memory");
        apierr_reply(r->resp, &err);
        return;
    }
    jout_reply(r->resp, 200, &out, SL_OK);
}
