/* query/fn_table.h: the one list of Insights functions and aggregations:
 * name, arity, argument kinds, result type and whether it aggregates. The
 * checker validates calls against it; the executor adds implementations by
 * indexing its own table with enum fn_id. Read-only data, any thread. */
#ifndef SLUICE_QUERY_FN_TABLE_H
#define SLUICE_QUERY_FN_TABLE_H

#include <stdbool.h>
#include <stddef.h>

/* Argument kinds, one letter a position in fn_def.args (the last letter
 * repeats for variadic functions):
 *   v  any value expression (field, literal, call, arithmetic, ...)
 *   p  a time period literal such as 5m
 *   n  a number literal
 *   r  a /regex/ literal or a string holding a regex
 *   *  a value, or '*' meaning "every row" (count(*)) */
#define FN_MANY 255  /* max_args of a variadic function */

/* Result types, for checks and for the executor's output formatting. */
enum fn_type {
    FN_T_ANY,   /* whatever the argument was (coalesce, min, if, ...) */
    FN_T_NUM,
    FN_T_STR,
    FN_T_BOOL,  /* 1/0 where AWS documents "1 if ..." as well */
    FN_T_TIME,  /* a timestamp, printed YYYY-MM-DD HH:MM:SS.mmm */
    FN_T_JSON   /* a MAP or LIST (jsonParse) */
};

/* Flags. */
#define FN_AGG   1u  /* an aggregation: only inside stats */
#define FN_TS    2u  /* reads @timestamp without naming it (bin, earliest) */
#define FN_LATER 4u  /* a 2025-26 addition; the core set has no flag */

/* X(id, name, min, max, args, result, flags). Names are matched ignoring
 * ASCII case, as the Insights console does. */
#define FN_LIST(X)                                                        \
    /* numeric */                                                          \
    X(FN_ABS,            "abs",             1, 1, "v",   FN_T_NUM, 0)      \
    X(FN_CEIL,           "ceil",            1, 1, "v",   FN_T_NUM, 0)      \
    X(FN_FLOOR,          "floor",           1, 1, "v",   FN_T_NUM, 0)      \
    X(FN_GREATEST,       "greatest",        1, FN_MANY, "v", FN_T_ANY, 0)  \
    X(FN_LEAST,          "least",           1, FN_MANY, "v", FN_T_ANY, 0)  \
    X(FN_LOG,            "log",             1, 1, "v",   FN_T_NUM, 0)      \
    X(FN_SQRT,           "sqrt",            1, 1, "v",   FN_T_NUM, 0)      \
    /* general */                                                          \
    X(FN_ISPRESENT,      "ispresent",       1, 1, "v",   FN_T_BOOL, 0)     \
    X(FN_COALESCE,       "coalesce",        1, FN_MANY, "v", FN_T_ANY, 0)  \
    /* string */                                                           \
    X(FN_ISEMPTY,        "isempty",         1, 1, "v",   FN_T_BOOL, 0)     \
    X(FN_ISBLANK,        "isblank",         1, 1, "v",   FN_T_BOOL, 0)     \
    X(FN_CONCAT,         "concat",          1, FN_MANY, "v", FN_T_STR, 0)  \
    X(FN_LTRIM,          "ltrim",           1, 2, "v",   FN_T_STR, 0)      \
    X(FN_RTRIM,          "rtrim",           1, 2, "v",   FN_T_STR, 0)      \
    X(FN_TRIM,           "trim",            1, 2, "v",   FN_T_STR, 0)      \
    X(FN_STRLEN,         "strlen",          1, 1, "v",   FN_T_NUM, 0)      \
    X(FN_TOUPPER,        "toupper",         1, 1, "v",   FN_T_STR, 0)      \
    X(FN_TOLOWER,        "tolower",         1, 1, "v",   FN_T_STR, 0)      \
    X(FN_SUBSTR,         "substr",          2, 3, "v",   FN_T_STR, 0)      \
    X(FN_REPLACE,        "replace",         3, 3, "v",   FN_T_STR, 0)      \
    X(FN_STRCONTAINS,    "strcontains",     2, 2, "v",   FN_T_BOOL, 0)     \
    /* datetime */                                                         \
    X(FN_BIN,            "bin",             1, 1, "p",   FN_T_TIME, FN_TS) \
    X(FN_DATEFLOOR,      "datefloor",       2, 2, "vp",  FN_T_TIME, 0)     \
    X(FN_DATECEIL,       "dateceil",        2, 2, "vp",  FN_T_TIME, 0)     \
    X(FN_FROMMILLIS,     "fromMillis",      1, 1, "v",   FN_T_TIME, 0)     \
    X(FN_TOMILLIS,       "toMillis",        1, 1, "v",   FN_T_NUM, 0)      \
    /* IP */                                                               \
    X(FN_ISVALIDIP,      "isValidIp",       1, 1, "v",   FN_T_BOOL, 0)     \
    X(FN_ISVALIDIPV4,    "isValidIpV4",     1, 1, "v",   FN_T_BOOL, 0)     \
    X(FN_ISVALIDIPV6,    "isValidIpV6",     1, 1, "v",   FN_T_BOOL, 0)     \
    X(FN_ISIPINSUBNET,   "isIpInSubnet",    2, 2, "v",   FN_T_BOOL, 0)     \
    X(FN_ISIPV4INSUBNET, "isIpv4InSubnet",  2, 2, "v",   FN_T_BOOL, 0)     \
    X(FN_ISIPV6INSUBNET, "isIpv6InSubnet",  2, 2, "v",   FN_T_BOOL, 0)     \
    /* JSON */                                                             \
    X(FN_JSONPARSE,      "jsonParse",       1, 1, "v",   FN_T_JSON, 0)     \
    X(FN_JSONSTRINGIFY,  "jsonStringify",   1, 1, "v",   FN_T_STR, 0)      \
    /* aggregations (stats only) */                                        \
    X(FN_AVG,            "avg",             1, 1, "v",   FN_T_NUM, FN_AGG) \
    X(FN_COUNT,          "count",           0, 1, "*",   FN_T_NUM, FN_AGG) \
    X(FN_COUNT_DISTINCT, "count_distinct",  1, 1, "v",   FN_T_NUM, FN_AGG) \
    X(FN_MAX,            "max",             1, 1, "v",   FN_T_ANY, FN_AGG) \
    X(FN_MIN,            "min",             1, 1, "v",   FN_T_ANY, FN_AGG) \
    X(FN_PCT,            "pct",             2, 2, "vn",  FN_T_NUM, FN_AGG) \
    X(FN_STDDEV,         "stddev",          1, 1, "v",   FN_T_NUM, FN_AGG) \
    X(FN_SUM,            "sum",             1, 1, "v",   FN_T_NUM, FN_AGG) \
    X(FN_EARLIEST,       "earliest",        1, 1, "v",   FN_T_ANY, FN_AGG | FN_TS) \
    X(FN_LATEST,         "latest",          1, 1, "v",   FN_T_ANY, FN_AGG | FN_TS) \
    X(FN_SORTSFIRST,     "sortsFirst",      1, 1, "v",   FN_T_ANY, FN_AGG) \
    X(FN_SORTSLAST,      "sortsLast",       1, 1, "v",   FN_T_ANY, FN_AGG) \
    /* 2025-26 additions */                                                \
    X(FN_ROUND,          "round",           1, 2, "v",   FN_T_NUM, FN_LATER) \
    X(FN_HAVERSINE,      "haversine",       4, 4, "v",   FN_T_NUM, FN_LATER) \
    X(FN_TONUMBER,       "toNumber",        1, 1, "v",   FN_T_NUM, FN_LATER) \
    X(FN_TOINT,          "toInt",           1, 1, "v",   FN_T_NUM, FN_LATER) \
    X(FN_TOLONG,         "toLong",          1, 1, "v",   FN_T_NUM, FN_LATER) \
    X(FN_TODOUBLE,       "toDouble",        1, 1, "v",   FN_T_NUM, FN_LATER) \
    X(FN_CASE,           "case",            2, 21, "v",  FN_T_ANY, FN_LATER) \
    X(FN_IF,             "if",              3, 3, "v",   FN_T_ANY, FN_LATER) \
    X(FN_ISNUMERIC,      "isNumeric",       1, 1, "v",   FN_T_BOOL, FN_LATER) \
    X(FN_MESSAGESIZE,    "messageSize",     1, 1, "v",   FN_T_NUM, FN_LATER) \
    X(FN_QUERYSTARTTIME, "queryStartTime",  0, 0, "v",   FN_T_TIME, FN_LATER) \
    X(FN_QUERYENDTIME,   "queryEndTime",    0, 0, "v",   FN_T_TIME, FN_LATER) \
    X(FN_QUERYTIMERANGE, "queryTimeRange",  0, 0, "v",   FN_T_NUM, FN_LATER) \
    X(FN_REGEXREPLACE,   "regexReplace",    3, 3, "vrv", FN_T_STR, FN_LATER) \
    X(FN_REGEX_REPLACE,  "regex_replace",   3, 3, "vrv", FN_T_STR, FN_LATER) \
    X(FN_STARTSWITH,     "startsWith",      2, 2, "v",   FN_T_BOOL, FN_LATER) \
    X(FN_ENDSWITH,       "endsWith",        2, 2, "v",   FN_T_BOOL, FN_LATER) \
    X(FN_SPLIT,          "split",           2, 2, "v",   FN_T_JSON, FN_LATER) \
    X(FN_URLENCODE,      "urlencode",       1, 1, "v",   FN_T_STR, FN_LATER) \
    X(FN_URLDECODE,      "urldecode",       1, 1, "v",   FN_T_STR, FN_LATER) \
    X(FN_BASE64ENCODE,   "base64encode",    1, 1, "v",   FN_T_STR, FN_LATER) \
    X(FN_BASE64DECODE,   "base64decode",    1, 1, "v",   FN_T_STR, FN_LATER) \
    X(FN_HEXTOASCII,     "hexToAscii",      1, 1, "v",   FN_T_STR, FN_LATER) \
    X(FN_HEXTODEC,       "hexToDec",        1, 1, "v",   FN_T_NUM, FN_LATER) \
    X(FN_DECTOHEX,       "decToHex",        1, 1, "v",   FN_T_STR, FN_LATER) \
    X(FN_NOW,            "now",             0, 0, "v",   FN_T_NUM, FN_LATER) \
    X(FN_PARSEDATE,      "parseDate",       2, 3, "v",   FN_T_TIME, FN_LATER) \
    X(FN_FORMATDATE,     "formatDate",      2, 3, "v",   FN_T_STR, FN_LATER) \
    X(FN_STRFTIME,       "strftime",        2, 3, "v",   FN_T_STR, FN_LATER) \
    X(FN_IPV4TONUMBER,   "ipv4ToNumber",    1, 1, "v",   FN_T_NUM, FN_LATER) \
    X(FN_ISPRIVATEIP,    "isPrivateIP",     1, 1, "v",   FN_T_BOOL, FN_LATER) \
    X(FN_ISPUBLICIP,     "isPublicIP",      1, 1, "v",   FN_T_BOOL, FN_LATER) \
    X(FN_ISRESERVEDIP,   "isReservedIP",    1, 1, "v",   FN_T_BOOL, FN_LATER) \
    X(FN_JSONARRAYSIZE,  "jsonArraySize",   1, 1, "v",   FN_T_NUM, FN_LATER) \
    X(FN_JSONARRAYCONTAINS, "jsonArrayContains", 2, 2, "v", FN_T_BOOL, FN_LATER) \
    X(FN_UNMASK,         "unmask",          1, 1, "v",   FN_T_ANY, FN_LATER)

enum fn_id {
#define FN_ENUM(id, name, min, max, args, result, flags) id,
    FN_LIST(FN_ENUM)
#undef FN_ENUM
    FN_NUM_IDS
};

struct fn_def {
    enum fn_id id;
    const char *name;        /* canonical spelling, e.g. "isIpv4InSubnet" */
    unsigned char min_args;
    unsigned char max_args;  /* FN_MANY: no upper bound */
    const char *args;        /* kind letters, see above */
    enum fn_type result;
    unsigned flags;          /* FN_AGG, FN_TS, FN_LATER */
};

/* The entry named name[0..len) (any ASCII case), or NULL. */
const struct fn_def *fn_lookup(const char *name, size_t len);
/* The entry of id; id < FN_NUM_IDS. */
const struct fn_def *fn_get(enum fn_id id);
/* Kind letter of argument i (0-based) of f. */
char fn_arg_kind(const struct fn_def *f, size_t i);
static inline bool fn_is_agg(const struct fn_def *f)
{
    return (f->flags & FN_AGG) != 0;
}

#endif
