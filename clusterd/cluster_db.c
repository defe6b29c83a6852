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
 * A clusterd that joins a group already running gets the replicas as a
 * snapshot taken at its request's place in the stream (cluster_db_confchg
 * and below) and serves nobody until then.
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

	/* Snapshot on join (see cluster_db_confchg). */
	bool synced;	    /* our replicas equal the cluster's */
	bool seen_confchg;  /* our first view is behind us */
	uint64_t nonce;	    /* of our latest SYNC_REQ */
	bool req_delivered; /* it is in the stream: queue updates after it */
	bool have_from;	    /* the snapshot we take (first sender wins) */
	uint32_t from_node, from_pid;
	struct queued_update *queue;
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
 * cluster (updates it missed while we were down), and a fresh empty
 * replica at least starts equal to ... nothing; see "Not built yet:
 * snapshot on join" in docs/cluster.md.
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
	if (s->num_dbs >= CLDB_MAX_DBS) {
		DBG_ERR("too many replicated databases (%d)\n", CLDB_MAX_DBS);
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	}
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
	nv.seq = cur.seq + 1;
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

static void deliver_update(struct cluster_dbs *s, uint32_t nodeid,
			   uint32_t pid, const uint8_t *buf, size_t len)
{
	struct clusterd *cd = s->cd;
	struct cldb_update u;
	TALLOC_CTX *frame;
	uint64_t seq = 0;
	NTSTATUS status;

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
	if (type != REC_CLUSTERD_DB_UPDATE) {
		deliver_sync(s, type, nodeid, pid, buf, len);
		return;
	}
	if (s->synced) {
		deliver_update(s, nodeid, pid, buf, len);
		return;
	}
	if (!s->req_delivered) {
		/* Before our SYNC_REQ: the snapshot will contain it. */
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
	TALLOC_CTX *frame = talloc_new(c);
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
 * are offered, counted and sent in snapshots before any client attaches.
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
	if ((mkdir(s->dir, 0755) != 0 && errno != EEXIST) ||
	    (mkdir(s->pdir, 0700) != 0 && errno != EEXIST)) {
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

static int wipe_fn(struct db_record *rec, void *private_data)
{
	NTSTATUS *status = private_data;

	*status = dbwrap_record_delete(rec);
	return NT_STATUS_IS_OK(*status) ? 0 : 1;
}

/* A new attempt: forget what an earlier one brought. */
static NTSTATUS sync_reset(struct cluster_dbs *s)
{
	NTSTATUS status = NT_STATUS_OK, st2;

	for (struct cluster_db *d = s->dbs; d != NULL; d = d->next) {
		st2 = dbwrap_traverse(d->db, wipe_fn, &status, NULL);
		if (!NT_STATUS_IS_OK(st2) || !NT_STATUS_IS_OK(status)) {
			return NT_STATUS_IS_OK(st2) ? status : st2;
		}
	}
	while (s->queue != NULL) {
		struct queued_update *q = s->queue;
		DLIST_REMOVE(s->queue, q);
		talloc_free(q);
	}
	s->req_delivered = false;
	s->have_from = false;
	return NT_STATUS_OK;
}

void cluster_db_confchg(struct clusterd *cd, const struct clmsg_member *members,
			size_t n_members, const struct clmsg_member *joined,
			size_t n_joined)
{
	struct cluster_dbs *s = cd->dbs;
	struct cldb_sync m = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	bool first;
	NTSTATUS status;

	if (s == NULL || s->synced) {
		return;
	}
	first = !s->seen_confchg;
	s->seen_confchg = true;
	if (first) {
		/*
		 * Every member of our first view joined in this very change:
		 * no clusterd was in the group before us, so nobody holds
		 * data (volatile databases start empty with the cluster).
		 * Every one of them sees the same change and decides alike.
		 */
		bool all_new = true;
		for (size_t i = 0; i < n_members && all_new; i++) {
			bool found = false;
			for (size_t j = 0; j < n_joined; j++) {
				if (joined[j].nodeid == members[i].nodeid &&
				    joined[j].pid == members[i].pid) {
					found = true;
				}
			}
			all_new = found;
		}
		if (all_new) {
			DBG_NOTICE("replicated databases: first in the group, "
				   "in sync (empty)\n");
			s->synced = true;
			return;
		}
	}
	/* Ask again after every change: our sender may have left. */
	status = sync_reset(s);
	if (!NT_STATUS_IS_OK(status)) {
		clusterd_fatal(cd, "cannot reset the replicas for a snapshot");
		return;
	}
	m.nodeid = cd->st->my_id;
	m.nonce = ++s->nonce;
	status = cldb_sync_push(s, REC_CLUSTERD_DB_SYNC_REQ, &m, &buf, &len);
	if (NT_STATUS_IS_OK(status)) {
		status = clusterd_cpg_send(cd, buf, len);
	}
	if (!NT_STATUS_IS_OK(status)) {
		clusterd_fatal(cd, "cannot ask for a snapshot");
		return;
	}
	DBG_NOTICE("replicated databases: asking for a snapshot (%llu)\n",
		   (unsigned long long)m.nonce);
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
 * Called at the delivery of the requester's SYNC_REQ: our replicas hold
 * exactly the updates before it in the stream, the requester queues
 * those after it.  Our messages go out in order behind it.
 */
static NTSTATUS send_snapshot(struct cluster_dbs *s, uint32_t nodeid,
			      uint32_t pid, uint64_t nonce)
{
	struct snap_state st = {.s = s,
				.m = {.nodeid = nodeid,
				      .pid = pid,
				      .nonce = nonce}};
	uint8_t *buf = NULL;
	size_t len = 0, n = 0;
	NTSTATUS status;

	for (struct cluster_db *d = s->dbs; d != NULL; d = d->next) {
		st.m.db = d->name;
		st.status = NT_STATUS_OK;
		status = dbwrap_traverse_read(d->db, snap_fn, &st, NULL);
		if (NT_STATUS_IS_OK(status)) {
			status = st.status;
		}
		if (NT_STATUS_IS_OK(status)) {
			/* also when empty: the joiner then has the db */
			status = snap_flush(&st);
		}
		NT_STATUS_NOT_OK_RETURN(status);
		n++;
	}
	st.m.db = NULL;
	status = cldb_sync_push(s, REC_CLUSTERD_DB_SYNC_DONE, &st.m, &buf,
				&len);
	if (NT_STATUS_IS_OK(status)) {
		status = clusterd_cpg_send(s->cd, buf, len);
	}
	if (NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("replicated databases: snapshot of %zu sent to "
			   "node %u\n", n, nodeid);
	}
	return status;
}

/* Whether a DATA/DONE is part of the snapshot we are taking. */
static bool sync_for_us(struct cluster_dbs *s, const struct cldb_sync *m,
			uint32_t nodeid, uint32_t pid)
{
	if (s->synced || !s->req_delivered || m->nonce != s->nonce ||
	    m->nodeid != s->cd->st->my_id || m->pid != (uint32_t)getpid()) {
		return false;
	}
	if (!s->have_from) {
		/* every member in sync answers; the first one wins */
		s->have_from = true;
		s->from_node = nodeid;
		s->from_pid = pid;
	}
	return s->from_node == nodeid && s->from_pid == pid;
}

static void deliver_sync(struct cluster_dbs *s, uint16_t type,
			 uint32_t nodeid, uint32_t pid, const uint8_t *buf,
			 size_t len)
{
	struct clusterd *cd = s->cd;
	TALLOC_CTX *frame = talloc_new(s);
	struct cldb_sync m;
	struct cluster_db *d = NULL;
	NTSTATUS status;
	bool mine = (nodeid == cd->st->my_id && pid == (uint32_t)getpid());

	if (frame == NULL) {
		clusterd_fatal(cd, "no memory for a database sync message");
		return;
	}
	status = cldb_sync_pull(frame, type, buf, len, &m);
	if (!NT_STATUS_IS_OK(status) ||
	    (type == REC_CLUSTERD_DB_SYNC_REQ && m.nodeid != nodeid)) {
		DBG_ERR("bad database sync message (type %u) from node %u: "
			"%s\n", type, nodeid, nt_errstr(status));
		goto out;
	}
	switch (type) {
	case REC_CLUSTERD_DB_SYNC_REQ:
		if (mine) {
			if (m.nonce == s->nonce && !s->synced) {
				s->req_delivered = true;
			}
		} else if (s->synced) {
			status = send_snapshot(s, nodeid, pid, m.nonce);
			if (!NT_STATUS_IS_OK(status)) {
				/* the requester asks again at the next
				 * change, or another member answers */
				DBG_ERR("cannot send a snapshot: %s\n",
					nt_errstr(status));
			}
		}
		break;
	case REC_CLUSTERD_DB_SYNC_DATA:
		if (!sync_for_us(s, &m, nodeid, pid)) {
			break;
		}
		status = cluster_db_get(s, m.db, &d);
		for (uint32_t i = 0; NT_STATUS_IS_OK(status) && i < m.num_recs;
		     i++) {
			status = dbwrap_store(d->db, m.recs[i].key,
					      m.recs[i].stored);
		}
		if (!NT_STATUS_IS_OK(status)) {
			clusterd_fatal(cd, "cannot store a snapshot");
		}
		break;
	case REC_CLUSTERD_DB_SYNC_DONE:
		if (!sync_for_us(s, &m, nodeid, pid)) {
			break;
		}
		s->synced = true;
		while (s->queue != NULL) {
			struct queued_update *q = s->queue;
			DLIST_REMOVE(s->queue, q);
			deliver_update(s, q->nodeid, q->pid, q->buf, q->len);
			talloc_free(q);
		}
		DBG_NOTICE("replicated databases: in sync (snapshot from node "
			   "%u)\n", nodeid);
		break;
	default:
		DBG_ERR("unknown database message type %u from node %u\n",
			type, nodeid);
	}
out:
	talloc_free(frame);
}
