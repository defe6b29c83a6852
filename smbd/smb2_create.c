/*
 * CREATE ([MS-SMB2] 2.2.13, 2.2.14, 3.3.5.9; semantics [MS-FSA] 2.1.5.1).
 *
 * The event loop parses and validates the request and its create
 * contexts, then one VFS job on a worker thread, running as the session
 * user, does every file-system step of the open (look up, create or open,
 * overwrite, attributes, metadata for the reply).  Unix permissions are
 * the access check: the data access bits choose O_RDONLY/O_WRONLY/O_RDWR,
 * so the kernel refuses what the user may not do.
 *
 * Named streams ("file:name[:$DATA]", streams.h) are opened through the
 * base file: the open's fd is the file's (or directory's) own descriptor,
 * opened with the data access the stream open asks for, so the kernel
 * checks the same permissions; the stream's data lives in an xattr.
 *
 * Share modes ([MS-FSA] 2.1.5.1.2) are checked against the opens of
 * every process (share_mode.h) once the job has opened the file and
 * before anything on disk changes: an open that overwrites or supersedes
 * an existing file or stream stops before truncating
 * (overwrite_pending), the event loop checks and adds the open's entry
 * under the record lock, and a second job (create_overwrite_run) then
 * truncates.
 *
 * Not yet here (next issues): oplocks and leases, durable handles.
 */
#include "smbd/smbd.h"
#include "smbd/oplock_break.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/param/loadparm.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/acl_store.h"
#include "smbd/dosmode.h"
#include "smbd/ea.h"
#include "smbd/fscc_info.h"
#include "smbd/ntname.h"
#include "smbd/share_mode.h"
#include "smbd/smbXsrv_global.h"
#include "smbd/streams.h"
#include "smbd/vfs/threadpool.h"
#include "smbd/vfs/vfs_casefold.h"
#include "smbd/vfs/vfs_posix.h"

#define CREATE_REQ_FIXED 56	/* StructureSize 57 includes Buffer[1] */
#define CREATE_REP_FIXED 88	/* StructureSize 89 */

/* ImpersonationLevel ([MS-SMB2] 2.2.13): Anonymous .. Delegate */
#define SMB2_IMPERSONATION_DELEGATE 3

/* CreateOptions Windows refuses with STATUS_NOT_SUPPORTED (smbtorture
 * smb2.create.gentest: not_supported_mask 0x00102080). */
#define FILE_CREATE_TREE_CONNECTION 0x00000080
#define CREATE_OPTIONS_NOT_SUPPORTED                                           \
	(FILE_CREATE_TREE_CONNECTION | FILE_OPEN_BY_FILE_ID |                  \
	 FILE_RESERVE_OPFILTER)

/* FileAttributes Windows refuses with STATUS_INVALID_PARAMETER
 * (gentest: invalid_parameter_mask 0xffff8048: VOLUME, DEVICE, bit 15 and
 * everything above 0xffff). */
#define FILE_ATTRIBUTES_INVALID 0xffff8048

/* Access bits no open can be granted ([MS-DTYP] 2.4.3: bits 9-15 and
 * 21-23 are reserved, 26-27 reserved); Windows answers ACCESS_DENIED. */
#define SEC_MASK_INVALID 0x0ce0fe00

/* Bits that change a file or its directory: refused on a read-only
 * share. */
#define SEC_MASK_WRITE                                                         \
	(SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA | SEC_FILE_WRITE_EA |      \
	 SEC_FILE_WRITE_ATTRIBUTE | SEC_DIR_DELETE_CHILD | SEC_STD_DELETE |    \
	 SEC_STD_WRITE_DAC | SEC_STD_WRITE_OWNER)

/* Create context names ([MS-SMB2] 2.2.13.2) */
#define CTX_MXAC "MxAc"
#define CTX_QFID "QFid"
#define CTX_ALSI "AlSi"
#define CTX_EXTA "ExtA"
#define CTX_SECD "SecD"
#define CTX_TWRP "TWrp"
#define CTX_DHNQ "DHnQ"
#define CTX_DHNC "DHnC"
#define CTX_DH2Q "DH2Q"
#define CTX_DH2C "DH2C"
#define CTX_RQLS "RqLs"

struct create_contexts {
	bool query_maximal_access;
	bool query_on_disk_id;
	bool have_alloc_size;
	uint64_t alloc_size;
	bool ea_list;
	const uint8_t *exta; /* "ExtA": FILE_FULL_EA_INFORMATION, unparsed */
	uint32_t exta_len;
	bool timewarp;
	bool durable_reconnect;
	const uint8_t *secd; /* "SecD": a security descriptor, unparsed */
	uint32_t secd_len;
	const uint8_t *rqls; /* "RqLs": lease request (oplock_break.h) */
	uint32_t rqls_len;
	bool have_rqls;
};

struct create_state {
	struct smbd_request *req;
	struct create_job *job;
	struct create_contexts ctx;
	uint32_t create_options;
	uint32_t disposition;
	uint32_t share_access;
	uint8_t requested_oplock;
	struct smbd_oplock_want want; /* oplock or lease asked for */
	bool first_attempt;	      /* no break waited for yet */
	struct tevent_req *wait;      /* waiting for a break */
	/* between the share-mode check and the end of an overwrite: the
	 * open (not yet handed to the client) and its fd for the job */
	struct smbd_open *op;
	struct smbd_fd *fdref;
	struct tevent_req *subreq;
};

static void create_done(struct tevent_req *subreq);
static void create_enter(struct create_state *state, struct smbd_open *op);
static void create_overwrite_done(struct tevent_req *subreq);

/*
 * The worker side.  struct create_job is the job's private_data: it owns
 * everything the worker touches (threadpool.h), and a destructor closes
 * an fd that no open took over (an orphaned job, or an error after the
 * open succeeded).
 *
 * Shared-object note: share and conf point into the tcon; a TREE_DISCONNECT
 * while this job runs would free them under the worker.  The tcon must
 * outlive its jobs (see the report to the lead).
 */
struct create_job {
	/* in */
	const struct vfs_share *share;
	const struct smb_conf_share *conf;
	char *relpath;
	bool trailing_sep;
	uint32_t disposition;
	uint32_t options;
	uint32_t attributes;
	uint32_t access; /* generic bits mapped; may hold MAXIMUM_ALLOWED */
	struct acl_ctx *acl; /* NT ACL checks and storage (acl_store.h) */
	bool read_only_share;
	uint32_t share_maximal_access;
	bool have_alloc_size;
	uint64_t alloc_size;
	/* "file::$DATA": the unnamed stream, so never a directory */
	bool data_stream_only;
	char *stream_name; /* a named stream of relpath, or NULL */
	/* "case sensitive" auto/no: the first run of the job only resolves
	 * relpath case-insensitively (vfs_casefold.h); when the spelling on
	 * disk differs, it stops with path_changed and a second run opens
	 * the name as it is on disk */
	bool casefold;
	bool path_changed;
	/* "ExtA": EAs for a file this open creates, overwrites or
	 * supersedes ([MS-SMB2] 2.2.13.2.1) */
	struct smbd_ea *eas;
	size_t num_eas;
	/* out */
	NTSTATUS status;
	int fd;
	/* an existing file or stream is to be overwritten: opened, not yet
	 * truncated (see the top of the file); accmode of the fd */
	bool overwrite_pending;
	int accmode;
	int ovw_fd; /* the open's fd, for create_overwrite_run (not owned) */
	uint32_t action;
	uint32_t granted;
	uint32_t maximal_access;
	struct smbd_file_meta meta;
	char *stream_stored; /* the stream's name as stored */
};

static int create_job_destructor(struct create_job *job)
{
	if (job->fd != -1) {
		close(job->fd);
	}
	return 0;
}

static struct create_job *create_job_new(TALLOC_CTX *mem_ctx)
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
static void create_job_run(void *private_data)
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
static void create_overwrite_run(void *private_data)
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

/* [MS-SMB2] 2.2.13.1.1 / [MS-DTYP] 2.4.3: the generic rights of files. */
static uint32_t map_generic_access(uint32_t access)
{
	if (access & SEC_GENERIC_READ) {
		access |= SEC_RIGHTS_FILE_READ;
	}
	if (access & SEC_GENERIC_WRITE) {
		access |= SEC_RIGHTS_FILE_WRITE;
	}
	if (access & SEC_GENERIC_EXECUTE) {
		access |= SEC_RIGHTS_FILE_EXECUTE;
	}
	if (access & SEC_GENERIC_ALL) {
		access |= SEC_FILE_ALL;
	}
	return access & ~(SEC_GENERIC_READ | SEC_GENERIC_WRITE |
			  SEC_GENERIC_EXECUTE | SEC_GENERIC_ALL);
}

static bool ctx_name_is(const uint8_t *name, uint16_t len, const char *want)
{
	return len == 4 && memcmp(name, want, 4) == 0;
}

/*
 * Walk the SMB2_CREATE_CONTEXT chain ([MS-SMB2] 2.2.13.2): every Next,
 * name and data range must lie inside its own context, which lies inside
 * the CreateContexts buffer.  Contexts we do not act on are still
 * checked, as Windows does (smb2.create.blob: a name shorter than 4 bytes
 * is INVALID_PARAMETER).
 */
static NTSTATUS parse_create_contexts(const uint8_t *buf, uint32_t len,
				      struct create_contexts *out)
{
	uint32_t ofs = 0;

	memset(out, 0, sizeof(*out));
	while (len > 0) {
		const uint8_t *c = buf + ofs;
		uint32_t avail = len - ofs;
		uint32_t next, size, data_len;
		uint16_t name_ofs, name_len, data_ofs;
		const uint8_t *name, *data;

		if (avail < 16) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		next = PULL_LE32(c, 0);
		name_ofs = PULL_LE16(c, 4);
		name_len = PULL_LE16(c, 6);
		data_ofs = PULL_LE16(c, 10);
		data_len = PULL_LE32(c, 12);
		if (next != 0) {
			if (next % 8 != 0 || next < 16 || next > avail) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			size = next;
		} else {
			size = avail;
		}
		if (name_len < 4 || name_ofs < 16 || name_ofs > size ||
		    name_len > size - name_ofs) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		if (data_len != 0 &&
		    (data_ofs < 16 || data_ofs > size ||
		     data_len > size - data_ofs)) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		name = c + name_ofs;
		data = data_len != 0 ? c + data_ofs : NULL;

		if (ctx_name_is(name, name_len, CTX_MXAC)) {
			/* optional Timestamp (8 bytes) */
			if (data_len != 0 && data_len != 8) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			out->query_maximal_access = true;
		} else if (ctx_name_is(name, name_len, CTX_QFID)) {
			out->query_on_disk_id = true;
		} else if (ctx_name_is(name, name_len, CTX_ALSI)) {
			if (data_len != 8) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			out->have_alloc_size = true;
			out->alloc_size = PULL_LE64(data, 0);
		} else if (ctx_name_is(name, name_len, CTX_EXTA)) {
			out->ea_list = true;
			out->exta = data;
			out->exta_len = data_len;
		} else if (ctx_name_is(name, name_len, CTX_TWRP)) {
			if (data_len != 8) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			out->timewarp = true;
		} else if (ctx_name_is(name, name_len, CTX_SECD)) {
			out->secd = data;
			out->secd_len = data_len;
		} else if (ctx_name_is(name, name_len, CTX_RQLS)) {
			out->have_rqls = true;
			out->rqls = data;
			out->rqls_len = data_len;
		} else if (ctx_name_is(name, name_len, CTX_DHNC) ||
			   ctx_name_is(name, name_len, CTX_DH2C)) {
			out->durable_reconnect = true;
		}
		/* SecD, DHnQ, DH2Q, RqLs, AAPL, unknown tags: accepted and
		 * not acted on; no durable handle or lease is granted, which
		 * the reply shows by carrying no such context. */
		if (next == 0) {
			break;
		}
		ofs += next;
	}
	return NT_STATUS_OK;
}

/* The fixed-part checks of [MS-SMB2] 3.3.5.9 and [MS-FSA] 2.1.5.1 that
 * need no file system, in the order Windows applies them. */
static NTSTATUS check_create_parameters(uint32_t impersonation,
					uint32_t disposition, uint32_t options,
					uint32_t attributes, uint32_t access)
{
	if (impersonation > SMB2_IMPERSONATION_DELEGATE) {
		return NT_STATUS_BAD_IMPERSONATION_LEVEL;
	}
	if (options & ~FILE_CREATE_OPTIONS_VALID) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (options & CREATE_OPTIONS_NOT_SUPPORTED) {
		return NT_STATUS_NOT_SUPPORTED;
	}
	if (disposition > FILE_OVERWRITE_IF) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if ((options & FILE_DIRECTORY_FILE) &&
	    (options & FILE_NON_DIRECTORY_FILE)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* [MS-FSA] 2.1.5.1: a directory cannot be superseded or
	 * overwritten. */
	if ((options & FILE_DIRECTORY_FILE) &&
	    (disposition == FILE_SUPERSEDE || disposition == FILE_OVERWRITE ||
	     disposition == FILE_OVERWRITE_IF)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (access & SEC_MASK_INVALID) {
		return NT_STATUS_ACCESS_DENIED;
	}
	if (access == 0) {
		/* [MS-FSA] 2.1.5.1: an open must ask for something
		 * (smb2.create.gentest) */
		return NT_STATUS_ACCESS_DENIED;
	}
	if (access & SEC_FLAG_SYSTEM_SECURITY) {
		/* SACL access needs SeSecurityPrivilege, which no SMB user
		 * holds here. */
		return NT_STATUS_PRIVILEGE_NOT_HELD;
	}
	/* after the access checks: gentest expects ACCESS_DENIED for an
	 * invalid access mask together with FILE_ATTRIBUTE_VOLUME */
	if (attributes & FILE_ATTRIBUTES_INVALID) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_OK;
}

static NTSTATUS create_send_job(struct create_state *state)
{
	struct smbd_request *req = state->req;
	struct smbd_client *client = req->conn->client;
	struct tevent_req *subreq;

	subreq = vfs_job_send(state, client->ev, client->pool,
			      req->session->creds, create_job_run, state->job);
	if (subreq == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	tevent_req_set_callback(subreq, create_done, state);
	return NT_STATUS_PENDING;
}

NTSTATUS smbd_smb2_create(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	struct smbd_tcon *tcon = req->tcon;
	struct smbd_client *client = req->conn->client;
	uint32_t impersonation = PULL_LE32(b, 4);
	uint32_t access = PULL_LE32(b, 24);
	uint32_t attributes = PULL_LE32(b, 28);
	uint32_t share_access = PULL_LE32(b, 32);
	uint32_t disposition = PULL_LE32(b, 36);
	uint32_t options = PULL_LE32(b, 40);
	uint16_t name_ofs = PULL_LE16(b, 44);
	uint16_t name_len = PULL_LE16(b, 46);
	uint32_t ctx_ofs = PULL_LE32(b, 48);
	uint32_t ctx_len = PULL_LE32(b, 52);
	const uint8_t *name = NULL, *ctx = NULL;
	struct create_state *state;
	struct create_job *job;
	struct ntname_stream stream = { 0 };
	bool trailing_sep = false;
	char *relpath = NULL;
	NTSTATUS status;

	if (!smbd_request_in_range(req, name_ofs, name_len, CREATE_REQ_FIXED,
				   &name) ||
	    !smbd_request_in_range(req, ctx_ofs, ctx_len, CREATE_REQ_FIXED,
				   &ctx)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	state = talloc_zero(req, struct create_state);
	if (state == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->req = req;
	state->requested_oplock = b[3];
	state->create_options = options;
	state->disposition = disposition;
	state->share_access = share_access;

	status = parse_create_contexts(ctx, ctx_len, &state->ctx);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (state->ctx.have_rqls) {
		static const uint8_t empty;

		status = smbd_oplock_want_parse(
			req, state->requested_oplock,
			state->ctx.rqls != NULL ? state->ctx.rqls : &empty,
			state->ctx.rqls_len, &state->want);
	} else {
		status = smbd_oplock_want_parse(req, state->requested_oplock,
						NULL, 0, &state->want);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	state->first_attempt = true;
	status = check_create_parameters(impersonation, disposition, options,
					 attributes, access);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (tcon->is_ipc || tcon->vfs == NULL) {
		/* No named pipe is served yet. */
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	status = ntname_to_relpath_stream(state, name, name_len, &relpath,
					  &trailing_sep, &stream);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (stream.present && (options & FILE_DIRECTORY_FILE)) {
		/* a data stream is never a directory (smb2.streams.dir) */
		return NT_STATUS_NOT_A_DIRECTORY;
	}
	if (trailing_sep && (options & FILE_NON_DIRECTORY_FILE)) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	/* a lease key names one file ([MS-SMB2] 3.3.5.9.8) */
	status = smbd_lease_check_key(client, &state->want,
				      tcon->share != NULL ? tcon->share->path
							  : NULL,
				      relpath, stream.name);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (state->ctx.durable_reconnect || state->ctx.timewarp) {
		/* no durable handle or snapshot exists to reconnect to */
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (state->ctx.ea_list &&
	    (tcon->share == NULL || !tcon->share->ea_support)) {
		/* "ea support = no": tell the client rather than drop its
		 * EAs silently (as Samba) */
		return NT_STATUS_EAS_NOT_SUPPORTED;
	}

	access = map_generic_access(access);
	if (tcon->read_only && !(access & SEC_FLAG_MAXIMUM_ALLOWED) &&
	    (access & SEC_MASK_WRITE)) {
		return NT_STATUS_ACCESS_DENIED;
	}
	if (client->settings->max_open_files != 0 &&
	    client->num_opens >= client->settings->max_open_files) {
		return NT_STATUS_TOO_MANY_OPENED_FILES;
	}

	job = create_job_new(state);
	if (job == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = acl_ctx_new(job, req->session, state->ctx.secd,
			     state->ctx.secd_len, &job->acl);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	state->job = job;
	job->share = tcon->vfs;
	job->conf = tcon->share;
	job->relpath = talloc_steal(job, relpath);
	job->trailing_sep = trailing_sep;
	job->disposition = disposition;
	job->options = options;
	job->attributes = attributes;
	job->access = access;
	job->read_only_share = tcon->read_only;
	job->share_maximal_access = tcon->maximal_access;
	job->have_alloc_size = state->ctx.have_alloc_size;
	job->alloc_size = state->ctx.alloc_size;
	job->data_stream_only = stream.present;
	job->stream_name = talloc_steal(job, stream.name);
	if (state->ctx.ea_list) {
		status = smbd_ea_parse_full_list(job, state->ctx.exta,
						 state->ctx.exta_len, &job->eas,
						 &job->num_eas);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
	}

	job->casefold = tcon->share == NULL ||
			tcon->share->case_sensitive != SMB_CONF_CASE_SENSITIVE_YES;

	return create_send_job(state);
}

static size_t put_context(uint8_t *p, const char *tag, const uint8_t *data,
			  uint32_t data_len, bool last)
{
	size_t size = 24 + data_len;

	size = (size + 7) & ~(size_t)7;
	PUSH_LE32(p, 0, last ? 0 : (uint32_t)size);
	PUSH_LE16(p, 4, 16); /* NameOffset */
	PUSH_LE16(p, 6, 4);  /* NameLength */
	PUSH_LE16(p, 10, 24); /* DataOffset */
	PUSH_LE32(p, 12, data_len);
	memcpy(p + 16, tag, 4);
	memcpy(p + 24, data, data_len);
	return size;
}

/* The create contexts of the reply, 8-aligned chain ([MS-SMB2] 2.2.14.2). */
static NTSTATUS build_reply(struct create_state *state, struct smbd_open *op)
{
	struct smbd_request *req = state->req;
	const struct create_job *job = state->job;
	const struct smbd_file_meta *m = &job->meta;
	uint8_t mxac[8], qfid[32], rqls[SMB2_LEASE_V2_SIZE];
	size_t ctx_len = 0, ofs, rqls_len = 0;
	uint8_t *out;

	if (state->ctx.query_maximal_access) {
		ctx_len += 32;
	}
	if (state->ctx.query_on_disk_id) {
		ctx_len += 56;
	}
	if (state->ctx.have_rqls) {
		/* only a granted lease is answered ([MS-SMB2] 3.3.5.9.8) */
		rqls_len = smbd_oplock_reply_lease(op, rqls);
		if (rqls_len > 0) {
			ctx_len += (24 + rqls_len + 7) & ~(size_t)7;
		}
	}
	out = smbd_request_reply(req, CREATE_REP_FIXED,
				 ctx_len > 0 ? ctx_len : 1);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 89);
	out[2] = smbd_oplock_reply_level(op);
	out[3] = 0; /* Flags */
	PUSH_LE32(out, 4, job->action);
	PUSH_LE64(out, 8, m->creation_time);
	PUSH_LE64(out, 16, m->last_access_time);
	PUSH_LE64(out, 24, m->last_write_time);
	PUSH_LE64(out, 32, m->change_time);
	PUSH_LE64(out, 40, m->allocation_size);
	PUSH_LE64(out, 48, m->end_of_file);
	PUSH_LE32(out, 56, m->attributes);
	PUSH_LE64(out, 64, op->persistent_id);
	PUSH_LE64(out, 72, op->volatile_id);
	if (ctx_len == 0) {
		return NT_STATUS_OK;
	}
	PUSH_LE32(out, 80, SMB2_HDR_SIZE + CREATE_REP_FIXED);
	PUSH_LE32(out, 84, (uint32_t)ctx_len);

	ofs = CREATE_REP_FIXED;
	if (state->ctx.query_maximal_access) {
		PUSH_LE32(mxac, 0, 0); /* QueryStatus */
		PUSH_LE32(mxac, 4, job->maximal_access);
		ofs += put_context(out + ofs, CTX_MXAC, mxac, sizeof(mxac),
				   !state->ctx.query_on_disk_id &&
					   rqls_len == 0);
	}
	if (state->ctx.query_on_disk_id) {
		/* DiskFileId (16): inode; VolumeId (8): device; Reserved */
		memset(qfid, 0, sizeof(qfid));
		PUSH_LE64(qfid, 0, m->index_number);
		PUSH_LE64(qfid, 16, m->device);
		ofs += put_context(out + ofs, CTX_QFID, qfid, sizeof(qfid),
				   rqls_len == 0);
	}
	if (rqls_len > 0) {
		ofs += put_context(out + ofs, CTX_RQLS, rqls,
				   (uint32_t)rqls_len, true);
	}
	return NT_STATUS_OK;
}

/* A request freed while its overwrite job runs: wait for the job, then
 * the open it was making goes (its share-mode entry with it). */
static int create_state_destructor(struct create_state *state)
{
	TALLOC_FREE(state->wait);
	TALLOC_FREE(state->subreq);
	smbd_fd_unref(state->fdref);
	state->fdref = NULL;
	if (state->op != NULL) {
		state->op->delete_on_close = false;
		TALLOC_FREE(state->op);
	}
	return 0;
}

static void create_finish(struct create_state *state, struct smbd_open *op)
{
	struct smbd_request *req = state->req;
	NTSTATUS status;

	status = build_reply(state, op);
	if (!NT_STATUS_IS_OK(status)) {
		op->delete_on_close = false;
		talloc_free(op);
		smbd_request_done(req, status);
		return;
	}
	(void)smbXsrv_open_global_store(op);
	smbd_compound_set_open(req, op);
	DBG_DEBUG("create '%s' -> action %u, fid 0x%llx\n", op->relpath,
		  state->job->action, (unsigned long long)op->volatile_id);
	smbd_request_done(req, NT_STATUS_OK);
}

static void create_done(struct tevent_req *subreq)
{
	struct create_state *state =
		tevent_req_callback_data(subreq, struct create_state);
	struct smbd_request *req = state->req;
	struct create_job *job = state->job;
	struct smbd_client *client = req->conn->client;
	struct smbd_open *op;
	NTSTATUS status;
	int err;

	err = vfs_job_recv(subreq);
	TALLOC_FREE(subreq);
	if (err != 0) {
		smbd_request_done(req, map_nt_error_from_unix(err));
		return;
	}
	if (NT_STATUS_IS_OK(job->status) && job->path_changed) {
		/* the name exists in another case: now open that one */
		job->path_changed = false;
		status = create_send_job(state);
		if (!NT_STATUS_EQUAL(status, NT_STATUS_PENDING)) {
			smbd_request_done(req, status);
		}
		return;
	}
	if (!NT_STATUS_IS_OK(job->status)) {
		DBG_DEBUG("create '%s': %s\n", job->relpath,
			  nt_errstr(job->status));
		smbd_request_done(req, job->status);
		return;
	}
	/* On failure below, the job's destructor closes the fd; a file
	 * this request created stays (as after a lost reply). */
	op = smbd_open_create(req->tcon);
	if (op == NULL) {
		smbd_request_done(req, NT_STATUS_NO_MEMORY);
		return;
	}
	op->relpath = talloc_strdup(op, job->relpath);
	op->fd = op->relpath != NULL ? smbd_fd_new(client, job->fd) : NULL;
	if (op->fd == NULL) {
		talloc_free(op);
		smbd_request_done(req, NT_STATUS_NO_MEMORY);
		return;
	}
	job->fd = -1; /* op->fd owns it now */
	op->is_dir = job->meta.is_dir;
	if (job->stream_name != NULL) {
		status = smbd_open_set_stream(op, job->stream_stored);
		if (!NT_STATUS_IS_OK(status)) {
			talloc_free(op);
			smbd_request_done(req, status);
			return;
		}
	}
	op->access_mask = job->granted;
	op->share_access = state->share_access;
	op->create_options = state->create_options;
	op->create_disposition = state->disposition;
	op->delete_on_close = (state->create_options & FILE_DELETE_ON_CLOSE) != 0;
	create_enter(state, op);
}

/* A break this open waited for is done (or timed out): look again. */
static void create_wait_done(struct tevent_req *subreq)
{
	struct create_state *state =
		tevent_req_callback_data(subreq, struct create_state);
	struct smbd_open *op = state->op;
	NTSTATUS status = smbd_oplock_wait_recv(subreq);

	TALLOC_FREE(subreq);
	state->wait = NULL;
	state->op = NULL;
	state->req->cancel_fn = NULL;
	if (!NT_STATUS_IS_OK(status)) {
		op->delete_on_close = false;
		talloc_free(op);
		smbd_request_done(state->req, status);
		return;
	}
	create_enter(state, op);
}

/* CANCEL of an open waiting for a break ([MS-SMB2] 3.3.5.16). */
static void create_wait_cancel(struct smbd_request *req)
{
	struct create_state *state = req->handler_state;
	struct smbd_open *op = state->op;

	TALLOC_FREE(state->wait);
	state->op = NULL;
	req->cancel_fn = NULL;
	if (op != NULL) {
		op->delete_on_close = false;
		talloc_free(op);
	}
	smbd_request_done(req, NT_STATUS_CANCELLED);
}

/*
 * Share modes, oplocks and leases against the opens of every process,
 * before an overwrite changes anything; a refused open's fd closes with
 * op.  An oplock or lease in the way is broken first and the open may
 * wait for its holder (oplock_break.h): op, with no share-mode entry
 * yet, waits in state->op.
 */
static void create_enter(struct create_state *state, struct smbd_open *op)
{
	struct smbd_request *req = state->req;
	struct create_job *job = state->job;
	struct smbd_client *client = req->conn->client;
	struct tevent_req *wait = NULL;
	NTSTATUS status;

	status = smbd_oplock_enter(op, job->meta.device,
				   job->meta.index_number, &state->want,
				   job->overwrite_pending,
				   job->action == FILE_WAS_CREATED,
				   state->first_attempt, state, &wait);
	if (NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
		state->first_attempt = false;
		state->op = op;
		state->wait = wait;
		talloc_set_destructor(state, create_state_destructor);
		tevent_req_set_callback(wait, create_wait_done, state);
		req->handler_state = state;
		req->cancel_fn = create_wait_cancel;
		return;
	}
	if (!NT_STATUS_IS_OK(status)) {
		DBG_DEBUG("create '%s': share modes: %s\n", job->relpath,
			  nt_errstr(status));
		op->delete_on_close = false;
		talloc_free(op);
		smbd_request_done(req, status);
		return;
	}
	if (job->overwrite_pending) {
		state->op = op;
		state->fdref = smbd_fd_ref(op->fd);
		job->ovw_fd = state->fdref->fd;
		talloc_set_destructor(state, create_state_destructor);
		/* waited for if the request goes away: the job uses the
		 * open's fd, which state's reference keeps open */
		state->subreq = vfs_job_send_ex(
			state, client->ev, client->pool, req->session->creds,
			create_overwrite_run, job, NULL,
			VFS_JOB_WAIT_ON_CANCEL);
		if (state->subreq == NULL) {
			smbd_request_done(req, NT_STATUS_NO_MEMORY);
			return;
		}
		tevent_req_set_callback(state->subreq, create_overwrite_done,
					state);
		return;
	}
	create_finish(state, op);
}

static void create_overwrite_done(struct tevent_req *subreq)
{
	struct create_state *state =
		tevent_req_callback_data(subreq, struct create_state);
	struct smbd_request *req = state->req;
	struct smbd_open *op = state->op;
	int err;

	err = vfs_job_recv(subreq);
	state->subreq = NULL;
	TALLOC_FREE(subreq);
	smbd_fd_unref(state->fdref);
	state->fdref = NULL;
	state->op = NULL;
	if (err != 0 || !NT_STATUS_IS_OK(state->job->status)) {
		NTSTATUS status = err != 0 ? map_nt_error_from_unix(err)
					   : state->job->status;
		op->delete_on_close = false;
		talloc_free(op);
		smbd_request_done(req, status);
		return;
	}
	create_finish(state, op);
}
