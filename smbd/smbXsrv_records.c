/*
 * Encoding of the smbXsrv *_global records (smbXsrv_records.h).
 * Version 1 of each; a reader refuses versions it does not know, so a
 * field added later means a version 2 with its own decode branch.
 */
#include "smbd/smbXsrv_records.h"

#include "lib/util/byteorder.h"
#include "lib/util/marshall.h"

void smbXsrv_session_global_key(uint8_t key[8], uint64_t session_id)
{
	PUSH_LE64(key, 0, session_id);
}

void smbXsrv_tcon_global_key(uint8_t key[SMBXSRV_TCON_KEY_SIZE],
			     uint64_t session_id, uint32_t tcon_id)
{
	PUSH_LE64(key, 0, session_id);
	PUSH_LE32(key, 8, tcon_id);
}

void smbXsrv_open_global_key(uint8_t key[8], uint64_t persistent_id)
{
	PUSH_LE64(key, 0, persistent_id);
}

static void push_server_id(struct marshall_push *p, const struct server_id *id)
{
	marshall_push_u32(p, id->node);
	marshall_push_u32(p, id->pid);
	marshall_push_u32(p, id->task);
	marshall_push_u64(p, id->unique);
}

static bool pull_server_id(struct marshall_pull *r, struct server_id *id)
{
	return marshall_pull_u32(r, &id->node) &&
	       marshall_pull_u32(r, &id->pid) &&
	       marshall_pull_u32(r, &id->task) &&
	       marshall_pull_u64(r, &id->unique);
}

NTSTATUS smbXsrv_client_global_encode(TALLOC_CTX *mem_ctx,
				      const struct smbXsrv_client_global *g,
				      uint8_t **out, size_t *out_len)
{
	struct marshall_push *p = marshall_push_init(mem_ctx,
						     REC_CLIENT_GLOBAL, 1);

	marshall_push_bytes(p, g->client_guid, 16);
	push_server_id(p, &g->owner);
	marshall_push_u16(p, g->dialect);
	marshall_push_u64(p, g->connect_time);
	marshall_push_string(p, g->remote_addr);
	marshall_push_string(p, g->local_addr);
	marshall_push_u32(p, g->num_channels);
	return marshall_push_finish(p, out, out_len);
}

NTSTATUS smbXsrv_client_global_decode(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				      size_t len,
				      struct smbXsrv_client_global *g)
{
	struct marshall_pull r;
	NTSTATUS status;

	*g = (struct smbXsrv_client_global){0};
	status = marshall_pull_init(&r, buf, len, REC_CLIENT_GLOBAL, 1);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	marshall_pull_bytes(&r, g->client_guid, 16);
	pull_server_id(&r, &g->owner);
	marshall_pull_u16(&r, &g->dialect);
	marshall_pull_u64(&r, &g->connect_time);
	marshall_pull_string(&r, mem_ctx, &g->remote_addr);
	marshall_pull_string(&r, mem_ctx, &g->local_addr);
	marshall_pull_u32(&r, &g->num_channels);
	return marshall_pull_finish(&r);
}

NTSTATUS smbXsrv_session_global_encode(TALLOC_CTX *mem_ctx,
				       const struct smbXsrv_session_global *g,
				       uint8_t **out, size_t *out_len)
{
	struct marshall_push *p = marshall_push_init(mem_ctx,
						     REC_SESSION_GLOBAL, 1);

	marshall_push_u64(p, g->session_id);
	push_server_id(p, &g->owner);
	marshall_push_bytes(p, g->client_guid, 16);
	marshall_push_u32(p, g->state);
	marshall_push_string(p, g->account);
	marshall_push_string(p, g->domain);
	marshall_push_string(p, g->unix_user);
	marshall_push_u32(p, g->uid);
	marshall_push_u32(p, g->gid);
	marshall_push_string(p, g->remote_addr);
	marshall_push_u16(p, g->dialect);
	marshall_push_bool(p, g->has_signing_key);
	marshall_push_u16(p, g->signing_algo);
	marshall_push_u16(p, g->cipher_id);
	marshall_push_bool(p, g->signing_required);
	marshall_push_bool(p, g->encryption_required);
	marshall_push_bool(p, g->guest);
	marshall_push_bool(p, g->anonymous);
	marshall_push_u64(p, g->auth_time);
	return marshall_push_finish(p, out, out_len);
}

NTSTATUS smbXsrv_session_global_decode(TALLOC_CTX *mem_ctx,
				       const uint8_t *buf, size_t len,
				       struct smbXsrv_session_global *g)
{
	struct marshall_pull r;
	NTSTATUS status;

	*g = (struct smbXsrv_session_global){0};
	status = marshall_pull_init(&r, buf, len, REC_SESSION_GLOBAL, 1);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	marshall_pull_u64(&r, &g->session_id);
	pull_server_id(&r, &g->owner);
	marshall_pull_bytes(&r, g->client_guid, 16);
	marshall_pull_u32(&r, &g->state);
	marshall_pull_string(&r, mem_ctx, &g->account);
	marshall_pull_string(&r, mem_ctx, &g->domain);
	marshall_pull_string(&r, mem_ctx, &g->unix_user);
	marshall_pull_u32(&r, &g->uid);
	marshall_pull_u32(&r, &g->gid);
	marshall_pull_string(&r, mem_ctx, &g->remote_addr);
	marshall_pull_u16(&r, &g->dialect);
	marshall_pull_bool(&r, &g->has_signing_key);
	marshall_pull_u16(&r, &g->signing_algo);
	marshall_pull_u16(&r, &g->cipher_id);
	marshall_pull_bool(&r, &g->signing_required);
	marshall_pull_bool(&r, &g->encryption_required);
	marshall_pull_bool(&r, &g->guest);
	marshall_pull_bool(&r, &g->anonymous);
	marshall_pull_u64(&r, &g->auth_time);
	return marshall_pull_finish(&r);
}

NTSTATUS smbXsrv_tcon_global_encode(TALLOC_CTX *mem_ctx,
				    const struct smbXsrv_tcon_global *g,
				    uint8_t **out, size_t *out_len)
{
	struct marshall_push *p = marshall_push_init(mem_ctx,
						     REC_TCON_GLOBAL, 1);

	marshall_push_u64(p, g->session_id);
	marshall_push_u32(p, g->tcon_id);
	push_server_id(p, &g->owner);
	marshall_push_string(p, g->share_name);
	marshall_push_string(p, g->share_path);
	marshall_push_u64(p, g->connect_time);
	marshall_push_bool(p, g->encryption_required);
	return marshall_push_finish(p, out, out_len);
}

NTSTATUS smbXsrv_tcon_global_decode(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				    size_t len, struct smbXsrv_tcon_global *g)
{
	struct marshall_pull r;
	NTSTATUS status;

	*g = (struct smbXsrv_tcon_global){0};
	status = marshall_pull_init(&r, buf, len, REC_TCON_GLOBAL, 1);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	marshall_pull_u64(&r, &g->session_id);
	marshall_pull_u32(&r, &g->tcon_id);
	pull_server_id(&r, &g->owner);
	marshall_pull_string(&r, mem_ctx, &g->share_name);
	marshall_pull_string(&r, mem_ctx, &g->share_path);
	marshall_pull_u64(&r, &g->connect_time);
	marshall_pull_bool(&r, &g->encryption_required);
	return marshall_pull_finish(&r);
}

NTSTATUS smbXsrv_open_global_encode(TALLOC_CTX *mem_ctx,
				    const struct smbXsrv_open_global *g,
				    uint8_t **out, size_t *out_len)
{
	struct marshall_push *p = marshall_push_init(mem_ctx,
						     REC_OPEN_GLOBAL, 1);

	marshall_push_u64(p, g->persistent_id);
	marshall_push_u64(p, g->volatile_id);
	push_server_id(p, &g->owner);
	marshall_push_u64(p, g->session_id);
	marshall_push_u32(p, g->tcon_id);
	marshall_push_bytes(p, g->client_guid, 16);
	marshall_push_bytes(p, g->create_guid, 16);
	marshall_push_string(p, g->share_name);
	marshall_push_string(p, g->share_path);
	marshall_push_string(p, g->relpath);
	marshall_push_string(p, g->stream);
	marshall_push_bool(p, g->is_dir);
	marshall_push_u32(p, g->access_mask);
	marshall_push_u32(p, g->share_access);
	marshall_push_u64(p, g->open_time);
	marshall_push_bool(p, g->durable);
	marshall_push_bool(p, g->persistent);
	marshall_push_u32(p, g->durable_timeout_ms);
	marshall_push_bool(p, g->disconnected);
	marshall_push_u64(p, g->disconnect_time);
	return marshall_push_finish(p, out, out_len);
}

NTSTATUS smbXsrv_open_global_decode(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				    size_t len, struct smbXsrv_open_global *g)
{
	struct marshall_pull r;
	NTSTATUS status;

	*g = (struct smbXsrv_open_global){0};
	status = marshall_pull_init(&r, buf, len, REC_OPEN_GLOBAL, 1);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	marshall_pull_u64(&r, &g->persistent_id);
	marshall_pull_u64(&r, &g->volatile_id);
	pull_server_id(&r, &g->owner);
	marshall_pull_u64(&r, &g->session_id);
	marshall_pull_u32(&r, &g->tcon_id);
	marshall_pull_bytes(&r, g->client_guid, 16);
	marshall_pull_bytes(&r, g->create_guid, 16);
	marshall_pull_string(&r, mem_ctx, &g->share_name);
	marshall_pull_string(&r, mem_ctx, &g->share_path);
	marshall_pull_string(&r, mem_ctx, &g->relpath);
	marshall_pull_string(&r, mem_ctx, &g->stream);
	marshall_pull_bool(&r, &g->is_dir);
	marshall_pull_u32(&r, &g->access_mask);
	marshall_pull_u32(&r, &g->share_access);
	marshall_pull_u64(&r, &g->open_time);
	marshall_pull_bool(&r, &g->durable);
	marshall_pull_bool(&r, &g->persistent);
	marshall_pull_u32(&r, &g->durable_timeout_ms);
	marshall_pull_bool(&r, &g->disconnected);
	marshall_pull_u64(&r, &g->disconnect_time);
	return marshall_pull_finish(&r);
}
