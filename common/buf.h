/* common/buf.h: a growable byte buffer with a cap fixed at init (like curl's
 * dynbuf). Growing past the cap fails with SL_TOO_LARGE instead of eating
 * memory; the buffer always stays NUL-terminated for convenience. */
#ifndef SLUICE_COMMON_BUF_H
#define SLUICE_COMMON_BUF_H

#include "common/status.h"

#include <stddef.h>
#include <stdint.h>

struct buf {
    char *data;   /* owned; NULL until the first append */
    size_t len;   /* bytes in use, not counting the NUL */
    size_t cap;   /* bytes allocated */
    size_t max;   /* most bytes len may reach */
};

void buf_init(struct buf *b, size_t max);
void buf_fini(struct buf *b);
/* Keeps the allocation, forgets the contents. */
void buf_clear(struct buf *b);
/* Makes room for n more bytes. */
enum sl_status buf_reserve(struct buf *b, size_t n) SL_MUST_CHECK;
enum sl_status buf_append(struct buf *b, const void *p, size_t n) SL_MUST_CHECK;
enum sl_status buf_putc(struct buf *b, char c) SL_MUST_CHECK;
enum sl_status buf_puts(struct buf *b, const char *s) SL_MUST_CHECK;
enum sl_status buf_printf(struct buf *b, const char *fmt, ...)
    SL_PRINTF(2, 3) SL_MUST_CHECK;
/* Gives the bytes to the caller (free with sl_free) and empties b. */
char *buf_steal(struct buf *b, size_t *len);

#endif
