/* tests/fuzz/fuzz_otlp_pb.c: libFuzzer target for the protobuf side of
 * POST /v1/logs: the depth check, protobuf-c's unpack and the rewrite into
 * the OTLP/JSON tree. The first byte picks whether the rest goes through
 * ih_gunzip first (with a small cap). Whatever decodes must give a tree
 * with a resourceLogs array that serialises; failures must carry a
 * reason. Violations abort(). */
#include "api/ingest_http.h"
#include "api/ingest_otlp.h"
#include "common/arena.h"
#include "common/status.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    struct sl_err err = {0};
    const char *body = (const char *)data + 1;
    size_t len = size ? size - 1 : 0;
    json_t *tree = NULL;
    char *dump;

    if (size == 0)
        return 0;
    arena_init(&a, 64 * 1024, 0);
    if (data[0] & 1) {
        if (ih_gunzip(&a, body, len, 1u << 20, &body, &len, &err) != SL_OK) {
            if (err.code == SL_OK || err.msg[0] == '\0')
                abort();
            arena_fini(&a);
            return 0;
        }
        if (len > 1u << 20)
            abort();
    }
    if (otlp_pb_decode(body, len, &tree, &err) != SL_OK) {
        if (tree != NULL || err.code == SL_OK || err.msg[0] == '\0')
            abort();
    } else {
        if (!json_is_array(json_object_get(tree, "resourceLogs")))
            abort();
        dump = json_dumps(tree, JSON_COMPACT);
        if (dump == NULL)
            abort();
        free(dump);
        json_decref(tree);
    }
    arena_fini(&a);
    return 0;
}
