/* common/arena.c: chunked bump allocation; see arena.h. */
#include "common/arena.h"

#include "common/alloc.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

struct arena_chunk {
    struct arena_chunk *next;  /* older chunk */
    size_t size;               /* usable bytes in data */
    size_t off;                /* first free byte */
    alignas(max_align_t) unsigned char data[];
};

void arena_init(struct arena *a, size_t chunk_size, size_t cap)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 65536;
    a->used = 0;
    a->cap = cap;
}

void arena_fini(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c != NULL) {
        struct arena_chunk *next = c->next;
        sl_free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}

void arena_reset(struct arena *a)
{
    struct arena_chunk *c = a->head;
    struct arena_chunk *keep = NULL;
    while (c != NULL) {
        struct arena_chunk *next = c->next;
        if (next == NULL && c->size == a->chunk_size)
            keep = c;
        else
            sl_free(c);
        c = next;
    }
    if (keep != NULL) {
        keep->off = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->used = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    struct arena_chunk *c = a->head;
    size_t need = (n + align - 1) & ~(align - 1);
    void *p;

    if (need < n)
        return NULL;
    if (a->cap != 0 && (a->used + need < a->used || a->used + need > a->cap))
        return NULL;
    if (c == NULL || c->size - c->off < need) {
        size_t size = need > a->chunk_size ? need : a->chunk_size;
        c = sl_alloc(sizeof(*c) + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        c->off = 0;
        /* A big one-off block goes behind the current chunk so the current
         * chunk's free space stays in use. */
        if (a->head != NULL && size > a->chunk_size) {
            c->next = a->head->next;
            a->head->next = c;
            c->off = need;
            a->used += need;
            return c->data;
        }
        c->next = a->head;
        a->head = c;
    }
    p = c->data + c->off;
    c->off += need;
    a->used += need;
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void arena_adopt(struct arena *dst, struct arena *src)
{
    struct arena_chunk *last = src->head;

    if (last == NULL)
        return;
    while (last->next != NULL)
        last = last->next;
    if (dst->head == NULL) {
        dst->head = src->head;
    } else {
        last->next = dst->head->next;
        dst->head->next = src->head;
    }
    dst->used += src->used;
    src->head = NULL;
    src->used = 0;
}
