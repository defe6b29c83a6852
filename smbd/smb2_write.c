/*
 * WRITE ([MS-SMB2] 2.2.21, 2.2.22, 3.3.5.13).
 *
 * The data is written straight from the received frame (no copy): the
 * request, and so the frame, lives until the reply is sent, and freeing
 * it early (connection gone) waits for a running pwrite (vfs_async.h).
 *
 * Writes through a handle that may only append, and write-through writes need more than one syscall
 * and run as one job of their own; the append is not atomic against
 * another process appending at the same time (that needs the byte-range
 * lock database of the next issue).
 *
 * A named stream (streams.h) is written in the same kind of job: load
 * the xattr value, patch the range, store it back.
 *
 * Write time (dosmode.h "write time of one open"): the first write
 * through an open also runs as a job, which reads the mtime before
 * writing (reported until the delayed update), and starts the timer of
 * the delayed update.
 *
 * A lone unsigned WRITE of 64 KiB or more never enters this process's
 * memory: the transport splices its data from the socket into pipes
 * (smbd_connection_classify(), req->in_payload) and a worker splices the
 * pipes into the file, one copy instead of two.  The paths above that
 * want the bytes (append, write-through, streams, an open's first
 * write) read them out of the pipes first.
 */
#include "smbd/smbd.h"
#include "smbd/oplock_break.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/brlock.h"
#include "smbd/dosmode.h"
#include "smbd/smb2_transport.h"
#include "smbd/streams.h"
#include "smbd/vfs/threadpool.h"
#include "smbd/vfs/vfs_async.h"

#define WRITE_REQ_FIXED 48 /* StructureSize 49 includes Buffer[1] */
#define WRITE_REP_FIXED 16 /* StructureSize 17 */
#define SMB2_WRITEFLAG_WRITE_THROUGH 0x00000001
/* The largest file NTFS can hold (16 TiB - 64 KiB); writes beyond it are
 * INVALID_PARAMETER (smb2.rw.invalid "MAXFILESIZE"). */
#define SMB2_MAX_FILE_SIZE 0xfffffff0000ULL

/* The slow path: append and/or write-through, or a named stream, in one
 * job. */
struct write_job {
	int fd;
	char *stream_name; /* NULL: the file's own data */
	NTSTATUS stream_status;
	const uint8_t *data; /* the request's frame: see the file comment */
	size_t len;
	uint64_t offset;
	bool append;
	bool write_through;
	bool capture_mtime; /* the open's first write: read the mtime first */
	bool have_pre_mtime;
	uint64_t pre_mtime;
	size_t written;
	int err;
};

struct write_state {
	struct smbd_request *req;
	struct smbd_fd *fd; /* a reference held while the write may run */
	struct write_job *job;
	struct write_splice_job *splice_job;
	struct tevent_req *subreq;
	uint64_t persistent_id, volatile_id;
};

static void write_fast_done(struct tevent_req *subreq);
static void write_job_done(struct tevent_req *subreq);

static void write_job_run(void *private_data)
{
	struct write_job *job = private_data;
	uint64_t offset = job->offset;

	if (job->capture_mtime) {
		struct stat st;

		if (fstat(job->fd, &st) == 0) {
			job->pre_mtime = nt_time_from_timespec(st.st_mtim);
			job->have_pre_mtime = true;
		}
	}
	if (job->stream_name != NULL) {
		job->stream_status = smbd_stream_write(
			job->fd, job->stream_name, job->data, job->len,
			job->offset, job->append, &job->written);
		return;
	}
	if (job->append) {
		struct stat st;

		if (fstat(job->fd, &st) != 0) {
			job->err = errno;
			return;
		}
		offset = (uint64_t)st.st_size;
	}
	while (job->written < job->len) {
		ssize_t n = pwrite(job->fd, job->data + job->written,
				   job->len - job->written,
				   (off_t)(offset + job->written));

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (job->written == 0) {
				job->err = errno;
			}
			return;
		}
		job->written += (size_t)n;
	}
	if (job->write_through && fdatasync(job->fd) != 0) {
		job->err = errno;
	}
}

/* The request may go away while a job uses the fd and the frame: wait
 * for it (WAIT_ON_CANCEL) before dropping the fd reference. */
static int write_state_destructor(struct write_state *state)
{
	TALLOC_FREE(state->subreq);
	smbd_fd_unref(state->fd);
	state->fd = NULL;
	return 0;
}

static void write_time_delay_done(struct tevent_context *ev,
				  struct tevent_timer *te,
				  struct timeval current_time,
				  void *private_data)
{
	struct smbd_open *op = private_data;

	(void)ev;
	(void)te;
	(void)current_time;
	op->write_time_timer = NULL; /* tevent frees a timer once it fired */
	smbd_write_time_delay_expired(&op->write_time, smbd_nt_time_now());
}

/* The delayed write-time update after an open's first write; the timer
 * belongs to the open and goes with it. */
static void write_time_start_delay(struct smbd_open *op, struct tevent_context *ev)
{
	TALLOC_FREE(op->write_time_timer);
	op->write_time_timer = tevent_add_timer(
		ev, op,
		tevent_timeval_current_ofs(0, SMBD_WRITE_TIME_DELAY_USEC),
		write_time_delay_done, op);
	if (op->write_time_timer == NULL) {
		/* no memory: at least update at close */
		op->write_time.on_close = true;
	}
}

struct write_time_peer {
	const struct smbd_open *changed;
};

static void write_time_forget_peer(struct smbd_open *op, void *private_data)
{
	struct write_time_peer *p = private_data;
	const struct smbd_open *c = p->changed;

	if (op == c || op->relpath == NULL || c->relpath == NULL ||
	    op->tcon->share != c->tcon->share ||
	    strcmp(op->relpath, c->relpath) != 0) {
		return;
	}
	smbd_write_time_forget(&op->write_time);
}

void smbd_open_write_time_changed(struct smbd_open *op)
{
	struct write_time_peer p = { .changed = op };

	smbd_open_foreach(op->tcon->session->client, write_time_forget_peer,
			  &p);
}

/* A WRITE whose data waits in pipes: spliced into the file on a
 * worker (the pipes' page references are copied into the page cache
 * once; the socket's bytes never entered this process). */
struct write_splice_job {
	int fd;
	struct smbd_pipe_payload *payload; /* the request's */
	uint64_t offset;
	size_t written;
	int err;
};

static void write_splice_run(void *private_data)
{
	struct write_splice_job *job = private_data;
	struct smbd_pipe_payload *p = job->payload;
	loff_t off = (loff_t)job->offset;
	unsigned i;

	for (i = 0; i < p->count; i++) {
		while (p->pipes[i].len > 0) {
			ssize_t n = splice(p->pipes[i].rfd, NULL, job->fd,
					   &off, p->pipes[i].len,
					   SPLICE_F_MOVE);

			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n <= 0) {
				/* as pwrite: an error after some bytes is
				 * the short count */
				if (job->written == 0) {
					job->err = n < 0 ? errno : EIO;
				}
				return;
			}
			p->pipes[i].len -= (size_t)n;
			job->written += (size_t)n;
		}
	}
}

static void write_splice_done(struct tevent_req *subreq);
static void write_finish(struct write_state *state, NTSTATUS status,
			 size_t written);

static NTSTATUS write_splice_start(struct write_state *state,
				   uint64_t offset)
{
	struct smbd_request *req = state->req;
	struct smbd_client *client = req->conn->client;
	struct write_splice_job *job;

	job = talloc_zero(state, struct write_splice_job);
	if (job == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	job->fd = state->fd->fd;
	job->payload = req->in_payload;
	job->offset = offset;
	state->splice_job = job;
	state->subreq = vfs_job_send_ex(state, client->ev, client->pool,
					req->session->creds, write_splice_run,
					job, NULL, VFS_JOB_WAIT_ON_CANCEL);
	if (state->subreq == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	tevent_req_set_callback(state->subreq, write_splice_done, state);
	return NT_STATUS_PENDING;
}

static void write_splice_done(struct tevent_req *subreq)
{
	struct write_state *state =
		tevent_req_callback_data(subreq, struct write_state);
	struct write_splice_job *job = state->splice_job;
	int err;

	err = vfs_job_recv(subreq);
	state->subreq = NULL;
	TALLOC_FREE(subreq);
	if (err == 0) {
		err = job->err;
	}
	write_finish(state,
		     err != 0 ? map_nt_error_from_unix(err) : NT_STATUS_OK,
		     job->written);
}

static NTSTATUS write_reply(struct smbd_request *req, size_t count)
{
	uint8_t *out = smbd_request_reply(req, WRITE_REP_FIXED, 1);

	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 17);
	PUSH_LE32(out, 4, (uint32_t)count); /* Count */
	PUSH_LE32(out, 8, 0);		    /* Remaining */
	return NT_STATUS_OK;
}

NTSTATUS smbd_smb2_write(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint16_t data_ofs = PULL_LE16(b, 2);
	uint32_t length = PULL_LE32(b, 4);
	uint64_t offset = PULL_LE64(b, 8);
	uint32_t channel = PULL_LE32(b, 32);
	uint16_t chan_ofs = PULL_LE16(b, 40);
	uint16_t chan_len = PULL_LE16(b, 42);
	uint32_t flags = PULL_LE32(b, 44);
	struct smbd_client *client = req->conn->client;
	const uint8_t *data, *chan_info;
	struct write_state *state;
	struct smbd_open *op;
	NTSTATUS status;
	bool append, write_through, first_write;

	if (length > req->conn->max_write_size) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (req->in_payload != NULL) {
		/* the data waits in pipes (smbd_connection_classify()) */
		if (data_ofs != SMB2_HDR_SIZE + WRITE_REQ_FIXED ||
		    length != req->in_payload->len || chan_len != 0) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		data = NULL;
	} else if (!smbd_request_in_range(req, data_ofs, length,
					  WRITE_REQ_FIXED, &data) ||
	    !smbd_request_in_range(req, chan_ofs, chan_len, WRITE_REQ_FIXED,
				   &chan_info)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (channel != SMB2_CHANNEL_NONE) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	op = smbd_request_data_open(req, b + 16,
				    SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA,
				    &status);
	if (op == NULL) {
		return status;
	}
	/* Offsets are signed 64-bit in the object store ([MS-FSA] 2.1.5.3);
	 * Windows and Samba refuse the negative ones, including -1, with
	 * INVALID_PARAMETER (smb2.rw.invalid).  A handle with APPEND_DATA
	 * but not WRITE_DATA may only add at the end of the file. */
	if (offset > (uint64_t)INT64_MAX) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	append = !(op->access_mask & SEC_FILE_WRITE_DATA);
	if (length > 0 && offset + length > SMB2_MAX_FILE_SIZE) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* [MS-FSA] 2.1.5.3: another open's lock, or any shared lock */
	status = smbd_brl_check_io(op, offset, length, true);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* other level II oplocks and R leases go ([MS-FSA] 2.1.4.12) */
	smbd_oplock_contend_level2(op);
	write_through = (flags & SMB2_WRITEFLAG_WRITE_THROUGH) ||
			(op->create_options & FILE_WRITE_THROUGH);
	if (length == 0 && !write_through) {
		return write_reply(req, 0);
	}

	state = talloc_zero(req, struct write_state);
	if (state == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->req = req;
	state->persistent_id = op->persistent_id;
	state->volatile_id = op->volatile_id;
	op->fd->written = true;
	first_write = smbd_write_time_note_write(&op->write_time);
	if (first_write) {
		write_time_start_delay(op, client->ev);
	}
	if (!append && !write_through && !first_write &&
	    smbd_open_stream(op) == NULL) {
		state->fd = smbd_fd_ref(op->fd);
		talloc_set_destructor(state, write_state_destructor);
		if (req->in_payload != NULL) {
			return write_splice_start(state, offset);
		}
		state->subreq = vfs_pwrite_send(state, client->ev, client->pool,
						req->session->creds,
						state->fd->fd, data, length,
						offset);
		if (state->subreq == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		tevent_req_set_callback(state->subreq, write_fast_done, state);
		return NT_STATUS_PENDING;
	}

	if (req->in_payload != NULL) {
		/* appends, write-through, streams and the first write of an
		 * open take the general job below, which wants the bytes */
		uint8_t *copy = talloc_size(state, length);

		if (copy == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		if (smbd_pipe_payload_read(req->in_payload, copy, length) != 0) {
			return NT_STATUS_INTERNAL_ERROR;
		}
		data = copy;
	}
	state->job = talloc_zero(state, struct write_job);
	if (state->job == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->fd = smbd_fd_ref(op->fd);
	talloc_set_destructor(state, write_state_destructor);
	state->job->fd = state->fd->fd;
	state->job->data = data;
	state->job->len = length;
	state->job->offset = offset;
	state->job->append = append;
	state->job->write_through = write_through;
	state->job->capture_mtime = first_write;
	if (smbd_open_stream(op) != NULL) {
		state->job->stream_name =
			talloc_strdup(state->job, smbd_open_stream(op));
		if (state->job->stream_name == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	state->subreq = vfs_job_send_ex(state, client->ev, client->pool,
					req->session->creds, write_job_run,
					state->job, NULL,
					VFS_JOB_WAIT_ON_CANCEL);
	if (state->subreq == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	tevent_req_set_callback(state->subreq, write_job_done, state);
	return NT_STATUS_PENDING;
}

static void write_finish(struct write_state *state, NTSTATUS status,
			 size_t written)
{
	struct smbd_request *req = state->req;

	smbd_fd_unref(state->fd);
	state->fd = NULL;
	if (NT_STATUS_IS_OK(status)) {
		status = write_reply(req, written);
	}
	smbd_request_done(req, status);
}

static void write_fast_done(struct tevent_req *subreq)
{
	struct write_state *state =
		tevent_req_callback_data(subreq, struct write_state);
	size_t written = 0;
	NTSTATUS status;

	status = vfs_pwrite_recv(subreq, &written);
	state->subreq = NULL;
	TALLOC_FREE(subreq);
	write_finish(state, status, written);
}

static void write_job_done(struct tevent_req *subreq)
{
	struct write_state *state =
		tevent_req_callback_data(subreq, struct write_state);
	struct write_job *job = state->job;
	NTSTATUS status = NT_STATUS_OK;
	int err;

	err = vfs_job_recv(subreq);
	state->subreq = NULL;
	TALLOC_FREE(subreq);
	if (err == 0) {
		err = job->err;
	}
	if (err != 0) {
		status = map_nt_error_from_unix(err);
	} else if (job->stream_name != NULL) {
		status = job->stream_status;
	}
	if (job->have_pre_mtime) {
		/* the open may have been closed meanwhile */
		struct smbd_open *op = smbd_open_lookup(
			state->req->conn->client, state->persistent_id,
			state->volatile_id);

		if (op != NULL) {
			smbd_write_time_pre_write(&op->write_time,
						  job->pre_mtime);
		}
	}
	write_finish(state, status, job->written);
}
