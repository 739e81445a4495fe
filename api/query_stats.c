/* api/query_stats.c: a query's statistics as a JSON object of doubles,
 * under the names each front gives them (REST: recordsSkipped ...,
 * CloudWatch: estimatedRecordsSkipped ...). */
#include "api/query_common.h"

#include "api/json_out.h"

enum sl_status qc_write_stats(struct buf *o, const struct qx_stats *s,
                              const char *const *names, size_t n)
{
    const double v[] = {s->records_matched, s->records_scanned,
                        s->bytes_scanned, s->records_skipped, s->bytes_skipped,
                        s->groups_scanned, s->segments_scanned,
                        s->segments_skipped};
    enum sl_status st = buf_putc(o, '{');

    for (size_t i = 0; st == SL_OK && i < n && i < sizeof(v) / sizeof(v[0]);
         i++) {
        if (i > 0)
            st = buf_putc(o, ',');
        if (st == SL_OK)
            st = jout_key(o, names[i]);
        if (st == SL_OK)
            st = jout_double(o, v[i]);
    }
    return st == SL_OK ? buf_putc(o, '}') : st;
}
