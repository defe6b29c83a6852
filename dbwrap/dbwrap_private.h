/*
 * dbwrap internals: what a backend implements and what the front end
 * (dbwrap.c) and the watches (dbwrap_watch.c) share.  Callers include
 * dbwrap.h only.
 *
 * Division of work
 *   dbwrap.c        argument checks, convenience functions, the implicit
 *                   transaction of a persistent record, and the watch
 *                   wake-up after every successful store/delete.
 *   backend         locking, reading and writing records; transactions.
 *   dbwrap_watch.c  the watcher list in the side database "<path>.watch"
 *                   and MSG_DBWRAP_MODIFIED.
 *
 * A backend (dbwrap_tdb.c today, the clustered backend of clusterd next)
 * fills a struct db_backend_ops and creates its db_context with
 * dbwrap_context_new().  It never wakes watchers itself when a record is
 * changed through dbwrap: the front end does that.  A backend that learns
 * of changes made elsewhere (clusterd applying an update from another
 * node) calls dbwrap_watch_wakeup() for the key, after the change is
 * visible to local readers.
 */
#ifndef DBWRAP_DBWRAP_PRIVATE_H
#define DBWRAP_DBWRAP_PRIVATE_H

#include "dbwrap/dbwrap.h"

struct db_watch_state;

struct db_record {
	struct db_context *db;
	struct db_data key;   /* talloc child of the record */
	struct db_data value; /* talloc child; dsize 0: no record */
	/* The backend's lock state (a talloc child of the record whose
	 * destructor unlocks), NULL when the record is not locked by the
	 * backend itself (inside a transaction, or read-only). */
	void *backend_private;
	/* traverse_read hands out records that must not be changed. */
	bool read_only;
	/* dbwrap.c: fetch_locked on a persistent database outside a
	 * transaction started a transaction for this record.  The first
	 * store/delete commits it; after that (done) the record is no longer
	 * locked and refuses further changes. */
	bool owns_transaction;
	bool done;
};

struct db_backend_ops {
	const char *name; /* "tdb", ... for logs */

	/*
	 * Lock rec->key and fill rec->value (a talloc child of rec, dsize 0
	 * when missing).  Outside a transaction the lock is the backend's
	 * record lock, released when rec is freed.  Inside a transaction
	 * (the backend knows: it started it) the transaction serialises all
	 * writers and no record lock is taken.
	 */
	NTSTATUS (*fetch_locked)(struct db_context *db, struct db_record *rec);
	/* Change the locked record; rec->value is updated by dbwrap.c. */
	NTSTATUS (*record_store)(struct db_record *rec, struct db_data value);
	NTSTATUS (*record_delete)(struct db_record *rec);

	/* NT_STATUS_NOT_FOUND when missing; data only valid inside parser. */
	NTSTATUS (*parse_record)(struct db_context *db, struct db_data key,
				 dbwrap_parser_fn parser, void *private_data);

	/*
	 * Visit every record.  traverse hands fn locked records (created
	 * with dbwrap_record_alloc() and locked through fetch_locked) whose
	 * store/delete go through dbwrap.c; traverse_read hands out
	 * read_only records.  A persistent database is traversed inside a
	 * transaction (dbwrap.c starts one if none is running).
	 */
	NTSTATUS (*traverse)(struct db_context *db, dbwrap_traverse_fn fn,
			     void *private_data, int *count);
	NTSTATUS (*traverse_read)(struct db_context *db, dbwrap_traverse_fn fn,
				  void *private_data, int *count);

	/* Persistent databases only; dbwrap.c refuses nesting. */
	NTSTATUS (*transaction_start)(struct db_context *db);
	NTSTATUS (*transaction_commit)(struct db_context *db);
	NTSTATUS (*transaction_cancel)(struct db_context *db);

	/*
	 * Optional (NULL: never true).  Has the locked rec's record been
	 * changed since it was fetched by a writer that does not take this
	 * backend's record lock (the clustered backend: clusterd applying
	 * another node's update)?  dbwrap_watch_send() asks right after it
	 * registered the watcher, so such a change between the fetch and
	 * the registration wakes the watch at once instead of being missed.
	 */
	bool (*record_changed)(struct db_record *rec);
};

struct db_context {
	const struct db_backend_ops *ops;
	void *backend; /* the backend's state, a talloc child of the context */
	char *name;    /* the path: names the database in wake-up messages */
	struct messaging_context *msg; /* NULL: this process cannot watch */
	bool persistent;

	/* Transaction state (dbwrap.c).  txn_rec: the record whose
	 * fetch_locked started the running transaction implicitly. */
	bool in_transaction;
	struct db_record *txn_rec;
	/* Keys changed inside the running transaction: their watchers are
	 * woken after the commit, never before (a watcher woken early would
	 * re-read the old value and wait again for a change already made). */
	struct db_data *txn_changed;
	size_t num_txn_changed;

	/* Watches (dbwrap_watch.c).  watchers: the side database that holds
	 * the watcher list of every key (volatile, "<path>.watch"). */
	struct db_context *watchers;
	struct db_watch_state *watches; /* this process's running watches */
	bool watch_handler_registered;
	uint64_t next_watch_instance;
};

/*
 * For backends: a context with the front end's fields initialised
 * (name, msg, persistent).  The caller sets ->backend, then calls
 * dbwrap_context_finish() which opens the watcher side database (unless
 * watch_path is NULL: the side database itself has no watchers).
 */
struct db_context *dbwrap_context_new(TALLOC_CTX *mem_ctx,
				      const struct db_backend_ops *ops,
				      struct messaging_context *msg,
				      const char *name, bool persistent);

/* A record of db with a copy of key, not yet locked: for backends that
 * build the records of a traverse. */
struct db_record *dbwrap_record_alloc(TALLOC_CTX *mem_ctx,
				      struct db_context *db,
				      struct db_data key);

/* dbwrap_tdb.c: a local tdb database, used for the side database too.
 * watchers: whether to open "<path>.watch" alongside. */
struct db_context *db_open_tdb_internal(TALLOC_CTX *mem_ctx,
					struct messaging_context *msg,
					const char *path, int hash_size,
					enum dbwrap_flags flags, bool watchers);

/*
 * dbwrap_watch.c.  Wake the local watchers of key: read and remove the
 * key's watcher list from the side database and send MSG_DBWRAP_MODIFIED
 * to each.  dbwrap.c calls it after every successful store/delete, while
 * the record is still locked (or after a commit); the clustered backend
 * calls it when it applies a change that came from another node.
 * Failures are logged: watchers that miss a wake-up are those whose
 * process is gone.
 */
void dbwrap_watch_wakeup(struct db_context *db, struct db_data key);

/* dbwrap_watch.c: the context is going away; its running watches fail. */
void dbwrap_watch_context_gone(struct db_context *db);

#endif
