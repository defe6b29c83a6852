/*
 * Impersonation in worker threads.  Needs root (it creates the system
 * users smb3vfs1 and smb3vfs2 if they are missing); the tests that need
 * root are skipped, not passed, without it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "smbd/vfs/impersonate.h"
#include "smbd/vfs/threadpool.h"
#include "smbd/vfs/vfs_posix.h"

#define USER_A "smb3vfs1"
#define USER_B "smb3vfs2"

struct fixture {
	char dir[64];
	struct tevent_context *ev;
	struct vfs_pool *pool;
	struct vfs_share *share;
	struct vfs_creds *a, *b;
};

static void ensure_user(const char *name)
{
	char cmd[160];

	if (getpwnam(name) != NULL) {
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "useradd -M --system -s /usr/sbin/nologin %s", name);
	assert_int_equal(system(cmd), 0);
	assert_non_null(getpwnam(name));
}

static void main_thread_is_root(void)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	assert_int_equal(getresuid(&r, &e, &s), 0);
	assert_int_equal(getresgid(&rg, &eg, &sg), 0);
	assert_true(r == 0 && e == 0 && s == 0);
	assert_true(rg == 0 && eg == 0 && sg == 0);
}

static int setup(void **state)
{
	struct fixture *f;

	if (geteuid() != 0) {
		/* the group setup cannot skip; each test does */
		*state = NULL;
		return 0;
	}
	f = talloc_zero(NULL, struct fixture);
	ensure_user(USER_A);
	ensure_user(USER_B);
	strcpy(f->dir, "/tmp/vfs_imp_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* everybody may create here; files themselves are protected */
	assert_int_equal(chmod(f->dir, 0777), 0);
	f->ev = tevent_context_init(f);
	f->pool = vfs_pool_create(f, f->ev, 1); /* one worker: reuse */
	assert_non_null(f->pool);
	assert_true(NT_STATUS_IS_OK(
		vfs_share_open(f, f->dir, false, &f->share)));
	assert_true(NT_STATUS_IS_OK(vfs_creds_from_user(f, USER_A, &f->a)));
	assert_true(NT_STATUS_IS_OK(vfs_creds_from_user(f, USER_B, &f->b)));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (f == NULL) {
		return 0;
	}
	talloc_free(f->pool);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	talloc_free(f);
	return 0;
}

#define NEED_ROOT(f)                                                           \
	do {                                                                   \
		if ((f) == NULL) {                                             \
			print_message("not root: skipped\n");                  \
			skip();                                                \
		}                                                              \
	} while (0)

/* A job opening a file, reporting what the kernel saw in the thread. */
struct open_job {
	const struct vfs_share *share;
	const char *name;
	int flags;
	NTSTATUS status;
	uid_t euid;
	gid_t egid;
	struct vfs_stat st;
	bool ran;
};

static void open_job_fn(void *private_data)
{
	struct open_job *j = private_data;
	uid_t r, s;
	gid_t rg, sg;
	int fd = -1;

	j->ran = true;
	syscall(SYS_getresuid, &r, &j->euid, &s);
	syscall(SYS_getresgid, &rg, &j->egid, &sg);
	j->status = vfs_openat(j->share, j->name, j->flags, 0640, &fd);
	if (NT_STATUS_IS_OK(j->status)) {
		j->status = vfs_fstat(fd, &j->st);
		close(fd);
	}
}

static struct open_job *run_open(struct fixture *f,
				 const struct vfs_creds *creds,
				 const char *name, int flags, int *job_err)
{
	struct open_job *j = talloc_zero(f, struct open_job);
	struct tevent_req *req;

	j->share = f->share;
	j->name = name;
	j->flags = flags;
	j->status = NT_STATUS_INTERNAL_ERROR;
	req = vfs_job_send(f, f->ev, f->pool, creds, open_job_fn, j);
	assert_non_null(req);
	assert_true(tevent_req_poll(req, f->ev));
	*job_err = vfs_job_recv(req);
	talloc_free(req);
	return j;
}

static void make_private_file(struct fixture *f, const char *name,
			      const struct vfs_creds *owner)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, owner->uid, owner->gid), 0);
	assert_int_equal(fchmod(fd, 0600), 0);
	close(fd);
}

static void test_creds_from_user(void **state)
{
	struct fixture *f = *state;
	struct vfs_creds *c = NULL, *copy;
	struct passwd *pw;

	assert_true(NT_STATUS_EQUAL(
		vfs_creds_from_user(NULL, "no_such_user_smb3vfs", &c),
		NT_STATUS_NO_SUCH_USER));
	/* root exists everywhere */
	assert_true(NT_STATUS_IS_OK(vfs_creds_from_user(NULL, "root", &c)));
	assert_int_equal(c->uid, 0);
	assert_int_equal(c->gid, 0);
	assert_true(c->ngroups >= 1);
	copy = vfs_creds_copy(NULL, c);
	assert_true(vfs_creds_equal(c, copy));
	copy->uid = 1;
	assert_false(vfs_creds_equal(c, copy));
	talloc_free(copy);
	talloc_free(c);

	NEED_ROOT(f);
	pw = getpwnam(USER_A);
	assert_int_equal(f->a->uid, pw->pw_uid);
	assert_int_equal(f->a->gid, pw->pw_gid);
	assert_false(vfs_creds_equal(f->a, f->b));
}

static void test_user_cannot_open_others_file(void **state)
{
	struct fixture *f = *state;
	struct open_job *j;
	int err;

	NEED_ROOT(f);
	make_private_file(f, "b_private", f->b);

	j = run_open(f, f->a, "b_private", O_RDONLY, &err);
	assert_int_equal(err, 0);
	assert_true(j->ran);
	assert_int_equal(j->euid, f->a->uid);
	assert_int_equal(j->egid, f->a->gid);
	assert_true(NT_STATUS_EQUAL(j->status, NT_STATUS_ACCESS_DENIED));
	main_thread_is_root();

	/* the owner can, on the same worker thread */
	j = run_open(f, f->b, "b_private", O_RDONLY, &err);
	assert_int_equal(err, 0);
	assert_int_equal(j->euid, f->b->uid);
	assert_true(NT_STATUS_IS_OK(j->status));
	main_thread_is_root();

	/* and back to A: the switch happens again */
	j = run_open(f, f->a, "b_private", O_RDONLY, &err);
	assert_true(NT_STATUS_EQUAL(j->status, NT_STATUS_ACCESS_DENIED));

	/* server-internal work (NULL creds) runs as root again */
	j = run_open(f, NULL, "b_private", O_RDONLY, &err);
	assert_int_equal(err, 0);
	assert_int_equal(j->euid, 0);
	assert_true(NT_STATUS_IS_OK(j->status));
	main_thread_is_root();
}

static void test_created_file_owner(void **state)
{
	struct fixture *f = *state;
	struct open_job *j;
	struct stat st;
	char path[128];
	int err;

	NEED_ROOT(f);
	j = run_open(f, f->a, "a_created", O_CREAT | O_EXCL | O_WRONLY, &err);
	assert_int_equal(err, 0);
	assert_true(NT_STATUS_IS_OK(j->status));
	assert_int_equal(j->st.st.st_uid, f->a->uid);
	assert_int_equal(j->st.st.st_gid, f->a->gid);
	snprintf(path, sizeof(path), "%s/a_created", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, f->a->uid);
	assert_int_equal(st.st_mode & 0777, 0640);
	main_thread_is_root();
}

/* Two workers, two users, at the same time: credentials are per thread. */
struct together_job {
	pthread_barrier_t *barrier;
	uid_t euid_before, euid_after;
};

static void together_fn(void *private_data)
{
	struct together_job *j = private_data;
	uid_t r, s;

	syscall(SYS_getresuid, &r, &j->euid_before, &s);
	pthread_barrier_wait(j->barrier); /* both are impersonating now */
	usleep(20 * 1000);
	syscall(SYS_getresuid, &r, &j->euid_after, &s);
	pthread_barrier_wait(j->barrier);
}

static void test_two_users_concurrently(void **state)
{
	struct fixture *f = *state;
	struct together_job *ja, *jb;
	struct tevent_req *ra, *rb;
	struct vfs_pool *pool2;
	pthread_barrier_t barrier;

	NEED_ROOT(f);
	pool2 = vfs_pool_create(f, f->ev, 2);
	pthread_barrier_init(&barrier, NULL, 2);
	ja = talloc_zero(f, struct together_job);
	jb = talloc_zero(f, struct together_job);
	ja->barrier = jb->barrier = &barrier;
	ra = vfs_job_send(f, f->ev, pool2, f->a, together_fn, ja);
	rb = vfs_job_send(f, f->ev, pool2, f->b, together_fn, jb);
	assert_true(tevent_req_poll(ra, f->ev));
	assert_true(tevent_req_poll(rb, f->ev));
	assert_int_equal(vfs_job_recv(ra), 0);
	assert_int_equal(vfs_job_recv(rb), 0);
	assert_int_equal(ja->euid_before, f->a->uid);
	assert_int_equal(ja->euid_after, f->a->uid);
	assert_int_equal(jb->euid_before, f->b->uid);
	assert_int_equal(jb->euid_after, f->b->uid);
	main_thread_is_root();
	talloc_free(pool2);
	pthread_barrier_destroy(&barrier);
}

/* A switch that fails must not run the job (and never as root). */
static void test_failed_switch_refuses_job(void **state)
{
	struct fixture *f = *state;
	struct vfs_creds *bad;
	struct open_job *j;
	int err, i;

	NEED_ROOT(f);
	bad = vfs_creds_copy(f, f->a);
	/* more groups than the kernel accepts (NGROUPS_MAX 65536) */
	bad->ngroups = 70000;
	bad->groups = talloc_zero_array(bad, gid_t, bad->ngroups);
	for (i = 0; i < bad->ngroups; i++) {
		bad->groups[i] = (gid_t)(100000 + i);
	}
	j = run_open(f, bad, "b_private", O_RDONLY, &err);
	assert_int_equal(err, EPERM);
	assert_false(j->ran);
	main_thread_is_root();

	/* the worker recovers for the next job */
	j = run_open(f, f->a, "b_private", O_RDONLY, &err);
	assert_int_equal(err, 0);
	assert_int_equal(j->euid, f->a->uid);
	assert_true(NT_STATUS_EQUAL(j->status, NT_STATUS_ACCESS_DENIED));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_creds_from_user),
		cmocka_unit_test(test_user_cannot_open_others_file),
		cmocka_unit_test(test_created_file_owner),
		cmocka_unit_test(test_two_users_concurrently),
		cmocka_unit_test(test_failed_switch_refuses_job),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
