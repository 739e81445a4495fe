/* common/varint.h: LEB128 unsigned varints and zigzag signed mapping, the
 * integer encoding of segment columns and tokens. Header-only: these sit in
 * the innermost loops of the codec. Decoders check bounds and report
 * truncated or overlong input instead of reading past the end. */
#ifndef SLUICE_COMMON_VARINT_H
#define SLUICE_COMMON_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX_LEN 10

/* Writes v at p (room for VARINT_MAX_LEN bytes); returns bytes written. */
static inline size_t varint_put(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* Reads one varint from p[0..len); returns bytes read, 0 when truncated or
 * longer than 64 bits. */
static inline size_t varint_get(const unsigned char *p, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    size_t i;
    for (i = 0; i < len && i < VARINT_MAX_LEN; i++) {
        uint64_t b = p[i];
        if (shift == 63 && b > 1)
            return 0;
        v |= (b & 0x7f) << shift;
        if (b < 0x80) {
            *out = v;
            return i + 1;
        }
        shift += 7;
    }
    return 0;
}

static inline uint64_t zigzag_enc(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t zigzag_dec(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#endif
