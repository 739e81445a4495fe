/* common/memsearch.h: a substring search for long haystacks (a query's
 * literal term over a whole decompressed segment). It tests the needle's
 * first and last bytes 16 positions at a time with SSE2 and compares only
 * where both agree, which runs several times faster than a byte-at-a-time
 * search on log text; without SSE2 it is memmem. Pure function. */
#ifndef SLUICE_COMMON_MEMSEARCH_H
#define SLUICE_COMMON_MEMSEARCH_H

#include <stddef.h>

/* The first occurrence of needle[0..m) in hay[0..n), or NULL. m == 0
 * returns hay. */
const char *sl_memsearch(const char *hay, size_t n, const char *needle,
                         size_t m);

#endif
