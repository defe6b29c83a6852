/*
 * Extended attributes: wire parsing and encoding ([MS-FSCC] 2.4.15,
 * 2.4.15.1), the xattr store and the per-handle enumeration cursor.
 * Layout and rationale: ea.h.
 */
#include "smbd/ea.h"
#include "smbd/smbd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/xattr.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "smbd/acl_store.h"

#define PREFIX_LEN (sizeof(SMBD_EA_XATTR_PREFIX) - 1)
#define XATTR_NAME_BUF 256	  /* XATTR_NAME_MAX + 1 */
#define XATTR_VALUE_MAX 65536	  /* XATTR_SIZE_MAX */
#define FULL_EA_FIXED 8		  /* NextEntryOffset..EaValueLength */
#define GET_EA_FIXED 5		  /* NextEntryOffset, EaNameLength */

/* ---------------------------------------------------------------------
 * Names
 */

bool smbd_ea_name_valid(const char *name, size_t len)
{
	static const char invalid[] = "\"*+,/:;<=>?[\\]|";
	size_t i;

	if (len == 0 || len > 255 || len > SMBD_EA_MAX_NAME_BYTES) {
		return false;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || strchr(invalid, c) != NULL) {
			return false;
		}
	}
	return true;
}

bool smbd_ea_name_reserved(const char *name)
{
	static const char *const reserved[] = {
		ACL_STORE_XATTR,  /* our NT ACLs */
		"user.DOSATTRIB", /* DOS attributes, ours and Samba's */
		"security.NTACL", /* Samba's NT ACLs */
	};
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (strcasecmp(name, reserved[i]) == 0) {
			return true;
		}
	}
	return strncasecmp(name, "user.smb3.", 10) == 0;
}

void smbd_ea_name_upper(char *name)
{
	for (; *name != '\0'; name++) {
		if (*name >= 'a' && *name <= 'z') {
			*name = (char)(*name - ('a' - 'A'));
		}
	}
}

/* ---------------------------------------------------------------------
 * Stored value
 */

NTSTATUS smbd_ea_value_encode(TALLOC_CTX *mem_ctx, uint8_t flags,
			      const uint8_t *value, size_t len,
			      uint8_t **blob, size_t *blob_len)
{
	uint8_t *b;

	if (len > XATTR_VALUE_MAX - SMBD_EA_HEADER_SIZE) {
		return NT_STATUS_EA_TOO_LARGE;
	}
	b = talloc_size(mem_ctx, SMBD_EA_HEADER_SIZE + len);
	if (b == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	b[0] = SMBD_EA_VERSION;
	b[1] = flags;
	PUSH_LE16(b, 2, 0);
	if (len > 0) {
		memcpy(b + SMBD_EA_HEADER_SIZE, value, len);
	}
	*blob = b;
	*blob_len = SMBD_EA_HEADER_SIZE + len;
	return NT_STATUS_OK;
}

NTSTATUS smbd_ea_value_decode(const uint8_t *blob, size_t blob_len,
			      uint8_t *flags, const uint8_t **value,
			      size_t *value_len)
{
	if (blob_len < SMBD_EA_HEADER_SIZE || blob[0] != SMBD_EA_VERSION) {
		return NT_STATUS_FILE_CORRUPT_ERROR;
	}
	*flags = blob[1];
	*value = blob + SMBD_EA_HEADER_SIZE;
	*value_len = blob_len - SMBD_EA_HEADER_SIZE;
	return NT_STATUS_OK;
}

/* ---------------------------------------------------------------------
 * Wire
 */

/*
 * The extent of the entry at ofs in a chain of len bytes: `need` bytes
 * of it are used; NextEntryOffset `next` must be 0 (last entry) or a
 * 4-aligned offset that covers the entry and stays inside the buffer.
 */
static bool chain_entry_ok(size_t len, size_t ofs, uint32_t next, size_t need)
{
	size_t avail = len - ofs;

	if (need > avail) {
		return false;
	}
	if (next == 0) {
		return true;
	}
	return next % 4 == 0 && next >= need && next < avail;
}

NTSTATUS smbd_ea_parse_full_list(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				 size_t len, struct smbd_ea **eas,
				 size_t *count)
{
	struct smbd_ea *list = NULL;
	size_t n = 0, ofs = 0;

	*eas = NULL;
	*count = 0;
	if (len < FULL_EA_FIXED) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	for (;;) {
		const uint8_t *e = buf + ofs;
		uint32_t next;
		uint8_t flags, name_len;
		uint16_t value_len;
		struct smbd_ea *ea;

		if (len - ofs < FULL_EA_FIXED) {
			goto invalid;
		}
		next = PULL_LE32(e, 0);
		flags = e[4];
		name_len = e[5];
		value_len = PULL_LE16(e, 6);
		/* the name is followed by its NUL terminator, then the value */
		if (!chain_entry_ok(len, ofs, next,
				    FULL_EA_FIXED + (size_t)name_len + 1 +
					    value_len)) {
			goto invalid;
		}
		if (!smbd_ea_name_valid((const char *)e + FULL_EA_FIXED,
					name_len) ||
		    (flags & ~SMBD_FILE_NEED_EA) != 0) {
			/* [MS-FSA] 2.1.5.15.5: bad flags are a bad name */
			talloc_free(list);
			return NT_STATUS_INVALID_EA_NAME;
		}
		list = talloc_realloc(mem_ctx, list, struct smbd_ea, n + 1);
		if (list == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		ea = &list[n++];
		ea->flags = flags;
		ea->name = talloc_strndup(list, (const char *)e + FULL_EA_FIXED,
					  name_len);
		ea->value_len = value_len;
		ea->value = talloc_memdup(list,
					  e + FULL_EA_FIXED + name_len + 1,
					  value_len > 0 ? value_len : 1);
		if (ea->name == NULL || ea->value == NULL) {
			talloc_free(list);
			return NT_STATUS_NO_MEMORY;
		}
		if (next == 0) {
			break;
		}
		ofs += next;
	}
	*eas = list;
	*count = n;
	return NT_STATUS_OK;
invalid:
	talloc_free(list);
	return NT_STATUS_INVALID_PARAMETER;
}

NTSTATUS smbd_ea_parse_get_list(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				size_t len, char ***names, size_t *count)
{
	char **list = NULL;
	size_t n = 0, ofs = 0;

	*names = NULL;
	*count = 0;
	if (len < GET_EA_FIXED) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	for (;;) {
		const uint8_t *e = buf + ofs;
		uint32_t next;
		uint8_t name_len;

		if (len - ofs < GET_EA_FIXED) {
			goto invalid;
		}
		next = PULL_LE32(e, 0);
		name_len = e[4];
		if (!chain_entry_ok(len, ofs, next,
				    GET_EA_FIXED + (size_t)name_len)) {
			goto invalid;
		}
		if (!smbd_ea_name_valid((const char *)e + GET_EA_FIXED,
					name_len)) {
			talloc_free(list);
			return NT_STATUS_INVALID_EA_NAME;
		}
		list = talloc_realloc(mem_ctx, list, char *, n + 1);
		if (list == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		list[n] = talloc_strndup(list, (const char *)e + GET_EA_FIXED,
					 name_len);
		if (list[n] == NULL) {
			talloc_free(list);
			return NT_STATUS_NO_MEMORY;
		}
		n++;
		if (next == 0) {
			break;
		}
		ofs += next;
	}
	*names = list;
	*count = n;
	return NT_STATUS_OK;
invalid:
	talloc_free(list);
	return NT_STATUS_INVALID_PARAMETER;
}

static size_t entry_size(size_t name_len, size_t value_len)
{
	return FULL_EA_FIXED + name_len + 1 + value_len;
}

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

size_t smbd_ea_list_size(const struct smbd_ea *eas, size_t count)
{
	size_t total = 0, i;

	for (i = 0; i < count; i++) {
		size_t e = entry_size(strlen(eas[i].name), eas[i].value_len);

		total += i + 1 < count ? align4(e) : e;
	}
	return total;
}

NTSTATUS smbd_ea_encode_full_list(TALLOC_CTX *mem_ctx,
				  const struct smbd_ea *eas, size_t count,
				  size_t max_len, uint8_t **out,
				  size_t *out_len, size_t *num_encoded)
{
	size_t ofs = 0, last = 0, i, fit = 0;
	uint8_t *p;

	/* how many whole entries fit (the padding after the last one does
	 * not count) */
	for (i = 0; i < count; i++) {
		size_t start = align4(ofs);
		size_t e = entry_size(strlen(eas[i].name), eas[i].value_len);

		if (i > 0 && start > max_len) {
			break;
		}
		if (e > max_len - (i > 0 ? start : 0)) {
			break;
		}
		ofs = (i > 0 ? start : 0) + e;
		fit++;
	}
	*out = NULL;
	*out_len = 0;
	*num_encoded = fit;
	if (fit == 0) {
		return count == 0 ? NT_STATUS_OK : NT_STATUS_BUFFER_TOO_SMALL;
	}
	p = talloc_zero_array(mem_ctx, uint8_t, ofs);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	ofs = 0;
	for (i = 0; i < fit; i++) {
		size_t name_len = strlen(eas[i].name);

		ofs = i > 0 ? align4(ofs) : 0;
		if (i > 0) {
			PUSH_LE32(p, last, (uint32_t)(ofs - last));
		}
		last = ofs;
		p[ofs + 4] = eas[i].flags;
		p[ofs + 5] = (uint8_t)name_len;
		PUSH_LE16(p, ofs + 6, (uint16_t)eas[i].value_len);
		memcpy(p + ofs + FULL_EA_FIXED, eas[i].name, name_len);
		/* NUL after the name is already there */
		if (eas[i].value_len > 0) {
			memcpy(p + ofs + FULL_EA_FIXED + name_len + 1,
			       eas[i].value, eas[i].value_len);
		}
		ofs += entry_size(name_len, eas[i].value_len);
	}
	*out = p;
	*out_len = ofs;
	return fit < count ? NT_STATUS_BUFFER_OVERFLOW : NT_STATUS_OK;
}

/* ---------------------------------------------------------------------
 * xattr access through any descriptor (O_PATH ones refuse f*xattr with
 * EBADF; their /proc/self/fd link names the same inode).
 */

static void proc_fd_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

static ssize_t fd_listxattr(int fd, char *buf, size_t len)
{
	ssize_t ret = flistxattr(fd, buf, len);

	if (ret == -1 && errno == EBADF) {
		char proc[64];

		proc_fd_path(fd, proc, sizeof(proc));
		ret = listxattr(proc, buf, len);
	}
	return ret;
}

static ssize_t fd_getxattr(int fd, const char *xname, void *buf, size_t len)
{
	ssize_t ret = fgetxattr(fd, xname, buf, len);

	if (ret == -1 && errno == EBADF) {
		char proc[64];

		proc_fd_path(fd, proc, sizeof(proc));
		ret = getxattr(proc, xname, buf, len);
	}
	return ret;
}

static int fd_setxattr(int fd, const char *xname, const void *buf, size_t len)
{
	int ret = fsetxattr(fd, xname, buf, len, 0);

	if (ret == -1 && errno == EBADF) {
		char proc[64];

		proc_fd_path(fd, proc, sizeof(proc));
		ret = setxattr(proc, xname, buf, len, 0);
	}
	return ret;
}

static int fd_removexattr(int fd, const char *xname)
{
	int ret = fremovexattr(fd, xname);

	if (ret == -1 && errno == EBADF) {
		char proc[64];

		proc_fd_path(fd, proc, sizeof(proc));
		ret = removexattr(proc, xname);
	}
	return ret;
}

/*
 * The names of all EA xattrs of a file: *names is a talloc'ed buffer of
 * NUL-separated full xattr names (only ours), *len its size.  `path`
 * non-NULL: list that path without following a final symlink instead of
 * fd.
 */
static NTSTATUS list_ea_xattrs(TALLOC_CTX *mem_ctx, int fd, const char *path,
			       char **names, size_t *len)
{
	char *buf = NULL, *out;
	ssize_t n;
	size_t i, olen = 0;
	int attempt;

	for (attempt = 0; attempt < 4; attempt++) {
		n = path != NULL ? llistxattr(path, NULL, 0)
				 : fd_listxattr(fd, NULL, 0);
		if (n == -1) {
			if (errno == ENOTSUP || errno == ENOENT) {
				n = 0; /* no xattrs here: no EAs */
				break;
			}
			return map_nt_error_from_unix(errno);
		}
		if (n == 0) {
			break;
		}
		talloc_free(buf);
		buf = talloc_size(mem_ctx, (size_t)n);
		if (buf == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		n = path != NULL ? llistxattr(path, buf, (size_t)n)
				 : fd_listxattr(fd, buf, (size_t)n);
		if (n >= 0) {
			break;
		}
		if (errno != ERANGE) {
			talloc_free(buf);
			return map_nt_error_from_unix(errno);
		}
		/* grew meanwhile: ask again */
	}
	if (n < 0) {
		talloc_free(buf);
		return NT_STATUS_UNEXPECTED_IO_ERROR;
	}
	out = talloc_size(mem_ctx, n > 0 ? (size_t)n : 1);
	if (out == NULL) {
		talloc_free(buf);
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < (size_t)n;) {
		const char *x = buf + i;
		size_t xl = strnlen(x, (size_t)n - i);

		if (xl > PREFIX_LEN &&
		    strncmp(x, SMBD_EA_XATTR_PREFIX, PREFIX_LEN) == 0) {
			memcpy(out + olen, x, xl);
			out[olen + xl] = '\0';
			olen += xl + 1;
		}
		i += xl + 1;
	}
	talloc_free(buf);
	*names = out;
	*len = olen;
	return NT_STATUS_OK;
}

/* Read and decode one EA xattr into *ea (children of mem_ctx).
 * NT_STATUS_NOT_FOUND: gone meanwhile or not ours to show. */
static NTSTATUS load_one(TALLOC_CTX *mem_ctx, int fd, const char *xname,
			 struct smbd_ea *ea)
{
	uint8_t *blob = talloc_size(mem_ctx, XATTR_VALUE_MAX);
	const uint8_t *value;
	NTSTATUS status;
	ssize_t n;

	if (blob == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	n = fd_getxattr(fd, xname, blob, XATTR_VALUE_MAX);
	if (n == -1) {
		talloc_free(blob);
		return errno == ENODATA ? NT_STATUS_NOT_FOUND
					: map_nt_error_from_unix(errno);
	}
	status = smbd_ea_value_decode(blob, (size_t)n, &ea->flags, &value,
				      &ea->value_len);
	if (!NT_STATUS_IS_OK(status) || ea->value_len == 0 ||
	    ea->value_len > UINT16_MAX) {
		DBG_NOTICE("skipping EA xattr '%s': not in our format\n",
			   xname);
		talloc_free(blob);
		return NT_STATUS_NOT_FOUND;
	}
	ea->name = talloc_strdup(mem_ctx, xname + PREFIX_LEN);
	ea->value = talloc_memdup(mem_ctx, value, ea->value_len);
	talloc_free(blob);
	if (ea->name == NULL || ea->value == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	return NT_STATUS_OK;
}

static int ea_name_cmp(const void *a, const void *b)
{
	const struct smbd_ea *x = a, *y = b;

	return strcmp(x->name, y->name);
}

NTSTATUS smbd_ea_list(int fd, TALLOC_CTX *mem_ctx, struct smbd_ea **eas,
		      size_t *count)
{
	TALLOC_CTX *frame = talloc_new(mem_ctx);
	struct smbd_ea *list = NULL;
	char *names = NULL;
	size_t names_len = 0, i, n = 0;
	NTSTATUS status;

	*eas = NULL;
	*count = 0;
	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = list_ea_xattrs(frame, fd, NULL, &names, &names_len);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(frame);
		return status;
	}
	for (i = 0; i < names_len; i += strlen(names + i) + 1) {
		struct smbd_ea ea = { 0 };

		if (!smbd_ea_name_valid(names + i + PREFIX_LEN,
					strlen(names + i + PREFIX_LEN))) {
			continue; /* set by hand: not an SMB name */
		}
		list = talloc_realloc(mem_ctx, list, struct smbd_ea, n + 1);
		if (list == NULL) {
			talloc_free(frame);
			return NT_STATUS_NO_MEMORY;
		}
		status = load_one(list, fd, names + i, &ea);
		if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
			continue;
		}
		if (!NT_STATUS_IS_OK(status)) {
			talloc_free(list);
			talloc_free(frame);
			return status;
		}
		list[n++] = ea;
	}
	talloc_free(frame);
	if (n == 0) {
		talloc_free(list);
		return NT_STATUS_OK;
	}
	qsort(list, n, sizeof(*list), ea_name_cmp);
	*eas = list;
	*count = n;
	return NT_STATUS_OK;
}

/* smbd_ea_list_size() from names and stored value sizes only. */
static NTSTATUS size_from_names(int fd, const char *path, const char *names,
				size_t names_len, uint32_t *size)
{
	size_t i, total = 0, prev = 0;
	bool any = false;

	for (i = 0; i < names_len; i += strlen(names + i) + 1) {
		const char *ea_name = names + i + PREFIX_LEN;
		ssize_t n = path != NULL
				    ? lgetxattr(path, names + i, NULL, 0)
				    : fd_getxattr(fd, names + i, NULL, 0);

		if (!smbd_ea_name_valid(ea_name, strlen(ea_name)) ||
		    n <= SMBD_EA_HEADER_SIZE) {
			continue; /* gone, foreign or empty */
		}
		if (any) {
			total += align4(prev) - prev;
		}
		prev = entry_size(strlen(ea_name),
				  (size_t)n - SMBD_EA_HEADER_SIZE);
		total += prev;
		any = true;
	}
	*size = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
	return NT_STATUS_OK;
}

NTSTATUS smbd_ea_size_fd(int fd, uint32_t *size)
{
	TALLOC_CTX *frame = talloc_new(NULL);
	char *names = NULL;
	size_t names_len = 0;
	NTSTATUS status;

	*size = 0;
	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = list_ea_xattrs(frame, fd, NULL, &names, &names_len);
	if (NT_STATUS_IS_OK(status)) {
		status = size_from_names(fd, NULL, names, names_len, size);
	}
	talloc_free(frame);
	return status;
}

NTSTATUS smbd_ea_size_at(int dirfd, const char *name, uint32_t *size)
{
	TALLOC_CTX *frame;
	char *path, *names = NULL;
	size_t names_len = 0;
	NTSTATUS status;

	*size = 0;
	if (strchr(name, '/') != NULL || strcmp(name, "..") == 0) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	frame = talloc_new(NULL);
	path = frame != NULL ? talloc_asprintf(frame, "/proc/self/fd/%d/%s",
					       dirfd, name)
			     : NULL;
	if (path == NULL) {
		talloc_free(frame);
		return NT_STATUS_NO_MEMORY;
	}
	/* the directory through its own fd, the entry not followed */
	status = list_ea_xattrs(frame, -1, path, &names, &names_len);
	if (NT_STATUS_IS_OK(status)) {
		status = size_from_names(-1, path, names, names_len, size);
	}
	talloc_free(frame);
	return status;
}

/* ---------------------------------------------------------------------
 * SET
 */

/* The resulting set, simulated: cur (names and sizes of what is
 * stored) changed by eas in order.  Returns its encoded size. */
static size_t size_after(struct smbd_ea *cur, size_t ncur,
			 const struct smbd_ea *eas, size_t count,
			 bool replace_all)
{
	size_t i, j, total = 0, prev = 0;
	bool any = false;

	if (replace_all) {
		ncur = 0;
	}
	for (i = 0; i < count; i++) {
		for (j = 0; j < ncur; j++) {
			if (cur[j].name != NULL &&
			    strcasecmp(cur[j].name, eas[i].name) == 0) {
				cur[j].name = NULL; /* replaced or deleted */
			}
		}
	}
	for (j = 0; j < ncur + count; j++) {
		const char *name;
		size_t vlen;

		if (j < ncur) {
			name = cur[j].name;
			vlen = cur[j].value_len;
		} else {
			const struct smbd_ea *e = &eas[j - ncur];
			size_t k;
			bool later = false;

			/* only the last SET of a name counts */
			for (k = j - ncur + 1; k < count; k++) {
				later |= strcasecmp(eas[k].name, e->name) == 0;
			}
			name = later ? NULL : e->name;
			vlen = e->value_len;
		}
		if (name == NULL || vlen == 0) {
			continue;
		}
		if (any) {
			total += align4(prev) - prev;
		}
		prev = entry_size(strlen(name), vlen);
		total += prev;
		any = true;
	}
	return total;
}

/* Remove every stored case variant of name. */
static NTSTATUS remove_variants(int fd, const char *names, size_t names_len,
				const char *name)
{
	size_t i;

	for (i = 0; i < names_len; i += strlen(names + i) + 1) {
		if (strcasecmp(names + i + PREFIX_LEN, name) != 0) {
			continue;
		}
		if (fd_removexattr(fd, names + i) == -1 && errno != ENODATA) {
			return map_nt_error_from_unix(errno);
		}
	}
	return NT_STATUS_OK;
}

NTSTATUS smbd_ea_set(int fd, const struct smbd_ea *eas, size_t count,
		     bool replace_all)
{
	TALLOC_CTX *frame = talloc_new(NULL);
	struct smbd_ea *cur = NULL;
	char *names = NULL;
	size_t names_len = 0, i, j, ncur = 0;
	NTSTATUS status;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = list_ea_xattrs(frame, fd, NULL, &names, &names_len);
	if (!NT_STATUS_IS_OK(status)) {
		goto done;
	}
	/* what is stored, by name and size, for the size check */
	for (i = 0; i < names_len; i += strlen(names + i) + 1) {
		ssize_t n = fd_getxattr(fd, names + i, NULL, 0);

		if (n <= SMBD_EA_HEADER_SIZE) {
			continue;
		}
		cur = talloc_realloc(frame, cur, struct smbd_ea, ncur + 1);
		if (cur == NULL) {
			status = NT_STATUS_NO_MEMORY;
			goto done;
		}
		cur[ncur].name = names + i + PREFIX_LEN;
		cur[ncur].value_len = (size_t)n - SMBD_EA_HEADER_SIZE;
		ncur++;
	}
	for (i = 0; i < count; i++) {
		if (!smbd_ea_name_valid(eas[i].name, strlen(eas[i].name))) {
			status = NT_STATUS_INVALID_EA_NAME;
			goto done;
		}
		if (smbd_ea_name_reserved(eas[i].name)) {
			status = NT_STATUS_ACCESS_DENIED;
			goto done;
		}
	}
	if (size_after(cur, ncur, eas, count, replace_all) >
	    SMBD_EA_MAX_SET_SIZE) {
		status = NT_STATUS_EA_TOO_LARGE;
		goto done;
	}

	if (replace_all) {
		for (i = 0; i < names_len; i += strlen(names + i) + 1) {
			if (fd_removexattr(fd, names + i) == -1 &&
			    errno != ENODATA) {
				status = map_nt_error_from_unix(errno);
				goto done;
			}
		}
	}
	for (i = 0; i < count; i++) {
		char xname[XATTR_NAME_BUF];
		uint8_t *blob = NULL;
		size_t blob_len = 0;

		if (!replace_all) {
			status = remove_variants(fd, names, names_len,
						 eas[i].name);
			if (!NT_STATUS_IS_OK(status)) {
				goto done;
			}
		}
		/* a name given twice: the earlier one is stored by now */
		for (j = 0; j < i; j++) {
			if (strcasecmp(eas[j].name, eas[i].name) == 0) {
				snprintf(xname, sizeof(xname), "%s%s",
					 SMBD_EA_XATTR_PREFIX, eas[j].name);
				smbd_ea_name_upper(xname + PREFIX_LEN);
				if (fd_removexattr(fd, xname) == -1 &&
				    errno != ENODATA) {
					status = map_nt_error_from_unix(errno);
					goto done;
				}
			}
		}
		if (eas[i].value_len == 0) {
			continue; /* deleted */
		}
		snprintf(xname, sizeof(xname), "%s%s", SMBD_EA_XATTR_PREFIX,
			 eas[i].name);
		smbd_ea_name_upper(xname + PREFIX_LEN);
		status = smbd_ea_value_encode(frame, eas[i].flags,
					      eas[i].value, eas[i].value_len,
					      &blob, &blob_len);
		if (!NT_STATUS_IS_OK(status)) {
			goto done;
		}
		if (fd_setxattr(fd, xname, blob, blob_len) == -1) {
			status = errno == ENOSPC || errno == E2BIG
					 ? NT_STATUS_DISK_FULL
					 : map_nt_error_from_unix(errno);
			goto done;
		}
	}
	status = NT_STATUS_OK;
done:
	talloc_free(frame);
	return status;
}

/* The per-handle position of single-entry EA queries. */
uint32_t *smbd_open_ea_cursor(struct smbd_open *op)
{
	return &op->ea_index;
}
