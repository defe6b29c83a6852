/*
 * tevent_req wrappers running pread/pwrite/fsync and closures on the
 * thread pool; see vfs_async.h.
 */
#include "smbd/vfs/vfs_async.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "smbd/vfs/threadpool.h"

/*
 * The job's data.  A separate talloc object (not the request state) so
 * that the pool can tell it apart from the request it may outlive.
 */
struct vfs_io_job {
	int fd;
	uint8_t *buf;
	size_t len;
	uint64_t offset;
	bool data_only;
	size_t done; /* bytes transferred */
	int err;
};

struct vfs_io_state {
	struct vfs_io_job *job;
};

static void vfs_io_done(struct tevent_req *subreq);

/*
 * NTSTATUS through tevent's uint64_t error slot.  (The project has no
 * shared tevent_ntstatus helpers yet; these stay local until it does.)
 */
static bool req_nterror(struct tevent_req *req, NTSTATUS status)
{
	if (NT_STATUS_IS_OK(status)) {
		return false;
	}
	return tevent_req_error(req, NT_STATUS_V(status));
}

static bool req_is_nterror(struct tevent_req *req, NTSTATUS *status)
{
	enum tevent_req_state state;
	uint64_t err;

	if (!tevent_req_is_error(req, &state, &err)) {
		return false;
	}
	switch (state) {
	case TEVENT_REQ_USER_ERROR:
		*status = NT_STATUS((uint32_t)err);
		break;
	case TEVENT_REQ_NO_MEMORY:
		*status = NT_STATUS_NO_MEMORY;
		break;
	default:
		*status = NT_STATUS_INTERNAL_ERROR;
		break;
	}
	return true;
}

static bool io_range_ok(size_t len, uint64_t offset)
{
	/* pread/pwrite take a signed off_t; the sum must fit too. */
	return offset <= (uint64_t)INT64_MAX &&
	       (uint64_t)len <= (uint64_t)INT64_MAX - offset;
}

static void pread_job_fn(void *private_data)
{
	struct vfs_io_job *job = private_data;

	while (job->done < job->len) {
		ssize_t n = pread(job->fd, job->buf + job->done,
				  job->len - job->done,
				  (off_t)(job->offset + job->done));

		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			job->err = errno;
			return;
		}
		if (n == 0) {
			return; /* end of file */
		}
		job->done += (size_t)n;
	}
}

static void pwrite_job_fn(void *private_data)
{
	struct vfs_io_job *job = private_data;

	while (job->done < job->len) {
		ssize_t n = pwrite(job->fd, job->buf + job->done,
				   job->len - job->done,
				   (off_t)(job->offset + job->done));

		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			job->err = errno;
			return;
		}
		if (n == 0) {
			job->err = ENOSPC;
			return;
		}
		job->done += (size_t)n;
	}
}

static void fsync_job_fn(void *private_data)
{
	struct vfs_io_job *job = private_data;
	int ret = job->data_only ? fdatasync(job->fd) : fsync(job->fd);

	job->err = ret == 0 ? 0 : errno;
}

static struct tevent_req *vfs_io_send(TALLOC_CTX *mem_ctx,
				      struct tevent_context *ev,
				      struct vfs_pool *pool,
				      const struct vfs_creds *creds,
				      void (*fn)(void *), int fd, void *buf,
				      size_t len, uint64_t offset,
				      bool data_only)
{
	struct tevent_req *req, *subreq;
	struct vfs_io_state *state;

	req = tevent_req_create(mem_ctx, &state, struct vfs_io_state);
	if (req == NULL) {
		return NULL;
	}
	if (!io_range_ok(len, offset)) {
		req_nterror(req, NT_STATUS_INVALID_PARAMETER);
		return tevent_req_post(req, ev);
	}
	state->job = talloc_zero(state, struct vfs_io_job);
	if (tevent_req_nomem(state->job, req)) {
		return tevent_req_post(req, ev);
	}
	state->job->fd = fd;
	state->job->buf = buf;
	state->job->len = len;
	state->job->offset = offset;
	state->job->data_only = data_only;

	/* Waiting on cancel: the kernel may be using the caller's buf. */
	subreq = vfs_job_send_ex(state, ev, pool, creds, fn, state->job,
				 NULL, VFS_JOB_WAIT_ON_CANCEL);
	if (tevent_req_nomem(subreq, req)) {
		return tevent_req_post(req, ev);
	}
	tevent_req_set_callback(subreq, vfs_io_done, req);
	return req;
}

static void vfs_io_done(struct tevent_req *subreq)
{
	struct tevent_req *req =
		tevent_req_callback_data(subreq, struct tevent_req);
	struct vfs_io_state *state =
		tevent_req_data(req, struct vfs_io_state);
	int err;

	err = vfs_job_recv(subreq);
	TALLOC_FREE(subreq);
	if (err != 0) {
		req_nterror(req, map_nt_error_from_unix(err));
		return;
	}
	/* Partial progress wins over a later error: the client learns how
	 * much was transferred, and the next call reports the error. */
	if (state->job->err != 0 && state->job->done == 0) {
		req_nterror(req, map_nt_error_from_unix(state->job->err));
		return;
	}
	tevent_req_done(req);
}

static NTSTATUS vfs_io_recv(struct tevent_req *req, size_t *done)
{
	struct vfs_io_state *state =
		tevent_req_data(req, struct vfs_io_state);
	NTSTATUS status;

	if (req_is_nterror(req, &status)) {
		tevent_req_received(req);
		return status;
	}
	if (done != NULL) {
		*done = state->job->done;
	}
	tevent_req_received(req);
	return NT_STATUS_OK;
}

struct tevent_req *vfs_pread_send(TALLOC_CTX *mem_ctx,
				  struct tevent_context *ev,
				  struct vfs_pool *pool,
				  const struct vfs_creds *creds, int fd,
				  void *buf, size_t len, uint64_t offset)
{
	return vfs_io_send(mem_ctx, ev, pool, creds, pread_job_fn, fd, buf,
			   len, offset, false);
}

NTSTATUS vfs_pread_recv(struct tevent_req *req, size_t *nread)
{
	return vfs_io_recv(req, nread);
}

struct tevent_req *vfs_pwrite_send(TALLOC_CTX *mem_ctx,
				   struct tevent_context *ev,
				   struct vfs_pool *pool,
				   const struct vfs_creds *creds, int fd,
				   const void *buf, size_t len,
				   uint64_t offset)
{
	/* The job only reads buf; the cast keeps one job struct. */
	return vfs_io_send(mem_ctx, ev, pool, creds, pwrite_job_fn, fd,
			   (void *)(uintptr_t)buf, len, offset, false);
}

NTSTATUS vfs_pwrite_recv(struct tevent_req *req, size_t *nwritten)
{
	return vfs_io_recv(req, nwritten);
}

struct tevent_req *vfs_fsync_send(TALLOC_CTX *mem_ctx,
				  struct tevent_context *ev,
				  struct vfs_pool *pool,
				  const struct vfs_creds *creds, int fd,
				  bool data_only)
{
	return vfs_io_send(mem_ctx, ev, pool, creds, fsync_job_fn, fd, NULL,
			   0, 0, data_only);
}

NTSTATUS vfs_fsync_recv(struct tevent_req *req)
{
	return vfs_io_recv(req, NULL);
}

struct vfs_call_job {
	NTSTATUS (*fn)(void *private_data);
	void *private_data;
	NTSTATUS status;
};

struct vfs_call_state {
	struct vfs_call_job *job;
};

static void vfs_call_job_fn(void *private_data)
{
	struct vfs_call_job *job = private_data;

	job->status = job->fn(job->private_data);
}

static void vfs_call_done(struct tevent_req *subreq);

struct tevent_req *vfs_call_send(TALLOC_CTX *mem_ctx,
				 struct tevent_context *ev,
				 struct vfs_pool *pool,
				 const struct vfs_creds *creds,
				 NTSTATUS (*fn)(void *private_data),
				 void *private_data)
{
	struct tevent_req *req, *subreq;
	struct vfs_call_state *state;

	req = tevent_req_create(mem_ctx, &state, struct vfs_call_state);
	if (req == NULL) {
		return NULL;
	}
	state->job = talloc_zero(state, struct vfs_call_job);
	if (tevent_req_nomem(state->job, req)) {
		return tevent_req_post(req, ev);
	}
	state->job->fn = fn;
	state->job->private_data = private_data;
	state->job->status = NT_STATUS_INTERNAL_ERROR;

	subreq = vfs_job_send_ex(state, ev, pool, creds, vfs_call_job_fn,
				 state->job, private_data, 0);
	if (tevent_req_nomem(subreq, req)) {
		return tevent_req_post(req, ev);
	}
	tevent_req_set_callback(subreq, vfs_call_done, req);
	return req;
}

static void vfs_call_done(struct tevent_req *subreq)
{
	struct tevent_req *req =
		tevent_req_callback_data(subreq, struct tevent_req);
	struct vfs_call_state *state =
		tevent_req_data(req, struct vfs_call_state);
	int err;

	err = vfs_job_recv(subreq);
	TALLOC_FREE(subreq);
	if (err != 0) {
		req_nterror(req, map_nt_error_from_unix(err));
		return;
	}
	if (req_nterror(req, state->job->status)) {
		return;
	}
	tevent_req_done(req);
}

NTSTATUS vfs_call_recv(struct tevent_req *req)
{
	NTSTATUS status = NT_STATUS_OK;

	req_is_nterror(req, &status);
	tevent_req_received(req);
	return status;
}

/* Lives under the pool (see vfs_close_detached()); closes fd itself if
 * the job never ran. */
struct vfs_close_job {
	int fd;
	bool closed;
};

static int vfs_close_job_destructor(struct vfs_close_job *job)
{
	if (!job->closed) {
		close(job->fd);
	}
	return 0;
}

static void close_job_fn(void *private_data)
{
	struct vfs_close_job *job = private_data;

	/* Linux releases the descriptor even when close reports an error;
	 * a retry could close a descriptor another thread just got */
	close(job->fd);
	job->closed = true;
}

static void vfs_close_detached_done(struct tevent_req *subreq)
{
	struct vfs_close_job *job =
		tevent_req_callback_data(subreq, struct vfs_close_job);

	(void)vfs_job_recv(subreq); /* not run: the destructor closes */
	TALLOC_FREE(subreq);
	talloc_free(job);
}

void vfs_close_detached(struct tevent_context *ev, struct vfs_pool *pool,
			int fd)
{
	struct vfs_close_job *job;
	struct tevent_req *subreq;

	/* Under the pool: freeing the pool waits for a running close and
	 * cancels a queued one, whose destructor then closes. */
	job = talloc_zero(pool, struct vfs_close_job);
	if (job == NULL) {
		close(fd);
		return;
	}
	job->fd = fd;
	talloc_set_destructor(job, vfs_close_job_destructor);
	/* server-internal work: no client credentials needed to close */
	subreq = vfs_job_send(job, ev, pool, NULL, close_job_fn, job);
	if (subreq == NULL) {
		talloc_free(job);
		return;
	}
	tevent_req_set_callback(subreq, vfs_close_detached_done, job);
}
