/*
 * Replicated databases in clusterd (docs/cluster.md "Replicated
 * databases"): the registry of databases, the client socket of the
 * clustered dbwrap backend, and applying UPDATE messages in CPG order.
 *
 * Every node holds every database as a local tdb
 * (<state dir>/db/<name>.tdb) that local processes read directly.  A
 * change is a compare-and-swap: a client sends {key, the seq it read,
 * new value}; we multicast it; every clusterd (this one too) applies it
 * when CPG delivers it, if the key's seq is still the one the client
 * read.  All replicas start equal and apply the same messages in the same
 * order with a deterministic check, so they stay equal and agree on
 * which changes won.  We answer our client when our own copy of its
 * message is delivered, so an acknowledged write is visible here.
 *
 * A clusterd whose replicas are not the cluster's (it just started, or
 * its view lost the majority: a partition) gets them as a snapshot taken
 * at one point of the stream (cluster_db_sync.c) and serves nobody
 * until then.
 *
 * Writes through the replica's dbwrap context wake that node's watchers
 * (dbwrap.c does it after every store) when clusterd has a messaging
 * context (cluster.conf "messaging dir").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clusterd/cluster_db_persist.h"
#include "clusterd/cluster_db_private.h"
#include "clusterd/cluster_db_vacuum.h"
#include "clusterd/cluster_msg.h"
#include "clusterd/clusterd.h"
#include "clusterd/frame_io.h"
#include "dbwrap/dbwrap_cluster.h"
#include "dbwrap/dbwrap_cluster_proto.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "lib/util/marshall.h"

#define CLDB_MAX_CONNS 1024
#define CLDB_MAX_DBS 256

struct db_conn {
	struct db_conn *prev, *next;
	struct cluster_dbs *s;
	int fd;
	struct tevent_fd *fde;
	struct frame_io io;
	uint64_t pending; /* reqid of our multicast update, 0: none */
};

static int cluster_dbs_destructor(struct cluster_dbs *s)
{
	TALLOC_FREE(s->fde);
	if (s->fd != -1) {
		close(s->fd);
		unlink(s->sock_path);
	}
	return 0;
}

static int db_conn_destructor(struct db_conn *c)
{
	TALLOC_FREE(c->fde);
	if (c->fd != -1) {
		close(c->fd);
	}
	DLIST_REMOVE(c->s->conns, c);
	c->s->num_conns--;
	return 0;
}

static struct cluster_db *cluster_db_find(struct cluster_dbs *s,
					  const char *name, bool persistent)
{
	for (struct cluster_db *d = s->dbs; d != NULL; d = d->next) {
		if (d->persistent == persistent && strcmp(d->name, name) == 0) {
			return d;
		}
	}
	return NULL;
}

/*
 * The database name, opened (created) on first use in this run.  The file
 * of an earlier run is removed first: its contents may be behind the
 * cluster (updates it missed while we were down); the sync round fills
 * the fresh one (docs/cluster.md "Snapshot on join").
 */
NTSTATUS cluster_db_get_kind(struct cluster_dbs *s, const char *name,
			     bool persistent, struct cluster_db **out)
{
	struct cluster_db *d = cluster_db_find(s, name, persistent);
	const char *dir = persistent ? s->pdir : s->dir;
	char *watch, *lock;

	if (d != NULL) {
		*out = d;
		return NT_STATUS_OK;
	}
	if (!cldb_name_ok(name)) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	/* CLDB_MAX_DBS is checked for requests (db_conn_request), not here */
	d = talloc_zero(s, struct cluster_db);
	if (d == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	d->name = talloc_strdup(d, name);
	d->persistent = persistent;
	d->path = talloc_asprintf(d, "%s/%s.tdb", dir, name);
	watch = talloc_asprintf(d, "%s/%s.tdb.watch", dir, name);
	lock = talloc_asprintf(d, "%s/%s.tdb.lock", dir, name);
	if (d->name == NULL || d->path == NULL || watch == NULL ||
	    lock == NULL) {
		talloc_free(d);
		return NT_STATUS_NO_MEMORY;
	}
	if (!persistent) {
		unlink(d->path); /* volatile: starts empty with clusterd */
	}
	unlink(watch);
	unlink(lock); /* the clients' node-local record locks */
	/* persistent: fsync'ed transactions, no TDB_CLEAR_IF_FIRST */
	d->db = db_open_tdb(d, s->cd->msg, d->path, 0,
			    persistent ? DBWRAP_FLAG_PERSISTENT
				       : DBWRAP_FLAG_NONE);
	if (d->db == NULL) {
		talloc_free(d);
		return NT_STATUS_INTERNAL_DB_ERROR;
	}
	DLIST_ADD_END(s->dbs, d);
	s->num_dbs++;
	DBG_NOTICE("replicated database %s at %s\n", name, d->path);
	*out = d;
	return NT_STATUS_OK;
}

static NTSTATUS cluster_db_get(struct cluster_dbs *s, const char *name,
			       struct cluster_db **out)
{
	return cluster_db_get_kind(s, name, false, out);
}

/*
 * Apply one update (every node, in CPG order).  The outcome depends only
 * on the replica and the message, so every node reaches the same one.
 */
static NTSTATUS cluster_db_apply(struct cluster_dbs *s,
				 const struct cldb_update *u,
				 uint64_t *new_seq)
{
	TALLOC_CTX *frame = talloc_new(s);
	struct cluster_db *d = NULL;
	struct db_record *rec = NULL;
	struct cldb_value cur = {0}, nv = {0};
	struct db_data old;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t floor = 0;
	NTSTATUS status;

	*new_seq = 0;
	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (u->req.op == CLDB_OP_COMMIT) {
		status = cluster_db_get_kind(s, u->req.db, true, &d);
		if (NT_STATUS_IS_OK(status)) {
			status = cluster_db_persist_commit(d->db, u, new_seq);
		}
		goto out;
	}
	status = cluster_db_get(s, u->req.db, &d);
	if (!NT_STATUS_IS_OK(status)) {
		goto out;
	}
	/* read before the record's lock: a key without a record starts
	 * above every seq a vacuumed life of it had (cluster_db_vacuum.c) */
	status = cluster_db_vacuum_floor(d->db, &floor);
	if (!NT_STATUS_IS_OK(status)) {
		goto out;
	}
	rec = dbwrap_fetch_locked(d->db, frame, u->req.key);
	if (rec == NULL) {
		status = NT_STATUS_INTERNAL_DB_ERROR;
		goto out;
	}
	old = dbwrap_record_get_value(rec);
	if (old.dsize != 0) {
		status = cldb_value_pull(old.dptr, old.dsize, &cur);
		if (!NT_STATUS_IS_OK(status)) {
			/* the same bytes on every node: a shared outcome */
			status = NT_STATUS_INTERNAL_DB_CORRUPTION;
			goto out;
		}
	}
	if (cur.seq != u->req.seq) {
		status = NT_STATUS_RETRY; /* changed since the client read it */
		goto out;
	}
	if (u->req.op == CLDB_OP_DELETE && (cur.seq == 0 || cur.deleted)) {
		*new_seq = cur.seq; /* nothing there: the goal state holds */
		status = NT_STATUS_OK;
		goto out;
	}
	nv.seq = (cur.seq != 0 ? cur.seq : floor) + 1;
	if (nv.seq == UINT64_MAX) {
		/* no valid seq left (the pull refuses UINT64_MAX) */
		status = NT_STATUS_INTERNAL_DB_CORRUPTION;
		goto out;
	}
	nv.deleted = (u->req.op == CLDB_OP_DELETE);
	nv.value = u->req.value;
	status = cldb_value_push(frame, &nv, &buf, &len);
	if (NT_STATUS_IS_OK(status)) {
		/* dbwrap.c wakes this node's watchers of the key. */
		status = dbwrap_record_store(rec, db_data_make(buf, len));
	}
	if (NT_STATUS_IS_OK(status)) {
		*new_seq = nv.seq;
	}
out:
	talloc_free(frame);
	return status;
}

static void db_conn_respond(struct db_conn *c, NTSTATUS result, uint64_t seq,
			    const char *path)
{
	struct cldb_response r = {.status = result, .seq = seq, .path =
				  (char *)(path != NULL ? path : "")};
	NTSTATUS status;

	frame_io_reset_in(&c->io);
	c->pending = 0;
	status = cldb_response_push(c, &r, &c->io.out, &c->io.out_len);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("cannot build a db response: %s\n", nt_errstr(status));
		TALLOC_FREE(c);
		return;
	}
	tevent_fd_set_flags(c->fde, TEVENT_FD_WRITE);
}

/* Requests multicast but not answered yet: we will not apply them. */
void cluster_db_fail_pending(struct cluster_dbs *s)
{
	struct db_conn *c, *next;

	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (c->pending != 0) {
			/* delivered nowhere we can tell: outcome unknown */
			db_conn_respond(c, NT_STATUS_IO_TIMEOUT, 0, NULL);
		}
	}
}

/*
 * Failures that depend only on the replica and the message, so every
 * node reaches them alike (replicas stay equal): a CAS conflict, a
 * corrupt record (equal everywhere), the database limit.  Anything else
 * is this node's own trouble.
 */
static bool outcome_is_shared(NTSTATUS status)
{
	return NT_STATUS_EQUAL(status, NT_STATUS_RETRY) ||
	       NT_STATUS_EQUAL(status, NT_STATUS_INTERNAL_DB_CORRUPTION) ||
	       NT_STATUS_EQUAL(status, NT_STATUS_INSUFFICIENT_RESOURCES) ||
	       NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_INVALID) ||
	       /* a COMMIT whose TXN does not parse */
	       NT_STATUS_EQUAL(status, NT_STATUS_INVALID_NETWORK_RESPONSE);
}

/*
 * A VACUUM (every node, in CPG order, counted and queued like an UPDATE):
 * remove the listed tombstones that are still exactly as listed.  Only
 * volatile databases are vacuumed (docs/cluster.md "Vacuuming
 * tombstones"); a database this node does not hold has nothing to
 * remove (it is not created for it).
 */
static void deliver_vacuum(struct cluster_dbs *s, uint32_t nodeid,
			   const uint8_t *buf, size_t len)
{
	TALLOC_CTX *frame = talloc_new(s);
	struct cluster_db *d;
	struct cldb_vacuum v;
	size_t removed = 0;
	NTSTATUS status;

	if (frame == NULL) {
		clusterd_fatal(s->cd, "no memory for a vacuum");
		return;
	}
	status = cldb_vacuum_pull(frame, buf, len, &v);
	if (!NT_STATUS_IS_OK(status)) {
		/* Every node drops it alike: replicas stay equal. */
		DBG_ERR("bad vacuum from node %u: %s\n", nodeid,
			nt_errstr(status));
		talloc_free(frame);
		return;
	}
	if (v.nodeid != nodeid) {
		DBG_ERR("vacuum from node %u claims node %u: dropped\n",
			nodeid, v.nodeid);
		talloc_free(frame);
		return;
	}
	d = cluster_db_find(s, v.db, false);
	if (d == NULL) {
		talloc_free(frame);
		return;
	}
	status = cluster_db_vacuum_apply(d->db, &v, &removed);
	if (!NT_STATUS_IS_OK(status) &&
	    !NT_STATUS_EQUAL(status, NT_STATUS_INTERNAL_DB_CORRUPTION)) {
		DBG_ERR("cannot vacuum %s: %s\n", v.db, nt_errstr(status));
		clusterd_fatal(s->cd, "replica diverged");
		talloc_free(frame);
		return;
	}
	DBG_INFO("vacuum of %s from node %u: %zu of %u tombstones removed\n",
		 v.db, nodeid, removed, v.num_recs);
	talloc_free(frame);
}

void cluster_db_deliver_update(struct cluster_dbs *s, uint32_t nodeid,
			       uint32_t pid, const uint8_t *buf, size_t len)
{
	struct clusterd *cd = s->cd;
	struct cldb_update u;
	TALLOC_CTX *frame;
	uint64_t seq = 0;
	NTSTATUS status;

	if (clmsg_type(buf, len) == REC_CLUSTERD_DB_VACUUM) {
		deliver_vacuum(s, nodeid, buf, len);
		return;
	}
	frame = talloc_new(s);
	if (frame == NULL) {
		clusterd_fatal(cd, "no memory for a database update");
		return;
	}
	status = cldb_update_pull(frame, buf, len, &u);
	if (!NT_STATUS_IS_OK(status) || u.nodeid != nodeid) {
		/* Every node drops it alike: replicas stay equal. */
		DBG_ERR("bad database update from node %u: %s\n", nodeid,
			nt_errstr(status));
		talloc_free(frame);
		return;
	}
	status = cluster_db_apply(s, &u, &seq);
	if (!NT_STATUS_IS_OK(status) && !outcome_is_shared(status)) {
		/* A local failure (disk, memory): the others applied it, this
		 * replica now differs.  Better gone than wrong. */
		DBG_ERR("cannot apply an update of %s: %s\n", u.req.db,
			nt_errstr(status));
		clusterd_fatal(cd, "replica diverged");
		talloc_free(frame);
		return;
	}
	if (nodeid == cd->st->my_id && pid == (uint32_t)getpid()) {
		for (struct db_conn *c = s->conns; c != NULL; c = c->next) {
			if (c->pending == u.reqid) {
				db_conn_respond(c, status, seq, NULL);
				break;
			}
		}
	}
	talloc_free(frame);
}

static void db_conn_request(struct db_conn *c)
{
	struct cluster_dbs *s = c->s;
	struct clusterd *cd = s->cd;
	/* Not on c: db_conn_respond() frees c when it cannot build the
	 * answer, and every path frees frame after answering. */
	TALLOC_CTX *frame = talloc_new(NULL);
	struct cldb_request req;
	struct cluster_db *d = NULL;
	struct cldb_update u = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	if (frame == NULL) {
		TALLOC_FREE(c);
		return;
	}
	status = cldb_request_pull(frame, c->io.body, c->io.body_len, &req);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_WARNING("bad db request: %s\n", nt_errstr(status));
		talloc_free(frame);
		TALLOC_FREE(c); /* the framing may be off: drop it */
		return;
	}
	if (!s->synced) {
		/* Our replicas are not the cluster's yet (snapshot on
		 * join): serve nobody, the client retries later. */
		db_conn_respond(c, NT_STATUS_INVALID_DEVICE_STATE, 0, NULL);
		talloc_free(frame);
		return;
	}
	/*
	 * The limit on databases counts names that only this node's own
	 * clients attached, which other nodes do not know of, so it is
	 * checked here, before anything is multicast, and never where an
	 * update or a snapshot is applied: a node at its limit that refused
	 * what the others applied would hold other replicas than they do.
	 */
	if (cluster_db_find(s, req.db,
			    req.op == CLDB_OP_ATTACH_PERSISTENT ||
				    req.op == CLDB_OP_COMMIT) == NULL &&
	    s->num_dbs >= CLDB_MAX_DBS) {
		DBG_ERR("too many replicated databases (%d)\n", CLDB_MAX_DBS);
		db_conn_respond(c, NT_STATUS_INSUFFICIENT_RESOURCES, 0, NULL);
		talloc_free(frame);
		return;
	}
	if (req.op == CLDB_OP_ATTACH || req.op == CLDB_OP_ATTACH_PERSISTENT) {
		bool persistent = req.op == CLDB_OP_ATTACH_PERSISTENT;
		/* one name, one kind: a client that expects the other kind
		 * would misread it (transactions, tombstones, restarts) */
		status = cluster_db_find(s, req.db, !persistent) != NULL
				 ? NT_STATUS_OBJECT_NAME_COLLISION
				 : cluster_db_get_kind(s, req.db, persistent,
						       &d);
		db_conn_respond(c, status, 0,
				NT_STATUS_IS_OK(status) ? d->path : NULL);
		talloc_free(frame);
		return;
	}
	/*
	 * An update names its kind by its op (STORE, DELETE: volatile;
	 * COMMIT: persistent).  One for a name that is the other kind here
	 * is a client's mistake that would create the name as both kinds on
	 * every node, after which ATTACH refuses it as either kind (above),
	 * and for good once the persistent file exists.  (A node that has
	 * not attached the name cannot tell: the same mistake sent there
	 * still goes through.)
	 */
	if (cluster_db_find(s, req.db, req.op != CLDB_OP_COMMIT) != NULL) {
		db_conn_respond(c, NT_STATUS_OBJECT_NAME_COLLISION, 0, NULL);
		talloc_free(frame);
		return;
	}
	if (req.op == CLDB_OP_COMMIT &&
	    !NT_STATUS_IS_OK(status = cluster_db_persist_check(&req))) {
		db_conn_respond(c, status, 0, NULL);
		talloc_free(frame);
		return;
	}
	/*
	 * Without quorum we may be on the losing side of a partition, whose
	 * own CPG stream would let the replicas diverge: refuse.
	 */
	if (cd->st == NULL || !cd->st->in_view || !cd->st->quorate ||
	    cd->shutting_down) {
		db_conn_respond(c, NT_STATUS_INVALID_DEVICE_STATE, 0, NULL);
		talloc_free(frame);
		return;
	}
	u.nodeid = cd->st->my_id;
	u.reqid = ++s->next_reqid;
	u.req = req;
	status = cldb_update_push(frame, &u, &buf, &len);
	if (NT_STATUS_IS_OK(status)) {
		status = clusterd_cpg_send(cd, buf, len);
	}
	if (!NT_STATUS_IS_OK(status)) {
		db_conn_respond(c, status, 0, NULL);
		talloc_free(frame);
		return;
	}
	/* Answered at our own delivery; read nothing more until then. */
	c->pending = u.reqid;
	tevent_fd_set_flags(c->fde, 0);
	talloc_free(frame);
}

static void db_conn_handler(struct tevent_context *ev, struct tevent_fd *fde,
			    uint16_t flags, void *private_data)
{
	struct db_conn *c = private_data;

	if (c->io.out != NULL) {
		if ((flags & TEVENT_FD_WRITE) == 0) {
			return;
		}
		switch (frame_io_send(&c->io, c->fd)) {
		case FRAME_IO_MORE:
			return;
		case FRAME_IO_DONE:
			tevent_fd_set_flags(c->fde, TEVENT_FD_READ);
			return;
		default:
			TALLOC_FREE(c);
			return;
		}
	}
	if ((flags & TEVENT_FD_READ) == 0) {
		return;
	}
	switch (frame_io_recv(&c->io, c, c->fd, CLDB_MAX_FRAME)) {
	case FRAME_IO_MORE:
		return;
	case FRAME_IO_DONE:
		db_conn_request(c);
		return;
	case FRAME_IO_BAD:
		DBG_WARNING("db request with a bad length\n");
		TALLOC_FREE(c);
		return;
	default: /* the client went away, error, no memory */
		TALLOC_FREE(c);
		return;
	}
}

static void db_accept(struct tevent_context *ev, struct tevent_fd *fde,
		      uint16_t flags, void *private_data)
{
	struct cluster_dbs *s = private_data;
	struct db_conn *c = NULL;
	int fd;

	fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		return;
	}
	if (s->num_conns >= CLDB_MAX_CONNS) {
		close(fd);
		return;
	}
	c = talloc_zero(s, struct db_conn);
	if (c == NULL) {
		close(fd);
		return;
	}
	c->s = s;
	c->fd = fd;
	DLIST_ADD(s->conns, c);
	s->num_conns++;
	talloc_set_destructor(c, db_conn_destructor);
	c->fde = tevent_add_fd(ev, c, fd, TEVENT_FD_READ, db_conn_handler, c);
	if (c->fde == NULL) {
		TALLOC_FREE(c);
	}
}

/*
 * The persistent replicas of an earlier run: registered at start, so they
 * are counted and sent in snapshots before any client attaches.
 * Whether they stay is decided by the first sync round (docs/cluster.md
 * "Persistent databases and transactions").
 */
static NTSTATUS load_persistent(struct cluster_dbs *s)
{
	DIR *dir = opendir(s->pdir);
	struct dirent *de;
	NTSTATUS status = NT_STATUS_OK;

	if (dir == NULL) {
		DBG_ERR("cannot read %s: %s\n", s->pdir, strerror(errno));
		return map_nt_error_from_unix(errno);
	}
	while (NT_STATUS_IS_OK(status) && (de = readdir(dir)) != NULL) {
		size_t n = strlen(de->d_name);
		struct cluster_db *d = NULL;
		char name[CLDB_MAX_NAME + 1];
		uint64_t seq = 0;

		if (n <= 4 || n - 4 > CLDB_MAX_NAME ||
		    strcmp(de->d_name + n - 4, ".tdb") != 0) {
			continue; /* side files (.tdb.lock, .tdb.watch) too */
		}
		memcpy(name, de->d_name, n - 4);
		name[n - 4] = '\0';
		if (!cldb_name_ok(name)) {
			continue;
		}
		status = cluster_db_get_kind(s, name, true, &d);
		if (NT_STATUS_IS_OK(status)) {
			status = cluster_db_persist_dbseq(d->db, &seq);
		}
		if (NT_STATUS_IS_OK(status)) {
			DBG_NOTICE("persistent database %s: seq %llu\n", name,
				   (unsigned long long)seq);
		}
	}
	closedir(dir);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("cannot open the persistent replicas in %s: %s\n",
			s->pdir, nt_errstr(status));
	}
	return status;
}

/* At most this many VACUUMs per run (the rest waits for the next). */
#define CLDB_VACUUM_MSGS_PER_RUN 16

/* A vacuum can wait: it never adds to a backlog corosync has not taken
 * (a full queue ends clusterd, cluster_cpg.c), it stops the run. */
#define CLDB_VACUUM_MAX_BACKLOG 16

/* Takes buf over when it returns NT_STATUS_OK (clusterd_cpg_send). */
static NTSTATUS vacuum_send(uint8_t *buf, size_t len, void *private_data)
{
	struct cluster_dbs *s = private_data;
	size_t bytes = 0;

	if (clusterd_cpg_backlog(s->cd, &bytes) >= CLDB_VACUUM_MAX_BACKLOG) {
		return NT_STATUS_RETRY;
	}
	return clusterd_cpg_send(s->cd, buf, len);
}

/*
 * One node vacuums: the lowest member of the view, while it is in sync
 * and quorate (its replicas are the cluster's).  It lists the tombstones
 * of its volatile replicas; every node removes them when the VACUUM is
 * delivered, only those still exactly as listed, so it does not matter
 * that the list was taken earlier or that two nodes send one (after a
 * view change).
 */
static void vacuum_run(struct cluster_dbs *s)
{
	struct clusterd *cd = s->cd;
	unsigned budget = CLDB_VACUUM_MSGS_PER_RUN;

	if (!s->synced || cd->st == NULL || !cd->st->in_view ||
	    !cd->st->quorate || cd->shutting_down || cd->st->view_len == 0 ||
	    cd->st->view[0].nodeid != cd->st->my_id ||
	    cd->st->view[0].pid != (uint32_t)getpid()) {
		return;
	}
	for (struct cluster_db *d = s->dbs; d != NULL && budget > 0;
	     d = d->next) {
		size_t n = 0;
		NTSTATUS status;

		if (d->persistent) {
			continue;
		}
		status = cluster_db_vacuum_collect(d->db, d->name,
						   cd->st->my_id, &budget,
						   vacuum_send, s, &n);
		if (!NT_STATUS_IS_OK(status)) {
			/* RETRY: corosync has a backlog */
			DBG_NOTICE("vacuum of %s stopped: %s\n", d->name,
				   nt_errstr(status));
			return; /* the next run tries again */
		}
		if (n > 0) {
			DBG_NOTICE("vacuum of %s: %zu tombstones listed\n",
				   d->name, n);
		}
	}
}

static void vacuum_timer(struct tevent_context *ev, struct tevent_timer *te,
			 struct timeval now, void *private_data)
{
	struct cluster_dbs *s = private_data;
	unsigned secs = s->cd->conf->vacuum_interval;

	s->vacuum_te = NULL;
	vacuum_run(s);
	s->vacuum_te = tevent_add_timer(s->cd->ev, s,
					tevent_timeval_current_ofs(secs, 0),
					vacuum_timer, s);
	if (s->vacuum_te == NULL) {
		clusterd_fatal(s->cd, "no memory for the vacuum timer");
	}
}

NTSTATUS cluster_db_start(struct clusterd *cd)
{
	struct cluster_dbs *s = talloc_zero(cd, struct cluster_dbs);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	NTSTATUS status;

	if (s == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	s->fd = -1;
	s->cd = cd;
	s->dir = talloc_asprintf(s, "%s/db", cd->conf->state_dir);
	s->pdir = talloc_asprintf(s, "%s/" CLDB_PERSISTENT_DIR,
				  cd->conf->state_dir);
	s->sock_path = talloc_asprintf(s, "%s/%s", cd->conf->run_dir,
				       DB_CLUSTER_SOCKET_NAME);
	if (s->dir == NULL || s->pdir == NULL || s->sock_path == NULL) {
		TALLOC_FREE(s);
		return NT_STATUS_NO_MEMORY;
	}
	talloc_set_destructor(s, cluster_dbs_destructor);
	/* the persistent replicas hold the users' NT hashes: 0700 even if
	 * an earlier run or an administrator created the directory */
	if ((mkdir(s->dir, 0755) != 0 && errno != EEXIST) ||
	    (mkdir(s->pdir, 0700) != 0 && errno != EEXIST) ||
	    chmod(s->pdir, 0700) != 0) {
		DBG_ERR("cannot create %s or %s: %s\n", s->dir, s->pdir,
			strerror(errno));
		TALLOC_FREE(s);
		return map_nt_error_from_unix(errno);
	}
	status = load_persistent(s);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(s);
		return status;
	}
	if (strlen(s->sock_path) >= sizeof(sun.sun_path)) {
		TALLOC_FREE(s);
		return NT_STATUS_NAME_TOO_LONG;
	}
	memcpy(sun.sun_path, s->sock_path, strlen(s->sock_path));
	/* The control socket's probe already made sure no other clusterd
	 * runs with this run dir. */
	unlink(s->sock_path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		status = map_nt_error_from_unix(errno);
		TALLOC_FREE(s);
		return status;
	}
	{
		/* 0600: the clients (smbd) run as root. */
		mode_t old = umask(0077);
		int r = bind(s->fd, (struct sockaddr *)&sun, sizeof(sun));
		umask(old);
		if (r != 0 || listen(s->fd, 64) != 0) {
			status = map_nt_error_from_unix(errno);
			DBG_ERR("db socket %s: %s\n", s->sock_path,
				strerror(errno));
			close(s->fd);
			s->fd = -1;
			TALLOC_FREE(s);
			return status;
		}
	}
	s->fde = tevent_add_fd(cd->ev, s, s->fd, TEVENT_FD_READ, db_accept, s);
	if (s->fde == NULL) {
		TALLOC_FREE(s);
		return NT_STATUS_NO_MEMORY;
	}
	if (cd->conf->vacuum_interval != 0) { /* 0: never vacuum */
		s->vacuum_te = tevent_add_timer(
			cd->ev, s,
			tevent_timeval_current_ofs(cd->conf->vacuum_interval,
						   0),
			vacuum_timer, s);
		if (s->vacuum_te == NULL) {
			TALLOC_FREE(s);
			return NT_STATUS_NO_MEMORY;
		}
	}
	cd->dbs = s;
	return NT_STATUS_OK;
}

/* For status: name and live record count (tombstones not counted). */
static int count_fn(struct db_record *rec, void *private_data)
{
	struct cldb_value v;
	size_t *n = private_data;
	struct db_data d = dbwrap_record_get_value(rec);

	if (NT_STATUS_IS_OK(cldb_value_pull(d.dptr, d.dsize, &v)) &&
	    !v.deleted) {
		(*n)++;
	}
	return 0;
}

bool cluster_db_in_sync(struct clusterd *cd)
{
	return cd->dbs != NULL && cd->dbs->synced;
}

size_t cluster_db_count(struct clusterd *cd)
{
	return cd->dbs != NULL ? cd->dbs->num_dbs : 0;
}

bool cluster_db_info(struct clusterd *cd, size_t i, const char **name,
		     uint64_t *records)
{
	struct cluster_db *d = cd->dbs != NULL ? cd->dbs->dbs : NULL;
	size_t n = 0;

	for (; d != NULL && i > 0; d = d->next, i--) {
	}
	if (d == NULL) {
		return false;
	}
	dbwrap_traverse_read(d->db, count_fn, &n, NULL);
	*name = d->name;
	*records = n;
	return true;
}
