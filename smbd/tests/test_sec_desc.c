/*
 * Self-relative security descriptors from unix ownership ([MS-DTYP]
 * 2.4.6), checked byte for byte against a hand-assembled descriptor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smbd/sec_desc.h"

/* uid 1000, gid 100, mode 0640, OWNER|GROUP|DACL */
static const uint8_t expected_0640[] = {
	/* header: Revision 1, Sbz1, Control SELF_RELATIVE|DACL_PRESENT */
	0x01, 0x00, 0x04, 0x80,
	0x14, 0x00, 0x00, 0x00, /* OffsetOwner 20 */
	0x24, 0x00, 0x00, 0x00, /* OffsetGroup 36 */
	0x00, 0x00, 0x00, 0x00, /* OffsetSacl */
	0x34, 0x00, 0x00, 0x00, /* OffsetDacl 52 */
	/* S-1-22-1-1000 */
	0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16,
	0x01, 0x00, 0x00, 0x00, 0xe8, 0x03, 0x00, 0x00,
	/* S-1-22-2-100 */
	0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16,
	0x02, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00,
	/* ACL: revision 2, size 56, 2 ACEs */
	0x02, 0x00, 0x38, 0x00, 0x02, 0x00, 0x00, 0x00,
	/* ACCESS_ALLOWED, size 24, mask 0x0017019f (rw + owner rights) */
	0x00, 0x00, 0x18, 0x00, 0x9f, 0x01, 0x17, 0x00,
	0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16,
	0x01, 0x00, 0x00, 0x00, 0xe8, 0x03, 0x00, 0x00,
	/* ACCESS_ALLOWED, size 24, FILE_GENERIC_READ 0x00120089 */
	0x00, 0x00, 0x18, 0x00, 0x89, 0x00, 0x12, 0x00,
	0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16,
	0x02, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00,
};

static void test_encode_0640(void **s)
{
	uint8_t *sd = NULL;
	size_t len = 0;
	NTSTATUS status = sec_desc_from_unix(
		NULL, 1000, 100, 0100640, false,
		SECINFO_OWNER | SECINFO_GROUP | SECINFO_DACL, &sd, &len);

	assert_true(NT_STATUS_IS_OK(status));
	assert_int_equal(len, sizeof(expected_0640));
	assert_memory_equal(sd, expected_0640, len);
	talloc_free(sd);
}

static void test_secinfo_selects_parts(void **s)
{
	uint8_t *sd = NULL;
	size_t len = 0;

	/* nothing asked: the bare 20-byte header */
	assert_true(NT_STATUS_IS_OK(
		sec_desc_from_unix(NULL, 0, 0, 0755, true, 0, &sd, &len)));
	assert_int_equal(len, 20);
	assert_int_equal(sd[2] | (sd[3] << 8), SEC_DESC_SELF_RELATIVE);
	talloc_free(sd);

	/* group only */
	assert_true(NT_STATUS_IS_OK(sec_desc_from_unix(
		NULL, 5, 7, 0755, true, SECINFO_GROUP, &sd, &len)));
	assert_int_equal(len, 36);
	assert_int_equal(sd[4], 0); /* no owner */
	assert_int_equal(sd[8], 20);
	assert_int_equal(sd[20 + 8], 2);
	assert_int_equal(sd[20 + 12], 7);
	talloc_free(sd);

	/* SACL: present and empty */
	assert_true(NT_STATUS_IS_OK(sec_desc_from_unix(
		NULL, 5, 7, 0755, true, SECINFO_SACL, &sd, &len)));
	assert_int_equal(len, 28);
	assert_int_equal(sd[2] | (sd[3] << 8),
			 SEC_DESC_SELF_RELATIVE | SEC_DESC_SACL_PRESENT);
	assert_int_equal(sd[12], 20);
	talloc_free(sd);
}

static void test_round_trip(void **s)
{
	static const mode_t modes[] = { 0640, 0755, 0700, 0604, 0777, 0 };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		uint8_t *sd = NULL;
		size_t len = 0;
		struct sec_desc_change c;
		uint32_t all = SECINFO_OWNER | SECINFO_GROUP | SECINFO_DACL;

		assert_true(NT_STATUS_IS_OK(sec_desc_from_unix(
			NULL, 1000, 100, modes[i], false, all, &sd, &len)));
		assert_true(NT_STATUS_IS_OK(sec_desc_to_unix_change(
			sd, len, all, 1000, 100, modes[i], &c)));
		assert_true(c.set_owner && c.owner == 1000);
		assert_true(c.set_group && c.group == 100);
		assert_true(c.set_mode);
		assert_int_equal(c.mode, modes[i]);
		talloc_free(sd);
	}
}

static void test_hostile_input(void **s)
{
	struct sec_desc_change c;
	uint8_t bad[sizeof(expected_0640)];

	assert_true(NT_STATUS_EQUAL(
		sec_desc_to_unix_change(expected_0640, 19, 7, 0, 0, 0, &c),
		NT_STATUS_INVALID_SECURITY_DESCR));
	/* DACL offset beyond the buffer */
	memcpy(bad, expected_0640, sizeof(bad));
	bad[16] = 0xf0;
	assert_true(NT_STATUS_EQUAL(
		sec_desc_to_unix_change(bad, sizeof(bad), SECINFO_DACL, 1000,
					100, 0, &c),
		NT_STATUS_INVALID_SECURITY_DESCR));
	/* ACL claiming more ACEs than it holds */
	memcpy(bad, expected_0640, sizeof(bad));
	bad[52 + 4] = 9;
	assert_true(NT_STATUS_EQUAL(
		sec_desc_to_unix_change(bad, sizeof(bad), SECINFO_DACL, 1000,
					100, 0, &c),
		NT_STATUS_INVALID_SECURITY_DESCR));
	/* an owner that is not a unix user SID */
	memcpy(bad, expected_0640, sizeof(bad));
	bad[20 + 7] = 5; /* authority NT */
	assert_true(NT_STATUS_EQUAL(
		sec_desc_to_unix_change(bad, sizeof(bad), SECINFO_OWNER, 1000,
					100, 0, &c),
		NT_STATUS_INVALID_OWNER));
	/* a DENY ACE cannot be expressed in mode bits */
	memcpy(bad, expected_0640, sizeof(bad));
	bad[60] = 1;
	assert_true(NT_STATUS_EQUAL(
		sec_desc_to_unix_change(bad, sizeof(bad), SECINFO_DACL, 1000,
					100, 0, &c),
		NT_STATUS_NOT_SUPPORTED));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_0640),
		cmocka_unit_test(test_secinfo_selects_parts),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hostile_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
