/*
 * Alternate data streams: the CREATE/rename stream name parser
 * ([MS-FSCC] 2.1.5.3, 2.1.5.4; [MS-FSA] 2.1.5.15.11.1), the xattr value
 * encoding (known bytes, see streams.h), case-insensitive names, and the
 * store itself on a real file in $TMPDIR (skipped where the file system
 * has no user xattrs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/xattr.h>

#include <cmocka.h>

#include "lib/util/byteorder.h"
#include "lib/util/charset.h"
#include "smbd/ntname.h"
#include "smbd/smbd.h"
#include "smbd/streams.h"

static uint8_t *u16(TALLOC_CTX *mem_ctx, const char *s, size_t *len)
{
	uint8_t *out = NULL;

	assert_true(utf8_to_utf16le(mem_ctx, s, &out, len));
	return out;
}

/* want_stream: NULL = no stream part at all; "" = "::$DATA" */
static void expect_stream(const char *in, const char *want_path,
			  const char *want_stream)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct ntname_stream stream;
	char *path = NULL;
	size_t len;
	uint8_t *b = u16(t, in, &len);
	NTSTATUS st = ntname_to_relpath_stream(t, b, len, &path, NULL, &stream);

	if (!NT_STATUS_IS_OK(st)) {
		fail_msg("'%s': %s", in, nt_errstr(st));
	}
	assert_string_equal(path, want_path);
	if (want_stream == NULL) {
		assert_false(stream.present);
		assert_null(stream.name);
	} else if (want_stream[0] == '\0') {
		assert_true(stream.present);
		assert_null(stream.name);
	} else {
		assert_true(stream.present);
		assert_non_null(stream.name);
		assert_string_equal(stream.name, want_stream);
	}
	talloc_free(t);
}

static void expect_stream_status(const char *in, NTSTATUS want)
{
	TALLOC_CTX *t = talloc_new(NULL);
	struct ntname_stream stream;
	char *path = (char *)"unchanged";
	size_t len;
	uint8_t *b = u16(t, in, &len);
	NTSTATUS st = ntname_to_relpath_stream(t, b, len, &path, NULL, &stream);

	if (!NT_STATUS_EQUAL(st, want)) {
		fail_msg("'%s': got %s, want %s", in, nt_errstr(st),
			 nt_errstr(want));
	}
	assert_null(path);
	assert_null(stream.name);
	talloc_free(t);
}

static void test_parse_valid(void **state)
{
	(void)state;
	expect_stream("a.txt", "a.txt", NULL);
	expect_stream("a.txt:s", "a.txt", "s");
	expect_stream("a.txt:s:$DATA", "a.txt", "s");
	expect_stream("a.txt:Second Stream:$DaTa", "a.txt", "Second Stream");
	expect_stream("a.txt::$DATA", "a.txt", "");
	expect_stream("a.txt::$data", "a.txt", "");
	expect_stream("dir\\sub\\a.txt:Stream One", "dir/sub/a.txt",
		      "Stream One");
	/* smb2.streams.names: control characters and wildcards are valid
	 * in a stream name */
	expect_stream("f:\x05Stream\n One", "f", "\x05Stream\n One");
	expect_stream("f:?Stream*:$DATA", "f", "?Stream*");
	expect_stream("f:<>\"|", "f", "<>\"|");
	/* a stream of the share root */
	expect_stream(":s", "", "s");
	expect_stream("::$DATA", "", "");
	/* non-ASCII */
	expect_stream("f:Str\xc3\xa4m", "f", "Str\xc3\xa4m");
}

static void test_parse_invalid(void **state)
{
	char longname[300];

	(void)state;
	/* empty or wrong stream types ([MS-FSCC] 2.1.5.4) */
	expect_stream_status("a.txt:", NT_STATUS_OBJECT_NAME_INVALID);
	expect_stream_status("a.txt::", NT_STATUS_OBJECT_NAME_INVALID);
	expect_stream_status("a.txt:s:", NT_STATUS_OBJECT_NAME_INVALID);
	expect_stream_status("a.txt:s:$FOO", NT_STATUS_OBJECT_NAME_INVALID);
	expect_stream_status("a.txt:s:?D*a", NT_STATUS_OBJECT_NAME_INVALID);
	expect_stream_status("a.txt:s:$DATA:x", NT_STATUS_OBJECT_NAME_INVALID);
	expect_stream_status("a.txt::$INDEX_ALLOCATION",
			     NT_STATUS_OBJECT_NAME_INVALID);
	/* smb2.streams.names2: '/', ':' and '\\' are the invalid ones */
	expect_stream_status("a.txt:Stream/0x2F:$DATA",
			     NT_STATUS_OBJECT_NAME_INVALID);
	expect_stream_status("a.txt:Stream:0x3A:$DATA",
			     NT_STATUS_OBJECT_NAME_INVALID);
	expect_stream_status("a.txt:Stream\\0x5C:$DATA",
			     NT_STATUS_OBJECT_NAME_INVALID);
	/* a ':' before the last component: the "stream" holds a '\\' */
	expect_stream_status("a:b\\c", NT_STATUS_OBJECT_NAME_INVALID);
	/* the base name is checked as without a stream */
	expect_stream_status("dir\\stream*:?Stream*:$DATA",
			     NT_STATUS_OBJECT_NAME_INVALID);
	expect_stream_status("\\a.txt:s", NT_STATUS_INVALID_PARAMETER);
	expect_stream_status("..\\a:s", NT_STATUS_OBJECT_PATH_SYNTAX_BAD);
	expect_stream_status("dir\\:s", NT_STATUS_OBJECT_NAME_INVALID);
	/* 256 units is one too many */
	memset(longname, 'x', sizeof(longname));
	memcpy(longname, "f:", 2);
	longname[2 + 256] = '\0';
	expect_stream_status(longname, NT_STATUS_OBJECT_NAME_INVALID);
	longname[2 + 255] = '\0';
	expect_stream(longname, "f", longname + 2);
}

static void expect_rename(const char *in, NTSTATUS want, const char *name)
{
	TALLOC_CTX *t = talloc_new(NULL);
	char *out = (char *)"unchanged";
	size_t len;
	uint8_t *b = u16(t, in, &len);
	NTSTATUS st = ntname_stream_rename_target(t, b, len, &out);

	if (!NT_STATUS_EQUAL(st, want)) {
		fail_msg("'%s': got %s, want %s", in, nt_errstr(st),
			 nt_errstr(want));
	}
	if (name == NULL) {
		assert_null(out);
	} else {
		assert_string_equal(out, name);
	}
	talloc_free(t);
}

static void test_parse_rename_target(void **state)
{
	(void)state;
	expect_rename(":AfterRename:$DATA", NT_STATUS_OK, "AfterRename");
	expect_rename(":Stream One", NT_STATUS_OK, "Stream One");
	expect_rename("::$DATA", NT_STATUS_OK, NULL);
	/* [MS-FSA] 2.1.5.15.11.1: INVALID_PARAMETER for every bad form */
	expect_rename(":", NT_STATUS_INVALID_PARAMETER, NULL);
	expect_rename("::", NT_STATUS_INVALID_PARAMETER, NULL);
	expect_rename(":a:", NT_STATUS_INVALID_PARAMETER, NULL);
	expect_rename(":a:$FOO", NT_STATUS_INVALID_PARAMETER, NULL);
	expect_rename(":a/b", NT_STATUS_INVALID_PARAMETER, NULL);
	expect_rename("name", NT_STATUS_INVALID_PARAMETER, NULL);
}

/* Known answer: "abc" -> version 1, reserved 0, length 3, data. */
static void test_encoding(void **state)
{
	static const uint8_t want[] = { 0x01, 0x00, 0x00, 0x00, 0x03, 0x00,
					0x00, 0x00, 'a',  'b',  'c' };
	TALLOC_CTX *t = talloc_new(NULL);
	const uint8_t *data;
	uint8_t *blob, bad[sizeof(want)];
	size_t blob_len, len;

	(void)state;
	assert_true(NT_STATUS_IS_OK(smbd_stream_encode(
		t, (const uint8_t *)"abc", 3, &blob, &blob_len)));
	assert_int_equal(blob_len, sizeof(want));
	assert_memory_equal(blob, want, sizeof(want));

	assert_true(NT_STATUS_IS_OK(
		smbd_stream_decode(want, sizeof(want), &data, &len)));
	assert_int_equal(len, 3);
	assert_memory_equal(data, "abc", 3);

	/* empty stream: the header alone */
	assert_true(NT_STATUS_IS_OK(smbd_stream_decode(want, 8, &data, &len)) ==
		    false);
	memcpy(bad, want, 8);
	PUSH_LE32(bad, 4, 0);
	assert_true(NT_STATUS_IS_OK(smbd_stream_decode(bad, 8, &data, &len)));
	assert_int_equal(len, 0);

	/* short, other version, length mismatch */
	assert_true(NT_STATUS_EQUAL(smbd_stream_decode(want, 7, &data, &len),
				    NT_STATUS_FILE_CORRUPT_ERROR));
	memcpy(bad, want, sizeof(bad));
	bad[0] = 2;
	assert_true(NT_STATUS_EQUAL(
		smbd_stream_decode(bad, sizeof(bad), &data, &len),
		NT_STATUS_FILE_CORRUPT_ERROR));
	memcpy(bad, want, sizeof(bad));
	bad[4] = 4;
	assert_true(NT_STATUS_EQUAL(
		smbd_stream_decode(bad, sizeof(bad), &data, &len),
		NT_STATUS_FILE_CORRUPT_ERROR));
	/* 64 KiB value limit */
	assert_true(NT_STATUS_EQUAL(
		smbd_stream_encode(t, NULL, SMBD_STREAM_MAX_SIZE + 1, &blob,
				   &blob_len),
		NT_STATUS_DISK_FULL));
	talloc_free(t);
}

static void test_name_equal(void **state)
{
	(void)state;
	assert_true(smbd_stream_name_equal("StreamName", "STREAMNAME"));
	assert_true(smbd_stream_name_equal("StreamName", "streamname"));
	assert_true(smbd_stream_name_equal("\xc3\x84rger", "\xc3\xa4RGER"));
	assert_true(smbd_stream_name_equal("\xce\xa3", "\xcf\x83"));
	assert_false(smbd_stream_name_equal("a", "ab"));
	assert_false(smbd_stream_name_equal("ab", "a"));
	assert_false(smbd_stream_name_equal("a", "b"));
	/* invalid UTF-8 compares bytewise */
	assert_true(smbd_stream_name_equal("\xff", "\xff"));
	assert_false(smbd_stream_name_equal("\xff", "\xfe"));
}

/* FileStreamInformation ([MS-FSCC] 2.4.44): "::$DATA" of a 6-byte file
 * (alloc 4096) and ":ab:$DATA" of 3 bytes, byte for byte. */
static void test_stream_info(void **state)
{
	static const uint8_t want[] = {
		/* entry 1 at 0: next 40, name 14 bytes, size 6, alloc 4096 */
		40, 0, 0, 0, 14, 0, 0, 0,
		6, 0, 0, 0, 0, 0, 0, 0,
		0, 0x10, 0, 0, 0, 0, 0, 0,
		':', 0, ':', 0, '$', 0, 'D', 0, 'A', 0, 'T', 0, 'A', 0,
		0, 0, /* pad to 40 */
		/* entry 2 at 40: last, name 18 bytes, size 3, alloc 4096 */
		0, 0, 0, 0, 18, 0, 0, 0,
		3, 0, 0, 0, 0, 0, 0, 0,
		0, 0x10, 0, 0, 0, 0, 0, 0,
		':', 0, 'a', 0, 'b', 0, ':', 0, '$', 0, 'D', 0, 'A', 0,
		'T', 0, 'A', 0,
	};
	struct smbd_stream_info one = { .name = (char *)"ab", .size = 3,
					.alloc_size = 4096 };
	TALLOC_CTX *t = talloc_new(NULL);
	uint8_t *out;
	size_t len;

	(void)state;
	assert_true(NT_STATUS_IS_OK(smbd_streams_encode_info(
		t, true, 6, 4096, &one, 1, &out, &len)));
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	/* a directory with no streams: nothing at all */
	assert_true(NT_STATUS_IS_OK(smbd_streams_encode_info(
		t, false, 0, 0, NULL, 0, &out, &len)));
	assert_int_equal(len, 0);
	assert_null(out);
	/* a directory's stream alone: starts at 0, last entry */
	assert_true(NT_STATUS_IS_OK(smbd_streams_encode_info(
		t, false, 0, 0, &one, 1, &out, &len)));
	assert_int_equal(len, 24 + 18);
	assert_memory_equal(out, want + 40, 24 + 18);
	talloc_free(t);
}

/* The open -> stream record lives and dies with the open. */
static void test_open_record(void **state)
{
	struct smbd_open *a = talloc_zero(NULL, struct smbd_open);
	struct smbd_open *b = talloc_zero(NULL, struct smbd_open);

	(void)state;
	assert_null(smbd_open_stream(a));
	assert_true(NT_STATUS_IS_OK(smbd_open_set_stream(a, "one")));
	assert_string_equal(smbd_open_stream(a), "one");
	assert_null(smbd_open_stream(b));
	/* a stream rename updates the record */
	assert_true(NT_STATUS_IS_OK(smbd_open_set_stream(a, "two")));
	assert_string_equal(smbd_open_stream(a), "two");
	assert_true(NT_STATUS_IS_OK(smbd_open_set_stream(b, "three")));
	talloc_free(a);
	assert_string_equal(smbd_open_stream(b), "three");
	/* a new open at the freed address must not inherit the record */
	a = talloc_zero(NULL, struct smbd_open);
	if (a != b) {
		assert_null(smbd_open_stream(a));
	}
	talloc_free(a);
	talloc_free(b);
}

struct store_fixture {
	char path[256];
	int fd;
};

static int store_setup(void **state)
{
	struct store_fixture *f = calloc(1, sizeof(*f));
	const char *dir = getenv("TMPDIR");

	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "%s/test_streams.XXXXXX",
		 dir != NULL ? dir : "/tmp");
	f->fd = mkstemp(f->path);
	assert_true(f->fd != -1);
	*state = f;
	return 0;
}

static int store_teardown(void **state)
{
	struct store_fixture *f = *state;

	close(f->fd);
	unlink(f->path);
	free(f);
	return 0;
}

static bool have_user_xattrs(int fd)
{
	if (fsetxattr(fd, "user.test_streams_probe", "x", 1, 0) == 0) {
		fremovexattr(fd, "user.test_streams_probe");
		return true;
	}
	return false;
}

static void test_store(void **state)
{
	struct store_fixture *f = *state;
	TALLOC_CTX *t = talloc_new(NULL);
	struct smbd_stream_info *list;
	uint8_t buf[64];
	char *stored = NULL;
	uint64_t size = 99;
	size_t n, count;
	int opath;

	if (!have_user_xattrs(f->fd)) {
		skip();
	}
	assert_true(NT_STATUS_IS_OK(smbd_streams_list(f->fd, t, &list, &count)));
	assert_int_equal(count, 0);

	assert_true(NT_STATUS_IS_OK(smbd_stream_create(f->fd, "StreamName")));
	assert_true(NT_STATUS_EQUAL(smbd_stream_create(f->fd, "STREAMNAME"),
				    NT_STATUS_OBJECT_NAME_COLLISION));
	/* the raw value: header only */
	assert_int_equal(fgetxattr(f->fd, "user.smb3.stream.StreamName", buf,
				   sizeof(buf)),
			 8);
	assert_true(NT_STATUS_IS_OK(smbd_stream_find(f->fd, t, "streamNAME",
						     &stored, &size)));
	assert_string_equal(stored, "StreamName");
	assert_int_equal(size, 0);
	assert_true(NT_STATUS_EQUAL(
		smbd_stream_find(f->fd, t, "other", NULL, NULL),
		NT_STATUS_OBJECT_NAME_NOT_FOUND));

	/* write "test data", then "MORE DATA " at 5 (smb2.streams.io) */
	assert_true(NT_STATUS_IS_OK(smbd_stream_write(
		f->fd, "streamname", (const uint8_t *)"test data", 9, 0, false,
		&n)));
	assert_int_equal(n, 9);
	assert_true(NT_STATUS_IS_OK(smbd_stream_write(
		f->fd, "StreamName", (const uint8_t *)"MORE DATA ", 10, 5,
		false, &n)));
	assert_true(NT_STATUS_IS_OK(
		smbd_stream_read(f->fd, "StreamName", buf, sizeof(buf), 0, &n)));
	assert_int_equal(n, 15);
	assert_memory_equal(buf, "test MORE DATA ", 15);
	/* partial and past-the-end reads */
	assert_true(NT_STATUS_IS_OK(
		smbd_stream_read(f->fd, "StreamName", buf, 4, 5, &n)));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "MORE", 4);
	assert_true(NT_STATUS_IS_OK(
		smbd_stream_read(f->fd, "StreamName", buf, 4, 15, &n)));
	assert_int_equal(n, 0);
	/* a gap reads as zeros; append ignores the offset */
	assert_true(NT_STATUS_IS_OK(smbd_stream_write(
		f->fd, "StreamName", (const uint8_t *)"Z", 1, 20, false, &n)));
	assert_true(NT_STATUS_IS_OK(smbd_stream_write(
		f->fd, "StreamName", (const uint8_t *)"A", 1, 0, true, &n)));
	assert_true(NT_STATUS_IS_OK(
		smbd_stream_read(f->fd, "StreamName", buf, sizeof(buf), 15, &n)));
	assert_int_equal(n, 7);
	assert_memory_equal(buf, "\0\0\0\0\0ZA", 7);
	/* truncate down and up */
	assert_true(NT_STATUS_IS_OK(smbd_stream_truncate(f->fd, "StreamName", 4)));
	assert_true(NT_STATUS_IS_OK(smbd_stream_truncate(f->fd, "StreamName", 6)));
	assert_true(NT_STATUS_IS_OK(
		smbd_stream_read(f->fd, "StreamName", buf, sizeof(buf), 0, &n)));
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "test\0\0", 6);
	/* beyond the xattr value limit */
	assert_true(NT_STATUS_EQUAL(
		smbd_stream_write(f->fd, "StreamName", (const uint8_t *)"x", 1,
				  SMBD_STREAM_MAX_SIZE, false, &n),
		NT_STATUS_DISK_FULL));
	assert_true(NT_STATUS_EQUAL(
		smbd_stream_truncate(f->fd, "StreamName",
				     SMBD_STREAM_MAX_SIZE + 1),
		NT_STATUS_DISK_FULL));

	/* list with sizes; other xattrs are not streams */
	assert_int_equal(fsetxattr(f->fd, "user.DOSATTRIB", "x", 1, 0), 0);
	assert_true(NT_STATUS_IS_OK(smbd_stream_create(f->fd, "Empty")));
	assert_true(NT_STATUS_IS_OK(smbd_streams_list(f->fd, t, &list, &count)));
	assert_int_equal(count, 2);
	for (n = 0; n < count; n++) {
		if (strcmp(list[n].name, "Empty") == 0) {
			assert_int_equal(list[n].size, 0);
			assert_int_equal(list[n].alloc_size, 0);
		} else {
			assert_string_equal(list[n].name, "StreamName");
			assert_int_equal(list[n].size, 6);
			assert_int_equal(list[n].alloc_size, 4096);
		}
	}

	/* rename rules ([MS-FSA] 2.1.5.15.11.1 as Windows shows them) */
	assert_true(NT_STATUS_EQUAL(
		smbd_stream_rename(f->fd, t, "empty", "STREAMNAME", false),
		NT_STATUS_OBJECT_NAME_COLLISION));
	assert_true(NT_STATUS_EQUAL(
		smbd_stream_rename(f->fd, t, "empty", "streamname", true),
		NT_STATUS_INVALID_PARAMETER));
	/* replacing an empty stream works */
	assert_true(NT_STATUS_IS_OK(
		smbd_stream_rename(f->fd, t, "streamname", "EMPTY", true)));
	assert_true(NT_STATUS_IS_OK(smbd_stream_find(f->fd, t, "empty",
						     &stored, &size)));
	assert_string_equal(stored, "EMPTY");
	assert_int_equal(size, 6);
	assert_true(NT_STATUS_EQUAL(
		smbd_stream_find(f->fd, t, "StreamName", NULL, NULL),
		NT_STATUS_OBJECT_NAME_NOT_FOUND));
	/* a change of case only */
	assert_true(NT_STATUS_IS_OK(
		smbd_stream_rename(f->fd, t, "EMPTY", "Empty", false)));
	assert_true(NT_STATUS_IS_OK(smbd_stream_find(f->fd, t, "EMPTY",
						     &stored, NULL)));
	assert_string_equal(stored, "Empty");

	/* an O_PATH descriptor works through /proc/self/fd */
	opath = open(f->path, O_PATH);
	assert_true(opath != -1);
	assert_true(NT_STATUS_IS_OK(
		smbd_stream_read(opath, "empty", buf, sizeof(buf), 0, &n)));
	assert_int_equal(n, 6);
	assert_true(NT_STATUS_IS_OK(smbd_stream_create(opath, "second")));
	close(opath);

	/* a value of another version is not ours to read */
	assert_int_equal(fsetxattr(f->fd, "user.smb3.stream.bad",
				   "\x02\0\0\0\0\0\0\0", 8, 0),
			 0);
	assert_true(NT_STATUS_EQUAL(
		smbd_stream_read(f->fd, "bad", buf, sizeof(buf), 0, &n),
		NT_STATUS_FILE_CORRUPT_ERROR));

	/* delete one, then all; user.DOSATTRIB stays */
	assert_true(NT_STATUS_IS_OK(smbd_stream_delete(f->fd, "SECOND")));
	assert_true(NT_STATUS_EQUAL(smbd_stream_delete(f->fd, "second"),
				    NT_STATUS_OBJECT_NAME_NOT_FOUND));
	assert_true(NT_STATUS_IS_OK(smbd_streams_delete_all(f->fd)));
	assert_true(NT_STATUS_IS_OK(smbd_streams_list(f->fd, t, &list, &count)));
	assert_int_equal(count, 0);
	assert_int_equal(fgetxattr(f->fd, "user.DOSATTRIB", buf, sizeof(buf)),
			 1);
	/* operations on a missing stream */
	assert_true(NT_STATUS_EQUAL(
		smbd_stream_write(f->fd, "gone", (const uint8_t *)"x", 1, 0,
				  false, &n),
		NT_STATUS_OBJECT_NAME_NOT_FOUND));
	talloc_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_rename_target),
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_name_equal),
		cmocka_unit_test(test_stream_info),
		cmocka_unit_test(test_open_record),
		cmocka_unit_test_setup_teardown(test_store, store_setup,
						store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
