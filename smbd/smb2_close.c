/*
 * CLOSE ([MS-SMB2] 2.2.15, 2.2.16, 3.3.5.10).
 *
 * The handle disappears at once (later requests naming it get
 * FILE_CLOSED); the file-system work that a close may need, the final
 * attributes (SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB) and the delete of a
 * delete-on-close file, runs in one job as the session user, holding its
 * own reference to the fd.
 *
 * Delete on close happens when the last handle of the file closes, in
 * whichever process (share_mode.h): closing a FILE_DELETE_ON_CLOSE
 * handle marks the file delete-pending in the share-mode record, and the
 * close that leaves no open of it deletes it, at the path the record
 * holds (a rename by another process moves it).  The closing open's
 * entry stays in the record until the delete is done, so opens meanwhile
 * get DELETE_PENDING.  A directory that is not empty at close is left in
 * place silently: Windows reports DIRECTORY_NOT_EMPTY when the
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

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/dosmode.h"
#include "smbd/share_mode.h"
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
	bool delete_file;   /* the base file (relpath) */
	bool delete_stream; /* stream_name of it */
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
	/* the open's share-mode entry, kept until the delete is done */
	struct smbd_share_entry *share_entry;
	uint16_t flags;
};

static void close_done(struct tevent_req *subreq);

/* Does job->relpath still lead to the file the open's fd is? */
static bool name_is_file(const struct close_job *job)
{
	struct vfs_stat a, b;
	bool same;
	int pfd = -1;

	if (!NT_STATUS_IS_OK(vfs_fstat(job->fd, &a)) ||
	    !NT_STATUS_IS_OK(vfs_openat(job->share, job->relpath,
					O_PATH | O_NOFOLLOW, 0, &pfd))) {
		return false;
	}
	same = NT_STATUS_IS_OK(vfs_fstat(pfd, &b)) &&
	       a.st.st_dev == b.st.st_dev && a.st.st_ino == b.st.st_ino;
	close(pfd);
	return same;
}

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
		if (job->delete_stream) {
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
	}
	if (job->delete_file && !name_is_file(job)) {
		/* the name was renamed over since: what it names now is
		 * another file, which this close must not delete */
		job->delete_status = NT_STATUS_OBJECT_NAME_NOT_FOUND;
	} else if (job->delete_file) {
		job->delete_status =
			vfs_unlinkat(job->share, job->relpath, job->is_dir);
		/* the last open of a delete-pending file may be a stream
		 * open, which does not know what its base file is */
		if (NT_STATUS_EQUAL(job->delete_status,
				    NT_STATUS_FILE_IS_A_DIRECTORY) ||
		    NT_STATUS_EQUAL(job->delete_status,
				    NT_STATUS_NOT_A_DIRECTORY)) {
			job->delete_status = vfs_unlinkat(
				job->share, job->relpath, !job->is_dir);
		}
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
	struct smbd_share_entry *keep = NULL;
	bool delete_file = false, delete_stream = false, set_write_time;
	uint64_t write_time = 0;
	char *delete_path = NULL;
	NTSTATUS status;

	op = smbd_request_lookup_open(req, b + 8);
	if (op == NULL) {
		return NT_STATUS_FILE_CLOSED;
	}
	status = smbd_share_mode_close_begin(op, req, &keep, &delete_file,
					     &delete_stream, &delete_path);
	if (!NT_STATUS_IS_OK(status)) {
		/* the handle goes anyway; its entry with it (destructor) */
		DBG_ERR("close of '%s': share modes: %s\n", op->relpath,
			nt_errstr(status));
	}
	set_write_time = !op->is_dir && op->fd != NULL &&
			 smbd_write_time_at_close(&op->write_time,
						  op->write_time_timer != NULL,
						  &write_time);
	if (set_write_time) {
		smbd_open_write_time_changed(op);
	}
	if (!postquery && keep == NULL && !set_write_time) {
		talloc_free(op);
		return close_reply(req, flags, NULL);
	}

	state = talloc_zero(req, struct close_state);
	if (state == NULL) {
		talloc_free(op);
		return NT_STATUS_NO_MEMORY;
	}
	state->req = req;
	state->flags = flags;
	/* from here on the entry goes with state, whatever happens */
	state->share_entry = talloc_steal(state, keep);
	job = talloc_zero(state, struct close_job);
	if (job == NULL) {
		talloc_free(op);
		return NT_STATUS_NO_MEMORY;
	}
	state->job = job;
	job->share = op->tcon->vfs;
	job->conf = op->tcon->share;
	job->relpath = talloc_strdup(job, op->relpath);
	if (job->relpath == NULL) {
		talloc_free(op);
		return NT_STATUS_NO_MEMORY;
	}
	if (delete_path != NULL) {
		/* where the file is now: another process may have renamed
		 * it since this open was made */
		talloc_free(job->relpath);
		job->relpath = talloc_steal(job, delete_path);
	}
	job->is_dir = op->is_dir;
	if (smbd_open_stream(op) != NULL) {
		job->stream_name = talloc_strdup(job, smbd_open_stream(op));
		if (job->stream_name == NULL) {
			talloc_free(op);
			return NT_STATUS_NO_MEMORY;
		}
	}
	job->postquery = postquery;
	job->delete_file = delete_file;
	job->delete_stream = delete_stream;
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
	/* the delete is done (or failed, logged below): the entry goes */
	smbd_share_mode_close_end(state->share_entry);
	state->share_entry = NULL;
	if (err != 0) {
		/* the handle is closed whatever happened to the job */
		DBG_WARNING("close job for '%s' did not run: %s\n",
			    job->relpath, strerror(err));
	} else {
		if ((job->delete_file || job->delete_stream) &&
		    !NT_STATUS_IS_OK(job->delete_status)) {
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
