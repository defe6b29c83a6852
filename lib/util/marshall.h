/*
 * marshall: the one encoding of every record stored in a database or sent
 * between processes or nodes.  Explicit little-endian, explicit lengths,
 * never a raw struct.
 *
 * A record starts with a header: u16 record type (the list below, never
 * renumbered) and u16 version.  Readers check both and refuse what they
 * do not know (NT_STATUS_INTERNAL_DB_CORRUPTION).
 *
 * Push (grows a talloc buffer; errors are sticky and reported once):
 *     struct marshall_push *p = marshall_push_init(mem_ctx, REC_BRLOCK, 1);
 *     marshall_push_u32(p, n); marshall_push_blob(p, key, 16); ...
 *     status = marshall_push_finish(p, &data);   // data.dptr on mem_ctx
 * Pull (bounds-checked; any overrun makes every later read fail):
 *     struct marshall_pull r;
 *     status = marshall_pull_init(&r, data, REC_BRLOCK, 1);  // checks header
 *     marshall_pull_u32(&r, &n); ...
 *     status = marshall_pull_finish(&r);  // error if overrun or trailing
 */
#ifndef LIB_UTIL_MARSHALL_H
#define LIB_UTIL_MARSHALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

enum marshall_record_type {
	REC_TEST = 1,
	REC_CLIENT_GLOBAL = 10,
	REC_SESSION_GLOBAL = 11,
	REC_TCON_GLOBAL = 12,
	REC_OPEN_GLOBAL = 13,
	REC_SHARE_MODE = 20,
	REC_LEASE = 21,
	REC_BRLOCK = 22,
	REC_NOTIFY = 23,
	REC_MSG_BREAK = 30,
	REC_MSG_NOTIFY = 31,
	REC_MSG_FILE_RENAMED = 32, /* MSG_SMB_FILE_RENAMED (share_mode.c) */
	REC_MSG_CLOSE_SESSION = 33, /* MSG_SMB_CLOSE_SESSION (smbXsrv_session_close.c) */
	REC_DBWRAP_WATCHERS = 40,
	REC_MSG_DBWRAP_MODIFIED = 41, /* watch wake-up: db name, key, instance */
	REC_CONNECTIONS = 42, /* connections.tdb: tree connects of a share */
	REC_CLUSTERD_HELLO = 50, /* clusterd over CPG: membership round */
	REC_CLUSTERD_STATE = 51, /* clusterd over CPG: a node's health */
	REC_CLUSTERD_CTRL_REQ = 52, /* clusterctl -> clusterd request */
	REC_CLUSTERD_CTRL_STATUS = 53, /* clusterd -> clusterctl status */
	REC_CLUSTERD_CTRL_RESULT = 54, /* clusterd -> clusterctl: NTSTATUS */
	REC_CLUSTERD_RELEASED = 55, /* clusterd over CPG: an IP was released */
	REC_CLUSTERD_DB_UPDATE = 56, /* clusterd over CPG: a replicated db change */
	REC_CLUSTERD_DB_VALUE = 57, /* a replicated record: seqnum + value */
	REC_CLUSTERD_DB_REQ = 58, /* dbwrap_cluster -> clusterd request */
	REC_CLUSTERD_DB_RESP = 59, /* clusterd -> dbwrap_cluster response */
	REC_CLUSTERD_DB_SYNC_REQ = 60, /* clusterd over CPG: send me the replicas */
	REC_CLUSTERD_DB_SYNC_DATA = 61, /* clusterd over CPG: replica records */
	REC_CLUSTERD_DB_SYNC_DONE = 62, /* clusterd over CPG: snapshot complete */
	REC_CLUSTERD_MSG = 63, /* a message for another node's process (cluster_msgfwd_proto.h) */
	REC_CLUSTERD_VIEW = 64, /* clusterd's view file: members, clusterd's id */
	REC_CLUSTERD_DB_TXN = 65, /* a replicated transaction's changes (dbwrap_cluster_proto.h) */
	/* 66: REC_CLUSTERD_DB_OFFER, never used (the sync round decides) */
	REC_CLUSTERD_DB_SYNC_STATE = 67, /* clusterd over CPG: my replicas' sync state (a view's sync round) */
	REC_CLUSTERD_DB_VACUUM = 68, /* clusterd over CPG: remove these tombstones (dbwrap_cluster_proto.h) */
};

struct marshall_push;

struct marshall_push *marshall_push_init(TALLOC_CTX *mem_ctx, uint16_t type,
					 uint16_t version);
void marshall_push_u8(struct marshall_push *p, uint8_t v);
void marshall_push_u16(struct marshall_push *p, uint16_t v);
void marshall_push_u32(struct marshall_push *p, uint32_t v);
void marshall_push_u64(struct marshall_push *p, uint64_t v);
void marshall_push_bool(struct marshall_push *p, bool v);
void marshall_push_bytes(struct marshall_push *p, const void *b, size_t n); /* fixed size, no length */
void marshall_push_blob(struct marshall_push *p, const void *b, size_t n);  /* u32 length + bytes */
void marshall_push_string(struct marshall_push *p, const char *s); /* NULL allowed; u32 len+1 (0 = NULL) + bytes */
/* Current length, e.g. to patch a count later. */
size_t marshall_push_offset(const struct marshall_push *p);
void marshall_push_patch_u32(struct marshall_push *p, size_t offset, uint32_t v);
/* Frees p; on success *out holds the bytes (talloc child of mem_ctx given
 * to init). */
NTSTATUS marshall_push_finish(struct marshall_push *p, uint8_t **out,
			      size_t *out_len);

struct marshall_pull {
	const uint8_t *buf;
	size_t len;
	size_t ofs;
	bool error;
	uint16_t version; /* as found in the header */
};

/* Accepts versions 1..max_version of type. */
NTSTATUS marshall_pull_init(struct marshall_pull *r, const uint8_t *buf,
			    size_t len, uint16_t type, uint16_t max_version);
bool marshall_pull_u8(struct marshall_pull *r, uint8_t *v);
bool marshall_pull_u16(struct marshall_pull *r, uint16_t *v);
bool marshall_pull_u32(struct marshall_pull *r, uint32_t *v);
bool marshall_pull_u64(struct marshall_pull *r, uint64_t *v);
bool marshall_pull_bool(struct marshall_pull *r, bool *v);
bool marshall_pull_bytes(struct marshall_pull *r, void *b, size_t n);
/* Points into the buffer (no copy). */
bool marshall_pull_blob(struct marshall_pull *r, const uint8_t **b, size_t *n);
/* talloc copy, NUL-terminated; *s NULL for a NULL string; embedded NULs
 * refused. */
bool marshall_pull_string(struct marshall_pull *r, TALLOC_CTX *mem_ctx,
			  char **s);
/* A count that must fit in the remaining bytes at min_elem_size each. */
bool marshall_pull_count(struct marshall_pull *r, uint32_t *count,
			 size_t min_elem_size);
NTSTATUS marshall_pull_finish(struct marshall_pull *r);

#endif
