/*
 * CHANGE_NOTIFY ([MS-SMB2] 2.2.35, 2.2.36, 3.3.5.19; [MS-FSA] 2.1.5.11).
 *
 * The first request on a directory handle sets up its watch (filter,
 * WATCH_TREE and buffer size stay those of the first request, as on
 * Windows); from then on the handle collects changes whether or not a
 * request is waiting (smbd/notify.h, docs/notify.md).  A request is
 * answered at once when changes are queued, otherwise it goes async
 * (interim STATUS_PENDING) and waits, one answered at a time in the order
 * they came.  It ends
 *   - with the changes (FILE_NOTIFY_INFORMATION entries), or
 *     STATUS_NOTIFY_ENUM_DIR when they do not fit the client's buffer or
 *     the queue overflowed;
 *   - STATUS_CANCELLED on SMB2 CANCEL;
 *   - STATUS_NOTIFY_CLEANUP when the handle is closed, or on tree
 *     disconnect or logoff (what Samba and Windows answer there);
 *   - STATUS_DELETE_PENDING when the directory itself is being deleted.
 */
#include "smbd/smbd.h"

#include <string.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "smbd/notify.h"
#include "smbd/smb2_server.h"

#define SMB2_WATCH_TREE 0x0001
#define NOTIFY_REP_FIXED 8

/* A waiting CHANGE_NOTIFY, a child of its smbd_request. */
struct notify_req {
	struct notify_req *prev, *next; /* in watch->reqs */
	struct smbd_request *req;
	struct smbd_notify *w;
	uint32_t out_len;
	bool cancelled;
};

static int notify_req_destructor(struct notify_req *nr)
{
	if (nr->w != NULL) {
		DLIST_REMOVE(nr->w->reqs, nr);
		nr->w = NULL;
	}
	if (nr->req->cancel_fn != NULL) {
		nr->req->cancel_fn = NULL;
	}
	return 0;
}

/* Build the reply for nr from w's queued changes (and forget them). */
static NTSTATUS notify_reply(struct notify_req *nr)
{
	struct smbd_notify *w = nr->w;
	struct smbd_request *req = nr->req;
	uint32_t limit = nr->out_len < w->max_buffer ? nr->out_len
						     : w->max_buffer;
	uint8_t *out;
	size_t used;

	if (w->overflow) {
		smbd_notify_clear(w);
		return NT_STATUS_NOTIFY_ENUM_DIR;
	}
	out = smbd_request_reply(req, NOTIFY_REP_FIXED, w->changes_bytes);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	used = smbd_notify_marshall(w->changes, w->num_changes,
				    out + NOTIFY_REP_FIXED, w->changes_bytes);
	smbd_notify_clear(w);
	if (used == 0 || used > limit) {
		/* more than the client can take: it re-reads the directory
		 * ([MS-SMB2] 3.3.5.19) */
		TALLOC_FREE(req->out_body);
		req->out_body_len = 0;
		return NT_STATUS_NOTIFY_ENUM_DIR;
	}
	/* trailing padding of the last entry is not sent */
	req->out_body_len = NOTIFY_REP_FIXED + used;
	PUSH_LE16(out, 0, 9);
	PUSH_LE16(out, 2, SMB2_HDR_SIZE + NOTIFY_REP_FIXED);
	PUSH_LE32(out, 4, (uint32_t)used);
	return NT_STATUS_OK;
}

/* What a request waiting on w can be answered now; PENDING if nothing. */
static NTSTATUS notify_answer(struct notify_req *nr)
{
	struct smbd_notify *w = nr->w;
	struct smbd_request *req = nr->req;

	if (!smbd_notify_ready(w)) {
		return NT_STATUS_PENDING;
	}
	if (!NT_STATUS_IS_OK(w->setup_status)) {
		return w->setup_status;
	}
	if (nr->cancelled) {
		/* a tree disconnect or logoff cancels with NOTIFY_CLEANUP
		 * ([MS-SMB2] 3.3.5.6, 3.3.5.7: the opens are closed) */
		if (req->tcon == NULL || req->tcon->disconnect_req != NULL ||
		    req->session == NULL ||
		    req->session->state != SMBD_SESSION_VALID ||
		    req->session->logoff_req != NULL) {
			return NT_STATUS_NOTIFY_CLEANUP;
		}
		return NT_STATUS_CANCELLED;
	}
	if (w->deleted) {
		return NT_STATUS_DELETE_PENDING;
	}
	if (w->reqs == nr && (w->overflow || w->num_changes > 0)) {
		return notify_reply(nr);
	}
	if (!smbd_request_is_last(req)) {
		/* Waiting here would hold up the rest of the compound;
		 * Windows fails such a request (smbtorture
		 * smb2.compound.interim2, [MS-SMB2] <159>). */
		return NT_STATUS_INTERNAL_ERROR;
	}
	/* an older request on the handle is served first */
	return NT_STATUS_PENDING;
}

struct notify_done {
	struct smbd_request *req;
	NTSTATUS status;
};

static void notify_done_now(struct tevent_context *ev,
			    struct tevent_immediate *im, void *private_data)
{
	struct notify_done *d = private_data;
	struct smbd_request *req = d->req;
	NTSTATUS status = d->status;

	talloc_free(im);
	smbd_request_done(req, status);
}

/*
 * Answer nr: the reply is decided now (the changes are consumed, the
 * request leaves the watch), and handed to the dispatcher from the event
 * loop, because completing a request may run the rest of its compound
 * (a CLOSE of this very handle) while our callers still walk the
 * watches.
 */
static void notify_finish(struct notify_req *nr, NTSTATUS status)
{
	struct smbd_request *req = nr->req;
	struct tevent_immediate *im = tevent_create_immediate(req);
	struct notify_done *d = im ? talloc(im, struct notify_done) : NULL;

	talloc_free(nr); /* unlinks it from the watch, clears cancel_fn */
	if (d == NULL) {
		talloc_free(im);
		smbd_request_done(req, status);
		return;
	}
	d->req = req;
	d->status = status;
	tevent_schedule_immediate(im, req->conn->client->ev, notify_done_now,
				  d);
}

void smbd_notify_watch_changed(struct smbd_notify *w)
{
	struct notify_req *nr, *next;

	for (nr = w->reqs; nr != NULL; nr = next) {
		NTSTATUS status;

		next = nr->next;
		if (smbd_notify_ready(w)) {
			/* may find the directory delete pending already */
			smbd_notify_watch_delete(w);
		}
		status = notify_answer(nr);
		if (NT_STATUS_EQUAL(status, NT_STATUS_PENDING)) {
			if (smbd_notify_ready(w) && !nr->req->async) {
				/* set up now, and waiting: interim reply */
				smbd_request_go_async(nr->req);
			}
			continue;
		}
		notify_finish(nr, status);
		/* answering the first may let the next one answer */
		next = w->reqs;
	}
}

void smbd_notify_watch_flush(struct smbd_notify *w, NTSTATUS status)
{
	struct notify_req *nr;

	while ((nr = w->reqs) != NULL) {
		struct smbd_connection *conn = nr->req->conn;

		if (conn->terminating || conn->client->exiting) {
			/* nobody to answer: just let go */
			DLIST_REMOVE(w->reqs, nr);
			nr->w = NULL;
			continue;
		}
		notify_finish(nr, status);
	}
}

static void notify_cancel(struct smbd_request *req)
{
	struct notify_req *nr = req->handler_state;

	nr->cancelled = true;
	/* the watch may still be being set up: the answer waits for it, so
	 * that a client that cancels its first request to "arm" the watch
	 * (smbtorture does) sees every change after the cancel returns */
	smbd_notify_watch_changed(nr->w);
}

NTSTATUS smbd_smb2_notify(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint16_t flags = PULL_LE16(b, 2);
	uint32_t out_len = PULL_LE32(b, 4);
	uint32_t filter = PULL_LE32(b, 24);
	struct smbd_open *op;
	struct smbd_notify *w;
	struct notify_req *nr;
	NTSTATUS status;

	/* [MS-SMB2] 3.3.5.19 */
	if (flags & ~SMB2_WATCH_TREE) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (out_len > req->conn->max_trans_size) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	op = smbd_request_lookup_open(req, b + 8);
	if (op == NULL) {
		return NT_STATUS_FILE_CLOSED;
	}
	/* only a directory can be watched */
	if (!op->is_dir) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* [MS-FSA] 2.1.5.11: the handle must allow listing */
	if (!(op->access_mask & SEC_FILE_READ_DATA)) {
		return NT_STATUS_ACCESS_DENIED;
	}
	w = op->notify;
	if (w == NULL) {
		/* Bits beyond the defined ones are ignored, as Windows and
		 * Samba do; a zero filter is a watch that reports nothing. */
		status = smbd_notify_watch(op, filter & FILE_NOTIFY_CHANGE_VALID,
					   (flags & SMB2_WATCH_TREE) != 0,
					   out_len, &w);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
	}

	nr = talloc_zero(req, struct notify_req);
	if (nr == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	nr->req = req;
	nr->w = w;
	nr->out_len = out_len;
	DLIST_ADD_END(w->reqs, nr);
	talloc_set_destructor(nr, notify_req_destructor);

	/* changes that the kernel queued before this request count */
	smbd_notify_sync(w->ctx);
	if (smbd_notify_ready(w)) {
		smbd_notify_watch_delete(w);
	}
	status = notify_answer(nr);
	if (!NT_STATUS_EQUAL(status, NT_STATUS_PENDING)) {
		talloc_free(nr);
		return status;
	}
	req->handler_state = nr;
	req->cancel_fn = notify_cancel;
	if (smbd_notify_ready(w)) {
		/* a wait of unknown length: tell the client now */
		smbd_request_go_async(req);
	}
	return NT_STATUS_PENDING;
}
