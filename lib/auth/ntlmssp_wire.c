#include "lib/auth/ntlmssp_wire.h"

#include <string.h>

#include "lib/util/byteorder.h"
#include "lib/util/charset.h"

static const uint8_t ntlmssp_signature[8] = { 'N', 'T', 'L', 'M',
					      'S', 'S', 'P', 0 };

uint32_t ntlmssp_message_type(const uint8_t *msg, size_t len)
{
	if (len < 12 || memcmp(msg, ntlmssp_signature, 8) != 0) {
		return 0;
	}
	return PULL_LE32(msg, 8);
}

/*
 * A payload field descriptor: Len(2) MaxLen(2) BufferOffset(4) at
 * field_ofs.  The buffer must lie wholly inside the message.  An empty
 * field's offset means nothing and is not checked (clients put
 * anything there).
 */
static bool pull_field(const uint8_t *msg, size_t len, size_t field_ofs,
		       struct ntlmssp_blob *out, size_t *payload_start)
{
	uint16_t flen;
	uint32_t fofs;

	if (field_ofs + 8 > len) {
		return false;
	}
	flen = PULL_LE16(msg, field_ofs);
	fofs = PULL_LE32(msg, field_ofs + 4);
	if (flen == 0) {
		out->data = NULL;
		out->len = 0;
		return true;
	}
	/* 64-bit sum: a 32-bit offset plus a length cannot wrap. */
	if ((uint64_t)fofs + flen > len) {
		return false;
	}
	out->data = msg + fofs;
	out->len = flen;
	if (payload_start != NULL && fofs < *payload_start) {
		*payload_start = fofs;
	}
	return true;
}

NTSTATUS ntlmssp_parse_negotiate(const uint8_t *msg, size_t len,
				 struct ntlmssp_negotiate_msg *out)
{
	struct ntlmssp_blob domain, workstation;
	size_t payload_start = len;

	/* Signature, MessageType, NegotiateFlags at least ([MS-NLMP]
	 * 2.2.1.1); the two OEM fields follow in every client since NT4. */
	if (ntlmssp_message_type(msg, len) != NTLMSSP_MSG_NEGOTIATE ||
	    len < 16) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	out->flags = PULL_LE32(msg, 12);
	if (len >= 32) {
		if (!pull_field(msg, len, 16, &domain, &payload_start) ||
		    !pull_field(msg, len, 24, &workstation, &payload_start)) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		if (payload_start < 32) {
			return NT_STATUS_INVALID_PARAMETER;
		}
	}
	return NT_STATUS_OK;
}

NTSTATUS ntlmssp_parse_challenge(const uint8_t *msg, size_t len,
				 struct ntlmssp_challenge_msg *out)
{
	size_t payload_start = len;

	if (ntlmssp_message_type(msg, len) != NTLMSSP_MSG_CHALLENGE ||
	    len < 48) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!pull_field(msg, len, 12, &out->target_name, &payload_start) ||
	    !pull_field(msg, len, 40, &out->target_info, &payload_start) ||
	    payload_start < 48) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	out->flags = PULL_LE32(msg, 20);
	memcpy(out->server_challenge, msg + 24, 8);
	return NT_STATUS_OK;
}

NTSTATUS ntlmssp_parse_authenticate(const uint8_t *msg, size_t len,
				    struct ntlmssp_authenticate_msg *out)
{
	size_t payload_start = len;

	if (ntlmssp_message_type(msg, len) != NTLMSSP_MSG_AUTHENTICATE ||
	    len < NTLMSSP_AUTH_HEADER_MIN) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	memset(out, 0, sizeof(*out));
	if (!pull_field(msg, len, 12, &out->lm_response, &payload_start) ||
	    !pull_field(msg, len, 20, &out->nt_response, &payload_start) ||
	    !pull_field(msg, len, 28, &out->domain, &payload_start) ||
	    !pull_field(msg, len, 36, &out->user, &payload_start) ||
	    !pull_field(msg, len, 44, &out->workstation, &payload_start) ||
	    !pull_field(msg, len, 52, &out->encrypted_session_key,
			&payload_start)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* A payload inside the fixed header would alias the fields that
	 * describe it. */
	if (payload_start < NTLMSSP_AUTH_HEADER_MIN) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	out->payload_start = payload_start;
	out->flags = PULL_LE32(msg, 60);
	return NT_STATUS_OK;
}

NTSTATUS ntlmssp_parse_av_pairs(const uint8_t *p, size_t len,
				struct ntlmssp_av_info *out)
{
	size_t ofs = 0;

	memset(out, 0, sizeof(*out));
	while (ofs + 4 <= len) {
		uint16_t id = PULL_LE16(p, ofs);
		uint16_t vlen = PULL_LE16(p, ofs + 2);
		const uint8_t *v = p + ofs + 4;

		if (ofs + 4 + (size_t)vlen > len) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		switch (id) {
		case MSV_AV_EOL:
			return NT_STATUS_OK;
		case MSV_AV_FLAGS:
			if (vlen != 4) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			out->has_flags = true;
			out->flags = PULL_LE32(v, 0);
			break;
		case MSV_AV_TIMESTAMP:
			if (vlen != 8) {
				return NT_STATUS_INVALID_PARAMETER;
			}
			out->has_timestamp = true;
			out->timestamp = PULL_LE64(v, 0);
			break;
		default:
			break;
		}
		ofs += 4 + vlen;
	}
	return NT_STATUS_INVALID_PARAMETER; /* no MsvAvEOL */
}

char *ntlmssp_blob_to_string(TALLOC_CTX *mem_ctx,
			     const struct ntlmssp_blob *b, bool unicode)
{
	size_t i;

	if (b->len == 0) {
		return talloc_strdup(mem_ctx, "");
	}
	if (unicode) {
		return utf16le_to_utf8(mem_ctx, b->data, b->len);
	}
	for (i = 0; i < b->len; i++) {
		if (b->data[i] == 0 || b->data[i] >= 0x80) {
			return NULL;
		}
	}
	return talloc_strndup(mem_ctx, (const char *)b->data, b->len);
}

void ntlmssp_push_version(uint8_t out[8])
{
	/* Windows 7 / 2008 R2 numbers, NTLMSSP_REVISION_W2K3 (15): what
	 * clients expect from a server that sends a MIC-capable exchange. */
	out[0] = 6;
	out[1] = 1;
	PUSH_LE16(out, 2, 7600);
	out[4] = out[5] = out[6] = 0;
	out[7] = 15;
}

/* Append-only builder with a hard size limit (every field is 16 bits). */
struct wbuf {
	uint8_t *p;
	size_t len;
	bool failed;
};

static void wbuf_put(struct wbuf *w, const void *data, size_t n)
{
	if (w->failed || w->len + n > UINT16_MAX) {
		w->failed = true;
		return;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void wbuf_put_av_string(struct wbuf *w, uint16_t id, const char *s)
{
	uint8_t hdr[4];
	ssize_t n = utf8_utf16le_len(s != NULL ? s : "");

	if (n < 0 || n > UINT16_MAX || w->failed ||
	    w->len + 4 + (size_t)n > UINT16_MAX) {
		w->failed = true;
		return;
	}
	PUSH_LE16(hdr, 0, id);
	PUSH_LE16(hdr, 2, (uint16_t)n);
	wbuf_put(w, hdr, 4);
	utf8_to_utf16le_buf(s != NULL ? s : "", w->p + w->len, (size_t)n);
	w->len += (size_t)n;
}

NTSTATUS ntlmssp_build_challenge(TALLOC_CTX *mem_ctx,
				 const struct ntlmssp_challenge_params *p,
				 uint8_t **out, size_t *out_len)
{
	enum { HDR = 56 };
	struct wbuf w = { 0 };
	const char *target = p->target_name != NULL ? p->target_name : "";
	size_t name_ofs, name_len, info_ofs, info_len;
	uint8_t av[12];

	w.p = talloc_zero_array(mem_ctx, uint8_t, UINT16_MAX);
	if (w.p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	w.len = HDR;

	name_ofs = w.len;
	if (p->flags & NTLMSSP_NEGOTIATE_UNICODE) {
		wbuf_put_av_string(&w, 0, target);
		/* strip the AV header again: TargetName is a bare string */
		if (!w.failed) {
			memmove(w.p + name_ofs, w.p + name_ofs + 4,
				w.len - name_ofs - 4);
			w.len -= 4;
		}
	} else {
		wbuf_put(&w, target, strlen(target));
	}
	name_len = w.len - name_ofs;

	info_ofs = w.len;
	wbuf_put_av_string(&w, MSV_AV_NB_DOMAIN_NAME, p->nb_domain);
	wbuf_put_av_string(&w, MSV_AV_NB_COMPUTER_NAME, p->nb_computer);
	wbuf_put_av_string(&w, MSV_AV_DNS_DOMAIN_NAME, p->dns_domain);
	wbuf_put_av_string(&w, MSV_AV_DNS_COMPUTER_NAME, p->dns_computer);
	PUSH_LE16(av, 0, MSV_AV_TIMESTAMP);
	PUSH_LE16(av, 2, 8);
	PUSH_LE64(av, 4, p->timestamp);
	wbuf_put(&w, av, 12);
	PUSH_LE32(av, 0, MSV_AV_EOL); /* id 0, length 0 */
	wbuf_put(&w, av, 4);
	info_len = w.len - info_ofs;
	if (w.failed) {
		talloc_free(w.p);
		return NT_STATUS_INVALID_PARAMETER;
	}

	memcpy(w.p, ntlmssp_signature, 8);
	PUSH_LE32(w.p, 8, NTLMSSP_MSG_CHALLENGE);
	PUSH_LE16(w.p, 12, (uint16_t)name_len);
	PUSH_LE16(w.p, 14, (uint16_t)name_len);
	PUSH_LE32(w.p, 16, (uint32_t)name_ofs);
	PUSH_LE32(w.p, 20, p->flags);
	memcpy(w.p + 24, p->server_challenge, 8);
	memset(w.p + 32, 0, 8);
	PUSH_LE16(w.p, 40, (uint16_t)info_len);
	PUSH_LE16(w.p, 42, (uint16_t)info_len);
	PUSH_LE32(w.p, 44, (uint32_t)info_ofs);
	ntlmssp_push_version(w.p + 48);

	*out = talloc_realloc(mem_ctx, w.p, uint8_t, w.len);
	if (*out == NULL) {
		talloc_free(w.p);
		return NT_STATUS_NO_MEMORY;
	}
	*out_len = w.len;
	return NT_STATUS_OK;
}
