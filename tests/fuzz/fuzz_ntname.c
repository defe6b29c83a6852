/*
 * libFuzzer target: NT names from the wire (smbd/ntname.h) and the
 * UTF-16LE <-> UTF-8 conversion under them (lib/util/charset.h).
 *
 * Besides memory errors it checks the promises the callers rely on, and
 * aborts (a finding) when one breaks:
 *   - an accepted CREATE name is a relative path with no empty, "." or
 *     ".." component and no '\\', each component passes
 *     ntname_check_component(); a name without "." or ".." components
 *     converts back to exactly the units received (so no two wire names
 *     reach the same file by accident of conversion), one with them
 *     resolves to no more components than it had (never above the
 *     share: ".." beyond the root is refused);
 *   - an accepted component has no separator and passes the UTF-8 check
 *     with the same flags;
 *   - UTF-8 -> UTF-16LE -> UTF-8 is the identity whenever accepted, and
 *     the three UTF-8 -> UTF-16 entry points agree on the length.
 *
 * The first input byte picks flags; the rest is the name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/charset.h"
#include "smbd/ntname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_ntname: %s:%d: %s\n", __FILE__,  \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* Whether a wire name has a "." or ".." component. */
static bool wire_has_dot_component(const uint8_t *name, size_t len)
{
	size_t i, start = 0, n = len / 2;

	for (i = 0; i <= n; i++) {
		uint16_t u = (i < n) ? (uint16_t)(name[2 * i] |
						  (name[2 * i + 1] << 8))
				     : '\\';
		size_t k = i - start;

		if (u != '\\' && u != '/') {
			continue;
		}
		if ((k == 1 || k == 2) && name[2 * start] == '.' &&
		    name[2 * start + 1] == 0 &&
		    (k == 1 || (name[2 * start + 2] == '.' &&
				name[2 * start + 3] == 0))) {
			return true;
		}
		start = i + 1;
	}
	return false;
}

static size_t wire_components(const uint8_t *name, size_t len)
{
	size_t i, c = 1;

	for (i = 0; i + 1 < len; i += 2) {
		if ((name[i] == '\\' || name[i] == '/') && name[i + 1] == 0) {
			c++;
		}
	}
	return c;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		n += (*s == c);
	}
	return n;
}

static void check_relpath(TALLOC_CTX *ctx, const uint8_t *name, size_t len)
{
	char *relpath = NULL, *copy, *comp, *save = NULL, *p;
	bool trailing = false;
	uint8_t *back;
	size_t back_len;
	NTSTATUS status;

	status = ntname_to_relpath(ctx, name, len, &relpath, &trailing);
	if (!NT_STATUS_IS_OK(status)) {
		CHECK(relpath == NULL);
		return;
	}
	CHECK(relpath != NULL);
	if (relpath[0] == '\0') {
		CHECK(len == 0 && !trailing);
		return;
	}
	CHECK(relpath[0] != '/');
	CHECK(relpath[strlen(relpath) - 1] != '/');
	CHECK(strstr(relpath, "//") == NULL);
	CHECK(strchr(relpath, '\\') == NULL);

	copy = talloc_strdup(ctx, relpath);
	CHECK(copy != NULL);
	for (comp = strtok_r(copy, "/", &save); comp != NULL;
	     comp = strtok_r(NULL, "/", &save)) {
		CHECK(strcmp(comp, ".") != 0 && strcmp(comp, "..") != 0);
		CHECK(NT_STATUS_IS_OK(ntname_check_component(comp, 0)));
	}

	if (wire_has_dot_component(name, len)) {
		/* "." and ".." resolved away: fewer components, no
		 * round trip to the same units */
		CHECK(count_char(relpath, '/') + 1 <=
		      wire_components(name, len));
		return;
	}

	/* back to the wire form: the same units, minus a trailing '\\' */
	copy = talloc_strdup(ctx, relpath);
	CHECK(copy != NULL);
	for (p = copy; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\\';
		}
	}
	CHECK(utf8_to_utf16le(ctx, copy, &back, &back_len));
	CHECK(back_len == len - (trailing ? 2 : 0));
	/* '/' is accepted as a separator like '\\' (as Samba does), so
	 * compare with the input's '/' units read as '\\' */
	for (size_t i = 0; i + 1 < back_len; i += 2) {
		uint8_t lo = name[i] == '/' && name[i + 1] == 0 ? '\\'
								: name[i];

		CHECK(back[i] == lo && back[i + 1] == name[i + 1]);
	}
}

static void check_component(TALLOC_CTX *ctx, const uint8_t *name, size_t len,
			    uint32_t flags)
{
	char *comp = NULL;
	NTSTATUS status;

	status = ntname_component_from_utf16(ctx, name, len, flags, &comp);
	if (!NT_STATUS_IS_OK(status)) {
		CHECK(comp == NULL);
		return;
	}
	CHECK(comp != NULL && comp[0] != '\0');
	CHECK(strchr(comp, '/') == NULL && strchr(comp, '\\') == NULL);
	CHECK(NT_STATUS_IS_OK(ntname_check_component(comp, flags)));
}

static void check_utf8(TALLOC_CTX *ctx, const uint8_t *data, size_t size,
		       uint32_t flags)
{
	char *s = talloc_strndup(ctx, (const char *)data, size);
	uint8_t *u16, *buf;
	size_t u16_len;
	ssize_t n, w;
	char *back;

	CHECK(s != NULL);
	(void)ntname_check_component(s, flags);
	n = utf8_utf16le_len(s);
	if (!utf8_to_utf16le(ctx, s, &u16, &u16_len)) {
		CHECK(n == -1);
		return;
	}
	CHECK(n >= 0 && (size_t)n == u16_len);
	buf = talloc_size(ctx, u16_len + 1);
	CHECK(buf != NULL);
	w = utf8_to_utf16le_buf(s, buf, u16_len);
	CHECK(w == n && memcmp(buf, u16, u16_len) == 0);
	if (u16_len > 0) {
		CHECK(utf8_to_utf16le_buf(s, buf, u16_len - 1) == -1);
	}
	back = utf16le_to_utf8(ctx, u16, u16_len);
	CHECK(back != NULL && strcmp(back, s) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx;
	uint32_t flags;
	char *utf8;

	if (size < 1) {
		return 0;
	}
	flags = (data[0] & 1) ? NTNAME_ALLOW_WILDCARDS : 0;
	data++;
	size--;
	ctx = talloc_new(NULL);

	check_relpath(ctx, data, size);
	check_component(ctx, data, size, flags);

	/* the UTF-16 -> UTF-8 direction on its own */
	utf8 = utf16le_to_utf8(ctx, data, size);
	if (utf8 != NULL) {
		uint8_t *u16;
		size_t u16_len;

		CHECK(size % 2 == 0);
		CHECK(utf8_to_utf16le(ctx, utf8, &u16, &u16_len));
		CHECK(u16_len == size && memcmp(u16, data, size) == 0);
	}
	check_utf8(ctx, data, size, flags);

	talloc_free(ctx);
	return 0;
}
