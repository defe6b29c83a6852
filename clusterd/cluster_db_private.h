/*
 * What cluster_db.c (the registry of replicated databases, their client
 * socket, applying an UPDATE) and cluster_db_sync.c (sync rounds and
 * snapshots) share.  Private to clusterd: other code goes through
 * clusterd.h.
 */
#ifndef CLUSTERD_CLUSTER_DB_PRIVATE_H
#define CLUSTERD_CLUSTER_DB_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbwrap/dbwrap.h"

struct cluster_db {
	struct cluster_db *prev, *next;
	char *name;
	char *path;
	struct db_context *db;
	/* Persistent (<state dir>/persistent, kept across restarts, changed
	 * by COMMITs) or volatile (<state dir>/db, wiped at start).  The two
	 * kinds are separate name spaces: an update names its kind by its
	 * op, so every node applies it to the same database whatever its
	 * clients attached. */
	bool persistent;
};

struct db_conn;

/* cluster_db_sync.c's */
struct queued_update;
struct round_member;
struct snap_part;

struct cluster_dbs {
	struct clusterd *cd;
	char *dir;
	char *pdir; /* the persistent replicas */
	char *sock_path;
	int fd;
	struct tevent_fd *fde;
	struct cluster_db *dbs;
	size_t num_dbs;
	struct db_conn *conns;
	unsigned num_conns;
	uint64_t next_reqid;

	/* Sync rounds (cluster_db_sync.c, cluster_db_confchg). */
	bool synced;	      /* our replicas are the cluster's */
	uint64_t applied;     /* UPDATEs delivered to us in sync */
	uint64_t view;	      /* digest of the current view */
	bool majority;	      /* it holds most of the configured nodes */
	uint64_t since_view;  /* UPDATEs delivered since it began */
	struct round_member *round; /* its members' SYNC_STATEs */
	size_t round_len, round_missing;
	bool receiving;	      /* a source was chosen for us */
	uint32_t from_node, from_pid;
	uint64_t from_applied; /* the source's position at its snapshot */
	struct snap_part *parts; /* its SYNC_DATA, kept until SYNC_DONE */
	struct queued_update *queue;
	struct tevent_timer *vacuum_te; /* cluster.conf "vacuum interval" */
};

/*
 * The database name of one kind (persistent or volatile), opened
 * (created) on first use in this run; a volatile one starts empty.
 */
NTSTATUS cluster_db_get_kind(struct cluster_dbs *s, const char *name,
			     bool persistent, struct cluster_db **out);

/*
 * Apply one UPDATE or VACUUM delivered by CPG (in sync, in stream order)
 * and answer our client if it was ours.  A local failure ends clusterd.
 */
void cluster_db_deliver_update(struct cluster_dbs *s, uint32_t nodeid,
			       uint32_t pid, const uint8_t *buf, size_t len);

/* Answer NT_STATUS_IO_TIMEOUT to our clients whose update was multicast
 * but not applied yet (this node lost sync: it will not apply it). */
void cluster_db_fail_pending(struct cluster_dbs *s);

#endif
