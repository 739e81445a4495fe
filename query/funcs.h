/* query/funcs.h: the scalar (non-aggregate) Insights functions of
 * fn_table.h: numeric, general, string, datetime, IP, JSON and the 2025-26
 * additions. The executor evaluates a call's arguments to values and calls
 * fn_call; period arguments (bin, datefloor, dateceil) arrive as a struct
 * lex_period, regex arguments as a compiled PCRE2 code. Aggregations are
 * the executor's. Reentrant: per-call state lives in struct fn_ctx. */
#ifndef SLUICE_QUERY_FUNCS_H
#define SLUICE_QUERY_FUNCS_H

#include "common/arena.h"
#include "common/status.h"
#include "query/fn_table.h"
#include "query/lexer.h"
#include "query/value.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fn_ctx {
    struct arena *scratch;     /* strings a result needs; lives for the row */
    int64_t timestamp_ms;      /* the row's @timestamp (bin) */
    int64_t query_start_ms;    /* queryStartTime(), queryTimeRange() */
    int64_t query_end_ms;      /* queryEndTime() */
    int64_t now_ms;            /* now(): the query's start, fixed per query */
};

/* One call's arguments. args[i] is the evaluated value of argument i;
 * for an argument of kind 'p' (fn_arg_kind) periods[i] holds the period
 * and args[i] is null; for kind 'r' regexes[i] is the compiled pattern
 * (pcre2_code_8 *, compiled by the executor once per call site) and
 * args[i] is null. */
struct fn_args {
    const struct val *args;
    const struct lex_period *periods;  /* may be NULL when f takes none */
    void *const *regexes;              /* may be NULL when f takes none */
    size_t n;
};

/* Evaluates scalar function f (not FN_AGG) on a. Null in, null out for
 * most functions, as CloudWatch does (arithmetic on a missing field gives
 * nothing); ispresent, coalesce, isempty, isblank and the like look at
 * nulls on purpose. Returns SL_OK with *out set, or SL_NOMEM when the
 * scratch arena is exhausted. A bad argument value (not a number, not an
 * IP, a bad CIDR) is not an error: the result is null (or false for the
 * predicates), as for a missing field. */
enum sl_status fn_call(const struct fn_def *f, const struct fn_args *a,
                       struct fn_ctx *ctx, struct val *out) SL_MUST_CHECK;

/* Largest |epoch ms| the datetime functions accept (JavaScript's Date
 * range, about 273,790 years either side of 1970): keeps every calendar
 * computation far from int64 overflow. Values outside give null. */
#define FN_MS_LIMIT 8640000000000000LL

/* Floors ms to a multiple of the period (UTC; weeks start on Monday as
 * in CloudWatch; months, quarters and years on the calendar, as multiples
 * of count months counted from 1970-01, so 5mo bins start 1970-01,
 * 1970-06, ...). A zero count, a period longer than about 500,000 years
 * or ms beyond +-8.64e15 leaves ms as it is. */
int64_t fn_period_floor(int64_t ms, const struct lex_period *p);
/* The smallest multiple of the period >= ms (dateceil). */
int64_t fn_period_ceil(int64_t ms, const struct lex_period *p);
/* For a fixed-length period (seconds to weeks, count > 0) sets its step
 * and origin in ms, so that a caller flooring many moments needs no call:
 * fn_period_floor(ms, p) = origin + floor((ms - origin) / step) * step for
 * every ms within +-8.64e15. False for calendar periods (months, quarters,
 * years), a zero count or a period too long. */
bool fn_period_fixed(const struct lex_period *p, int64_t *step, int64_t *origin);

#endif
