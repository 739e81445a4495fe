/* common/alloc.c: malloc wrappers with an allocation-failure hook in
 * SLUICE_TESTING builds (read from SLUICE_FAIL_ALLOC_AT at first use). */
#include "common/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef SLUICE_TESTING
static atomic_long fail_countdown = -1; /* -1: not read from env yet */

void sl_alloc_fail_at(long n)
{
    atomic_store(&fail_countdown, n);
}

static int should_fail(void)
{
    long v = atomic_load(&fail_countdown);
    if (v == -1) {
        const char *env = getenv("SLUICE_FAIL_ALLOC_AT");
        long n = env ? strtol(env, NULL, 10) : 0;
        long expect = -1;
        atomic_compare_exchange_strong(&fail_countdown, &expect, n);
        v = atomic_load(&fail_countdown);
    }
    if (v <= 0)
        return 0;
    return atomic_fetch_sub(&fail_countdown, 1) == 1;
}
#else
static inline int should_fail(void)
{
    return 0;
}
#endif

void *sl_alloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *sl_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *sl_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void sl_free(void *p)
{
    free(p);
}

char *sl_strndup(const char *s, size_t len)
{
    char *p = sl_alloc(len + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *sl_strdup(const char *s)
{
    return sl_strndup(s, strlen(s));
}
