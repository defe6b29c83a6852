/*
 * The byte-range lock database (brlock.h, layer 2): brlock.tdb in the
 * lock directory, shared by every smbd process of the node.
 *
 * Key: the stream's file id, dev and ino as two little-endian u64, then
 * for a named stream ":" and its name.  Value: REC_BRLOCK (brlock.c), the
 * locks of every open of that stream; no record when there are none.
 *
 * Locks of a process that died (kill -9, crash) stay in the record until
 * someone reads it for update: every fetch_locked here drops them first.
 * READ/WRITE only parse the record; a conflict with a dead owner's lock
 * is ignored there, so a killed client never blocks I/O.
 */
#include "smbd/brlock.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbwrap/dbwrap.h"
#include "lib/param/loadparm.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "smbd/smb2_lock_wire.h"
#include "smbd/smbd.h"
#include "smbd/smbd_cluster.h"
#include "smbd/streams.h"

struct brl_waiter {
	struct brl_waiter *prev, *next;
	struct smbd_brl_open *b; /* NULL once told */
	void (*fn)(void *private_data);
	void *private_data;
};

struct smbd_brl_open {
	struct smbd_open *op;
	struct smbd_client *client;
	struct brl_owner owner;
	uint8_t *key; /* NULL until the file id is known */
	size_t key_len;
	/* set once a lock was granted: the open's end must clean up */
	bool may_hold_locks;
	uint8_t lock_sequence[SMB2_LOCK_SEQUENCE_ENTRIES];
	struct brl_waiter *waiters;
};

#define BRL_DB_NAME "brlock"

struct db_context *brl_db_open(TALLOC_CTX *mem_ctx,
			       struct messaging_context *msg,
			       const struct smb_conf *conf)
{
	/* volatile: cleared when the first process opens it after boot
	 * (or replicated: cleared with the cluster) */
	struct db_context *db = smbd_db_open(mem_ctx, msg, conf, BRL_DB_NAME);

	if (db == NULL) {
		DBG_ERR("cannot open the byte-range lock database %s\n",
			BRL_DB_NAME);
	}
	return db;
}

/*
 * The client forgets its handle when the handle goes: opens freed later
 * in the same teardown (a harness freeing the client as a whole) must
 * not use it.  smbd frees the sessions, and so the opens, first.
 */
struct brl_db_ref {
	struct smbd_client *client;
};

static int brl_db_ref_destructor(struct brl_db_ref *r)
{
	r->client->brlock_db = NULL;
	return 0;
}

static struct db_context *brl_db(struct smbd_client *client)
{
	struct brl_db_ref *ref;

	if (client->brlock_db != NULL) {
		return client->brlock_db;
	}
	client->brlock_db = brl_db_open(client, client->msg, client->conf);
	if (client->brlock_db == NULL) {
		return NULL;
	}
	ref = talloc(client->brlock_db, struct brl_db_ref);
	if (ref == NULL) {
		TALLOC_FREE(client->brlock_db);
		return NULL;
	}
	ref->client = client;
	talloc_set_destructor(ref, brl_db_ref_destructor);
	return client->brlock_db;
}

static struct server_id brl_self(struct smbd_client *client)
{
	if (client->msg != NULL) {
		return messaging_server_id(client->msg);
	}
	return (struct server_id){ .pid = (uint32_t)getpid() };
}

struct brl_owner smbd_brl_owner(const struct smbd_open *op)
{
	struct brl_owner o = {
		.pid = brl_self(op->tcon->session->client),
		.open_id = op->persistent_id,
	};

	return o;
}

/*
 * Is the process holding a lock alive?  A small memo keeps a record of
 * many locks from costing one kill() per lock.
 */
struct brl_alive_memo {
	struct smbd_client *client;
	struct server_id self;
	struct server_id ids[8];
	bool alive[8];
	unsigned n;
};

static bool brl_alive(const struct server_id *pid, void *private_data)
{
	struct brl_alive_memo *m = private_data;
	bool alive;
	unsigned i;

	if (server_id_equal(pid, &m->self)) {
		return true;
	}
	for (i = 0; i < m->n; i++) {
		if (server_id_equal(pid, &m->ids[i])) {
			return m->alive[i];
		}
	}
	if (m->client->msg != NULL) {
		alive = server_id_is_alive(m->client->msg, pid);
	} else {
		alive = pid->node != 0 || kill((pid_t)pid->pid, 0) == 0 ||
			errno != ESRCH;
	}
	if (m->n < 8) {
		m->ids[m->n] = *pid;
		m->alive[m->n] = alive;
		m->n++;
	}
	return alive;
}

static void brl_alive_memo_init(struct brl_alive_memo *m,
				struct smbd_client *client)
{
	*m = (struct brl_alive_memo){ .client = client,
				      .self = brl_self(client) };
}

/* Tell the waiters that the open is going away. */
static void brl_open_tell_waiters(struct smbd_brl_open *b)
{
	while (b->waiters != NULL) {
		struct brl_waiter *w = b->waiters;

		DLIST_REMOVE(b->waiters, w);
		w->b = NULL;
		w->fn(w->private_data);
	}
}

/* Drop every lock of the open (it closes), and the locks of dead
 * processes while the record is locked anyway. */
static void brl_open_release(struct smbd_brl_open *b)
{
	struct db_context *db = b->client->brlock_db;
	TALLOC_CTX *frame;
	struct db_record *rec;
	struct db_data value;
	struct brl_set set;
	struct brl_alive_memo memo;
	uint32_t removed;
	unsigned attempt = 0;
	NTSTATUS status;

	if (!b->may_hold_locks || b->key == NULL || db == NULL) {
		return;
	}
again:
	frame = talloc_new(NULL);
	if (frame == NULL) {
		return;
	}
	rec = dbwrap_fetch_locked(db, frame, db_data_make(b->key, b->key_len));
	if (rec == NULL) {
		DBG_ERR("cannot lock the brlock record of an open\n");
		talloc_free(frame);
		return;
	}
	value = dbwrap_record_get_value(rec);
	status = brl_set_decode(frame, value.dptr, value.dsize, &set);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("brlock record: %s, dropped\n", nt_errstr(status));
		(void)dbwrap_record_delete(rec);
		talloc_free(frame);
		return;
	}
	brl_alive_memo_init(&memo, b->client);
	removed = brl_set_remove_owner(&set, &b->owner);
	removed += brl_set_remove_dead(&set, brl_alive, &memo);
	if (removed > 0) {
		if (set.num == 0) {
			status = dbwrap_record_delete(rec);
		} else {
			uint8_t *buf;
			size_t len;

			status = brl_set_encode(frame, &set, &buf, &len);
			if (NT_STATUS_IS_OK(status)) {
				status = dbwrap_record_store(
					rec, db_data_make(buf, len));
			}
		}
		if (smbd_db_retry(status, &attempt, "releasing locks")) {
			talloc_free(frame);
			goto again;
		}
		if (!NT_STATUS_IS_OK(status)) {
			DBG_ERR("brlock record update: %s\n",
				nt_errstr(status));
		}
	}
	talloc_free(frame); /* unlocks; a store wakes the watchers */
}

static int smbd_brl_open_destructor(struct smbd_brl_open *b)
{
	/* locks first: a waiter told below may be a LOCK of another open
	 * of ours that retries only once the record changes */
	brl_open_release(b);
	brl_open_tell_waiters(b);
	if (b->op != NULL && b->op->brl == b) {
		b->op->brl = NULL;
	}
	return 0;
}

/* The record key of op's stream: fstat once per open. */
static NTSTATUS brl_open_key(struct smbd_brl_open *b)
{
	struct smbd_open *op = b->op;
	const char *stream = smbd_open_stream(op);
	struct stat st;

	if (b->key != NULL) {
		return NT_STATUS_OK;
	}
	if (op->fd == NULL || op->fd->fd == -1) {
		return NT_STATUS_INVALID_HANDLE;
	}
	if (fstat(op->fd->fd, &st) != 0) {
		return map_nt_error_from_unix(errno);
	}
	b->key = brl_key_make(b, brl_file_dev(st.st_dev), (uint64_t)st.st_ino,
			      stream, &b->key_len);
	if (b->key == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	return NT_STATUS_OK;
}

struct smbd_brl_open *smbd_brl_open_get(struct smbd_open *op)
{
	struct smbd_brl_open *b = op->brl;

	if (b != NULL) {
		return b;
	}
	b = talloc_zero(op, struct smbd_brl_open);
	if (b == NULL) {
		return NULL;
	}
	b->op = op;
	b->client = op->tcon->session->client;
	b->owner = smbd_brl_owner(op);
	smb2_lock_sequence_init(b->lock_sequence);
	talloc_set_destructor(b, smbd_brl_open_destructor);
	op->brl = b;
	return b;
}

uint8_t *smbd_brl_open_lock_sequence(struct smbd_brl_open *b)
{
	return b->lock_sequence;
}

static int brl_waiter_destructor(struct brl_waiter *w)
{
	if (w->b != NULL) {
		DLIST_REMOVE(w->b->waiters, w);
	}
	return 0;
}

void *smbd_brl_open_add_waiter(TALLOC_CTX *mem_ctx, struct smbd_brl_open *b,
			       void (*fn)(void *private_data),
			       void *private_data)
{
	struct brl_waiter *w = talloc_zero(mem_ctx, struct brl_waiter);

	if (w == NULL) {
		return NULL;
	}
	w->b = b;
	w->fn = fn;
	w->private_data = private_data;
	DLIST_ADD_END(b->waiters, w);
	talloc_set_destructor(w, brl_waiter_destructor);
	return w;
}

NTSTATUS smbd_brl_apply(TALLOC_CTX *mem_ctx, struct smbd_open *op,
			const struct brl_elem *elems, uint32_t num_elems,
			bool is_unlock, struct db_record **prec,
			struct server_id *blocker)
{
	struct smbd_brl_open *b = smbd_brl_open_get(op);
	struct db_context *db;
	struct db_record *rec;
	struct db_data value;
	struct brl_set set;
	struct brl_lock in_the_way;
	struct brl_alive_memo memo;
	bool changed = false, dropped = false;
	uint32_t dead;
	unsigned attempt = 0;
	NTSTATUS status, st2;

	if (prec != NULL) {
		*prec = NULL;
	}
	if (b == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = brl_open_key(b);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	db = brl_db(b->client);
	if (db == NULL) {
		return NT_STATUS_INTERNAL_DB_ERROR;
	}
again:
	changed = false;
	dropped = false;
	rec = dbwrap_fetch_locked(db, mem_ctx,
				  db_data_make(b->key, b->key_len));
	if (rec == NULL) {
		return NT_STATUS_INTERNAL_DB_ERROR;
	}
	value = dbwrap_record_get_value(rec);
	status = brl_set_decode(rec, value.dptr, value.dsize, &set);
	if (!NT_STATUS_IS_OK(status)) {
		/* a record nobody can read protects nothing: start over */
		DBG_ERR("brlock record: %s, dropped\n", nt_errstr(status));
		set = (struct brl_set){ 0 };
		dropped = true;
	}
	brl_alive_memo_init(&memo, b->client);
	dead = brl_set_remove_dead(&set, brl_alive, &memo);
	if (dead > 0) {
		DBG_INFO("dropped %u locks of dead processes\n",
			 (unsigned)dead);
	}

	status = brl_set_apply(rec, &set, &b->owner, elems, num_elems,
			       is_unlock, &in_the_way, &changed);
	if (!is_unlock && NT_STATUS_IS_OK(status)) {
		b->may_hold_locks = true;
	}
	if (changed || dropped || dead > 0) {
		if (set.num == 0) {
			st2 = value.dsize > 0 ? dbwrap_record_delete(rec)
					      : NT_STATUS_OK;
		} else {
			uint8_t *buf;
			size_t len;

			st2 = brl_set_encode(rec, &set, &buf, &len);
			if (NT_STATUS_IS_OK(st2)) {
				st2 = dbwrap_record_store(
					rec, db_data_make(buf, len));
			}
		}
		if (smbd_db_retry(st2, &attempt, "byte-range lock")) {
			/* another node changed the locks of the file: the
			 * conflict check is made again on its record */
			TALLOC_FREE(rec);
			goto again;
		}
		if (!NT_STATUS_IS_OK(st2)) {
			DBG_ERR("brlock record update: %s\n", nt_errstr(st2));
			TALLOC_FREE(rec);
			return smbd_db_retry_status(
				NT_STATUS_IS_OK(status) ? st2 : status);
		}
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_LOCK_NOT_GRANTED)) {
		if (blocker != NULL) {
			*blocker = in_the_way.owner.pid;
		}
		if (prec != NULL) {
			*prec = rec;
			return status;
		}
	}
	TALLOC_FREE(rec);
	return status;
}

/* READ/WRITE check: parse in place, no record lock. */
struct brl_io_check {
	const struct brl_owner *owner;
	uint64_t start, length;
	bool write;
	struct brl_alive_memo *memo;
	NTSTATUS status;
};

static void brl_io_parser(struct db_data key, struct db_data data,
			  void *private_data)
{
	struct brl_io_check *c = private_data;
	TALLOC_CTX *frame = talloc_new(NULL);
	struct brl_set set;
	uint32_t i;

	c->status = brl_set_decode(frame, data.dptr, data.dsize, &set);
	if (!NT_STATUS_IS_OK(c->status)) {
		/* the next lock request drops it; I/O goes on */
		c->status = NT_STATUS_OK;
		talloc_free(frame);
		return;
	}
	for (i = 0; i < set.num; i++) {
		struct brl_set one = { .locks = &set.locks[i], .num = 1 };

		if (NT_STATUS_IS_OK(brl_set_check_io(&one, c->owner, c->start,
						     c->length, c->write))) {
			continue;
		}
		if (!brl_alive(&set.locks[i].owner.pid, c->memo)) {
			continue; /* a killed client's lock: not enforced */
		}
		c->status = NT_STATUS_FILE_LOCK_CONFLICT;
		break;
	}
	talloc_free(frame);
}

NTSTATUS smbd_brl_check_io(struct smbd_open *op, uint64_t offset,
			   uint64_t length, bool write)
{
	struct smbd_client *client = op->tcon->session->client;
	struct smbd_brl_open *b;
	struct db_context *db;
	struct brl_alive_memo memo;
	struct brl_io_check c;
	NTSTATUS status;

	/* "strict locking = no": locks bind only other lock requests, as
	 * in Samba.  Auto and yes check every READ and WRITE (Samba's Auto
	 * skips opens holding an oplock; checking is never wrong). */
	if (length == 0 || op->tcon->share->strict_locking ==
				   SMB_CONF_STRICT_LOCKING_NO) {
		return NT_STATUS_OK;
	}
	b = smbd_brl_open_get(op);
	if (b == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = brl_open_key(b);
	if (!NT_STATUS_IS_OK(status)) {
		return NT_STATUS_OK; /* no file behind it: nothing to lock */
	}
	db = brl_db(client);
	if (db == NULL) {
		/* logged by db_open_tdb; refusing every READ and WRITE of
		 * the server would not make the locks of others visible */
		return NT_STATUS_OK;
	}
	brl_alive_memo_init(&memo, client);
	c = (struct brl_io_check){ .owner = &b->owner,
				   .start = offset,
				   .length = length,
				   .write = write,
				   .memo = &memo,
				   .status = NT_STATUS_OK };
	status = dbwrap_parse_record(db, db_data_make(b->key, b->key_len),
				     brl_io_parser, &c);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		return NT_STATUS_OK;
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	return c.status;
}

static void brl_count_parser(struct db_data key, struct db_data data,
			     void *private_data)
{
	struct brl_io_check *c = private_data;
	TALLOC_CTX *frame = talloc_new(NULL);
	struct brl_set set;
	uint32_t i;

	if (NT_STATUS_IS_OK(brl_set_decode(frame, data.dptr, data.dsize,
					   &set))) {
		for (i = 0; i < set.num; i++) {
			if (brl_alive(&set.locks[i].owner.pid, c->memo)) {
				c->status = NT_STATUS_FILE_LOCK_CONFLICT;
				break;
			}
		}
	}
	talloc_free(frame);
}

bool smbd_brl_file_has_locks(struct smbd_open *op)
{
	struct smbd_client *client = op->tcon->session->client;
	struct smbd_brl_open *b = smbd_brl_open_get(op);
	struct db_context *db;
	struct brl_alive_memo memo;
	struct brl_io_check c = { .status = NT_STATUS_OK };

	if (b == NULL || !NT_STATUS_IS_OK(brl_open_key(b)) ||
	    (db = brl_db(client)) == NULL) {
		return false;
	}
	brl_alive_memo_init(&memo, client);
	c.memo = &memo;
	if (!NT_STATUS_IS_OK(dbwrap_parse_record(
		    db, db_data_make(b->key, b->key_len), brl_count_parser,
		    &c))) {
		return false;
	}
	return !NT_STATUS_IS_OK(c.status);
}

struct brl_cleanup_state {
	smbd_owner_gone_fn gone;
	void *private_data;
	int removed;
	bool again; /* a store lost to another node's change */
};

static bool brl_not_gone(const struct server_id *pid, void *private_data)
{
	struct brl_cleanup_state *c = private_data;

	return !c->gone(pid, c->private_data);
}

static int brl_cleanup_one(struct db_record *rec, void *private_data)
{
	struct brl_cleanup_state *c = private_data;
	TALLOC_CTX *frame = talloc_new(NULL);
	struct db_data value = dbwrap_record_get_value(rec);
	struct brl_set set;
	uint32_t removed;
	uint8_t *buf;
	size_t len;

	if (frame == NULL ||
	    !NT_STATUS_IS_OK(brl_set_decode(frame, value.dptr, value.dsize,
					    &set))) {
		talloc_free(frame);
		return 0;
	}
	removed = brl_set_remove_dead(&set, brl_not_gone, c);
	if (removed > 0) {
		NTSTATUS status = NT_STATUS_OK;

		if (set.num == 0) {
			status = dbwrap_record_delete(rec);
		} else if (NT_STATUS_IS_OK(brl_set_encode(frame, &set, &buf,
							  &len))) {
			status = dbwrap_record_store(rec,
						     db_data_make(buf, len));
		}
		if (NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
			c->again = true; /* the next walk reads it anew */
		} else {
			c->removed += (int)removed;
		}
	}
	talloc_free(frame);
	return 0;
}

int brl_cleanup(struct db_context *db, smbd_owner_gone_fn gone,
		void *private_data)
{
	struct brl_cleanup_state c = { .gone = gone,
				       .private_data = private_data };
	int walks = 0;

	if (db == NULL) {
		return 0;
	}
	do {
		c.again = false;
		(void)dbwrap_traverse(db, brl_cleanup_one, &c, NULL);
	} while (c.again && ++walks < SMBD_CLEANUP_MAX_WALKS);
	return c.removed;
}

struct brl_owner_match {
	uint32_t node, pid;
};

static bool brl_is_that_process(const struct server_id *id, void *private_data)
{
	const struct brl_owner_match *m = private_data;

	return id->node == m->node && id->pid == m->pid;
}

int brl_cleanup_owner(struct db_context *db, uint32_t node, pid_t pid)
{
	struct brl_owner_match m = { .node = node, .pid = (uint32_t)pid };

	return brl_cleanup(db, brl_is_that_process, &m);
}
