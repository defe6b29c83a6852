/* ECHO ([MS-SMB2] 2.2.28, 3.3.5.17) */
#include "smbd/smbd.h"

#include "lib/util/byteorder.h"

NTSTATUS smbd_smb2_echo(struct smbd_request *req)
{
	uint8_t *out = smbd_request_reply(req, 4, 0);

	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 4);
	return NT_STATUS_OK;
}
