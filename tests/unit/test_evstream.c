/* tests/unit/test_evstream.c: the AWS event-stream encoder of StartLiveTail
 * (api/evstream.c): CRC32 against the standard check value and a whole
 * message against bytes computed independently (Python's struct and
 * zlib.crc32). */
#include "api/evstream.h"
#include "tests/harness.h"

#include <stdio.h>
#include <string.h>

static void from_hex(const char *hex, unsigned char *out, size_t *n)
{
    size_t len = strlen(hex) / 2;
    for (size_t i = 0; i < len; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    *n = len;
}

TEST(crc32_check_value)
{
    /* The CRC-32/ISO-HDLC check value of "123456789". */
    CHECK_EQ_INT(evs_crc32("123456789", 9), 0xCBF43926u);
    CHECK_EQ_INT(evs_crc32("", 0), 0);
}

TEST(session_start_message_bytes)
{
    /* Built in Python: struct.pack('>II', 100, 82), zlib.crc32 of those
     * 8 bytes (0x8cf53e3c), three string headers, payload "{}", then
     * zlib.crc32 of everything before (0x32706a2a). */
    static const char want_hex[] =
        "00000064000000528cf53e3c0d3a6d6573736167652d747970650700056576656e74"
        "0b3a6576656e742d7479706507000c73657373696f6e53746172740d3a636f6e7465"
        "6e742d747970650700106170706c69636174696f6e2f6a736f6e7b7d32706a2a";
    unsigned char want[128];
    size_t want_len;
    struct buf b;

    from_hex(want_hex, want, &want_len);
    CHECK_EQ_INT(want_len, 100);
    buf_init(&b, 1 << 20);
    CHECK_OK(evs_event(&b, "sessionStart", "{}", 2));
    CHECK_EQ_MEM(b.data, b.len, (const char *)want, want_len);
    /* A second message appends after the first, framed on its own. */
    CHECK_OK(evs_event(&b, "sessionStart", "{}", 2));
    CHECK_EQ_INT(b.len, 200);
    CHECK(memcmp(b.data + 100, want, 100) == 0);
    buf_fini(&b);
}

TEST(exception_headers_and_limits)
{
    struct buf b;
    char big[300];
    struct evs_header h = {big, "v"};

    buf_init(&b, 1 << 20);
    CHECK_OK(evs_exception(&b, "SessionTimeoutException", "{}", 2));
    CHECK(memmem(b.data, b.len, ":exception-type", 15) != NULL);
    CHECK(memmem(b.data, b.len, "SessionTimeoutException", 23) != NULL);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_EQ_INT(evs_encode(&b, &h, 1, "", 0), SL_INVALID);
    buf_fini(&b);
}

TEST_MAIN()
