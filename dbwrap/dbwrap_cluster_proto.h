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
 *     treat a tombstone as "no record".
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
};

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
 * Snapshot on join (clusterd only, over CPG; docs/cluster.md "Snapshot on
 * join").  SYNC_REQ {u32 nodeid, u64 nonce}: an unsynced node asks for the
 * replicas.  SYNC_DATA {u32 target nodeid, u32 target pid, u64 nonce,
 * string db, u32 count, count x (blob key, blob stored VALUE record)}:
 * part of one database of a snapshot taken at the request's place in the
 * stream.  SYNC_DONE {u32 target nodeid, u32 target pid, u64 nonce}.
 */
#define CLDB_SYNC_CHUNK (256 * 1024) /* bytes of records per SYNC_DATA */

struct cldb_sync_rec {
	struct db_data key;    /* points into the pulled buffer */
	struct db_data stored; /* a VALUE record, checked by the pull */
};

struct cldb_sync {
	uint32_t nodeid; /* REQ: the requester; DATA/DONE: the target */
	uint32_t pid;	 /* DATA/DONE: the target's pid */
	uint64_t nonce;
	char *db;	 /* DATA */
	uint32_t num_recs;
	struct cldb_sync_rec *recs;
};

NTSTATUS cldb_sync_push(TALLOC_CTX *mem_ctx, uint16_t type,
			const struct cldb_sync *m, uint8_t **buf, size_t *len);
/* type: REC_CLUSTERD_DB_SYNC_{REQ,DATA,DONE}; recs and db on mem_ctx. */
NTSTATUS cldb_sync_pull(TALLOC_CTX *mem_ctx, uint16_t type,
			const uint8_t *buf, size_t len, struct cldb_sync *m);

#endif
