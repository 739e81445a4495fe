/* common/memsearch.h: a substring search for long haystacks (a query's
 * literal term over a whole decompressed segment). It tests three of the
 * needle's bytes 16 positions at a time with SSE2 (32 with AVX2 where the
 * CPU has it) and compares only where all agree, which runs several times
 * faster than a byte-at-a-time search on log text; without SSE2 it is
 * memmem. Pure function. */
#ifndef SLUICE_COMMON_MEMSEARCH_H
#define SLUICE_COMMON_MEMSEARCH_H

#include <stddef.h>

/* The first occurrence of needle[0..m) in hay[0..n), or NULL. m == 0
 * returns hay. */
const char *sl_memsearch(const char *hay, size_t n, const char *needle,
                         size_t m);

#ifdef SLUICE_TESTING
#include <stdbool.h>
/* Keeps sl_memsearch on its SSE2 loop even where the CPU has AVX2, so the
 * tests cover both. */
void sl_memsearch_no_avx2(bool on);
#endif

#endif
