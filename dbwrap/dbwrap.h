/*
 * dbwrap: one database API over several backends
 * (docs/architecture.md "dbwrap").
 *
 * Backends: local tdb (dbwrap_tdb.c) today; the clustered backend of
 * clusterd implements the same struct db_backend_ops (dbwrap_private.h),
 * so callers never change.
 *
 * Keys and values are byte strings (struct db_data).  Values are encoded
 * with lib/util/marshall.h, never raw structs.
 *
 * Reading without a lock (parse in place, no copy):
 *     status = dbwrap_parse_record(db, key, parser, &state);
 * Changing a record:
 *     struct db_record *rec = dbwrap_fetch_locked(db, mem_ctx, key);
 *     struct db_data old = dbwrap_record_get_value(rec);  // may be empty
 *     status = dbwrap_record_store(rec, new_value);  // or _delete(rec)
 *     TALLOC_FREE(rec);                               // releases the lock
 * Waiting for a record to change (or for the process that holds it to
 * die), dbwrap_watch.c:
 *     rec = dbwrap_fetch_locked(db, ...);            // see it's busy
 *     subreq = dbwrap_watch_send(state, ev, rec, blocker);
 *     TALLOC_FREE(rec);                               // then wait
 *     ... dbwrap_watch_recv(subreq, &blocker_died)
 * Registering the watch while holding the record lock means no change
 * can slip between the check and the wait.
 */
#ifndef DBWRAP_DBWRAP_H
#define DBWRAP_DBWRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h> /* strlen in db_data_string */
#include <sys/types.h>
#include <talloc.h>
#include <tevent.h>

#include "lib/util/ntstatus.h"
#include "messaging/messaging.h"

struct db_context;
struct db_record;

struct db_data {
	uint8_t *dptr;
	size_t dsize;
};

static inline struct db_data db_data_make(const void *p, size_t n)
{
	struct db_data d = {.dptr = (uint8_t *)p, .dsize = n};
	return d;
}
#define db_data_string(s) db_data_make((s), strlen(s))

enum dbwrap_flags {
	DBWRAP_FLAG_NONE = 0,
	/* Persistent database: survives restart, changes go through
	 * transactions (users, registry-like config).  Without it the
	 * database is volatile: cleared when the first process opens it
	 * after boot (TDB_CLEAR_IF_FIRST) and never fsync'ed. */
	DBWRAP_FLAG_PERSISTENT = 1,
};

/*
 * Open (create) a local tdb database at path.  msg may be NULL when the
 * caller never watches records.  Returns NULL on failure (logged).
 */
struct db_context *db_open_tdb(TALLOC_CTX *mem_ctx,
			       struct messaging_context *msg,
			       const char *path, int hash_size,
			       enum dbwrap_flags flags);

const char *dbwrap_name(const struct db_context *db);

/* NT_STATUS_NOT_FOUND when there is no record.  The parser must not
 * keep pointers into data. */
typedef void (*dbwrap_parser_fn)(struct db_data key, struct db_data data,
				 void *private_data);
NTSTATUS dbwrap_parse_record(struct db_context *db, struct db_data key,
			     dbwrap_parser_fn parser, void *private_data);
/* Copying fetch: value talloc'd on mem_ctx. */
NTSTATUS dbwrap_fetch(struct db_context *db, TALLOC_CTX *mem_ctx,
		      struct db_data key, struct db_data *value);
bool dbwrap_exists(struct db_context *db, struct db_data key);

/* Lock the record (exists or not); NULL on failure.  Free it to unlock.
 * Hold one record of a db at a time: record locks are hash-chain locks,
 * which no key order can keep free of deadlocks, so while a process holds
 * a record, fetch_locked of another one of the same db fails at once
 * (NULL, logged) when it would have to wait. */
struct db_record *dbwrap_fetch_locked(struct db_context *db,
				      TALLOC_CTX *mem_ctx, struct db_data key);
struct db_data dbwrap_record_get_key(const struct db_record *rec);
/* dsize 0 when the record does not exist. */
struct db_data dbwrap_record_get_value(const struct db_record *rec);
NTSTATUS dbwrap_record_store(struct db_record *rec, struct db_data value);
NTSTATUS dbwrap_record_delete(struct db_record *rec);
struct db_context *dbwrap_record_get_db(struct db_record *rec);

/* Convenience: lock, store/delete, unlock. */
NTSTATUS dbwrap_store(struct db_context *db, struct db_data key,
		      struct db_data value);
NTSTATUS dbwrap_delete(struct db_context *db, struct db_data key);

/*
 * Walk every record.  fn returns 0 to go on, nonzero to stop.
 * dbwrap_traverse: records are locked, fn may store/delete its rec.
 * dbwrap_traverse_read: read only, no store/delete.
 * *count (may be NULL) gets the number of records visited.
 * Never start a dbwrap_traverse while holding a record of the same db:
 * a concurrent traverse in another process would wait for that record
 * while this one waits for the traverse (tdb's traverse lock).
 */
typedef int (*dbwrap_traverse_fn)(struct db_record *rec, void *private_data);
NTSTATUS dbwrap_traverse(struct db_context *db, dbwrap_traverse_fn fn,
			 void *private_data, int *count);
NTSTATUS dbwrap_traverse_read(struct db_context *db, dbwrap_traverse_fn fn,
			      void *private_data, int *count);

/* Transactions: persistent databases only.  Nested starts are refused. */
NTSTATUS dbwrap_transaction_start(struct db_context *db);
NTSTATUS dbwrap_transaction_commit(struct db_context *db);
NTSTATUS dbwrap_transaction_cancel(struct db_context *db);
/*
 * The same on a volatile database too (commit/cancel as above), for a
 * writer that replaces many records at once and must not let readers see
 * a mix: clusterd's resync of a replica.  Readers see the old records
 * until the commit, the new ones after it (tdb's commit holds the
 * all-record lock while it writes); watchers of the changed keys are
 * woken after the commit.
 */
NTSTATUS dbwrap_transaction_start_volatile(struct db_context *db);

/*
 * Watch a locked record (dbwrap_watch.c).  Completes when the record is
 * stored or deleted by anyone (through dbwrap), or when blocker (if its
 * pid is not 0) dies.  The watch is node-local: the watcher list lives in
 * a local side database, and the process that stores the record (or, in
 * a cluster, the local clusterd that applies the update) wakes the
 * watchers with MSG_DBWRAP_MODIFIED.  Requires a db opened with a
 * messaging context.  Free the request to stop watching.
 */
struct tevent_req *dbwrap_watch_send(TALLOC_CTX *mem_ctx,
				     struct tevent_context *ev,
				     struct db_record *rec,
				     struct server_id blocker);
/* OK when woken (changed or blocker died: *blocker_died tells which);
 * NT_STATUS_IO_TIMEOUT if the caller set a timeout with
 * tevent_req_set_endtime(). */
NTSTATUS dbwrap_watch_recv(struct tevent_req *req, bool *blocker_died);

#endif
