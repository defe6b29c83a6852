/*
 * POSIX VFS backend: file-system calls relative to a share root.
 *
 * Every path a client names is resolved beneath the share's root
 * directory fd and can never leave it, whatever "..", symlinks or
 * concurrent renames it meets:
 *   - openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, plus
 *     RESOLVE_NO_SYMLINKS when the share does not follow symlinks;
 *   - on kernels without openat2 (ENOSYS, Linux < 5.6), a walk of one
 *     component at a time with O_NOFOLLOW, following symlinks by hand
 *     (readlinkat on the O_PATH fd of the link itself) and tracking the
 *     depth so that ".." can never climb above the root.
 * Both refuse absolute symlink targets, even ones that name a place
 * inside the share: the root's own absolute path is a server detail.
 * One difference: openat2 notices a directory being renamed out of the
 * share during the lookup (EAGAIN, retried); the walk cannot, so someone
 * with LOCAL access who moves a directory out of the share while a walk
 * is inside it can make that one lookup end outside.  Clients cannot do
 * this through SMB (their renames are resolved beneath the root too).
 *
 * Status codes for paths that would escape (EXDEV from the kernel):
 * NT_STATUS_ACCESS_DENIED.  It is what Samba has answered for years with
 * "wide links = no", Windows clients show it as a plain "access denied"
 * on that one entry, and it reveals nothing about what lies outside.
 * A symlink met on a share that does not follow symlinks gives
 * NT_STATUS_OBJECT_PATH_NOT_FOUND (ELOOP).  A missing or non-directory
 * intermediate component gives NT_STATUS_OBJECT_PATH_NOT_FOUND, a missing
 * last component NT_STATUS_OBJECT_NAME_NOT_FOUND ([MS-FSA] 2.1.5.1).
 *
 * Threads: everything but vfs_share_open() is meant to run INSIDE a
 * thread-pool job (threadpool.h), on a worker that already runs as the
 * session's user, so that the kernel checks the user's permissions.  The
 * functions are thread-safe; those taking a mem_ctx allocate with talloc
 * on the worker, so mem_ctx must belong to that job alone while it runs
 * (e.g. its private_data).  The async wrappers for the hot paths are in
 * vfs_async.h.
 *
 * Path arguments ("relpath"): UTF-8, '/'-separated, relative to the share
 * root, already normalised by smbd/ntname.c; "" is the root itself.  A
 * leading '/' is refused with NT_STATUS_INVALID_PARAMETER, as [MS-SMB2]
 * 3.3.5.9 requires for a CREATE name that starts with a separator.
 *
 * Errors are NTSTATUS (map_nt_error_from_unix() for plain errno values).
 */
#ifndef SMBD_VFS_VFS_POSIX_H
#define SMBD_VFS_VFS_POSIX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <talloc.h>
#include <time.h>

#include "lib/util/ntstatus.h"

struct vfs_share {
	int root_fd;		/* O_PATH|O_DIRECTORY, closed by the destructor */
	char *root_path;	/* as configured, for logging */
	bool follow_symlinks;	/* follow symlinks that stay inside */
	bool no_openat2;	/* always walk: set by vfs_share_open() when
				 * openat2 fails with ENOSYS or EPERM
				 * (seccomp), or by tests */
};

/*
 * Open the share root (as root, by the server, at tree connect: the path
 * comes from the configuration, never from a client).  The returned
 * struct is a talloc child of mem_ctx; freeing it closes root_fd.
 *
 * Lifetime: jobs use share->root_fd on worker threads.  Free the share
 * only when no job that uses it can still run (free or complete those
 * requests first; orphaned jobs keep running!), or the fd number may be
 * reused and a job would resolve beneath some other directory.
 */
NTSTATUS vfs_share_open(TALLOC_CTX *mem_ctx, const char *path,
			bool follow_symlinks, struct vfs_share **out);

/*
 * open(2) relpath beneath the share root.  flags as for open(2)
 * (O_CLOEXEC is always added); mode is used with O_CREAT/O_TMPFILE.
 * With O_NOFOLLOW a final symlink is not followed (O_PATH|O_NOFOLLOW
 * returns the link itself).  *fd_out belongs to the caller.
 */
NTSTATUS vfs_openat(const struct vfs_share *share, const char *relpath,
		    int flags, mode_t mode, int *fd_out);

/*
 * Resolve the directory containing relpath's last component, for the
 * calls that act on a name in a directory (create, unlink, rename,
 * mkdir): those never follow the last component, so only the parent
 * needs the beneath-the-root resolution.  *dirfd_out is an O_PATH
 * directory fd owned by the caller; *last_component points into relpath.
 * relpath must name something below the root: "" or a last component of
 * "", "." or ".." gives NT_STATUS_OBJECT_NAME_INVALID.
 */
NTSTATUS vfs_open_parent(const struct vfs_share *share, const char *relpath,
			 int *dirfd_out, const char **last_component);

NTSTATUS vfs_mkdirat(const struct vfs_share *share, const char *relpath,
		     mode_t mode);

/* rmdir when is_dir, else unlink.  Never follows a final symlink: the
 * link itself is removed. */
NTSTATUS vfs_unlinkat(const struct vfs_share *share, const char *relpath,
		      bool is_dir);

/*
 * Rename within the share.  !replace: an existing newrel fails with
 * NT_STATUS_OBJECT_NAME_COLLISION, atomically (renameat2
 * RENAME_NOREPLACE).  On file systems without RENAME_NOREPLACE the check
 * is a separate lstat, so a concurrent creator can still be replaced.
 */
NTSTATUS vfs_renameat(const struct vfs_share *share, const char *oldrel,
		      const char *newrel, bool replace);

/* struct stat plus the birth time, which only statx(2) reports. */
struct vfs_stat {
	struct stat st;
	struct timespec btime;
	bool btime_valid;	/* the file system knows the birth time */
};

/* fd may be an O_PATH fd. */
NTSTATUS vfs_fstat(int fd, struct vfs_stat *out);

/* Stat a name in a directory fd without following a final symlink. */
NTSTATUS vfs_fstatat_nofollow(int dirfd, const char *name,
			      struct vfs_stat *out);

/*
 * Set access and modification times.  NULL leaves that time unchanged
 * (SMB's "0" and "-1" in FILE_BASIC_INFORMATION mean "don't change",
 * [MS-FSCC] 2.4.7; the caller maps them to NULL).  fd must be opened for
 * reading or writing, not O_PATH.  Change and birth times cannot be set
 * on Linux.
 */
NTSTATUS vfs_set_times(int fd, const struct timespec *atime,
		       const struct timespec *mtime);

/* Set the end of file (FileEndOfFileInformation). */
NTSTATUS vfs_ftruncate(int fd, uint64_t size);

/*
 * Reserve alloc_size bytes without changing the file size
 * (FileAllocationInformation; fallocate FALLOC_FL_KEEP_SIZE).  Shrinking
 * the file when alloc_size < EOF ([MS-FSA] 2.1.5.15.1) is the caller's
 * job with vfs_ftruncate().  NT_STATUS_NOT_SUPPORTED when the file system
 * cannot preallocate; callers may treat that as success, allocation
 * being a hint.
 */
NTSTATUS vfs_fallocate(int fd, uint64_t alloc_size);

NTSTATUS vfs_fsync(int fd);

/* Sizes of the file system holding the share (FileFsSizeInformation). */
NTSTATUS vfs_statvfs(const struct vfs_share *share, struct statvfs *out);

/*
 * Directory listing.  vfs_opendir() returns a readable directory fd
 * (O_RDONLY|O_DIRECTORY) beneath the root.  vfs_readdir_batch() reads the
 * next batch (one getdents64 call, up to ~32 KiB of names) into a talloc
 * array on mem_ctx; *count == 0 means the end of the directory.  "." and
 * ".." are returned like any entry: the NT layer decides whether to show
 * them.  with_stat: each entry is also lstat'ed (fstatat with
 * AT_SYMLINK_NOFOLLOW); ".." of the share root is stat'ed as the root
 * itself, so nothing above the share leaks.  vfs_rewinddir() restarts
 * the listing (SMB2_RESTART_SCANS).
 */
struct vfs_dirent {
	char *name;		/* talloc child of the array */
	uint64_t ino;
	uint8_t d_type;		/* DT_REG, DT_DIR, DT_LNK, DT_UNKNOWN... */
	bool stat_valid;	/* with_stat and the lstat succeeded */
	int stat_errno;		/* with_stat and it failed (e.g. ENOENT:
				 * removed meanwhile) */
	struct vfs_stat st;
};

NTSTATUS vfs_opendir(const struct vfs_share *share, const char *relpath,
		     int *dirfd_out);
NTSTATUS vfs_readdir_batch(TALLOC_CTX *mem_ctx,
			   const struct vfs_share *share, int dirfd,
			   bool with_stat, struct vfs_dirent **entries,
			   size_t *count);
NTSTATUS vfs_rewinddir(int dirfd);

#endif
