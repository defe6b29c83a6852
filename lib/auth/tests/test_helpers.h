/*
 * Shared fixtures of the lib/auth tests: an in-memory account table
 * behind struct auth_user_lookup, and default gensec settings.
 */
#ifndef LIB_AUTH_TESTS_TEST_HELPERS_H
#define LIB_AUTH_TESTS_TEST_HELPERS_H

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "lib/auth/gensec.h"
#include "lib/crypto/nt_hash.h"

struct test_account {
	const char *name;
	const char *password;
	bool disabled;
};

static const struct test_account test_accounts[] = {
	{ "alice", "Secret#1", false },
	{ "tuser", "tpass123!", false },
	{ "bob", "BobPass", true },
	{ NULL, NULL, false },
};

static NTSTATUS test_get_nt_hash(void *private_data, const char *account,
				 const char *domain, uint8_t nt_hash[16],
				 bool *disabled)
{
	const struct test_account *a;

	for (a = test_accounts; a->name != NULL; a++) {
		if (strcasecmp(a->name, account) == 0) {
			if (!nt_hash_from_password(a->password, nt_hash)) {
				return NT_STATUS_INTERNAL_ERROR;
			}
			*disabled = a->disabled;
			return NT_STATUS_OK;
		}
	}
	return NT_STATUS_NO_SUCH_USER;
}

static inline struct gensec_settings test_settings(void)
{
	struct gensec_settings s = {
		.netbios_name = "SMB3SERVER",
		.netbios_domain = "WORKGROUP",
		.dns_name = NULL,
		.dns_domain = NULL,
		.allow_anonymous = false,
		.map_to_guest = AUTH_MAP_TO_GUEST_NEVER,
		.guest_account = "nobody",
		.lookup = { .get_nt_hash = test_get_nt_hash },
	};
	return s;
}

#endif
