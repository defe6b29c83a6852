/*
 * libFuzzer target: user database records (lib/userdb/userdb_record.h).
 * The tdb file may be edited by anyone with write access to it, and the
 * record format is the one later shared between processes, so decoding
 * is treated as hostile input.  A record that decodes must encode again
 * and decode to the same entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/userdb/userdb_record.h"
#include "lib/util/debug.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_userdb_record: %s:%d: %s\n",     \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct userdb_entry *e = NULL, *e2 = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	debug_level = -1;
	if (NT_STATUS_IS_OK(userdb_record_decode(ctx, data, size, &e))) {
		CHECK(e != NULL && e->account != NULL && e->unix_user != NULL);
		CHECK(NT_STATUS_IS_OK(userdb_record_encode(ctx, e, &buf, &len)));
		CHECK(NT_STATUS_IS_OK(userdb_record_decode(ctx, buf, len, &e2)));
		CHECK(strcmp(e->account, e2->account) == 0);
		CHECK(strcmp(e->unix_user, e2->unix_user) == 0);
		CHECK(memcmp(e->nt_hash, e2->nt_hash, 16) == 0);
		CHECK(e->disabled == e2->disabled);
		CHECK(e->pwd_last_set == e2->pwd_last_set);
	}
	talloc_free(ctx);
	return 0;
}
