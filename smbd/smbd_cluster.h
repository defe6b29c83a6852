/*
 * smbd in a cluster (docs/cluster.md "smbd in a cluster"): what smbd,
 * smbstatus and smbcontrol need from the local clusterd when
 * "clustering = yes", and the one function that opens a database shared
 * between smbd processes (a local tdb, or clusterd's replicated one).
 *
 * Start-up of a clustered process:
 *     status = smbd_cluster_node_id(conf, SMBD_CLUSTER_WAIT_S, &node);
 *     msg = messaging_init(mem_ctx, ev, sockdir, node);
 *     ... cluster_messaging_attach(msg, conf->global.clusterd_socket);
 *     db = smbd_db_open(mem_ctx, msg, conf, "locking");
 * Without clustering the node id is 0 and smbd_db_open() opens
 * "<lock directory>/locking.tdb", exactly as before.
 */
#ifndef SMBD_SMBD_CLUSTER_H
#define SMBD_SMBD_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

struct smb_conf;
struct messaging_context;
struct db_context;
struct ctrl_status;

/* How long a clustered process waits at start for its clusterd to be up
 * and in an agreed membership, and for its databases to be in sync. */
#define SMBD_CLUSTER_WAIT_S 60

/* How many times a change is redone after the clustered backend said
 * NT_STATUS_RETRY (another node changed the record since it was read).
 * Every retry means some other node's change went through, so running
 * out needs this many lost races in a row: logged, the caller fails. */
#define SMBD_DB_MAX_RETRIES 100

/*
 * This node's cluster node id from the local clusterd's status
 * (conf->global.clusterd_socket); 0 without clustering.  Retries every
 * 250 ms while clusterd does not answer or has no agreed membership yet,
 * for at most wait_s seconds, then NT_STATUS_IO_TIMEOUT (logged).
 */
NTSTATUS smbd_cluster_node_id(const struct smb_conf *conf, int wait_s,
			      uint32_t *node);

/*
 * One status request to the clusterd at socket_path (control socket),
 * bounded by timeout_ms.  *st on mem_ctx.
 */
NTSTATUS smbd_cluster_status(TALLOC_CTX *mem_ctx, const char *socket_path,
			     int timeout_ms, struct ctrl_status **st);

/* clusterd's database socket: clusterd-db.sock next to the control
 * socket.  talloc'd, NULL on no memory. */
char *smbd_cluster_db_socket(TALLOC_CTX *mem_ctx, const struct smb_conf *conf);

/*
 * Open the shared database name (e.g. "locking", "smbXsrv_open_global"):
 * without clustering the local tdb "<lock directory>/<name>.tdb"
 * (volatile, as before); with it the replicated database name through
 * the local clusterd, retrying while clusterd is not in sync or not
 * running for at most SMBD_CLUSTER_WAIT_S, unless smbd_db_node_local()
 * says the database stays on this node (then the local tdb as without
 * clustering).  msg may be NULL (no watches).  NULL on failure (logged).
 */
struct db_context *smbd_db_open(TALLOC_CTX *mem_ctx,
				struct messaging_context *msg,
				const struct smb_conf *conf, const char *name);

/*
 * Does the database name stay node-local (a tdb in this node's lock
 * directory) even with clustering?  Only smbXsrv_open_global with
 * "cluster replicate open records = no" (no process of another node
 * reads those records today; smbd_cluster.c and docs/cluster.md "smbd in
 * a cluster" say why).  Every change of a replicated record is a CPG
 * round trip.
 */
bool smbd_db_node_local(const struct smb_conf *conf, const char *name);

/*
 * Persistent file ids are unique in the whole cluster without asking
 * other nodes: the node id is in their top SMBD_PERSISTENT_ID_NODE_BITS
 * bits (0 without clustering), the rest is reserved per node
 * (smbXsrv_open_global, node-local).  So a clustered smbd needs a node
 * id of at most SMBD_CLUSTER_MAX_NODE_ID (smbd's parent refuses to
 * start with a larger one).
 */
#define SMBD_PERSISTENT_ID_NODE_BITS 16
#define SMBD_PERSISTENT_ID_LOCAL_MASK \
	((UINT64_C(1) << (64 - SMBD_PERSISTENT_ID_NODE_BITS)) - 1)
#define SMBD_CLUSTER_MAX_NODE_ID \
	((UINT32_C(1) << SMBD_PERSISTENT_ID_NODE_BITS) - 1)

/* Is db a replicated database (a store may return NT_STATUS_RETRY)? */
bool smbd_db_is_clustered(const struct smb_conf *conf);

/*
 * The retry loop of a change of a shared record: with the clustered
 * backend a store or delete after dbwrap_fetch_locked() fails with
 * NT_STATUS_RETRY when another node changed the record since it was
 * read; the caller frees the record, fetches it again and decides again
 * from the new value:
 *
 *     unsigned attempt = 0;
 *     again:
 *     rec = dbwrap_fetch_locked(db, mem_ctx, key);
 *     ... decide from dbwrap_record_get_value(rec) ...
 *     status = dbwrap_record_store(rec, value);
 *     TALLOC_FREE(rec);
 *     if (smbd_db_retry(status, &attempt, "what")) goto again;
 *
 * True (and *attempt counted) when status is NT_STATUS_RETRY and fewer
 * than SMBD_DB_MAX_RETRIES rounds were made; the last one is logged and
 * the caller gets its NT_STATUS_RETRY (smbd_db_retry_status() turns it
 * into an error that means nothing else).
 */
bool smbd_db_retry(NTSTATUS status, unsigned *attempt, const char *what);

/*
 * The cleanups of dead processes' records (the parent's, for a reaped
 * child and for its sweep): gone(owner) says whether a record of owner
 * is to be removed.  A cleanup walks the database and removes what is
 * gone; with the clustered backend a record another node changed
 * meanwhile is done again in a further walk (bounded).
 */
struct server_id;
typedef bool (*smbd_owner_gone_fn)(const struct server_id *owner,
				   void *private_data);
/* The walks of a cleanup: one, plus one more for each walk that lost a
 * record to another node's change, at most this many. */
#define SMBD_CLEANUP_MAX_WALKS 10
NTSTATUS smbd_db_retry_status(NTSTATUS status);

/* dbwrap_store()/dbwrap_delete() for a change that does not depend on
 * the old value (a blind overwrite): a lost race is simply redone. */
NTSTATUS smbd_db_store(struct db_context *db, const uint8_t *key,
		       size_t keylen, const uint8_t *value, size_t valuelen);
NTSTATUS smbd_db_delete(struct db_context *db, const uint8_t *key,
			size_t keylen);

#endif
