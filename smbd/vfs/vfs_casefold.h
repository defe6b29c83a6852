/*
 * Case-insensitive name resolution beneath a share root.
 *
 * Windows names are case-insensitive and case-preserving; a POSIX file
 * system is case-sensitive.  A client that created "Foo.TXT" and now
 * opens "foo.txt" must reach the same file (Samba's "case sensitive =
 * auto", its default, behaves this way for Windows clients).
 *
 * vfs_casefold_resolve() turns a client path into the spelling on disk,
 * one component at a time:
 *   - a component that exists with the client's exact spelling is kept
 *     (the exact match always wins: with "a" and "A" both on disk, "a"
 *     opens "a" and "A" opens "A");
 *   - otherwise the directory is scanned (getdents on a directory fd
 *     opened beneath the share root, vfs_opendir/vfs_readdir_batch) for
 *     names that name_equal() calls equal; when several case variants
 *     exist (created locally or by a case-sensitive client) and none is
 *     exact, the one whose bytes sort first (strcmp) is taken, so the
 *     choice is the same on every lookup and every node, whatever order
 *     the file system lists them in;
 *   - from the first component that exists in no spelling on, the rest
 *     of the path is kept as the client spelled it: a CREATE then makes
 *     the new name exactly as asked, inside the existing (resolved)
 *     parent directories.
 * The result is only a spelling: the caller opens it with vfs_openat()
 * and friends, which enforce the beneath-the-root rules as for any path
 * (this module never opens anything outside the root either: each
 * directory it scans is opened with vfs_opendir(), and names from the
 * scan are single components, never "." or "..").
 *
 * Cost: one O_PATH open of the whole path when it exists as spelled (the
 * common case); otherwise, per missing component, one fstatat and one
 * scan of that directory.  A CREATE of a new name therefore scans its
 * parent once, as in Samba.
 *
 * Threads: runs system calls as the calling thread's user, so call it in
 * a VFS job (threadpool.h) as the session user, like everything in
 * vfs_posix.h.  Thread-safe; allocates on mem_ctx (the job's memory).
 */
#ifndef SMBD_VFS_VFS_CASEFOLD_H
#define SMBD_VFS_VFS_CASEFOLD_H

#include <stdbool.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"
#include "smbd/vfs/vfs_posix.h"

/* Are two single name components equal, ignoring case?  The NT layer
 * passes fscc_name_equal_ci() (smbd/fscc_info.h): the VFS does not define
 * what "case" means for SMB names. */
typedef bool (*vfs_name_equal_fn)(const char *a, const char *b);

/*
 * Resolve relpath ('/'-separated, normalised as for vfs_openat(); ""
 * is the root) case-insensitively.  *resolved (talloc'ed on mem_ctx) is
 * relpath with every existing component replaced by its spelling on
 * disk, see above; it equals relpath when nothing needed folding.
 *
 * Errors: NT_STATUS_NO_MEMORY only.  Problems met on the way (a
 * directory that cannot be listed, a component that is not a directory,
 * an escape attempt) are not errors here: resolution stops and the rest
 * keeps the client's spelling, so that the caller's own open reports
 * the right status for that path.
 */
NTSTATUS vfs_casefold_resolve(TALLOC_CTX *mem_ctx,
			      const struct vfs_share *share,
			      const char *relpath, vfs_name_equal_fn name_equal,
			      char **resolved);

/*
 * Find name in the directory relpath_dir (already resolved) without
 * regard to case: *found (talloc'ed on mem_ctx) is the spelling on disk
 * (exact match first, else the byte-wise smallest variant), or NULL when
 * no variant exists.  Same error convention as vfs_casefold_resolve().
 */
NTSTATUS vfs_casefold_find(TALLOC_CTX *mem_ctx, const struct vfs_share *share,
			   const char *relpath_dir, const char *name,
			   vfs_name_equal_fn name_equal, char **found);

#endif
