/* api/pages.c: the nextToken of group and stream listings, shared by the
 * native REST lists and DescribeLogGroups/DescribeLogStreams. A token is
 * the key of the last entry shown (name; for streams also the order asked
 * for and the last event time), so a listing continues after it even when
 * entries come and go in between. */
#include "api/api_int.h"

#include "storage/token.h"

#include <string.h>

bool page_groups_after(const char *token, struct cat_cursor *after)
{
    struct tok t;
    if (!tok_decode(token, strlen(token), &t) || t.kind != TOK_KIND_GROUPS ||
        t.nvals != 0)
        return false;
    after->set = true;
    memcpy(after->name, t.str, t.str_len + 1);
    return true;
}

void page_set_token(json_t *o, const struct tok *t)
{
    char buf[TOK_MAX_LEN + 1];
    if (tok_encode(t, buf, sizeof(buf)) > 0)
        json_object_set_new(o, "nextToken", json_string(buf));
}

void page_groups_next(json_t *o, const struct cat_group *last)
{
    struct tok next = {.kind = TOK_KIND_GROUPS};
    next.str_len = strlen(last->name);
    memcpy(next.str, last->name, next.str_len + 1);
    page_set_token(o, &next);
}

bool page_streams_after(const char *token, enum cat_stream_order order,
                        bool desc, struct cat_cursor *after)
{
    struct tok t;
    if (!tok_decode(token, strlen(token), &t) || t.kind != TOK_KIND_STREAMS ||
        t.nvals != 3 || t.vals[0] != (int64_t)order ||
        t.vals[1] != (int64_t)desc)
        return false;
    after->set = true;
    after->last_event_ms = t.vals[2];
    memcpy(after->name, t.str, t.str_len + 1);
    return true;
}

void page_streams_next(json_t *o, const struct cat_stream *last,
                       enum cat_stream_order order, bool desc)
{
    struct tok next = {.kind = TOK_KIND_STREAMS, .nvals = 3};
    next.vals[0] = order;
    next.vals[1] = desc;
    next.vals[2] = last->last_event_ms == CAT_NONE ? 0 : last->last_event_ms;
    next.str_len = strlen(last->name);
    memcpy(next.str, last->name, next.str_len + 1);
    page_set_token(o, &next);
}
