/*
 * The NTLMSSP acceptor through the public gensec API (raw NTLMSSP
 * tokens), driven by the test-only NTLMv2 client: outcomes of every
 * logon case, and hostile AUTHENTICATE/NEGOTIATE messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/auth/gensec.h"
#include "lib/auth/ntlmssp_wire.h"
#include "lib/auth/tests/ntlm_test_client.h"
#include "lib/auth/tests/test_helpers.h"
#include "lib/util/byteorder.h"
#include "lib/util/charset.h"

typedef void (*mutate_fn)(uint8_t *msg, size_t *len, void *arg);

struct exchange {
	NTSTATUS status;
	struct auth_session_info *info;
	uint8_t *challenge;
	size_t challenge_len;
};

/* NEGOTIATE -> CHALLENGE -> AUTHENTICATE (mutated if asked). */
static struct exchange run_exchange(TALLOC_CTX *ctx,
				    const struct gensec_settings *s,
				    struct ntlm_test_client *c,
				    mutate_fn mutate, void *arg)
{
	struct exchange e = { .status = NT_STATUS_INTERNAL_ERROR };
	struct gensec_server *g = gensec_server_new(ctx, s);
	uint8_t *auth = NULL, *out = NULL;
	size_t auth_len = 0, out_len = 0;
	NTSTATUS status;

	assert_non_null(g);
	assert_true(NT_STATUS_IS_OK(ntlm_test_client_negotiate(c, ctx)));
	status = gensec_server_update(g, ctx, c->negotiate, c->negotiate_len,
				      &e.challenge, &e.challenge_len);
	assert_true(NT_STATUS_EQUAL(status,
				    NT_STATUS_MORE_PROCESSING_REQUIRED));
	assert_true(NT_STATUS_IS_OK(ntlm_test_client_authenticate(
		c, ctx, e.challenge, e.challenge_len, &auth, &auth_len)));
	if (mutate != NULL) {
		mutate(auth, &auth_len, arg);
	}
	e.status = gensec_server_update(g, ctx, auth, auth_len, &out,
					&out_len);
	assert_int_equal(out_len, 0);
	if (NT_STATUS_IS_OK(e.status)) {
		assert_true(NT_STATUS_IS_OK(
			gensec_server_session_info(g, ctx, &e.info)));
	} else {
		assert_false(NT_STATUS_IS_OK(
			gensec_server_session_info(g, ctx, &e.info)));
	}
	/* the exchange is over either way */
	status = gensec_server_update(g, ctx, auth, auth_len, &out, &out_len);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER));
	return e;
}

static void test_success(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct exchange e;

	ntlm_test_client_init(&c, "alice", "WORKGROUP", "Secret#1");
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_IS_OK(e.status));
	assert_string_equal(e.info->account, "alice");
	assert_string_equal(e.info->domain, "WORKGROUP");
	assert_string_equal(e.info->workstation, "TESTCLIENT");
	assert_false(e.info->guest);
	assert_false(e.info->anonymous);
	assert_true(e.info->has_session_key);
	/* KEY_EXCH: the client's random key is the exported key */
	assert_memory_equal(e.info->session_key, c.random_session_key, 16);
	talloc_free(ctx);
}

static void test_success_variants(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct exchange e;

	/* user name in another case */
	ntlm_test_client_init(&c, "ALICE", "WORKGROUP", "Secret#1");
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_IS_OK(e.status));

	/* client hashed with the empty domain (local account) */
	ntlm_test_client_init(&c, "alice", "SOMEWHERE", "Secret#1");
	c.empty_domain_in_hash = true;
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_IS_OK(e.status));
	assert_string_equal(e.info->domain, "SOMEWHERE");

	/* client hashed with the upper-cased domain */
	ntlm_test_client_init(&c, "alice", "workgroup", "Secret#1");
	c.upper_domain_in_hash = true;
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_IS_OK(e.status));

	/* no KEY_EXCH: the session base key is the exported key */
	ntlm_test_client_init(&c, "alice", "WORKGROUP", "Secret#1");
	c.flags &= ~NTLMSSP_NEGOTIATE_KEY_EXCH;
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_IS_OK(e.status));
	assert_memory_equal(e.info->session_key, c.exported_session_key, 16);
	assert_memory_not_equal(e.info->session_key, c.random_session_key,
				16);

	/* no MIC at all (older clients) */
	ntlm_test_client_init(&c, "alice", "WORKGROUP", "Secret#1");
	c.send_mic = false;
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_IS_OK(e.status));
	talloc_free(ctx);
}

static void test_challenge_message(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct ntlmssp_challenge_msg chal;
	struct ntlmssp_av_info av;
	struct exchange e;
	char *name;

	ntlm_test_client_init(&c, "alice", "WORKGROUP", "Secret#1");
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_IS_OK(
		ntlmssp_parse_challenge(e.challenge, e.challenge_len, &chal)));
	assert_true(chal.flags & NTLMSSP_NEGOTIATE_UNICODE);
	assert_true(chal.flags & NTLMSSP_NEGOTIATE_NTLM);
	assert_true(chal.flags & NTLMSSP_NEGOTIATE_TARGET_INFO);
	assert_true(chal.flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY);
	assert_true(chal.flags & NTLMSSP_NEGOTIATE_KEY_EXCH);
	assert_true(chal.flags & NTLMSSP_NEGOTIATE_128);
	assert_true(chal.flags & NTLMSSP_NEGOTIATE_56);
	assert_true(chal.flags & NTLMSSP_NEGOTIATE_VERSION);
	assert_false(chal.flags & NTLMSSP_NEGOTIATE_SEAL); /* not asked */
	name = ntlmssp_blob_to_string(ctx, &chal.target_name, true);
	assert_string_equal(name, "SMB3SERVER");
	assert_true(NT_STATUS_IS_OK(ntlmssp_parse_av_pairs(
		chal.target_info.data, chal.target_info.len, &av)));
	assert_true(av.has_timestamp);
	assert_true(av.timestamp > 130000000000000000ULL); /* after 2012 */
	talloc_free(ctx);
}

static void test_wrong_password(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct exchange e;

	ntlm_test_client_init(&c, "alice", "WORKGROUP", "secret#1");
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_EQUAL(e.status, NT_STATUS_LOGON_FAILURE));

	/* map to guest on bad user does not cover a bad password */
	s.map_to_guest = AUTH_MAP_TO_GUEST_BAD_USER;
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_EQUAL(e.status, NT_STATUS_LOGON_FAILURE));

	s.map_to_guest = AUTH_MAP_TO_GUEST_BAD_PASSWORD;
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_IS_OK(e.status));
	assert_true(e.info->guest);
	assert_string_equal(e.info->account, "nobody");
	assert_false(e.info->has_session_key);
	talloc_free(ctx);
}

static void test_unknown_user(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct exchange e;

	ntlm_test_client_init(&c, "mallory", "WORKGROUP", "whatever");
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_EQUAL(e.status, NT_STATUS_LOGON_FAILURE));

	s.map_to_guest = AUTH_MAP_TO_GUEST_BAD_USER;
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_IS_OK(e.status));
	assert_true(e.info->guest);
	assert_false(e.info->anonymous);
	assert_string_equal(e.info->account, "nobody");
	assert_false(e.info->has_session_key);
	talloc_free(ctx);
}

static void test_disabled_account(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct exchange e;

	ntlm_test_client_init(&c, "bob", "WORKGROUP", "BobPass");
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_EQUAL(e.status, NT_STATUS_ACCOUNT_DISABLED));

	/* a wrong password must not reveal that the account is disabled */
	ntlm_test_client_init(&c, "bob", "WORKGROUP", "nope");
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_EQUAL(e.status, NT_STATUS_LOGON_FAILURE));
	talloc_free(ctx);
}

static void test_bad_mic(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct exchange e;

	ntlm_test_client_init(&c, "alice", "WORKGROUP", "Secret#1");
	c.corrupt_mic = true;
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_EQUAL(e.status, NT_STATUS_INVALID_PARAMETER));
	talloc_free(ctx);
}

/* Flip one bit of the message: MIC (or NTLMv2 proof) catches it. */
static void flip_bit(uint8_t *msg, size_t *len, void *arg)
{
	size_t ofs = *(size_t *)arg;

	msg[ofs] ^= 0x10;
}

static void test_tampered_message(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct exchange e;
	/* NegotiateFlags, Version, the LM response (only the MIC covers
	 * it), the workstation name */
	size_t offsets[] = { 61, 66, 90, 0 };

	ntlm_test_client_init(&c, "alice", "WORKGROUP", "Secret#1");
	for (size_t i = 0; i < 3; i++) {
		e = run_exchange(ctx, &s, &c, flip_bit, &offsets[i]);
		assert_false(NT_STATUS_IS_OK(e.status));
	}
	talloc_free(ctx);
}

static void test_ntlmv1_refused(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct exchange e;

	ntlm_test_client_init(&c, "alice", "WORKGROUP", "Secret#1");
	c.ntlmv1 = true;
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_EQUAL(e.status, NT_STATUS_LOGON_FAILURE));
	talloc_free(ctx);
}

/* LM response only: NT response length 0 with a user name. */
static void drop_nt_response(uint8_t *msg, size_t *len, void *arg)
{
	PUSH_LE16(msg, 20, 0);
	PUSH_LE16(msg, 22, 0);
}

static void test_lm_only_refused(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct exchange e;

	ntlm_test_client_init(&c, "alice", "WORKGROUP", "Secret#1");
	c.send_mic = false;
	e = run_exchange(ctx, &s, &c, drop_nt_response, NULL);
	assert_true(NT_STATUS_EQUAL(e.status, NT_STATUS_LOGON_FAILURE));
	talloc_free(ctx);
}

static void test_anonymous(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct exchange e;

	ntlm_test_client_init(&c, "", "", "");
	c.anonymous = true;
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_EQUAL(e.status, NT_STATUS_LOGON_FAILURE));

	s.allow_anonymous = true;
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_IS_OK(e.status));
	assert_true(e.info->anonymous);
	assert_false(e.info->guest);
	assert_false(e.info->has_session_key);
	assert_string_equal(e.info->account, "");
	talloc_free(ctx);
}

struct field_mutation {
	size_t field_ofs;
	int kind;
};

/* Make one payload field point outside the message (or into the
 * fixed header). */
static void break_field(uint8_t *msg, size_t *len, void *arg)
{
	const struct field_mutation *m = arg;
	uint16_t flen = PULL_LE16(msg, m->field_ofs);

	if (flen == 0) {
		flen = 4;
		PUSH_LE16(msg, m->field_ofs, flen);
	}
	switch (m->kind) {
	case 0: /* starts past the end */
		PUSH_LE32(msg, m->field_ofs + 4, (uint32_t)*len);
		break;
	case 1: /* ends one byte past the end */
		PUSH_LE32(msg, m->field_ofs + 4, (uint32_t)(*len - flen + 1));
		break;
	case 2: /* wraps a 32-bit sum */
		PUSH_LE32(msg, m->field_ofs + 4, 0xffffffffu);
		break;
	case 3: /* aliases the fixed header */
		PUSH_LE32(msg, m->field_ofs + 4, 8);
		break;
	case 4: /* huge length */
		PUSH_LE16(msg, m->field_ofs, 0xffff);
		break;
	}
}

static void test_auth_field_bounds(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct exchange e;
	/* LM, NT, domain, user, workstation, encrypted session key */
	const size_t fields[] = { 12, 20, 28, 36, 44, 52 };

	for (size_t f = 0; f < 6; f++) {
		for (int kind = 0; kind < 5; kind++) {
			struct field_mutation m = { fields[f], kind };

			ntlm_test_client_init(&c, "alice", "WORKGROUP",
					      "Secret#1");
			e = run_exchange(ctx, &s, &c, break_field, &m);
			assert_true(NT_STATUS_EQUAL(
				e.status, NT_STATUS_INVALID_PARAMETER));
		}
	}
	talloc_free(ctx);
}

static void truncate_to(uint8_t *msg, size_t *len, void *arg)
{
	*len = *(size_t *)arg;
}

static void test_auth_truncated(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct exchange e;
	size_t full;

	ntlm_test_client_init(&c, "alice", "WORKGROUP", "Secret#1");
	e = run_exchange(ctx, &s, &c, NULL, NULL);
	assert_true(NT_STATUS_IS_OK(e.status));
	/* message length: header + 24 + NT response + strings + 16 */
	{
		uint8_t *auth;
		assert_true(NT_STATUS_IS_OK(ntlm_test_client_authenticate(
			&c, ctx, e.challenge, e.challenge_len, &auth, &full)));
	}
	for (size_t len = 0; len < full; len++) {
		ntlm_test_client_init(&c, "alice", "WORKGROUP", "Secret#1");
		e = run_exchange(ctx, &s, &c, truncate_to, &len);
		/* a shorter message loses a field or the MIC check */
		assert_false(NT_STATUS_IS_OK(e.status));
	}
	talloc_free(ctx);
}

static void test_negotiate_malformed(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct gensec_settings s = test_settings();
	struct ntlm_test_client c;
	struct gensec_server *g;
	uint8_t *out, bad[40];
	size_t out_len;
	NTSTATUS status;

	ntlm_test_client_init(&c, "alice", "WORKGROUP", "Secret#1");
	assert_true(NT_STATUS_IS_OK(ntlm_test_client_negotiate(&c, ctx)));
	for (size_t len = 12; len < 16; len++) {
		g = gensec_server_new(ctx, &s);
		status = gensec_server_update(g, ctx, c.negotiate, len, &out,
					      &out_len);
		assert_true(NT_STATUS_EQUAL(status,
					    NT_STATUS_INVALID_PARAMETER));
		assert_null(out);
	}
	/* domain field past the end, workstation field wrapping */
	memcpy(bad, c.negotiate, 40);
	PUSH_LE16(bad, 16, 10);
	PUSH_LE32(bad, 20, 35);
	g = gensec_server_new(ctx, &s);
	status = gensec_server_update(g, ctx, bad, 40, &out, &out_len);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER));
	memcpy(bad, c.negotiate, 40);
	PUSH_LE16(bad, 24, 1);
	PUSH_LE32(bad, 28, 0xffffffffu);
	g = gensec_server_new(ctx, &s);
	status = gensec_server_update(g, ctx, bad, 40, &out, &out_len);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER));
	/* an AUTHENTICATE before NEGOTIATE */
	memcpy(bad, c.negotiate, 40);
	PUSH_LE32(bad, 8, NTLMSSP_MSG_AUTHENTICATE);
	g = gensec_server_new(ctx, &s);
	status = gensec_server_update(g, ctx, bad, 40, &out, &out_len);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER));
	/* a second NEGOTIATE where AUTHENTICATE is due */
	g = gensec_server_new(ctx, &s);
	status = gensec_server_update(g, ctx, c.negotiate, 40, &out, &out_len);
	assert_true(NT_STATUS_EQUAL(status,
				    NT_STATUS_MORE_PROCESSING_REQUIRED));
	status = gensec_server_update(g, ctx, c.negotiate, 40, &out, &out_len);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER));
	talloc_free(ctx);
}

static void test_av_pairs(void **state)
{
	struct ntlmssp_av_info av;
	const uint8_t ok[] = { 6, 0, 4, 0, 2, 0, 0, 0, 0, 0, 0, 0 };
	const uint8_t no_eol[] = { 6, 0, 4, 0, 2, 0, 0, 0 };
	const uint8_t overrun[] = { 1, 0, 9, 0, 'a', 0, 0, 0, 0, 0 };
	const uint8_t bad_flags_len[] = { 6, 0, 2, 0, 2, 0, 0, 0 };

	assert_true(NT_STATUS_IS_OK(ntlmssp_parse_av_pairs(ok, sizeof(ok),
							    &av)));
	assert_true(av.has_flags);
	assert_int_equal(av.flags, MSV_AV_FLAG_MIC_PRESENT);
	assert_false(NT_STATUS_IS_OK(
		ntlmssp_parse_av_pairs(no_eol, sizeof(no_eol), &av)));
	assert_false(NT_STATUS_IS_OK(
		ntlmssp_parse_av_pairs(overrun, sizeof(overrun), &av)));
	assert_false(NT_STATUS_IS_OK(ntlmssp_parse_av_pairs(
		bad_flags_len, sizeof(bad_flags_len), &av)));
	assert_false(NT_STATUS_IS_OK(ntlmssp_parse_av_pairs(ok, 3, &av)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_success_variants),
		cmocka_unit_test(test_challenge_message),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_disabled_account),
		cmocka_unit_test(test_bad_mic),
		cmocka_unit_test(test_tampered_message),
		cmocka_unit_test(test_ntlmv1_refused),
		cmocka_unit_test(test_lm_only_refused),
		cmocka_unit_test(test_anonymous),
		cmocka_unit_test(test_auth_field_bounds),
		cmocka_unit_test(test_auth_truncated),
		cmocka_unit_test(test_negotiate_malformed),
		cmocka_unit_test(test_av_pairs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
