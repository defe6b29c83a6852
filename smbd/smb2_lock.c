/*
 * LOCK ([MS-SMB2] 2.2.26, 2.2.27, 3.3.5.14), docs/locking.md.
 *
 * The request is parsed by smb2_lock_wire.c and applied to the stream's
 * record in brlock.tdb (brlock_db.c), so locks hold between every smbd
 * process.  A single lock without FAIL_IMMEDIATELY that conflicts waits:
 * the request goes async at once (interim STATUS_PENDING), watches the
 * record (dbwrap_watch_send, with the conflicting lock's process as the
 * blocker so that its death wakes us too) and tries again whenever the
 * record changes.  SMB2 blocking locks have no timeout: the wait ends
 * when the lock is granted, on CANCEL (STATUS_CANCELLED), or with
 * RANGE_NOT_LOCKED when the open is closed or its tree or session goes
 * away, as Windows answers (smbtorture smb2.lock.cancel, cancel-tdis,
 * cancel-logoff).
 */
#include "smbd/smbd.h"
#include "smbd/oplock_break.h"

#include "dbwrap/dbwrap.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/brlock.h"
#include "smbd/smb2_lock_wire.h"

#define LOCK_REP_SIZE 4
/* Without messaging (test harnesses) a blocked lock polls. */
#define LOCK_POLL_MS 200

struct lock_state {
	struct smbd_request *req;
	struct smbd_open *op; /* NULL once the open went away */
	struct smb2_lock_req lr;
	int seq_idx;
	uint8_t *lock_sequence; /* NULL: no replay detection */
	struct tevent_req *watch;
	bool watch_failed; /* poll from then on, never spin on errors */
	struct tevent_timer *poll;
	void *waiter; /* registration with the open (brlock.h) */
};

static NTSTATUS lock_wait(struct lock_state *state, struct db_record *rec,
			  struct server_id blocker);
static void lock_watch_done(struct tevent_req *subreq);
static void lock_poll_done(struct tevent_context *ev, struct tevent_timer *te,
			   struct timeval now, void *private_data);
static void lock_open_gone(void *private_data);
static void lock_cancel(struct smbd_request *req);

static NTSTATUS lock_reply(struct smbd_request *req)
{
	uint8_t *out = smbd_request_reply(req, LOCK_REP_SIZE, 0);

	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, LOCK_REP_SIZE);
	return NT_STATUS_OK;
}

/* Success: remember the lock sequence, build the reply. */
static NTSTATUS lock_success(struct lock_state *state)
{
	if (!state->lr.is_unlock) {
		/* a byte-range lock breaks level II oplocks and R leases,
		 * the locker's own level II too ([MS-FSA] 2.1.4.12) */
		smbd_oplock_contend_level2(state->op);
	}
	if (state->lock_sequence != NULL) {
		smb2_lock_sequence_done(state->lock_sequence, state->seq_idx,
					state->lr.sequence);
	}
	return lock_reply(state->req);
}

/*
 * [MS-SMB2] 3.3.5.14: lock sequence verification for resilient, durable
 * and persistent opens, and on 3.x connections with multichannel.  None
 * of those exists yet (no durable handles, no CAP_MULTI_CHANNEL), so
 * today only the dialect/capability test can switch it on; the replay
 * logic itself is in smb2_lock_wire.c.
 */
static bool lock_sequence_checked(const struct smbd_request *req)
{
	const struct smbd_connection *conn = req->conn;

	return conn->dialect >= SMB2_DIALECT_REVISION_300 &&
	       (conn->server_capabilities & SMB2_CAP_MULTI_CHANNEL) != 0;
}

static int lock_state_destructor(struct lock_state *state)
{
	TALLOC_FREE(state->watch);
	TALLOC_FREE(state->poll);
	TALLOC_FREE(state->waiter);
	return 0;
}

NTSTATUS smbd_smb2_lock(struct smbd_request *req)
{
	struct lock_state *state;
	struct smbd_brl_open *brl;
	struct db_record *rec = NULL;
	struct server_id blocker = { 0 };
	NTSTATUS status;

	state = talloc_zero(req, struct lock_state);
	if (state == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->req = req;
	state->seq_idx = -1;
	status = smb2_lock_parse(state, req->in_body, req->in_body_len,
				 &state->lr);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	state->op = smbd_request_lookup_open(req, state->lr.file_id);
	if (state->op == NULL) {
		return NT_STATUS_FILE_CLOSED;
	}
	if (!NT_STATUS_IS_OK(state->lr.flags_status)) {
		return state->lr.flags_status;
	}
	/* Windows' I/O manager refuses NtLockFile on a handle without read
	 * or write data access (Samba: INVALID_HANDLE for its stat opens) */
	if (!(state->op->access_mask &
	      (SEC_FILE_READ_DATA | SEC_FILE_WRITE_DATA))) {
		return NT_STATUS_ACCESS_DENIED;
	}
	/* [MS-FSA] 2.1.5.8/2.1.5.9: no byte-range locks on directories */
	if (state->op->is_dir) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	brl = smbd_brl_open_get(state->op);
	if (brl == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (lock_sequence_checked(req)) {
		state->lock_sequence = smbd_brl_open_lock_sequence(brl);
		if (smb2_lock_sequence_check(state->lock_sequence,
					     state->lr.sequence,
					     &state->seq_idx)) {
			DBG_INFO("replayed LOCK (sequence 0x%x) ignored\n",
				 (unsigned)state->lr.sequence);
			return lock_reply(req);
		}
	}
	talloc_set_destructor(state, lock_state_destructor);

	status = smbd_brl_apply(state, state->op, state->lr.elems,
				state->lr.count, state->lr.is_unlock,
				state->lr.blocking ? &rec : NULL, &blocker);
	if (NT_STATUS_IS_OK(status)) {
		return lock_success(state);
	}
	if (rec == NULL) {
		return status;
	}

	/* a blocking lock that must wait */
	state->waiter = smbd_brl_open_add_waiter(state, brl, lock_open_gone,
						 state);
	if (state->waiter == NULL) {
		TALLOC_FREE(rec);
		return NT_STATUS_NO_MEMORY;
	}
	status = lock_wait(state, rec, blocker);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	req->cancel_fn = lock_cancel;
	req->handler_state = state;
	smbd_request_go_async(req);
	return NT_STATUS_PENDING;
}

/*
 * Wait for the locked record rec to change, then free it (which unlocks
 * it).  The watch is registered before the unlock: no change slips
 * between the failed attempt and the wait.
 */
static NTSTATUS lock_wait(struct lock_state *state, struct db_record *rec,
			  struct server_id blocker)
{
	struct smbd_client *client = state->req->conn->client;
	struct server_id self = smbd_brl_owner(state->op).pid;

	if (server_id_equal(&blocker, &self)) {
		/* our own process: no death to watch for */
		blocker = (struct server_id){ 0 };
	}
	if (client->msg != NULL && !state->watch_failed) {
		state->watch = dbwrap_watch_send(state, client->ev, rec,
						 blocker);
	}
	TALLOC_FREE(rec);
	if (state->watch != NULL) {
		tevent_req_set_callback(state->watch, lock_watch_done, state);
		return NT_STATUS_OK;
	}
	state->poll = tevent_add_timer(
		client->ev, state,
		tevent_timeval_current_ofs(0, LOCK_POLL_MS * 1000),
		lock_poll_done, state);
	return state->poll != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

/* Try again; wait again if still in the way. */
static void lock_retry(struct lock_state *state)
{
	struct smbd_request *req = state->req;
	struct db_record *rec = NULL;
	struct server_id blocker = { 0 };
	NTSTATUS status;

	status = smbd_brl_apply(state, state->op, state->lr.elems,
				state->lr.count, state->lr.is_unlock, &rec,
				&blocker);
	if (NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(state->waiter);
		smbd_request_done(req, lock_success(state));
		return;
	}
	if (rec == NULL) {
		TALLOC_FREE(state->waiter);
		smbd_request_done(req, status);
		return;
	}
	status = lock_wait(state, rec, blocker);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(state->waiter);
		smbd_request_done(req, status);
	}
}

static void lock_watch_done(struct tevent_req *subreq)
{
	struct lock_state *state =
		tevent_req_callback_data(subreq, struct lock_state);
	bool blocker_died = false;
	NTSTATUS status;

	status = dbwrap_watch_recv(subreq, &blocker_died);
	TALLOC_FREE(subreq);
	state->watch = NULL;
	if (!NT_STATUS_IS_OK(status)) {
		/* the watch itself failed: poll from now on rather than fail
		 * a lock that may soon be granted (or retry in a loop) */
		DBG_NOTICE("brlock watch: %s\n", nt_errstr(status));
		state->watch_failed = true;
	}
	lock_retry(state);
}

static void lock_poll_done(struct tevent_context *ev, struct tevent_timer *te,
			   struct timeval now, void *private_data)
{
	struct lock_state *state = private_data;

	state->poll = NULL;
	lock_retry(state);
}

/* The open is being freed (CLOSE, tree disconnect, logoff, connection
 * loss): the waiting lock can never be granted. */
static void lock_open_gone(void *private_data)
{
	struct lock_state *state = private_data;

	TALLOC_FREE(state->waiter); /* already off the open's list */
	state->op = NULL;
	TALLOC_FREE(state->watch);
	TALLOC_FREE(state->poll);
	smbd_request_done(state->req, NT_STATUS_RANGE_NOT_LOCKED);
}

static void lock_cancel(struct smbd_request *req)
{
	struct lock_state *state = req->handler_state;
	bool teardown = (req->tcon != NULL &&
			 req->tcon->disconnect_req != NULL) ||
			(req->session != NULL &&
			 req->session->state == SMBD_SESSION_EXPIRED);

	TALLOC_FREE(state->watch);
	TALLOC_FREE(state->poll);
	TALLOC_FREE(state->waiter);
	/* A tree disconnect or logoff ends the wait the way a close does
	 * on Windows; only a client's CANCEL is CANCELLED. */
	smbd_request_done(req, teardown ? NT_STATUS_RANGE_NOT_LOCKED
					: NT_STATUS_CANCELLED);
}
