/*
 * CLOSE ([MS-SMB2] 2.2.15, 2.2.16, 3.3.5.10).
 *
 * The handle disappears at once (later requests naming it get
 * FILE_CLOSED); the file-system work that a close may need, the final
 * attributes (SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB) and the delete of a
 * delete-on-close file, runs in one job as the session user, holding its
 * own reference to the fd.
 *
 * Delete on close happens when the last handle of this client on the file
 * closes: the flag moves to another open of the same path if there is
 * one.  Handles of other clients are invisible until the share-mode
 * database of the next issue.  A directory that is not empty at close is
 * left in place silently: Windows reports DIRECTORY_NOT_EMPTY when the
 * disposition is set (SET_INFO), never at close.
 *
 * A named stream open (streams.h) deletes just its stream, and reports
 * the stream's size in the post-query attributes.
 *
 * The write time the open still owes the file (a sticky time, "now"
 * after writes, the delayed update's time: dosmode.h "write time of one
 * open") is stored by the same job, before the post-query reads it.
 */
#include "smbd/smbd.h"

#include <string.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/dosmode.h"
#include "smbd/streams.h"
#include "smbd/vfs/threadpool.h"
#include "smbd/vfs/vfs_posix.h"

#define CLOSE_REP_SIZE 60

/* The job owns copies of all it uses (threadpool.h). */
struct close_job {
	const struct vfs_share *share;
	const struct smb_conf_share *conf;
	int fd;
	char *relpath;
	char *stream_name; /* a named stream open, else NULL */
	bool is_dir;
	bool postquery;
	bool delete_file;
	bool set_write_time;
	uint64_t write_time; /* NT time, 0: now */
	NTSTATUS meta_status;
	struct smbd_file_meta meta;
	NTSTATUS delete_status;
};

struct close_state {
	struct smbd_request *req;
	struct smbd_fd *fd;
	struct close_job *job;
	struct tevent_req *subreq;
	uint16_t flags;
};

static void close_done(struct tevent_req *subreq);

static void close_job_run(void *private_data)
{
	struct close_job *job = private_data;

	if (job->set_write_time && !job->delete_file) {
		NTSTATUS status = smbd_file_set_write_time_fd(
			job->fd, job->write_time, NULL);

		if (!NT_STATUS_IS_OK(status)) {
			DBG_INFO("write time of '%s': %s\n", job->relpath,
				 nt_errstr(status));
		}
	}
	if (job->postquery) {
		const char *slash = strrchr(job->relpath, '/');

		job->meta_status = smbd_file_meta_fd(
			job->fd, slash != NULL ? slash + 1 : job->relpath,
			job->conf, &job->meta);
	}
	if (job->stream_name != NULL) {
		if (job->delete_file) {
			job->delete_status =
				smbd_stream_delete(job->fd, job->stream_name);
		}
		if (job->postquery && NT_STATUS_IS_OK(job->meta_status)) {
			uint64_t size = 0;

			/* after a delete the stream is gone: size 0 */
			(void)smbd_stream_find(job->fd, NULL, job->stream_name,
					       NULL, &size);
			job->meta.end_of_file = size;
			job->meta.allocation_size =
				smbd_stream_alloc_size(size);
			smbd_stream_meta_fixup(&job->meta);
		}
		return;
	}
	if (job->delete_file) {
		job->delete_status =
			vfs_unlinkat(job->share, job->relpath, job->is_dir);
	}
}

/*
 * The fd reference lives in the state, not in the job, so a job must not
 * be orphaned: the job is short (one stat, one unlink) and is waited for
 * (WAIT_ON_CANCEL) before the reference goes.
 */
static int close_state_destructor(struct close_state *state)
{
	TALLOC_FREE(state->subreq);
	smbd_fd_unref(state->fd);
	state->fd = NULL;
	return 0;
}

struct close_peer_search {
	struct smbd_open *closing;
	struct smbd_open *peer;
};

static void find_peer(struct smbd_open *op, void *private_data)
{
	struct close_peer_search *s = private_data;
	struct smbd_open *c = s->closing;
	const char *c_stream = smbd_open_stream(c);
	const char *op_stream = smbd_open_stream(op);

	if (s->peer != NULL || op == c || op->relpath == NULL ||
	    op->tcon->share != c->tcon->share ||
	    strcmp(op->relpath, c->relpath) != 0) {
		return;
	}
	/* the same stream (or both the file itself) */
	if ((c_stream == NULL) != (op_stream == NULL) ||
	    (c_stream != NULL && !smbd_stream_name_equal(c_stream, op_stream))) {
		return;
	}
	s->peer = op;
}

/* Pass delete-on-close to another open of the same file, if any; true
 * if it was passed on (the file must then stay). */
static bool delete_on_close_pass_on(struct smbd_open *op)
{
	struct close_peer_search s = { .closing = op };

	smbd_open_foreach(op->tcon->session->client, find_peer, &s);
	if (s.peer == NULL) {
		return false;
	}
	/* The file is now delete-pending: new opens fail with
	 * DELETE_PENDING until the last handle closes ([MS-FSA] 2.1.5.4). */
	s.peer->delete_on_close = true;
	s.peer->delete_pending = true;
	return true;
}

static NTSTATUS close_reply(struct smbd_request *req, uint16_t flags,
			    const struct smbd_file_meta *m)
{
	uint8_t *out = smbd_request_reply(req, CLOSE_REP_SIZE, 0);

	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, CLOSE_REP_SIZE);
	if (m == NULL) {
		/* [MS-SMB2] 2.2.16: without the flag every field is 0 */
		return NT_STATUS_OK;
	}
	PUSH_LE16(out, 2, SMB2_CLOSE_FLAGS_FULL_INFORMATION);
	PUSH_LE64(out, 8, m->creation_time);
	PUSH_LE64(out, 16, m->last_access_time);
	PUSH_LE64(out, 24, m->last_write_time);
	PUSH_LE64(out, 32, m->change_time);
	PUSH_LE64(out, 40, m->allocation_size);
	PUSH_LE64(out, 48, m->end_of_file);
	PUSH_LE32(out, 56, m->attributes);
	return NT_STATUS_OK;
}

NTSTATUS smbd_smb2_close(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint16_t flags = PULL_LE16(b, 2);
	struct smbd_client *client = req->conn->client;
	bool postquery = (flags & SMB2_CLOSE_FLAGS_FULL_INFORMATION) != 0;
	struct close_state *state;
	struct close_job *job;
	struct smbd_open *op;
	bool delete_file, set_write_time;
	uint64_t write_time = 0;

	op = smbd_request_lookup_open(req, b + 8);
	if (op == NULL) {
		return NT_STATUS_FILE_CLOSED;
	}
	delete_file = op->delete_on_close && !delete_on_close_pass_on(op);
	set_write_time = !op->is_dir && op->fd != NULL &&
			 smbd_write_time_at_close(&op->write_time,
						  op->write_time_timer != NULL,
						  &write_time);
	if (set_write_time) {
		smbd_open_write_time_changed(op);
	}
	if (!postquery && !delete_file && !set_write_time) {
		talloc_free(op);
		return close_reply(req, flags, NULL);
	}

	state = talloc_zero(req, struct close_state);
	if (state == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->req = req;
	state->flags = flags;
	job = talloc_zero(state, struct close_job);
	if (job == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->job = job;
	job->share = op->tcon->vfs;
	job->conf = op->tcon->share;
	job->relpath = talloc_strdup(job, op->relpath);
	if (job->relpath == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	job->is_dir = op->is_dir;
	if (smbd_open_stream(op) != NULL) {
		job->stream_name = talloc_strdup(job, smbd_open_stream(op));
		if (job->stream_name == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	job->postquery = postquery;
	job->delete_file = delete_file;
	job->set_write_time = set_write_time;
	job->write_time = write_time;
	state->fd = smbd_fd_ref(op->fd);
	job->fd = state->fd->fd;
	talloc_set_destructor(state, close_state_destructor);

	/* the handle is gone from now on; the fd lives on in state */
	talloc_free(op);

	state->subreq = vfs_job_send_ex(state, client->ev, client->pool,
					req->session->creds, close_job_run,
					job, NULL, VFS_JOB_WAIT_ON_CANCEL);
	if (state->subreq == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	tevent_req_set_callback(state->subreq, close_done, state);
	return NT_STATUS_PENDING;
}

static void close_done(struct tevent_req *subreq)
{
	struct close_state *state =
		tevent_req_callback_data(subreq, struct close_state);
	struct smbd_request *req = state->req;
	struct close_job *job = state->job;
	const struct smbd_file_meta *m = NULL;
	NTSTATUS status;
	int err;

	err = vfs_job_recv(subreq);
	state->subreq = NULL;
	TALLOC_FREE(subreq);
	smbd_fd_unref(state->fd);
	state->fd = NULL;
	if (err != 0) {
		/* the handle is closed whatever happened to the job */
		DBG_WARNING("close job for '%s' did not run: %s\n",
			    job->relpath, strerror(err));
	} else {
		if (job->delete_file && !NT_STATUS_IS_OK(job->delete_status)) {
			DBG_NOTICE("delete on close of '%s': %s\n",
				   job->relpath,
				   nt_errstr(job->delete_status));
		}
		if (job->postquery && NT_STATUS_IS_OK(job->meta_status)) {
			m = &job->meta;
		}
	}
	status = close_reply(req, state->flags, m);
	smbd_request_done(req, status);
}
