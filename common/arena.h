/* common/arena.h: a bump allocator for memory that dies together (one HTTP
 * request, one query, one scan of a segment). Code inside such a lifetime
 * allocates from the arena and never frees; arena_reset() or arena_fini()
 * releases everything at once. Not thread-safe: one owner at a time. */
#ifndef SLUICE_COMMON_ARENA_H
#define SLUICE_COMMON_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head;  /* newest chunk, allocations come from here */
    size_t chunk_size;         /* default size of a new chunk */
    size_t used;               /* bytes handed out since init/reset */
    size_t cap;                /* most bytes this arena may hand out; 0 = no cap */
};

/* chunk_size: typical chunk (e.g. 64 KiB); cap: 0 for unbounded. */
void arena_init(struct arena *a, size_t chunk_size, size_t cap);
void arena_fini(struct arena *a);
/* Frees every chunk but the first, which is kept for reuse. */
void arena_reset(struct arena *a);
/* Returns memory aligned for any type, owned by the arena; NULL when the
 * cap would be exceeded or memory is exhausted. */
void *arena_alloc(struct arena *a, size_t n);
/* Copies s[0..len) into the arena with a terminating NUL. */
char *arena_strndup(struct arena *a, const char *s, size_t len);
/* Moves every chunk of src into dst (behind dst's current chunk), so what
 * was allocated from src lives as long as dst; src is left empty. dst's
 * cap is not checked. */
void arena_adopt(struct arena *dst, struct arena *src);

#endif
