/*
 * Unit tests: the control protocol between clusterctl and clusterd
 * (framing, request, status, result), including every truncation and
 * hostile counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clusterd/ctrl_proto.h"
#include "lib/util/marshall.h"

static void test_frame_len(void **state)
{
	uint8_t h[4] = { 5, 0, 0, 0 };
	assert_int_equal(ctrl_frame_len(h, 100), 5);
	h[0] = 0;
	assert_int_equal(ctrl_frame_len(h, 100), 0);
	h[0] = 101;
	assert_int_equal(ctrl_frame_len(h, 100), 0);
	h[0] = 0; h[3] = 0x80;
	assert_int_equal(ctrl_frame_len(h, CTRL_MAX_RESPONSE), 0);
}

static void test_request(void **state)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	uint32_t op = 0;

	assert_true(NT_STATUS_IS_OK(ctrl_request_push(NULL, CTRL_OP_STOP, &buf, &len)));
	assert_int_equal(ctrl_frame_len(buf, CTRL_MAX_REQUEST), len - 4);
	assert_true(NT_STATUS_IS_OK(ctrl_request_pull(buf + 4, len - 4, &op)));
	assert_int_equal(op, CTRL_OP_STOP);
	for (size_t l = 0; l < len - 4; l++) {
		assert_false(NT_STATUS_IS_OK(ctrl_request_pull(buf + 4, l, &op)));
	}
	talloc_free(buf);

	/* unknown op */
	assert_true(NT_STATUS_IS_OK(ctrl_request_push(NULL, 99, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(ctrl_request_pull(buf + 4, len - 4, &op)));
	talloc_free(buf);

	/* a status record where a request is expected */
	assert_true(NT_STATUS_IS_OK(ctrl_result_push(NULL, NT_STATUS_OK, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(ctrl_request_pull(buf + 4, len - 4, &op)));
	talloc_free(buf);
}

static void test_status(void **state)
{
	struct ctrl_status_node nodes[2] = {
		{ .id = 1, .addr = "10.0.0.1", .state = 0 },
		{ .id = 2, .addr = "", .state = 2 },
	};
	struct ctrl_status_ip ips[1] = {
		{ .addr = "10.1.0.1", .prefix = 24, .iface = "eth0",
		  .owner = 2, .held = false },
	};
	struct ctrl_status s = {
		.my_id = 1, .quorate = true, .committed = true,
		.generation = 42, .leader = 1, .num_nodes = 2, .nodes = nodes,
		.num_ips = 1, .ips = ips,
	};
	struct ctrl_status *o = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_true(NT_STATUS_IS_OK(ctrl_status_push(NULL, &s, &buf, &len)));
	assert_int_equal(ctrl_body_type(buf + 4, len - 4), REC_CLUSTERD_CTRL_STATUS);
	assert_true(NT_STATUS_IS_OK(ctrl_status_pull(NULL, buf + 4, len - 4, &o)));
	assert_int_equal(o->generation, 42);
	assert_int_equal(o->num_nodes, 2);
	assert_string_equal(o->nodes[1].addr, "");
	assert_int_equal(o->nodes[1].state, 2);
	assert_string_equal(o->ips[0].iface, "eth0");
	assert_int_equal(o->ips[0].owner, 2);
	talloc_free(o);
	for (size_t l = 0; l < len - 4; l++) {
		assert_false(NT_STATUS_IS_OK(ctrl_status_pull(NULL, buf + 4, l, &o)));
		assert_null(o);
	}
	talloc_free(buf);

	/* a node state out of range, a control character in a string */
	nodes[1].state = 9;
	assert_true(NT_STATUS_IS_OK(ctrl_status_push(NULL, &s, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(ctrl_status_pull(NULL, buf + 4, len - 4, &o)));
	talloc_free(buf);
	nodes[1].state = 1;
	nodes[0].addr = "10.0.0.1\033[2J";
	assert_true(NT_STATUS_IS_OK(ctrl_status_push(NULL, &s, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(ctrl_status_pull(NULL, buf + 4, len - 4, &o)));
	talloc_free(buf);
}

static void test_status_hostile_count(void **state)
{
	struct marshall_push *p = marshall_push_init(NULL, REC_CLUSTERD_CTRL_STATUS, 1);
	struct ctrl_status *o = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	marshall_push_u32(p, 1);
	marshall_push_bool(p, true);
	marshall_push_bool(p, true);
	marshall_push_u64(p, 1);
	marshall_push_u32(p, 1);
	marshall_push_u32(p, 0x7fffffff); /* nodes */
	assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(ctrl_status_pull(NULL, buf, len, &o)));
	talloc_free(buf);
}

/* v2: the replicated databases; a v1 status (no databases) still reads. */
static void test_status_dbs(void **state)
{
	struct ctrl_status_db dbs[2] = {
		{ .name = "locking", .records = 12 },
		{ .name = "test_repl", .records = 0 },
	};
	struct ctrl_status s = { .my_id = 1, .num_dbs = 2, .dbs = dbs };
	struct ctrl_status *o = NULL;
	struct marshall_push *p;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_true(NT_STATUS_IS_OK(ctrl_status_push(NULL, &s, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(ctrl_status_pull(NULL, buf + 4, len - 4, &o)));
	assert_int_equal(o->num_dbs, 2);
	assert_false(o->dbs_in_sync); /* v3: as sent */
	assert_string_equal(o->dbs[0].name, "locking");
	assert_int_equal(o->dbs[0].records, 12);
	assert_string_equal(o->dbs[1].name, "test_repl");
	talloc_free(o);
	for (size_t l = 0; l < len - 4; l++) {
		assert_false(NT_STATUS_IS_OK(ctrl_status_pull(NULL, buf + 4, l, &o)));
	}
	talloc_free(buf);
	dbs[1].name = "bad\nname";
	assert_true(NT_STATUS_IS_OK(ctrl_status_push(NULL, &s, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(ctrl_status_pull(NULL, buf + 4, len - 4, &o)));
	talloc_free(buf);

	/* hostile database count */
	p = marshall_push_init(NULL, REC_CLUSTERD_CTRL_STATUS, 2);
	marshall_push_u32(p, 1);
	marshall_push_bool(p, true);
	marshall_push_bool(p, true);
	marshall_push_u64(p, 1);
	marshall_push_u32(p, 1);
	marshall_push_u32(p, 0); /* nodes */
	marshall_push_u32(p, 0); /* ips */
	marshall_push_u32(p, 0x7fffffff); /* dbs */
	assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(ctrl_status_pull(NULL, buf, len, &o)));
	talloc_free(buf);

	/* v1 from an older clusterd: no databases */
	p = marshall_push_init(NULL, REC_CLUSTERD_CTRL_STATUS, 1);
	marshall_push_u32(p, 1);
	marshall_push_bool(p, true);
	marshall_push_bool(p, true);
	marshall_push_u64(p, 1);
	marshall_push_u32(p, 1);
	marshall_push_u32(p, 0);
	marshall_push_u32(p, 0);
	assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(ctrl_status_pull(NULL, buf, len, &o)));
	assert_int_equal(o->num_dbs, 0);
	assert_true(o->dbs_in_sync); /* unknown before v3: not flagged */
	talloc_free(o);
	talloc_free(buf);

	/* v3: the sync flag is a bool, and it must be there */
	s.dbs_in_sync = true;
	dbs[1].name = "test_repl";
	assert_true(NT_STATUS_IS_OK(ctrl_status_push(NULL, &s, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(ctrl_status_pull(NULL, buf + 4, len - 4, &o)));
	assert_true(o->dbs_in_sync);
	talloc_free(o);
	buf[len - 1] = 2;
	assert_false(NT_STATUS_IS_OK(ctrl_status_pull(NULL, buf + 4, len - 4, &o)));
	talloc_free(buf);
}

static void test_result(void **state)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS r = NT_STATUS_OK;

	assert_true(NT_STATUS_IS_OK(ctrl_result_push(NULL, NT_STATUS_ACCESS_DENIED, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(ctrl_result_pull(buf + 4, len - 4, &r)));
	assert_true(NT_STATUS_EQUAL(r, NT_STATUS_ACCESS_DENIED));
	assert_false(NT_STATUS_IS_OK(ctrl_result_pull(buf + 4, len - 5, &r)));
	talloc_free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_len),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_status_hostile_count),
		cmocka_unit_test(test_status_dbs),
		cmocka_unit_test(test_result),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
