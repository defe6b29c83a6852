/*
 * DOS attributes and NT times from statx() and the user.DOSATTRIB xattr.
 * The encoding and the derivation rules are described in dosmode.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/dosmode.h"
#include "smbd/smb2_wire.h"

#if __has_include("lib/param/loadparm.h")
#include "lib/param/loadparm.h"
#define DOSMODE_HAVE_LOADPARM 1
#endif

#define DOSATTRIB_XATTR_NAME "user.DOSATTRIB"
#define DOSATTRIB_VERSION 1
#define DOSATTRIB_SIZE 16
#define DOSATTRIB_FLAG_ATTRIBUTES 0x0001
#define DOSATTRIB_FLAG_CREATE_TIME 0x0002

/* Seconds between 1601-01-01 and 1970-01-01 */
#define NT_EPOCH_DELTA_SECS 11644473600ULL
#define NT_TICKS_PER_SEC 10000000ULL

struct dosattrib {
	uint16_t flags;
	uint32_t attributes;
	uint64_t create_time;
};

uint64_t nt_time_from_timespec(struct timespec ts)
{
	if (ts.tv_sec < -(int64_t)NT_EPOCH_DELTA_SECS) {
		return 0;
	}
	return ((uint64_t)(ts.tv_sec + (int64_t)NT_EPOCH_DELTA_SECS)) *
		       NT_TICKS_PER_SEC +
	       (uint64_t)ts.tv_nsec / 100;
}

struct timespec timespec_from_nt_time(uint64_t nt)
{
	struct timespec ts;
	ts.tv_sec = (time_t)(nt / NT_TICKS_PER_SEC) -
		    (time_t)NT_EPOCH_DELTA_SECS;
	ts.tv_nsec = (long)(nt % NT_TICKS_PER_SEC) * 100;
	return ts;
}

NTSTATUS smbd_info_map_errno(int err)
{
	switch (err) {
	case 0:
		return NT_STATUS_OK;
	case EACCES:
	case EPERM:
		return NT_STATUS_ACCESS_DENIED;
	case ENOENT:
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	case ENOTDIR:
		return NT_STATUS_OBJECT_PATH_NOT_FOUND;
	case EEXIST:
		return NT_STATUS_OBJECT_NAME_COLLISION;
	case ENOTEMPTY:
		return NT_STATUS_DIRECTORY_NOT_EMPTY;
	case EISDIR:
		return NT_STATUS_FILE_IS_A_DIRECTORY;
	case ENOSPC:
		return NT_STATUS_DISK_FULL;
	case EDQUOT:
		return NT_STATUS_DISK_QUOTA_EXCEEDED;
	case EROFS:
		return NT_STATUS_MEDIA_WRITE_PROTECTED;
	case ENOMEM:
		return NT_STATUS_NO_MEMORY;
	case ENAMETOOLONG:
		return NT_STATUS_NAME_TOO_LONG;
	case EXDEV:
		return NT_STATUS_NOT_SAME_DEVICE;
	case EBUSY:
		return NT_STATUS_SHARING_VIOLATION;
	case ELOOP:
		return NT_STATUS_OBJECT_PATH_NOT_FOUND;
	case EINVAL:
		return NT_STATUS_INVALID_PARAMETER;
	case EFBIG:
		return NT_STATUS_DISK_FULL;
	case EMFILE:
	case ENFILE:
		return NT_STATUS_TOO_MANY_OPENED_FILES;
	case EOPNOTSUPP:
		return NT_STATUS_NOT_SUPPORTED;
	case EBADF:
		return NT_STATUS_INVALID_HANDLE;
	default:
		return NT_STATUS_UNEXPECTED_IO_ERROR;
	}
}

static bool dosattrib_parse(const uint8_t *buf, ssize_t len,
			    struct dosattrib *out)
{
	if (len < DOSATTRIB_SIZE || PULL_LE16(buf, 0) != DOSATTRIB_VERSION) {
		return false;
	}
	out->flags = PULL_LE16(buf, 2);
	out->attributes = PULL_LE32(buf, 4) & SMBD_DOSMODE_STORED_MASK;
	out->create_time = PULL_LE64(buf, 8);
	return true;
}

static void dosattrib_push(const struct dosattrib *in,
			   uint8_t buf[DOSATTRIB_SIZE])
{
	PUSH_LE16(buf, 0, DOSATTRIB_VERSION);
	PUSH_LE16(buf, 2, in->flags);
	PUSH_LE32(buf, 4, in->attributes & SMBD_DOSMODE_STORED_MASK);
	PUSH_LE64(buf, 8, in->create_time);
}

/*
 * An O_PATH descriptor refuses f*xattr() with EBADF; the /proc/self/fd
 * link reaches the same inode (the kernel resolves the magic link to the
 * open file, not to a path that could have been replaced).
 */
static ssize_t fd_getxattr(int fd, void *buf, size_t len)
{
	ssize_t ret = fgetxattr(fd, DOSATTRIB_XATTR_NAME, buf, len);
	if (ret == -1 && errno == EBADF) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		ret = getxattr(proc, DOSATTRIB_XATTR_NAME, buf, len);
	}
	return ret;
}

static int fd_setxattr(int fd, const void *buf, size_t len)
{
	int ret = fsetxattr(fd, DOSATTRIB_XATTR_NAME, buf, len, 0);
	if (ret == -1 && errno == EBADF) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		ret = setxattr(proc, DOSATTRIB_XATTR_NAME, buf, len, 0);
	}
	return ret;
}

static bool dosattrib_read_fd(int fd, struct dosattrib *out)
{
	uint8_t buf[64];
	ssize_t len = fd_getxattr(fd, buf, sizeof(buf));
	if (len < 0) {
		if (errno != ENODATA && errno != ENOTSUP && errno != ERANGE) {
			DBG_DEBUG("getxattr %s: %s\n", DOSATTRIB_XATTR_NAME,
				  strerror(errno));
		}
		return false;
	}
	return dosattrib_parse(buf, len, out);
}

static bool share_hides_dot_files(const struct smb_conf_share *share)
{
#ifdef DOSMODE_HAVE_LOADPARM
	if (share != NULL) {
		return share->hide_dot_files;
	}
#endif
	return true; /* Samba's default */
}

static bool is_dot_file(const char *name)
{
	if (name == NULL || name[0] != '.') {
		return false;
	}
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static size_t utf8_char_len(const char *s)
{
	unsigned char c = (unsigned char)s[0];
	size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

	for (size_t i = 1; i < len; i++) {
		if (s[i] == '\0') {
			return i;
		}
	}
	return len;
}

/* One "hide files" pattern (len bytes, no '/') against a whole name:
 * '*' any run, '?' one character, the rest ASCII case-insensitively.
 * Backtracking over the last '*' only: O(len(pattern) * len(name)). */
static bool hide_pattern_matches(const char *pat, size_t len,
				 const char *name)
{
	size_t p = 0, star_p = SIZE_MAX;
	const char *n = name, *star_n = NULL;

	while (*n != '\0') {
		if (p < len && pat[p] == '*') {
			star_p = ++p;
			star_n = n;
			continue;
		}
		if (p < len && pat[p] == '?') {
			p++;
			n += utf8_char_len(n);
			continue;
		}
		if (p < len && tolower((unsigned char)pat[p]) ==
				       tolower((unsigned char)*n)) {
			p++;
			n++;
			continue;
		}
		if (star_n == NULL) {
			return false;
		}
		p = star_p;
		star_n += utf8_char_len(star_n);
		n = star_n;
	}
	while (p < len && pat[p] == '*') {
		p++;
	}
	return p == len;
}

bool smbd_name_in_pattern_list(const char *list, const char *name)
{
	const char *p = list;

	if (list == NULL || name == NULL || name[0] == '\0') {
		return false;
	}
	while (*p != '\0') {
		const char *end = strchr(p, '/');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len > 0 && hide_pattern_matches(p, len, name)) {
			return true;
		}
		if (end == NULL) {
			break;
		}
		p = end + 1;
	}
	return false;
}

static const char *share_hide_files(const struct smb_conf_share *share)
{
#ifdef DOSMODE_HAVE_LOADPARM
	if (share != NULL) {
		return share->hide_files;
	}
#endif
	(void)share;
	return NULL;
}

static void meta_from_statx(const struct statx *stx, const char *name,
			    const struct smb_conf_share *share,
			    const struct dosattrib *stored,
			    struct smbd_file_meta *out)
{
	struct timespec mtime = { stx->stx_mtime.tv_sec,
				  stx->stx_mtime.tv_nsec };
	struct timespec ctime = { stx->stx_ctime.tv_sec,
				  stx->stx_ctime.tv_nsec };
	struct timespec atime = { stx->stx_atime.tv_sec,
				  stx->stx_atime.tv_nsec };
	uint32_t attrs = 0;

	memset(out, 0, sizeof(*out));
	out->is_dir = S_ISDIR(stx->stx_mode);
	out->unix_mode = stx->stx_mode;
	out->uid = stx->stx_uid;
	out->gid = stx->stx_gid;
	out->index_number = stx->stx_ino;
	out->device = ((uint64_t)stx->stx_dev_major << 32) |
		      stx->stx_dev_minor;
	out->nlink = out->is_dir ? 1 : stx->stx_nlink;
	out->last_access_time = nt_time_from_timespec(atime);
	out->last_write_time = nt_time_from_timespec(mtime);
	/* ChangeTime: the write time, as Samba 4.17 reports it.  The unix
	 * ctime also moves on every chmod, xattr and rename, and clients
	 * (smb2.timestamps) expect a ChangeTime they set together with
	 * the write time to read back. */
	out->change_time = out->last_write_time;
	(void)ctime;

	if (stored != NULL && (stored->flags & DOSATTRIB_FLAG_CREATE_TIME)) {
		out->creation_time = stored->create_time;
	} else if (stx->stx_mask & STATX_BTIME) {
		struct timespec btime = { stx->stx_btime.tv_sec,
					  stx->stx_btime.tv_nsec };
		out->creation_time = nt_time_from_timespec(btime);
	} else {
		uint64_t ct = nt_time_from_timespec(ctime);
		out->creation_time = out->last_write_time < ct
					     ? out->last_write_time
					     : ct;
	}

	if (!out->is_dir) {
		out->end_of_file = stx->stx_size;
		out->allocation_size = stx->stx_blocks * 512;
	}

	if (stored != NULL && (stored->flags & DOSATTRIB_FLAG_ATTRIBUTES)) {
		attrs = stored->attributes;
	} else if (!out->is_dir && (stx->stx_mode & S_IXUSR)) {
		attrs = FILE_ATTRIBUTE_ARCHIVE; /* map archive = yes */
	}
	/* HIDDEN from the name only ("hide dot files", "hide files") is
	 * reported but never stored; it is remembered apart so that checks
	 * against the stored attributes can leave it out. */
	if (!(attrs & FILE_ATTRIBUTE_HIDDEN) &&
	    ((share_hides_dot_files(share) && is_dot_file(name)) ||
	     smbd_name_in_pattern_list(share_hide_files(share), name))) {
		attrs |= FILE_ATTRIBUTE_HIDDEN;
		out->attributes_from_name = FILE_ATTRIBUTE_HIDDEN;
	}
	if (out->is_dir) {
		attrs |= FILE_ATTRIBUTE_DIRECTORY;
	}
	if (attrs == 0) {
		attrs = FILE_ATTRIBUTE_NORMAL;
	}
	out->attributes = attrs;
}

#define META_STATX_MASK (STATX_BASIC_STATS | STATX_BTIME)

NTSTATUS smbd_file_meta_fd(int fd, const char *name,
			   const struct smb_conf_share *share,
			   struct smbd_file_meta *out)
{
	struct statx stx;
	struct dosattrib stored;
	bool have_stored;

	if (statx(fd, "", AT_EMPTY_PATH, META_STATX_MASK, &stx) == -1) {
		return smbd_info_map_errno(errno);
	}
	have_stored = !S_ISLNK(stx.stx_mode) && dosattrib_read_fd(fd, &stored);
	meta_from_statx(&stx, name, share, have_stored ? &stored : NULL, out);
	return NT_STATUS_OK;
}

NTSTATUS smbd_file_meta_at(int dirfd, const char *name,
			   const struct smb_conf_share *share,
			   struct smbd_file_meta *out)
{
	struct statx stx;
	struct dosattrib stored;
	bool have_stored = false;

	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, META_STATX_MASK, &stx) ==
	    -1) {
		return smbd_info_map_errno(errno);
	}
	if (S_ISREG(stx.stx_mode) || S_ISDIR(stx.stx_mode)) {
		int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd != -1) {
			struct statx check;
			/* Only trust the xattr of the inode statx saw: the
			 * name may have been replaced in between. */
			if (statx(fd, "", AT_EMPTY_PATH, STATX_INO, &check) ==
				    0 &&
			    check.stx_ino == stx.stx_ino &&
			    check.stx_dev_major == stx.stx_dev_major &&
			    check.stx_dev_minor == stx.stx_dev_minor) {
				have_stored = dosattrib_read_fd(fd, &stored);
			}
			close(fd);
		}
	}
	meta_from_statx(&stx, name, share, have_stored ? &stored : NULL, out);
	return NT_STATUS_OK;
}

static NTSTATUS dosattrib_write_fd(int fd, const struct dosattrib *d)
{
	uint8_t buf[DOSATTRIB_SIZE];
	dosattrib_push(d, buf);
	if (fd_setxattr(fd, buf, sizeof(buf)) == -1) {
		int err = errno;
		DBG_INFO("setxattr %s: %s\n", DOSATTRIB_XATTR_NAME,
			 strerror(err));
		return smbd_info_map_errno(err);
	}
	return NT_STATUS_OK;
}

NTSTATUS smbd_dosmode_set_fd(int fd, uint32_t attributes, bool is_dir)
{
	struct dosattrib d = { 0 };

	if (!dosattrib_read_fd(fd, &d)) {
		d = (struct dosattrib){ 0 };
	}
	/* directories keep ARCHIVE too, as on NTFS (smb2.winattr) */
	(void)is_dir;
	attributes &= SMBD_DOSMODE_STORED_MASK;
	d.flags |= DOSATTRIB_FLAG_ATTRIBUTES;
	d.attributes = attributes;
	return dosattrib_write_fd(fd, &d);
}

NTSTATUS smbd_dosmode_set_create_time_fd(int fd, uint64_t nt_time)
{
	struct dosattrib d = { 0 };

	if (!dosattrib_read_fd(fd, &d)) {
		struct smbd_file_meta meta;
		NTSTATUS status = smbd_file_meta_fd(fd, NULL, NULL, &meta);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		d = (struct dosattrib){ 0 };
		d.flags = DOSATTRIB_FLAG_ATTRIBUTES;
		d.attributes = meta.attributes & SMBD_DOSMODE_STORED_MASK;
	}
	d.flags |= DOSATTRIB_FLAG_CREATE_TIME;
	d.create_time = nt_time;
	return dosattrib_write_fd(fd, &d);
}

bool smbd_write_time_note_write(struct smbd_write_time *wt)
{
	wt->modified = true;
	if (wt->sticky != 0) {
		return false;
	}
	if (wt->triggered) {
		wt->on_close = true;
		return false;
	}
	wt->triggered = true;
	return true;
}

void smbd_write_time_pre_write(struct smbd_write_time *wt, uint64_t mtime)
{
	/* unless an update or a sticky time came first */
	if (wt->sticky == 0 && wt->shown == 0) {
		wt->shown = mtime;
	}
}

void smbd_write_time_delay_expired(struct smbd_write_time *wt, uint64_t now)
{
	if (wt->sticky != 0) {
		return;
	}
	wt->shown = now;
	wt->unsaved = true;
	wt->on_close = false;
}

bool smbd_write_time_wants_update(const struct smbd_write_time *wt)
{
	return wt->modified && wt->sticky == 0;
}

void smbd_write_time_updated(struct smbd_write_time *wt, uint64_t t)
{
	if (wt->sticky != 0) {
		return;
	}
	/* later writes only matter at close (Samba keeps the trigger) */
	wt->triggered = true;
	wt->shown = t;
	wt->unsaved = false;
	wt->on_close = false;
}

void smbd_write_time_set_sticky(struct smbd_write_time *wt, uint64_t t)
{
	wt->sticky = t;
	wt->shown = t;
	wt->unsaved = false;
	wt->on_close = false;
}

void smbd_write_time_forget(struct smbd_write_time *wt)
{
	wt->sticky = 0;
	wt->shown = 0;
	wt->unsaved = false;
}

bool smbd_write_time_at_close(const struct smbd_write_time *wt,
			      bool delay_pending, uint64_t *t)
{
	if (wt->sticky != 0) {
		*t = wt->sticky;
		return true;
	}
	if (delay_pending || wt->on_close) {
		*t = 0;
		return true;
	}
	if (wt->unsaved) {
		*t = wt->shown;
		return true;
	}
	return false;
}

uint64_t smbd_write_time_report(const struct smbd_write_time *wt,
				uint64_t disk_time)
{
	return wt->shown != 0 ? wt->shown : disk_time;
}

/* futimens() that also takes an O_PATH descriptor; 0 or an errno */
static int set_times_fd(int fd, const struct timespec ts[2])
{
	char proc[64];

	if (futimens(fd, ts) == 0) {
		return 0;
	}
	if (errno != EBADF) {
		return errno;
	}
	/* the /proc link names the same inode */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return utimensat(AT_FDCWD, proc, ts, 0) == 0 ? 0 : errno;
}

NTSTATUS smbd_file_set_write_time_fd(int fd, uint64_t nt_time,
				     uint64_t *result)
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT },
				  { .tv_nsec = UTIME_NOW } };
	struct statx stx;
	int ret;

	/* "Now" from the fine-grained clock: UTIME_NOW takes the kernel's
	 * coarse clock, up to a tick behind what a client read just before
	 * sending (smb2.timestamps.delayed-2write).  An explicit time needs
	 * ownership, so a mere writer falls back to UTIME_NOW. */
	if (nt_time != 0) {
		ts[1] = timespec_from_nt_time(nt_time);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts[1]);
	}
	ret = set_times_fd(fd, ts);
	if (ret != 0 && nt_time == 0 && (ret == EPERM || ret == EACCES)) {
		ts[1].tv_nsec = UTIME_NOW;
		ret = set_times_fd(fd, ts);
	}
	if (ret != 0) {
		return smbd_info_map_errno(ret);
	}
	if (result != NULL) {
		if (statx(fd, "", AT_EMPTY_PATH, STATX_MTIME, &stx) == -1) {
			return smbd_info_map_errno(errno);
		}
		*result = nt_time_from_timespec((struct timespec){
			stx.stx_mtime.tv_sec, stx.stx_mtime.tv_nsec });
	}
	return NT_STATUS_OK;
}
