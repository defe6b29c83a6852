/*
 * The clustered dbwrap backend: a database replicated on every node by
 * clusterd (docs/cluster.md "Replicated databases").
 *
 * Reads (parse_record, fetch, traverse_read) read the local replica tdb
 * that clusterd maintains, without asking anyone.  Changes are
 * compare-and-swap requests to the local clusterd, which orders them
 * through CPG; every node applies them at the same point of the stream.
 *
 * What changes for callers compared with the tdb backend:
 *   - fetch_locked takes a node-local lock only: processes of this node
 *     wait for each other, but a process on another node may change the
 *     record meanwhile.  It remembers the record's sequence number, and
 *     dbwrap_record_store/_delete return NT_STATUS_RETRY when the record
 *     changed in between; the caller fetches again and redoes its
 *     change.
 *   - A successful store/delete returns once the change is applied on this
 *     node (visible to local readers); other nodes apply it when CPG
 *     delivers it to them, normally milliseconds later.
 *   - No transactions, no persistent databases yet.
 *   - Every request to clusterd is bounded by timeout_ms
 *     (NT_STATUS_IO_TIMEOUT).
 */
#ifndef DBWRAP_DBWRAP_CLUSTER_H
#define DBWRAP_DBWRAP_CLUSTER_H

#include "dbwrap/dbwrap.h"

#define DB_CLUSTER_SOCKET_NAME "clusterd-db.sock" /* in clusterd's run dir */

/*
 * Attach replicated database name (cldb_name_ok()) through clusterd's db
 * socket at socket_path (created if no node has it yet).  msg may be NULL
 * when the caller never watches records.  timeout_ms <= 0: 10 s.
 * NULL on failure (logged).
 */
struct db_context *db_open_cluster(TALLOC_CTX *mem_ctx,
				   struct messaging_context *msg,
				   const char *socket_path, const char *name,
				   int timeout_ms);

/*
 * The same with the reason of a failure: NT_STATUS_INVALID_DEVICE_STATE
 * while the local clusterd is not in sync (or has no quorum): retry
 * later; a connect error (the mapped errno) while clusterd is not
 * running.
 */
NTSTATUS db_open_cluster_ex(TALLOC_CTX *mem_ctx, struct messaging_context *msg,
			    const char *socket_path, const char *name,
			    int timeout_ms, struct db_context **pdb);

#endif
