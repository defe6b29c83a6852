/*
 * dbwrap front end: argument checks, the convenience functions, the
 * implicit transaction of a persistent record, and the watch wake-up
 * after each change.  Everything else goes through db->ops (see
 * dbwrap_private.h for who does what).
 */
#include <string.h>

#include "dbwrap/dbwrap_private.h"
#include "lib/util/debug.h"

static int db_context_destructor(struct db_context *db)
{
	dbwrap_watch_context_gone(db);
	return 0;
}

struct db_context *dbwrap_context_new(TALLOC_CTX *mem_ctx,
				      const struct db_backend_ops *ops,
				      struct messaging_context *msg,
				      const char *name, bool persistent)
{
	struct db_context *db = talloc_zero(mem_ctx, struct db_context);

	if (db == NULL) {
		return NULL;
	}
	db->ops = ops;
	db->msg = msg;
	db->persistent = persistent;
	db->name = talloc_strdup(db, name);
	if (db->name == NULL) {
		talloc_free(db);
		return NULL;
	}
	talloc_set_destructor(db, db_context_destructor);
	return db;
}

const char *dbwrap_name(const struct db_context *db)
{
	return db->name;
}

static bool key_ok(struct db_data key)
{
	/* tdb refuses empty keys; so do we, for every backend. */
	return key.dptr != NULL && key.dsize != 0;
}

NTSTATUS dbwrap_parse_record(struct db_context *db, struct db_data key,
			     dbwrap_parser_fn parser, void *private_data)
{
	if (db == NULL || !key_ok(key) || parser == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return db->ops->parse_record(db, key, parser, private_data);
}

struct fetch_state {
	TALLOC_CTX *mem_ctx;
	struct db_data *value;
	bool no_memory;
};

static void fetch_parser(struct db_data key, struct db_data data,
			 void *private_data)
{
	struct fetch_state *s = private_data;

	if (data.dsize == 0) {
		*s->value = db_data_make(NULL, 0);
		return;
	}
	s->value->dptr = talloc_memdup(s->mem_ctx, data.dptr, data.dsize);
	s->value->dsize = data.dsize;
	s->no_memory = (s->value->dptr == NULL);
}

NTSTATUS dbwrap_fetch(struct db_context *db, TALLOC_CTX *mem_ctx,
		      struct db_data key, struct db_data *value)
{
	struct fetch_state s = {.mem_ctx = mem_ctx, .value = value};
	NTSTATUS status;

	if (value == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	*value = db_data_make(NULL, 0);
	status = dbwrap_parse_record(db, key, fetch_parser, &s);
	if (NT_STATUS_IS_OK(status) && s.no_memory) {
		*value = db_data_make(NULL, 0);
		return NT_STATUS_NO_MEMORY;
	}
	return status;
}

static void exists_parser(struct db_data key, struct db_data data,
			  void *private_data)
{
}

bool dbwrap_exists(struct db_context *db, struct db_data key)
{
	return NT_STATUS_IS_OK(
		dbwrap_parse_record(db, key, exists_parser, NULL));
}

struct db_record *dbwrap_record_alloc(TALLOC_CTX *mem_ctx,
				      struct db_context *db,
				      struct db_data key)
{
	struct db_record *rec = talloc_zero(mem_ctx, struct db_record);

	if (rec == NULL) {
		return NULL;
	}
	rec->db = db;
	rec->key.dptr = talloc_memdup(rec, key.dptr, key.dsize);
	if (rec->key.dptr == NULL) {
		talloc_free(rec);
		return NULL;
	}
	rec->key.dsize = key.dsize;
	return rec;
}

static void txn_changed_clear(struct db_context *db)
{
	TALLOC_FREE(db->txn_changed);
	db->num_txn_changed = 0;
}

static NTSTATUS txn_start(struct db_context *db)
{
	NTSTATUS status = db->ops->transaction_start(db);

	if (NT_STATUS_IS_OK(status)) {
		db->in_transaction = true;
		txn_changed_clear(db);
	}
	return status;
}

static NTSTATUS txn_commit(struct db_context *db)
{
	NTSTATUS status = db->ops->transaction_commit(db);
	size_t i;

	db->in_transaction = false;
	db->txn_rec = NULL;
	if (NT_STATUS_IS_OK(status)) {
		/* Now the new values are what a woken watcher reads. */
		for (i = 0; i < db->num_txn_changed; i++) {
			dbwrap_watch_wakeup(db, db->txn_changed[i]);
		}
	}
	txn_changed_clear(db);
	return status;
}

static NTSTATUS txn_cancel(struct db_context *db)
{
	NTSTATUS status = db->ops->transaction_cancel(db);

	db->in_transaction = false;
	db->txn_rec = NULL;
	txn_changed_clear(db);
	return status;
}

/* Remember key for the wake-up after the commit. */
static NTSTATUS txn_changed_add(struct db_context *db, struct db_data key)
{
	struct db_data *n;
	size_t i;

	for (i = 0; i < db->num_txn_changed; i++) {
		if (db->txn_changed[i].dsize == key.dsize &&
		    memcmp(db->txn_changed[i].dptr, key.dptr, key.dsize) == 0) {
			return NT_STATUS_OK;
		}
	}
	n = talloc_realloc(db, db->txn_changed, struct db_data,
			   db->num_txn_changed + 1);
	if (n == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	db->txn_changed = n;
	n[db->num_txn_changed].dptr = talloc_memdup(n, key.dptr, key.dsize);
	if (n[db->num_txn_changed].dptr == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	n[db->num_txn_changed].dsize = key.dsize;
	db->num_txn_changed++;
	return NT_STATUS_OK;
}

static int record_destructor(struct db_record *rec)
{
	struct db_context *db = rec->db;

	if (rec->owns_transaction && !rec->done && db->txn_rec == rec) {
		/* Locked but never changed: nothing to keep. */
		txn_cancel(db);
	}
	return 0;
}

struct db_record *dbwrap_fetch_locked(struct db_context *db,
				      TALLOC_CTX *mem_ctx, struct db_data key)
{
	struct db_record *rec;
	NTSTATUS status;

	if (db == NULL || !key_ok(key)) {
		return NULL;
	}
	rec = dbwrap_record_alloc(mem_ctx, db, key);
	if (rec == NULL) {
		return NULL;
	}
	if (db->persistent && !db->in_transaction) {
		/*
		 * A persistent database changes only inside transactions,
		 * and a tdb transaction cannot start while a record lock is
		 * held: so the record's lock is a transaction of its own,
		 * committed by the store.
		 */
		status = txn_start(db);
		if (!NT_STATUS_IS_OK(status)) {
			DBG_ERR("%s: transaction for a record: %s\n", db->name,
				nt_errstr(status));
			talloc_free(rec);
			return NULL;
		}
		rec->owns_transaction = true;
		db->txn_rec = rec;
		talloc_set_destructor(rec, record_destructor);
	}
	status = db->ops->fetch_locked(db, rec);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("%s: fetch_locked: %s\n", db->name, nt_errstr(status));
		talloc_free(rec);
		return NULL;
	}
	return rec;
}

struct db_data dbwrap_record_get_key(const struct db_record *rec)
{
	return rec->key;
}

struct db_data dbwrap_record_get_value(const struct db_record *rec)
{
	return rec->value;
}

struct db_context *dbwrap_record_get_db(struct db_record *rec)
{
	return rec->db;
}

static NTSTATUS record_change_check(struct db_record *rec)
{
	if (rec == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (rec->read_only) {
		return NT_STATUS_MEDIA_WRITE_PROTECTED;
	}
	if (rec->done) {
		/* its implicit transaction is committed: no longer locked */
		return NT_STATUS_INVALID_DEVICE_STATE;
	}
	return NT_STATUS_OK;
}

/* After a successful change: wake now, or after the commit. */
static NTSTATUS record_changed(struct db_record *rec)
{
	struct db_context *db = rec->db;
	NTSTATUS status;

	if (rec->owns_transaction) {
		rec->done = true;
		return txn_commit(db); /* wakes after committing */
	}
	if (db->in_transaction) {
		status = txn_changed_add(db, rec->key);
		if (!NT_STATUS_IS_OK(status)) {
			/* Without the note a watcher could sleep through
			 * the change: better to fail the transaction. */
			return status;
		}
		return NT_STATUS_OK;
	}
	/* Still locked: a watcher either registered before our lock (and
	 * is in the list read now) or will see the new value. */
	dbwrap_watch_wakeup(db, rec->key);
	return NT_STATUS_OK;
}

NTSTATUS dbwrap_record_store(struct db_record *rec, struct db_data value)
{
	NTSTATUS status = record_change_check(rec);
	uint8_t *copy = NULL;

	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (value.dsize != 0 && value.dptr == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (value.dsize != 0) {
		copy = talloc_memdup(rec, value.dptr, value.dsize);
		if (copy == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	status = rec->db->ops->record_store(rec, value);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(copy);
		return status;
	}
	talloc_free(rec->value.dptr);
	rec->value = db_data_make(copy, value.dsize);
	return record_changed(rec);
}

NTSTATUS dbwrap_record_delete(struct db_record *rec)
{
	NTSTATUS status = record_change_check(rec);

	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = rec->db->ops->record_delete(rec);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	TALLOC_FREE(rec->value.dptr);
	rec->value.dsize = 0;
	return record_changed(rec);
}

NTSTATUS dbwrap_store(struct db_context *db, struct db_data key,
		      struct db_data value)
{
	struct db_record *rec = dbwrap_fetch_locked(db, db, key);
	NTSTATUS status;

	if (rec == NULL) {
		return db == NULL || !key_ok(key) ? NT_STATUS_INVALID_PARAMETER
						  : NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	status = dbwrap_record_store(rec, value);
	talloc_free(rec);
	return status;
}

NTSTATUS dbwrap_delete(struct db_context *db, struct db_data key)
{
	struct db_record *rec = dbwrap_fetch_locked(db, db, key);
	NTSTATUS status;

	if (rec == NULL) {
		return db == NULL || !key_ok(key) ? NT_STATUS_INVALID_PARAMETER
						  : NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	/* Deleting what is not there succeeds: the goal state holds. */
	status = dbwrap_record_delete(rec);
	talloc_free(rec);
	return status;
}

NTSTATUS dbwrap_traverse(struct db_context *db, dbwrap_traverse_fn fn,
			 void *private_data, int *count)
{
	NTSTATUS status, status2;

	if (count != NULL) {
		*count = 0;
	}
	if (db == NULL || fn == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!db->persistent || db->in_transaction) {
		return db->ops->traverse(db, fn, private_data, count);
	}
	/* Changes to a persistent database happen in a transaction: make
	 * the whole walk one. */
	status = txn_start(db);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = db->ops->traverse(db, fn, private_data, count);
	if (!NT_STATUS_IS_OK(status)) {
		txn_cancel(db);
		return status;
	}
	status2 = txn_commit(db);
	return status2;
}

NTSTATUS dbwrap_traverse_read(struct db_context *db, dbwrap_traverse_fn fn,
			      void *private_data, int *count)
{
	if (count != NULL) {
		*count = 0;
	}
	if (db == NULL || fn == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return db->ops->traverse_read(db, fn, private_data, count);
}

NTSTATUS dbwrap_transaction_start(struct db_context *db)
{
	if (db == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!db->persistent) {
		return NT_STATUS_NOT_SUPPORTED;
	}
	if (db->in_transaction) {
		/* nested, or a locked record's own transaction */
		return NT_STATUS_INVALID_DEVICE_STATE;
	}
	return txn_start(db);
}

NTSTATUS dbwrap_transaction_start_volatile(struct db_context *db)
{
	if (db == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (db->in_transaction) {
		return NT_STATUS_INVALID_DEVICE_STATE;
	}
	return txn_start(db);
}

static NTSTATUS explicit_txn_check(struct db_context *db)
{
	if (db == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!db->in_transaction || db->txn_rec != NULL) {
		/* none running, or it belongs to a locked record */
		return NT_STATUS_INVALID_DEVICE_STATE;
	}
	return NT_STATUS_OK;
}

NTSTATUS dbwrap_transaction_commit(struct db_context *db)
{
	NTSTATUS status = explicit_txn_check(db);

	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	return txn_commit(db);
}

NTSTATUS dbwrap_transaction_cancel(struct db_context *db)
{
	NTSTATUS status = explicit_txn_check(db);

	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	return txn_cancel(db);
}

struct db_context *db_open_tdb(TALLOC_CTX *mem_ctx,
			       struct messaging_context *msg,
			       const char *path, int hash_size,
			       enum dbwrap_flags flags)
{
	if (path == NULL || path[0] == '\0') {
		return NULL;
	}
	return db_open_tdb_internal(mem_ctx, msg, path, hash_size, flags,
				    true);
}
