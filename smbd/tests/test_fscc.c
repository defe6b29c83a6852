/*
 * [MS-FSCC] information class layouts, NT time conversion and the
 * DOSATTRIB xattr round trip.  Expected buffers are assembled by hand
 * from the field tables of [MS-FSCC] 2.4 / 2.5.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "smbd/dosmode.h"
#include "smbd/fscc_info.h"
#include "smbd/smb2_wire.h"

static const struct smbd_file_meta meta = {
	.creation_time = 0x0102030405060708ULL,
	.last_access_time = 0x1112131415161718ULL,
	.last_write_time = 0x2122232425262728ULL,
	.change_time = 0x3132333435363738ULL,
	.allocation_size = 4096,
	.end_of_file = 6,
	.attributes = FILE_ATTRIBUTE_ARCHIVE,
	.index_number = 0xAABBCCDD,
	.nlink = 1,
};

static void test_nt_time(void **s)
{
	struct timespec epoch = { 0, 0 };
	struct timespec t = { 1, 500 };
	struct timespec back;

	/* 1970-01-01 is 116444736000000000 ticks after 1601-01-01 */
	assert_int_equal(nt_time_from_timespec(epoch), 116444736000000000ULL);
	assert_int_equal(nt_time_from_timespec(t), 116444736010000005ULL);
	back = timespec_from_nt_time(116444736010000005ULL);
	assert_int_equal(back.tv_sec, 1);
	assert_int_equal(back.tv_nsec, 500);
	/* before 1601: clamp, do not wrap */
	t.tv_sec = -11644473601LL;
	t.tv_nsec = 0;
	assert_int_equal(nt_time_from_timespec(t), 0);
}

static void test_basic_info(void **s)
{
	static const uint8_t expected[40] = {
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,
		0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21,
		0x38, 0x37, 0x36, 0x35, 0x34, 0x33, 0x32, 0x31,
		0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	struct fscc_file_info fi = { .meta = &meta, .path = "a.txt" };
	uint8_t *out;
	size_t len, fixed;

	assert_true(NT_STATUS_IS_OK(fscc_encode_file_info(
		NULL, FSCC_FILE_BASIC_INFORMATION, &fi, &out, &len, &fixed)));
	assert_int_equal(len, 40);
	assert_int_equal(fixed, 40);
	assert_memory_equal(out, expected, 40);
	talloc_free(out);
}

static void test_standard_and_all(void **s)
{
	struct fscc_file_info fi = { .meta = &meta,
				     .path = "d\\a.txt",
				     .access_mask = 0x0012019f,
				     .position = 77,
				     .mode = 2 };
	static const uint8_t name[] = { '\\', 0, 'd', 0, '\\', 0, 'a', 0,
					'.', 0, 't', 0, 'x', 0, 't', 0 };
	uint8_t *out;
	size_t len, fixed;

	assert_true(NT_STATUS_IS_OK(fscc_encode_file_info(
		NULL, FSCC_FILE_STANDARD_INFORMATION, &fi, &out, &len, &fixed)));
	assert_int_equal(len, 24);
	assert_int_equal(out[0], 0x00); /* AllocationSize 4096 */
	assert_int_equal(out[1], 0x10);
	assert_int_equal(out[8], 6);	/* EndOfFile */
	assert_int_equal(out[16], 1);	/* NumberOfLinks */
	assert_int_equal(out[20], 0);	/* DeletePending */
	assert_int_equal(out[21], 0);	/* Directory */
	talloc_free(out);

	/* FileAllInformation: 100 bytes + the name, refused below 104 */
	assert_true(NT_STATUS_IS_OK(fscc_encode_file_info(
		NULL, FSCC_FILE_ALL_INFORMATION, &fi, &out, &len, &fixed)));
	assert_int_equal(len, 100 + sizeof(name));
	assert_int_equal(fixed, 104);
	assert_int_equal(out[32], FILE_ATTRIBUTE_ARCHIVE);
	assert_int_equal(out[64], 0xDD); /* IndexNumber */
	assert_int_equal(out[76], 0x9f); /* AccessFlags */
	assert_int_equal(out[78], 0x12);
	assert_int_equal(out[80], 77);	 /* CurrentByteOffset */
	assert_int_equal(out[88], 2);	 /* Mode */
	assert_int_equal(out[96], sizeof(name));
	assert_memory_equal(out + 100, name, sizeof(name));
	talloc_free(out);
}

static void test_stream_info(void **s)
{
	static const uint8_t expected[38] = {
		0, 0, 0, 0,		/* NextEntryOffset */
		14, 0, 0, 0,		/* StreamNameLength */
		6, 0, 0, 0, 0, 0, 0, 0, /* StreamSize */
		0, 0x10, 0, 0, 0, 0, 0, 0, /* StreamAllocationSize */
		':', 0, ':', 0, '$', 0, 'D', 0, 'A', 0, 'T', 0, 'A', 0,
	};
	struct smbd_file_meta dir = meta;
	struct fscc_file_info fi = { .meta = &meta, .path = "a" };
	uint8_t *out;
	size_t len, fixed;

	assert_true(NT_STATUS_IS_OK(fscc_encode_file_info(
		NULL, FSCC_FILE_STREAM_INFORMATION, &fi, &out, &len, &fixed)));
	assert_int_equal(len, sizeof(expected));
	assert_int_equal(fixed, 32);
	assert_memory_equal(out, expected, len);
	talloc_free(out);

	dir.is_dir = true;
	fi.meta = &dir;
	assert_true(NT_STATUS_IS_OK(fscc_encode_file_info(
		NULL, FSCC_FILE_STREAM_INFORMATION, &fi, &out, &len, &fixed)));
	assert_int_equal(len, 0);
	talloc_free(out);

	assert_true(NT_STATUS_EQUAL(
		fscc_encode_file_info(NULL, 99, &fi, &out, &len, &fixed),
		NT_STATUS_INVALID_INFO_CLASS));
}

static void test_dir_entries(void **s)
{
	uint8_t buf[256];
	size_t n;

	memset(buf, 0xEE, sizeof(buf));
	/* FileBothDirectoryInformation: name at 94 */
	n = fscc_encode_dir_entry(FSCC_FILE_BOTH_DIRECTORY_INFORMATION, &meta,
				  "longfilename.txt", "LONGF~AB.TXT", buf,
				  sizeof(buf));
	assert_int_equal(n, 94 + 32);
	assert_int_equal(buf[0] | buf[1] | buf[2] | buf[3], 0); /* Next */
	assert_int_equal(buf[4] | buf[5] | buf[6] | buf[7], 0); /* FileIndex */
	assert_int_equal(buf[8], 0x08);		/* CreationTime */
	assert_int_equal(buf[40], 6);		/* EndOfFile */
	assert_int_equal(buf[49], 0x10);	/* AllocationSize */
	assert_int_equal(buf[56], FILE_ATTRIBUTE_ARCHIVE);
	assert_int_equal(buf[60], 32);		/* FileNameLength */
	assert_int_equal(buf[64], 0);		/* EaSize */
	assert_int_equal(buf[68], 24);		/* ShortNameLength */
	assert_int_equal(buf[70], 'L');
	assert_int_equal(buf[94], 'l');

	/* FileIdBothDirectoryInformation: FileId at 96, name at 104 */
	n = fscc_encode_dir_entry(FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION,
				  &meta, "a", NULL, buf, sizeof(buf));
	assert_int_equal(n, 106);
	assert_int_equal(buf[68], 0);
	assert_int_equal(buf[96], 0xDD);
	assert_int_equal(buf[104], 'a');

	/* FileNamesInformation: 12 + name */
	n = fscc_encode_dir_entry(FSCC_FILE_NAMES_INFORMATION, &meta, "ab",
				  NULL, buf, sizeof(buf));
	assert_int_equal(n, 16);
	assert_int_equal(buf[8], 4);
	assert_int_equal(buf[12], 'a');

	/* FileIdFullDirectoryInformation: FileId at 72, name at 80 */
	n = fscc_encode_dir_entry(FSCC_FILE_ID_FULL_DIRECTORY_INFORMATION,
				  &meta, "a", NULL, buf, sizeof(buf));
	assert_int_equal(n, 82);
	assert_int_equal(buf[72], 0xDD);

	/* does not fit */
	assert_int_equal(fscc_encode_dir_entry(FSCC_FILE_DIRECTORY_INFORMATION,
					       &meta, "abc", NULL, buf, 69),
			 0);
	assert_int_equal(fscc_encode_dir_entry(FSCC_FILE_DIRECTORY_INFORMATION,
					       &meta, "abc", NULL, buf, 70),
			 70);
}

static void test_fs_info(void **s)
{
	static const uint8_t attr_expected[20] = {
		0x07, 0, 0, 0, 0xff, 0, 0, 0, 8, 0, 0, 0,
		'N', 0, 'T', 0, 'F', 0, 'S', 0,
	};
	struct fscc_fs_info fsi = {
		.total_units = 1000, .free_units = 10, .actual_free_units = 20,
		.sectors_per_unit = 8, .bytes_per_sector = 512,
		.serial_number = 0x12345678, .label = "share",
		.fs_name = "NTFS", .fs_attributes = 7, .max_component_len = 255,
		.device_characteristics = FILE_DEVICE_IS_MOUNTED,
	};
	uint8_t *out;
	size_t len, fixed;

	assert_true(NT_STATUS_IS_OK(fscc_encode_fs_info(
		NULL, FSCC_FS_ATTRIBUTE_INFORMATION, &fsi, &out, &len, &fixed)));
	assert_int_equal(len, sizeof(attr_expected));
	assert_int_equal(fixed, 16);
	assert_memory_equal(out, attr_expected, len);
	talloc_free(out);

	assert_true(NT_STATUS_IS_OK(fscc_encode_fs_info(
		NULL, FSCC_FS_VOLUME_INFORMATION, &fsi, &out, &len, &fixed)));
	assert_int_equal(len, 18 + 10);
	assert_int_equal(out[8], 0x78);
	assert_int_equal(out[12], 10);
	assert_int_equal(out[18], 's');
	talloc_free(out);

	assert_true(NT_STATUS_IS_OK(fscc_encode_fs_info(
		NULL, FSCC_FS_FULL_SIZE_INFORMATION, &fsi, &out, &len, &fixed)));
	assert_int_equal(len, 32);
	assert_int_equal(out[0] | (out[1] << 8), 1000);
	assert_int_equal(out[8], 10);
	assert_int_equal(out[16], 20);
	assert_int_equal(out[24], 8);
	assert_int_equal(out[28] | (out[29] << 8), 512);
	talloc_free(out);

	assert_true(NT_STATUS_IS_OK(fscc_encode_fs_info(
		NULL, FSCC_FS_DEVICE_INFORMATION, &fsi, &out, &len, &fixed)));
	assert_int_equal(len, 8);
	assert_int_equal(out[0], FILE_DEVICE_DISK);
	assert_int_equal(out[4], FILE_DEVICE_IS_MOUNTED);
	talloc_free(out);
}

/* "hide files" / "veto files" lists, Samba's "/pat/pat/" syntax */
static void test_pattern_list(void **s)
{
	(void)s;
	assert_true(smbd_name_in_pattern_list("/hidefile/", "hidefile"));
	assert_true(smbd_name_in_pattern_list("/hidefile/", "HideFile"));
	assert_false(smbd_name_in_pattern_list("/hidefile/", "hidefile2"));
	assert_false(smbd_name_in_pattern_list("/hidefile/", "xhidefile"));
	assert_true(smbd_name_in_pattern_list("/a/*.tmp/b/", "x.TMP"));
	assert_true(smbd_name_in_pattern_list("/a/*.tmp/b/", "b"));
	assert_false(smbd_name_in_pattern_list("/a/*.tmp/b/", "x.tmpl"));
	assert_true(smbd_name_in_pattern_list("/?.txt/", "\xc3\xa4.txt"));
	assert_false(smbd_name_in_pattern_list("/?.txt/", "ab.txt"));
	assert_true(smbd_name_in_pattern_list("/*a*b*/", "xxaybz"));
	assert_false(smbd_name_in_pattern_list("/*a*b*/", "xxbya"));
	assert_true(smbd_name_in_pattern_list("no-slashes", "NO-SLASHES"));
	assert_true(smbd_name_in_pattern_list("//*//", "anything"));
	assert_false(smbd_name_in_pattern_list("//", "x"));
	assert_false(smbd_name_in_pattern_list(NULL, "x"));
	assert_false(smbd_name_in_pattern_list("/*/", ""));
}

/* The write-time rules of one open (dosmode.h), step by step as the
 * smb2.timestamps delayed-* tests drive them. */
static void test_write_time_rules(void **s)
{
	struct smbd_write_time wt = { 0 };
	uint64_t t = 1;

	(void)s;
	/* first write: delay starts, the pre-write time is reported */
	assert_true(smbd_write_time_note_write(&wt));
	smbd_write_time_pre_write(&wt, 100);
	assert_int_equal(smbd_write_time_report(&wt, 150), 100);
	/* a pending delay makes close store "now" */
	assert_true(smbd_write_time_at_close(&wt, true, &t));
	assert_int_equal(t, 0);
	/* the delay expires: its time is reported and saved at close */
	smbd_write_time_delay_expired(&wt, 300);
	assert_int_equal(smbd_write_time_report(&wt, 150), 300);
	assert_true(smbd_write_time_at_close(&wt, false, &t));
	assert_int_equal(t, 300);
	/* a second write neither restarts the delay nor moves the time,
	 * but close stores "now" */
	assert_false(smbd_write_time_note_write(&wt));
	assert_int_equal(smbd_write_time_report(&wt, 400), 300);
	assert_true(smbd_write_time_at_close(&wt, false, &t));
	assert_int_equal(t, 0);
	/* FLUSH / EOF: updated now, nothing left for close */
	assert_true(smbd_write_time_wants_update(&wt));
	smbd_write_time_updated(&wt, 500);
	assert_int_equal(smbd_write_time_report(&wt, 400), 500);
	assert_false(smbd_write_time_at_close(&wt, false, &t));
	/* a sticky time survives writes and is stored at close */
	smbd_write_time_set_sticky(&wt, 42);
	assert_false(smbd_write_time_note_write(&wt));
	assert_false(smbd_write_time_wants_update(&wt));
	smbd_write_time_delay_expired(&wt, 600);
	smbd_write_time_updated(&wt, 700);
	assert_int_equal(smbd_write_time_report(&wt, 800), 42);
	assert_true(smbd_write_time_at_close(&wt, false, &t));
	assert_int_equal(t, 42);
	/* another open set the time: report the file's, store nothing */
	smbd_write_time_forget(&wt);
	assert_int_equal(smbd_write_time_report(&wt, 800), 800);
	assert_false(smbd_write_time_at_close(&wt, false, &t));

	/* an open that never wrote neither updates nor stores */
	wt = (struct smbd_write_time){ 0 };
	assert_false(smbd_write_time_wants_update(&wt));
	assert_false(smbd_write_time_at_close(&wt, false, &t));
	/* an update before the pre-write time arrives wins */
	assert_true(smbd_write_time_note_write(&wt));
	smbd_write_time_updated(&wt, 900);
	smbd_write_time_pre_write(&wt, 100);
	assert_int_equal(smbd_write_time_report(&wt, 1), 900);
}

static void test_set_write_time_fd(void **s)
{
	char path[] = "/tmp/test_fscc_wt_XXXXXX";
	struct smbd_file_meta m;
	struct timespec before;
	uint64_t result = 0;
	int fd = mkstemp(path);

	(void)s;
	assert_true(fd != -1);
	assert_true(NT_STATUS_IS_OK(
		smbd_file_set_write_time_fd(fd, 116444736000000000ULL, &result)));
	assert_int_equal(result, 116444736000000000ULL);
	assert_true(NT_STATUS_IS_OK(smbd_file_meta_fd(fd, "f", NULL, &m)));
	assert_int_equal(m.last_write_time, 116444736000000000ULL);
	/* "now" is not behind a fine-grained clock read just before */
	clock_gettime(CLOCK_REALTIME, &before);
	assert_true(NT_STATUS_IS_OK(smbd_file_set_write_time_fd(fd, 0, &result)));
	assert_true(result >= nt_time_from_timespec(before));
	close(fd);
	unlink(path);
}

static void test_dosattrib_round_trip(void **s)
{
	char path[] = "/tmp/test_fscc_XXXXXX";
	struct smbd_file_meta m;
	int fd = mkstemp(path);
	NTSTATUS status;

	assert_true(fd != -1);
	fchmod(fd, 0644);
	/* derived: no x bit -> no ARCHIVE -> NORMAL; dot file -> HIDDEN */
	assert_true(NT_STATUS_IS_OK(smbd_file_meta_fd(fd, "f", NULL, &m)));
	assert_int_equal(m.attributes, FILE_ATTRIBUTE_NORMAL);
	assert_true(NT_STATUS_IS_OK(smbd_file_meta_fd(fd, ".f", NULL, &m)));
	assert_int_equal(m.attributes, FILE_ATTRIBUTE_HIDDEN);
	assert_int_equal(m.attributes_from_name, FILE_ATTRIBUTE_HIDDEN);

	status = smbd_dosmode_set_fd(fd, FILE_ATTRIBUTE_READONLY |
					     FILE_ATTRIBUTE_SYSTEM |
					     FILE_ATTRIBUTE_TEMPORARY, false);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_SUPPORTED)) {
		close(fd);
		unlink(path);
		skip(); /* no user xattrs on this file system */
	}
	assert_true(NT_STATUS_IS_OK(status));
	assert_true(NT_STATUS_IS_OK(smbd_file_meta_fd(fd, "f", NULL, &m)));
	assert_int_equal(m.attributes,
			 FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_SYSTEM);

	assert_true(NT_STATUS_IS_OK(
		smbd_dosmode_set_create_time_fd(fd, 116444736000000000ULL)));
	assert_true(NT_STATUS_IS_OK(smbd_file_meta_fd(fd, "f", NULL, &m)));
	assert_int_equal(m.creation_time, 116444736000000000ULL);
	assert_int_equal(m.attributes,
			 FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_SYSTEM);

	/* stored 0 reads back as NORMAL, not as the derived value */
	assert_true(NT_STATUS_IS_OK(smbd_dosmode_set_fd(fd, 0, false)));
	fchmod(fd, 0744);
	assert_true(NT_STATUS_IS_OK(smbd_file_meta_fd(fd, "f", NULL, &m)));
	assert_int_equal(m.attributes, FILE_ATTRIBUTE_NORMAL);
	close(fd);

	/* the by-name variant sees the same */
	{
		char *slash = strrchr(path, '/');
		int dirfd = open("/tmp", O_PATH | O_DIRECTORY);
		assert_true(NT_STATUS_IS_OK(
			smbd_file_meta_at(dirfd, slash + 1, NULL, &m)));
		assert_int_equal(m.creation_time, 116444736000000000ULL);
		assert_true(NT_STATUS_EQUAL(
			smbd_file_meta_at(dirfd, "no-such-file-xyz", NULL, &m),
			NT_STATUS_OBJECT_NAME_NOT_FOUND));
		close(dirfd);
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nt_time),
		cmocka_unit_test(test_basic_info),
		cmocka_unit_test(test_standard_and_all),
		cmocka_unit_test(test_stream_info),
		cmocka_unit_test(test_dir_entries),
		cmocka_unit_test(test_fs_info),
		cmocka_unit_test(test_pattern_list),
		cmocka_unit_test(test_write_time_rules),
		cmocka_unit_test(test_set_write_time_fd),
		cmocka_unit_test(test_dosattrib_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
