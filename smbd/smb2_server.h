/*
 * Receiving side of the SMB2 layer: frames from the transport become
 * compounds of requests, each checked and dispatched through the command
 * table; replies are assembled, signed and queued.
 */
#ifndef SMBD_SMB2_SERVER_H
#define SMBD_SMB2_SERVER_H

#include "smbd/smbd.h"

/* Transport callback: one complete frame (talloc, now ours). */
void smbd_connection_frame(void *private_data, uint8_t *frame, size_t len);

/*
 * Transport callbacks for frames whose tail stays in pipes
 * (smbd_transport_set_splice_in()): a lone, unsigned WRITE of at least
 * SMBD_SPLICE_WRITE_MIN bytes whose data follows its fixed part.  Only
 * the shape is looked at here; dispatch checks everything else as for
 * any request (a session that requires signing refuses it there).
 */
#define SMBD_SPLICE_WRITE_PREFIX (SMB2_HDR_SIZE + 48)
#define SMBD_SPLICE_WRITE_MIN (64 * 1024)
bool smbd_connection_classify(void *private_data, const uint8_t *prefix,
			      size_t prefix_len, size_t frame_len);
void smbd_connection_frame_payload(void *private_data, uint8_t *prefix,
				   size_t prefix_len,
				   struct smbd_pipe_payload *payload);

/* Queue a reply frame for conn: iov entries are owned by owner. */
NTSTATUS smbd_connection_send(struct smbd_connection *conn, TALLOC_CTX *owner,
			      const struct iovec *iov, int count);

/* Send a server-initiated message (oplock/lease break notification):
 * MessageId all ones, unsigned, encrypted when session (may be NULL)
 * requires it. */
NTSTATUS smbd_connection_send_unsolicited(struct smbd_connection *conn,
					  struct smbd_session *session,
					  uint16_t opcode, const uint8_t *body,
					  size_t body_len);

/* Is req the last request of its compound?  Only that one can wait
 * behind an interim reply ([MS-SMB2] 3.3.4.2); an earlier one that
 * waited would hold up the rest of the compound. */
bool smbd_request_is_last(const struct smbd_request *req);

/* Drop the connection (protocol violation, fatal error): it is torn
 * down from the event loop, never under the caller's feet. */
void smbd_connection_terminate(struct smbd_connection *conn,
			       const char *reason);

/* Signing helpers (smb2_signing_glue.c) */
NTSTATUS smbd_check_request_signature(struct smbd_request *req,
				      const struct smbd_session *session);
NTSTATUS smbd_sign_reply(const struct smbd_connection *conn,
			 const struct smbd_session *session,
			 bool request_signed, struct iovec *iov, int count);

#endif
