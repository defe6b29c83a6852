/*
 * OPLOCK_BREAK: the server's break notifications ([MS-SMB2] 2.2.23.1
 * oplock, 2.2.23.2 lease; sent as in 3.3.4.6 / 3.3.4.7) and the client's
 * acknowledgements ([MS-SMB2] 2.2.24.1 / 2.2.24.2, answered with
 * 2.2.25.1 / 2.2.25.2, processed as in 3.3.5.22.1 / 3.3.5.22.2).
 *
 * The state the acknowledgements change lives in oplock_break.c (open's
 * oplock, share-mode entry) and leases.c (leases.tdb); this file is only
 * the wire.
 */
#include "smbd/smbd.h"

#include <string.h>

#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/lease_record.h"
#include "smbd/oplock.h"
#include "smbd/oplock_break.h"
#include "smbd/smb2_server.h"

#define OPLOCK_BREAK_SIZE 24 /* notification, ack and response */
#define LEASE_BREAK_NOTIFY_SIZE 44
#define LEASE_BREAK_ACK_SIZE 36 /* ack and response */

static struct smbd_connection *client_connection(struct smbd_client *client)
{
	struct smbd_connection *conn = client->connections;

	/* one connection per client until multichannel binds more; a
	 * break goes to any channel of the client ([MS-SMB2] 3.3.4.6) */
	while (conn != NULL && conn->terminating) {
		conn = conn->next;
	}
	return conn;
}

NTSTATUS smbd_send_oplock_break(struct smbd_open *op, uint8_t level)
{
	struct smbd_session *session = op->tcon->session;
	struct smbd_connection *conn = client_connection(session->client);
	uint8_t body[OPLOCK_BREAK_SIZE];

	if (conn == NULL) {
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	memset(body, 0, sizeof(body));
	PUSH_LE16(body, 0, OPLOCK_BREAK_SIZE);
	body[2] = level;
	PUSH_LE64(body, 8, op->persistent_id);
	PUSH_LE64(body, 16, op->volatile_id);
	DBG_DEBUG("oplock break of fid 0x%llx to %u\n",
		  (unsigned long long)op->volatile_id, level);
	return smbd_connection_send_unsolicited(conn, session, SMB2_OP_BREAK,
						body, sizeof(body));
}

NTSTATUS smbd_send_lease_break(struct smbd_client *client,
			       const uint8_t key[16],
			       const struct lease_break_notice *n)
{
	struct smbd_connection *conn = client_connection(client);
	uint8_t body[LEASE_BREAK_NOTIFY_SIZE];

	if (conn == NULL) {
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	memset(body, 0, sizeof(body));
	PUSH_LE16(body, 0, LEASE_BREAK_NOTIFY_SIZE);
	PUSH_LE16(body, 2, n->epoch);
	PUSH_LE32(body, 4,
		  n->ack_required ? SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED
				  : 0);
	memcpy(body + 8, key, 16);
	PUSH_LE32(body, 24, n->from);
	PUSH_LE32(body, 28, n->to);
	/* BreakReason, AccessMaskHint, ShareMaskHint: 0 */
	DBG_DEBUG("lease break %u -> %u (epoch %u, ack %d)\n", n->from, n->to,
		  n->epoch, n->ack_required);
	return smbd_connection_send_unsolicited(conn, NULL, SMB2_OP_BREAK,
						body, sizeof(body));
}

static NTSTATUS oplock_ack(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint8_t level = b[2];
	uint8_t new_level = SMB2_OPLOCK_LEVEL_NONE;
	struct smbd_open *op;
	NTSTATUS status;
	uint8_t *out;

	op = smbd_request_lookup_open(req, b + 8);
	if (op == NULL) {
		return NT_STATUS_FILE_CLOSED;
	}
	/* no break outstanding on this open (Windows and Samba answer
	 * this before looking at the level) */
	if (!smbd_oplock_is_breaking(op)) {
		return NT_STATUS_INVALID_OPLOCK_PROTOCOL;
	}
	if (level != SMB2_OPLOCK_LEVEL_NONE && level != SMB2_OPLOCK_LEVEL_II) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	status = smbd_oplock_ack(op, level, &new_level);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	out = smbd_request_reply(req, OPLOCK_BREAK_SIZE, 0);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, OPLOCK_BREAK_SIZE);
	out[2] = new_level;
	PUSH_LE64(out, 8, op->persistent_id);
	PUSH_LE64(out, 16, op->volatile_id);
	return NT_STATUS_OK;
}

static NTSTATUS lease_ack(struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint8_t key[16];
	uint32_t state = PULL_LE32(b, 24);
	NTSTATUS status;
	uint8_t *out;

	if (req->conn->dialect < SMB2_DIALECT_REVISION_210) {
		/* leases came with SMB 2.1 */
		return NT_STATUS_INVALID_PARAMETER;
	}
	memcpy(key, b + 8, 16);
	status = smbd_lease_ack(req->conn->client, key, state);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	out = smbd_request_reply(req, LEASE_BREAK_ACK_SIZE, 0);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, LEASE_BREAK_ACK_SIZE);
	memcpy(out + 8, key, 16);
	PUSH_LE32(out, 24, state);
	/* Flags and LeaseDuration: 0 */
	return NT_STATUS_OK;
}

/* Dispatch has checked StructureSize: 24 (oplock) or 36 (lease). */
NTSTATUS smbd_smb2_oplock_break(struct smbd_request *req)
{
	if (PULL_LE16(req->in_body, 0) == LEASE_BREAK_ACK_SIZE) {
		return lease_ack(req);
	}
	return oplock_ack(req);
}
