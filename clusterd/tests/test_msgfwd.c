/*
 * Unit tests: cross-node messaging without corosync.
 *  - the encodings (cluster_msgfwd_proto.h): round trips, every
 *    truncation, a trailing byte, hostile fields;
 *  - the process side (cluster_client.c) against a view file in a
 *    temporary directory: remote liveness follows the file (members,
 *    changes, missing file = unknown = alive), a send to another node
 *    reaches "clusterd" as MSG_CLUSTERD_FORWARD with the right record
 *    (here the view names this very process as clusterd), a send to a
 *    non-member or over the size limit fails at once, and the hooks
 *    survive messaging_reinit() in a forked child.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clusterd/cluster_client.h"
#include "clusterd/cluster_msgfwd_proto.h"
#include "lib/util/marshall.h"

static void test_fwd_encoding(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	uint8_t payload[300];
	struct clmsgfwd m = {
		.src = { .node = 1, .pid = 100, .task = 0, .unique = 7 },
		.dst = { .node = 2, .pid = 200, .task = 3, .unique = 0 },
		.msg_type = MSG_PING,
		.data = payload,
		.len = sizeof(payload),
	}, got;
	uint8_t *buf = NULL, *longer;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(payload); i++) {
		payload[i] = (uint8_t)i;
	}
	assert_true(NT_STATUS_IS_OK(clmsgfwd_push(mem, &m, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(clmsgfwd_pull(buf, len, &got)));
	assert_true(server_id_equal(&got.src, &m.src));
	assert_true(server_id_equal(&got.dst, &m.dst));
	assert_int_equal(got.msg_type, MSG_PING);
	assert_int_equal(got.len, sizeof(payload));
	assert_memory_equal(got.data, payload, sizeof(payload));
	for (size_t l = 0; l < len; l++) {
		assert_false(NT_STATUS_IS_OK(clmsgfwd_pull(buf, l, &got)));
	}
	longer = talloc_size(mem, len + 1);
	memcpy(longer, buf, len);
	longer[len] = 0;
	assert_false(NT_STATUS_IS_OK(clmsgfwd_pull(longer, len + 1, &got)));

	/* empty payload */
	m.len = 0;
	m.data = NULL;
	assert_true(NT_STATUS_IS_OK(clmsgfwd_push(mem, &m, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(clmsgfwd_pull(buf, len, &got)));
	assert_int_equal(got.len, 0);

	/* refused both ways: same node, pid 0, pid > INT32_MAX */
	m.dst.node = 1;
	assert_false(NT_STATUS_IS_OK(clmsgfwd_push(mem, &m, &buf, &len)));
	m.dst.node = 2;
	m.dst.pid = 0;
	assert_false(NT_STATUS_IS_OK(clmsgfwd_push(mem, &m, &buf, &len)));
	m.dst.pid = 0x80000000u;
	assert_false(NT_STATUS_IS_OK(clmsgfwd_push(mem, &m, &buf, &len)));
	m.dst.pid = 200;
	m.src.pid = 0;
	assert_false(NT_STATUS_IS_OK(clmsgfwd_push(mem, &m, &buf, &len)));
	m.src.pid = 100;

	/* hand-made records the pusher would refuse */
	{
		struct marshall_push *p;
		uint8_t *big = talloc_zero_size(mem,
						CLUSTER_MSG_MAX_PAYLOAD + 1);

		p = marshall_push_init(mem, REC_CLUSTERD_MSG, 1);
		marshall_push_u32(p, 1); /* src node */
		marshall_push_u32(p, 5);
		marshall_push_u32(p, 0);
		marshall_push_u64(p, 1);
		marshall_push_u32(p, 1); /* dst node: the same */
		marshall_push_u32(p, 6);
		marshall_push_u32(p, 0);
		marshall_push_u64(p, 1);
		marshall_push_u32(p, MSG_PING);
		marshall_push_blob(p, "x", 1);
		assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf,
								 &len)));
		assert_false(NT_STATUS_IS_OK(clmsgfwd_pull(buf, len, &got)));

		assert_non_null(big);
		p = marshall_push_init(mem, REC_CLUSTERD_MSG, 1);
		marshall_push_u32(p, 1);
		marshall_push_u32(p, 5);
		marshall_push_u32(p, 0);
		marshall_push_u64(p, 1);
		marshall_push_u32(p, 2);
		marshall_push_u32(p, 6);
		marshall_push_u32(p, 0);
		marshall_push_u64(p, 1);
		marshall_push_u32(p, MSG_PING);
		marshall_push_blob(p, big, CLUSTER_MSG_MAX_PAYLOAD + 1);
		assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf,
								 &len)));
		assert_false(NT_STATUS_IS_OK(clmsgfwd_pull(buf, len, &got)));
		/* a version we do not know */
		p = marshall_push_init(mem, REC_CLUSTERD_MSG, 2);
		marshall_push_u32(p, 1);
		assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf,
								 &len)));
		assert_false(NT_STATUS_IS_OK(clmsgfwd_pull(buf, len, &got)));
	}
	/* the limit itself is fine */
	m.data = talloc_zero_size(mem, CLUSTER_MSG_MAX_PAYLOAD);
	m.len = CLUSTER_MSG_MAX_PAYLOAD;
	assert_true(NT_STATUS_IS_OK(clmsgfwd_push(mem, &m, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(clmsgfwd_pull(buf, len, &got)));
	m.len++;
	assert_false(NT_STATUS_IS_OK(clmsgfwd_push(mem, &m, &buf, &len)));
	talloc_free(mem);
}

static void test_view_encoding(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct clview v = {
		.my_node = 2,
		.clusterd = { .node = 2, .pid = 77, .unique = 9 },
		.seq = 5,
		.num_members = 3,
		.members = { 1, 2, 9 },
	}, got;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_true(NT_STATUS_IS_OK(clview_push(mem, &v, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(clview_pull(buf, len, &got)));
	assert_int_equal(got.my_node, 2);
	assert_int_equal(got.clusterd.pid, 77);
	assert_int_equal(got.seq, 5);
	assert_int_equal(got.num_members, 3);
	assert_true(clview_has(&got, 1));
	assert_true(clview_has(&got, 2));
	assert_true(clview_has(&got, 9));
	assert_false(clview_has(&got, 0));
	assert_false(clview_has(&got, 3));
	assert_false(clview_has(&got, 10));
	for (size_t l = 0; l < len; l++) {
		assert_false(NT_STATUS_IS_OK(clview_pull(buf, l, &got)));
	}

	/* not sorted, duplicate, zero id, without this node, no members,
	 * clusterd of another node */
	v.members[0] = 3;
	assert_false(NT_STATUS_IS_OK(clview_push(mem, &v, &buf, &len)));
	v.members[0] = 2;
	assert_false(NT_STATUS_IS_OK(clview_push(mem, &v, &buf, &len)));
	v.members[0] = 0;
	assert_false(NT_STATUS_IS_OK(clview_push(mem, &v, &buf, &len)));
	v.members[0] = 1;
	v.members[1] = 3;
	assert_false(NT_STATUS_IS_OK(clview_push(mem, &v, &buf, &len)));
	v.members[1] = 2;
	v.num_members = 0;
	assert_false(NT_STATUS_IS_OK(clview_push(mem, &v, &buf, &len)));
	v.num_members = 3;
	v.clusterd.node = 1;
	assert_false(NT_STATUS_IS_OK(clview_push(mem, &v, &buf, &len)));
	v.clusterd.node = 2;

	/* a count beyond the limit, hand-made */
	{
		struct marshall_push *p = marshall_push_init(
			mem, REC_CLUSTERD_VIEW, 1);

		marshall_push_u32(p, 1);
		marshall_push_u32(p, 1);
		marshall_push_u32(p, 5);
		marshall_push_u32(p, 0);
		marshall_push_u64(p, 1);
		marshall_push_u64(p, 1);
		marshall_push_u32(p, CLUSTER_VIEW_MAX_MEMBERS + 1);
		for (uint32_t i = 1; i <= CLUSTER_VIEW_MAX_MEMBERS + 1; i++) {
			marshall_push_u32(p, i);
		}
		assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf,
								 &len)));
		assert_false(NT_STATUS_IS_OK(clview_pull(buf, len, &got)));
	}
	talloc_free(mem);
}

/* ---- the process side against a view file ---------------------------- */

struct client_fixture {
	TALLOC_CTX *mem;
	char dir[64];
	char *sock; /* "control socket" path: only its directory matters */
	char *view;
	struct tevent_context *ev;
	struct messaging_context *msg;
};

static void write_view(struct client_fixture *f, uint32_t my_node,
		       struct server_id clusterd, const uint32_t *members,
		       uint32_t n)
{
	static uint64_t seq;
	struct clview v = {
		.my_node = my_node,
		.clusterd = clusterd,
		.seq = ++seq,
		.num_members = n,
	};
	uint8_t *buf = NULL;
	size_t len = 0;
	char *tmp = talloc_asprintf(f->mem, "%s.tmp", f->view);
	FILE *fp;

	memcpy(v.members, members, n * sizeof(uint32_t));
	assert_true(NT_STATUS_IS_OK(clview_push(f->mem, &v, &buf, &len)));
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rename(tmp, f->view), 0);
	/* the client re-stats at most once a millisecond */
	usleep(2000);
}

static int client_setup(void **state)
{
	struct client_fixture *f = talloc_zero(NULL, struct client_fixture);

	f->mem = f;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_msgfwd.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->sock = talloc_asprintf(f, "%s/clusterd.sock", f->dir);
	f->view = talloc_asprintf(f, "%s/%s", f->dir, CLUSTER_VIEW_FILE);
	f->ev = tevent_context_init(f);
	f->msg = messaging_init(f, f->ev, f->dir, 1);
	assert_non_null(f->msg);
	*state = f;
	return 0;
}

static int client_teardown(void **state)
{
	struct client_fixture *f = *state;
	char *cmd = talloc_asprintf(f, "rm -rf '%s'", f->dir);

	TALLOC_FREE(f->msg);
	if (system(cmd) != 0) {
		/* best effort */
	}
	talloc_free(f);
	return 0;
}

static void test_client_alive(void **state)
{
	struct client_fixture *f = *state;
	struct server_id me = messaging_server_id(f->msg);
	struct server_id n2 = { .node = 2, .pid = 1234, .unique = 5 };
	struct server_id n3 = { .node = 3, .pid = 1234, .unique = 5 };
	uint32_t m13[] = { 1, 3 }, m12[] = { 1, 2 };
	uint32_t node = 0;

	/* before any attach: remote ids count as alive */
	assert_true(server_id_is_alive(f->msg, &n2));
	assert_true(NT_STATUS_EQUAL(cluster_client_node_id(f->sock, &node),
				    NT_STATUS_CONNECTION_DISCONNECTED));
	assert_true(NT_STATUS_IS_OK(cluster_messaging_attach(f->msg,
							     f->sock)));
	assert_false(NT_STATUS_IS_OK(cluster_messaging_attach(f->msg, "")));
	/* no view file: unknown, alive */
	assert_true(server_id_is_alive(f->msg, &n2));

	write_view(f, 1, me, m13, 2);
	assert_true(NT_STATUS_IS_OK(cluster_client_node_id(f->sock, &node)));
	assert_int_equal(node, 1);
	assert_false(server_id_is_alive(f->msg, &n2));
	assert_true(server_id_is_alive(f->msg, &n3));
	/* local ids are still local checks */
	assert_true(server_id_is_alive(f->msg, &me));

	write_view(f, 1, me, m12, 2); /* node 3 left, node 2 joined */
	assert_true(server_id_is_alive(f->msg, &n2));
	assert_false(server_id_is_alive(f->msg, &n3));

	/* cheap: smbd asks for every share-mode entry and lock owner */
	{
		struct timespec t0, t1;
		const int calls = 200000;
		uint64_t ns;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < calls; i++) {
			assert_true(server_id_is_alive(f->msg, &n2));
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
		     (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
		print_message("remote liveness: %llu ns per check\n",
			      (unsigned long long)(ns / calls));
		/* far below a socket round trip even on a loaded machine */
		assert_true(ns / calls < 20000);
	}

	/* a corrupt file: unknown again */
	{
		FILE *fp = fopen(f->view, "w");

		assert_non_null(fp);
		fputs("garbage", fp);
		fclose(fp);
		usleep(2000);
	}
	assert_true(server_id_is_alive(f->msg, &n3));
	unlink(f->view);
	usleep(2000);
	assert_true(server_id_is_alive(f->msg, &n3));

	/* a FIFO in its place: unknown, without waiting for a writer (the
	 * alarm kills the test if open() or read() blocks) */
	assert_int_equal(mkfifo(f->view, 0600), 0);
	usleep(2000);
	alarm(10);
	assert_true(server_id_is_alive(f->msg, &n3));
	assert_true(NT_STATUS_EQUAL(cluster_client_node_id(f->sock, &node),
				    NT_STATUS_CONNECTION_DISCONNECTED));
	alarm(0);
	unlink(f->view);
}

struct deadline {
	bool expired;
	struct tevent_timer *te;
};

static void wake_timer(struct tevent_context *ev, struct tevent_timer *te,
		       struct timeval now, void *private_data)
{
	struct deadline *d = private_data;

	d->expired = true;
	d->te = NULL; /* tevent frees a timer that fired */
}

/* Run the loop until *count exceeds before, at most 5 s. */
static void loop_until(struct tevent_context *ev, const int *count, int before)
{
	struct deadline d = { 0 };

	d.te = tevent_add_timer(ev, NULL, tevent_timeval_current_ofs(5, 0),
				wake_timer, &d);
	while (*count == before && !d.expired) {
		tevent_loop_once(ev);
	}
	TALLOC_FREE(d.te);
}

struct fwd_seen {
	int count;
	struct server_id src;
	struct clmsgfwd m;
	uint8_t data[64];
};

static void fwd_handler(struct messaging_context *msg, void *private_data,
			uint32_t msg_type, struct server_id src,
			const uint8_t *data, size_t len, int *fds,
			size_t num_fds)
{
	struct fwd_seen *seen = private_data;

	seen->count++;
	seen->src = src;
	assert_true(NT_STATUS_IS_OK(clmsgfwd_pull(data, len, &seen->m)));
	assert_true(seen->m.len <= sizeof(seen->data));
	memcpy(seen->data, seen->m.data, seen->m.len);
	seen->m.data = seen->data;
}

static void test_client_forward(void **state)
{
	struct client_fixture *f = *state;
	struct server_id me = messaging_server_id(f->msg);
	struct server_id n2 = { .node = 2, .pid = 1234, .unique = 5 };
	struct server_id n3 = { .node = 3, .pid = 99 };
	uint32_t m12[] = { 1, 2 };
	struct fwd_seen seen = { 0 };
	uint8_t *big;
	int fd = 0;
	pid_t child;
	int wstatus;

	assert_true(NT_STATUS_IS_OK(cluster_messaging_attach(f->msg,
							     f->sock)));
	/* no clusterd */
	assert_true(NT_STATUS_EQUAL(
		messaging_send(f->msg, n2, MSG_PING, (const uint8_t *)"hi", 2,
			       NULL, 0),
		NT_STATUS_CONNECTION_DISCONNECTED));

	/* "clusterd" is this process */
	write_view(f, 1, me, m12, 2);
	assert_true(NT_STATUS_IS_OK(messaging_register(
		f->msg, &seen, MSG_CLUSTERD_FORWARD, fwd_handler)));
	assert_true(NT_STATUS_IS_OK(
		messaging_send(f->msg, n2, MSG_PING, (const uint8_t *)"hello",
			       5, NULL, 0)));
	loop_until(f->ev, &seen.count, 0);
	assert_int_equal(seen.count, 1);
	assert_true(server_id_equal(&seen.src, &me));
	assert_true(server_id_equal(&seen.m.src, &me));
	assert_true(server_id_equal(&seen.m.dst, &n2));
	assert_int_equal(seen.m.msg_type, MSG_PING);
	assert_int_equal(seen.m.len, 5);
	assert_memory_equal(seen.data, "hello", 5);

	/* not a member: the process counts as dead */
	assert_true(NT_STATUS_EQUAL(
		messaging_send(f->msg, n3, MSG_PING, NULL, 0, NULL, 0),
		NT_STATUS_OBJECT_NAME_NOT_FOUND));
	/* over the limit; fds never cross nodes */
	big = talloc_zero_size(f, CLUSTER_MSG_MAX_PAYLOAD + 1);
	assert_true(NT_STATUS_EQUAL(
		messaging_send(f->msg, n2, MSG_PING, big,
			       CLUSTER_MSG_MAX_PAYLOAD + 1, NULL, 0),
		NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_EQUAL(
		messaging_send(f->msg, n2, MSG_PING, NULL, 0, &fd, 1),
		NT_STATUS_INVALID_PARAMETER));
	/* a view written by a clusterd of another node number */
	write_view(f, 2, (struct server_id){ .node = 2, .pid = me.pid }, m12,
		   2);
	assert_true(NT_STATUS_EQUAL(
		messaging_send(f->msg, n2, MSG_PING, NULL, 0, NULL, 0),
		NT_STATUS_INVALID_DEVICE_STATE));
	write_view(f, 1, me, m12, 2);
	assert_int_equal(seen.count, 1);

	/* the hooks survive messaging_reinit() after fork: the child's
	 * message still reaches "clusterd" (the parent) */
	child = fork();
	assert_true(child != -1);
	if (child == 0) {
		NTSTATUS st;

		if (!NT_STATUS_IS_OK(messaging_reinit(f->msg, f->ev))) {
			_exit(2);
		}
		st = messaging_send(f->msg, n2, MSG_PING,
				    (const uint8_t *)"child", 5, NULL, 0);
		if (!NT_STATUS_IS_OK(st)) {
			_exit(3);
		}
		if (server_id_is_alive(f->msg, &n3) ||
		    !server_id_is_alive(f->msg, &n2)) {
			_exit(4);
		}
		while (messaging_queued(f->msg) > 0) {
			tevent_loop_once(f->ev);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(child, &wstatus, 0), child);
	assert_true(WIFEXITED(wstatus));
	assert_int_equal(WEXITSTATUS(wstatus), 0);
	loop_until(f->ev, &seen.count, 1);
	assert_int_equal(seen.count, 2);
	assert_int_equal(seen.src.pid, (uint32_t)child);
	assert_int_equal(seen.m.src.pid, (uint32_t)child);
	assert_memory_equal(seen.data, "child", 5);
	messaging_deregister(f->msg, MSG_CLUSTERD_FORWARD, &seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fwd_encoding),
		cmocka_unit_test(test_view_encoding),
		cmocka_unit_test_setup_teardown(test_client_alive,
						client_setup, client_teardown),
		cmocka_unit_test_setup_teardown(test_client_forward,
						client_setup, client_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
