/*
 * lib/util/marshall: round trips, header checks, and that every overrun
 * or trailing byte is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lib/util/marshall.h"

static void test_round_trip(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct marshall_push *p = marshall_push_init(mem, REC_TEST, 2);
	struct marshall_pull r;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32, count;
	uint64_t u64;
	bool b;
	uint8_t fixed[3];
	const uint8_t *blob;
	size_t blob_len;
	char *s1, *s2;
	size_t count_ofs;

	marshall_push_u8(p, 0xab);
	marshall_push_u16(p, 0x1234);
	marshall_push_u32(p, 0xdeadbeef);
	marshall_push_u64(p, 0x0102030405060708ull);
	marshall_push_bool(p, true);
	marshall_push_bytes(p, "xyz", 3);
	marshall_push_blob(p, "hello", 5);
	marshall_push_string(p, "a string");
	marshall_push_string(p, NULL);
	count_ofs = marshall_push_offset(p);
	marshall_push_u32(p, 0);
	marshall_push_u64(p, 7);
	marshall_push_patch_u32(p, count_ofs, 1);
	assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
	assert_int_equal(len, 4 + 1 + 2 + 4 + 8 + 1 + 3 + 4 + 5 + 4 + 8 + 4 +
				      4 + 8);
	/* explicit little-endian header: type, then version */
	assert_int_equal(buf[0], REC_TEST);
	assert_int_equal(buf[1], 0);
	assert_int_equal(buf[2], 2);
	assert_int_equal(buf[5], 0x34);

	assert_true(NT_STATUS_IS_OK(
		marshall_pull_init(&r, buf, len, REC_TEST, 2)));
	assert_int_equal(r.version, 2);
	assert_true(marshall_pull_u8(&r, &u8));
	assert_int_equal(u8, 0xab);
	assert_true(marshall_pull_u16(&r, &u16));
	assert_int_equal(u16, 0x1234);
	assert_true(marshall_pull_u32(&r, &u32));
	assert_int_equal(u32, 0xdeadbeef);
	assert_true(marshall_pull_u64(&r, &u64));
	assert_true(u64 == 0x0102030405060708ull);
	assert_true(marshall_pull_bool(&r, &b));
	assert_true(b);
	assert_true(marshall_pull_bytes(&r, fixed, 3));
	assert_memory_equal(fixed, "xyz", 3);
	assert_true(marshall_pull_blob(&r, &blob, &blob_len));
	assert_int_equal(blob_len, 5);
	assert_memory_equal(blob, "hello", 5);
	assert_true(marshall_pull_string(&r, mem, &s1));
	assert_string_equal(s1, "a string");
	assert_true(marshall_pull_string(&r, mem, &s2));
	assert_null(s2);
	assert_true(marshall_pull_count(&r, &count, 8));
	assert_int_equal(count, 1);
	assert_true(marshall_pull_u64(&r, &u64));
	assert_true(u64 == 7);
	assert_true(NT_STATUS_IS_OK(marshall_pull_finish(&r)));
	talloc_free(mem);
}

static void test_header_checks(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct marshall_push *p = marshall_push_init(mem, REC_BRLOCK, 3);
	struct marshall_pull r;
	uint8_t *buf;
	size_t len;

	assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
	/* wrong type, newer version than the reader knows, short buffer */
	assert_false(NT_STATUS_IS_OK(
		marshall_pull_init(&r, buf, len, REC_LEASE, 3)));
	assert_false(NT_STATUS_IS_OK(
		marshall_pull_init(&r, buf, len, REC_BRLOCK, 2)));
	assert_false(NT_STATUS_IS_OK(
		marshall_pull_init(&r, buf, 3, REC_BRLOCK, 3)));
	assert_true(NT_STATUS_IS_OK(
		marshall_pull_init(&r, buf, len, REC_BRLOCK, 3)));
	assert_true(NT_STATUS_IS_OK(marshall_pull_finish(&r)));
	buf[2] = 0; /* version 0 is never valid */
	buf[3] = 0;
	assert_false(NT_STATUS_IS_OK(
		marshall_pull_init(&r, buf, len, REC_BRLOCK, 3)));
	talloc_free(mem);
}

static void test_overruns(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct marshall_push *p = marshall_push_init(mem, REC_TEST, 1);
	struct marshall_pull r;
	uint8_t *buf;
	size_t len;
	uint32_t u32, count;
	uint64_t u64;
	const uint8_t *blob;
	size_t blob_len;
	char *s;
	bool b;

	marshall_push_u32(p, 1000); /* a blob length with no bytes behind */
	assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));

	marshall_pull_init(&r, buf, len, REC_TEST, 1);
	assert_false(marshall_pull_blob(&r, &blob, &blob_len));
	/* sticky: later reads fail too, and finish reports it */
	assert_false(marshall_pull_u32(&r, &u32));
	assert_false(NT_STATUS_IS_OK(marshall_pull_finish(&r)));

	marshall_pull_init(&r, buf, len, REC_TEST, 1);
	assert_false(marshall_pull_string(&r, mem, &s));

	marshall_pull_init(&r, buf, len, REC_TEST, 1);
	assert_false(marshall_pull_count(&r, &count, 1));

	marshall_pull_init(&r, buf, len, REC_TEST, 1);
	assert_false(marshall_pull_u64(&r, &u64));

	/* trailing bytes are an error */
	marshall_pull_init(&r, buf, len, REC_TEST, 1);
	assert_true(marshall_pull_u16(&r, (uint16_t *)&u32));
	assert_false(NT_STATUS_IS_OK(marshall_pull_finish(&r)));

	/* a bool is 0 or 1 */
	buf[4] = 2;
	marshall_pull_init(&r, buf, len, REC_TEST, 1);
	assert_false(marshall_pull_bool(&r, &b));
	talloc_free(mem);
}

static void test_string_with_nul_refused(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct marshall_push *p = marshall_push_init(mem, REC_TEST, 1);
	struct marshall_pull r;
	uint8_t *buf;
	size_t len;
	char *s;

	marshall_push_u32(p, 4);
	marshall_push_bytes(p, "a\0b", 3);
	assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
	marshall_pull_init(&r, buf, len, REC_TEST, 1);
	assert_false(marshall_pull_string(&r, mem, &s));
	talloc_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_header_checks),
		cmocka_unit_test(test_overruns),
		cmocka_unit_test(test_string_with_nul_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
