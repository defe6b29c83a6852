/*
 * Unit tests: cluster.conf, the CPG messages, and the cluster state
 * machine.  Several cluster_state instances stand for several nodes and
 * are fed one delivery stream, as CPG does: they must agree on the
 * generation, the leader and the assignment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clusterd/cluster_conf.h"
#include "clusterd/cluster_msg.h"
#include "clusterd/cluster_state.h"
#include "clusterd/ip_alloc.h"
#include "lib/util/marshall.h"

/* ---- cluster.conf ---- */

static void test_conf_ok(void **state)
{
	struct cluster_conf *c = NULL;
	char *err = NULL;
	const char *text = "[clusterd]\n"
			   "# comment\n"
			   "  Run   Dir = /tmp/n1/run \n"
			   "public addresses=/tmp/pa\n"
			   "monitor interval = 2\n"
			   "log level = 3\n";
	assert_true(NT_STATUS_IS_OK(cluster_conf_parse(NULL, text, "c", &c, &err)));
	assert_string_equal(c->run_dir, "/tmp/n1/run");
	assert_string_equal(c->socket_path, "/tmp/n1/run/clusterd.sock");
	assert_string_equal(c->public_addresses, "/tmp/pa");
	assert_int_equal(c->monitor_interval, 2);
	assert_int_equal(c->event_timeout, 30);
	assert_int_equal(c->log_level, 3);
	assert_string_equal(c->cpg_group, "smb3cluster");
	assert_int_equal(c->vacuum_interval, 10); /* the default */
	talloc_free(c);
	/* 0: never vacuum */
	assert_true(NT_STATUS_IS_OK(cluster_conf_parse(
		NULL, "vacuum interval = 0\n", "c", &c, &err)));
	assert_int_equal(c->vacuum_interval, 0);
	talloc_free(c);
}

static void conf_error(const char *text, const char *want)
{
	struct cluster_conf *c = NULL;
	char *err = NULL;
	assert_true(NT_STATUS_EQUAL(cluster_conf_parse(NULL, text, "c", &c, &err),
				    NT_STATUS_INVALID_PARAMETER));
	assert_null(c);
	if (err == NULL || strstr(err, want) == NULL) {
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	}
	talloc_free(err);
}

static void test_conf_errors(void **state)
{
	conf_error("run dri = /x\n", "c:1: unknown key \"run dri\"");
	conf_error("\nmonitor interval = 0\n", "c:2: monitor interval");
	conf_error("monitor interval = 5s\n", "not a number");
	conf_error("vacuum interval = 3601\n", "vacuum interval");
	conf_error("smbd port = 70000\n", "not a number");
	conf_error("smbd port = -1\n", "not a number");
	conf_error("just words\n", "expected \"key = value\"");
	conf_error("[global]\n", "unknown section");
}

/* ---- messages ---- */

static void test_hello_roundtrip_and_truncation(void **state)
{
	struct clmsg_member m[2] = { { 1, 100 }, { 2, 200 } };
	char *claims[2] = { "10.0.0.1", "fd00::1" };
	struct clmsg_hello h = {
		.nodeid = 2, .generation = 7, .healthy = true,
		.ips_checksum = 0xdeadbeef, .num_members = 2, .members = m,
		.num_claims = 2, .claims = claims,
	};
	struct clmsg_hello *out = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_true(NT_STATUS_IS_OK(clmsg_hello_push(NULL, &h, &buf, &len)));
	assert_int_equal(clmsg_type(buf, len), REC_CLUSTERD_HELLO);
	assert_true(NT_STATUS_IS_OK(clmsg_hello_pull(NULL, buf, len, &out)));
	assert_int_equal(out->nodeid, 2);
	assert_int_equal(out->generation, 7);
	assert_true(out->healthy);
	assert_false(out->stopped);
	assert_int_equal(out->num_members, 2);
	assert_int_equal(out->members[1].pid, 200);
	assert_string_equal(out->claims[1], "fd00::1");
	talloc_free(out);

	/* every truncation and one extra byte are refused */
	for (size_t l = 0; l < len; l++) {
		assert_false(NT_STATUS_IS_OK(clmsg_hello_pull(NULL, buf, l, &out)));
		assert_null(out);
	}
	buf = talloc_realloc(NULL, buf, uint8_t, len + 1);
	buf[len] = 0;
	assert_false(NT_STATUS_IS_OK(clmsg_hello_pull(NULL, buf, len + 1, &out)));

	/* unsorted members are refused */
	m[0].nodeid = 3;
	talloc_free(buf);
	assert_true(NT_STATUS_IS_OK(clmsg_hello_push(NULL, &h, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(clmsg_hello_pull(NULL, buf, len, &out)));
	talloc_free(buf);
}

static void test_hello_hostile_counts(void **state)
{
	struct marshall_push *p = marshall_push_init(NULL, REC_CLUSTERD_HELLO, 1);
	struct clmsg_hello *out = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	marshall_push_u32(p, 1);
	marshall_push_u64(p, 1);
	marshall_push_bool(p, true);
	marshall_push_bool(p, false);
	marshall_push_u32(p, 0);
	marshall_push_u32(p, 0xffffffff); /* members */
	assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(clmsg_hello_pull(NULL, buf, len, &out)));
	talloc_free(buf);
}

static void test_state_roundtrip(void **state)
{
	struct clmsg_state s = { .nodeid = 3, .healthy = false, .stopped = true };
	struct clmsg_state o;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_true(NT_STATUS_IS_OK(clmsg_state_push(NULL, &s, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(clmsg_state_pull(buf, len, &o)));
	assert_int_equal(o.nodeid, 3);
	assert_true(o.stopped);
	assert_false(o.healthy);
	for (size_t l = 0; l < len; l++) {
		assert_false(NT_STATUS_IS_OK(clmsg_state_pull(buf, l, &o)));
	}
	buf[len - 1] = 2; /* a bool that is neither 0 nor 1 */
	assert_false(NT_STATUS_IS_OK(clmsg_state_pull(buf, len, &o)));
	talloc_free(buf);
}

/* ---- the state machine, several nodes, one stream ---- */

#define MAXN 4

struct sim {
	struct public_ip_list *ips;
	struct cluster_state *st[MAXN + 1]; /* by node id, 1..MAXN */
	bool up[MAXN + 1];
	bool healthy[MAXN + 1];
	uint32_t pid[MAXN + 1];
};

static void sim_init(struct sim *s)
{
	char *err = NULL;
	memset(s, 0, sizeof(*s));
	assert_true(NT_STATUS_IS_OK(public_ips_parse(NULL,
		"10.1.0.1/24 eth0\n10.1.0.2/24 eth0\n10.1.0.3/24 eth0\n"
		"10.1.0.4/24 eth0\n10.1.0.5/24 eth0\n10.1.0.6/24 eth0\n",
		"pa", &s->ips, &err)));
}

/* Deliver one message from node `from` to every member, in one order. */
static void sim_deliver(struct sim *s, uint32_t from, uint8_t *buf, size_t len)
{
	for (uint32_t n = 1; n <= MAXN; n++) {
		bool changed = false;
		if (s->up[n]) {
			cluster_state_deliver(s->st[n], from, s->pid[from], buf,
					      len, &changed);
		}
	}
}

/* Every member that owes a RELEASED sends it (in the sim a node holds
 * exactly what cluster_state_should_hold() says, so what it owes is
 * gone); returns how many were sent. */
static size_t sim_settle(struct sim *s)
{
	size_t sent = 0;

	for (int round = 0; round < 10; round++) {
		size_t now = 0;
		for (uint32_t n = 1; n <= MAXN; n++) {
			for (size_t i = 0; s->up[n] && i < s->ips->num; i++) {
				uint64_t seq;
				uint8_t *buf = NULL;
				size_t len = 0;
				if (!cluster_state_owes_release(s->st[n], i,
								&seq)) {
					continue;
				}
				assert_false(cluster_state_should_hold(s->st[n], i));
				assert_true(NT_STATUS_IS_OK(
					cluster_state_make_released(
						s->st[n], NULL, i, seq, &buf,
						&len)));
				sim_deliver(s, n, buf, len);
				talloc_free(buf);
				now++;
			}
		}
		if (now == 0) {
			break;
		}
		sent += now;
	}
	return sent;
}

/* A configuration change; every member then sends its HELLO. */
static void sim_confchg(struct sim *s)
{
	struct clmsg_member m[MAXN];
	size_t k = 0;

	for (uint32_t n = 1; n <= MAXN; n++) {
		if (s->up[n]) {
			m[k].nodeid = n;
			m[k].pid = s->pid[n];
			k++;
		}
	}
	/* what each node holds when the change arrives */
	bool held[MAXN + 1][8] = { { false } };
	assert_true(s->ips->num <= 8);
	for (uint32_t n = 1; n <= MAXN; n++) {
		for (size_t i = 0; s->up[n] && i < s->ips->num; i++) {
			held[n][i] = cluster_state_should_hold(s->st[n], i);
		}
	}
	for (uint32_t n = 1; n <= MAXN; n++) {
		if (s->up[n]) {
			assert_true(NT_STATUS_IS_OK(
				cluster_state_confchg(s->st[n], m, k)));
		}
	}
	for (uint32_t n = 1; n <= MAXN; n++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		if (!s->up[n]) {
			continue;
		}
		assert_true(NT_STATUS_IS_OK(cluster_state_make_hello(
			s->st[n], NULL, s->healthy[n], false, held[n], &buf,
			&len)));
		sim_deliver(s, n, buf, len);
		talloc_free(buf);
	}
	sim_settle(s);
}

static void sim_start(struct sim *s, uint32_t n)
{
	s->st[n] = cluster_state_new(NULL, n, s->ips);
	assert_non_null(s->st[n]);
	cluster_state_set_quorate(s->st[n], true);
	s->up[n] = true;
	s->healthy[n] = true;
	s->pid[n] += 1000;
	sim_confchg(s);
}

static void sim_kill(struct sim *s, uint32_t n)
{
	s->up[n] = false;
	TALLOC_FREE(s->st[n]);
	sim_confchg(s);
}

/* All up nodes agree; every IP is held by exactly one node (if any
 * candidate), and counts are balanced. */
static void sim_check(struct sim *s, uint64_t want_gen, uint32_t want_leader)
{
	struct cluster_state *ref = NULL;
	size_t held[MAXN + 1] = { 0 };
	size_t ncand = 0;

	for (uint32_t n = 1; n <= MAXN; n++) {
		if (!s->up[n]) {
			continue;
		}
		ncand += s->healthy[n];
		assert_true(s->st[n]->committed);
		assert_false(s->st[n]->round_open);
		if (ref == NULL) {
			ref = s->st[n];
		}
		assert_int_equal(s->st[n]->generation, want_gen);
		assert_int_equal(cluster_state_leader(s->st[n]), want_leader);
		assert_memory_equal(s->st[n]->owner, ref->owner,
				    s->ips->num * sizeof(uint32_t));
	}
	for (size_t i = 0; i < s->ips->num; i++) {
		size_t holders = 0;
		for (uint32_t n = 1; n <= MAXN; n++) {
			if (s->up[n] && cluster_state_should_hold(s->st[n], i)) {
				holders++;
				held[n]++;
			}
		}
		assert_int_equal(holders, ncand > 0 ? 1 : 0);
	}
	for (uint32_t n = 1; n <= MAXN; n++) {
		if (s->up[n] && s->healthy[n]) {
			assert_int_equal(held[n], s->ips->num / ncand);
		}
	}
}

static void sim_free(struct sim *s)
{
	for (uint32_t n = 1; n <= MAXN; n++) {
		TALLOC_FREE(s->st[n]);
	}
	TALLOC_FREE(s->ips);
}

static void test_state_join_leave(void **state)
{
	struct sim s;
	uint32_t before[6];

	sim_init(&s);
	sim_start(&s, 2);
	sim_check(&s, 1, 2);
	sim_start(&s, 1);
	sim_check(&s, 2, 1);
	sim_start(&s, 3);
	sim_check(&s, 3, 1);
	assert_string_equal(cluster_node_state_name(cluster_state_node_state(
		s.st[1], cluster_state_find(s.st[1], 3))), "ok");

	/* the leader dies: only its IPs move */
	memcpy(before, s.st[2]->owner, sizeof(before));
	sim_kill(&s, 1);
	sim_check(&s, 4, 2);
	for (int i = 0; i < 6; i++) {
		if (before[i] != 1) {
			assert_int_equal(s.st[2]->owner[i], before[i]);
		}
	}
	assert_int_equal(cluster_state_node_state(s.st[2],
		cluster_state_find(s.st[2], 1)), CLUSTER_NODE_DISCONNECTED);

	/* it comes back with generation 0 and learns 5 from the others;
	 * the survivors' claims keep their IPs where balance allows */
	sim_start(&s, 1);
	sim_check(&s, 5, 1);
	sim_free(&s);
}

static void test_state_unhealthy_moves_ips(void **state)
{
	struct sim s;
	struct clmsg_state m = { .nodeid = 2, .healthy = false };
	uint8_t *buf = NULL;
	size_t len = 0;

	sim_init(&s);
	sim_start(&s, 1);
	sim_start(&s, 2);
	sim_start(&s, 3);
	sim_check(&s, 3, 1);

	assert_true(NT_STATUS_IS_OK(clmsg_state_push(NULL, &m, &buf, &len)));
	sim_deliver(&s, 2, buf, len);
	s.healthy[2] = false;
	/* node 2's IPs are assigned elsewhere but taken by nobody until node
	 * 2 says it released them */
	for (size_t i = 0; i < s.ips->num; i++) {
		if (s.st[1]->owner[i] != 1 && s.st[1]->owner[i] != 3) {
			fail_msg("IP %zu not reassigned", i);
		}
		if (cluster_state_owes_release(s.st[2], i, &(uint64_t){ 0 })) {
			assert_false(cluster_state_should_hold(s.st[1], i));
			assert_false(cluster_state_should_hold(s.st[3], i));
		}
	}
	assert_int_equal(sim_settle(&s), 2);
	sim_check(&s, 3, 1); /* health is not a membership change */
	assert_int_equal(cluster_state_node_state(s.st[3],
		cluster_state_find(s.st[3], 2)), CLUSTER_NODE_UNHEALTHY);

	/* a STATE claiming another node's id is refused */
	m.nodeid = 3;
	talloc_free(buf);
	assert_true(NT_STATUS_IS_OK(clmsg_state_push(NULL, &m, &buf, &len)));
	{
		bool changed = false;
		assert_false(NT_STATUS_IS_OK(cluster_state_deliver(
			s.st[1], 2, s.pid[2], buf, len, &changed)));
		assert_false(changed);
	}

	/* healthy again: back in the assignment */
	m.nodeid = 2;
	m.healthy = true;
	talloc_free(buf);
	assert_true(NT_STATUS_IS_OK(clmsg_state_push(NULL, &m, &buf, &len)));
	sim_deliver(&s, 2, buf, len);
	s.healthy[2] = true;
	assert_int_equal(sim_settle(&s), 2); /* nodes 1 and 3 give one each */
	sim_check(&s, 3, 1);
	talloc_free(buf);
	sim_free(&s);
}

static void test_state_stale_hello_dropped(void **state)
{
	struct sim s;
	uint8_t *buf = NULL;
	size_t len = 0;
	bool changed = false;

	sim_init(&s);
	sim_start(&s, 1);
	sim_start(&s, 2);
	/* node 2's HELLO for the 2-node view arrives after node 3 joined */
	assert_true(NT_STATUS_IS_OK(cluster_state_make_hello(
		s.st[2], NULL, true, false, NULL, &buf, &len)));
	sim_start(&s, 3);
	sim_check(&s, 3, 1);
	assert_true(NT_STATUS_IS_OK(cluster_state_deliver(
		s.st[1], 2, s.pid[2], buf, len, &changed)));
	assert_false(changed);
	sim_check(&s, 3, 1);
	talloc_free(buf);
	sim_free(&s);
}

static void test_state_released_checks(void **state)
{
	struct sim s;
	struct clmsg_state m = { .nodeid = 2, .healthy = false };
	uint8_t *buf = NULL, *rel = NULL;
	size_t len = 0, rlen = 0;
	uint64_t seq = 0;
	size_t idx = SIZE_MAX;
	bool changed = false;

	sim_init(&s);
	sim_start(&s, 1);
	sim_start(&s, 2);
	assert_true(NT_STATUS_IS_OK(clmsg_state_push(NULL, &m, &buf, &len)));
	sim_deliver(&s, 2, buf, len);
	for (size_t i = 0; i < s.ips->num && idx == SIZE_MAX; i++) {
		if (cluster_state_owes_release(s.st[2], i, &seq)) {
			idx = i;
		}
	}
	assert_true(idx != SIZE_MAX);
	/* a RELEASED of an earlier hand-over (wrong seq) changes nothing */
	assert_true(NT_STATUS_IS_OK(cluster_state_make_released(
		s.st[2], NULL, idx, seq + 7, &rel, &rlen)));
	assert_true(NT_STATUS_IS_OK(cluster_state_deliver(
		s.st[1], 2, s.pid[2], rel, rlen, &changed)));
	assert_false(changed);
	assert_false(cluster_state_should_hold(s.st[1], idx));
	talloc_free(rel);
	/* node 1 cannot release on node 2's behalf */
	assert_true(NT_STATUS_IS_OK(cluster_state_make_released(
		s.st[2], NULL, idx, seq, &rel, &rlen)));
	assert_false(NT_STATUS_IS_OK(cluster_state_deliver(
		s.st[1], 1, s.pid[1], rel, rlen, &changed)));
	assert_false(changed);
	/* the real one lets node 1 take it */
	assert_true(NT_STATUS_IS_OK(cluster_state_deliver(
		s.st[1], 2, s.pid[2], rel, rlen, &changed)));
	assert_true(changed);
	assert_true(cluster_state_should_hold(s.st[1], idx));
	talloc_free(rel);
	talloc_free(buf);
	sim_free(&s);
}

static void test_state_dead_owner_owes_nothing(void **state)
{
	struct sim s;

	sim_init(&s);
	sim_start(&s, 1);
	sim_start(&s, 2);
	sim_start(&s, 3);
	/* sim_kill settles nothing for node 3: nobody waits for it */
	s.up[3] = false;
	TALLOC_FREE(s.st[3]);
	{
		struct clmsg_member mm[2] = { { 1, s.pid[1] }, { 2, s.pid[2] } };
		for (uint32_t n = 1; n <= 2; n++) {
			assert_true(NT_STATUS_IS_OK(
				cluster_state_confchg(s.st[n], mm, 2)));
		}
	}
	for (uint32_t n = 1; n <= 2; n++) {
		bool held[8] = { false };
		uint8_t *buf = NULL;
		size_t len = 0;
		for (size_t i = 0; i < s.ips->num; i++) {
			held[i] = s.st[n]->owner[i] == n;
		}
		assert_true(NT_STATUS_IS_OK(cluster_state_make_hello(
			s.st[n], NULL, true, false, held, &buf, &len)));
		sim_deliver(&s, n, buf, len);
		talloc_free(buf);
	}
	/* committed without any RELEASED: node 3's IPs are held at once */
	sim_check(&s, 4, 1);
	sim_free(&s);
}

static void test_state_generation_floor(void **state)
{
	struct sim s;

	sim_init(&s);
	s.st[1] = cluster_state_new(NULL, 1, s.ips);
	s.st[1]->gen_floor = 41; /* persisted by an earlier run */
	cluster_state_set_quorate(s.st[1], true);
	s.up[1] = true;
	s.healthy[1] = true;
	s.pid[1] = 1000;
	sim_confchg(&s);
	sim_check(&s, 42, 1);
	sim_start(&s, 2); /* a fresh node learns it */
	sim_check(&s, 43, 1);
	sim_free(&s);
}

static void test_state_no_quorum_holds_nothing(void **state)
{
	struct sim s;

	sim_init(&s);
	sim_start(&s, 1);
	cluster_state_set_quorate(s.st[1], false);
	for (size_t i = 0; i < s.ips->num; i++) {
		assert_false(cluster_state_should_hold(s.st[1], i));
	}
	assert_int_equal(cluster_state_leader(s.st[1]), 0);
	sim_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_ok),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_hello_roundtrip_and_truncation),
		cmocka_unit_test(test_hello_hostile_counts),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_state_join_leave),
		cmocka_unit_test(test_state_unhealthy_moves_ips),
		cmocka_unit_test(test_state_stale_hello_dropped),
		cmocka_unit_test(test_state_released_checks),
		cmocka_unit_test(test_state_dead_owner_owes_nothing),
		cmocka_unit_test(test_state_generation_floor),
		cmocka_unit_test(test_state_no_quorum_holds_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
