/* query/parser.h: turns Insights query text into the tree of ast.h:
 * recursive descent for the SOURCE header and the commands, precedence
 * climbing for expressions. Syntax only: function names, arity and
 * aggregation placement are check_query's job. Reentrant; no globals. */
#ifndef SLUICE_QUERY_PARSER_H
#define SLUICE_QUERY_PARSER_H

#include "common/arena.h"
#include "common/status.h"
#include "query/ast.h"

#include <stddef.h>

#define PARSE_MAX_DEPTH  128  /* nested parentheses and prefix operators */
#define PARSE_MAX_HEIGHT 256  /* levels of one expression tree */

/* Parses text[0..len) (need not be NUL-terminated; borrowed only during
 * the call: the tree keeps its own arena copy). On SL_OK *out is the tree,
 * allocated in a. On failure returns SL_MALFORMED_QUERY (SL_NOMEM when the
 * arena is exhausted) with err->line, err->col and err->msg naming the
 * token found and what was expected, e.g.
 *   line 1, column 19: expected a field name or expression after 'by', found '|'
 * Whatever was allocated stays in a until the arena is reset. Commands of
 * the reference that Sluice does not run (unnest, lookup, anomaly, ...)
 * are refused naming the command. */
enum sl_status parse_query(const char *text, size_t len, struct arena *a,
                           struct ast_query **out,
                           struct sl_err *err) SL_MUST_CHECK;

/* True when name[0..len) (any case) is a command keyword of the language,
 * supported or not; used to let a new line start a command. */
bool parse_is_command(const char *name, size_t len);

#endif
