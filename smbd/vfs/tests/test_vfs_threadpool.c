/*
 * Thread pool: completions, cancellation of queued and running jobs,
 * pool teardown, and the async pread/pwrite/fsync/call wrappers.
 * Meant to be run under valgrind or ASan as well (see meson.build).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smbd/vfs/threadpool.h"
#include "smbd/vfs/vfs_async.h"
#include "smbd/vfs/vfs_posix.h"

/* A gate a job can block on: the test opens it from the loop thread. */
struct gate {
	int started[2]; /* job -> test: "I am running" */
	int release[2]; /* test -> job: "go on" */
};

static void gate_init(struct gate *g)
{
	assert_int_equal(pipe(g->started), 0);
	assert_int_equal(pipe(g->release), 0);
}

static void gate_destroy(struct gate *g)
{
	close(g->started[0]);
	close(g->started[1]);
	close(g->release[0]);
	close(g->release[1]);
}

static void gate_wait_started(struct gate *g)
{
	char c;

	assert_int_equal(read(g->started[0], &c, 1), 1);
}

static void gate_open(struct gate *g)
{
	assert_int_equal(write(g->release[1], "x", 1), 1);
}

struct counter_job {
	atomic_int *counter;
	int value;
};

static void counter_fn(void *private_data)
{
	struct counter_job *j = private_data;

	atomic_fetch_add(j->counter, 1);
	j->value = 42;
}

struct many_state {
	int done;
	int failed;
};

static void many_done(struct tevent_req *req)
{
	struct many_state *s = tevent_req_callback_data_void(req);

	if (vfs_job_recv(req) != 0) {
		s->failed++;
	}
	s->done++;
	talloc_free(req);
}

static void test_many_jobs(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct vfs_pool *pool = vfs_pool_create(mem, ev, 4);
	struct many_state s = { 0 };
	atomic_int counter = 0;
	const int n = 2000;
	int i;

	assert_non_null(pool);
	assert_int_equal(vfs_pool_num_threads(pool), 0); /* lazy */
	for (i = 0; i < n; i++) {
		struct counter_job *j = talloc_zero(mem, struct counter_job);
		struct tevent_req *req;

		j->counter = &counter;
		req = vfs_job_send(j, ev, pool, NULL, counter_fn, j);
		assert_non_null(req);
		tevent_req_set_callback(req, many_done, &s);
	}
	assert_true(vfs_pool_num_threads(pool) <= 4);
	while (s.done < n) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	assert_int_equal(s.failed, 0);
	assert_int_equal(atomic_load(&counter), n);
	talloc_free(mem);
}

static void test_idle_threads_exit(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct vfs_pool *pool = vfs_pool_create(mem, ev, 2);
	struct counter_job *j = talloc_zero(mem, struct counter_job);
	atomic_int counter = 0;
	struct tevent_req *req;
	int i;

	vfs_pool_set_idle_ms(pool, 50);
	j->counter = &counter;
	req = vfs_job_send(mem, ev, pool, NULL, counter_fn, j);
	assert_true(tevent_req_poll(req, ev));
	assert_int_equal(vfs_job_recv(req), 0);
	assert_int_equal(j->value, 42);
	for (i = 0; i < 100 && vfs_pool_num_threads(pool) > 0; i++) {
		usleep(20 * 1000);
	}
	assert_int_equal(vfs_pool_num_threads(pool), 0);
	/* and the pool still works afterwards */
	req = vfs_job_send(mem, ev, pool, NULL, counter_fn, j);
	assert_true(tevent_req_poll(req, ev));
	assert_int_equal(vfs_job_recv(req), 0);
	assert_int_equal(atomic_load(&counter), 2);
	talloc_free(mem);
}

struct gated_job {
	struct gate *gate;
	atomic_int *ran;
	int *written; /* where the job stores, to catch use-after-free */
	int payload[16];
};

static void gated_fn(void *private_data)
{
	struct gated_job *j = private_data;
	char c;

	/* cmocka's asserts are not for other threads: abort instead */
	if (j->gate != NULL) {
		if (write(j->gate->started[1], "s", 1) != 1 ||
		    read(j->gate->release[0], &c, 1) != 1) {
			abort();
		}
	}
	/* Touch private_data after the request may have been freed. */
	for (int i = 0; i < 16; i++) {
		j->payload[i] = i;
	}
	atomic_fetch_add(j->ran, 1);
}

static bool destroyed_flag;
static int gated_job_destructor(struct gated_job *j)
{
	destroyed_flag = true;
	return 0;
}

static void test_cancel_queued(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct vfs_pool *pool = vfs_pool_create(mem, ev, 1);
	struct gate g;
	atomic_int ran1 = 0, ran2 = 0;
	struct gated_job *j1, *j2;
	struct tevent_req *r1, *r2;

	gate_init(&g);
	j1 = talloc_zero(mem, struct gated_job);
	j1->gate = &g;
	j1->ran = &ran1;
	r1 = vfs_job_send(mem, ev, pool, NULL, gated_fn, j1);
	gate_wait_started(&g); /* the only worker is busy */

	j2 = talloc_zero(mem, struct gated_job);
	j2->ran = &ran2;
	r2 = vfs_job_send(mem, ev, pool, NULL, gated_fn, j2);
	assert_int_equal(vfs_pool_num_queued(pool), 1);
	talloc_free(r2); /* cancel while queued */
	assert_int_equal(vfs_pool_num_queued(pool), 0);
	talloc_free(j2);

	gate_open(&g);
	assert_true(tevent_req_poll(r1, ev));
	assert_int_equal(vfs_job_recv(r1), 0);
	assert_int_equal(atomic_load(&ran1), 1);

	/* give a (wrong) worker every chance to run the cancelled job */
	usleep(50 * 1000);
	assert_int_equal(atomic_load(&ran2), 0);
	gate_destroy(&g);
	talloc_free(mem);
}

static void test_free_while_running(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct vfs_pool *pool = vfs_pool_create(mem, ev, 2);
	TALLOC_CTX *owner = talloc_new(mem);
	struct gate g;
	atomic_int ran = 0;
	struct gated_job *j;
	struct tevent_req *req;
	int i;

	gate_init(&g);
	destroyed_flag = false;
	/* private_data first, then the request, under one owner */
	j = talloc_zero(owner, struct gated_job);
	talloc_set_destructor(j, gated_job_destructor);
	j->gate = &g;
	j->ran = &ran;
	req = vfs_job_send(owner, ev, pool, NULL, gated_fn, j);
	assert_non_null(req);
	gate_wait_started(&g);

	/* Free request and its data while the job runs. */
	talloc_free(owner);
	assert_false(destroyed_flag); /* adopted by the pool */

	gate_open(&g);
	/* The orphan is freed once its completion reaches the loop. */
	for (i = 0; i < 200 && !destroyed_flag; i++) {
		tevent_loop_once(ev);
	}
	assert_true(destroyed_flag);
	assert_int_equal(atomic_load(&ran), 1);
	gate_destroy(&g);
	talloc_free(mem);
}

/* private_data owns the request: must wait, not adopt. */
static void test_free_owner_while_running(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct vfs_pool *pool = vfs_pool_create(mem, ev, 1);
	struct gate g;
	atomic_int ran = 0;
	struct gated_job *j;
	struct tevent_req *req;

	gate_init(&g);
	j = talloc_zero(mem, struct gated_job);
	j->gate = &g;
	j->ran = &ran;
	req = vfs_job_send(j, ev, pool, NULL, gated_fn, j);
	assert_non_null(req);
	gate_wait_started(&g);
	gate_open(&g); /* the job finishes while we free */
	talloc_free(j); /* blocks until the job returned */
	assert_int_equal(atomic_load(&ran), 1);
	/* nothing left for the loop to deliver */
	tevent_loop_once(ev);
	gate_destroy(&g);
	talloc_free(mem);
}

struct slow_job {
	atomic_int *finished;
};

static void slow_fn(void *private_data)
{
	struct slow_job *j = private_data;

	usleep(100 * 1000);
	atomic_store(j->finished, 1);
}

static void test_wait_on_cancel(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct vfs_pool *pool = vfs_pool_create(mem, ev, 1);
	atomic_int finished = 0;
	struct slow_job *j = talloc_zero(mem, struct slow_job);
	struct tevent_req *req;

	j->finished = &finished;
	req = vfs_job_send_ex(mem, ev, pool, NULL, slow_fn, j, NULL,
			      VFS_JOB_WAIT_ON_CANCEL);
	while (vfs_pool_num_queued(pool) > 0) {
		usleep(1000);
	}
	talloc_free(req);
	assert_int_equal(atomic_load(&finished), 1);
	talloc_free(mem);
}

struct pool_free_state {
	int err;
	bool called;
};

static void pool_free_done(struct tevent_req *req)
{
	struct pool_free_state *s =
		tevent_req_callback_data_void(req);

	s->err = vfs_job_recv(req);
	s->called = true;
}

static void *open_gate_later(void *arg)
{
	struct gate *g = arg;

	usleep(50 * 1000);
	if (write(g->release[1], "x", 1) != 1) {
		abort();
	}
	return NULL;
}

static void test_free_pool(void **state)
{
	pthread_t opener;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct vfs_pool *pool = vfs_pool_create(mem, ev, 1);
	struct pool_free_state s1 = { 0 }, s2 = { 0 };
	atomic_int ran1 = 0, ran2 = 0;
	struct gated_job *j1, *j2;
	struct tevent_req *r1, *r2;
	struct gate g;

	gate_init(&g);
	j1 = talloc_zero(mem, struct gated_job);
	j1->gate = &g;
	j1->ran = &ran1;
	r1 = vfs_job_send(mem, ev, pool, NULL, gated_fn, j1);
	tevent_req_set_callback(r1, pool_free_done, &s1);
	gate_wait_started(&g);
	j2 = talloc_zero(mem, struct gated_job);
	j2->ran = &ran2;
	r2 = vfs_job_send(mem, ev, pool, NULL, gated_fn, j2);
	tevent_req_set_callback(r2, pool_free_done, &s2);

	/* job 1 still runs when the pool goes: opened from elsewhere */
	assert_int_equal(pthread_create(&opener, NULL, open_gate_later, &g),
			 0);
	talloc_free(pool); /* waits for job 1, cancels job 2 */
	pthread_join(opener, NULL);
	assert_int_equal(atomic_load(&ran1), 1);
	assert_false(s1.called); /* deferred to the loop */
	while (!s1.called || !s2.called) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	assert_int_equal(s1.err, 0);
	assert_int_equal(s2.err, ECANCELED);
	assert_int_equal(atomic_load(&ran2), 0);
	gate_destroy(&g);
	talloc_free(mem);
}

/* read end of a pipe: true once the write end is closed everywhere */
static bool pipe_writer_closed(int rfd, int timeout_ms)
{
	struct pollfd pfd = { .fd = rfd, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, timeout_ms) != 1) {
		return false;
	}
	return read(rfd, &c, 1) == 0;
}

static void test_close_detached(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct vfs_pool *pool = vfs_pool_create(mem, ev, 1);
	size_t blocks = talloc_total_blocks(pool);
	int p[2];
	int i;

	assert_int_equal(pipe(p), 0);
	vfs_close_detached(ev, pool, p[1]);
	assert_true(talloc_total_blocks(pool) > blocks);
	/* closed by the worker: the loop need not run for it */
	assert_true(pipe_writer_closed(p[0], 5000));
	/* the completion frees the job record */
	for (i = 0; i < 100 && talloc_total_blocks(pool) > blocks; i++) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	assert_int_equal(talloc_total_blocks(pool), blocks);
	close(p[0]);
	talloc_free(mem);
}

/* A close still queued when the pool goes is done by the pool's
 * teardown, not lost: the worker is held by a gated job meanwhile. */
static void test_close_detached_pool_freed(void **state)
{
	pthread_t opener;
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct vfs_pool *pool = vfs_pool_create(mem, ev, 1);
	struct pool_free_state s1 = { 0 };
	atomic_int ran1 = 0;
	struct gated_job *j1;
	struct tevent_req *r1;
	struct gate g;
	int p[2];

	gate_init(&g);
	assert_int_equal(pipe(p), 0);
	j1 = talloc_zero(mem, struct gated_job);
	j1->gate = &g;
	j1->ran = &ran1;
	r1 = vfs_job_send(mem, ev, pool, NULL, gated_fn, j1);
	tevent_req_set_callback(r1, pool_free_done, &s1);
	gate_wait_started(&g);
	vfs_close_detached(ev, pool, p[1]);
	assert_int_equal(vfs_pool_num_queued(pool), 1);
	assert_false(pipe_writer_closed(p[0], 0));

	assert_int_equal(pthread_create(&opener, NULL, open_gate_later, &g),
			 0);
	talloc_free(pool);
	pthread_join(opener, NULL);
	assert_true(pipe_writer_closed(p[0], 0));
	while (!s1.called) {
		assert_int_equal(tevent_loop_once(ev), 0);
	}
	close(p[0]);
	gate_destroy(&g);
	talloc_free(mem);
}

static void test_wrong_ev(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct tevent_context *ev2 = tevent_context_init(mem);
	struct vfs_pool *pool = vfs_pool_create(mem, ev, 1);
	struct counter_job *j = talloc_zero(mem, struct counter_job);
	struct tevent_req *req;

	req = vfs_job_send(mem, ev2, pool, NULL, counter_fn, j);
	assert_true(tevent_req_poll(req, ev2));
	assert_int_equal(vfs_job_recv(req), EINVAL);
	talloc_free(mem);
}

static void test_async_io(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct vfs_pool *pool = vfs_pool_create(mem, ev, 2);
	char path[] = "/tmp/vfs_async_XXXXXX";
	uint8_t wbuf[100000], rbuf[100000 + 10];
	struct tevent_req *req;
	size_t n = 0;
	NTSTATUS status;
	size_t i;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	for (i = 0; i < sizeof(wbuf); i++) {
		wbuf[i] = (uint8_t)(i * 7);
	}

	req = vfs_pwrite_send(mem, ev, pool, NULL, fd, wbuf, sizeof(wbuf), 5);
	assert_true(tevent_req_poll(req, ev));
	status = vfs_pwrite_recv(req, &n);
	assert_true(NT_STATUS_IS_OK(status));
	assert_int_equal(n, sizeof(wbuf));
	talloc_free(req);

	req = vfs_fsync_send(mem, ev, pool, NULL, fd, false);
	assert_true(tevent_req_poll(req, ev));
	assert_true(NT_STATUS_IS_OK(vfs_fsync_recv(req)));
	talloc_free(req);

	/* read past the end: short count */
	req = vfs_pread_send(mem, ev, pool, NULL, fd, rbuf, sizeof(rbuf), 5);
	assert_true(tevent_req_poll(req, ev));
	assert_true(NT_STATUS_IS_OK(vfs_pread_recv(req, &n)));
	assert_int_equal(n, sizeof(wbuf));
	assert_memory_equal(rbuf, wbuf, sizeof(wbuf));
	talloc_free(req);

	/* at the end: 0 */
	req = vfs_pread_send(mem, ev, pool, NULL, fd, rbuf, 10, 100005);
	assert_true(tevent_req_poll(req, ev));
	assert_true(NT_STATUS_IS_OK(vfs_pread_recv(req, &n)));
	assert_int_equal(n, 0);
	talloc_free(req);

	/* offset overflow refused before any syscall */
	req = vfs_pread_send(mem, ev, pool, NULL, fd, rbuf, 10, UINT64_MAX);
	assert_true(tevent_req_poll(req, ev));
	assert_true(NT_STATUS_EQUAL(vfs_pread_recv(req, &n),
				    NT_STATUS_INVALID_PARAMETER));
	talloc_free(req);
	close(fd);

	/* bad fd */
	req = vfs_pread_send(mem, ev, pool, NULL, fd, rbuf, 10, 0);
	assert_true(tevent_req_poll(req, ev));
	assert_true(NT_STATUS_EQUAL(vfs_pread_recv(req, &n),
				    NT_STATUS_INVALID_HANDLE));
	talloc_free(mem);
}

struct mkdir_call {
	const struct vfs_share *share;
	const char *name;
};

static NTSTATUS mkdir_call_fn(void *private_data)
{
	struct mkdir_call *c = private_data;

	return vfs_mkdirat(c->share, c->name, 0755);
}

static void test_call(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct tevent_context *ev = tevent_context_init(mem);
	struct vfs_pool *pool = vfs_pool_create(mem, ev, 2);
	char dir[] = "/tmp/vfs_call_XXXXXX";
	struct mkdir_call *c;
	struct tevent_req *req;
	char cmd[64];

	assert_non_null(mkdtemp(dir));
	c = talloc_zero(mem, struct mkdir_call);
	assert_true(NT_STATUS_IS_OK(vfs_share_open(
		c, dir, false, (struct vfs_share **)&c->share)));
	c->name = "d";
	req = vfs_call_send(mem, ev, pool, NULL, mkdir_call_fn, c);
	assert_true(tevent_req_poll(req, ev));
	assert_true(NT_STATUS_IS_OK(vfs_call_recv(req)));
	talloc_free(req);
	req = vfs_call_send(mem, ev, pool, NULL, mkdir_call_fn, c);
	assert_true(tevent_req_poll(req, ev));
	assert_true(NT_STATUS_EQUAL(vfs_call_recv(req),
				    NT_STATUS_OBJECT_NAME_COLLISION));
	talloc_free(req);
	c->name = "../escape";
	req = vfs_call_send(mem, ev, pool, NULL, mkdir_call_fn, c);
	assert_true(tevent_req_poll(req, ev));
	assert_true(NT_STATUS_EQUAL(vfs_call_recv(req),
				    NT_STATUS_ACCESS_DENIED));
	talloc_free(mem);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_jobs),
		cmocka_unit_test(test_idle_threads_exit),
		cmocka_unit_test(test_cancel_queued),
		cmocka_unit_test(test_free_while_running),
		cmocka_unit_test(test_free_owner_while_running),
		cmocka_unit_test(test_wait_on_cancel),
		cmocka_unit_test(test_free_pool),
		cmocka_unit_test(test_wrong_ev),
		cmocka_unit_test(test_close_detached),
		cmocka_unit_test(test_close_detached_pool_freed),
		cmocka_unit_test(test_async_io),
		cmocka_unit_test(test_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
