/* storage/token.c: token encoding; see token.h.
 *
 *   byte 0   version (1)      byte 1  kind     byte 2  nvals
 *   nvals x  zigzag varint    varint  str_len  str bytes
 *   4 bytes  FNV-1a of everything before, little-endian
 * then base64url (RFC 4648 section 5) without padding. */
#include "storage/token.h"

#include "common/varint.h"

#include <string.h>

#define TOK_VERSION 1
#define TOK_RAW_MAX (3 + TOK_MAX_VALS * VARINT_MAX_LEN + VARINT_MAX_LEN + CAT_NAME_MAX + 4)

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

size_t tok_encode(const struct tok *t, char *out, size_t cap)
{
    unsigned char raw[TOK_RAW_MAX];
    size_t n = 0, o = 0;
    uint32_t h;

    if (t->nvals < 0 || t->nvals > TOK_MAX_VALS || t->str_len > CAT_NAME_MAX)
        return 0;
    raw[n++] = TOK_VERSION;
    raw[n++] = t->kind;
    raw[n++] = (unsigned char)t->nvals;
    for (int i = 0; i < t->nvals; i++)
        n += varint_put(raw + n, zigzag_enc(t->vals[i]));
    n += varint_put(raw + n, t->str_len);
    memcpy(raw + n, t->str, t->str_len);
    n += t->str_len;
    h = fnv1a(raw, n);
    for (int i = 0; i < 4; i++)
        raw[n++] = (unsigned char)(h >> (8 * i));
    if (cap < (n * 4 + 2) / 3 + 1)
        return 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (uint32_t)raw[i + 1] << 8;
        if (left > 2)
            v |= raw[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        if (left > 1)
            out[o++] = b64[(v >> 6) & 63];
        if (left > 2)
            out[o++] = b64[v & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

bool tok_decode(const char *s, size_t len, struct tok *t)
{
    unsigned char raw[TOK_RAW_MAX];
    size_t n = 0, p = 3;
    uint32_t acc = 0, h;
    int bits = 0;
    uint64_t u;

    if (len == 0 || len > TOK_MAX_LEN || len % 4 == 1)
        return false;
    for (size_t i = 0; i < len; i++) {
        int v = b64_val(s[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == sizeof(raw))
                return false;
            raw[n++] = (unsigned char)(acc >> bits);
        }
    }
    if (n < 7 || raw[0] != TOK_VERSION || raw[2] > TOK_MAX_VALS)
        return false;
    h = (uint32_t)raw[n - 4] | (uint32_t)raw[n - 3] << 8 |
        (uint32_t)raw[n - 2] << 16 | (uint32_t)raw[n - 1] << 24;
    n -= 4;
    if (fnv1a(raw, n) != h)
        return false;
    memset(t, 0, sizeof(*t));
    t->kind = raw[1];
    t->nvals = raw[2];
    for (int i = 0; i < t->nvals; i++) {
        size_t k = varint_get(raw + p, n - p, &u);
        if (k == 0)
            return false;
        t->vals[i] = zigzag_dec(u);
        p += k;
    }
    {
        size_t k = varint_get(raw + p, n - p, &u);
        if (k == 0 || u > CAT_NAME_MAX || u != n - p - k)
            return false;
        p += k;
    }
    t->str_len = (size_t)u;
    memcpy(t->str, raw + p, t->str_len);
    t->str[t->str_len] = '\0';
    return true;
}
