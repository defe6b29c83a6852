/*
 * SESSION_SETUP and LOGOFF ([MS-SMB2] 2.2.5-2.2.8, 3.3.5.5, 3.3.5.6).
 * Authentication itself is lib/auth (SPNEGO/NTLMSSP); this file runs the
 * exchange, maps the account to a unix user, and derives the keys.
 */
#include "smbd/smbd.h"

#include <string.h>
#include <time.h>

#include "lib/auth/gensec.h"
#include "lib/crypto/smb2_kdf.h"
#include "lib/crypto/smb2_preauth.h"
#include "lib/userdb/userdb.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "smbd/smb2_server.h"
#include "smbd/smbXsrv_global.h"
#include "smbd/smbXsrv_session_close.h"
#include "smbd/vfs/impersonate.h"

static NTSTATUS smbd_lookup_nt_hash(void *private_data, const char *account,
				    const char *domain, uint8_t nt_hash[16],
				    bool *disabled)
{
	struct smbd_client *client = private_data;
	struct userdb_entry *e = NULL;
	NTSTATUS status;

	if (client->userdb == NULL) {
		return NT_STATUS_NO_SUCH_USER; /* no database: guests only */
	}
	status = userdb_get(client->userdb, NULL, account, &e);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	memcpy(nt_hash, e->nt_hash, 16);
	*disabled = e->disabled;
	talloc_free(e);
	return NT_STATUS_OK;
}

static struct gensec_server *smbd_gensec_start(struct smbd_session *session)
{
	struct smbd_client *client = session->client;
	const struct smbd_settings *set = client->settings;
	struct gensec_settings gs = {
		.netbios_name = set->netbios_name,
		.netbios_domain = set->workgroup,
		.dns_name = NULL,
		.dns_domain = set->dns_domain,
		.allow_anonymous = set->allow_anonymous,
		.map_to_guest = set->map_to_guest,
		.guest_account = set->guest_account,
		.lookup = { .get_nt_hash = smbd_lookup_nt_hash,
			    .private_data = client },
	};

	return gensec_server_new(session, &gs);
}

/* Map the authenticated account to the unix identity its file-system
 * work runs as. */
static NTSTATUS smbd_session_set_user(struct smbd_session *session,
				      const struct auth_session_info *info)
{
	struct smbd_client *client = session->client;
	const char *unix_user;
	struct userdb_entry *e = NULL;
	NTSTATUS status;

	session->guest = info->guest;
	session->anonymous = info->anonymous;
	session->account = talloc_strdup(session, info->account);
	session->domain = talloc_strdup(session, info->domain);
	if (info->guest || info->anonymous) {
		unix_user = client->settings->guest_account;
	} else {
		if (client->userdb == NULL) {
			return NT_STATUS_LOGON_FAILURE;
		}
		status = userdb_get(client->userdb, session, info->account, &e);
		if (!NT_STATUS_IS_OK(status)) {
			DBG_WARNING("user %s vanished from the user database\n",
				    info->account);
			return NT_STATUS_LOGON_FAILURE;
		}
		unix_user = e->unix_user;
	}
	session->unix_user = talloc_strdup(session, unix_user);
	TALLOC_FREE(session->creds);
	TALLOC_FREE(session->token); /* built from the old credentials */
	status = vfs_creds_from_user(session, unix_user, &session->creds);
	talloc_free(e);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("SMB user %s maps to unix user %s which does not "
			"exist: %s\n",
			info->account, unix_user, nt_errstr(status));
		return NT_STATUS_LOGON_FAILURE;
	}
	return NT_STATUS_OK;
}

/* Free a closed session once nothing of it runs; with req, the session
 * lives on until req's reply (signed with its key) is sent. */
static void session_close_finish(struct smbd_session *session,
				 struct smbd_request *req)
{
	struct smbd_tcon *t;

	while ((t = session->tcons) != NULL) {
		talloc_free(t);
	}
	if (req != NULL) {
		talloc_steal(req, session);
	} else {
		talloc_free(session);
	}
}

void smbd_session_close_finish(struct smbd_session *session)
{
	session_close_finish(session, NULL);
}

/* smbd_session_close(); req, if not NULL, is a request of session whose
 * reply is still to be sent. */
static void session_close(struct smbd_session *session,
			  struct smbd_request *req)
{
	struct smbd_connection *c;

	if (session->closing || session->logoff_req != NULL) {
		return; /* already ending */
	}
	DBG_INFO("closing session 0x%llx of %s\\%s\n",
		 (unsigned long long)session->id,
		 session->domain != NULL ? session->domain : "",
		 session->account != NULL ? session->account : "");
	DLIST_REMOVE(session->client->sessions, session);
	session->state = SMBD_SESSION_EXPIRED;
	session->closing = true;
	/* a cancel may answer at once; the extra count keeps the session
	 * alive across the loop */
	session->pending++;
	for (c = session->client->connections; c != NULL; c = c->next) {
		smbd_cancel_pending(c, session, NULL);
	}
	if (--session->pending == 0) {
		session_close_finish(session, req);
	}
}

void smbd_session_close(struct smbd_session *session)
{
	session_close(session, NULL);
}

/*
 * [MS-SMB2] 3.3.5.5.3: after a successful authentication with a
 * PreviousSessionId (a client reconnecting after it lost its connection),
 * the old session of the same user is logged off: its opens close and a
 * waiting CHANGE_NOTIFY is answered NOTIFY_CLEANUP (smbtorture
 * smb2.notify.session-reconnect).  Another user's session is left alone.
 * Returns NT_STATUS_PENDING when the old session lives in another process
 * and the reply waits until it is gone.
 */
static NTSTATUS session_close_previous(struct smbd_request *req,
				       struct smbd_session *session,
				       uint64_t previous_id)
{
	struct smbd_session *old;

	if (previous_id == 0 || previous_id == session->id) {
		return NT_STATUS_OK;
	}
	old = smbd_session_lookup(session->client, previous_id);
	if (old != NULL) {
		if (old->state == SMBD_SESSION_VALID &&
		    smbd_session_same_user(old->account, old->domain,
					   old->anonymous, session->account,
					   session->domain,
					   session->anonymous)) {
			smbd_session_close(old);
		}
		return NT_STATUS_OK;
	}
	return smbd_session_close_previous_remote(req, session, previous_id);
}

static uint8_t *smbd_session_setup_reply(struct smbd_request *req,
					 uint16_t session_flags,
					 const uint8_t *sec_out,
					 size_t sec_out_len);

NTSTATUS smbd_smb2_session_setup(struct smbd_request *req)
{
	struct smbd_connection *conn = req->conn;
	struct smbd_client *client = conn->client;
	const uint8_t *b = req->in_body;
	uint8_t in_flags = b[2];
	uint8_t in_security_mode = b[3];
	uint16_t sec_ofs = PULL_LE16(b, 12);
	uint16_t sec_len = PULL_LE16(b, 14);
	uint64_t previous_id = PULL_LE64(b, 16);
	const uint8_t *sec_in;
	uint8_t *sec_out = NULL;
	size_t sec_out_len = 0;
	struct smbd_session *session;
	struct auth_session_info *info = NULL;
	bool new_session = false;
	bool reauth = false;
	uint16_t session_flags = 0;
	uint8_t *out;
	NTSTATUS status;

	if (!smbd_request_in_range(req, sec_ofs, sec_len, 24, &sec_in)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (in_flags & SMB2_SESSION_FLAG_BINDING) {
		/* Multichannel binding: not offered (no CAP_MULTI_CHANNEL). */
		return NT_STATUS_REQUEST_NOT_ACCEPTED;
	}

	if (req->in_session_id == 0) {
		session = smbd_session_create(client);
		if (session == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		new_session = true;
		memcpy(session->preauth_hash, conn->preauth_hash,
		       sizeof(session->preauth_hash));
	} else {
		session = smbd_session_lookup(client, req->in_session_id);
		if (session == NULL) {
			return NT_STATUS_USER_SESSION_DELETED;
		}
		reauth = session->state == SMBD_SESSION_VALID;
		if (session->state == SMBD_SESSION_VALID) {
			/* re-authentication: the request is signed with the
			 * current key when signing is on */
			status = smbd_check_request_signature(req, session);
			if (!NT_STATUS_IS_OK(status)) {
				return status;
			}
		}
	}
	req->session = session;

	if (conn->dialect == SMB2_DIALECT_REVISION_311 &&
	    session->state != SMBD_SESSION_VALID) {
		struct iovec iov = { .iov_base = req->in_hdr,
				     .iov_len = req->in_len };

		smb2_preauth_update(session->preauth_hash, &iov, 1);
	}
	if (session->gensec == NULL) {
		session->gensec = smbd_gensec_start(session);
		if (session->gensec == NULL) {
			status = NT_STATUS_NO_MEMORY;
			goto fail;
		}
	}
	status = gensec_server_update(session->gensec, req, sec_in, sec_len,
				      &sec_out, &sec_out_len);
	if (NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED)) {
		if (sec_out_len > UINT16_MAX) {
			status = NT_STATUS_INTERNAL_ERROR;
			goto fail;
		}
		out = smbd_request_reply(req, 8, sec_out_len);
		if (out == NULL) {
			status = NT_STATUS_NO_MEMORY;
			goto fail;
		}
		PUSH_LE16(out, 0, 9);
		PUSH_LE16(out, 4, SMB2_HDR_SIZE + 8);
		PUSH_LE16(out, 6, (uint16_t)sec_out_len);
		memcpy(out + 8, sec_out, sec_out_len);
		if (conn->dialect == SMB2_DIALECT_REVISION_311 &&
		    session->state != SMBD_SESSION_VALID) {
			req->preauth_hash_reply = session->preauth_hash;
		}
		return status;
	}
	if (!NT_STATUS_IS_OK(status)) {
		goto fail;
	}

	status = gensec_server_session_info(session->gensec, req, &info);
	if (!NT_STATUS_IS_OK(status)) {
		goto fail;
	}
	/* "server smb encrypt = required": a session that cannot encrypt
	 * (SMB 2.x, no cipher in common, or guest/anonymous without a key)
	 * is refused rather than served in clear ([MS-SMB2] 3.3.5.5, as
	 * Samba does). */
	if (client->settings->encryption_required &&
	    (conn->cipher_id == 0 || !info->has_session_key)) {
		DBG_NOTICE("%s: refusing session for %s: encryption is "
			   "required and this session cannot encrypt\n",
			   conn->remote_addr, info->account);
		status = NT_STATUS_ACCESS_DENIED;
		goto fail;
	}
	status = smbd_session_set_user(session, info);
	if (!NT_STATUS_IS_OK(status)) {
		goto fail;
	}
	TALLOC_FREE(session->gensec);

	if (reauth) {
		/* A re-authentication refreshes who the session is, not its
		 * keys: requests and this reply stay signed with the keys of
		 * the first authentication (Samba's reauth path; the client
		 * verifies this reply with them, smbtorture
		 * smb2.session.reauth*). */
		if (session->encrypt_required) {
			session_flags |= SMB2_SESSION_FLAG_ENCRYPT_DATA;
		}
	} else if (info->has_session_key) {
		struct smb2_session_keys keys;

		memcpy(session->session_key, info->session_key, 16);
		smb2_derive_session_keys(
			conn->dialect, session->session_key,
			conn->dialect == SMB2_DIALECT_REVISION_311
				? session->preauth_hash
				: NULL,
			conn->cipher_id, &keys);
		memcpy(session->signing_key, keys.signing, 16);
		memcpy(session->application_key, keys.application, 16);
		memcpy(session->encryption_key, keys.encryption, 32);
		memcpy(session->decryption_key, keys.decryption, 32);
		session->cipher_key_len =
			conn->cipher_id != 0 ? keys.cipher_key_len : 0;
		memset(&keys, 0, sizeof(keys));
		session->has_signing_key = true;
		session->encrypt_required =
			session->cipher_key_len > 0 &&
			client->settings->encryption_required;
		if (session->encrypt_required) {
			session_flags |= SMB2_SESSION_FLAG_ENCRYPT_DATA;
		}
		session->signing_required =
			conn->signing_required ||
			(in_security_mode & SMB2_NEGOTIATE_SIGNING_REQUIRED);
	} else {
		session->has_signing_key = false;
		session->signing_required = false;
	}
	if (info->guest) {
		session_flags |= SMB2_SESSION_FLAG_IS_GUEST;
	}
	if (info->anonymous) {
		session_flags |= SMB2_SESSION_FLAG_IS_NULL;
	}
	session->state = SMBD_SESSION_VALID;
	session->auth_time = time(NULL);
	(void)smbXsrv_session_global_store(session, conn);
	DBG_NOTICE("%s: session 0x%llx for %s\\%s (unix %s)%s%s\n",
		   conn->remote_addr, (unsigned long long)session->id,
		   session->domain ? session->domain : "", session->account,
		   session->unix_user, info->guest ? " guest" : "",
		   session->signing_required ? " signed" : "");

	out = smbd_session_setup_reply(req, session_flags, sec_out,
				       sec_out_len);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	/* a re-authentication names no previous session (Samba looks
	 * only on a session's first authentication, as do we) */
	return reauth ? NT_STATUS_OK
		      : session_close_previous(req, session, previous_id);

fail:
	DBG_NOTICE("%s: session setup failed: %s\n", conn->remote_addr,
		   nt_errstr(status));
	if (new_session || session->state != SMBD_SESSION_VALID) {
		req->session = NULL;
		req->in_session_id = new_session ? 0 : req->in_session_id;
		talloc_free(session);
	} else {
		/* A failed re-authentication ends the session
		 * ([MS-SMB2] 3.3.5.5.3: the session is removed; Windows and
		 * Samba answer its later requests USER_SESSION_DELETED and
		 * a waiting CHANGE_NOTIFY NOTIFY_CLEANUP, smbtorture
		 * smb2.notify.invalid-reauth).  This reply is still signed
		 * with its key. */
		TALLOC_FREE(session->gensec);
		session_close(session, req);
	}
	return status;
}

/* The body of a successful SESSION_SETUP reply; NULL without memory. */
static uint8_t *smbd_session_setup_reply(struct smbd_request *req,
					 uint16_t session_flags,
					 const uint8_t *sec_out,
					 size_t sec_out_len)
{
	uint8_t *out = smbd_request_reply(req, 8, sec_out_len);

	if (out == NULL) {
		return NULL;
	}
	PUSH_LE16(out, 0, 9);
	PUSH_LE16(out, 2, session_flags);
	PUSH_LE16(out, 4, sec_out_len > 0 ? SMB2_HDR_SIZE + 8 : 0);
	PUSH_LE16(out, 6, (uint16_t)sec_out_len);
	if (sec_out_len > 0) {
		memcpy(out + 8, sec_out, sec_out_len);
	}
	return out;
}


static NTSTATUS logoff_reply(struct smbd_request *req)
{
	struct smbd_session *session = req->session;
	struct smbd_tcon *t;
	uint8_t *out;

	/* Close everything now; keep the session object itself until the
	 * reply is signed with its key and sent. */
	while ((t = session->tcons) != NULL) {
		talloc_free(t);
	}
	talloc_steal(req, session);
	DBG_INFO("logoff of session 0x%llx\n", (unsigned long long)session->id);

	out = smbd_request_reply(req, 4, 0);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 4);
	return NT_STATUS_OK;
}

void smbd_logoff_finish(struct smbd_request *req)
{
	smbd_request_done(req, logoff_reply(req));
}

NTSTATUS smbd_smb2_logoff(struct smbd_request *req)
{
	struct smbd_session *session = req->session;

	/* No new request finds the session from here on; running ones are
	 * cancelled and the logoff completes after them, as their jobs run
	 * with this session's identity and trees. */
	DLIST_REMOVE(session->client->sessions, session);
	session->state = SMBD_SESSION_EXPIRED;
	if (session->pending == 0) {
		return logoff_reply(req);
	}
	session->logoff_req = req;
	smbd_cancel_pending(req->conn, session, NULL);
	return NT_STATUS_PENDING;
}
