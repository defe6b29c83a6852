/*
 * EAs (smbd/ea.h): the stored encoding, FILE_FULL_EA_INFORMATION and
 * FILE_GET_EA_INFORMATION parsing with every malformed offset and length,
 * the encoder's whole-entry truncation, the xattr store on a temp file,
 * and fscc_name_equal_ci (the case folding CREATE's lookup uses).
 *
 * Known answers: [MS-FSCC] 2.4.15 (8-byte fixed part, name + NUL, value,
 * entries 4-aligned, no padding after the last).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/util/byteorder.h"
#include "smbd/ea.h"
#include "smbd/fscc_info.h"

/* Two entries as Windows sends them: "EAONE"="VALUE1" padded to 20,
 * then "SECONDEA"="ValueTwo". */
static const uint8_t two_eas[] = {
	/* NextEntryOffset 20, Flags 0, NameLength 5, ValueLength 6 */
	20, 0, 0, 0, 0, 5, 6, 0,
	'E', 'A', 'O', 'N', 'E', 0,
	'V', 'A', 'L', 'U', 'E', '1',
	/* last: Next 0, Flags 0x80, NameLength 8, ValueLength 8 */
	0, 0, 0, 0, 0x80, 8, 8, 0,
	'S', 'E', 'C', 'O', 'N', 'D', 'E', 'A', 0,
	'V', 'a', 'l', 'u', 'e', 'T', 'w', 'o',
};

static void test_value_encoding(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	const uint8_t known[] = { 1, 0x80, 0, 0, 'a', 'b', 'c' };
	const uint8_t *value;
	uint8_t *blob, flags;
	size_t len, vlen;
	uint8_t bad[5] = { 2, 0, 0, 0, 'x' };

	assert_true(NT_STATUS_IS_OK(smbd_ea_value_encode(
		ctx, 0x80, (const uint8_t *)"abc", 3, &blob, &len)));
	assert_int_equal(len, sizeof(known));
	assert_memory_equal(blob, known, sizeof(known));
	assert_true(NT_STATUS_IS_OK(
		smbd_ea_value_decode(blob, len, &flags, &value, &vlen)));
	assert_int_equal(flags, 0x80);
	assert_int_equal(vlen, 3);
	assert_memory_equal(value, "abc", 3);
	/* short value, other version */
	assert_true(NT_STATUS_EQUAL(
		smbd_ea_value_decode(blob, 3, &flags, &value, &vlen),
		NT_STATUS_FILE_CORRUPT_ERROR));
	assert_true(NT_STATUS_EQUAL(
		smbd_ea_value_decode(bad, sizeof(bad), &flags, &value, &vlen),
		NT_STATUS_FILE_CORRUPT_ERROR));
	talloc_free(ctx);
}

static void test_names(void **state)
{
	char up[] = "abc.Def-9~";

	assert_true(smbd_ea_name_valid("EAONE", 5));
	assert_true(smbd_ea_name_valid(".x y", 4));
	assert_false(smbd_ea_name_valid("", 0));
	assert_false(smbd_ea_name_valid("a:b", 3));
	assert_false(smbd_ea_name_valid("a*", 2));
	assert_false(smbd_ea_name_valid("a\tb", 3));
	assert_false(smbd_ea_name_valid("a\0b", 3));
	for (const char *c = "\"*+,/:;<=>?[\\]|"; *c != '\0'; c++) {
		char n[2] = { *c, 0 };
		assert_false(smbd_ea_name_valid(n, 1));
	}
	/* the xattr name holds 255 bytes: 13 are the prefix */
	{
		char longname[256];
		memset(longname, 'A', sizeof(longname));
		assert_true(smbd_ea_name_valid(longname,
					       SMBD_EA_MAX_NAME_BYTES));
		assert_false(smbd_ea_name_valid(longname,
						SMBD_EA_MAX_NAME_BYTES + 1));
	}
	smbd_ea_name_upper(up);
	assert_string_equal(up, "ABC.DEF-9~");

	assert_true(fscc_name_equal_ci("Foo.TXT", "foo.txt"));
	assert_true(fscc_name_equal_ci("\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89"));
	assert_true(fscc_name_equal_ci("\xd0\xb4", "\xd0\x94")); /* Cyrillic */
	assert_false(fscc_name_equal_ci("foo", "foo1"));
	assert_false(fscc_name_equal_ci("a?", "ab")); /* no wildcards */
	assert_true(fscc_name_equal_ci("\xff", "\xff")); /* bytes equal */
	assert_false(fscc_name_equal_ci("\xff", "\xfe"));
}

static void test_parse_full(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct smbd_ea *eas;
	size_t n;
	uint8_t buf[sizeof(two_eas)];

	assert_true(NT_STATUS_IS_OK(smbd_ea_parse_full_list(
		ctx, two_eas, sizeof(two_eas), &eas, &n)));
	assert_int_equal(n, 2);
	assert_string_equal(eas[0].name, "EAONE");
	assert_int_equal(eas[0].value_len, 6);
	assert_memory_equal(eas[0].value, "VALUE1", 6);
	assert_int_equal(eas[1].flags, 0x80);
	assert_string_equal(eas[1].name, "SECONDEA");
	assert_memory_equal(eas[1].value, "ValueTwo", 8);
	/* the list size is the input's size: the same layout */
	assert_int_equal(smbd_ea_list_size(eas, n), sizeof(two_eas));

#define EXPECT_PARSE(b, l, st)                                                 \
	assert_true(NT_STATUS_EQUAL(                                           \
		smbd_ea_parse_full_list(ctx, b, l, &eas, &n), st))

	/* every truncation of the buffer */
	for (size_t l = 0; l < sizeof(two_eas); l++) {
		EXPECT_PARSE(two_eas, l, NT_STATUS_INVALID_PARAMETER);
	}
	/* NextEntryOffset: unaligned, too small for the entry, pointing at
	 * or past the end */
	memcpy(buf, two_eas, sizeof(buf));
	PUSH_LE32(buf, 0, 21);
	EXPECT_PARSE(buf, sizeof(buf), NT_STATUS_INVALID_PARAMETER);
	PUSH_LE32(buf, 0, 16);
	EXPECT_PARSE(buf, sizeof(buf), NT_STATUS_INVALID_PARAMETER);
	PUSH_LE32(buf, 0, sizeof(buf));
	EXPECT_PARSE(buf, sizeof(buf), NT_STATUS_INVALID_PARAMETER);
	PUSH_LE32(buf, 0, 0xFFFFFFFC);
	EXPECT_PARSE(buf, sizeof(buf), NT_STATUS_INVALID_PARAMETER);
	/* lengths larger than the entry */
	memcpy(buf, two_eas, sizeof(buf));
	buf[6] = 7; /* value runs into the next entry */
	EXPECT_PARSE(buf, sizeof(buf), NT_STATUS_INVALID_PARAMETER);
	memcpy(buf, two_eas, sizeof(buf));
	buf[20 + 7] = 1; /* last value 264 bytes */
	EXPECT_PARSE(buf, sizeof(buf), NT_STATUS_INVALID_PARAMETER);
	memcpy(buf, two_eas, sizeof(buf));
	buf[20 + 5] = 255;
	EXPECT_PARSE(buf, sizeof(buf), NT_STATUS_INVALID_PARAMETER);
	/* names and flags */
	memcpy(buf, two_eas, sizeof(buf));
	buf[9] = ':';
	EXPECT_PARSE(buf, sizeof(buf), NT_STATUS_INVALID_EA_NAME);
	memcpy(buf, two_eas, sizeof(buf));
	buf[4] = 0x01;
	EXPECT_PARSE(buf, sizeof(buf), NT_STATUS_INVALID_EA_NAME);
	{
		/* empty name, one entry */
		uint8_t e[12] = { 0, 0, 0, 0, 0, 0, 1, 0, 0, 'v' };
		EXPECT_PARSE(e, 10, NT_STATUS_INVALID_EA_NAME);
	}
	{
		/* zero-length value: a delete, valid */
		uint8_t e[10] = { 0, 0, 0, 0, 0, 1, 0, 0, 'A', 0 };
		assert_true(NT_STATUS_IS_OK(smbd_ea_parse_full_list(
			ctx, e, sizeof(e), &eas, &n)));
		assert_int_equal(n, 1);
		assert_int_equal(eas[0].value_len, 0);
	}
#undef EXPECT_PARSE
	talloc_free(ctx);
}

static void test_parse_get(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	/* "EAONE" padded to 12, then "X" */
	uint8_t buf[] = { 12, 0, 0, 0, 5, 'E', 'A', 'O', 'N', 'E', 0, 0,
			  0,  0, 0, 0, 1, 'x' };
	char **names;
	size_t n;

	assert_true(NT_STATUS_IS_OK(
		smbd_ea_parse_get_list(ctx, buf, sizeof(buf), &names, &n)));
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "EAONE");
	assert_string_equal(names[1], "x");
	for (size_t l = 0; l < sizeof(buf); l++) {
		assert_true(NT_STATUS_EQUAL(
			smbd_ea_parse_get_list(ctx, buf, l, &names, &n),
			NT_STATUS_INVALID_PARAMETER));
	}
	buf[0] = 13;
	assert_true(NT_STATUS_EQUAL(
		smbd_ea_parse_get_list(ctx, buf, sizeof(buf), &names, &n),
		NT_STATUS_INVALID_PARAMETER));
	buf[0] = 8; /* shorter than its own name */
	assert_true(NT_STATUS_EQUAL(
		smbd_ea_parse_get_list(ctx, buf, sizeof(buf), &names, &n),
		NT_STATUS_INVALID_PARAMETER));
	buf[0] = 12;
	buf[4] = 0;
	assert_true(NT_STATUS_EQUAL(
		smbd_ea_parse_get_list(ctx, buf, sizeof(buf), &names, &n),
		NT_STATUS_INVALID_EA_NAME));
	talloc_free(ctx);
}

static void test_encode(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct smbd_ea *eas;
	uint8_t *out;
	size_t n, len, done;

	assert_true(NT_STATUS_IS_OK(smbd_ea_parse_full_list(
		ctx, two_eas, sizeof(two_eas), &eas, &n)));
	/* known answer: encoding gives the same bytes back */
	assert_true(NT_STATUS_IS_OK(smbd_ea_encode_full_list(
		ctx, eas, n, 65536, &out, &len, &done)));
	assert_int_equal(done, 2);
	assert_int_equal(len, sizeof(two_eas));
	assert_memory_equal(out, two_eas, sizeof(two_eas));
	/* room for the first entry only: overflow with whole entries */
	for (size_t max = 20; max < sizeof(two_eas); max++) {
		assert_true(NT_STATUS_EQUAL(
			smbd_ea_encode_full_list(ctx, eas, n, max, &out, &len,
						 &done),
			NT_STATUS_BUFFER_OVERFLOW));
		assert_int_equal(done, 1);
		assert_int_equal(len, 20);
		assert_int_equal(PULL_LE32(out, 0), 0); /* now the last */
	}
	/* not even the first: too small, nothing returned */
	for (size_t max = 0; max < 20; max++) {
		assert_true(NT_STATUS_EQUAL(
			smbd_ea_encode_full_list(ctx, eas, n, max, &out, &len,
						 &done),
			NT_STATUS_BUFFER_TOO_SMALL));
		assert_int_equal(done, 0);
		assert_int_equal(len, 0);
	}
	assert_int_equal(smbd_ea_list_size(eas, 1), 20);
	assert_int_equal(smbd_ea_list_size(NULL, 0), 0);
	talloc_free(ctx);
}

static void test_store(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char path[] = "/tmp/test_ea_XXXXXX";
	int fd = mkstemp(path);
	struct smbd_ea *eas, *got;
	struct smbd_ea del = { .name = "eaone", .value_len = 0 };
	size_t n, ngot;
	uint32_t size;
	char buf[64];
	ssize_t len;

	assert_true(fd >= 0);
	assert_true(NT_STATUS_IS_OK(smbd_ea_parse_full_list(
		ctx, two_eas, sizeof(two_eas), &eas, &n)));
	if (fsetxattr(fd, "user.probe", "x", 1, 0) == -1) {
		close(fd);
		unlink(path);
		skip(); /* no user xattrs on /tmp */
	}
	assert_true(NT_STATUS_IS_OK(smbd_ea_size_fd(fd, &size)));
	assert_int_equal(size, 0);
	assert_true(NT_STATUS_IS_OK(smbd_ea_set(fd, eas, n, false)));
	/* the stored form */
	len = fgetxattr(fd, "user.smb3.ea.EAONE", buf, sizeof(buf));
	assert_int_equal(len, 4 + 6);
	assert_memory_equal(buf, "\x01\x00\x00\x00VALUE1", 10);
	assert_true(NT_STATUS_IS_OK(smbd_ea_list(fd, ctx, &got, &ngot)));
	assert_int_equal(ngot, 2);
	assert_string_equal(got[0].name, "EAONE");
	assert_string_equal(got[1].name, "SECONDEA");
	assert_int_equal(got[1].flags, 0x80);
	assert_true(NT_STATUS_IS_OK(smbd_ea_size_fd(fd, &size)));
	assert_int_equal(size, sizeof(two_eas));
	{
		/* by a directory fd and name, as QUERY_DIRECTORY does */
		char dir[] = "/tmp";
		int dfd = open(dir, O_RDONLY | O_DIRECTORY);
		assert_true(NT_STATUS_IS_OK(
			smbd_ea_size_at(dfd, path + 5, &size)));
		assert_int_equal(size, sizeof(two_eas));
		close(dfd);
	}
	/* case-insensitive delete */
	assert_true(NT_STATUS_IS_OK(smbd_ea_set(fd, &del, 1, false)));
	assert_true(NT_STATUS_IS_OK(smbd_ea_list(fd, ctx, &got, &ngot)));
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0].name, "SECONDEA");
	/* a lower-case set replaces and is stored upper-cased */
	{
		struct smbd_ea e = { .name = "secondea",
				     .value = (uint8_t *)"new",
				     .value_len = 3 };
		assert_true(NT_STATUS_IS_OK(smbd_ea_set(fd, &e, 1, false)));
		assert_true(NT_STATUS_IS_OK(
			smbd_ea_list(fd, ctx, &got, &ngot)));
		assert_int_equal(ngot, 1);
		assert_string_equal(got[0].name, "SECONDEA");
		assert_int_equal(got[0].value_len, 3);
	}
	/* the names of server metadata xattrs are refused */
	{
		struct smbd_ea e = { .name = "Trusted.SMB3.ntacl",
				     .value = (uint8_t *)"x",
				     .value_len = 1 };
		assert_true(NT_STATUS_EQUAL(smbd_ea_set(fd, &e, 1, false),
					    NT_STATUS_ACCESS_DENIED));
		e.name = "security.NTACL";
		assert_true(NT_STATUS_EQUAL(smbd_ea_set(fd, &e, 1, false),
					    NT_STATUS_ACCESS_DENIED));
		e.name = "user.smb3.stream.x";
		assert_true(NT_STATUS_EQUAL(smbd_ea_set(fd, &e, 1, false),
					    NT_STATUS_ACCESS_DENIED));
		assert_false(smbd_ea_name_reserved("user.other"));
	}
	/* a set beyond 64 KiB - 5 changes nothing */
	{
		uint8_t *big = talloc_zero_array(ctx, uint8_t, 65535);
		struct smbd_ea e[2] = {
			{ .name = "BIG", .value = big, .value_len = 65000 },
			{ .name = "BIG2", .value = big, .value_len = 1000 },
		};
		assert_true(NT_STATUS_EQUAL(smbd_ea_set(fd, e, 2, false),
					    NT_STATUS_EA_TOO_LARGE));
		assert_true(NT_STATUS_IS_OK(
			smbd_ea_list(fd, ctx, &got, &ngot)));
		assert_int_equal(ngot, 1);
	}
	/* replace_all drops what was there */
	assert_true(NT_STATUS_IS_OK(smbd_ea_set(fd, eas, 1, true)));
	assert_true(NT_STATUS_IS_OK(smbd_ea_list(fd, ctx, &got, &ngot)));
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0].name, "EAONE");
	/* the server's other xattrs are not EAs */
	assert_int_equal(fsetxattr(fd, "user.DOSATTRIB", "x", 1, 0), 0);
	assert_true(NT_STATUS_IS_OK(smbd_ea_list(fd, ctx, &got, &ngot)));
	assert_int_equal(ngot, 1);
	close(fd);
	unlink(path);
	talloc_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_encoding),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_get),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
