/*
 * FLUSH ([MS-SMB2] 2.2.17, 2.2.18, 3.3.5.11): fsync on a worker thread.
 */
#include "smbd/smbd.h"

#include "lib/util/byteorder.h"
#include "smbd/vfs/vfs_async.h"

struct flush_state {
	struct smbd_request *req;
	struct smbd_fd *fd; /* a reference held while the fsync may run */
	struct tevent_req *subreq;
};

static void flush_done(struct tevent_req *subreq);

static int flush_state_destructor(struct flush_state *state)
{
	TALLOC_FREE(state->subreq);
	smbd_fd_unref(state->fd);
	state->fd = NULL;
	return 0;
}

NTSTATUS smbd_smb2_flush(struct smbd_request *req)
{
	struct smbd_client *client = req->conn->client;
	struct flush_state *state;
	struct smbd_open *op;

	op = smbd_request_lookup_open(req, req->in_body + 8);
	if (op == NULL) {
		return NT_STATUS_FILE_CLOSED;
	}
	/* [MS-SMB2] 3.3.5.11: only a handle that can change data may
	 * flush (for a directory the same bits are ADD_FILE and
	 * ADD_SUBDIRECTORY). */
	if (!(op->access_mask & (SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA))) {
		return NT_STATUS_ACCESS_DENIED;
	}
	state = talloc_zero(req, struct flush_state);
	if (state == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->req = req;
	state->fd = smbd_fd_ref(op->fd);
	talloc_set_destructor(state, flush_state_destructor);
	state->subreq = vfs_fsync_send(state, client->ev, client->pool,
				       req->session->creds, state->fd->fd,
				       false);
	if (state->subreq == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	tevent_req_set_callback(state->subreq, flush_done, state);
	return NT_STATUS_PENDING;
}

static void flush_done(struct tevent_req *subreq)
{
	struct flush_state *state =
		tevent_req_callback_data(subreq, struct flush_state);
	struct smbd_request *req = state->req;
	NTSTATUS status;
	uint8_t *out;

	status = vfs_fsync_recv(subreq);
	state->subreq = NULL;
	TALLOC_FREE(subreq);
	smbd_fd_unref(state->fd);
	state->fd = NULL;
	if (NT_STATUS_IS_OK(status)) {
		out = smbd_request_reply(req, 4, 0);
		if (out == NULL) {
			status = NT_STATUS_NO_MEMORY;
		} else {
			PUSH_LE16(out, 0, 4);
		}
	}
	smbd_request_done(req, status);
}
