/*
 * Impersonation: running file-system calls as the session's unix user.
 *
 * A struct vfs_creds is the unix identity of an SMB session: uid, primary
 * gid and supplementary groups.  smbd builds one per session at
 * SESSION_SETUP with vfs_creds_from_user() and hands it to every job it
 * sends to the thread pool (threadpool.h); the worker thread switches to
 * it before running the job.
 *
 * Why per thread and with raw syscalls:
 *   On Linux the kernel keeps credentials per task (thread).  glibc's
 *   setresuid()/setresgid()/setgroups() implement the POSIX rule that
 *   credentials are per process: they signal every thread of the process
 *   (SIGSETXID) and make all of them change.  Calling the syscalls
 *   directly (syscall(SYS_setresuid, ...)) changes only the calling
 *   thread, so each worker can be a different user while the event-loop
 *   thread stays root.
 *
 * Why only the effective ids change:
 *   A worker sets euid/egid (and the supplementary groups) and keeps the
 *   real and saved ids at 0.  The kernel then drops the effective
 *   capabilities (the thread cannot override permissions) but keeps the
 *   permitted set, so the thread can return to root with
 *   setresuid(-1, 0, -1) and later become another user.  File access is
 *   checked with the fsuid/fsgid, which follow the effective ids.
 *
 * Why a failed switch refuses the job:
 *   If any of the calls fails half way, the thread could be left root, or
 *   with a mix of two users' ids.  vfs_impersonate() then reports failure
 *   and marks the thread's identity unknown; the pool does not run the
 *   job and fails it with EPERM.  Running a client's job as root would
 *   let the client bypass every permission on the share.
 *
 * The event-loop thread must never call vfs_impersonate(): it is for
 * worker threads only (threadpool.c).
 */
#ifndef SMBD_VFS_IMPERSONATE_H
#define SMBD_VFS_IMPERSONATE_H

#include <stdbool.h>
#include <sys/types.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

struct vfs_creds {
	uid_t uid;
	gid_t gid;		/* primary group */
	int ngroups;		/* number of entries in groups */
	gid_t *groups;		/* supplementary groups, talloc child of
				 * the struct; may include gid */
};

/*
 * Look up the unix user "name" (getpwnam_r + getgrouplist) and return its
 * identity as a new talloc child of mem_ctx.  Safe to call from the event
 * loop (it does not change any identity), but it may block on NSS.
 *
 * Returns NT_STATUS_NO_SUCH_USER if the user does not exist.
 */
NTSTATUS vfs_creds_from_user(TALLOC_CTX *mem_ctx, const char *name,
			     struct vfs_creds **out);

/* A deep copy of creds as a new talloc child of mem_ctx (NULL on ENOMEM). */
struct vfs_creds *vfs_creds_copy(TALLOC_CTX *mem_ctx,
				 const struct vfs_creds *creds);

/* Same uid, gid and the same group list (in the same order). */
bool vfs_creds_equal(const struct vfs_creds *a, const struct vfs_creds *b);

/*
 * Worker threads only.  Make the calling thread run as creds (NULL: as
 * root, the identity a worker starts with).  Nothing is changed when the
 * thread already has that identity.  Returns 0, or an errno value
 * (typically EPERM) when the switch failed; the thread's identity is then
 * unknown and the caller must not run the job (see above).
 */
int vfs_impersonate(const struct vfs_creds *creds);

#endif
