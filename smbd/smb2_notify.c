/*
 * CHANGE_NOTIFY ([MS-SMB2] 2.2.35, 2.2.36, 3.3.5.19).
 *
 * NOT IMPLEMENTED YET: change notification needs file-system watches and
 * cross-process notification (the next issue).  The request is validated
 * and then refused with STATUS_NOT_IMPLEMENTED; clients then simply do
 * not get live directory updates.
 */
#include "smbd/smbd.h"

#include "lib/util/byteorder.h"

#define SMB2_WATCH_TREE 0x0001
/* FILE_NOTIFY_CHANGE_* ([MS-FSCC] 2.7.1 / [MS-SMB2] 2.2.35) */
#define FILE_NOTIFY_CHANGE_VALID 0x00000fff

NTSTATUS smbd_smb2_notify(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint16_t flags = PULL_LE16(b, 2);
	uint32_t out_len = PULL_LE32(b, 4);
	uint32_t filter = PULL_LE32(b, 24);
	struct smbd_open *op;

	if (flags & ~SMB2_WATCH_TREE) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (out_len > req->conn->max_trans_size) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	op = smbd_request_lookup_open(req, b + 8);
	if (op == NULL) {
		return NT_STATUS_FILE_CLOSED;
	}
	/* [MS-SMB2] 3.3.5.19: only a directory can be watched */
	if (!op->is_dir) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (filter == 0 || (filter & ~FILE_NOTIFY_CHANGE_VALID)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* Change notification: the next issue (see the file comment). */
	return NT_STATUS_NOT_IMPLEMENTED;
}
