/*
 * Per-thread impersonation with raw syscalls; see impersonate.h for why.
 */
#include "smbd/vfs/impersonate.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util/debug.h"

/* 32-bit architectures kept the 16-bit-id syscalls under the old names. */
#ifdef SYS_setresuid32
#define SYSNO_SETRESUID SYS_setresuid32
#define SYSNO_SETRESGID SYS_setresgid32
#define SYSNO_SETGROUPS SYS_setgroups32
#define SYSNO_GETRESUID SYS_getresuid32
#else
#define SYSNO_SETRESUID SYS_setresuid
#define SYSNO_SETRESGID SYS_setresgid
#define SYSNO_SETGROUPS SYS_setgroups
#define SYSNO_GETRESUID SYS_getresuid
#endif

NTSTATUS vfs_creds_from_user(TALLOC_CTX *mem_ctx, const char *name,
			     struct vfs_creds **out)
{
	TALLOC_CTX *frame = talloc_new(mem_ctx);
	struct passwd pwbuf, *pw = NULL;
	struct vfs_creds *creds;
	size_t buflen = 1024;
	char *buf;
	int ngroups = 16;
	gid_t *groups;
	int ret;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (;;) {
		buf = talloc_array(frame, char, buflen);
		if (buf == NULL) {
			talloc_free(frame);
			return NT_STATUS_NO_MEMORY;
		}
		ret = getpwnam_r(name, &pwbuf, buf, buflen, &pw);
		if (ret != ERANGE || buflen >= 1024 * 1024) {
			break;
		}
		buflen *= 2;
	}
	if (ret != 0 || pw == NULL) {
		DBG_INFO("unix user '%s': %s\n", name,
			 ret != 0 ? strerror(ret) : "not found");
		talloc_free(frame);
		return NT_STATUS_NO_SUCH_USER;
	}

	for (;;) {
		int n = ngroups;

		groups = talloc_array(frame, gid_t, n);
		if (groups == NULL) {
			talloc_free(frame);
			return NT_STATUS_NO_MEMORY;
		}
		/* -1 with ngroups updated to the needed size if too small */
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) >= 0) {
			ngroups = n;
			break;
		}
		if (n <= ngroups || n > NGROUPS_MAX) {
			DBG_ERR("getgrouplist(%s) failed\n", name);
			talloc_free(frame);
			return NT_STATUS_NO_SUCH_USER;
		}
		ngroups = n;
	}

	creds = talloc_zero(mem_ctx, struct vfs_creds);
	if (creds == NULL) {
		talloc_free(frame);
		return NT_STATUS_NO_MEMORY;
	}
	creds->uid = pw->pw_uid;
	creds->gid = pw->pw_gid;
	creds->ngroups = ngroups;
	creds->groups = talloc_steal(creds, groups);
	talloc_free(frame);
	*out = creds;
	return NT_STATUS_OK;
}

struct vfs_creds *vfs_creds_copy(TALLOC_CTX *mem_ctx,
				 const struct vfs_creds *creds)
{
	struct vfs_creds *c = talloc_zero(mem_ctx, struct vfs_creds);

	if (c == NULL) {
		return NULL;
	}
	c->uid = creds->uid;
	c->gid = creds->gid;
	c->ngroups = creds->ngroups;
	if (creds->ngroups > 0) {
		c->groups = talloc_memdup(c, creds->groups,
					  sizeof(gid_t) * creds->ngroups);
		if (c->groups == NULL) {
			talloc_free(c);
			return NULL;
		}
	}
	return c;
}

bool vfs_creds_equal(const struct vfs_creds *a, const struct vfs_creds *b)
{
	if (a->uid != b->uid || a->gid != b->gid ||
	    a->ngroups != b->ngroups) {
		return false;
	}
	if (a->ngroups == 0) {
		return true;
	}
	return memcmp(a->groups, b->groups, sizeof(gid_t) * a->ngroups) == 0;
}

/*
 * What the kernel holds for this thread, so that a worker running many
 * jobs of one session switches once.  Kept in thread-local storage because
 * it mirrors per-thread kernel state.  The groups buffer is a fixed size:
 * identities with more groups are never cached and always re-applied.
 */
enum thread_identity_kind { THREAD_ROOT = 0, THREAD_USER, THREAD_UNKNOWN };

#define CACHED_GROUPS_MAX 64

static __thread struct {
	enum thread_identity_kind kind;
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[CACHED_GROUPS_MAX];
} thread_identity;

static bool thread_is(const struct vfs_creds *creds)
{
	if (creds == NULL) {
		return thread_identity.kind == THREAD_ROOT;
	}
	if (thread_identity.kind != THREAD_USER ||
	    creds->ngroups > CACHED_GROUPS_MAX) {
		return false;
	}
	return thread_identity.uid == creds->uid &&
	       thread_identity.gid == creds->gid &&
	       thread_identity.ngroups == creds->ngroups &&
	       (creds->ngroups == 0 ||
		memcmp(thread_identity.groups, creds->groups,
		       sizeof(gid_t) * creds->ngroups) == 0);
}

static int set_euid(uid_t uid)
{
	if (syscall(SYSNO_SETRESUID, (uid_t)-1, uid, (uid_t)-1) != 0) {
		return errno;
	}
	return 0;
}

static int set_egid(gid_t gid)
{
	if (syscall(SYSNO_SETRESGID, (gid_t)-1, gid, (gid_t)-1) != 0) {
		return errno;
	}
	return 0;
}

static int set_groups(int ngroups, const gid_t *groups)
{
	if (syscall(SYSNO_SETGROUPS, (size_t)ngroups, groups) != 0) {
		return errno;
	}
	return 0;
}

/* Trust, but verify: a silent no-op would run the job as root. */
static int check_euid(uid_t want)
{
	uid_t r, e, s;

	if (syscall(SYSNO_GETRESUID, &r, &e, &s) != 0) {
		return errno;
	}
	return e == want ? 0 : EPERM;
}

int vfs_impersonate(const struct vfs_creds *creds)
{
	int err;

	if (thread_is(creds)) {
		return 0;
	}

	/* Back to root first: only root may set another user's ids. */
	err = set_euid(0);
	if (err != 0) {
		thread_identity.kind = THREAD_UNKNOWN;
		DBG_ERR("cannot return worker thread to root: %s\n",
			strerror(err));
		return err;
	}
	thread_identity.kind = THREAD_UNKNOWN;

	if (creds == NULL) {
		err = set_groups(0, NULL);
		if (err == 0) {
			err = set_egid(0);
		}
		if (err != 0) {
			DBG_ERR("cannot reset worker groups: %s\n",
				strerror(err));
			return err;
		}
		thread_identity.kind = THREAD_ROOT;
		return 0;
	}

	if (creds->ngroups < 0 ||
	    (creds->ngroups > 0 && creds->groups == NULL)) {
		return EINVAL;
	}
	/* Order matters: groups and gid need root, the uid goes last. */
	err = set_groups(creds->ngroups, creds->groups);
	if (err == 0) {
		err = set_egid(creds->gid);
	}
	if (err == 0) {
		err = set_euid(creds->uid);
	}
	if (err == 0) {
		err = check_euid(creds->uid);
	}
	if (err != 0) {
		DBG_ERR("cannot become uid %u gid %u: %s\n",
			(unsigned)creds->uid, (unsigned)creds->gid,
			strerror(err));
		/* Best effort; the identity stays "unknown" either way, so
		 * the next job re-applies everything from root. */
		(void)set_euid(0);
		return err;
	}

	thread_identity.kind = THREAD_USER;
	thread_identity.uid = creds->uid;
	thread_identity.gid = creds->gid;
	thread_identity.ngroups = creds->ngroups;
	if (creds->ngroups <= CACHED_GROUPS_MAX && creds->ngroups > 0) {
		memcpy(thread_identity.groups, creds->groups,
		       sizeof(gid_t) * creds->ngroups);
	}
	return 0;
}
