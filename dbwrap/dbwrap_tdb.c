/*
 * dbwrap backend on a local tdb.
 *
 * Volatile databases: TDB_CLEAR_IF_FIRST (emptied when the first process
 * opens them after all had closed: their records belonged to processes
 * that are gone), TDB_INCOMPATIBLE_HASH, and robust mutexes for the chain
 * locks where the system has them (faster than fcntl locks and, being
 * robust, released by the kernel when the holder dies, like fcntl).
 * A record lock is the tdb chain lock of its key.
 *
 * Persistent databases: every change in a transaction (dbwrap.c starts
 * one for a lone fetch_locked); inside a transaction no chain lock is
 * taken, the transaction lock already serialises the writers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <tdb.h>

#include "dbwrap/dbwrap_private.h"
#include "lib/util/debug.h"

struct db_tdb {
	struct tdb_context *tdb;
	bool in_transaction;
	/* record locks this process holds (see db_tdb_fetch_locked) */
	unsigned num_locks;
};

/* The record lock: freeing it releases the chain lock. */
struct db_tdb_lock {
	struct db_tdb *ctx;
	TDB_DATA key;
};

static TDB_DATA tdb_key(struct db_data d)
{
	TDB_DATA t = {.dptr = d.dptr, .dsize = d.dsize};
	return t;
}

static NTSTATUS map_tdb_error(struct tdb_context *tdb)
{
	switch (tdb_error(tdb)) {
	case TDB_SUCCESS:
		return NT_STATUS_OK;
	case TDB_ERR_NOEXIST:
		return NT_STATUS_NOT_FOUND;
	case TDB_ERR_OOM:
		return NT_STATUS_NO_MEMORY;
	case TDB_ERR_EXISTS:
		return NT_STATUS_OBJECT_NAME_COLLISION;
	case TDB_ERR_LOCK:
	case TDB_ERR_LOCK_TIMEOUT:
		return NT_STATUS_FILE_LOCK_CONFLICT;
	case TDB_ERR_IO:
		return NT_STATUS_UNEXPECTED_IO_ERROR;
	case TDB_ERR_EINVAL:
		return NT_STATUS_INVALID_PARAMETER;
	case TDB_ERR_RDONLY:
		return NT_STATUS_ACCESS_DENIED;
	case TDB_ERR_NESTING:
		return NT_STATUS_INVALID_DEVICE_STATE;
	case TDB_ERR_CORRUPT:
	default:
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
}

static struct db_tdb *db_tdb(struct db_context *db)
{
	return talloc_get_type_abort(db->backend, struct db_tdb);
}

static int db_tdb_lock_destructor(struct db_tdb_lock *l)
{
	tdb_chainunlock(l->ctx->tdb, l->key);
	l->ctx->num_locks--;
	return 0;
}

struct copy_state {
	TALLOC_CTX *mem_ctx;
	struct db_data *value;
	bool no_memory;
};

static int copy_parser(TDB_DATA key, TDB_DATA data, void *private_data)
{
	struct copy_state *s = private_data;

	if (data.dsize == 0) {
		return 0;
	}
	s->value->dptr = talloc_memdup(s->mem_ctx, data.dptr, data.dsize);
	if (s->value->dptr == NULL) {
		s->no_memory = true;
		return 0;
	}
	s->value->dsize = data.dsize;
	return 0;
}

/* rec->value from the database; missing is an empty value. */
static NTSTATUS read_value(struct db_tdb *ctx, struct db_record *rec)
{
	struct copy_state s = {.mem_ctx = rec, .value = &rec->value};

	rec->value = db_data_make(NULL, 0);
	if (tdb_parse_record(ctx->tdb, tdb_key(rec->key), copy_parser, &s) !=
	    0) {
		if (tdb_error(ctx->tdb) != TDB_ERR_NOEXIST) {
			return map_tdb_error(ctx->tdb);
		}
	}
	return s.no_memory ? NT_STATUS_NO_MEMORY : NT_STATUS_OK;
}

static NTSTATUS db_tdb_fetch_locked(struct db_context *db,
				    struct db_record *rec)
{
	struct db_tdb *ctx = db_tdb(db);
	struct db_tdb_lock *l;
	NTSTATUS status;

	if (ctx->in_transaction) {
		return read_value(ctx, rec);
	}
	l = talloc_zero(rec, struct db_tdb_lock);
	if (l == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	l->ctx = ctx;
	l->key = tdb_key(rec->key); /* rec->key outlives l: both rec's */
	/*
	 * A record lock is the lock of the key's hash chain, and chains do
	 * not follow key order: two processes that each hold one record and
	 * wait for another could deadlock whatever order they chose.  So a
	 * process that already holds a record of this database never waits
	 * for a second one (its own chains it may take again).
	 */
	if (ctx->num_locks > 0) {
		if (tdb_chainlock_nonblock(ctx->tdb, l->key) != 0) {
			DBG_WARNING("%s: a second record lock would wait\n",
				    db->name);
			talloc_free(l);
			return NT_STATUS_POSSIBLE_DEADLOCK;
		}
	} else if (tdb_chainlock(ctx->tdb, l->key) != 0) {
		status = map_tdb_error(ctx->tdb);
		talloc_free(l);
		return status;
	}
	ctx->num_locks++;
	talloc_set_destructor(l, db_tdb_lock_destructor);
	rec->backend_private = l;
	return read_value(ctx, rec);
}

static NTSTATUS db_tdb_record_store(struct db_record *rec,
				    struct db_data value)
{
	struct db_tdb *ctx = db_tdb(rec->db);
	TDB_DATA v = {.dptr = value.dptr, .dsize = value.dsize};

	if (tdb_store(ctx->tdb, tdb_key(rec->key), v, TDB_REPLACE) != 0) {
		return map_tdb_error(ctx->tdb);
	}
	return NT_STATUS_OK;
}

static NTSTATUS db_tdb_record_delete(struct db_record *rec)
{
	struct db_tdb *ctx = db_tdb(rec->db);

	if (tdb_delete(ctx->tdb, tdb_key(rec->key)) != 0 &&
	    tdb_error(ctx->tdb) != TDB_ERR_NOEXIST) {
		return map_tdb_error(ctx->tdb);
	}
	return NT_STATUS_OK;
}

struct parse_state {
	dbwrap_parser_fn parser;
	void *private_data;
	struct db_data key;
};

static int parse_fn(TDB_DATA key, TDB_DATA data, void *private_data)
{
	struct parse_state *s = private_data;

	s->parser(s->key, db_data_make(data.dptr, data.dsize),
		  s->private_data);
	return 0;
}

static NTSTATUS db_tdb_parse_record(struct db_context *db, struct db_data key,
				    dbwrap_parser_fn parser,
				    void *private_data)
{
	struct db_tdb *ctx = db_tdb(db);
	struct parse_state s = {
		.parser = parser, .private_data = private_data, .key = key};

	if (tdb_parse_record(ctx->tdb, tdb_key(key), parse_fn, &s) != 0) {
		return map_tdb_error(ctx->tdb);
	}
	return NT_STATUS_OK;
}

struct traverse_state {
	struct db_context *db;
	dbwrap_traverse_fn fn;
	void *private_data;
	int count;
	NTSTATUS status;
};

static int traverse_fn(struct tdb_context *tdb, TDB_DATA key, TDB_DATA data,
		       void *private_data)
{
	struct traverse_state *s = private_data;
	struct db_record *rec;
	int ret;

	/*
	 * tdb calls us without the chain lock.  Lock the record the way
	 * fetch_locked does and read it again: another process may have
	 * changed or deleted it since tdb looked.
	 */
	rec = dbwrap_record_alloc(s->db, s->db, db_data_make(key.dptr, key.dsize));
	if (rec == NULL) {
		s->status = NT_STATUS_NO_MEMORY;
		return -1;
	}
	s->status = s->db->ops->fetch_locked(s->db, rec);
	if (!NT_STATUS_IS_OK(s->status)) {
		talloc_free(rec);
		return -1;
	}
	if (rec->value.dsize == 0 && !tdb_exists(tdb, key)) {
		talloc_free(rec); /* deleted meanwhile */
		return 0;
	}
	s->count++;
	ret = s->fn(rec, s->private_data);
	talloc_free(rec);
	return ret != 0 ? -1 : 0;
}

static NTSTATUS db_tdb_traverse(struct db_context *db, dbwrap_traverse_fn fn,
				void *private_data, int *count)
{
	struct db_tdb *ctx = db_tdb(db);
	struct traverse_state s = {.db = db,
				   .fn = fn,
				   .private_data = private_data,
				   .status = NT_STATUS_OK};
	int ret = tdb_traverse(ctx->tdb, traverse_fn, &s);

	if (count != NULL) {
		*count = s.count;
	}
	if (!NT_STATUS_IS_OK(s.status)) {
		return s.status;
	}
	return ret < 0 ? map_tdb_error(ctx->tdb) : NT_STATUS_OK;
}

static int traverse_read_fn(struct tdb_context *tdb, TDB_DATA key,
			    TDB_DATA data, void *private_data)
{
	struct traverse_state *s = private_data;
	struct db_record rec = {
		.db = s->db,
		.key = db_data_make(key.dptr, key.dsize),
		.value = db_data_make(data.dptr, data.dsize),
		.read_only = true,
	};

	s->count++;
	return s->fn(&rec, s->private_data) != 0 ? -1 : 0;
}

static NTSTATUS db_tdb_traverse_read(struct db_context *db,
				     dbwrap_traverse_fn fn, void *private_data,
				     int *count)
{
	struct db_tdb *ctx = db_tdb(db);
	struct traverse_state s = {.db = db,
				   .fn = fn,
				   .private_data = private_data,
				   .status = NT_STATUS_OK};
	int ret = tdb_traverse_read(ctx->tdb, traverse_read_fn, &s);

	if (count != NULL) {
		*count = s.count;
	}
	return ret < 0 ? map_tdb_error(ctx->tdb) : NT_STATUS_OK;
}

static NTSTATUS db_tdb_transaction_start(struct db_context *db)
{
	struct db_tdb *ctx = db_tdb(db);

	if (tdb_transaction_start(ctx->tdb) != 0) {
		return map_tdb_error(ctx->tdb);
	}
	ctx->in_transaction = true;
	return NT_STATUS_OK;
}

static NTSTATUS db_tdb_transaction_commit(struct db_context *db)
{
	struct db_tdb *ctx = db_tdb(db);
	NTSTATUS status = NT_STATUS_OK;

	ctx->in_transaction = false;
	if (tdb_transaction_commit(ctx->tdb) != 0) {
		status = map_tdb_error(ctx->tdb);
		DBG_ERR("%s: commit: %s\n", db->name, nt_errstr(status));
		/* make sure nothing of it stays (tdb cancels on most
		 * failures; a second cancel only fails) */
		tdb_transaction_cancel(ctx->tdb);
	}
	return status;
}

static NTSTATUS db_tdb_transaction_cancel(struct db_context *db)
{
	struct db_tdb *ctx = db_tdb(db);

	ctx->in_transaction = false;
	if (tdb_transaction_cancel(ctx->tdb) != 0) {
		return map_tdb_error(ctx->tdb);
	}
	return NT_STATUS_OK;
}

static const struct db_backend_ops db_tdb_ops = {
	.name = "tdb",
	.fetch_locked = db_tdb_fetch_locked,
	.record_store = db_tdb_record_store,
	.record_delete = db_tdb_record_delete,
	.parse_record = db_tdb_parse_record,
	.traverse = db_tdb_traverse,
	.traverse_read = db_tdb_traverse_read,
	.transaction_start = db_tdb_transaction_start,
	.transaction_commit = db_tdb_transaction_commit,
	.transaction_cancel = db_tdb_transaction_cancel,
};

static int db_tdb_destructor(struct db_tdb *ctx)
{
	if (ctx->tdb != NULL) {
		tdb_close(ctx->tdb); /* cancels a running transaction */
		ctx->tdb = NULL;
	}
	return 0;
}

static void tdb_log(struct tdb_context *tdb, enum tdb_debug_level level,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void tdb_log(struct tdb_context *tdb, enum tdb_debug_level level,
		    const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int dbg_level;

	switch (level) {
	case TDB_DEBUG_FATAL:
		dbg_level = 0;
		break;
	case TDB_DEBUG_ERROR:
		dbg_level = 1;
		break;
	case TDB_DEBUG_WARNING:
		dbg_level = 2;
		break;
	default:
		dbg_level = 5;
		break;
	}
	if (dbg_level > debug_level) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	DEBUG_AT(dbg_level, "tdb(%s): %s", tdb_name(tdb), buf);
}

struct db_context *db_open_tdb_internal(TALLOC_CTX *mem_ctx,
					struct messaging_context *msg,
					const char *path, int hash_size,
					enum dbwrap_flags flags, bool watchers)
{
	bool persistent = (flags & DBWRAP_FLAG_PERSISTENT) != 0;
	struct tdb_logging_context log = {.log_fn = tdb_log};
	struct db_context *db;
	struct db_tdb *ctx;
	int tdb_flags = TDB_INCOMPATIBLE_HASH;
	char *side;

	db = dbwrap_context_new(mem_ctx, &db_tdb_ops, msg, path, persistent);
	if (db == NULL) {
		return NULL;
	}
	ctx = talloc_zero(db, struct db_tdb);
	if (ctx == NULL) {
		goto fail;
	}
	db->backend = ctx;

	if (persistent) {
		tdb_flags |= TDB_DISALLOW_NESTING;
	} else {
		tdb_flags |= TDB_CLEAR_IF_FIRST;
		if (tdb_runtime_check_for_robust_mutexes()) {
			tdb_flags |= TDB_MUTEX_LOCKING;
		}
	}
	ctx->tdb = tdb_open_ex(path, hash_size, tdb_flags, O_RDWR | O_CREAT,
			       0644, &log, NULL);
	if (ctx->tdb == NULL) {
		DBG_ERR("cannot open %s: %s\n", path, strerror(errno));
		goto fail;
	}
	talloc_set_destructor(ctx, db_tdb_destructor);

	if (watchers) {
		side = talloc_asprintf(db, "%s.watch", path);
		if (side == NULL) {
			goto fail;
		}
		db->watchers = db_open_tdb_internal(db, NULL, side, 0,
						    DBWRAP_FLAG_NONE, false);
		talloc_free(side);
		if (db->watchers == NULL) {
			goto fail;
		}
	}
	return db;
fail:
	talloc_free(db);
	return NULL;
}
