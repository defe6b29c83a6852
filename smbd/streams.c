/*
 * Alternate data streams in extended attributes: the encoding, the
 * per-fd store operations (run on VFS workers) and the record of which
 * open names which stream.  Layout and rationale: streams.h.
 */
#include "smbd/streams.h"
#include "smbd/smbd.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <wctype.h>

#include "lib/util/byteorder.h"
#include "lib/util/charset.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "smbd/dosmode.h"
#include "smbd/smb2_wire.h"

#define PREFIX_LEN (sizeof(SMBD_STREAM_XATTR_PREFIX) - 1)
#define XATTR_NAME_BUF 256 /* XATTR_NAME_MAX + 1 */
#define LOAD_RETRIES 4

/*
 * Load-modify-store of one value must not interleave with another job of
 * this process doing the same (two handles, or two requests on one
 * handle).  Across processes the share-mode and byte-range databases will
 * serialise conflicting writers; until then two clients writing one
 * stream at the same instant can lose one of the writes.
 */
static pthread_mutex_t stream_rmw_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---------------------------------------------------------------------
 * Encoding
 */

NTSTATUS smbd_stream_encode(TALLOC_CTX *mem_ctx, const uint8_t *data,
			    size_t len, uint8_t **blob, size_t *blob_len)
{
	uint8_t *b;

	if (len > SMBD_STREAM_MAX_SIZE) {
		return NT_STATUS_DISK_FULL;
	}
	b = talloc_size(mem_ctx, SMBD_STREAM_HEADER_SIZE + len);
	if (b == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(b, 0, SMBD_STREAM_VERSION);
	PUSH_LE16(b, 2, 0);
	PUSH_LE32(b, 4, (uint32_t)len);
	if (len > 0) {
		memcpy(b + SMBD_STREAM_HEADER_SIZE, data, len);
	}
	*blob = b;
	*blob_len = SMBD_STREAM_HEADER_SIZE + len;
	return NT_STATUS_OK;
}

NTSTATUS smbd_stream_decode(const uint8_t *blob, size_t blob_len,
			    const uint8_t **data, size_t *len)
{
	uint32_t data_len;

	if (blob_len < SMBD_STREAM_HEADER_SIZE ||
	    PULL_LE16(blob, 0) != SMBD_STREAM_VERSION) {
		return NT_STATUS_FILE_CORRUPT_ERROR;
	}
	data_len = PULL_LE32(blob, 4);
	if ((size_t)data_len != blob_len - SMBD_STREAM_HEADER_SIZE) {
		return NT_STATUS_FILE_CORRUPT_ERROR;
	}
	*data = blob + SMBD_STREAM_HEADER_SIZE;
	*len = data_len;
	return NT_STATUS_OK;
}

/* ---------------------------------------------------------------------
 * Case-insensitive names
 */

static locale_t utf8_locale;
static pthread_once_t utf8_locale_once = PTHREAD_ONCE_INIT;

static void utf8_locale_init(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (utf8_locale == (locale_t)0) {
		DBG_WARNING("no C.UTF-8 locale: stream names fold ASCII "
			    "only\n");
	}
}

/* Next code point of a UTF-8 string; an invalid byte stands for itself
 * (offset into a private range) so such names still compare bytewise. */
static uint32_t next_code_point(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint32_t c = p[0];
	int n, i;

	if (c < 0x80) {
		*pp = p + 1;
		return c;
	}
	if ((c & 0xE0) == 0xC0) {
		n = 1;
		c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 2;
		c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 3;
		c &= 0x07;
	} else {
		*pp = p + 1;
		return 0x110000 + p[0];
	}
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			*pp = p + 1;
			return 0x110000 + p[0];
		}
		c = (c << 6) | (p[i] & 0x3F);
	}
	*pp = p + n + 1;
	return c;
}

static uint32_t fold(uint32_t c)
{
	if (c < 0x80) {
		return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c;
	}
	if (c > 0x10FFFF || utf8_locale == (locale_t)0) {
		return c;
	}
	return (uint32_t)towupper_l((wint_t)c, utf8_locale);
}

bool smbd_stream_name_equal(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *)a;
	const unsigned char *pb = (const unsigned char *)b;

	pthread_once(&utf8_locale_once, utf8_locale_init);
	while (*pa != '\0' && *pb != '\0') {
		if (fold(next_code_point(&pa)) != fold(next_code_point(&pb))) {
			return false;
		}
	}
	return *pa == '\0' && *pb == '\0';
}

/* ---------------------------------------------------------------------
 * xattr access through any descriptor: an O_PATH descriptor refuses the
 * f*xattr calls with EBADF, its /proc/self/fd link names the same inode.
 */

static void proc_fd_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
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

static int fd_setxattr(int fd, const char *xname, const void *buf, size_t len,
		       int flags)
{
	int ret = fsetxattr(fd, xname, buf, len, flags);

	if (ret == -1 && errno == EBADF) {
		char proc[64];

		proc_fd_path(fd, proc, sizeof(proc));
		ret = setxattr(proc, xname, buf, len, flags);
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

static NTSTATUS map_xattr_errno(int err)
{
	switch (err) {
	case ENODATA:
		/* the stream is gone (deleted through another handle) */
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	case ENOSPC:
	case E2BIG:
	case ERANGE:
		/* no room for the value in this inode / file system */
		return NT_STATUS_DISK_FULL;
	case EPERM:
	case EACCES:
		/* user.* xattrs are refused on files the user may not write
		 * and on sticky directories of others */
		return NT_STATUS_ACCESS_DENIED;
	case ENOTSUP:
		return NT_STATUS_NOT_SUPPORTED;
	default:
		return map_nt_error_from_unix(err);
	}
}

static NTSTATUS xattr_name_of(const char *stream, char buf[XATTR_NAME_BUF])
{
	size_t len = strlen(stream);

	if (len == 0 || len > SMBD_STREAM_MAX_NAME_BYTES) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	memcpy(buf, SMBD_STREAM_XATTR_PREFIX, PREFIX_LEN);
	memcpy(buf + PREFIX_LEN, stream, len + 1);
	return NT_STATUS_OK;
}

/* All xattr names of fd (NUL-separated), talloc'ed on mem_ctx. */
static NTSTATUS list_names(int fd, TALLOC_CTX *mem_ctx, char **names,
			   size_t *len)
{
	int tries;

	for (tries = 0; tries < LOAD_RETRIES; tries++) {
		ssize_t size = fd_listxattr(fd, NULL, 0), got;
		char *buf;

		if (size == -1) {
			return map_xattr_errno(errno);
		}
		buf = talloc_size(mem_ctx, size > 0 ? (size_t)size : 1);
		if (buf == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		got = size > 0 ? fd_listxattr(fd, buf, (size_t)size) : 0;
		if (got == -1 && errno == ERANGE) {
			/* grew meanwhile */
			talloc_free(buf);
			continue;
		}
		if (got == -1) {
			int err = errno;

			talloc_free(buf);
			return map_xattr_errno(err);
		}
		*names = buf;
		*len = (size_t)got;
		return NT_STATUS_OK;
	}
	return NT_STATUS_INTERNAL_ERROR;
}

/* Load a value whole; *blob talloc'ed on mem_ctx. */
static NTSTATUS load_value(int fd, const char *xname, TALLOC_CTX *mem_ctx,
			   uint8_t **blob, size_t *blob_len)
{
	int tries;

	for (tries = 0; tries < LOAD_RETRIES; tries++) {
		ssize_t size = fd_getxattr(fd, xname, NULL, 0), got;
		uint8_t *buf;

		if (size == -1) {
			return map_xattr_errno(errno);
		}
		buf = talloc_size(mem_ctx, size > 0 ? (size_t)size : 1);
		if (buf == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		got = size > 0 ? fd_getxattr(fd, xname, buf, (size_t)size) : 0;
		if (got == -1 && errno == ERANGE) {
			talloc_free(buf);
			continue;
		}
		if (got == -1) {
			int err = errno;

			talloc_free(buf);
			return map_xattr_errno(err);
		}
		*blob = buf;
		*blob_len = (size_t)got;
		return NT_STATUS_OK;
	}
	return NT_STATUS_INTERNAL_ERROR;
}

/* ---------------------------------------------------------------------
 * Store operations (worker threads)
 */

uint64_t smbd_stream_alloc_size(uint64_t size)
{
	return (size + 4095) & ~(uint64_t)4095;
}

void smbd_stream_meta_fixup(struct smbd_file_meta *meta)
{
	meta->is_dir = false;
	meta->attributes &= ~FILE_ATTRIBUTE_DIRECTORY;
	if (meta->attributes == 0) {
		meta->attributes = FILE_ATTRIBUTE_NORMAL;
	}
}

NTSTATUS smbd_streams_list(int fd, TALLOC_CTX *mem_ctx,
			   struct smbd_stream_info **out, size_t *count)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	struct smbd_stream_info *list = NULL;
	size_t n = 0, len = 0, ofs;
	char *names = NULL;
	NTSTATUS status;

	*out = NULL;
	*count = 0;
	if (tmp == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = list_names(fd, tmp, &names, &len);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(tmp);
		return status;
	}
	for (ofs = 0; ofs < len; ofs += strnlen(names + ofs, len - ofs) + 1) {
		const char *xname = names + ofs;
		struct smbd_stream_info *grown;
		ssize_t vsize;

		if (strncmp(xname, SMBD_STREAM_XATTR_PREFIX, PREFIX_LEN) != 0 ||
		    xname[PREFIX_LEN] == '\0' ||
		    strnlen(xname, len - ofs) == len - ofs) {
			continue;
		}
		vsize = fd_getxattr(fd, xname, NULL, 0);
		if (vsize == -1) {
			if (errno == ENODATA) {
				continue; /* removed meanwhile */
			}
			status = map_xattr_errno(errno);
			talloc_free(tmp);
			return status;
		}
		if ((size_t)vsize < SMBD_STREAM_HEADER_SIZE) {
			/* not ours to interpret; keep it out of the list
			 * rather than fail every listing of the file */
			DBG_NOTICE("%s: short stream value, skipped\n", xname);
			continue;
		}
		grown = talloc_realloc(tmp, list, struct smbd_stream_info,
				       n + 1);
		if (grown == NULL) {
			talloc_free(tmp);
			return NT_STATUS_NO_MEMORY;
		}
		list = grown;
		list[n].name = talloc_strdup(list, xname + PREFIX_LEN);
		if (list[n].name == NULL) {
			talloc_free(tmp);
			return NT_STATUS_NO_MEMORY;
		}
		list[n].size = (uint64_t)vsize - SMBD_STREAM_HEADER_SIZE;
		list[n].alloc_size = smbd_stream_alloc_size(list[n].size);
		n++;
	}
	if (n > 0) {
		*out = talloc_steal(mem_ctx, list);
		*count = n;
	}
	talloc_free(tmp);
	return NT_STATUS_OK;
}

static NTSTATUS append_stream_entry(TALLOC_CTX *mem_ctx, uint8_t **buf,
				    size_t *len, size_t *last_ofs,
				    const char *name, uint64_t size,
				    uint64_t alloc)
{
	char *full = talloc_asprintf(mem_ctx, ":%s:$DATA", name);
	uint8_t *u16 = NULL, *grown;
	size_t u16_len = 0, ofs = (*len + 7) & ~(size_t)7;

	if (full == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!utf8_to_utf16le(mem_ctx, full, &u16, &u16_len)) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	grown = talloc_realloc(mem_ctx, *buf, uint8_t, ofs + 24 + u16_len);
	if (grown == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (*len > 0) {
		/* pad the previous entry and link it to this one */
		memset(grown + *len, 0, ofs - *len);
		PUSH_LE32(grown, *last_ofs, (uint32_t)(ofs - *last_ofs));
	}
	PUSH_LE32(grown, ofs, 0);
	PUSH_LE32(grown, ofs + 4, (uint32_t)u16_len);
	PUSH_LE64(grown, ofs + 8, size);
	PUSH_LE64(grown, ofs + 16, alloc);
	memcpy(grown + ofs + 24, u16, u16_len);
	*buf = grown;
	*last_ofs = ofs;
	*len = ofs + 24 + u16_len;
	talloc_free(full);
	talloc_free(u16);
	return NT_STATUS_OK;
}

NTSTATUS smbd_streams_encode_info(TALLOC_CTX *mem_ctx, bool with_unnamed,
				  uint64_t unnamed_size,
				  uint64_t unnamed_alloc,
				  const struct smbd_stream_info *list,
				  size_t count, uint8_t **out,
				  size_t *out_len)
{
	uint8_t *buf = NULL;
	size_t len = 0, last_ofs = 0, i;
	NTSTATUS status = NT_STATUS_OK;

	*out = NULL;
	*out_len = 0;
	if (with_unnamed) {
		/* "::$DATA" is ":" + "" + ":$DATA" */
		status = append_stream_entry(mem_ctx, &buf, &len, &last_ofs,
					     "", unnamed_size, unnamed_alloc);
	}
	for (i = 0; NT_STATUS_IS_OK(status) && i < count; i++) {
		status = append_stream_entry(mem_ctx, &buf, &len, &last_ofs,
					     list[i].name, list[i].size,
					     list[i].alloc_size);
	}
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(buf);
		return status;
	}
	*out = buf;
	*out_len = len;
	return NT_STATUS_OK;
}

NTSTATUS smbd_stream_find(int fd, TALLOC_CTX *mem_ctx, const char *name,
			  char **stored_name, uint64_t *size)
{
	char xname[XATTR_NAME_BUF];
	struct smbd_stream_info *list;
	size_t i, count;
	NTSTATUS status;
	ssize_t vsize;

	status = xattr_name_of(name, xname);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* the exact spelling first: one syscall in the common case */
	vsize = fd_getxattr(fd, xname, NULL, 0);
	if (vsize >= 0) {
		if ((size_t)vsize < SMBD_STREAM_HEADER_SIZE) {
			return NT_STATUS_FILE_CORRUPT_ERROR;
		}
		if (size != NULL) {
			*size = (uint64_t)vsize - SMBD_STREAM_HEADER_SIZE;
		}
		if (stored_name != NULL) {
			*stored_name = talloc_strdup(mem_ctx, name);
			if (*stored_name == NULL) {
				return NT_STATUS_NO_MEMORY;
			}
		}
		return NT_STATUS_OK;
	}
	if (errno != ENODATA) {
		return map_xattr_errno(errno);
	}
	status = smbd_streams_list(fd, mem_ctx, &list, &count);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	for (i = 0; i < count; i++) {
		if (!smbd_stream_name_equal(list[i].name, name)) {
			continue;
		}
		if (size != NULL) {
			*size = list[i].size;
		}
		if (stored_name != NULL) {
			*stored_name = talloc_steal(mem_ctx, list[i].name);
		}
		talloc_free(list);
		return NT_STATUS_OK;
	}
	talloc_free(list);
	return NT_STATUS_OBJECT_NAME_NOT_FOUND;
}

NTSTATUS smbd_stream_create(int fd, const char *name)
{
	uint8_t header[SMBD_STREAM_HEADER_SIZE];
	char xname[XATTR_NAME_BUF];
	NTSTATUS status;

	status = xattr_name_of(name, xname);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = smbd_stream_find(fd, NULL, name, NULL, NULL);
	if (NT_STATUS_IS_OK(status)) {
		return NT_STATUS_OBJECT_NAME_COLLISION;
	}
	if (!NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND)) {
		return status;
	}
	PUSH_LE16(header, 0, SMBD_STREAM_VERSION);
	PUSH_LE16(header, 2, 0);
	PUSH_LE32(header, 4, 0);
	if (fd_setxattr(fd, xname, header, sizeof(header), XATTR_CREATE) ==
	    -1) {
		if (errno == EEXIST) {
			return NT_STATUS_OBJECT_NAME_COLLISION;
		}
		return map_xattr_errno(errno);
	}
	return NT_STATUS_OK;
}

/* The stored name of a stream as xattr name, for the operations that
 * take "any case of it". */
static NTSTATUS resolve(int fd, TALLOC_CTX *mem_ctx, const char *name,
			char xname[XATTR_NAME_BUF])
{
	char *stored = NULL;
	NTSTATUS status;

	status = smbd_stream_find(fd, mem_ctx, name, &stored, NULL);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	return xattr_name_of(stored, xname);
}

NTSTATUS smbd_stream_read(int fd, const char *name, uint8_t *buf, size_t len,
			  uint64_t offset, size_t *nread)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char xname[XATTR_NAME_BUF];
	const uint8_t *data;
	size_t blob_len, data_len;
	uint8_t *blob;
	NTSTATUS status;

	*nread = 0;
	if (tmp == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = resolve(fd, tmp, name, xname);
	if (NT_STATUS_IS_OK(status)) {
		status = load_value(fd, xname, tmp, &blob, &blob_len);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = smbd_stream_decode(blob, blob_len, &data, &data_len);
	}
	if (NT_STATUS_IS_OK(status) && offset < data_len) {
		size_t n = data_len - (size_t)offset;

		if (n > len) {
			n = len;
		}
		memcpy(buf, data + offset, n);
		*nread = n;
	}
	talloc_free(tmp);
	return status;
}

/*
 * Load the stream, let `change` rewrite its data into a new buffer of
 * new_len bytes, store it back.  Runs under stream_rmw_lock.
 */
struct rmw_args {
	/* write */
	const uint8_t *buf;
	size_t len;
	uint64_t offset;
	bool append;
	/* truncate */
	bool truncate;
	uint64_t new_size;
	/* out */
	size_t written;
};

static NTSTATUS rmw_locked(int fd, const char *xname, TALLOC_CTX *tmp,
			   struct rmw_args *a)
{
	const uint8_t *data;
	size_t blob_len, data_len, new_len, out_len;
	uint64_t start = 0, end;
	uint8_t *blob, *out;
	NTSTATUS status;

	status = load_value(fd, xname, tmp, &blob, &blob_len);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = smbd_stream_decode(blob, blob_len, &data, &data_len);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (a->truncate) {
		end = a->new_size;
	} else {
		start = a->append ? data_len : a->offset;
		end = start + a->len;
	}
	if (end > SMBD_STREAM_MAX_SIZE) {
		return NT_STATUS_DISK_FULL;
	}
	new_len = (a->truncate || end > data_len) ? (size_t)end : data_len;
	status = smbd_stream_encode(tmp, NULL, 0, &out, &out_len);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	out = talloc_realloc(tmp, out, uint8_t,
			     SMBD_STREAM_HEADER_SIZE + new_len);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE32(out, 4, (uint32_t)new_len);
	memcpy(out + SMBD_STREAM_HEADER_SIZE, data,
	       data_len < new_len ? data_len : new_len);
	if (new_len > data_len) {
		memset(out + SMBD_STREAM_HEADER_SIZE + data_len, 0,
		       new_len - data_len);
	}
	if (!a->truncate && a->len > 0) {
		memcpy(out + SMBD_STREAM_HEADER_SIZE + start, a->buf, a->len);
	}
	if (fd_setxattr(fd, xname, out, SMBD_STREAM_HEADER_SIZE + new_len,
			XATTR_REPLACE) == -1) {
		return map_xattr_errno(errno);
	}
	a->written = a->len;
	return NT_STATUS_OK;
}

static NTSTATUS rmw(int fd, const char *name, struct rmw_args *a)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char xname[XATTR_NAME_BUF];
	NTSTATUS status;

	if (tmp == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = resolve(fd, tmp, name, xname);
	if (NT_STATUS_IS_OK(status)) {
		pthread_mutex_lock(&stream_rmw_lock);
		status = rmw_locked(fd, xname, tmp, a);
		pthread_mutex_unlock(&stream_rmw_lock);
	}
	talloc_free(tmp);
	return status;
}

NTSTATUS smbd_stream_write(int fd, const char *name, const uint8_t *buf,
			   size_t len, uint64_t offset, bool append,
			   size_t *written)
{
	struct rmw_args a = {
		.buf = buf, .len = len, .offset = offset, .append = append,
	};
	NTSTATUS status;

	*written = 0;
	if (!append && (offset > SMBD_STREAM_MAX_SIZE ||
			len > SMBD_STREAM_MAX_SIZE - offset)) {
		/* decided before loading anything */
		return NT_STATUS_DISK_FULL;
	}
	status = rmw(fd, name, &a);
	if (NT_STATUS_IS_OK(status)) {
		*written = a.written;
	}
	return status;
}

NTSTATUS smbd_stream_truncate(int fd, const char *name, uint64_t size)
{
	struct rmw_args a = { .truncate = true, .new_size = size };

	if (size > SMBD_STREAM_MAX_SIZE) {
		return NT_STATUS_DISK_FULL;
	}
	return rmw(fd, name, &a);
}

NTSTATUS smbd_stream_delete(int fd, const char *name)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char xname[XATTR_NAME_BUF];
	NTSTATUS status;

	if (tmp == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = resolve(fd, tmp, name, xname);
	if (NT_STATUS_IS_OK(status) && fd_removexattr(fd, xname) == -1) {
		status = map_xattr_errno(errno);
	}
	talloc_free(tmp);
	return status;
}

NTSTATUS smbd_streams_delete_all(int fd)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	struct smbd_stream_info *list;
	char xname[XATTR_NAME_BUF];
	size_t i, count;
	NTSTATUS status;

	if (tmp == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = smbd_streams_list(fd, tmp, &list, &count);
	for (i = 0; NT_STATUS_IS_OK(status) && i < count; i++) {
		status = xattr_name_of(list[i].name, xname);
		if (NT_STATUS_IS_OK(status) && fd_removexattr(fd, xname) == -1 &&
		    errno != ENODATA) {
			status = map_xattr_errno(errno);
		}
	}
	talloc_free(tmp);
	return status;
}

NTSTATUS smbd_stream_rename(int fd, TALLOC_CTX *mem_ctx, const char *old_name,
			    const char *new_name, bool replace)
{
	TALLOC_CTX *tmp = talloc_new(mem_ctx);
	char old_x[XATTR_NAME_BUF], new_x[XATTR_NAME_BUF];
	char *old_stored = NULL, *target = NULL;
	uint64_t target_size = 0;
	size_t blob_len;
	uint8_t *blob;
	NTSTATUS status;

	if (tmp == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = xattr_name_of(new_name, new_x);
	if (!NT_STATUS_IS_OK(status)) {
		goto done;
	}
	status = smbd_stream_find(fd, tmp, old_name, &old_stored, NULL);
	if (!NT_STATUS_IS_OK(status)) {
		goto done;
	}
	status = xattr_name_of(old_stored, old_x);
	if (!NT_STATUS_IS_OK(status)) {
		goto done;
	}
	if (smbd_stream_name_equal(old_stored, new_name)) {
		if (strcmp(old_stored, new_name) == 0) {
			goto done; /* nothing to do */
		}
		target = NULL; /* a change of case only */
	} else {
		status = smbd_stream_find(fd, tmp, new_name, &target,
					  &target_size);
		if (NT_STATUS_IS_OK(status)) {
			if (!replace) {
				status = NT_STATUS_OBJECT_NAME_COLLISION;
				goto done;
			}
			if (target_size != 0) {
				status = NT_STATUS_INVALID_PARAMETER;
				goto done;
			}
		} else if (NT_STATUS_EQUAL(status,
					   NT_STATUS_OBJECT_NAME_NOT_FOUND)) {
			target = NULL;
		} else {
			goto done;
		}
	}
	pthread_mutex_lock(&stream_rmw_lock);
	status = load_value(fd, old_x, tmp, &blob, &blob_len);
	if (NT_STATUS_IS_OK(status) && target != NULL) {
		char target_x[XATTR_NAME_BUF];

		/* the replaced stream may be spelt differently */
		status = xattr_name_of(target, target_x);
		if (NT_STATUS_IS_OK(status) &&
		    fd_removexattr(fd, target_x) == -1 && errno != ENODATA) {
			status = map_xattr_errno(errno);
		}
	}
	if (NT_STATUS_IS_OK(status) &&
	    fd_setxattr(fd, new_x, blob, blob_len, 0) == -1) {
		status = map_xattr_errno(errno);
	}
	if (NT_STATUS_IS_OK(status) && fd_removexattr(fd, old_x) == -1) {
		status = map_xattr_errno(errno);
	}
	pthread_mutex_unlock(&stream_rmw_lock);
done:
	talloc_free(tmp);
	return status;
}

/* ---------------------------------------------------------------------
 * Which open names which stream (event loop only)
 */

NTSTATUS smbd_open_set_stream(struct smbd_open *op, const char *name)
{
	char *copy = talloc_strdup(op, name);

	if (copy == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	talloc_free(op->stream_name);
	op->stream_name = copy;
	return NT_STATUS_OK;
}

const char *smbd_open_stream(const struct smbd_open *op)
{
	return op->stream_name;
}
