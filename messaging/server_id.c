/*
 * server_id helpers: comparison, printing and the 20-byte wire form
 * (node u32, pid u32, task u32, unique u64, all little-endian) that every
 * message header and every database record naming a process uses.
 *
 * server_id_is_alive() lives in messaging.c: it needs the context (own
 * node, socket directory, the remote liveness hook).
 */
#include "messaging/messaging.h"

#include <stddef.h>

#include "lib/util/byteorder.h"

bool server_id_equal(const struct server_id *a, const struct server_id *b)
{
	return a->node == b->node && a->pid == b->pid && a->task == b->task &&
	       a->unique == b->unique;
}

char *server_id_str(TALLOC_CTX *mem_ctx, const struct server_id *id)
{
	if (id->task == 0) {
		return talloc_asprintf(mem_ctx, "%u:%u", (unsigned)id->node,
				       (unsigned)id->pid);
	}
	return talloc_asprintf(mem_ctx, "%u:%u.%u", (unsigned)id->node,
			       (unsigned)id->pid, (unsigned)id->task);
}

void server_id_push(uint8_t buf[SERVER_ID_WIRE_SIZE],
		    const struct server_id *id)
{
	PUSH_LE32(buf, 0, id->node);
	PUSH_LE32(buf, 4, id->pid);
	PUSH_LE32(buf, 8, id->task);
	PUSH_LE64(buf, 12, id->unique);
}

void server_id_pull(const uint8_t buf[SERVER_ID_WIRE_SIZE],
		    struct server_id *id)
{
	id->node = PULL_LE32(buf, 0);
	id->pid = PULL_LE32(buf, 4);
	id->task = PULL_LE32(buf, 8);
	id->unique = PULL_LE64(buf, 12);
}
