/*
 * Search pattern matching ([MS-FSA] 2.1.4.4) and 8.3 names (fscc_info.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smbd/fscc_info.h"

static void test_star_and_qmark(void **s)
{
	assert_true(fscc_name_matches("*", "anything"));
	assert_true(fscc_name_matches("*.txt", "a.txt"));
	assert_true(fscc_name_matches("*.txt", "A.TXT"));
	assert_false(fscc_name_matches("*.txt", "a.txt.bak"));
	assert_true(fscc_name_matches("a?c", "abc"));
	assert_false(fscc_name_matches("a?c", "ac"));
	assert_true(fscc_name_matches("t0*-*.txt", "t012-12.txt"));
	assert_true(fscc_name_matches("*a*b*", "xxaxxbxx"));
	assert_false(fscc_name_matches("*a*b*", "xxbxxaxx"));
	assert_true(fscc_name_matches("exact", "EXACT"));
	assert_false(fscc_name_matches("exact", "exact2"));
}

static void test_dos_wildcards(void **s)
{
	/* DOS_STAR '<': never swallows the last '.' */
	assert_true(fscc_name_matches("<.c", "a.b.c"));
	assert_true(fscc_name_matches("<.c", "x.c"));
	assert_false(fscc_name_matches("<.c", "x.cc"));
	assert_true(fscc_name_matches("<", "noext"));
	/* DOS_QM '>': one non-dot character, or nothing at '.'/end */
	assert_true(fscc_name_matches("a>", "a"));
	assert_true(fscc_name_matches("a>", "ab"));
	assert_false(fscc_name_matches("a>", "abc"));
	assert_true(fscc_name_matches("a>>.txt", "a.txt"));
	assert_true(fscc_name_matches("a>>.txt", "abc.txt"));
	assert_false(fscc_name_matches("a>.txt", "abc.txt"));
	/* DOS_DOT '"': a dot, or nothing at the end */
	assert_true(fscc_name_matches("foo\"", "foo"));
	assert_true(fscc_name_matches("foo\"", "foo."));
	assert_false(fscc_name_matches("foo\"", "foox"));
	assert_true(fscc_name_matches("foo\"txt", "foo.txt"));
}

static void test_case_folding(void **s)
{
	assert_true(fscc_name_matches("\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89")); /* été / ÉTÉ */
	assert_true(fscc_name_matches("\xd0\xb4*", "\xd0\x94\xd0\x90"));	  /* д* / ДА */
	assert_false(fscc_name_matches("a", "\xff"));				  /* invalid UTF-8 */
}

static void test_short_names(void **s)
{
	char *n;

	assert_null(fscc_short_name(NULL, "a.txt"));
	assert_null(fscc_short_name(NULL, "README"));
	n = fscc_short_name(NULL, "longfilename.txt");
	assert_non_null(n);
	assert_int_equal(strlen(n), 12);
	assert_memory_equal(n, "LONGF~", 6);
	assert_string_equal(n + 8, ".TXT");
	/* stable */
	{
		char *m = fscc_short_name(NULL, "longfilename.txt");
		assert_string_equal(n, m);
		talloc_free(m);
	}
	talloc_free(n);
	n = fscc_short_name_always(NULL, "a.txt");
	assert_string_equal(n, "A.TXT");
	talloc_free(n);
	n = fscc_short_name(NULL, "a.b.c");
	assert_non_null(n);
	assert_string_equal(n + strlen(n) - 2, ".C");
	talloc_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_star_and_qmark),
		cmocka_unit_test(test_dos_wildcards),
		cmocka_unit_test(test_case_folding),
		cmocka_unit_test(test_short_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
