/*
 * Stored NT ACLs: encoding, the trusted.* attribute, and the decisions of
 * CREATE / QUERY_INFO / SET_INFO.  See acl_store.h for why it is built
 * this way.
 */
#include "smbd/acl_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/acl_inherit.h"
#include "smbd/sec_desc.h"
#include "smbd/smb2_wire.h"
#include "smbd/smbd.h"
#include "smbd/vfs/impersonate.h"
#include "smbd/vfs/vfs_posix.h"

#define ACL_BLOB_MAGIC "S3NA"
#define ACL_HASH_SHA256 1
#define ACL_BLOB_MAX (ACL_BLOB_HEADER + 0x40000)

#define SEC_DIR_LIST 0x00000001
#define SEC_DIR_ADD_FILE 0x00000002
#define SEC_DIR_ADD_SUBDIR 0x00000004

#define ALL_SECINFO                                                            \
	(NT_SECINFO_OWNER | NT_SECINFO_GROUP | NT_SECINFO_DACL |               \
	 NT_SECINFO_SACL)

/* ---- encoding ---- */

NTSTATUS acl_blob_encode(TALLOC_CTX *mem_ctx, const struct nt_sd *sd,
			 uint8_t **blob, size_t *blob_len)
{
	uint8_t *sd_buf, *p;
	size_t sd_len;
	NTSTATUS status;

	status = nt_sd_encode(mem_ctx, sd, ALL_SECINFO, &sd_buf, &sd_len);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	p = talloc_zero_array(mem_ctx, uint8_t, ACL_BLOB_HEADER + sd_len);
	if (p == NULL) {
		talloc_free(sd_buf);
		return NT_STATUS_NO_MEMORY;
	}
	memcpy(p, ACL_BLOB_MAGIC, 4);
	PUSH_LE16(p, 4, ACL_BLOB_VERSION);
	PUSH_LE16(p, 6, ACL_HASH_SHA256);
	PUSH_LE32(p, 8, (uint32_t)sd_len);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, sd_buf, sd_len, p + 12) != 0) {
		talloc_free(sd_buf);
		talloc_free(p);
		return NT_STATUS_INTERNAL_ERROR;
	}
	memcpy(p + ACL_BLOB_HEADER, sd_buf, sd_len);
	talloc_free(sd_buf);
	*blob = p;
	*blob_len = ACL_BLOB_HEADER + sd_len;
	return NT_STATUS_OK;
}

NTSTATUS acl_blob_decode(TALLOC_CTX *mem_ctx, const uint8_t *blob,
			 size_t blob_len, struct nt_sd **sd)
{
	uint8_t hash[32];
	uint32_t sd_len;

	if (blob_len < ACL_BLOB_HEADER || memcmp(blob, ACL_BLOB_MAGIC, 4) != 0 ||
	    PULL_LE16(blob, 4) != ACL_BLOB_VERSION ||
	    PULL_LE16(blob, 6) != ACL_HASH_SHA256) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	sd_len = PULL_LE32(blob, 8);
	if (sd_len != blob_len - ACL_BLOB_HEADER) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, blob + ACL_BLOB_HEADER, sd_len,
			     hash) != 0 ||
	    memcmp(hash, blob + 12, sizeof(hash)) != 0) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	return nt_sd_parse(mem_ctx, blob + ACL_BLOB_HEADER, sd_len, sd);
}

/* ---- the attribute, as root for one syscall ---- */

static bool become_root(const struct vfs_creds *creds);

static void unbecome_root(const struct vfs_creds *creds)
{
	if (vfs_impersonate(creds) != 0) {
		/* The thread's identity is unknown (maybe root) and the
		 * rest of the client's job must not run with it. */
		DBG_ERR("cannot return worker to uid %u: aborting\n",
			creds != NULL ? (unsigned)creds->uid : 0);
		abort();
	}
}

static bool become_root(const struct vfs_creds *creds)
{
	if (vfs_impersonate(NULL) == 0) {
		return true;
	}
	unbecome_root(creds);
	return false;
}

static void fd_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

NTSTATUS acl_store_read(TALLOC_CTX *mem_ctx, int fd,
			const struct vfs_creds *creds, struct nt_sd **sd)
{
	uint8_t *blob;
	char path[64];
	ssize_t n;
	int err;
	NTSTATUS status;

	*sd = NULL;
	blob = talloc_size(mem_ctx, ACL_BLOB_MAX);
	if (blob == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	fd_path(fd, path, sizeof(path));
	if (!become_root(creds)) {
		talloc_free(blob);
		return NT_STATUS_ACCESS_DENIED;
	}
	n = getxattr(path, ACL_STORE_XATTR, blob, ACL_BLOB_MAX);
	err = errno;
	unbecome_root(creds);
	if (n < 0) {
		talloc_free(blob);
		if (err == ENODATA || err == ENOTSUP) {
			return NT_STATUS_OK;
		}
		if (err == ERANGE) {
			return NT_STATUS_INVALID_SECURITY_DESCR;
		}
		return map_nt_error_from_unix(err);
	}
	status = acl_blob_decode(mem_ctx, blob, (size_t)n, sd);
	talloc_free(blob);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("damaged %s on fd %d: %s\n", ACL_STORE_XATTR, fd,
			nt_errstr(status));
	}
	return status;
}

NTSTATUS acl_store_write(int fd, const struct vfs_creds *creds,
			 const struct nt_sd *sd)
{
	TALLOC_CTX *frame = talloc_new(NULL);
	uint8_t *blob;
	size_t len;
	char path[64];
	int rc, err;
	NTSTATUS status;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = acl_blob_encode(frame, sd, &blob, &len);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(frame);
		return status;
	}
	fd_path(fd, path, sizeof(path));
	if (!become_root(creds)) {
		talloc_free(frame);
		return NT_STATUS_ACCESS_DENIED;
	}
	rc = setxattr(path, ACL_STORE_XATTR, blob, len, 0);
	err = errno;
	unbecome_root(creds);
	talloc_free(frame);
	if (rc != 0) {
		DBG_NOTICE("storing %s: %s\n", ACL_STORE_XATTR, strerror(err));
		return err == ENOTSUP ? NT_STATUS_NOT_SUPPORTED
				      : map_nt_error_from_unix(err);
	}
	return NT_STATUS_OK;
}

/* ---- helpers ---- */

/* The descriptor the unix ownership and mode of fd stand for. */
static NTSTATUS unix_sd(TALLOC_CTX *mem_ctx, int fd, struct nt_sd **sd)
{
	struct vfs_stat vst;
	uint8_t *buf;
	size_t len;
	NTSTATUS status;

	status = vfs_fstat(fd, &vst);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = sec_desc_from_unix(mem_ctx, vst.st.st_uid, vst.st.st_gid,
				    vst.st.st_mode, S_ISDIR(vst.st.st_mode),
				    SECINFO_OWNER | SECINFO_GROUP |
					    SECINFO_DACL,
				    &buf, &len);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = nt_sd_parse(mem_ctx, buf, len, sd);
	talloc_free(buf);
	return status;
}

static bool is_overwrite(uint32_t disposition)
{
	return disposition == FILE_SUPERSEDE || disposition == FILE_OVERWRITE ||
	       disposition == FILE_OVERWRITE_IF;
}

/* ---- context ---- */

NTSTATUS acl_ctx_new(TALLOC_CTX *mem_ctx, struct smbd_session *session,
		     const uint8_t *secd, size_t secd_len,
		     struct acl_ctx **out)
{
	struct acl_ctx *ctx = talloc_zero(mem_ctx, struct acl_ctx);
	struct nt_token *token = smbd_session_token(session);
	NTSTATUS status;

	if (ctx == NULL || token == NULL) {
		talloc_free(ctx);
		return NT_STATUS_NO_MEMORY;
	}
	ctx->max_access = UINT32_MAX;
	ctx->token = nt_token_copy(ctx, token);
	ctx->creds = vfs_creds_copy(ctx, session->creds);
	if (ctx->token == NULL || ctx->creds == NULL) {
		talloc_free(ctx);
		return NT_STATUS_NO_MEMORY;
	}
	if (secd != NULL && secd_len > 0) {
		status = nt_sd_parse(ctx, secd, secd_len, &ctx->creator);
		if (!NT_STATUS_IS_OK(status)) {
			talloc_free(ctx);
			return NT_STATUS_INVALID_PARAMETER;
		}
		nt_acl_map_generic_file(ctx->creator->dacl);
		nt_acl_map_generic_file(ctx->creator->sacl);
		if ((ctx->creator->control & NT_SD_SACL_PRESENT) &&
		    !ctx->token->is_root) {
			talloc_free(ctx);
			return NT_STATUS_PRIVILEGE_NOT_HELD;
		}
	}
	*out = ctx;
	return NT_STATUS_OK;
}

uint32_t acl_open_max_access(const struct acl_ctx *ctx)
{
	return ctx != NULL ? ctx->max_access : UINT32_MAX;
}

/*
 * What the parent directory of relpath grants (its stored descriptor, or
 * the one its unix mode stands for), for the rights NTFS derives from the
 * parent: DELETE from FILE_DELETE_CHILD, FILE_READ_ATTRIBUTES from
 * FILE_LIST_DIRECTORY.
 */
static uint32_t parent_rights(struct acl_ctx *ctx,
			      const struct vfs_share *share,
			      const char *relpath)
{
	TALLOC_CTX *frame = talloc_new(ctx);
	struct nt_sd *psd = NULL;
	const char *last;
	uint32_t granted = 0;
	int dirfd = -1;

	if (frame == NULL || relpath[0] == '\0' ||
	    !NT_STATUS_IS_OK(vfs_open_parent(share, relpath, &dirfd, &last))) {
		goto out;
	}
	if (!NT_STATUS_IS_OK(acl_store_read(frame, dirfd, ctx->creds, &psd))) {
		goto out;
	}
	if (psd == NULL && !NT_STATUS_IS_OK(unix_sd(frame, dirfd, &psd))) {
		goto out;
	}
	granted = nt_access_maximum(psd, ctx->token);
out:
	if (dirfd != -1) {
		close(dirfd);
	}
	talloc_free(frame);
	return granted;
}

NTSTATUS acl_open_existing(struct acl_ctx *ctx, const struct vfs_share *share,
			   const char *relpath, int pfd, uint32_t disposition,
			   uint32_t access)
{
	struct nt_sd *sd = NULL;
	uint32_t desired, granted = 0, maximum;
	NTSTATUS status;

	if (ctx == NULL || disposition == FILE_CREATE) {
		return NT_STATUS_OK;
	}
	status = acl_store_read(ctx, pfd, ctx->creds, &sd);
	if (!NT_STATUS_IS_OK(status) || sd == NULL) {
		return status;
	}
	ctx->have_sd = true;
	desired = nt_map_generic_file(access);
	if (is_overwrite(disposition)) {
		desired |= SEC_FILE_WRITE_DATA;
	}
	maximum = nt_access_maximum(sd, ctx->token);
	if ((~maximum & (SEC_STD_DELETE | SEC_FILE_READ_ATTRIBUTE)) &
	    (desired | ((desired & SEC_FLAG_MAXIMUM_ALLOWED)
				? (SEC_STD_DELETE | SEC_FILE_READ_ATTRIBUTE)
				: 0))) {
		uint32_t parent = parent_rights(ctx, share, relpath);
		if (parent & SEC_DIR_DELETE_CHILD) {
			maximum |= SEC_STD_DELETE;
		}
		if (parent & SEC_DIR_LIST) {
			maximum |= SEC_FILE_READ_ATTRIBUTE;
		}
	}
	ctx->max_access = maximum;
	talloc_free(sd);

	granted = maximum;
	desired &= ~SEC_FLAG_MAXIMUM_ALLOWED;
	if ((desired & ~granted) != 0 ||
	    ((access & SEC_FLAG_MAXIMUM_ALLOWED) && granted == 0)) {
		DBG_DEBUG("'%s': 0x%08x wanted, 0x%08x allowed\n", relpath,
			  desired, granted);
		return NT_STATUS_ACCESS_DENIED;
	}
	return NT_STATUS_OK;
}

NTSTATUS acl_create_check(struct acl_ctx *ctx, const struct vfs_share *share,
			  const char *relpath, bool is_dir)
{
	const struct nt_sid *owner;
	const char *last;
	uint32_t granted;
	int dirfd = -1;
	NTSTATUS status;

	if (ctx == NULL) {
		return NT_STATUS_OK;
	}
	owner = ctx->creator != NULL ? ctx->creator->owner : NULL;
	if (owner != NULL && !ctx->token->is_root &&
	    !nt_token_has_sid(ctx->token, owner)) {
		return NT_STATUS_INVALID_OWNER;
	}
	TALLOC_FREE(ctx->parent_sd);
	status = vfs_open_parent(share, relpath, &dirfd, &last);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = acl_store_read(ctx, dirfd, ctx->creds, &ctx->parent_sd);
	close(dirfd);
	if (!NT_STATUS_IS_OK(status) || ctx->parent_sd == NULL) {
		return status;
	}
	return nt_access_check(ctx->parent_sd, ctx->token,
			       is_dir ? SEC_DIR_ADD_SUBDIR : SEC_DIR_ADD_FILE,
			       &granted);
}

NTSTATUS acl_create_store(struct acl_ctx *ctx, int fd, bool is_dir)
{
	TALLOC_CTX *frame;
	struct nt_sd *def = NULL, *sd = NULL;
	NTSTATUS status;

	if (ctx == NULL || (ctx->parent_sd == NULL && ctx->creator == NULL)) {
		return NT_STATUS_OK;
	}
	frame = talloc_new(ctx);
	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = unix_sd(frame, fd, &def);
	if (NT_STATUS_IS_OK(status)) {
		status = acl_create_descriptor(frame, ctx->parent_sd,
					       ctx->creator, is_dir, ctx->token,
					       def->dacl, &sd);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = acl_store_write(fd, ctx->creds, sd);
	}
	talloc_free(frame);
	return status;
}

NTSTATUS acl_query(TALLOC_CTX *mem_ctx, struct acl_ctx *ctx, int fd,
		   bool is_dir, struct nt_sd **sd)
{
	NTSTATUS status;

	(void)is_dir;
	status = acl_store_read(mem_ctx, fd, ctx->creds, sd);
	if (!NT_STATUS_IS_OK(status) || *sd != NULL) {
		return status;
	}
	return unix_sd(mem_ctx, fd, sd);
}

#define DACL_CONTROL                                                           \
	(NT_SD_DACL_PRESENT | NT_SD_DACL_DEFAULTED |                           \
	 NT_SD_DACL_AUTO_INHERIT_REQ | NT_SD_DACL_AUTO_INHERITED |             \
	 NT_SD_DACL_PROTECTED)
#define SACL_CONTROL                                                           \
	(NT_SD_SACL_PRESENT | NT_SD_SACL_DEFAULTED |                           \
	 NT_SD_SACL_AUTO_INHERIT_REQ | NT_SD_SACL_AUTO_INHERITED |             \
	 NT_SD_SACL_PROTECTED)

/*
 * The control bits a SET keeps for one ACL (what Windows shows,
 * smb2.acls.INHERITFLAGS): PROTECTED as sent; AUTO_INHERITED only when
 * sent together with AUTO_INHERIT_REQ, which itself is never stored.
 */
static uint16_t set_control(uint16_t sent, uint16_t protected_bit,
			    uint16_t inherited_bit, uint16_t req_bit)
{
	uint16_t keep = sent & protected_bit;

	if ((sent & (inherited_bit | req_bit)) == (inherited_bit | req_bit)) {
		keep |= inherited_bit;
	}
	return keep;
}

NTSTATUS acl_set(struct acl_ctx *ctx, int fd, bool is_dir, const uint8_t *buf,
		 size_t len, uint32_t secinfo)
{
	TALLOC_CTX *frame = talloc_new(ctx);
	struct nt_sd *given = NULL, *cur = NULL;
	NTSTATUS status;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = nt_sd_parse(frame, buf, len, &given);
	if (!NT_STATUS_IS_OK(status)) {
		goto out;
	}
	if (!(secinfo & ALL_SECINFO)) {
		goto out; /* nothing this server keeps (labels...) */
	}
	status = acl_query(frame, ctx, fd, is_dir, &cur);
	if (!NT_STATUS_IS_OK(status)) {
		goto out;
	}
	cur->control |= NT_SD_SELF_RELATIVE;
	if ((secinfo & NT_SECINFO_OWNER) && given->owner != NULL) {
		if (!ctx->token->is_root &&
		    !nt_sid_equal(given->owner, &ctx->token->user)) {
			status = NT_STATUS_INVALID_OWNER;
			goto out;
		}
		cur->owner = talloc_move(cur, &given->owner);
	}
	if ((secinfo & NT_SECINFO_GROUP) && given->group != NULL) {
		cur->group = talloc_move(cur, &given->group);
	}
	nt_acl_map_generic_file(given->dacl);
	nt_acl_map_generic_file(given->sacl);
	if (secinfo & NT_SECINFO_DACL) {
		/* no DACL_PRESENT in what was sent: a NULL DACL */
		cur->control &= ~DACL_CONTROL;
		cur->control |= set_control(given->control, NT_SD_DACL_PROTECTED,
					    NT_SD_DACL_AUTO_INHERITED,
					    NT_SD_DACL_AUTO_INHERIT_REQ) |
				NT_SD_DACL_PRESENT;
		cur->dacl = talloc_move(cur, &given->dacl);
	}
	if (secinfo & NT_SECINFO_SACL) {
		cur->control &= ~SACL_CONTROL;
		cur->control |= set_control(given->control, NT_SD_SACL_PROTECTED,
					    NT_SD_SACL_AUTO_INHERITED,
					    NT_SD_SACL_AUTO_INHERIT_REQ) |
				(given->control & NT_SD_SACL_PRESENT);
		cur->sacl = talloc_move(cur, &given->sacl);
	}
	status = acl_store_write(fd, ctx->creds, cur);
out:
	talloc_free(frame);
	return status;
}
