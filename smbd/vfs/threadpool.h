/*
 * A pool of worker threads that runs file-system calls off the event loop
 * and delivers their completions back to it as tevent requests.
 *
 * Threads are created on demand up to max_threads and exit after
 * VFS_POOL_IDLE_SECONDS without work.  Each job names the credentials it
 * must run with (impersonate.h); the worker switches to them with
 * per-thread syscalls before calling the job function.
 *
 * Usage (tevent_req style):
 *
 *	struct stat_job { int fd; int err; struct stat st; };
 *
 *	static void stat_job_fn(void *private_data)
 *	{
 *		struct stat_job *j = private_data;	// worker thread
 *		j->err = fstat(j->fd, &j->st) == 0 ? 0 : errno;
 *	}
 *
 *	job = talloc_zero(state, struct stat_job);	// before subreq
 *	subreq = vfs_job_send(state, ev, pool, session->creds,
 *			      stat_job_fn, job);
 *	tevent_req_set_callback(subreq, foo_stat_done, req);
 *	...
 *	static void foo_stat_done(struct tevent_req *subreq)
 *	{
 *		int err = vfs_job_recv(subreq);		// event loop
 *		TALLOC_FREE(subreq);
 *		if (err != 0) ... map_nt_error_from_unix(err) ...
 *		... job->err, job->st ...
 *	}
 *
 * Rules for job functions (they run on another thread):
 *   - touch only private_data and what it points to; never touch talloc
 *     memory that the event loop may use concurrently, never call tevent;
 *   - private_data must be a talloc pointer that lives at least as long as
 *     the request: allocate it before the request under the same parent
 *     (talloc frees newer children first), or under the request's mem_ctx.
 *
 * Cancellation: freeing the request (talloc_free, or freeing its parent)
 * is the only way to cancel.
 *   - Job still queued: it is removed and never runs.
 *   - Job running: the worker cannot be stopped, so the job is orphaned:
 *     private_data is moved (talloc_steal) under the pool's internal job
 *     record, which the event loop frees once the worker has finished.
 *     The caller never sees a completion, and nothing is freed under the
 *     worker's feet.  Memory private_data only points to (not owns) must
 *     therefore outlive the job; vfs_pread_send()/vfs_pwrite_send() in
 *     vfs_posix.h instead wait for the running syscall (VFS_JOB_WAIT_ON_CANCEL).
 *
 * Freeing the pool fails queued jobs with ECANCELED and waits for
 * running ones (bounded by one file-system call each).
 */
#ifndef SMBD_VFS_THREADPOOL_H
#define SMBD_VFS_THREADPOOL_H

#include <stdbool.h>
#include <talloc.h>
#include <tevent.h>

struct vfs_creds;
struct vfs_pool;

#define VFS_POOL_IDLE_SECONDS 5

/*
 * Create a pool delivering completions to ev (the only event context its
 * requests may use).  max_threads 0 is treated as 1.  No thread is
 * started until the first job.  Returns NULL on failure (ENOMEM, no
 * eventfd).
 */
struct vfs_pool *vfs_pool_create(TALLOC_CTX *mem_ctx,
				 struct tevent_context *ev,
				 unsigned max_threads);

/*
 * Run fn(private_data) on a worker thread as creds (copied; NULL = stay
 * root: only for server-internal work, never for a client's request),
 * then complete the request on the event loop.  See above for the rules
 * on private_data and cancellation.
 */
struct tevent_req *vfs_job_send(TALLOC_CTX *mem_ctx,
				struct tevent_context *ev,
				struct vfs_pool *pool,
				const struct vfs_creds *creds,
				void (*fn)(void *private_data),
				void *private_data);

/*
 * As vfs_job_send(), plus:
 *   keep_alive: a second talloc object (or NULL) that fn uses and that is
 *   adopted together with private_data when the job is orphaned, e.g.
 *   the caller's data behind a small wrapper passed as private_data.
 *   flags VFS_JOB_WAIT_ON_CANCEL: if the request is freed while the job
 *   runs, the freeing thread blocks until fn has returned, instead of
 *   orphaning.  For jobs that read or write memory they do not own (a
 *   caller's I/O buffer).  Keep such jobs to one short syscall.
 * A job whose private_data or keep_alive is an ancestor of the request
 * itself is always waited for: adopting it would steal an object that is
 * being freed.
 */
#define VFS_JOB_WAIT_ON_CANCEL 0x1
struct tevent_req *vfs_job_send_ex(TALLOC_CTX *mem_ctx,
				   struct tevent_context *ev,
				   struct vfs_pool *pool,
				   const struct vfs_creds *creds,
				   void (*fn)(void *private_data),
				   void *private_data, void *keep_alive,
				   unsigned flags);

/*
 * 0 when fn ran, else an errno of the pool itself: EPERM (switching to
 * creds failed: fn was NOT run), ECANCELED (pool freed before the job
 * ran), ENOMEM / EAGAIN (no thread could be started), EINVAL.
 */
int vfs_job_recv(struct tevent_req *req);

/* How long an idle worker waits for work before it exits (default
 * VFS_POOL_IDLE_SECONDS); applies from the next wait. */
void vfs_pool_set_idle_ms(struct vfs_pool *pool, unsigned idle_ms);

/* For tests and status output: threads alive now, jobs waiting. */
unsigned vfs_pool_num_threads(struct vfs_pool *pool);
unsigned vfs_pool_num_queued(struct vfs_pool *pool);

#endif
