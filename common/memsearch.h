/* common/memsearch.h: SIMD scans of log text. A substring search for long
 * haystacks (a query's literal term over a whole decompressed segment): it
 * tests three of the needle's bytes 16 positions at a time with SSE2 (32
 * with AVX2 where the CPU has it) and compares only where all agree, which
 * runs several times faster than a byte-at-a-time search on log text;
 * without SSE2 it is memmem. And the offsets of every occurrence of one
 * byte (the blanks that cut a flow log record into fields). Pure
 * functions. */
#ifndef SLUICE_COMMON_MEMSEARCH_H
#define SLUICE_COMMON_MEMSEARCH_H

#include <stddef.h>
#include <stdint.h>

/* The first occurrence of needle[0..m) in hay[0..n), or NULL. m == 0
 * returns hay. */
const char *sl_memsearch(const char *hay, size_t n, const char *needle,
                         size_t m);

/* Writes the offsets of the bytes equal to c in s[0..len), in order, to
 * pos[]; returns how many, or max + 1 as soon as there are more than max
 * (pos then holds the first max). */
size_t sl_memchr_all(const char *s, size_t len, char c, uint32_t *pos,
                     size_t max);

#ifdef SLUICE_TESTING
#include <stdbool.h>
/* Keeps sl_memsearch and sl_memchr_all on their SSE2 loops even where the
 * CPU has AVX2, so the tests cover both. */
void sl_memsearch_no_avx2(bool on);
#endif

#endif
