/* common/per_thread.h: one object per thread, made on the thread's first
 * call and destroyed when the thread ends (a pthread key underneath). For
 * big buffers a request thread reuses from one request to the next, which
 * fresh from malloc would page-fault in every time. */
#ifndef SLUICE_COMMON_PER_THREAD_H
#define SLUICE_COMMON_PER_THREAD_H

#include <pthread.h>
#include <stdatomic.h>

/* Define one per kind of object, statically:
 *   static struct sl_per_thread scratch = {.make = make, .destroy = destroy}; */
struct sl_per_thread {
    void *(*make)(void);        /* a new object, or NULL (out of memory) */
    void (*destroy)(void *);    /* frees what make made */
    atomic_bool ready;          /* key made */
    pthread_key_t key;
};

/* This thread's object, made on first use; NULL when it cannot be made. */
void *sl_per_thread_get(struct sl_per_thread *t);

#endif
