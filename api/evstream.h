/* api/evstream.h: the AWS event-stream binary framing (application/
 * vnd.amazon.eventstream) that StartLiveTail answers with. One message:
 *
 *   total length (4, BE) | headers length (4, BE) | CRC32 of those 8 bytes
 *   headers: name length (1) name, type 7 (string), value length (2, BE) value
 *   payload
 *   CRC32 of everything before it (4, BE)
 *
 * CRC32 is the IEEE/zlib one. Only string headers are written. Internal to
 * api/. */
#ifndef SLUICE_API_EVSTREAM_H
#define SLUICE_API_EVSTREAM_H

#include "common/buf.h"
#include "common/status.h"

#include <stddef.h>
#include <stdint.h>

struct evs_header {
    const char *name;            /* 1-255 bytes */
    const char *value;           /* up to 65535 bytes */
};

/* Appends one message to out. SL_INVALID for a header too long. */
enum sl_status evs_encode(struct buf *out, const struct evs_header *h,
                          size_t nh, const char *payload, size_t len)
    SL_MUST_CHECK;

/* An event message: :message-type event, :event-type type,
 * :content-type application/json. */
enum sl_status evs_event(struct buf *out, const char *type,
                         const char *json, size_t len) SL_MUST_CHECK;
/* An exception message: :message-type exception, :exception-type type,
 * payload {"message": ...} built by the caller. */
enum sl_status evs_exception(struct buf *out, const char *type,
                             const char *json, size_t len) SL_MUST_CHECK;

uint32_t evs_crc32(const void *p, size_t n);

#endif
