/*
 * messaging/ between real processes: the parent (the cmocka process) and
 * forked children that re-initialise the inherited context and run their
 * own event loop.  Every test is bounded by alarm(); a child reports
 * failures through its exit code (cmocka asserts belong to the parent).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "messaging/messaging.h"
#include "messaging/messaging_private.h"

enum {
	T_READY = MSG_TEST_BASE,
	T_QUIT,
	T_SUM,	      /* payload: the child answers T_SUM_REPLY */
	T_SUM_REPLY,  /* len u32, fnv64 u64 */
	T_BIG,	      /* child -> parent: 1 MiB */
	T_FD,	      /* child -> parent: pipe + file */
	T_SEQ,	      /* payload: index u32 + filler of byte index */
	T_SEQ_END,
	T_SEQ_REPLY,  /* indices seen, u32 each */
	T_SELF,
	T_OTHER,
};

#define BIG_LEN (1024 * 1024)
#define TEST_ALARM 60

struct tctx {
	TALLOC_CTX *mem;
	struct tevent_context *ev;
	char dir[64];
	struct messaging_context *msg;
	struct server_id self;
};

static uint64_t fnv64(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void fill_random(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static int setup(void **state)
{
	struct tctx *t = calloc(1, sizeof(*t));

	alarm(TEST_ALARM);
	debug_level = 0;
	t->mem = talloc_new(NULL);
	t->ev = tevent_context_init(t->mem);
	strcpy(t->dir, "/tmp/test_messaging.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	t->msg = messaging_init(t->mem, t->ev, t->dir, 0);
	assert_non_null(t->msg);
	t->self = messaging_server_id(t->msg);
	assert_int_equal(t->self.pid, (uint32_t)getpid());
	assert_true(t->self.unique != 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tctx *t = *state;
	char cmd[128];

	talloc_free(t->mem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	(void)!system(cmd);
	free(t);
	alarm(0);
	return 0;
}

static char *sock_path(struct tctx *t, uint32_t pid)
{
	return talloc_asprintf(t->mem, "%s/%u", t->dir, (unsigned)pid);
}

/* Register a one-shot wait now (before the message can arrive), collect
 * it later with wait_rec(). */
static struct tevent_req *expect(struct tctx *t, uint32_t type)
{
	struct tevent_req *req = messaging_read_send(t->mem, t->ev, t->msg,
						     type);

	assert_non_null(req);
	assert_true(tevent_req_set_endtime(
		req, t->ev, tevent_timeval_current_ofs(20, 0)));
	return req;
}

static struct messaging_rec *wait_rec(struct tctx *t, struct tevent_req *req)
{
	struct messaging_rec *rec = NULL;
	NTSTATUS status;

	assert_true(tevent_req_poll(req, t->ev));
	status = messaging_read_recv(req, t->mem, &rec);
	assert_string_equal(nt_errstr(status), "NT_STATUS_OK");
	talloc_free(req);
	assert_non_null(rec);
	return rec;
}

/* ------------------------------------------------------------------ */
/* The child                                                          */
/* ------------------------------------------------------------------ */

struct child_state {
	struct tctx *t;
	struct server_id parent;
	bool quit;
	int fail;
	uint32_t seen[64];
	size_t num_seen;
};

static void child_ping(struct messaging_context *msg, void *private_data,
		       uint32_t msg_type, struct server_id src,
		       const uint8_t *data, size_t len, int *fds,
		       size_t num_fds)
{
	struct child_state *cs = private_data;

	if (!NT_STATUS_IS_OK(messaging_send(msg, src, MSG_PONG, data, len,
					    NULL, 0))) {
		cs->fail = 20;
	}
}

static void child_quit(struct messaging_context *msg, void *private_data,
		       uint32_t msg_type, struct server_id src,
		       const uint8_t *data, size_t len, int *fds,
		       size_t num_fds)
{
	struct child_state *cs = private_data;

	cs->quit = true;
}

static void child_sum(struct messaging_context *msg, void *private_data,
		      uint32_t msg_type, struct server_id src,
		      const uint8_t *data, size_t len, int *fds, size_t num_fds)
{
	struct child_state *cs = private_data;
	uint8_t reply[12];

	PUSH_LE32(reply, 0, (uint32_t)len);
	PUSH_LE64(reply, 4, fnv64(data, len));
	if (!NT_STATUS_IS_OK(messaging_send(msg, src, T_SUM_REPLY, reply,
					    sizeof(reply), NULL, 0))) {
		cs->fail = 21;
	}
}

static void child_seq(struct messaging_context *msg, void *private_data,
		      uint32_t msg_type, struct server_id src,
		      const uint8_t *data, size_t len, int *fds, size_t num_fds)
{
	struct child_state *cs = private_data;
	uint32_t idx;
	size_t i;

	if (len < 4 || cs->num_seen >= 64) {
		cs->fail = 22;
		return;
	}
	idx = PULL_LE32(data, 0);
	for (i = 4; i < len; i++) {
		if (data[i] != (uint8_t)idx) {
			cs->fail = 23;
		}
	}
	cs->seen[cs->num_seen++] = idx;
}

static void child_seq_end(struct messaging_context *msg, void *private_data,
			  uint32_t msg_type, struct server_id src,
			  const uint8_t *data, size_t len, int *fds,
			  size_t num_fds)
{
	struct child_state *cs = private_data;
	uint8_t buf[64 * 4];
	size_t i;

	for (i = 0; i < cs->num_seen; i++) {
		PUSH_LE32(buf, i * 4, cs->seen[i]);
	}
	if (!NT_STATUS_IS_OK(messaging_send(msg, src, T_SEQ_REPLY, buf,
					    cs->num_seen * 4, NULL, 0))) {
		cs->fail = 24;
	}
}

typedef void (*child_scenario_fn)(struct child_state *cs);

/*
 * Fork a child that re-initialises the inherited context, announces
 * itself with T_READY and serves until T_QUIT.  With exit_early it
 * announces itself and _exits at once, leaving its socket behind as a
 * crashed process would.
 */
static pid_t spawn_child(struct tctx *t, child_scenario_fn scenario,
			 bool exit_early)
{
	struct child_state cs = { .t = t, .parent = t->self };
	pid_t pid = fork();

	assert_int_not_equal(pid, -1);
	if (pid != 0) {
		return pid;
	}
	alarm(TEST_ALARM);
	if (tevent_re_initialise(t->ev) != 0) {
		_exit(10);
	}
	if (!NT_STATUS_IS_OK(messaging_reinit(t->msg, t->ev))) {
		_exit(11);
	}
	if (messaging_server_id(t->msg).pid != (uint32_t)getpid()) {
		_exit(12);
	}
	messaging_register(t->msg, &cs, MSG_PING, child_ping);
	messaging_register(t->msg, &cs, T_QUIT, child_quit);
	messaging_register(t->msg, &cs, T_SUM, child_sum);
	messaging_register(t->msg, &cs, T_SEQ, child_seq);
	messaging_register(t->msg, &cs, T_SEQ_END, child_seq_end);
	if (!NT_STATUS_IS_OK(messaging_send(t->msg, cs.parent, T_READY, NULL,
					    0, NULL, 0))) {
		_exit(13);
	}
	if (exit_early) {
		_exit(0);
	}
	if (scenario != NULL) {
		scenario(&cs);
	}
	while (!cs.quit && cs.fail == 0) {
		if (tevent_loop_once(t->ev) != 0) {
			_exit(14);
		}
	}
	/* frees the child's own socket, not the parent's */
	talloc_free(t->mem);
	_exit(cs.fail);
}

static void tick(struct tevent_context *ev, struct tevent_timer *te,
		 struct timeval now, void *private_data)
{
}

/* One turn of the event loop, at most 50 ms long. */
static void pump(struct tctx *t)
{
	TALLOC_CTX *tmp = talloc_new(t->mem);

	tevent_add_timer(t->ev, tmp, tevent_timeval_current_ofs(0, 50000),
			 tick, NULL);
	tevent_loop_once(t->ev);
	talloc_free(tmp);
}

static void finish_child(struct tctx *t, struct server_id child, pid_t pid)
{
	int status = 0;

	assert_true(NT_STATUS_IS_OK(
		messaging_send(t->msg, child, T_QUIT, NULL, 0, NULL, 0)));
	/* keep our queue draining while the child exits */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		pump(t);
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ------------------------------------------------------------------ */
/* Tests                                                              */
/* ------------------------------------------------------------------ */

static void test_server_id_wire(void **state)
{
	struct tctx *t = *state;
	struct server_id a = { .node = 0x01020304, .pid = 0x05060708,
			       .task = 0x090a0b0c,
			       .unique = 0x1112131415161718ULL };
	struct server_id b;
	uint8_t buf[SERVER_ID_WIRE_SIZE];
	static const uint8_t expect_wire[SERVER_ID_WIRE_SIZE] = {
		0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06, 0x05, 0x0c, 0x0b,
		0x0a, 0x09, 0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,
	};

	server_id_push(buf, &a);
	assert_memory_equal(buf, expect_wire, sizeof(buf));
	server_id_pull(buf, &b);
	assert_true(server_id_equal(&a, &b));
	b.unique++;
	assert_false(server_id_equal(&a, &b));
	assert_string_equal(server_id_str(t->mem, &a), "16909060:84281096.151653132");
	b = (struct server_id){ .node = 2, .pid = 77 };
	assert_string_equal(server_id_str(t->mem, &b), "2:77");
}

static void test_ping_pong(void **state)
{
	struct tctx *t = *state;
	struct tevent_req *ready = expect(t, T_READY);
	struct tevent_req *pong;
	struct messaging_rec *rec;
	struct server_id child, other;
	struct stat st;
	pid_t pid;

	pid = spawn_child(t, NULL, false);
	rec = wait_rec(t, ready);
	child = rec->src;
	assert_int_equal(child.pid, (uint32_t)pid);
	assert_true(child.unique != 0 && child.unique != t->self.unique);

	assert_true(server_id_is_alive(t->msg, &child));
	other = child;
	other.unique ^= 1; /* same pid, another process */
	assert_false(server_id_is_alive(t->msg, &other));

	pong = expect(t, MSG_PONG);
	assert_true(NT_STATUS_IS_OK(messaging_send(
		t->msg, child, MSG_PING, (const uint8_t *)"hello", 5, NULL, 0)));
	rec = wait_rec(t, pong);
	assert_int_equal(rec->len, 5);
	assert_memory_equal(rec->data, "hello", 5);
	assert_true(server_id_equal(&rec->src, &child));

	finish_child(t, child, pid);
	/* the child removed its own socket and left ours alone */
	assert_int_equal(stat(sock_path(t, pid), &st), -1);
	assert_int_equal(stat(sock_path(t, getpid()), &st), 0);
	assert_false(server_id_is_alive(t->msg, &child));
	/* and we still receive */
	pong = expect(t, MSG_PONG);
	assert_true(NT_STATUS_IS_OK(
		messaging_send(t->msg, t->self, MSG_PONG, NULL, 0, NULL, 0)));
	rec = wait_rec(t, pong);
	assert_int_equal(rec->len, 0);
}

static void child_send_big(struct child_state *cs)
{
	uint8_t *big = malloc(BIG_LEN);
	uint8_t sum[12];

	fill_random(big, BIG_LEN, (uint32_t)getpid());
	PUSH_LE32(sum, 0, BIG_LEN);
	PUSH_LE64(sum, 4, fnv64(big, BIG_LEN));
	if (!NT_STATUS_IS_OK(messaging_send(cs->t->msg, cs->parent, T_BIG, big,
					    BIG_LEN, NULL, 0)) ||
	    !NT_STATUS_IS_OK(messaging_send(cs->t->msg, cs->parent,
					    T_SUM_REPLY, sum, sizeof(sum),
					    NULL, 0))) {
		cs->fail = 30;
	}
	free(big);
}

static void check_sum(struct messaging_rec *rec, const uint8_t *data,
		      size_t len)
{
	assert_int_equal(rec->len, 12);
	assert_int_equal(PULL_LE32(rec->data, 0), len);
	assert_true(PULL_LE64(rec->data, 4) == fnv64(data, len));
}

static void test_big_payload(void **state)
{
	struct tctx *t = *state;
	struct tevent_req *ready = expect(t, T_READY);
	struct tevent_req *big_req = expect(t, T_BIG);
	struct tevent_req *sum_req = expect(t, T_SUM_REPLY);
	struct messaging_rec *rec, *big;
	struct server_id child;
	uint8_t *payload;
	size_t sizes[] = { BIG_LEN, MESSAGING_MAX_PAYLOAD, 0,
			   MSG_FRAME_DATA_MAX, MSG_FRAME_DATA_MAX + 1 };
	size_t i;
	pid_t pid;

	pid = spawn_child(t, child_send_big, false);
	child = wait_rec(t, ready)->src;

	/* child -> parent: 1 MiB, compared with the child's checksum */
	big = wait_rec(t, big_req);
	rec = wait_rec(t, sum_req);
	assert_int_equal(big->len, BIG_LEN);
	check_sum(rec, big->data, big->len);
	/* ... and with what the child was meant to send */
	payload = malloc(MESSAGING_MAX_PAYLOAD + 1);
	fill_random(payload, BIG_LEN, (uint32_t)pid);
	assert_memory_equal(payload, big->data, BIG_LEN);

	/* parent -> child: 1 MiB, 16 MiB (the maximum) and the fragment
	 * boundaries; the child checksums what it reassembled */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill_random(payload, sizes[i], (uint32_t)i + 7);
		sum_req = expect(t, T_SUM_REPLY);
		assert_true(NT_STATUS_IS_OK(messaging_send(
			t->msg, child, T_SUM, payload, sizes[i], NULL, 0)));
		rec = wait_rec(t, sum_req);
		check_sum(rec, payload, sizes[i]);
	}
	/* one byte over the maximum is refused before anything is sent */
	assert_true(NT_STATUS_EQUAL(
		messaging_send(t->msg, child, T_SUM, payload,
			       MESSAGING_MAX_PAYLOAD + 1, NULL, 0),
		NT_STATUS_INVALID_PARAMETER));
	free(payload);
	finish_child(t, child, pid);
}

static void child_send_fds(struct child_state *cs)
{
	int p[2];
	int fds[2];
	int f;

	if (pipe(p) != 0) {
		cs->fail = 40;
		return;
	}
	f = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	if (f == -1 || write(p[1], "through the pipe", 16) != 16 ||
	    write(f, "in the file", 11) != 11) {
		cs->fail = 41;
		return;
	}
	close(p[1]); /* the parent sees EOF after the data */
	fds[0] = p[0];
	fds[1] = f;
	if (!NT_STATUS_IS_OK(messaging_send(cs->t->msg, cs->parent, T_FD,
					    (const uint8_t *)"fds", 3, fds,
					    2))) {
		cs->fail = 42;
	}
	/* ours are duplicates on the receiver's side */
	close(p[0]);
	close(f);
}

static void test_fd_passing(void **state)
{
	struct tctx *t = *state;
	struct tevent_req *ready = expect(t, T_READY);
	struct tevent_req *fd_req = expect(t, T_FD);
	struct messaging_rec *rec;
	struct server_id child;
	char buf[32];
	int too_many[MESSAGING_MAX_FDS + 1];
	int i;
	pid_t pid;

	pid = spawn_child(t, child_send_fds, false);
	child = wait_rec(t, ready)->src;
	rec = wait_rec(t, fd_req);
	assert_int_equal(rec->len, 3);
	assert_int_equal(rec->num_fds, 2);
	assert_true(fcntl(rec->fds[0], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(read(rec->fds[0], buf, sizeof(buf)), 16);
	assert_memory_equal(buf, "through the pipe", 16);
	assert_int_equal(read(rec->fds[0], buf, sizeof(buf)), 0);
	assert_int_equal(pread(rec->fds[1], buf, sizeof(buf), 0), 11);
	assert_memory_equal(buf, "in the file", 11);
	close(rec->fds[0]);
	close(rec->fds[1]);

	for (i = 0; i <= MESSAGING_MAX_FDS; i++) {
		too_many[i] = 0;
	}
	assert_true(NT_STATUS_EQUAL(
		messaging_send(t->msg, child, T_FD, NULL, 0, too_many,
			       MESSAGING_MAX_FDS + 1),
		NT_STATUS_INVALID_PARAMETER));
	finish_child(t, child, pid);
}

/* Let the parent's sends pile up before reading anything. */
static void child_sleep(struct child_state *cs)
{
	usleep(300 * 1000);
}

static void test_order(void **state)
{
	struct tctx *t = *state;
	struct tevent_req *ready = expect(t, T_READY);
	struct tevent_req *reply;
	struct messaging_rec *rec;
	struct server_id child;
	uint8_t *buf = malloc(200 * 1024);
	uint32_t i;
	pid_t pid;

	struct msg_dgm_stats st;

	pid = spawn_child(t, child_sleep, false);
	child = wait_rec(t, ready)->src;
	reply = expect(t, T_SEQ_REPLY);
	/* Sent without running our loop in between: the child's queue fills
	 * and the rest waits in our send queue; some messages are several
	 * fragments long.  Order must hold all the same. */
	for (i = 0; i < 16; i++) {
		size_t len = (i % 4 == 0) ? 200 * 1024 : 4 + i;

		memset(buf, (int)i, len);
		PUSH_LE32(buf, 0, i);
		assert_true(NT_STATUS_IS_OK(
			messaging_send(t->msg, child, T_SEQ, buf, len, NULL,
				       0)));
	}
	assert_string_equal(nt_errstr(messaging_send(t->msg, child, T_SEQ_END,
						     NULL, 0, NULL, 0)),
			    "NT_STATUS_OK");
	/* the child is asleep: most of it waits in our queue */
	messaging_get_stats(t->msg, &st);
	assert_true(st.queued_msgs > 0);
	rec = wait_rec(t, reply);
	assert_int_equal(rec->len, 16 * 4);
	for (i = 0; i < 16; i++) {
		assert_int_equal(PULL_LE32(rec->data, i * 4), i);
	}
	free(buf);
	finish_child(t, child, pid);
}

static void test_dead_pid(void **state)
{
	struct tctx *t = *state;
	struct tevent_req *ready = expect(t, T_READY);
	struct server_id child;
	struct stat st;
	char *unique_path;
	int status;
	pid_t pid;

	pid = spawn_child(t, NULL, true);
	child = wait_rec(t, ready)->src;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* it left its socket behind, as a killed process does */
	assert_int_equal(stat(sock_path(t, pid), &st), 0);
	unique_path = talloc_asprintf(t->mem, "%s.unique", sock_path(t, pid));
	assert_int_equal(stat(unique_path, &st), 0);
	assert_false(server_id_is_alive(t->msg, &child));

	assert_true(NT_STATUS_EQUAL(
		messaging_send(t->msg, child, MSG_PING, NULL, 0, NULL, 0),
		NT_STATUS_OBJECT_NAME_NOT_FOUND));
	assert_int_equal(stat(sock_path(t, pid), &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(stat(unique_path, &st), -1);
	/* and once more, now that nothing is there at all */
	assert_true(NT_STATUS_EQUAL(
		messaging_send(t->msg, child, MSG_PING, NULL, 0, NULL, 0),
		NT_STATUS_OBJECT_NAME_NOT_FOUND));
	/* our own socket is untouched */
	assert_int_equal(stat(sock_path(t, getpid()), &st), 0);
}

/* A child that never reads and then dies. */
static void child_sleep_die(struct child_state *cs)
{
	usleep(300 * 1000);
	_exit(0);
}

/* Messages queued for a process that dies are dropped quietly. */
static void test_dead_while_queued(void **state)
{
	struct tctx *t = *state;
	struct tevent_req *ready = expect(t, T_READY);
	struct msg_dgm_stats st;
	struct server_id child;
	uint8_t *buf = talloc_zero_size(t->mem, 100 * 1024);
	struct stat sst;
	int i, status;
	pid_t pid;

	pid = spawn_child(t, child_sleep_die, false);
	child = wait_rec(t, ready)->src;
	for (i = 0; i < 20; i++) {
		assert_true(NT_STATUS_IS_OK(messaging_send(
			t->msg, child, T_SEQ, buf, 100 * 1024, NULL, 0)));
	}
	messaging_get_stats(t->msg, &st);
	assert_true(st.queued_msgs > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	for (i = 0; i < 200 && st.queued_msgs > 0; i++) {
		pump(t);
		messaging_get_stats(t->msg, &st);
	}
	assert_int_equal(st.queued_msgs, 0);
	assert_int_equal(messaging_queued(t->msg), 0);
	/* the retry found it gone and removed its socket */
	assert_int_equal(stat(sock_path(t, pid), &sst), -1);
	/* and we still work */
	ready = expect(t, T_SELF);
	assert_true(NT_STATUS_IS_OK(
		messaging_send(t->msg, t->self, T_SELF, NULL, 0, NULL, 0)));
	wait_rec(t, ready);
}

/* The smbd parent's way: clean up after a reaped child at once. */
static void test_cleanup_dead(void **state)
{
	struct tctx *t = *state;
	struct tevent_req *ready = expect(t, T_READY);
	struct server_id child;
	struct stat st;
	int status;
	pid_t pid;

	pid = spawn_child(t, NULL, true);
	child = wait_rec(t, ready)->src;
	assert_int_equal(stat(sock_path(t, pid), &st), 0);
	/* still a zombie: a process with that pid exists, nothing goes */
	usleep(100 * 1000);
	messaging_cleanup(t->msg, pid);
	assert_int_equal(stat(sock_path(t, pid), &st), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	messaging_cleanup(t->msg, pid);
	assert_int_equal(stat(sock_path(t, pid), &st), -1);
	assert_int_equal(stat(talloc_asprintf(t->mem, "%s.unique",
					      sock_path(t, pid)),
			      &st),
			 -1);
	assert_false(server_id_is_alive(t->msg, &child));
	/* never our own */
	messaging_cleanup(t->msg, getpid());
	assert_int_equal(stat(sock_path(t, getpid()), &st), 0);
}

static void test_read_timeout(void **state)
{
	struct tctx *t = *state;
	struct tevent_req *req, *req2;
	struct messaging_rec *rec = NULL;
	struct timeval start, end;
	long ms;
	NTSTATUS status;

	req = messaging_read_send(t->mem, t->ev, t->msg, T_SELF);
	assert_non_null(req);
	assert_true(tevent_req_set_endtime(
		req, t->ev, tevent_timeval_current_ofs(0, 200 * 1000)));
	gettimeofday(&start, NULL);
	assert_true(tevent_req_poll(req, t->ev));
	gettimeofday(&end, NULL);
	status = messaging_read_recv(req, t->mem, &rec);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_IO_TIMEOUT));
	assert_null(rec);
	talloc_free(req);
	ms = (end.tv_sec - start.tv_sec) * 1000 +
	     (end.tv_usec - start.tv_usec) / 1000;
	assert_true(ms >= 190 && ms < 5000);

	/* a freed request is deregistered: the message goes to the next */
	req = messaging_read_send(t->mem, t->ev, t->msg, T_SELF);
	talloc_free(req);
	req2 = expect(t, T_SELF);
	assert_true(NT_STATUS_IS_OK(messaging_send(
		t->msg, t->self, T_SELF, (const uint8_t *)"x", 1, NULL, 0)));
	rec = wait_rec(t, req2);
	assert_int_equal(rec->len, 1);
	assert_true(server_id_equal(&rec->src, &t->self));
}

/* --- handlers that change the registry while they run --- */

struct hstate {
	struct messaging_context *msg;
	int calls_a, calls_b, calls_late;
	size_t fds_a, fds_b;
	void *free_me;
};

static void h_late(struct messaging_context *msg, void *private_data,
		   uint32_t msg_type, struct server_id src, const uint8_t *data,
		   size_t len, int *fds, size_t num_fds)
{
	int *calls_late = private_data;

	(*calls_late)++;
}

static void h_a(struct messaging_context *msg, void *private_data,
		uint32_t msg_type, struct server_id src, const uint8_t *data,
		size_t len, int *fds, size_t num_fds)
{
	struct hstate *hs = private_data;
	size_t i;

	hs->calls_a++;
	hs->fds_a += num_fds;
	for (i = 0; i < num_fds; i++) {
		close(fds[i]);
	}
	/* leave, and bring in a handler that must not see this message */
	messaging_deregister(msg, msg_type, hs);
	messaging_register(msg, &hs->calls_late, msg_type, h_late);
}

static void h_b(struct messaging_context *msg, void *private_data,
		uint32_t msg_type, struct server_id src, const uint8_t *data,
		size_t len, int *fds, size_t num_fds)
{
	struct hstate *hs = (struct hstate *)((char *)private_data -
					      offsetof(struct hstate, calls_b));

	hs->calls_b++;
	hs->fds_b += num_fds;
}

static void test_handler_registry(void **state)
{
	struct tctx *t = *state;
	struct hstate hs = { .msg = t->msg };
	struct tevent_req *req;
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_true(NT_STATUS_IS_OK(messaging_register(t->msg, &hs, T_SELF,
						       h_a)));
	assert_true(NT_STATUS_IS_OK(
		messaging_register(t->msg, &hs.calls_b, T_SELF, h_b)));

	req = expect(t, T_OTHER);
	assert_true(NT_STATUS_IS_OK(
		messaging_send(t->msg, t->self, T_SELF, NULL, 0, &p[1], 1)));
	assert_true(NT_STATUS_IS_OK(
		messaging_send(t->msg, t->self, T_SELF, NULL, 0, NULL, 0)));
	assert_true(NT_STATUS_IS_OK(
		messaging_send(t->msg, t->self, T_OTHER, NULL, 0, NULL, 0)));
	close(p[1]);
	wait_rec(t, req);

	assert_int_equal(hs.calls_a, 1);   /* deregistered itself */
	assert_int_equal(hs.calls_b, 2);
	assert_int_equal(hs.calls_late, 1); /* only the second message */
	assert_int_equal(hs.fds_a, 1);	   /* the first handler got the fd */
	assert_int_equal(hs.fds_b, 0);
	/* h_a closed the only other copy: EOF, nothing leaked */
	{
		char c;

		assert_int_equal(read(p[0], &c, 1), 0);
	}
	close(p[0]);
	messaging_deregister(t->msg, T_SELF, &hs.calls_b);
	messaging_deregister(t->msg, T_SELF, &hs.calls_late);
}

static void h_free_owner(struct messaging_context *msg, void *private_data,
			 uint32_t msg_type, struct server_id src,
			 const uint8_t *data, size_t len, int *fds,
			 size_t num_fds)
{
	struct hstate *hs = private_data;

	hs->calls_a++;
	TALLOC_FREE(hs->free_me); /* takes msg with it */
}

static void test_free_in_handler(void **state)
{
	struct tctx *t = *state;
	struct hstate hs = { 0 };
	char *dir2 = talloc_asprintf(t->mem, "%s/second", t->dir);
	struct messaging_context *msg2;
	struct tevent_req *pending;
	struct stat st;
	int i;

	/* a second context of this process lives in its own directory */
	hs.free_me = talloc_new(NULL);
	msg2 = messaging_init(hs.free_me, t->ev, dir2, 0);
	assert_non_null(msg2);
	assert_true(NT_STATUS_IS_OK(
		messaging_register(msg2, &hs, T_SELF, h_free_owner)));
	assert_true(NT_STATUS_IS_OK(
		messaging_register(msg2, &hs.calls_b, T_SELF, h_b)));
	/* a waiting request that outlives the context stays pending */
	pending = messaging_read_send(t->mem, t->ev, msg2, T_OTHER);
	assert_true(NT_STATUS_IS_OK(messaging_send(
		msg2, messaging_server_id(msg2), T_SELF, NULL, 0, NULL, 0)));
	assert_true(NT_STATUS_IS_OK(messaging_send(
		msg2, messaging_server_id(msg2), T_SELF, NULL, 0, NULL, 0)));
	for (i = 0; i < 50 && hs.free_me != NULL; i++) {
		tevent_loop_once(t->ev);
	}
	assert_null(hs.free_me);
	assert_int_equal(hs.calls_a, 1);
	assert_int_equal(hs.calls_b, 0);
	assert_true(tevent_req_is_in_progress(pending));
	talloc_free(pending);
	assert_int_equal(stat(talloc_asprintf(t->mem, "%s/%u", dir2,
					      (unsigned)getpid()),
			      &st),
			 -1);
}

static NTSTATUS fake_forward(void *private_data, struct server_id dst,
			     struct server_id src, uint32_t msg_type,
			     const uint8_t *data, size_t len)
{
	int *calls = private_data;

	(*calls)++;
	if (dst.node != 3 || msg_type != T_SELF || len != 2 ||
	    memcmp(data, "hi", 2) != 0) {
		return NT_STATUS_INTERNAL_ERROR;
	}
	return NT_STATUS_OK;
}

static bool fake_alive(void *private_data, const struct server_id *id)
{
	return id->pid == 42;
}

static void test_remote(void **state)
{
	struct tctx *t = *state;
	struct server_id remote = { .node = 3, .pid = 42, .unique = 9 };
	struct server_id remote2 = { .node = 3, .pid = 43 };
	int calls = 0;
	int fd = 0;

	assert_true(NT_STATUS_EQUAL(
		messaging_send(t->msg, remote, T_SELF, (const uint8_t *)"hi",
			       2, NULL, 0),
		NT_STATUS_NOT_SUPPORTED));
	assert_true(server_id_is_alive(t->msg, &remote2));
	messaging_set_remote_forwarder(t->msg, fake_forward, &calls);
	assert_true(NT_STATUS_IS_OK(
		messaging_send(t->msg, remote, T_SELF, (const uint8_t *)"hi",
			       2, NULL, 0)));
	assert_int_equal(calls, 1);
	/* fds never cross nodes */
	assert_true(NT_STATUS_EQUAL(
		messaging_send(t->msg, remote, T_SELF, (const uint8_t *)"hi",
			       2, &fd, 1),
		NT_STATUS_INVALID_PARAMETER));
	assert_int_equal(calls, 1);
	messaging_set_remote_alive_fn(t->msg, fake_alive, NULL);
	assert_true(server_id_is_alive(t->msg, &remote));
	assert_false(server_id_is_alive(t->msg, &remote2));
	/* send_as only delivers locally */
	assert_true(NT_STATUS_EQUAL(
		messaging_send_as(t->msg, remote, remote2, T_SELF, NULL, 0),
		NT_STATUS_INVALID_PARAMETER));
}

static void test_send_as(void **state)
{
	struct tctx *t = *state;
	struct server_id remote = { .node = 5, .pid = 1234, .unique = 77 };
	struct tevent_req *req = expect(t, T_SELF);
	struct messaging_rec *rec;

	assert_true(NT_STATUS_IS_OK(messaging_send_as(
		t->msg, remote, t->self, T_SELF, (const uint8_t *)"abc", 3)));
	rec = wait_rec(t, req);
	assert_true(server_id_equal(&rec->src, &remote));
	assert_memory_equal(rec->data, "abc", 3);
}

/* --- hostile datagrams --- */

static int raw_send(struct tctx *t, const void *buf, size_t len, int fd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_name = &sun, .msg_namelen = sizeof(sun),
			     .msg_iov = &iov, .msg_iovlen = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	ssize_t n;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%u", t->dir,
		 (unsigned)getpid());
	if (fd != -1) {
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	n = sendmsg(s, &mh, 0);
	close(s);
	/* let the receiver (us) take it: its queue is only ~10 deep */
	pump(t);
	return n == (ssize_t)len ? 0 : -1;
}

static size_t make_frame(struct tctx *t, uint8_t *buf, uint32_t total,
			 uint32_t frag, uint64_t id, uint32_t nfds)
{
	struct msg_frame_hdr h = {
		.msg_type = T_SELF,
		.src = { .pid = 4242, .unique = 5 },
		.dst = t->self,
		.msg_id = id,
		.frag_num = frag,
		.frag_count = msg_frame_count(total),
		.total_len = total,
		.num_fds = nfds,
	};

	h.frag_len = frag + 1 < h.frag_count
			     ? MSG_FRAME_DATA_MAX
			     : total - frag * MSG_FRAME_DATA_MAX;
	push_frame_header(buf, &h);
	memset(buf + MSG_FRAME_HDR_SIZE, 'z', h.frag_len);
	return MSG_FRAME_HDR_SIZE + h.frag_len;
}

static void test_malformed(void **state)
{
	struct tctx *t = *state;
	uint8_t *buf = talloc_size(t->mem, MESSAGING_FRAGMENT_SIZE + 64);
	struct msg_dgm_stats st0, st;
	struct tevent_req *req;
	struct messaging_rec *rec;
	struct msg_frame_hdr h;
	size_t len, sent = 0;
	int p[2];
	char c;

	messaging_get_stats(t->msg, &st0);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);

	/* garbage of several lengths */
	assert_int_equal(raw_send(t, "abc", 3, -1), 0), sent++;
	memset(buf, 0, 200);
	assert_int_equal(raw_send(t, buf, MSG_FRAME_HDR_SIZE, -1), 0), sent++;
	fill_random(buf, 1000, 99);
	assert_int_equal(raw_send(t, buf, 1000, -1), 0), sent++;
	/* a good frame spoilt field by field */
	len = make_frame(t, buf, 10, 0, 1, 0);
	assert_true(NT_STATUS_IS_OK(parse_frame_header(buf, len, &h)));
	buf[0] ^= 1; /* magic */
	assert_int_equal(raw_send(t, buf, len, -1), 0), sent++;
	len = make_frame(t, buf, 10, 0, 1, 0);
	PUSH_LE16(buf, 4, 2); /* version */
	assert_int_equal(raw_send(t, buf, len, -1), 0), sent++;
	len = make_frame(t, buf, 10, 0, 1, 0);
	assert_int_equal(raw_send(t, buf, len - 1, -1), 0), sent++; /* short */
	assert_int_equal(raw_send(t, buf, len + 1, -1), 0), sent++; /* long */
	len = make_frame(t, buf, 10, 0, 1, 0);
	PUSH_LE32(buf, 68, MESSAGING_MAX_PAYLOAD + 1); /* total */
	assert_int_equal(raw_send(t, buf, len, -1), 0), sent++;
	len = make_frame(t, buf, 10, 0, 1, 0);
	PUSH_LE32(buf, 64, 2); /* count */
	assert_int_equal(raw_send(t, buf, len, -1), 0), sent++;
	len = make_frame(t, buf, 10, 0, 1, 0);
	PUSH_LE16(buf, 78, 1); /* reserved */
	assert_int_equal(raw_send(t, buf, len, -1), 0), sent++;
	len = make_frame(t, buf, 10, 0, 1, 0);
	PUSH_LE64(buf, 32 + 12, t->self.unique + 1); /* another process */
	assert_int_equal(raw_send(t, buf, len, -1), 0), sent++;
	/* an fd the header does not declare, and one on fragment 1: both
	 * rejected, the fd closed by the receiver */
	len = make_frame(t, buf, 10, 0, 1, 0);
	assert_int_equal(raw_send(t, buf, len, p[1]), 0), sent++;
	len = make_frame(t, buf, 2 * MSG_FRAME_DATA_MAX, 1, 2, 0);
	PUSH_LE16(buf, 76, 1);
	assert_int_equal(raw_send(t, buf, len, p[1]), 0), sent++;
	close(p[1]);

	/* fragments out of order: 0 then 2 drops the message */
	len = make_frame(t, buf, 3 * MSG_FRAME_DATA_MAX, 0, 3, 0);
	assert_int_equal(raw_send(t, buf, len, -1), 0);
	len = make_frame(t, buf, 3 * MSG_FRAME_DATA_MAX, 2, 3, 0);
	assert_int_equal(raw_send(t, buf, len, -1), 0), sent++;
	/* a fragment of a message whose start never came */
	len = make_frame(t, buf, 2 * MSG_FRAME_DATA_MAX, 1, 4, 0);
	assert_int_equal(raw_send(t, buf, len, -1), 0);

	/* ... and then a well-formed two-fragment message arrives whole */
	req = expect(t, T_SELF);
	len = make_frame(t, buf, MSG_FRAME_DATA_MAX + 5, 0, 5, 0);
	assert_int_equal(raw_send(t, buf, len, -1), 0);
	len = make_frame(t, buf, MSG_FRAME_DATA_MAX + 5, 1, 5, 0);
	assert_int_equal(raw_send(t, buf, len, -1), 0);
	rec = wait_rec(t, req);
	assert_int_equal(rec->len, MSG_FRAME_DATA_MAX + 5);
	assert_int_equal(rec->src.pid, 4242);
	assert_int_equal(rec->data[0], 'z');

	messaging_get_stats(t->msg, &st);
	assert_int_equal(st.frames_rejected - st0.frames_rejected, sent);
	assert_int_equal(st.msgs_dropped - st0.msgs_dropped, 2);
	assert_int_equal(st.reasm_pending, 0);
	/* both fds that came with bad frames were closed: EOF */
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
}

/* A sender that stops half-way: its partial message stays bounded and
 * is dropped after the reassembly timeout. */
static void test_reassembly_timeout(void **state)
{
	struct tctx *t = *state;
	uint8_t *buf = talloc_size(t->mem, MESSAGING_FRAGMENT_SIZE);
	struct msg_dgm_stats st;
	size_t len;

	len = make_frame(t, buf, 3 * MSG_FRAME_DATA_MAX, 0, 9, 0);
	assert_int_equal(raw_send(t, buf, len, -1), 0); /* and received */
	messaging_get_stats(t->msg, &st);
	assert_int_equal(st.reasm_pending, 1);
	/* the only event left is the timeout */
	assert_int_equal(tevent_loop_once(t->ev), 0);
	messaging_get_stats(t->msg, &st);
	assert_int_equal(st.reasm_pending, 0);
	assert_int_equal(st.msgs_dropped, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_server_id_wire, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ping_pong, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_big_payload, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fd_passing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_pid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dead_while_queued, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_dead, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handler_registry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_free_in_handler, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_remote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_as, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reassembly_timeout, setup,
						teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
