/*
 * Replicated databases: the encodings shared by the clustered dbwrap
 * backend (dbwrap_cluster.c, any process) and clusterd (cluster_db.c).
 * docs/cluster.md "Replicated databases".
 *
 * Three things travel or are stored, all marshall records:
 *
 * VALUE (REC_CLUSTERD_DB_VALUE v1), what the replica tdb holds for a key:
 *     {u64 seq, bool deleted, blob value}.  seq grows by one with every
 *     applied change of the key; a deleted record stays as a tombstone so
 *     that its seq never goes back (else a delete and re-create would
 *     reuse a seq and a stale compare-and-swap could succeed).  Readers
 *     treat a tombstone as "no record".  seq is 1..UINT64_MAX - 1: the
 *     pull refuses 0 and UINT64_MAX (whose next change would wrap).
 *
 * REQ / RESP, the client socket (<run dir>/clusterd-db.sock): frames of
 *     a u32 little-endian length and one record.  A connection carries one
 *     request at a time, answered before the next is read.
 *     REQ  {u32 op, string db, blob key, u64 seq, blob value}
 *     RESP {u32 NTSTATUS, u64 seq, string path}
 *     ATTACH: db -> path of the replica tdb (key, seq, value unused).
 *     STORE/DELETE: compare-and-swap: applied only if the key's seq is
 *     still seq; RESP.seq is the new seq.  NT_STATUS_RETRY: someone
 *     changed the record since it was read.
 *     ATTACH_PERSISTENT, COMMIT: persistent databases, see enum cldb_op.
 *
 * UPDATE (REC_CLUSTERD_DB_UPDATE v1), multicast through CPG:
 *     {u32 nodeid, u64 reqid, u32 op, string db, blob key, u64 seq,
 *      blob value}; reqid lets the sending clusterd find its client.
 */
#ifndef DBWRAP_DBWRAP_CLUSTER_PROTO_H
#define DBWRAP_DBWRAP_CLUSTER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "dbwrap/dbwrap.h"
#include "lib/util/ntstatus.h"

#define CLDB_FRAME_HDR 4
#define CLDB_MAX_NAME 64
#define CLDB_MAX_KEY 4096
#define CLDB_MAX_VALUE (1024 * 1024)
/* op + name + key + seq + value + the record header, with room to spare */
#define CLDB_MAX_FRAME (CLDB_MAX_VALUE + CLDB_MAX_KEY + 1024)

enum cldb_op {
	CLDB_OP_ATTACH = 1,
	CLDB_OP_STORE = 2,
	CLDB_OP_DELETE = 3,
	/* Persistent databases (docs/cluster.md "Persistent databases and
	 * transactions").  ATTACH_PERSISTENT: like ATTACH, the database is
	 * persistent (a name is either kind, never both).  COMMIT: value is
	 * a TXN record, seq the database seq the transaction started from
	 * (compare-and-swap on the whole database); RESP.seq the new
	 * database seq. */
	CLDB_OP_ATTACH_PERSISTENT = 4,
	CLDB_OP_COMMIT = 5,
};

/*
 * The database seq of a persistent database lives in its replica under
 * this reserved key, as a tombstone VALUE whose seq is the database seq:
 * invisible to readers, copied by snapshots, and written in the same tdb
 * transaction as the changes it counts.  Clients cannot store it.
 */
#define CLDB_DBSEQ_KEY "\0cldb-dbseq"
#define CLDB_DBSEQ_KEY_LEN (sizeof(CLDB_DBSEQ_KEY) - 1)
/*
 * The vacuum floor of a volatile database (docs/cluster.md "Vacuuming
 * tombstones"): a tombstone VALUE whose seq is the highest seq of any
 * tombstone vacuumed from the database.  A key without a record starts
 * at floor + 1, so a vacuumed key's new life never reuses a seq of an
 * earlier one.  Clients cannot store it.
 */
#define CLDB_FLOOR_KEY "\0cldb-floor"
#define CLDB_FLOOR_KEY_LEN (sizeof(CLDB_FLOOR_KEY) - 1)
/* CLDB_DBSEQ_KEY or CLDB_FLOOR_KEY */
bool cldb_key_reserved(struct db_data key);

/*
 * TXN (REC_CLUSTERD_DB_TXN v1), the changes of one transaction, applied
 * all or nothing on every node: {u32 count, count x (u32 op STORE or
 * DELETE, blob key, blob value)}.  Limits: CLDB_TXN_MAX_RECS changes and
 * CLDB_MAX_VALUE bytes of encoding (it travels as a COMMIT's value).
 */
#define CLDB_TXN_MAX_RECS 4096

struct cldb_txn_rec {
	uint32_t op;	      /* CLDB_OP_STORE or CLDB_OP_DELETE */
	struct db_data key;   /* points into the pulled buffer */
	struct db_data value; /* STORE only */
};

struct cldb_txn {
	uint32_t num_recs;
	struct cldb_txn_rec *recs;
};

/* INSUFFICIENT_RESOURCES over the limits. */
NTSTATUS cldb_txn_push(TALLOC_CTX *mem_ctx, const struct cldb_txn *t,
		       uint8_t **buf, size_t *len);
/* recs on mem_ctx, blobs point into buf. */
NTSTATUS cldb_txn_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
		       struct cldb_txn *t);

struct cldb_request {
	uint32_t op;
	char *db;
	struct db_data key;   /* points into the pulled buffer */
	uint64_t seq;	      /* the seq the client read (0: no record) */
	struct db_data value; /* STORE only; points into the pulled buffer */
};

struct cldb_response {
	NTSTATUS status;
	uint64_t seq;
	char *path; /* ATTACH; "" otherwise */
};

struct cldb_update {
	uint32_t nodeid;
	uint64_t reqid;
	struct cldb_request req;
};

struct cldb_value {
	uint64_t seq;
	bool deleted;
	struct db_data value; /* points into the pulled buffer */
};

/* A replicated database name: 1..64 of [A-Za-z0-9_.-], not starting with
 * '.' (it becomes a file name in clusterd's state dir). */
bool cldb_name_ok(const char *name);

/* The body length of a frame header, 0 if it is 0 or over max. */
uint32_t cldb_frame_len(const uint8_t hdr[CLDB_FRAME_HDR], uint32_t max);

/* Framed (header included), on mem_ctx. */
NTSTATUS cldb_request_push(TALLOC_CTX *mem_ctx, const struct cldb_request *r,
			   uint8_t **buf, size_t *len);
NTSTATUS cldb_response_push(TALLOC_CTX *mem_ctx,
			    const struct cldb_response *r, uint8_t **buf,
			    size_t *len);
/* Bodies (after the frame header).  Strings on mem_ctx, blobs point into
 * buf.  Every field is checked: ops, name, sizes, trailing bytes. */
NTSTATUS cldb_request_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			   size_t len, struct cldb_request *r);
NTSTATUS cldb_response_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			    size_t len, struct cldb_response *r);

/* Unframed (a CPG message is already delimited). */
NTSTATUS cldb_update_push(TALLOC_CTX *mem_ctx, const struct cldb_update *u,
			  uint8_t **buf, size_t *len);
NTSTATUS cldb_update_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			  size_t len, struct cldb_update *u);

NTSTATUS cldb_value_push(TALLOC_CTX *mem_ctx, const struct cldb_value *v,
			 uint8_t **buf, size_t *len);
NTSTATUS cldb_value_pull(const uint8_t *buf, size_t len,
			 struct cldb_value *v);

/*
 * SYNC_STATE (REC_CLUSTERD_DB_SYNC_STATE v2, clusterd only, over CPG):
 * every member multicasts one at every view change (docs/cluster.md
 * "Quorum loss and partitions"): {u32 nodeid, u64 view (a digest of the
 * member list it was sent for), bool synced, u64 applied (updates this
 * node applied in sync: a position in the one history of the majority
 * views), u64 persisted (v2: the sum of its persistent databases'
 * seqs, the transactions they hold: a position that survives restarts;
 * v1: 0)}.
 */
struct cldb_sync_state {
	uint32_t nodeid;
	uint64_t view;
	bool synced;
	uint64_t applied;
	uint64_t persisted;
};

NTSTATUS cldb_sync_state_push(TALLOC_CTX *mem_ctx,
			      const struct cldb_sync_state *m, uint8_t **buf,
			      size_t *len);
NTSTATUS cldb_sync_state_pull(const uint8_t *buf, size_t len,
			      struct cldb_sync_state *m);

/*
 * Snapshots (clusterd only, over CPG; docs/cluster.md "Snapshot on
 * join").  SYNC_DATA {u32 target nodeid, u32 target pid, u64 nonce,
 * string db, u32 count, count x (blob key, blob stored VALUE record)}:
 * part of one database of a snapshot taken where a sync round completed;
 * SYNC_DONE {u32 target nodeid, u32 target pid, u64 nonce}.  clusterd
 * sends them with target 0/0 (every member not in sync) and nonce = the
 * view digest of SYNC_STATE.  SYNC_REQ {u32 nodeid, u64 nonce} was the
 * request of the first version (one per joiner); no longer sent, a
 * clusterd drops it with a log line.
 */
#define CLDB_SYNC_CHUNK (256 * 1024) /* bytes of records per SYNC_DATA */

struct cldb_sync_rec {
	struct db_data key;    /* points into the pulled buffer */
	struct db_data stored; /* a VALUE record, checked by the pull */
};

#define CLDB_SYNC_PERSISTENT 0x1 /* cldb_sync.flags: a persistent db */

struct cldb_sync {
	uint32_t nodeid; /* REQ: the requester; DATA/DONE: the target */
	uint32_t pid;	 /* DATA/DONE: the target's pid */
	uint64_t nonce;
	char *db;	 /* DATA */
	uint32_t flags;	 /* DATA v2: CLDB_SYNC_PERSISTENT (v1: 0) */
	uint32_t num_recs;
	struct cldb_sync_rec *recs;
};

NTSTATUS cldb_sync_push(TALLOC_CTX *mem_ctx, uint16_t type,
			const struct cldb_sync *m, uint8_t **buf, size_t *len);
/* type: REC_CLUSTERD_DB_SYNC_{REQ,DATA,DONE}; recs and db on mem_ctx. */
NTSTATUS cldb_sync_pull(TALLOC_CTX *mem_ctx, uint16_t type,
			const uint8_t *buf, size_t len, struct cldb_sync *m);

/*
 * VACUUM (REC_CLUSTERD_DB_VACUUM v1, clusterd only, over CPG; docs/
 * cluster.md "Vacuuming tombstones"): {u32 nodeid (the sender, checked
 * against the CPG sender), string db (a volatile database), u32 count,
 * count x (blob key, u64 seq)}: remove each key if it is still a
 * tombstone with exactly that seq.  Keys as in a STORE (1..CLDB_MAX_KEY
 * bytes, not reserved), seq 1..UINT64_MAX - 1, at most
 * CLDB_VACUUM_MAX_RECS entries and CLDB_SYNC_CHUNK bytes of keys.
 */
#define CLDB_VACUUM_MAX_RECS 4096

struct cldb_vacuum_rec {
	struct db_data key; /* points into the pulled buffer */
	uint64_t seq;
};

struct cldb_vacuum {
	uint32_t nodeid;
	char *db;
	uint32_t num_recs;
	struct cldb_vacuum_rec *recs;
};

/* INVALID_PARAMETER for a bad entry or over the limits. */
NTSTATUS cldb_vacuum_push(TALLOC_CTX *mem_ctx, const struct cldb_vacuum *v,
			  uint8_t **buf, size_t *len);
/* recs and db on mem_ctx, keys point into buf. */
NTSTATUS cldb_vacuum_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			  size_t len, struct cldb_vacuum *v);

#endif
