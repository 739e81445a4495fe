/* query/check.h: the semantic checks between parser and planner. Walks a
 * parsed query once and refuses what cannot run: unknown functions, wrong
 * arity or argument kinds, aggregations outside stats, non-aggregates in
 * stats outside 'by', more than 2 stats, bad limits, regexes PCRE2 cannot
 * compile, a bad SOURCE header. It resolves every call to its fn_table
 * entry, fills a regex parse's capture names, and lists the event fields
 * the query reads, so discovery extracts only those. Reentrant. */
#ifndef SLUICE_QUERY_CHECK_H
#define SLUICE_QUERY_CHECK_H

#include "common/arena.h"
#include "common/status.h"
#include "query/ast.h"

#include <stddef.h>
#include <stdint.h>

#define CHECK_LIMIT_MAX   10000  /* largest 'limit N' (CloudWatch's cap) */
#define CHECK_MAX_STATS   2      /* stats commands in one query */
#define CHECK_MAX_PREFIX  5      /* logGroups(namePrefix: [...]) entries */
#define CHECK_MAX_ACCOUNT 20     /* logGroups(accountIdentifiers: [...]) */

struct check_result {
    /* Event fields the query reads, system fields included, in order of
     * first use; names a command derives (aliases, parse captures, stats
     * outputs) are left out. Arena-owned, NUL-terminated. Implicit reads
     * count: bin()/earliest()/latest() read @timestamp, parse without a
     * field reads @message. The default output columns of a query without
     * fields/display/stats (@timestamp, @message) are the planner's. */
    const char **fields;
    size_t nfields;
    unsigned nstats;   /* stats commands, 0..CHECK_MAX_STATS */
};

/* Checks q (from parse_query) and annotates it in place: each AST_CALL
 * gets u.call.fn; each regex parse without 'as' gets its named captures in
 * u.parse.names. Allocates the result and annotations in a (the query's
 * arena). Returns SL_OK, SL_MALFORMED_QUERY with err->line, err->col and a
 * message naming the culprit (render it with lex_render_error for the
 * caret line), or SL_NOMEM. */
enum sl_status check_query(struct ast_query *q, struct arena *a,
                           struct check_result *out,
                           struct sl_err *err) SL_MUST_CHECK;

/* PCRE2 compile options for a query regex with LEX_RE_* flags, so the
 * executor compiles exactly what the checker accepted: PCRE2_UTF plus
 * CASELESS/MULTILINE/DOTALL/EXTENDED for the trailing i/m/s/x. */
uint32_t check_pcre2_options(unsigned lex_flags);

#endif
