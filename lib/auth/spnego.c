#include "lib/auth/spnego.h"

#include <libtasn1.h>
#include <pthread.h>
#include <string.h>

#include "lib/util/debug.h"

extern const asn1_static_node spnego_asn1_tab[];

/*
 * The parsed ASN.1 definitions: built once per process from the table
 * generated out of spnego.asn and never modified afterwards, so every
 * thread may read them.
 */
static asn1_node spnego_definitions;
static pthread_once_t spnego_definitions_once = PTHREAD_ONCE_INIT;

static void spnego_definitions_init(void)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];

	if (asn1_array2tree(spnego_asn1_tab, &spnego_definitions, err) !=
	    ASN1_SUCCESS) {
		DBG_ERR("SPNEGO ASN.1 definitions: %s\n", err);
		spnego_definitions = NULL;
	}
}

/* A fresh structure of type `type` (e.g. "SPNEGO.NegTokenResp"). */
static asn1_node spnego_new(const char *type)
{
	asn1_node node = NULL;

	pthread_once(&spnego_definitions_once, spnego_definitions_init);
	if (spnego_definitions == NULL ||
	    asn1_create_element(spnego_definitions, type, &node) !=
		    ASN1_SUCCESS) {
		return NULL;
	}
	return node;
}

/* Strict DER, and the whole buffer must be consumed. */
static bool der_decode(asn1_node *node, const uint8_t *in, size_t len)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	int consumed;

	if (len == 0 || len > INT32_MAX) {
		return false;
	}
	consumed = (int)len;
	if (asn1_der_decoding2(node, in, &consumed,
			       ASN1_DECODE_FLAG_STRICT_DER, err) !=
	    ASN1_SUCCESS) {
		DBG_DEBUG("SPNEGO DER: %s\n", err);
		return false;
	}
	return (size_t)consumed == len;
}

static NTSTATUS der_encode(TALLOC_CTX *mem_ctx, asn1_node node,
			   uint8_t **out, size_t *out_len)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	int len = 0;
	uint8_t *buf;

	if (asn1_der_coding(node, "", NULL, &len, err) != ASN1_MEM_ERROR ||
	    len <= 0) {
		DBG_ERR("SPNEGO DER encoding: %s\n", err);
		return NT_STATUS_INTERNAL_ERROR;
	}
	buf = talloc_array(mem_ctx, uint8_t, len);
	if (buf == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (asn1_der_coding(node, "", buf, &len, err) != ASN1_SUCCESS) {
		DBG_ERR("SPNEGO DER encoding: %s\n", err);
		talloc_free(buf);
		return NT_STATUS_INTERNAL_ERROR;
	}
	*out = buf;
	*out_len = (size_t)len;
	return NT_STATUS_OK;
}

/*
 * Read a value of any string-like type: *present false when an
 * OPTIONAL field is absent.  Returns false on any other error.
 */
static bool read_bytes(TALLOC_CTX *mem_ctx, asn1_node node, const char *name,
		       bool *present, uint8_t **data, size_t *len)
{
	int l = 0;
	int rc = asn1_read_value(node, name, NULL, &l);
	uint8_t *buf;

	*present = false;
	*data = NULL;
	*len = 0;
	if (rc == ASN1_ELEMENT_NOT_FOUND || rc == ASN1_VALUE_NOT_FOUND) {
		return true;
	}
	if (rc == ASN1_SUCCESS && l == 0) {
		*present = true;
		*data = talloc_zero_array(mem_ctx, uint8_t, 1);
		return *data != NULL;
	}
	if (rc != ASN1_MEM_ERROR || l < 0) {
		return false;
	}
	buf = talloc_array(mem_ctx, uint8_t, l + 1);
	if (buf == NULL) {
		return false;
	}
	if (asn1_read_value(node, name, buf, &l) != ASN1_SUCCESS) {
		talloc_free(buf);
		return false;
	}
	buf[l] = 0; /* OIDs and enum names read as strings */
	*present = true;
	*data = buf;
	*len = (size_t)l;
	return true;
}

static bool read_string(TALLOC_CTX *mem_ctx, asn1_node node,
			const char *name, bool *present, char **out)
{
	uint8_t *data;
	size_t len;

	if (!read_bytes(mem_ctx, node, name, present, &data, &len)) {
		return false;
	}
	*out = (char *)data;
	/* libtasn1 counts the NUL of OID strings in len */
	return !*present || strlen(*out) == len ||
	       (len > 0 && strlen(*out) == len - 1);
}

static NTSTATUS decode_init(TALLOC_CTX *mem_ctx, asn1_node node,
			    struct spnego_token *t)
{
	char name[64];
	int count = 0;
	size_t i;
	bool present;

	t->type = SPNEGO_NEG_TOKEN_INIT;
	if (asn1_number_of_elements(node, "negTokenInit.mechTypes", &count) !=
		    ASN1_SUCCESS ||
	    count <= 0 || count > SPNEGO_MAX_MECH_TYPES) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	t->mech_types = talloc_zero_array(t, char *, count);
	if (t->mech_types == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < (size_t)count; i++) {
		snprintf(name, sizeof(name), "negTokenInit.mechTypes.?%zu",
			 i + 1);
		if (!read_string(t, node, name, &present, &t->mech_types[i]) ||
		    !present) {
			return NT_STATUS_INVALID_PARAMETER;
		}
	}
	t->num_mech_types = (size_t)count;
	if (!read_bytes(t, node, "negTokenInit.mechToken", &t->has_mech_token,
			&t->mech_token, &t->mech_token_len) ||
	    !read_bytes(t, node, "negTokenInit.mechListMIC", &t->has_mic,
			&t->mic, &t->mic_len)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* RFC 4178 5: the MIC covers the DER of mechTypes; re-encoding the
	 * decoded list gives exactly those bytes for a DER input. */
	return spnego_encode_mech_types(t, (const char *const *)t->mech_types,
					t->num_mech_types, &t->mech_types_der,
					&t->mech_types_der_len);
}

static NTSTATUS decode_resp(asn1_node node, struct spnego_token *t)
{
	uint8_t *state;
	size_t state_len;
	bool present;

	t->type = SPNEGO_NEG_TOKEN_RESP;
	t->neg_state = -1;
	if (!read_bytes(t, node, "negTokenResp.negState", &present, &state,
			&state_len)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (present) {
		/* ENUMERATED reads as its big-endian two's complement */
		if (state_len != 1 || state[0] > SPNEGO_REQUEST_MIC) {
			return NT_STATUS_INVALID_PARAMETER;
		}
		t->neg_state = state[0];
	}
	if (!read_string(t, node, "negTokenResp.supportedMech", &present,
			 &t->supported_mech) ||
	    !read_bytes(t, node, "negTokenResp.responseToken",
			&t->has_mech_token, &t->mech_token,
			&t->mech_token_len) ||
	    !read_bytes(t, node, "negTokenResp.mechListMIC", &t->has_mic,
			&t->mic, &t->mic_len)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_OK;
}

/* Strip the RFC 2743 3.1 framing: the inner NegotiationToken bytes. */
static NTSTATUS unwrap_gssapi(TALLOC_CTX *mem_ctx, const uint8_t *in,
			      size_t len, uint8_t **inner, size_t *inner_len)
{
	asn1_node node = spnego_new("SPNEGO.InitialContextToken");
	char *oid = NULL;
	bool present;
	NTSTATUS status = NT_STATUS_INVALID_PARAMETER;

	if (node == NULL) {
		return NT_STATUS_INTERNAL_ERROR;
	}
	if (!der_decode(&node, in, len) ||
	    !read_string(mem_ctx, node, "thisMech", &present, &oid) ||
	    !present || strcmp(oid, SPNEGO_OID) != 0 ||
	    !read_bytes(mem_ctx, node, "innerContextToken", &present, inner,
			inner_len) ||
	    !present) {
		goto done;
	}
	status = NT_STATUS_OK;
done:
	talloc_free(oid);
	asn1_delete_structure(&node);
	return status;
}

NTSTATUS spnego_decode(TALLOC_CTX *mem_ctx, const uint8_t *in, size_t len,
		       struct spnego_token **out)
{
	struct spnego_token *t;
	asn1_node node = NULL;
	uint8_t *inner = NULL;
	size_t inner_len = 0;
	char choice[32];
	int choice_len = sizeof(choice);
	NTSTATUS status;

	if (len == 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	t = talloc_zero(mem_ctx, struct spnego_token);
	if (t == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (in[0] == 0x60) {
		status = unwrap_gssapi(t, in, len, &inner, &inner_len);
		if (!NT_STATUS_IS_OK(status)) {
			goto fail;
		}
		in = inner;
		len = inner_len;
	}
	node = spnego_new("SPNEGO.NegotiationToken");
	if (node == NULL) {
		status = NT_STATUS_INTERNAL_ERROR;
		goto fail;
	}
	status = NT_STATUS_INVALID_PARAMETER;
	if (!der_decode(&node, in, len) ||
	    asn1_read_value(node, "", choice, &choice_len) != ASN1_SUCCESS) {
		goto fail;
	}
	if (strcmp(choice, "negTokenInit") == 0) {
		status = decode_init(mem_ctx, node, t);
	} else if (strcmp(choice, "negTokenResp") == 0 && inner == NULL) {
		status = decode_resp(node, t);
	}
	if (!NT_STATUS_IS_OK(status)) {
		goto fail;
	}
	asn1_delete_structure(&node);
	TALLOC_FREE(inner);
	*out = t;
	return NT_STATUS_OK;
fail:
	if (node != NULL) {
		asn1_delete_structure(&node);
	}
	talloc_free(t);
	return status;
}

static bool write_optional(asn1_node node, const char *name,
			   const void *value, size_t len)
{
	if (value == NULL) {
		return asn1_write_value(node, name, NULL, 0) == ASN1_SUCCESS;
	}
	if (len > INT32_MAX) {
		return false;
	}
	return asn1_write_value(node, name, value, (int)len) == ASN1_SUCCESS;
}

static bool write_mech_list(asn1_node node, const char *list,
			    const char *const *oids, size_t num)
{
	char name[64];
	size_t i;

	snprintf(name, sizeof(name), "%s%s?LAST", list,
		 list[0] != '\0' ? "." : "");
	for (i = 0; i < num; i++) {
		if (asn1_write_value(node, list, "NEW", 1) != ASN1_SUCCESS ||
		    asn1_write_value(node, name, oids[i], 1) != ASN1_SUCCESS) {
			return false;
		}
	}
	return true;
}

NTSTATUS spnego_encode_mech_types(TALLOC_CTX *mem_ctx,
				  const char *const *oids, size_t num,
				  uint8_t **out, size_t *out_len)
{
	asn1_node node = spnego_new("SPNEGO.MechTypeList");
	NTSTATUS status = NT_STATUS_INTERNAL_ERROR;

	if (node == NULL) {
		return status;
	}
	if (write_mech_list(node, "", oids, num)) {
		status = der_encode(mem_ctx, node, out, out_len);
	}
	asn1_delete_structure(&node);
	return status;
}

NTSTATUS spnego_encode_resp(TALLOC_CTX *mem_ctx, int neg_state,
			    const char *supported_mech, const uint8_t *token,
			    size_t token_len, const uint8_t *mic,
			    size_t mic_len, uint8_t **out, size_t *out_len)
{
	asn1_node node = spnego_new("SPNEGO.NegotiationToken");
	NTSTATUS status = NT_STATUS_INTERNAL_ERROR;
	char state[4];

	if (node == NULL) {
		return status;
	}
	snprintf(state, sizeof(state), "%d", neg_state);
	if (asn1_write_value(node, "", "negTokenResp", 1) == ASN1_SUCCESS &&
	    write_optional(node, "negTokenResp.negState",
			   neg_state >= 0 ? state : NULL, 0) &&
	    write_optional(node, "negTokenResp.supportedMech", supported_mech,
			   1) &&
	    write_optional(node, "negTokenResp.responseToken", token,
			   token_len) &&
	    write_optional(node, "negTokenResp.mechListMIC", mic, mic_len)) {
		status = der_encode(mem_ctx, node, out, out_len);
	}
	asn1_delete_structure(&node);
	return status;
}

/* Frame an inner NegotiationToken as an InitialContextToken. */
static NTSTATUS wrap_gssapi(TALLOC_CTX *mem_ctx, const uint8_t *inner,
			    size_t inner_len, uint8_t **out, size_t *out_len)
{
	asn1_node node = spnego_new("SPNEGO.InitialContextToken");
	NTSTATUS status = NT_STATUS_INTERNAL_ERROR;

	if (node == NULL) {
		return status;
	}
	if (asn1_write_value(node, "thisMech", SPNEGO_OID, 1) ==
		    ASN1_SUCCESS &&
	    write_optional(node, "innerContextToken", inner, inner_len)) {
		status = der_encode(mem_ctx, node, out, out_len);
	}
	asn1_delete_structure(&node);
	return status;
}

NTSTATUS spnego_encode_negotiate_hint(TALLOC_CTX *mem_ctx, uint8_t **out,
				      size_t *out_len)
{
	static const char hint[] = "not_defined_in_RFC4178@please_ignore";
	const char *const oids[] = { SPNEGO_NTLMSSP_OID };
	asn1_node node = spnego_new("SPNEGO.NegotiationToken2");
	uint8_t *inner = NULL;
	size_t inner_len = 0;
	NTSTATUS status = NT_STATUS_INTERNAL_ERROR;

	if (node == NULL) {
		return status;
	}
	if (asn1_write_value(node, "", "negTokenInit", 1) == ASN1_SUCCESS &&
	    write_mech_list(node, "negTokenInit.mechTypes", oids, 1) &&
	    write_optional(node, "negTokenInit.reqFlags", NULL, 0) &&
	    write_optional(node, "negTokenInit.mechToken", NULL, 0) &&
	    write_optional(node, "negTokenInit.negHints.hintName", hint,
			   sizeof(hint) - 1) &&
	    write_optional(node, "negTokenInit.negHints.hintAddress", NULL,
			   0) &&
	    write_optional(node, "negTokenInit.mechListMIC", NULL, 0)) {
		status = der_encode(mem_ctx, node, &inner, &inner_len);
	}
	asn1_delete_structure(&node);
	if (NT_STATUS_IS_OK(status)) {
		status = wrap_gssapi(mem_ctx, inner, inner_len, out, out_len);
	}
	talloc_free(inner);
	return status;
}

NTSTATUS spnego_encode_init(TALLOC_CTX *mem_ctx, const char *const *oids,
			    size_t num, const uint8_t *mech_token,
			    size_t mech_token_len, const uint8_t *mic,
			    size_t mic_len, uint8_t **out, size_t *out_len)
{
	asn1_node node = spnego_new("SPNEGO.NegotiationToken");
	uint8_t *inner = NULL;
	size_t inner_len = 0;
	NTSTATUS status = NT_STATUS_INTERNAL_ERROR;

	if (node == NULL) {
		return status;
	}
	if (asn1_write_value(node, "", "negTokenInit", 1) == ASN1_SUCCESS &&
	    write_mech_list(node, "negTokenInit.mechTypes", oids, num) &&
	    write_optional(node, "negTokenInit.reqFlags", NULL, 0) &&
	    write_optional(node, "negTokenInit.mechToken", mech_token,
			   mech_token_len) &&
	    write_optional(node, "negTokenInit.mechListMIC", mic, mic_len)) {
		status = der_encode(mem_ctx, node, &inner, &inner_len);
	}
	asn1_delete_structure(&node);
	if (NT_STATUS_IS_OK(status)) {
		status = wrap_gssapi(mem_ctx, inner, inner_len, out, out_len);
	}
	talloc_free(inner);
	return status;
}
