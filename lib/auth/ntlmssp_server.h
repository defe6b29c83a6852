/*
 * The NTLMSSP acceptor ([MS-NLMP] 3.2): NEGOTIATE -> CHALLENGE ->
 * AUTHENTICATE, NTLMv2 verification through the account lookup of the
 * gensec settings, and the signing SPNEGO's mechListMIC needs.
 *
 * Internal to lib/auth; gensec.c drives it.
 */
#ifndef LIB_AUTH_NTLMSSP_SERVER_H
#define LIB_AUTH_NTLMSSP_SERVER_H

#include "lib/auth/gensec.h"

struct ntlmssp_server;

/* Copies the settings.  NULL on allocation failure. */
struct ntlmssp_server *ntlmssp_server_new(TALLOC_CTX *mem_ctx,
					  const struct gensec_settings *s);

/* One NTLMSSP message in; MORE_PROCESSING_REQUIRED with the CHALLENGE
 * after NEGOTIATE, OK (no output) or an error after AUTHENTICATE.
 * *out is allocated on out_ctx. */
NTSTATUS ntlmssp_server_update(struct ntlmssp_server *n, TALLOC_CTX *out_ctx,
			       const uint8_t *in, size_t in_len, uint8_t **out,
			       size_t *out_len);

/* After OK: the result, owned by n. */
const struct auth_session_info *ntlmssp_server_info(struct ntlmssp_server *n);

/* After OK: whether the AUTHENTICATE carried a (verified) MIC, i.e. the
 * client will expect SPNEGO mechListMIC protection ([MS-SPNG] 3.1.5.1). */
bool ntlmssp_server_had_mic(struct ntlmssp_server *n);

/* After OK: whether signing is possible (a session key and extended
 * session security). */
bool ntlmssp_server_can_sign(struct ntlmssp_server *n);

/* Verify the client's signature (client-to-server keys, sequence 0) of
 * msg.  NT_STATUS_INVALID_PARAMETER when it does not match. */
NTSTATUS ntlmssp_server_check_signature(struct ntlmssp_server *n,
					const uint8_t *msg, size_t msg_len,
					const uint8_t *sig, size_t sig_len);

/* Sign msg with the server-to-client keys, sequence 0. */
NTSTATUS ntlmssp_server_sign(struct ntlmssp_server *n, const uint8_t *msg,
			     size_t msg_len, uint8_t sig[16]);

/*
 * Test hook: put n into the state of having received `negotiate` and
 * sent `challenge` (copies both), so that an AUTHENTICATE recorded from
 * a real exchange with another server can be verified.
 */
NTSTATUS ntlmssp_server_replay_challenge(struct ntlmssp_server *n,
					 const uint8_t *negotiate,
					 size_t negotiate_len,
					 const uint8_t *challenge,
					 size_t challenge_len);

#endif
