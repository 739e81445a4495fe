/* storage/writer.c: the writer thread and group commit; see writer.h. */
#include "storage/writer.h"

#include "common/alloc.h"
#include "common/clock.h"
#include "common/log.h"
#include "storage/compactor.h"
#include "storage/db.h"
#include "storage/segstore.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Ingest jobs smaller than this that meet in one commit on the same stream
 * are merged into one segment; bigger ones keep the segment their request
 * thread already encoded. */
#define WR_MERGE_MAX_RAW (256 * 1024)

/* Fresh segment rows (schema v3: outside the stream index) the writer lets
 * pile up before it merges each stream's small ones into one run of
 * indexed segments (compact_fresh). Readers scan every fresh row of the
 * id-ordered list, so this bounds what a stream read pays for them; the
 * merge turns 1,024 one-event segments of 32 streams into 32, which spared
 * the background compactor most of its work (1-event batches beside it:
 * 9-13k -> 14-16k requests/s). */
#define WR_FRESH_MAX 1024

/* meta.next_seq is a reservation: every seq handed out is below it, and a
 * restart continues from it. The writer moves it this far ahead whenever
 * a commit reaches it, so that most commits leave the meta page alone (one
 * WAL page less in every commit; a restart skips at most this many seqs,
 * which only need to be unique and rising). */
#define WR_SEQ_RESERVE (1 << 20)

/* A list of jobs passed from one thread to the next, and that thread. */
struct handoff {
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct wr_job *head, *tail;
    bool stopping;
};

struct wr {
    sqlite3 *db;
    struct handoff queue;         /* submitted jobs, and the writer thread */
    int64_t next_seq;             /* writer thread only */
    int64_t seq_reserved;         /* meta.next_seq as committed (writer) */
    atomic_ullong commits, jobs_done, merged, ingests;  /* for wr_get_stats */
    struct segstore_stmts ss;     /* segment inserts */
    struct compact_stmts fresh_ss;  /* merging fresh segments */
    struct seg_scratch scratch;   /* merging small jobs (writer thread) */
    sqlite3_stmt *upd_stream, *upd_seq;
    int64_t fresh_rows;           /* fresh segments stored (writer thread) */
    /* transaction control, prepared once: parsing them per job cost more
     * than the job itself for 1-event batches */
    sqlite3_stmt *begin, *commit, *rollback, *savepoint, *release, *rollback_to;

    /* Durability (sync full): the connection commits without syncing and
     * the syncer thread fdatasyncs the WAL while the writer already
     * commits the next batches; one sync covers every commit before it. */
    bool sync_full;
    char *wal_path;               /* <db>-wal */
    struct handoff synced;        /* committed, waiting for the sync */
    /* When to commit (see pace_commit); under synced.mu: */
    bool syncing;                 /* a sync is running... */
    int64_t sync_t0;              /* ...since then (ns) */
    int64_t sync_est;             /* how long a sync takes (ns, running mean) */
    pthread_cond_t idle_cv;       /* a sync ended (CLOCK_MONOTONIC) */
    atomic_llong commit_est;      /* how long a commit takes (ns, running
                                     mean; the writer's, read by stats) */
    int wal_fd;                   /* syncer thread only; -1 until opened */
    atomic_bool broken;           /* a sync failed: refuse all writes */
    atomic_ullong syncs;
};

static const char SQL_UPD_STREAM[] =
    "UPDATE streams SET"
    " first_event_ms = min(coalesce(first_event_ms, ?2), ?2),"
    " last_event_ms = max(coalesce(last_event_ms, ?3), ?3),"
    " last_ingest_ms = ?4,"
    " stored_bytes = stored_bytes + ?5,"
    " segment_count = segment_count + ?6"
    " WHERE id = ?1 AND deleted_ms IS NULL";
static const char SQL_UPD_SEQ[] =
    "UPDATE meta SET value = ?1 WHERE key = 'next_seq'";

/* Runs one of the prepared transaction-control statements. */
static enum sl_status run_ctl(sqlite3_stmt *q, struct sl_err *err)
{
    enum sl_status st;
    sqlite3_reset(q);
    st = db_step_done(q, err);
    sqlite3_reset(q);
    return st;
}

/* ---- encoding (request threads) ------------------------------------ */

enum sl_status wr_encode_pieces(const struct seg_event *ev, size_t n, bool hc,
                                struct seg_scratch *sc, struct buf *blobs,
                                struct wr_piece *pieces, size_t *n_pieces,
                                struct sl_err *err)
{
    size_t i = 0;
    enum sl_status st;

    *n_pieces = 0;
    while (i < n) {
        size_t j = i + 1;
        struct wr_piece *p = &pieces[*n_pieces];
        size_t bytes = ev[i].len;
        while (j < n && ev[j].ts - ev[i].ts < SEG_MAX_SPAN_MS)
            bytes += ev[j++].len;
        p->first = i;
        p->blob_off = blobs->len;
        st = seg_encode(ev + i, j - i, false,
                        hc && bytes >= WR_HC_MIN_BYTES ? WR_HC_LEVEL : 0,
                        sc, blobs, &p->meta, err);
        if (st != SL_OK)
            return st;
        (*n_pieces)++;
        i = j;
    }
    return SL_OK;
}

/* ---- commit (writer thread) ----------------------------------------- */

/* Stores one fresh segment; its seqs start at next_seq. One compressed
 * with LZ4HC is marked compacted: the compactor only merges it. */
static enum sl_status insert_segment(struct wr *w, int64_t stream_id,
                                     int64_t group_id, struct seg_meta *m,
                                     const void *blob, struct sl_err *err)
{
    int64_t id;
    enum sl_status st;

    m->min_seq = w->next_seq;
    m->max_seq = w->next_seq + m->count - 1;
    st = segstore_put(w->db, &w->ss, stream_id, group_id, m, blob,
                      m->level > 0, true, &id, err);
    if (st == SL_OK) {
        w->next_seq += m->count;
        w->fresh_rows++;
    }
    return st;
}

/* Adds the effect of stored segments to the stream's row. */
static enum sl_status account(struct wr *w, int64_t stream_id, int64_t min_ts,
                              int64_t max_ts, int64_t ingest_ms,
                              int64_t bytes, int64_t segs, struct sl_err *err)
{
    sqlite3_stmt *q = w->upd_stream;
    enum sl_status st;

    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, stream_id);
    sqlite3_bind_int64(q, 2, min_ts);
    sqlite3_bind_int64(q, 3, max_ts);
    sqlite3_bind_int64(q, 4, ingest_ms);
    sqlite3_bind_int64(q, 5, bytes);
    sqlite3_bind_int64(q, 6, segs);
    st = db_step_done(q, err);
    if (st != SL_OK)
        return st;
    if (sqlite3_changes(w->db) == 0)
        return sl_fail(err, SL_NOT_FOUND,
                       "The specified log stream does not exist.");
    return SL_OK;
}

/* Stores one job's pre-encoded pieces. */
static enum sl_status store_pieces(struct wr *w, const struct wr_job *j,
                                   struct sl_err *err)
{
    int64_t bytes = 0;
    for (size_t i = 0; i < j->n_pieces; i++) {
        struct seg_meta m = j->pieces[i].meta;
        enum sl_status st = insert_segment(w, j->stream_id, j->group_id, &m,
                                           j->blobs + j->pieces[i].blob_off,
                                           err);
        if (st != SL_OK)
            return st;
        bytes += (int64_t)m.stored_bytes;
    }
    return account(w, j->stream_id, j->ev[0].ts,
                   j->ev[j->n - 1].ts, j->ingest_ms, bytes,
                   (int64_t)j->n_pieces, err);
}

/* Merges the events of group[0..n) (one stream) and stores them as fresh
 * segments encoded here. */
static enum sl_status store_merged(struct wr *w, struct wr_job **group,
                                   size_t n, struct sl_err *err)
{
    size_t total = 0, k = 0, n_pieces = 0;
    struct seg_event *ev;
    struct wr_piece *pieces;
    struct buf blobs;
    int64_t bytes = 0, ingest = 0;
    enum sl_status st = SL_OK;

    for (size_t i = 0; i < n; i++)
        total += group[i]->n;
    ev = sl_alloc(total * sizeof(*ev));
    pieces = sl_alloc(total * sizeof(*pieces));
    if (ev == NULL || pieces == NULL) {
        sl_free(ev);
        sl_free(pieces);
        return sl_fail(err, SL_NOMEM, "out of memory merging a commit");
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t e = 0; e < group[i]->n; e++) {
            ev[k] = group[i]->ev[e];
            ev[k].seq = (int64_t)k;
            k++;
        }
        if (group[i]->ingest_ms > ingest)
            ingest = group[i]->ingest_ms;
    }
    seg_events_sort(ev, total);
    buf_init(&blobs, SIZE_MAX / 2);
    st = wr_encode_pieces(ev, total, false, &w->scratch, &blobs, pieces,
                          &n_pieces, err);
    for (size_t i = 0; st == SL_OK && i < n_pieces; i++) {
        st = insert_segment(w, group[0]->stream_id, group[0]->group_id,
                            &pieces[i].meta, blobs.data + pieces[i].blob_off,
                            err);
        bytes += (int64_t)pieces[i].meta.stored_bytes;
    }
    if (st == SL_OK)
        st = account(w, group[0]->stream_id, ev[0].ts, ev[total - 1].ts,
                     ingest, bytes, (int64_t)n_pieces, err);
    buf_fini(&blobs);
    sl_free(ev);
    sl_free(pieces);
    return st;
}

static size_t job_raw(const struct wr_job *j)
{
    size_t raw = 0;
    for (size_t i = 0; i < j->n_pieces; i++)
        raw += j->pieces[i].meta.raw_bytes;
    return raw;
}

static void fail_jobs(struct wr_job **jobs, size_t n, enum sl_status st,
                      const struct sl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        jobs[i]->status = st;
        jobs[i]->err = *err;
    }
}

/* Inside the commit: moves meta.next_seq ahead once next_seq reached it. */
static enum sl_status reserve_seqs(struct wr *w, struct sl_err *err)
{
    enum sl_status st;
    if (w->next_seq <= w->seq_reserved)
        return SL_OK;
    sqlite3_reset(w->upd_seq);
    sqlite3_bind_int64(w->upd_seq, 1, w->next_seq + WR_SEQ_RESERVE);
    st = db_step_done(w->upd_seq, err);
    if (st == SL_OK)
        w->seq_reserved = w->next_seq + WR_SEQ_RESERVE;
    return st;
}

/* Runs fn-like work for jobs[0..n) inside one SAVEPOINT. */
static void run_in_savepoint(struct wr *w, struct wr_job **jobs, size_t n)
{
    struct sl_err err = {0};
    enum sl_status st = run_ctl(w->savepoint, &err);
    int64_t seq_before = w->next_seq;

    if (st == SL_OK) {
        if (jobs[0]->kind == WR_APPLY)
            st = jobs[0]->apply(w->db, jobs[0]->arg, &err);
        else if (n == 1)
            st = store_pieces(w, jobs[0], &err);
        else
            st = store_merged(w, jobs, n, &err);
        if (st != SL_OK) {
            struct sl_err ignore = {0};
            w->next_seq = seq_before;
            if (run_ctl(w->rollback_to, &ignore) != SL_OK)
                sl_error("writer: rollback to savepoint failed: %s", ignore.msg);
        }
        if (run_ctl(w->release, &err) != SL_OK && st == SL_OK)
            st = err.code;
    }
    if (st != SL_OK && err.code == SL_OK)
        sl_fail(&err, st, "%s", sl_status_text(st));
    for (size_t i = 0; i < n; i++) {
        jobs[i]->status = st;
        if (st != SL_OK)
            jobs[i]->err = err;
    }
    if (n > 1)
        atomic_fetch_add(&w->merged, n - 1);
}

/*
 * Merges the fresh segments of each stream into indexed ones, in a
 * transaction of its own once the commit that reached WR_FRESH_MAX was
 * handed on: its jobs are synced and answered meanwhile instead of
 * waiting for the merge (3-5 ms for 1,024 one-event segments, where a
 * commit of 1-event batches takes ~0.1 ms). No job waits on this
 * transaction; the next sync makes it durable with the commits after
 * it. On failure nothing changes: the rows stay fresh (still found by
 * readers) and the next commit tries again.
 */
static void settle_fresh(struct wr *w)
{
    struct sl_err err = {0}, ignore = {0};

    if (w->fresh_rows < WR_FRESH_MAX || atomic_load(&w->broken))
        return;
    if (run_ctl(w->begin, &err) != SL_OK) {
        sl_warn("writer: merging fresh segments: %s", err.msg);
        return;
    }
    if (compact_fresh(w->db, &w->fresh_ss, &err) == SL_OK &&
        run_ctl(w->commit, &err) == SL_OK) {
        w->fresh_rows = 0;
        atomic_fetch_add(&w->commits, 1);
        return;
    }
    sl_warn("writer: merging fresh segments failed: %s", err.msg);
    if (run_ctl(w->rollback, &ignore) != SL_OK)
        sl_error("writer: rollback failed: %s", ignore.msg);
}

/* Commits jobs[0..n); returns whether it was a plain ingest commit (no
 * catalogue change or compaction swap), the kind pacing times: one 4 MiB
 * swap took 5 ms and, in the running mean, switched pacing off for the
 * next hundred commits. */
static bool commit_batch(struct wr *w, struct wr_job **jobs, size_t n)
{
    bool plain = true;
    struct sl_err err = {0};
    struct wr_job **group;
    bool *taken;
    int64_t seq_start = w->next_seq, reserved_start = w->seq_reserved;
    enum sl_status st;

    if (atomic_load(&w->broken)) {
        sl_fail(&err, SL_IO, "an earlier fdatasync of the WAL failed, so"
                " nothing more is written; restart the server");
        fail_jobs(jobs, n, SL_IO, &err);
        return false;
    }
    group = sl_alloc(n * sizeof(*group));
    taken = sl_calloc(n, sizeof(*taken));
    if (group == NULL || taken == NULL) {
        sl_fail(&err, SL_NOMEM, "out of memory in the writer");
        fail_jobs(jobs, n, SL_NOMEM, &err);
        goto out;
    }
    st = run_ctl(w->begin, &err);
    if (st != SL_OK) {
        fail_jobs(jobs, n, st, &err);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t g = 0;
        if (jobs[i]->kind == WR_INGEST)
            atomic_fetch_add(&w->ingests, 1);
        else
            plain = false;
        if (taken[i])
            continue;
        taken[i] = true;
        group[g++] = jobs[i];
        if (jobs[i]->kind == WR_INGEST && job_raw(jobs[i]) < WR_MERGE_MAX_RAW) {
            for (size_t k = i + 1; k < n; k++) {
                if (!taken[k] && jobs[k]->kind == WR_INGEST &&
                    jobs[k]->stream_id == jobs[i]->stream_id &&
                    job_raw(jobs[k]) < WR_MERGE_MAX_RAW) {
                    taken[k] = true;
                    group[g++] = jobs[k];
                }
            }
        }
        run_in_savepoint(w, group, g);
    }
    st = reserve_seqs(w, &err);
    if (st == SL_OK)
        st = run_ctl(w->commit, &err);
    if (st != SL_OK) {
        struct sl_err ignore = {0};
        sl_error("writer: commit failed: %s", err.msg);
        if (run_ctl(w->rollback, &ignore) != SL_OK)
            sl_error("writer: rollback failed: %s", ignore.msg);
        w->next_seq = seq_start;
        w->seq_reserved = reserved_start;
        w->fresh_rows = WR_FRESH_MAX;  /* unknown now: move them next time */
        for (size_t i = 0; i < n; i++) {
            if (jobs[i]->status == SL_OK) {
                jobs[i]->status = st == SL_BUSY ? SL_UNAVAILABLE : st;
                jobs[i]->err = err;
            }
        }
    } else {
        atomic_fetch_add(&w->commits, 1);
    }
out:
    sl_free(group);
    sl_free(taken);
    return plain;
}

static void handoff_push(struct handoff *h, struct wr_job *first,
                         struct wr_job *last);

/*
 * Calls done for every job of the list: on the writer thread, or with sync
 * full on the syncer thread once the list is durable. A separate answerer
 * thread did this until it cost more than it saved: with 1-event batches
 * from 32 clients, answering on the syncer (~5 us a job, before its next
 * sync) takes one thread wake-up out of every request's path; three
 * alternating runs went from 17.9/20.1/20.2k to 19.1/20.6/21.0k requests/s.
 */
static void answer(struct wr *w, struct wr_job *list)
{
    while (list != NULL) {
        struct wr_job *next = list->next;
        atomic_fetch_add(&w->jobs_done, 1);
        list->done(list, list->ctx);  /* may free list */
        list = next;
    }
}

/* A running mean: est moves an eighth of the way to x, x counted as at
 * most twice est, so that one sync behind a 4 MiB compaction swap does not
 * stretch the pacing of the next dozen. */
static int64_t mean_step(int64_t est, int64_t x)
{
    if (est == 0)
        return x;
    if (x > 2 * est)
        x = 2 * est;
    return est + (x - est) / 8;
}

/*
 * With sync full, when to start the next commit. A commit made while a
 * sync runs waits for the next sync anyway, and 32 clients sending 1-event
 * batches filled one commit per two or three requests: each commit costs
 * a dozen syscalls (WAL frames, shm locks) on top of the rows. So while a
 * sync runs the writer waits until it is about to end (its start + the
 * usual sync time - the usual commit time), or ends, and then commits
 * everything that came meanwhile; the next sync starts right after. The
 * earlier rule (wait until the syncer took the previous commit) made
 * requests wait for one sync more than needed.
 */
static void pace_commit(struct wr *w)
{
    pthread_mutex_lock(&w->synced.mu);
    while (w->syncing) {
        int64_t due = w->sync_t0 + w->sync_est - atomic_load(&w->commit_est);
        struct timespec ts;
        if (sl_mono_ns() >= due)
            break;
        ts.tv_sec = (time_t)(due / 1000000000);
        ts.tv_nsec = (long)(due % 1000000000);
        pthread_cond_timedwait(&w->idle_cv, &w->synced.mu, &ts);
    }
    pthread_mutex_unlock(&w->synced.mu);
}

static void *writer_main(void *arg)
{
    struct wr *w = arg;
    size_t cap = 256;
    struct wr_job **jobs = sl_alloc(cap * sizeof(*jobs));

    pthread_setname_np(pthread_self(), "sl-writer");
    for (;;) {
        struct wr_job *list, *j;
        size_t n = 0;
        int64_t t0;

        pthread_mutex_lock(&w->queue.mu);
        while (w->queue.head == NULL && !w->queue.stopping)
            pthread_cond_wait(&w->queue.cv, &w->queue.mu);
        if (w->queue.head == NULL && w->queue.stopping) {
            pthread_mutex_unlock(&w->queue.mu);
            break;
        }
        if (w->sync_full) {
            pthread_mutex_unlock(&w->queue.mu);
            pace_commit(w);
            pthread_mutex_lock(&w->queue.mu);
        }
        list = w->queue.head;
        w->queue.head = w->queue.tail = NULL;
        pthread_mutex_unlock(&w->queue.mu);

        for (j = list; j != NULL; j = j->next) {
            if (n == cap) {
                struct wr_job **more = sl_realloc(jobs, cap * 2 * sizeof(*jobs));
                if (more != NULL) {
                    jobs = more;
                    cap *= 2;
                }
            }
            if (jobs == NULL || n == cap)
                break;
            j->status = SL_OK;
            memset(&j->err, 0, sizeof(j->err));
            jobs[n++] = j;
        }
        if (j != NULL) {
            /* Could not take all of them: put the rest back in front. */
            pthread_mutex_lock(&w->queue.mu);
            struct wr_job *last = j;
            while (last->next != NULL)
                last = last->next;
            last->next = w->queue.head;
            if (w->queue.head == NULL)
                w->queue.tail = last;
            w->queue.head = j;
            pthread_mutex_unlock(&w->queue.mu);
        }
        if (n == 0)
            continue;
        t0 = sl_mono_ns();
        if (commit_batch(w, jobs, n))
            atomic_store(&w->commit_est, mean_step(atomic_load(&w->commit_est),
                                                   sl_mono_ns() - t0));
        for (size_t i = 0; i < n; i++)
            jobs[i]->next = i + 1 < n ? jobs[i + 1] : NULL;
        if (w->sync_full)
            handoff_push(&w->synced, jobs[0], jobs[n - 1]);
        else
            answer(w, jobs[0]);
        settle_fresh(w);
    }
    sl_free(jobs);
    return NULL;
}

/* ---- handoffs between the writer and syncer threads ----------------- */

static void handoff_push(struct handoff *h, struct wr_job *first,
                         struct wr_job *last)
{
    pthread_mutex_lock(&h->mu);
    if (h->tail != NULL)
        h->tail->next = first;
    else
        h->head = first;
    h->tail = last;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* Waits for jobs and takes all of them; NULL once stopping and empty. */
static struct wr_job *handoff_take(struct handoff *h)
{
    struct wr_job *list;
    pthread_mutex_lock(&h->mu);
    while (h->head == NULL && !h->stopping)
        pthread_cond_wait(&h->cv, &h->mu);
    list = h->head;
    h->head = h->tail = NULL;
    pthread_mutex_unlock(&h->mu);
    return list;
}

static bool handoff_start(struct handoff *h, void *(*fn)(void *), void *arg)
{
    h->running = pthread_create(&h->thread, NULL, fn, arg) == 0;
    return h->running;
}

/* Lets the thread finish what is queued, then joins it. */
static void handoff_stop(struct handoff *h)
{
    if (!h->running)
        return;
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    h->running = false;
}

static void handoff_init(struct handoff *h)
{
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
}

static void handoff_fini(struct handoff *h)
{
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
}

/* Mutexes and condition variables of the writer and its handoffs; the
 * synced handoff's mutex also guards the pacing fields (wr_get_stats reads
 * them with sync normal too). */
static void sync_init(struct wr *w)
{
    pthread_condattr_t ca;

    handoff_init(&w->queue);
    handoff_init(&w->synced);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->idle_cv, &ca);
    pthread_condattr_destroy(&ca);
}

static void sync_fini(struct wr *w)
{
    handoff_fini(&w->queue);
    handoff_fini(&w->synced);
    pthread_cond_destroy(&w->idle_cv);
}

/* ---- durability (syncer thread) ---------------------------------------- */

/* Makes every commit so far durable: fdatasync of the WAL (any descriptor
 * of the file flushes all of it). The first time, the folder is synced
 * too, so the WAL's name survives a power cut with its contents. */
static enum sl_status sync_wal(struct wr *w, struct sl_err *err)
{
    if (w->wal_fd < 0) {
        char dir[4096];
        const char *slash = strrchr(w->wal_path, '/');
        int dfd;

        w->wal_fd = open(w->wal_path, O_RDONLY | O_CLOEXEC);
        if (w->wal_fd < 0)
            return sl_fail(err, SL_IO, "cannot open %s to sync it: %s",
                           w->wal_path, strerror(errno));
        snprintf(dir, sizeof(dir), "%.*s",
                 slash ? (int)(slash - w->wal_path) : 1,
                 slash ? w->wal_path : ".");
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) != 0) {
            int e = errno;
            if (dfd >= 0)
                close(dfd);
            return sl_fail(err, SL_IO, "cannot sync the folder %s: %s", dir,
                           strerror(e));
        }
        close(dfd);
    }
    if (fdatasync(w->wal_fd) != 0)
        return sl_fail(err, SL_IO, "fdatasync of %s failed: %s", w->wal_path,
                       strerror(errno));
    atomic_fetch_add(&w->syncs, 1);
    return SL_OK;
}

static void *syncer_main(void *arg)
{
    struct wr *w = arg;
    struct wr_job *list;

    pthread_setname_np(pthread_self(), "sl-syncer");
    while ((list = handoff_take(&w->synced)) != NULL) {
        struct sl_err err = {0};
        enum sl_status st;
        int64_t t0 = sl_mono_ns();

        pthread_mutex_lock(&w->synced.mu);
        w->syncing = true;
        w->sync_t0 = t0;
        pthread_mutex_unlock(&w->synced.mu);
        st = sync_wal(w, &err);
        pthread_mutex_lock(&w->synced.mu);
        w->syncing = false;
        w->sync_est = mean_step(w->sync_est, sl_mono_ns() - t0);
        pthread_cond_broadcast(&w->idle_cv);
        pthread_mutex_unlock(&w->synced.mu);
        if (st != SL_OK) {
            /* The kernel may have dropped the pages it failed to write:
             * nothing written after this can be trusted to last. */
            sl_error("writer: %s; refusing all writes until restart", err.msg);
            atomic_store(&w->broken, true);
            for (struct wr_job *j = list; j != NULL; j = j->next) {
                if (j->status == SL_OK) {
                    j->status = st;
                    j->err = err;
                }
            }
        }
        answer(w, list);
    }
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------- */

/* Continues from the reservation (see WR_SEQ_RESERVE), or past the
 * segments should the meta row lag them. */
static enum sl_status read_next_seq(struct wr *w, struct sl_err *err)
{
    sqlite3_stmt *q;
    bool row;
    enum sl_status st = db_prepare(w->db,
        "SELECT (SELECT value FROM meta WHERE key = 'next_seq'),"
        " coalesce((SELECT max(max_seq) + 1 FROM segments), 1)", &q, err);
    if (st != SL_OK)
        return st;
    st = db_step_row(q, &row, err);
    if (st == SL_OK && row) {
        w->seq_reserved = sqlite3_column_int64(q, 0);
        w->next_seq = sqlite3_column_int64(q, 1);
        if (w->next_seq < w->seq_reserved)
            w->next_seq = w->seq_reserved;
    }
    sqlite3_finalize(q);
    return st;
}

static void finalize_stmts(struct wr *w)
{
    segstore_stmts_fini(&w->ss);
    compact_stmts_fini(&w->fresh_ss);
    sqlite3_finalize(w->upd_stream);
    sqlite3_finalize(w->upd_seq);
    sqlite3_finalize(w->begin);
    sqlite3_finalize(w->commit);
    sqlite3_finalize(w->rollback);
    sqlite3_finalize(w->savepoint);
    sqlite3_finalize(w->release);
    sqlite3_finalize(w->rollback_to);
}

struct wr *wr_create(sqlite3 *db, bool sync_full, struct sl_err *err)
{
    struct wr *w = sl_calloc(1, sizeof(*w));
    const char *db_path = sqlite3_db_filename(db, "main");
    if (w == NULL) {
        sl_fail(err, SL_NOMEM, "out of memory");
        return NULL;
    }
    w->db = db;
    w->wal_fd = -1;
    seg_scratch_init(&w->scratch);
    w->fresh_rows = WR_FRESH_MAX;   /* index what a last run left fresh */
    w->sync_full = sync_full;
    if (sync_full) {
        size_t n = db_path ? strlen(db_path) : 0;
        if (n == 0) {
            sl_fail(err, SL_INTERNAL, "the write connection has no file to sync");
            sl_free(w);
            return NULL;
        }
        w->wal_path = sl_alloc(n + 5);
        if (w->wal_path == NULL) {
            sl_fail(err, SL_NOMEM, "out of memory");
            sl_free(w);
            return NULL;
        }
        memcpy(w->wal_path, db_path, n);
        memcpy(w->wal_path + n, "-wal", 5);
    }
    if (read_next_seq(w, err) != SL_OK ||
        db_prepare(db, SQL_UPD_STREAM, &w->upd_stream, err) != SL_OK ||
        db_prepare(db, SQL_UPD_SEQ, &w->upd_seq, err) != SL_OK ||
        db_prepare(db, "BEGIN IMMEDIATE", &w->begin, err) != SL_OK ||
        db_prepare(db, "COMMIT", &w->commit, err) != SL_OK ||
        db_prepare(db, "ROLLBACK", &w->rollback, err) != SL_OK ||
        db_prepare(db, "SAVEPOINT job", &w->savepoint, err) != SL_OK ||
        db_prepare(db, "RELEASE job", &w->release, err) != SL_OK ||
        db_prepare(db, "ROLLBACK TO job", &w->rollback_to, err) != SL_OK)
        goto fail;
    sync_init(w);
    if (sync_full && !handoff_start(&w->synced, syncer_main, w)) {
        sl_fail(err, SL_INTERNAL, "cannot start the syncer thread");
        goto fail_threads;
    }
    if (!handoff_start(&w->queue, writer_main, w)) {
        sl_fail(err, SL_INTERNAL, "cannot start the writer thread");
        goto fail_threads;
    }
    return w;
fail_threads:
    handoff_stop(&w->synced);
    sync_fini(w);
fail:
    finalize_stmts(w);
    seg_scratch_fini(&w->scratch);
    sl_free(w->wal_path);
    sl_free(w);
    return NULL;
}

void wr_destroy(struct wr *w)
{
    if (w == NULL)
        return;
    handoff_stop(&w->queue);      /* commits what was submitted */
    handoff_stop(&w->synced);     /* syncs and answers what it was handed */
    finalize_stmts(w);
    db_close(w->db);
    sync_fini(w);
    if (w->wal_fd >= 0)
        close(w->wal_fd);
    seg_scratch_fini(&w->scratch);
    sl_free(w->wal_path);
    sl_free(w);
}

void wr_submit(struct wr *w, struct wr_job *job)
{
    job->next = NULL;
    handoff_push(&w->queue, job, job);
}

struct run_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
};

static void run_done(struct wr_job *job, void *ctx)
{
    struct run_wait *rw = ctx;
    (void)job;
    pthread_mutex_lock(&rw->mu);
    rw->done = true;
    pthread_cond_signal(&rw->cv);
    pthread_mutex_unlock(&rw->mu);
}

enum sl_status wr_run(struct wr *w, wr_apply_fn apply, void *arg,
                      struct sl_err *err)
{
    struct wr_job job = {.kind = WR_APPLY, .apply = apply, .arg = arg};
    struct run_wait rw = {.done = false};

    pthread_mutex_init(&rw.mu, NULL);
    pthread_cond_init(&rw.cv, NULL);
    job.done = run_done;
    job.ctx = &rw;
    wr_submit(w, &job);
    pthread_mutex_lock(&rw.mu);
    while (!rw.done)
        pthread_cond_wait(&rw.cv, &rw.mu);
    pthread_mutex_unlock(&rw.mu);
    pthread_mutex_destroy(&rw.mu);
    pthread_cond_destroy(&rw.cv);
    if (job.status != SL_OK && err != NULL && err->code == SL_OK)
        *err = job.err;
    return job.status;
}

void wr_get_stats(struct wr *w, struct wr_stats *out)
{
    out->commits = atomic_load(&w->commits);
    out->jobs = atomic_load(&w->jobs_done);
    out->merged = atomic_load(&w->merged);
    out->syncs = atomic_load(&w->syncs);
    out->ingests = atomic_load(&w->ingests);
    out->commit_mean_ns = atomic_load(&w->commit_est);
    pthread_mutex_lock(&w->synced.mu);
    out->sync_mean_ns = w->sync_est;
    pthread_mutex_unlock(&w->synced.mu);
}
