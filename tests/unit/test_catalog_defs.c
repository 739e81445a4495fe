/* tests/unit/test_catalog_defs.c: schema v2 against a real database in a
 * temporary directory: a v1 file (built here from the frozen v1 DDL)
 * upgrades in place and keeps its groups; metric filters and query
 * definitions through the writer (create, replace, limits, paging,
 * deletion with the group); group settings and deletion protection. */
#include "storage/catalog.h"
#include "storage/catalog_defs.h"
#include "storage/schema.h"
#include "storage/store.h"
#include "tests/harness.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[256];
static char name_g1[] = "g1", name_p[] = "p", id_1[] = "id-1";

/* Schema v1 exactly as released; never change it. */
static const char v1_ddl[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    "INSERT INTO meta(key, value) VALUES('next_seq', 1);"
    "CREATE TABLE groups(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    "  retention_days INTEGER, tags TEXT NOT NULL DEFAULT '{}',"
    "  field_format TEXT, stored_bytes INTEGER NOT NULL DEFAULT 0,"
    "  deleted_ms INTEGER);"
    "CREATE UNIQUE INDEX groups_live_name ON groups(name)"
    "  WHERE deleted_ms IS NULL;"
    "CREATE TABLE streams(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  group_id INTEGER NOT NULL, name TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL, first_event_ms INTEGER,"
    "  last_event_ms INTEGER, last_ingest_ms INTEGER,"
    "  stored_bytes INTEGER NOT NULL DEFAULT 0,"
    "  segment_count INTEGER NOT NULL DEFAULT 0, deleted_ms INTEGER);"
    "CREATE UNIQUE INDEX streams_live_name ON streams(group_id, name)"
    "  WHERE deleted_ms IS NULL;"
    "CREATE INDEX streams_by_group ON streams(group_id);"
    "CREATE TABLE segments(id INTEGER PRIMARY KEY,"
    "  stream_id INTEGER NOT NULL, group_id INTEGER NOT NULL,"
    "  min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL,"
    "  min_seq INTEGER NOT NULL, max_seq INTEGER NOT NULL,"
    "  count INTEGER NOT NULL, raw_bytes INTEGER NOT NULL,"
    "  stored_bytes INTEGER NOT NULL, compacted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX segments_stream_time ON segments(stream_id, min_ts);"
    "CREATE TABLE segment_data(id INTEGER PRIMARY KEY, bytes BLOB NOT NULL);"
    "INSERT INTO groups(name, created_ms, retention_days, tags)"
    "  VALUES('/old/app', 1234, 7, '{\"k\":\"v\"}');"
    "INSERT INTO streams(group_id, name, created_ms) VALUES(1, 's1', 1234);"
    "INSERT INTO segments(stream_id, group_id, min_ts, max_ts, min_seq,"
    "  max_seq, count, raw_bytes, stored_bytes) VALUES(1, 1, 10, 20, 1, 2, 2,"
    "  60, 40);"
    "PRAGMA user_version=1;";

static struct store *open_store(void)
{
    struct sl_err err = {0};
    struct store_opts o = {.dir = dir, .sync = DB_SYNC_NORMAL, .read_conns = 2};
    struct store *s = store_open(&o, &err);
    if (s == NULL)
        fprintf(stderr, "store_open: %s\n", err.msg);
    return s;
}

static void fresh_dir(void)
{
    char cmd[600];
    snprintf(dir, sizeof(dir), "/tmp/sluice-test-defs-%d", (int)getpid());
    snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(cmd) != 0)
        return;
}

static enum sl_status put_filter(sqlite3 *db, void *arg, struct sl_err *err)
{
    return cat_mfilter_put(db, arg, err);
}

static enum sl_status put_qdef(sqlite3 *db, void *arg, struct sl_err *err)
{
    return cat_qdef_put(db, arg, err);
}

static enum sl_status del_qdef(sqlite3 *db, void *arg, struct sl_err *err)
{
    return cat_qdef_delete(db, arg, err);
}

static enum sl_status del_filter_b(sqlite3 *db, void *arg, struct sl_err *err)
{
    return cat_mfilter_delete(db, arg, "b", err);
}

static enum sl_status protect_off(sqlite3 *db, void *arg, struct sl_err *err)
{
    return cat_group_set_protection(db, arg, false, err);
}

TEST(v1_file_upgrades_in_place)
{
    struct sl_err err = {0};
    struct cat_group g;
    struct arena a;
    char path[300];
    fresh_dir();
    snprintf(path, sizeof(path), "%s/sluice.db", dir);
    sqlite3 *db = db_open(path, true, DB_SYNC_NORMAL, &err);
    REQUIRE(db != NULL);
    REQUIRE_OK(db_exec(db, v1_ddl, &err));
    REQUIRE_OK(db_exec(db, "UPDATE streams SET stored_bytes = 40;"
                           "UPDATE groups SET stored_bytes = 999;", &err));
    CHECK_EQ_INT(schema_version(db), 1);
    db_close(db);

    struct store *s = open_store();
    REQUIRE(s != NULL);
    arena_init(&a, 4096, 0);
    db = store_reader(s);
    CHECK_EQ_INT(schema_version(db), SCHEMA_VERSION);
    CHECK_OK(cat_group_get(db, "/old/app", &a, &g, &err));
    CHECK_EQ_INT(g.created_ms, 1234);
    CHECK_EQ_INT(g.retention_days, 7);
    CHECK_EQ_STR(g.tags, "{\"k\":\"v\"}");
    CHECK_EQ_STR(g.log_group_class, "STANDARD");
    CHECK(g.kms_key_id == NULL);
    CHECK(!g.deletion_protection);
    CHECK_EQ_INT(g.metric_filter_count, 0);
    CHECK_EQ_INT(g.stored_bytes, 40);  /* v4: the sum over its streams */
    /* v3: an old segment is an indexed (not fresh) one, found by stream */
    sqlite3_stmt *q;
    REQUIRE_OK(db_prepare(db, "SELECT count(*), max(fresh) FROM seg_all"
                              " WHERE stream_id = 1 AND min_ts >= 0", &q, &err));
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int64(q, 0), 1);
    CHECK_EQ_INT(sqlite3_column_int64(q, 1), 0);
    sqlite3_finalize(q);
    store_reader_release(s, db);

    /* the new tables work on the upgraded file */
    struct cat_mfilter_put p = {.group = "/old/app", .name = "f",
                                .pattern = "ERROR", .transformations = "[]",
                                .metric_name = "m", .metric_namespace = "ns",
                                .max_per_group = 100, .now_ms = 5};
    CHECK_OK(wr_run(store_writer(s), put_filter, &p, &err));
    db = store_reader(s);
    CHECK_OK(cat_group_get(db, "/old/app", &a, &g, &err));
    CHECK_EQ_INT(g.metric_filter_count, 1);
    store_reader_release(s, db);
    arena_fini(&a);
    store_close(s);

    /* reopening a v2 file changes nothing */
    s = open_store();
    REQUIRE(s != NULL);
    store_close(s);
}

TEST(metric_filters)
{
    struct sl_err err = {0};
    struct cat_mfilter out[8];
    struct arena a;
    int n;
    bool more;
    fresh_dir();
    struct store *s = open_store();
    REQUIRE(s != NULL);
    arena_init(&a, 4096, 0);
    REQUIRE_OK(store_group_create(s, "g1", 0, "{}", &err));
    REQUIRE_OK(store_group_create(s, "g2", 0, "{}", &err));
    const char *names[] = {"c", "a", "b"};
    for (int i = 0; i < 3; i++) {
        struct cat_mfilter_put p = {.group = "g1", .name = names[i],
                                    .pattern = "x", .transformations = "[]",
                                    .metric_name = i == 2 ? "m2" : "m",
                                    .metric_namespace = "ns",
                                    .max_per_group = 3, .now_ms = 10 + i};
        CHECK_OK(wr_run(store_writer(s), put_filter, &p, &err));
    }
    struct cat_mfilter_put p = {.group = "g1", .name = "d", .pattern = "x",
                                .transformations = "[]", .metric_name = "m",
                                .metric_namespace = "ns", .max_per_group = 3,
                                .now_ms = 50};
    CHECK_EQ_INT(wr_run(store_writer(s), put_filter, &p, &err), SL_LIMIT);
    sl_err_clear(&err);
    p.name = "a";                   /* a replacement is no new filter */
    p.pattern = "y";
    CHECK_OK(wr_run(store_writer(s), put_filter, &p, &err));
    p.group = "nope";
    CHECK_EQ_INT(wr_run(store_writer(s), put_filter, &p, &err), SL_NOT_FOUND);
    sl_err_clear(&err);
    p.group = "g2";
    CHECK_OK(wr_run(store_writer(s), put_filter, &p, &err));

    sqlite3 *db = store_reader(s);
    struct cat_mfilter_sel sel = {.group = "g1"};
    CHECK_OK(cat_mfilter_list(db, &sel, NULL, 2, &a, out, &n, &more, &err));
    CHECK_EQ_INT(n, 2);
    CHECK(more);
    CHECK_EQ_STR(out[0].name, "a");
    CHECK_EQ_STR(out[0].pattern, "y");
    CHECK_EQ_INT(out[0].created_ms, 11);   /* kept on replace */
    struct cat_mfilter_cursor cur = {.set = true, .group_id = out[1].group_id,
                                     .name = out[1].name};
    CHECK_OK(cat_mfilter_list(db, &sel, &cur, 2, &a, out, &n, &more, &err));
    CHECK_EQ_INT(n, 1);
    CHECK(!more);
    CHECK_EQ_STR(out[0].name, "c");
    struct cat_mfilter_sel all = {.metric_name = "m", .metric_namespace = "ns"};
    CHECK_OK(cat_mfilter_list(db, &all, NULL, 8, &a, out, &n, &more, &err));
    CHECK_EQ_INT(n, 3);                    /* g1/a, g1/c, g2/a */
    CHECK_EQ_STR(out[2].group, "g2");
    struct cat_mfilter_sel pre = {.group = "g1", .name_prefix = "b"};
    CHECK_OK(cat_mfilter_list(db, &pre, NULL, 8, &a, out, &n, &more, &err));
    CHECK_EQ_INT(n, 1);
    store_reader_release(s, db);

    CHECK_OK(wr_run(store_writer(s), del_filter_b, name_g1, &err));
    CHECK_EQ_INT(wr_run(store_writer(s), del_filter_b, name_g1, &err), SL_NOT_FOUND);
    sl_err_clear(&err);
    CHECK_OK(store_group_delete(s, "g1", &err));
    CHECK_OK(store_group_create(s, "g1", 0, "{}", &err));
    db = store_reader(s);
    CHECK_OK(cat_mfilter_list(db, &sel, NULL, 8, &a, out, &n, &more, &err));
    CHECK_EQ_INT(n, 0);                    /* gone with the group */
    store_reader_release(s, db);
    arena_fini(&a);
    store_close(s);
}

TEST(query_definitions)
{
    struct sl_err err = {0};
    struct cat_qdef out[8];
    struct arena a;
    int n;
    bool more;
    fresh_dir();
    struct store *s = open_store();
    REQUIRE(s != NULL);
    arena_init(&a, 4096, 0);
    struct cat_qdef_put p = {.create = true, .id = "id-1", .name = "b/x",
                             .query = "fields @message", .max_defs = 2,
                             .now_ms = 7};
    CHECK_OK(wr_run(store_writer(s), put_qdef, &p, &err));
    p.id = "id-2";
    p.name = "a";
    p.log_group_names = "[\"g\"]";
    CHECK_OK(wr_run(store_writer(s), put_qdef, &p, &err));
    p.id = "id-3";
    CHECK_EQ_INT(wr_run(store_writer(s), put_qdef, &p, &err), SL_LIMIT);
    sl_err_clear(&err);
    p.create = false;
    p.id = "id-9";
    CHECK_EQ_INT(wr_run(store_writer(s), put_qdef, &p, &err), SL_NOT_FOUND);
    sl_err_clear(&err);
    p.id = "id-1";
    p.name = "b/y";
    p.log_group_names = NULL;
    p.now_ms = 8;
    CHECK_OK(wr_run(store_writer(s), put_qdef, &p, &err));

    sqlite3 *db = store_reader(s);
    CHECK_OK(cat_qdef_list(db, NULL, NULL, NULL, 1, &a, out, &n, &more, &err));
    CHECK_EQ_INT(n, 1);
    CHECK(more);
    CHECK_EQ_STR(out[0].id, "id-2");
    CHECK_EQ_STR(out[0].log_group_names, "[\"g\"]");
    struct cat_qdef_cursor cur = {.set = true, .name = out[0].name,
                                  .seq = out[0].seq};
    CHECK_OK(cat_qdef_list(db, NULL, NULL, &cur, 1, &a, out, &n, &more, &err));
    CHECK_EQ_INT(n, 1);
    CHECK(!more);
    CHECK_EQ_STR(out[0].name, "b/y");
    CHECK_EQ_STR(out[0].log_group_names, "[]");
    CHECK_EQ_STR(out[0].language, "CWLI");
    CHECK_EQ_INT(out[0].modified_ms, 8);
    CHECK_OK(cat_qdef_list(db, "b/", NULL, NULL, 8, &a, out, &n, &more, &err));
    CHECK_EQ_INT(n, 1);
    store_reader_release(s, db);
    CHECK_OK(wr_run(store_writer(s), del_qdef, id_1, &err));
    CHECK_EQ_INT(wr_run(store_writer(s), del_qdef, id_1, &err), SL_NOT_FOUND);
    arena_fini(&a);
    store_close(s);
}

TEST(group_settings_and_protection)
{
    struct sl_err err = {0};
    struct cat_group g;
    struct arena a;
    fresh_dir();
    struct store *s = open_store();
    REQUIRE(s != NULL);
    arena_init(&a, 4096, 0);
    struct cat_group_settings set = {.log_group_class = "INFREQUENT_ACCESS",
                                     .kms_key_id = "arn:aws:kms:k",
                                     .deletion_protection = true};
    REQUIRE_OK(store_group_create_ex(s, "p", 0, "{}", &set, &err));
    sqlite3 *db = store_reader(s);
    CHECK_OK(cat_group_get(db, "p", &a, &g, &err));
    CHECK_EQ_STR(g.log_group_class, "INFREQUENT_ACCESS");
    CHECK_EQ_STR(g.kms_key_id, "arn:aws:kms:k");
    CHECK(g.deletion_protection);
    struct cat_group list[4];
    int n;
    bool more;
    CHECK_OK(cat_group_list_class(db, NULL, NULL, "STANDARD", NULL, 4, &a,
                                  list, &n, &more, &err));
    CHECK_EQ_INT(n, 0);
    CHECK_OK(cat_group_list_class(db, NULL, NULL, "INFREQUENT_ACCESS", NULL,
                                  4, &a, list, &n, &more, &err));
    CHECK_EQ_INT(n, 1);
    store_reader_release(s, db);
    CHECK_EQ_INT(store_group_delete(s, "p", &err), SL_VALIDATION);
    sl_err_clear(&err);
    CHECK_OK(wr_run(store_writer(s), protect_off, name_p, &err));
    CHECK_OK(store_group_delete(s, "p", &err));
    arena_fini(&a);
    store_close(s);
    fresh_dir();
}

TEST_MAIN()
