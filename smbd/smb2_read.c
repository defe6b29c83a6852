/*
 * READ ([MS-SMB2] 2.2.19, 2.2.20, 3.3.5.12).
 *
 * The data is read on a worker thread straight into a buffer that then
 * becomes the reply's out_data: the transport writes it after the 16-byte
 * reply body, so file data is copied once (kernel -> buffer) on its way
 * to the socket.  No stat per read: the end of file shows as a short
 * read.
 *
 * A named stream's data lives in an xattr (streams.h): its read is one
 * job that loads the value and copies the range into the same buffer.
 *
 * A large read whose reply goes out alone, unsigned and unencrypted
 * (smbd_request_reply_plain()) is not copied at all: the worker splices
 * the range from the file into a pipe (page references; the disk I/O, if
 * any, happens there, off the event loop) and the transport splices the
 * pipe to the socket.  The pipe holds references to page-cache pages, so
 * a write landing before the reply is on the wire may show in it, as
 * with sendfile; signed and encrypted replies need the bytes in memory
 * and keep the pread.
 */
#include "smbd/smbd.h"

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/brlock.h"
#include "smbd/smb2_transport.h"
#include "smbd/streams.h"
#include "smbd/vfs/threadpool.h"
#include "smbd/vfs/vfs_async.h"

#define READ_REQ_FIXED 48  /* StructureSize 49 includes Buffer[1] */
#define READ_REP_FIXED 16  /* StructureSize 17 */
/* below this a copy costs less than setting up a pipe */
#define READ_SPLICE_MIN (64 * 1024)

struct read_state {
	struct smbd_request *req;
	struct smbd_fd *fd; /* a reference held while the pread may run */
	struct tevent_req *subreq;
	uint8_t *buf;
	uint32_t min_count;
	uint64_t offset;
	/* the open is looked up again at completion: a CLOSE may have
	 * freed it meanwhile */
	uint64_t persistent_id, volatile_id;
	struct stream_read_job *stream_job;
	struct splice_read_job *splice_job;
};

/* A plain read into a pipe (see the file comment); waited for on cancel,
 * as it writes into the pipe that read_state owns. */
struct splice_read_job {
	int fd;
	size_t len;
	uint64_t offset;
	size_t nread;
	int err;
	struct smbd_pipe_payload *pipe;
};

/* A named stream: the job writes into read_state's buffer, so it is
 * waited for on cancel (VFS_JOB_WAIT_ON_CANCEL) like a pread. */
struct stream_read_job {
	int fd;
	char *name;
	uint8_t *buf;
	size_t len;
	uint64_t offset;
	size_t nread;
	NTSTATUS status;
};

static void read_done(struct tevent_req *subreq);
static void read_stream_done(struct tevent_req *subreq);
static void read_splice_done(struct tevent_req *subreq);

static void splice_read_run(void *private_data)
{
	struct splice_read_job *job = private_data;

	job->err = smbd_pipe_payload_fill(job->pipe, job->fd, job->offset,
					  job->len, &job->nread);
}

static void stream_read_run(void *private_data)
{
	struct stream_read_job *job = private_data;

	job->status = smbd_stream_read(job->fd, job->name, job->buf, job->len,
				       job->offset, &job->nread);
}

/*
 * Freeing the request (connection gone) cancels the pread: freeing the
 * subrequest waits for a running pread (vfs_async.h), so it
 * must go before the fd reference and the buffer (a child of this state,
 * freed after this destructor).
 */
static int read_state_destructor(struct read_state *state)
{
	TALLOC_FREE(state->subreq);
	smbd_fd_unref(state->fd);
	state->fd = NULL;
	return 0;
}

static NTSTATUS read_reply(struct smbd_request *req, uint8_t *data,
			   size_t len)
{
	uint8_t *out = smbd_request_reply(req, READ_REP_FIXED,
					  len > 0 ? 0 : 1);

	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 17);
	out[2] = SMB2_HDR_SIZE + READ_REP_FIXED; /* DataOffset */
	PUSH_LE32(out, 4, (uint32_t)len);	  /* DataLength */
	PUSH_LE32(out, 8, 0);			  /* DataRemaining */
	PUSH_LE32(out, 12, 0);			  /* Flags */
	req->out_data.iov_base = data;
	req->out_data.iov_len = len;
	return NT_STATUS_OK;
}

NTSTATUS smbd_smb2_read(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint32_t length = PULL_LE32(b, 4);
	uint64_t offset = PULL_LE64(b, 8);
	uint32_t min_count = PULL_LE32(b, 32);
	uint32_t channel = PULL_LE32(b, 36);
	uint16_t chan_ofs = PULL_LE16(b, 44);
	uint16_t chan_len = PULL_LE16(b, 46);
	struct smbd_client *client = req->conn->client;
	const uint8_t *chan_info;
	struct read_state *state;
	struct smbd_open *op;
	NTSTATUS status;

	if (length > req->conn->max_read_size) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!smbd_request_in_range(req, chan_ofs, chan_len, READ_REQ_FIXED,
				   &chan_info)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* No RDMA transport: only SMB2_CHANNEL_NONE is meaningful. */
	if (channel != SMB2_CHANNEL_NONE) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* [MS-SMB2] 3.3.5.12; Windows also reads with FILE_EXECUTE
	 * (smb2.read.access) */
	op = smbd_request_data_open(req, b + 16,
				    SEC_FILE_READ_DATA | SEC_FILE_EXECUTE,
				    &status);
	if (op == NULL) {
		return status;
	}
	if (offset > (uint64_t)INT64_MAX - length) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* [MS-FSA] 2.1.5.2: another open's exclusive lock */
	status = smbd_brl_check_io(op, offset, length, false);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (length == 0 || min_count > length) {
		/* nothing to read, or more wanted than asked for: decided
		 * without I/O (smb2.read.eof) */
		if (min_count > 0) {
			return NT_STATUS_END_OF_FILE;
		}
		return read_reply(req, NULL, 0);
	}

	state = talloc_zero(req, struct read_state);
	if (state == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->req = req;
	state->min_count = min_count;
	state->offset = offset;
	state->persistent_id = op->persistent_id;
	state->volatile_id = op->volatile_id;
	state->fd = smbd_fd_ref(op->fd);
	talloc_set_destructor(state, read_state_destructor);

	if (length >= READ_SPLICE_MIN && smbd_open_stream(op) == NULL &&
	    smbd_request_reply_plain(req)) {
		struct smbd_pipe_payload *pipe;
		struct splice_read_job *job;

		/* NULL: no pipe that large (limits): copy instead */
		pipe = smbd_pipe_payload_create(state, length);
		if (pipe != NULL) {
			job = talloc_zero(state, struct splice_read_job);
			if (job == NULL) {
				return NT_STATUS_NO_MEMORY;
			}
			job->fd = state->fd->fd;
			job->pipe = pipe;
			job->len = length;
			job->offset = offset;
			state->subreq = vfs_job_send_ex(
				state, client->ev, client->pool,
				req->session->creds, splice_read_run, job,
				NULL, VFS_JOB_WAIT_ON_CANCEL);
			if (state->subreq == NULL) {
				return NT_STATUS_NO_MEMORY;
			}
			state->splice_job = job;
			tevent_req_set_callback(state->subreq,
						read_splice_done, state);
			return NT_STATUS_PENDING;
		}
	}

	state->buf = talloc_size(state, length);
	if (state->buf == NULL) {
		return NT_STATUS_NO_MEMORY;
	}

	if (smbd_open_stream(op) != NULL) {
		struct stream_read_job *job;

		job = talloc_zero(state, struct stream_read_job);
		if (job == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		job->name = talloc_strdup(job, smbd_open_stream(op));
		if (job->name == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		job->fd = state->fd->fd;
		job->buf = state->buf;
		job->len = length;
		job->offset = offset;
		state->subreq = vfs_job_send_ex(state, client->ev, client->pool,
						req->session->creds,
						stream_read_run, job, NULL,
						VFS_JOB_WAIT_ON_CANCEL);
		if (state->subreq == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		state->stream_job = job;
		tevent_req_set_callback(state->subreq, read_stream_done, state);
		return NT_STATUS_PENDING;
	}

	state->subreq = vfs_pread_send(state, client->ev, client->pool,
				       req->session->creds, state->fd->fd,
				       state->buf, length, offset);
	if (state->subreq == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	tevent_req_set_callback(state->subreq, read_done, state);
	return NT_STATUS_PENDING;
}

static void read_finish(struct read_state *state, NTSTATUS status,
			size_t nread);

static void read_done(struct tevent_req *subreq)
{
	struct read_state *state =
		tevent_req_callback_data(subreq, struct read_state);
	size_t nread = 0;
	NTSTATUS status;

	status = vfs_pread_recv(subreq, &nread);
	state->subreq = NULL;
	TALLOC_FREE(subreq);
	read_finish(state, status, nread);
}

static void read_stream_done(struct tevent_req *subreq)
{
	struct read_state *state =
		tevent_req_callback_data(subreq, struct read_state);
	struct stream_read_job *job = state->stream_job;
	NTSTATUS status;
	int err;

	err = vfs_job_recv(subreq);
	state->subreq = NULL;
	TALLOC_FREE(subreq);
	status = err != 0 ? map_nt_error_from_unix(err) : job->status;
	read_finish(state, status, job->nread);
}

static void read_splice_done(struct tevent_req *subreq)
{
	struct read_state *state =
		tevent_req_callback_data(subreq, struct read_state);
	struct splice_read_job *job = state->splice_job;
	NTSTATUS status;
	int err;

	err = vfs_job_recv(subreq);
	state->subreq = NULL;
	TALLOC_FREE(subreq);
	if (err == 0) {
		err = job->err;
	}
	status = err != 0 ? map_nt_error_from_unix(err) : NT_STATUS_OK;
	read_finish(state, status, job->nread);
}

static void read_finish(struct read_state *state, NTSTATUS status,
			size_t nread)
{
	struct smbd_request *req = state->req;
	struct smbd_open *op;

	smbd_fd_unref(state->fd);
	state->fd = NULL;
	if (!NT_STATUS_IS_OK(status)) {
		smbd_request_done(req, status);
		return;
	}
	/* [MS-SMB2] 3.3.5.12: less than MinimumCount, or nothing at all,
	 * is STATUS_END_OF_FILE */
	if (nread == 0 || nread < state->min_count) {
		smbd_request_done(req, NT_STATUS_END_OF_FILE);
		return;
	}
	/* FilePositionInformation follows the last read, as on Windows
	 * (smb2.read.position) */
	op = smbd_open_lookup(req->conn->client, state->persistent_id,
			      state->volatile_id);
	if (op != NULL) {
		op->position = state->offset + nread;
	}
	if (state->splice_job != NULL) {
		/* the pipe holds exactly nread bytes; it lives as long as
		 * the reply */
		struct smbd_pipe_payload *pipe = state->splice_job->pipe;

		status = read_reply(req, NULL, nread);
		if (NT_STATUS_IS_OK(status)) {
			req->out_data = (struct iovec){ 0 };
			pipe->len = nread; /* the sum of pipes[].len */
			req->out_pipe = talloc_steal(req, pipe);
		}
		smbd_request_done(req, status);
		return;
	}
	/* the buffer lives as long as the reply */
	talloc_steal(req, state->buf);
	status = read_reply(req, state->buf, nread);
	smbd_request_done(req, status);
}
