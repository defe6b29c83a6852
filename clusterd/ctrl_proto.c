/*
 * Control protocol encoding (see ctrl_proto.h).
 */
#include <string.h>

#include "clusterd/cluster_state.h"
#include "clusterd/ctrl_proto.h"
#include "lib/util/marshall.h"

uint32_t ctrl_frame_len(const uint8_t hdr[CTRL_FRAME_HDR], uint32_t max)
{
	uint32_t n = (uint32_t)hdr[0] | ((uint32_t)hdr[1] << 8) |
		     ((uint32_t)hdr[2] << 16) | ((uint32_t)hdr[3] << 24);

	return (n == 0 || n > max) ? 0 : n;
}

uint16_t ctrl_body_type(const uint8_t *buf, size_t len)
{
	if (len < 4) {
		return 0;
	}
	return (uint16_t)(buf[0] | (buf[1] << 8));
}

/* Prepend the length: the record is pushed after a reserved u32. */
static NTSTATUS frame_finish(struct marshall_push *p, uint8_t **buf,
			     size_t *len)
{
	NTSTATUS status = marshall_push_finish(p, buf, len);
	uint8_t *f = NULL;

	NT_STATUS_NOT_OK_RETURN(status);
	f = talloc_realloc(NULL, *buf, uint8_t, *len + CTRL_FRAME_HDR);
	if (f == NULL) {
		TALLOC_FREE(*buf);
		return NT_STATUS_NO_MEMORY;
	}
	memmove(f + CTRL_FRAME_HDR, f, *len);
	f[0] = *len & 0xff;
	f[1] = (*len >> 8) & 0xff;
	f[2] = (*len >> 16) & 0xff;
	f[3] = (*len >> 24) & 0xff;
	*buf = f;
	*len += CTRL_FRAME_HDR;
	return NT_STATUS_OK;
}

NTSTATUS ctrl_request_push(TALLOC_CTX *mem_ctx, uint32_t op, uint8_t **buf,
			   size_t *len)
{
	struct marshall_push *p = marshall_push_init(mem_ctx,
						     REC_CLUSTERD_CTRL_REQ, 1);

	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, op);
	return frame_finish(p, buf, len);
}

NTSTATUS ctrl_request_pull(const uint8_t *buf, size_t len, uint32_t *op)
{
	struct marshall_pull r;
	NTSTATUS status;

	status = marshall_pull_init(&r, buf, len, REC_CLUSTERD_CTRL_REQ, 1);
	NT_STATUS_NOT_OK_RETURN(status);
	marshall_pull_u32(&r, op);
	status = marshall_pull_finish(&r);
	NT_STATUS_NOT_OK_RETURN(status);
	if (*op < CTRL_OP_STATUS || *op > CTRL_OP_CONTINUE) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_OK;
}

NTSTATUS ctrl_result_push(TALLOC_CTX *mem_ctx, NTSTATUS result,
			  uint8_t **buf, size_t *len)
{
	struct marshall_push *p = marshall_push_init(mem_ctx,
						     REC_CLUSTERD_CTRL_RESULT, 1);

	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, NT_STATUS_V(result));
	return frame_finish(p, buf, len);
}

NTSTATUS ctrl_result_pull(const uint8_t *buf, size_t len, NTSTATUS *result)
{
	struct marshall_pull r;
	uint32_t v = 0;
	NTSTATUS status;

	status = marshall_pull_init(&r, buf, len, REC_CLUSTERD_CTRL_RESULT, 1);
	NT_STATUS_NOT_OK_RETURN(status);
	marshall_pull_u32(&r, &v);
	status = marshall_pull_finish(&r);
	NT_STATUS_NOT_OK_RETURN(status);
	*result = NT_STATUS(v);
	return NT_STATUS_OK;
}

NTSTATUS ctrl_status_push(TALLOC_CTX *mem_ctx, const struct ctrl_status *s,
			  uint8_t **buf, size_t *len)
{
	struct marshall_push *p = NULL;

	if (s->num_nodes > CTRL_MAX_NODES || s->num_ips > CTRL_MAX_IPS ||
	    s->num_dbs > CTRL_MAX_DBS) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	p = marshall_push_init(mem_ctx, REC_CLUSTERD_CTRL_STATUS, 3);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, s->my_id);
	marshall_push_bool(p, s->quorate);
	marshall_push_bool(p, s->committed);
	marshall_push_u64(p, s->generation);
	marshall_push_u32(p, s->leader);
	marshall_push_u32(p, s->num_nodes);
	for (uint32_t i = 0; i < s->num_nodes; i++) {
		marshall_push_u32(p, s->nodes[i].id);
		marshall_push_string(p, s->nodes[i].addr != NULL ?
					     s->nodes[i].addr : "");
		marshall_push_u8(p, s->nodes[i].state);
	}
	marshall_push_u32(p, s->num_ips);
	for (uint32_t i = 0; i < s->num_ips; i++) {
		marshall_push_string(p, s->ips[i].addr);
		marshall_push_u32(p, s->ips[i].prefix);
		marshall_push_string(p, s->ips[i].iface);
		marshall_push_u32(p, s->ips[i].owner);
		marshall_push_bool(p, s->ips[i].held);
	}
	marshall_push_u32(p, s->num_dbs);
	for (uint32_t i = 0; i < s->num_dbs; i++) {
		marshall_push_string(p, s->dbs[i].name);
		marshall_push_u64(p, s->dbs[i].records);
	}
	marshall_push_bool(p, s->dbs_in_sync);
	return frame_finish(p, buf, len);
}

/* A string that must be present and printable (it reaches a terminal). */
static bool pull_text(struct marshall_pull *r, TALLOC_CTX *mem_ctx, char **s,
		      size_t max)
{
	if (!marshall_pull_string(r, mem_ctx, s) || *s == NULL ||
	    strlen(*s) > max) {
		return false;
	}
	for (const char *c = *s; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) {
			return false;
		}
	}
	return true;
}

NTSTATUS ctrl_status_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
			  struct ctrl_status **out)
{
	struct marshall_pull r;
	struct ctrl_status *s = NULL;
	NTSTATUS status;
	bool ok;

	*out = NULL;
	status = marshall_pull_init(&r, buf, len, REC_CLUSTERD_CTRL_STATUS, 3);
	NT_STATUS_NOT_OK_RETURN(status);
	s = talloc_zero(mem_ctx, struct ctrl_status);
	if (s == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	ok = marshall_pull_u32(&r, &s->my_id) &&
	     marshall_pull_bool(&r, &s->quorate) &&
	     marshall_pull_bool(&r, &s->committed) &&
	     marshall_pull_u64(&r, &s->generation) &&
	     marshall_pull_u32(&r, &s->leader) &&
	     marshall_pull_count(&r, &s->num_nodes, 9) &&
	     s->num_nodes <= CTRL_MAX_NODES;
	if (!ok) {
		goto corrupt;
	}
	s->nodes = talloc_zero_array(s, struct ctrl_status_node,
				     s->num_nodes + 1);
	if (s->nodes == NULL) {
		goto nomem;
	}
	for (uint32_t i = 0; i < s->num_nodes; i++) {
		struct ctrl_status_node *n = &s->nodes[i];
		if (!marshall_pull_u32(&r, &n->id) ||
		    !pull_text(&r, s->nodes, &n->addr, 255) ||
		    !marshall_pull_u8(&r, &n->state) ||
		    n->state > CLUSTER_NODE_STOPPED || n->id == 0) {
			goto corrupt;
		}
	}
	if (!marshall_pull_count(&r, &s->num_ips, 17) ||
	    s->num_ips > CTRL_MAX_IPS) {
		goto corrupt;
	}
	s->ips = talloc_zero_array(s, struct ctrl_status_ip, s->num_ips + 1);
	if (s->ips == NULL) {
		goto nomem;
	}
	for (uint32_t i = 0; i < s->num_ips; i++) {
		struct ctrl_status_ip *ip = &s->ips[i];
		if (!pull_text(&r, s->ips, &ip->addr, 64) ||
		    !marshall_pull_u32(&r, &ip->prefix) || ip->prefix > 128 ||
		    !pull_text(&r, s->ips, &ip->iface, 64) ||
		    !marshall_pull_u32(&r, &ip->owner) ||
		    !marshall_pull_bool(&r, &ip->held)) {
			goto corrupt;
		}
	}
	if (r.version >= 2) {
		/* name (u32 length + at least 2 bytes) + u64 */
		if (!marshall_pull_count(&r, &s->num_dbs, 14) ||
		    s->num_dbs > CTRL_MAX_DBS) {
			goto corrupt;
		}
	}
	s->dbs = talloc_zero_array(s, struct ctrl_status_db, s->num_dbs + 1);
	if (s->dbs == NULL) {
		goto nomem;
	}
	for (uint32_t i = 0; i < s->num_dbs; i++) {
		if (!pull_text(&r, s->dbs, &s->dbs[i].name, 64) ||
		    s->dbs[i].name[0] == '\0' ||
		    !marshall_pull_u64(&r, &s->dbs[i].records)) {
			goto corrupt;
		}
	}
	s->dbs_in_sync = true;
	if (r.version >= 3 && !marshall_pull_bool(&r, &s->dbs_in_sync)) {
		goto corrupt;
	}
	status = marshall_pull_finish(&r);
	if (!NT_STATUS_IS_OK(status)) {
		goto corrupt;
	}
	*out = s;
	return NT_STATUS_OK;
corrupt:
	TALLOC_FREE(s);
	return NT_STATUS_INVALID_NETWORK_RESPONSE;
nomem:
	TALLOC_FREE(s);
	return NT_STATUS_NO_MEMORY;
}
