/*
 * When requests must be signed and replies are signed ([MS-SMB2]
 * 3.3.5.2.4, 3.3.4.1.1).  The algorithms live in lib/crypto.
 */
#include "smbd/smb2_server.h"

#include "lib/crypto/smb2_signing.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"

NTSTATUS smbd_check_request_signature(struct smbd_request *req,
				      const struct smbd_session *session)
{
	struct iovec iov;
	NTSTATUS status;

	if (!session->has_signing_key) {
		return NT_STATUS_OK;
	}
	if (!(req->flags & SMB2_HDR_FLAG_SIGNED)) {
		/* An unsigned request on a session that requires signing is
		 * refused ([MS-SMB2] 3.3.5.2.4). */
		if (session->signing_required) {
			DBG_NOTICE("unsigned %u request on signed session\n",
				   req->opcode);
			return NT_STATUS_ACCESS_DENIED;
		}
		return NT_STATUS_OK;
	}
	iov.iov_base = req->in_hdr;
	iov.iov_len = req->in_len;
	status = smb2_signing_check(req->conn->signing_algo,
				    session->signing_key, &iov, 1);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("bad signature on mid %llu\n",
			   (unsigned long long)req->mid);
		return NT_STATUS_ACCESS_DENIED;
	}
	req->was_signed = true;
	return NT_STATUS_OK;
}

NTSTATUS smbd_sign_reply(const struct smbd_connection *conn,
			 const struct smbd_session *session,
			 bool request_signed, struct iovec *iov, int count)
{
	uint8_t *hdr = iov[0].iov_base;
	uint32_t status = PULL_LE32(hdr, SMB2_HDR_STATUS);
	uint16_t opcode = PULL_LE16(hdr, SMB2_HDR_OPCODE);

	if (session == NULL || !session->has_signing_key) {
		return NT_STATUS_OK;
	}
	/* A SESSION_SETUP still in progress has no key the client knows. */
	if (opcode == SMB2_OP_SESSSETUP &&
	    status == NT_STATUS_V(NT_STATUS_MORE_PROCESSING_REQUIRED)) {
		return NT_STATUS_OK;
	}
	if (!session->signing_required &&
	    !(session->state == SMBD_SESSION_VALID && opcode == SMB2_OP_SESSSETUP &&
	      conn->dialect >= SMB2_DIALECT_REVISION_300)) {
		/* Sign only what the client signed, when not required. */
		if (!request_signed) {
			return NT_STATUS_OK;
		}
	}
	PUSH_LE32(hdr, SMB2_HDR_FLAGS,
		  PULL_LE32(hdr, SMB2_HDR_FLAGS) | SMB2_HDR_FLAG_SIGNED);
	return smb2_signing_sign(conn->signing_algo, session->signing_key, iov,
				 count);
}
