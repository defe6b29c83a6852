/*
 * TREE_CONNECT and TREE_DISCONNECT ([MS-SMB2] 2.2.9-2.2.12, 3.3.5.7,
 * 3.3.5.8): find the share, apply "valid users", "invalid users",
 * "guest ok" and "read only", and open the share root.
 */
#include "smbd/smbd.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>

#include "lib/param/loadparm.h"
#include "lib/util/byteorder.h"
#include "lib/util/charset.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "smbd/smbXsrv_global.h"
#include "smbd/tcon_registry.h"
#include "smbd/vfs/impersonate.h"
#include "smbd/vfs/vfs_posix.h"

/* Is gid one of the session user's groups? */
static bool creds_have_gid(const struct vfs_creds *creds, gid_t gid)
{
	int i;

	if (creds->gid == gid) {
		return true;
	}
	for (i = 0; i < creds->ngroups; i++) {
		if (creds->groups[i] == gid) {
			return true;
		}
	}
	return false;
}

/*
 * Samba's user list syntax: a name matches the SMB account or the unix
 * user; "@group" or "+group" matches members of a unix group.
 */
static bool user_in_list(const struct smbd_session *session,
			 char *const *list)
{
	size_t i;

	if (list == NULL) {
		return false;
	}
	for (i = 0; list[i] != NULL; i++) {
		const char *name = list[i];

		if (name[0] == '@' || name[0] == '+') {
			struct group *gr = getgrnam(name + 1);

			if (gr != NULL &&
			    creds_have_gid(session->creds, gr->gr_gid)) {
				return true;
			}
			continue;
		}
		if (strcasecmp(name, session->account) == 0 ||
		    (session->unix_user != NULL &&
		     strcmp(name, session->unix_user) == 0)) {
			return true;
		}
	}
	return false;
}

static NTSTATUS share_access_check(const struct smbd_session *session,
				   const struct smb_conf_share *share)
{
	if ((session->guest || session->anonymous) && !share->guest_ok) {
		return NT_STATUS_ACCESS_DENIED;
	}
	if (user_in_list(session, share->invalid_users)) {
		return NT_STATUS_ACCESS_DENIED;
	}
	if (share->valid_users != NULL && share->valid_users[0] != NULL &&
	    !user_in_list(session, share->valid_users)) {
		return NT_STATUS_ACCESS_DENIED;
	}
	return NT_STATUS_OK;
}

/* "\\server\share" -> "share" (talloc on mem_ctx). */
static char *share_name_from_path(TALLOC_CTX *mem_ctx, const uint8_t *path,
				  uint16_t len)
{
	char *full = utf16le_to_utf8(mem_ctx, path, len);
	char *p;

	if (full == NULL) {
		return NULL;
	}
	if (full[0] != '\\' || full[1] != '\\') {
		return NULL;
	}
	p = strchr(full + 2, '\\');
	if (p == NULL || p[1] == '\0' || strchr(p + 1, '\\') != NULL) {
		return NULL;
	}
	return talloc_strdup(mem_ctx, p + 1);
}

NTSTATUS smbd_smb2_tree_connect(struct smbd_request *req)
{
	struct smbd_session *session = req->session;
	const struct smb_conf *conf = req->conn->client->conf;
	const uint8_t *b = req->in_body;
	uint16_t path_ofs = PULL_LE16(b, 4);
	uint16_t path_len = PULL_LE16(b, 6);
	const uint8_t *path;
	const struct smb_conf_share *share = NULL;
	struct smbd_tcon *tcon;
	char *name;
	uint8_t *out;
	bool is_ipc;
	NTSTATUS status;

	/* The 3.1.1 tree connect extension (flag 0x0004) moves the path
	 * into an extension structure: not supported, ask plainly. */
	if (req->conn->dialect == SMB2_DIALECT_REVISION_311 &&
	    (PULL_LE16(b, 2) & 0x0004)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (path_len == 0 ||
	    !smbd_request_in_range(req, path_ofs, path_len, 8, &path)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	name = share_name_from_path(req, path, path_len);
	if (name == NULL) {
		return NT_STATUS_BAD_NETWORK_NAME;
	}
	is_ipc = strcasecmp(name, "IPC$") == 0;
	if (!is_ipc) {
		share = smb_conf_find_share(conf, name);
		if (share == NULL || !share->available ||
		    share->path == NULL) {
			DBG_NOTICE("tree connect to unknown share '%s'\n",
				   name);
			return NT_STATUS_BAD_NETWORK_NAME;
		}
		status = share_access_check(session, share);
		if (!NT_STATUS_IS_OK(status)) {
			DBG_NOTICE("user %s denied access to share '%s'\n",
				   session->account, name);
			return status;
		}
	}

	tcon = smbd_tcon_create(session);
	if (tcon == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	tcon->is_ipc = is_ipc;
	tcon->share = share;
	if (is_ipc) {
		tcon->read_only = true;
		tcon->maximal_access = SEC_RIGHTS_FILE_READ |
				       SEC_RIGHTS_FILE_WRITE |
				       SEC_RIGHTS_FILE_EXECUTE;
	} else {
		tcon->read_only = share->read_only;
		/* The share root is named by the administrator, not the
		 * client: opening it here, as root, is safe. */
		status = vfs_share_open(tcon, share->path,
					share->follow_symlinks, &tcon->vfs);
		if (!NT_STATUS_IS_OK(status)) {
			DBG_ERR("share '%s': cannot open path %s: %s\n", name,
				share->path, nt_errstr(status));
			talloc_free(tcon);
			return NT_STATUS_BAD_NETWORK_NAME;
		}
		tcon->maximal_access =
			tcon->read_only ? (SEC_RIGHTS_FILE_READ |
					   SEC_RIGHTS_FILE_EXECUTE)
					: SEC_FILE_ALL;
	}
	if (!is_ipc) {
		status = smbd_tcon_registry_add(tcon, share->name,
						share->max_connections);
		if (!NT_STATUS_IS_OK(status)) {
			DBG_NOTICE("share '%s': max connections (%d) "
				   "reached\n",
				   name, share->max_connections);
			talloc_free(tcon);
			return status;
		}
	}
	(void)smbXsrv_tcon_global_store(tcon);
	req->tcon = tcon;
	DBG_INFO("session 0x%llx connected to '%s' as tree 0x%x\n",
		 (unsigned long long)session->id, name, tcon->id);

	out = smbd_request_reply(req, 16, 0);
	if (out == NULL) {
		talloc_free(tcon);
		req->tcon = NULL;
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 16);
	out[2] = is_ipc ? SMB2_SHARE_TYPE_PIPE : SMB2_SHARE_TYPE_DISK;
	PUSH_LE32(out, 4, SMB2_SHAREFLAG_MANUAL_CACHING);
	PUSH_LE32(out, 8, 0);
	PUSH_LE32(out, 12, tcon->maximal_access);
	return NT_STATUS_OK;
}

static NTSTATUS tree_disconnect_reply(struct smbd_request *req)
{
	uint8_t *out;

	req->in_tree_id = req->tcon->id;
	talloc_free(req->tcon);
	req->tcon = NULL;
	out = smbd_request_reply(req, 4, 0);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 4);
	return NT_STATUS_OK;
}

void smbd_tree_disconnect_finish(struct smbd_request *req)
{
	smbd_request_done(req, tree_disconnect_reply(req));
}

NTSTATUS smbd_smb2_tree_disconnect(struct smbd_request *req)
{
	struct smbd_tcon *tcon = req->tcon;

	/* Nothing may use the tree from now on; requests still running on
	 * it are cancelled and the disconnect completes after them (a
	 * worker may be using the share's root directory). */
	DLIST_REMOVE(tcon->session->tcons, tcon);
	if (tcon->pending == 0) {
		return tree_disconnect_reply(req);
	}
	tcon->disconnect_req = req;
	smbd_cancel_pending(req->conn, NULL, tcon);
	return NT_STATUS_PENDING;
}
