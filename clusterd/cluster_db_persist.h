/*
 * Persistent replicated databases in clusterd (docs/cluster.md
 * "Persistent databases and transactions"): applying a COMMIT to a
 * replica, and the database seq that counts the commits.  cluster_db.c
 * owns the registry and the stream; this file only touches one replica.
 */
#ifndef CLUSTERD_CLUSTER_DB_PERSIST_H
#define CLUSTERD_CLUSTER_DB_PERSIST_H

#include <stdint.h>

#include "dbwrap/dbwrap.h"
#include "dbwrap/dbwrap_cluster_proto.h"

/* The subdirectory of the state dir that holds the persistent replicas
 * (kept across restarts; the volatile ones in "db" are not). */
#define CLDB_PERSISTENT_DIR "persistent"

/* The database seq of a persistent replica: the number of transactions
 * committed to it since it was created (0: none). */
NTSTATUS cluster_db_persist_dbseq(struct db_context *db, uint64_t *seq);

/*
 * Apply COMMIT u (its value a TXN record) to the persistent replica db,
 * every node at the same point of the stream.  Applied only if the
 * replica's database seq is still u->req.seq (else NT_STATUS_RETRY), all
 * changes and the new database seq in one tdb transaction (fsync'ed:
 * the replica is opened persistent), each changed key's record seq one
 * higher.  *new_dbseq: the seq after the commit.  A TXN that does not
 * parse gives NT_STATUS_INVALID_NETWORK_RESPONSE, alike on every node.
 * The outcome depends only on the replica and the message.
 */
NTSTATUS cluster_db_persist_commit(struct db_context *db,
				   const struct cldb_update *u,
				   uint64_t *new_dbseq);

/* Check a COMMIT's TXN before multicasting it (the client's bytes). */
NTSTATUS cluster_db_persist_check(const struct cldb_request *req);

#endif
