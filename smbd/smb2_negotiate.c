/*
 * NEGOTIATE ([MS-SMB2] 2.2.3, 2.2.4, 3.3.5.4): pick the dialect, the
 * signing algorithm and the preauth integrity hash, and hand the client
 * the SPNEGO hint.
 */
#include "smbd/smbd.h"
#include "lib/param/loadparm.h"

#include <gnutls/crypto.h>
#include <string.h>
#include <sys/time.h>

#include "lib/auth/gensec.h"
#include "lib/crypto/smb2_kdf.h"
#include "lib/crypto/smb2_preauth.h"
#include "lib/crypto/smb2_signing.h"
#include "lib/util/byteorder.h"
#include "lib/util/debug.h"
#include "smbd/smb2_server.h"
#include "smbd/smbXsrv_global.h"

#define NT_STATUS_NO_PREAUTH_INTEGRITY_HASH_OVERLAP NT_STATUS(0xC05D0000)

static const uint16_t smbd_dialects[] = {
	SMB2_DIALECT_REVISION_202, SMB2_DIALECT_REVISION_210,
	SMB2_DIALECT_REVISION_300, SMB2_DIALECT_REVISION_302,
	SMB2_DIALECT_REVISION_311,
};


uint64_t smbd_nt_time_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return ((uint64_t)tv.tv_sec + 11644473600ULL) * 10000000ULL +
	       (uint64_t)tv.tv_usec * 10;
}

struct negotiate_contexts {
	bool have_preauth;
	bool have_signing;
	bool have_encryption;
	uint16_t signing_algo;
	uint16_t cipher_id; /* 0: none in common */
};

/* Parse the 3.1.1 negotiate context list ([MS-SMB2] 2.2.3.1). */
static NTSTATUS parse_negotiate_contexts(struct smbd_request *req,
					 uint32_t offset, uint16_t count,
					 struct negotiate_contexts *nc)
{
	size_t pos;
	uint16_t i;

	memset(nc, 0, sizeof(*nc));
	if (count == 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (offset < SMB2_HDR_SIZE + 36 || offset % 8 != 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	pos = offset - SMB2_HDR_SIZE;
	for (i = 0; i < count; i++) {
		const uint8_t *ctx, *data;
		uint16_t type, len;

		/* each context starts 8-byte aligned from the header */
		pos = (pos + 7) & ~(size_t)7;
		if (pos + 8 > req->in_body_len) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		ctx = req->in_body + pos;
		type = PULL_LE16(ctx, 0);
		len = PULL_LE16(ctx, 2);
		if (pos + 8 + len > req->in_body_len) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		data = ctx + 8;
		switch (type) {
		case SMB2_PREAUTH_INTEGRITY_CAPABILITIES: {
			uint16_t nalg, salt, k;
			bool sha512 = false;

			if (nc->have_preauth || len < 4) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			nalg = PULL_LE16(data, 0);
			salt = PULL_LE16(data, 2);
			if (nalg == 0 || 4 + (size_t)nalg * 2 + salt > len) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			for (k = 0; k < nalg; k++) {
				if (PULL_LE16(data, 4 + 2 * k) ==
				    SMB2_PREAUTH_INTEGRITY_SHA512) {
					sha512 = true;
				}
			}
			if (!sha512) {
				return NT_STATUS_NO_PREAUTH_INTEGRITY_HASH_OVERLAP;
			}
			nc->have_preauth = true;
			break;
		}
		case SMB2_ENCRYPTION_CAPABILITIES: {
			uint16_t ncipher, k;

			if (nc->have_encryption || len < 2) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			ncipher = PULL_LE16(data, 0);
			if (ncipher == 0 || 2 + (size_t)ncipher * 2 > len) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			nc->have_encryption = true;
			/* the first of the client's ciphers that we have
			 * ([MS-SMB2] 3.3.5.4: the client lists them in its
			 * order of preference) */
			for (k = 0; k < ncipher; k++) {
				uint16_t c = PULL_LE16(data, 2 + 2 * k);

				if (c >= SMB2_ENCRYPTION_AES128_CCM &&
				    c <= SMB2_ENCRYPTION_AES256_GCM) {
					nc->cipher_id = c;
					break;
				}
			}
			break;
		}
		case SMB2_SIGNING_CAPABILITIES: {
			uint16_t nalg, k;

			if (nc->have_signing || len < 2) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			nalg = PULL_LE16(data, 0);
			if (nalg == 0 || 2 + (size_t)nalg * 2 > len) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			nc->have_signing = true;
			nc->signing_algo = SMB2_SIGNING_AES_CMAC;
			/* the client lists them in its order of preference */
			for (k = 0; k < nalg; k++) {
				uint16_t a = PULL_LE16(data, 2 + 2 * k);

				if (a == SMB2_SIGNING_AES_GMAC ||
				    a == SMB2_SIGNING_AES_CMAC ||
				    a == SMB2_SIGNING_HMAC_SHA256) {
					nc->signing_algo = a;
					break;
				}
			}
			break;
		}
		default:
			/* compression, netname, transport, RDMA: not offered;
			 * unknown types are ignored as the spec says */
			break;
		}
		pos += 8 + len;
	}
	if (!nc->have_preauth) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_OK;
}

static uint16_t pick_dialect(const struct smbd_settings *set,
			     const uint8_t *dialects, uint16_t count)
{
	int d;
	uint16_t i;

	for (d = (int)(sizeof(smbd_dialects) / sizeof(smbd_dialects[0])) - 1;
	     d >= 0; d--) {
		uint16_t want = smbd_dialects[d];

		if (want < set->min_protocol || want > set->max_protocol) {
			continue;
		}
		for (i = 0; i < count; i++) {
			if (PULL_LE16(dialects, 2 * i) == want) {
				return want;
			}
		}
	}
	return 0;
}

static size_t append_context(uint8_t *buf, size_t pos, uint16_t type,
			     const uint8_t *data, uint16_t len)
{
	pos = (pos + 7) & ~(size_t)7;
	if (buf != NULL) {
		PUSH_LE16(buf, pos, type);
		PUSH_LE16(buf, pos + 2, len);
		memcpy(buf + pos + 8, data, len);
	}
	return pos + 8 + len;
}

/* Server side of the negotiated state, shared with the SMB1 upgrade. */
void smbd_negotiate_apply(struct smbd_connection *conn, uint16_t dialect)
{
	const struct smbd_settings *set = conn->client->settings;

	conn->dialect = dialect;
	conn->server_security_mode = SMB2_NEGOTIATE_SIGNING_ENABLED;
	if (set->signing_required) {
		conn->server_security_mode |= SMB2_NEGOTIATE_SIGNING_REQUIRED;
	}
	conn->signing_required = set->signing_required;
	conn->server_capabilities = 0;
	if (dialect >= SMB2_DIALECT_REVISION_210) {
		conn->server_capabilities |= SMB2_CAP_LARGE_MTU;
		/* leases (oplock_break.h) unless "smb2 leases = no" */
		if (conn->client->conf == NULL ||
		    conn->client->conf->global.smb2_leases) {
			conn->server_capabilities |= SMB2_CAP_LEASING;
		}
	}
	conn->signing_algo = dialect >= SMB2_DIALECT_REVISION_300
				     ? SMB2_SIGNING_AES_CMAC
				     : SMB2_SIGNING_HMAC_SHA256;
	if (dialect == SMB2_DIALECT_REVISION_202) {
		/* 2.0.2 has no multi-credit requests: 64 KiB at most. */
		conn->max_trans_size = 65536;
		conn->max_read_size = 65536;
		conn->max_write_size = 65536;
	} else {
		conn->max_trans_size = set->max_trans_size;
		conn->max_read_size = set->max_read_size;
		conn->max_write_size = set->max_write_size;
	}

}

NTSTATUS smbd_smb2_negotiate(struct smbd_request *req)
{
	struct smbd_connection *conn = req->conn;
	struct smbd_client *client = conn->client;
	const struct smbd_settings *set = client->settings;
	const uint8_t *b = req->in_body;
	uint16_t dialect_count = PULL_LE16(b, 2);
	uint16_t security_mode = PULL_LE16(b, 4);
	uint32_t capabilities = PULL_LE32(b, 8);
	const uint8_t *dialects;
	struct negotiate_contexts nc = { 0 };
	uint8_t *spnego = NULL;
	size_t spnego_len = 0;
	uint16_t dialect;
	uint8_t *out;
	size_t dyn_len, ctx_offset = 0, ctx_end = 0;
	uint8_t preauth_ctx[4 + 2 + 32];
	uint8_t signing_ctx[4];
	uint8_t encryption_ctx[4];
	uint16_t num_ctx = 0;
	NTSTATUS status;
	uint16_t i;

	if (conn->negotiated) {
		/* A second NEGOTIATE on a connection ([MS-SMB2] 3.3.5.4). */
		smbd_connection_terminate(conn, "second NEGOTIATE");
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (dialect_count == 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!smbd_request_in_range(req, SMB2_HDR_SIZE + 36,
				   (uint32_t)dialect_count * 2, 36,
				   &dialects)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	dialect = pick_dialect(set, dialects, dialect_count);
	if (dialect == 0) {
		DBG_NOTICE("%s: no common dialect\n", conn->remote_addr);
		return NT_STATUS_NOT_SUPPORTED;
	}
	if (dialect == SMB2_DIALECT_REVISION_311) {
		status = parse_negotiate_contexts(req, PULL_LE32(b, 28),
						  PULL_LE16(b, 32), &nc);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
	}

	conn->client_security_mode = security_mode;
	conn->client_capabilities = capabilities;
	memcpy(client->client_guid, b + 12, 16);
	conn->num_client_dialects =
		dialect_count > 64 ? 64 : dialect_count;
	for (i = 0; i < conn->num_client_dialects; i++) {
		conn->client_dialects[i] = PULL_LE16(dialects, 2 * i);
	}
	smbd_negotiate_apply(conn, dialect);
	if (nc.have_signing) {
		conn->signing_algo = nc.signing_algo;
	}
	conn->cipher_id = 0;
	if (set->encryption_offered) {
		if (dialect == SMB2_DIALECT_REVISION_311) {
			conn->cipher_id = nc.cipher_id;
		} else if (dialect >= SMB2_DIALECT_REVISION_300 &&
			   (capabilities & SMB2_CAP_ENCRYPTION)) {
			/* 3.0 and 3.0.2 know only AES-128-CCM */
			conn->cipher_id = SMB2_ENCRYPTION_AES128_CCM;
			conn->server_capabilities |= SMB2_CAP_ENCRYPTION;
		}
	}

	(void)smbXsrv_client_global_store(conn);

	status = gensec_spnego_negotiate_blob(req, &spnego, &spnego_len);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	dyn_len = spnego_len;
	if (dialect == SMB2_DIALECT_REVISION_311) {
		/* the connection's hash covers this request and our reply */
		struct iovec iov = { .iov_base = req->in_hdr,
				     .iov_len = req->in_len };

		memset(conn->preauth_hash, 0, sizeof(conn->preauth_hash));
		smb2_preauth_update(conn->preauth_hash, &iov, 1);
		req->preauth_hash_reply = conn->preauth_hash;

		PUSH_LE16(preauth_ctx, 0, 1);
		PUSH_LE16(preauth_ctx, 2, 32);
		PUSH_LE16(preauth_ctx, 4, SMB2_PREAUTH_INTEGRITY_SHA512);
		if (gnutls_rnd(GNUTLS_RND_NONCE, preauth_ctx + 6, 32) != 0) {
			return NT_STATUS_INTERNAL_ERROR;
		}
		PUSH_LE16(signing_ctx, 0, 1);
		PUSH_LE16(signing_ctx, 2, conn->signing_algo);
		/* Contexts follow the security buffer, 8-aligned.  Positions
		 * here are relative to the body; the header is 64 bytes, so
		 * the alignment is the same as from the header. */
		ctx_offset = (64 + spnego_len + 7) & ~(size_t)7;
		ctx_end = append_context(NULL, ctx_offset, 0, NULL,
					 sizeof(preauth_ctx));
		num_ctx = 1;
		if (nc.have_signing) {
			ctx_end = append_context(NULL, ctx_end, 0, NULL,
						 sizeof(signing_ctx));
			num_ctx++;
		}
		if (nc.have_encryption) {
			/* cipher 0 says "none in common" ([MS-SMB2] 2.2.4.1.2) */
			PUSH_LE16(encryption_ctx, 0, 1);
			PUSH_LE16(encryption_ctx, 2, conn->cipher_id);
			ctx_end = append_context(NULL, ctx_end, 0, NULL,
						 sizeof(encryption_ctx));
			num_ctx++;
		}
		dyn_len = ctx_end - 64;
	}

	out = smbd_request_reply(req, 64, dyn_len);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	PUSH_LE16(out, 0, 65);
	PUSH_LE16(out, 2, conn->server_security_mode);
	PUSH_LE16(out, 4, dialect);
	PUSH_LE16(out, 6, num_ctx);
	memcpy(out + 8, client->server_guid, 16);
	PUSH_LE32(out, 24, conn->server_capabilities);
	PUSH_LE32(out, 28, conn->max_trans_size);
	PUSH_LE32(out, 32, conn->max_read_size);
	PUSH_LE32(out, 36, conn->max_write_size);
	PUSH_LE64(out, 40, smbd_nt_time_now());
	PUSH_LE64(out, 48, 0); /* ServerStartTime: 0 as Windows sends */
	PUSH_LE16(out, 56, SMB2_HDR_SIZE + 64);
	PUSH_LE16(out, 58, (uint16_t)spnego_len);
	memcpy(out + 64, spnego, spnego_len);
	if (num_ctx > 0) {
		size_t pos;

		PUSH_LE32(out, 60, (uint32_t)(SMB2_HDR_SIZE + ctx_offset));
		pos = append_context(out, ctx_offset,
				     SMB2_PREAUTH_INTEGRITY_CAPABILITIES,
				     preauth_ctx, sizeof(preauth_ctx));
		if (nc.have_signing) {
			pos = append_context(out, pos,
					     SMB2_SIGNING_CAPABILITIES,
					     signing_ctx, sizeof(signing_ctx));
		}
		if (nc.have_encryption) {
			append_context(out, pos, SMB2_ENCRYPTION_CAPABILITIES,
				       encryption_ctx, sizeof(encryption_ctx));
		}
	}
	conn->negotiated = true;
	DBG_INFO("%s negotiated dialect 0x%04x signing algo %u cipher %u\n",
		 conn->remote_addr, dialect, conn->signing_algo,
		 conn->cipher_id);
	return NT_STATUS_OK;
}
