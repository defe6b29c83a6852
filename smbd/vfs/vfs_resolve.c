/*
 * Resolution beneath a root directory fd.  openat2(2) does it in the
 * kernel; the walk below gives the same answers on kernels without it.
 *
 * The walk's invariants, which are what keeps it inside the root:
 *   - every component is opened relative to a directory fd we hold, with
 *     O_NOFOLLOW, so the kernel never follows a symlink for us;
 *   - ".." pops our own stack of directory fds and fails with EXDEV at
 *     the root, so it never reaches the kernel (which would happily go
 *     above the root, and where a concurrent rename could move a
 *     directory we hold outside the share);
 *   - a symlink's target is read from the O_PATH fd of that very link and
 *     spliced in front of the remaining path; absolute targets fail with
 *     EXDEV, as with RESOLVE_BENEATH.
 * Runs on worker threads: malloc only, no talloc.
 */
#include "smbd/vfs/vfs_resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* How often to retry openat2 when a concurrent rename or mount made the
 * kernel give up (EAGAIN), before walking instead. */
#define OPENAT2_EAGAIN_RETRIES 8

struct walk {
	int root_fd;
	int *dirs; /* owned directory fds below the root, innermost last */
	size_t depth;
	size_t cap;
};

static int walk_cur(const struct walk *w)
{
	return w->depth == 0 ? w->root_fd : w->dirs[w->depth - 1];
}

static int walk_push(struct walk *w, int fd)
{
	if (w->depth == w->cap) {
		size_t cap = w->cap == 0 ? 16 : w->cap * 2;
		int *dirs = realloc(w->dirs, cap * sizeof(int));

		if (dirs == NULL) {
			return ENOMEM;
		}
		w->dirs = dirs;
		w->cap = cap;
	}
	w->dirs[w->depth++] = fd;
	return 0;
}

static void walk_pop(struct walk *w)
{
	close(w->dirs[--w->depth]);
}

static void walk_free(struct walk *w)
{
	while (w->depth > 0) {
		walk_pop(w);
	}
	free(w->dirs);
}

/*
 * Read the symlink (dirfd, name) and return in *newpath its target
 * followed by the rest of the path still to resolve.  A '/' joins them
 * when rest is not empty or when the link was named as "link/" (which
 * requires a directory: with_slash).
 */
static int splice_symlink(int dirfd, const char *name, const char *rest,
			  bool with_slash, unsigned *hops, char **newpath)
{
	char target[PATH_MAX];
	size_t restlen = strlen(rest);
	ssize_t n;
	char *p;

	if (++*hops > VFS_RESOLVE_MAX_SYMLINKS) {
		return ELOOP;
	}
	n = readlinkat(dirfd, name, target, sizeof(target));
	if (n < 0) {
		return errno;
	}
	if ((size_t)n >= sizeof(target)) {
		return ENAMETOOLONG;
	}
	if (n == 0) {
		return ENOENT;
	}
	target[n] = '\0';
	if (target[0] == '/') {
		return EXDEV;
	}
	if ((size_t)n + restlen + 2 > PATH_MAX) {
		return ENAMETOOLONG;
	}
	p = malloc((size_t)n + restlen + 2);
	if (p == NULL) {
		return ENOMEM;
	}
	memcpy(p, target, (size_t)n);
	if (restlen > 0 || with_slash) {
		p[n++] = '/';
	}
	memcpy(p + n, rest, restlen + 1);
	*newpath = p;
	return 0;
}

static bool only_slashes(const char *s)
{
	while (*s == '/') {
		s++;
	}
	return *s == '\0';
}

static int walk_open(int root_fd, const char *relpath, int flags,
		     mode_t mode, bool follow_symlinks, int *fd_out)
{
	struct walk w = { .root_fd = root_fd };
	unsigned hops = 0;
	char *path = strdup(relpath);
	char *p = path;
	int err = 0;

	if (path == NULL) {
		return ENOMEM;
	}
	for (;;) {
		char *comp, *slash, *rest, *newpath = NULL;
		struct stat st;
		bool last;
		int fd;

		while (*p == '/') {
			p++;
		}
		if (*p == '\0') {
			/* The path ended on a directory we hold. */
			fd = openat(walk_cur(&w), ".", flags | O_CLOEXEC, mode);
			if (fd < 0) {
				err = errno;
			} else {
				*fd_out = fd;
			}
			break;
		}

		comp = p;
		slash = strchr(p, '/');
		if (slash != NULL) {
			*slash = '\0';
			rest = slash + 1;
		} else {
			rest = p + strlen(p);
		}
		last = only_slashes(rest);

		if (strcmp(comp, ".") == 0) {
			p = rest;
			continue;
		}
		if (strcmp(comp, "..") == 0) {
			if (w.depth == 0) {
				err = EXDEV;
				break;
			}
			walk_pop(&w);
			p = rest;
			continue;
		}

		if (!last) {
			fd = openat(walk_cur(&w), comp,
				    O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				err = errno;
				break;
			}
			if (fstat(fd, &st) != 0) {
				err = errno;
				close(fd);
				break;
			}
			if (S_ISDIR(st.st_mode)) {
				err = walk_push(&w, fd);
				if (err != 0) {
					close(fd);
					break;
				}
				p = rest;
				continue;
			}
			if (!S_ISLNK(st.st_mode)) {
				close(fd);
				err = ENOTDIR;
				break;
			}
			err = follow_symlinks
				      ? splice_symlink(fd, "", rest, true,
						       &hops, &newpath)
				      : ELOOP;
			close(fd);
		} else {
			int lflags = flags | O_NOFOLLOW | O_CLOEXEC;

			/* "name/" must be a directory, as for open(2). */
			if (slash != NULL && !(flags & O_CREAT)) {
				lflags |= O_DIRECTORY;
			}
			fd = openat(walk_cur(&w), comp, lflags, mode);
			if (fd >= 0 && (flags & O_PATH) &&
			    !(flags & O_NOFOLLOW)) {
				/* O_PATH|O_NOFOLLOW opened the link itself */
				if (fstat(fd, &st) != 0) {
					err = errno;
					close(fd);
					break;
				}
				if (S_ISLNK(st.st_mode)) {
					err = follow_symlinks
						      ? splice_symlink(
								fd, "", rest,
								slash != NULL,
								&hops,
								&newpath)
						      : ELOOP;
					close(fd);
					if (err != 0) {
						break;
					}
					free(path);
					path = p = newpath;
					continue;
				}
			}
			if (fd >= 0) {
				*fd_out = fd;
				err = 0;
				break;
			}
			err = errno;
			if ((err != ELOOP && err != ENOTDIR) ||
			    (flags & O_NOFOLLOW)) {
				break;
			}
			if (fstatat(walk_cur(&w), comp, &st,
				    AT_SYMLINK_NOFOLLOW) != 0 ||
			    !S_ISLNK(st.st_mode)) {
				break;
			}
			err = follow_symlinks
				      ? splice_symlink(walk_cur(&w), comp, rest,
						       slash != NULL, &hops,
						       &newpath)
				      : ELOOP;
		}
		if (err != 0) {
			break;
		}
		/* Go on with the link's target, relative to the directory
		 * that holds the link (the current one). */
		free(path);
		path = p = newpath;
	}
	free(path);
	walk_free(&w);
	return err;
}

static int openat2_open(int root_fd, const char *relpath, int flags,
			mode_t mode, bool follow_symlinks, int *fd_out)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	const char *path = relpath[0] == '\0' ? "." : relpath;
	int tries;
	long fd;

	/* openat2 refuses a mode without a flag that uses it. */
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		how.mode = mode;
	}
	if (!follow_symlinks) {
		how.resolve |= RESOLVE_NO_SYMLINKS;
	}
	for (tries = 0; tries < OPENAT2_EAGAIN_RETRIES; tries++) {
		fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
		if (fd >= 0) {
			*fd_out = (int)fd;
			return 0;
		}
		if (errno != EAGAIN) {
			return errno;
		}
	}
	return EAGAIN;
}

int vfs_resolve_open(int root_fd, const char *relpath, int flags,
		     mode_t mode, bool follow_symlinks, bool use_openat2,
		     int *fd_out)
{
	if (relpath[0] == '/') {
		return EXDEV;
	}
	if (use_openat2) {
		int err = openat2_open(root_fd, relpath, flags, mode,
				       follow_symlinks, fd_out);

		if (err != ENOSYS && err != EAGAIN) {
			return err;
		}
	}
	return walk_open(root_fd, relpath, flags, mode, follow_symlinks,
			 fd_out);
}

bool vfs_resolve_have_openat2(int root_fd)
{
	int fd = -1;
	int err = openat2_open(root_fd, "", O_PATH | O_DIRECTORY, 0, false,
			       &fd);

	if (err == 0) {
		close(fd);
		return true;
	}
	return err != ENOSYS && err != EPERM;
}
