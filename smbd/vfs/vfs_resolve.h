/*
 * Internal to smbd/vfs: path resolution beneath a root directory fd.
 * Public callers use vfs_openat() (vfs_posix.h), which adds the NTSTATUS
 * mapping.
 */
#ifndef SMBD_VFS_VFS_RESOLVE_H
#define SMBD_VFS_VFS_RESOLVE_H

#include <stdbool.h>
#include <sys/types.h>

/* Symlinks followed during one resolution, as the kernel's MAXSYMLINKS. */
#define VFS_RESOLVE_MAX_SYMLINKS 40

/*
 * Open relpath ("" = the root) beneath root_fd like openat(2) would,
 * never leaving the tree below root_fd.  Returns 0 and sets *fd_out, or
 * an errno value: EXDEV for a path or symlink that would escape (also any
 * absolute symlink target), ELOOP for a symlink when !follow_symlinks
 * or too many symlinks, else what openat(2) returns.
 *
 * use_openat2: try openat2(2) first (falls back to the walk on ENOSYS
 * and on repeated EAGAIN from concurrent renames).
 */
int vfs_resolve_open(int root_fd, const char *relpath, int flags,
		     mode_t mode, bool follow_symlinks, bool use_openat2,
		     int *fd_out);

/*
 * Does openat2 with RESOLVE_BENEATH work on this kernel for root_fd?
 * false on ENOSYS (Linux < 5.6) and on EPERM (a seccomp filter that does
 * not know the syscall, as older container runtimes ship).
 */
bool vfs_resolve_have_openat2(int root_fd);

#endif
