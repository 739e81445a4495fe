/* api/cwl_ids.c: the identifiers of the CloudWatch protocol: ARNs built
 * from the configured account and region (reference 1.6), sequence tokens
 * and event ids in AWS's 56-digit shape, and the access key id of a SigV4
 * Authorization header (reference 1.4). */
#include "api/cwl_int.h"

#include <stdio.h>
#include <string.h>

/* snprintf into the arena; NULL when out of memory. */
static char *arena_join(struct arena *a, const char *x, const char *y,
                        const char *z, const char *w)
{
    size_t n = strlen(x) + strlen(y) + strlen(z) + strlen(w) + 1;
    char *s = arena_alloc(a, n);
    if (s != NULL)
        snprintf(s, n, "%s%s%s%s", x, y, z, w);
    return s;
}

/* "arn:aws:logs:<region>:<account>:log-group:" */
static char *group_arn_prefix(struct cwl_call *c)
{
    return arena_join(c->arena, "arn:aws:logs:", c->api->cfg.region, ":",
                      c->api->cfg.account_id);
}

char *cwl_group_arn(struct cwl_call *c, const char *group, bool star)
{
    char *p = group_arn_prefix(c);
    return p ? arena_join(c->arena, p, ":log-group:", group, star ? ":*" : "")
             : NULL;
}

char *cwl_stream_arn(struct cwl_call *c, const char *group,
                     const char *stream)
{
    char *g = cwl_group_arn(c, group, false);
    return g ? arena_join(c->arena, g, ":log-stream:", stream, "") : NULL;
}

/* Splits s at the next ':' into [*p, colon); false when there is none. */
static bool next_field(const char **s, const char **p, size_t *n)
{
    const char *colon = strchr(*s, ':');
    if (colon == NULL)
        return false;
    *p = *s;
    *n = (size_t)(colon - *s);
    *s = colon + 1;
    return true;
}

static bool field_is(const char *p, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(p, want, n) == 0;
}

enum sl_status cwl_parse_group_arn(struct cwl_call *c, const char *key,
                                   const char *arn, const char **group)
{
    const char *s = arn, *f[6];
    size_t n[6], len;
    char *name;

    /* arn : partition : logs : region : account : log-group : name [:*] */
    for (int i = 0; i < 6; i++)
        if (!next_field(&s, &f[i], &n[i]))
            goto bad;
    if (!field_is(f[0], n[0], "arn") || n[1] == 0 ||
        !field_is(f[2], n[2], "logs") || !field_is(f[5], n[5], "log-group"))
        goto bad;
    len = strlen(s);
    if (len >= 2 && strcmp(s + len - 2, ":*") == 0)
        len -= 2;
    if (len == 0 || memchr(s, ':', len) != NULL)
        goto bad;
    if (!field_is(f[3], n[3], c->api->cfg.region) ||
        !field_is(f[4], n[4], c->api->cfg.account_id))
        return sl_fail(&c->err, SL_NOT_FOUND,
                       "The specified log group does not exist. (%s names "
                       "region '%.*s' and account '%.*s'; this server is "
                       "%s, %s)", key, (int)n[3], f[3], (int)n[4], f[4],
                       c->api->cfg.region, c->api->cfg.account_id);
    name = arena_strndup(c->arena, s, len);
    if (name == NULL)
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    *group = name;
    return name_check_group(name, &c->err);
bad:
    return sl_fail(&c->err, SL_INVALID,
                   "%s '%.100s' is not a log group ARN; expected "
                   "arn:aws:logs:%s:%s:log-group:<name>", key, arn,
                   c->api->cfg.region, c->api->cfg.account_id);
}

/* Digits of v (>= 0 assumed; negative counts as 0), zero-padded to w. */
static void put_digits(char *out, int w, int64_t v)
{
    uint64_t u = v < 0 ? 0 : (uint64_t)v;
    for (int i = w - 1; i >= 0; i--) {
        out[i] = (char)('0' + u % 10);
        u /= 10;
    }
}

void cwl_seq_token(char out[57], int64_t stream_id, int64_t ms)
{
    out[0] = '4';
    out[1] = '9';
    put_digits(out + 2, 18, stream_id);
    put_digits(out + 20, 36, ms);
    out[56] = '\0';
}

void cwl_event_id(char out[57], int64_t ts, int64_t seq)
{
    put_digits(out, 20, ts);
    put_digits(out + 20, 36, seq);
    out[56] = '\0';
}

const char *cwl_sigv4_access_key(struct arena *a, const char *auth)
{
    static const char scheme[] = "AWS4-HMAC-SHA256";
    const char *p, *end;

    if (auth == NULL || strncmp(auth, scheme, sizeof(scheme) - 1) != 0)
        return NULL;
    p = strstr(auth + sizeof(scheme) - 1, "Credential=");
    if (p == NULL)
        return NULL;
    p += strlen("Credential=");
    end = strchr(p, '/');
    if (end == NULL || end == p || end - p > 128)
        return NULL;
    return arena_strndup(a, p, (size_t)(end - p));
}
