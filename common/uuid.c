/* common/uuid.c: random UUIDs; see uuid.h. */
#include "common/uuid.h"

#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/types.h>

bool sl_uuid4(char out[SL_UUID_LEN + 1])
{
    unsigned char b[16];
    size_t got = 0;
    bool random = true;

    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n <= 0) {
            random = false;
            break;
        }
        got += (size_t)n;
    }
    if (!random) {
        long long t = (long long)sl_mono_ms();
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (unsigned char)(rand() ^ (t >> (8 * (i % 8))));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    snprintf(out, SL_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
    return random;
}
