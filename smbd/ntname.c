/*
 * Validation and conversion of NT path names ([MS-FSCC] 2.1.5, [MS-SMB2]
 * 3.3.5.9).  The checks run on the UTF-16 code units as received, so that
 * the component length limit is counted in the units NTFS counts and no
 * character class depends on the conversion.
 */
#include "smbd/ntname.h"

#include <string.h>

#include "lib/util/byteorder.h"
#include "lib/util/charset.h"

#define UNIT_BACKSLASH 0x005C

/* Characters NTFS refuses in a name ([MS-FSCC] 2.1.5.2); the wildcards
 * are listed apart because search patterns may carry them. */
static bool unit_is_wildcard(uint16_t u)
{
	return u == '*' || u == '?' || u == '<' || u == '>' || u == '"';
}

static bool unit_is_forbidden(uint16_t u, uint32_t flags)
{
	if (u < 0x20) {
		return true;
	}
	/* ':' separates an alternate data stream; only
	 * ntname_to_relpath_stream() splits it off, and a ':' must never
	 * reach the file system as part of a plain name. */
	if (u == '/' || u == ':' || u == '|') {
		return true;
	}
	if (unit_is_wildcard(u)) {
		return (flags & NTNAME_ALLOW_WILDCARDS) == 0;
	}
	return false;
}

/*
 * Checks on one component given as units [start, start+n).  In a path
 * (in_path) "." and ".." are left for path_collapse_dots(); a lone
 * component (a search pattern, a stream-less leaf) cannot be either.
 */
static NTSTATUS component_check_units(const uint8_t *name, size_t start,
				      size_t n, bool in_path)
{
	if (n == 0 || n > NTNAME_MAX_COMPONENT_UNITS) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	if (!in_path && PULL_LE16(name, 2 * start) == '.') {
		if (n == 1) {
			return NT_STATUS_OBJECT_NAME_INVALID;
		}
		if (n == 2 && PULL_LE16(name, 2 * start + 2) == '.') {
			return NT_STATUS_OBJECT_PATH_SYNTAX_BAD;
		}
	}
	return NT_STATUS_OK;
}

/* A path separator: '\\', and '/' too, as Samba accepts it in SMB2
 * paths (smb2.timestamps.test_close_not_attrib opens "dir/file"). */
static bool unit_is_separator(uint16_t u)
{
	return u == UNIT_BACKSLASH || u == '/';
}

/*
 * Walk the units of name: character classes first (what Windows reports
 * for "a*\\.."), then the components.
 */
static NTSTATUS units_check(const uint8_t *name, size_t nunits,
			    uint32_t flags, bool allow_separators,
			    bool *trailing_sep)
{
	size_t i, start = 0;
	NTSTATUS status;

	*trailing_sep = false;
	for (i = 0; i < nunits; i++) {
		uint16_t u = PULL_LE16(name, 2 * i);

		if (unit_is_separator(u)) {
			if (!allow_separators) {
				return NT_STATUS_OBJECT_NAME_INVALID;
			}
			continue;
		}
		if (unit_is_forbidden(u, flags)) {
			return NT_STATUS_OBJECT_NAME_INVALID;
		}
	}
	for (i = 0; i <= nunits; i++) {
		if (i < nunits && !unit_is_separator(PULL_LE16(name, 2 * i))) {
			continue;
		}
		if (i == nunits && i == start && i > 0) {
			/* "dir\\": one trailing separator, the caller decides
			 * whether the object must then be a directory. */
			*trailing_sep = true;
			break;
		}
		status = component_check_units(name, start, i - start,
					       allow_separators);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		start = i + 1;
	}
	return NT_STATUS_OK;
}

/*
 * Resolve "." and ".." components of a '/'-separated relative path in
 * place, as Windows and Samba do before the name reaches the file system
 * (smb2.notify.tree opens "dir\\sub\\.."): "." is dropped, ".." drops
 * the component before it.  A ".." with nothing left to drop would leave
 * the share: OBJECT_PATH_SYNTAX_BAD, the status Windows gives for
 * "..\\x".  A name that resolves to nothing ("a\\..", ".") is
 * OBJECT_NAME_INVALID, as Samba answers: the share root is opened with an
 * empty name only.  The VFS still resolves beneath the share root
 * (RESOLVE_BENEATH), so this is the first line, not the only one.
 */
static NTSTATUS path_collapse_dots(char *path)
{
	char *src = path, *dst = path;

	while (*src != '\0') {
		char *end = strchr(src, '/');
		size_t n = (end != NULL) ? (size_t)(end - src) : strlen(src);

		if (n == 1 && src[0] == '.') {
			/* dropped */
		} else if (n == 2 && src[0] == '.' && src[1] == '.') {
			if (dst == path) {
				return NT_STATUS_OBJECT_PATH_SYNTAX_BAD;
			}
			/* drop the last kept component and the '/' before it */
			while (dst > path && dst[-1] != '/') {
				dst--;
			}
			if (dst > path) {
				dst--;
			}
		} else {
			/* dst never passes src: the '/' goes where one was */
			if (dst != path) {
				*dst++ = '/';
			}
			memmove(dst, src, n);
			dst += n;
		}
		src += n;
		if (*src == '/') {
			src++;
		}
	}
	if (dst == path) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	*dst = '\0';
	return NT_STATUS_OK;
}

NTSTATUS ntname_to_relpath(TALLOC_CTX *mem_ctx, const uint8_t *name,
			   size_t len, char **relpath, bool *trailing_sep)
{
	size_t nunits = len / 2;
	bool trailing = false;
	NTSTATUS status;
	char *path, *p;

	*relpath = NULL;
	if (trailing_sep != NULL) {
		*trailing_sep = false;
	}
	if (len % 2 != 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (nunits == 0) {
		*relpath = talloc_strdup(mem_ctx, "");
		return *relpath != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	}
	/* [MS-SMB2] 3.3.5.9: "If the file name length is greater than zero
	 * and the first character is a path separator character, the server
	 * MUST fail the request with STATUS_INVALID_PARAMETER." */
	if (PULL_LE16(name, 0) == UNIT_BACKSLASH || PULL_LE16(name, 0) == '/') {
		return NT_STATUS_INVALID_PARAMETER;
	}
	status = units_check(name, nunits, 0, true, &trailing);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (trailing) {
		nunits--;
	}
	path = utf16le_to_utf8(mem_ctx, name, 2 * nunits);
	if (path == NULL) {
		/* unpaired surrogate: not a name NTFS could hold */
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	for (p = path; *p != '\0'; p++) {
		if (*p == '\\') {
			*p = '/';
		}
	}
	status = path_collapse_dots(path);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(path);
		return status;
	}
	*relpath = path;
	if (trailing_sep != NULL) {
		*trailing_sep = trailing;
	}
	return NT_STATUS_OK;
}

NTSTATUS ntname_component_from_utf16(TALLOC_CTX *mem_ctx,
				     const uint8_t *name, size_t len,
				     uint32_t flags, char **component)
{
	bool trailing;
	NTSTATUS status;
	char *c;

	*component = NULL;
	if (len % 2 != 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (len == 0) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	status = units_check(name, len / 2, flags, false, &trailing);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	c = utf16le_to_utf8(mem_ctx, name, len);
	if (c == NULL) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	*component = c;
	return NT_STATUS_OK;
}

NTSTATUS ntname_check_component(const char *component, uint32_t flags)
{
	const unsigned char *p = (const unsigned char *)component;
	size_t units = 0;

	if (p[0] == '\0') {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	for (; *p != '\0'; p++) {
		if (*p < 0x80) {
			if (*p == '\\' || unit_is_forbidden(*p, flags)) {
				return NT_STATUS_OBJECT_NAME_INVALID;
			}
			units++;
		} else if ((*p & 0xC0) == 0xC0) {
			/* a lead byte: 4-byte sequences are surrogate pairs
			 * in UTF-16, the rest one unit */
			units += (*p >= 0xF0) ? 2 : 1;
		}
	}
	if (units > NTNAME_MAX_COMPONENT_UNITS) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	if (strcmp(component, ".") == 0) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	if (strcmp(component, "..") == 0) {
		return NT_STATUS_OBJECT_PATH_SYNTAX_BAD;
	}
	return NT_STATUS_OK;
}

static bool unit_is_stream_forbidden(uint16_t u)
{
	/* [MS-FSCC] 2.1.5.3: a stream name may hold any character but
	 * these (NUL cannot occur in a counted name we accept, but a
	 * stored name is a C string). */
	return u == 0 || u == UNIT_BACKSLASH || u == '/' || u == ':';
}

/* "$DATA", compared case-insensitively ([MS-FSCC] 2.1.5.4). */
static bool units_are_data_type(const uint8_t *units, size_t n)
{
	static const char data_type[] = "$DATA";
	size_t i;

	if (n != sizeof(data_type) - 1) {
		return false;
	}
	for (i = 0; i < n; i++) {
		uint16_t u = PULL_LE16(units, 2 * i);

		if (u >= 'a' && u <= 'z') {
			u -= 'a' - 'A';
		}
		if (u != (uint8_t)data_type[i]) {
			return false;
		}
	}
	return true;
}

/*
 * Parse the units after the first ':' ("name", "name:type", ":type").
 * *name is NULL for the unnamed data stream.  Every failure is
 * `invalid`, which differs between CREATE and rename.
 */
static NTSTATUS stream_part_parse(TALLOC_CTX *mem_ctx, const uint8_t *units,
				  size_t n, NTSTATUS invalid, char **name)
{
	size_t i, name_n = n;
	bool have_type = false;

	*name = NULL;
	for (i = 0; i < n; i++) {
		if (PULL_LE16(units, 2 * i) == ':') {
			name_n = i;
			have_type = true;
			break;
		}
	}
	if (have_type &&
	    !units_are_data_type(units + 2 * (name_n + 1), n - name_n - 1)) {
		/* "s:", "s:$FOO", "s:$DATA:x": only data streams exist */
		return invalid;
	}
	if (name_n == 0) {
		/* "::$DATA" is the file itself; "" alone names nothing */
		return have_type ? NT_STATUS_OK : invalid;
	}
	if (name_n > NTNAME_MAX_COMPONENT_UNITS) {
		return invalid;
	}
	for (i = 0; i < name_n; i++) {
		if (unit_is_stream_forbidden(PULL_LE16(units, 2 * i))) {
			return invalid;
		}
	}
	*name = utf16le_to_utf8(mem_ctx, units, 2 * name_n);
	if (*name == NULL) {
		/* unpaired surrogate (or no memory: reported alike, the
		 * request fails either way) */
		return invalid;
	}
	return NT_STATUS_OK;
}

/* Whether the last component of units [0, n) is "." or "..". */
static bool units_end_in_dot_component(const uint8_t *name, size_t n)
{
	size_t start = n;

	while (start > 0 &&
	       !unit_is_separator(PULL_LE16(name, 2 * (start - 1)))) {
		start--;
	}
	if (n - start == 1) {
		return PULL_LE16(name, 2 * start) == '.';
	}
	if (n - start == 2) {
		return PULL_LE16(name, 2 * start) == '.' &&
		       PULL_LE16(name, 2 * start + 2) == '.';
	}
	return false;
}

NTSTATUS ntname_to_relpath_stream(TALLOC_CTX *mem_ctx, const uint8_t *name,
				  size_t len, char **relpath,
				  bool *trailing_sep,
				  struct ntname_stream *stream)
{
	size_t nunits = len / 2, colon;
	bool trailing = false;
	NTSTATUS status;

	stream->present = false;
	stream->name = NULL;
	if (len % 2 != 0) {
		*relpath = NULL;
		return NT_STATUS_INVALID_PARAMETER;
	}
	for (colon = 0; colon < nunits; colon++) {
		if (PULL_LE16(name, 2 * colon) == ':') {
			break;
		}
	}
	status = ntname_to_relpath(mem_ctx, name, 2 * colon, relpath,
				   &trailing);
	if (trailing_sep != NULL) {
		*trailing_sep = trailing;
	}
	if (!NT_STATUS_IS_OK(status) || colon == nunits) {
		return status;
	}
	if (trailing || units_end_in_dot_component(name, colon)) {
		/* "dir\\:s", "dir\\.:s", "dir\\..:s": a stream needs a named
		 * file before it (Samba answers OBJECT_NAME_INVALID) */
		TALLOC_FREE(*relpath);
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	status = stream_part_parse(mem_ctx, name + 2 * (colon + 1),
				   nunits - colon - 1,
				   NT_STATUS_OBJECT_NAME_INVALID,
				   &stream->name);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(*relpath);
		return status;
	}
	stream->present = true;
	return NT_STATUS_OK;
}

NTSTATUS ntname_stream_rename_target(TALLOC_CTX *mem_ctx,
				     const uint8_t *name, size_t len,
				     char **stream_name)
{
	*stream_name = NULL;
	if (len % 2 != 0 || len < 2 || PULL_LE16(name, 0) != ':') {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return stream_part_parse(mem_ctx, name + 2, len / 2 - 1,
				 NT_STATUS_INVALID_PARAMETER, stream_name);
}
