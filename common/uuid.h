/* common/uuid.h: random (version 4) UUIDs in text, 8-4-4-4-12 lowercase
 * hex: query ids, query definition ids, request ids, live tail sessions. */
#ifndef SLUICE_COMMON_UUID_H
#define SLUICE_COMMON_UUID_H

#include <stdbool.h>

#define SL_UUID_LEN 36

/* Writes a UUID v4 and its NUL into out. Returns false when the kernel
 * gave no random bytes: out then holds one made from rand() and the
 * clock, unique enough for a request id but not unguessable. */
bool sl_uuid4(char out[SL_UUID_LEN + 1]);

#endif
