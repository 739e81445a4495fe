/* query/discover.h: field discovery. Finds the fields CloudWatch Logs
 * Insights discovers in a message: flattened JSON keys, VPC flow log fields
 * (default v2 format, or a group's custom format up to v5), Lambda platform
 * lines (START/END/REPORT) and Route 53 query logs. A query compiles the
 * names it uses into a plan once; per event, disc_extract finds only those
 * (nothing at all when the plan is empty). disc_each lists every field of
 * one message (GetLogRecord, GetLogGroupFields). System fields (@timestamp,
 * @message, @logStream, @log, @ingestionTime, @ptr) are the executor's and
 * never come from here. Plans and formats are read-only once built: any
 * number of threads may use one at once.
 *
 * The type comes from the first bytes: '{' (after blanks) JSON; with a
 * custom flow format, that format; "2 " the default flow format; "1.0 "
 * Route 53; "START "/"END "/"REPORT " Lambda platform lines; and Lambda
 * runtime lines ("<ISO time>\t<request id>\t..." or
 * "[LEVEL]\t<ISO time>\t<request id>\t..."), which give @requestId and
 * flatten their first '{' fragment as JSON. Anything else yields nothing.
 *
 * JSON: nested keys joined with '.', array elements by index (a.0.b); a
 * top-level key starting with '@' is exposed with one more ('@x' ->
 * '@@x'). A field is a scalar or an empty object/array; the walk stops
 * after DISC_MAX_FIELDS of them, counted in message order. Malformed JSON
 * yields the fields found before the first error the walk meets (values
 * it skips are checked for structure, not for their strings and numbers). Of a repeated key, the first
 * occurrence wins in disc_extract; disc_each lists every occurrence.
 *
 * Flow log and Route 53 records must have exactly the format's number of
 * non-empty space-separated tokens (Route 53: 9, or 10 with the EDNS
 * client subnet, which is not discovered); "-" is null, and absent from
 * disc_each. Route 53 has no numeric field: its version stays the text
 * "1.0". Lambda durations are ms numbers, @memorySize and @maxMemoryUsed
 * bytes (MB * 1000 * 1000). */
#ifndef SLUICE_QUERY_DISCOVER_H
#define SLUICE_QUERY_DISCOVER_H

#include "common/arena.h"
#include "common/status.h"
#include "query/value.h"

#include <stdbool.h>
#include <stddef.h>

#define DISC_MAX_FIELDS 1000  /* fields one event may yield (reference 4.7) */

/* A group's custom flow log format, e.g.
 * "${version} ${vpc-id} ${srcaddr} ${dstaddr} ${action}". */
struct disc_flow_format;

/* Compiles a format string of ${field} tokens separated by single spaces.
 * Every AWS field name up to v5 (and the later ecs-*, reject-reason, ...)
 * maps to its camelCase Insights name (srcaddr -> srcAddr, log-status ->
 * logStatus, pkt-src-aws-service -> pktSrcAwsService). Unknown or repeated
 * fields, or text outside tokens, give SL_INVALID with a message naming
 * the culprit. Allocated in a. */
enum sl_status disc_flow_format_compile(const char *fmt, size_t len,
                                        struct arena *a,
                                        struct disc_flow_format **out,
                                        struct sl_err *err) SL_MUST_CHECK;

/* The fields one query wants, by name. */
struct disc_plan;

/* Builds a plan for names[0..n) (NUL-terminated, borrowed: they must
 * outlive the plan; system fields and other unknown '@' names are ignored
 * and always yield null). Allocated in a. */
enum sl_status disc_plan_new(const char *const *names, size_t n,
                             struct arena *a,
                             struct disc_plan **out) SL_MUST_CHECK;

/* True when the plan wants no field any message can have (disc_extract
 * then only sets out[] to null; callers may skip it). */
bool disc_plan_empty(const struct disc_plan *p);

/* Sets out[i] (out has room for the plan's n names) to the value of the
 * plan's names[i] in msg[0..len), or null when the message does not have
 * it. flow: the group's custom format, or NULL for the default v2 format.
 * Strings point into msg when they can, else (JSON escapes) into scratch.
 * JSON numbers, and the numeric fields of flow logs and Lambda lines, come
 * back as VAL_NUM; JSON true/false as VAL_BOOL; JSON null as null; a JSON
 * object or array addressed whole as VAL_JSON (its text in msg). A flow
 * log's "-" is null. Allocates nothing unless a wanted JSON string or key
 * has escapes (or the plan wants over 256 JSON names). SL_NOMEM when
 * scratch is exhausted. */
enum sl_status disc_extract(const struct disc_plan *p,
                            const struct disc_flow_format *flow,
                            const char *msg, size_t len, struct arena *scratch,
                            struct val *out) SL_MUST_CHECK;

/* Calls fn for every discovered field of msg[0..len), in message order,
 * at most DISC_MAX_FIELDS times (a JSON null is listed, as null; a flow
 * log's "-" is not). name is NUL-terminated and, like the value, lives in
 * scratch, msg or static storage. A non-SL_OK return from fn stops the
 * walk and is returned; SL_NOMEM when scratch is exhausted. */
typedef enum sl_status (*disc_field_fn)(void *ctx, const char *name,
                                        const struct val *v);
enum sl_status disc_each(const struct disc_flow_format *flow, const char *msg,
                         size_t len, struct arena *scratch, disc_field_fn fn,
                         void *ctx) SL_MUST_CHECK;

#endif
