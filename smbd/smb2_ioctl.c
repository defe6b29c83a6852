/*
 * IOCTL ([MS-SMB2] 2.2.31, 2.2.32, 3.3.5.15).  Today: the negotiate
 * validation that protects 3.0/3.0.2 against downgrade.  Named pipes
 * (IPC$ transceive) and server-side copy come with their own issues.
 */
#include "smbd/smbd.h"

#include <string.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/smb2_server.h"

#define IOCTL_FIXED 56

/* FSCTL_VALIDATE_NEGOTIATE_INFO ([MS-SMB2] 3.3.5.15.12): what the client
 * sent must equal what this connection negotiated, or someone in the
 * middle changed it: drop the connection. */
static NTSTATUS validate_negotiate(struct smbd_request *req, const uint8_t *in,
				   uint32_t in_len, uint32_t max_out,
				   uint8_t **out, uint32_t *out_len)
{
	struct smbd_connection *conn = req->conn;
	uint16_t count, i;
	uint8_t *o;

	if (in_len < 24) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	count = PULL_LE16(in, 22);
	if (24 + (size_t)count * 2 > in_len) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (max_out < 24) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (PULL_LE32(in, 0) != conn->client_capabilities ||
	    memcmp(in + 4, conn->client->client_guid, 16) != 0 ||
	    PULL_LE16(in, 20) != conn->client_security_mode ||
	    count != conn->num_client_dialects) {
		goto mismatch;
	}
	for (i = 0; i < count; i++) {
		if (PULL_LE16(in, 24 + 2 * i) != conn->client_dialects[i]) {
			goto mismatch;
		}
	}
	o = talloc_zero_array(req, uint8_t, 24);
	if (o == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE32(o, 0, conn->server_capabilities);
	memcpy(o + 4, conn->client->server_guid, 16);
	PUSH_LE16(o, 20, conn->server_security_mode);
	PUSH_LE16(o, 22, conn->dialect);
	*out = o;
	*out_len = 24;
	return NT_STATUS_OK;

mismatch:
	DBG_ERR("%s: VALIDATE_NEGOTIATE_INFO mismatch: possible downgrade "
		"attack, dropping the connection\n",
		conn->remote_addr);
	smbd_connection_terminate(conn, "validate negotiate mismatch");
	return NT_STATUS_ACCESS_DENIED;
}

NTSTATUS smbd_smb2_ioctl(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint32_t ctl_code = PULL_LE32(b, 4);
	const uint8_t *file_id = b + 8;
	uint32_t in_ofs = PULL_LE32(b, 24);
	uint32_t in_count = PULL_LE32(b, 28);
	uint32_t out_ofs = PULL_LE32(b, 36);
	uint32_t out_count = PULL_LE32(b, 40);
	uint32_t max_out = PULL_LE32(b, 44);
	uint32_t flags = PULL_LE32(b, 48);
	const uint8_t *in, *unused;
	uint8_t *out_data = NULL;
	uint32_t out_len = 0;
	uint8_t *out;
	NTSTATUS status;

	if (!smbd_request_in_range(req, in_ofs, in_count, IOCTL_FIXED, &in) ||
	    !smbd_request_in_range(req, out_ofs, out_count, IOCTL_FIXED,
				   &unused)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (in_count > req->conn->max_trans_size ||
	    max_out > req->conn->max_trans_size) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (flags != SMB2_0_IOCTL_IS_FSCTL) {
		/* device IOCTLs are not supported by a file server */
		return NT_STATUS_NOT_SUPPORTED;
	}

	switch (ctl_code) {
	case FSCTL_VALIDATE_NEGOTIATE_INFO:
		status = validate_negotiate(req, in, in_count, max_out,
					    &out_data, &out_len);
		break;
	case FSCTL_DFS_GET_REFERRALS:
	case 0x000601B0: /* FSCTL_DFS_GET_REFERRALS_EX */
		/* no DFS: the answer Windows gives without the DFS service */
		status = NT_STATUS_FS_DRIVER_REQUIRED;
		break;
	case FSCTL_PIPE_TRANSCEIVE:
		status = req->tcon->is_ipc ? NT_STATUS_NOT_SUPPORTED
					   : NT_STATUS_INVALID_DEVICE_REQUEST;
		break;
	default:
		if (PULL_LE64(file_id, 0) != UINT64_MAX &&
		    smbd_request_lookup_open(req, file_id) == NULL) {
			status = NT_STATUS_FILE_CLOSED;
		} else {
			status = NT_STATUS_INVALID_DEVICE_REQUEST;
		}
		break;
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}

	out = smbd_request_reply(req, 48, out_len);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 49);
	PUSH_LE32(out, 4, ctl_code);
	memcpy(out + 8, file_id, 16);
	PUSH_LE32(out, 24, SMB2_HDR_SIZE + 48); /* InputOffset */
	PUSH_LE32(out, 28, 0);
	PUSH_LE32(out, 32, SMB2_HDR_SIZE + 48); /* OutputOffset */
	PUSH_LE32(out, 36, out_len);
	if (out_len > 0) {
		memcpy(out + 48, out_data, out_len);
	}
	return NT_STATUS_OK;
}
