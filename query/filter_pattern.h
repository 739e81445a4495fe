/* query/filter_pattern.h: CloudWatch Logs filter patterns (reference 3),
 * compiled once and matched against raw event messages. One compiled
 * pattern serves FilterLogEvents, metric filters (PutMetricFilter,
 * TestMetricFilter) and the web page's event search.
 *
 * Ownership: fpat_compile() returns an owned handle (fpat_free); it is
 * read-only afterwards, so any number of threads may match with it at once.
 * Matching allocates nothing on the heap except for rare cases (a JSON
 * string with escapes longer than 512 bytes, a number longer than 63 bytes,
 * a regex run without JIT support), and those allocations are per call.
 * Nothing here knows HTTP, storage or jansson.
 *
 * The four kinds, chosen by the first non-blank byte of the text:
 *
 *   (empty or blank)   every event                  FPAT_ALL
 *   ERROR ?WARN -x     terms, "phrases", %regex%    FPAT_TERMS
 *   { $.a = "x" }      JSON                         FPAT_JSON
 *   [ip, ..., n > 5]   space-delimited fields       FPAT_DELIM
 *
 * Semantics in brief (the essay in filter_pattern.c has the details):
 * - Terms are case-sensitive substring tests: every plain term must occur,
 *   no -term may occur, and when ?terms are present at least one must.
 *   Unquoted terms may hold only letters, digits, '_' and non-ASCII bytes;
 *   anything else must be "quoted". %regex% is an unanchored search.
 * - JSON patterns apply only to messages that are one JSON object. '='
 *   and '!=' compare text with '*' wildcards ("x*", bare 4*; numbers and
 *   booleans compare as their JSON text) or, given a bare number,
 *   numerically, and then only with JSON numbers: a string is never a
 *   number. '<' '<=' '>' '>=' need a JSON number. Objects, arrays and null
 *   never satisfy a comparison, nor does a missing field ('!=' included).
 *   A duplicated key resolves to its last occurrence.
 * - Space-delimited patterns split the message on blanks; "quoted" and
 *   [bracketed] tokens count as one and lose their delimiters. Without
 *   '...' the message needs at least as many tokens as the pattern has
 *   fields and the last field takes the rest of the line; each '...' takes
 *   any number of tokens (as few as possible, left to right). A number
 *   value compares numerically with tokens that read as numbers and as
 *   text with the others, so [a != 404, ...] holds for "- x".
 */
#ifndef SLUICE_QUERY_FILTER_PATTERN_H
#define SLUICE_QUERY_FILTER_PATTERN_H

#include "common/arena.h"
#include "common/buf.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>

/* Longest pattern text, in characters (reference 2.9 and 2.17). */
#define FPAT_MAX_CHARS 1024
/* Most %regex% values in one JSON or space-delimited pattern (reference 3.2). */
#define FPAT_MAX_REGEX 2
/* Deepest JSON nesting of a message a JSON pattern looks into; deeper
 * messages are treated as not JSON (no match). */
#define FPAT_JSON_MAX_DEPTH 1024

struct fpat;        /* a compiled pattern, read-only after compile */
struct fpat_ref;    /* a compiled metricValue or dimension reference */

enum fpat_kind {
    FPAT_ALL,       /* empty or blank pattern: matches every event */
    FPAT_TERMS,     /* terms, quoted phrases, %regex% items */
    FPAT_JSON,      /* { selector op value && ... } */
    FPAT_DELIM      /* [field, ..., field op value] */
};

/* Compiles text[0..len) (borrowed; not kept). An empty or all-blank pattern
 * matches every event. On error returns SL_INVALID (SL_NOMEM when memory
 * runs out) and fills err: msg says what is wrong and where, e.g.
 * "Invalid character(s) in term 'a:b' (column 1): quote terms that hold
 * characters other than letters, digits and '_'"; err->line is 1 and
 * err->col the 1-based byte column. *out is an owned handle on SL_OK and
 * NULL otherwise. */
enum sl_status fpat_compile(const char *text, size_t len, struct fpat **out,
                            struct sl_err *err) SL_MUST_CHECK;
/* Frees a compiled pattern; NULL is fine. Every fpat_ref compiled against
 * it must be freed first or never used again. */
void fpat_free(struct fpat *p);

/* True when msg[0..len) (borrowed) matches. Thread-safe: many threads may
 * match with one fpat at once. Regexes get their match data per call from
 * a PCRE2 general context backed by the caller's stack; runaway regexes
 * stop at a match limit and count as no match. */
bool fpat_match(const struct fpat *p, const char *msg, size_t len);

enum fpat_kind fpat_kind(const struct fpat *p);

/* Appends a one-line canonical rendering of p to out, for tests, EXPLAIN
 * and logs, e.g. `json (and (= $.a "x") (> $.n 5))`,
 * `terms +"ERROR" ?"WARN" -%AUTH%`, `delim [ip, ..., status (= "4*")]`,
 * `all`. */
enum sl_status fpat_explain(const struct fpat *p, struct buf *out) SL_MUST_CHECK;

/* ------------------------------------------------------------------ */
/* Values for metric filters                                            */
/* ------------------------------------------------------------------ */

/* The names of the values a pattern extracts, for TestMetricFilter's
 * extractedValues: "$ip", "$bytes", ... for a space-delimited pattern (its
 * named fields, in order); the distinct selectors of a JSON pattern, as
 * written canonically ("$.a.b[0]"); none for terms or the empty pattern.
 * Each name is NUL-terminated and owned by p; it compiles with
 * fpat_ref_dimension(). i < fpat_nfields(p). */
size_t fpat_nfields(const struct fpat *p);
const char *fpat_field(const struct fpat *p, size_t i);

/* Compiles a metricTransformation's metricValue against p: a number
 * literal ("1", "-2.5", "1e3"), "$.a.b[0]" (JSON patterns) or "$name" (a
 * named field of a space-delimited pattern); blanks around it are ignored.
 * On error SL_INVALID with "Invalid metric value ..." in err. *out is
 * owned (fpat_ref_free) and borrows p, which must outlive it. */
enum sl_status fpat_ref_value(const struct fpat *p, const char *text,
                              size_t len, struct fpat_ref **out,
                              struct sl_err *err) SL_MUST_CHECK;
/* The same for a dimension's value: "$.a.b" or "$name", never a literal,
 * and only for JSON or space-delimited patterns. */
enum sl_status fpat_ref_dimension(const struct fpat *p, const char *text,
                                  size_t len, struct fpat_ref **out,
                                  struct sl_err *err) SL_MUST_CHECK;
/* NULL is fine. */
void fpat_ref_free(struct fpat_ref *r);

/* What one reference yields for one event. */
struct fpat_val {
    bool found;        /* resolved to a string, number or boolean */
    bool is_num;       /* text reads wholly as a number; num holds it */
    double num;        /* the number when is_num */
    const char *text;  /* the value: borrows msg or the ref, or lives in
                          the arena passed in */
    size_t len;        /* bytes of text */
};

/* Matches msg[0..len) against p and, when it matches, fills vals[i] for
 * each refs[i] (compiled against p). *matched tells whether it matched;
 * vals are untouched when it did not. Space-delimited values lose their
 * enclosing quotes or brackets; JSON strings are unescaped into a (only
 * when they hold escapes). Metric filters emit a data point only for
 * found && is_num values. Returns SL_NOMEM when a runs out, else SL_OK.
 * Thread-safe like fpat_match() as long as each thread has its own arena. */
enum sl_status fpat_eval(const struct fpat *p, const char *msg, size_t len,
                         struct fpat_ref *const *refs, size_t nrefs,
                         struct arena *a, struct fpat_val *vals,
                         bool *matched) SL_MUST_CHECK;

#endif
