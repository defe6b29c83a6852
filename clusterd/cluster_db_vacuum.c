/*
 * Vacuuming the tombstones of volatile replicated databases
 * (cluster_db_vacuum.h, docs/cluster.md "Vacuuming tombstones").
 *
 * Why removing a tombstone is safe: a compare-and-swap names the seq the
 * client read, and a key's seqs must never repeat, else a client that
 * read seq N of an earlier life of the key could overwrite a later life
 * that reached N again.  The tombstone kept the key's seq going after a
 * delete.  Instead, the database keeps a floor: the highest seq of any
 * tombstone removed from it, raised in the same tdb transaction that
 * removes them, and a key that has no record starts at floor + 1
 * (cluster_db_apply).  Every seq any earlier life of a vacuumed key had
 * is at most its tombstone's seq, so at most the floor, and the new life
 * starts above it: a stale CAS finds another seq (NT_STATUS_RETRY) or no
 * record at all.  A client that read "no record" (seq 0) and stores
 * while the key was created, deleted and vacuumed meanwhile succeeds,
 * as it would have against the tombstone after re-reading: it read
 * "absent" and the key is absent; no value it read was lost.
 */
#include "clusterd/cluster_db_vacuum.h"

#include "lib/util/debug.h"

static const struct db_data floor_key = {
	.dptr = (uint8_t *)CLDB_FLOOR_KEY,
	.dsize = CLDB_FLOOR_KEY_LEN,
};

struct value_state {
	bool found;
	NTSTATUS status;
	struct cldb_value v;
};

/* Only the seq and the flag are used: v.value must not outlive it. */
static void value_parser(struct db_data key, struct db_data data,
			 void *private_data)
{
	struct value_state *vs = private_data;

	vs->found = true;
	vs->status = cldb_value_pull(data.dptr, data.dsize, &vs->v);
	vs->v.value = (struct db_data){0};
}

/* A replica record's seq and deleted flag; found false: no record. */
static NTSTATUS read_value(struct db_context *db, struct db_data key,
			   struct value_state *vs)
{
	NTSTATUS status;

	*vs = (struct value_state){.status = NT_STATUS_OK};
	status = dbwrap_parse_record(db, key, value_parser, vs);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		return NT_STATUS_OK;
	}
	return status;
}

NTSTATUS cluster_db_vacuum_floor(struct db_context *db, uint64_t *floor)
{
	struct value_state vs;
	NTSTATUS status;

	*floor = 0;
	status = read_value(db, floor_key, &vs);
	NT_STATUS_NOT_OK_RETURN(status);
	if (!vs.found) {
		return NT_STATUS_OK;
	}
	/* the first seq above it must be a valid one (< UINT64_MAX) */
	if (!NT_STATUS_IS_OK(vs.status) || !vs.v.deleted ||
	    vs.v.seq >= UINT64_MAX - 1) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	*floor = vs.v.seq;
	return NT_STATUS_OK;
}

static NTSTATUS vacuum_apply_txn(struct db_context *db,
				 const struct cldb_vacuum *v, size_t *removed)
{
	uint64_t floor = 0, high = 0;
	NTSTATUS status;

	status = cluster_db_vacuum_floor(db, &floor);
	NT_STATUS_NOT_OK_RETURN(status);
	for (uint32_t i = 0; i < v->num_recs; i++) {
		const struct cldb_vacuum_rec *r = &v->recs[i];
		struct value_state vs;

		if (cldb_key_reserved(r->key)) {
			continue; /* the pull refuses them; never remove */
		}
		status = read_value(db, r->key, &vs);
		NT_STATUS_NOT_OK_RETURN(status);
		/* a record that does not parse: the same bytes everywhere,
		 * left alone everywhere */
		if (!vs.found || !NT_STATUS_IS_OK(vs.status) ||
		    !vs.v.deleted || vs.v.seq != r->seq) {
			continue; /* changed since the walk: not ours */
		}
		status = dbwrap_delete(db, r->key);
		NT_STATUS_NOT_OK_RETURN(status);
		(*removed)++;
		if (r->seq > high) {
			high = r->seq;
		}
	}
	if (high > floor) {
		struct cldb_value fv = {.seq = high, .deleted = true};
		uint8_t *buf = NULL;
		size_t len = 0;

		/* the pull refused UINT64_MAX: high + 1 is a valid seq, but
		 * the floor must leave room for one */
		if (high >= UINT64_MAX - 1) {
			return NT_STATUS_INTERNAL_DB_CORRUPTION;
		}
		status = cldb_value_push(NULL, &fv, &buf, &len);
		NT_STATUS_NOT_OK_RETURN(status);
		status = dbwrap_store(db, floor_key, db_data_make(buf, len));
		talloc_free(buf);
	}
	return status;
}

NTSTATUS cluster_db_vacuum_apply(struct db_context *db,
				 const struct cldb_vacuum *v,
				 size_t *removed)
{
	NTSTATUS status;

	*removed = 0;
	status = dbwrap_transaction_start_volatile(db);
	NT_STATUS_NOT_OK_RETURN(status);
	status = vacuum_apply_txn(db, v, removed);
	if (NT_STATUS_IS_OK(status)) {
		status = dbwrap_transaction_commit(db);
	} else {
		dbwrap_transaction_cancel(db);
	}
	if (!NT_STATUS_IS_OK(status)) {
		*removed = 0;
	}
	return status;
}

struct collect_state {
	struct cldb_vacuum v;
	size_t bytes;
	unsigned msgs, max_msgs;
	size_t listed;
	cldb_vacuum_send_fn fn;
	void *private_data;
	NTSTATUS status;
};

static NTSTATUS collect_flush(struct collect_state *cs)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status = NT_STATUS_OK;

	if (cs->v.num_recs > 0) {
		status = cldb_vacuum_push(NULL, &cs->v, &buf, &len);
		if (NT_STATUS_IS_OK(status)) {
			status = cs->fn(buf, len, cs->private_data);
		}
		if (!NT_STATUS_IS_OK(status)) {
			talloc_free(buf); /* else the send took it over */
		}
		cs->msgs++;
		cs->listed += cs->v.num_recs;
	}
	TALLOC_FREE(cs->v.recs);
	cs->v.num_recs = 0;
	cs->bytes = 0;
	return status;
}

static int collect_fn(struct db_record *rec, void *private_data)
{
	struct collect_state *cs = private_data;
	struct db_data k = dbwrap_record_get_key(rec);
	struct db_data d = dbwrap_record_get_value(rec);
	struct cldb_vacuum_rec *r;
	struct cldb_value cv;

	if (cldb_key_reserved(k) || k.dsize == 0 || k.dsize > CLDB_MAX_KEY ||
	    !NT_STATUS_IS_OK(cldb_value_pull(d.dptr, d.dsize, &cv)) ||
	    !cv.deleted) {
		return 0;
	}
	if (cs->v.num_recs == CLDB_VACUUM_MAX_RECS ||
	    cs->bytes + k.dsize > CLDB_SYNC_CHUNK) {
		cs->status = collect_flush(cs);
		if (!NT_STATUS_IS_OK(cs->status) || cs->msgs >= cs->max_msgs) {
			return 1;
		}
	}
	r = talloc_realloc(NULL, cs->v.recs, struct cldb_vacuum_rec,
			   cs->v.num_recs + 1);
	if (r == NULL) {
		cs->status = NT_STATUS_NO_MEMORY;
		return 1;
	}
	cs->v.recs = r;
	r[cs->v.num_recs].key.dptr = talloc_memdup(r, k.dptr, k.dsize);
	if (r[cs->v.num_recs].key.dptr == NULL) {
		cs->status = NT_STATUS_NO_MEMORY;
		return 1;
	}
	r[cs->v.num_recs].key.dsize = k.dsize;
	r[cs->v.num_recs].seq = cv.seq;
	cs->v.num_recs++;
	cs->bytes += k.dsize;
	return 0;
}

NTSTATUS cluster_db_vacuum_collect(struct db_context *db, const char *name,
				   uint32_t nodeid, unsigned *budget,
				   cldb_vacuum_send_fn fn, void *private_data,
				   size_t *tombstones)
{
	struct collect_state cs = {
		.v = {.nodeid = nodeid, .db = (char *)name},
		.max_msgs = *budget,
		.fn = fn,
		.private_data = private_data,
		.status = NT_STATUS_OK,
	};
	NTSTATUS status;

	*tombstones = 0;
	if (*budget == 0) {
		return NT_STATUS_OK;
	}
	status = dbwrap_traverse_read(db, collect_fn, &cs, NULL);
	if (NT_STATUS_IS_OK(status)) {
		status = cs.status;
	}
	if (NT_STATUS_IS_OK(status) && cs.msgs < cs.max_msgs) {
		status = collect_flush(&cs); /* the last, partial batch */
	}
	TALLOC_FREE(cs.v.recs);
	*tombstones = cs.listed;
	*budget -= cs.msgs < *budget ? cs.msgs : *budget;
	return status;
}
