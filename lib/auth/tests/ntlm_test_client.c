#include "lib/auth/tests/ntlm_test_client.h"

#include <string.h>

#include "lib/auth/ntlmssp_crypto.h"
#include "lib/auth/ntlmssp_wire.h"
#include "lib/crypto/nt_hash.h"
#include "lib/util/byteorder.h"
#include "lib/util/charset.h"

void ntlm_test_client_init(struct ntlm_test_client *c, const char *user,
			   const char *domain, const char *password)
{
	memset(c, 0, sizeof(*c));
	c->user = user;
	c->domain = domain;
	c->password = password;
	c->workstation = "TESTCLIENT";
	c->flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET |
		   NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_NTLM |
		   NTLMSSP_NEGOTIATE_ALWAYS_SIGN |
		   NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |
		   NTLMSSP_NEGOTIATE_VERSION | NTLMSSP_NEGOTIATE_128 |
		   NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_56;
	c->send_mic = true;
	memset(c->client_challenge, 0xaa, 8);
	memset(c->random_session_key, 0x55, 16);
}

NTSTATUS ntlm_test_client_negotiate(struct ntlm_test_client *c,
				    TALLOC_CTX *mem_ctx)
{
	uint8_t *m = talloc_zero_array(mem_ctx, uint8_t, 40);

	if (m == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	memcpy(m, "NTLMSSP", 8);
	PUSH_LE32(m, 8, NTLMSSP_MSG_NEGOTIATE);
	PUSH_LE32(m, 12, c->flags);
	PUSH_LE32(m, 20, 40); /* empty domain, offset after the header */
	PUSH_LE32(m, 28, 40);
	ntlmssp_push_version(m + 32);
	c->negotiate = m;
	c->negotiate_len = 40;
	return NT_STATUS_OK;
}

struct buf {
	uint8_t *p;
	size_t len;
};

static bool put(TALLOC_CTX *ctx, struct buf *b, const void *d, size_t n)
{
	uint8_t *p = talloc_realloc(ctx, b->p, uint8_t, b->len + n + 1);

	if (p == NULL) {
		return false;
	}
	b->p = p;
	if (n > 0) {
		memcpy(b->p + b->len, d, n);
	}
	b->len += n;
	return true;
}

static bool put_field(uint8_t *hdr, size_t field_ofs, size_t ofs, size_t len)
{
	PUSH_LE16(hdr, field_ofs, (uint16_t)len);
	PUSH_LE16(hdr, field_ofs + 2, (uint16_t)len);
	PUSH_LE32(hdr, field_ofs + 4, (uint32_t)ofs);
	return true;
}

/* The server's AV pairs without its EOL, plus MsvAvFlags when asked. */
static bool client_av_pairs(TALLOC_CTX *ctx, const struct ntlm_test_client *c,
			    const struct ntlmssp_challenge_msg *chal,
			    struct buf *av)
{
	size_t ofs = 0;
	uint8_t item[8];

	while (ofs + 4 <= chal->target_info.len) {
		uint16_t id = PULL_LE16(chal->target_info.data, ofs);
		uint16_t l = PULL_LE16(chal->target_info.data, ofs + 2);

		if (id == MSV_AV_EOL || ofs + 4 + l > chal->target_info.len) {
			break;
		}
		if (!put(ctx, av, chal->target_info.data + ofs, 4 + l)) {
			return false;
		}
		ofs += 4 + l;
	}
	if (c->send_mic) {
		PUSH_LE16(item, 0, MSV_AV_FLAGS);
		PUSH_LE16(item, 2, 4);
		PUSH_LE32(item, 4, MSV_AV_FLAG_MIC_PRESENT);
		if (!put(ctx, av, item, 8)) {
			return false;
		}
	}
	memset(item, 0, 8); /* EOL + the 4 reserved bytes */
	return put(ctx, av, item, 8);
}

NTSTATUS ntlm_test_client_authenticate(struct ntlm_test_client *c,
				       TALLOC_CTX *mem_ctx,
				       const uint8_t *challenge,
				       size_t challenge_len, uint8_t **out,
				       size_t *out_len)
{
	TALLOC_CTX *tmp = talloc_new(mem_ctx);
	struct ntlmssp_challenge_msg chal;
	struct buf temp = { 0 }, ntresp = { 0 }, msg = { 0 };
	uint8_t nt_hash[16], key[16], proof[16], sbk[16], esk[16];
	uint8_t lm[24] = { 0 };
	uint8_t hdr[88] = { 0 };
	uint8_t *user16 = NULL, *dom16 = NULL, *ws16 = NULL, *hash_dom = NULL;
	size_t user16_len = 0, dom16_len = 0, ws16_len = 0, hash_dom_len = 0;
	size_t ofs;
	NTSTATUS status = NT_STATUS_INTERNAL_ERROR;

	if (tmp == NULL ||
	    !NT_STATUS_IS_OK(
		    ntlmssp_parse_challenge(challenge, challenge_len, &chal))) {
		goto done;
	}
	c->auth_flags = chal.flags;
	if (!utf8_to_utf16le(tmp, c->anonymous ? "" : c->user, &user16,
			     &user16_len) ||
	    !utf8_to_utf16le(tmp, c->domain, &dom16, &dom16_len) ||
	    !utf8_to_utf16le(tmp, c->workstation, &ws16, &ws16_len)) {
		goto done;
	}
	hash_dom = dom16;
	hash_dom_len = dom16_len;
	if (c->empty_domain_in_hash) {
		hash_dom_len = 0;
	} else if (c->upper_domain_in_hash) {
		char *up = talloc_strdup(tmp, c->domain);
		for (char *p = up; p != NULL && *p != '\0'; p++) {
			if (*p >= 'a' && *p <= 'z') {
				*p = (char)(*p - 0x20);
			}
		}
		if (!utf8_to_utf16le(tmp, up, &hash_dom, &hash_dom_len)) {
			goto done;
		}
	}

	if (c->anonymous) {
		memset(sbk, 0, 16);
	} else if (c->ntlmv1) {
		/* Shape only: 24 bytes is all the server needs to see. */
		if (!put(tmp, &ntresp, lm, 24)) {
			goto done;
		}
		memset(sbk, 0, 16);
	} else {
		struct buf av = { 0 };
		uint8_t fixed[28] = { 1, 1 };

		memcpy(fixed + 16, c->client_challenge, 8);
		if (!nt_hash_from_password(c->password, nt_hash) ||
		    !ntlmssp_ntowfv2(nt_hash, user16, user16_len, hash_dom,
				     hash_dom_len, key) ||
		    !client_av_pairs(tmp, c, &chal, &av) ||
		    !put(tmp, &temp, fixed, 28) ||
		    !put(tmp, &temp, av.p, av.len) ||
		    !ntlmssp_nt_proof(key, chal.server_challenge, temp.p,
				      temp.len, proof) ||
		    !ntlmssp_session_base_key(key, proof, sbk) ||
		    !put(tmp, &ntresp, proof, 16) ||
		    !put(tmp, &ntresp, temp.p, temp.len)) {
			goto done;
		}
	}
	if (chal.flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
		memcpy(c->exported_session_key, c->random_session_key, 16);
		if (!ntlmssp_rc4(sbk, c->random_session_key, 16, esk)) {
			goto done;
		}
	} else {
		memcpy(c->exported_session_key, sbk, 16);
	}

	/* header (with Version and MIC), then the payload in field order */
	memcpy(hdr, "NTLMSSP", 8);
	PUSH_LE32(hdr, 8, NTLMSSP_MSG_AUTHENTICATE);
	ofs = sizeof(hdr);
	put_field(hdr, 12, ofs, c->anonymous ? 0 : 24);
	ofs += c->anonymous ? 0 : 24;
	put_field(hdr, 20, ofs, ntresp.len);
	ofs += ntresp.len;
	put_field(hdr, 28, ofs, dom16_len);
	ofs += dom16_len;
	put_field(hdr, 36, ofs, user16_len);
	ofs += user16_len;
	put_field(hdr, 44, ofs, ws16_len);
	ofs += ws16_len;
	put_field(hdr, 52, ofs,
		  (chal.flags & NTLMSSP_NEGOTIATE_KEY_EXCH) ? 16 : 0);
	PUSH_LE32(hdr, 60, chal.flags);
	ntlmssp_push_version(hdr + 64);
	if (!put(mem_ctx, &msg, hdr, sizeof(hdr)) ||
	    !put(mem_ctx, &msg, lm, c->anonymous ? 0 : 24) ||
	    !put(mem_ctx, &msg, ntresp.p, ntresp.len) ||
	    !put(mem_ctx, &msg, dom16, dom16_len) ||
	    !put(mem_ctx, &msg, user16, user16_len) ||
	    !put(mem_ctx, &msg, ws16, ws16_len) ||
	    !put(mem_ctx, &msg, esk,
		 (chal.flags & NTLMSSP_NEGOTIATE_KEY_EXCH) ? 16 : 0)) {
		goto done;
	}
	if (c->send_mic && !c->anonymous && !c->ntlmv1) {
		uint8_t mic[16];

		if (!ntlmssp_hmac_md5_3(c->exported_session_key, 16,
					c->negotiate, c->negotiate_len,
					challenge, challenge_len, msg.p,
					msg.len, mic)) {
			goto done;
		}
		if (c->corrupt_mic) {
			mic[3] ^= 0x01;
		}
		memcpy(msg.p + NTLMSSP_AUTH_MIC_OFFSET, mic, 16);
	}
	*out = msg.p;
	*out_len = msg.len;
	msg.p = NULL;
	status = NT_STATUS_OK;
done:
	talloc_free(msg.p);
	talloc_free(tmp);
	return status;
}

bool ntlm_test_client_sign(const struct ntlm_test_client *c,
			   const uint8_t *msg, size_t len, uint8_t sig[16])
{
	uint8_t sign_key[16], seal_key[16];

	return ntlmssp_sign_key(c->exported_session_key, true, sign_key) &&
	       ntlmssp_seal_key(c->exported_session_key, c->auth_flags, true,
				seal_key) &&
	       ntlmssp_make_signature(
		       sign_key,
		       (c->auth_flags & NTLMSSP_NEGOTIATE_KEY_EXCH) ? seal_key
								    : NULL,
		       0, msg, len, sig);
}
