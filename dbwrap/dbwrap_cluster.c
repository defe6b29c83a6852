/*
 * The clustered dbwrap backend (dbwrap_cluster.h): local reads from the
 * replica clusterd maintains, changes as compare-and-swap requests to the
 * local clusterd over a unix socket.
 *
 * The socket talk is synchronous (dbwrap's API is), with poll() and a
 * deadline on every step: a clusterd that hangs costs a caller at most
 * timeout_ms, never forever.  After any error on the connection (timeout,
 * short read, bad frame) it is closed and reopened by the next request,
 * because a late answer would otherwise be taken for the next request's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dbwrap/dbwrap_cluster.h"
#include "dbwrap/dbwrap_cluster_proto.h"
#include "dbwrap/dbwrap_private.h"
#include "lib/util/debug.h"

struct db_cluster {
	char *socket_path;
	char *name;
	int timeout_ms;
	int fd; /* -1: not connected */
	/* The replica, read only here (clusterd writes it), through the tdb
	 * backend without watchers: the outer context owns the watches. */
	struct db_context *replica;
	/* "<path>.lock": node-local record locks.  Processes of one node
	 * that change the same record wait for each other as with the tdb
	 * backend, so only writers on different nodes meet in the CAS.
	 * clusterd never takes them (it would wait for a client that waits
	 * for it). */
	struct db_context *locks;

	/*
	 * Persistent databases: changes only inside transactions, which
	 * collect them here and send them at commit as one COMMIT (a
	 * compare-and-swap on the database seq, applied all or nothing on
	 * every node).  txn_lock: while a transaction runs, this process
	 * holds the node-local transaction lock (the reserved key's record
	 * in "<path>.lock"), so transactions of one node never conflict with
	 * each other, only with other nodes'.
	 */
	bool persistent;
	struct db_record *txn_lock;
	uint64_t txn_dbseq; /* the database seq when the transaction began */
	struct cldb_txn_rec *txn_recs; /* changes, one per key, in order */
	uint32_t txn_num;
	size_t txn_bytes; /* their encoded size, bounded by CLDB_MAX_VALUE */
};

/* A fetched record's sequence number (what the CAS compares) and its
 * node-local lock (freed with the record). */
struct db_cluster_rec {
	uint64_t seq;
	struct db_record *lock;
};

static struct db_cluster *db_cluster(struct db_context *db)
{
	return talloc_get_type_abort(db->backend, struct db_cluster);
}

static int db_cluster_destructor(struct db_cluster *c)
{
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events until deadline. */
static NTSTATUS wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0) {
			return NT_STATUS_IO_TIMEOUT;
		}
		r = poll(&p, 1, (int)left);
		if (r > 0) {
			return NT_STATUS_OK;
		}
		if (r < 0 && errno != EINTR) {
			return map_nt_error_from_unix(errno);
		}
	}
}

static NTSTATUS connect_clusterd(struct db_cluster *c, int64_t deadline)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	NTSTATUS status;
	int fd, err = 0;
	socklen_t elen = sizeof(err);

	if (strlen(c->socket_path) >= sizeof(sun.sun_path)) {
		return NT_STATUS_NAME_TOO_LONG;
	}
	memcpy(sun.sun_path, c->socket_path, strlen(c->socket_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return map_nt_error_from_unix(errno);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		if (errno != EINPROGRESS && errno != EAGAIN) {
			status = map_nt_error_from_unix(errno);
			close(fd);
			return status;
		}
		status = wait_fd(fd, POLLOUT, deadline);
		if (NT_STATUS_IS_OK(status) &&
		    (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 ||
		     err != 0)) {
			status = map_nt_error_from_unix(err != 0 ? err : errno);
		}
		if (!NT_STATUS_IS_OK(status)) {
			close(fd);
			return status;
		}
	}
	c->fd = fd;
	return NT_STATUS_OK;
}

static NTSTATUS send_all(int fd, const uint8_t *buf, size_t len,
			 int64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
		if (n > 0) {
			done += n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			NT_STATUS_NOT_OK_RETURN(wait_fd(fd, POLLOUT, deadline));
			continue;
		}
		return n == 0 ? NT_STATUS_CONNECTION_DISCONNECTED
			      : map_nt_error_from_unix(errno);
	}
	return NT_STATUS_OK;
}

static NTSTATUS recv_all(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = recv(fd, buf + done, len - done, 0);
		if (n > 0) {
			done += n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			NT_STATUS_NOT_OK_RETURN(wait_fd(fd, POLLIN, deadline));
			continue;
		}
		/* clusterd closed: it exited or refused our request */
		return n == 0 ? NT_STATUS_CONNECTION_DISCONNECTED
			      : map_nt_error_from_unix(errno);
	}
	return NT_STATUS_OK;
}

/* One request, one response; resp's strings on mem_ctx. */
static NTSTATUS cluster_call(struct db_cluster *c, TALLOC_CTX *mem_ctx,
			     const struct cldb_request *req,
			     struct cldb_response *resp)
{
	int64_t deadline = now_ms() + c->timeout_ms;
	TALLOC_CTX *frame = talloc_new(mem_ctx);
	uint8_t hdr[CLDB_FRAME_HDR];
	uint8_t *buf = NULL, *body = NULL;
	size_t len = 0;
	uint32_t blen;
	NTSTATUS status;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = cldb_request_push(frame, req, &buf, &len);
	if (!NT_STATUS_IS_OK(status)) {
		goto out;
	}
	if (c->fd == -1) {
		status = connect_clusterd(c, deadline);
		if (!NT_STATUS_IS_OK(status)) {
			DBG_ERR("%s: cannot reach clusterd at %s: %s\n",
				c->name, c->socket_path, nt_errstr(status));
			goto out;
		}
	}
	status = send_all(c->fd, buf, len, deadline);
	if (NT_STATUS_IS_OK(status)) {
		status = recv_all(c->fd, hdr, sizeof(hdr), deadline);
	}
	if (NT_STATUS_IS_OK(status)) {
		blen = cldb_frame_len(hdr, 64 * 1024);
		body = blen != 0 ? talloc_size(frame, blen) : NULL;
		status = body == NULL ? NT_STATUS_INVALID_NETWORK_RESPONSE
				      : recv_all(c->fd, body, blen, deadline);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = cldb_response_pull(mem_ctx, body, blen, resp);
	}
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("%s: request to clusterd failed: %s\n", c->name,
			nt_errstr(status));
		close(c->fd);
		c->fd = -1;
	}
out:
	talloc_free(frame);
	return status;
}

/* The stored form -> the caller's value; tombstones are "no record". */
struct strip_state {
	TALLOC_CTX *mem_ctx; /* NULL: hand the value to parser in place */
	dbwrap_parser_fn parser;
	void *private_data;
	struct cldb_value v;
	bool found;
	NTSTATUS status;
};

static void strip_parser(struct db_data key, struct db_data data,
			 void *private_data)
{
	struct strip_state *s = private_data;

	s->status = cldb_value_pull(data.dptr, data.dsize, &s->v);
	if (!NT_STATUS_IS_OK(s->status) || s->v.deleted) {
		return;
	}
	s->found = true;
	if (s->parser != NULL) {
		s->parser(key, s->v.value, s->private_data);
	}
}

/* ------------------------------------------------------------------ */
/* Transactions (persistent databases)                                 */
/* ------------------------------------------------------------------ */

static const struct db_data dbseq_key = {
	.dptr = (uint8_t *)CLDB_DBSEQ_KEY,
	.dsize = CLDB_DBSEQ_KEY_LEN,
};

/* The database seq in the replica: the reserved key's tombstone. */
static NTSTATUS read_dbseq(struct db_cluster *c, uint64_t *seq)
{
	struct strip_state s = {.status = NT_STATUS_OK};
	struct db_data raw = {0};
	NTSTATUS status;

	*seq = 0;
	status = dbwrap_fetch(c->replica, c, dbseq_key, &raw);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		return NT_STATUS_OK; /* no transaction committed yet */
	}
	NT_STATUS_NOT_OK_RETURN(status);
	strip_parser(dbseq_key, raw, &s);
	TALLOC_FREE(raw.dptr);
	NT_STATUS_NOT_OK_RETURN(s.status);
	*seq = s.v.seq;
	return NT_STATUS_OK;
}

static void txn_clear(struct db_cluster *c)
{
	TALLOC_FREE(c->txn_recs);
	c->txn_num = 0;
	c->txn_bytes = 0;
	TALLOC_FREE(c->txn_lock); /* releases the node-local lock */
}

static struct cldb_txn_rec *txn_find(struct db_cluster *c, struct db_data key)
{
	for (uint32_t i = 0; i < c->txn_num; i++) {
		struct cldb_txn_rec *r = &c->txn_recs[i];
		if (r->key.dsize == key.dsize &&
		    memcmp(r->key.dptr, key.dptr, key.dsize) == 0) {
			return r;
		}
	}
	return NULL;
}

/* Encoded size of one change in a TXN record (op, two blob lengths). */
static size_t txn_rec_size(struct db_data key, struct db_data value)
{
	return 12 + key.dsize + value.dsize;
}

/*
 * Remember a change of the running transaction (the last one per key
 * wins).  The limits are checked here, so the caller learns of a
 * transaction too large for one COMMIT at the change that makes it so.
 */
static NTSTATUS txn_add(struct db_cluster *c, uint32_t op, struct db_data key,
			struct db_data value)
{
	struct cldb_txn_rec *r = txn_find(c, key);
	size_t bytes = c->txn_bytes + txn_rec_size(key, value);
	uint8_t *v = NULL;

	if (cldb_key_reserved(key) || key.dsize > CLDB_MAX_KEY) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (r != NULL) {
		bytes -= txn_rec_size(r->key, r->value);
	}
	/* 64: the record header and the count, with room to spare */
	if (bytes + 64 > CLDB_MAX_VALUE ||
	    (r == NULL && c->txn_num >= CLDB_TXN_MAX_RECS)) {
		DBG_ERR("%s: transaction over %u changes or %u bytes\n",
			c->name, CLDB_TXN_MAX_RECS, CLDB_MAX_VALUE);
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	}
	if (r == NULL) {
		struct cldb_txn_rec *n = talloc_realloc(
			c, c->txn_recs, struct cldb_txn_rec, c->txn_num + 1);
		if (n == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		c->txn_recs = n;
		r = &n[c->txn_num];
		*r = (struct cldb_txn_rec){0};
		r->key.dptr = talloc_memdup(n, key.dptr, key.dsize);
		if (r->key.dptr == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		r->key.dsize = key.dsize;
		c->txn_num++;
	}
	if (value.dsize != 0) {
		v = talloc_memdup(c->txn_recs, value.dptr, value.dsize);
		if (v == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	TALLOC_FREE(r->value.dptr);
	r->op = op;
	r->value = db_data_make(v, value.dsize);
	c->txn_bytes = bytes;
	return NT_STATUS_OK;
}

static NTSTATUS db_cluster_txn_start(struct db_context *db)
{
	struct db_cluster *c = db_cluster(db);
	NTSTATUS status;

	if (!c->persistent) {
		return NT_STATUS_NOT_SUPPORTED;
	}
	if (c->txn_lock != NULL) {
		return NT_STATUS_INVALID_DEVICE_STATE;
	}
	/* Waits for a local transaction of another process (bounded: its
	 * commit is one request with a deadline). */
	c->txn_lock = dbwrap_fetch_locked(c->locks, c, dbseq_key);
	if (c->txn_lock == NULL) {
		return NT_STATUS_FILE_LOCK_CONFLICT;
	}
	/* Read before anything the transaction reads: a commit of another
	 * node applied after this point changes the seq, so ours fails
	 * with RETRY instead of being based on a mix. */
	status = read_dbseq(c, &c->txn_dbseq);
	if (!NT_STATUS_IS_OK(status)) {
		txn_clear(c);
	}
	return status;
}

static NTSTATUS db_cluster_txn_cancel(struct db_context *db)
{
	struct db_cluster *c = db_cluster(db);

	if (c->txn_lock == NULL) {
		return NT_STATUS_INVALID_DEVICE_STATE;
	}
	txn_clear(c);
	return NT_STATUS_OK;
}

/*
 * Send the changes as one COMMIT.  NT_STATUS_RETRY: another node
 * committed to this database since the transaction began; nothing was
 * applied, the caller redoes the transaction.  On success the changes
 * are applied on this node (visible to local readers) and, in the same
 * stream position, on every other.
 */
static NTSTATUS db_cluster_txn_commit(struct db_context *db)
{
	struct db_cluster *c = db_cluster(db);
	struct cldb_txn t = {.num_recs = c->txn_num, .recs = c->txn_recs};
	struct cldb_request req = {.op = CLDB_OP_COMMIT, .db = c->name};
	struct cldb_response resp;
	TALLOC_CTX *frame;
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	if (c->txn_lock == NULL) {
		return NT_STATUS_INVALID_DEVICE_STATE;
	}
	if (c->txn_num == 0) {
		txn_clear(c); /* read-only: nothing to agree on */
		return NT_STATUS_OK;
	}
	frame = talloc_new(c);
	if (frame == NULL) {
		txn_clear(c);
		return NT_STATUS_NO_MEMORY;
	}
	status = cldb_txn_push(frame, &t, &buf, &len);
	if (NT_STATUS_IS_OK(status)) {
		req.seq = c->txn_dbseq;
		req.value = db_data_make(buf, len);
		status = cluster_call(c, frame, &req, &resp);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = resp.status;
	}
	talloc_free(frame);
	txn_clear(c);
	return status;
}

/* The transaction's view of key: its own change if it made one. */
static NTSTATUS txn_fetch_locked(struct db_cluster *c, struct db_record *rec)
{
	struct cldb_txn_rec *r = txn_find(c, rec->key);
	struct strip_state s = {.status = NT_STATUS_OK};
	struct db_data raw = {0};
	struct db_data v = {0};
	NTSTATUS status;

	rec->value = db_data_make(NULL, 0);
	rec->backend_private = NULL; /* no record lock: the transaction's */
	if (r != NULL) {
		v = r->op == CLDB_OP_STORE ? r->value : db_data_make(NULL, 0);
	} else {
		status = dbwrap_fetch(c->replica, rec, rec->key, &raw);
		if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
			return NT_STATUS_OK;
		}
		NT_STATUS_NOT_OK_RETURN(status);
		strip_parser(rec->key, raw, &s);
		NT_STATUS_NOT_OK_RETURN(s.status);
		if (s.found) {
			v = s.v.value;
		}
	}
	if (v.dsize != 0) {
		rec->value.dptr = talloc_memdup(rec, v.dptr, v.dsize);
		if (rec->value.dptr == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		rec->value.dsize = v.dsize;
	}
	TALLOC_FREE(raw.dptr);
	return NT_STATUS_OK;
}

static NTSTATUS db_cluster_parse_record(struct db_context *db,
					struct db_data key,
					dbwrap_parser_fn parser,
					void *private_data)
{
	struct db_cluster *c = db_cluster(db);
	struct strip_state s = {.parser = parser,
				.private_data = private_data,
				.status = NT_STATUS_OK};
	struct cldb_txn_rec *r = c->txn_lock != NULL ? txn_find(c, key) : NULL;
	NTSTATUS status;

	if (r != NULL) {
		/* read your own writes inside a transaction */
		if (r->op == CLDB_OP_DELETE) {
			return NT_STATUS_NOT_FOUND;
		}
		parser(key, r->value, private_data);
		return NT_STATUS_OK;
	}
	status = dbwrap_parse_record(c->replica, key, strip_parser, &s);
	NT_STATUS_NOT_OK_RETURN(status);
	if (!NT_STATUS_IS_OK(s.status)) {
		DBG_ERR("%s: bad replica record: %s\n", c->name,
			nt_errstr(s.status));
		return s.status;
	}
	return s.found ? NT_STATUS_OK : NT_STATUS_NOT_FOUND;
}

/* No lock: read the value and remember the seq for the CAS. */
static NTSTATUS db_cluster_fetch_locked(struct db_context *db,
					struct db_record *rec)
{
	struct db_cluster *c = db_cluster(db);
	struct db_cluster_rec *r = talloc_zero(rec, struct db_cluster_rec);
	struct strip_state s = {.status = NT_STATUS_OK};
	struct db_data raw = {0};
	NTSTATUS status;

	if (r == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (c->txn_lock != NULL) {
		talloc_free(r);
		return txn_fetch_locked(c, rec);
	}
	r->lock = dbwrap_fetch_locked(c->locks, r, rec->key);
	if (r->lock == NULL) {
		/* logged; e.g. this process holds another record */
		return NT_STATUS_FILE_LOCK_CONFLICT;
	}
	rec->value = db_data_make(NULL, 0);
	status = dbwrap_fetch(c->replica, r, rec->key, &raw);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		rec->backend_private = r; /* seq 0: "no record" */
		return NT_STATUS_OK;
	}
	NT_STATUS_NOT_OK_RETURN(status);
	strip_parser(rec->key, raw, &s);
	if (!NT_STATUS_IS_OK(s.status)) {
		DBG_ERR("%s: bad replica record: %s\n", c->name,
			nt_errstr(s.status));
		return s.status;
	}
	r->seq = s.v.seq;
	if (s.found && s.v.value.dsize != 0) {
		rec->value.dptr = talloc_memdup(rec, s.v.value.dptr,
						s.v.value.dsize);
		if (rec->value.dptr == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		rec->value.dsize = s.v.value.dsize;
	}
	TALLOC_FREE(raw.dptr);
	rec->backend_private = r;
	return NT_STATUS_OK;
}

static NTSTATUS cas(struct db_record *rec, uint32_t op, struct db_data value)
{
	struct db_cluster *c = db_cluster(rec->db);
	struct db_cluster_rec *r = rec->backend_private;
	struct cldb_request req = {
		.op = op,
		.db = c->name,
		.key = rec->key,
		.value = value,
	};
	struct cldb_response resp;
	TALLOC_CTX *frame;
	NTSTATUS status;

	if (r == NULL) {
		return NT_STATUS_INVALID_DEVICE_STATE;
	}
	if (rec->key.dsize > CLDB_MAX_KEY || value.dsize > CLDB_MAX_VALUE) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	req.seq = r->seq;
	frame = talloc_new(rec);
	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = cluster_call(c, frame, &req, &resp);
	if (NT_STATUS_IS_OK(status)) {
		status = resp.status;
	}
	if (NT_STATUS_IS_OK(status)) {
		/* A second store through this rec compares against ours. */
		r->seq = resp.seq;
	}
	talloc_free(frame);
	return status;
}

static NTSTATUS db_cluster_record_store(struct db_record *rec,
					struct db_data value)
{
	struct db_cluster *c = db_cluster(rec->db);

	if (c->txn_lock != NULL) {
		return txn_add(c, CLDB_OP_STORE, rec->key, value);
	}
	return cas(rec, CLDB_OP_STORE, value);
}

static NTSTATUS db_cluster_record_delete(struct db_record *rec)
{
	struct db_cluster *c = db_cluster(rec->db);

	if (c->txn_lock != NULL) {
		return txn_add(c, CLDB_OP_DELETE, rec->key,
			       db_data_make(NULL, 0));
	}
	return cas(rec, CLDB_OP_DELETE, db_data_make(NULL, 0));
}

struct cl_traverse_state {
	struct db_context *db;
	dbwrap_traverse_fn fn;
	void *private_data;
	int count;
	NTSTATUS status;
	/* traverse: the keys, visited after the walk of the replica */
	struct db_data *keys;
	size_t num_keys;
};

static int traverse_read_fn(struct db_record *inner, void *private_data)
{
	struct cl_traverse_state *s = private_data;
	struct cldb_value v;
	struct db_record rec = {
		.db = s->db,
		.key = inner->key,
		.read_only = true,
	};

	struct db_cluster *c = db_cluster(s->db);
	struct cldb_txn_rec *r = c->txn_lock != NULL ? txn_find(c, inner->key)
						     : NULL;

	s->status = cldb_value_pull(inner->value.dptr, inner->value.dsize, &v);
	if (!NT_STATUS_IS_OK(s->status)) {
		return -1;
	}
	if (r != NULL) {
		/* the running transaction's own change of the key */
		v.deleted = r->op == CLDB_OP_DELETE;
		v.value = r->value;
	}
	if (v.deleted) {
		return 0;
	}
	rec.value = v.value;
	s->count++;
	return s->fn(&rec, s->private_data);
}

/* Inside a transaction: the keys it stored that the replica lacks. */
static int traverse_txn_new(struct cl_traverse_state *s)
{
	struct db_cluster *c = db_cluster(s->db);

	for (uint32_t i = 0; c->txn_lock != NULL && i < c->txn_num; i++) {
		struct cldb_txn_rec *r = &c->txn_recs[i];
		struct strip_state ss = {.status = NT_STATUS_OK};
		struct db_record rec = {
			.db = s->db,
			.key = r->key,
			.value = r->value,
			.read_only = true,
		};
		int ret;

		(void)dbwrap_parse_record(c->replica, r->key, strip_parser,
					  &ss);
		if (r->op != CLDB_OP_STORE || ss.found) {
			continue; /* visited (or skipped) by the walk */
		}
		s->count++;
		ret = s->fn(&rec, s->private_data);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}

static NTSTATUS db_cluster_traverse_read(struct db_context *db,
					 dbwrap_traverse_fn fn,
					 void *private_data, int *count)
{
	struct db_cluster *c = db_cluster(db);
	struct cl_traverse_state s = {.db = db,
				      .fn = fn,
				      .private_data = private_data,
				      .status = NT_STATUS_OK};
	NTSTATUS status;

	status = dbwrap_traverse_read(c->replica, traverse_read_fn, &s, NULL);
	if (NT_STATUS_IS_OK(status) && NT_STATUS_IS_OK(s.status)) {
		(void)traverse_txn_new(&s);
	}
	if (count != NULL) {
		*count = s.count;
	}
	if (!NT_STATUS_IS_OK(s.status)) {
		return s.status;
	}
	return status;
}

static int collect_key_fn(struct db_record *inner, void *private_data)
{
	struct cl_traverse_state *s = private_data;
	struct db_data *k;

	k = talloc_realloc(s->db, s->keys, struct db_data, s->num_keys + 1);
	if (k == NULL) {
		s->status = NT_STATUS_NO_MEMORY;
		return -1;
	}
	s->keys = k;
	k[s->num_keys].dptr = talloc_memdup(k, inner->key.dptr,
					    inner->key.dsize);
	if (k[s->num_keys].dptr == NULL) {
		s->status = NT_STATUS_NO_MEMORY;
		return -1;
	}
	k[s->num_keys].dsize = inner->key.dsize;
	s->num_keys++;
	return 0;
}

/*
 * Collect the keys first, then hand out fetched records: fn's stores wait
 * for clusterd, which writes the replica, so we must not hold the
 * replica's traverse locks meanwhile.
 */
static NTSTATUS db_cluster_traverse(struct db_context *db,
				    dbwrap_traverse_fn fn, void *private_data,
				    int *count)
{
	struct db_cluster *c = db_cluster(db);
	struct cl_traverse_state s = {.db = db, .status = NT_STATUS_OK};
	NTSTATUS status;
	int n = 0;

	status = dbwrap_traverse_read(c->replica, collect_key_fn, &s, NULL);
	if (NT_STATUS_IS_OK(status)) {
		status = s.status;
	}
	for (uint32_t i = 0; NT_STATUS_IS_OK(status) && c->txn_lock != NULL &&
			     i < c->txn_num; i++) {
		/* keys the running transaction created (duplicates of the
		 * replica's keys are visited twice otherwise) */
		struct db_record key_rec = {.key = c->txn_recs[i].key};
		bool seen = false;

		for (size_t j = 0; j < s.num_keys && !seen; j++) {
			seen = s.keys[j].dsize == key_rec.key.dsize &&
			       memcmp(s.keys[j].dptr, key_rec.key.dptr,
				      key_rec.key.dsize) == 0;
		}
		if (!seen && collect_key_fn(&key_rec, &s) != 0) {
			status = s.status;
		}
	}
	for (size_t i = 0; NT_STATUS_IS_OK(status) && i < s.num_keys; i++) {
		struct db_record *rec = dbwrap_record_alloc(db, db, s.keys[i]);
		int ret;

		if (rec == NULL) {
			status = NT_STATUS_NO_MEMORY;
			break;
		}
		status = db_cluster_fetch_locked(db, rec);
		if (!NT_STATUS_IS_OK(status) ||
		    (rec->backend_private != NULL &&
		     ((struct db_cluster_rec *)rec->backend_private)->seq ==
			     0) ||
		    !dbwrap_exists(db, rec->key)) {
			talloc_free(rec); /* gone meanwhile, or an error */
			continue;
		}
		n++;
		ret = fn(rec, private_data);
		talloc_free(rec);
		if (ret != 0) {
			break;
		}
	}
	TALLOC_FREE(s.keys);
	if (count != NULL) {
		*count = n;
	}
	return status;
}

/* The watch re-check (dbwrap_private.h record_changed): the replica's
 * seq of the key against the one rec was fetched with.  clusterd applies
 * other nodes' updates without our node-local lock, so this is the only
 * way to see one that landed between the fetch and the registration. */
static bool db_cluster_record_changed(struct db_record *rec)
{
	struct db_cluster *c = db_cluster(rec->db);
	struct db_cluster_rec *r = rec->backend_private;
	struct strip_state s = {.status = NT_STATUS_OK};
	struct db_data raw = {0};
	NTSTATUS status;
	bool changed;

	if (r == NULL) {
		return false;
	}
	status = dbwrap_fetch(c->replica, rec, rec->key, &raw);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		return r->seq != 0;
	}
	if (!NT_STATUS_IS_OK(status)) {
		return true; /* cannot tell: a spurious wake-up is allowed */
	}
	strip_parser(rec->key, raw, &s);
	changed = !NT_STATUS_IS_OK(s.status) || s.v.seq != r->seq;
	TALLOC_FREE(raw.dptr);
	return changed;
}

static const struct db_backend_ops db_cluster_ops = {
	.name = "cluster",
	.fetch_locked = db_cluster_fetch_locked,
	.record_store = db_cluster_record_store,
	.record_delete = db_cluster_record_delete,
	.parse_record = db_cluster_parse_record,
	.traverse = db_cluster_traverse,
	.traverse_read = db_cluster_traverse_read,
	.transaction_start = db_cluster_txn_start,
	.transaction_commit = db_cluster_txn_commit,
	.transaction_cancel = db_cluster_txn_cancel,
	.record_changed = db_cluster_record_changed,
};

struct db_context *db_open_cluster(TALLOC_CTX *mem_ctx,
				   struct messaging_context *msg,
				   const char *socket_path, const char *name,
				   int timeout_ms)
{
	struct db_context *db = NULL;

	(void)db_open_cluster_ex(mem_ctx, msg, socket_path, name, timeout_ms,
				 &db);
	return db;
}

NTSTATUS db_open_cluster_ex(TALLOC_CTX *mem_ctx, struct messaging_context *msg,
			    const char *socket_path, const char *name,
			    int timeout_ms, struct db_context **pdb)
{
	return db_open_cluster_flags(mem_ctx, msg, socket_path, name,
				     DBWRAP_FLAG_NONE, timeout_ms, pdb);
}

NTSTATUS db_open_cluster_flags(TALLOC_CTX *mem_ctx,
			       struct messaging_context *msg,
			       const char *socket_path, const char *name,
			       enum dbwrap_flags flags, int timeout_ms,
			       struct db_context **pdb)
{
	bool persistent = (flags & DBWRAP_FLAG_PERSISTENT) != 0;
	struct db_context *db = NULL;
	struct db_cluster *c = NULL;
	struct cldb_request req = {
		.op = persistent ? CLDB_OP_ATTACH_PERSISTENT : CLDB_OP_ATTACH};
	struct cldb_response resp;
	TALLOC_CTX *frame = talloc_new(mem_ctx);
	char *side = NULL;
	NTSTATUS status = NT_STATUS_NO_MEMORY;

	*pdb = NULL;
	if (frame == NULL || socket_path == NULL || !cldb_name_ok(name)) {
		DBG_ERR("bad replicated database name or socket\n");
		status = NT_STATUS_INVALID_PARAMETER;
		goto fail;
	}
	c = talloc_zero(frame, struct db_cluster);
	if (c == NULL) {
		goto fail;
	}
	c->fd = -1;
	talloc_set_destructor(c, db_cluster_destructor);
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	c->socket_path = talloc_strdup(c, socket_path);
	c->name = talloc_strdup(c, name);
	if (c->socket_path == NULL || c->name == NULL) {
		goto fail;
	}
	req.db = c->name;
	status = cluster_call(c, frame, &req, &resp);
	if (NT_STATUS_IS_OK(status)) {
		status = resp.status;
	}
	if (NT_STATUS_IS_OK(status) && resp.path[0] != '/') {
		status = NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("attaching replicated database %s: %s\n", name,
			nt_errstr(status));
		goto fail;
	}
	status = NT_STATUS_NO_MEMORY;
	/* Named by the replica's path, as clusterd's own context is: a
	 * watch wake-up names the database that way. */
	db = dbwrap_context_new(mem_ctx, &db_cluster_ops, msg, resp.path,
				persistent);
	if (db == NULL) {
		goto fail;
	}
	db->backend = talloc_move(db, &c);
	c = db->backend;
	c->persistent = persistent;
	/* persistent: never TDB_CLEAR_IF_FIRST (clusterd keeps it open
	 * anyway, but a reader must not be able to wipe it) */
	c->replica = db_open_tdb_internal(c, NULL, resp.path, 0,
					  persistent ? DBWRAP_FLAG_PERSISTENT
						     : DBWRAP_FLAG_NONE,
					  false);
	side = talloc_asprintf(frame, "%s.lock", resp.path);
	c->locks = side != NULL ? db_open_tdb_internal(c, NULL, side, 0,
						       DBWRAP_FLAG_NONE, false)
				: NULL;
	side = talloc_asprintf(frame, "%s.watch", resp.path);
	if (c->replica == NULL || c->locks == NULL || side == NULL) {
		goto fail;
	}
	db->watchers = db_open_tdb_internal(db, NULL, side, 0,
					    DBWRAP_FLAG_NONE, false);
	if (db->watchers == NULL) {
		goto fail;
	}
	talloc_free(frame);
	*pdb = db;
	return NT_STATUS_OK;
fail:
	TALLOC_FREE(db);
	talloc_free(frame);
	return status;
}
