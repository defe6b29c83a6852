/*
 * notify_inotify.c: the inotify read-buffer parser, fed by the real
 * kernel and by hand-made buffers, and the FILE_NOTIFY_INFORMATION chain
 * of a CHANGE_NOTIFY reply ([MS-FSCC] 2.7.1).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/util/byteorder.h"
#include "smbd/notify.h"
#include "smbd/notify_inotify.h"

static size_t put_event(uint8_t *buf, int wd, uint32_t mask, uint32_t cookie,
			const char *name, uint32_t name_len)
{
	memcpy(buf, &wd, 4);
	memcpy(buf + 4, &mask, 4);
	memcpy(buf + 8, &cookie, 4);
	memcpy(buf + 12, &name_len, 4);
	memset(buf + 16, 0, name_len);
	if (name != NULL) {
		memcpy(buf + 16, name, strlen(name));
	}
	return 16 + name_len;
}

/* What the kernel writes for a create, a rename and a delete. */
static void test_parse_kernel(void **state)
{
	TALLOC_CTX *t = talloc_new(NULL);
	char dir[] = "/tmp/test_notify_wire.XXXXXX";
	char a[128], b[128];
	uint8_t buf[4096] __attribute__((aligned(8)));
	struct notify_kevent *ev = NULL;
	ssize_t len;
	size_t n;
	int fd, wd, f;

	assert_non_null(mkdtemp(dir));
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(fd != -1);
	wd = inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_FROM |
						IN_MOVED_TO | IN_DELETE);
	assert_true(wd >= 0);
	snprintf(a, sizeof(a), "%s/a-name-of-some-length", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	f = open(a, O_CREAT | O_WRONLY, 0600);
	assert_true(f != -1);
	close(f);
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(unlink(b), 0);
	assert_int_equal(mkdir(a, 0700), 0);
	assert_int_equal(rmdir(a), 0);

	len = read(fd, buf, sizeof(buf));
	assert_true(len > 0);
	n = notify_inotify_parse(t, buf, (size_t)len, &ev);
	assert_int_equal(n, 6);
	assert_true(ev[0].mask & IN_CREATE);
	assert_string_equal(ev[0].name, "a-name-of-some-length");
	assert_true(ev[1].mask & IN_MOVED_FROM);
	assert_true(ev[2].mask & IN_MOVED_TO);
	assert_int_equal(ev[1].cookie, ev[2].cookie);
	assert_string_equal(ev[2].name, "b");
	assert_true(ev[3].mask & IN_DELETE);
	assert_true((ev[4].mask & (IN_CREATE | IN_ISDIR)) ==
		    (IN_CREATE | IN_ISDIR));
	assert_true(ev[5].mask & IN_DELETE);
	for (n = 0; n < 6; n++) {
		assert_int_equal(ev[n].wd, wd);
	}
	close(fd);
	rmdir(dir);
	talloc_free(t);
}

/* Truncated events end the parse; bad names are skipped, not returned. */
static void test_parse_hostile(void **state)
{
	TALLOC_CTX *t = talloc_new(NULL);
	uint8_t buf[512] __attribute__((aligned(8)));
	struct notify_kevent *ev = NULL;
	size_t len = 0, n;

	len += put_event(buf + len, 1, IN_CREATE, 0, "ok", 16);
	len += put_event(buf + len, 1, IN_CREATE, 0, "a/b", 16);
	len += put_event(buf + len, 1, IN_CREATE, 0, "..", 16);
	len += put_event(buf + len, 1, IN_CREATE, 0, NULL, 16); /* empty */
	len += put_event(buf + len, 2, IN_DELETE_SELF, 0, NULL, 0);
	/* no NUL within its length: the name is cut at the length */
	len += put_event(buf + len, 3, IN_DELETE, 0, "abcdefgh", 4);
	n = notify_inotify_parse(t, buf, len, &ev);
	assert_int_equal(n, 3);
	assert_string_equal(ev[0].name, "ok");
	assert_int_equal(ev[1].wd, 2);
	assert_null(ev[1].name);
	assert_string_equal(ev[2].name, "abcd");

	/* a length beyond the buffer: that event and all after are dropped */
	len = put_event(buf, 1, IN_CREATE, 0, "x", 16);
	len += put_event(buf + len, 1, IN_CREATE, 0, "y", 16);
	n = notify_inotify_parse(t, buf, len - 1, &ev);
	assert_int_equal(n, 1);
	n = notify_inotify_parse(t, buf, 15, &ev);
	assert_int_equal(n, 0);
	talloc_free(t);
}

static void test_marshall(void **state)
{
	struct notify_change c[3] = {
		{ FILE_ACTION_RENAMED_OLD_NAME, (char *)"sub/a" },
		{ FILE_ACTION_RENAMED_NEW_NAME, (char *)"sub/bc" },
		{ FILE_ACTION_ADDED, (char *)"\xc3\xa9" }, /* U+00E9 */
	};
	uint8_t buf[128];
	size_t total = 0, used, i;

	for (i = 0; i < 3; i++) {
		total += smbd_notify_entry_size(c[i].name);
	}
	/* 12 + 10 -> 24, 12 + 12 -> 24, 12 + 2 -> 16 */
	assert_int_equal(total, 64);
	used = smbd_notify_marshall(c, 3, buf, sizeof(buf));
	/* the last entry is not padded */
	assert_int_equal(used, 24 + 24 + 14);
	assert_int_equal(PULL_LE32(buf, 0), 24);
	assert_int_equal(PULL_LE32(buf, 4), FILE_ACTION_RENAMED_OLD_NAME);
	assert_int_equal(PULL_LE32(buf, 8), 10);
	/* '/' went out as '\\' */
	assert_memory_equal(buf + 12, "s\0u\0b\0\\\0a\0", 10);
	assert_int_equal(PULL_LE32(buf, 24), 24);
	assert_int_equal(PULL_LE32(buf, 24 + 8), 12);
	assert_int_equal(PULL_LE32(buf, 48), 0);
	assert_int_equal(PULL_LE32(buf, 48 + 4), FILE_ACTION_ADDED);
	assert_int_equal(PULL_LE32(buf, 48 + 8), 2);
	assert_memory_equal(buf + 60, "\xe9\0", 2);
	/* not enough room: nothing, never a partial chain */
	assert_int_equal(smbd_notify_marshall(c, 3, buf, used - 1), 0);
	/* a name that is not UTF-8 is never representable */
	assert_int_equal(smbd_notify_entry_size("\xff"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_kernel),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_marshall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
