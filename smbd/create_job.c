/*
 * CREATE's worker-thread job (create_job.h).  Unix permissions are the
 * access check: the data access bits choose O_RDONLY/O_WRONLY/O_RDWR, so
 * the kernel refuses what the user may not do.  Named streams
 * ("file:name[:$DATA]", streams.h) are opened through the base file: the
 * open's fd is the file's (or directory's) own descriptor, opened with the
 * data access the stream open asks for, so the kernel checks the same
 * permissions; the stream's data lives in an xattr.
 */
#include "smbd/create_job.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/param/loadparm.h"
#include "lib/util/debug.h"
#include "smbd/acl_store.h"
#include "smbd/dosmode.h"
#include "smbd/ea.h"
#include "smbd/fscc_info.h"
#include "smbd/streams.h"
#include "smbd/vfs/vfs_casefold.h"
#include "smbd/vfs/vfs_posix.h"

static int create_job_destructor(struct create_job *job)
{
	if (job->fd != -1) {
		close(job->fd);
	}
	return 0;
}

struct create_job *create_job_new(TALLOC_CTX *mem_ctx)
{
	struct create_job *job = talloc_zero(mem_ctx, struct create_job);

	if (job == NULL) {
		return NULL;
	}
	job->fd = -1;
	talloc_set_destructor(job, create_job_destructor);
	return job;
}

static const char *last_component(const char *relpath)
{
	const char *slash = strrchr(relpath, '/');

	return slash != NULL ? slash + 1 : relpath;
}

static bool user_in_group(gid_t gid)
{
	gid_t groups[256];
	int i, n;

	if (getegid() == gid) {
		return true;
	}
	n = getgroups(256, groups);
	for (i = 0; i < n; i++) {
		if (groups[i] == gid) {
			return true;
		}
	}
	return false;
}

/*
 * What this user could be granted, from the unix permissions the kernel
 * will enforce (no ACLs yet): the owner holds the standard rights
 * (DELETE, READ_CONTROL, WRITE_DAC, WRITE_OWNER) as a POSIX owner can
 * chmod/chown; rwx give the data rights.  [MS-FSA] 2.1.5.1.2.1: a
 * READONLY file never grants write or append.  Runs on the worker, whose
 * effective ids are the session user's.
 */
static uint32_t compute_maximal_access(const struct create_job *job,
				       const struct smbd_file_meta *m)
{
	uid_t uid = geteuid();
	uint32_t perms, access;
	bool owner = uid == 0 || uid == m->uid;

	if (uid == 0) {
		perms = 7;
	} else if (uid == m->uid) {
		perms = (m->unix_mode >> 6) & 7;
	} else if (user_in_group(m->gid)) {
		perms = (m->unix_mode >> 3) & 7;
	} else {
		perms = m->unix_mode & 7;
	}
	access = SEC_FILE_READ_ATTRIBUTE | SEC_STD_READ_CONTROL |
		 SEC_STD_SYNCHRONIZE;
	if (owner) {
		access |= SEC_FILE_ALL &
			  ~(SEC_FILE_READ_DATA | SEC_FILE_WRITE_DATA |
			    SEC_FILE_APPEND_DATA | SEC_FILE_EXECUTE |
			    SEC_DIR_DELETE_CHILD);
	}
	if (perms & 4) {
		/* over SMB, executing a file means reading it */
		access |= SEC_FILE_READ_DATA | SEC_FILE_READ_EA;
		if (!m->is_dir) {
			access |= SEC_FILE_EXECUTE;
		}
	}
	if (perms & 2) {
		access |= SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA |
			  SEC_FILE_WRITE_EA | SEC_FILE_WRITE_ATTRIBUTE |
			  SEC_DIR_DELETE_CHILD;
	}
	if (perms & 1) {
		access |= SEC_FILE_EXECUTE;
	}
	if (!m->is_dir && (m->attributes & FILE_ATTRIBUTE_READONLY)) {
		access &= ~(SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA |
			    SEC_DIR_DELETE_CHILD);
	}
	if (job->read_only_share) {
		access &= job->share_maximal_access;
	}
	return access;
}

/*
 * Open relpath as a regular file with the open mode the requested data
 * access needs, so that the kernel does the access check.  Candidates are
 * tried in order while the kernel says ACCESS_DENIED; the mode that
 * worked tells which data rights the handle really has (*accmode:
 * O_RDONLY, O_WRONLY, O_RDWR, or O_PATH for an attributes-only handle).
 */
static NTSTATUS open_file_fd(struct create_job *job, bool need_write,
			     int create_flags, mode_t mode, int *fd,
			     int *accmode)
{
	uint32_t a = job->access;
	bool want_read = (a & (SEC_FILE_READ_DATA | SEC_FILE_EXECUTE)) != 0;
	bool want_write =
		need_write ||
		(a & (SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA)) != 0;
	int candidates[3];
	int i, n = 0;
	NTSTATUS status = NT_STATUS_ACCESS_DENIED;

	if (a & SEC_FLAG_MAXIMUM_ALLOWED) {
		if (!job->read_only_share) {
			candidates[n++] = O_RDWR;
		}
		if (!need_write) {
			candidates[n++] = O_RDONLY;
			if (create_flags == 0) {
				candidates[n++] = O_PATH;
			}
		}
	} else if (want_write) {
		candidates[n++] = want_read ? O_RDWR : O_WRONLY;
	} else if (want_read) {
		candidates[n++] = O_RDONLY;
	} else {
		/* attributes-only open: read if we may (for xattrs and
		 * timestamps), else a path handle */
		candidates[n++] = O_RDONLY;
		if (create_flags == 0) {
			candidates[n++] = O_PATH;
		}
	}
	for (i = 0; i < n; i++) {
		int flags = candidates[i] | O_NOCTTY | O_NONBLOCK;

		if (candidates[i] == O_PATH) {
			flags = O_PATH;
		} else {
			flags |= create_flags;
		}
		status = vfs_openat(job->share, job->relpath, flags, mode, fd);
		if (NT_STATUS_IS_OK(status)) {
			*accmode = candidates[i];
			return NT_STATUS_OK;
		}
		if (!NT_STATUS_EQUAL(status, NT_STATUS_ACCESS_DENIED)) {
			break;
		}
	}
	return status;
}

/* The rights the handle holds: what was asked for (or the maximum), less
 * the data rights its open mode cannot exercise. */
static uint32_t granted_access(const struct create_job *job, int accmode)
{
	uint32_t g = (job->access & SEC_FLAG_MAXIMUM_ALLOWED)
			     ? job->maximal_access
			     : job->access;

	g &= ~SEC_FLAG_MAXIMUM_ALLOWED;
	if (accmode == O_RDONLY || accmode == O_PATH) {
		g &= ~(SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA);
	}
	if (accmode == O_WRONLY || accmode == O_PATH) {
		g &= ~(SEC_FILE_READ_DATA | SEC_FILE_EXECUTE);
	}
	return g;
}

static void preallocate(struct create_job *job, int fd)
{
	NTSTATUS status;

	if (!job->have_alloc_size || job->alloc_size == 0) {
		return;
	}
	/* allocation is a hint ([MS-FSCC] 2.4.4): a file system that
	 * cannot preallocate does not fail the open */
	status = vfs_fallocate(fd, job->alloc_size);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_INFO("preallocating %llu bytes: %s\n",
			 (unsigned long long)job->alloc_size,
			 nt_errstr(status));
	}
}

/* [MS-FSA] 2.1.5.1.2.1 and Samba's can_set_delete_on_close(). */
static NTSTATUS check_delete_on_close(const struct create_job *job,
				      uint32_t attributes, bool is_dir)
{
	if (!(job->options & FILE_DELETE_ON_CLOSE)) {
		return NT_STATUS_OK;
	}
	if (!is_dir && (attributes & FILE_ATTRIBUTE_READONLY)) {
		return NT_STATUS_CANNOT_DELETE;
	}
	if (!(job->granted & SEC_STD_DELETE)) {
		return NT_STATUS_ACCESS_DENIED;
	}
	return NT_STATUS_OK;
}

/* Metadata for the reply, rights, delete-on-close checks: common tail of
 * every successful open. */
static NTSTATUS finish_open(struct create_job *job, int fd, int accmode)
{
	NTSTATUS status;

	status = smbd_file_meta_fd(fd, last_component(job->relpath),
				   job->conf, &job->meta);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	job->maximal_access = compute_maximal_access(job, &job->meta);
	job->maximal_access &= acl_open_max_access(job->acl);
	job->granted = granted_access(job, accmode);
	return check_delete_on_close(job, job->meta.attributes,
				     job->meta.is_dir);
}

static NTSTATUS open_existing_dir(struct create_job *job, int *pfd)
{
	NTSTATUS status;
	int fd = -1;

	if ((job->options & FILE_NON_DIRECTORY_FILE) ||
	    job->data_stream_only) {
		/* "dir::$DATA": a directory has no unnamed data stream */
		return NT_STATUS_FILE_IS_A_DIRECTORY;
	}
	if (job->disposition != FILE_OPEN && job->disposition != FILE_OPEN_IF) {
		/* [MS-FSA] 2.1.5.1.2: a directory is never overwritten */
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* a readable fd: QUERY_DIRECTORY enumerates from it */
	status = vfs_openat(job->share, job->relpath,
			    O_RDONLY | O_DIRECTORY | O_NOCTTY, 0, &fd);
	if (NT_STATUS_EQUAL(status, NT_STATUS_ACCESS_DENIED)) {
		/* no read permission: the handle still serves attribute
		 * queries; a listing will then fail with ACCESS_DENIED */
		fd = *pfd;
		*pfd = -1;
	} else if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	job->fd = fd;
	job->action = FILE_WAS_OPENED;
	/* directories: unix permissions act when children are created or
	 * removed, so every requested right is granted here */
	return finish_open(job, fd, O_RDWR);
}

static NTSTATUS open_existing_file(struct create_job *job)
{
	bool overwrite = job->disposition == FILE_SUPERSEDE ||
			 job->disposition == FILE_OVERWRITE ||
			 job->disposition == FILE_OVERWRITE_IF;
	uint32_t old_attrs;
	int accmode = O_RDONLY;
	NTSTATUS status;

	if (job->options & FILE_DIRECTORY_FILE) {
		return NT_STATUS_NOT_A_DIRECTORY;
	}
	if (job->trailing_sep) {
		/* "file\\" names a directory that is not one */
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	if (overwrite && job->read_only_share) {
		return NT_STATUS_ACCESS_DENIED;
	}
	status = open_file_fd(job, overwrite, 0, 0, &job->fd, &accmode);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = smbd_file_meta_fd(job->fd, last_component(job->relpath),
				   job->conf, &job->meta);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* stored attributes only: HIDDEN given by the name alone does not
	 * count (dosmode.h) */
	old_attrs = job->meta.attributes & ~job->meta.attributes_from_name;
	if (old_attrs & FILE_ATTRIBUTE_READONLY) {
		/* [MS-FSA] 2.1.5.1.2.1 */
		if (overwrite) {
			return NT_STATUS_ACCESS_DENIED;
		}
		if (!(job->access & SEC_FLAG_MAXIMUM_ALLOWED) &&
		    (job->access &
		     (SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA))) {
			return NT_STATUS_ACCESS_DENIED;
		}
	}
	if (!overwrite) {
		job->action = FILE_WAS_OPENED;
		return finish_open(job, job->fd, accmode);
	}
	/* [MS-FSA] 2.1.5.1.2.1: overwriting a HIDDEN or SYSTEM file needs
	 * the same attributes in the request */
	if ((old_attrs & (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM)) &
	    ~job->attributes) {
		return NT_STATUS_ACCESS_DENIED;
	}
	/* the truncation waits for the share-mode check */
	job->overwrite_pending = true;
	job->accmode = accmode;
	job->action = job->disposition == FILE_SUPERSEDE
			      ? FILE_WAS_SUPERSEDED
			      : FILE_WAS_OVERWRITTEN;
	return finish_open(job, job->fd, accmode);
}

/* The overwrite itself, on the open's fd once share modes let it
 * through: data, streams and EAs go, the new attributes are stored. */
static NTSTATUS overwrite_file(struct create_job *job, int fd)
{
	NTSTATUS status;

	status = vfs_ftruncate(fd, 0);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* [MS-FSA] 2.1.5.1.2.1: overwriting a file replaces all its data,
	 * named streams included (smb2.streams.create-disposition) */
	status = smbd_streams_delete_all(fd);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("'%s': removing streams: %s\n", job->relpath,
			   nt_errstr(status));
	}
	status = smbd_dosmode_set_fd(
		fd, job->attributes | FILE_ATTRIBUTE_ARCHIVE, false);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("'%s': storing attributes: %s\n", job->relpath,
			   nt_errstr(status));
	}
	preallocate(job, fd);
	status = finish_open(job, fd, job->accmode);
	if (NT_STATUS_IS_OK(status) && job->num_eas > 0) {
		status = smbd_ea_set(fd, job->eas, job->num_eas, true);
	}
	return status;
}

/* Create relpath; *retry when someone else created it meanwhile and the
 * disposition allows opening what is there now. */
static NTSTATUS create_new(struct create_job *job, bool *retry)
{
	bool is_dir = (job->options & FILE_DIRECTORY_FILE) != 0;
	const struct smb_conf_share *conf = job->conf;
	int accmode = O_RDWR;
	NTSTATUS status;
	mode_t mode;

	if (job->disposition == FILE_OPEN ||
	    job->disposition == FILE_OVERWRITE) {
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (job->trailing_sep && !is_dir) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	if (job->read_only_share) {
		return NT_STATUS_ACCESS_DENIED;
	}
	if (job->options & FILE_DELETE_ON_CLOSE) {
		if (!is_dir && (job->attributes & FILE_ATTRIBUTE_READONLY)) {
			return NT_STATUS_CANNOT_DELETE;
		}
		if (!(job->access & (SEC_STD_DELETE | SEC_FLAG_MAXIMUM_ALLOWED))) {
			return NT_STATUS_ACCESS_DENIED;
		}
	}

	status = acl_create_check(job->acl, job->share, job->relpath, is_dir);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (is_dir) {
		mode = (0777 & (conf ? conf->directory_mask : 0755)) |
		       (conf ? conf->force_directory_mode : 0);
		status = vfs_mkdirat(job->share, job->relpath, mode);
	} else {
		mode = (0666 & (conf ? conf->create_mask : 0744)) |
		       (conf ? conf->force_create_mode : 0);
		status = open_file_fd(job, false, O_CREAT | O_EXCL, mode,
				      &job->fd, &accmode);
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_COLLISION)) {
		if (job->disposition != FILE_CREATE) {
			*retry = true;
		}
		return status;
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (is_dir) {
		status = vfs_openat(job->share, job->relpath,
				    O_RDONLY | O_DIRECTORY | O_NOCTTY, 0,
				    &job->fd);
		if (!NT_STATUS_IS_OK(status)) {
			vfs_unlinkat(job->share, job->relpath, true);
			return status;
		}
	}
	status = acl_create_store(job->acl, job->fd, is_dir);
	if (!NT_STATUS_IS_OK(status)) {
		/* never leave it behind with wider rights than asked for */
		close(job->fd);
		job->fd = -1;
		vfs_unlinkat(job->share, job->relpath, is_dir);
		return status;
	}
	job->action = FILE_WAS_CREATED;
	status = smbd_dosmode_set_fd(
		job->fd,
		is_dir ? job->attributes
		       : (job->attributes | FILE_ATTRIBUTE_ARCHIVE),
		is_dir);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("'%s': storing attributes: %s\n", job->relpath,
			   nt_errstr(status));
	}
	if (!is_dir) {
		preallocate(job, job->fd);
	}
	/* the creator owns what it created: MAXIMUM_ALLOWED gets it all */
	status = finish_open(job, job->fd, is_dir ? O_RDWR : accmode);
	if (!NT_STATUS_IS_OK(status)) {
		close(job->fd);
		job->fd = -1;
		vfs_unlinkat(job->share, job->relpath, is_dir);
	}
	return status;
}

static NTSTATUS create_stream_attempt(struct create_job *job, bool *retry);

static NTSTATUS create_attempt(struct create_job *job, bool *retry)
{
	struct vfs_stat vst;
	NTSTATUS status;
	int pfd = -1;

	*retry = false;
	if (job->stream_name != NULL) {
		return create_stream_attempt(job, retry);
	}
	status = vfs_openat(job->share, job->relpath, O_PATH, 0, &pfd);
	if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND)) {
		return create_new(job, retry);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = vfs_fstat(pfd, &vst);
	if (!NT_STATUS_IS_OK(status)) {
		close(pfd);
		return status;
	}
	status = acl_open_existing(job->acl, job->share, job->relpath, pfd,
				   job->disposition, job->access);
	if (!NT_STATUS_IS_OK(status)) {
		close(pfd);
		return status;
	}
	if (job->disposition == FILE_CREATE) {
		status = NT_STATUS_OBJECT_NAME_COLLISION;
	} else if (S_ISDIR(vst.st.st_mode)) {
		status = open_existing_dir(job, &pfd);
	} else if (S_ISREG(vst.st.st_mode)) {
		status = open_existing_file(job);
	} else {
		/* FIFOs, devices, sockets: nothing SMB can read safely */
		status = NT_STATUS_ACCESS_DENIED;
	}
	if (pfd != -1) {
		close(pfd);
	}
	return status;
}

/* The base of a stream open, when it exists: a file opened with the data
 * access the stream open needs (no truncation), or a directory. */
static NTSTATUS open_stream_base(struct create_job *job, int *pfd,
				 bool is_dir, bool need_write, int *accmode)
{
	NTSTATUS status;

	if (is_dir) {
		status = vfs_openat(job->share, job->relpath,
				    O_RDONLY | O_DIRECTORY | O_NOCTTY, 0,
				    &job->fd);
		if (NT_STATUS_EQUAL(status, NT_STATUS_ACCESS_DENIED)) {
			/* as for the directory itself: a path handle still
			 * reaches its xattrs, the kernel checks each one */
			job->fd = *pfd;
			*pfd = -1;
			status = NT_STATUS_OK;
		}
		*accmode = O_RDWR;
		return status;
	}
	status = open_file_fd(job, need_write, 0, 0, &job->fd, accmode);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = smbd_file_meta_fd(job->fd, last_component(job->relpath),
				   job->conf, &job->meta);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* [MS-FSA] 2.1.5.1.2.1: the streams of a READONLY file are read
	 * only too */
	if ((job->meta.attributes & FILE_ATTRIBUTE_READONLY) &&
	    (need_write ||
	     (!(job->access & SEC_FLAG_MAXIMUM_ALLOWED) &&
	      (job->access & (SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA))))) {
		return NT_STATUS_ACCESS_DENIED;
	}
	return NT_STATUS_OK;
}

/*
 * Open or create the named stream job->stream_name of job->relpath
 * ([MS-FSA] 2.1.5.1): dispositions act on the stream; a missing file is
 * created first (and removed again if the stream cannot be).  Streams of
 * directories are allowed, as on NTFS.
 */
static NTSTATUS create_stream_attempt(struct create_job *job, bool *retry)
{
	uint32_t disp = job->disposition;
	bool overwrite = disp == FILE_SUPERSEDE || disp == FILE_OVERWRITE ||
			 disp == FILE_OVERWRITE_IF;
	struct vfs_stat vst;
	uint64_t size = 0;
	int accmode = O_RDWR;
	NTSTATUS status;
	int pfd = -1;

	*retry = false;
	if (overwrite && job->read_only_share) {
		return NT_STATUS_ACCESS_DENIED;
	}
	status = vfs_openat(job->share, job->relpath, O_PATH, 0, &pfd);
	if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND)) {
		/* the file comes with its first stream */
		status = create_new(job, retry);
		if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_COLLISION)) {
			/* the file appeared meanwhile: its streams decide,
			 * even for FILE_CREATE */
			*retry = true;
		}
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		status = smbd_stream_create(job->fd, job->stream_name);
		if (!NT_STATUS_IS_OK(status)) {
			close(job->fd);
			job->fd = -1;
			vfs_unlinkat(job->share, job->relpath, false);
			return status;
		}
		job->stream_stored = talloc_strdup(job, job->stream_name);
		if (job->stream_stored == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		goto done;
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = vfs_fstat(pfd, &vst);
	if (NT_STATUS_IS_OK(status) && !S_ISDIR(vst.st.st_mode) &&
	    !S_ISREG(vst.st.st_mode)) {
		status = NT_STATUS_ACCESS_DENIED;
	}
	if (NT_STATUS_IS_OK(status)) {
		status = open_stream_base(job, &pfd, S_ISDIR(vst.st.st_mode),
					  overwrite, &accmode);
	}
	if (pfd != -1) {
		close(pfd);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}

	status = smbd_stream_find(job->fd, job, job->stream_name,
				  &job->stream_stored, &size);
	if (NT_STATUS_IS_OK(status)) {
		if (disp == FILE_CREATE) {
			return NT_STATUS_OBJECT_NAME_COLLISION;
		}
		job->action = FILE_WAS_OPENED;
		if (overwrite) {
			/* truncated after the share-mode check */
			job->overwrite_pending = true;
			job->action = disp == FILE_SUPERSEDE
					      ? FILE_WAS_SUPERSEDED
					      : FILE_WAS_OVERWRITTEN;
		}
	} else if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND)) {
		if (disp == FILE_OPEN || disp == FILE_OVERWRITE) {
			return status;
		}
		if (job->read_only_share) {
			return NT_STATUS_ACCESS_DENIED;
		}
		status = smbd_stream_create(job->fd, job->stream_name);
		if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_COLLISION) &&
		    disp != FILE_CREATE) {
			*retry = true; /* created meanwhile: open that one */
		}
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		job->stream_stored = talloc_strdup(job, job->stream_name);
		if (job->stream_stored == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		job->action = FILE_WAS_CREATED;
	} else {
		return status;
	}
	status = finish_open(job, job->fd, accmode);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
done:
	/* what the client sees of the open is the stream: its size, and a
	 * data stream is never a directory */
	job->meta.end_of_file = size;
	job->meta.allocation_size = smbd_stream_alloc_size(size);
	smbd_stream_meta_fixup(&job->meta);
	return NT_STATUS_OK;
}

/* The ExtA EAs on what was just created, overwritten or superseded (an
 * overwrite replaces the old EAs).  A file this open created is removed
 * again when they cannot be stored, as if the create had failed. */
static void create_apply_eas(struct create_job *job)
{
	NTSTATUS status = smbd_ea_set(job->fd, job->eas, job->num_eas,
				      job->action != FILE_WAS_CREATED);

	if (NT_STATUS_IS_OK(status)) {
		return;
	}
	DBG_NOTICE("'%s': storing EAs: %s\n", job->relpath,
		   nt_errstr(status));
	close(job->fd);
	job->fd = -1;
	if (job->action == FILE_WAS_CREATED) {
		vfs_unlinkat(job->share, job->relpath, job->meta.is_dir);
	}
	job->status = status;
}

/* Worker thread, as the session user. */
void create_job_run(void *private_data)
{
	struct create_job *job = private_data;
	bool retry = false;
	int attempt;

	if (job->casefold) {
		char *resolved = NULL;

		job->casefold = false;
		job->status = vfs_casefold_resolve(job, job->share,
						   job->relpath,
						   fscc_name_equal_ci, &resolved);
		if (!NT_STATUS_IS_OK(job->status)) {
			return;
		}
		if (strcmp(resolved, job->relpath) != 0) {
			DBG_DEBUG("'%s' is '%s' on disk\n", job->relpath,
				  resolved);
			talloc_free(job->relpath);
			job->relpath = resolved;
			job->path_changed = true;
			return;
		}
		talloc_free(resolved);
	}
	for (attempt = 0; attempt < 4; attempt++) {
		job->status = create_attempt(job, &retry);
		if (!NT_STATUS_IS_OK(job->status) && job->fd != -1) {
			close(job->fd);
			job->fd = -1;
		}
		if (!retry) {
			break;
		}
	}
	if (NT_STATUS_IS_OK(job->status) && job->num_eas > 0 &&
	    job->stream_name == NULL && job->action != FILE_WAS_OPENED &&
	    !job->overwrite_pending) {
		create_apply_eas(job);
	}
}

/* Worker thread, as the session user: the overwrite an open announced
 * with overwrite_pending, on the open's fd (job->ovw_fd). */
void create_overwrite_run(void *private_data)
{
	struct create_job *job = private_data;

	if (job->stream_name != NULL) {
		job->status = smbd_stream_truncate(job->ovw_fd,
						   job->stream_stored, 0);
		if (NT_STATUS_IS_OK(job->status)) {
			job->meta.end_of_file = 0;
			job->meta.allocation_size = smbd_stream_alloc_size(0);
		}
		return;
	}
	job->status = overwrite_file(job, job->ovw_fd);
}
