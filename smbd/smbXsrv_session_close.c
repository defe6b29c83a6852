/*
 * PreviousSessionId across processes ([MS-SMB2] 3.3.5.5.3).  A client
 * that lost its connection reconnects (a new TCP connection: usually a
 * new smbd process) and names its old session; the old session is logged
 * off if it belongs to the same user.  Its owner is found in
 * smbXsrv_session_global.tdb, told with MSG_SMB_CLOSE_SESSION, and the
 * SESSION_SETUP reply waits (bounded) until the old session's record is
 * gone, so that the client's next CREATE does not meet the old session's
 * opens -- as Samba's smbXsrv_session_close_previous does.
 */
#include "smbd/smbXsrv_session_close.h"

#include <string.h>
#include <strings.h>

#include "dbwrap/dbwrap.h"
#include "lib/util/debug.h"
#include "lib/util/marshall.h"
#include "messaging/messaging.h"
#include "smbd/smbXsrv_global.h"
#include "smbd/smbXsrv_records.h"

bool smbd_session_same_user(const char *account1, const char *domain1,
			    bool anonymous1, const char *account2,
			    const char *domain2, bool anonymous2)
{
	if (anonymous1 || anonymous2 || account1 == NULL ||
	    account2 == NULL) {
		return false;
	}
	return strcasecmp(account1, account2) == 0 &&
	       strcasecmp(domain1 != NULL ? domain1 : "",
			  domain2 != NULL ? domain2 : "") == 0;
}

NTSTATUS smbd_close_session_msg_push(TALLOC_CTX *mem_ctx, uint64_t session_id,
				     const char *account, const char *domain,
				     uint8_t **buf, size_t *len)
{
	struct marshall_push *p =
		marshall_push_init(mem_ctx, REC_MSG_CLOSE_SESSION, 1);

	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u64(p, session_id);
	marshall_push_string(p, account);
	marshall_push_string(p, domain);
	return marshall_push_finish(p, buf, len);
}

NTSTATUS smbd_close_session_msg_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				     size_t len, uint64_t *session_id,
				     char **account, char **domain)
{
	struct marshall_pull r;
	NTSTATUS status;

	*account = NULL;
	*domain = NULL;
	status = marshall_pull_init(&r, buf, len, REC_MSG_CLOSE_SESSION, 1);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	(void)(marshall_pull_u64(&r, session_id) &&
	       marshall_pull_string(&r, mem_ctx, account) &&
	       marshall_pull_string(&r, mem_ctx, domain));
	status = marshall_pull_finish(&r);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(*account);
		TALLOC_FREE(*domain);
	}
	return status;
}

/* The owner's side: log off our session if it is still that user's (the
 * sender read the record before; the session may have changed since). */
static void close_session_handler(struct messaging_context *msg,
				  void *private_data, uint32_t msg_type,
				  struct server_id src, const uint8_t *data,
				  size_t len, int *fds, size_t num_fds)
{
	struct smbd_client *client =
		talloc_get_type_abort(talloc_parent(private_data),
				      struct smbd_client);
	TALLOC_CTX *frame = talloc_new(NULL);
	struct smbd_session *s;
	char *account, *domain;
	uint64_t id;

	if (frame == NULL ||
	    !NT_STATUS_IS_OK(smbd_close_session_msg_pull(
		    frame, data, len, &id, &account, &domain))) {
		DBG_WARNING("malformed MSG_SMB_CLOSE_SESSION\n");
		talloc_free(frame);
		return;
	}
	s = smbd_session_lookup(client, id);
	if (s != NULL && s->state == SMBD_SESSION_VALID &&
	    smbd_session_same_user(s->account, s->domain, s->anonymous,
				   account, domain, false)) {
		DBG_NOTICE("session 0x%llx closed for a reconnect of "
			   "%s\\%s\n",
			   (unsigned long long)id, domain ? domain : "",
			   account);
		smbd_session_close(s);
	}
	talloc_free(frame);
}

struct close_session_registration {
	struct messaging_context *msg;
};

static int close_session_registration_destructor(
	struct close_session_registration *r)
{
	messaging_deregister(r->msg, MSG_SMB_CLOSE_SESSION, r);
	return 0;
}

void smbd_session_close_init_messages(struct smbd_client *client)
{
	struct close_session_registration *r;

	if (client->msg == NULL) {
		return;
	}
	/* a talloc child of the client: the handler finds the client as
	 * its parent, and the registration goes with it */
	r = talloc_zero(client, struct close_session_registration);
	if (r == NULL) {
		return;
	}
	r->msg = client->msg;
	if (!NT_STATUS_IS_OK(messaging_register(client->msg, r,
						MSG_SMB_CLOSE_SESSION,
						close_session_handler))) {
		talloc_free(r);
		return;
	}
	talloc_set_destructor(r, close_session_registration_destructor);
}

/* The requester's side. */
struct close_previous_state {
	struct smbd_request *req;
	struct smbd_session *session;
	struct db_context *db;
	uint64_t previous_id;
	bool sent;
	struct tevent_req *watch;
	struct tevent_timer *deadline;
};

struct record_look {
	bool decoded;
	struct smbXsrv_session_global g;
	TALLOC_CTX *mem_ctx;
};

static void close_previous_step(struct close_previous_state *st);

/* Completes req: the state (a child of req) goes with it. */
static void close_previous_done(struct close_previous_state *st)
{
	struct smbd_request *req = st->req;

	TALLOC_FREE(st->watch);
	TALLOC_FREE(st->deadline);
	smbd_request_done(req, NT_STATUS_OK);
}

static void close_previous_woken(struct tevent_req *subreq)
{
	struct close_previous_state *st =
		tevent_req_callback_data(subreq, struct close_previous_state);
	bool blocker_died = false;

	(void)dbwrap_watch_recv(subreq, &blocker_died);
	TALLOC_FREE(subreq);
	st->watch = NULL;
	close_previous_step(st);
}

static void close_previous_timeout(struct tevent_context *ev,
				   struct tevent_timer *te,
				   struct timeval now, void *private_data)
{
	struct close_previous_state *st = private_data;

	st->deadline = NULL;
	DBG_NOTICE("previous session 0x%llx still there after %d ms; "
		   "answering anyway\n",
		   (unsigned long long)st->previous_id,
		   SMBD_CLOSE_PREVIOUS_TIMEOUT_MS);
	close_previous_done(st);
}

/*
 * Look at the old session's record under its lock: done when it is gone,
 * names another user, or its owner is dead (the parent removes such
 * records) or is us; otherwise tell the owner (once) and watch the record
 * until it changes.  Returns false when done.
 */
static bool close_previous_check(struct close_previous_state *st)
{
	struct smbd_client *client = st->session->client;
	TALLOC_CTX *frame = talloc_new(st);
	uint8_t key[8];
	struct db_record *rec;
	struct db_data value;
	struct smbXsrv_session_global g;
	struct server_id self = smbd_client_server_id(client);
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	if (frame == NULL) {
		return false;
	}
	smbXsrv_session_global_key(key, st->previous_id);
	rec = dbwrap_fetch_locked(st->db, frame,
				  (struct db_data){ .dptr = key,
						    .dsize = sizeof(key) });
	if (rec == NULL) {
		talloc_free(frame);
		return false;
	}
	value = dbwrap_record_get_value(rec);
	if (value.dsize == 0 ||
	    !NT_STATUS_IS_OK(smbXsrv_session_global_decode(
		    frame, value.dptr, value.dsize, &g)) ||
	    g.state != SMBXSRV_SESSION_GLOBAL_VALID ||
	    server_id_equal(&g.owner, &self) ||
	    !server_id_is_alive(client->msg, &g.owner) ||
	    !smbd_session_same_user(g.account, g.domain, g.anonymous,
				    st->session->account,
				    st->session->domain,
				    st->session->anonymous)) {
		talloc_free(frame);
		return false;
	}
	if (!st->sent) {
		status = smbd_close_session_msg_push(
			frame, st->previous_id, st->session->account,
			st->session->domain, &buf, &len);
		if (NT_STATUS_IS_OK(status)) {
			status = messaging_send(client->msg, g.owner,
						MSG_SMB_CLOSE_SESSION, buf,
						len, NULL, 0);
		}
		if (!NT_STATUS_IS_OK(status)) {
			DBG_WARNING("cannot ask the owner of session 0x%llx "
				    "to close it: %s\n",
				    (unsigned long long)st->previous_id,
				    nt_errstr(status));
			talloc_free(frame);
			return false;
		}
		st->sent = true;
	}
	st->watch = dbwrap_watch_send(st, client->ev, rec, g.owner);
	talloc_free(frame); /* unlocks the record */
	if (st->watch == NULL) {
		return false;
	}
	tevent_req_set_callback(st->watch, close_previous_woken, st);
	return true;
}

static void close_previous_step(struct close_previous_state *st)
{
	if (!close_previous_check(st)) {
		close_previous_done(st);
	}
}

NTSTATUS smbd_session_close_previous_remote(struct smbd_request *req,
					    struct smbd_session *session,
					    uint64_t previous_id)
{
	struct smbd_client *client = session->client;
	struct close_previous_state *st;

	if (client->msg == NULL || client->globals == NULL ||
	    client->globals->db[SMBXSRV_DB_SESSION] == NULL) {
		return NT_STATUS_OK; /* no other process can hold it */
	}
	st = talloc_zero(req, struct close_previous_state);
	if (st == NULL) {
		return NT_STATUS_OK; /* the new session stands regardless */
	}
	st->req = req;
	st->session = session;
	st->db = client->globals->db[SMBXSRV_DB_SESSION];
	st->previous_id = previous_id;
	if (!close_previous_check(st)) {
		talloc_free(st);
		return NT_STATUS_OK;
	}
	st->deadline = tevent_add_timer(
		client->ev, st,
		tevent_timeval_current_ofs(
			SMBD_CLOSE_PREVIOUS_TIMEOUT_MS / 1000,
			(SMBD_CLOSE_PREVIOUS_TIMEOUT_MS % 1000) * 1000),
		close_previous_timeout, st);
	if (st->deadline == NULL) {
		talloc_free(st);
		return NT_STATUS_OK;
	}
	return NT_STATUS_PENDING;
}
