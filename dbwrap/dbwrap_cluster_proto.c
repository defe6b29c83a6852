/*
 * Replicated databases: encodings (dbwrap_cluster_proto.h).
 */
#include <string.h>

#include "dbwrap/dbwrap_cluster_proto.h"
#include "lib/util/marshall.h"

bool cldb_name_ok(const char *name)
{
	size_t n;

	if (name == NULL || name[0] == '\0' || name[0] == '.') {
		return false;
	}
	n = strlen(name);
	if (n > CLDB_MAX_NAME) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-')) {
			return false;
		}
	}
	return true;
}

uint32_t cldb_frame_len(const uint8_t hdr[CLDB_FRAME_HDR], uint32_t max)
{
	uint32_t n = (uint32_t)hdr[0] | ((uint32_t)hdr[1] << 8) |
		     ((uint32_t)hdr[2] << 16) | ((uint32_t)hdr[3] << 24);

	return (n == 0 || n > max) ? 0 : n;
}

/* Prepend the length header to a finished record. */
static NTSTATUS frame_finish(struct marshall_push *p, uint8_t **buf,
			     size_t *len)
{
	NTSTATUS status = marshall_push_finish(p, buf, len);
	uint8_t *f = NULL;

	NT_STATUS_NOT_OK_RETURN(status);
	if (*len > CLDB_MAX_FRAME) {
		TALLOC_FREE(*buf);
		return NT_STATUS_INVALID_PARAMETER;
	}
	f = talloc_realloc(NULL, *buf, uint8_t, *len + CLDB_FRAME_HDR);
	if (f == NULL) {
		TALLOC_FREE(*buf);
		return NT_STATUS_NO_MEMORY;
	}
	memmove(f + CLDB_FRAME_HDR, f, *len);
	f[0] = *len & 0xff;
	f[1] = (*len >> 8) & 0xff;
	f[2] = (*len >> 16) & 0xff;
	f[3] = (*len >> 24) & 0xff;
	*buf = f;
	*len += CLDB_FRAME_HDR;
	return NT_STATUS_OK;
}

bool cldb_key_reserved(struct db_data key)
{
	return (key.dsize == CLDB_DBSEQ_KEY_LEN &&
		memcmp(key.dptr, CLDB_DBSEQ_KEY, CLDB_DBSEQ_KEY_LEN) == 0) ||
	       (key.dsize == CLDB_FLOOR_KEY_LEN &&
		memcmp(key.dptr, CLDB_FLOOR_KEY, CLDB_FLOOR_KEY_LEN) == 0);
}

static bool key_ok(struct db_data key)
{
	return key.dsize > 0 && key.dsize <= CLDB_MAX_KEY &&
	       !cldb_key_reserved(key);
}

static bool request_ok(const struct cldb_request *r)
{
	if (!cldb_name_ok(r->db)) {
		return false;
	}
	switch (r->op) {
	case CLDB_OP_ATTACH:
	case CLDB_OP_ATTACH_PERSISTENT:
		return r->key.dsize == 0 && r->value.dsize == 0;
	case CLDB_OP_STORE:
		return key_ok(r->key) && r->value.dsize <= CLDB_MAX_VALUE;
	case CLDB_OP_DELETE:
		return key_ok(r->key) && r->value.dsize == 0;
	case CLDB_OP_COMMIT:
		/* the TXN itself is checked where it is applied */
		return r->key.dsize == 0 && r->value.dsize > 0 &&
		       r->value.dsize <= CLDB_MAX_VALUE;
	}
	return false;
}

static bool is_attach(uint32_t op)
{
	return op == CLDB_OP_ATTACH || op == CLDB_OP_ATTACH_PERSISTENT;
}

static void push_request_fields(struct marshall_push *p,
				const struct cldb_request *r)
{
	marshall_push_u32(p, r->op);
	marshall_push_string(p, r->db);
	marshall_push_blob(p, r->key.dptr, r->key.dsize);
	marshall_push_u64(p, r->seq);
	marshall_push_blob(p, r->value.dptr, r->value.dsize);
}

static NTSTATUS pull_request_fields(TALLOC_CTX *mem_ctx,
				    struct marshall_pull *m,
				    struct cldb_request *r)
{
	const uint8_t *k = NULL, *v = NULL;
	size_t klen = 0, vlen = 0;

	if (!marshall_pull_u32(m, &r->op) ||
	    !marshall_pull_string(m, mem_ctx, &r->db) ||
	    !marshall_pull_blob(m, &k, &klen) ||
	    !marshall_pull_u64(m, &r->seq) ||
	    !marshall_pull_blob(m, &v, &vlen)) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	r->key = db_data_make(k, klen);
	r->value = db_data_make(v, vlen);
	if (!request_ok(r)) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	return NT_STATUS_OK;
}

NTSTATUS cldb_request_push(TALLOC_CTX *mem_ctx, const struct cldb_request *r,
			   uint8_t **buf, size_t *len)
{
	struct marshall_push *p;

	if (!request_ok(r)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	p = marshall_push_init(mem_ctx, REC_CLUSTERD_DB_REQ, 1);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	push_request_fields(p, r);
	return frame_finish(p, buf, len);
}

NTSTATUS cldb_request_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			   size_t len, struct cldb_request *r)
{
	struct marshall_pull m;
	NTSTATUS status;

	*r = (struct cldb_request){0};
	status = marshall_pull_init(&m, buf, len, REC_CLUSTERD_DB_REQ, 1);
	NT_STATUS_NOT_OK_RETURN(status);
	status = pull_request_fields(mem_ctx, &m, r);
	NT_STATUS_NOT_OK_RETURN(status);
	return marshall_pull_finish(&m);
}

NTSTATUS cldb_response_push(TALLOC_CTX *mem_ctx,
			    const struct cldb_response *r, uint8_t **buf,
			    size_t *len)
{
	struct marshall_push *p;

	p = marshall_push_init(mem_ctx, REC_CLUSTERD_DB_RESP, 1);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, NT_STATUS_V(r->status));
	marshall_push_u64(p, r->seq);
	marshall_push_string(p, r->path != NULL ? r->path : "");
	return frame_finish(p, buf, len);
}

NTSTATUS cldb_response_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			    size_t len, struct cldb_response *r)
{
	struct marshall_pull m;
	uint32_t st = 0;
	NTSTATUS status;

	*r = (struct cldb_response){0};
	status = marshall_pull_init(&m, buf, len, REC_CLUSTERD_DB_RESP, 1);
	NT_STATUS_NOT_OK_RETURN(status);
	if (!marshall_pull_u32(&m, &st) || !marshall_pull_u64(&m, &r->seq) ||
	    !marshall_pull_string(&m, mem_ctx, &r->path) || r->path == NULL) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	r->status = NT_STATUS(st);
	if (strlen(r->path) > 4096) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	return marshall_pull_finish(&m);
}

NTSTATUS cldb_update_push(TALLOC_CTX *mem_ctx, const struct cldb_update *u,
			  uint8_t **buf, size_t *len)
{
	struct marshall_push *p;

	if (is_attach(u->req.op) || !request_ok(&u->req)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	p = marshall_push_init(mem_ctx, REC_CLUSTERD_DB_UPDATE, 1);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, u->nodeid);
	marshall_push_u64(p, u->reqid);
	push_request_fields(p, &u->req);
	return marshall_push_finish(p, buf, len);
}

NTSTATUS cldb_update_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			  size_t len, struct cldb_update *u)
{
	struct marshall_pull m;
	NTSTATUS status;

	*u = (struct cldb_update){0};
	status = marshall_pull_init(&m, buf, len, REC_CLUSTERD_DB_UPDATE, 1);
	NT_STATUS_NOT_OK_RETURN(status);
	if (!marshall_pull_u32(&m, &u->nodeid) ||
	    !marshall_pull_u64(&m, &u->reqid)) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	status = pull_request_fields(mem_ctx, &m, &u->req);
	NT_STATUS_NOT_OK_RETURN(status);
	if (is_attach(u->req.op)) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	return marshall_pull_finish(&m);
}

NTSTATUS cldb_value_push(TALLOC_CTX *mem_ctx, const struct cldb_value *v,
			 uint8_t **buf, size_t *len)
{
	struct marshall_push *p;

	p = marshall_push_init(mem_ctx, REC_CLUSTERD_DB_VALUE, 1);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u64(p, v->seq);
	marshall_push_bool(p, v->deleted);
	marshall_push_blob(p, v->value.dptr, v->value.dsize);
	return marshall_push_finish(p, buf, len);
}

NTSTATUS cldb_value_pull(const uint8_t *buf, size_t len,
			 struct cldb_value *v)
{
	struct marshall_pull m;
	const uint8_t *d = NULL;
	size_t dlen = 0;
	NTSTATUS status;

	*v = (struct cldb_value){0};
	status = marshall_pull_init(&m, buf, len, REC_CLUSTERD_DB_VALUE, 1);
	NT_STATUS_NOT_OK_RETURN(status);
	if (!marshall_pull_u64(&m, &v->seq) ||
	    !marshall_pull_bool(&m, &v->deleted) ||
	    !marshall_pull_blob(&m, &d, &dlen)) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	v->value = db_data_make(d, dlen);
	/* UINT64_MAX: no key gets there by changes, one at a time; the next
	 * change would wrap to 0, a record every reader rejects (a peer's
	 * snapshot could carry it: fuzz_cluster_db_deliver found it) */
	if (v->seq == 0 || v->seq == UINT64_MAX ||
	    (v->deleted && dlen != 0)) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	return marshall_pull_finish(&m);
}

NTSTATUS cldb_sync_state_push(TALLOC_CTX *mem_ctx,
			      const struct cldb_sync_state *m, uint8_t **buf,
			      size_t *len)
{
	struct marshall_push *p;

	p = marshall_push_init(mem_ctx, REC_CLUSTERD_DB_SYNC_STATE, 2);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, m->nodeid);
	marshall_push_u64(p, m->view);
	marshall_push_bool(p, m->synced);
	marshall_push_u64(p, m->applied);
	marshall_push_u64(p, m->persisted);
	return marshall_push_finish(p, buf, len);
}

NTSTATUS cldb_sync_state_pull(const uint8_t *buf, size_t len,
			      struct cldb_sync_state *m)
{
	struct marshall_pull r;
	NTSTATUS status;

	*m = (struct cldb_sync_state){0};
	status = marshall_pull_init(&r, buf, len, REC_CLUSTERD_DB_SYNC_STATE,
				    2);
	NT_STATUS_NOT_OK_RETURN(status);
	if (!marshall_pull_u32(&r, &m->nodeid) ||
	    !marshall_pull_u64(&r, &m->view) ||
	    !marshall_pull_bool(&r, &m->synced) ||
	    !marshall_pull_u64(&r, &m->applied) ||
	    (r.version >= 2 && !marshall_pull_u64(&r, &m->persisted))) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	return marshall_pull_finish(&r);
}

NTSTATUS cldb_sync_push(TALLOC_CTX *mem_ctx, uint16_t type,
			const struct cldb_sync *m, uint8_t **buf, size_t *len)
{
	struct marshall_push *p;

	if (type != REC_CLUSTERD_DB_SYNC_REQ &&
	    type != REC_CLUSTERD_DB_SYNC_DATA &&
	    type != REC_CLUSTERD_DB_SYNC_DONE) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (type == REC_CLUSTERD_DB_SYNC_DATA && !cldb_name_ok(m->db)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if ((m->flags & ~(uint32_t)CLDB_SYNC_PERSISTENT) != 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* DATA v2 adds the flags (the persistent kind travels with it) */
	p = marshall_push_init(mem_ctx, type,
			       type == REC_CLUSTERD_DB_SYNC_DATA ? 2 : 1);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, m->nodeid);
	if (type != REC_CLUSTERD_DB_SYNC_REQ) {
		marshall_push_u32(p, m->pid);
	}
	marshall_push_u64(p, m->nonce);
	if (type == REC_CLUSTERD_DB_SYNC_DATA) {
		marshall_push_string(p, m->db);
		marshall_push_u32(p, m->flags);
		marshall_push_u32(p, m->num_recs);
		for (uint32_t i = 0; i < m->num_recs; i++) {
			marshall_push_blob(p, m->recs[i].key.dptr,
					   m->recs[i].key.dsize);
			marshall_push_blob(p, m->recs[i].stored.dptr,
					   m->recs[i].stored.dsize);
		}
	}
	return marshall_push_finish(p, buf, len);
}

NTSTATUS cldb_sync_pull(TALLOC_CTX *mem_ctx, uint16_t type,
			const uint8_t *buf, size_t len, struct cldb_sync *m)
{
	struct marshall_pull r;
	NTSTATUS status;

	*m = (struct cldb_sync){0};
	status = marshall_pull_init(&r, buf, len, type,
				    type == REC_CLUSTERD_DB_SYNC_DATA ? 2 : 1);
	NT_STATUS_NOT_OK_RETURN(status);
	if (!marshall_pull_u32(&r, &m->nodeid) ||
	    (type != REC_CLUSTERD_DB_SYNC_REQ &&
	     !marshall_pull_u32(&r, &m->pid)) ||
	    !marshall_pull_u64(&r, &m->nonce)) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	if (type == REC_CLUSTERD_DB_SYNC_DATA) {
		/* a record is at least two empty blobs: 8 bytes */
		if (!marshall_pull_string(&r, mem_ctx, &m->db) ||
		    !cldb_name_ok(m->db) ||
		    (r.version >= 2 && !marshall_pull_u32(&r, &m->flags)) ||
		    (m->flags & ~(uint32_t)CLDB_SYNC_PERSISTENT) != 0 ||
		    !marshall_pull_count(&r, &m->num_recs, 8)) {
			return NT_STATUS_INVALID_NETWORK_RESPONSE;
		}
		m->recs = talloc_zero_array(mem_ctx, struct cldb_sync_rec,
					    m->num_recs + 1);
		if (m->recs == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		for (uint32_t i = 0; i < m->num_recs; i++) {
			const uint8_t *k = NULL, *v = NULL;
			size_t kl = 0, vl = 0;
			struct cldb_value cv;

			if (!marshall_pull_blob(&r, &k, &kl) ||
			    !marshall_pull_blob(&r, &v, &vl) || kl == 0 ||
			    kl > CLDB_MAX_KEY ||
			    !NT_STATUS_IS_OK(cldb_value_pull(v, vl, &cv))) {
				return NT_STATUS_INVALID_NETWORK_RESPONSE;
			}
			m->recs[i].key = db_data_make(k, kl);
			m->recs[i].stored = db_data_make(v, vl);
		}
	}
	return marshall_pull_finish(&r);
}

NTSTATUS cldb_txn_push(TALLOC_CTX *mem_ctx, const struct cldb_txn *t,
		       uint8_t **buf, size_t *len)
{
	struct marshall_push *p;
	NTSTATUS status;

	if (t->num_recs > CLDB_TXN_MAX_RECS) {
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	}
	p = marshall_push_init(mem_ctx, REC_CLUSTERD_DB_TXN, 1);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, t->num_recs);
	for (uint32_t i = 0; i < t->num_recs; i++) {
		const struct cldb_txn_rec *r = &t->recs[i];

		if ((r->op != CLDB_OP_STORE && r->op != CLDB_OP_DELETE) ||
		    !key_ok(r->key) || r->value.dsize > CLDB_MAX_VALUE ||
		    (r->op == CLDB_OP_DELETE && r->value.dsize != 0)) {
			talloc_free(p);
			return NT_STATUS_INVALID_PARAMETER;
		}
		marshall_push_u32(p, r->op);
		marshall_push_blob(p, r->key.dptr, r->key.dsize);
		marshall_push_blob(p, r->value.dptr, r->value.dsize);
	}
	status = marshall_push_finish(p, buf, len);
	NT_STATUS_NOT_OK_RETURN(status);
	if (*len > CLDB_MAX_VALUE) {
		TALLOC_FREE(*buf);
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	}
	return NT_STATUS_OK;
}

NTSTATUS cldb_txn_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
		       struct cldb_txn *t)
{
	struct marshall_pull m;
	NTSTATUS status;

	*t = (struct cldb_txn){0};
	if (len > CLDB_MAX_VALUE) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	status = marshall_pull_init(&m, buf, len, REC_CLUSTERD_DB_TXN, 1);
	NT_STATUS_NOT_OK_RETURN(status);
	/* a change is at least op and two blob lengths: 12 bytes */
	if (!marshall_pull_count(&m, &t->num_recs, 12) ||
	    t->num_recs > CLDB_TXN_MAX_RECS) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	t->recs = talloc_zero_array(mem_ctx, struct cldb_txn_rec,
				    t->num_recs + 1);
	if (t->recs == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (uint32_t i = 0; i < t->num_recs; i++) {
		struct cldb_txn_rec *r = &t->recs[i];
		const uint8_t *k = NULL, *v = NULL;
		size_t kl = 0, vl = 0;

		if (!marshall_pull_u32(&m, &r->op) ||
		    !marshall_pull_blob(&m, &k, &kl) ||
		    !marshall_pull_blob(&m, &v, &vl)) {
			return NT_STATUS_INVALID_NETWORK_RESPONSE;
		}
		r->key = db_data_make(k, kl);
		r->value = db_data_make(v, vl);
		if ((r->op != CLDB_OP_STORE && r->op != CLDB_OP_DELETE) ||
		    !key_ok(r->key) ||
		    (r->op == CLDB_OP_DELETE && vl != 0)) {
			return NT_STATUS_INVALID_NETWORK_RESPONSE;
		}
	}
	return marshall_pull_finish(&m);
}

static bool vacuum_rec_ok(const struct cldb_vacuum_rec *r)
{
	return key_ok(r->key) && r->seq != 0 && r->seq != UINT64_MAX;
}

NTSTATUS cldb_vacuum_push(TALLOC_CTX *mem_ctx, const struct cldb_vacuum *v,
			  uint8_t **buf, size_t *len)
{
	struct marshall_push *p;
	size_t bytes = 0;

	if (!cldb_name_ok(v->db) || v->num_recs > CLDB_VACUUM_MAX_RECS) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	p = marshall_push_init(mem_ctx, REC_CLUSTERD_DB_VACUUM, 1);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u32(p, v->nodeid);
	marshall_push_string(p, v->db);
	marshall_push_u32(p, v->num_recs);
	for (uint32_t i = 0; i < v->num_recs; i++) {
		const struct cldb_vacuum_rec *r = &v->recs[i];

		bytes += r->key.dsize;
		if (!vacuum_rec_ok(r) || bytes > CLDB_SYNC_CHUNK) {
			talloc_free(p);
			return NT_STATUS_INVALID_PARAMETER;
		}
		marshall_push_blob(p, r->key.dptr, r->key.dsize);
		marshall_push_u64(p, r->seq);
	}
	return marshall_push_finish(p, buf, len);
}

NTSTATUS cldb_vacuum_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			  size_t len, struct cldb_vacuum *v)
{
	struct marshall_pull m;
	size_t bytes = 0;
	NTSTATUS status;

	*v = (struct cldb_vacuum){0};
	status = marshall_pull_init(&m, buf, len, REC_CLUSTERD_DB_VACUUM, 1);
	NT_STATUS_NOT_OK_RETURN(status);
	/* an entry is at least a one-byte key's blob and a u64: 13 bytes */
	if (!marshall_pull_u32(&m, &v->nodeid) ||
	    !marshall_pull_string(&m, mem_ctx, &v->db) ||
	    !cldb_name_ok(v->db) ||
	    !marshall_pull_count(&m, &v->num_recs, 13) ||
	    v->num_recs > CLDB_VACUUM_MAX_RECS) {
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	v->recs = talloc_zero_array(mem_ctx, struct cldb_vacuum_rec,
				    v->num_recs + 1);
	if (v->recs == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (uint32_t i = 0; i < v->num_recs; i++) {
		struct cldb_vacuum_rec *r = &v->recs[i];
		const uint8_t *k = NULL;
		size_t kl = 0;

		if (!marshall_pull_blob(&m, &k, &kl) ||
		    !marshall_pull_u64(&m, &r->seq)) {
			return NT_STATUS_INVALID_NETWORK_RESPONSE;
		}
		r->key = db_data_make(k, kl);
		bytes += kl;
		if (!vacuum_rec_ok(r) || bytes > CLDB_SYNC_CHUNK) {
			return NT_STATUS_INVALID_NETWORK_RESPONSE;
		}
	}
	return marshall_pull_finish(&m);
}
