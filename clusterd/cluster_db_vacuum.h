/*
 * Vacuuming the tombstones of volatile replicated databases
 * (docs/cluster.md "Vacuuming tombstones").  cluster_db.c owns the
 * registry, the timer and the stream; this file only touches one
 * replica: it finds the tombstones (on the one node that vacuums),
 * removes them when a VACUUM is delivered (on every node), and keeps the
 * database's vacuum floor that makes removing them safe.
 */
#ifndef CLUSTERD_CLUSTER_DB_VACUUM_H
#define CLUSTERD_CLUSTER_DB_VACUUM_H

#include <stdint.h>

#include "dbwrap/dbwrap.h"
#include "dbwrap/dbwrap_cluster_proto.h"

/*
 * The vacuum floor of a volatile replica (0: nothing vacuumed yet): the
 * highest seq of a tombstone removed from it.  A key that has no record
 * starts at floor + 1.  NT_STATUS_INTERNAL_DB_CORRUPTION if the floor
 * record does not parse or leaves no room for a seq (alike on every
 * node: the same bytes).
 */
NTSTATUS cluster_db_vacuum_floor(struct db_context *db, uint64_t *floor);

/*
 * Apply VACUUM v to the volatile replica db, every node at the same point
 * of the stream, in one tdb transaction: each key that is still a
 * tombstone with exactly the listed seq is removed, and the floor is
 * raised to the highest seq removed.  Anything else (a live record, a
 * newer tombstone, no record, a record that does not parse) is left as
 * it is.  The outcome depends only on the replica and the message.
 */
NTSTATUS cluster_db_vacuum_apply(struct db_context *db,
				 const struct cldb_vacuum *v,
				 size_t *removed);

/* Sends one encoded VACUUM (clusterd_cpg_send in clusterd); takes the
 * talloc'ed buf over when it returns NT_STATUS_OK. */
typedef NTSTATUS (*cldb_vacuum_send_fn)(uint8_t *buf, size_t len,
					void *private_data);

/*
 * Walk the replica db (database name) and send VACUUMs {nodeid, name,
 * tombstones} of at most CLDB_VACUUM_MAX_RECS entries and
 * CLDB_SYNC_CHUNK bytes of keys each, at most *budget of them (the rest
 * waits for the next run; *budget is lowered by the number sent).
 * Reserved keys are never listed.  *tombstones: how many were listed.
 */
NTSTATUS cluster_db_vacuum_collect(struct db_context *db, const char *name,
				   uint32_t nodeid, unsigned *budget,
				   cldb_vacuum_send_fn fn, void *private_data,
				   size_t *tombstones);

#endif
