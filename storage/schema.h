/* storage/schema.h: the database schema and its migrations. The version
 * lives in PRAGMA user_version; schema_migrate() brings any older file up to
 * SCHEMA_VERSION in one transaction and refuses files from the future. */
#ifndef SLUICE_STORAGE_SCHEMA_H
#define SLUICE_STORAGE_SCHEMA_H

#include "common/status.h"

#include <sqlite3.h>

#define SCHEMA_VERSION 4

/* Runs on the writer connection before anything else touches the file. */
enum sl_status schema_migrate(sqlite3 *db, struct sl_err *err) SL_MUST_CHECK;
/* The version the file is at now (0 for a new file). */
int schema_version(sqlite3 *db);

#endif
