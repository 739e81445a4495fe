/* api/ingest_otlp.h: the OTLP/HTTP logs endpoint's two encodings. The
 * protobuf side (ingest_otlp_pb.c) turns an ExportLogsServiceRequest into
 * the tree of the OTLP JSON encoding, so ingest_otlp.c handles one shape,
 * and writes protobuf answers. Internal to api/. */
#ifndef SLUICE_API_INGEST_OTLP_H
#define SLUICE_API_INGEST_OTLP_H

#include "api/api_int.h"

#include <stdint.h>

/* Decodes a protobuf ExportLogsServiceRequest into its OTLP/JSON tree
 * (lowerCamelCase keys, 64-bit integers as strings, ids as hex). */
enum sl_status otlp_pb_decode(const char *body, size_t len, json_t **out,
                              struct sl_err *err) SL_MUST_CHECK;

/* 200 with an ExportLogsServiceResponse; partialSuccess only when
 * rejected > 0. */
void otlp_pb_reply_ok(struct api_resp *resp, int64_t rejected,
                      const char *message);

/* An error: http status and a google.rpc.Status {code, message}. */
void otlp_pb_reply_status(struct api_resp *resp, int http, int grpc_code,
                          const char *message);

#endif
