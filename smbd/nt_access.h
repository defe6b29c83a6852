/*
 * Who a session is (its token) and what a security descriptor lets it do
 * (the access check of [MS-DTYP] 2.5.3.2).
 *
 * Token of a session, built from its unix identity (struct vfs_creds):
 *   user    S-1-22-1-<uid>
 *   groups  S-1-22-2-<gid> for the primary and every supplementary group,
 *           S-1-1-0 Everyone, S-1-5-32-545 BUILTIN\Users, and
 *           S-1-5-11 Authenticated Users unless the session is a guest or
 *           anonymous one.
 * uid 0 is "root": it is granted every right whatever the DACL says, like
 * a Windows administrator that holds the backup and restore privileges
 * (SeBackupPrivilege/SeRestorePrivilege let it read, write and re-ACL any
 * file).  The kernel would let root do all of it anyway; pretending
 * otherwise over SMB would only lock administrators out of files whose
 * ACL went wrong.
 *
 * Ownership: a token is talloc'ed; smbd_session_token() keeps one per
 * session as a talloc child of the session and rebuilds it if the
 * session's credentials change (re-authentication).  nt_access_check() is
 * pure and thread-safe: a VFS worker may run it on a token copy it owns
 * (nt_token_copy()).
 */
#ifndef SMBD_NT_ACCESS_H
#define SMBD_NT_ACCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"
#include "smbd/nt_acl.h"

struct vfs_creds;
struct smbd_session;

struct nt_token {
	bool is_root;
	uint32_t uid;	     /* for logs; the SID below is authoritative */
	struct nt_sid user;  /* also the default owner of new objects */
	struct nt_sid group; /* primary group: default group of new objects */
	uint32_t num_sids;
	struct nt_sid *sids; /* the user SID first, then every group SID */
};

/* Build a token for creds (guest: a guest or anonymous session). */
struct nt_token *nt_token_from_creds(TALLOC_CTX *mem_ctx,
				     const struct vfs_creds *creds,
				     bool guest);

/* The session's token, built on first use and cached on the session.
 * NULL on ENOMEM or a session without credentials.  Event loop only. */
struct nt_token *smbd_session_token(struct smbd_session *session);

struct nt_token *nt_token_copy(TALLOC_CTX *mem_ctx,
			       const struct nt_token *token);

bool nt_token_has_sid(const struct nt_token *token, const struct nt_sid *sid);

/* Every right a file or directory knows ([MS-DTYP] 2.4.3 with the file
 * rights of [MS-SMB2] 2.2.13.1.1): what MAXIMUM_ALLOWED yields when
 * nothing restricts it. */
#define NT_ACCESS_ALL_FILE_RIGHTS 0x001f01ff

/*
 * [MS-DTYP] 2.5.3.2 AccessCheck for a file or directory.
 *   desired   the requested mask; generic bits are mapped first, and
 *             SEC_FLAG_MAXIMUM_ALLOWED asks for everything the DACL gives.
 *   *granted  what may be granted: desired (mapped) without the
 *             MAXIMUM_ALLOWED flag, plus with that flag every right the
 *             DACL allows.
 * Rules: root gets everything; a NULL DACL (DACL_PRESENT, no ACL, or no
 * DACL at all) grants everything; an empty DACL grants nothing but the
 * owner's implicit rights; the owner of sd holds READ_CONTROL|WRITE_DAC
 * unless an OWNER RIGHTS (S-1-3-4) ACE is present, which then says what
 * the owner gets; inherit-only ACEs and CREATOR OWNER/GROUP ACEs do not
 * apply to the object itself; deny ACEs only count before the right was
 * granted (ACE order matters).  ACCESS_SYSTEM_SECURITY needs a privilege
 * only root has.
 * Returns NT_STATUS_OK or NT_STATUS_ACCESS_DENIED (*granted then holds
 * what the DACL did allow, for callers that can add rights from
 * elsewhere, e.g. DELETE from the parent's FILE_DELETE_CHILD).
 */
NTSTATUS nt_access_check(const struct nt_sd *sd, const struct nt_token *token,
			 uint32_t desired, uint32_t *granted);

/* Convenience: the MAXIMUM_ALLOWED set for token on sd. */
uint32_t nt_access_maximum(const struct nt_sd *sd,
			   const struct nt_token *token);

#endif
