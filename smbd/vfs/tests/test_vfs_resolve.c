/*
 * Path resolution beneath a share root: every way out must fail, every
 * way that stays inside must work, with openat2 and with the walk.
 *
 * Layout built in a temp dir:
 *   outside/secret                        (must never be reachable)
 *   share/file.txt                        "file"
 *   share/dir/sub/inner.txt               "inner"
 *   share/link_inside      -> dir/sub/inner.txt
 *   share/link_dir_inside  -> dir
 *   share/link_passwd      -> /etc/passwd
 *   share/link_abs_in      -> <abs path of share>/file.txt
 *   share/link_up          -> ../outside/secret
 *   share/chain1 -> chain2 -> dir/../chain3 -> ../outside/secret
 *   share/link_dir_out     -> ../outside
 *   share/dir/link_rel_out -> ../../outside
 *   share/dangling_out     -> ../outside/created
 *   share/dangling_in      -> created_in
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "smbd/vfs/vfs_posix.h"

struct fixture {
	char top[64];
	char share_path[128];
	char outside_path[128];
	struct vfs_share *share;
};

static void write_file(const char *path, const char *content)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)),
			 (ssize_t)strlen(content));
	close(fd);
}

static void mk_link(struct fixture *f, const char *target, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->share_path, name);
	assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state)
{
	struct fixture *f = talloc_zero(NULL, struct fixture);
	char path[256];

	strcpy(f->top, "/tmp/vfs_resolve_XXXXXX");
	assert_non_null(mkdtemp(f->top));
	snprintf(f->share_path, sizeof(f->share_path), "%s/share", f->top);
	snprintf(f->outside_path, sizeof(f->outside_path), "%s/outside",
		 f->top);
	assert_int_equal(mkdir(f->share_path, 0755), 0);
	assert_int_equal(mkdir(f->outside_path, 0755), 0);
	snprintf(path, sizeof(path), "%s/secret", f->outside_path);
	write_file(path, "secret");
	snprintf(path, sizeof(path), "%s/file.txt", f->share_path);
	write_file(path, "file");
	snprintf(path, sizeof(path), "%s/dir", f->share_path);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/dir/sub", f->share_path);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/dir/sub/inner.txt", f->share_path);
	write_file(path, "inner");

	mk_link(f, "dir/sub/inner.txt", "link_inside");
	mk_link(f, "dir", "link_dir_inside");
	mk_link(f, "/etc/passwd", "link_passwd");
	snprintf(path, sizeof(path), "%s/file.txt", f->share_path);
	mk_link(f, path, "link_abs_in");
	mk_link(f, "../outside/secret", "link_up");
	mk_link(f, "chain2", "chain1");
	mk_link(f, "dir/../chain3", "chain2");
	mk_link(f, "../outside/secret", "chain3");
	mk_link(f, "../outside", "link_dir_out");
	mk_link(f, "../../outside", "dir/link_rel_out");
	mk_link(f, "../outside/created", "dangling_out");
	mk_link(f, "created_in", "dangling_in");

	assert_true(NT_STATUS_IS_OK(
		vfs_share_open(f, f->share_path, true, &f->share)));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->top);
	assert_int_equal(system(cmd), 0);
	talloc_free(f);
	return 0;
}

/* Both resolvers, both symlink policies. */
struct mode {
	bool no_openat2;
	bool follow;
};
static const struct mode modes[] = {
	{ false, true }, { true, true }, { false, false }, { true, false },
};
#define FOR_EACH_MODE(f, m)                                                    \
	for (const struct mode *m = modes;                                     \
	     m < modes + sizeof(modes) / sizeof(modes[0]) &&                   \
	     ((f)->share->no_openat2 = m->no_openat2,                          \
	     (f)->share->follow_symlinks = m->follow, 1);                      \
	     m++)

static NTSTATUS try_open(struct fixture *f, const char *rel, int flags)
{
	NTSTATUS status;
	int fd = -1;

	status = vfs_openat(f->share, rel, flags, 0644, &fd);
	if (NT_STATUS_IS_OK(status)) {
		assert_true(fd >= 0);
		close(fd);
	}
	return status;
}

static void read_back(struct fixture *f, const char *rel, const char *want)
{
	char buf[64] = "";
	int fd = -1;
	ssize_t n;
	NTSTATUS status = vfs_openat(f->share, rel, O_RDONLY, 0, &fd);

	if (!NT_STATUS_IS_OK(status)) {
		fail_msg("open %s: %s (openat2=%d follow=%d)", rel,
			 nt_errstr(status), !f->share->no_openat2,
			 f->share->follow_symlinks);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

#define assert_status(x, want)                                                 \
	do {                                                                   \
		NTSTATUS _s = (x);                                             \
		if (!NT_STATUS_EQUAL(_s, want)) {                              \
			fail_msg("%s: got %s want %s (openat2=%d follow=%d)",  \
				 #x, nt_errstr(_s), nt_errstr(want),           \
				 !f->share->no_openat2,                        \
				 f->share->follow_symlinks);                   \
		}                                                              \
	} while (0)

static bool outside_exists(struct fixture *f, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->outside_path, name);
	return lstat(path, &st) == 0;
}

static void test_inside_paths(void **state)
{
	struct fixture *f = *state;

	FOR_EACH_MODE(f, m)
	{
		assert_status(try_open(f, "", O_RDONLY | O_DIRECTORY),
			      NT_STATUS_OK);
		read_back(f, "file.txt", "file");
		read_back(f, "dir/sub/inner.txt", "inner");
		read_back(f, "dir/../file.txt", "file");
		read_back(f, "./dir/./sub/../sub/inner.txt", "inner");
		assert_status(try_open(f, "dir/sub/", O_RDONLY), NT_STATUS_OK);
	}
}

static void test_dotdot_escapes(void **state)
{
	struct fixture *f = *state;

	FOR_EACH_MODE(f, m)
	{
		assert_status(try_open(f, "..", O_RDONLY),
			      NT_STATUS_ACCESS_DENIED);
		assert_status(try_open(f, "../outside/secret", O_RDONLY),
			      NT_STATUS_ACCESS_DENIED);
		assert_status(try_open(f, "dir/../../outside/secret",
				       O_RDONLY),
			      NT_STATUS_ACCESS_DENIED);
		assert_status(try_open(f, "dir/sub/../../../share/file.txt",
				       O_RDONLY),
			      NT_STATUS_ACCESS_DENIED);
		assert_status(try_open(f, "../outside/new",
				       O_CREAT | O_WRONLY),
			      NT_STATUS_ACCESS_DENIED);
		assert_false(outside_exists(f, "new"));
	}
}

static void test_absolute_paths(void **state)
{
	struct fixture *f = *state;
	char path[256];

	snprintf(path, sizeof(path), "%s/file.txt", f->share_path);
	FOR_EACH_MODE(f, m)
	{
		/* [MS-SMB2] 3.3.5.9: a name starting with a separator */
		assert_status(try_open(f, "/etc/passwd", O_RDONLY),
			      NT_STATUS_INVALID_PARAMETER);
		assert_status(try_open(f, path, O_RDONLY),
			      NT_STATUS_INVALID_PARAMETER);
	}
}

static void test_symlinks_out(void **state)
{
	struct fixture *f = *state;

	FOR_EACH_MODE(f, m)
	{
		/* Following is refused because the target is outside;
		 * not following refuses any symlink. */
		NTSTATUS want = m->follow ? NT_STATUS_ACCESS_DENIED
					  : NT_STATUS_OBJECT_PATH_NOT_FOUND;

		assert_status(try_open(f, "link_passwd", O_RDONLY), want);
		assert_status(try_open(f, "link_up", O_RDONLY), want);
		assert_status(try_open(f, "chain1", O_RDONLY), want);
		assert_status(try_open(f, "link_abs_in", O_RDONLY), want);
		assert_status(try_open(f, "link_dir_out/secret", O_RDONLY),
			      want);
		assert_status(try_open(f, "dir/link_rel_out/secret",
				       O_RDONLY),
			      want);
		assert_status(try_open(f, "link_dir_out", O_RDONLY), want);
		/* Creating through a link must not create outside. */
		assert_status(try_open(f, "link_dir_out/created2",
				       O_CREAT | O_WRONLY),
			      want);
		assert_false(outside_exists(f, "created2"));
		assert_status(try_open(f, "dangling_out", O_CREAT | O_WRONLY),
			      want);
		assert_false(outside_exists(f, "created"));
		/* Truncating through a link must not touch the target. */
		assert_status(try_open(f, "link_up", O_WRONLY | O_TRUNC),
			      want);
	}
	/* secret still intact */
	{
		char path[256], buf[16] = "";
		int fd;

		snprintf(path, sizeof(path), "%s/secret", f->outside_path);
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(read(fd, buf, sizeof(buf)), 6);
		close(fd);
		assert_memory_equal(buf, "secret", 6);
	}
}

static void test_symlinks_inside(void **state)
{
	struct fixture *f = *state;

	FOR_EACH_MODE(f, m)
	{
		if (m->follow) {
			read_back(f, "link_inside", "inner");
			assert_status(try_open(f, "link_dir_inside/",
					       O_RDONLY),
				      NT_STATUS_OK);
			assert_status(try_open(f, "link_inside/", O_RDONLY),
				      NT_STATUS_NOT_A_DIRECTORY);
			read_back(f, "link_dir_inside/sub/inner.txt", "inner");
		} else {
			assert_status(try_open(f, "link_inside", O_RDONLY),
				      NT_STATUS_OBJECT_PATH_NOT_FOUND);
			assert_status(try_open(f,
					       "link_dir_inside/sub/inner.txt",
					       O_RDONLY),
				      NT_STATUS_OBJECT_PATH_NOT_FOUND);
		}
		/* O_PATH|O_NOFOLLOW names the link itself in every mode */
		{
			struct vfs_stat st;
			int fd = -1;

			assert_status(vfs_openat(f->share, "link_up",
						 O_PATH | O_NOFOLLOW, 0, &fd),
				      NT_STATUS_OK);
			assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
			assert_true(S_ISLNK(st.st.st_mode));
			close(fd);
		}
	}
	/* Creating through a dangling link that stays inside works when
	 * following, like a local open(2). */
	f->share->follow_symlinks = true;
	f->share->no_openat2 = true;
	assert_status(try_open(f, "dangling_in", O_CREAT | O_WRONLY),
		      NT_STATUS_OK);
	read_back(f, "created_in", "");
}

static void test_not_found_codes(void **state)
{
	struct fixture *f = *state;

	FOR_EACH_MODE(f, m)
	{
		assert_status(try_open(f, "nope", O_RDONLY),
			      NT_STATUS_OBJECT_NAME_NOT_FOUND);
		assert_status(try_open(f, "nodir/x", O_RDONLY),
			      NT_STATUS_OBJECT_PATH_NOT_FOUND);
		assert_status(try_open(f, "file.txt/x", O_RDONLY),
			      NT_STATUS_OBJECT_PATH_NOT_FOUND);
		assert_status(try_open(f, "file.txt", O_RDONLY | O_DIRECTORY),
			      NT_STATUS_NOT_A_DIRECTORY);
		assert_status(try_open(f, "file.txt",
				       O_CREAT | O_EXCL | O_WRONLY),
			      NT_STATUS_OBJECT_NAME_COLLISION);
	}
}

static void test_parent_ops(void **state)
{
	struct fixture *f = *state;
	const char *last = NULL;
	int dirfd = -1;

	FOR_EACH_MODE(f, m)
	{
		NTSTATUS out = m->follow ? NT_STATUS_ACCESS_DENIED
					 : NT_STATUS_OBJECT_PATH_NOT_FOUND;

		assert_status(vfs_open_parent(f->share, "dir/sub/x", &dirfd,
					      &last),
			      NT_STATUS_OK);
		assert_string_equal(last, "x");
		close(dirfd);
		assert_status(vfs_open_parent(f->share, "", &dirfd, &last),
			      NT_STATUS_OBJECT_NAME_INVALID);
		assert_status(vfs_open_parent(f->share, "dir/..", &dirfd,
					      &last),
			      NT_STATUS_OBJECT_NAME_INVALID);
		assert_status(vfs_open_parent(f->share, "../x", &dirfd,
					      &last),
			      NT_STATUS_ACCESS_DENIED);

		assert_status(vfs_mkdirat(f->share, "newdir", 0755),
			      NT_STATUS_OK);
		assert_status(vfs_mkdirat(f->share, "newdir", 0755),
			      NT_STATUS_OBJECT_NAME_COLLISION);
		assert_status(vfs_mkdirat(f->share, "link_dir_out/evil", 0755),
			      out);
		assert_false(outside_exists(f, "evil"));
		assert_status(vfs_unlinkat(f->share, "newdir", true),
			      NT_STATUS_OK);
		assert_status(vfs_unlinkat(f->share, "link_dir_out/secret",
					   false),
			      out);
		assert_true(outside_exists(f, "secret"));
		assert_status(vfs_unlinkat(f->share, "dir", true),
			      NT_STATUS_DIRECTORY_NOT_EMPTY);
		assert_status(vfs_unlinkat(f->share, "missing", false),
			      NT_STATUS_OBJECT_NAME_NOT_FOUND);
	}
}

static void test_rename(void **state)
{
	struct fixture *f = *state;

	FOR_EACH_MODE(f, m)
	{
		NTSTATUS out = m->follow ? NT_STATUS_ACCESS_DENIED
					 : NT_STATUS_OBJECT_PATH_NOT_FOUND;

		assert_status(try_open(f, "r1", O_CREAT | O_WRONLY),
			      NT_STATUS_OK);
		/* out of the share: by "..", by a directory symlink */
		assert_status(vfs_renameat(f->share, "r1", "../outside/stolen",
					   true),
			      NT_STATUS_ACCESS_DENIED);
		assert_status(vfs_renameat(f->share, "r1",
					   "link_dir_out/stolen", true),
			      out);
		assert_status(vfs_renameat(f->share, "r1",
					   "dir/link_rel_out/stolen", false),
			      out);
		assert_false(outside_exists(f, "stolen"));
		/* and from outside into the share */
		assert_status(vfs_renameat(f->share, "link_dir_out/secret",
					   "got_secret", true),
			      out);
		assert_true(outside_exists(f, "secret"));

		/* inside: no-replace collides, replace replaces */
		assert_status(vfs_renameat(f->share, "r1", "dir/r2", false),
			      NT_STATUS_OK);
		assert_status(try_open(f, "r1", O_CREAT | O_WRONLY),
			      NT_STATUS_OK);
		assert_status(vfs_renameat(f->share, "r1", "dir/r2", false),
			      NT_STATUS_OBJECT_NAME_COLLISION);
		assert_status(vfs_renameat(f->share, "r1", "dir/r2", true),
			      NT_STATUS_OK);
		assert_status(vfs_unlinkat(f->share, "dir/r2", false),
			      NT_STATUS_OK);
		/* a symlink is renamed as itself, never through */
		assert_status(vfs_renameat(f->share, "link_up", "link_up2",
					   false),
			      NT_STATUS_OK);
		assert_status(vfs_renameat(f->share, "link_up2", "link_up",
					   false),
			      NT_STATUS_OK);
		assert_true(outside_exists(f, "secret"));
	}
}

static void test_readdir(void **state)
{
	struct fixture *f = *state;
	struct vfs_stat root_st;
	struct vfs_dirent *ents;
	size_t count, i, total = 0;
	bool seen_file = false, seen_dir = false, seen_link = false;
	bool seen_dotdot = false;
	int dirfd;

	f->share->follow_symlinks = true;
	assert_status(vfs_opendir(f->share, "", &dirfd), NT_STATUS_OK);
	assert_status(vfs_fstat(dirfd, &root_st), NT_STATUS_OK);
	for (;;) {
		assert_status(vfs_readdir_batch(f, f->share, dirfd, true,
						&ents, &count),
			      NT_STATUS_OK);
		if (count == 0) {
			break;
		}
		for (i = 0; i < count; i++) {
			struct vfs_dirent *e = &ents[i];

			total++;
			if (strcmp(e->name, "file.txt") == 0) {
				seen_file = true;
				assert_true(e->stat_valid);
				assert_true(S_ISREG(e->st.st.st_mode));
				assert_int_equal(e->st.st.st_size, 4);
			}
			if (strcmp(e->name, "dir") == 0) {
				seen_dir = true;
				assert_true(S_ISDIR(e->st.st.st_mode));
			}
			if (strcmp(e->name, "link_passwd") == 0) {
				seen_link = true;
				/* lstat: the link, not /etc/passwd */
				assert_true(S_ISLNK(e->st.st.st_mode));
			}
			if (strcmp(e->name, "..") == 0) {
				seen_dotdot = true;
				/* stat'ed as the root itself */
				assert_int_equal(e->st.st.st_ino,
						 root_st.st.st_ino);
			}
		}
		talloc_free(ents);
	}
	assert_true(seen_file && seen_dir && seen_link && seen_dotdot);
	assert_true(total >= 10);

	/* restart gives the same listing */
	assert_status(vfs_rewinddir(dirfd), NT_STATUS_OK);
	assert_status(vfs_readdir_batch(f, f->share, dirfd, false, &ents,
					&count),
		      NT_STATUS_OK);
	assert_int_equal(count, total);
	talloc_free(ents);
	close(dirfd);

	assert_status(vfs_opendir(f->share, "link_dir_out", &dirfd),
		      NT_STATUS_ACCESS_DENIED);
}

static void test_file_calls(void **state)
{
	struct fixture *f = *state;
	struct timespec mt = { .tv_sec = 1000000000, .tv_nsec = 500 };
	struct vfs_stat st, st2;
	struct statvfs sv;
	int fd = -1;

	assert_status(vfs_openat(f->share, "calls", O_CREAT | O_RDWR, 0644,
				 &fd),
		      NT_STATUS_OK);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_int_equal(st.st.st_size, 0);
	if (!st.btime_valid) {
		print_message("note: no birth time on this file system\n");
	}

	assert_status(vfs_ftruncate(fd, 12345), NT_STATUS_OK);
	assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
	assert_int_equal(st.st.st_size, 12345);
	assert_status(vfs_ftruncate(fd, UINT64_MAX),
		      NT_STATUS_INVALID_PARAMETER);

	/* only mtime; atime stays */
	assert_status(vfs_set_times(fd, NULL, &mt), NT_STATUS_OK);
	assert_status(vfs_fstat(fd, &st2), NT_STATUS_OK);
	assert_int_equal(st2.st.st_mtim.tv_sec, mt.tv_sec);
	assert_int_equal(st2.st.st_mtim.tv_nsec, mt.tv_nsec);
	assert_int_equal(st2.st.st_atim.tv_sec, st.st.st_atim.tv_sec);
	assert_int_equal(st2.st.st_atim.tv_nsec, st.st.st_atim.tv_nsec);

	{
		NTSTATUS s = vfs_fallocate(fd, 1024 * 1024);

		assert_true(NT_STATUS_IS_OK(s) ||
			    NT_STATUS_EQUAL(s, NT_STATUS_NOT_SUPPORTED));
		assert_status(vfs_fstat(fd, &st), NT_STATUS_OK);
		assert_int_equal(st.st.st_size, 12345); /* KEEP_SIZE */
		if (NT_STATUS_IS_OK(s)) {
			assert_true(st.st.st_blocks * 512 >= 1024 * 1024);
		}
	}
	assert_status(vfs_fsync(fd), NT_STATUS_OK);
	close(fd);
	assert_status(vfs_fsync(fd), NT_STATUS_INVALID_HANDLE);
	assert_status(vfs_statvfs(f->share, &sv), NT_STATUS_OK);
	assert_true(sv.f_blocks > 0);
}

/* Make openat2 fail with ENOSYS in this process, as on Linux < 5.6. */
static int deny_openat2(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		return -1;
	}
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* In a child without openat2: detection, then the ENOSYS fallback at run
 * time (the flag forced off), and the escapes still fail. */
static void test_kernel_without_openat2(void **state)
{
	struct fixture *f = *state;
	pid_t pid;
	int wstatus;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vfs_share *share = NULL;
		int fd = -1, bad = 0;

		if (deny_openat2() != 0) {
			_exit(2);
		}
		if (syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0) != -1 ||
		    errno != ENOSYS) {
			_exit(3);
		}
		if (!NT_STATUS_IS_OK(vfs_share_open(NULL, f->share_path, true,
						    &share))) {
			_exit(4);
		}
		bad |= !share->no_openat2;
		share->no_openat2 = false; /* take the ENOSYS path */
		bad |= !NT_STATUS_IS_OK(vfs_openat(share, "link_inside",
						   O_RDONLY, 0, &fd));
		close(fd);
		bad |= !NT_STATUS_EQUAL(vfs_openat(share, "link_up", O_RDONLY,
						   0, &fd),
					NT_STATUS_ACCESS_DENIED);
		bad |= !NT_STATUS_EQUAL(vfs_openat(share, "../outside/secret",
						   O_RDONLY, 0, &fd),
					NT_STATUS_ACCESS_DENIED);
		bad |= !NT_STATUS_EQUAL(vfs_openat(share, "link_dir_out/secret",
						   O_RDONLY, 0, &fd),
					NT_STATUS_ACCESS_DENIED);
		talloc_free(share);
		_exit(bad ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus));
	assert_int_equal(WEXITSTATUS(wstatus), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside_paths),
		cmocka_unit_test(test_dotdot_escapes),
		cmocka_unit_test(test_absolute_paths),
		cmocka_unit_test(test_symlinks_out),
		cmocka_unit_test(test_symlinks_inside),
		cmocka_unit_test(test_not_found_codes),
		cmocka_unit_test(test_parent_ops),
		cmocka_unit_test(test_rename),
		cmocka_unit_test(test_readdir),
		cmocka_unit_test(test_file_calls),
		cmocka_unit_test(test_kernel_without_openat2),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
