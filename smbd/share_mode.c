#include "smbd/share_mode.h"

#include <string.h>

#include "lib/param/loadparm.h"
#include "smbd/streams.h"

/* Only these rights take part in share-mode checks ([MS-FSA]
 * 2.1.5.1.2): an open for attributes alone never conflicts. */
#define SHARE_RELEVANT_ACCESS                                                  \
	(SEC_FILE_READ_DATA | SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA |     \
	 SEC_FILE_EXECUTE | SEC_STD_DELETE)

static bool same_file(const struct smbd_open *op, const struct smbd_tcon *tcon,
		      const char *relpath, const char *stream)
{
	const char *op_stream;

	if (op->relpath == NULL || strcmp(op->relpath, relpath) != 0) {
		return false;
	}
	if (op->tcon != tcon &&
	    (op->tcon->share == NULL || tcon->share == NULL ||
	     op->tcon->share->path == NULL || tcon->share->path == NULL ||
	     strcmp(op->tcon->share->path, tcon->share->path) != 0)) {
		return false;
	}
	op_stream = smbd_open_stream(op);
	if (stream == NULL || op_stream == NULL) {
		return stream == op_stream;
	}
	return strcasecmp(op_stream, stream) == 0;
}

static bool access_conflicts(uint32_t access, uint32_t other_share)
{
	if ((access & (SEC_FILE_READ_DATA | SEC_FILE_EXECUTE)) &&
	    !(other_share & FILE_SHARE_READ)) {
		return true;
	}
	if ((access & (SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA)) &&
	    !(other_share & FILE_SHARE_WRITE)) {
		return true;
	}
	if ((access & SEC_STD_DELETE) && !(other_share & FILE_SHARE_DELETE)) {
		return true;
	}
	return false;
}

struct share_check {
	const struct smbd_tcon *tcon;
	const char *relpath;
	const char *stream;
	uint32_t access;
	uint32_t share_access;
	NTSTATUS status;
	unsigned count;
	const struct smbd_open *exclude;
};

static void share_check_one(struct smbd_open *op, void *private_data)
{
	struct share_check *c = private_data;

	if (op == c->exclude ||
	    !same_file(op, c->tcon, c->relpath, c->stream)) {
		return;
	}
	c->count++;
	if (!NT_STATUS_IS_OK(c->status)) {
		return;
	}
	if (op->delete_pending) {
		c->status = NT_STATUS_DELETE_PENDING;
		return;
	}
	if (!(op->access_mask & SHARE_RELEVANT_ACCESS) ||
	    !(c->access & SHARE_RELEVANT_ACCESS)) {
		return;
	}
	if (access_conflicts(c->access, op->share_access) ||
	    access_conflicts(op->access_mask, c->share_access)) {
		c->status = NT_STATUS_SHARING_VIOLATION;
	}
}

NTSTATUS smbd_share_mode_check(struct smbd_client *client,
			       const struct smbd_tcon *tcon,
			       const char *relpath, const char *stream,
			       uint32_t access, uint32_t share_access)
{
	struct share_check c = {
		.tcon = tcon,
		.relpath = relpath,
		.stream = stream,
		.access = access,
		.share_access = share_access,
		.status = NT_STATUS_OK,
	};

	smbd_open_foreach(client, share_check_one, &c);
	return c.status;
}

unsigned smbd_share_mode_other_opens(struct smbd_client *client,
				     const struct smbd_open *op)
{
	struct share_check c = {
		.tcon = op->tcon,
		.relpath = op->relpath,
		.stream = smbd_open_stream(op),
		.status = NT_STATUS_OK,
		.exclude = op,
	};

	if (op->relpath == NULL) {
		return 0;
	}
	smbd_open_foreach(client, share_check_one, &c);
	return c.count;
}

struct parent_search {
	const struct smbd_open *child;
	const char *parent;
	size_t parent_len;
	bool found;
};

static void parent_delete_one(struct smbd_open *op, void *private_data)
{
	struct parent_search *p = private_data;

	if (p->found || op == p->child || !op->is_dir || op->relpath == NULL ||
	    !(op->access_mask & SEC_STD_DELETE) ||
	    strlen(op->relpath) != p->parent_len ||
	    strncmp(op->relpath, p->parent, p->parent_len) != 0 ||
	    !same_file(op, p->child->tcon, op->relpath, smbd_open_stream(op))) {
		return;
	}
	p->found = true;
}

bool smbd_share_mode_parent_open_for_delete(struct smbd_client *client,
					    const struct smbd_open *op)
{
	struct parent_search p = { .child = op };
	const char *slash;

	if (op->relpath == NULL || op->relpath[0] == '\0') {
		return false;
	}
	slash = strrchr(op->relpath, '/');
	p.parent = op->relpath;
	p.parent_len = slash != NULL ? (size_t)(slash - op->relpath) : 0;
	smbd_open_foreach(client, parent_delete_one, &p);
	return p.found;
}
