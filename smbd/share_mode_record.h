/*
 * The share-mode record (REC_SHARE_MODE): who has a file open, how, and
 * whether it is to be deleted.  One record per file in locking.tdb
 * (share_mode_db.h), keyed by the file's id (device and inode of the
 * base file; a named stream's opens are entries of its base file).
 *
 * This file is the encoding only: pure functions, no database, so that
 * the unit test and the fuzz target exercise exactly what smbd stores.
 * Layout (lib/util/marshall.h, version 1), all integers little-endian:
 *
 *   header      u16 REC_SHARE_MODE, u16 version
 *   seqnum      u64   bumped on every store
 *   share_path  string  the share's root directory ("path =")
 *   relpath     string  the base file beneath it, '/'-separated
 *   num_delete  u32, then per delete-pending name:
 *                 name string ("" = the base file, else a stream name),
 *                 uid u32 (who set it)
 *   num_entries u32, then per open (struct share_mode_entry):
 *     owner     u32 node, u32 pid, u32 task, u64 unique
 *     u64 file_id (persistent), u64 session_id, u32 tree_id,
 *     u32 access_mask, u32 share_access, u32 create_options,
 *     string stream_name (NULL = the base file), bool is_directory,
 *     u8 oplock_type, 16 bytes client_guid, 16 bytes lease_key,
 *     u64 open_time (NTTIME), u32 uid, u32 flags (reserved, 0)
 *
 * A reader refuses other record types, unknown versions, counts that do
 * not fit the bytes present, and trailing bytes.  A new field goes into a
 * new version; version 1 stays readable.
 */
#ifndef SMBD_SHARE_MODE_RECORD_H
#define SMBD_SHARE_MODE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"
#include "messaging/messaging.h"

#define SHARE_MODE_RECORD_VERSION 1
#define SHARE_MODE_KEY_SIZE 16 /* dev u64 LE, ino u64 LE */

/* How an open holds an oplock; the lease state itself lives in the
 * leases database keyed by (client_guid, lease_key). */
enum share_mode_oplock {
	SHARE_MODE_OPLOCK_NONE = 0,
	SHARE_MODE_OPLOCK_LEVEL_II = 1,
	SHARE_MODE_OPLOCK_EXCLUSIVE = 2,
	SHARE_MODE_OPLOCK_BATCH = 3,
	SHARE_MODE_OPLOCK_LEASE = 4,
};

struct share_mode_entry {
	struct server_id owner; /* the smbd process holding the open */
	uint64_t file_id;	/* the open's persistent file id */
	uint64_t session_id;	/* for the status CLI */
	uint32_t tree_id;
	uint32_t access_mask; /* granted */
	uint32_t share_access;
	uint32_t create_options;
	char *stream_name; /* NULL: the base file itself */
	bool is_directory;
	uint8_t oplock_type; /* enum share_mode_oplock */
	uint8_t client_guid[16];
	uint8_t lease_key[16];
	uint64_t open_time; /* NTTIME */
	uint32_t uid;
	uint32_t flags; /* reserved for the leases helper, 0 today */
};

/* A name (base file or stream) marked delete-pending. */
struct share_mode_delete {
	char *name; /* "" = the base file, else the stream's name */
	uint32_t uid;
};

struct share_mode_data {
	uint64_t seqnum;
	char *share_path;
	char *relpath;
	struct share_mode_delete *deletes; /* talloc array */
	uint32_t num_deletes;
	struct share_mode_entry *entries; /* talloc array */
	uint32_t num_entries;
};

/* The 16-byte database key of a file. */
void share_mode_key_push(uint8_t key[SHARE_MODE_KEY_SIZE], uint64_t dev,
			 uint64_t ino);
void share_mode_key_pull(const uint8_t key[SHARE_MODE_KEY_SIZE],
			 uint64_t *dev, uint64_t *ino);

/* Encode d; *out is a talloc child of mem_ctx. */
NTSTATUS share_mode_record_push(TALLOC_CTX *mem_ctx,
				const struct share_mode_data *d, uint8_t **out,
				size_t *out_len);

/* Decode buf into a new struct share_mode_data on mem_ctx (strings and
 * arrays are its children).  NT_STATUS_INTERNAL_DB_CORRUPTION for
 * anything malformed. */
NTSTATUS share_mode_record_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				size_t len, struct share_mode_data **out);

/* Append a copy of e (strings duplicated) to d->entries. */
NTSTATUS share_mode_data_add_entry(struct share_mode_data *d,
				   const struct share_mode_entry *e);
/* Remove entry i (order of the others kept). */
void share_mode_data_remove_entry(struct share_mode_data *d, uint32_t i);

/* Delete-pending names: name NULL or "" is the base file. */
bool share_mode_data_delete_pending(const struct share_mode_data *d,
				    const char *name);
NTSTATUS share_mode_data_set_delete(struct share_mode_data *d,
				    const char *name, bool on, uint32_t uid);

/* Is stream a (NULL = base) the same name as b, as the file system
 * compares stream names (case-insensitively)? */
bool share_mode_stream_equal(const char *a, const char *b);

#endif
