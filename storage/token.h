/* storage/token.h: opaque, checksummed pagination tokens. A token carries a
 * kind, up to four integers and an optional short string, e.g. an event
 * position (stream id, timestamp, seq) or a listing cursor (last name).
 * Positions are stable across compaction and restarts because (timestamp,
 * seq) never changes. The checksum catches garbage and truncation; tokens
 * are not secret. Encoded as base64url without padding. */
#ifndef SLUICE_STORAGE_TOKEN_H
#define SLUICE_STORAGE_TOKEN_H

#include "storage/catalog.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOK_MAX_VALS 4
#define TOK_MAX_LEN  1024   /* encoded characters at most */

struct tok {
    uint8_t kind;                /* what the token is for; checked on decode */
    int nvals;                   /* 0..TOK_MAX_VALS */
    int64_t vals[TOK_MAX_VALS];
    size_t str_len;              /* 0..CAT_NAME_MAX */
    char str[CAT_NAME_MAX + 1];  /* NUL-terminated */
};

/* Writes the token (NUL-terminated) into out; returns its length, 0 when
 * cap is too small. */
size_t tok_encode(const struct tok *t, char *out, size_t cap);
/* Parses s[0..len); false for anything that is not an intact token. */
bool tok_decode(const char *s, size_t len, struct tok *t);

#endif
