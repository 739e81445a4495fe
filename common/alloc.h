/* common/alloc.h: the one allocation entry point. Every allocation in the
 * project goes through sl_alloc() and friends so that a SLUICE_TESTING build
 * can fail the Nth call (SLUICE_FAIL_ALLOC_AT=N) and tests can prove that
 * every out-of-memory path answers cleanly. Release builds are plain malloc. */
#ifndef SLUICE_COMMON_ALLOC_H
#define SLUICE_COMMON_ALLOC_H

#include <stddef.h>

/* Returns owned memory or NULL. */
void *sl_alloc(size_t n);
/* Zeroed; returns NULL on overflow of count*size too. */
void *sl_calloc(size_t count, size_t size);
/* Like realloc; on failure p is left untouched. */
void *sl_realloc(void *p, size_t n);
void sl_free(void *p);
/* Returns an owned copy of s[0..len) with a terminating NUL, or NULL. */
char *sl_strndup(const char *s, size_t len);
char *sl_strdup(const char *s);

#ifdef SLUICE_TESTING
/* Fail the nth allocation from now on (1 = the next one); 0 disables. */
void sl_alloc_fail_at(long n);
#endif

#endif
