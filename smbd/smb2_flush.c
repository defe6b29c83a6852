/*
 * FLUSH ([MS-SMB2] 2.2.17, 2.2.18, 3.3.5.11): fsync on a worker thread.
 *
 * A flush also completes the write time of an open that wrote: the
 * file's write time becomes "now" at once instead of after the delay
 * (dosmode.h "write time of one open"; what Windows and Samba do,
 * smb2.timestamps.delayed-write-vs-flush).  Both run in one job.
 */
#include "smbd/smbd.h"

#include <errno.h>
#include <unistd.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/dosmode.h"
#include "smbd/vfs/threadpool.h"

struct flush_job {
	int fd;
	bool update_write_time;
	int err;		/* of fsync */
	NTSTATUS time_status;	/* of the write-time update */
	uint64_t write_time;	/* the file's write time after the update */
};

struct flush_state {
	struct smbd_request *req;
	struct smbd_fd *fd; /* a reference held while the job may run */
	struct flush_job *job;
	struct tevent_req *subreq;
	uint64_t persistent_id, volatile_id;
};

static void flush_done(struct tevent_req *subreq);

static void flush_job_run(void *private_data)
{
	struct flush_job *job = private_data;

	if (fsync(job->fd) != 0) {
		job->err = errno;
		return;
	}
	if (job->update_write_time) {
		job->time_status = smbd_file_set_write_time_fd(
			job->fd, 0, &job->write_time);
	}
}

/* The fd reference lives in the state: wait for a running job
 * (WAIT_ON_CANCEL, one fsync) before dropping it. */
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
	state->persistent_id = op->persistent_id;
	state->volatile_id = op->volatile_id;
	state->job = talloc_zero(state, struct flush_job);
	if (state->job == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->fd = smbd_fd_ref(op->fd);
	talloc_set_destructor(state, flush_state_destructor);
	state->job->fd = state->fd->fd;
	state->job->update_write_time =
		!op->is_dir && smbd_write_time_wants_update(&op->write_time);
	state->subreq = vfs_job_send_ex(state, client->ev, client->pool,
					req->session->creds, flush_job_run,
					state->job, NULL,
					VFS_JOB_WAIT_ON_CANCEL);
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
	struct flush_job *job = state->job;
	NTSTATUS status = NT_STATUS_OK;
	uint8_t *out;
	int err;

	err = vfs_job_recv(subreq);
	state->subreq = NULL;
	TALLOC_FREE(subreq);
	smbd_fd_unref(state->fd);
	state->fd = NULL;
	if (err == 0) {
		err = job->err;
	}
	if (err != 0) {
		status = map_nt_error_from_unix(err);
	} else if (job->update_write_time) {
		struct smbd_open *op = smbd_open_lookup(
			req->conn->client, state->persistent_id,
			state->volatile_id);

		if (!NT_STATUS_IS_OK(job->time_status)) {
			/* the data is safe; the time is cosmetic */
			DBG_INFO("write time at flush: %s\n",
				 nt_errstr(job->time_status));
		} else if (op != NULL) {
			TALLOC_FREE(op->write_time_timer);
			smbd_write_time_updated(&op->write_time,
						job->write_time);
		}
	}
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
