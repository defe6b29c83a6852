/*
 * The *_global records of smbXsrv objects: what another process (the
 * status CLI, a process that takes over a client, and later another node)
 * needs to know about a client, session, tree connect or open.  Each is
 * kept in its own dbwrap database in the lock directory
 * (smbXsrv_global.c) and encoded here, once, with lib/util/marshall.h.
 *
 * Keys:
 *   smbXsrv_client_global.tdb   ClientGuid (16 bytes)
 *   smbXsrv_session_global.tdb  session id (u64 LE)
 *   smbXsrv_tcon_global.tdb     session id (u64 LE) + tree id (u32 LE):
 *                               tree ids are per session on the wire
 *                               ([MS-SMB2] 3.3.1.8), session ids are
 *                               unique across processes, so the pair is
 *   smbXsrv_open_global.tdb     persistent file id (u64 LE)
 */
#ifndef SMBD_SMBXSRV_RECORDS_H
#define SMBD_SMBXSRV_RECORDS_H

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"
#include "messaging/messaging.h"

struct smbXsrv_client_global {
	uint8_t client_guid[16];
	struct server_id owner; /* process serving this client */
	uint16_t dialect;
	uint64_t connect_time; /* NTTIME */
	char *remote_addr;
	char *local_addr;
	uint32_t num_channels;
};

enum smbXsrv_session_global_state {
	SMBXSRV_SESSION_GLOBAL_VALID = 1,
	SMBXSRV_SESSION_GLOBAL_EXPIRED = 2,
	SMBXSRV_SESSION_GLOBAL_IN_PROGRESS = 3, /* authentication running */
};

struct smbXsrv_session_global {
	uint64_t session_id;
	struct server_id owner;
	uint8_t client_guid[16];
	uint32_t state; /* enum smbXsrv_session_global_state */
	char *account;
	char *domain;
	char *unix_user;
	uint32_t uid;
	uint32_t gid;
	char *remote_addr;
	uint16_t dialect;
	bool has_signing_key;  /* the session signs (or can sign) */
	uint16_t signing_algo; /* enum smb2_signing_algo, if has_signing_key */
	uint16_t cipher_id;    /* 0: not encrypted */
	bool signing_required;
	bool encryption_required;
	bool guest;
	bool anonymous;
	uint64_t auth_time; /* NTTIME */
};

struct smbXsrv_tcon_global {
	uint64_t session_id;
	uint32_t tcon_id;
	struct server_id owner;
	char *share_name;
	char *share_path; /* "" for IPC$ */
	uint64_t connect_time; /* NTTIME */
	bool encryption_required;
};

struct smbXsrv_open_global {
	uint64_t persistent_id;
	uint64_t volatile_id;
	struct server_id owner;
	uint64_t session_id;
	uint32_t tcon_id;
	uint8_t client_guid[16];
	uint8_t create_guid[16];
	char *share_name;
	char *share_path;
	char *relpath;	/* beneath the share root, '/'-separated */
	char *stream;	/* NULL for the default stream */
	bool is_dir;
	uint32_t access_mask;
	uint32_t share_access;
	uint64_t open_time; /* NTTIME */
	/* durable state ([MS-SMB2] 3.3.1.10 Open.IsDurable...) */
	bool durable;
	bool persistent;
	uint32_t durable_timeout_ms;
	bool disconnected;
	uint64_t disconnect_time; /* NTTIME, when disconnected */
};

#define SMBXSRV_TCON_KEY_SIZE 12

void smbXsrv_session_global_key(uint8_t key[8], uint64_t session_id);
void smbXsrv_tcon_global_key(uint8_t key[SMBXSRV_TCON_KEY_SIZE],
			     uint64_t session_id, uint32_t tcon_id);
void smbXsrv_open_global_key(uint8_t key[8], uint64_t persistent_id);

/* Encode: *out talloc'd on mem_ctx.  Decode: strings talloc'd on mem_ctx;
 * NT_STATUS_INTERNAL_DB_CORRUPTION for anything malformed. */
NTSTATUS smbXsrv_client_global_encode(TALLOC_CTX *mem_ctx,
				      const struct smbXsrv_client_global *g,
				      uint8_t **out, size_t *out_len);
NTSTATUS smbXsrv_client_global_decode(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				      size_t len,
				      struct smbXsrv_client_global *g);
NTSTATUS smbXsrv_session_global_encode(TALLOC_CTX *mem_ctx,
				       const struct smbXsrv_session_global *g,
				       uint8_t **out, size_t *out_len);
NTSTATUS smbXsrv_session_global_decode(TALLOC_CTX *mem_ctx,
				       const uint8_t *buf, size_t len,
				       struct smbXsrv_session_global *g);
NTSTATUS smbXsrv_tcon_global_encode(TALLOC_CTX *mem_ctx,
				    const struct smbXsrv_tcon_global *g,
				    uint8_t **out, size_t *out_len);
NTSTATUS smbXsrv_tcon_global_decode(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				    size_t len, struct smbXsrv_tcon_global *g);
NTSTATUS smbXsrv_open_global_encode(TALLOC_CTX *mem_ctx,
				    const struct smbXsrv_open_global *g,
				    uint8_t **out, size_t *out_len);
NTSTATUS smbXsrv_open_global_decode(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				    size_t len, struct smbXsrv_open_global *g);

#endif
