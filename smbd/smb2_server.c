/*
 * SMB2 request processing: frame -> compound -> checked requests ->
 * command handlers -> replies.  Policy per command lives in one table
 * (smbd_cmds); the checks run in the order of [MS-SMB2] 3.3.5.2.
 */
#include "smbd/smb2_server.h"

#include <string.h>

#include "lib/crypto/smb2_encryption.h"
#include "lib/crypto/smb2_preauth.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "lib/util/dlinklist.h"
#include "smbd/smb2_credits.h"
#include "smbd/smb2_transport.h"

/* A compound of more requests than this is a denial-of-service attempt,
 * whatever credits the client holds. */
#define SMBD_MAX_COMPOUND 256

struct smbd_compound {
	struct smbd_connection *conn;
	uint8_t *frame;
	size_t frame_len;
	struct smbd_request **reqs;
	unsigned num_reqs;
	unsigned next_to_run;
	unsigned sent_upto;
	bool running;

	/* state carried from one related request to the next
	 * ([MS-SMB2] 3.3.5.2.7.2) */
	uint64_t last_session_id;
	uint32_t last_tree_id;
	bool have_related_open;
	uint64_t related_persistent_id;
	uint64_t related_volatile_id;
	NTSTATUS create_error;

	/* a transform (encrypted) message: its replies are encrypted with
	 * the same session's key ([MS-SMB2] 3.3.4.1.4) */
	bool encrypted;
	uint64_t encryption_session_id;
};

struct smbd_cmd_def {
	const char *name;
	NTSTATUS (*fn)(struct smbd_request *req);
	uint16_t struct_size;
	bool need_session;
	bool need_tcon;
};

static const struct smbd_cmd_def smbd_cmds[SMB2_OP_MAX] = {
	[SMB2_OP_NEGPROT] = { "NEGOTIATE", smbd_smb2_negotiate, 36, false,
			      false },
	/* SESSION_SETUP resolves its own session: it may be new. */
	[SMB2_OP_SESSSETUP] = { "SESSION_SETUP", smbd_smb2_session_setup, 25,
				false, false },
	[SMB2_OP_LOGOFF] = { "LOGOFF", smbd_smb2_logoff, 4, true, false },
	[SMB2_OP_TCON] = { "TREE_CONNECT", smbd_smb2_tree_connect, 9, true,
			   false },
	[SMB2_OP_TDIS] = { "TREE_DISCONNECT", smbd_smb2_tree_disconnect, 4,
			   true, true },
	[SMB2_OP_CREATE] = { "CREATE", smbd_smb2_create, 57, true, true },
	[SMB2_OP_CLOSE] = { "CLOSE", smbd_smb2_close, 24, true, true },
	[SMB2_OP_FLUSH] = { "FLUSH", smbd_smb2_flush, 24, true, true },
	[SMB2_OP_READ] = { "READ", smbd_smb2_read, 49, true, true },
	[SMB2_OP_WRITE] = { "WRITE", smbd_smb2_write, 49, true, true },
	[SMB2_OP_LOCK] = { "LOCK", smbd_smb2_lock, 48, true, true },
	[SMB2_OP_IOCTL] = { "IOCTL", smbd_smb2_ioctl, 57, true, true },
	[SMB2_OP_CANCEL] = { "CANCEL", NULL, 4, false, false },
	[SMB2_OP_KEEPALIVE] = { "ECHO", smbd_smb2_echo, 4, false, false },
	[SMB2_OP_QUERY_DIRECTORY] = { "QUERY_DIRECTORY",
				      smbd_smb2_query_directory, 33, true,
				      true },
	[SMB2_OP_NOTIFY] = { "CHANGE_NOTIFY", smbd_smb2_notify, 32, true,
			     true },
	[SMB2_OP_GETINFO] = { "QUERY_INFO", smbd_smb2_getinfo, 41, true,
			      true },
	[SMB2_OP_SETINFO] = { "SET_INFO", smbd_smb2_setinfo, 33, true, true },
	[SMB2_OP_BREAK] = { "OPLOCK_BREAK", smbd_smb2_oplock_break, 24, true,
			    true },
};

static void smbd_compound_run(struct smbd_compound *c);
static void smbd_compound_start(struct smbd_connection *conn, uint8_t *frame,
				uint8_t *msgs, size_t len, bool encrypted,
				uint64_t encryption_session_id,
				struct smbd_pipe_payload *payload);
static bool smbd_decrypt_frame(struct smbd_connection *conn, uint8_t *frame,
			       size_t len, uint8_t **plain, size_t *plain_len,
			       uint64_t *session_id);
static void smbd_compound_send(struct smbd_compound *c, unsigned upto,
			       struct smbd_request *interim);
static void smbd_process_cancel(struct smbd_connection *conn,
				const uint8_t *hdr);
static void smbd_request_pend(struct smbd_request *req);
static void smbd_request_arm_interim(struct smbd_request *req);
static bool smbd_request_counts_as_pending(const struct smbd_request *req);
static void smbd_unpend_objects(struct smbd_tcon *tcon,
				struct smbd_session *session);

/*
 * Payload size a command moves, for the credit charge check of
 * [MS-SMB2] 3.3.5.2.5 (only commands with a variable payload matter).
 */
static uint32_t smbd_request_payload(const struct smbd_request *req)
{
	const uint8_t *b = req->in_body;
	uint32_t in, out;

	switch (req->opcode) {
	case SMB2_OP_READ:
		return PULL_LE32(b, 4);
	case SMB2_OP_WRITE:
		return PULL_LE32(b, 4);
	case SMB2_OP_IOCTL:
		in = PULL_LE32(b, 28) + PULL_LE32(b, 36);
		out = PULL_LE32(b, 44);
		return in > out ? in : out;
	case SMB2_OP_QUERY_DIRECTORY:
		return PULL_LE32(b, 28);
	case SMB2_OP_GETINFO:
		in = PULL_LE32(b, 12);
		out = PULL_LE32(b, 4);
		return in > out ? in : out;
	case SMB2_OP_SETINFO:
		return PULL_LE32(b, 4);
	case SMB2_OP_NOTIFY:
		return PULL_LE32(b, 4);
	default:
		return 0;
	}
}

bool smbd_request_in_range(const struct smbd_request *req, uint32_t offset,
			   uint32_t length, size_t fixed_len,
			   const uint8_t **ptr)
{
	size_t start, end;

	*ptr = NULL;
	if (length == 0) {
		return true;
	}
	if (offset < SMB2_HDR_SIZE + fixed_len) {
		return false;
	}
	start = (size_t)offset - SMB2_HDR_SIZE;
	end = start + length;
	if (end < start || end > req->in_body_len) {
		return false;
	}
	*ptr = req->in_body + start;
	return true;
}

uint8_t *smbd_request_reply(struct smbd_request *req, size_t fixed_len,
			    size_t dyn_len)
{
	TALLOC_FREE(req->out_body);
	req->out_body = talloc_zero_size(req, fixed_len + dyn_len);
	req->out_body_len = req->out_body ? fixed_len + dyn_len : 0;
	return req->out_body;
}

uint8_t *smbd_request_reply_resize(struct smbd_request *req, size_t fixed_len,
				   size_t new_dyn_len)
{
	uint8_t *b = talloc_realloc_size(req, req->out_body,
					 fixed_len + new_dyn_len);

	if (b == NULL) {
		return NULL;
	}
	if (fixed_len + new_dyn_len > req->out_body_len) {
		memset(b + req->out_body_len, 0,
		       fixed_len + new_dyn_len - req->out_body_len);
	}
	req->out_body = b;
	req->out_body_len = fixed_len + new_dyn_len;
	return b;
}

bool smbd_request_error_data(struct smbd_request *req, const void *data,
			     uint32_t len)
{
	/* ERROR Response: StructureSize 9, ErrorContextCount, Reserved,
	 * ByteCount, ErrorData ([MS-SMB2] 2.2.2). */
	uint8_t *b = smbd_request_reply(req, 8, len > 0 ? len : 1);

	if (b == NULL) {
		return false;
	}
	PUSH_LE16(b, 0, 9);
	PUSH_LE32(b, 4, len);
	if (len > 0) {
		memcpy(b + 8, data, len);
	}
	return true;
}

struct smbd_open *smbd_request_lookup_open(struct smbd_request *req,
					   const uint8_t *file_id16)
{
	uint64_t persistent = PULL_LE64(file_id16, 0);
	uint64_t volatile_id = PULL_LE64(file_id16, 8);
	struct smbd_open *op;

	if (req->related && persistent == UINT64_MAX &&
	    volatile_id == UINT64_MAX) {
		if (!req->compound->have_related_open) {
			return NULL;
		}
		persistent = req->compound->related_persistent_id;
		volatile_id = req->compound->related_volatile_id;
	}
	op = smbd_open_lookup(req->conn->client, persistent, volatile_id);
	if (op == NULL || op->tcon != req->tcon ||
	    op->tcon->session != req->session) {
		return NULL;
	}
	/* Whatever file a request used is the one a related request that
	 * follows refers to, not only a CREATE's ([MS-SMB2] 3.3.5.2.7.2). */
	smbd_compound_set_open(req, op);
	return op;
}

struct smbd_open *smbd_request_data_open(struct smbd_request *req,
					 const uint8_t *file_id16,
					 uint32_t access, NTSTATUS *status)
{
	struct smbd_open *op = smbd_request_lookup_open(req, file_id16);

	if (op == NULL) {
		*status = NT_STATUS_FILE_CLOSED;
		return NULL;
	}
	if (op->is_dir) {
		*status = NT_STATUS_INVALID_DEVICE_REQUEST;
		return NULL;
	}
	if (!(op->access_mask & access)) {
		*status = NT_STATUS_ACCESS_DENIED;
		return NULL;
	}
	*status = NT_STATUS_OK;
	return op;
}

bool smbd_request_is_last(const struct smbd_request *req)
{
	return req->index + 1 == req->compound->num_reqs;
}

void smbd_compound_set_open(struct smbd_request *req, struct smbd_open *op)
{
	req->compound->have_related_open = true;
	req->compound->related_persistent_id = op->persistent_id;
	req->compound->related_volatile_id = op->volatile_id;
}

/*
 * Split a frame into its compound members, checking the chain; false if
 * it is malformed (the connection is then dropped, as Windows does).
 */
static bool smbd_compound_split(struct smbd_compound *c)
{
	size_t ofs = 0;
	unsigned n = 0;

	c->reqs = talloc_array(c, struct smbd_request *, 4);
	if (c->reqs == NULL) {
		return false;
	}
	for (;;) {
		uint8_t *hdr = c->frame + ofs;
		size_t avail = c->frame_len - ofs;
		uint32_t next;
		size_t len;
		struct smbd_request *req;

		if (avail < SMB2_HDR_SIZE ||
		    PULL_LE32(hdr, SMB2_HDR_PROTOCOL_ID) != SMB2_PROTOCOL_ID ||
		    PULL_LE16(hdr, SMB2_HDR_STRUCTURE_SIZE) != SMB2_HDR_SIZE) {
			return false;
		}
		next = PULL_LE32(hdr, SMB2_HDR_NEXT_COMMAND);
		if (next != 0) {
			if (next % 8 != 0 || next < SMB2_HDR_SIZE ||
			    next >= avail) {
				return false;
			}
			len = next;
		} else {
			len = avail;
		}
		if (n == SMBD_MAX_COMPOUND) {
			return false;
		}
		if (n == talloc_array_length(c->reqs)) {
			c->reqs = talloc_realloc(c, c->reqs,
						 struct smbd_request *, n * 2);
			if (c->reqs == NULL) {
				return false;
			}
		}
		req = talloc_zero(c, struct smbd_request);
		if (req == NULL) {
			return false;
		}
		req->conn = c->conn;
		req->compound = c;
		req->index = n;
		req->in_hdr = hdr;
		req->in_body = hdr + SMB2_HDR_SIZE;
		req->in_body_len = len - SMB2_HDR_SIZE;
		req->in_len = len;
		req->opcode = PULL_LE16(hdr, SMB2_HDR_OPCODE);
		req->flags = PULL_LE32(hdr, SMB2_HDR_FLAGS);
		req->mid = PULL_LE64(hdr, SMB2_HDR_MESSAGE_ID);
		req->in_session_id = PULL_LE64(hdr, SMB2_HDR_SESSION_ID);
		req->in_tree_id = PULL_LE32(hdr, SMB2_HDR_TID);
		req->credit_charge = PULL_LE16(hdr, SMB2_HDR_CREDIT_CHARGE);
		req->credits_requested = PULL_LE16(hdr, SMB2_HDR_CREDIT);
		req->related = (req->flags & SMB2_HDR_FLAG_CHAINED) != 0;
		req->was_encrypted = c->encrypted;
		c->reqs[n++] = req;
		if (next == 0) {
			break;
		}
		ofs += next;
	}
	c->num_reqs = n;
	return true;
}

void smbd_connection_frame(void *private_data, uint8_t *frame, size_t len)
{
	struct smbd_connection *conn = private_data;
	uint32_t protocol;

	talloc_steal(conn, frame);
	if (len < 4) {
		talloc_free(frame);
		smbd_connection_terminate(conn, "frame shorter than 4 bytes");
		return;
	}
	protocol = PULL_LE32(frame, 0);
	if (protocol == SMB1_PROTOCOL_ID) {
		NTSTATUS status = NT_STATUS_INVALID_PARAMETER;

		if (!conn->negotiated && !conn->smb1_upgrade_pending) {
			status = smbd_smb1_negotiate(conn, frame, len);
		}
		talloc_free(frame);
		if (!NT_STATUS_IS_OK(status)) {
			smbd_connection_terminate(conn, "SMB1 request");
		}
		return;
	}
	if (protocol == SMB2_TRANSFORM_ID) {
		uint8_t *plain;
		size_t plain_len;
		uint64_t session_id;

		if (!smbd_decrypt_frame(conn, frame, len, &plain, &plain_len,
					&session_id)) {
			talloc_free(frame);
			smbd_connection_terminate(conn, "undecryptable message");
			return;
		}
		smbd_compound_start(conn, frame, plain, plain_len, true,
				    session_id, NULL);
		return;
	}
	if (protocol != SMB2_PROTOCOL_ID) {
		talloc_free(frame);
		smbd_connection_terminate(conn, "not an SMB2 frame");
		return;
	}
	/* CANCEL is not a request of its own: it never gets a reply and
	 * uses no credit ([MS-SMB2] 3.3.5.16). */
	if (len >= SMB2_HDR_SIZE &&
	    PULL_LE16(frame, SMB2_HDR_OPCODE) == SMB2_OP_CANCEL &&
	    PULL_LE32(frame, SMB2_HDR_NEXT_COMMAND) == 0 &&
	    PULL_LE16(frame, SMB2_HDR_STRUCTURE_SIZE) == SMB2_HDR_SIZE) {
		if (conn->negotiated) {
			smbd_process_cancel(conn, frame);
		}
		talloc_free(frame);
		return;
	}

	smbd_compound_start(conn, frame, frame, len, false, 0, NULL);
}

bool smbd_connection_classify(void *private_data, const uint8_t *prefix,
			      size_t prefix_len, size_t frame_len)
{
	struct smbd_connection *conn = private_data;
	const uint8_t *body = prefix + SMB2_HDR_SIZE;
	uint32_t no_flags = SMB2_HDR_FLAG_SIGNED | SMB2_HDR_FLAG_CHAINED |
			    SMB2_HDR_FLAG_ASYNC;

	if (!conn->negotiated || prefix_len != SMBD_SPLICE_WRITE_PREFIX ||
	    frame_len < SMBD_SPLICE_WRITE_PREFIX + SMBD_SPLICE_WRITE_MIN) {
		return false;
	}
	return PULL_LE32(prefix, SMB2_HDR_PROTOCOL_ID) == SMB2_PROTOCOL_ID &&
	       PULL_LE16(prefix, SMB2_HDR_STRUCTURE_SIZE) == SMB2_HDR_SIZE &&
	       PULL_LE16(prefix, SMB2_HDR_OPCODE) == SMB2_OP_WRITE &&
	       PULL_LE32(prefix, SMB2_HDR_NEXT_COMMAND) == 0 &&
	       (PULL_LE32(prefix, SMB2_HDR_FLAGS) & no_flags) == 0 &&
	       PULL_LE16(body, 0) == 49 && /* StructureSize */
	       PULL_LE16(body, 2) == SMBD_SPLICE_WRITE_PREFIX && /* DataOffset */
	       PULL_LE32(body, 4) == frame_len - SMBD_SPLICE_WRITE_PREFIX &&
	       PULL_LE16(body, 42) == 0; /* no WriteChannelInfo */
}

void smbd_connection_frame_payload(void *private_data, uint8_t *prefix,
				   size_t prefix_len,
				   struct smbd_pipe_payload *payload)
{
	struct smbd_connection *conn = private_data;

	talloc_steal(conn, prefix);
	smbd_compound_start(conn, prefix, prefix, prefix_len, false, 0,
			    payload);
}

/* frame is the buffer to own; the SMB2 messages are msgs[0..len-1]
 * inside it (after the transform header when decrypted). */
static void smbd_compound_start(struct smbd_connection *conn, uint8_t *frame,
				uint8_t *msgs, size_t len, bool encrypted,
				uint64_t encryption_session_id,
				struct smbd_pipe_payload *payload)
{
	struct smbd_compound *c = talloc_zero(conn, struct smbd_compound);

	if (c == NULL) {
		talloc_free(frame);
		smbd_connection_terminate(conn, "out of memory");
		return;
	}
	c->conn = conn;
	talloc_steal(c, frame);
	c->frame = msgs;
	c->frame_len = len;
	c->create_error = NT_STATUS_OK;
	c->encrypted = encrypted;
	c->encryption_session_id = encryption_session_id;
	if (!smbd_compound_split(c)) {
		talloc_free(c);
		smbd_connection_terminate(conn, "malformed SMB2 compound");
		return;
	}
	if (payload != NULL) {
		/* one request (NextCommand 0): the payload goes with it, and
		 * before any state its handler makes (talloc frees newer
		 * children first), so a job using the pipes is waited for
		 * before they close */
		c->reqs[0]->in_payload = talloc_steal(c->reqs[0], payload);
	}
	smbd_compound_run(c);
}

/*
 * A transform message ([MS-SMB2] 2.2.41, 3.3.5.2.1): find the session
 * named in it and decrypt in place.  false drops the connection, as the
 * spec says for every failure here.
 */
static bool smbd_decrypt_frame(struct smbd_connection *conn, uint8_t *frame,
			       size_t len, uint8_t **plain, size_t *plain_len,
			       uint64_t *session_id)
{
	struct smbd_session *session;
	uint32_t orig_len;
	NTSTATUS status;

	if (conn->cipher_id == 0 || len < SMB2_TF_HDR_SIZE + SMB2_HDR_SIZE) {
		return false;
	}
	orig_len = PULL_LE32(frame, SMB2_TF_ORIG_MSG_SIZE);
	if (orig_len != len - SMB2_TF_HDR_SIZE) {
		return false;
	}
	*session_id = PULL_LE64(frame, SMB2_TF_SESSION_ID);
	session = smbd_session_lookup(conn->client, *session_id);
	if (session == NULL || session->cipher_key_len == 0) {
		return false;
	}
	status = smb2_decrypt(conn->cipher_id, session->decryption_key,
			      session->cipher_key_len, frame,
			      frame + SMB2_TF_HDR_SIZE, orig_len);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("%s: decryption failed: %s\n", conn->remote_addr,
			   nt_errstr(status));
		return false;
	}
	*plain = frame + SMB2_TF_HDR_SIZE;
	*plain_len = orig_len;
	return true;
}

static void smbd_process_cancel(struct smbd_connection *conn,
				const uint8_t *hdr)
{
	uint32_t flags = PULL_LE32(hdr, SMB2_HDR_FLAGS);
	uint64_t mid = PULL_LE64(hdr, SMB2_HDR_MESSAGE_ID);
	uint64_t async_id = PULL_LE64(hdr, SMB2_HDR_ASYNC_ID);
	struct smbd_request *r;

	for (r = conn->pending; r != NULL; r = r->next) {
		bool match = (flags & SMB2_HDR_FLAG_ASYNC)
				     ? (r->async && r->async_id == async_id)
				     /* by MessageId, also once it went
				      * async ([MS-SMB2] 3.3.5.16) */
				     : r->mid == mid;

		if (match) {
			DBG_DEBUG("cancel of %s mid %llu\n",
				  smbd_cmds[r->opcode].name,
				  (unsigned long long)r->mid);
			if (r->cancel_fn != NULL) {
				r->cancel_fn(r);
			}
			return;
		}
	}
}

/* Checks before the handler runs; an error status fails the request,
 * a terminate request drops the connection. */
static NTSTATUS smbd_request_check(struct smbd_request *req, bool *terminate)
{
	struct smbd_connection *conn = req->conn;
	struct smbd_compound *c = req->compound;
	const struct smbd_cmd_def *cmd;
	uint16_t struct_size;
	uint32_t allowed_flags;
	NTSTATUS status;

	*terminate = false;

	if (!conn->negotiated && req->opcode != SMB2_OP_NEGPROT) {
		/* [MS-SMB2] 3.3.5.2: nothing but NEGOTIATE first. */
		*terminate = true;
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (req->opcode == SMB2_OP_CANCEL) {
		/* A CANCEL inside a compound: ignore it like Windows. */
		return NT_STATUS_OK;
	}
	if (req->flags & SMB2_HDR_FLAG_ASYNC) {
		*terminate = true;
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (conn->negotiated && conn->dialect >= SMB2_DIALECT_REVISION_210 &&
	    (conn->server_capabilities & SMB2_CAP_LARGE_MTU)) {
		uint32_t payload;
		uint32_t needed;

		if (req->opcode >= SMB2_OP_MAX) {
			payload = 0;
		} else if (req->in_body_len <
			   (size_t)(smbd_cmds[req->opcode].struct_size & ~1)) {
			payload = 0; /* caught by the size check below */
		} else {
			payload = smbd_request_payload(req);
		}
		needed = payload == 0 ? 1 : (payload - 1) / 65536 + 1;
		if (req->credit_charge == 0) {
			req->credit_charge = 1;
		}
		if (!smbd_credits_consume(conn, req->mid, req->credit_charge)) {
			*terminate = true;
			return NT_STATUS_INVALID_PARAMETER;
		}
		if (needed > req->credit_charge) {
			return NT_STATUS_INVALID_PARAMETER;
		}
	} else {
		if (!smbd_credits_consume(conn, req->mid, 1)) {
			*terminate = true;
			return NT_STATUS_INVALID_PARAMETER;
		}
	}

	if (req->opcode >= SMB2_OP_MAX) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	cmd = &smbd_cmds[req->opcode];

	allowed_flags = SMB2_HDR_FLAG_CHAINED | SMB2_HDR_FLAG_SIGNED |
			SMB2_HDR_FLAG_DFS;
	if (conn->dialect >= SMB2_DIALECT_REVISION_311 ||
	    req->opcode == SMB2_OP_NEGPROT) {
		allowed_flags |= SMB2_HDR_FLAG_PRIORITY_MASK;
	}
	if (conn->dialect >= SMB2_DIALECT_REVISION_300) {
		allowed_flags |= SMB2_HDR_FLAG_REPLAY_OPERATION;
	}
	if (req->flags & ~allowed_flags) {
		return NT_STATUS_INVALID_PARAMETER;
	}

	/*
	 * A related request names the session and tree of the previous
	 * request that found them, the file its CREATE opened; an
	 * unrelated one starts afresh ([MS-SMB2] 3.3.5.2.7.2).
	 */
	if (req->related) {
		req->in_session_id = c->last_session_id;
		req->in_tree_id = c->last_tree_id;
	} else {
		c->have_related_open = false;
	}
	c->last_session_id = 0;
	c->last_tree_id = 0;

	if (req->in_session_id != 0 && req->opcode != SMB2_OP_SESSSETUP) {
		struct smbd_session *s =
			smbd_session_lookup(conn->client, req->in_session_id);

		if (s != NULL && s->state == SMBD_SESSION_VALID) {
			req->session = s;
			c->last_session_id = s->id;
		}
	}
	if (req->related && req->session == NULL &&
	    req->opcode != SMB2_OP_SESSSETUP) {
		/* related to nothing: the previous request had no session */
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (req->session != NULL && req->was_encrypted) {
		/* Decryption authenticated the message; it must be the
		 * session that encrypted it ([MS-SMB2] 3.3.5.2.9). */
		if (req->session->id != c->encryption_session_id) {
			*terminate = true;
			return NT_STATUS_ACCESS_DENIED;
		}
	} else if (req->session != NULL) {
		if (req->session->encrypt_required) {
			req->session = NULL;
			return NT_STATUS_ACCESS_DENIED;
		}
		status = smbd_check_request_signature(req, req->session);
		if (!NT_STATUS_IS_OK(status)) {
			req->session = NULL; /* do not sign the error */
			return status;
		}
	}
	if (req->related && !NT_STATUS_IS_OK(c->create_error)) {
		return c->create_error;
	}
	if (cmd->need_session && req->session == NULL) {
		return NT_STATUS_USER_SESSION_DELETED;
	}
	if (cmd->need_tcon) {
		req->tcon = smbd_tcon_lookup(req->session, req->in_tree_id);
		if (req->tcon == NULL) {
			return NT_STATUS_NETWORK_NAME_DELETED;
		}
		c->last_tree_id = req->tcon->id;
	}

	struct_size = req->in_body_len >= 2 ? PULL_LE16(req->in_body, 0) : 0;
	if (req->opcode == SMB2_OP_BREAK) {
		/* oplock break ack (24) or lease break ack (36) */
		if ((struct_size != 24 && struct_size != 36) ||
		    req->in_body_len < struct_size) {
			return NT_STATUS_INVALID_PARAMETER;
		}
	} else if (struct_size != cmd->struct_size ||
		   req->in_body_len < (size_t)(cmd->struct_size & ~1)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_OK;
}

static void smbd_request_finish_header(struct smbd_request *req)
{
	uint8_t *h = req->out_hdr;
	/* Like Windows and Samba, a reply keeps the request's SIGNED flag
	 * even when it cannot be signed (unknown session): clients accept
	 * a zero signature on such errors but not a missing flag. */
	uint32_t flags = SMB2_HDR_FLAG_REDIRECT |
			 (req->flags & (SMB2_HDR_FLAG_SIGNED |
					SMB2_HDR_FLAG_PRIORITY_MASK |
					SMB2_HDR_FLAG_DFS));

	memset(h, 0, SMB2_HDR_SIZE);
	PUSH_LE32(h, SMB2_HDR_PROTOCOL_ID, SMB2_PROTOCOL_ID);
	PUSH_LE16(h, SMB2_HDR_STRUCTURE_SIZE, SMB2_HDR_SIZE);
	PUSH_LE16(h, SMB2_HDR_CREDIT_CHARGE, req->credit_charge);
	PUSH_LE32(h, SMB2_HDR_STATUS, NT_STATUS_V(req->status));
	PUSH_LE16(h, SMB2_HDR_OPCODE, req->opcode);
	PUSH_LE16(h, SMB2_HDR_CREDIT, req->credits_granted);
	if (req->related) {
		flags |= SMB2_HDR_FLAG_CHAINED;
	}
	if (req->status.v == NT_STATUS_V(NT_STATUS_PENDING)) {
		/* interim replies are never signed ([MS-SMB2] 3.3.4.2) */
		flags &= ~SMB2_HDR_FLAG_SIGNED;
	}
	if (req->async) {
		flags |= SMB2_HDR_FLAG_ASYNC;
		PUSH_LE64(h, SMB2_HDR_ASYNC_ID, req->async_id);
	} else {
		PUSH_LE32(h, SMB2_HDR_PID, PULL_LE32(req->in_hdr, SMB2_HDR_PID));
		PUSH_LE32(h, SMB2_HDR_TID,
			  req->tcon != NULL ? req->tcon->id
					    : (req->opcode == SMB2_OP_TDIS
						       ? req->in_tree_id
						       : PULL_LE32(req->in_hdr,
								   SMB2_HDR_TID)));
	}
	PUSH_LE32(h, SMB2_HDR_FLAGS, flags);
	PUSH_LE64(h, SMB2_HDR_MESSAGE_ID, req->mid);
	/* Without a session found, echo what the client sent: a related
	 * request's header may name none ([MS-SMB2] 3.3.4.1.2). */
	PUSH_LE64(h, SMB2_HDR_SESSION_ID,
		  req->session != NULL
			  ? req->session->id
			  : (req->opcode == SMB2_OP_SESSSETUP
				     ? req->in_session_id
				     : PULL_LE64(req->in_hdr,
						 SMB2_HDR_SESSION_ID)));
}

/* Give an error reply its standard body unless the handler built one. */
static void smbd_request_error_body(struct smbd_request *req)
{
	if (req->out_body != NULL) {
		return;
	}
	if (!smbd_request_error_data(req, NULL, 0)) {
		req->out_body_len = 0;
	}
}

static void smbd_request_complete(struct smbd_request *req, NTSTATUS status)
{
	struct smbd_compound *c = req->compound;

	req->status = status;
	req->done = true;
	/* An error reply keeps a body only if the handler built an error
	 * body (ErrorData); a half-built success body must not leak out. */
	if (req->out_body == NULL ||
	    (NT_STATUS_IS_ERR(status) &&
	     (req->out_body_len < 8 || PULL_LE16(req->out_body, 0) != 9))) {
		TALLOC_FREE(req->out_body);
		smbd_request_error_body(req);
		req->out_data.iov_len = 0;
		TALLOC_FREE(req->out_pipe);
	}
	if (req->opcode == SMB2_OP_CREATE && NT_STATUS_IS_ERR(status)) {
		c->create_error = status;
	}
	/* TREE_CONNECT and SESSION_SETUP create what later related
	 * requests refer to. */
	if (NT_STATUS_IS_OK(status) && req->session != NULL) {
		c->last_session_id = req->session->id;
	}
	if (NT_STATUS_IS_OK(status) && req->tcon != NULL) {
		c->last_tree_id = req->tcon->id;
	}
	DBG_DEBUG("%s mid %llu -> %s\n",
		  req->opcode < SMB2_OP_MAX ? smbd_cmds[req->opcode].name : "?",
		  (unsigned long long)req->mid, nt_errstr(status));
}

void smbd_request_done(struct smbd_request *req, NTSTATUS status)
{
	struct smbd_connection *conn = req->conn;
	struct smbd_tcon *tcon = req->tcon;
	struct smbd_session *session = req->session;
	bool counted = smbd_request_counts_as_pending(req);

	if (req->done) {
		return;
	}
	DLIST_REMOVE(conn->pending, req);
	req->cancel_fn = NULL;
	TALLOC_FREE(req->interim_timer);
	smbd_request_complete(req, status);
	/* The reply names the tree and is signed with the session: send it
	 * before a TREE_DISCONNECT or LOGOFF that waited for this request
	 * frees them.  req may be gone afterwards. */
	smbd_compound_run(req->compound);
	if (counted) {
		smbd_unpend_objects(tcon, session);
	}
}

static void smbd_request_interim_timer(struct tevent_context *ev,
				       struct tevent_timer *te,
				       struct timeval now, void *private_data)
{
	struct smbd_request *req = private_data;

	req->interim_timer = NULL;
	smbd_request_go_async(req);
}

/*
 * A request still running after SMBD_INTERIM_DELAY_MS gets an interim
 * STATUS_PENDING reply ([MS-SMB2] 3.3.4.2), so that the client knows it
 * is being worked on and can cancel it (slow storage, waits).  Only the
 * last request of a compound can go async this way.
 */
#define SMBD_INTERIM_DELAY_MS 500

static void smbd_request_arm_interim(struct smbd_request *req)
{
	if (req->async || req->index + 1 != req->compound->num_reqs ||
	    req->opcode == SMB2_OP_SESSSETUP) {
		return;
	}
	req->interim_timer = tevent_add_timer(
		req->conn->client->ev, req,
		tevent_timeval_current_ofs(0, SMBD_INTERIM_DELAY_MS * 1000),
		smbd_request_interim_timer, req);
}

static bool smbd_request_counts_as_pending(const struct smbd_request *req)
{
	return req->opcode != SMB2_OP_TDIS && req->opcode != SMB2_OP_LOGOFF;
}

/* The request went asynchronous: its tree connect and session must
 * outlive it. */
static void smbd_request_pend(struct smbd_request *req)
{
	if (!smbd_request_counts_as_pending(req)) {
		return;
	}
	if (req->tcon != NULL) {
		req->tcon->pending++;
	}
	if (req->session != NULL) {
		req->session->pending++;
	}
}

static void smbd_unpend_objects(struct smbd_tcon *tcon,
				struct smbd_session *session)
{
	if (tcon != NULL && --tcon->pending == 0 &&
	    tcon->disconnect_req != NULL) {
		struct smbd_request *d = tcon->disconnect_req;

		tcon->disconnect_req = NULL;
		smbd_tree_disconnect_finish(d);
	}
	if (session != NULL && --session->pending == 0 &&
	    session->logoff_req != NULL) {
		struct smbd_request *l = session->logoff_req;

		session->logoff_req = NULL;
		smbd_logoff_finish(l);
	} else if (session != NULL && session->pending == 0 &&
		   session->closing) {
		smbd_session_close_finish(session);
	}
}

void smbd_cancel_pending(struct smbd_connection *conn,
			 struct smbd_session *session, struct smbd_tcon *tcon)
{
	struct smbd_request *r, *next;

	for (r = conn->pending; r != NULL; r = next) {
		next = r->next;
		if (!smbd_request_counts_as_pending(r)) {
			continue;
		}
		if ((tcon != NULL && r->tcon == tcon) ||
		    (tcon == NULL && r->session == session)) {
			if (r->cancel_fn != NULL) {
				r->cancel_fn(r);
			}
		}
	}
}

static void smbd_compound_run(struct smbd_compound *c)
{
	struct smbd_connection *conn = c->conn;

	if (c->running) {
		return; /* a synchronous completion inside a handler */
	}
	c->running = true;
	while (c->next_to_run < c->num_reqs) {
		struct smbd_request *req = c->reqs[c->next_to_run];
		bool terminate = false;
		NTSTATUS status;

		if (!req->done) {
			if (req->in_hdr == NULL) {
				break;
			}
			if (req->opcode == SMB2_OP_CANCEL &&
			    conn->negotiated) {
				/* inside a compound: no reply of its own */
				req->done = true;
				req->status = NT_STATUS_OK;
				c->next_to_run++;
				continue;
			}
			status = smbd_request_check(req, &terminate);
			if (terminate) {
				c->running = false;
				smbd_connection_terminate(conn,
							  "protocol violation");
				return;
			}
			if (NT_STATUS_IS_OK(status)) {
				status = smbd_cmds[req->opcode].fn(req);
			}
			if (NT_STATUS_EQUAL(status, NT_STATUS_PENDING)) {
				if (!req->done) {
					DLIST_ADD_END(conn->pending, req);
					smbd_request_pend(req);
					smbd_request_arm_interim(req);
					c->running = false;
					return;
				}
			} else {
				smbd_request_complete(req, status);
			}
		}
		c->next_to_run++;
	}
	c->running = false;
	if (c->next_to_run == c->num_reqs) {
		smbd_compound_send(c, c->num_reqs, NULL);
	}
}

static const uint8_t smbd_zero_pad[8];

/*
 * Encrypt a reply frame with the key of the session that encrypted the
 * request.  The pieces are gathered into one buffer first: some iovecs
 * point at shared constant padding, which must not be encrypted in
 * place.  That copy is the price of encryption; plain replies are sent
 * from where they were built.
 */
static void smbd_compound_send_encrypted(struct smbd_compound *c,
					 TALLOC_CTX *owner, struct iovec *iov,
					 int n)
{
	struct smbd_connection *conn = c->conn;
	struct smbd_session *session =
		smbd_session_lookup(conn->client, c->encryption_session_id);
	size_t total = 0;
	unsigned i;
	uint8_t *buf, *p;
	struct iovec out[1];
	NTSTATUS status;
	int k;

	/* A LOGOFF in this compound has unlinked the session, but its
	 * request keeps it until the reply is out. */
	for (i = 0; session == NULL && i < c->num_reqs; i++) {
		struct smbd_session *s = c->reqs[i]->session;

		if (s != NULL && s->id == c->encryption_session_id) {
			session = s;
		}
	}
	if (session == NULL || session->cipher_key_len == 0) {
		talloc_free(owner);
		smbd_connection_terminate(conn, "encrypted reply without key");
		return;
	}
	for (k = 0; k < n; k++) {
		total += iov[k].iov_len;
	}
	buf = talloc_size(owner == (TALLOC_CTX *)c ? conn : owner,
			  SMB2_TF_HDR_SIZE + total);
	if (buf == NULL) {
		smbd_connection_terminate(conn, "out of memory");
		return;
	}
	for (p = buf + SMB2_TF_HDR_SIZE, k = 0; k < n; k++) {
		memcpy(p, iov[k].iov_base, iov[k].iov_len);
		p += iov[k].iov_len;
	}
	out[0].iov_base = buf + SMB2_TF_HDR_SIZE;
	out[0].iov_len = total;
	status = smb2_encrypt(conn->cipher_id, session->encryption_key,
			      session->cipher_key_len, session->id, buf, out,
			      1);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("encryption failed: %s\n", nt_errstr(status));
		smbd_connection_terminate(conn, "encryption failed");
		return;
	}
	if (owner == (TALLOC_CTX *)c) {
		/* the whole compound is answered: it can go now */
		talloc_free(c);
	} else {
		talloc_steal(owner, buf);
	}
	out[0].iov_base = buf;
	out[0].iov_len = SMB2_TF_HDR_SIZE + total;
	smbd_connection_send(conn, owner == (TALLOC_CTX *)c ? buf : owner, out,
			     1);
}

/*
 * Send the replies of requests [c->sent_upto, upto) as one frame; if
 * interim is given, its STATUS_PENDING reply is appended.  When the last
 * reply of the compound goes out, the compound itself is handed to the
 * transport as the owner of every buffer.
 */
static void smbd_compound_send(struct smbd_compound *c, unsigned upto,
			       struct smbd_request *interim)
{
	struct smbd_connection *conn = c->conn;
	unsigned first = c->sent_upto;
	unsigned count = upto - first + (interim != NULL ? 1 : 0);
	struct iovec *iov;
	TALLOC_CTX *owner;
	unsigned i;
	int n = 0;
	bool final = interim == NULL && upto == c->num_reqs;
	struct smbd_pipe_payload *pipe = NULL;

	if (count == 0) {
		if (final) {
			talloc_free(c);
		}
		return;
	}
	owner = final ? (TALLOC_CTX *)c : talloc_new(conn);
	iov = talloc_array(owner, struct iovec, count * 4);
	if (iov == NULL) {
		smbd_connection_terminate(conn, "out of memory");
		return;
	}
	for (i = 0; i < count; i++) {
		struct smbd_request *req =
			(interim != NULL && i == count - 1) ? interim
							   : c->reqs[first + i];
		bool last = i == count - 1;
		int start = n;
		size_t len;
		NTSTATUS status;

		if (req == interim) {
			/* the interim reply: 9-byte error body, PENDING */
			req->status = NT_STATUS_PENDING;
		}
		req->credits_granted =
			req->async && req != interim
				? 0
				: smbd_credits_grant(conn, req->credit_charge,
						     req->credits_requested);
		smbd_request_finish_header(req);
		iov[n].iov_base = req->out_hdr;
		iov[n].iov_len = SMB2_HDR_SIZE;
		n++;
		if (req == interim) {
			static const uint8_t pending_body[9] = { 9 };

			iov[n].iov_base = (void *)pending_body;
			iov[n].iov_len = sizeof(pending_body);
		} else {
			iov[n].iov_base = req->out_body;
			iov[n].iov_len = req->out_body_len;
		}
		n++;
		len = SMB2_HDR_SIZE + iov[n - 1].iov_len;
		if (req != interim && req->out_data.iov_len > 0) {
			iov[n++] = req->out_data;
			len += req->out_data.iov_len;
		}
		if (req != interim && req->out_pipe != NULL) {
			/* smbd_request_reply_plain() held when READ chose
			 * the pipe, and nothing here changes it */
			if (count != 1 || !final || c->encrypted ||
			    req->out_data.iov_len > 0) {
				smbd_connection_terminate(conn,
							  "spliced reply");
				return;
			}
			pipe = req->out_pipe;
			len += pipe->len;
		}
		/* Every reply of a compound is 8-byte aligned, the last one
		 * too (smbtorture smb2.compound.compound-padding, as
		 * Windows); a lone reply is not padded. */
		if ((!last || c->num_reqs > 1) && len % 8 != 0) {
			iov[n].iov_base = (void *)smbd_zero_pad;
			iov[n].iov_len = 8 - len % 8;
			len += iov[n].iov_len;
			n++;
		}
		if (!last) {
			PUSH_LE32(req->out_hdr, SMB2_HDR_NEXT_COMMAND,
				  (uint32_t)len);
		}
		if (req->preauth_hash_reply != NULL && req != interim) {
			smb2_preauth_update(req->preauth_hash_reply,
					    &iov[start], n - start);
		}
		if (c->encrypted) {
			/* encrypted replies are not signed ([MS-SMB2]
			 * 3.3.4.1.1) */
			PUSH_LE32(req->out_hdr, SMB2_HDR_FLAGS,
				  PULL_LE32(req->out_hdr, SMB2_HDR_FLAGS) &
					  ~SMB2_HDR_FLAG_SIGNED);
			status = NT_STATUS_OK;
		} else if (req == interim) {
			status = NT_STATUS_OK;
		} else {
			status = smbd_sign_reply(conn, req->session,
						 req->was_signed, &iov[start],
						 n - start);
		}
		if (!NT_STATUS_IS_OK(status)) {
			DBG_ERR("signing failed: %s\n", nt_errstr(status));
			smbd_connection_terminate(conn, "signing failed");
			return;
		}
		if (pipe != NULL && (PULL_LE32(req->out_hdr, SMB2_HDR_FLAGS) &
				     SMB2_HDR_FLAG_SIGNED)) {
			/* the signature did not cover the spliced bytes */
			smbd_connection_terminate(conn, "spliced reply signed");
			return;
		}
	}
	c->sent_upto = upto;
	if (c->encrypted) {
		smbd_compound_send_encrypted(c, owner, iov, n);
		return;
	}
	if (!final) {
		/* The buffers stay with the compound; the owner only holds the
		 * iovec array and is freed when written.  Copy what the
		 * compound may free before then. */
		size_t total = 0;
		uint8_t *flat, *p;
		int k;

		for (k = 0; k < n; k++) {
			total += iov[k].iov_len;
		}
		flat = talloc_size(owner, total);
		if (flat == NULL) {
			smbd_connection_terminate(conn, "out of memory");
			return;
		}
		for (p = flat, k = 0; k < n; k++) {
			memcpy(p, iov[k].iov_base, iov[k].iov_len);
			p += iov[k].iov_len;
		}
		iov[0].iov_base = flat;
		iov[0].iov_len = total;
		n = 1;
	}
	if (pipe != NULL) {
		int ret = smbd_transport_send_pipe(conn->transport, owner, iov,
						   n, pipe);

		if (ret != 0) {
			DBG_NOTICE("spliced reply: %s\n", strerror(ret));
		}
		return;
	}
	smbd_connection_send(conn, owner, iov, n);
}

bool smbd_request_reply_plain(const struct smbd_request *req)
{
	const struct smbd_session *s = req->session;

	if (req->compound->num_reqs != 1 || req->compound->encrypted ||
	    req->was_encrypted) {
		return false;
	}
	/* smbd_sign_reply() signs when the session has a key and either
	 * requires signing or the request was signed */
	if (s != NULL && s->has_signing_key &&
	    (s->signing_required || req->was_signed)) {
		return false;
	}
	return true;
}

void smbd_request_go_async(struct smbd_request *req)
{
	struct smbd_compound *c = req->compound;

	if (req->async || req->done) {
		return;
	}
	req->async = true;
	req->async_id = ++req->conn->client->next_async_id;
	DBG_DEBUG("interim reply for mid %llu, async id %llu\n",
		  (unsigned long long)req->mid,
		  (unsigned long long)req->async_id);
	/* earlier replies of the compound go out with the interim one */
	smbd_compound_send(c, req->index, req);
}

NTSTATUS smbd_connection_send(struct smbd_connection *conn, TALLOC_CTX *owner,
			      const struct iovec *iov, int count)
{
	int ret = smbd_transport_send(conn->transport, owner, iov, count);

	if (ret != 0) {
		return map_nt_error_from_unix(ret);
	}
	return NT_STATUS_OK;
}

/*
 * A message the server starts itself: an oplock or lease break
 * notification ([MS-SMB2] 3.3.4.6, 3.3.4.7).  MessageId is
 * 0xFFFFFFFFFFFFFFFF, no credits, never signed; encrypted with the
 * session's key when the session encrypts (an oplock break names its
 * session; a lease break names none and goes in the clear).
 */
NTSTATUS smbd_connection_send_unsolicited(struct smbd_connection *conn,
					  struct smbd_session *session,
					  uint16_t opcode, const uint8_t *body,
					  size_t body_len)
{
	bool encrypt = session != NULL && session->encrypt_required &&
		       session->cipher_key_len != 0 && conn->cipher_id != 0;
	size_t ofs = encrypt ? SMB2_TF_HDR_SIZE : 0;
	size_t total = ofs + SMB2_HDR_SIZE + body_len;
	uint8_t *buf, *h;
	struct iovec iov[1];
	NTSTATUS status;

	if (conn->terminating) {
		return NT_STATUS_CONNECTION_DISCONNECTED;
	}
	buf = talloc_zero_size(conn, total);
	if (buf == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	h = buf + ofs;
	PUSH_LE32(h, SMB2_HDR_PROTOCOL_ID, SMB2_PROTOCOL_ID);
	PUSH_LE16(h, SMB2_HDR_STRUCTURE_SIZE, SMB2_HDR_SIZE);
	PUSH_LE16(h, SMB2_HDR_OPCODE, opcode);
	PUSH_LE32(h, SMB2_HDR_FLAGS, SMB2_HDR_FLAG_REDIRECT);
	PUSH_LE64(h, SMB2_HDR_MESSAGE_ID, UINT64_MAX);
	PUSH_LE64(h, SMB2_HDR_SESSION_ID, session != NULL ? session->id : 0);
	memcpy(h + SMB2_HDR_SIZE, body, body_len);
	iov[0].iov_base = h;
	iov[0].iov_len = SMB2_HDR_SIZE + body_len;
	if (encrypt) {
		status = smb2_encrypt(conn->cipher_id, session->encryption_key,
				      session->cipher_key_len, session->id,
				      buf, iov, 1);
		if (!NT_STATUS_IS_OK(status)) {
			talloc_free(buf);
			return status;
		}
		iov[0].iov_base = buf;
		iov[0].iov_len = total;
	}
	return smbd_connection_send(conn, buf, iov, 1);
}
