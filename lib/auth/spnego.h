/*
 * SPNEGO tokens (RFC 4178 4.2, [MS-SPNG] 2.2) in DER through libtasn1
 * (definitions in spnego.asn).  Decoding is for what clients send;
 * encoding for what the server sends.
 *
 * Internal to lib/auth.
 */
#ifndef LIB_AUTH_SPNEGO_H
#define LIB_AUTH_SPNEGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

#define SPNEGO_OID "1.3.6.1.5.5.2"
#define SPNEGO_NTLMSSP_OID "1.3.6.1.4.1.311.2.2.10"

/* negState values (RFC 4178 4.2.2); -1 when absent */
enum spnego_neg_state {
	SPNEGO_ACCEPT_COMPLETED = 0,
	SPNEGO_ACCEPT_INCOMPLETE = 1,
	SPNEGO_REJECT = 2,
	SPNEGO_REQUEST_MIC = 3,
};

enum spnego_token_type {
	SPNEGO_NEG_TOKEN_INIT,
	SPNEGO_NEG_TOKEN_RESP,
};

/* More mechanisms than any client offers; bounds the work per token. */
#define SPNEGO_MAX_MECH_TYPES 32

struct spnego_token {
	enum spnego_token_type type;
	/* negTokenInit: the mechanism OIDs in dotted form, in order, and the
	 * DER of the MechTypeList the mechListMIC covers */
	char **mech_types;
	size_t num_mech_types;
	uint8_t *mech_types_der;
	size_t mech_types_der_len;
	/* negTokenResp */
	int neg_state;
	char *supported_mech;
	/* mechToken (init) or responseToken (resp) */
	bool has_mech_token;
	uint8_t *mech_token;
	size_t mech_token_len;
	bool has_mic;
	uint8_t *mic;
	size_t mic_len;
};

/*
 * Decode a client token: the GSS-API framed negTokenInit
 * ([APPLICATION 0] with OID 1.3.6.1.5.5.2), a bare negTokenInit or a
 * negTokenResp.  The result and its buffers are allocated on mem_ctx.
 * NT_STATUS_INVALID_PARAMETER for anything malformed, including
 * trailing bytes.
 */
NTSTATUS spnego_decode(TALLOC_CTX *mem_ctx, const uint8_t *in, size_t len,
		       struct spnego_token **out);

/* A negTokenResp; supported_mech, token and mic may be NULL (absent). */
NTSTATUS spnego_encode_resp(TALLOC_CTX *mem_ctx, int neg_state,
			    const char *supported_mech, const uint8_t *token,
			    size_t token_len, const uint8_t *mic,
			    size_t mic_len, uint8_t **out, size_t *out_len);

/* The server's GSS-API framed negTokenInit2 advertising NTLMSSP. */
NTSTATUS spnego_encode_negotiate_hint(TALLOC_CTX *mem_ctx, uint8_t **out,
				      size_t *out_len);

/* DER of a MechTypeList (the bytes the mechListMIC protects). */
NTSTATUS spnego_encode_mech_types(TALLOC_CTX *mem_ctx,
				  const char *const *oids, size_t num,
				  uint8_t **out, size_t *out_len);

/* A negTokenInit (GSS-API framed) from a test client; mech_token and
 * mic may be NULL. */
NTSTATUS spnego_encode_init(TALLOC_CTX *mem_ctx, const char *const *oids,
			    size_t num, const uint8_t *mech_token,
			    size_t mech_token_len, const uint8_t *mic,
			    size_t mic_len, uint8_t **out, size_t *out_len);

#endif
