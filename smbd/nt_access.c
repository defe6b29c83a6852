/*
 * Session tokens and the access check; see nt_access.h.
 */
#include "smbd/nt_access.h"

#include <string.h>

#include "smbd/smb2_wire.h"
#include "smbd/smbd.h"
#include "smbd/vfs/impersonate.h"

static bool token_add(struct nt_token *t, const struct nt_sid *sid)
{
	struct nt_sid *sids;

	if (nt_token_has_sid(t, sid)) {
		return true;
	}
	sids = talloc_realloc(t, t->sids, struct nt_sid, t->num_sids + 1);
	if (sids == NULL) {
		return false;
	}
	t->sids = sids;
	t->sids[t->num_sids++] = *sid;
	return true;
}

struct nt_token *nt_token_from_creds(TALLOC_CTX *mem_ctx,
				     const struct vfs_creds *creds,
				     bool guest)
{
	struct nt_token *t = talloc_zero(mem_ctx, struct nt_token);
	struct nt_sid sid;
	bool ok;

	if (t == NULL) {
		return NULL;
	}
	t->is_root = creds->uid == 0;
	t->uid = creds->uid;
	t->user = nt_sid_unix_user(creds->uid);
	t->group = nt_sid_unix_group(creds->gid);
	ok = token_add(t, &t->user) && token_add(t, &t->group);
	for (int i = 0; ok && i < creds->ngroups; i++) {
		sid = nt_sid_unix_group(creds->groups[i]);
		ok = token_add(t, &sid);
	}
	ok = ok && token_add(t, &nt_sid_world) &&
	     token_add(t, &nt_sid_builtin_users);
	if (ok && !guest) {
		ok = token_add(t, &nt_sid_authenticated_users);
	}
	if (!ok) {
		talloc_free(t);
		return NULL;
	}
	return t;
}

struct nt_token *nt_token_copy(TALLOC_CTX *mem_ctx,
			       const struct nt_token *token)
{
	struct nt_token *t;

	if (token == NULL) {
		return NULL;
	}
	t = talloc_memdup(mem_ctx, token, sizeof(*token));
	if (t == NULL) {
		return NULL;
	}
	t->sids = talloc_memdup(t, token->sids,
				sizeof(struct nt_sid) * token->num_sids);
	if (t->sids == NULL) {
		talloc_free(t);
		return NULL;
	}
	return t;
}

bool nt_token_has_sid(const struct nt_token *token, const struct nt_sid *sid)
{
	for (uint32_t i = 0; i < token->num_sids; i++) {
		if (nt_sid_equal(&token->sids[i], sid)) {
			return true;
		}
	}
	return false;
}

/*
 * The token is built once per session and cached on it; SESSION_SETUP
 * drops it whenever the session's credentials change (re-authentication).
 */
struct nt_token *smbd_session_token(struct smbd_session *session)
{
	bool guest = session->guest || session->anonymous;

	if (session->creds == NULL) {
		return NULL;
	}
	if (session->token == NULL) {
		session->token =
			nt_token_from_creds(session, session->creds, guest);
	}
	return session->token;
}

/* ---- access check ---- */

static bool ace_is_access(const struct nt_ace *ace)
{
	return ace->has_sid && (ace->type == NT_ACE_ACCESS_ALLOWED ||
				ace->type == NT_ACE_ACCESS_DENIED);
}

/* Does the ACE's trustee name someone in the token?  OWNER RIGHTS names
 * whoever owns the object ([MS-DTYP] 2.5.3.2). */
static bool ace_applies(const struct nt_ace *ace, const struct nt_token *t,
			bool is_owner)
{
	if (nt_sid_equal(&ace->sid, &nt_sid_owner_rights)) {
		return is_owner;
	}
	return nt_token_has_sid(t, &ace->sid);
}

static bool dacl_has_owner_rights(const struct nt_acl *dacl)
{
	for (uint32_t i = 0; i < dacl->num_aces; i++) {
		const struct nt_ace *ace = &dacl->aces[i];
		if (ace_is_access(ace) && !(ace->flags & NT_ACE_INHERIT_ONLY) &&
		    nt_sid_equal(&ace->sid, &nt_sid_owner_rights)) {
			return true;
		}
	}
	return false;
}

NTSTATUS nt_access_check(const struct nt_sd *sd, const struct nt_token *token,
			 uint32_t desired, uint32_t *granted)
{
	bool maximum = (desired & SEC_FLAG_MAXIMUM_ALLOWED) != 0;
	uint32_t allowed = 0, denied = 0;
	bool is_owner;

	desired = nt_map_generic_file(desired) & ~SEC_FLAG_MAXIMUM_ALLOWED;

	if (token->is_root) {
		*granted = desired | (maximum ? NT_ACCESS_ALL_FILE_RIGHTS : 0);
		return NT_STATUS_OK;
	}
	if (sd->dacl == NULL) {
		/* NULL DACL: no protection at all */
		allowed = NT_ACCESS_ALL_FILE_RIGHTS;
	} else {
		is_owner = sd->owner != NULL &&
			   nt_token_has_sid(token, sd->owner);
		if (is_owner && !dacl_has_owner_rights(sd->dacl)) {
			allowed |= SEC_STD_READ_CONTROL | SEC_STD_WRITE_DAC;
		}
		for (uint32_t i = 0; i < sd->dacl->num_aces; i++) {
			const struct nt_ace *ace = &sd->dacl->aces[i];
			uint32_t mask;

			if (!ace_is_access(ace) ||
			    (ace->flags & NT_ACE_INHERIT_ONLY) ||
			    !ace_applies(ace, token, is_owner)) {
				continue;
			}
			mask = nt_map_generic_file(ace->mask);
			if (ace->type == NT_ACE_ACCESS_ALLOWED) {
				allowed |= mask & ~denied;
			} else {
				denied |= mask & ~allowed;
			}
		}
	}
	/* ACCESS_SYSTEM_SECURITY is a privilege, never an ACE's gift */
	allowed &= ~SEC_FLAG_SYSTEM_SECURITY;
	*granted = allowed;
	if ((desired & ~allowed) != 0) {
		return NT_STATUS_ACCESS_DENIED;
	}
	if (maximum && allowed == 0) {
		return NT_STATUS_ACCESS_DENIED;
	}
	*granted = desired | (maximum ? allowed : 0);
	return NT_STATUS_OK;
}

uint32_t nt_access_maximum(const struct nt_sd *sd,
			   const struct nt_token *token)
{
	uint32_t granted = 0;

	nt_access_check(sd, token, SEC_FLAG_MAXIMUM_ALLOWED, &granted);
	return granted;
}
