/*
 * Leases: the wire form of the lease create contexts and the lease
 * record of leases.tdb, with the state transitions of a lease as pure
 * functions (so that cmocka tests drive them without a server).
 *
 * Wire ([MS-SMB2] 2.2.13.2.8 / 2.2.13.2.10 request, 2.2.14.2.10 /
 * 2.2.14.2.11 response): "RqLs" with 32 bytes (v1: key, state, flags,
 * duration) or 52 bytes (v2: + parent key, epoch, reserved).  Any other
 * length is INVALID_PARAMETER, as Samba and Windows answer.
 *
 * leases.tdb (volatile) is keyed by ClientGuid (16) + LeaseKey (16); the
 * value (REC_LEASE, version 1, lib/util/marshall.h):
 *   u16 lease_version (1 or 2), u16 epoch,
 *   u32 current_state, bool breaking,
 *   u32 breaking_to_requested, u32 breaking_to_required,
 *   bool has_parent, 16 bytes parent_key,
 *   u32 num_files, per file: 16 bytes share-mode key (dev, ino),
 *     string share_path, string relpath, string stream_name (NULL = base),
 *     u32 opens (how many opens, in any process, hold the lease on it)
 * The files are those the lease covers: a lease key names one file
 * (stream) per client; the list is what a break acknowledgement and the
 * "same key on another file" check need.  The open count matters because
 * connections of one client (same ClientGuid) can be served by several
 * processes: the file leaves the lease when its last open, wherever it
 * is, closes.  While a lease exists, its
 * state is this record, not anything in the share-mode entries (those
 * only say "this open holds lease (guid, key)").
 */
#ifndef SMBD_LEASE_RECORD_H
#define SMBD_LEASE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

#define SMB2_LEASE_V1_SIZE 32
#define SMB2_LEASE_V2_SIZE 52
#define LEASE_DB_KEY_SIZE 32 /* client guid + lease key */
#define LEASE_RECORD_VERSION 1

/* A lease as requested or as answered on the wire. */
struct smb2_lease {
	uint8_t key[16];
	uint32_t state;
	uint32_t flags;
	uint64_t duration;
	uint8_t parent_key[16];
	uint16_t epoch;
	uint16_t version; /* 1 or 2 */
};

/* Parse the data of an RqLs context.  INVALID_PARAMETER for a length
 * other than 32 or 52.  Only PARENT_LEASE_KEY_SET is kept of the flags;
 * the parent key is zero without it. */
NTSTATUS smb2_lease_pull(const uint8_t *buf, size_t len,
			 struct smb2_lease *lease);
/* The response context data: 32 bytes for v1, 52 for v2; returns the
 * length written (buf must hold SMB2_LEASE_V2_SIZE). */
size_t smb2_lease_push(const struct smb2_lease *lease, uint8_t *buf);

/* A lease key of all zeros is no lease key (Samba ignores the lease). */
bool smb2_lease_key_valid(const uint8_t key[16]);

struct lease_file {
	uint8_t file_key[16]; /* the share-mode record's key */
	char *share_path;
	char *relpath;
	char *stream_name;
	uint32_t opens;
};

struct lease_record {
	uint16_t version;
	uint16_t epoch;
	uint32_t current_state;
	bool breaking;
	uint32_t breaking_to_requested;
	uint32_t breaking_to_required;
	bool has_parent;
	uint8_t parent_key[16];
	struct lease_file *files; /* talloc array, children of the record */
	uint32_t num_files;
};

void lease_db_key(uint8_t key[LEASE_DB_KEY_SIZE], const uint8_t guid[16],
		  const uint8_t lease_key[16]);

NTSTATUS lease_record_push(TALLOC_CTX *mem_ctx, const struct lease_record *r,
			   uint8_t **out, size_t *out_len);
NTSTATUS lease_record_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			   size_t len, struct lease_record **out);

/* Index of the file in r->files, or -1. */
int lease_record_find_file(const struct lease_record *r,
			   const uint8_t file_key[16], const char *stream);
NTSTATUS lease_record_add_file(struct lease_record *r,
			       const uint8_t file_key[16],
			       const char *share_path, const char *relpath,
			       const char *stream);
void lease_record_remove_file(struct lease_record *r, uint32_t i);

/* What the holder must tell its client after a transition. */
struct lease_break_notice {
	bool send;
	bool ack_required;
	uint32_t from;	 /* CurrentLeaseState of the notification */
	uint32_t to;	 /* NewLeaseState */
	uint16_t epoch;	 /* NewEpoch (v2; 0 for v1) */
};

/*
 * A break request reached the holder (the other open wants the lease
 * down to at most break_to).  Updates r as [MS-SMB2] 3.3.4.7 and Windows
 * do: R alone goes to none at once (no acknowledgement); anything with
 * H or W starts breaking (epoch + 1, ack required); a lease already
 * breaking only lowers the target, without a new notification.
 */
void lease_record_break(struct lease_record *r, uint32_t break_to,
			struct lease_break_notice *n);

/*
 * The client acknowledged with new_state ([MS-SMB2] 3.3.5.22.2).
 * NT_STATUS_UNSUCCESSFUL when no break is in progress,
 * NT_STATUS_REQUEST_NOT_ACCEPTED when new_state is not within what the
 * break asked for.  When the acknowledged state still holds more than
 * the break requires (the target was lowered meanwhile), the next break
 * is set up and described in *next (next->send), as Windows breaks step
 * by step (smb2.lease.breaking3).
 */
NTSTATUS lease_record_ack(struct lease_record *r, uint32_t new_state,
			  struct lease_break_notice *next);

/*
 * An open with an existing lease asks for requested and the file's other
 * opens allow granted: upgrade only to a strict superset of the current
 * state, only if all of it can be granted, never while breaking.
 * Returns true when r changed (epoch + 1).
 */
bool lease_record_upgrade(struct lease_record *r, uint32_t requested,
			  uint32_t granted);

#endif
