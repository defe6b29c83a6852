/*
 * Case-insensitive lookup of client paths beneath the share root.
 * Rules and cost: vfs_casefold.h.
 */
#include "smbd/vfs/vfs_casefold.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_dot_or_dotdot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* Scan the open directory dirfd for case variants of name; *best is the
 * byte-wise smallest (talloc'ed on mem_ctx) or stays NULL. */
static NTSTATUS scan_for_variant(TALLOC_CTX *mem_ctx,
				 const struct vfs_share *share, int dirfd,
				 const char *name, vfs_name_equal_fn name_equal,
				 char **best)
{
	for (;;) {
		TALLOC_CTX *batch_ctx = talloc_new(mem_ctx);
		struct vfs_dirent *entries = NULL;
		size_t count = 0, i;
		NTSTATUS status;

		if (batch_ctx == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		status = vfs_readdir_batch(batch_ctx, share, dirfd, false,
					   &entries, &count);
		if (!NT_STATUS_IS_OK(status) || count == 0) {
			/* an unreadable directory just has no variants:
			 * the caller's open reports what is wrong */
			talloc_free(batch_ctx);
			return NT_STATUS_EQUAL(status, NT_STATUS_NO_MEMORY)
				       ? status
				       : NT_STATUS_OK;
		}
		for (i = 0; i < count; i++) {
			const char *cand = entries[i].name;

			if (is_dot_or_dotdot(cand) || !name_equal(cand, name)) {
				continue;
			}
			if (*best == NULL || strcmp(cand, *best) < 0) {
				char *copy = talloc_strdup(mem_ctx, cand);

				if (copy == NULL) {
					talloc_free(batch_ctx);
					return NT_STATUS_NO_MEMORY;
				}
				talloc_free(*best);
				*best = copy;
			}
		}
		talloc_free(batch_ctx);
	}
}

NTSTATUS vfs_casefold_find(TALLOC_CTX *mem_ctx, const struct vfs_share *share,
			   const char *relpath_dir, const char *name,
			   vfs_name_equal_fn name_equal, char **found)
{
	struct stat st;
	NTSTATUS status;
	int dirfd = -1;

	*found = NULL;
	if (name[0] == '\0' || strchr(name, '/') != NULL) {
		return NT_STATUS_OK;
	}
	if (is_dot_or_dotdot(name)) {
		/* never looked up here: vfs_openat() judges these */
		*found = talloc_strdup(mem_ctx, name);
		return *found != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	}
	status = vfs_opendir(share, relpath_dir, &dirfd);
	if (!NT_STATUS_IS_OK(status)) {
		return NT_STATUS_OK;
	}
	/* a single component relative to a directory fd that is beneath the
	 * root, not followed: an existence test that cannot leave the root */
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		close(dirfd);
		*found = talloc_strdup(mem_ctx, name);
		return *found != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	}
	status = scan_for_variant(mem_ctx, share, dirfd, name, name_equal,
				  found);
	close(dirfd);
	return status;
}

/* dir + "/" + name, or name at the root */
static char *join(TALLOC_CTX *mem_ctx, const char *dir, const char *name)
{
	if (dir[0] == '\0') {
		return talloc_strdup(mem_ctx, name);
	}
	return talloc_asprintf(mem_ctx, "%s/%s", dir, name);
}

NTSTATUS vfs_casefold_resolve(TALLOC_CTX *mem_ctx,
			      const struct vfs_share *share,
			      const char *relpath, vfs_name_equal_fn name_equal,
			      char **resolved)
{
	TALLOC_CTX *frame;
	char *copy, *component, *rest, *prefix;
	NTSTATUS status;
	int fd = -1;

	*resolved = NULL;
	if (relpath[0] == '\0' || relpath[0] == '/') {
		/* the root, or a path vfs_openat() refuses anyway */
		*resolved = talloc_strdup(mem_ctx, relpath);
		return *resolved != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	}
	/* the common case: the path exists exactly as spelled */
	status = vfs_openat(share, relpath, O_PATH | O_NOFOLLOW, 0, &fd);
	if (NT_STATUS_IS_OK(status)) {
		close(fd);
		*resolved = talloc_strdup(mem_ctx, relpath);
		return *resolved != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	}

	frame = talloc_new(mem_ctx);
	copy = frame != NULL ? talloc_strdup(frame, relpath) : NULL;
	prefix = frame != NULL ? talloc_strdup(frame, "") : NULL;
	if (copy == NULL || prefix == NULL) {
		talloc_free(frame);
		return NT_STATUS_NO_MEMORY;
	}
	rest = copy;
	while (rest != NULL) {
		char *slash = strchr(rest, '/');
		char *found = NULL;

		component = rest;
		if (slash != NULL) {
			*slash = '\0';
			rest = slash + 1;
		} else {
			rest = NULL;
		}
		status = vfs_casefold_find(frame, share, prefix, component,
					   name_equal, &found);
		if (!NT_STATUS_IS_OK(status)) {
			talloc_free(frame);
			return status;
		}
		if (found == NULL) {
			/* missing in any case: the rest as the client wrote
			 * it (slash restored) */
			if (slash != NULL) {
				*slash = '/';
			}
			prefix = join(frame, prefix, component);
			break;
		}
		prefix = join(frame, prefix, found);
		if (prefix == NULL) {
			break;
		}
	}
	if (prefix == NULL) {
		talloc_free(frame);
		return NT_STATUS_NO_MEMORY;
	}
	*resolved = talloc_steal(mem_ctx, prefix);
	talloc_free(frame);
	return NT_STATUS_OK;
}
