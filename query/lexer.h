/* query/lexer.h: splits Logs Insights query text into tokens. A token is a
 * (kind, offset, length) slice of the text; nothing is copied. The lexer
 * also owns the lexical facts other stages need: time-period units, the
 * decoding of string/regex/back-quoted bodies, line:column positions and
 * the one error formatter (with jq's caret line) used by parser and checker.
 * Pure functions over caller-owned memory: no globals, any thread. */
#ifndef SLUICE_QUERY_LEXER_H
#define SLUICE_QUERY_LEXER_H

#include "common/buf.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest query text the lexer accepts (offsets fit in 32 bits with room). */
#define LEX_MAX_TEXT (1u << 20)

enum lex_kind {
    LEX_EOF,       /* end of the text */
    LEX_IDENT,     /* @?@?[A-Za-z_][A-Za-z0-9_.]*: field, command, function */
    LEX_QIDENT,    /* `back-quoted field name` */
    LEX_STRING,    /* '...' or "..." */
    LEX_NUMBER,    /* 12, 1.5, 2e3 (no sign: '-' is its own token) */
    LEX_PERIOD,    /* a whole number glued to a time unit: 5m, 1hrs */
    LEX_REGEX,     /* /.../ with optional flags imsx; only in regex mode */
    LEX_PIPE,      /* | */
    LEX_COMMA,     /* , */
    LEX_LPAREN,    /* ( */
    LEX_RPAREN,    /* ) */
    LEX_LBRACKET,  /* [ */
    LEX_RBRACKET,  /* ] */
    LEX_COLON,     /* : */
    LEX_EQ,        /* = */
    LEX_NE,        /* != */
    LEX_LT,        /* < */
    LEX_LE,        /* <= */
    LEX_GT,        /* > */
    LEX_GE,        /* >= */
    LEX_MATCH,     /* =~ */
    LEX_PLUS,      /* + */
    LEX_MINUS,     /* - */
    LEX_STAR,      /* * */
    LEX_SLASH,     /* / (division; only in operator mode) */
    LEX_PERCENT,   /* % */
    LEX_CARET,     /* ^ */
    LEX_AND,       /* and (any case) */
    LEX_OR,        /* or */
    LEX_NOT,       /* not */
    LEX_LIKE,      /* like */
    LEX_IN,        /* in */
    LEX_KIND_COUNT
};

struct lex_token {
    enum lex_kind kind;
    uint32_t off;       /* first byte in the text */
    uint32_t len;       /* bytes, delimiters included */
    bool line_start;    /* a newline separates it from the previous token
                         * (the parser ends a command there) */
};

/* '/' is ambiguous: division after a value, a regex where a value is
 * expected. The parser knows which and says so on every call. */
enum lex_mode {
    LEX_MODE_OPERATOR,  /* '/' is LEX_SLASH */
    LEX_MODE_VALUE      /* '/' starts LEX_REGEX */
};

/* Lexer state: plain data, copy it to look ahead and restore. */
struct lexer {
    const char *text;   /* borrowed; must outlive the lexer and its tokens */
    size_t len;         /* bytes of text; at most LEX_MAX_TEXT */
    size_t pos;         /* next byte to read */
};

/* Time units of bin(), datefloor(), dateceil() and SOURCE START/END. */
enum lex_unit {
    LEX_UNIT_MS, LEX_UNIT_SEC, LEX_UNIT_MIN, LEX_UNIT_HOUR, LEX_UNIT_DAY,
    LEX_UNIT_WEEK, LEX_UNIT_MONTH, LEX_UNIT_QUARTER, LEX_UNIT_YEAR
};

/* A time period literal such as 5m: count units. */
struct lex_period {
    int64_t count;       /* >= 0 */
    enum lex_unit unit;
};

/* text is borrowed; len must be <= LEX_MAX_TEXT (parse_query checks). */
void lex_init(struct lexer *lx, const char *text, size_t len);

/* Reads the next token into *tok. Returns SL_OK (LEX_EOF at the end, again
 * on every later call) or SL_MALFORMED_QUERY with err filled (unterminated
 * string, unknown character, bad number or unit, ...). */
enum sl_status lex_next(struct lexer *lx, enum lex_mode mode,
                        struct lex_token *tok, struct sl_err *err) SL_MUST_CHECK;

/* A short English name of a kind for messages, e.g. "'|'", "a string". */
const char *lex_kind_name(enum lex_kind kind);

/* Writes how a message names tok into out (always NUL-terminated): the text
 * as written in quotes, e.g. '|' or 'foo' or "abc" or /re/, cut to about 40
 * bytes, or "the end of the query". */
void lex_describe(const char *text, const struct lex_token *tok,
                  char *out, size_t cap);

/* True when tok is an identifier equal to word, ignoring ASCII case
 * (keywords and commands are case-insensitive; field names are not). */
bool lex_is_word(const char *text, const struct lex_token *tok,
                 const char *word);

/* Decodes the body of a LEX_STRING, LEX_QIDENT or LEX_REGEX token into out
 * (cap >= tok->len + 1 always suffices) and returns the decoded length.
 *   strings:    \n \t \r \\ \' \" \` decode; any other \x stays as \x
 *               (so "\d+" means what it looks like; "C:\temp" has a tab)
 *   back-quote: \` and \\ decode, nothing else
 *   regex:      \/ becomes /, every other escape is kept for PCRE2
 * For regexes *flags gets the trailing flag letters as LEX_RE_* bits. */
#define LEX_RE_CASELESS  1u  /* i */
#define LEX_RE_MULTILINE 2u  /* m */
#define LEX_RE_DOTALL    4u  /* s */
#define LEX_RE_EXTENDED  8u  /* x */
size_t lex_decode(const char *text, const struct lex_token *tok, char *out,
                  unsigned *flags);

/* Splits a LEX_PERIOD token into count and unit. Returns SL_OK, or
 * SL_MALFORMED_QUERY (count too large) with err filled. */
enum sl_status lex_period_value(const char *text, size_t len,
                                const struct lex_token *tok,
                                struct lex_period *out,
                                struct sl_err *err) SL_MUST_CHECK;
/* Canonical short name of a unit: "ms" "s" "m" "h" "d" "w" "mo" "q" "y". */
const char *lex_unit_name(enum lex_unit unit);
/* Milliseconds in one unit; months, quarters and years have no fixed
 * length and answer 0 (the executor floors them on the calendar). */
int64_t lex_unit_ms(enum lex_unit unit);

/* 1-based line and column (in UTF-8 characters) of byte off. */
void lex_position(const char *text, size_t len, size_t off, int *line,
                  int *col);

/* Records a query error at byte off in err (first failure wins): code
 * SL_MALFORMED_QUERY, err->line and err->col set, err->msg reading
 * "line L, column C: <message>". Returns SL_MALFORMED_QUERY. */
enum sl_status lex_fail(const char *text, size_t len, size_t off,
                        struct sl_err *err, const char *fmt, ...)
    SL_PRINTF(5, 6);

/* Appends err->msg, then the offending source line and a caret under
 * err->col, jq style:
 *     line 1, column 19: expected a field name or expression after 'by', found '|'
 *     stats count(*) by | sort x
 *                       ^
 * Long lines are cut to a window around the column. */
enum sl_status lex_render_error(const char *text, size_t len,
                                const struct sl_err *err,
                                struct buf *out) SL_MUST_CHECK;

#endif
