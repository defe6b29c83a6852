/*
 * Worker threads for file-system calls; see threadpool.h for the contract.
 *
 * Shared state (queue, done list, counters, job phases) is guarded by
 * pool->mutex.  Workers never call talloc or tevent: they pop a job, run
 * it, append it to the done list and poke an eventfd, whose handler on the
 * event loop completes the tevent request.  Every talloc operation
 * (freeing, orphaning) happens on the event-loop thread.
 */
#include "smbd/vfs/threadpool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/util/debug.h"
#include "smbd/vfs/impersonate.h"

enum vfs_job_phase {
	JOB_QUEUED,	/* in pool->queue, no worker has seen it */
	JOB_RUNNING,	/* a worker is inside fn (or impersonating) */
	JOB_DONE,	/* in pool->done, waiting for the event loop */
	JOB_DELIVERED,	/* off every list; owned by talloc alone */
};

struct vfs_job {
	struct vfs_pool *pool;
	struct vfs_job *next;
	void (*fn)(void *private_data);
	void *private_data;
	void *keep_alive;
	struct vfs_creds *creds; /* NULL: root */
	unsigned flags;
	enum vfs_job_phase phase;
	int err;
	struct tevent_req *req; /* NULL once orphaned */
};

/* A singly linked FIFO; the lists are short and only the head is popped
 * except on cancellation. */
struct job_list {
	struct vfs_job *head, *tail;
};

struct vfs_pool {
	struct tevent_context *ev;
	struct tevent_fd *fde;
	int event_fd;

	pthread_mutex_t mutex;
	pthread_cond_t work_cond; /* workers wait for jobs */
	pthread_cond_t done_cond; /* a job finished or a thread exited */
	struct job_list queue;
	struct job_list done;
	unsigned queue_len;
	unsigned max_threads;
	unsigned num_threads;
	unsigned num_idle;
	unsigned idle_ms;
	bool shutdown;
};

struct vfs_job_state {
	struct vfs_job *job;
};

static void list_append(struct job_list *l, struct vfs_job *job)
{
	job->next = NULL;
	if (l->tail != NULL) {
		l->tail->next = job;
	} else {
		l->head = job;
	}
	l->tail = job;
}

static struct vfs_job *list_pop(struct job_list *l)
{
	struct vfs_job *job = l->head;

	if (job != NULL) {
		l->head = job->next;
		if (l->head == NULL) {
			l->tail = NULL;
		}
		job->next = NULL;
	}
	return job;
}

static void list_remove(struct job_list *l, struct vfs_job *job)
{
	struct vfs_job *prev = NULL, *j;

	for (j = l->head; j != NULL; prev = j, j = j->next) {
		if (j != job) {
			continue;
		}
		if (prev != NULL) {
			prev->next = j->next;
		} else {
			l->head = j->next;
		}
		if (l->tail == j) {
			l->tail = prev;
		}
		j->next = NULL;
		return;
	}
}

static void pool_wakeup_loop(struct vfs_pool *pool)
{
	uint64_t one = 1;
	ssize_t n;

	do {
		n = write(pool->event_fd, &one, sizeof(one));
	} while (n == -1 && errno == EINTR);
	/* EAGAIN: the counter is already non-zero, the loop will wake. */
}

static void *worker_main(void *arg)
{
	struct vfs_pool *pool = arg;
	struct vfs_job *job;

	pthread_mutex_lock(&pool->mutex);
	for (;;) {
		while (pool->queue.head == NULL && !pool->shutdown) {
			struct timespec until;
			int rc;

			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += pool->idle_ms / 1000;
			until.tv_nsec += (long)(pool->idle_ms % 1000) * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec += 1;
				until.tv_nsec -= 1000000000;
			}
			pool->num_idle += 1;
			rc = pthread_cond_timedwait(&pool->work_cond,
						    &pool->mutex, &until);
			pool->num_idle -= 1;
			if (rc == ETIMEDOUT && pool->queue.head == NULL) {
				goto exit;
			}
		}
		if (pool->shutdown) {
			goto exit;
		}
		job = list_pop(&pool->queue);
		pool->queue_len -= 1;
		job->phase = JOB_RUNNING;
		pthread_mutex_unlock(&pool->mutex);

		/* Never run a client's job with a half-switched identity:
		 * see impersonate.h. */
		if (vfs_impersonate(job->creds) == 0) {
			job->fn(job->private_data);
			job->err = 0;
		} else {
			job->err = EPERM;
		}

		pthread_mutex_lock(&pool->mutex);
		job->phase = JOB_DONE;
		list_append(&pool->done, job);
		pthread_cond_broadcast(&pool->done_cond);
		pool_wakeup_loop(pool);
	}
exit:
	pool->num_threads -= 1;
	pthread_cond_broadcast(&pool->done_cond);
	pthread_mutex_unlock(&pool->mutex);
	return NULL;
}

/* Called with pool->mutex held. */
static int pool_start_thread(struct vfs_pool *pool)
{
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	int ret;

	ret = pthread_attr_init(&attr);
	if (ret != 0) {
		return ret;
	}
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals belong to the event loop: workers inherit a full mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&thread, &attr, worker_main, pool);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (ret == 0) {
		pool->num_threads += 1;
	}
	return ret;
}

/* Hand one finished job to its request.  One per wake-up: completing a
 * request runs callers' callbacks, which may free other jobs or the pool
 * itself, so nothing may be touched afterwards. */
static void pool_done_handler(struct tevent_context *ev,
			      struct tevent_fd *fde, uint16_t flags,
			      void *private_data)
{
	struct vfs_pool *pool = private_data;
	struct vfs_job *job;
	struct tevent_req *req;
	uint64_t count;
	ssize_t n;

	do {
		n = read(pool->event_fd, &count, sizeof(count));
	} while (n == -1 && errno == EINTR);

	pthread_mutex_lock(&pool->mutex);
	job = list_pop(&pool->done);
	if (job != NULL) {
		job->phase = JOB_DELIVERED;
	}
	if (pool->done.head != NULL) {
		pool_wakeup_loop(pool);
	}
	pthread_mutex_unlock(&pool->mutex);

	if (job == NULL) {
		return;
	}
	req = job->req;
	if (req == NULL) {
		/* orphaned by a cancelled request: drop it and the
		 * private_data it adopted */
		talloc_free(job);
		return;
	}
	if (job->err != 0) {
		tevent_req_error(req, job->err);
		return;
	}
	tevent_req_done(req);
}

static int pool_destructor(struct vfs_pool *pool)
{
	struct vfs_job *job;

	pthread_mutex_lock(&pool->mutex);
	pool->shutdown = true;
	while ((job = list_pop(&pool->queue)) != NULL) {
		job->phase = JOB_DELIVERED;
		if (job->req != NULL) {
			tevent_req_defer_callback(job->req, pool->ev);
			tevent_req_error(job->req, ECANCELED);
		}
	}
	pool->queue_len = 0;
	pthread_cond_broadcast(&pool->work_cond);
	while (pool->num_threads > 0) {
		pthread_cond_wait(&pool->done_cond, &pool->mutex);
	}
	/* No worker is left: the rest is single-threaded. */
	pthread_mutex_unlock(&pool->mutex);

	while ((job = list_pop(&pool->done)) != NULL) {
		job->phase = JOB_DELIVERED;
		if (job->req == NULL) {
			talloc_free(job);
			continue;
		}
		tevent_req_defer_callback(job->req, pool->ev);
		if (job->err != 0) {
			tevent_req_error(job->req, job->err);
		} else {
			tevent_req_done(job->req);
		}
	}
	TALLOC_FREE(pool->fde);
	close(pool->event_fd);
	pthread_cond_destroy(&pool->work_cond);
	pthread_cond_destroy(&pool->done_cond);
	pthread_mutex_destroy(&pool->mutex);
	return 0;
}

struct vfs_pool *vfs_pool_create(TALLOC_CTX *mem_ctx,
				 struct tevent_context *ev,
				 unsigned max_threads)
{
	struct vfs_pool *pool;
	pthread_condattr_t cattr;

	pool = talloc_zero(mem_ctx, struct vfs_pool);
	if (pool == NULL) {
		return NULL;
	}
	pool->ev = ev;
	pool->max_threads = max_threads == 0 ? 1 : max_threads;
	pool->idle_ms = VFS_POOL_IDLE_SECONDS * 1000;
	pool->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool->event_fd == -1) {
		DBG_ERR("eventfd: %s\n", strerror(errno));
		talloc_free(pool);
		return NULL;
	}
	pthread_mutex_init(&pool->mutex, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&pool->work_cond, &cattr);
	pthread_condattr_destroy(&cattr);
	pthread_cond_init(&pool->done_cond, NULL);
	talloc_set_destructor(pool, pool_destructor);

	pool->fde = tevent_add_fd(ev, pool, pool->event_fd, TEVENT_FD_READ,
				  pool_done_handler, pool);
	if (pool->fde == NULL) {
		talloc_free(pool);
		return NULL;
	}
	return pool;
}

/*
 * The request goes away.  Whatever phase the job is in, afterwards no
 * worker may touch memory that is about to be freed.
 */
static int vfs_job_state_destructor(struct vfs_job_state *state)
{
	struct vfs_job *job = state->job;
	struct vfs_pool *pool = job->pool;
	bool wait;

	if (job->phase == JOB_DELIVERED) {
		return 0; /* only the event loop touches it now */
	}

	pthread_mutex_lock(&pool->mutex);
	switch (job->phase) {
	case JOB_QUEUED:
		list_remove(&pool->queue, job);
		pool->queue_len -= 1;
		job->phase = JOB_DELIVERED;
		break;
	case JOB_RUNNING:
		/* Orphaning private_data that owns this request would
		 * steal an object in the middle of being freed.
		 * (talloc_is_parent(p, a): is a an ancestor of p?) */
		wait = (job->flags & VFS_JOB_WAIT_ON_CANCEL) ||
		       (job->private_data != NULL &&
			talloc_is_parent(state, job->private_data)) ||
		       (job->keep_alive != NULL &&
			talloc_is_parent(state, job->keep_alive));
		if (!wait) {
			job->req = NULL;
			pthread_mutex_unlock(&pool->mutex);
			/* The worker reads job's fields, never its talloc
			 * header: re-parenting is safe while it runs. */
			talloc_steal(pool, job);
			if (job->private_data != NULL) {
				talloc_steal(job, job->private_data);
			}
			if (job->keep_alive != NULL) {
				talloc_steal(job, job->keep_alive);
			}
			state->job = NULL;
			return 0;
		}
		while (job->phase == JOB_RUNNING) {
			pthread_cond_wait(&pool->done_cond, &pool->mutex);
		}
		/* now in the done list */
		/* fall through */
	case JOB_DONE:
		list_remove(&pool->done, job);
		job->phase = JOB_DELIVERED;
		break;
	case JOB_DELIVERED:
		break;
	}
	pthread_mutex_unlock(&pool->mutex);
	return 0;
}

struct tevent_req *vfs_job_send_ex(TALLOC_CTX *mem_ctx,
				   struct tevent_context *ev,
				   struct vfs_pool *pool,
				   const struct vfs_creds *creds,
				   void (*fn)(void *private_data),
				   void *private_data, void *keep_alive,
				   unsigned flags)
{
	struct tevent_req *req;
	struct vfs_job_state *state;
	struct vfs_job *job;
	int ret;

	req = tevent_req_create(mem_ctx, &state, struct vfs_job_state);
	if (req == NULL) {
		return NULL;
	}
	if (ev != pool->ev || fn == NULL) {
		tevent_req_error(req, EINVAL);
		return tevent_req_post(req, ev);
	}
	job = talloc_zero(state, struct vfs_job);
	if (tevent_req_nomem(job, req)) {
		return tevent_req_post(req, ev);
	}
	job->pool = pool;
	job->fn = fn;
	job->private_data = private_data;
	job->keep_alive = keep_alive;
	job->flags = flags;
	job->req = req;
	if (creds != NULL) {
		job->creds = vfs_creds_copy(job, creds);
		if (tevent_req_nomem(job->creds, req)) {
			return tevent_req_post(req, ev);
		}
	}

	pthread_mutex_lock(&pool->mutex);
	if (pool->shutdown) {
		pthread_mutex_unlock(&pool->mutex);
		tevent_req_error(req, ECANCELED);
		return tevent_req_post(req, ev);
	}
	job->phase = JOB_QUEUED;
	list_append(&pool->queue, job);
	pool->queue_len += 1;
	state->job = job;
	talloc_set_destructor(state, vfs_job_state_destructor);

	ret = 0;
	if (pool->queue_len > pool->num_idle &&
	    pool->num_threads < pool->max_threads) {
		ret = pool_start_thread(pool);
	}
	if (ret != 0 && pool->num_threads == 0) {
		/* Nobody would ever run it. */
		list_remove(&pool->queue, job);
		pool->queue_len -= 1;
		job->phase = JOB_DELIVERED;
		pthread_mutex_unlock(&pool->mutex);
		DBG_ERR("cannot start a worker thread: %s\n", strerror(ret));
		tevent_req_error(req, ret);
		return tevent_req_post(req, ev);
	}
	pthread_cond_signal(&pool->work_cond);
	pthread_mutex_unlock(&pool->mutex);
	return req;
}

struct tevent_req *vfs_job_send(TALLOC_CTX *mem_ctx,
				struct tevent_context *ev,
				struct vfs_pool *pool,
				const struct vfs_creds *creds,
				void (*fn)(void *private_data),
				void *private_data)
{
	return vfs_job_send_ex(mem_ctx, ev, pool, creds, fn, private_data, NULL,
			       0);
}

int vfs_job_recv(struct tevent_req *req)
{
	enum tevent_req_state state;
	uint64_t err;
	int ret = 0;

	if (tevent_req_is_error(req, &state, &err)) {
		switch (state) {
		case TEVENT_REQ_USER_ERROR:
			ret = (int)err;
			break;
		case TEVENT_REQ_NO_MEMORY:
			ret = ENOMEM;
			break;
		default:
			ret = EIO;
			break;
		}
	}
	tevent_req_received(req);
	return ret;
}

void vfs_pool_set_idle_ms(struct vfs_pool *pool, unsigned idle_ms)
{
	pthread_mutex_lock(&pool->mutex);
	pool->idle_ms = idle_ms;
	pthread_mutex_unlock(&pool->mutex);
}

unsigned vfs_pool_num_threads(struct vfs_pool *pool)
{
	unsigned n;

	pthread_mutex_lock(&pool->mutex);
	n = pool->num_threads;
	pthread_mutex_unlock(&pool->mutex);
	return n;
}

unsigned vfs_pool_num_queued(struct vfs_pool *pool)
{
	unsigned n;

	pthread_mutex_lock(&pool->mutex);
	n = pool->queue_len;
	pthread_mutex_unlock(&pool->mutex);
	return n;
}
