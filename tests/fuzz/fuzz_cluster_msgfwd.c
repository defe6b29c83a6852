/*
 * Fuzz the parsers of cross-node messaging (clusterd/cluster_msgfwd_proto.c):
 * REC_CLUSTERD_MSG, which clusterd reads from local processes and from
 * other nodes, and REC_CLUSTERD_VIEW, which every messaging process reads
 * from clusterd's view file.  The first byte picks the parser.  A record
 * that decodes must pass the checks again when encoded, and encode back
 * to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clusterd/cluster_msgfwd_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_abort(const uint8_t *a, size_t alen, const uint8_t *b,
			  size_t blen)
{
	if (alen != blen || memcmp(a, b, alen) != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *mem;
	uint8_t *out = NULL;
	size_t out_len = 0;
	uint8_t sel;

	if (size < 1) {
		return 0;
	}
	sel = data[0] % 2;
	data++;
	size--;
	mem = talloc_new(NULL);
	if (sel == 0) {
		struct clmsgfwd m;

		if (NT_STATUS_IS_OK(clmsgfwd_pull(data, size, &m))) {
			if (m.len > CLUSTER_MSG_MAX_PAYLOAD ||
			    m.src.node == m.dst.node || m.dst.pid == 0 ||
			    !NT_STATUS_IS_OK(clmsgfwd_push(mem, &m, &out,
							   &out_len))) {
				abort();
			}
			same_or_abort(out, out_len, data, size);
		}
	} else {
		struct clview v;

		if (NT_STATUS_IS_OK(clview_pull(data, size, &v))) {
			if (!clview_has(&v, v.my_node) ||
			    !NT_STATUS_IS_OK(clview_push(mem, &v, &out,
							 &out_len))) {
				abort();
			}
			for (uint32_t i = 0; i < v.num_members; i++) {
				if (!clview_has(&v, v.members[i])) {
					abort();
				}
			}
			same_or_abort(out, out_len, data, size);
		}
	}
	talloc_free(mem);
	return 0;
}
