/*
 * smbXsrv *_global records: round trips, and every truncation or
 * trailing byte refused (a record another process wrote is input too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "smbd/smbXsrv_records.h"

static void test_open_round_trip_and_truncation(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbXsrv_open_global g = {
		.persistent_id = 0x1122334455667788ull,
		.volatile_id = 42,
		.owner = {.node = 2, .pid = 1234, .task = 0, .unique = 99},
		.session_id = 0xabcdef,
		.tcon_id = 7,
		.share_name = "data",
		.share_path = "/srv/data",
		.relpath = "dir/file.txt",
		.stream = NULL,
		.is_dir = false,
		.access_mask = 0x12019f,
		.share_access = 3,
		.open_time = 133000000000000000ull,
		.durable = true,
		.durable_timeout_ms = 60000,
	};
	struct smbXsrv_open_global d;
	uint8_t *buf, *bigger;
	size_t len, i;

	memset(g.create_guid, 0xcc, 16);
	memset(g.client_guid, 0xdd, 16);
	assert_true(NT_STATUS_IS_OK(
		smbXsrv_open_global_encode(mem, &g, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(
		smbXsrv_open_global_decode(mem, buf, len, &d)));
	assert_true(d.persistent_id == g.persistent_id);
	assert_int_equal(d.owner.node, 2);
	assert_int_equal(d.owner.pid, 1234);
	assert_true(d.owner.unique == 99);
	assert_string_equal(d.relpath, "dir/file.txt");
	assert_null(d.stream);
	assert_memory_equal(d.create_guid, g.create_guid, 16);
	assert_true(d.durable);
	assert_int_equal(d.durable_timeout_ms, 60000);

	for (i = 0; i < len; i++) {
		assert_false(NT_STATUS_IS_OK(
			smbXsrv_open_global_decode(mem, buf, i, &d)));
	}
	bigger = talloc_array(mem, uint8_t, len + 1);
	memcpy(bigger, buf, len);
	bigger[len] = 0;
	assert_false(NT_STATUS_IS_OK(
		smbXsrv_open_global_decode(mem, bigger, len + 1, &d)));
	/* another record type is refused */
	assert_false(NT_STATUS_IS_OK(
		smbXsrv_session_global_decode(mem, buf, len, &(struct smbXsrv_session_global){0})));
	talloc_free(mem);
}

static void test_session_tcon_client(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbXsrv_session_global s = {
		.session_id = 0x12345678,
		.owner = {.pid = 77},
		.state = SMBXSRV_SESSION_GLOBAL_VALID,
		.account = "alice",
		.domain = "WORKGROUP",
		.unix_user = "alice",
		.uid = 1001,
		.gid = 1001,
		.remote_addr = "127.0.0.1:50000",
		.dialect = 0x311,
		.signing_algo = 1,
		.cipher_id = 2,
		.signing_required = true,
		.auth_time = 5,
	};
	struct smbXsrv_tcon_global t = {
		.session_id = 0x12345678,
		.tcon_id = 3,
		.owner = {.pid = 77},
		.share_name = "data",
		.share_path = "/srv/data",
		.connect_time = 6,
	};
	struct smbXsrv_client_global c = {
		.owner = {.pid = 77},
		.dialect = 0x302,
		.remote_addr = "[::1]:4455",
		.local_addr = "[::1]:445",
		.num_channels = 1,
	};
	struct smbXsrv_session_global sd;
	struct smbXsrv_tcon_global td;
	struct smbXsrv_client_global cd;
	uint8_t *buf;
	size_t len;
	uint8_t key[SMBXSRV_TCON_KEY_SIZE];

	assert_true(NT_STATUS_IS_OK(
		smbXsrv_session_global_encode(mem, &s, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(
		smbXsrv_session_global_decode(mem, buf, len, &sd)));
	assert_string_equal(sd.account, "alice");
	assert_int_equal(sd.dialect, 0x311);
	assert_int_equal(sd.cipher_id, 2);
	assert_true(sd.signing_required);

	assert_true(NT_STATUS_IS_OK(
		smbXsrv_tcon_global_encode(mem, &t, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(
		smbXsrv_tcon_global_decode(mem, buf, len, &td)));
	assert_string_equal(td.share_path, "/srv/data");
	assert_int_equal(td.tcon_id, 3);

	memset(c.client_guid, 0x5a, 16);
	assert_true(NT_STATUS_IS_OK(
		smbXsrv_client_global_encode(mem, &c, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(
		smbXsrv_client_global_decode(mem, buf, len, &cd)));
	assert_memory_equal(cd.client_guid, c.client_guid, 16);
	assert_string_equal(cd.local_addr, "[::1]:445");

	/* keys are little-endian, fixed size */
	smbXsrv_tcon_global_key(key, 0x0102, 0x03);
	assert_int_equal(key[0], 0x02);
	assert_int_equal(key[1], 0x01);
	assert_int_equal(key[8], 0x03);
	talloc_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_round_trip_and_truncation),
		cmocka_unit_test(test_session_tcon_client),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
