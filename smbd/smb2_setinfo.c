/*
 * SMB2 SET_INFO ([MS-SMB2] 2.2.39, 2.2.40, 3.3.5.21; [MS-FSA] 2.1.5.14).
 *
 * Each request is parsed and access-checked on the event loop, then the
 * file-system part runs in one VFS job as the session user; what only
 * concerns the handle (position, mode, delete-on-close flag, the path
 * after a rename) is updated back on the event loop.
 *
 * Not supported (answered honestly): EAs when "ea support = no"
 * (EAS_NOT_SUPPORTED), quotas,
 * file-system classes, security descriptors that do not map to unix
 * owner/group/mode (sec_desc.h), short names, valid data length.
 * Timestamps: 0 and -1 leave a time unchanged ("-1: stop updating" is not
 * implemented), -2 likewise; ChangeTime cannot be set on Linux and is
 * ignored; CreationTime is kept in the user.DOSATTRIB xattr (dosmode.h).
 * A write time set here sticks to the open; FileBasicInformation,
 * EndOfFile and Allocation complete a pending write-time update at once
 * (dosmode.h "write time of one open").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/param/loadparm.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/dosmode.h"
#include "smbd/ea.h"
#include "smbd/fscc_info.h"
#include "smbd/notify.h"
#include "smbd/ntname.h"
#include "smbd/share_mode.h"
#include "smbd/acl_store.h"
#include "smbd/sec_desc.h"
#include "smbd/smbd.h"
#include "smbd/oplock_break.h"
#include "smbd/streams.h"
#include "smbd/vfs/threadpool.h"
#include "smbd/vfs/vfs_casefold.h"
#include "smbd/vfs/vfs_posix.h"

#define SETINFO_REQ_FIXED 32
#define SETINFO_REP_FIXED 2

/* FileDispositionInformationEx flags ([MS-FSCC] 2.4.12) */
#define FILE_DISPOSITION_DELETE 0x00000001
#define FILE_DISPOSITION_POSIX_SEMANTICS 0x00000002
#define FILE_DISPOSITION_ON_CLOSE 0x00000008
#define FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE 0x00000010

enum setinfo_kind {
	SETINFO_BASIC,
	SETINFO_EOF,
	SETINFO_ALLOCATION,
	SETINFO_DISPOSITION,
	SETINFO_RENAME,
	SETINFO_LINK,
	SETINFO_SECURITY,
	SETINFO_STREAM_RENAME,
	SETINFO_EA,
};

struct setinfo_job {
	enum setinfo_kind kind;
	struct smbd_fd *fdref;
	int fd;
	bool is_dir;
	const struct vfs_share *share;
	/* BASIC */
	uint64_t times[4]; /* creation, access, write, change; 0 = keep */
	uint32_t attributes; /* 0 = keep */
	/* EOF / ALLOCATION */
	uint64_t size;
	/* the open's write time (dosmode.h "write time of one open"):
	 * BASIC/EOF/ALLOCATION set it to now (touch_write_time, or for a
	 * size change touch_on_resize) or restore the sticky one; the
	 * result goes back to the open */
	bool touch_write_time;
	bool touch_on_resize;
	uint64_t sticky_write_time;
	bool resized;
	bool write_time_touched;
	uint64_t new_write_time;
	/* DISPOSITION */
	bool delete_pending;
	bool ignore_readonly;
	bool is_share_root;
	/* RENAME / LINK */
	char *oldrel;
	char *newrel;
	bool replace;
	bool casefold; /* "case sensitive" auto/no: resolve newrel's parents */
	/* a named stream open (EOF, ALLOCATION act on the stream) and the
	 * STREAM_RENAME target (NULL: "::$DATA") */
	char *stream_name;
	char *new_stream_name;
	/* SECURITY */
	uint8_t *sd;
	size_t sd_len;
	uint32_t secinfo;
	struct acl_ctx *acl;
	/* EA (FileFullEaInformation) */
	struct smbd_ea *eas;
	size_t num_eas;

	NTSTATUS status;
};

struct setinfo_state {
	struct smbd_request *req;
	struct setinfo_job *job;
	uint64_t persistent_id, volatile_id;
};

static void setinfo_done(struct tevent_req *subreq);

/* ---- worker side ---- */

/* Path of an fd that works for O_PATH descriptors too. */
static void proc_fd_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

static NTSTATUS job_set_times(int fd, const uint64_t times[4])
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT },
				  { .tv_nsec = UTIME_OMIT } };
	char path[64];

	if (times[1] == 0 && times[2] == 0) {
		return NT_STATUS_OK;
	}
	if (times[1] != 0) {
		ts[0] = timespec_from_nt_time(times[1]);
	}
	if (times[2] != 0) {
		ts[1] = timespec_from_nt_time(times[2]);
	}
	if (futimens(fd, ts) == 0) {
		return NT_STATUS_OK;
	}
	if (errno != EBADF) {
		return map_nt_error_from_unix(errno);
	}
	proc_fd_path(fd, path, sizeof(path));
	if (utimensat(AT_FDCWD, path, ts, 0) == -1) {
		return map_nt_error_from_unix(errno);
	}
	return NT_STATUS_OK;
}

/* After a change of the data, or to complete a pending update: now,
 * unless the open has a sticky write time, which is put back. */
static void job_touch_write_time(struct setinfo_job *job)
{
	NTSTATUS status = smbd_file_set_write_time_fd(
		job->fd, job->sticky_write_time,
		job->sticky_write_time != 0 ? NULL : &job->new_write_time);

	if (!NT_STATUS_IS_OK(status)) {
		/* the change itself succeeded; the time is cosmetic */
		DBG_INFO("write time: %s\n", nt_errstr(status));
		return;
	}
	job->write_time_touched = job->sticky_write_time == 0;
}

static void job_eof(struct setinfo_job *job)
{
	struct stat st;

	if (fstat(job->fd, &st) == -1) {
		job->status = map_nt_error_from_unix(errno);
		return;
	}
	if (job->size != (uint64_t)st.st_size) {
		job->status = vfs_ftruncate(job->fd, job->size);
		if (!NT_STATUS_IS_OK(job->status)) {
			return;
		}
		job->resized = true;
	}
	if (job->resized ? job->touch_on_resize : job->touch_write_time) {
		job_touch_write_time(job);
	}
}

static void job_basic(struct setinfo_job *job)
{
	NTSTATUS status;

	if (job->attributes != 0) {
		uint32_t attrs = job->attributes;
		if (attrs == FILE_ATTRIBUTE_NORMAL) {
			attrs = 0;
		}
		status = smbd_dosmode_set_fd(job->fd, attrs, job->is_dir);
		if (!NT_STATUS_IS_OK(status)) {
			job->status = status;
			return;
		}
	}
	if (job->times[0] != 0) {
		status = smbd_dosmode_set_create_time_fd(job->fd, job->times[0]);
		if (!NT_STATUS_IS_OK(status)) {
			job->status = status;
			return;
		}
	}
	/* after the xattr: setting it must not be what moves the times */
	job->status = job_set_times(job->fd, job->times);
	if (NT_STATUS_IS_OK(job->status) && job->touch_write_time) {
		job_touch_write_time(job);
	}
}

static void job_allocation(struct setinfo_job *job)
{
	struct stat st;

	if (fstat(job->fd, &st) == -1) {
		job->status = map_nt_error_from_unix(errno);
		return;
	}
	if (job->size < (uint64_t)st.st_size) {
		/* [MS-FSA] 2.1.5.14.1: a smaller allocation truncates */
		job->status = vfs_ftruncate(job->fd, job->size);
		job->resized = NT_STATUS_IS_OK(job->status);
	} else {
		job->status = vfs_fallocate(job->fd, job->size);
		if (NT_STATUS_EQUAL(job->status, NT_STATUS_NOT_SUPPORTED)) {
			job->status = NT_STATUS_OK; /* only a hint */
		}
	}
	/* Windows and Samba update the write time even when nothing
	 * changed */
	if (NT_STATUS_IS_OK(job->status) && job->touch_on_resize) {
		job_touch_write_time(job);
	}
}

static bool dir_is_empty(int dirfd, NTSTATUS *status)
{
	struct dirent *de;
	bool empty = true;
	DIR *d;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1) {
		*status = map_nt_error_from_unix(errno);
		return false;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		*status = map_nt_error_from_unix(errno);
		close(fd);
		return false;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			empty = false;
			break;
		}
	}
	closedir(d);
	*status = NT_STATUS_OK;
	return empty;
}

/* [MS-FSA] 2.1.5.14.3 */
static void job_disposition(struct setinfo_job *job)
{
	struct smbd_file_meta meta;

	job->status = NT_STATUS_OK;
	if (!job->delete_pending) {
		return;
	}
	if (job->is_share_root) {
		job->status = NT_STATUS_CANNOT_DELETE;
		return;
	}
	job->status = smbd_file_meta_fd(job->fd, NULL, NULL, &meta);
	if (!NT_STATUS_IS_OK(job->status)) {
		return;
	}
	if ((meta.attributes & FILE_ATTRIBUTE_READONLY) &&
	    !job->ignore_readonly) {
		job->status = NT_STATUS_CANNOT_DELETE;
		return;
	}
	if (meta.is_dir) {
		NTSTATUS status;
		bool empty = dir_is_empty(job->fd, &status);
		if (!NT_STATUS_IS_OK(status)) {
			job->status = status;
		} else if (!empty) {
			job->status = NT_STATUS_DIRECTORY_NOT_EMPTY;
		}
	}
}

/*
 * The rename or link target as it lies on disk ("case sensitive" auto/no,
 * vfs_casefold.h): parent directories in their spelling on disk.  The
 * last component keeps the client's spelling, unless it names another
 * existing file in a different case: then that file is the target, so
 * that ReplaceIfExists decides between OBJECT_NAME_COLLISION and
 * replacing it (which keeps the replaced file's spelling).  Renaming a
 * file to another case of its own name just changes the case.
 */
static NTSTATUS resolve_target(struct setinfo_job *job)
{
	const char *client_last = strrchr(job->newrel, '/');
	char *resolved = NULL, *slash, *target;
	NTSTATUS status;

	client_last = client_last != NULL ? client_last + 1 : job->newrel;
	status = vfs_casefold_resolve(job, job->share, job->newrel,
				      fscc_name_equal_ci, &resolved);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (job->oldrel != NULL && strcmp(resolved, job->oldrel) == 0) {
		slash = strrchr(resolved, '/');
		if (slash != NULL) {
			slash[1] = '\0';
			target = talloc_asprintf(job, "%s%s", resolved,
						 client_last);
		} else {
			target = talloc_strdup(job, client_last);
		}
		if (target == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		talloc_free(resolved);
		resolved = target;
	}
	talloc_free(job->newrel);
	job->newrel = resolved;
	return NT_STATUS_OK;
}

static void job_link(struct setinfo_job *job)
{
	const char *last = NULL;
	char path[64];
	int dirfd = -1;

	if (job->casefold) {
		job->status = resolve_target(job);
		if (!NT_STATUS_IS_OK(job->status)) {
			return;
		}
	}
	job->status = vfs_open_parent(job->share, job->newrel, &dirfd, &last);
	if (!NT_STATUS_IS_OK(job->status)) {
		return;
	}
	if (job->replace &&
	    unlinkat(dirfd, last, 0) == -1 && errno != ENOENT) {
		job->status = map_nt_error_from_unix(errno);
		close(dirfd);
		return;
	}
	/* linkat(fd, "", AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the
	 * /proc link of our own fd names the same inode without it. */
	proc_fd_path(job->fd, path, sizeof(path));
	if (linkat(AT_FDCWD, path, dirfd, last, AT_SYMLINK_FOLLOW) == -1) {
		job->status = errno == EEXIST
				      ? NT_STATUS_OBJECT_NAME_COLLISION
				      : map_nt_error_from_unix(errno);
	}
	close(dirfd);
}

static void job_security(struct setinfo_job *job)
{
	/* stored as an NT ACL, not mapped onto the mode (acl_store.h) */
	job->status = acl_set(job->acl, job->fd, job->is_dir, job->sd,
			      job->sd_len, job->secinfo);
}

static void setinfo_job_run(void *private_data)
{
	struct setinfo_job *job = private_data;

	if (job->stream_name != NULL &&
	    (job->kind == SETINFO_EOF || job->kind == SETINFO_ALLOCATION)) {
		uint64_t size = 0;

		job->status = smbd_stream_find(job->fd, job, job->stream_name,
					       NULL, &size);
		if (!NT_STATUS_IS_OK(job->status)) {
			return;
		}
		/* allocation only ever shrinks a stream ([MS-FSA]
		 * 2.1.5.14.1); there is nothing to reserve in an xattr */
		if (job->kind == SETINFO_EOF || job->size < size) {
			job->status = smbd_stream_truncate(
				job->fd, job->stream_name, job->size);
		}
		return;
	}
	switch (job->kind) {
	case SETINFO_STREAM_RENAME:
		job->status = smbd_stream_rename(job->fd, job,
						 job->stream_name,
						 job->new_stream_name,
						 job->replace);
		break;
	case SETINFO_BASIC:
		job_basic(job);
		break;
	case SETINFO_EOF:
		job_eof(job);
		break;
	case SETINFO_ALLOCATION:
		job_allocation(job);
		break;
	case SETINFO_DISPOSITION:
		job_disposition(job);
		break;
	case SETINFO_RENAME:
		if (job->casefold) {
			job->status = resolve_target(job);
			if (!NT_STATUS_IS_OK(job->status)) {
				break;
			}
		}
		if (strcmp(job->oldrel, job->newrel) == 0) {
			job->status = NT_STATUS_OK; /* nothing to do */
			break;
		}
		job->status = vfs_renameat(job->share, job->oldrel,
					   job->newrel, job->replace);
		/* Windows never replaces a directory: access denied */
		if (NT_STATUS_EQUAL(job->status, NT_STATUS_FILE_IS_A_DIRECTORY) ||
		    NT_STATUS_EQUAL(job->status,
				    NT_STATUS_DIRECTORY_NOT_EMPTY) ||
		    NT_STATUS_EQUAL(job->status, NT_STATUS_NOT_A_DIRECTORY)) {
			job->status = NT_STATUS_ACCESS_DENIED;
		}
		break;
	case SETINFO_LINK:
		job_link(job);
		break;
	case SETINFO_SECURITY:
		job_security(job);
		break;
	case SETINFO_EA:
		job->status = smbd_ea_set(job->fd, job->eas, job->num_eas,
					  false);
		break;
	}
}

static int setinfo_job_destructor(struct setinfo_job *job)
{
	smbd_fd_unref(job->fdref);
	return 0;
}

/* ---- parsing (event loop) ---- */

/* FILE_BASIC_INFORMATION times: 0, -1, -2 leave the time alone; any
 * other negative value is invalid ([MS-FSA] 2.1.5.14.2). */
static NTSTATUS parse_basic(struct setinfo_job *job, const struct smbd_open *op,
			    const uint8_t *buf, uint32_t len)
{
	uint32_t attrs;

	if (len < 40) {
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	}
	for (int i = 0; i < 4; i++) {
		int64_t t = (int64_t)PULL_LE64(buf, 8 * (size_t)i);
		if (t < -2) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		job->times[i] = t > 0 ? (uint64_t)t : 0;
	}
	job->times[3] = 0; /* ChangeTime: Linux cannot set it */
	attrs = PULL_LE32(buf, 32);
	if (attrs != 0) {
		if ((attrs & FILE_ATTRIBUTE_DIRECTORY) && !op->is_dir) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		if ((attrs & FILE_ATTRIBUTE_TEMPORARY) && op->is_dir) {
			return NT_STATUS_INVALID_PARAMETER;
		}
	}
	job->attributes = attrs;
	return NT_STATUS_OK;
}

/*
 * FILE_RENAME_INFORMATION_TYPE_2 / FILE_LINK_INFORMATION_TYPE_2 for SMB2
 * ([MS-FSCC] 2.4.42.2, 2.4.25.2): ReplaceIfExists (1), Reserved (7),
 * RootDirectory (8, must be 0), FileNameLength (4), FileName: the new
 * path relative to the share root.
 */
static NTSTATUS parse_rename(struct setinfo_job *job, const uint8_t *buf,
			     uint32_t len)
{
	uint32_t name_len;
	const uint8_t *name;
	bool trailing_sep = false;

	if (len < 20) {
		return NT_STATUS_INFO_LENGTH_MISMATCH;
	}
	job->replace = buf[0] != 0;
	if (PULL_LE64(buf, 8) != 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	name_len = PULL_LE32(buf, 16);
	if (name_len > len - 20 || name_len == 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	name = buf + 20;
	/* Clients may send the name with a leading backslash. */
	if (name_len >= 2 && PULL_LE16(name, 0) == '\\') {
		name += 2;
		name_len -= 2;
	}
	if (name_len == 0) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	return ntname_to_relpath(job, name, name_len, &job->newrel,
				 &trailing_sep);
}

struct rename_fixup {
	const struct smb_conf_share *share;
	const char *oldrel;
	size_t old_len;
	const char *newrel;
};

static void fixup_renamed(struct smbd_open *op, void *private_data)
{
	struct rename_fixup *rf = private_data;
	char *p;

	if (op->tcon->share != rf->share ||
	    strncmp(op->relpath, rf->oldrel, rf->old_len) != 0) {
		return;
	}
	if (op->relpath[rf->old_len] == '\0') {
		p = talloc_strdup(op, rf->newrel);
	} else if (op->relpath[rf->old_len] == '/') {
		p = talloc_asprintf(op, "%s%s", rf->newrel,
				    op->relpath + rf->old_len);
	} else {
		return;
	}
	if (p != NULL) {
		talloc_free(op->relpath);
		op->relpath = p;
	}
}

/* Handle-only classes: no file-system work. */
static NTSTATUS set_handle_class(struct smbd_request *req,
				 struct smbd_open *op, uint8_t info_class,
				 const uint8_t *buf, uint32_t len)
{
	uint8_t *out;

	switch (info_class) {
	case FSCC_FILE_POSITION_INFORMATION: {
		uint64_t pos;
		if (len < 8) {
			return NT_STATUS_INFO_LENGTH_MISMATCH;
		}
		pos = PULL_LE64(buf, 0);
		if (pos > INT64_MAX) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		op->position = pos;
		break;
	}
	case FSCC_FILE_MODE_INFORMATION: {
		uint32_t mode;
		if (len < 4) {
			return NT_STATUS_INFO_LENGTH_MISMATCH;
		}
		mode = PULL_LE32(buf, 0);
		/* only WRITE_THROUGH and SEQUENTIAL_ONLY may change on an
		 * open handle (what Windows and Samba accept) */
		if (mode & ~(uint32_t)(FILE_WRITE_THROUGH |
				       FILE_SEQUENTIAL_ONLY)) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		op->mode = mode;
		break;
	}
	default:
		return NT_STATUS_INVALID_INFO_CLASS;
	}
	out = smbd_request_reply(req, SETINFO_REP_FIXED, 0);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 2);
	return NT_STATUS_OK;
}

static NTSTATUS parse_file_class(struct setinfo_job *job,
				 struct smbd_open *op, uint8_t info_class,
				 const uint8_t *buf, uint32_t len)
{
	const struct smbd_tcon *tcon = op->tcon;
	NTSTATUS status;

	switch (info_class) {
	case FSCC_FILE_BASIC_INFORMATION:
		if (!(op->access_mask & SEC_FILE_WRITE_ATTRIBUTE)) {
			return NT_STATUS_ACCESS_DENIED;
		}
		job->kind = SETINFO_BASIC;
		status = parse_basic(job, op, buf, len);
		/* even all-zero times complete a pending write-time update
		 * of an open that wrote (Windows, Samba) */
		job->touch_write_time =
			NT_STATUS_IS_OK(status) && job->times[2] == 0 &&
			!op->is_dir &&
			smbd_write_time_wants_update(&op->write_time);
		return status;
	case FSCC_FILE_END_OF_FILE_INFORMATION:
	case FSCC_FILE_ALLOCATION_INFORMATION:
		if (len < 8) {
			return NT_STATUS_INFO_LENGTH_MISMATCH;
		}
		if (!(op->access_mask & SEC_FILE_WRITE_DATA)) {
			return NT_STATUS_ACCESS_DENIED;
		}
		if (op->is_dir) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		job->size = PULL_LE64(buf, 0);
		if (job->size > INT64_MAX) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		job->kind = info_class == FSCC_FILE_END_OF_FILE_INFORMATION
				    ? SETINFO_EOF
				    : SETINFO_ALLOCATION;
		/* a size change breaks level II oplocks and R leases */
		smbd_oplock_contend_level2(op);
		/* a new size is a write; the same size only completes a
		 * pending update */
		job->sticky_write_time = op->write_time.sticky;
		job->touch_on_resize = true;
		job->touch_write_time =
			smbd_write_time_wants_update(&op->write_time);
		return NT_STATUS_OK;
	case FSCC_FILE_DISPOSITION_INFORMATION:
	case FSCC_FILE_DISPOSITION_INFORMATION_EX:
		if (!(op->access_mask & SEC_STD_DELETE)) {
			return NT_STATUS_ACCESS_DENIED;
		}
		if (info_class == FSCC_FILE_DISPOSITION_INFORMATION) {
			if (len < 1) {
				return NT_STATUS_INFO_LENGTH_MISMATCH;
			}
			job->delete_pending = buf[0] != 0;
		} else {
			uint32_t flags;
			if (len < 4) {
				return NT_STATUS_INFO_LENGTH_MISMATCH;
			}
			flags = PULL_LE32(buf, 0);
			if (flags & FILE_DISPOSITION_POSIX_SEMANTICS) {
				return NT_STATUS_NOT_SUPPORTED;
			}
			job->delete_pending =
				(flags & FILE_DISPOSITION_DELETE) != 0;
			job->ignore_readonly =
				(flags &
				 FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE) !=
				0;
		}
		job->is_share_root = op->relpath[0] == '\0';
		job->kind = SETINFO_DISPOSITION;
		return NT_STATUS_OK;
	case FSCC_FILE_RENAME_INFORMATION:
	case FSCC_FILE_LINK_INFORMATION:
		if (info_class == FSCC_FILE_RENAME_INFORMATION &&
		    !(op->access_mask & SEC_STD_DELETE)) {
			return NT_STATUS_ACCESS_DENIED;
		}
		if (info_class == FSCC_FILE_RENAME_INFORMATION && len >= 22 &&
		    PULL_LE32(buf, 16) >= 2 && PULL_LE32(buf, 16) <= len - 20 &&
		    PULL_LE16(buf, 20) == ':') {
			/* ":new[:$DATA]": rename a stream within the file
			 * ([MS-FSA] 2.1.5.15.11.1) */
			job->replace = buf[0] != 0;
			status = ntname_stream_rename_target(
				job, buf + 20, PULL_LE32(buf, 16),
				&job->new_stream_name);
			if (!NT_STATUS_IS_OK(status)) {
				return status;
			}
			if (job->stream_name == NULL ||
			    job->new_stream_name == NULL) {
				/* to or from the unnamed stream */
				return NT_STATUS_NOT_SUPPORTED;
			}
			job->kind = SETINFO_STREAM_RENAME;
			return NT_STATUS_OK;
		}
		status = parse_rename(job, buf, len);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		if (op->relpath[0] == '\0' || job->newrel[0] == '\0') {
			return NT_STATUS_ACCESS_DENIED; /* the share root */
		}
		job->oldrel = talloc_strdup(job, op->relpath);
		if (job->oldrel == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		job->casefold = tcon->share == NULL ||
				tcon->share->case_sensitive !=
					SMB_CONF_CASE_SENSITIVE_YES;
		if (info_class == FSCC_FILE_LINK_INFORMATION) {
			if (op->is_dir) {
				return NT_STATUS_FILE_IS_A_DIRECTORY;
			}
			job->kind = SETINFO_LINK;
			return NT_STATUS_OK;
		}
		/* Windows refuses to rename a directory while something
		 * below it is open (ACCESS_DENIED), and a rename into a
		 * directory open with DELETE access (SHARING_VIOLATION,
		 * smbtorture smb2.rename): the opens of every process
		 * count. */
		status = smbd_share_mode_rename_check(op, job->newrel);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		job->kind = SETINFO_RENAME;
		return NT_STATUS_OK;
	case FSCC_FILE_FULL_EA_INFORMATION:
		if (tcon->share == NULL || !tcon->share->ea_support) {
			return NT_STATUS_EAS_NOT_SUPPORTED;
		}
		/* [MS-SMB2] 3.3.5.21.1 */
		if (!(op->access_mask & SEC_FILE_WRITE_EA)) {
			return NT_STATUS_ACCESS_DENIED;
		}
		job->kind = SETINFO_EA;
		return smbd_ea_parse_full_list(job, buf, len, &job->eas,
					       &job->num_eas);
	default:
		return NT_STATUS_INVALID_INFO_CLASS;
	}
}

static NTSTATUS setinfo_send_job(struct setinfo_state *state);
static void setinfo_rename_ready(struct tevent_req *subreq);

NTSTATUS smbd_smb2_setinfo(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint8_t info_type = b[2];
	uint8_t info_class = b[3];
	uint32_t buf_len = PULL_LE32(b, 4);
	uint16_t buf_ofs = PULL_LE16(b, 8);
	uint32_t additional = PULL_LE32(b, 12);
	const uint8_t *buf = NULL;
	struct smbd_open *op;
	struct setinfo_state *state;
	struct setinfo_job *job;
	struct tevent_req *subreq;
	NTSTATUS status;

	if (!smbd_request_in_range(req, buf_ofs, buf_len, SETINFO_REQ_FIXED,
				   &buf)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (buf_len > req->conn->max_trans_size) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	op = smbd_request_lookup_open(req, b + 16);
	if (op == NULL) {
		return NT_STATUS_FILE_CLOSED;
	}
	if (op->fd == NULL || op->tcon->vfs == NULL) {
		return NT_STATUS_INVALID_HANDLE;
	}

	if (info_type == SMB2_0_INFO_FILE &&
	    (info_class == FSCC_FILE_POSITION_INFORMATION ||
	     info_class == FSCC_FILE_MODE_INFORMATION)) {
		return set_handle_class(req, op, info_class, buf, buf_len);
	}

	state = talloc_zero(req, struct setinfo_state);
	if (state == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->req = req;
	state->persistent_id = op->persistent_id;
	state->volatile_id = op->volatile_id;
	job = talloc_zero(state, struct setinfo_job);
	if (job == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	job->is_dir = op->is_dir;
	job->share = op->tcon->vfs;
	if (smbd_open_stream(op) != NULL) {
		job->stream_name = talloc_strdup(job, smbd_open_stream(op));
		if (job->stream_name == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}

	switch (info_type) {
	case SMB2_0_INFO_FILE:
		status = parse_file_class(job, op, info_class, buf, buf_len);
		break;
	case SMB2_0_INFO_SECURITY:
		if (((additional & (SECINFO_OWNER | SECINFO_GROUP)) &&
		     !(op->access_mask & SEC_STD_WRITE_OWNER)) ||
		    ((additional & SECINFO_DACL) &&
		     !(op->access_mask & SEC_STD_WRITE_DAC)) ||
		    ((additional & SECINFO_SACL) &&
		     !(op->access_mask & SEC_FLAG_SYSTEM_SECURITY))) {
			return NT_STATUS_ACCESS_DENIED;
		}
		job->kind = SETINFO_SECURITY;
		job->secinfo = additional;
		job->sd_len = buf_len;
		job->sd = talloc_memdup(job, buf, buf_len > 0 ? buf_len : 1);
		status = job->sd != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
		if (buf_len == 0) {
			status = NT_STATUS_INVALID_SECURITY_DESCR;
		}
		if (NT_STATUS_IS_OK(status)) {
			status = acl_ctx_new(job, req->session, NULL, 0,
					     &job->acl);
		}
		break;
	case SMB2_0_INFO_FILESYSTEM:
		status = NT_STATUS_INVALID_INFO_CLASS;
		break;
	case SMB2_0_INFO_QUOTA:
		status = NT_STATUS_NOT_SUPPORTED;
		break;
	default:
		status = NT_STATUS_INVALID_PARAMETER;
		break;
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (op->tcon->read_only) {
		return NT_STATUS_ACCESS_DENIED;
	}

	job->fdref = smbd_fd_ref(op->fd);
	job->fd = op->fd->fd;
	talloc_set_destructor(job, setinfo_job_destructor);
	state->job = job;
	if (job->kind == SETINFO_RENAME) {
		/* other leases with H are broken first (oplock_break.h) */
		subreq = smbd_oplock_rename_breaks_send(state, op);
		if (subreq == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		tevent_req_set_callback(subreq, setinfo_rename_ready, state);
		return NT_STATUS_PENDING;
	}
	return setinfo_send_job(state);
}

static NTSTATUS setinfo_send_job(struct setinfo_state *state)
{
	struct smbd_request *req = state->req;
	struct smbd_client *client = req->conn->client;
	struct tevent_req *subreq;

	subreq = vfs_job_send(state, client->ev, client->pool,
			      req->session->creds, setinfo_job_run,
			      state->job);
	if (subreq == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	tevent_req_set_callback(subreq, setinfo_done, state);
	return NT_STATUS_PENDING;
}

/* The H leases a rename waited for are gone: rename now. */
static void setinfo_rename_ready(struct tevent_req *subreq)
{
	struct setinfo_state *state =
		tevent_req_callback_data(subreq, struct setinfo_state);
	NTSTATUS status = smbd_oplock_rename_breaks_recv(subreq);

	TALLOC_FREE(subreq);
	if (NT_STATUS_IS_OK(status)) {
		status = setinfo_send_job(state);
	}
	if (!NT_STATUS_EQUAL(status, NT_STATUS_PENDING)) {
		smbd_request_done(state->req, status);
	}
}

/* What the job did to the write time, back on the open. */
static void setinfo_note_write_time(struct smbd_open *op,
				    const struct setinfo_job *job)
{
	if (job->stream_name != NULL) {
		return;
	}
	if (job->resized) {
		op->write_time.modified = true;
	}
	if (job->kind == SETINFO_BASIC && job->times[2] != 0) {
		TALLOC_FREE(op->write_time_timer);
		smbd_write_time_set_sticky(&op->write_time, job->times[2]);
		smbd_open_write_time_changed(op);
	} else if (job->write_time_touched) {
		TALLOC_FREE(op->write_time_timer);
		smbd_write_time_updated(&op->write_time, job->new_write_time);
	}
}

/*
 * Tell change notify watches what this SET_INFO changed: the kernel
 * reports these as a bare IN_ATTRIB (notify.h).  A time of 0 or -1 is
 * "keep" ([MS-FSCC] 2.4.7).
 */
static void setinfo_notify(struct smbd_open *op,
			   const struct setinfo_job *job)
{
	static const uint32_t time_filter[4] = {
		FILE_NOTIFY_CHANGE_CREATION, FILE_NOTIFY_CHANGE_LAST_ACCESS,
		FILE_NOTIFY_CHANGE_LAST_WRITE, 0 /* change time: none */
	};
	uint32_t filter = 0;
	unsigned i;

	switch (job->kind) {
	case SETINFO_BASIC:
		if (job->attributes != 0) {
			filter |= FILE_NOTIFY_CHANGE_ATTRIBUTES;
		}
		for (i = 0; i < 4; i++) {
			if (job->times[i] != 0 && job->times[i] != UINT64_MAX) {
				filter |= time_filter[i];
			}
		}
		break;
	case SETINFO_SECURITY:
		filter = FILE_NOTIFY_CHANGE_SECURITY;
		break;
	case SETINFO_EA:
		filter = FILE_NOTIFY_CHANGE_EA;
		break;
	default:
		return;
	}
	smbd_notify_post(op->tcon, op->relpath, NULL,
			 filter != 0 ? FILE_ACTION_MODIFIED : 0, filter);
}

static void setinfo_done(struct tevent_req *subreq)
{
	struct setinfo_state *state =
		tevent_req_callback_data(subreq, struct setinfo_state);
	struct smbd_request *req = state->req;
	struct setinfo_job *job = state->job;
	struct smbd_open *op;
	NTSTATUS status;
	uint8_t *out;
	int err;

	err = vfs_job_recv(subreq);
	TALLOC_FREE(subreq);
	if (err != 0) {
		smbd_request_done(req, map_nt_error_from_unix(err));
		return;
	}
	if (!NT_STATUS_IS_OK(job->status)) {
		smbd_request_done(req, job->status);
		return;
	}
	op = smbd_open_lookup(req->conn->client, state->persistent_id,
			      state->volatile_id);
	if (op != NULL) {
		setinfo_note_write_time(op, job);
		setinfo_notify(op, job);
		if (job->kind == SETINFO_DISPOSITION) {
			/* the unlink itself happens at the last CLOSE; the
			 * mark is the file's, for every process */
			status = smbd_share_mode_set_delete(
				op, job->delete_pending);
			if (!NT_STATUS_IS_OK(status)) {
				smbd_request_done(req, status);
				return;
			}
			op->delete_on_close = job->delete_pending;
			op->delete_pending = job->delete_pending;
			if (job->delete_pending) {
				smbd_notify_delete_pending(op->tcon,
							   op->relpath);
			}
		} else if (job->kind == SETINFO_STREAM_RENAME) {
			status = smbd_open_set_stream(op, job->new_stream_name);
			if (!NT_STATUS_IS_OK(status)) {
				smbd_request_done(req, status);
				return;
			}
		} else if (job->kind == SETINFO_RENAME) {
			struct rename_fixup rf = {
				.share = op->tcon->share,
				.oldrel = job->oldrel,
				.old_len = strlen(job->oldrel),
				.newrel = job->newrel,
			};
			smbd_open_foreach(req->conn->client, fixup_renamed,
					  &rf);
			smbd_share_mode_renamed(op, job->newrel);
			smbd_oplock_renamed(op, job->newrel);
		}
	}
	out = smbd_request_reply(req, SETINFO_REP_FIXED, 0);
	if (out == NULL) {
		smbd_request_done(req, NT_STATUS_NO_MEMORY);
		return;
	}
	PUSH_LE16(out, 0, 2);
	TALLOC_FREE(state->job);
	smbd_request_done(req, NT_STATUS_OK);
}
