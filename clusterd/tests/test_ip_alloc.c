/*
 * Unit tests: the public IP assignment (pure function) and the
 * public_addresses parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clusterd/ip_alloc.h"
#include "clusterd/public_ips.h"

#define N IP_ALLOC_NONE

static size_t count_of(const uint32_t *o, size_t n, uint32_t id)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++) {
		c += (o[i] == id);
	}
	return c;
}

static void test_no_candidates(void **state)
{
	uint32_t prev[3] = { 1, 2, 3 }, out[3];
	size_t moved = ip_alloc_compute(3, prev, NULL, 0, out);
	assert_int_equal(moved, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(out[i], N);
	}
}

static void test_single_node_gets_all(void **state)
{
	uint32_t prev[4] = { N, N, N, N }, out[4], cand[1] = { 7 };
	assert_int_equal(ip_alloc_compute(4, prev, cand, 1, out), 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(out[i], 7);
	}
}

static void test_fresh_balanced_and_order_independent(void **state)
{
	uint32_t prev[7] = { N, N, N, N, N, N, N }, a[7], b[7];
	uint32_t c1[3] = { 1, 2, 3 }, c2[4] = { 3, 1, 2, 1 };

	ip_alloc_compute(7, prev, c1, 3, a);
	ip_alloc_compute(7, prev, c2, 4, b);
	assert_memory_equal(a, b, sizeof(a));
	/* fill in index order onto the least loaded, lowest id first */
	uint32_t want[7] = { 1, 2, 3, 1, 2, 3, 1 };
	assert_memory_equal(a, want, sizeof(a));
}

static void test_sticky_when_balanced(void **state)
{
	uint32_t prev[6] = { 3, 3, 1, 2, 1, 2 }, out[6], cand[3] = { 1, 2, 3 };
	assert_int_equal(ip_alloc_compute(6, prev, cand, 3, out), 0);
	assert_memory_equal(out, prev, sizeof(prev));
}

static void test_leave_moves_only_its_ips(void **state)
{
	uint32_t prev[6] = { 1, 2, 3, 1, 2, 3 }, out[6], cand[2] = { 1, 3 };
	assert_int_equal(ip_alloc_compute(6, prev, cand, 2, out), 2);
	for (int i = 0; i < 6; i++) {
		if (prev[i] != 2) {
			assert_int_equal(out[i], prev[i]);
		} else {
			assert_true(out[i] == 1 || out[i] == 3);
		}
	}
	assert_int_equal(count_of(out, 6, 1), 3);
	assert_int_equal(count_of(out, 6, 3), 3);
}

static void test_join_rebalances_minimally(void **state)
{
	/* 9 IPs on two nodes (5+4); node 3 joins: it must end with 3, and
	 * exactly 3 IPs move, all onto node 3. */
	uint32_t prev[9] = { 1, 2, 1, 2, 1, 2, 1, 2, 1 }, out[9];
	uint32_t cand[3] = { 1, 2, 3 };
	assert_int_equal(ip_alloc_compute(9, prev, cand, 3, out), 3);
	assert_int_equal(count_of(out, 9, 1), 3);
	assert_int_equal(count_of(out, 9, 2), 3);
	assert_int_equal(count_of(out, 9, 3), 3);
	for (int i = 0; i < 9; i++) {
		if (out[i] != prev[i]) {
			assert_int_equal(out[i], 3);
		}
	}
}

static void test_unknown_prev_owner_and_in_place(void **state)
{
	/* prev names node 9 (gone): reassigned; out == prev allowed */
	uint32_t o[4] = { 9, 9, 1, N }, cand[2] = { 1, 2 };
	ip_alloc_compute(4, o, cand, 2, o);
	assert_int_equal(count_of(o, 4, 1), 2);
	assert_int_equal(count_of(o, 4, 2), 2);
	assert_int_equal(o[2], 1);
}

/* Random inputs: balanced, sticky for every IP whose owner stays a
 * candidate unless its node was over the target, deterministic. */
static void test_random_properties(void **state)
{
	srandom(12345);
	for (int round = 0; round < 2000; round++) {
		size_t nips = random() % 40, ncand = random() % 8;
		uint32_t prev[40], out[40], out2[40], cand[8];
		size_t lo = SIZE_MAX, hi = 0;

		for (size_t i = 0; i < ncand; i++) {
			cand[i] = 1 + random() % 10;
		}
		for (size_t i = 0; i < nips; i++) {
			prev[i] = random() % 12; /* 0 = none, 11 unknown */
		}
		ip_alloc_compute(nips, prev, cand, ncand, out);
		ip_alloc_compute(nips, prev, cand, ncand, out2);
		assert_memory_equal(out, out2, nips * sizeof(uint32_t));
		for (size_t c = 0; c < ncand; c++) {
			size_t k = count_of(out, nips, cand[c]);
			lo = k < lo ? k : lo;
			hi = k > hi ? k : hi;
		}
		for (size_t i = 0; i < nips; i++) {
			bool is_cand = false;
			for (size_t c = 0; c < ncand; c++) {
				is_cand |= (out[i] == cand[c]);
			}
			assert_true(ncand == 0 ? out[i] == N : is_cand);
		}
		if (ncand > 0) {
			assert_true(hi - lo <= 1);
		}
		/* applying it again moves nothing */
		assert_int_equal(ip_alloc_compute(nips, out, cand, ncand, out2),
				 0);
	}
}

static void test_parse_ok(void **state)
{
	struct public_ip_list *l = NULL;
	char *err = NULL;
	const char *text = "# public addresses\n"
			   "\n"
			   "10.0.0.12/24 eth0\n"
			   "  fd00::0001/64\teth1   # v6\n"
			   "10.0.0.11/24 eth0\n";
	assert_true(NT_STATUS_IS_OK(public_ips_parse(NULL, text, "pa", &l, &err)));
	assert_int_equal(l->num, 3);
	assert_string_equal(l->ips[0].addr, "10.0.0.11");
	assert_string_equal(l->ips[1].addr, "10.0.0.12");
	assert_string_equal(l->ips[2].addr, "fd00::1");
	assert_int_equal(l->ips[2].prefix, 64);
	assert_string_equal(l->ips[2].iface, "eth1");
	assert_int_equal(public_ips_find(l, "fd00:0::1"), 2);
	assert_int_equal(public_ips_find(l, "10.0.0.13"), -1);
	assert_int_equal(public_ips_find(l, "junk"), -1);
	talloc_free(l);
}

static void expect_error(const char *text, const char *want)
{
	struct public_ip_list *l = NULL;
	char *err = NULL;
	NTSTATUS st = public_ips_parse(NULL, text, "pa", &l, &err);
	assert_true(NT_STATUS_EQUAL(st, NT_STATUS_INVALID_PARAMETER));
	assert_null(l);
	assert_non_null(err);
	if (strstr(err, want) == NULL) {
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	}
	talloc_free(err);
}

static void test_parse_errors(void **state)
{
	expect_error("10.0.0.1 eth0\n", "pa:1: 10.0.0.1: address without /prefix");
	expect_error("\n10.0.0.1/33 eth0\n", "pa:2: ");
	expect_error("10.0.0.1/0 eth0\n", "prefix out of range");
	expect_error("10.0.0.1/2x eth0\n", "bad prefix");
	expect_error("10.0.0.1/-1 eth0\n", "bad prefix");
	expect_error("10.0.0.1/ eth0\n", "bad prefix");
	expect_error("10.0.0.300/24 eth0\n", "not an IPv4 or IPv6");
	expect_error("fd00::1/129 eth0\n", "prefix out of range");
	expect_error("10.0.0.1/24\n", "pa:1: missing interface");
	expect_error("10.0.0.1/24 eth0 extra\n", "too many words");
	expect_error("10.0.0.1/24 eth0,eth1\n", "bad interface name");
	expect_error("10.0.0.1/24 averyveryverylongifname\n", "bad interface name");
	expect_error("10.0.0.1/24 eth0\n10.0.0.1/16 eth1\n",
		     "pa:2: duplicate address 10.0.0.1");
}

static void test_load_missing_is_empty(void **state)
{
	struct public_ip_list *l = NULL;
	char *err = NULL;
	assert_true(NT_STATUS_IS_OK(public_ips_load(NULL,
		"/nonexistent/public_addresses", &l, &err)));
	assert_int_equal(l->num, 0);
	talloc_free(l);
}

static void test_checksum(void **state)
{
	struct public_ip_list *a = NULL, *b = NULL, *c = NULL;
	char *err = NULL;
	public_ips_parse(NULL, "10.0.0.1/24 eth0\n10.0.0.2/24 eth0\n", "a", &a, &err);
	public_ips_parse(NULL, "10.0.0.2/24 eth0\n10.0.0.1/24 eth0\n", "b", &b, &err);
	public_ips_parse(NULL, "10.0.0.2/24 eth1\n10.0.0.1/24 eth0\n", "c", &c, &err);
	assert_int_equal(public_ips_checksum(a), public_ips_checksum(b));
	assert_int_not_equal(public_ips_checksum(a), public_ips_checksum(c));
	talloc_free(a);
	talloc_free(b);
	talloc_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_candidates),
		cmocka_unit_test(test_single_node_gets_all),
		cmocka_unit_test(test_fresh_balanced_and_order_independent),
		cmocka_unit_test(test_sticky_when_balanced),
		cmocka_unit_test(test_leave_moves_only_its_ips),
		cmocka_unit_test(test_join_rebalances_minimally),
		cmocka_unit_test(test_unknown_prev_owner_and_in_place),
		cmocka_unit_test(test_random_properties),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_load_missing_is_empty),
		cmocka_unit_test(test_checksum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
