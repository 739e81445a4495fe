/* storage/store.c: opening the data directory, the read pool, and the
 * background threads (checkpoints, compaction, purge); see store.h. */
#include "storage/store.h"

#include "common/alloc.h"
#include "common/clock.h"
#include "common/log.h"
#include "storage/catalog.h"
#include "storage/schema.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_CHECKPOINT_MS 1000
#define STORE_PURGE_BATCH   256
#define STORE_NAME_CACHE    1024  /* slots of the name -> id cache... */
/* ...in sets of this many: direct-mapped, two of 32 streams shared a slot
 * about every third run, and each request to either missed and read the
 * catalogue (a sixth of the request threads' time with 1-event batches). */
#define STORE_NAME_WAYS     4
#define STORE_IDLE_SCANS    4     /* scan connections kept between queries */

/* One cached name lookup; valid while gen equals the store's generation. */
struct name_entry {
    uint64_t gen;
    uint64_t hash;
    int64_t group_id, stream_id;
    int retention_days;
    char *key;                   /* owned: group NUL stream NUL */
    size_t key_len;
};

struct store {
    struct store_opts opts;
    int lock_fd;                 /* flock'ed LOCK file: one server per dir */
    struct wr *wr;
    /* read pool */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    sqlite3 **pool;              /* all read connections */
    bool *busy;
    int n_pool;
    /* background threads */
    pthread_mutex_t bg_mu;
    pthread_cond_t bg_cv;
    bool stopping;
    pthread_t checkpointer, maintainer;
    bool have_checkpointer, have_maintainer;
    sqlite3 *ckpt_db;            /* checkpoint thread's own connection */
    sqlite3 *maint_db;           /* maintenance thread's read connection */
    sqlite3 *idle_scan[STORE_IDLE_SCANS]; /* scan connections kept for reuse
                                    (guarded by pool_mu) */
    int n_idle_scan;
    pthread_mutex_t compact_mu;  /* one compaction at a time */
    atomic_int compact_callers;  /* on-demand compactions waiting or running */
    /* name cache */
    pthread_mutex_t names_mu;
    struct name_entry *names;    /* STORE_NAME_CACHE slots, STORE_NAME_WAYS a set */
    _Atomic uint64_t gen;        /* bumped by every catalogue change */
};

/* ---- read pool ------------------------------------------------------- */

sqlite3 *store_reader(struct store *s)
{
    sqlite3 *db = NULL;
    pthread_mutex_lock(&s->pool_mu);
    while (db == NULL) {
        for (int i = 0; i < s->n_pool; i++) {
            if (!s->busy[i]) {
                s->busy[i] = true;
                db = s->pool[i];
                break;
            }
        }
        if (db == NULL)
            pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    }
    pthread_mutex_unlock(&s->pool_mu);
    return db;
}

void store_reader_release(struct store *s, sqlite3 *db)
{
    pthread_mutex_lock(&s->pool_mu);
    for (int i = 0; i < s->n_pool; i++) {
        if (s->pool[i] == db)
            s->busy[i] = false;
    }
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

/* Scan connections map the database file (one pread a 4 KiB page was a
 * tenth of a term query's time) and are kept between queries, so the
 * mapping stays warm instead of faulting every page in again. */
sqlite3 *store_conn_open(struct store *s, struct sl_err *err)
{
    char path[4096];
    sqlite3 *db = NULL;

    pthread_mutex_lock(&s->pool_mu);
    if (s->n_idle_scan > 0)
        db = s->idle_scan[--s->n_idle_scan];
    pthread_mutex_unlock(&s->pool_mu);
    if (db != NULL)
        return db;
    snprintf(path, sizeof(path), "%s/sluice.db", s->opts.dir);
    db = db_open(path, false, s->opts.sync, err);
    if (db != NULL && db_exec(db, "PRAGMA mmap_size=68719476736", err) != SL_OK) {
        db_close(db);
        return NULL;
    }
    return db;
}

void store_conn_close(struct store *s, sqlite3 *db)
{
    pthread_mutex_lock(&s->pool_mu);
    if (s->n_idle_scan < STORE_IDLE_SCANS && sqlite3_get_autocommit(db)) {
        s->idle_scan[s->n_idle_scan++] = db;
        db = NULL;
    }
    pthread_mutex_unlock(&s->pool_mu);
    db_close(db);
}

struct wr *store_writer(struct store *s)
{
    return s->wr;
}

/* ---- background threads --------------------------------------------- */

/* Sleeps up to ms or until stop; returns false when stopping. */
static bool bg_sleep(struct store *s, int ms)
{
    struct timespec ts;
    bool running;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->bg_mu);
    if (!s->stopping)
        pthread_cond_timedwait(&s->bg_cv, &s->bg_mu, &ts);
    running = !s->stopping;
    pthread_mutex_unlock(&s->bg_mu);
    return running;
}

static void *checkpoint_main(void *arg)
{
    struct store *s = arg;

    pthread_setname_np(pthread_self(), "sl-checkpoint");
    while (bg_sleep(s, STORE_CHECKPOINT_MS)) {
        int log = 0, done = 0;
        int rc = sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL,
                                           SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            sl_warn("checkpoint failed: %s", sqlite3_errmsg(s->ckpt_db));
    }
    return NULL;
}

static enum sl_status purge_apply(sqlite3 *db, void *arg, struct sl_err *err)
{
    return cat_purge_step(db, STORE_PURGE_BATCH, arg, err);
}

/* compact_opts.nap of background passes: a pass that naps for ingest
 * stops early when compaction on demand waits for it. */
static bool compact_nap(void *ctx, int ms)
{
    struct store *s = ctx;
    return atomic_load(&s->compact_callers) == 0 && bg_sleep(s, ms);
}

static void *maintain_main(void *arg)
{
    struct store *s = arg;
    int period = s->opts.compact_interval_ms > 0 ? s->opts.compact_interval_ms : 5000;
    int wait = period;

    pthread_setname_np(pthread_self(), "sl-maintain");
    while (bg_sleep(s, wait)) {
        struct sl_err err = {0};
        int purged;
        do {
            purged = 0;
            if (wr_run(s->wr, purge_apply, &purged, &err) != SL_OK) {
                sl_warn("purge of deleted streams failed: %s", err.msg);
                break;
            }
        } while (purged > 0 && bg_sleep(s, 0));
        if (s->opts.compact_interval_ms > 0) {
            struct compact_stats cs = {0};
            sl_err_clear(&err);
            pthread_mutex_lock(&s->compact_mu);
            struct compact_opts co = {.level = s->opts.compact_level,
                                      .thorough = false,
                                      .max_merges = 64,
                                      .nap = compact_nap,
                                      .nap_ctx = s};
            if (compact_pass(s->maint_db, s->wr, &co, &cs, &err) != SL_OK)
                sl_warn("compaction failed: %s", err.msg);
            pthread_mutex_unlock(&s->compact_mu);
            if (cs.merges > 0) {
                sl_debug("compacted %lld segments into %lld",
                         (long long)cs.segments_in, (long long)cs.segments_out);
                /* A pass frees megabytes in blocks malloc keeps for
                 * later; hand them back so ingest beside it stays small. */
                malloc_trim(0);
            }
            /* Work left over: come back sooner, but leave ingest most of
             * the machine. */
            wait = cs.merges > 0 ? period / 10 : period;
        }
    }
    return NULL;
}

/* ---- open / close ---------------------------------------------------- */

static enum sl_status prepare_dir(struct store *s, struct sl_err *err)
{
    char path[4096];
    const char *dir = s->opts.dir;

    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return sl_fail(err, SL_IO, "cannot create data directory %s: %s", dir,
                       strerror(errno));
    snprintf(path, sizeof(path), "%s/LOCK", dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0)
        return sl_fail(err, SL_IO, "data directory %s is not writable: %s", dir,
                       strerror(errno));
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return sl_fail(err, SL_IO,
                       "data directory %s is in use by another sluice process",
                       dir);
    return SL_OK;
}

struct store *store_open(const struct store_opts *o, struct sl_err *err)
{
    struct store *s = sl_calloc(1, sizeof(*s));
    char path[4096];
    sqlite3 *wdb = NULL;

    if (s == NULL) {
        sl_fail(err, SL_NOMEM, "out of memory");
        return NULL;
    }
    s->opts = *o;
    s->lock_fd = -1;
    if (s->opts.read_conns <= 0)
        s->opts.read_conns = 8;
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);
    pthread_mutex_init(&s->bg_mu, NULL);
    pthread_cond_init(&s->bg_cv, NULL);
    pthread_mutex_init(&s->compact_mu, NULL);
    pthread_mutex_init(&s->names_mu, NULL);
    atomic_init(&s->gen, 1);
    s->names = sl_calloc(STORE_NAME_CACHE, sizeof(*s->names));
    if (s->names == NULL) {
        sl_fail(err, SL_NOMEM, "out of memory");
        goto fail;
    }
    if (prepare_dir(s, err) != SL_OK)
        goto fail;
    snprintf(path, sizeof(path), "%s/sluice.db", o->dir);
    /* The writer syncs the WAL itself (off its commit path) when sync is
     * full; its connection never waits on a sync. */
    wdb = db_open(path, true, DB_SYNC_NORMAL, err);
    if (wdb == NULL)
        goto fail;
    if (schema_migrate(wdb, err) != SL_OK) {
        db_close(wdb);
        goto fail;
    }
    s->wr = wr_create(wdb, o->sync == DB_SYNC_FULL, err);
    if (s->wr == NULL) {
        db_close(wdb);
        goto fail;
    }
    s->pool = sl_calloc((size_t)s->opts.read_conns, sizeof(*s->pool));
    s->busy = sl_calloc((size_t)s->opts.read_conns, sizeof(*s->busy));
    if (s->pool == NULL || s->busy == NULL) {
        sl_fail(err, SL_NOMEM, "out of memory");
        goto fail;
    }
    for (; s->n_pool < s->opts.read_conns; s->n_pool++) {
        s->pool[s->n_pool] = db_open(path, false, o->sync, err);
        if (s->pool[s->n_pool] == NULL)
            goto fail;
    }
    s->ckpt_db = db_open(path, false, o->sync, err);
    s->maint_db = s->ckpt_db ? db_open(path, false, o->sync, err) : NULL;
    if (s->maint_db == NULL)
        goto fail;
    s->have_checkpointer =
        pthread_create(&s->checkpointer, NULL, checkpoint_main, s) == 0;
    s->have_maintainer =
        pthread_create(&s->maintainer, NULL, maintain_main, s) == 0;
    if (!s->have_checkpointer || !s->have_maintainer) {
        sl_fail(err, SL_INTERNAL, "cannot start background threads");
        goto fail;
    }
    return s;
fail:
    store_close(s);
    return NULL;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->bg_mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->bg_cv);
    pthread_mutex_unlock(&s->bg_mu);
    if (s->have_maintainer)
        pthread_join(s->maintainer, NULL);
    if (s->have_checkpointer)
        pthread_join(s->checkpointer, NULL);
    wr_destroy(s->wr);
    for (int i = 0; i < s->n_pool; i++)
        db_close(s->pool[i]);
    for (int i = 0; i < s->n_idle_scan; i++)
        db_close(s->idle_scan[i]);
    if (s->ckpt_db != NULL &&
        sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                  NULL, NULL) != SQLITE_OK)
        sl_warn("final checkpoint: %s", sqlite3_errmsg(s->ckpt_db));
    db_close(s->maint_db);
    db_close(s->ckpt_db);
    sl_free(s->pool);
    sl_free(s->busy);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    pthread_mutex_destroy(&s->bg_mu);
    pthread_cond_destroy(&s->bg_cv);
    pthread_mutex_destroy(&s->compact_mu);
    pthread_mutex_destroy(&s->names_mu);
    for (int i = 0; s->names != NULL && i < STORE_NAME_CACHE; i++)
        sl_free(s->names[i].key);
    sl_free(s->names);
    sl_free(s);
}

/* ---- catalogue changes through the writer ----------------------------- */

/* Runs a catalogue change and invalidates the name cache. */
static enum sl_status cat_change(struct store *s, wr_apply_fn fn, void *arg,
                                 struct sl_err *err)
{
    enum sl_status st = wr_run(s->wr, fn, arg, err);
    atomic_fetch_add(&s->gen, 1);
    return st;
}

struct cat_args {
    const char *group;
    const char *stream;
    const char *tags;
    const struct cat_group_settings *set;
    int days;
    int64_t now;
    int64_t group_id, stream_id;
};

static enum sl_status do_group_create(sqlite3 *db, void *arg, struct sl_err *err)
{
    struct cat_args *a = arg;
    enum sl_status st = cat_group_create(db, a->group, a->days, a->tags,
                                         a->now, err);
    if (st == SL_OK && a->set != NULL)
        st = cat_group_set_settings(db, a->group, a->set, err);
    return st;
}

static enum sl_status do_group_delete(sqlite3 *db, void *arg, struct sl_err *err)
{
    struct cat_args *a = arg;
    return cat_group_delete(db, a->group, a->now, err);
}

static enum sl_status do_group_retention(sqlite3 *db, void *arg,
                                         struct sl_err *err)
{
    struct cat_args *a = arg;
    return cat_group_set_retention(db, a->group, a->days, err);
}

static enum sl_status do_group_format(sqlite3 *db, void *arg,
                                      struct sl_err *err)
{
    struct cat_args *a = arg;
    return cat_group_set_field_format(db, a->group, a->tags, err);
}

static enum sl_status do_group_protection(sqlite3 *db, void *arg,
                                         struct sl_err *err)
{
    struct cat_args *a = arg;
    return cat_group_set_protection(db, a->group, a->days != 0, err);
}

static enum sl_status do_group_tags(sqlite3 *db, void *arg, struct sl_err *err)
{
    struct cat_args *a = arg;
    return cat_group_set_tags(db, a->group, a->tags, err);
}

static enum sl_status do_stream_create(sqlite3 *db, void *arg,
                                       struct sl_err *err)
{
    struct cat_args *a = arg;
    return cat_stream_create(db, a->group, a->stream, a->now, err);
}

static enum sl_status do_stream_delete(sqlite3 *db, void *arg,
                                       struct sl_err *err)
{
    struct cat_args *a = arg;
    return cat_stream_delete(db, a->group, a->stream, a->now, err);
}

static enum sl_status do_ensure(sqlite3 *db, void *arg, struct sl_err *err)
{
    struct cat_args *a = arg;
    return cat_ensure(db, a->group, a->stream, a->now, &a->group_id,
                      &a->stream_id, err);
}

enum sl_status store_group_create(struct store *s, const char *name,
                                  int retention_days, const char *tags,
                                  struct sl_err *err)
{
    struct cat_args a = {.group = name, .days = retention_days, .tags = tags,
                         .now = sl_now_ms()};
    return cat_change(s, do_group_create, &a, err);
}

enum sl_status store_group_create_ex(struct store *s, const char *name,
                                     int retention_days, const char *tags,
                                     const struct cat_group_settings *set,
                                     struct sl_err *err)
{
    struct cat_args a = {.group = name, .days = retention_days, .tags = tags,
                         .set = set, .now = sl_now_ms()};
    return cat_change(s, do_group_create, &a, err);
}

enum sl_status store_group_delete(struct store *s, const char *name,
                                  struct sl_err *err)
{
    struct cat_args a = {.group = name, .now = sl_now_ms()};
    return cat_change(s, do_group_delete, &a, err);
}

enum sl_status store_group_set_retention(struct store *s, const char *name,
                                         int days, struct sl_err *err)
{
    struct cat_args a = {.group = name, .days = days};
    return cat_change(s, do_group_retention, &a, err);
}

enum sl_status store_group_set_field_format(struct store *s, const char *name,
                                            const char *format,
                                            struct sl_err *err)
{
    struct cat_args a = {.group = name, .tags = format}; /* the text member */
    return cat_change(s, do_group_format, &a, err);
}

enum sl_status store_group_set_protection(struct store *s, const char *name,
                                          bool on, struct sl_err *err)
{
    struct cat_args a = {.group = name, .days = on ? 1 : 0};
    return cat_change(s, do_group_protection, &a, err);
}

enum sl_status store_group_set_tags(struct store *s, const char *name,
                                    const char *tags, struct sl_err *err)
{
    struct cat_args a = {.group = name, .tags = tags};
    return cat_change(s, do_group_tags, &a, err);
}

enum sl_status store_stream_create(struct store *s, const char *group,
                                   const char *stream, struct sl_err *err)
{
    struct cat_args a = {.group = group, .stream = stream, .now = sl_now_ms()};
    return cat_change(s, do_stream_create, &a, err);
}

enum sl_status store_stream_delete(struct store *s, const char *group,
                                   const char *stream, struct sl_err *err)
{
    struct cat_args a = {.group = group, .stream = stream, .now = sl_now_ms()};
    return cat_change(s, do_stream_delete, &a, err);
}

enum sl_status store_ensure_stream(struct store *s, const char *group,
                                   const char *stream, int64_t *group_id,
                                   int64_t *stream_id, struct sl_err *err)
{
    struct cat_args a = {.group = group, .stream = stream, .now = sl_now_ms()};
    enum sl_status st = cat_change(s, do_ensure, &a, err);
    *group_id = a.group_id;
    *stream_id = a.stream_id;
    return st;
}

static uint64_t name_hash(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ULL;
    }
    return h;
}

enum sl_status store_lookup_stream(struct store *s, const char *group,
                                   const char *stream, int64_t *group_id,
                                   int64_t *stream_id, int *retention_days,
                                   struct sl_err *err)
{
    size_t gl = strlen(group), sl = strlen(stream), kl = gl + sl + 2;
    char key[2 * CAT_NAME_MAX + 2];
    uint64_t h, gen = atomic_load(&s->gen);
    struct name_entry *set, *e;
    struct cat_group g;
    struct cat_stream st;
    struct arena a;
    sqlite3 *db;
    enum sl_status rc;

    if (gl > CAT_NAME_MAX || sl > CAT_NAME_MAX)
        return sl_fail(err, SL_NOT_FOUND, "The specified log group does not exist.");
    memcpy(key, group, gl + 1);
    memcpy(key + gl + 1, stream, sl + 1);
    h = name_hash(key, kl);
    set = &s->names[(h ^ (h >> 32)) % (STORE_NAME_CACHE / STORE_NAME_WAYS) *
                    STORE_NAME_WAYS];
    pthread_mutex_lock(&s->names_mu);
    for (int w = 0; w < STORE_NAME_WAYS; w++) {
        e = &set[w];
        if (e->gen == gen && e->hash == h && e->key_len == kl &&
            memcmp(e->key, key, kl) == 0) {
            *group_id = e->group_id;
            *stream_id = e->stream_id;
            *retention_days = e->retention_days;
            pthread_mutex_unlock(&s->names_mu);
            return SL_OK;
        }
    }
    pthread_mutex_unlock(&s->names_mu);

    arena_init(&a, 4096, 0);
    db = store_reader(s);
    rc = cat_group_get(db, group, &a, &g, err);
    if (rc == SL_OK)
        rc = cat_stream_get(db, g.id, stream, &st, err);
    store_reader_release(s, db);
    arena_fini(&a);
    if (rc != SL_OK)
        return rc;
    *group_id = g.id;
    *stream_id = st.id;
    *retention_days = g.retention_days;

    pthread_mutex_lock(&s->names_mu);
    /* The way to fill: a stale one, else one picked by other hash bits. */
    e = &set[(h >> 56) % STORE_NAME_WAYS];
    for (int w = 0; w < STORE_NAME_WAYS; w++) {
        if (set[w].gen != gen) {
            e = &set[w];
            break;
        }
    }
    if (e->key_len < kl || e->key == NULL) {
        char *k = sl_realloc(e->key, kl);
        if (k != NULL) {
            e->key = k;
            e->key_len = kl;
        }
    }
    if (e->key != NULL && e->key_len >= kl) {
        memcpy(e->key, key, kl);
        e->key_len = kl;
        e->hash = h;
        e->gen = gen; /* the generation seen before the read: a change in
                         between makes this entry stale at once */
        e->group_id = g.id;
        e->stream_id = st.id;
        e->retention_days = g.retention_days;
    }
    pthread_mutex_unlock(&s->names_mu);
    return SL_OK;
}

enum sl_status store_compact_now(struct store *s, struct compact_stats *out,
                                 struct sl_err *err)
{
    enum sl_status st = SL_OK;
    sqlite3 *db = store_reader(s);

    memset(out, 0, sizeof(*out));
    atomic_fetch_add(&s->compact_callers, 1);
    pthread_mutex_lock(&s->compact_mu);
    /* Until a pass finds nothing to do. A pass whose merges all went
     * stale did not find nothing: the writer changed those segments in
     * between (merging fresh rows after a commit of the purge, say). */
    for (int pass = 0; pass < 64 && st == SL_OK; pass++) {
        int64_t before = out->merges, stale = out->stale;
        struct compact_opts co = {.level = s->opts.compact_level,
                                  .thorough = true};
        st = compact_pass(db, s->wr, &co, out, err);
        if (out->merges == before && out->stale == stale)
            break;
    }
    pthread_mutex_unlock(&s->compact_mu);
    atomic_fetch_sub(&s->compact_callers, 1);
    store_reader_release(s, db);
    return st;
}

enum sl_status store_segment_count(struct store *s, int64_t *n,
                                   struct sl_err *err)
{
    sqlite3 *db = store_reader(s);
    sqlite3_stmt *q;
    bool row = false;
    enum sl_status st = db_prepare(db,
        "SELECT count(*) FROM segments g JOIN streams s ON s.id = g.stream_id"
        " WHERE s.deleted_ms IS NULL", &q, err);
    if (st == SL_OK) {
        st = db_step_row(q, &row, err);
        *n = row ? sqlite3_column_int64(q, 0) : 0;
        sqlite3_finalize(q);
    }
    store_reader_release(s, db);
    return st;
}
