/*
 * POSIX backend calls relative to a share root; see vfs_posix.h.
 * Everything here but vfs_share_open() runs on worker threads.
 */
#include "smbd/vfs/vfs_posix.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <sys/sysmacros.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/util/debug.h"
#include "smbd/vfs/vfs_resolve.h"

/* One getdents64 call per batch reads at most this much. */
#define READDIR_BUFSIZE (32 * 1024)

static int vfs_share_destructor(struct vfs_share *share)
{
	if (share->root_fd != -1) {
		close(share->root_fd);
		share->root_fd = -1;
	}
	return 0;
}

NTSTATUS vfs_share_open(TALLOC_CTX *mem_ctx, const char *path,
			bool follow_symlinks, struct vfs_share **out)
{
	struct vfs_share *share;

	share = talloc_zero(mem_ctx, struct vfs_share);
	if (share == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	share->root_fd = -1;
	talloc_set_destructor(share, vfs_share_destructor);
	share->root_path = talloc_strdup(share, path);
	if (share->root_path == NULL) {
		talloc_free(share);
		return NT_STATUS_NO_MEMORY;
	}
	share->follow_symlinks = follow_symlinks;
	share->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (share->root_fd == -1) {
		NTSTATUS status = map_nt_error_from_unix(errno);

		DBG_ERR("share root %s: %s\n", path, strerror(errno));
		talloc_free(share);
		return status;
	}
	share->no_openat2 = !vfs_resolve_have_openat2(share->root_fd);
	if (share->no_openat2) {
		DBG_NOTICE("share root %s: no openat2, resolving paths "
			   "one component at a time\n", path);
	}
	*out = share;
	return NT_STATUS_OK;
}

static int resolve(const struct vfs_share *share, const char *relpath,
		   int flags, mode_t mode, int *fd_out)
{
	return vfs_resolve_open(share->root_fd, relpath, flags, mode,
				share->follow_symlinks, !share->no_openat2,
				fd_out);
}

/* Length of relpath's parent part ("a/b" of "a/b/c"), 0 for the root. */
static size_t parent_len(const char *relpath)
{
	size_t len = strlen(relpath);

	while (len > 0 && relpath[len - 1] == '/') {
		len--;
	}
	while (len > 0 && relpath[len - 1] != '/') {
		len--;
	}
	while (len > 0 && relpath[len - 1] == '/') {
		len--;
	}
	return len;
}

static bool parent_is_directory(const struct vfs_share *share,
				const char *relpath)
{
	size_t len = parent_len(relpath);
	char *parent;
	int fd, err;

	if (len == 0) {
		return true;
	}
	parent = strndup(relpath, len);
	if (parent == NULL) {
		return true;
	}
	err = resolve(share, parent, O_PATH | O_DIRECTORY, 0, &fd);
	free(parent);
	if (err != 0) {
		return false;
	}
	close(fd);
	return true;
}

/* The NTSTATUS of a failed resolution of relpath (see vfs_posix.h). */
static NTSTATUS resolve_status(const struct vfs_share *share,
			       const char *relpath, int err)
{
	switch (err) {
	case EXDEV:
		return NT_STATUS_ACCESS_DENIED;
	case ELOOP:
		return NT_STATUS_OBJECT_PATH_NOT_FOUND;
	case ENOENT:
	case ENOTDIR:
		if (!parent_is_directory(share, relpath)) {
			return NT_STATUS_OBJECT_PATH_NOT_FOUND;
		}
		return err == ENOENT ? NT_STATUS_OBJECT_NAME_NOT_FOUND
				     : NT_STATUS_NOT_A_DIRECTORY;
	default:
		return map_nt_error_from_unix(err);
	}
}

NTSTATUS vfs_openat(const struct vfs_share *share, const char *relpath,
		    int flags, mode_t mode, int *fd_out)
{
	int err;

	if (relpath == NULL || relpath[0] == '/') {
		return NT_STATUS_INVALID_PARAMETER;
	}
	err = resolve(share, relpath, flags, mode, fd_out);
	if (err != 0) {
		return resolve_status(share, relpath, err);
	}
	return NT_STATUS_OK;
}

NTSTATUS vfs_open_parent(const struct vfs_share *share, const char *relpath,
			 int *dirfd_out, const char **last_component)
{
	const char *last;
	size_t plen;
	char *parent;
	int err;

	if (relpath == NULL || relpath[0] == '/') {
		return NT_STATUS_INVALID_PARAMETER;
	}
	last = strrchr(relpath, '/');
	last = last != NULL ? last + 1 : relpath;
	if (last[0] == '\0' || strcmp(last, ".") == 0 ||
	    strcmp(last, "..") == 0) {
		return NT_STATUS_OBJECT_NAME_INVALID;
	}
	plen = parent_len(relpath);
	parent = strndup(relpath, plen);
	if (parent == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	err = resolve(share, parent, O_PATH | O_DIRECTORY, 0, dirfd_out);
	free(parent);
	switch (err) {
	case 0:
		*last_component = last;
		return NT_STATUS_OK;
	case ENOENT:
	case ENOTDIR:
	case ELOOP:
		return NT_STATUS_OBJECT_PATH_NOT_FOUND;
	case EXDEV:
		return NT_STATUS_ACCESS_DENIED;
	default:
		return map_nt_error_from_unix(err);
	}
}

NTSTATUS vfs_mkdirat(const struct vfs_share *share, const char *relpath,
		     mode_t mode)
{
	const char *name;
	NTSTATUS status;
	int dirfd, ret;

	status = vfs_open_parent(share, relpath, &dirfd, &name);
	NT_STATUS_NOT_OK_RETURN(status);
	ret = mkdirat(dirfd, name, mode);
	status = ret == 0 ? NT_STATUS_OK : map_nt_error_from_unix(errno);
	close(dirfd);
	return status;
}

NTSTATUS vfs_unlinkat(const struct vfs_share *share, const char *relpath,
		      bool is_dir)
{
	const char *name;
	NTSTATUS status;
	int dirfd, ret;

	status = vfs_open_parent(share, relpath, &dirfd, &name);
	NT_STATUS_NOT_OK_RETURN(status);
	ret = unlinkat(dirfd, name, is_dir ? AT_REMOVEDIR : 0);
	status = ret == 0 ? NT_STATUS_OK : map_nt_error_from_unix(errno);
	close(dirfd);
	return status;
}

static int rename_noreplace(int olddir, const char *oldname, int newdir,
			    const char *newname)
{
	struct stat st;

	if (renameat2(olddir, oldname, newdir, newname, RENAME_NOREPLACE) ==
	    0) {
		return 0;
	}
	if (errno != EINVAL) {
		return errno;
	}
	/* The file system may not support the flag: check, then rename
	 * (not atomic; see vfs_posix.h). */
	if (fstatat(newdir, newname, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		return EEXIST;
	}
	if (errno != ENOENT) {
		return errno;
	}
	return renameat(olddir, oldname, newdir, newname) == 0 ? 0 : errno;
}

NTSTATUS vfs_renameat(const struct vfs_share *share, const char *oldrel,
		      const char *newrel, bool replace)
{
	const char *oldname, *newname;
	int olddir, newdir, err;
	NTSTATUS status;

	status = vfs_open_parent(share, oldrel, &olddir, &oldname);
	NT_STATUS_NOT_OK_RETURN(status);
	status = vfs_open_parent(share, newrel, &newdir, &newname);
	if (!NT_STATUS_IS_OK(status)) {
		close(olddir);
		return status;
	}
	if (replace) {
		err = renameat(olddir, oldname, newdir, newname) == 0 ? 0
								      : errno;
	} else {
		err = rename_noreplace(olddir, oldname, newdir, newname);
	}
	close(olddir);
	close(newdir);
	return map_nt_error_from_unix(err);
}

static void statx_to_vfs_stat(const struct statx *stx, struct vfs_stat *out)
{
	struct stat *st = &out->st;

	memset(out, 0, sizeof(*out));
	st->st_dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
	st->st_ino = stx->stx_ino;
	st->st_mode = stx->stx_mode;
	st->st_nlink = stx->stx_nlink;
	st->st_uid = stx->stx_uid;
	st->st_gid = stx->stx_gid;
	st->st_rdev = makedev(stx->stx_rdev_major, stx->stx_rdev_minor);
	st->st_size = (off_t)stx->stx_size;
	st->st_blksize = stx->stx_blksize;
	st->st_blocks = (blkcnt_t)stx->stx_blocks;
	st->st_atim.tv_sec = stx->stx_atime.tv_sec;
	st->st_atim.tv_nsec = stx->stx_atime.tv_nsec;
	st->st_mtim.tv_sec = stx->stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = stx->stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = stx->stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = stx->stx_ctime.tv_nsec;
	if (stx->stx_mask & STATX_BTIME) {
		out->btime.tv_sec = stx->stx_btime.tv_sec;
		out->btime.tv_nsec = stx->stx_btime.tv_nsec;
		out->btime_valid = true;
	}
}

static int statx_at(int dirfd, const char *name, int flags,
		    struct vfs_stat *out)
{
	struct statx stx;

	if (statx(dirfd, name, flags | AT_STATX_SYNC_AS_STAT,
		  STATX_BASIC_STATS | STATX_BTIME, &stx) != 0) {
		return errno;
	}
	statx_to_vfs_stat(&stx, out);
	return 0;
}

NTSTATUS vfs_fstat(int fd, struct vfs_stat *out)
{
	return map_nt_error_from_unix(statx_at(fd, "", AT_EMPTY_PATH, out));
}

NTSTATUS vfs_fstatat_nofollow(int dirfd, const char *name,
			      struct vfs_stat *out)
{
	return map_nt_error_from_unix(
		statx_at(dirfd, name, AT_SYMLINK_NOFOLLOW, out));
}

NTSTATUS vfs_set_times(int fd, const struct timespec *atime,
		       const struct timespec *mtime)
{
	struct timespec ts[2] = {
		{ .tv_nsec = UTIME_OMIT },
		{ .tv_nsec = UTIME_OMIT },
	};

	if (atime != NULL) {
		ts[0] = *atime;
	}
	if (mtime != NULL) {
		ts[1] = *mtime;
	}
	if (futimens(fd, ts) != 0) {
		return map_nt_error_from_unix(errno);
	}
	return NT_STATUS_OK;
}

NTSTATUS vfs_ftruncate(int fd, uint64_t size)
{
	if (size > (uint64_t)INT64_MAX) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (ftruncate(fd, (off_t)size) != 0) {
		return map_nt_error_from_unix(errno);
	}
	return NT_STATUS_OK;
}

NTSTATUS vfs_fallocate(int fd, uint64_t alloc_size)
{
	if (alloc_size == 0) {
		return NT_STATUS_OK;
	}
	if (alloc_size > (uint64_t)INT64_MAX) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)alloc_size) != 0) {
		return map_nt_error_from_unix(errno);
	}
	return NT_STATUS_OK;
}

NTSTATUS vfs_fsync(int fd)
{
	if (fsync(fd) != 0) {
		return map_nt_error_from_unix(errno);
	}
	return NT_STATUS_OK;
}

NTSTATUS vfs_statvfs(const struct vfs_share *share, struct statvfs *out)
{
	if (fstatvfs(share->root_fd, out) != 0) {
		return map_nt_error_from_unix(errno);
	}
	return NT_STATUS_OK;
}

NTSTATUS vfs_opendir(const struct vfs_share *share, const char *relpath,
		     int *dirfd_out)
{
	return vfs_openat(share, relpath, O_RDONLY | O_DIRECTORY, 0,
			  dirfd_out);
}

NTSTATUS vfs_rewinddir(int dirfd)
{
	if (lseek(dirfd, 0, SEEK_SET) == (off_t)-1) {
		return map_nt_error_from_unix(errno);
	}
	return NT_STATUS_OK;
}

/* Is dirfd the share root itself?  Then its ".." lies outside. */
static bool is_share_root(const struct vfs_share *share, int dirfd)
{
	struct stat a, b;

	if (fstat(dirfd, &a) != 0 || fstat(share->root_fd, &b) != 0) {
		return false;
	}
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Layout of what getdents64 returns (the kernel's linux_dirent64). */
struct dirent64_hdr {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

NTSTATUS vfs_readdir_batch(TALLOC_CTX *mem_ctx,
			   const struct vfs_share *share, int dirfd,
			   bool with_stat, struct vfs_dirent **entries,
			   size_t *count)
{
	size_t hdr = offsetof(struct dirent64_hdr, d_name);
	struct vfs_dirent *array;
	size_t n = 0, pos, max;
	char *buf;
	ssize_t len;
	int root_checked = -1; /* unknown */

	buf = malloc(READDIR_BUFSIZE);
	if (buf == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	len = getdents64(dirfd, buf, READDIR_BUFSIZE);
	if (len < 0) {
		NTSTATUS status = map_nt_error_from_unix(errno);

		free(buf);
		return status;
	}
	/* Each record holds at least a header and a NUL. */
	max = (size_t)len / (hdr + 1) + 1;
	array = talloc_zero_array(mem_ctx, struct vfs_dirent, max);
	if (array == NULL) {
		free(buf);
		return NT_STATUS_NO_MEMORY;
	}

	for (pos = 0; pos + hdr < (size_t)len;) {
		struct dirent64_hdr *d = (struct dirent64_hdr *)(buf + pos);
		size_t namemax;
		struct vfs_dirent *e;

		if (d->d_reclen <= hdr || pos + d->d_reclen > (size_t)len ||
		    n == max) {
			break; /* cannot happen with a sane kernel */
		}
		namemax = d->d_reclen - hdr;
		e = &array[n];
		e->name = talloc_strndup(array, d->d_name, namemax);
		if (e->name == NULL) {
			talloc_free(array);
			free(buf);
			return NT_STATUS_NO_MEMORY;
		}
		e->ino = d->d_ino;
		e->d_type = d->d_type;
		pos += d->d_reclen;
		n++;

		if (!with_stat) {
			continue;
		}
		if (strcmp(e->name, "..") == 0) {
			if (root_checked == -1) {
				root_checked = is_share_root(share, dirfd);
			}
		}
		if (strcmp(e->name, "..") == 0 && root_checked == 1) {
			e->stat_errno = statx_at(dirfd, "", AT_EMPTY_PATH,
						 &e->st);
		} else {
			e->stat_errno = statx_at(dirfd, e->name,
						 AT_SYMLINK_NOFOLLOW, &e->st);
		}
		e->stat_valid = e->stat_errno == 0;
	}
	free(buf);

	if (n == 0) {
		talloc_free(array);
		array = NULL;
	}
	*entries = array;
	*count = n;
	return NT_STATUS_OK;
}
