/* api/ingest_gzip.c: inflates gzip (or zlib) request bodies of the HTTP
 * ingest endpoints into the request arena, refusing anything that would
 * inflate past a cap so a small compressed body cannot exhaust memory. */
#include "api/ingest_http.h"

#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

enum sl_status ih_gunzip(struct arena *a, const char *in, size_t in_len,
                         size_t cap, const char **out, size_t *out_len,
                         struct sl_err *err)
{
    z_stream z;
    size_t have = 0, size = in_len * 4 + 1024;
    char *buf;
    int rc;

    if (size > cap + 1)
        size = cap + 1;
    buf = arena_alloc(a, size);
    if (buf == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    memset(&z, 0, sizeof(z));
    /* 15 + 32: a gzip or a zlib header, detected. */
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return sl_fail(err, SL_NOMEM, "out of memory for zlib");
    z.next_in = (const Bytef *)in;
    z.avail_in = (uInt)in_len;
    for (;;) {
        if (have == size) {
            size_t nsize = size * 2;
            char *nbuf;
            if (size > cap) {
                inflateEnd(&z);
                return sl_fail(err, SL_TOO_LARGE,
                               "the body inflates to more than %zu bytes; "
                               "send smaller requests",
                               cap);
            }
            if (nsize > cap + 1)
                nsize = cap + 1;
            nbuf = arena_alloc(a, nsize);
            if (nbuf == NULL) {
                inflateEnd(&z);
                return sl_fail(err, SL_NOMEM, "out of memory");
            }
            memcpy(nbuf, buf, have);
            buf = nbuf;
            size = nsize;
        }
        z.next_out = (Bytef *)(buf + have);
        z.avail_out = (uInt)(size - have);
        rc = inflate(&z, Z_NO_FLUSH);
        have = size - z.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_OK || (rc == Z_BUF_ERROR && z.avail_out == 0))
            continue;
        inflateEnd(&z);
        if (rc == Z_BUF_ERROR)
            return sl_fail(err, SL_BAD_JSON,
                           "the gzip body is truncated after %zu bytes",
                           in_len);
        return sl_fail(err, SL_BAD_JSON,
                       "the body is not valid gzip (Content-Encoding: gzip): "
                       "%s",
                       z.msg ? z.msg : "corrupt data");
    }
    inflateEnd(&z);
    if (have > cap)
        return sl_fail(err, SL_TOO_LARGE,
                       "the body inflates to more than %zu bytes; send "
                       "smaller requests",
                       cap);
    *out = buf;
    *out_len = have;
    return SL_OK;
}
