/*
 * Fuzz the decoders of the smbXsrv *_global records: a record in a
 * database is input written by another process (or node).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smbd/smbXsrv_records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smbXsrv_client_global c;
	struct smbXsrv_session_global s;
	struct smbXsrv_tcon_global t;
	struct smbXsrv_open_global o;
	uint8_t *out;
	size_t out_len;

	/* a record that decodes must encode back to the same bytes */
	if (NT_STATUS_IS_OK(smbXsrv_open_global_decode(mem, data, size, &o)) &&
	    NT_STATUS_IS_OK(smbXsrv_open_global_encode(mem, &o, &out,
						       &out_len))) {
		if (out_len != size || memcmp(out, data, size) != 0) {
			__builtin_trap();
		}
	}
	(void)smbXsrv_client_global_decode(mem, data, size, &c);
	(void)smbXsrv_session_global_decode(mem, data, size, &s);
	(void)smbXsrv_tcon_global_decode(mem, data, size, &t);
	talloc_free(mem);
	return 0;
}
