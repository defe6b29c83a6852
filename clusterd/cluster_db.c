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
 * at one point of the stream (cluster_db_confchg and below) and serves
 * nobody until then.
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
#include "clusterd/cluster_db_vacuum.h"
#include "clusterd/cluster_msg.h"
#include "clusterd/clusterd.h"
#include "dbwrap/dbwrap_cluster.h"
#include "dbwrap/dbwrap_cluster_proto.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "lib/util/marshall.h"

#define CLDB_MAX_CONNS 1024
#define CLDB_MAX_DBS 256

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

/* An UPDATE delivered while our snapshot is on its way: applied after. */
struct queued_update {
	struct queued_update *prev, *next;
	uint32_t nodeid, pid;
	uint8_t *buf;
	size_t len;
};

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

	/* Sync rounds (see cluster_db_confchg). */
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

/* A member of the current view and what its SYNC_STATE said. */
struct round_member {
	uint32_t nodeid, pid;
	bool have, synced;
	uint64_t applied;
	uint64_t persisted; /* the sum of its persistent database seqs */
};

/* One SYNC_DATA of the snapshot we take (m points into buf). */
struct snap_part {
	struct snap_part *prev, *next;
	uint8_t *buf;
	struct cldb_sync m;
};

struct db_conn {
	struct db_conn *prev, *next;
	struct cluster_dbs *s;
	int fd;
	struct tevent_fd *fde;
	uint8_t hdr[CLDB_FRAME_HDR];
	size_t hdr_got;
	uint8_t *body;
	uint32_t body_len;
	size_t body_got;
	uint64_t pending; /* reqid of our multicast update, 0: none */
	uint8_t *out;
	size_t out_len;
	size_t out_sent;
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
static NTSTATUS cluster_db_get_kind(struct cluster_dbs *s, const char *name,
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

	TALLOC_FREE(c->body);
	c->hdr_got = c->body_got = c->body_len = 0;
	c->pending = 0;
	status = cldb_response_push(c, &r, &c->out, &c->out_len);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("cannot build a db response: %s\n", nt_errstr(status));
		TALLOC_FREE(c);
		return;
	}
	c->out_sent = 0;
	tevent_fd_set_flags(c->fde, TEVENT_FD_WRITE);
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
	if (!NT_STATUS_IS_OK(status) || v.nodeid != nodeid) {
		/* Every node drops it alike: replicas stay equal. */
		DBG_ERR("bad vacuum from node %u: %s\n", nodeid,
			nt_errstr(status));
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

static void deliver_update(struct cluster_dbs *s, uint32_t nodeid,
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

static void deliver_sync(struct cluster_dbs *s, uint16_t type,
			 uint32_t nodeid, uint32_t pid, const uint8_t *buf,
			 size_t len);

void cluster_db_deliver(struct clusterd *cd, uint32_t nodeid, uint32_t pid,
			const uint8_t *buf, size_t len)
{
	struct cluster_dbs *s = cd->dbs;
	uint16_t type = clmsg_type(buf, len);
	struct queued_update *q;

	if (s == NULL) {
		/* Not started: we would miss this update.  Cannot happen
		 * (we start before joining the group); refuse loudly. */
		clusterd_fatal(cd, "database message before the db registry");
		return;
	}
	if (type != REC_CLUSTERD_DB_UPDATE && type != REC_CLUSTERD_DB_VACUUM) {
		deliver_sync(s, type, nodeid, pid, buf, len);
		return;
	}
	/* A VACUUM changes replicas like an UPDATE: counted, and queued
	 * while a snapshot is on its way, so every replica sees it at the
	 * same point of the stream. */
	s->since_view++;
	if (s->synced) {
		s->applied++; /* every UPDATE, whatever its outcome */
		deliver_update(s, nodeid, pid, buf, len);
		return;
	}
	if (!s->receiving) {
		/* Before our source's snapshot point (it contains the
		 * update), or no source in this view (nobody applies it). */
		return;
	}
	q = talloc_zero(s, struct queued_update);
	if (q == NULL || (q->buf = talloc_memdup(q, buf, len)) == NULL) {
		clusterd_fatal(cd, "no memory to queue an update during sync");
		return;
	}
	q->nodeid = nodeid;
	q->pid = pid;
	q->len = len;
	DLIST_ADD_END(s->queue, q);
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
	status = cldb_request_pull(frame, c->body, c->body_len, &req);
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
	ssize_t n;

	if (c->out != NULL) {
		if ((flags & TEVENT_FD_WRITE) == 0) {
			return;
		}
		n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
			 MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			return;
		}
		if (n <= 0) {
			TALLOC_FREE(c);
			return;
		}
		c->out_sent += n;
		if (c->out_sent == c->out_len) {
			TALLOC_FREE(c->out);
			c->out_len = c->out_sent = 0;
			tevent_fd_set_flags(c->fde, TEVENT_FD_READ);
		}
		return;
	}
	if ((flags & TEVENT_FD_READ) == 0) {
		return;
	}
	if (c->hdr_got < CLDB_FRAME_HDR) {
		n = recv(c->fd, c->hdr + c->hdr_got,
			 CLDB_FRAME_HDR - c->hdr_got, 0);
	} else {
		n = recv(c->fd, c->body + c->body_got,
			 c->body_len - c->body_got, 0);
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n <= 0) {
		TALLOC_FREE(c); /* the client went away */
		return;
	}
	if (c->hdr_got < CLDB_FRAME_HDR) {
		c->hdr_got += n;
		if (c->hdr_got < CLDB_FRAME_HDR) {
			return;
		}
		c->body_len = cldb_frame_len(c->hdr, CLDB_MAX_FRAME);
		c->body = c->body_len != 0 ? talloc_size(c, c->body_len)
					   : NULL;
		if (c->body == NULL) {
			DBG_WARNING("db request with a bad length\n");
			TALLOC_FREE(c);
		}
		return;
	}
	c->body_got += n;
	if (c->body_got == c->body_len) {
		db_conn_request(c);
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
/*
 * Our persistent position for a sync round (round_complete, newer()):
 * every commit raised exactly one database seq by one, so the sum counts
 * the transactions our persistent replicas hold.  A replica that cannot
 * be read counts 0 (logged): it must not win.
 */
static uint64_t persisted_sum(struct cluster_dbs *s)
{
	uint64_t sum = 0;

	for (struct cluster_db *d = s->dbs; d != NULL; d = d->next) {
		uint64_t seq = 0;
		NTSTATUS status;

		if (!d->persistent) {
			continue;
		}
		status = cluster_db_persist_dbseq(d->db, &seq);
		if (!NT_STATUS_IS_OK(status)) {
			DBG_ERR("persistent database %s: no seq: %s\n",
				d->name, nt_errstr(status));
			continue;
		}
		sum += seq;
	}
	return sum;
}

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

/* ------------------------------------------------------------------ */
/* Snapshot on join                                                   */
/* ------------------------------------------------------------------ */

/* FNV-1a over the sorted member list: names the view in SYNC_STATE. */
static uint64_t view_digest(const struct cluster_state *st)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < st->view_len; i++) {
		uint32_t w[2] = {st->view[i].nodeid, st->view[i].pid};
		const uint8_t *b = (const uint8_t *)w;
		for (size_t j = 0; j < sizeof(w); j++) {
			h = (h ^ b[j]) * 1099511628211ULL;
		}
	}
	return h;
}

/*
 * Whether the view holds more than half of the configured nodes (cmap's
 * nodelist, the same file on every node).  Computed from the view alone,
 * so every member of a view decides alike at the same point of the
 * stream; votequorum's answer arrives on its own channel, at another
 * moment on each node.  It counts nodes whose clusterd is a member, so it
 * can be stricter than votequorum (a node whose corosync runs without
 * clusterd does not count), never looser.
 */
static bool view_has_majority(const struct cluster_state *st)
{
	size_t conf = 0, in = 0;

	for (size_t i = 0; i < st->num_nodes; i++) {
		if (!st->nodes[i].configured) {
			continue;
		}
		conf++;
		for (size_t j = 0; j < st->view_len; j++) {
			if (st->view[j].nodeid == st->nodes[i].id) {
				in++;
				break;
			}
		}
	}
	return conf > 0 && 2 * in > conf;
}

/* Requests multicast but not answered yet: we will not apply them. */
static void fail_pending(struct cluster_dbs *s)
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

/* A new view: forget the previous round and what it brought. */
static void sync_reset(struct cluster_dbs *s)
{
	while (s->queue != NULL) {
		struct queued_update *q = s->queue;
		DLIST_REMOVE(s->queue, q);
		talloc_free(q);
	}
	while (s->parts != NULL) {
		struct snap_part *p = s->parts;
		DLIST_REMOVE(s->parts, p);
		talloc_free(p);
	}
	TALLOC_FREE(s->round);
	s->round_len = s->round_missing = 0;
	s->receiving = false;
	s->since_view = 0;
}

/*
 * Every view change opens a sync round (docs/cluster.md "Quorum loss and
 * partitions").  A node in sync stays so only if the new view holds a
 * majority: a minority may be the cut-off side of a partition, whose
 * stream the majority never sees.  Then every member multicasts
 * SYNC_STATE {in sync?, updates applied}; when all of them are delivered
 * (round_complete), every member knows the same facts at the same point
 * of the stream and chooses the same source for those not in sync.
 */
void cluster_db_confchg(struct clusterd *cd, const struct clmsg_member *members,
			size_t n_members, const struct clmsg_member *joined,
			size_t n_joined)
{
	struct cluster_dbs *s = cd->dbs;
	struct cldb_sync_state m = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	if (s == NULL) {
		return;
	}
	s->view = view_digest(cd->st);
	s->majority = view_has_majority(cd->st);
	if (s->synced && !s->majority) {
		DBG_WARNING("replicated databases: the view (%zu members) "
			   "holds no majority: not in sync; reads see the "
			   "replicas as they are until a snapshot replaces "
			   "them\n", cd->st->view_len);
		s->synced = false;
		fail_pending(s);
	}
	sync_reset(s);
	s->round = talloc_zero_array(s, struct round_member,
				     cd->st->view_len);
	if (s->round == NULL) {
		clusterd_fatal(cd, "no memory for a sync round");
		return;
	}
	for (size_t i = 0; i < cd->st->view_len; i++) {
		s->round[i].nodeid = cd->st->view[i].nodeid;
		s->round[i].pid = cd->st->view[i].pid;
	}
	s->round_len = s->round_missing = cd->st->view_len;

	m.nodeid = cd->st->my_id;
	m.view = s->view;
	m.synced = s->synced;
	m.applied = s->applied;
	m.persisted = persisted_sum(s);
	status = cldb_sync_state_push(s, &m, &buf, &len);
	if (NT_STATUS_IS_OK(status)) {
		status = clusterd_cpg_send(cd, buf, len);
	}
	if (!NT_STATUS_IS_OK(status)) {
		clusterd_fatal(cd, "cannot send the replicas' sync state");
	}
}

struct snap_state {
	struct cluster_dbs *s;
	struct cldb_sync m;
	size_t bytes;
	NTSTATUS status;
};

static NTSTATUS snap_flush(struct snap_state *st)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	status = cldb_sync_push(st->s, REC_CLUSTERD_DB_SYNC_DATA, &st->m, &buf,
				&len);
	if (NT_STATUS_IS_OK(status)) {
		status = clusterd_cpg_send(st->s->cd, buf, len);
	}
	TALLOC_FREE(st->m.recs);
	st->m.num_recs = 0;
	st->bytes = 0;
	return status;
}

static int snap_fn(struct db_record *rec, void *private_data)
{
	struct snap_state *st = private_data;
	struct db_data k = dbwrap_record_get_key(rec);
	struct db_data v = dbwrap_record_get_value(rec);
	struct cldb_sync_rec *r;

	if (st->bytes > 0 && st->bytes + k.dsize + v.dsize > CLDB_SYNC_CHUNK) {
		st->status = snap_flush(st);
		if (!NT_STATUS_IS_OK(st->status)) {
			return 1;
		}
	}
	/* tombstones too: they carry the seq a CAS compares against */
	r = talloc_realloc(st->s, st->m.recs, struct cldb_sync_rec,
			   st->m.num_recs + 1);
	if (r == NULL) {
		st->status = NT_STATUS_NO_MEMORY;
		return 1;
	}
	st->m.recs = r;
	r[st->m.num_recs].key.dptr = talloc_memdup(r, k.dptr, k.dsize);
	r[st->m.num_recs].stored.dptr = talloc_memdup(r, v.dptr, v.dsize);
	if (r[st->m.num_recs].key.dptr == NULL ||
	    r[st->m.num_recs].stored.dptr == NULL) {
		st->status = NT_STATUS_NO_MEMORY;
		return 1;
	}
	r[st->m.num_recs].key.dsize = k.dsize;
	r[st->m.num_recs].stored.dsize = v.dsize;
	st->m.num_recs++;
	st->bytes += k.dsize + v.dsize;
	return 0;
}

/*
 * Called where the round completes: our replicas hold exactly the
 * updates before that point of the stream, the members we send to queue
 * those after it.  Our messages go out in order behind it.  One snapshot
 * for every member not in sync (target node and pid 0, nonce = the view).
 */
static NTSTATUS send_snapshot(struct cluster_dbs *s)
{
	struct snap_state st = {.s = s, .m = {.nonce = s->view}};
	uint8_t *buf = NULL;
	size_t len = 0, n = 0;
	NTSTATUS status;

	for (struct cluster_db *d = s->dbs; d != NULL; d = d->next) {
		st.m.db = d->name;
		st.m.flags = d->persistent ? CLDB_SYNC_PERSISTENT : 0;
		st.status = NT_STATUS_OK;
		status = dbwrap_traverse_read(d->db, snap_fn, &st, NULL);
		if (NT_STATUS_IS_OK(status)) {
			status = st.status;
		}
		if (NT_STATUS_IS_OK(status)) {
			/* also when empty: the receivers then have the db */
			status = snap_flush(&st);
		}
		NT_STATUS_NOT_OK_RETURN(status);
		n++;
	}
	st.m.db = NULL;
	st.m.flags = 0;
	status = cldb_sync_push(s, REC_CLUSTERD_DB_SYNC_DONE, &st.m, &buf,
				&len);
	if (NT_STATUS_IS_OK(status)) {
		status = clusterd_cpg_send(s->cd, buf, len);
	}
	if (NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("replicated databases: snapshot of %zu sent "
			   "(applied %llu)\n", n,
			   (unsigned long long)s->applied);
	}
	return status;
}

/* Whether a DATA/DONE is part of the snapshot we are taking. */
static bool sync_for_us(struct cluster_dbs *s, const struct cldb_sync *m,
			uint32_t nodeid, uint32_t pid)
{
	return !s->synced && s->receiving && nodeid == s->from_node &&
	       pid == s->from_pid && m->nonce == s->view && m->nodeid == 0 &&
	       m->pid == 0;
}

struct replace_state {
	const struct cldb_sync_rec **recs; /* the snapshot's, sorted by key */
	size_t n;
	struct db_data *gone; /* our keys the snapshot lacks */
	size_t n_gone;
	bool nomem;
};

static int key_cmp(struct db_data a, struct db_data b)
{
	size_t n = a.dsize < b.dsize ? a.dsize : b.dsize;
	int c = n > 0 ? memcmp(a.dptr, b.dptr, n) : 0;

	if (c != 0) {
		return c;
	}
	return a.dsize < b.dsize ? -1 : a.dsize > b.dsize;
}

static int rec_ptr_cmp(const void *a, const void *b)
{
	const struct cldb_sync_rec *const *x = a, *const *y = b;
	return key_cmp((*x)->key, (*y)->key);
}

static const struct cldb_sync_rec *snap_find(const struct replace_state *rs,
					     struct db_data key)
{
	size_t lo = 0, hi = rs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(key, rs->recs[mid]->key);
		if (c == 0) {
			return rs->recs[mid];
		}
		if (c < 0) {
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	return NULL;
}

static int gone_fn(struct db_record *rec, void *private_data)
{
	struct replace_state *rs = private_data;
	struct db_data k = dbwrap_record_get_key(rec);
	struct db_data *g;

	if (snap_find(rs, k) != NULL) {
		return 0;
	}
	g = talloc_realloc(rs->recs, rs->gone, struct db_data, rs->n_gone + 1);
	if (g == NULL) {
		rs->nomem = true;
		return 1;
	}
	rs->gone = g;
	g[rs->n_gone].dptr = talloc_memdup(g, k.dptr, k.dsize);
	g[rs->n_gone].dsize = k.dsize;
	if (k.dsize > 0 && g[rs->n_gone].dptr == NULL) {
		rs->nomem = true;
		return 1;
	}
	rs->n_gone++;
	return 0;
}

struct same_state {
	struct db_data want;
	bool same;
};

static void same_parser(struct db_data key, struct db_data data,
			void *private_data)
{
	struct same_state *ss = private_data;

	ss->same = data.dsize == ss->want.dsize &&
		   (data.dsize == 0 ||
		    memcmp(data.dptr, ss->want.dptr, data.dsize) == 0);
}

static bool part_of(const struct snap_part *p, const struct cluster_db *d)
{
	bool persistent = (p->m.flags & CLDB_SYNC_PERSISTENT) != 0;
	return persistent == d->persistent && strcmp(p->m.db, d->name) == 0;
}

/*
 * Make replica d equal to the snapshot's records of it, in one tdb
 * transaction: a local reader sees the old contents or the new ones,
 * never a mix (tdb's commit holds the all-record lock while it writes).
 * Only records that differ are written, so only their watchers wake
 * (after the commit).
 */
static NTSTATUS replace_db(struct cluster_dbs *s, struct cluster_db *d)
{
	TALLOC_CTX *frame = talloc_new(s);
	struct replace_state rs = {0};
	NTSTATUS status;
	size_t i;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (struct snap_part *p = s->parts; p != NULL; p = p->next) {
		if (part_of(p, d)) {
			rs.n += p->m.num_recs;
		}
	}
	rs.recs = talloc_array(frame, const struct cldb_sync_rec *,
			       rs.n + 1);
	if (rs.recs == NULL) {
		talloc_free(frame);
		return NT_STATUS_NO_MEMORY;
	}
	i = 0;
	for (struct snap_part *p = s->parts; p != NULL; p = p->next) {
		if (!part_of(p, d)) {
			continue;
		}
		for (uint32_t j = 0; j < p->m.num_recs; j++) {
			rs.recs[i++] = &p->m.recs[j];
		}
	}
	qsort(rs.recs, rs.n, sizeof(rs.recs[0]), rec_ptr_cmp);

	status = dbwrap_transaction_start_volatile(d->db);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(frame);
		return status;
	}
	for (i = 0; NT_STATUS_IS_OK(status) && i < rs.n; i++) {
		struct same_state ss = {.want = rs.recs[i]->stored};
		NTSTATUS st2 = dbwrap_parse_record(d->db, rs.recs[i]->key,
						   same_parser, &ss);
		if (NT_STATUS_IS_OK(st2) && ss.same) {
			continue;
		}
		status = dbwrap_store(d->db, rs.recs[i]->key,
				      rs.recs[i]->stored);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = dbwrap_traverse_read(d->db, gone_fn, &rs, NULL);
		if (rs.nomem) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
	for (i = 0; NT_STATUS_IS_OK(status) && i < rs.n_gone; i++) {
		status = dbwrap_delete(d->db, rs.gone[i]);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = dbwrap_transaction_commit(d->db);
	} else {
		dbwrap_transaction_cancel(d->db);
	}
	talloc_free(frame);
	return status;
}

/* Our source's SYNC_DONE: take its snapshot, then the queued updates. */
static void apply_snapshot(struct cluster_dbs *s, uint32_t nodeid)
{
	struct cluster_db *d = NULL;
	NTSTATUS status = NT_STATUS_OK;
	size_t n = 0;

	/* Databases we lack come into being; ours the source lacks are
	 * emptied (its snapshot has at least one DATA per database). */
	for (struct snap_part *p = s->parts;
	     p != NULL && NT_STATUS_IS_OK(status); p = p->next) {
		status = cluster_db_get_kind(
			s, p->m.db, (p->m.flags & CLDB_SYNC_PERSISTENT) != 0,
			&d);
	}
	for (d = s->dbs; d != NULL && NT_STATUS_IS_OK(status); d = d->next) {
		status = replace_db(s, d);
		n++;
	}
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("cannot store a snapshot: %s\n", nt_errstr(status));
		clusterd_fatal(s->cd, "cannot store a snapshot");
		return;
	}
	while (s->parts != NULL) {
		struct snap_part *p = s->parts;
		DLIST_REMOVE(s->parts, p);
		talloc_free(p);
	}
	s->synced = true;
	s->receiving = false;
	s->applied = s->from_applied;
	while (s->queue != NULL) {
		struct queued_update *q = s->queue;
		DLIST_REMOVE(s->queue, q);
		s->applied++;
		deliver_update(s, q->nodeid, q->pid, q->buf, q->len);
		talloc_free(q);
	}
	DBG_WARNING("replicated databases: in sync (snapshot of %zu from node "
		   "%u, applied %llu)\n", n, nodeid,
		   (unsigned long long)s->applied);
}

/*
 * Which of two members not in sync holds the newer replicas.  First the
 * persistent transactions they hold: the only position that survives a
 * restart (a restarted clusterd has applied nothing yet, and its
 * volatile replicas are empty), and along the one history it never goes
 * back, so the member with more holds every commit the other has.  Only
 * between equal persistent positions the updates applied decide (they
 * count volatile changes too, which a member that stayed up but lost sync
 * may have many of while missing commits the majority made later).
 */
static bool newer(const struct round_member *a, const struct round_member *b)
{
	if (a->persisted != b->persisted) {
		return a->persisted > b->persisted;
	}
	return a->applied > b->applied;
}

/*
 * Every member's SYNC_STATE of this view is in: every member sees the
 * same ones here, at the same point of the stream, and decides alike.
 * The source is the lowest member in sync.  If no member is in sync and
 * the view holds a majority, the newest member is (newer(): the most
 * persistent transactions, then the most updates applied): every earlier
 * majority view shared a node with this one, and the member that stayed
 * in sync longest holds the newest contents any of them can offer (ties:
 * lowest node id).  A minority without a member in sync waits for the
 * next view.
 */
static void round_complete(struct cluster_dbs *s)
{
	struct clusterd *cd = s->cd;
	const struct round_member *src = NULL;
	size_t unsynced = 0;
	bool elected = false;

	for (size_t i = 0; i < s->round_len; i++) {
		const struct round_member *r = &s->round[i];
		if (!r->synced) {
			unsynced++;
		} else if (src == NULL) {
			src = r; /* sorted by node id */
		}
	}
	if (unsynced == 0) {
		return;
	}
	if (src == NULL) {
		if (!s->majority) {
			DBG_NOTICE("replicated databases: no member in sync, "
				   "no majority: waiting for another view\n");
			return;
		}
		for (size_t i = 0; i < s->round_len; i++) {
			if (src == NULL || newer(&s->round[i], src)) {
				src = &s->round[i];
			}
		}
		elected = true;
	}
	if (src->nodeid == cd->st->my_id && src->pid == (uint32_t)getpid()) {
		if (elected) {
			DBG_WARNING("replicated databases: no member in sync; "
				   "ours (applied %llu) are the newest in this "
				   "majority: in sync\n",
				   (unsigned long long)s->applied);
			s->synced = true;
			unsynced--;
		}
		if (unsynced > 0) {
			NTSTATUS status = send_snapshot(s);
			if (!NT_STATUS_IS_OK(status)) {
				/* they wait for the next view change */
				DBG_ERR("cannot send a snapshot: %s\n",
					nt_errstr(status));
			}
		}
		return;
	}
	if (s->synced) {
		return;
	}
	/* The source's position at the snapshot: its statement's, plus
	 * every update delivered since the view began if it applied them. */
	s->receiving = true;
	s->from_node = src->nodeid;
	s->from_pid = src->pid;
	s->from_applied = src->applied + (src->synced ? s->since_view : 0);
	DBG_NOTICE("replicated databases: taking a snapshot from node %u%s\n",
		   src->nodeid, elected ? " (no member was in sync)" : "");
}

static void deliver_state(struct cluster_dbs *s, uint32_t nodeid,
			  uint32_t pid, const uint8_t *buf, size_t len)
{
	struct cldb_sync_state m;
	NTSTATUS status = cldb_sync_state_pull(buf, len, &m);

	if (!NT_STATUS_IS_OK(status) || m.nodeid != nodeid) {
		DBG_ERR("bad sync state from node %u: %s\n", nodeid,
			nt_errstr(status));
		return;
	}
	if (m.view != s->view) {
		return; /* sent for another view */
	}
	for (size_t i = 0; i < s->round_len; i++) {
		struct round_member *r = &s->round[i];
		if (r->nodeid != nodeid || r->pid != pid || r->have) {
			continue;
		}
		r->have = true;
		r->synced = m.synced;
		r->applied = m.applied;
		r->persisted = m.persisted;
		if (--s->round_missing == 0) {
			round_complete(s);
		}
		return;
	}
}

static void deliver_sync(struct cluster_dbs *s, uint16_t type,
			 uint32_t nodeid, uint32_t pid, const uint8_t *buf,
			 size_t len)
{
	struct clusterd *cd = s->cd;
	struct snap_part *p;
	NTSTATUS status;

	if (type == REC_CLUSTERD_DB_SYNC_STATE) {
		deliver_state(s, nodeid, pid, buf, len);
		return;
	}
	if (type != REC_CLUSTERD_DB_SYNC_DATA &&
	    type != REC_CLUSTERD_DB_SYNC_DONE) {
		/* SYNC_REQ: a clusterd of an earlier version */
		DBG_ERR("unexpected database message type %u from node %u\n",
			type, nodeid);
		return;
	}
	if (!s->receiving) {
		return; /* not for us: cheap before parsing */
	}
	p = talloc_zero(s, struct snap_part);
	if (p == NULL || (p->buf = talloc_memdup(p, buf, len)) == NULL) {
		clusterd_fatal(cd, "no memory for a database sync message");
		return;
	}
	status = cldb_sync_pull(p, type, p->buf, len, &p->m);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("bad database sync message (type %u) from node %u: "
			"%s\n", type, nodeid, nt_errstr(status));
		talloc_free(p);
		return;
	}
	if (!sync_for_us(s, &p->m, nodeid, pid)) {
		talloc_free(p);
		return;
	}
	if (type == REC_CLUSTERD_DB_SYNC_DONE) {
		talloc_free(p);
		apply_snapshot(s, nodeid);
		return;
	}
	/* Kept until DONE: the replica is replaced at once, not record by
	 * record while local processes read it. */
	DLIST_ADD_END(s->parts, p);
}
