/* query/lexer.c: the Insights tokenizer, driven by a character-class table;
 * see lexer.h. It knows characters, not commands: which identifiers are
 * commands, and where commands end, is the parser's business. */
#include "query/lexer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * How the text becomes tokens
 * ---------------------------
 * One byte of lookahead picks a scanner from the class table below; each
 * scanner consumes one token and returns its slice:
 *
 *   text:    fields @timestamp, bytes / 1000 as kb  # comment
 *   tokens:  IDENT IDENT COMMA IDENT SLASH NUMBER IDENT IDENT
 *            (the comment and the blanks are skipped)
 *
 *   text:    filter @message like /(?i)err\/x/i | stats count(*) by bin(5m)
 *   tokens:  IDENT IDENT LIKE REGEX PIPE IDENT IDENT LPAREN STAR RPAREN
 *            IDENT IDENT LPAREN PERIOD RPAREN
 *            (REGEX = body "(?i)err/x" + flag i; PERIOD = 5 minutes)
 *
 * '/' is the one context-dependent byte: after a value it divides, where a
 * value is expected it opens a regex. The parser passes the mode on every
 * call (LEX_MODE_VALUE / LEX_MODE_OPERATOR) and re-reads a token when its
 * guess changes, so the lexer itself keeps no history.
 *
 * Newlines are whitespace, but the token after one carries line_start, so
 * the parser can let a new line begin a new command without a '|':
 *
 *   fields a, b        <- 'sort' has line_start set and names a command,
 *   sort a desc           so the fields list ends before it
 */

/* Character classes. */
enum {
    C_XX,  /* not allowed outside quotes */
    C_SP,  /* blank */
    C_NL,  /* newline */
    C_DG,  /* digit */
    C_AL,  /* letter or underscore */
    C_AT,  /* @ */
    C_QU,  /* ' or " */
    C_BQ,  /* ` */
    C_HS,  /* # comment */
    C_SL,  /* / */
    C_OP,  /* = ! < > (one or two bytes) */
    C_PU   /* single-byte punctuation */
};

static const unsigned char lex_class[256] = {
    C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_SP, C_NL, C_SP, C_SP, C_SP, C_XX, C_XX,  /* 00 */
    C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX,  /* 10 */
    C_SP, C_OP, C_QU, C_HS, C_XX, C_PU, C_XX, C_QU, C_PU, C_PU, C_PU, C_PU, C_PU, C_PU, C_XX, C_SL,  /* 20 */
    C_DG, C_DG, C_DG, C_DG, C_DG, C_DG, C_DG, C_DG, C_DG, C_DG, C_PU, C_XX, C_OP, C_OP, C_OP, C_XX,  /* 30 */
    C_AT, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL,  /* 40 */
    C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_PU, C_XX, C_PU, C_PU, C_AL,  /* 50 */
    C_BQ, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL,  /* 60 */
    C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_AL, C_XX, C_PU, C_XX, C_XX, C_XX,  /* 70 */
    C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX,  /* 80 */
    C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX,  /* 90 */
    C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX,  /* a0 */
    C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX,  /* b0 */
    C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX,  /* c0 */
    C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX,  /* d0 */
    C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX,  /* e0 */
    C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX, C_XX,  /* f0 */
};

/* Token kind of each single-byte punctuation (class C_PU). */
static const unsigned char lex_punct[128] = {
    ['|'] = LEX_PIPE,     [','] = LEX_COMMA,    ['('] = LEX_LPAREN,
    [')'] = LEX_RPAREN,   ['['] = LEX_LBRACKET, [']'] = LEX_RBRACKET,
    [':'] = LEX_COLON,    ['+'] = LEX_PLUS,     ['-'] = LEX_MINUS,
    ['*'] = LEX_STAR,     ['%'] = LEX_PERCENT,  ['^'] = LEX_CARET,
};

/* Operator words; identifiers spelled so in any case are these tokens. */
static const struct {
    const char *word;
    enum lex_kind kind;
} lex_words[] = {
    {"and", LEX_AND}, {"or", LEX_OR}, {"not", LEX_NOT},
    {"like", LEX_LIKE}, {"in", LEX_IN},
};

/* Time units; names of more than one letter also take a plural 's'. */
static const struct {
    const char *name;
    enum lex_unit unit;
} lex_units[] = {
    {"ms", LEX_UNIT_MS}, {"msec", LEX_UNIT_MS}, {"millisecond", LEX_UNIT_MS},
    {"s", LEX_UNIT_SEC}, {"sec", LEX_UNIT_SEC}, {"second", LEX_UNIT_SEC},
    {"m", LEX_UNIT_MIN}, {"min", LEX_UNIT_MIN}, {"minute", LEX_UNIT_MIN},
    {"h", LEX_UNIT_HOUR}, {"hr", LEX_UNIT_HOUR}, {"hour", LEX_UNIT_HOUR},
    {"d", LEX_UNIT_DAY}, {"day", LEX_UNIT_DAY},
    {"w", LEX_UNIT_WEEK}, {"week", LEX_UNIT_WEEK},
    {"mo", LEX_UNIT_MONTH}, {"mon", LEX_UNIT_MONTH}, {"month", LEX_UNIT_MONTH},
    {"q", LEX_UNIT_QUARTER}, {"qtr", LEX_UNIT_QUARTER},
    {"quarter", LEX_UNIT_QUARTER},
    {"y", LEX_UNIT_YEAR}, {"yr", LEX_UNIT_YEAR}, {"year", LEX_UNIT_YEAR},
};

#define LEX_PERIOD_MAX 1000000000LL  /* keeps count * unit inside int64 ms */
#define LEX_SHOW_MAX   40            /* bytes of a token quoted in messages */

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* s[0..n) equals the NUL-terminated word, ignoring ASCII case. */
static bool same_word(const char *s, size_t n, const char *word)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (word[i] == '\0' || ascii_lower((unsigned char)s[i]) !=
                                   ascii_lower((unsigned char)word[i]))
            return false;
    }
    return word[i] == '\0';
}

static bool unit_lookup(const char *s, size_t n, enum lex_unit *out)
{
    for (size_t i = 0; i < sizeof(lex_units) / sizeof(lex_units[0]); i++) {
        const char *name = lex_units[i].name;
        size_t nl = strlen(name);
        if (same_word(s, n, name) ||
            (nl > 1 && n == nl + 1 && ascii_lower((unsigned char)s[nl]) == 's' &&
             same_word(s, nl, name))) {
            *out = lex_units[i].unit;
            return true;
        }
    }
    return false;
}

void lex_init(struct lexer *lx, const char *text, size_t len)
{
    lx->text = text;
    lx->len = len;
    lx->pos = 0;
}

/* ------------------------------------------------------------------ */
/* Scanners: each starts at lx->pos, fills tok->kind and advances.      */

static int cls_at(const struct lexer *lx, size_t i)
{
    return i < lx->len ? lex_class[(unsigned char)lx->text[i]] : C_NL;
}

static enum sl_status scan_ident(struct lexer *lx, struct lex_token *tok,
                                 struct sl_err *err)
{
    size_t i = lx->pos;
    bool plain = true;

    if (lx->text[i] == '@') {
        plain = false;
        i++;
        if (i < lx->len && lx->text[i] == '@')
            i++;                 /* discovered "@x" is exposed as "@@x" */
        if (cls_at(lx, i) != C_AL)
            return lex_fail(lx->text, lx->len, lx->pos, err,
                            "'@' must begin a field name such as @timestamp");
    }
    while (i < lx->len) {
        int c = lex_class[(unsigned char)lx->text[i]];
        if (c != C_AL && c != C_DG && lx->text[i] != '.')
            break;
        if (lx->text[i] == '.')
            plain = false;
        i++;
    }
    tok->kind = LEX_IDENT;
    if (plain) {
        for (size_t w = 0; w < sizeof(lex_words) / sizeof(lex_words[0]); w++)
            if (same_word(lx->text + lx->pos, i - lx->pos, lex_words[w].word))
                tok->kind = lex_words[w].kind;
    }
    lx->pos = i;
    return SL_OK;
}

static enum sl_status scan_number(struct lexer *lx, struct lex_token *tok,
                                  struct sl_err *err)
{
    const char *t = lx->text;
    size_t start = lx->pos, i = lx->pos, u;
    bool whole = true;
    enum lex_unit unit;

    while (cls_at(lx, i) == C_DG)
        i++;
    if (i + 1 < lx->len && t[i] == '.' && cls_at(lx, i + 1) == C_DG) {
        whole = false;
        i++;
        while (cls_at(lx, i) == C_DG)
            i++;
    }
    if (i < lx->len && (t[i] == 'e' || t[i] == 'E')) {
        size_t j = i + 1;
        if (j < lx->len && (t[j] == '+' || t[j] == '-'))
            j++;
        if (cls_at(lx, j) == C_DG) {
            whole = false;
            i = j;
            while (cls_at(lx, i) == C_DG)
                i++;
        }
    }
    tok->kind = LEX_NUMBER;
    if (cls_at(lx, i) == C_AL) {
        u = i;
        while (cls_at(lx, i) == C_AL || cls_at(lx, i) == C_DG)
            i++;
        if (!whole)
            return lex_fail(t, lx->len, start, err,
                            "a time period needs a whole number, found '%.*s'",
                            (int)(i - start), t + start);
        if (!unit_lookup(t + u, i - u, &unit))
            return lex_fail(t, lx->len, start, err,
                            "unknown time unit in '%.*s'; use ms, s, m, h, d, "
                            "w, mo, q or y (e.g. 5m)",
                            (int)(i - start), t + start);
        tok->kind = LEX_PERIOD;
    }
    if (i < lx->len && (t[i] == '.' || t[i] == '@'))
        return lex_fail(t, lx->len, start, err,
                        "malformed number '%.*s'", (int)(i - start + 1),
                        t + start);
    lx->pos = i;
    return SL_OK;
}

/* A quoted body: '...', "..." or `...`; a backslash protects the next byte.
 * Raw newlines are not allowed inside. */
static enum sl_status scan_quoted(struct lexer *lx, struct lex_token *tok,
                                  struct sl_err *err)
{
    const char *t = lx->text;
    char q = t[lx->pos];
    size_t i = lx->pos + 1;

    for (;;) {
        if (i >= lx->len || t[i] == '\n')
            return lex_fail(t, lx->len, lx->pos, err,
                            "%s not closed with %c before the end of the line",
                            q == '`' ? "back-quoted name" : "string", q);
        if (t[i] == '\\' && i + 1 < lx->len && t[i + 1] != '\n') {
            i += 2;
            continue;
        }
        if (t[i] == q)
            break;
        i++;
    }
    if (q == '`' && i == lx->pos + 1)
        return lex_fail(t, lx->len, lx->pos, err, "empty back-quoted name ``");
    tok->kind = q == '`' ? LEX_QIDENT : LEX_STRING;
    lx->pos = i + 1;
    return SL_OK;
}

/* /body/flags. Inside [...] a '/' does not end the regex (as in PCRE and
 * JavaScript); a ']' right after '[' or '[^' is a literal. */
static enum sl_status scan_regex(struct lexer *lx, struct lex_token *tok,
                                 struct sl_err *err)
{
    const char *t = lx->text;
    size_t i = lx->pos + 1;
    bool in_class = false;

    for (;;) {
        if (i >= lx->len || t[i] == '\n')
            return lex_fail(t, lx->len, lx->pos, err,
                            "regex not closed with / before the end of the "
                            "line (write \\/ for a slash inside it)");
        if (t[i] == '\\' && i + 1 < lx->len && t[i + 1] != '\n') {
            i += 2;
            continue;
        }
        if (in_class) {
            if (t[i] == ']')
                in_class = false;
        } else if (t[i] == '[') {
            in_class = true;
            if (i + 1 < lx->len && t[i + 1] == '^')
                i++;
            if (i + 1 < lx->len && t[i + 1] == ']')
                i++;
        } else if (t[i] == '/') {
            break;
        }
        i++;
    }
    i++;
    while (cls_at(lx, i) == C_AL || cls_at(lx, i) == C_DG) {
        if (strchr("imsx", t[i]) == NULL)
            return lex_fail(t, lx->len, i, err,
                            "unknown regex flag '%c'; use i, m, s or x, or "
                            "(?i) inside the regex", t[i]);
        i++;
    }
    tok->kind = LEX_REGEX;
    lx->pos = i;
    return SL_OK;
}

static enum sl_status scan_operator(struct lexer *lx, struct lex_token *tok,
                                    struct sl_err *err)
{
    const char *t = lx->text;
    char c = t[lx->pos];
    char d = lx->pos + 1 < lx->len ? t[lx->pos + 1] : '\0';
    size_t n = 1;

    switch (c) {
    case '=':
        tok->kind = d == '~' ? LEX_MATCH : LEX_EQ;
        n = d == '~' ? 2 : 1;
        break;
    case '!':
        if (d != '=')
            return lex_fail(t, lx->len, lx->pos, err,
                            "'!' must be followed by '=' (write 'not' to "
                            "negate)");
        tok->kind = LEX_NE;
        n = 2;
        break;
    case '<':
        tok->kind = d == '=' ? LEX_LE : LEX_LT;
        n = d == '=' ? 2 : 1;
        break;
    default:  /* '>' */
        tok->kind = d == '=' ? LEX_GE : LEX_GT;
        n = d == '=' ? 2 : 1;
        break;
    }
    lx->pos += n;
    return SL_OK;
}

static enum sl_status bad_char(struct lexer *lx, struct sl_err *err)
{
    unsigned char c = (unsigned char)lx->text[lx->pos];

    if (c >= 0x80)
        return lex_fail(lx->text, lx->len, lx->pos, err,
                        "unexpected byte 0x%02X: text outside the ASCII "
                        "range goes inside quotes or back-quotes", c);
    if (c > 0x20 && c < 0x7f)
        return lex_fail(lx->text, lx->len, lx->pos, err,
                        "unexpected character '%c'", (char)c);
    return lex_fail(lx->text, lx->len, lx->pos, err,
                    "unexpected control character 0x%02X", c);
}

enum sl_status lex_next(struct lexer *lx, enum lex_mode mode,
                        struct lex_token *tok, struct sl_err *err)
{
    bool nl = lx->pos == 0;
    enum sl_status st = SL_OK;

    for (;;) {
        if (lx->pos >= lx->len)
            break;
        int c = lex_class[(unsigned char)lx->text[lx->pos]];
        if (c == C_SP) {
            lx->pos++;
        } else if (c == C_NL) {
            lx->pos++;
            nl = true;
        } else if (c == C_HS) {
            while (lx->pos < lx->len && lx->text[lx->pos] != '\n')
                lx->pos++;
        } else {
            break;
        }
    }
    tok->off = (uint32_t)lx->pos;
    tok->line_start = nl;
    if (lx->pos >= lx->len) {
        tok->kind = LEX_EOF;
        tok->len = 0;
        return SL_OK;
    }
    switch (lex_class[(unsigned char)lx->text[lx->pos]]) {
    case C_AL:
    case C_AT:
        st = scan_ident(lx, tok, err);
        break;
    case C_DG:
        st = scan_number(lx, tok, err);
        break;
    case C_QU:
    case C_BQ:
        st = scan_quoted(lx, tok, err);
        break;
    case C_SL:
        if (mode == LEX_MODE_VALUE) {
            st = scan_regex(lx, tok, err);
        } else {
            tok->kind = LEX_SLASH;
            lx->pos++;
        }
        break;
    case C_OP:
        st = scan_operator(lx, tok, err);
        break;
    case C_PU:
        tok->kind = (enum lex_kind)lex_punct[(unsigned char)lx->text[lx->pos]];
        lx->pos++;
        break;
    default:
        st = bad_char(lx, err);
        break;
    }
    tok->len = (uint32_t)(lx->pos - tok->off);
    return st;
}

/* ------------------------------------------------------------------ */
/* Token helpers                                                        */

const char *lex_kind_name(enum lex_kind kind)
{
    static const char *const names[LEX_KIND_COUNT] = {
        [LEX_EOF] = "the end of the query", [LEX_IDENT] = "a name",
        [LEX_QIDENT] = "a back-quoted name", [LEX_STRING] = "a string",
        [LEX_NUMBER] = "a number", [LEX_PERIOD] = "a time period",
        [LEX_REGEX] = "a regex", [LEX_PIPE] = "'|'", [LEX_COMMA] = "','",
        [LEX_LPAREN] = "'('", [LEX_RPAREN] = "')'", [LEX_LBRACKET] = "'['",
        [LEX_RBRACKET] = "']'", [LEX_COLON] = "':'", [LEX_EQ] = "'='",
        [LEX_NE] = "'!='", [LEX_LT] = "'<'", [LEX_LE] = "'<='",
        [LEX_GT] = "'>'", [LEX_GE] = "'>='", [LEX_MATCH] = "'=~'",
        [LEX_PLUS] = "'+'", [LEX_MINUS] = "'-'", [LEX_STAR] = "'*'",
        [LEX_SLASH] = "'/'", [LEX_PERCENT] = "'%'", [LEX_CARET] = "'^'",
        [LEX_AND] = "'and'", [LEX_OR] = "'or'", [LEX_NOT] = "'not'",
        [LEX_LIKE] = "'like'", [LEX_IN] = "'in'",
    };
    if ((unsigned)kind >= LEX_KIND_COUNT)
        return "a token";
    return names[kind];
}

void lex_describe(const char *text, const struct lex_token *tok, char *out,
                  size_t cap)
{
    size_t n = tok->len;
    bool cut = false;
    bool own_quotes = tok->kind == LEX_STRING || tok->kind == LEX_QIDENT ||
                      tok->kind == LEX_REGEX;

    if (tok->kind == LEX_EOF) {
        snprintf(out, cap, "the end of the query");
        return;
    }
    if (n > LEX_SHOW_MAX) {
        n = LEX_SHOW_MAX - 3;
        while (n > 0 && ((unsigned char)text[tok->off + n] & 0xC0) == 0x80)
            n--;                          /* do not split a UTF-8 sequence */
        cut = true;
    }
    snprintf(out, cap, own_quotes ? "%.*s%s" : "'%.*s%s'", (int)n,
             text + tok->off, cut ? "..." : "");
}

bool lex_is_word(const char *text, const struct lex_token *tok,
                 const char *word)
{
    return tok->kind == LEX_IDENT && same_word(text + tok->off, tok->len, word);
}

size_t lex_decode(const char *text, const struct lex_token *tok, char *out,
                  unsigned *flags)
{
    const char *s = text + tok->off + 1;
    size_t n = tok->len >= 2 ? tok->len - 2 : 0, o = 0;

    if (flags != NULL)
        *flags = 0;
    if (tok->kind == LEX_REGEX) {
        /* the closing '/' is the last one; letters after it are flags */
        size_t end = tok->len;
        while (end > 1 && text[tok->off + end - 1] != '/')
            end--;
        for (size_t i = end; i < tok->len && flags != NULL; i++) {
            char f = text[tok->off + i];
            *flags |= f == 'i' ? LEX_RE_CASELESS : f == 'm' ? LEX_RE_MULTILINE
                      : f == 's' ? LEX_RE_DOTALL : LEX_RE_EXTENDED;
        }
        n = end >= 2 ? end - 2 : 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != '\\' || i + 1 >= n) {
            out[o++] = c;
            continue;
        }
        char d = s[++i];
        if (tok->kind == LEX_REGEX) {
            if (d != '/')
                out[o++] = '\\';
            out[o++] = d;
        } else if (tok->kind == LEX_QIDENT) {
            if (d != '`' && d != '\\')
                out[o++] = '\\';
            out[o++] = d;
        } else {
            switch (d) {
            case 'n': out[o++] = '\n'; break;
            case 't': out[o++] = '\t'; break;
            case 'r': out[o++] = '\r'; break;
            case '\\': case '\'': case '"': case '`': out[o++] = d; break;
            default:
                out[o++] = '\\';
                out[o++] = d;
                break;
            }
        }
    }
    out[o] = '\0';
    return o;
}

enum sl_status lex_period_value(const char *text, size_t len,
                                const struct lex_token *tok,
                                struct lex_period *out, struct sl_err *err)
{
    const char *s = text + tok->off;
    size_t i = 0;
    int64_t v = 0;

    while (i < tok->len && s[i] >= '0' && s[i] <= '9') {
        v = v * 10 + (s[i] - '0');
        if (v > LEX_PERIOD_MAX)
            return lex_fail(text, len, tok->off, err,
                            "time period '%.*s' is too long (at most %lld "
                            "units)", (int)tok->len, s, LEX_PERIOD_MAX);
        i++;
    }
    out->count = v;
    if (!unit_lookup(s + i, tok->len - i, &out->unit))
        return lex_fail(text, len, tok->off, err,
                        "unknown time unit in '%.*s'", (int)tok->len, s);
    return SL_OK;
}

const char *lex_unit_name(enum lex_unit unit)
{
    static const char *const names[] = {"ms", "s", "m", "h", "d", "w",
                                        "mo", "q", "y"};
    return (unsigned)unit < sizeof(names) / sizeof(names[0]) ? names[unit]
                                                              : "?";
}

int64_t lex_unit_ms(enum lex_unit unit)
{
    switch (unit) {
    case LEX_UNIT_MS: return 1;
    case LEX_UNIT_SEC: return 1000;
    case LEX_UNIT_MIN: return 60 * 1000;
    case LEX_UNIT_HOUR: return 3600 * 1000;
    case LEX_UNIT_DAY: return 86400 * 1000;
    case LEX_UNIT_WEEK: return 7LL * 86400 * 1000;
    default: return 0;
    }
}

/* ------------------------------------------------------------------ */
/* Positions and error messages                                         */

void lex_position(const char *text, size_t len, size_t off, int *line,
                  int *col)
{
    int l = 1, c = 1;

    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

enum sl_status lex_fail(const char *text, size_t len, size_t off,
                        struct sl_err *err, const char *fmt, ...)
{
    char what[224];
    va_list ap;
    int line, col;

    if (err == NULL || err->code != SL_OK)
        return SL_MALFORMED_QUERY;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    lex_position(text, len, off, &line, &col);
    err->line = line;
    err->col = col;
    return sl_fail(err, SL_MALFORMED_QUERY, "line %d, column %d: %s", line,
                   col, what);
}

#define LEX_WINDOW 100  /* characters of a long source line shown */

enum sl_status lex_render_error(const char *text, size_t len,
                                const struct sl_err *err, struct buf *out)
{
    size_t ls = 0, le, i, first, last;
    size_t nchars = 0, want = err->col > 0 ? (size_t)err->col - 1 : 0;
    enum sl_status st;
    int line = 1;

    st = buf_puts(out, err->msg);
    if (st != SL_OK || err->line <= 0)
        return st;
    for (i = 0; i < len && line < err->line; i++) {
        if (text[i] == '\n') {
            line++;
            ls = i + 1;
        }
    }
    if (line != err->line)
        return buf_putc(out, '\n');
    for (le = ls; le < len && text[le] != '\n'; le++)
        ;
    if (le > ls && text[le - 1] == '\r')
        le--;
    for (i = ls; i < le; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            nchars++;
    /* window [first, last) in characters, around the caret */
    first = want > LEX_WINDOW / 2 && nchars > LEX_WINDOW ? want - LEX_WINDOW / 2
                                                         : 0;
    last = first + LEX_WINDOW < nchars ? first + LEX_WINDOW : nchars;
    st = buf_puts(out, first > 0 ? "\n    ..." : "\n    ");
    size_t ch = 0;
    for (i = ls; i < le && st == SL_OK; i++) {
        if (((unsigned char)text[i] & 0xC0) != 0x80 && i > ls)
            ch++;
        if (ch >= first && ch < last)
            st = buf_putc(out, text[i]);
    }
    if (st == SL_OK && last < nchars)
        st = buf_puts(out, "...");
    if (st == SL_OK)
        st = buf_puts(out, first > 0 ? "\n       " : "\n    ");
    /* the caret line repeats tabs so it lines up under the source */
    ch = 0;
    for (i = ls; i < le && st == SL_OK && ch < want; i++) {
        if (((unsigned char)text[i] & 0xC0) == 0x80)
            continue;
        if (ch >= first)
            st = buf_putc(out, text[i] == '\t' ? '\t' : ' ');
        ch++;
    }
    for (; ch < want && st == SL_OK; ch++)
        st = buf_putc(out, ' ');
    if (st == SL_OK)
        st = buf_puts(out, "^\n");
    return st;
}
