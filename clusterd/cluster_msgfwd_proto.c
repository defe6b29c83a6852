/*
 * Encodings of cross-node messaging (see cluster_msgfwd_proto.h).
 */
#include "clusterd/cluster_msgfwd_proto.h"

#include "lib/util/marshall.h"

static bool pid_ok(uint32_t pid)
{
	return pid != 0 && pid <= (uint32_t)INT32_MAX;
}

static bool fwd_ok(const struct clmsgfwd *m)
{
	return m->src.node != m->dst.node && pid_ok(m->src.pid) &&
	       pid_ok(m->dst.pid) && m->len <= CLUSTER_MSG_MAX_PAYLOAD &&
	       (m->len == 0 || m->data != NULL);
}

static void push_sid(struct marshall_push *p, const struct server_id *id)
{
	marshall_push_u32(p, id->node);
	marshall_push_u32(p, id->pid);
	marshall_push_u32(p, id->task);
	marshall_push_u64(p, id->unique);
}

static bool pull_sid(struct marshall_pull *r, struct server_id *id)
{
	return marshall_pull_u32(r, &id->node) &&
	       marshall_pull_u32(r, &id->pid) &&
	       marshall_pull_u32(r, &id->task) &&
	       marshall_pull_u64(r, &id->unique);
}

NTSTATUS clmsgfwd_push(TALLOC_CTX *mem_ctx, const struct clmsgfwd *m,
		       uint8_t **buf, size_t *len)
{
	struct marshall_push *p;

	if (!fwd_ok(m)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	p = marshall_push_init(mem_ctx, REC_CLUSTERD_MSG, 1);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	push_sid(p, &m->src);
	push_sid(p, &m->dst);
	marshall_push_u32(p, m->msg_type);
	marshall_push_blob(p, m->data, m->len);
	return marshall_push_finish(p, buf, len);
}

NTSTATUS clmsgfwd_pull(const uint8_t *buf, size_t len, struct clmsgfwd *out)
{
	struct marshall_pull r;
	NTSTATUS status;
	bool ok;

	*out = (struct clmsgfwd){ 0 };
	status = marshall_pull_init(&r, buf, len, REC_CLUSTERD_MSG, 1);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	ok = pull_sid(&r, &out->src) && pull_sid(&r, &out->dst) &&
	     marshall_pull_u32(&r, &out->msg_type) &&
	     marshall_pull_blob(&r, &out->data, &out->len);
	status = marshall_pull_finish(&r);
	if (!ok || !NT_STATUS_IS_OK(status) || !fwd_ok(out)) {
		*out = (struct clmsgfwd){ 0 };
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	if (out->len == 0) {
		out->data = NULL;
	}
	return NT_STATUS_OK;
}

static bool view_ok(const struct clview *v)
{
	bool mine = false;

	if (v->my_node == 0 || v->num_members == 0 ||
	    v->num_members > CLUSTER_VIEW_MAX_MEMBERS ||
	    v->clusterd.node != v->my_node ||
	    (v->clusterd.pid != 0 && !pid_ok(v->clusterd.pid))) {
		return false;
	}
	for (uint32_t i = 0; i < v->num_members; i++) {
		if (v->members[i] == 0 ||
		    (i > 0 && v->members[i] <= v->members[i - 1])) {
			return false;
		}
		mine = mine || v->members[i] == v->my_node;
	}
	return mine;
}

NTSTATUS clview_push(TALLOC_CTX *mem_ctx, const struct clview *v,
		     uint8_t **buf, size_t *len)
{
	struct marshall_push *p;

	if (!view_ok(v)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	p = marshall_push_init(mem_ctx, REC_CLUSTERD_VIEW, 1);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, v->my_node);
	push_sid(p, &v->clusterd);
	marshall_push_u64(p, v->seq);
	marshall_push_u32(p, v->num_members);
	for (uint32_t i = 0; i < v->num_members; i++) {
		marshall_push_u32(p, v->members[i]);
	}
	return marshall_push_finish(p, buf, len);
}

NTSTATUS clview_pull(const uint8_t *buf, size_t len, struct clview *out)
{
	struct marshall_pull r;
	NTSTATUS status;
	bool ok;

	*out = (struct clview){ 0 };
	status = marshall_pull_init(&r, buf, len, REC_CLUSTERD_VIEW, 1);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	ok = marshall_pull_u32(&r, &out->my_node) &&
	     pull_sid(&r, &out->clusterd) && marshall_pull_u64(&r, &out->seq) &&
	     marshall_pull_count(&r, &out->num_members, 4) &&
	     out->num_members <= CLUSTER_VIEW_MAX_MEMBERS;
	for (uint32_t i = 0; ok && i < out->num_members; i++) {
		ok = marshall_pull_u32(&r, &out->members[i]);
	}
	status = marshall_pull_finish(&r);
	if (!ok || !NT_STATUS_IS_OK(status) || !view_ok(out)) {
		*out = (struct clview){ 0 };
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	return NT_STATUS_OK;
}

bool clview_has(const struct clview *v, uint32_t node)
{
	uint32_t lo = 0, hi = v->num_members;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v->members[mid] == node) {
			return true;
		}
		if (v->members[mid] < node) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return false;
}
