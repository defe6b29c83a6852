/*
 * smbXsrv_session_close: the MSG_SMB_CLOSE_SESSION payload (marshall
 * record REC_MSG_CLOSE_SESSION) and the same-user rule of [MS-SMB2]
 * 3.3.5.5.3 that both the sender and the owner apply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smbd/smbXsrv_session_close.h"

static void test_msg_round_trip(void **state)
{
	TALLOC_CTX *t = talloc_new(NULL);
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t id = 0;
	char *account = NULL, *domain = NULL;

	assert_true(NT_STATUS_IS_OK(smbd_close_session_msg_push(
		t, 0x1122334455667788ULL, "alice", "DOM", &buf, &len)));
	assert_true(NT_STATUS_IS_OK(smbd_close_session_msg_pull(
		t, buf, len, &id, &account, &domain)));
	assert_true(id == 0x1122334455667788ULL);
	assert_string_equal(account, "alice");
	assert_string_equal(domain, "DOM");

	/* a NULL domain stays NULL */
	assert_true(NT_STATUS_IS_OK(smbd_close_session_msg_push(
		t, 7, "bob", NULL, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(smbd_close_session_msg_pull(
		t, buf, len, &id, &account, &domain)));
	assert_true(id == 7);
	assert_string_equal(account, "bob");
	assert_null(domain);
	talloc_free(t);
}

static void test_msg_malformed(void **state)
{
	TALLOC_CTX *t = talloc_new(NULL);
	uint8_t *buf = NULL, *big;
	size_t len = 0, i;
	uint64_t id;
	char *account, *domain;

	assert_true(NT_STATUS_IS_OK(smbd_close_session_msg_push(
		t, 42, "alice", "DOM", &buf, &len)));
	/* every truncation is refused, nothing is left allocated */
	for (i = 0; i < len; i++) {
		assert_false(NT_STATUS_IS_OK(smbd_close_session_msg_pull(
			t, buf, i, &id, &account, &domain)));
		assert_null(account);
		assert_null(domain);
	}
	/* trailing bytes */
	big = talloc_zero_array(t, uint8_t, len + 1);
	memcpy(big, buf, len);
	assert_false(NT_STATUS_IS_OK(smbd_close_session_msg_pull(
		t, big, len + 1, &id, &account, &domain)));
	/* another record type */
	buf[0] ^= 0xff;
	assert_false(NT_STATUS_IS_OK(smbd_close_session_msg_pull(
		t, buf, len, &id, &account, &domain)));
	talloc_free(t);
}

static void test_same_user(void **state)
{
	assert_true(smbd_session_same_user("Alice", "DOM", false, "alice",
					   "dom", false));
	assert_true(smbd_session_same_user("alice", NULL, false, "alice", "",
					   false));
	assert_false(smbd_session_same_user("alice", "DOM", false, "bob",
					    "DOM", false));
	assert_false(smbd_session_same_user("alice", "DOM", false, "alice",
					    "OTHER", false));
	/* anonymous sessions are nobody's */
	assert_false(smbd_session_same_user("", "", true, "", "", true));
	assert_false(smbd_session_same_user(NULL, NULL, false, NULL, NULL,
					    false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_round_trip),
		cmocka_unit_test(test_msg_malformed),
		cmocka_unit_test(test_same_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
