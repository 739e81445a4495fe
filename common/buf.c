/* common/buf.c: capped growable buffer; see buf.h. */
#include "common/buf.h"

#include "common/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_fini(struct buf *b)
{
    sl_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_clear(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

enum sl_status buf_reserve(struct buf *b, size_t n)
{
    size_t want, cap;
    char *p;

    if (n > b->max || b->len > b->max - n)
        return SL_TOO_LARGE;
    want = b->len + n + 1;
    if (want <= b->cap)
        return SL_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < want)
        cap *= 2;
    p = sl_realloc(b->data, cap);
    if (p == NULL)
        return SL_NOMEM;
    b->data = p;
    b->cap = cap;
    return SL_OK;
}

enum sl_status buf_append(struct buf *b, const void *p, size_t n)
{
    enum sl_status st = buf_reserve(b, n);
    if (st != SL_OK)
        return st;
    if (n != 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return SL_OK;
}

enum sl_status buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

enum sl_status buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

enum sl_status buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    enum sl_status st;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return SL_INTERNAL;
    st = buf_reserve(b, (size_t)n);
    if (st != SL_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return SL_OK;
}

char *buf_steal(struct buf *b, size_t *len)
{
    char *p = b->data;
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
