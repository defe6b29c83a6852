/*
 * A small NTLMv2 client for the tests only: builds NEGOTIATE and
 * AUTHENTICATE messages from a known password ([MS-NLMP] 3.1.5), with
 * knobs to produce the broken variants the server must refuse.
 */
#ifndef LIB_AUTH_TESTS_NTLM_TEST_CLIENT_H
#define LIB_AUTH_TESTS_NTLM_TEST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

struct ntlm_test_client {
	const char *user;
	const char *domain;
	const char *password;
	const char *workstation;
	uint32_t flags;           /* NEGOTIATE flags */
	bool send_mic;            /* MsvAvFlags MIC bit + the MIC */
	bool corrupt_mic;         /* flip a bit of the MIC */
	bool ntlmv1;              /* send a 24-byte NT response */
	bool anonymous;           /* empty user, empty responses */
	bool upper_domain_in_hash; /* NTOWFv2 over UPPER(domain) */
	bool empty_domain_in_hash; /* NTOWFv2 over "" */
	uint8_t client_challenge[8];
	uint8_t random_session_key[16];
	/* results */
	uint8_t *negotiate;
	size_t negotiate_len;
	uint8_t exported_session_key[16];
	uint32_t auth_flags;
};

/* Default client: user/password/domain given, Windows-like flags. */
void ntlm_test_client_init(struct ntlm_test_client *c, const char *user,
			   const char *domain, const char *password);

/* NEGOTIATE message, kept in c->negotiate (on mem_ctx). */
NTSTATUS ntlm_test_client_negotiate(struct ntlm_test_client *c,
				    TALLOC_CTX *mem_ctx);

/* AUTHENTICATE answering `challenge`, on mem_ctx. */
NTSTATUS ntlm_test_client_authenticate(struct ntlm_test_client *c,
				       TALLOC_CTX *mem_ctx,
				       const uint8_t *challenge,
				       size_t challenge_len, uint8_t **out,
				       size_t *out_len);

/* The client's mechListMIC over `msg` (client-to-server keys, seq 0). */
bool ntlm_test_client_sign(const struct ntlm_test_client *c,
			   const uint8_t *msg, size_t len, uint8_t sig[16]);

#endif
