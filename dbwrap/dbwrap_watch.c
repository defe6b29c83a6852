/*
 * Record watches: a tevent_req that completes when a record is changed
 * through dbwrap, or when the process blocking it dies.
 *
 * The watcher list of a key lives in the side database "<path>.watch"
 * (volatile, same key) as one REC_DBWRAP_WATCHERS record: a list of
 * {server_id, instance}.  The instance is a per-database-context counter
 * naming one watch request of the process.
 *
 * No lost wake-up: a watcher adds itself while it holds the record lock
 * (it has just looked at the value), and a storer reads and removes the
 * list after its change and before it releases the lock.  So either the
 * watcher was in the list the storer read, or it locked the record after
 * the change and saw the new value.  Lock order: record lock, then the
 * side database's lock of the same key, never the other way round
 * (nothing is ever locked while a side-database lock is held).
 *
 * Spurious wake-ups are allowed (callers always look again): a stale
 * entry of a finished request wakes nobody, since its instance is never
 * reused; an entry of a dead process just fails to be delivered.
 *
 * Owner death: pidfd_open() on the blocker's pid, readable when it
 * exits.  Where pidfd_open fails (old kernel, seccomp), and for a blocker
 * on another node, server_id_is_alive() is polled once a second.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dbwrap/dbwrap_private.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "lib/util/marshall.h"

#define WATCHERS_VERSION 1
#define MODIFIED_VERSION 1
#define WATCHER_WIRE_SIZE (SERVER_ID_WIRE_SIZE + 8)
#define BLOCKER_POLL_USEC 1000000

struct db_watcher {
	struct server_id id;
	uint64_t instance;
};

struct db_watch_state {
	struct db_watch_state *prev, *next;
	struct tevent_req *req;
	struct tevent_context *ev;
	struct db_context *db; /* NULL once the context is gone */
	struct db_data key;
	uint64_t instance;
	bool registered; /* our entry may still be in the side database */
	struct server_id blocker;
	bool blocker_died;
	struct tevent_fd *pidfd_fde;
	struct tevent_timer *poll_timer;
};

/* NTSTATUS through tevent's error slot (see smbd/vfs/vfs_async.c). */
static bool req_nterror(struct tevent_req *req, NTSTATUS status)
{
	if (NT_STATUS_IS_OK(status)) {
		return false;
	}
	return tevent_req_error(req, NT_STATUS_V(status));
}

/* ---- the watcher list --------------------------------------------- */

static NTSTATUS watchers_pull(TALLOC_CTX *mem_ctx, struct db_data data,
			      struct db_watcher **pw, size_t *pnum)
{
	struct marshall_pull r;
	struct db_watcher *w;
	uint8_t idbuf[SERVER_ID_WIRE_SIZE];
	uint32_t i, n;
	NTSTATUS status;

	*pw = NULL;
	*pnum = 0;
	status = marshall_pull_init(&r, data.dptr, data.dsize,
				    REC_DBWRAP_WATCHERS, WATCHERS_VERSION);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (!marshall_pull_count(&r, &n, WATCHER_WIRE_SIZE)) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	w = talloc_array(mem_ctx, struct db_watcher, n == 0 ? 1 : n);
	if (w == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < n; i++) {
		marshall_pull_bytes(&r, idbuf, sizeof(idbuf));
		marshall_pull_u64(&r, &w[i].instance);
		server_id_pull(idbuf, &w[i].id);
	}
	status = marshall_pull_finish(&r);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(w);
		return status;
	}
	*pw = w;
	*pnum = n;
	return NT_STATUS_OK;
}

static NTSTATUS watchers_push(TALLOC_CTX *mem_ctx, const struct db_watcher *w,
			      size_t num, struct db_data *out)
{
	struct marshall_push *p;
	uint8_t idbuf[SERVER_ID_WIRE_SIZE];
	size_t i;

	p = marshall_push_init(mem_ctx, REC_DBWRAP_WATCHERS, WATCHERS_VERSION);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, (uint32_t)num);
	for (i = 0; i < num; i++) {
		server_id_push(idbuf, &w[i].id);
		marshall_push_bytes(p, idbuf, sizeof(idbuf));
		marshall_push_u64(p, w[i].instance);
	}
	return marshall_push_finish(p, &out->dptr, &out->dsize);
}

/* Append (add) or remove (!add) one entry under the side-db lock. */
static NTSTATUS watchers_update(struct db_context *db, struct db_data key,
				const struct db_watcher *me, bool add)
{
	TALLOC_CTX *frame = talloc_new(NULL);
	struct db_record *rec;
	struct db_watcher *w = NULL;
	size_t num = 0, i, j;
	struct db_data value;
	NTSTATUS status;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	rec = dbwrap_fetch_locked(db->watchers, frame, key);
	if (rec == NULL) {
		talloc_free(frame);
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	value = dbwrap_record_get_value(rec);
	if (value.dsize != 0) {
		status = watchers_pull(frame, value, &w, &num);
		if (!NT_STATUS_IS_OK(status)) {
			/* A list nobody can read wakes nobody: start anew. */
			DBG_ERR("%s: corrupt watcher list dropped: %s\n",
				db->name, nt_errstr(status));
			num = 0;
		}
	}
	if (add) {
		w = talloc_realloc(frame, w, struct db_watcher, num + 1);
		if (w == NULL) {
			talloc_free(frame);
			return NT_STATUS_NO_MEMORY;
		}
		w[num++] = *me;
	} else {
		for (i = j = 0; i < num; i++) {
			if (w[i].instance == me->instance &&
			    server_id_equal(&w[i].id, &me->id)) {
				continue;
			}
			w[j++] = w[i];
		}
		if (j == num) {
			talloc_free(frame);
			return NT_STATUS_OK; /* a storer took it already */
		}
		num = j;
	}
	if (num == 0) {
		status = dbwrap_record_delete(rec);
	} else {
		status = watchers_push(frame, w, num, &value);
		if (NT_STATUS_IS_OK(status)) {
			status = dbwrap_record_store(rec, value);
		}
	}
	talloc_free(frame);
	return status;
}

/* ---- waking ------------------------------------------------------- */

void dbwrap_watch_wakeup(struct db_context *db, struct db_data key)
{
	TALLOC_CTX *frame;
	struct db_record *rec;
	struct db_watcher *w = NULL;
	size_t num = 0, i;
	struct db_data value;
	NTSTATUS status;

	if (db->watchers == NULL) {
		return; /* a side database itself */
	}
	/*
	 * Fast path without the side lock: an entry for this key can only
	 * be added by someone holding the record lock, which our caller
	 * holds (or a commit just released with the change visible).
	 */
	if (!dbwrap_exists(db->watchers, key)) {
		return;
	}
	frame = talloc_new(NULL);
	if (frame == NULL) {
		DBG_ERR("%s: no memory to wake watchers\n", db->name);
		return;
	}
	rec = dbwrap_fetch_locked(db->watchers, frame, key);
	if (rec == NULL) {
		DBG_ERR("%s: cannot lock the watcher list\n", db->name);
		talloc_free(frame);
		return;
	}
	value = dbwrap_record_get_value(rec);
	if (value.dsize == 0) {
		talloc_free(frame);
		return;
	}
	if (db->msg == NULL) {
		/* Keep the list for a storer that can send. */
		DBG_ERR("%s: opened without messaging: cannot wake the "
			"watchers of a changed record\n",
			db->name);
		talloc_free(frame);
		return;
	}
	status = watchers_pull(frame, value, &w, &num);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("%s: corrupt watcher list dropped: %s\n", db->name,
			nt_errstr(status));
		num = 0;
	}
	status = dbwrap_record_delete(rec);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("%s: removing the watcher list: %s\n", db->name,
			nt_errstr(status));
	}
	TALLOC_FREE(rec); /* nothing below needs the side lock */

	for (i = 0; i < num; i++) {
		struct marshall_push *p;
		uint8_t *buf;
		size_t len;

		p = marshall_push_init(frame, REC_MSG_DBWRAP_MODIFIED,
				       MODIFIED_VERSION);
		if (p == NULL) {
			break;
		}
		marshall_push_string(p, db->name);
		marshall_push_blob(p, key.dptr, key.dsize);
		marshall_push_u64(p, w[i].instance);
		status = marshall_push_finish(p, &buf, &len);
		if (NT_STATUS_IS_OK(status)) {
			status = messaging_send(db->msg, w[i].id,
						MSG_DBWRAP_MODIFIED, buf, len,
						NULL, 0);
		}
		if (!NT_STATUS_IS_OK(status)) {
			/* a watcher that is gone: nothing to wake */
			DBG_DEBUG("%s: waking watcher pid %u: %s\n", db->name,
				  (unsigned)w[i].id.pid, nt_errstr(status));
		}
	}
	talloc_free(frame);
}

static void watch_finish(struct db_watch_state *state, bool blocker_died)
{
	state->blocker_died = blocker_died;
	/* Callers may free the database or start new watches from their
	 * callback: let it run from the event loop, not from here. */
	tevent_req_defer_callback(state->req, state->ev);
	tevent_req_done(state->req);
}

static void watch_msg_handler(struct messaging_context *msg,
			      void *private_data, uint32_t msg_type,
			      struct server_id src, const uint8_t *data,
			      size_t len, int *fds, size_t num_fds)
{
	struct db_context *db = private_data;
	struct db_watch_state *state;
	struct marshall_pull r;
	TALLOC_CTX *frame;
	char *name = NULL;
	const uint8_t *key;
	size_t keylen, i;
	uint64_t instance;

	for (i = 0; i < num_fds; i++) {
		close(fds[i]); /* none expected */
	}
	frame = talloc_new(NULL);
	if (frame == NULL) {
		return;
	}
	if (!NT_STATUS_IS_OK(marshall_pull_init(&r, data, len,
						REC_MSG_DBWRAP_MODIFIED,
						MODIFIED_VERSION))) {
		goto done;
	}
	marshall_pull_string(&r, frame, &name);
	marshall_pull_blob(&r, &key, &keylen);
	marshall_pull_u64(&r, &instance);
	if (!NT_STATUS_IS_OK(marshall_pull_finish(&r)) || name == NULL) {
		DBG_WARNING("malformed MSG_DBWRAP_MODIFIED from pid %u\n",
			    (unsigned)src.pid);
		goto done;
	}
	if (strcmp(name, db->name) != 0) {
		goto done; /* for another database of this process */
	}
	for (state = db->watches; state != NULL; state = state->next) {
		if (state->instance == instance &&
		    state->key.dsize == keylen &&
		    memcmp(state->key.dptr, key, keylen) == 0) {
			break;
		}
	}
	if (state == NULL) {
		goto done; /* a watch that has finished: stale entry */
	}
	state->registered = false; /* the storer removed the list */
	watch_finish(state, false);
done:
	talloc_free(frame);
}

void dbwrap_watch_context_gone(struct db_context *db)
{
	struct db_watch_state *state;

	if (db->watch_handler_registered && db->msg != NULL) {
		messaging_deregister(db->msg, MSG_DBWRAP_MODIFIED, db);
		db->watch_handler_registered = false;
	}
	while ((state = db->watches) != NULL) {
		DLIST_REMOVE(db->watches, state);
		state->db = NULL;
		state->registered = false;
		tevent_req_defer_callback(state->req, state->ev);
		req_nterror(state->req, NT_STATUS_INVALID_DEVICE_STATE);
	}
}

/* ---- the request -------------------------------------------------- */

static void watch_cleanup(struct tevent_req *req,
			  enum tevent_req_state req_state)
{
	struct db_watch_state *state = tevent_req_data(req,
						       struct db_watch_state);
	struct db_watcher me;
	NTSTATUS status;

	TALLOC_FREE(state->pidfd_fde);
	TALLOC_FREE(state->poll_timer);
	if (state->db == NULL) {
		return;
	}
	DLIST_REMOVE(state->db->watches, state);
	if (state->registered) {
		/* Best effort: a stale entry only costs a message. */
		state->registered = false;
		me.id = messaging_server_id(state->db->msg);
		me.instance = state->instance;
		status = watchers_update(state->db, state->key, &me, false);
		if (!NT_STATUS_IS_OK(status)) {
			DBG_DEBUG("%s: removing a watcher: %s\n",
				  state->db->name, nt_errstr(status));
		}
	}
	state->db = NULL;
}

static void watch_pidfd_readable(struct tevent_context *ev,
				 struct tevent_fd *fde, uint16_t flags,
				 void *private_data)
{
	struct db_watch_state *state = private_data;

	TALLOC_FREE(state->pidfd_fde); /* closes the pidfd */
	watch_finish(state, true);
}

static void watch_poll(struct tevent_context *ev, struct tevent_timer *te,
		       struct timeval now, void *private_data)
{
	struct db_watch_state *state = private_data;

	state->poll_timer = NULL;
	if (state->db == NULL) {
		return;
	}
	if (!server_id_is_alive(state->db->msg, &state->blocker)) {
		watch_finish(state, true);
		return;
	}
	state->poll_timer = tevent_add_timer(
		ev, state, tevent_timeval_current_ofs(0, BLOCKER_POLL_USEC),
		watch_poll, state);
	if (state->poll_timer == NULL) {
		req_nterror(state->req, NT_STATUS_NO_MEMORY);
	}
}

/* Arrange to learn of the blocker's death.  false: it is dead already. */
static bool watch_blocker(struct db_watch_state *state)
{
	struct server_id self = messaging_server_id(state->db->msg);
	int pidfd;

	if (!server_id_is_alive(state->db->msg, &state->blocker)) {
		return false;
	}
	if (state->blocker.node == self.node) {
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)state->blocker.pid,
				     0);
		if (pidfd == -1 && errno == ESRCH) {
			return false;
		}
		if (pidfd != -1) {
			state->pidfd_fde = tevent_add_fd(
				state->ev, state, pidfd, TEVENT_FD_READ,
				watch_pidfd_readable, state);
			if (state->pidfd_fde != NULL) {
				tevent_fd_set_auto_close(state->pidfd_fde);
				return true;
			}
			close(pidfd);
		}
		DBG_DEBUG("pidfd_open(%u): %s, polling\n",
			  (unsigned)state->blocker.pid, strerror(errno));
	}
	state->poll_timer = tevent_add_timer(
		state->ev, state,
		tevent_timeval_current_ofs(0, BLOCKER_POLL_USEC), watch_poll,
		state);
	return true;
}

static uint64_t random_u64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v)) {
		v = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	}
	return v;
}

struct tevent_req *dbwrap_watch_send(TALLOC_CTX *mem_ctx,
				     struct tevent_context *ev,
				     struct db_record *rec,
				     struct server_id blocker)
{
	struct tevent_req *req;
	struct db_watch_state *state;
	struct db_context *db = rec != NULL ? rec->db : NULL;
	struct db_watcher me;
	NTSTATUS status;

	req = tevent_req_create(mem_ctx, &state, struct db_watch_state);
	if (req == NULL) {
		return NULL;
	}
	state->req = req;
	state->ev = ev;
	state->blocker = blocker;

	if (db == NULL || rec->read_only || rec->done) {
		/* not a locked record: the check-then-wait would race */
		req_nterror(req, NT_STATUS_INVALID_PARAMETER);
		return tevent_req_post(req, ev);
	}
	if (db->msg == NULL || db->watchers == NULL) {
		req_nterror(req, NT_STATUS_NOT_SUPPORTED);
		return tevent_req_post(req, ev);
	}
	state->key.dptr = talloc_memdup(state, rec->key.dptr, rec->key.dsize);
	if (tevent_req_nomem(state->key.dptr, req)) {
		return tevent_req_post(req, ev);
	}
	state->key.dsize = rec->key.dsize;

	if (!db->watch_handler_registered) {
		status = messaging_register(db->msg, db, MSG_DBWRAP_MODIFIED,
					    watch_msg_handler);
		if (req_nterror(req, status)) {
			return tevent_req_post(req, ev);
		}
		db->watch_handler_registered = true;
	}
	if (db->next_watch_instance == 0) {
		/* random start: two contexts on one database in one
		 * process do not share instance numbers */
		db->next_watch_instance = random_u64() | 1;
	}
	state->instance = db->next_watch_instance++;

	me.id = messaging_server_id(db->msg);
	me.instance = state->instance;
	status = watchers_update(db, state->key, &me, true);
	if (req_nterror(req, status)) {
		return tevent_req_post(req, ev);
	}
	state->db = db;
	state->registered = true;
	DLIST_ADD(db->watches, state);
	tevent_req_set_cleanup_fn(req, watch_cleanup);

	if (db->ops->record_changed != NULL && db->ops->record_changed(rec)) {
		/* changed (on another node) after the caller's fetch and
		 * before we were in the list: its wake-up went to nobody */
		tevent_req_done(req);
		return tevent_req_post(req, ev);
	}

	if (blocker.pid != 0 && !watch_blocker(state)) {
		state->blocker_died = true;
		tevent_req_done(req);
		return tevent_req_post(req, ev);
	}
	if (blocker.pid != 0 && state->pidfd_fde == NULL &&
	    state->poll_timer == NULL) {
		tevent_req_nomem(NULL, req);
		return tevent_req_post(req, ev);
	}
	return req;
}

NTSTATUS dbwrap_watch_recv(struct tevent_req *req, bool *blocker_died)
{
	struct db_watch_state *state = tevent_req_data(req,
						       struct db_watch_state);
	enum tevent_req_state req_state;
	uint64_t err;
	NTSTATUS status = NT_STATUS_OK;

	if (blocker_died != NULL) {
		*blocker_died = false;
	}
	if (tevent_req_is_error(req, &req_state, &err)) {
		switch (req_state) {
		case TEVENT_REQ_USER_ERROR:
			status = NT_STATUS((uint32_t)err);
			break;
		case TEVENT_REQ_TIMED_OUT:
			status = NT_STATUS_IO_TIMEOUT;
			break;
		case TEVENT_REQ_NO_MEMORY:
			status = NT_STATUS_NO_MEMORY;
			break;
		default:
			status = NT_STATUS_INTERNAL_ERROR;
			break;
		}
	} else if (blocker_died != NULL) {
		*blocker_died = state->blocker_died;
	}
	tevent_req_received(req);
	return status;
}
