/*
 * Case-insensitive resolution beneath a share root (vfs_casefold.h).
 *
 * Layout built in a temp dir:
 *   outside/Secret
 *   share/Dir/Sub/File.TXT
 *   share/Dir/other
 *   share/twin, share/TWIN, share/Twin      (three case variants)
 *   share/Exact, share/exact
 *   share/LinkOut -> ../outside             (a way out: never resolved
 *                                            through)
 * The comparator is plain ASCII strcasecmp: the folding itself is
 * fscc_name_equal_ci's business (tested with smbd/tests/test_ea.c).
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
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smbd/vfs/vfs_casefold.h"

struct fixture {
	char top[64];
	char share_path[128];
	struct vfs_share *share;
};

static bool ascii_equal(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

static void touch(const char *dir, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void mkdir_in(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
	struct fixture *f = talloc_zero(NULL, struct fixture);
	char path[256];

	strcpy(f->top, "/tmp/vfs_casefold_XXXXXX");
	assert_non_null(mkdtemp(f->top));
	mkdir_in(f->top, "share");
	mkdir_in(f->top, "outside");
	touch(f->top, "outside/Secret");
	snprintf(f->share_path, sizeof(f->share_path), "%s/share", f->top);
	mkdir_in(f->share_path, "Dir");
	mkdir_in(f->share_path, "Dir/Sub");
	touch(f->share_path, "Dir/Sub/File.TXT");
	touch(f->share_path, "Dir/other");
	touch(f->share_path, "twin");
	touch(f->share_path, "TWIN");
	touch(f->share_path, "Twin");
	touch(f->share_path, "Exact");
	touch(f->share_path, "exact");
	snprintf(path, sizeof(path), "%s/LinkOut", f->share_path);
	assert_int_equal(symlink("../outside", path), 0);
	assert_true(NT_STATUS_IS_OK(
		vfs_share_open(f, f->share_path, true, &f->share)));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->top);
	assert_int_equal(system(cmd), 0);
	talloc_free(f);
	return 0;
}

static void expect(struct fixture *f, const char *in, const char *want)
{
	char *out = NULL;

	assert_true(NT_STATUS_IS_OK(vfs_casefold_resolve(
		f, f->share, in, ascii_equal, &out)));
	assert_non_null(out);
	assert_string_equal(out, want);
	talloc_free(out);
}

static void test_exact_and_folded(void **state)
{
	struct fixture *f = *state;

	expect(f, "", "");
	expect(f, "Dir/Sub/File.TXT", "Dir/Sub/File.TXT");
	expect(f, "dir/sub/file.txt", "Dir/Sub/File.TXT");
	expect(f, "DIR/SUB/FILE.TXT", "Dir/Sub/File.TXT");
	expect(f, "dIr", "Dir");
}

static void test_missing_keeps_client_spelling(void **state)
{
	struct fixture *f = *state;

	/* a new name in an existing directory: parents folded, the new
	 * component as the client wrote it */
	expect(f, "dir/sub/NewFile.Txt", "Dir/Sub/NewFile.Txt");
	/* missing intermediate: everything from there on verbatim */
	expect(f, "dir/Nope/sub/x", "Dir/Nope/sub/x");
	/* a file used as a directory stops the walk */
	expect(f, "dir/OTHER/x", "Dir/other/x");
}

static void test_variants_deterministic(void **state)
{
	struct fixture *f = *state;

	/* exact spelling wins */
	expect(f, "twin", "twin");
	expect(f, "TWIN", "TWIN");
	expect(f, "Twin", "Twin");
	expect(f, "exact", "exact");
	expect(f, "Exact", "Exact");
	/* no exact match: the byte-wise smallest ("TWIN" < "Twin" <
	 * "twin") */
	expect(f, "tWiN", "TWIN");
	expect(f, "eXACT", "Exact");
}

static void test_never_outside(void **state)
{
	struct fixture *f = *state;
	char *found = NULL;

	/* LinkOut leads outside: listing it is refused by vfs_opendir, so
	 * nothing below it is folded; the caller's open then refuses the
	 * path itself */
	expect(f, "linkout/secret", "LinkOut/secret");
	assert_true(NT_STATUS_IS_OK(vfs_casefold_find(
		f, f->share, "LinkOut", "secret", ascii_equal, &found)));
	assert_null(found);
	/* ".." is never looked up */
	expect(f, "../outside", "../outside");
	assert_true(NT_STATUS_IS_OK(vfs_casefold_find(
		f, f->share, "", "..", ascii_equal, &found)));
	assert_string_equal(found, "..");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exact_and_folded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_missing_keeps_client_spelling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_variants_deterministic,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_outside, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
