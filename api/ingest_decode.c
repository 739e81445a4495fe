/* api/ingest_decode.c: the streaming decoder behind api/ingest_decode.h.
 * It walks an ingest body once, sixteen bytes at a time inside strings and
 * byte by byte between them, and fills an array of events without building
 * a DOM. It knows nothing of HTTP, storage or jansson, and allocates only
 * from the arena it is handed. */
#include "api/ingest_decode.h"

#include "common/hex.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Deepest nesting of a value the decoder skips (an unknown member). */
#define INGEST_MAX_DEPTH 64

/* The reasons an event is invalid; ingest_event.invalid_why points here. */
static const char WHY_NOT_OBJECT[] = "event must be a JSON object";
static const char WHY_LINE_NOT_OBJECT[] = "line is not a JSON object";
static const char WHY_MSG_MISSING[] = "message is missing";
static const char WHY_MSG_NOT_STRING[] = "message must be a string";
static const char WHY_MSG_EMPTY[] = "message must not be empty";
static const char WHY_TS_MISSING[] = "timestamp is missing";
static const char WHY_TS_NOT_INT[] =
    "timestamp must be an integer (milliseconds since the epoch)";

/* A stretch of bytes: a raw string between its quotes, or a decoded one. */
struct span {
    const char *p;
    size_t len;
};

/* What one event object said about the two members we read. */
enum field_state { FIELD_ABSENT, FIELD_OK, FIELD_BAD };

struct ev_fields {
    enum field_state msg_state;   /* "message" absent, a string, or not one */
    enum field_state ts_state;    /* "timestamp" absent, an int64, or not one */
    struct span msg;              /* decoded message when msg_state is OK */
    int64_t ts;                   /* the timestamp when ts_state is OK */
};

struct dec {
    const char *base;         /* first byte of the body; offsets start here */
    const char *end;          /* end of the window parsed: body or one line */
    const char *events_key;   /* array member of an object body, or NULL */
    size_t events_key_len;    /* strlen(events_key) */
    struct arena *a;          /* every allocation comes from here */
    struct sl_err *err;       /* failures; a scratch one per NDJSON line */
    struct ingest_event *ev;  /* events so far, arena-owned */
    size_t n;                 /* events in ev */
    size_t cap;               /* room in ev */
    size_t max;               /* most events allowed; 0 = no limit */
};

/* ------------------------------------------------------------------ */
/* Failures                                                            */
/* ------------------------------------------------------------------ */

static size_t offset_of(const struct dec *d, const char *p)
{
    return (size_t)(p - d->base);
}

/* A syntax error at p: says what was expected and what was found. */
static enum sl_status fail_expected(struct dec *d, const char *p,
                                    const char *expected)
{
    unsigned char c;

    if (p >= d->end)
        return sl_fail(d->err, SL_BAD_JSON,
                       "malformed JSON: input ends at byte %zu where %s was "
                       "expected", offset_of(d, p), expected);
    c = (unsigned char)*p;
    if (c >= 0x20 && c < 0x7f)
        return sl_fail(d->err, SL_BAD_JSON,
                       "malformed JSON at byte %zu: expected %s, found '%c'",
                       offset_of(d, p), expected, c);
    return sl_fail(d->err, SL_BAD_JSON,
                   "malformed JSON at byte %zu: expected %s, found byte 0x%02x",
                   offset_of(d, p), expected, c);
}

static enum sl_status fail_at(struct dec *d, const char *p, const char *what)
{
    return sl_fail(d->err, SL_BAD_JSON, "malformed JSON at byte %zu: %s",
                   offset_of(d, p), what);
}

static enum sl_status fail_utf8(struct dec *d, const char *p)
{
    return sl_fail(d->err, SL_BAD_JSON,
                   "invalid UTF-8 at byte %zu of the body (byte 0x%02x); "
                   "send text as UTF-8", offset_of(d, p), (unsigned char)*p);
}

static enum sl_status fail_nomem(struct dec *d)
{
    return sl_fail(d->err, SL_NOMEM,
                   "out of memory while decoding the request body");
}

/* ------------------------------------------------------------------ */
/* Byte-level scanning                                                 */
/* ------------------------------------------------------------------ */

static inline const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* True for the bytes a string scan must stop at: '"', '\\', controls
 * (< 0x20, illegal raw in JSON strings) and the start of UTF-8 sequences. */
static inline bool is_special(unsigned char c)
{
    return (unsigned char)(c - 0x20) >= 0x60 || c == '"' || c == '\\';
}

/* Returns the first special byte in [p, end), or end. */
static inline const char *find_special(const char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);

    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const void *)p);
        /* Signed compare: bytes >= 0x80 are negative, so one test catches
         * both controls and UTF-8 lead/continuation bytes. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                              _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask != 0)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

    while (end - p >= 8) {
        uint64_t w, q, b, hit;
        memcpy(&w, p, sizeof(w));
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        /* A byte < 0x20 or >= 0x80, or a zero byte of q or b. Exact as to
         * "any"; the byte loop below finds which. */
        hit = (((w - ones * 0x20) | w) |
               ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
        if (hit != 0)
            break;
        p += 8;
    }
#endif
    while (p < end && !is_special((unsigned char)*p))
        p++;
    return p;
}

/* Length of the well-formed UTF-8 sequence at p, whose first byte is
 * >= 0x80, or 0 when it is ill-formed or cut off by end. Overlong forms,
 * surrogates and code points above U+10FFFF are ill-formed (RFC 3629). */
static inline size_t utf8_seq_len(const char *p, const char *end)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t avail = (size_t)(end - p);
    unsigned lo = 0x80, hi = 0xBF;

    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        return avail >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        if (s[0] == 0xE0)
            lo = 0xA0;
        else if (s[0] == 0xED)
            hi = 0x9F;
        return avail >= 3 && s[1] >= lo && s[1] <= hi &&
                       (s[2] & 0xC0) == 0x80
                   ? 3
                   : 0;
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        if (s[0] == 0xF0)
            lo = 0x90;
        else if (s[0] == 0xF4)
            hi = 0x8F;
        return avail >= 4 && s[1] >= lo && s[1] <= hi &&
                       (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

/* Returns the first byte of an ill-formed UTF-8 sequence in [p, end), or
 * NULL when all is well. ASCII runs go sixteen bytes at a time. */
static const char *utf8_find_invalid(const char *p, const char *end)
{
    while (p < end) {
#ifdef __SSE2__
        while (end - p >= 16 &&
               _mm_movemask_epi8(_mm_loadu_si128((const void *)p)) == 0)
            p += 16;
#endif
        while (p < end && (unsigned char)*p < 0x80)
            p++;
        if (p == end)
            break;
        size_t n = utf8_seq_len(p, end);
        if (n == 0)
            return p;
        p += n;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */
/* ------------------------------------------------------------------ */

/* Checks the escape at *pp (a backslash) and moves past it. A \u escape
 * of a high surrogate must be followed by one of a low surrogate. */
static enum sl_status check_escape(struct dec *d, const char **pp)
{
    const char *p = *pp;
    long cp, lo;

    if (d->end - p < 2)
        return fail_expected(d, p + 1, "an escaped character");
    switch (p[1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r':
    case 't':
        *pp = p + 2;
        return SL_OK;
    case 'u':
        break;
    default:
        return fail_expected(d, p + 1,
                             "one of \" \\ / b f n r t u after a backslash");
    }
    if (d->end - p < 6 || (cp = sl_hex4(p + 2)) < 0)
        return fail_expected(d, p + 2, "four hex digits after \\u");
    p += 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail_at(d, p - 6, "lone low surrogate in a \\u escape; "
                                 "it must follow a high surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (d->end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
            (lo = sl_hex4(p + 2)) < 0xDC00 || lo > 0xDFFF)
            return fail_at(d, p - 6, "high surrogate in a \\u escape not "
                                     "followed by a \\u low surrogate");
        p += 6;
    }
    *pp = p;
    return SL_OK;
}

/* Scans the string whose opening quote is at *pp: validates escapes,
 * controls and UTF-8, and leaves *pp after the closing quote. raw spans
 * the bytes between the quotes; *escaped says whether any '\' occurs. */
static enum sl_status scan_string(struct dec *d, const char **pp,
                                  struct span *raw, bool *escaped)
{
    const char *start = *pp + 1, *p = start, *end = d->end;
    bool esc = false;
    enum sl_status st;

    for (;;) {
        unsigned char c;
        p = find_special(p, end);
        if (p == end)
            return fail_expected(d, p, "a closing '\"'");
        c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c == '\\') {
            esc = true;
            st = check_escape(d, &p);
            if (st != SL_OK)
                return st;
        } else if (c >= 0x80) {
            /* Non-ASCII text tends to come in runs: stay here for them. */
            do {
                size_t n = utf8_seq_len(p, end);
                if (n == 0)
                    return fail_utf8(d, p);
                p += n;
            } while (p < end && (unsigned char)*p >= 0x80);
        } else {
            return sl_fail(d->err, SL_BAD_JSON,
                           "malformed JSON at byte %zu: control character "
                           "0x%02x inside a string; escape it as \\u%04x",
                           offset_of(d, p), c, c);
        }
    }
    raw->p = start;
    raw->len = (size_t)(p - start);
    *escaped = esc;
    *pp = p + 1;
    return SL_OK;
}

static char *put_utf8(char *w, long cp)
{
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xC0 | (cp >> 6));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *w++ = (char)(0xE0 | (cp >> 12));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *w++ = (char)(0xF0 | (cp >> 18));
        *w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    }
    return w;
}

/* Turns a raw string that scan_string accepted into its bytes: the raw
 * span itself when it has no escapes, else a decoded copy in the arena.
 * Decoding never grows a string, so raw->len bytes always suffice. */
static enum sl_status decode_string(struct dec *d, const struct span *raw,
                                    bool escaped, struct span *out)
{
    const char *s = raw->p, *e = raw->p + raw->len;
    char *buf, *w;

    if (!escaped) {
        *out = *raw;
        return SL_OK;
    }
    buf = arena_alloc(d->a, raw->len);
    if (buf == NULL)
        return fail_nomem(d);
    w = buf;
    while (s < e) {
        const char *bs = memchr(s, '\\', (size_t)(e - s));
        size_t run = (size_t)((bs != NULL ? bs : e) - s);
        long cp;

        memcpy(w, s, run);
        w += run;
        s += run;
        if (bs == NULL)
            break;
        switch (s[1]) {
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 't': *w++ = '\t'; break;
        case 'u':
            cp = sl_hex4(s + 2);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (sl_hex4(s + 8) - 0xDC00);
                s += 6;
            }
            w = put_utf8(w, cp);
            s += 4;
            break;
        default:               /* '"', '\\' and '/' stand for themselves */
            *w++ = s[1];
            break;
        }
        s += 2;
    }
    out->p = buf;
    out->len = (size_t)(w - buf);
    return SL_OK;
}

/* Scans and decodes the string at *pp in one call. */
static enum sl_status read_string(struct dec *d, const char **pp,
                                  struct span *out)
{
    struct span raw;
    bool escaped;
    enum sl_status st = scan_string(d, pp, &raw, &escaped);

    if (st != SL_OK)
        return st;
    if (raw.len > UINT32_MAX)
        return sl_fail(d->err, SL_TOO_LARGE,
                       "string of %zu bytes before byte %zu is longer than "
                       "4 GiB", raw.len, offset_of(d, *pp));
    return decode_string(d, &raw, escaped, out);
}

static bool span_is(const struct span *s, const char *lit, size_t n)
{
    return s->len == n && memcmp(s->p, lit, n) == 0;
}

/* ------------------------------------------------------------------ */
/* Numbers, literals and skipped values                                */
/* ------------------------------------------------------------------ */

/* Scans the JSON number at *pp ('-' or a digit). *is_int says whether it
 * is written as an integer that fits int64, in which case *v holds it. */
static enum sl_status scan_number(struct dec *d, const char **pp, int64_t *v,
                                  bool *is_int)
{
    const char *p = *pp, *end = d->end;
    bool neg = false, integral = true, overflow = false;
    uint64_t mag = 0, limit;

    *is_int = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        do {
            unsigned dig = (unsigned)(*p - '0');
            if (mag > (limit - dig) / 10)
                overflow = true;
            else
                mag = mag * 10 + dig;
            p++;
        } while (p < end && *p >= '0' && *p <= '9');
    } else {
        return fail_expected(d, p, "a digit");
    }
    if (p < end && *p == '.') {
        integral = false;
        p++;
        if (p == end || *p < '0' || *p > '9')
            return fail_expected(d, p, "a digit after the decimal point");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integral = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || *p < '0' || *p > '9')
            return fail_expected(d, p, "a digit in the exponent");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    *is_int = integral && !overflow;
    if (*is_int)
        *v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    *pp = p;
    return SL_OK;
}

static enum sl_status scan_literal(struct dec *d, const char **pp)
{
    const char *p = *pp;
    const char *lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
    size_t n = strlen(lit);

    if ((size_t)(d->end - p) < n || memcmp(p, lit, n) != 0)
        return fail_expected(d, p, "a JSON value");
    *pp = p + n;
    return SL_OK;
}

/* Skips the value at *pp after checking its syntax. Containers are
 * tracked in a 64-bit stack (bit set: object), so nesting deeper than
 * INGEST_MAX_DEPTH is an error instead of a deep C stack. */
static enum sl_status skip_value(struct dec *d, const char **pp)
{
    const char *p = *pp, *end = d->end;
    uint64_t is_obj = 0;
    unsigned depth = 0;
    bool want_key = false;
    enum sl_status st;
    struct span raw;
    bool esc;
    int64_t num;
    bool is_int;

    for (;;) {
        st = SL_OK;
        p = skip_ws(p, end);
        if (want_key) {
            if (p == end || *p != '"')
                return fail_expected(d, p, "a member name in double quotes");
            st = scan_string(d, &p, &raw, &esc);
            if (st != SL_OK)
                return st;
            p = skip_ws(p, end);
            if (p == end || *p != ':')
                return fail_expected(d, p, "':' after a member name");
            p++;
            want_key = false;
            continue;
        }
        if (p == end)
            return fail_expected(d, p, "a JSON value");
        switch (*p) {
        case '{':
        case '[':
            if (depth == INGEST_MAX_DEPTH)
                return sl_fail(d->err, SL_BAD_JSON,
                               "malformed JSON at byte %zu: values nested "
                               "deeper than %d levels", offset_of(d, p),
                               INGEST_MAX_DEPTH);
            is_obj = (is_obj << 1) | (*p == '{');
            depth++;
            p = skip_ws(p + 1, end);
            if (p < end && *p == ((is_obj & 1) ? '}' : ']')) {
                p++;
                is_obj >>= 1;
                depth--;
                break;
            }
            want_key = is_obj & 1;
            continue;
        case '"':
            st = scan_string(d, &p, &raw, &esc);
            break;
        case 't':
        case 'f':
        case 'n':
            st = scan_literal(d, &p);
            break;
        default:
            if (*p != '-' && (*p < '0' || *p > '9'))
                return fail_expected(d, p, "a JSON value");
            st = scan_number(d, &p, &num, &is_int);
            break;
        }
        if (st != SL_OK)
            return st;
        /* After a value: close containers until one wants another item. */
        for (;;) {
            char close;
            if (depth == 0) {
                *pp = p;
                return SL_OK;
            }
            close = (is_obj & 1) ? '}' : ']';
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p++;
                want_key = is_obj & 1;
                break;
            }
            if (p < end && *p == close) {
                p++;
                is_obj >>= 1;
                depth--;
                continue;
            }
            return fail_expected(d, p, close == '}' ? "',' or '}'"
                                                    : "',' or ']'");
        }
    }
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

/* Appends a zeroed event slot, refusing the one past the limit. hint is
 * the likely final count, used for the first allocation. */
static enum sl_status push_event(struct dec *d, size_t hint,
                                 struct ingest_event **out)
{
    if (d->max != 0 && d->n == d->max)
        return sl_fail(d->err, SL_TOO_LARGE,
                       "more than %zu events in one request; the limit is "
                       "%zu events, split the batch", d->max, d->max);
    if (d->n == d->cap) {
        size_t cap = d->cap != 0 ? d->cap * 2 : (hint > 16 ? hint : 16);
        struct ingest_event *ev;
        if (d->max != 0 && cap > d->max)
            cap = d->max;
        if (cap > SIZE_MAX / sizeof(*ev))
            return fail_nomem(d);
        ev = arena_alloc(d->a, cap * sizeof(*ev));
        if (ev == NULL)
            return fail_nomem(d);
        if (d->n != 0)
            memcpy(ev, d->ev, d->n * sizeof(*ev));
        d->ev = ev;
        d->cap = cap;
    }
    *out = &d->ev[d->n++];
    memset(*out, 0, sizeof(**out));
    return SL_OK;
}

static void set_invalid(struct ingest_event *e, const char *why)
{
    e->invalid = true;
    e->invalid_why = why;
    e->wrong_type = why == WHY_NOT_OBJECT || why == WHY_LINE_NOT_OBJECT ||
                    why == WHY_MSG_NOT_STRING || why == WHY_TS_NOT_INT;
    e->msg = NULL;
    e->len = 0;
    e->ts = 0;
}

/* Reads the object at *pp ('{'), keeping "message" and "timestamp" and
 * skipping every other member. A later duplicate replaces an earlier one. */
static enum sl_status scan_event_object(struct dec *d, const char **pp,
                                        struct ev_fields *f)
{
    const char *p = *pp + 1, *end = d->end;
    enum sl_status st;

    f->msg_state = FIELD_ABSENT;
    f->ts_state = FIELD_ABSENT;
    p = skip_ws(p, end);
    if (p < end && *p == '}') {
        *pp = p + 1;
        return SL_OK;
    }
    for (;;) {
        struct span key;
        if (p == end || *p != '"')
            return fail_expected(d, p, "a member name in double quotes");
        st = read_string(d, &p, &key);
        if (st != SL_OK)
            return st;
        p = skip_ws(p, end);
        if (p == end || *p != ':')
            return fail_expected(d, p, "':' after a member name");
        p = skip_ws(p + 1, end);
        if (p == end)
            return fail_expected(d, p, "a JSON value");
        if (span_is(&key, "message", 7) && *p == '"') {
            st = read_string(d, &p, &f->msg);
            f->msg_state = FIELD_OK;
        } else if (span_is(&key, "timestamp", 9) &&
                   (*p == '-' || (*p >= '0' && *p <= '9'))) {
            bool is_int;
            st = scan_number(d, &p, &f->ts, &is_int);
            if (st == SL_OK)
                f->ts_state = is_int ? FIELD_OK : FIELD_BAD;
        } else {
            if (span_is(&key, "message", 7))
                f->msg_state = FIELD_BAD;
            else if (span_is(&key, "timestamp", 9))
                f->ts_state = FIELD_BAD;
            st = skip_value(d, &p);
        }
        if (st != SL_OK)
            return st;
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}')
            break;
        return fail_expected(d, p, "',' or '}' in an event");
    }
    *pp = p + 1;
    return SL_OK;
}

/* Fills e from what its object said. have_now: a missing timestamp means
 * now_ms (NDJSON) instead of an invalid event (JSON). */
static void finish_event(struct ingest_event *e, const struct ev_fields *f,
                         bool have_now, int64_t now_ms)
{
    if (f->msg_state == FIELD_ABSENT)
        set_invalid(e, WHY_MSG_MISSING);
    else if (f->msg_state == FIELD_BAD)
        set_invalid(e, WHY_MSG_NOT_STRING);
    else if (f->msg.len == 0)
        set_invalid(e, WHY_MSG_EMPTY);
    else if (f->ts_state == FIELD_BAD)
        set_invalid(e, WHY_TS_NOT_INT);
    else if (f->ts_state == FIELD_ABSENT && !have_now)
        set_invalid(e, WHY_TS_MISSING);
    else {
        e->ts = f->ts_state == FIELD_OK ? f->ts : now_ms;
        e->msg = f->msg.p;
        e->len = (uint32_t)f->msg.len;
    }
}

/* Decodes the array at *pp ('[') into d->ev, replacing earlier events. */
static enum sl_status parse_events(struct dec *d, const char **pp)
{
    const char *p = *pp + 1, *end = d->end;
    /* ~64 body bytes an event; the flow-log events of the benchmark are
     * 170, so this rarely grows and never wastes more than 2x. */
    size_t hint = (size_t)(end - p) / 64 + 16;
    enum sl_status st;

    d->n = 0;
    p = skip_ws(p, end);
    if (p < end && *p == ']') {
        *pp = p + 1;
        return SL_OK;
    }
    for (;;) {
        struct ingest_event *e;
        struct ev_fields f;

        st = push_event(d, hint, &e);
        if (st != SL_OK)
            return st;
        if (p < end && *p == '{') {
            st = scan_event_object(d, &p, &f);
            if (st != SL_OK)
                return st;
            finish_event(e, &f, false, 0);
        } else {
            st = skip_value(d, &p);
            if (st != SL_OK)
                return st;
            set_invalid(e, WHY_NOT_OBJECT);
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == ']')
            break;
        return fail_expected(d, p, "',' or ']' after an event");
    }
    *pp = p + 1;
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* JSON bodies                                                         */
/* ------------------------------------------------------------------ */

/* Records a top-level string member; a repeated key replaces the value. */
static void put_member(struct ingest_batch *out, const struct span *key,
                       const struct span *val)
{
    struct ingest_member *m = NULL;

    for (size_t i = 0; i < out->n_members; i++) {
        if (out->members[i].key_len == key->len &&
            memcmp(out->members[i].key, key->p, key->len) == 0) {
            m = &out->members[i];
            break;
        }
    }
    if (m == NULL) {
        if (out->n_members == INGEST_MAX_MEMBERS)
            return;
        m = &out->members[out->n_members++];
        m->key = key->p;
        m->key_len = (uint32_t)key->len;
    }
    m->val = val->p;
    m->val_len = (uint32_t)val->len;
}

/* The object body at *pp: events_key's array, string members, the rest
 * skipped. */
static enum sl_status parse_object_body(struct dec *d, const char **pp,
                                        struct ingest_batch *out)
{
    const char *p = skip_ws(*pp + 1, d->end), *end = d->end;
    enum sl_status st;

    if (p < end && *p == '}') {
        *pp = p + 1;
        return SL_OK;
    }
    for (;;) {
        struct span key, val;
        if (p == end || *p != '"')
            return fail_expected(d, p, "a member name in double quotes");
        st = read_string(d, &p, &key);
        if (st != SL_OK)
            return st;
        p = skip_ws(p, end);
        if (p == end || *p != ':')
            return fail_expected(d, p, "':' after a member name");
        p = skip_ws(p + 1, end);
        if (d->events_key != NULL &&
            span_is(&key, d->events_key, d->events_key_len)) {
            if (p == end || *p != '[')
                return sl_fail(d->err, SL_BAD_JSON,
                               "malformed body at byte %zu: \"%s\" must be an "
                               "array of events", offset_of(d, p),
                               d->events_key);
            st = parse_events(d, &p);
            out->has_events_key = true;
        } else if (p < end && *p == '"') {
            st = read_string(d, &p, &val);
            if (st == SL_OK)
                put_member(out, &key, &val);
        } else {
            st = skip_value(d, &p);
        }
        if (st != SL_OK)
            return st;
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}')
            break;
        return fail_expected(d, p, "',' or '}'");
    }
    *pp = p + 1;
    return SL_OK;
}

static enum sl_status decode_json(struct dec *d, const char *p,
                                  bool allow_array, struct ingest_batch *out)
{
    const char *key = d->events_key != NULL ? d->events_key : "events";
    enum sl_status st;

    p = skip_ws(p, d->end);
    if (p == d->end)
        return sl_fail(d->err, SL_BAD_JSON,
                       "body is empty; expected a JSON object with \"%s\"%s",
                       key, allow_array ? " or an array of events" : "");
    if (*p == '{') {
        st = parse_object_body(d, &p, out);
    } else if (*p == '[' && allow_array) {
        st = parse_events(d, &p);
    } else if (*p == '[') {
        return sl_fail(d->err, SL_BAD_JSON,
                       "malformed body: expected a JSON object with a \"%s\" "
                       "array, got an array", key);
    } else {
        return fail_expected(d, p, allow_array
                                       ? "a JSON object or array of events"
                                       : "a JSON object");
    }
    if (st != SL_OK)
        return st;
    p = skip_ws(p, d->end);
    if (p != d->end)
        return fail_at(d, p, "unexpected data after the JSON value");
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* NDJSON and text bodies                                              */
/* ------------------------------------------------------------------ */

/* One NDJSON line [p, le), known to be UTF-8 and not blank. Syntax
 * errors inside the line make the event invalid, not the body: the line
 * is parsed with a scratch error record and a window ending at le. */
static enum sl_status ndjson_line(struct dec *d, const char *p,
                                  const char *le, struct ingest_event *e,
                                  int64_t now_ms)
{
    struct sl_err scratch = {0};
    struct sl_err *real_err = d->err;
    const char *real_end = d->end, *q = p;
    struct ev_fields f;
    enum sl_status st = SL_BAD_JSON;

    if (*q == '{') {
        d->err = &scratch;
        d->end = le;
        st = scan_event_object(d, &q, &f);
        d->err = real_err;
        d->end = real_end;
    }
    if (st == SL_OK && skip_ws(q, le) != le)
        st = SL_BAD_JSON;
    if (st == SL_BAD_JSON) {
        set_invalid(e, WHY_LINE_NOT_OBJECT);
        return SL_OK;
    }
    if (st != SL_OK)
        return sl_fail(d->err, st, "%s", scratch.msg);
    if (f.msg_state == FIELD_ABSENT) {
        /* Structured logs without "message": keep the object as text and
         * use its timestamp only when it is usable. */
        f.msg.p = p;
        f.msg.len = (size_t)(q - p);
        f.msg_state = FIELD_OK;
        if (f.ts_state == FIELD_BAD)
            f.ts_state = FIELD_ABSENT;
    }
    finish_event(e, &f, true, now_ms);
    return SL_OK;
}

/* NDJSON (ndjson) or text: one event a non-blank line. Lines end at '\n'
 * with an optional '\r' before it; blank means only spaces and tabs. */
static enum sl_status decode_lines(struct dec *d, const char *p, bool ndjson,
                                   int64_t now_ms)
{
    const char *end = d->end, *s;
    size_t lines = 1;
    enum sl_status st;

    for (s = p; s < end && (s = memchr(s, '\n', (size_t)(end - s))) != NULL;
         s++)
        lines++;
    /* Blank lines cost no event: size the first array as JSON does. */
    if (lines > (size_t)(end - p) / 64 + 16)
        lines = (size_t)(end - p) / 64 + 16;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        const char *next = nl != NULL ? nl + 1 : end;
        const char *bad = utf8_find_invalid(p, le), *q;
        struct ingest_event *e;

        if (bad != NULL)
            return fail_utf8(d, bad);
        if (le > p && le[-1] == '\r')
            le--;
        for (q = p; q < le && (*q == ' ' || *q == '\t'); q++)
            ;
        if (q == le) {
            p = next;
            continue;
        }
        st = push_event(d, lines, &e);
        if (st != SL_OK)
            return st;
        if ((size_t)(le - p) > UINT32_MAX)
            return sl_fail(d->err, SL_TOO_LARGE,
                           "line at byte %zu is longer than 4 GiB",
                           offset_of(d, p));
        if (ndjson) {
            st = ndjson_line(d, q, le, e, now_ms);
            if (st != SL_OK)
                return st;
        } else {
            e->ts = now_ms;
            e->msg = p;
            e->len = (uint32_t)(le - p);
        }
        p = next;
    }
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

/*
 * How the decoder works
 * ---------------------
 * A body is read once, front to back, by a recursive-descent reader whose
 * recursion is fixed by the shape we accept (body -> events array -> event
 * object); anything else is "a value to skip", walked iteratively with a
 * 64-bit stack of container kinds, so hostile nesting costs an error at
 * depth 64 instead of a C stack.
 *
 *   [ {"timestamp":1732650000000,"message":"2 1234... ACCEPT OK"} , ... ]
 *   ^ ^^         ^^             ^^         ^                     ^  ^
 *   | |key       |number        |key       |string: 16-byte scan |  next
 *   | event object (members in any order; others skipped)        |  event
 *   array: push_event() checks max_events before each element    close
 *
 * Strings are where the bytes are, so they get the fast path. find_special
 * loads 16 bytes (SSE2; 8 with a portable SWAR fallback) and stops only at
 * '"', '\\', a control byte or a byte >= 0x80. A plain message therefore
 * costs about len/16 loads and is returned as a pointer into the body (zero
 * copy). A byte >= 0x80 is checked as a UTF-8 sequence right there, so
 * invalid UTF-8 anywhere in a string fails the body with its offset. A
 * string with a backslash is scanned (and every escape validated, with
 * surrogate pairs joined) first, then decoded in a second pass into an
 * arena copy of its raw length, which is enough because no JSON escape
 * decodes to more bytes than it is written with:
 *
 *   raw   a \ n b \ u 0 0 e 9 \ u d 8 3 d \ u d e 0 0     (22 bytes)
 *   out   a 0a  b  c3 a9        f0 9f 98 80               (9 bytes)
 *
 * Errors come in two sizes. Whatever makes the body unreadable (syntax,
 * UTF-8, a lone surrogate, depth, trailing bytes) fails the whole decode
 * with SL_BAD_JSON and the byte offset. What makes one event unusable
 * (missing or mistyped message or timestamp, an empty message, an element
 * that is not an object) marks that event invalid with a static reason and
 * decoding goes on; the caller reports it by index. NDJSON parses each
 * line in a window ending at its newline with a scratch error record, so a
 * broken line is an invalid event and the next line starts clean.
 *
 * Memory: the event array (first sized from the body length, then doubled,
 * never past max_events) plus decoded copies of escaped strings, each no
 * longer than its raw form: at most about 1.5 x body length + 2 x the
 * final array.
 */
enum sl_status ingest_decode(enum ingest_format fmt, const char *body,
                             size_t len, const char *events_key,
                             bool allow_array, int64_t now_ms,
                             const struct ingest_limits *lim, struct arena *a,
                             struct ingest_batch *out, struct sl_err *err)
{
    struct dec d;
    const char *p;
    enum sl_status st;

    memset(out, 0, sizeof(*out));
    if (body == NULL || len == 0) {
        body = "";              /* no arithmetic on a NULL body */
        len = 0;
    }
    d = (struct dec){
        .base = body,
        .end = body + len,
        .events_key = events_key,
        .events_key_len = events_key != NULL ? strlen(events_key) : 0,
        .a = a,
        .err = err,
        .max = lim != NULL ? lim->max_events : 0,
    };
    p = body;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;                 /* a UTF-8 byte-order mark says nothing */
    switch (fmt) {
    case INGEST_JSON:
        st = decode_json(&d, p, allow_array, out);
        break;
    case INGEST_NDJSON:
        st = decode_lines(&d, p, true, now_ms);
        break;
    case INGEST_TEXT:
        st = decode_lines(&d, p, false, now_ms);
        break;
    default:
        st = sl_fail(err, SL_INTERNAL, "unknown ingest format %d", (int)fmt);
        break;
    }
    if (st != SL_OK) {
        memset(out, 0, sizeof(*out));
        return st;
    }
    out->ev = d.ev;
    out->n = d.n;
    for (size_t i = 0; i < d.n; i++)
        out->message_bytes += d.ev[i].len;   /* invalid events have len 0 */
    return SL_OK;
}

const struct ingest_member *ingest_member_get(const struct ingest_batch *b,
                                              const char *key)
{
    size_t n = strlen(key);

    for (size_t i = 0; i < b->n_members; i++) {
        const struct ingest_member *m = &b->members[i];
        if (m->key_len == n && memcmp(m->key, key, n) == 0)
            return m;
    }
    return NULL;
}
