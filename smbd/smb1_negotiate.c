/*
 * The multi-protocol negotiate: a client that does not know which
 * dialects the server speaks sends an SMB1 NEGOTIATE listing dialect
 * strings.  We speak no SMB1; we answer with an SMB2 NEGOTIATE response
 * ([MS-SMB2] 3.3.5.3.1): DialectRevision 0x02FF if the client offered
 * "SMB 2.???" (it then sends an SMB2 NEGOTIATE), or 0x0202 if it offered
 * only "SMB 2.002".  Anything else closes the connection.
 */
#include "smbd/smbd.h"

#include <string.h>

#include "lib/auth/gensec.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/smb2_server.h"

#define SMB1_HDR_SIZE 32
#define SMB1_COM_NEGOTIATE 0x72

NTSTATUS smbd_smb1_negotiate(struct smbd_connection *conn, const uint8_t *buf,
			     size_t len)
{
	const struct smbd_settings *set = conn->client->settings;
	bool wildcard = false, smb2002 = false;
	uint16_t byte_count, dialect;
	const uint8_t *p, *end;
	uint8_t *spnego = NULL;
	size_t spnego_len = 0;
	TALLOC_CTX *frame;
	uint8_t *hdr, *body;
	struct iovec iov[2];
	NTSTATUS status;

	if (len < SMB1_HDR_SIZE + 3 || buf[4] != SMB1_COM_NEGOTIATE ||
	    buf[SMB1_HDR_SIZE] != 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	byte_count = PULL_LE16(buf, SMB1_HDR_SIZE + 1);
	p = buf + SMB1_HDR_SIZE + 3;
	if ((size_t)byte_count > len - (SMB1_HDR_SIZE + 3)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	end = p + byte_count;
	while (p < end) {
		const uint8_t *nul;

		if (*p != 0x02) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		p++;
		nul = memchr(p, 0, end - p);
		if (nul == NULL) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		if (strcmp((const char *)p, "SMB 2.???") == 0) {
			wildcard = true;
		} else if (strcmp((const char *)p, "SMB 2.002") == 0) {
			smb2002 = true;
		}
		p = nul + 1;
	}
	if (wildcard && set->max_protocol >= SMB2_DIALECT_REVISION_210) {
		dialect = SMB2_DIALECT_REVISION_2FF;
	} else if ((smb2002 || wildcard) &&
		   set->min_protocol <= SMB2_DIALECT_REVISION_202) {
		dialect = SMB2_DIALECT_REVISION_202;
	} else {
		DBG_NOTICE("%s: SMB1 client without SMB2 dialects\n",
			   conn->remote_addr);
		return NT_STATUS_NOT_SUPPORTED;
	}

	frame = talloc_new(conn);
	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = gensec_spnego_negotiate_blob(frame, &spnego, &spnego_len);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(frame);
		return status;
	}
	hdr = talloc_zero_array(frame, uint8_t, SMB2_HDR_SIZE);
	body = talloc_zero_array(frame, uint8_t, 64 + spnego_len);
	if (hdr == NULL || body == NULL) {
		talloc_free(frame);
		return NT_STATUS_NO_MEMORY;
	}
	if (dialect == SMB2_DIALECT_REVISION_202) {
		smbd_negotiate_apply(conn, dialect);
		conn->negotiated = true;
	} else {
		conn->smb1_upgrade_pending = true;
	}
	/* the reply grants one credit: the next request uses message id 1 */
	conn->seq_low = 1;
	conn->seq_range = 1;
	PUSH_LE32(hdr, SMB2_HDR_PROTOCOL_ID, SMB2_PROTOCOL_ID);
	PUSH_LE16(hdr, SMB2_HDR_STRUCTURE_SIZE, SMB2_HDR_SIZE);
	PUSH_LE16(hdr, SMB2_HDR_OPCODE, SMB2_OP_NEGPROT);
	PUSH_LE16(hdr, SMB2_HDR_CREDIT, 1);
	PUSH_LE32(hdr, SMB2_HDR_FLAGS, SMB2_HDR_FLAG_REDIRECT);

	PUSH_LE16(body, 0, 65);
	PUSH_LE16(body, 2,
		  SMB2_NEGOTIATE_SIGNING_ENABLED |
			  (set->signing_required
				   ? SMB2_NEGOTIATE_SIGNING_REQUIRED
				   : 0));
	PUSH_LE16(body, 4, dialect);
	memcpy(body + 8, conn->client->server_guid, 16);
	PUSH_LE32(body, 24,
		  dialect == SMB2_DIALECT_REVISION_202 ? 0 : SMB2_CAP_LARGE_MTU);
	PUSH_LE32(body, 28, dialect == SMB2_DIALECT_REVISION_202
				    ? 65536
				    : set->max_trans_size);
	PUSH_LE32(body, 32, dialect == SMB2_DIALECT_REVISION_202
				    ? 65536
				    : set->max_read_size);
	PUSH_LE32(body, 36, dialect == SMB2_DIALECT_REVISION_202
				    ? 65536
				    : set->max_write_size);
	PUSH_LE64(body, 40, smbd_nt_time_now());
	PUSH_LE16(body, 56, SMB2_HDR_SIZE + 64);
	PUSH_LE16(body, 58, (uint16_t)spnego_len);
	memcpy(body + 64, spnego, spnego_len);

	iov[0].iov_base = hdr;
	iov[0].iov_len = SMB2_HDR_SIZE;
	iov[1].iov_base = body;
	iov[1].iov_len = 64 + spnego_len;
	return smbd_connection_send(conn, frame, iov, 2);
}
