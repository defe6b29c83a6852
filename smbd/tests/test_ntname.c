/*
 * ntname: which wire names become which relative paths, and which
 * NTSTATUS each rejected name gets ([MS-SMB2] 3.3.5.9, [MS-FSCC] 2.1.5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/util/charset.h"
#include "smbd/ntname.h"

/* Encode a UTF-8 test string as UTF-16LE; "\\" in C source is the wire
 * separator. */
static uint8_t *u16(TALLOC_CTX *mem_ctx, const char *s, size_t *len)
{
	uint8_t *out = NULL;

	assert_true(utf8_to_utf16le(mem_ctx, s, &out, len));
	return out;
}

static NTSTATUS to_relpath(TALLOC_CTX *mem_ctx, const char *s, char **path,
			   bool *trailing)
{
	size_t len;
	uint8_t *b = u16(mem_ctx, s, &len);

	return ntname_to_relpath(mem_ctx, b, len, path, trailing);
}

static void expect_path(const char *in, const char *want, bool want_trailing)
{
	TALLOC_CTX *t = talloc_new(NULL);
	char *path = NULL;
	bool trailing = !want_trailing;
	NTSTATUS st = to_relpath(t, in, &path, &trailing);

	if (!NT_STATUS_IS_OK(st)) {
		fail_msg("'%s': %s", in, nt_errstr(st));
	}
	assert_string_equal(path, want);
	assert_int_equal(trailing, want_trailing);
	talloc_free(t);
}

static void expect_status(const char *in, NTSTATUS want)
{
	TALLOC_CTX *t = talloc_new(NULL);
	char *path = (char *)"unchanged";
	NTSTATUS st = to_relpath(t, in, &path, NULL);

	if (!NT_STATUS_EQUAL(st, want)) {
		fail_msg("'%s': got %s, want %s", in, nt_errstr(st),
			 nt_errstr(want));
	}
	assert_null(path);
	talloc_free(t);
}

/* Through the stream-aware entry point, as CREATE calls it. */
static void expect_stream_status(const char *in, NTSTATUS want)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct ntname_stream stream;
	char *path = NULL;
	size_t len;
	uint8_t *b = u16(t, in, &len);
	NTSTATUS st = ntname_to_relpath_stream(t, b, len, &path, NULL,
					       &stream);

	if (!NT_STATUS_EQUAL(st, want)) {
		fail_msg("'%s': got %s, want %s", in, nt_errstr(st),
			 nt_errstr(want));
	}
	talloc_free(t);
}

static void test_valid_paths(void **state)
{
	expect_path("", "", false);
	expect_path("file.txt", "file.txt", false);
	expect_path("a\\b\\c.txt", "a/b/c.txt", false);
	expect_path("dir\\", "dir", true);
	expect_path("a\\dir\\", "a/dir", true);
	/* '/' separates too, as in Samba */
	expect_path("a/b\\c", "a/b/c", false);
	expect_path("a/dir/", "a/dir", true);
	expect_path("...", "...", false);
	expect_path(".hidden", ".hidden", false);
	expect_path("a..b", "a..b", false);
	expect_path("with space ", "with space ", false);
	expect_path("caf\xc3\xa9\\\xe2\x82\xac", "caf\xc3\xa9/\xe2\x82\xac",
		    false);
	/* a supplementary-plane character (surrogate pair on the wire) */
	expect_path("\xf0\x9f\x98\x80.txt", "\xf0\x9f\x98\x80.txt", false);
}

static void test_leading_separator(void **state)
{
	/* [MS-SMB2] 3.3.5.9 */
	expect_status("\\file", NT_STATUS_INVALID_PARAMETER);
	expect_status("\\", NT_STATUS_INVALID_PARAMETER);
	expect_status("/file", NT_STATUS_INVALID_PARAMETER);
}

static void test_invalid_characters(void **state)
{
	static const char *const bad[] = {
		"a:stream", "a*", "?", "a<b", "a>b", "a\"b", "a|b",
		"dir\\a*b", "a//b", "tab\there", "cr\r", "x\x1f",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_status(bad[i], NT_STATUS_OBJECT_NAME_INVALID);
	}
}

static void test_bad_components(void **state)
{
	expect_status("a\\\\b", NT_STATUS_OBJECT_NAME_INVALID);
	expect_status("a\\\\", NT_STATUS_OBJECT_NAME_INVALID);
	/* a name that resolves to nothing names no object (Samba 4.17
	 * answers these so; the share root is opened by the empty name) */
	expect_status(".", NT_STATUS_OBJECT_NAME_INVALID);
	expect_status("a\\..", NT_STATUS_OBJECT_NAME_INVALID);
	expect_status("a\\..\\", NT_STATUS_OBJECT_NAME_INVALID);
	expect_status("a\\.\\..", NT_STATUS_OBJECT_NAME_INVALID);
	/* a ".." that would leave the share */
	expect_status("..", NT_STATUS_OBJECT_PATH_SYNTAX_BAD);
	expect_status("..\\etc\\passwd", NT_STATUS_OBJECT_PATH_SYNTAX_BAD);
	expect_status("a\\..\\..", NT_STATUS_OBJECT_PATH_SYNTAX_BAD);
	expect_status("a\\..\\..\\a", NT_STATUS_OBJECT_PATH_SYNTAX_BAD);
	expect_status("a\\b\\..\\..\\..\\etc", NT_STATUS_OBJECT_PATH_SYNTAX_BAD);
	expect_status("a/../../x", NT_STATUS_OBJECT_PATH_SYNTAX_BAD);
	expect_status(".\\..", NT_STATUS_OBJECT_PATH_SYNTAX_BAD);
	/* character classes are checked before the dots resolve */
	expect_status("a*\\..", NT_STATUS_OBJECT_NAME_INVALID);
	/* a stream on a dot component */
	expect_stream_status("a\\.:s", NT_STATUS_OBJECT_NAME_INVALID);
	expect_stream_status("a\\b\\..:s", NT_STATUS_OBJECT_NAME_INVALID);
}

/* "." and ".." inside the share resolve as on Windows and Samba
 * (smb2.notify.tree opens "BASEDIR\\zqy\\.."). */
static void test_dot_components(void **state)
{
	expect_path("a\\.", "a", false);
	expect_path(".\\a", "a", false);
	expect_path("a\\.\\b", "a/b", false);
	expect_path("a\\.\\", "a", true);
	expect_path("a\\b\\..", "a", false);
	expect_path("a\\b\\..\\", "a", true);
	expect_path("a\\..\\b", "b", false);
	expect_path("a\\b\\..\\..\\c", "c", false);
	expect_path("a\\b\\..\\.\\.", "a", false);
	expect_path("dir\\zqy\\..", "dir", false);
	expect_path("a/b/../c", "a/c", false);
	expect_path("a\\...\\..", "a", false);
	expect_path("..x\\x..", "..x/x..", false);
}

static void test_component_length(void **state)
{
	TALLOC_CTX *t = talloc_new(NULL);
	char name[300];
	char *path;

	memset(name, 'x', 255);
	name[255] = '\0';
	expect_path(name, name, false);
	assert_true(NT_STATUS_IS_OK(ntname_check_component(name, 0)));

	memset(name, 'x', 256);
	name[256] = '\0';
	expect_status(name, NT_STATUS_OBJECT_NAME_INVALID);
	assert_true(NT_STATUS_EQUAL(ntname_check_component(name, 0),
				    NT_STATUS_OBJECT_NAME_INVALID));

	/* the limit is per component, not per path */
	path = talloc_asprintf(t, "%.255s\\%.255s", name, name);
	{
		char *want = talloc_strdup(t, path);

		want[255] = '/';
		expect_path(path, want, false);
	}

	/* 128 emoji are 256 UTF-16 units though 128 characters */
	{
		char *emoji = talloc_strdup(t, "");
		int i;

		for (i = 0; i < 127; i++) {
			emoji = talloc_strdup_append(emoji, "\xf0\x9f\x98\x80");
		}
		assert_true(NT_STATUS_IS_OK(ntname_check_component(emoji, 0)));
		expect_path(emoji, emoji, false);
		emoji = talloc_strdup_append(emoji, "\xf0\x9f\x98\x80");
		assert_true(NT_STATUS_EQUAL(ntname_check_component(emoji, 0),
					    NT_STATUS_OBJECT_NAME_INVALID));
		expect_status(emoji, NT_STATUS_OBJECT_NAME_INVALID);
	}
	talloc_free(t);
}

static void test_malformed_utf16(void **state)
{
	TALLOC_CTX *t = talloc_new(NULL);
	/* 'a' then an unpaired high surrogate */
	static const uint8_t lone_surrogate[] = { 'a', 0, 0x00, 0xD8 };
	static const uint8_t odd[] = { 'a', 0, 'b' };
	static const uint8_t nul[] = { 'a', 0, 0, 0, 'b', 0 };
	char *path = NULL;

	assert_true(NT_STATUS_EQUAL(
		ntname_to_relpath(t, lone_surrogate, sizeof(lone_surrogate),
				  &path, NULL),
		NT_STATUS_OBJECT_NAME_INVALID));
	assert_true(NT_STATUS_EQUAL(
		ntname_to_relpath(t, odd, sizeof(odd), &path, NULL),
		NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_EQUAL(
		ntname_to_relpath(t, nul, sizeof(nul), &path, NULL),
		NT_STATUS_OBJECT_NAME_INVALID));
	assert_null(path);
	talloc_free(t);
}

static void test_component_helpers(void **state)
{
	TALLOC_CTX *t = talloc_new(NULL);
	size_t len;
	uint8_t *b;
	char *c = NULL;

	b = u16(t, "*.txt", &len);
	assert_true(NT_STATUS_IS_OK(ntname_component_from_utf16(
		t, b, len, NTNAME_ALLOW_WILDCARDS, &c)));
	assert_string_equal(c, "*.txt");
	assert_true(NT_STATUS_EQUAL(
		ntname_component_from_utf16(t, b, len, 0, &c),
		NT_STATUS_OBJECT_NAME_INVALID));
	assert_null(c);

	b = u16(t, "<\">?", &len);
	assert_true(NT_STATUS_IS_OK(ntname_component_from_utf16(
		t, b, len, NTNAME_ALLOW_WILDCARDS, &c)));

	b = u16(t, "a\\b", &len);
	assert_true(NT_STATUS_EQUAL(
		ntname_component_from_utf16(t, b, len, NTNAME_ALLOW_WILDCARDS,
					    &c),
		NT_STATUS_OBJECT_NAME_INVALID));
	assert_true(NT_STATUS_EQUAL(
		ntname_component_from_utf16(t, b, 0, 0, &c),
		NT_STATUS_OBJECT_NAME_INVALID));

	/* wildcards still never allow the other forbidden characters */
	b = u16(t, "a:b", &len);
	assert_true(NT_STATUS_EQUAL(
		ntname_component_from_utf16(t, b, len, NTNAME_ALLOW_WILDCARDS,
					    &c),
		NT_STATUS_OBJECT_NAME_INVALID));

	assert_true(NT_STATUS_IS_OK(ntname_check_component("new name.txt", 0)));
	assert_true(NT_STATUS_EQUAL(ntname_check_component("", 0),
				    NT_STATUS_OBJECT_NAME_INVALID));
	assert_true(NT_STATUS_EQUAL(ntname_check_component("a/b", 0),
				    NT_STATUS_OBJECT_NAME_INVALID));
	assert_true(NT_STATUS_EQUAL(ntname_check_component("a\\b", 0),
				    NT_STATUS_OBJECT_NAME_INVALID));
	assert_true(NT_STATUS_EQUAL(ntname_check_component("a*", 0),
				    NT_STATUS_OBJECT_NAME_INVALID));
	assert_true(NT_STATUS_IS_OK(
		ntname_check_component("a*", NTNAME_ALLOW_WILDCARDS)));
	assert_true(NT_STATUS_EQUAL(ntname_check_component("..", 0),
				    NT_STATUS_OBJECT_PATH_SYNTAX_BAD));
	talloc_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_paths),
		cmocka_unit_test(test_leading_separator),
		cmocka_unit_test(test_invalid_characters),
		cmocka_unit_test(test_bad_components),
		cmocka_unit_test(test_dot_components),
		cmocka_unit_test(test_component_length),
		cmocka_unit_test(test_malformed_utf16),
		cmocka_unit_test(test_component_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
