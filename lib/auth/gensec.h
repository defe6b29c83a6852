/*
 * Server-side authentication of SMB2 SESSION_SETUP: SPNEGO ([MS-SPNG],
 * RFC 4178) carrying NTLMSSP ([MS-NLMP]), NTLMv2 only (Samba's default
 * "ntlm auth = ntlmv2-only"), with the AUTHENTICATE MIC, key exchange
 * and the SPNEGO mechListMIC.  Kerberos is not offered.
 *
 * One struct gensec_server runs one authentication exchange (one
 * SESSION_SETUP sequence).  Typical use by smbd:
 *
 *   g = gensec_server_new(session, &settings);      // first request
 *   status = gensec_server_update(g, req, in, in_len, &out, &out_len);
 *   if (NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED))
 *           -> reply with out, feed the next request's buffer to g
 *   else if (NT_STATUS_IS_OK(status))
 *           gensec_server_session_info(g, session, &info);  -> reply out
 *   else    -> fail the request; free g
 *
 * Ownership: everything returned is allocated on the talloc context the
 * caller names; the settings are copied, so the caller's struct and its
 * strings may go away after gensec_server_new().  The lookup callback is
 * called synchronously from inside gensec_server_update().
 */
#ifndef LIB_AUTH_GENSEC_H
#define LIB_AUTH_GENSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

enum auth_map_to_guest {
	AUTH_MAP_TO_GUEST_NEVER,
	/* unknown user -> guest */
	AUTH_MAP_TO_GUEST_BAD_USER,
	/* unknown user or wrong password -> guest (Samba's "Bad Password") */
	AUTH_MAP_TO_GUEST_BAD_PASSWORD,
};

struct auth_user_lookup {
	/* Look up an SMB account (case-insensitive name).  On success fill
	 * nt_hash and *disabled.  Return NT_STATUS_NO_SUCH_USER if
	 * unknown.  Called synchronously. */
	NTSTATUS (*get_nt_hash)(void *private_data, const char *account,
				const char *domain, uint8_t nt_hash[16],
				bool *disabled);
	void *private_data;
};

struct gensec_settings {
	const char *netbios_name;   /* server NetBIOS name, e.g. "SMB3SERVER" */
	const char *netbios_domain; /* workgroup, e.g. "WORKGROUP" */
	const char *dns_name;       /* may be NULL */
	const char *dns_domain;     /* may be NULL */
	bool allow_anonymous; /* accept NTLMSSP anonymous (empty user and
				 empty responses) */
	enum auth_map_to_guest map_to_guest;
	const char *guest_account; /* account reported for guest sessions */
	struct auth_user_lookup lookup;
};

struct auth_session_info {
	char *account; /* as authenticated (or guest_account for guest) */
	char *domain;
	char *workstation;
	bool anonymous;
	bool guest;
	uint8_t session_key[16]; /* the exported session key (after KEY_EXCH) */
	bool has_session_key;    /* false for anonymous/guest */
};

/*
 * The negTokenInit2 ([MS-SPNG] 2.2.1) smbd puts into the NEGOTIATE
 * response SecurityBuffer: GSS-API framed, advertising NTLMSSP
 * (1.3.6.1.4.1.311.2.2.10) with the "not_defined_in_RFC4178@please_ignore"
 * hint.  *blob is allocated on mem_ctx.
 */
NTSTATUS gensec_spnego_negotiate_blob(TALLOC_CTX *mem_ctx, uint8_t **blob,
				      size_t *blob_len);

/* One authentication exchange.  NULL on allocation failure or when a
 * required setting (netbios_name, lookup.get_nt_hash) is missing. */
struct gensec_server *gensec_server_new(TALLOC_CTX *mem_ctx,
					const struct gensec_settings *settings);

/*
 * Feed one client token: SPNEGO (negTokenInit, with or without the
 * GSS-API framing, or negTokenResp) or a raw NTLMSSP message starting
 * with "NTLMSSP\0"; an empty first token gets the negTokenInit2 hint.
 *
 * Returns
 *   NT_STATUS_MORE_PROCESSING_REQUIRED  *out holds the token to send;
 *   NT_STATUS_OK                        authenticated; *out holds the
 *       final token (SPNEGO accept-completed, possibly with mechListMIC;
 *       empty for raw NTLMSSP);
 *   NT_STATUS_LOGON_FAILURE             wrong password, unknown user
 *       (unless mapped to guest), NTLMv1/LM responses, anonymous when not
 *       allowed, or no mechanism we support (then *out holds a SPNEGO
 *       reject);
 *   NT_STATUS_ACCOUNT_DISABLED          right password, disabled account;
 *   NT_STATUS_INVALID_PARAMETER         malformed token, a wrong NTLMSSP
 *       MIC or SPNEGO mechListMIC, a token out of sequence.
 * After an error or OK, further calls fail with INVALID_PARAMETER.
 * *out is allocated on out_ctx (NULL, 0 when there is nothing to send).
 * Logs one DBG_NOTICE line per successful or failed logon.
 */
NTSTATUS gensec_server_update(struct gensec_server *g, TALLOC_CTX *out_ctx,
			      const uint8_t *in, size_t in_len, uint8_t **out,
			      size_t *out_len);

/* After NT_STATUS_OK: a copy of the session info, allocated on mem_ctx
 * (strings are its children).  NT_STATUS_INVALID_PARAMETER before. */
NTSTATUS gensec_server_session_info(struct gensec_server *g,
				    TALLOC_CTX *mem_ctx,
				    struct auth_session_info **out);

#endif
