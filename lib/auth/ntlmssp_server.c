#include "lib/auth/ntlmssp_server.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>
#include <time.h>

#include "lib/auth/ntlmssp_crypto.h"
#include "lib/auth/ntlmssp_wire.h"
#include "lib/util/byteorder.h"
#include "lib/util/charset.h"
#include "lib/util/debug.h"

enum ntlmssp_server_state {
	NTLMSSP_EXPECT_NEGOTIATE,
	NTLMSSP_EXPECT_AUTHENTICATE,
	NTLMSSP_DONE,
	NTLMSSP_FAILED,
};

/* The flags this server can honour; the CHALLENGE echoes the client's
 * requests among them ([MS-NLMP] 3.2.5.1.1). */
#define NTLMSSP_SERVER_OPTIONAL_FLAGS                                          \
	(NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_SIGN |                  \
	 NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_ALWAYS_SIGN |              \
	 NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |                          \
	 NTLMSSP_NEGOTIATE_VERSION | NTLMSSP_NEGOTIATE_128 |                   \
	 NTLMSSP_NEGOTIATE_56 | NTLMSSP_NEGOTIATE_KEY_EXCH)

struct ntlmssp_server {
	enum ntlmssp_server_state state;
	struct gensec_settings settings; /* strings are our children */
	uint8_t *negotiate_msg;
	size_t negotiate_len;
	uint8_t *challenge_msg;
	size_t challenge_len;
	uint8_t server_challenge[8];
	uint32_t chal_flags;
	uint32_t flags; /* in force after AUTHENTICATE */
	bool had_mic;
	struct auth_session_info info;
};

static int ntlmssp_server_destructor(struct ntlmssp_server *n)
{
	gnutls_memset(n->info.session_key, 0, sizeof(n->info.session_key));
	return 0;
}

static char *dup_or_null(TALLOC_CTX *mem_ctx, const char *s, bool *ok)
{
	char *r;

	if (s == NULL) {
		return NULL;
	}
	r = talloc_strdup(mem_ctx, s);
	if (r == NULL) {
		*ok = false;
	}
	return r;
}

struct ntlmssp_server *ntlmssp_server_new(TALLOC_CTX *mem_ctx,
					  const struct gensec_settings *s)
{
	struct ntlmssp_server *n;
	bool ok = true;

	if (s->netbios_name == NULL || s->lookup.get_nt_hash == NULL) {
		return NULL;
	}
	n = talloc_zero(mem_ctx, struct ntlmssp_server);
	if (n == NULL) {
		return NULL;
	}
	talloc_set_destructor(n, ntlmssp_server_destructor);
	n->settings = *s;
	n->settings.netbios_name = dup_or_null(n, s->netbios_name, &ok);
	n->settings.netbios_domain = dup_or_null(n, s->netbios_domain, &ok);
	n->settings.dns_name = dup_or_null(n, s->dns_name, &ok);
	n->settings.dns_domain = dup_or_null(n, s->dns_domain, &ok);
	n->settings.guest_account =
		dup_or_null(n, s->guest_account != NULL ? s->guest_account
							: "nobody",
			    &ok);
	if (!ok) {
		talloc_free(n);
		return NULL;
	}
	return n;
}

static uint64_t filetime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* 100 ns ticks since 1601-01-01 */
	return ((uint64_t)ts.tv_sec + 11644473600ULL) * 10000000ULL +
	       (uint64_t)ts.tv_nsec / 100;
}

static char *lowercase(TALLOC_CTX *mem_ctx, const char *s)
{
	char *r = talloc_strdup(mem_ctx, s);
	size_t i;

	for (i = 0; r != NULL && r[i] != '\0'; i++) {
		if (r[i] >= 'A' && r[i] <= 'Z') {
			r[i] = (char)(r[i] + 0x20);
		}
	}
	return r;
}

static NTSTATUS ntlmssp_server_negotiate(struct ntlmssp_server *n,
					 TALLOC_CTX *out_ctx,
					 const uint8_t *in, size_t in_len,
					 uint8_t **out, size_t *out_len)
{
	struct ntlmssp_negotiate_msg neg;
	struct ntlmssp_challenge_params p = { 0 };
	TALLOC_CTX *frame;
	NTSTATUS status;

	status = ntlmssp_parse_negotiate(in, in_len, &neg);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_INFO("malformed NTLMSSP NEGOTIATE (%zu bytes)\n", in_len);
		return status;
	}
	if (gnutls_rnd(GNUTLS_RND_NONCE, n->server_challenge, 8) != 0) {
		return NT_STATUS_INTERNAL_ERROR;
	}
	/*
	 * Windows and Samba standalone servers name themselves as the
	 * target (TARGET_TYPE_SERVER): the accounts live in the server's
	 * own database, whatever the workgroup is called.
	 */
	p.flags = (neg.flags & NTLMSSP_SERVER_OPTIONAL_FLAGS) |
		  NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_REQUEST_TARGET |
		  NTLMSSP_TARGET_TYPE_SERVER | NTLMSSP_NEGOTIATE_TARGET_INFO;
	if (!(neg.flags & NTLMSSP_NEGOTIATE_UNICODE) &&
	    (neg.flags & NTLMSSP_NEGOTIATE_OEM)) {
		p.flags |= NTLMSSP_NEGOTIATE_OEM;
	}
	memcpy(p.server_challenge, n->server_challenge, 8);
	frame = talloc_new(n);
	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	p.target_name = n->settings.netbios_name;
	p.nb_domain = n->settings.netbios_name;
	p.nb_computer = n->settings.netbios_name;
	p.dns_domain = n->settings.dns_domain != NULL ? n->settings.dns_domain
						      : "";
	p.dns_computer = n->settings.dns_name != NULL
				 ? n->settings.dns_name
				 : lowercase(frame, n->settings.netbios_name);
	p.timestamp = filetime_now();
	if (p.dns_computer == NULL) {
		talloc_free(frame);
		return NT_STATUS_NO_MEMORY;
	}
	status = ntlmssp_build_challenge(out_ctx, &p, out, out_len);
	talloc_free(frame);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	n->negotiate_msg = talloc_memdup(n, in, in_len);
	n->challenge_msg = talloc_memdup(n, *out, *out_len);
	if (n->negotiate_msg == NULL || n->challenge_msg == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	n->negotiate_len = in_len;
	n->challenge_len = *out_len;
	n->chal_flags = p.flags;
	n->state = NTLMSSP_EXPECT_AUTHENTICATE;
	return NT_STATUS_MORE_PROCESSING_REQUIRED;
}

/* A payload string as UTF-16LE for NTOWFv2, whatever its wire form. */
static bool blob_utf16(TALLOC_CTX *mem_ctx, const struct ntlmssp_blob *b,
		       const char *as_utf8, bool unicode, const uint8_t **p,
		       size_t *len)
{
	uint8_t *conv;

	if (unicode) {
		*p = b->data;
		*len = b->len;
		return true;
	}
	if (!utf8_to_utf16le(mem_ctx, as_utf8, &conv, len)) {
		return false;
	}
	*p = conv;
	return true;
}

struct ntlmv2_check {
	const char *user;
	const char *domain;
	const uint8_t *user16;
	size_t user16_len;
	const uint8_t *domain16;
	size_t domain16_len;
	const struct ntlmssp_blob *nt_response;
	uint8_t session_base_key[16];
};

/* Try the NTLMv2 proof with one domain spelling. */
static bool ntlmv2_try_domain(const uint8_t nt_hash[16],
			      const uint8_t server_challenge[8],
			      struct ntlmv2_check *c, const uint8_t *dom16,
			      size_t dom16_len)
{
	uint8_t key[16], proof[16];
	bool ok;

	ok = ntlmssp_ntowfv2(nt_hash, c->user16, c->user16_len, dom16,
			     dom16_len, key) &&
	     ntlmssp_nt_proof(key, server_challenge, c->nt_response->data + 16,
			      c->nt_response->len - 16, proof) &&
	     ntlmssp_mem_equal(proof, c->nt_response->data, 16) &&
	     ntlmssp_session_base_key(key, proof, c->session_base_key);
	gnutls_memset(key, 0, sizeof(key));
	return ok;
}

/*
 * [MS-NLMP] 3.3.2.  Windows checks the domain the client named, and for
 * local accounts also the empty domain (clients that do not know the
 * server's name send ""); Samba also tries the upper-cased domain, which
 * some clients used for NTOWFv2.
 */
static bool ntlmv2_verify(TALLOC_CTX *mem_ctx, const uint8_t nt_hash[16],
			  const uint8_t server_challenge[8],
			  struct ntlmv2_check *c)
{
	uint8_t *upper;
	size_t i;

	if (ntlmv2_try_domain(nt_hash, server_challenge, c, c->domain16,
			      c->domain16_len)) {
		return true;
	}
	if (c->domain16_len > 0 &&
	    ntlmv2_try_domain(nt_hash, server_challenge, c, NULL, 0)) {
		return true;
	}
	upper = talloc_memdup(mem_ctx, c->domain16, c->domain16_len);
	if (c->domain16_len == 0 || upper == NULL) {
		return false;
	}
	for (i = 0; i + 1 < c->domain16_len; i += 2) {
		if (upper[i] >= 'a' && upper[i] <= 'z' && upper[i + 1] == 0) {
			upper[i] = (uint8_t)(upper[i] - 0x20);
		}
	}
	if (memcmp(upper, c->domain16, c->domain16_len) == 0) {
		return false;
	}
	return ntlmv2_try_domain(nt_hash, server_challenge, c, upper,
				 c->domain16_len);
}

static NTSTATUS ntlmssp_logon_failed(const char *user, const char *domain,
				     const char *workstation,
				     const char *reason, NTSTATUS status)
{
	DBG_NOTICE("NTLMSSP logon failed: account [%s] domain [%s] "
		   "workstation [%s]: %s (%s)\n",
		   user, domain, workstation, reason, nt_errstr(status));
	return status;
}

static NTSTATUS ntlmssp_set_info(struct ntlmssp_server *n, const char *account,
				 const char *domain, const char *workstation)
{
	n->info.account = talloc_strdup(n, account);
	n->info.domain = talloc_strdup(n, domain);
	n->info.workstation = talloc_strdup(n, workstation);
	if (n->info.account == NULL || n->info.domain == NULL ||
	    n->info.workstation == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	return NT_STATUS_OK;
}

static NTSTATUS ntlmssp_guest(struct ntlmssp_server *n, const char *user,
			      const char *domain, const char *workstation,
			      const char *why)
{
	DBG_INFO("NTLMSSP: account [%s] domain [%s] workstation [%s] "
		 "mapped to guest [%s] (%s)\n",
		   user, domain, workstation, n->settings.guest_account, why);
	n->info.guest = true;
	return ntlmssp_set_info(n, n->settings.guest_account,
				n->settings.netbios_name, workstation);
}

/* The MIC of [MS-NLMP] 3.1.5.1.2 over all three messages, with the
 * AUTHENTICATE's MIC field zeroed. */
static NTSTATUS ntlmssp_check_auth_mic(struct ntlmssp_server *n,
				       const uint8_t *auth, size_t auth_len,
				       const struct ntlmssp_authenticate_msg *a,
				       const uint8_t exported_key[16])
{
	uint8_t *copy;
	uint8_t mic[16];
	bool ok;

	if (auth_len < NTLMSSP_AUTH_HEADER_WITH_MIC ||
	    a->payload_start < NTLMSSP_AUTH_HEADER_WITH_MIC) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	copy = talloc_memdup(n, auth, auth_len);
	if (copy == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	memset(copy + NTLMSSP_AUTH_MIC_OFFSET, 0, 16);
	ok = ntlmssp_hmac_md5_3(exported_key, 16, n->negotiate_msg,
				n->negotiate_len, n->challenge_msg,
				n->challenge_len, copy, auth_len, mic);
	talloc_free(copy);
	if (!ok) {
		return NT_STATUS_INTERNAL_ERROR;
	}
	if (!ntlmssp_mem_equal(mic, auth + NTLMSSP_AUTH_MIC_OFFSET, 16)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_OK;
}

/* From a verified proof to the exported session key and the MIC check. */
static NTSTATUS ntlmssp_finish_keys(struct ntlmssp_server *n,
				    const uint8_t *in, size_t in_len,
				    const struct ntlmssp_authenticate_msg *a,
				    const struct ntlmv2_check *c,
				    const char **reason)
{
	const uint8_t *temp = a->nt_response.data + 16;
	size_t temp_len = a->nt_response.len - 16;
	struct ntlmssp_av_info av;
	uint8_t exported[16];
	NTSTATUS status;

	/* The AV pairs follow the 28-byte fixed part of the
	 * NTLMv2_CLIENT_CHALLENGE; they are covered by the proof. */
	status = ntlmssp_parse_av_pairs(temp + 28, temp_len - 28, &av);
	if (!NT_STATUS_IS_OK(status)) {
		*reason = "malformed AV pairs in the NTLMv2 response";
		return status;
	}
	/* NTLMv2: KeyExchangeKey = SessionBaseKey ([MS-NLMP] 3.4.5.1). */
	if (n->flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
		if (a->encrypted_session_key.len != 16) {
			*reason = "KEY_EXCH without a 16-byte session key";
			return NT_STATUS_INVALID_PARAMETER;
		}
		if (!ntlmssp_rc4(c->session_base_key,
				 a->encrypted_session_key.data, 16, exported)) {
			return NT_STATUS_INTERNAL_ERROR;
		}
	} else {
		memcpy(exported, c->session_base_key, 16);
	}
	if (av.has_flags && (av.flags & MSV_AV_FLAG_MIC_PRESENT)) {
		status = ntlmssp_check_auth_mic(n, in, in_len, a, exported);
		if (!NT_STATUS_IS_OK(status)) {
			gnutls_memset(exported, 0, sizeof(exported));
			*reason = "MIC of the AUTHENTICATE message is wrong";
			return status;
		}
		n->had_mic = true;
	}
	memcpy(n->info.session_key, exported, 16);
	n->info.has_session_key = true;
	gnutls_memset(exported, 0, sizeof(exported));
	return NT_STATUS_OK;
}

static NTSTATUS ntlmssp_server_authenticate(struct ntlmssp_server *n,
					    const uint8_t *in, size_t in_len)
{
	TALLOC_CTX *frame = talloc_new(n);
	struct ntlmssp_authenticate_msg a;
	struct ntlmv2_check c = { 0 };
	const char *workstation;
	const char *reason = NULL;
	uint8_t nt_hash[16];
	bool unicode = n->chal_flags & NTLMSSP_NEGOTIATE_UNICODE;
	bool disabled = false;
	NTSTATUS status;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = ntlmssp_parse_authenticate(in, in_len, &a);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("NTLMSSP logon failed: malformed AUTHENTICATE "
			   "(%zu bytes)\n",
			   in_len);
		goto done;
	}
	/* Only what both sides announced is in force. */
	n->flags = n->chal_flags & (a.flags | NTLMSSP_NEGOTIATE_UNICODE |
				    NTLMSSP_NEGOTIATE_OEM);
	c.user = ntlmssp_blob_to_string(frame, &a.user, unicode);
	c.domain = ntlmssp_blob_to_string(frame, &a.domain, unicode);
	workstation = ntlmssp_blob_to_string(frame, &a.workstation, unicode);
	if (c.user == NULL || c.domain == NULL || workstation == NULL) {
		DBG_NOTICE("NTLMSSP logon failed: invalid strings in "
			   "AUTHENTICATE\n");
		status = NT_STATUS_INVALID_PARAMETER;
		goto done;
	}

	/* [MS-NLMP] 3.2.5.1.2: anonymous is an empty user with no NT
	 * response and an empty (or one zero byte) LM response. */
	if (c.user[0] == '\0' && a.nt_response.len == 0 &&
	    a.lm_response.len <= 1) {
		if (!n->settings.allow_anonymous) {
			status = ntlmssp_logon_failed(
				c.user, c.domain, workstation,
				"anonymous logon not allowed",
				NT_STATUS_LOGON_FAILURE);
			goto done;
		}
		DBG_INFO("NTLMSSP: anonymous from workstation [%s]\n",
			 workstation);
		n->info.anonymous = true;
		status = ntlmssp_set_info(n, "", "", workstation);
		goto done;
	}
	if (a.nt_response.len < NTLMV2_RESPONSE_MIN) {
		/* 24 bytes is NTLMv1 (or NTLM2 session response); nothing or
		 * LM only is worse: refused like "ntlm auth = ntlmv2-only". */
		status = ntlmssp_logon_failed(
			c.user, c.domain, workstation,
			"NTLMv1/LM response refused (NTLMv2 only)",
			NT_STATUS_LOGON_FAILURE);
		goto done;
	}
	if (c.user[0] == '\0') {
		status = ntlmssp_logon_failed(c.user, c.domain, workstation,
					      "empty user name with responses",
					      NT_STATUS_LOGON_FAILURE);
		goto done;
	}
	/* NTLMv2_CLIENT_CHALLENGE: RespType 1, HiRespType 1 (2.2.2.7) */
	if (a.nt_response.data[16] != 1 || a.nt_response.data[17] != 1) {
		status = ntlmssp_logon_failed(c.user, c.domain, workstation,
					      "not an NTLMv2 response",
					      NT_STATUS_LOGON_FAILURE);
		goto done;
	}

	status = n->settings.lookup.get_nt_hash(n->settings.lookup.private_data,
						c.user, c.domain, nt_hash,
						&disabled);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NO_SUCH_USER)) {
		if (n->settings.map_to_guest != AUTH_MAP_TO_GUEST_NEVER) {
			status = ntlmssp_guest(n, c.user, c.domain,
					       workstation, "unknown user");
			goto done;
		}
		status = ntlmssp_logon_failed(c.user, c.domain, workstation,
					      "unknown user",
					      NT_STATUS_LOGON_FAILURE);
		goto done;
	}
	if (!NT_STATUS_IS_OK(status)) {
		status = ntlmssp_logon_failed(c.user, c.domain, workstation,
					      nt_errstr(status),
					      NT_STATUS_LOGON_FAILURE);
		goto done;
	}

	c.nt_response = &a.nt_response;
	if (!blob_utf16(frame, &a.user, c.user, unicode, &c.user16,
			&c.user16_len) ||
	    !blob_utf16(frame, &a.domain, c.domain, unicode, &c.domain16,
			&c.domain16_len)) {
		status = NT_STATUS_INVALID_PARAMETER;
		goto done;
	}
	if (!ntlmv2_verify(frame, nt_hash, n->server_challenge, &c)) {
		gnutls_memset(nt_hash, 0, sizeof(nt_hash));
		if (n->settings.map_to_guest == AUTH_MAP_TO_GUEST_BAD_PASSWORD) {
			status = ntlmssp_guest(n, c.user, c.domain,
					       workstation, "wrong password");
			goto done;
		}
		/* Windows says LOGON_FAILURE for a wrong password, and for a
		 * disabled account only once the password was right. */
		status = ntlmssp_logon_failed(c.user, c.domain, workstation,
					      "wrong password",
					      NT_STATUS_LOGON_FAILURE);
		goto done;
	}
	gnutls_memset(nt_hash, 0, sizeof(nt_hash));
	if (disabled) {
		status = ntlmssp_logon_failed(c.user, c.domain, workstation,
					      "account disabled",
					      NT_STATUS_ACCOUNT_DISABLED);
		goto done;
	}
	status = ntlmssp_finish_keys(n, in, in_len, &a, &c, &reason);
	gnutls_memset(c.session_base_key, 0, sizeof(c.session_base_key));
	if (!NT_STATUS_IS_OK(status)) {
		ntlmssp_logon_failed(c.user, c.domain, workstation,
				     reason != NULL ? reason : "key error",
				     status);
		goto done;
	}
	status = ntlmssp_set_info(n, c.user, c.domain, workstation);
	if (NT_STATUS_IS_OK(status)) {
		DBG_INFO("NTLMSSP: account [%s] domain [%s] workstation "
			 "[%s]: NTLMv2 response verified%s\n",
			 c.user, c.domain, workstation,
			 n->had_mic ? ", MIC verified" : "");
	}
done:
	talloc_free(frame);
	return status;
}

NTSTATUS ntlmssp_server_update(struct ntlmssp_server *n, TALLOC_CTX *out_ctx,
			       const uint8_t *in, size_t in_len, uint8_t **out,
			       size_t *out_len)
{
	NTSTATUS status = NT_STATUS_INVALID_PARAMETER;

	*out = NULL;
	*out_len = 0;
	switch (n->state) {
	case NTLMSSP_EXPECT_NEGOTIATE:
		status = ntlmssp_server_negotiate(n, out_ctx, in, in_len, out,
						  out_len);
		break;
	case NTLMSSP_EXPECT_AUTHENTICATE:
		status = ntlmssp_server_authenticate(n, in, in_len);
		break;
	case NTLMSSP_DONE:
	case NTLMSSP_FAILED:
		break;
	}
	if (NT_STATUS_IS_OK(status)) {
		n->state = NTLMSSP_DONE;
	} else if (!NT_STATUS_EQUAL(status,
				    NT_STATUS_MORE_PROCESSING_REQUIRED)) {
		n->state = NTLMSSP_FAILED;
		gnutls_memset(n->info.session_key, 0, 16);
		n->info.has_session_key = false;
	}
	return status;
}

const struct auth_session_info *ntlmssp_server_info(struct ntlmssp_server *n)
{
	return n->state == NTLMSSP_DONE ? &n->info : NULL;
}

bool ntlmssp_server_had_mic(struct ntlmssp_server *n)
{
	return n->state == NTLMSSP_DONE && n->had_mic;
}

bool ntlmssp_server_can_sign(struct ntlmssp_server *n)
{
	return n->state == NTLMSSP_DONE && n->info.has_session_key &&
	       (n->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY);
}

/* [MS-NLMP] 3.4.4.2: the checksum is RC4-sealed only under KEY_EXCH. */
static NTSTATUS ntlmssp_signature(struct ntlmssp_server *n,
				  bool client_to_server, const uint8_t *msg,
				  size_t msg_len, uint8_t sig[16])
{
	uint8_t sign_key[16], seal_key[16];
	bool ok;

	if (!ntlmssp_server_can_sign(n)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	ok = ntlmssp_sign_key(n->info.session_key, client_to_server,
			      sign_key) &&
	     ntlmssp_seal_key(n->info.session_key, n->flags, client_to_server,
			      seal_key) &&
	     ntlmssp_make_signature(sign_key,
				    (n->flags & NTLMSSP_NEGOTIATE_KEY_EXCH)
					    ? seal_key
					    : NULL,
				    0, msg, msg_len, sig);
	gnutls_memset(sign_key, 0, 16);
	gnutls_memset(seal_key, 0, 16);
	return ok ? NT_STATUS_OK : NT_STATUS_INTERNAL_ERROR;
}

NTSTATUS ntlmssp_server_check_signature(struct ntlmssp_server *n,
					const uint8_t *msg, size_t msg_len,
					const uint8_t *sig, size_t sig_len)
{
	uint8_t expected[16];
	NTSTATUS status;

	if (sig_len != 16) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	status = ntlmssp_signature(n, true, msg, msg_len, expected);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (!ntlmssp_mem_equal(expected, sig, 16)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_OK;
}

NTSTATUS ntlmssp_server_sign(struct ntlmssp_server *n, const uint8_t *msg,
			     size_t msg_len, uint8_t sig[16])
{
	return ntlmssp_signature(n, false, msg, msg_len, sig);
}

NTSTATUS ntlmssp_server_replay_challenge(struct ntlmssp_server *n,
					 const uint8_t *negotiate,
					 size_t negotiate_len,
					 const uint8_t *challenge,
					 size_t challenge_len)
{
	struct ntlmssp_challenge_msg chal;
	NTSTATUS status;

	if (n->state != NTLMSSP_EXPECT_NEGOTIATE) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	status = ntlmssp_parse_challenge(challenge, challenge_len, &chal);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	n->negotiate_msg = talloc_memdup(n, negotiate, negotiate_len);
	n->challenge_msg = talloc_memdup(n, challenge, challenge_len);
	if (n->negotiate_msg == NULL || n->challenge_msg == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	n->negotiate_len = negotiate_len;
	n->challenge_len = challenge_len;
	memcpy(n->server_challenge, chal.server_challenge, 8);
	n->chal_flags = chal.flags;
	n->state = NTLMSSP_EXPECT_AUTHENTICATE;
	return NT_STATUS_OK;
}
