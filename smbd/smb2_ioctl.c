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
#include "smbd/vfs/vfs_async.h"
#include "smbd/vfs/vfs_posix.h"

#define IOCTL_FIXED 56
#define FSCTL_CREATE_OR_GET_OBJECT_ID 0x000900C0
#define FSCTL_GET_OBJECT_ID 0x0009009C
#define FSCTL_GET_REPARSE_POINT 0x000900A8
#define FSCTL_SRV_ENUMERATE_SNAPSHOTS 0x00144064
#define FSCTL_DFS_GET_REFERRALS_EX 0x000601B0

static NTSTATUS ioctl_reply(struct smbd_request *req, uint32_t ctl_code,
			    const uint8_t *file_id, const uint8_t *data,
			    uint32_t len);

/*
 * FSCTL_CREATE_OR_GET_OBJECT_ID ([MS-FSCC] 2.3.7, 2.1.3.1): a 64-byte
 * FILE_OBJECTID_BUFFER.  The ObjectId is derived from the device and
 * inode, so it is stable for the life of the file without storing
 * anything; the birth ids and domain id are zero as for a file that was
 * never moved between volumes.
 */
struct object_id_state {
	struct smbd_request *req;
	uint32_t ctl_code;
	uint8_t file_id[16];
	int fd;
	struct vfs_stat st;
	struct smbd_fd *fdref;
};

static NTSTATUS object_id_job(void *private_data)
{
	struct object_id_state *state = private_data;

	return vfs_fstat(state->fd, &state->st);
}

static void object_id_done(struct tevent_req *subreq)
{
	struct object_id_state *state =
		tevent_req_callback_data(subreq, struct object_id_state);
	struct smbd_request *req = state->req;
	uint8_t buf[64];
	NTSTATUS status;

	status = vfs_call_recv(subreq);
	TALLOC_FREE(subreq);
	smbd_fd_unref(state->fdref);
	state->fdref = NULL;
	if (NT_STATUS_IS_OK(status)) {
		memset(buf, 0, sizeof(buf));
		PUSH_LE64(buf, 0, (uint64_t)state->st.st.st_ino);
		PUSH_LE64(buf, 8, (uint64_t)state->st.st.st_dev);
		status = ioctl_reply(req, state->ctl_code, state->file_id, buf,
				     sizeof(buf));
	}
	smbd_request_done(req, status);
}

static NTSTATUS object_id_send(struct smbd_request *req, struct smbd_open *op,
			       uint32_t ctl_code, const uint8_t *file_id,
			       uint32_t max_out)
{
	struct object_id_state *state;
	struct tevent_req *subreq;

	if (max_out < 64) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	state = talloc_zero(req, struct object_id_state);
	if (state == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	state->req = req;
	state->ctl_code = ctl_code;
	memcpy(state->file_id, file_id, 16);
	state->fdref = smbd_fd_ref(op->fd);
	state->fd = op->fd->fd;
	subreq = vfs_call_send(state, req->conn->client->ev,
			       req->conn->client->pool, req->session->creds,
			       object_id_job, state);
	if (subreq == NULL) {
		smbd_fd_unref(state->fdref);
		return NT_STATUS_NO_MEMORY;
	}
	tevent_req_set_callback(subreq, object_id_done, state);
	return NT_STATUS_PENDING;
}

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
	struct smbd_open *op;
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
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		return ioctl_reply(req, ctl_code, file_id, out_data, out_len);
	case FSCTL_DFS_GET_REFERRALS:
	case FSCTL_DFS_GET_REFERRALS_EX:
		/* no DFS: the answer Windows gives without the DFS service */
		return NT_STATUS_FS_DRIVER_REQUIRED;
	case FSCTL_PIPE_TRANSCEIVE:
		return req->tcon->is_ipc ? NT_STATUS_NOT_SUPPORTED
					 : NT_STATUS_INVALID_DEVICE_REQUEST;
	default:
		break;
	}

	/* Every other FSCTL acts on an open file ([MS-SMB2] 3.3.5.15). */
	op = smbd_request_lookup_open(req, file_id);
	if (op == NULL) {
		return NT_STATUS_FILE_CLOSED;
	}
	switch (ctl_code) {
	case FSCTL_CREATE_OR_GET_OBJECT_ID:
	case FSCTL_GET_OBJECT_ID:
		return object_id_send(req, op, ctl_code, file_id, max_out);
	case FSCTL_GET_REPARSE_POINT:
		/* no reparse points are exposed */
		return NT_STATUS_NOT_A_REPARSE_POINT;
	case FSCTL_SRV_ENUMERATE_SNAPSHOTS: {
		/* SRV_SNAPSHOT_ARRAY with no snapshots ([MS-SMB2] 2.2.32.2) */
		uint8_t snaps[16] = { 0 };

		if (max_out < 16) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		PUSH_LE32(snaps, 8, 2); /* SnapShotArraySize: the empty
					 * array's terminating NUL */
		return ioctl_reply(req, ctl_code, file_id, snaps, 16);
	}
	default:
		return NT_STATUS_INVALID_DEVICE_REQUEST;
	}
}

static NTSTATUS ioctl_reply(struct smbd_request *req, uint32_t ctl_code,
			    const uint8_t *file_id, const uint8_t *data,
			    uint32_t len)
{
	uint8_t *out = smbd_request_reply(req, 48, len);

	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 49);
	PUSH_LE32(out, 4, ctl_code);
	memcpy(out + 8, file_id, 16);
	PUSH_LE32(out, 24, SMB2_HDR_SIZE + 48); /* InputOffset */
	PUSH_LE32(out, 28, 0);
	PUSH_LE32(out, 32, SMB2_HDR_SIZE + 48); /* OutputOffset */
	PUSH_LE32(out, 36, len);
	if (len > 0) {
		memcpy(out + 48, data, len);
	}
	return NT_STATUS_OK;
}
