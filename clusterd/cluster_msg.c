/*
 * clusterd's CPG messages (see cluster_msg.h).
 */
#include <stdlib.h>
#include <string.h>

#include "clusterd/cluster_msg.h"
#include "lib/util/marshall.h"

uint16_t clmsg_type(const uint8_t *buf, size_t len)
{
	if (buf == NULL || len < 4) {
		return 0;
	}
	return (uint16_t)(buf[0] | (buf[1] << 8));
}

static int member_cmp(const void *a, const void *b)
{
	const struct clmsg_member *x = a, *y = b;

	if (x->nodeid != y->nodeid) {
		return x->nodeid < y->nodeid ? -1 : 1;
	}
	if (x->pid != y->pid) {
		return x->pid < y->pid ? -1 : 1;
	}
	return 0;
}

void clmsg_sort_members(struct clmsg_member *m, size_t n)
{
	if (n > 1) {
		qsort(m, n, sizeof(*m), member_cmp);
	}
}

NTSTATUS clmsg_hello_push(TALLOC_CTX *mem_ctx, const struct clmsg_hello *h,
			  uint8_t **buf, size_t *len)
{
	struct marshall_push *p = NULL;

	if (h->num_members > CLMSG_MAX_MEMBERS ||
	    h->num_claims > CLMSG_MAX_CLAIMS) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	p = marshall_push_init(mem_ctx, REC_CLUSTERD_HELLO, 1);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, h->nodeid);
	marshall_push_u64(p, h->generation);
	marshall_push_bool(p, h->healthy);
	marshall_push_bool(p, h->stopped);
	marshall_push_u32(p, h->ips_checksum);
	marshall_push_u32(p, h->num_members);
	for (uint32_t i = 0; i < h->num_members; i++) {
		marshall_push_u32(p, h->members[i].nodeid);
		marshall_push_u32(p, h->members[i].pid);
	}
	marshall_push_u32(p, h->num_claims);
	for (uint32_t i = 0; i < h->num_claims; i++) {
		if (h->claims[i] == NULL) {
			TALLOC_FREE(p);
			return NT_STATUS_INVALID_PARAMETER;
		}
		marshall_push_string(p, h->claims[i]);
	}
	return marshall_push_finish(p, buf, len);
}

NTSTATUS clmsg_hello_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			  size_t len, struct clmsg_hello **out)
{
	struct marshall_pull r;
	struct clmsg_hello *h = NULL;
	NTSTATUS status;
	bool ok = true;

	*out = NULL;
	status = marshall_pull_init(&r, buf, len, REC_CLUSTERD_HELLO, 1);
	NT_STATUS_NOT_OK_RETURN(status);
	h = talloc_zero(mem_ctx, struct clmsg_hello);
	if (h == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	ok = marshall_pull_u32(&r, &h->nodeid) &&
	     marshall_pull_u64(&r, &h->generation) &&
	     marshall_pull_bool(&r, &h->healthy) &&
	     marshall_pull_bool(&r, &h->stopped) &&
	     marshall_pull_u32(&r, &h->ips_checksum) &&
	     marshall_pull_count(&r, &h->num_members, 8);
	if (!ok || h->num_members > CLMSG_MAX_MEMBERS) {
		goto corrupt;
	}
	h->members = talloc_zero_array(h, struct clmsg_member,
				       h->num_members + 1);
	if (h->members == NULL) {
		TALLOC_FREE(h);
		return NT_STATUS_NO_MEMORY;
	}
	for (uint32_t i = 0; i < h->num_members; i++) {
		if (!marshall_pull_u32(&r, &h->members[i].nodeid) ||
		    !marshall_pull_u32(&r, &h->members[i].pid)) {
			goto corrupt;
		}
		if (h->members[i].nodeid == 0) {
			goto corrupt;
		}
		if (i > 0 && member_cmp(&h->members[i - 1], &h->members[i]) >= 0) {
			goto corrupt;
		}
	}
	/* a string is at least its u32 length */
	if (!marshall_pull_count(&r, &h->num_claims, 4) ||
	    h->num_claims > CLMSG_MAX_CLAIMS) {
		goto corrupt;
	}
	h->claims = talloc_zero_array(h, char *, h->num_claims + 1);
	if (h->claims == NULL) {
		TALLOC_FREE(h);
		return NT_STATUS_NO_MEMORY;
	}
	for (uint32_t i = 0; i < h->num_claims; i++) {
		if (!marshall_pull_string(&r, h->claims, &h->claims[i]) ||
		    h->claims[i] == NULL || strlen(h->claims[i]) > 64) {
			goto corrupt;
		}
	}
	status = marshall_pull_finish(&r);
	if (!NT_STATUS_IS_OK(status) || h->nodeid == 0) {
		goto corrupt;
	}
	*out = h;
	return NT_STATUS_OK;
corrupt:
	TALLOC_FREE(h);
	return NT_STATUS_INTERNAL_DB_CORRUPTION;
}

NTSTATUS clmsg_state_push(TALLOC_CTX *mem_ctx, const struct clmsg_state *s,
			  uint8_t **buf, size_t *len)
{
	struct marshall_push *p = marshall_push_init(mem_ctx,
						     REC_CLUSTERD_STATE, 1);

	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, s->nodeid);
	marshall_push_bool(p, s->healthy);
	marshall_push_bool(p, s->stopped);
	return marshall_push_finish(p, buf, len);
}

NTSTATUS clmsg_state_pull(const uint8_t *buf, size_t len,
			  struct clmsg_state *out)
{
	struct marshall_pull r;
	NTSTATUS status;

	memset(out, 0, sizeof(*out));
	status = marshall_pull_init(&r, buf, len, REC_CLUSTERD_STATE, 1);
	NT_STATUS_NOT_OK_RETURN(status);
	marshall_pull_u32(&r, &out->nodeid);
	marshall_pull_bool(&r, &out->healthy);
	marshall_pull_bool(&r, &out->stopped);
	status = marshall_pull_finish(&r);
	if (!NT_STATUS_IS_OK(status) || out->nodeid == 0) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	return NT_STATUS_OK;
}

NTSTATUS clmsg_released_push(TALLOC_CTX *mem_ctx,
			     const struct clmsg_released *r, uint8_t **buf,
			     size_t *len)
{
	struct marshall_push *p = NULL;

	if (r->addr == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	p = marshall_push_init(mem_ctx, REC_CLUSTERD_RELEASED, 1);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, r->nodeid);
	marshall_push_u64(p, r->seq);
	marshall_push_string(p, r->addr);
	return marshall_push_finish(p, buf, len);
}

NTSTATUS clmsg_released_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			     size_t len, struct clmsg_released *out)
{
	struct marshall_pull r;
	NTSTATUS status;

	memset(out, 0, sizeof(*out));
	status = marshall_pull_init(&r, buf, len, REC_CLUSTERD_RELEASED, 1);
	NT_STATUS_NOT_OK_RETURN(status);
	marshall_pull_u32(&r, &out->nodeid);
	marshall_pull_u64(&r, &out->seq);
	marshall_pull_string(&r, mem_ctx, &out->addr);
	status = marshall_pull_finish(&r);
	if (!NT_STATUS_IS_OK(status) || out->nodeid == 0 ||
	    out->addr == NULL || strlen(out->addr) > 64) {
		TALLOC_FREE(out->addr);
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	return NT_STATUS_OK;
}
