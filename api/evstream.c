/* api/evstream.c: the AWS event-stream message encoder; see evstream.h. */
#include "api/evstream.h"

#include <string.h>
#include <zlib.h>

uint32_t evs_crc32(const void *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const unsigned char *b = p;
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, b, k);
        b += k;
        n -= k;
    }
    return (uint32_t)c;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

enum sl_status evs_encode(struct buf *out, const struct evs_header *h,
                          size_t nh, const char *payload, size_t len)
{
    size_t hlen = 0, start = out->len, total;
    unsigned char pre[12], crc[4];
    enum sl_status st;

    for (size_t i = 0; i < nh; i++) {
        size_t nl = strlen(h[i].name), vl = strlen(h[i].value);
        if (nl == 0 || nl > 255 || vl > 65535)
            return SL_INVALID;
        hlen += 1 + nl + 1 + 2 + vl;
    }
    total = 12 + hlen + len + 4;
    if (total > UINT32_MAX)
        return SL_TOO_LARGE;
    put32(pre, (uint32_t)total);
    put32(pre + 4, (uint32_t)hlen);
    put32(pre + 8, evs_crc32(pre, 8));
    if ((st = buf_reserve(out, total)) != SL_OK ||
        (st = buf_append(out, pre, sizeof(pre))) != SL_OK)
        return st;
    for (size_t i = 0; i < nh; i++) {
        size_t nl = strlen(h[i].name), vl = strlen(h[i].value);
        unsigned char t[3] = {7, (unsigned char)(vl >> 8), (unsigned char)vl};
        unsigned char n1 = (unsigned char)nl;
        if ((st = buf_append(out, &n1, 1)) != SL_OK ||
            (st = buf_append(out, h[i].name, nl)) != SL_OK ||
            (st = buf_append(out, t, 1)) != SL_OK ||
            (st = buf_append(out, t + 1, 2)) != SL_OK ||
            (st = buf_append(out, h[i].value, vl)) != SL_OK)
            return st;
    }
    if (len > 0 && (st = buf_append(out, payload, len)) != SL_OK)
        return st;
    put32(crc, evs_crc32(out->data + start, out->len - start));
    return buf_append(out, crc, sizeof(crc));
}

enum sl_status evs_event(struct buf *out, const char *type, const char *json,
                         size_t len)
{
    const struct evs_header h[] = {
        {":message-type", "event"},
        {":event-type", type},
        {":content-type", "application/json"},
    };
    return evs_encode(out, h, 3, json, len);
}

enum sl_status evs_exception(struct buf *out, const char *type,
                             const char *json, size_t len)
{
    const struct evs_header h[] = {
        {":message-type", "exception"},
        {":exception-type", type},
        {":content-type", "application/json"},
    };
    return evs_encode(out, h, 3, json, len);
}
