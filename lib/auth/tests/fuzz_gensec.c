/*
 * libFuzzer target: the first byte picks a scenario, the rest is fed to
 * gensec_server_update() -- as the first token, or as the second token
 * after a valid SPNEGO/NTLMSSP NEGOTIATE (so AUTHENTICATE parsing and the
 * negTokenResp path are reached), or split into several tokens.
 *
 *   CC=clang meson setup build-fuzz -Db_sanitize=address
 *   ninja -C build-fuzz lib/auth/tests/fuzz_gensec
 *   ./build-fuzz/lib/auth/tests/fuzz_gensec -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/auth/gensec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static NTSTATUS fuzz_get_nt_hash(void *private_data, const char *account,
				 const char *domain, uint8_t nt_hash[16],
				 bool *disabled)
{
	if (strcmp(account, "nosuch") == 0) {
		return NT_STATUS_NO_SUCH_USER;
	}
	memset(nt_hash, 0x11, 16);
	*disabled = account[0] == 'd';
	return NT_STATUS_OK;
}

/* smbclient's first SPNEGO token (NTLMSSP NEGOTIATE inside) */
static const uint8_t neg_token_init[] = {
	0x60, 0x48, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0xa0,
	0x3e, 0x30, 0x3c, 0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06,
	0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a, 0xa2, 0x2a, 0x04,
	0x28, 0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x15, 0x82, 0x08, 0x62, 0x00, 0x00, 0x00, 0x00, 0x28,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00,
	0x06, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gensec_settings s = {
		.netbios_name = "FUZZ",
		.netbios_domain = "WORKGROUP",
		.allow_anonymous = true,
		.map_to_guest = AUTH_MAP_TO_GUEST_BAD_USER,
		.guest_account = "nobody",
		.lookup = { .get_nt_hash = fuzz_get_nt_hash },
	};
	TALLOC_CTX *ctx;
	struct gensec_server *g;
	struct auth_session_info *info;
	uint8_t *out;
	size_t out_len;
	NTSTATUS status;
	uint8_t mode;

	if (size < 1) {
		return 0;
	}
	mode = data[0] % 3;
	data++;
	size--;
	ctx = talloc_new(NULL);
	g = gensec_server_new(ctx, &s);
	if (mode == 1) {
		/* raw NTLMSSP NEGOTIATE (inside the SPNEGO token) first */
		status = gensec_server_update(g, ctx, neg_token_init + 34, 40,
					      &out, &out_len);
		(void)status;
	} else if (mode == 2) {
		status = gensec_server_update(g, ctx, neg_token_init,
					      sizeof(neg_token_init), &out,
					      &out_len);
		(void)status;
	}
	status = gensec_server_update(g, ctx, data, size, &out, &out_len);
	if (NT_STATUS_IS_OK(status)) {
		(void)gensec_server_session_info(g, ctx, &info);
	}
	talloc_free(ctx);
	return 0;
}
