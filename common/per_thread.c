/* common/per_thread.c: per-thread objects; see per_thread.h. */
#include "common/per_thread.h"

#include <stdbool.h>
#include <stddef.h>

static pthread_mutex_t key_mu = PTHREAD_MUTEX_INITIALIZER;

void *sl_per_thread_get(struct sl_per_thread *t)
{
    void *p;

    if (!atomic_load_explicit(&t->ready, memory_order_acquire)) {
        bool made = true;
        pthread_mutex_lock(&key_mu);
        if (!atomic_load_explicit(&t->ready, memory_order_relaxed)) {
            made = pthread_key_create(&t->key, t->destroy) == 0;
            if (made)
                atomic_store_explicit(&t->ready, true, memory_order_release);
        }
        pthread_mutex_unlock(&key_mu);
        if (!made)
            return NULL;
    }
    p = pthread_getspecific(t->key);
    if (p == NULL && (p = t->make()) != NULL &&
        pthread_setspecific(t->key, p) != 0) {
        t->destroy(p);
        p = NULL;
    }
    return p;
}
