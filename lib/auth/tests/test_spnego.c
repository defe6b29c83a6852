/*
 * SPNEGO: a real smbclient/Samba exchange decoded, re-encoded and its
 * NTLMSSP part verified (MIC, session key, both mechListMICs); the full
 * acceptor flow with the test client; malformed DER.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/auth/gensec.h"
#include "lib/auth/ntlmssp_crypto.h"
#include "lib/auth/ntlmssp_server.h"
#include "lib/auth/ntlmssp_wire.h"
#include "lib/auth/spnego.h"
#include "lib/auth/tests/capture_smbclient.h"
#include "lib/auth/tests/ntlm_test_client.h"
#include "lib/auth/tests/test_helpers.h"

#define KRB5_OID "1.2.840.113554.1.2.2"
#define MS_KRB5_OID "1.2.840.48018.1.2.2"

static void test_capture_decode_and_reencode(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	const char *const ntlm[] = { SPNEGO_NTLMSSP_OID };
	struct spnego_token *t;
	uint8_t *der;
	size_t der_len;

	assert_true(NT_STATUS_IS_OK(spnego_decode(
		ctx, smbclient_neg_token_init,
		sizeof(smbclient_neg_token_init), &t)));
	assert_int_equal(t->type, SPNEGO_NEG_TOKEN_INIT);
	assert_int_equal(t->num_mech_types, 1);
	assert_string_equal(t->mech_types[0], SPNEGO_NTLMSSP_OID);
	assert_true(t->has_mech_token);
	assert_false(t->has_mic);
	assert_int_equal(ntlmssp_message_type(t->mech_token, t->mech_token_len),
			 NTLMSSP_MSG_NEGOTIATE);
	assert_true(NT_STATUS_IS_OK(spnego_encode_init(
		ctx, ntlm, 1, t->mech_token, t->mech_token_len, NULL, 0, &der,
		&der_len)));
	assert_int_equal(der_len, sizeof(smbclient_neg_token_init));
	assert_memory_equal(der, smbclient_neg_token_init, der_len);

	assert_true(NT_STATUS_IS_OK(spnego_decode(
		ctx, samba_challenge_resp, sizeof(samba_challenge_resp), &t)));
	assert_int_equal(t->type, SPNEGO_NEG_TOKEN_RESP);
	assert_int_equal(t->neg_state, SPNEGO_ACCEPT_INCOMPLETE);
	assert_string_equal(t->supported_mech, SPNEGO_NTLMSSP_OID);
	assert_int_equal(ntlmssp_message_type(t->mech_token, t->mech_token_len),
			 NTLMSSP_MSG_CHALLENGE);
	assert_true(NT_STATUS_IS_OK(spnego_encode_resp(
		ctx, t->neg_state, t->supported_mech, t->mech_token,
		t->mech_token_len, NULL, 0, &der, &der_len)));
	assert_int_equal(der_len, sizeof(samba_challenge_resp));
	assert_memory_equal(der, samba_challenge_resp, der_len);

	assert_true(NT_STATUS_IS_OK(spnego_decode(
		ctx, smbclient_auth_resp, sizeof(smbclient_auth_resp), &t)));
	assert_int_equal(t->neg_state, -1);
	assert_null(t->supported_mech);
	assert_true(t->has_mic);
	assert_int_equal(t->mic_len, 16);
	assert_true(NT_STATUS_IS_OK(spnego_encode_resp(
		ctx, -1, NULL, t->mech_token, t->mech_token_len, t->mic,
		t->mic_len, &der, &der_len)));
	assert_memory_equal(der, smbclient_auth_resp, der_len);

	assert_true(NT_STATUS_IS_OK(spnego_decode(
		ctx, samba_accept_completed, sizeof(samba_accept_completed),
		&t)));
	assert_int_equal(t->neg_state, SPNEGO_ACCEPT_COMPLETED);
	assert_false(t->has_mech_token);
	assert_int_equal(t->mic_len, 16);
	talloc_free(ctx);
}

/*
 * Verify smbclient's AUTHENTICATE (NTLMv2 proof, KEY_EXCH, MIC over the
 * three messages) as if this server had sent Samba's CHALLENGE, then
 * smbclient's mechListMIC, then check that our mechListMIC equals the
 * one Samba sent.
 */
static void test_capture_ntlmssp_and_mech_list_mic(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct spnego_token *init, *chal, *auth, *done;
	struct ntlmssp_server *n;
	const struct auth_session_info *info;
	uint8_t *out, mic[16], bad_mic[16];
	size_t out_len;

	assert_true(NT_STATUS_IS_OK(spnego_decode(
		ctx, smbclient_neg_token_init,
		sizeof(smbclient_neg_token_init), &init)));
	assert_true(NT_STATUS_IS_OK(spnego_decode(
		ctx, samba_challenge_resp, sizeof(samba_challenge_resp),
		&chal)));
	assert_true(NT_STATUS_IS_OK(spnego_decode(
		ctx, smbclient_auth_resp, sizeof(smbclient_auth_resp), &auth)));
	assert_true(NT_STATUS_IS_OK(spnego_decode(
		ctx, samba_accept_completed, sizeof(samba_accept_completed),
		&done)));

	n = ntlmssp_server_new(ctx, &s);
	assert_non_null(n);
	assert_true(NT_STATUS_IS_OK(ntlmssp_server_replay_challenge(
		n, init->mech_token, init->mech_token_len, chal->mech_token,
		chal->mech_token_len)));
	assert_true(NT_STATUS_IS_OK(
		ntlmssp_server_update(n, ctx, auth->mech_token,
				      auth->mech_token_len, &out, &out_len)));
	info = ntlmssp_server_info(n);
	assert_non_null(info);
	assert_string_equal(info->account, "tuser");
	assert_string_equal(info->domain, "WORKGROUP");
	assert_true(info->has_session_key);
	assert_true(ntlmssp_server_had_mic(n));
	assert_true(ntlmssp_server_can_sign(n));

	assert_true(NT_STATUS_IS_OK(ntlmssp_server_check_signature(
		n, init->mech_types_der, init->mech_types_der_len, auth->mic,
		auth->mic_len)));
	memcpy(bad_mic, auth->mic, 16);
	bad_mic[9] ^= 1;
	assert_true(NT_STATUS_EQUAL(
		ntlmssp_server_check_signature(n, init->mech_types_der,
					       init->mech_types_der_len,
					       bad_mic, 16),
		NT_STATUS_INVALID_PARAMETER));
	assert_true(NT_STATUS_IS_OK(ntlmssp_server_sign(
		n, init->mech_types_der, init->mech_types_der_len, mic)));
	assert_memory_equal(mic, done->mic, 16);
	talloc_free(ctx);
}

static void test_capture_wrong_password(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct spnego_token *init, *chal, *auth;
	struct ntlmssp_server *n;
	uint8_t *out;
	size_t out_len;

	/* same exchange, but the account "tuser" now has another
	 * password: route lookups to alice's entry */
	s.lookup.get_nt_hash = NULL;
	s.lookup.get_nt_hash = test_get_nt_hash;
	assert_true(NT_STATUS_IS_OK(spnego_decode(
		ctx, smbclient_neg_token_init,
		sizeof(smbclient_neg_token_init), &init)));
	assert_true(NT_STATUS_IS_OK(spnego_decode(
		ctx, samba_challenge_resp, sizeof(samba_challenge_resp),
		&chal)));
	assert_true(NT_STATUS_IS_OK(spnego_decode(
		ctx, smbclient_auth_resp, sizeof(smbclient_auth_resp), &auth)));
	n = ntlmssp_server_new(ctx, &s);
	/* a different challenge than the one the client answered */
	chal->mech_token[24] ^= 0x01;
	assert_true(NT_STATUS_IS_OK(ntlmssp_server_replay_challenge(
		n, init->mech_token, init->mech_token_len, chal->mech_token,
		chal->mech_token_len)));
	assert_true(NT_STATUS_EQUAL(
		ntlmssp_server_update(n, ctx, auth->mech_token,
				      auth->mech_token_len, &out, &out_len),
		NT_STATUS_LOGON_FAILURE));
	talloc_free(ctx);
}

static void test_negotiate_blob(void **state)
{
	static const uint8_t expected[] = {
		0x60, 0x48, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02,
		0xa0, 0x3e, 0x30, 0x3c, 0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a,
		0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
		0xa3, 0x2a, 0x30, 0x28, 0xa0, 0x26, 0x1b, 0x24, 'n',  'o',
		't',  '_',  'd',  'e',  'f',  'i',  'n',  'e',  'd',  '_',
		'i',  'n',  '_',  'R',  'F',  'C',  '4',  '1',  '7',  '8',
		'@',  'p',  'l',  'e',  'a',  's',  'e',  '_',  'i',  'g',
		'n',  'o',  'r',  'e',
	};
	TALLOC_CTX *ctx = talloc_new(NULL);
	uint8_t *blob;
	size_t len;

	assert_true(NT_STATUS_IS_OK(
		gensec_spnego_negotiate_blob(ctx, &blob, &len)));
	assert_int_equal(len, sizeof(expected));
	assert_memory_equal(blob, expected, len);
	talloc_free(ctx);
}

struct spnego_run {
	struct gensec_server *g;
	struct ntlm_test_client c;
	uint8_t *challenge;
	size_t challenge_len;
	uint8_t *mech_types_der;
	size_t mech_types_der_len;
};

/* negTokenInit with the given mechanism list (NEGOTIATE as the
 * optimistic token) up to the CHALLENGE. */
static void spnego_start(TALLOC_CTX *ctx, struct spnego_run *r,
			 const struct gensec_settings *s,
			 const char *const *oids, size_t num)
{
	struct spnego_token *t;
	uint8_t *tok, *out;
	size_t tok_len, out_len;
	NTSTATUS status;

	r->g = gensec_server_new(ctx, s);
	assert_non_null(r->g);
	assert_true(NT_STATUS_IS_OK(ntlm_test_client_negotiate(&r->c, ctx)));
	assert_true(NT_STATUS_IS_OK(spnego_encode_init(
		ctx, oids, num, r->c.negotiate, r->c.negotiate_len, NULL, 0,
		&tok, &tok_len)));
	assert_true(NT_STATUS_IS_OK(spnego_encode_mech_types(
		ctx, oids, num, &r->mech_types_der, &r->mech_types_der_len)));
	status = gensec_server_update(r->g, ctx, tok, tok_len, &out, &out_len);
	assert_true(NT_STATUS_EQUAL(status,
				    NT_STATUS_MORE_PROCESSING_REQUIRED));
	assert_true(NT_STATUS_IS_OK(spnego_decode(ctx, out, out_len, &t)));
	assert_int_equal(t->type, SPNEGO_NEG_TOKEN_RESP);
	assert_string_equal(t->supported_mech, SPNEGO_NTLMSSP_OID);
	if (strcmp(oids[0], SPNEGO_NTLMSSP_OID) != 0) {
		/* the optimistic token was for another mechanism */
		assert_int_equal(t->neg_state, SPNEGO_REQUEST_MIC);
		assert_false(t->has_mech_token);
		assert_true(NT_STATUS_IS_OK(spnego_encode_resp(
			ctx, -1, NULL, r->c.negotiate, r->c.negotiate_len,
			NULL, 0, &tok, &tok_len)));
		status = gensec_server_update(r->g, ctx, tok, tok_len, &out,
					      &out_len);
		assert_true(NT_STATUS_EQUAL(
			status, NT_STATUS_MORE_PROCESSING_REQUIRED));
		assert_true(
			NT_STATUS_IS_OK(spnego_decode(ctx, out, out_len, &t)));
	}
	assert_int_equal(t->neg_state, SPNEGO_ACCEPT_INCOMPLETE);
	assert_true(t->has_mech_token);
	r->challenge = t->mech_token;
	r->challenge_len = t->mech_token_len;
}

enum mic_mode { MIC_GOOD, MIC_BAD, MIC_NONE };

static NTSTATUS spnego_finish(TALLOC_CTX *ctx, struct spnego_run *r,
			      enum mic_mode mode, struct spnego_token **final)
{
	uint8_t *auth, *tok, *out, mic[16];
	size_t auth_len, tok_len, out_len;
	NTSTATUS status;

	assert_true(NT_STATUS_IS_OK(ntlm_test_client_authenticate(
		&r->c, ctx, r->challenge, r->challenge_len, &auth, &auth_len)));
	assert_true(ntlm_test_client_sign(&r->c, r->mech_types_der,
					  r->mech_types_der_len, mic));
	if (mode == MIC_BAD) {
		mic[5] ^= 0x40;
	}
	assert_true(NT_STATUS_IS_OK(spnego_encode_resp(
		ctx, -1, NULL, auth, auth_len, mode == MIC_NONE ? NULL : mic,
		16, &tok, &tok_len)));
	status = gensec_server_update(r->g, ctx, tok, tok_len, &out, &out_len);
	*final = NULL;
	if (NT_STATUS_IS_OK(status)) {
		assert_true(
			NT_STATUS_IS_OK(spnego_decode(ctx, out, out_len, final)));
		assert_int_equal((*final)->neg_state, SPNEGO_ACCEPT_COMPLETED);
	}
	return status;
}

/* The server's mechListMIC as the client checks it. */
static void check_server_mic(struct spnego_run *r, struct spnego_token *t)
{
	uint8_t sign_key[16], seal_key[16], expected[16];

	assert_true(t->has_mic);
	assert_int_equal(t->mic_len, 16);
	assert_true(ntlmssp_sign_key(r->c.exported_session_key, false,
				     sign_key));
	assert_true(ntlmssp_seal_key(r->c.exported_session_key,
				     r->c.auth_flags, false, seal_key));
	assert_true(ntlmssp_make_signature(sign_key, seal_key, 0,
					   r->mech_types_der,
					   r->mech_types_der_len, expected));
	assert_memory_equal(t->mic, expected, 16);
}

static void test_spnego_flow(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	const char *const ntlm_first[] = { SPNEGO_NTLMSSP_OID, KRB5_OID };
	struct spnego_run r;
	struct spnego_token *final;
	struct auth_session_info *info;

	ntlm_test_client_init(&r.c, "alice", "WORKGROUP", "Secret#1");
	spnego_start(ctx, &r, &s, ntlm_first, 2);
	assert_true(NT_STATUS_IS_OK(spnego_finish(ctx, &r, MIC_GOOD, &final)));
	check_server_mic(&r, final);
	assert_true(NT_STATUS_IS_OK(
		gensec_server_session_info(r.g, ctx, &info)));
	assert_string_equal(info->account, "alice");
	assert_true(info->has_session_key);
	assert_memory_equal(info->session_key, r.c.exported_session_key, 16);

	/* wrong mechListMIC */
	ntlm_test_client_init(&r.c, "alice", "WORKGROUP", "Secret#1");
	spnego_start(ctx, &r, &s, ntlm_first, 2);
	assert_true(NT_STATUS_EQUAL(spnego_finish(ctx, &r, MIC_BAD, &final),
				    NT_STATUS_INVALID_PARAMETER));
	assert_false(NT_STATUS_IS_OK(
		gensec_server_session_info(r.g, ctx, &info)));

	/* NTLMSSP MIC sent, mechListMIC withheld */
	ntlm_test_client_init(&r.c, "alice", "WORKGROUP", "Secret#1");
	spnego_start(ctx, &r, &s, ntlm_first, 2);
	assert_true(NT_STATUS_EQUAL(spnego_finish(ctx, &r, MIC_NONE, &final),
				    NT_STATUS_INVALID_PARAMETER));

	/* an old client: neither MIC */
	ntlm_test_client_init(&r.c, "alice", "WORKGROUP", "Secret#1");
	r.c.send_mic = false;
	spnego_start(ctx, &r, &s, ntlm_first, 2);
	assert_true(NT_STATUS_IS_OK(spnego_finish(ctx, &r, MIC_NONE, &final)));
	assert_false(final->has_mic);

	/* wrong password through SPNEGO */
	ntlm_test_client_init(&r.c, "alice", "WORKGROUP", "Secret#2");
	spnego_start(ctx, &r, &s, ntlm_first, 2);
	assert_true(NT_STATUS_EQUAL(spnego_finish(ctx, &r, MIC_GOOD, &final),
				    NT_STATUS_LOGON_FAILURE));
	talloc_free(ctx);
}

static void test_spnego_ntlm_not_first(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	const char *const krb_first[] = { MS_KRB5_OID, KRB5_OID,
					  SPNEGO_NTLMSSP_OID };
	struct spnego_run r;
	struct spnego_token *final;

	ntlm_test_client_init(&r.c, "alice", "WORKGROUP", "Secret#1");
	spnego_start(ctx, &r, &s, krb_first, 3);
	assert_true(NT_STATUS_IS_OK(spnego_finish(ctx, &r, MIC_GOOD, &final)));
	check_server_mic(&r, final);

	/* downgrade protection: the MIC exchange is mandatory here */
	ntlm_test_client_init(&r.c, "alice", "WORKGROUP", "Secret#1");
	r.c.send_mic = false;
	spnego_start(ctx, &r, &s, krb_first, 3);
	assert_true(NT_STATUS_EQUAL(spnego_finish(ctx, &r, MIC_NONE, &final),
				    NT_STATUS_INVALID_PARAMETER));
	talloc_free(ctx);
}

static void test_spnego_guest_no_mic(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	const char *const ntlm_only[] = { SPNEGO_NTLMSSP_OID };
	struct spnego_run r;
	struct spnego_token *final;

	s.map_to_guest = AUTH_MAP_TO_GUEST_BAD_USER;
	ntlm_test_client_init(&r.c, "nobody-here", "WORKGROUP", "x");
	spnego_start(ctx, &r, &s, ntlm_only, 1);
	assert_true(NT_STATUS_IS_OK(spnego_finish(ctx, &r, MIC_GOOD, &final)));
	assert_false(final->has_mic);
	talloc_free(ctx);
}

static void test_spnego_kerberos_only(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	const char *const krb[] = { MS_KRB5_OID, KRB5_OID };
	struct gensec_server *g = gensec_server_new(ctx, &s);
	struct spnego_token *t;
	uint8_t *tok, *out;
	size_t tok_len, out_len;
	static const uint8_t fake_krb_token[] = { 0x60, 0x03, 0x06, 0x01, 0x00 };

	assert_true(NT_STATUS_IS_OK(spnego_encode_init(
		ctx, krb, 2, fake_krb_token, sizeof(fake_krb_token), NULL, 0,
		&tok, &tok_len)));
	assert_true(NT_STATUS_EQUAL(
		gensec_server_update(g, ctx, tok, tok_len, &out, &out_len),
		NT_STATUS_LOGON_FAILURE));
	assert_true(NT_STATUS_IS_OK(spnego_decode(ctx, out, out_len, &t)));
	assert_int_equal(t->neg_state, SPNEGO_REJECT);
	talloc_free(ctx);
}

static void test_empty_first_token(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct gensec_server *g = gensec_server_new(ctx, &s);
	uint8_t *out, *blob;
	size_t out_len, blob_len;

	assert_true(NT_STATUS_EQUAL(
		gensec_server_update(g, ctx, NULL, 0, &out, &out_len),
		NT_STATUS_MORE_PROCESSING_REQUIRED));
	assert_true(NT_STATUS_IS_OK(
		gensec_spnego_negotiate_blob(ctx, &blob, &blob_len)));
	assert_int_equal(out_len, blob_len);
	assert_memory_equal(out, blob, blob_len);
	talloc_free(ctx);
}

static void test_malformed_der(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	const struct {
		const uint8_t *p;
		size_t len;
	} tokens[] = {
		{ smbclient_neg_token_init, sizeof(smbclient_neg_token_init) },
		{ smbclient_auth_resp, sizeof(smbclient_auth_resp) },
		{ samba_challenge_resp, sizeof(samba_challenge_resp) },
	};
	uint8_t buf[512];
	struct spnego_token *t;
	uint8_t *out;
	size_t out_len;

	for (size_t i = 0; i < 3; i++) {
		/* every truncation fails cleanly */
		for (size_t len = 0; len < tokens[i].len; len++) {
			struct gensec_server *g = gensec_server_new(ctx, &s);

			assert_false(NT_STATUS_IS_OK(
				spnego_decode(ctx, tokens[i].p, len, &t)));
			if (len > 0) {
				assert_true(NT_STATUS_EQUAL(
					gensec_server_update(g, ctx,
							     tokens[i].p, len,
							     &out, &out_len),
					NT_STATUS_INVALID_PARAMETER));
			}
			talloc_free(g);
		}
		/* every single-byte corruption is survived */
		for (size_t pos = 0; pos < tokens[i].len; pos++) {
			struct gensec_server *g = gensec_server_new(ctx, &s);

			memcpy(buf, tokens[i].p, tokens[i].len);
			buf[pos] ^= 0xff;
			(void)gensec_server_update(g, ctx, buf, tokens[i].len,
						   &out, &out_len);
			talloc_free(g);
		}
	}
	/* trailing garbage */
	memcpy(buf, smbclient_neg_token_init, sizeof(smbclient_neg_token_init));
	buf[sizeof(smbclient_neg_token_init)] = 0;
	assert_false(NT_STATUS_IS_OK(spnego_decode(
		ctx, buf, sizeof(smbclient_neg_token_init) + 1, &t)));
	/* the GSS-API framing with another mechanism's OID (Kerberos) */
	memcpy(buf, smbclient_neg_token_init, sizeof(smbclient_neg_token_init));
	buf[9] = 0x03;
	assert_false(NT_STATUS_IS_OK(spnego_decode(
		ctx, buf, sizeof(smbclient_neg_token_init), &t)));
	/* indefinite length (BER, not DER) */
	{
		static const uint8_t indefinite[] = { 0xa1, 0x80, 0x30, 0x80,
						      0xa0, 0x03, 0x0a, 0x01,
						      0x00, 0x00, 0x00, 0x00,
						      0x00 };
		assert_false(NT_STATUS_IS_OK(
			spnego_decode(ctx, indefinite, sizeof(indefinite), &t)));
	}
	/* negState out of range */
	{
		static const uint8_t bad_state[] = { 0xa1, 0x07, 0x30, 0x05,
						     0xa0, 0x03, 0x0a, 0x01,
						     0x07 };
		assert_false(NT_STATUS_IS_OK(
			spnego_decode(ctx, bad_state, sizeof(bad_state), &t)));
	}
	/* a length field claiming 4 GB */
	{
		static const uint8_t huge[] = { 0x60, 0x84, 0xff, 0xff, 0xff,
						0xff, 0x06, 0x06 };
		assert_false(
			NT_STATUS_IS_OK(spnego_decode(ctx, huge, sizeof(huge), &t)));
	}
	talloc_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_decode_and_reencode),
		cmocka_unit_test(test_capture_ntlmssp_and_mech_list_mic),
		cmocka_unit_test(test_capture_wrong_password),
		cmocka_unit_test(test_negotiate_blob),
		cmocka_unit_test(test_spnego_flow),
		cmocka_unit_test(test_spnego_ntlm_not_first),
		cmocka_unit_test(test_spnego_guest_no_mic),
		cmocka_unit_test(test_spnego_kerberos_only),
		cmocka_unit_test(test_empty_first_token),
		cmocka_unit_test(test_malformed_der),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
