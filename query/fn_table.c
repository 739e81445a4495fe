/* query/fn_table.c: the function table generated from FN_LIST, and the
 * case-insensitive lookup the checker uses; see fn_table.h. */
#include "query/fn_table.h"

#include <string.h>

static const struct fn_def fn_defs[FN_NUM_IDS] = {
#define FN_ROW(id_, name_, min_, max_, args_, result_, flags_) \
    {id_, name_, min_, max_, args_, result_, flags_},
    FN_LIST(FN_ROW)
#undef FN_ROW
};

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

const struct fn_def *fn_lookup(const char *name, size_t len)
{
    /* About 90 entries, looked up once per call site at check time: a
     * linear scan is simpler than a hash and fast enough. */
    for (size_t i = 0; i < FN_NUM_IDS; i++) {
        const char *n = fn_defs[i].name;
        size_t j = 0;
        while (j < len && n[j] != '\0' &&
               lower((unsigned char)name[j]) == lower((unsigned char)n[j]))
            j++;
        if (j == len && n[j] == '\0')
            return &fn_defs[i];
    }
    return NULL;
}

const struct fn_def *fn_get(enum fn_id id)
{
    return (unsigned)id < FN_NUM_IDS ? &fn_defs[id] : NULL;
}

char fn_arg_kind(const struct fn_def *f, size_t i)
{
    size_t n = strlen(f->args);
    return n == 0 ? 'v' : f->args[i < n ? i : n - 1];
}
