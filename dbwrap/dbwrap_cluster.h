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
 *   - Persistent databases (db_open_cluster_flags) change in
 *     transactions only; a commit may return NT_STATUS_RETRY.
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

/*
 * The same with flags: DBWRAP_FLAG_PERSISTENT attaches a persistent
 * replicated database (docs/cluster.md "Persistent databases and
 * transactions"): its replicas survive clusterd restarts, and it changes
 * only in transactions (dbwrap_transaction_start/commit, or the one-record
 * transaction of fetch_locked + store), each sent at commit as one
 * update that every node applies all or nothing.  A commit fails with
 * NT_STATUS_RETRY when another node committed to the database since the
 * transaction began: redo the transaction.  Limits per transaction:
 * CLDB_TXN_MAX_RECS changes, CLDB_MAX_VALUE bytes
 * (NT_STATUS_INSUFFICIENT_RESOURCES at the change that exceeds them).
 * A name is volatile or persistent, never both:
 * NT_STATUS_OBJECT_NAME_COLLISION if this node holds it as the other kind.
 */
NTSTATUS db_open_cluster_flags(TALLOC_CTX *mem_ctx,
			       struct messaging_context *msg,
			       const char *socket_path, const char *name,
			       enum dbwrap_flags flags, int timeout_ms,
			       struct db_context **pdb);

#endif
