/*
 * Fuzz the parsers of replicated-database input
 * (dbwrap/dbwrap_cluster_proto.c): client requests and clusterd's
 * answers on the db socket, UPDATE and SYNC_* messages from other nodes,
 * the replica's stored records, a transaction's changes (TXN, the
 * value of a COMMIT) and VACUUM.  The first byte picks the parser (mod
 * 16: 8 is TXN, 9 VACUUM, 10..15 are 2..7 again, so the older seeds keep
 * their parser).  A
 * request, response, update, sync message, TXN or VACUUM that decodes
 * must encode
 * back to the same bytes (a SYNC_DATA of version 1 is written as version
 * 2: its second round trip must be exact; so is a SYNC_STATE v1); a
 * decoded value obeys its invariants.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dbwrap/dbwrap_cluster_proto.h"
#include "lib/util/marshall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_abort(NTSTATUS status, const uint8_t *a, size_t alen,
			  const uint8_t *b, size_t blen)
{
	if (!NT_STATUS_IS_OK(status) || alen != blen ||
	    memcmp(a, b, alen) != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t sync_types[3] = {REC_CLUSTERD_DB_SYNC_REQ,
					       REC_CLUSTERD_DB_SYNC_DATA,
					       REC_CLUSTERD_DB_SYNC_DONE};
	TALLOC_CTX *mem;
	uint8_t *out = NULL;
	size_t out_len = 0;
	uint8_t sel;

	if (size < 1) {
		return 0;
	}
	sel = data[0] % 16;
	if (sel > 9) {
		sel -= 8;
	}
	data++;
	size--;
	mem = talloc_new(NULL);

	switch (sel) {
	case 0: {
		struct cldb_request r;
		if (NT_STATUS_IS_OK(cldb_request_pull(mem, data, size, &r))) {
			if (!cldb_name_ok(r.db) || r.key.dsize > CLDB_MAX_KEY ||
			    r.value.dsize > CLDB_MAX_VALUE) {
				abort();
			}
			same_or_abort(cldb_request_push(mem, &r, &out, &out_len),
				      out + CLDB_FRAME_HDR,
				      out_len - CLDB_FRAME_HDR, data, size);
		}
		break;
	}
	case 1: {
		struct cldb_response r;
		if (NT_STATUS_IS_OK(cldb_response_pull(mem, data, size, &r))) {
			same_or_abort(cldb_response_push(mem, &r, &out,
							 &out_len),
				      out + CLDB_FRAME_HDR,
				      out_len - CLDB_FRAME_HDR, data, size);
		}
		break;
	}
	case 2: {
		struct cldb_update u;
		if (NT_STATUS_IS_OK(cldb_update_pull(mem, data, size, &u))) {
			if (u.req.op == CLDB_OP_ATTACH) {
				abort();
			}
			same_or_abort(cldb_update_push(mem, &u, &out, &out_len),
				      out, out_len, data, size);
		}
		break;
	}
	case 3: {
		struct cldb_value v;
		if (NT_STATUS_IS_OK(cldb_value_pull(data, size, &v))) {
			if (v.seq == 0 || (v.deleted && v.value.dsize != 0)) {
				abort();
			}
		}
		break;
	}
	case 8: {
		struct cldb_txn t;
		if (NT_STATUS_IS_OK(cldb_txn_pull(mem, data, size, &t))) {
			if (t.num_recs > CLDB_TXN_MAX_RECS) {
				abort();
			}
			for (uint32_t i = 0; i < t.num_recs; i++) {
				if (cldb_key_reserved(t.recs[i].key) ||
				    t.recs[i].key.dsize == 0 ||
				    t.recs[i].key.dsize > CLDB_MAX_KEY) {
					abort();
				}
			}
			same_or_abort(cldb_txn_push(mem, &t, &out, &out_len),
				      out, out_len, data, size);
		}
		break;
	}
	case 9: {
		struct cldb_vacuum v;
		size_t bytes = 0;
		if (NT_STATUS_IS_OK(cldb_vacuum_pull(mem, data, size, &v))) {
			if (v.num_recs > CLDB_VACUUM_MAX_RECS ||
			    !cldb_name_ok(v.db)) {
				abort();
			}
			for (uint32_t i = 0; i < v.num_recs; i++) {
				bytes += v.recs[i].key.dsize;
				if (cldb_key_reserved(v.recs[i].key) ||
				    v.recs[i].key.dsize == 0 ||
				    v.recs[i].key.dsize > CLDB_MAX_KEY ||
				    v.recs[i].seq == 0 ||
				    v.recs[i].seq == UINT64_MAX) {
					abort();
				}
			}
			if (bytes > CLDB_SYNC_CHUNK) {
				abort();
			}
			same_or_abort(cldb_vacuum_push(mem, &v, &out, &out_len),
				      out, out_len, data, size);
		}
		break;
	}
	case 7: {
		struct cldb_sync_state m, m2;
		if (NT_STATUS_IS_OK(cldb_sync_state_pull(data, size, &m))) {
			NTSTATUS st = cldb_sync_state_push(mem, &m, &out,
							   &out_len);
			if (NT_STATUS_IS_OK(st) && size >= 4 &&
			    (data[2] | data[3] << 8) == 1) {
				/* read as v1, written as v2: compare the
				 * second round trip */
				uint8_t *out2 = NULL;
				size_t out2_len = 0;
				if (!NT_STATUS_IS_OK(cldb_sync_state_pull(
					    out, out_len, &m2)) ||
				    m2.persisted != 0) {
					abort();
				}
				same_or_abort(cldb_sync_state_push(mem, &m2,
								   &out2,
								   &out2_len),
					      out2, out2_len, out, out_len);
			} else {
				same_or_abort(st, out, out_len, data, size);
			}
		}
		break;
	}
	default: {
		uint16_t type = sync_types[sel - 4];
		struct cldb_sync m;
		if (NT_STATUS_IS_OK(cldb_sync_pull(mem, type, data, size, &m))) {
			NTSTATUS st = cldb_sync_push(mem, type, &m, &out,
						     &out_len);
			if (type == REC_CLUSTERD_DB_SYNC_DATA &&
			    NT_STATUS_IS_OK(st) && size >= 4 &&
			    (data[2] | data[3] << 8) == 1) {
				/* read as v1, written as v2: compare the
				 * second round trip */
				struct cldb_sync m2;
				uint8_t *out2 = NULL;
				size_t out2_len = 0;
				if (!NT_STATUS_IS_OK(cldb_sync_pull(
					    mem, type, out, out_len, &m2))) {
					abort();
				}
				same_or_abort(cldb_sync_push(mem, type, &m2,
							     &out2, &out2_len),
					      out2, out2_len, out, out_len);
			} else {
				same_or_abort(st, out, out_len, data, size);
			}
		}
		break;
	}
	}
	talloc_free(mem);
	return 0;
}
