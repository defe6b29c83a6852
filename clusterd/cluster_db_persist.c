/*
 * Persistent replicated databases: one COMMIT applied to one replica
 * (cluster_db_persist.h).
 *
 * Why a database-wide compare-and-swap and not one per record: a
 * transaction's reads are not only the records it changes (a traverse, a
 * lookup that found nothing, a record read to decide about another), and
 * naming every one of them in the COMMIT would still miss the records a
 * traverse did not meet because they did not exist yet.  The database
 * seq covers all of that with one number: the transaction saw exactly
 * the replica at that seq, so if the seq is unchanged when the COMMIT is
 * applied, nothing it read has changed.  The price is a conflict between
 * transactions of different nodes that touch unrelated records; for the
 * databases that are persistent (users, configuration: rare writes) that
 * costs a retry now and then.  Transactions of one node never conflict:
 * they hold the node-local transaction lock (dbwrap_cluster.c).
 */
#include "clusterd/cluster_db_persist.h"

#include "lib/util/debug.h"

static const struct db_data dbseq_key = {
	.dptr = (uint8_t *)CLDB_DBSEQ_KEY,
	.dsize = CLDB_DBSEQ_KEY_LEN,
};

/* A replica record's VALUE; seq 0 when there is none. */
static NTSTATUS read_value(struct db_context *db, TALLOC_CTX *mem_ctx,
			   struct db_data key, struct cldb_value *v)
{
	struct db_data raw = {0};
	NTSTATUS status;

	*v = (struct cldb_value){0};
	status = dbwrap_fetch(db, mem_ctx, key, &raw);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		return NT_STATUS_OK;
	}
	NT_STATUS_NOT_OK_RETURN(status);
	status = cldb_value_pull(raw.dptr, raw.dsize, v);
	if (!NT_STATUS_IS_OK(status)) {
		/* the same bytes on every node: a shared outcome */
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	return NT_STATUS_OK;
}

NTSTATUS cluster_db_persist_dbseq(struct db_context *db, uint64_t *seq)
{
	TALLOC_CTX *frame = talloc_new(NULL);
	struct cldb_value v;
	NTSTATUS status;

	*seq = 0;
	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = read_value(db, frame, dbseq_key, &v);
	if (NT_STATUS_IS_OK(status)) {
		*seq = v.seq;
	}
	talloc_free(frame);
	return status;
}

static NTSTATUS put_value(struct db_context *db, TALLOC_CTX *mem_ctx,
			  struct db_data key, const struct cldb_value *v)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status = cldb_value_push(mem_ctx, v, &buf, &len);

	if (NT_STATUS_IS_OK(status)) {
		/* inside the caller's transaction: dbwrap.c wakes the key's
		 * local watchers after the commit */
		status = dbwrap_store(db, key, db_data_make(buf, len));
	}
	return status;
}

/* The changes of t, in order, inside the running transaction. */
static NTSTATUS apply_changes(struct db_context *db, TALLOC_CTX *mem_ctx,
			      const struct cldb_txn *t)
{
	for (uint32_t i = 0; i < t->num_recs; i++) {
		const struct cldb_txn_rec *r = &t->recs[i];
		struct cldb_value cur, nv = {0};
		NTSTATUS status = read_value(db, mem_ctx, r->key, &cur);

		NT_STATUS_NOT_OK_RETURN(status);
		if (r->op == CLDB_OP_DELETE && (cur.seq == 0 || cur.deleted)) {
			continue; /* nothing there: the goal state holds */
		}
		/* a tombstone keeps the key's seq growing, as for volatile
		 * databases (the snapshot carries it) */
		nv.seq = cur.seq + 1;
		nv.deleted = r->op == CLDB_OP_DELETE;
		nv.value = r->value;
		status = put_value(db, mem_ctx, r->key, &nv);
		NT_STATUS_NOT_OK_RETURN(status);
	}
	return NT_STATUS_OK;
}

NTSTATUS cluster_db_persist_check(const struct cldb_request *req)
{
	TALLOC_CTX *frame = talloc_new(NULL);
	struct cldb_txn t;
	NTSTATUS status;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = cldb_txn_pull(frame, req->value.dptr, req->value.dsize, &t);
	talloc_free(frame);
	return status;
}

NTSTATUS cluster_db_persist_commit(struct db_context *db,
				   const struct cldb_update *u,
				   uint64_t *new_dbseq)
{
	TALLOC_CTX *frame = talloc_new(NULL);
	struct cldb_value cur, nv = {.deleted = true};
	struct cldb_txn t;
	NTSTATUS status;

	*new_dbseq = 0;
	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = cldb_txn_pull(frame, u->req.value.dptr, u->req.value.dsize,
			       &t);
	if (!NT_STATUS_IS_OK(status)) {
		/* every node parses the same bytes: dropped alike */
		talloc_free(frame);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	status = dbwrap_transaction_start(db);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(frame);
		return status;
	}
	status = read_value(db, frame, dbseq_key, &cur);
	if (NT_STATUS_IS_OK(status) && cur.seq != u->req.seq) {
		/* another commit came first since the transaction began */
		*new_dbseq = cur.seq;
		status = NT_STATUS_RETRY;
	}
	if (NT_STATUS_IS_OK(status)) {
		status = apply_changes(db, frame, &t);
	}
	if (NT_STATUS_IS_OK(status)) {
		/* the database seq: a tombstone, invisible to readers */
		nv.seq = cur.seq + 1;
		status = put_value(db, frame, dbseq_key, &nv);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = dbwrap_transaction_commit(db);
		if (NT_STATUS_IS_OK(status)) {
			*new_dbseq = nv.seq;
		}
	} else {
		dbwrap_transaction_cancel(db);
	}
	talloc_free(frame);
	return status;
}
