/*
 * Ending a session on behalf of another one ([MS-SMB2] 3.3.5.5.3,
 * PreviousSessionId): the old session may belong to any smbd process;
 * its owner is found in smbXsrv_session_global.tdb and asked with
 * MSG_SMB_CLOSE_SESSION (payload REC_MSG_CLOSE_SESSION) to log it off.
 */
#ifndef SMBD_SMBXSRV_SESSION_CLOSE_H
#define SMBD_SMBXSRV_SESSION_CLOSE_H

#include "smbd/smbd.h"

/* Same user by [MS-SMB2] 3.3.5.5.3 (account and domain, no case;
 * anonymous sessions never match). */
bool smbd_session_same_user(const char *account1, const char *domain1,
			    bool anonymous1, const char *account2,
			    const char *domain2, bool anonymous2);

/*
 * The session previous_id is not one of this process.  If its record in
 * smbXsrv_session_global names another live process and the same user as
 * session, ask that process to log it off and return NT_STATUS_PENDING:
 * req (whose success reply is built) is completed with
 * smbd_request_done(req, NT_STATUS_OK) once the record is gone, or after
 * SMBD_CLOSE_PREVIOUS_TIMEOUT_MS at the latest.  Otherwise NT_STATUS_OK.
 */
#define SMBD_CLOSE_PREVIOUS_TIMEOUT_MS 5000
NTSTATUS smbd_session_close_previous_remote(struct smbd_request *req,
					    struct smbd_session *session,
					    uint64_t previous_id);

/* Take MSG_SMB_CLOSE_SESSION for client's sessions (smbd_client_create). */
void smbd_session_close_init_messages(struct smbd_client *client);

/* The message payload; exported for the unit test. */
NTSTATUS smbd_close_session_msg_push(TALLOC_CTX *mem_ctx, uint64_t session_id,
				     const char *account, const char *domain,
				     uint8_t **buf, size_t *len);
NTSTATUS smbd_close_session_msg_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				     size_t len, uint64_t *session_id,
				     char **account, char **domain);

#endif
