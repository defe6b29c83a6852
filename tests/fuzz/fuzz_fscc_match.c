/*
 * libFuzzer target: QUERY_DIRECTORY search patterns and 8.3 names
 * (smbd/fscc_info.h fscc_name_matches(), fscc_pattern_is_all(),
 * fscc_short_name()).  Input: pattern, a NUL byte, name.
 *
 * Checked besides memory safety (a violation aborts):
 *   - the documented O(len(pattern) * len(name)) bound: libFuzzer's
 *     -timeout catches an exponential matcher;
 *   - a pattern fscc_pattern_is_all() calls "all" matches every valid
 *     name;
 *   - a pattern without wildcards, both ASCII, matches exactly the names
 *     equal to it ignoring case;
 *   - a generated 8.3 name is stable, upper case, at most 8.3 long.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util/charset.h"
#include "lib/util/debug.h"
#include "smbd/fscc_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_fscc_match: %s:%d: %s\n",        \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

static bool is_ascii(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80) {
			return false;
		}
	}
	return true;
}

static void check_short_name(TALLOC_CTX *ctx, const char *name)
{
	char *s1 = fscc_short_name(ctx, name);
	char *s2 = fscc_short_name(ctx, name);
	const char *dot;
	const char *p;

	if (s1 == NULL) {
		CHECK(s2 == NULL);
		return;
	}
	CHECK(s2 != NULL && strcmp(s1, s2) == 0);
	CHECK(strlen(s1) <= 12);
	dot = strchr(s1, '.');
	CHECK(dot == strrchr(s1, '.'));
	CHECK((dot != NULL ? (size_t)(dot - s1) : strlen(s1)) <= 8);
	CHECK(dot == NULL || strlen(dot + 1) <= 3);
	for (p = s1; *p != '\0'; p++) {
		CHECK(!(*p >= 'a' && *p <= 'z'));
		CHECK((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
	}
	CHECK(fscc_short_name(ctx, s1) == NULL);
	(void)fscc_short_name_always(ctx, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx;
	const uint8_t *nul = memchr(data, 0, size);
	char *pattern, *name;
	bool match, valid_name;

	if (nul == NULL) {
		return 0;
	}
	debug_level = -1;
	ctx = talloc_new(NULL);
	pattern = talloc_strndup(ctx, (const char *)data, nul - data);
	name = talloc_strndup(ctx, (const char *)nul + 1,
			      size - (nul + 1 - data));
	if (pattern == NULL || name == NULL) {
		abort();
	}
	match = fscc_name_matches(pattern, name);
	valid_name = name[0] != '\0' && utf8_utf16le_len(name) >= 0;

	if (valid_name && pattern[0] != '\0' && fscc_pattern_is_all(pattern)) {
		CHECK(match);
	}
	if (valid_name && is_ascii(pattern) && is_ascii(name) &&
	    strpbrk(pattern, "*?<>\"") == NULL && pattern[0] != '\0') {
		CHECK(match == (strcasecmp(pattern, name) == 0));
	}
	if (valid_name) {
		check_short_name(ctx, name);
	}
	talloc_free(ctx);
	return 0;
}
