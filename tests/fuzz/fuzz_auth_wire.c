/*
 * libFuzzer target: the wire decoders under lib/auth, called directly
 * (complements lib/auth/tests/fuzz_gensec.c, which drives the whole
 * exchange and so rarely gets a well-formed NTLMSSP message past the
 * SPNEGO layer).  The first input byte picks the decoder:
 *   0  spnego_decode()              1  ntlmssp_parse_negotiate()
 *   2  ntlmssp_parse_challenge()    3  ntlmssp_parse_authenticate()
 *   4  ntlmssp_parse_av_pairs()
 * Every decoded blob must lie inside the input, and what spnego_decode()
 * returns must be consistent (counts, lengths); a violation aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/auth/ntlmssp_wire.h"
#include "lib/auth/spnego.h"
#include "lib/util/debug.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_auth_wire: %s:%d: %s\n",         \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

static void check_blob(TALLOC_CTX *ctx, const struct ntlmssp_blob *b,
		       const uint8_t *msg, size_t len)
{
	volatile uint8_t sink = 0;
	size_t i;

	if (b->len == 0) {
		return;
	}
	CHECK(b->data >= msg && b->len <= len &&
	      (size_t)(b->data - msg) <= len - b->len);
	for (i = 0; i < b->len; i++) {
		sink ^= b->data[i]; /* ASan: really readable */
	}
	(void)sink;
	(void)ntlmssp_blob_to_string(ctx, b, true);
	(void)ntlmssp_blob_to_string(ctx, b, false);
}

static void fuzz_spnego(TALLOC_CTX *ctx, const uint8_t *in, size_t len)
{
	struct spnego_token *t = NULL;
	size_t i;

	if (!NT_STATUS_IS_OK(spnego_decode(ctx, in, len, &t))) {
		return;
	}
	CHECK(t != NULL);
	CHECK(t->num_mech_types <= SPNEGO_MAX_MECH_TYPES);
	for (i = 0; i < t->num_mech_types; i++) {
		CHECK(t->mech_types[i] != NULL);
		(void)strlen(t->mech_types[i]);
	}
	if (t->num_mech_types > 0) {
		CHECK(t->mech_types_der != NULL &&
		      talloc_get_size(t->mech_types_der) >=
			      t->mech_types_der_len);
	}
	if (t->has_mech_token && t->mech_token_len > 0) {
		CHECK(talloc_get_size(t->mech_token) >= t->mech_token_len);
		CHECK(t->mech_token_len <= len);
	}
	if (t->has_mic && t->mic_len > 0) {
		CHECK(talloc_get_size(t->mic) >= t->mic_len);
		CHECK(t->mic_len <= len);
	}
	if (t->supported_mech != NULL) {
		(void)strlen(t->supported_mech);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx;
	const uint8_t *msg;
	size_t len;

	if (size < 1) {
		return 0;
	}
	debug_level = -1;
	msg = data + 1;
	len = size - 1;
	ctx = talloc_new(NULL);
	(void)ntlmssp_message_type(msg, len);

	switch (data[0] % 5) {
	case 0:
		fuzz_spnego(ctx, msg, len);
		break;
	case 1: {
		struct ntlmssp_negotiate_msg m;

		(void)ntlmssp_parse_negotiate(msg, len, &m);
		break;
	}
	case 2: {
		struct ntlmssp_challenge_msg m;

		if (NT_STATUS_IS_OK(ntlmssp_parse_challenge(msg, len, &m))) {
			struct ntlmssp_av_info av;

			check_blob(ctx, &m.target_name, msg, len);
			check_blob(ctx, &m.target_info, msg, len);
			(void)ntlmssp_parse_av_pairs(m.target_info.data,
						     m.target_info.len, &av);
		}
		break;
	}
	case 3: {
		struct ntlmssp_authenticate_msg m;

		if (NT_STATUS_IS_OK(
			    ntlmssp_parse_authenticate(msg, len, &m))) {
			check_blob(ctx, &m.lm_response, msg, len);
			check_blob(ctx, &m.nt_response, msg, len);
			check_blob(ctx, &m.domain, msg, len);
			check_blob(ctx, &m.user, msg, len);
			check_blob(ctx, &m.workstation, msg, len);
			check_blob(ctx, &m.encrypted_session_key, msg, len);
			CHECK(m.payload_start <= len);
			if (m.nt_response.len >= NTLMV2_RESPONSE_MIN) {
				struct ntlmssp_av_info av;

				/* the AV pairs of the NTLMv2 client
				 * challenge, as the acceptor walks them */
				(void)ntlmssp_parse_av_pairs(
					m.nt_response.data + NTLMV2_RESPONSE_MIN,
					m.nt_response.len - NTLMV2_RESPONSE_MIN,
					&av);
			}
		}
		break;
	}
	case 4: {
		struct ntlmssp_av_info av;

		(void)ntlmssp_parse_av_pairs(msg, len, &av);
		break;
	}
	}
	talloc_free(ctx);
	return 0;
}
