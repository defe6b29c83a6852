/*
 * The SPNEGO acceptor ([MS-SPNG] 3.2.5, RFC 4178) around the NTLMSSP
 * acceptor, and the public gensec_* API smbd calls.
 */
#include "lib/auth/gensec.h"

#include <string.h>

#include "lib/auth/ntlmssp_server.h"
#include "lib/auth/ntlmssp_wire.h"
#include "lib/auth/spnego.h"
#include "lib/util/debug.h"

enum gensec_state {
	GENSEC_START,
	GENSEC_SPNEGO,      /* NTLMSSP selected, SPNEGO framing */
	GENSEC_RAW_NTLMSSP, /* client speaks NTLMSSP without SPNEGO */
	GENSEC_DONE,
	GENSEC_FAILED,
};

struct gensec_server {
	enum gensec_state state;
	struct ntlmssp_server *ntlmssp;
	/* NTLMSSP was not the client's first choice: the mechListMIC
	 * exchange is mandatory (RFC 4178 5, downgrade protection). */
	bool mic_required;
	uint8_t *mech_types_der;
	size_t mech_types_der_len;
};

NTSTATUS gensec_spnego_negotiate_blob(TALLOC_CTX *mem_ctx, uint8_t **blob,
				      size_t *blob_len)
{
	return spnego_encode_negotiate_hint(mem_ctx, blob, blob_len);
}

struct gensec_server *gensec_server_new(TALLOC_CTX *mem_ctx,
					const struct gensec_settings *settings)
{
	struct gensec_server *g = talloc_zero(mem_ctx, struct gensec_server);

	if (g == NULL) {
		return NULL;
	}
	g->ntlmssp = ntlmssp_server_new(g, settings);
	if (g->ntlmssp == NULL) {
		talloc_free(g);
		return NULL;
	}
	return g;
}

static void gensec_log_success(struct gensec_server *g)
{
	const struct auth_session_info *i = ntlmssp_server_info(g->ntlmssp);

	DBG_NOTICE("logon: account [%s] domain [%s] workstation [%s]%s%s "
		   "(%s)\n",
		   i->account, i->domain, i->workstation,
		   i->guest ? " as guest" : "",
		   i->anonymous ? " anonymous" : "",
		   g->state == GENSEC_RAW_NTLMSSP ? "NTLMSSP" : "SPNEGO/NTLMSSP");
}

static void gensec_log_failure(struct gensec_server *g, const char *reason)
{
	const struct auth_session_info *i = ntlmssp_server_info(g->ntlmssp);

	DBG_NOTICE("logon failed: account [%s] domain [%s] workstation [%s]: "
		   "%s\n",
		   i != NULL ? i->account : "", i != NULL ? i->domain : "",
		   i != NULL ? i->workstation : "", reason);
}

static ssize_t find_ntlmssp(const struct spnego_token *t)
{
	size_t i;

	for (i = 0; i < t->num_mech_types; i++) {
		if (strcmp(t->mech_types[i], SPNEGO_NTLMSSP_OID) == 0) {
			return (ssize_t)i;
		}
	}
	return -1;
}

/* First SPNEGO token: pick NTLMSSP ([MS-SPNG] 3.2.5.2). */
static NTSTATUS gensec_spnego_init(struct gensec_server *g,
				   TALLOC_CTX *out_ctx,
				   const struct spnego_token *t,
				   uint8_t **out, size_t *out_len)
{
	ssize_t idx;
	uint8_t *ntlm_out = NULL;
	size_t ntlm_out_len = 0;
	NTSTATUS status;

	if (t->type != SPNEGO_NEG_TOKEN_INIT) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	idx = find_ntlmssp(t);
	if (idx < 0) {
		DBG_NOTICE("logon failed: client offers no mechanism we "
			   "support (first: %s)\n",
			   t->mech_types[0]);
		/* The reject tells a GSS client why; smbd sends the error
		 * status either way. */
		status = spnego_encode_resp(out_ctx, SPNEGO_REJECT, NULL, NULL,
					    0, NULL, 0, out, out_len);
		return NT_STATUS_IS_OK(status) ? NT_STATUS_LOGON_FAILURE
					       : status;
	}
	g->mech_types_der = talloc_memdup(g, t->mech_types_der,
					  t->mech_types_der_len);
	if (g->mech_types_der == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	g->mech_types_der_len = t->mech_types_der_len;
	g->state = GENSEC_SPNEGO;

	if (idx != 0 || !t->has_mech_token) {
		/* The optimistic token (if any) belongs to another
		 * mechanism: name ours and wait for its first token. */
		g->mic_required = idx != 0;
		status = spnego_encode_resp(out_ctx,
					    idx != 0 ? SPNEGO_REQUEST_MIC
						     : SPNEGO_ACCEPT_INCOMPLETE,
					    SPNEGO_NTLMSSP_OID, NULL, 0, NULL,
					    0, out, out_len);
		return NT_STATUS_IS_OK(status)
			       ? NT_STATUS_MORE_PROCESSING_REQUIRED
			       : status;
	}
	status = ntlmssp_server_update(g->ntlmssp, out_ctx, t->mech_token,
				       t->mech_token_len, &ntlm_out,
				       &ntlm_out_len);
	if (!NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED)) {
		/* NEGOTIATE never completes NTLMSSP */
		return NT_STATUS_IS_OK(status) ? NT_STATUS_INVALID_PARAMETER
					       : status;
	}
	status = spnego_encode_resp(out_ctx, SPNEGO_ACCEPT_INCOMPLETE,
				    SPNEGO_NTLMSSP_OID, ntlm_out, ntlm_out_len,
				    NULL, 0, out, out_len);
	talloc_free(ntlm_out);
	return NT_STATUS_IS_OK(status) ? NT_STATUS_MORE_PROCESSING_REQUIRED
				       : status;
}

/*
 * NTLMSSP finished inside SPNEGO: the mechListMIC exchange
 * ([MS-SPNG] 3.1.5.1, RFC 4178 5).  The client signs the DER of its
 * mechTypes with its NTLMSSP keys; we check that, and sign the same
 * bytes with ours for the client to check.
 */
static NTSTATUS gensec_spnego_finish(struct gensec_server *g,
				     TALLOC_CTX *out_ctx,
				     const struct spnego_token *t,
				     uint8_t **out, size_t *out_len)
{
	bool can_sign = ntlmssp_server_can_sign(g->ntlmssp);
	uint8_t mic[16];
	NTSTATUS status;

	if (!can_sign) {
		/* Anonymous and guest logons have no key to sign with;
		 * nothing a mechListMIC could protect either. */
		return spnego_encode_resp(out_ctx, SPNEGO_ACCEPT_COMPLETED,
					  NULL, NULL, 0, NULL, 0, out,
					  out_len);
	}
	if (!t->has_mic) {
		if (g->mic_required || ntlmssp_server_had_mic(g->ntlmssp)) {
			gensec_log_failure(g, "mechListMIC missing");
			return NT_STATUS_INVALID_PARAMETER;
		}
		return spnego_encode_resp(out_ctx, SPNEGO_ACCEPT_COMPLETED,
					  NULL, NULL, 0, NULL, 0, out,
					  out_len);
	}
	status = ntlmssp_server_check_signature(g->ntlmssp, g->mech_types_der,
						g->mech_types_der_len, t->mic,
						t->mic_len);
	if (!NT_STATUS_IS_OK(status)) {
		gensec_log_failure(g, "mechListMIC is wrong");
		return NT_STATUS_INVALID_PARAMETER;
	}
	status = ntlmssp_server_sign(g->ntlmssp, g->mech_types_der,
				     g->mech_types_der_len, mic);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	return spnego_encode_resp(out_ctx, SPNEGO_ACCEPT_COMPLETED, NULL, NULL,
				  0, mic, sizeof(mic), out, out_len);
}

static NTSTATUS gensec_spnego_next(struct gensec_server *g,
				   TALLOC_CTX *out_ctx,
				   const struct spnego_token *t,
				   uint8_t **out, size_t *out_len)
{
	uint8_t *ntlm_out = NULL;
	size_t ntlm_out_len = 0;
	NTSTATUS status;

	if (t->type != SPNEGO_NEG_TOKEN_RESP || !t->has_mech_token ||
	    t->neg_state == SPNEGO_REJECT) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (t->supported_mech != NULL &&
	    strcmp(t->supported_mech, SPNEGO_NTLMSSP_OID) != 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	status = ntlmssp_server_update(g->ntlmssp, out_ctx, t->mech_token,
				       t->mech_token_len, &ntlm_out,
				       &ntlm_out_len);
	if (NT_STATUS_EQUAL(status, NT_STATUS_MORE_PROCESSING_REQUIRED)) {
		status = spnego_encode_resp(out_ctx, SPNEGO_ACCEPT_INCOMPLETE,
					    NULL, ntlm_out, ntlm_out_len, NULL,
					    0, out, out_len);
		talloc_free(ntlm_out);
		return NT_STATUS_IS_OK(status)
			       ? NT_STATUS_MORE_PROCESSING_REQUIRED
			       : status;
	}
	talloc_free(ntlm_out);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	return gensec_spnego_finish(g, out_ctx, t, out, out_len);
}

static NTSTATUS gensec_spnego_update(struct gensec_server *g,
				     TALLOC_CTX *out_ctx, const uint8_t *in,
				     size_t in_len, uint8_t **out,
				     size_t *out_len)
{
	struct spnego_token *t = NULL;
	NTSTATUS status;

	status = spnego_decode(g, in, in_len, &t);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("logon failed: malformed SPNEGO token (%zu "
			   "bytes)\n",
			   in_len);
		return status;
	}
	if (g->state == GENSEC_START) {
		status = gensec_spnego_init(g, out_ctx, t, out, out_len);
	} else {
		status = gensec_spnego_next(g, out_ctx, t, out, out_len);
	}
	talloc_free(t);
	return status;
}

NTSTATUS gensec_server_update(struct gensec_server *g, TALLOC_CTX *out_ctx,
			      const uint8_t *in, size_t in_len, uint8_t **out,
			      size_t *out_len)
{
	NTSTATUS status = NT_STATUS_INVALID_PARAMETER;

	*out = NULL;
	*out_len = 0;
	if (in == NULL && in_len != 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	switch (g->state) {
	case GENSEC_START:
		if (in_len == 0) {
			/* [MS-SPNG] 3.2.5.1: an empty first token asks for
			 * the server's mechanism list. */
			status = spnego_encode_negotiate_hint(out_ctx, out,
							      out_len);
			return NT_STATUS_IS_OK(status)
				       ? NT_STATUS_MORE_PROCESSING_REQUIRED
				       : status;
		}
		if (ntlmssp_message_type(in, in_len) != 0) {
			g->state = GENSEC_RAW_NTLMSSP;
			status = ntlmssp_server_update(g->ntlmssp, out_ctx, in,
						       in_len, out, out_len);
		} else {
			status = gensec_spnego_update(g, out_ctx, in, in_len,
						      out, out_len);
		}
		break;
	case GENSEC_SPNEGO:
		status = gensec_spnego_update(g, out_ctx, in, in_len, out,
					      out_len);
		break;
	case GENSEC_RAW_NTLMSSP:
		status = ntlmssp_server_update(g->ntlmssp, out_ctx, in, in_len,
					       out, out_len);
		break;
	case GENSEC_DONE:
	case GENSEC_FAILED:
		break;
	}
	if (NT_STATUS_IS_OK(status)) {
		gensec_log_success(g);
		g->state = GENSEC_DONE;
	} else if (!NT_STATUS_EQUAL(status,
				    NT_STATUS_MORE_PROCESSING_REQUIRED)) {
		g->state = GENSEC_FAILED;
		if (!NT_STATUS_EQUAL(status, NT_STATUS_LOGON_FAILURE)) {
			/* a reject token only goes with LOGON_FAILURE */
			TALLOC_FREE(*out);
			*out_len = 0;
		}
	}
	return status;
}

NTSTATUS gensec_server_session_info(struct gensec_server *g,
				    TALLOC_CTX *mem_ctx,
				    struct auth_session_info **out)
{
	const struct auth_session_info *src;
	struct auth_session_info *info;

	if (g->state != GENSEC_DONE) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	src = ntlmssp_server_info(g->ntlmssp);
	if (src == NULL) {
		return NT_STATUS_INTERNAL_ERROR;
	}
	info = talloc_zero(mem_ctx, struct auth_session_info);
	if (info == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*info = *src;
	info->account = talloc_strdup(info, src->account);
	info->domain = talloc_strdup(info, src->domain);
	info->workstation = talloc_strdup(info, src->workstation);
	if (info->account == NULL || info->domain == NULL ||
	    info->workstation == NULL) {
		talloc_free(info);
		return NT_STATUS_NO_MEMORY;
	}
	*out = info;
	return NT_STATUS_OK;
}
