/*
 * Extended attributes (EAs) as SMB sees them: [MS-FSCC] 2.4.15
 * FileFullEaInformation (set and query), 2.4.15.1 FILE_GET_EA_INFORMATION
 * (the names a query asks for), 2.4.12 FileEaInformation (the EA size),
 * the EaSize field of the directory classes, and the "ExtA" create
 * context ([MS-SMB2] 2.2.13.2.1).
 *
 * Storage
 * -------
 * One xattr per EA on the file (or directory) itself:
 *
 *     name:  "user.smb3.ea.<EA NAME>"   the name upper-cased (ASCII a-z),
 *                                       other bytes as sent
 *     value: offset size field
 *            0      1    version, currently 1
 *            1      1    the EA's Flags byte (0 or FILE_NEED_EA)
 *            2      2    reserved (LE16), written 0, ignored
 *            4      n    the EA's value (n >= 1)
 *
 * Why:
 *   - "user." because every EA operation runs in a VFS job as the
 *     session's unix user, so the kernel's own permission checks apply
 *     (setting needs write permission on the file or ownership), as for
 *     the file's data and its streams (streams.h).
 *   - "smb3.ea." keeps SMB EAs apart from everything else in the user
 *     namespace: the server's own metadata (user.DOSATTRIB,
 *     user.smb3.stream.*), Samba's raw "user.<name>" EAs and whatever
 *     local programs store.  No EA name can reach another namespace or
 *     another server xattr, whatever its spelling.
 *   - Windows upper-cases EA names ([MS-FSCC] 2.4.15: names are
 *     case-insensitive, and returned in upper case), so storing them
 *     upper-cased makes the xattr name the lookup key; lookups still
 *     compare case-insensitively, so an xattr written in another case by
 *     hand is found too.
 *   - The version byte lets another encoding follow; a value of an
 *     unknown version is skipped when listing (logged) and replaced when
 *     the client sets that name.  Samba keeps EAs as raw "user.<name>"
 *     values with no header; the layout idea (one xattr per EA, the name
 *     in the xattr name) is the same, the bytes are not.
 *
 * Limits: an EA name is 1..255 bytes on the wire, but an xattr name holds
 * at most 255 bytes, so names longer than SMBD_EA_MAX_NAME_BYTES are
 * refused with STATUS_INVALID_EA_NAME.  The whole EA set, measured as
 * its FileFullEaInformation encoding (smbd_ea_list_size()), may not
 * exceed SMBD_EA_MAX_SET_SIZE ([MS-FSA] 2.1.5.15.5: 64 KiB - 5 bytes,
 * else STATUS_EA_TOO_LARGE and nothing changes).  File systems may hold
 * less (ext4 without ea_inode: one 4 KiB block for all xattrs of a file);
 * ENOSPC from setxattr is STATUS_DISK_FULL.
 *
 * Atomicity: a SET with several EAs is checked as a whole first (names,
 * flags, the resulting set size), then applied one xattr at a time; an
 * I/O error in between leaves the EAs before it applied.
 *
 * Threads: the store functions taking an fd do system calls and must run
 * in a VFS job as the session user; fd may be an O_PATH descriptor (the
 * /proc/self/fd path is used then).  Parsers and encoders are pure.
 * smbd_open_ea_cursor() is event-loop only.
 */
#ifndef SMBD_EA_H
#define SMBD_EA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

struct smbd_open;

#define SMBD_EA_XATTR_PREFIX "user.smb3.ea."
#define SMBD_EA_HEADER_SIZE 4
#define SMBD_EA_VERSION 1
#define SMBD_EA_MAX_NAME_BYTES (255 - (sizeof(SMBD_EA_XATTR_PREFIX) - 1))
#define SMBD_EA_MAX_SET_SIZE (65536 - 5)

/* [MS-FSCC] 2.4.15 Flags */
#define SMBD_FILE_NEED_EA 0x80

/* QUERY_INFO Flags for FileFullEaInformation ([MS-SMB2] 2.2.37) */
#define SMBD_SL_RESTART_SCAN 0x00000001
#define SMBD_SL_RETURN_SINGLE_ENTRY 0x00000002
#define SMBD_SL_INDEX_SPECIFIED 0x00000004

/* One EA.  In lists (talloc arrays) name and value are children of the
 * array.  value_len 0 in a SET means "delete". */
struct smbd_ea {
	uint8_t flags;
	char *name; /* NUL-terminated, 1..255 bytes */
	uint8_t *value;
	size_t value_len;
};

/* ---- pure functions ---- */

/* [MS-FSCC] 2.4.15: 1..255 bytes, none of 0x00-0x1F or
 * " * + , / : ; < = > ? [ \ ] |; and short enough for the xattr name. */
bool smbd_ea_name_valid(const char *name, size_t len);

/*
 * Names of the xattrs servers keep their own state in (NT ACLs, DOS
 * attributes, this server's streams and EAs; compared ignoring case).
 * EAs live in their own namespace, so an EA of such a name could not
 * touch them; smbd_ea_set() still refuses to set one, with
 * NT_STATUS_ACCESS_DENIED as Samba does (smbtorture smb2.ea.acl_xattr),
 * so no client is led to think it changed the real one.
 */
bool smbd_ea_name_reserved(const char *name);

/* Upper-case ASCII letters in place (the stored form of a name). */
void smbd_ea_name_upper(char *name);

/* The stored xattr value for one EA and back.  Decode:
 * NT_STATUS_FILE_CORRUPT_ERROR for a short value or another version;
 * *value points into blob. */
NTSTATUS smbd_ea_value_encode(TALLOC_CTX *mem_ctx, uint8_t flags,
			      const uint8_t *value, size_t len,
			      uint8_t **blob, size_t *blob_len);
NTSTATUS smbd_ea_value_decode(const uint8_t *blob, size_t blob_len,
			      uint8_t *flags, const uint8_t **value,
			      size_t *value_len);

/*
 * Parse a FILE_FULL_EA_INFORMATION chain (SET_INFO, the ExtA context).
 * Every NextEntryOffset must be a multiple of 4, cover its entry and stay
 * inside buf; the last entry must fit in what is left.  Malformed:
 * NT_STATUS_INVALID_PARAMETER.  A name that is empty or invalid, or Flags
 * other than 0/FILE_NEED_EA: NT_STATUS_INVALID_EA_NAME.  *eas is a talloc
 * array on mem_ctx (names and values copied), in wire order.
 */
NTSTATUS smbd_ea_parse_full_list(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				 size_t len, struct smbd_ea **eas,
				 size_t *count);

/*
 * Parse a FILE_GET_EA_INFORMATION chain (the QUERY_INFO input buffer):
 * NextEntryOffset (4), EaNameLength (1), EaName.  Same offset rules;
 * names must be valid.  *names: talloc array of strings on mem_ctx.
 */
NTSTATUS smbd_ea_parse_get_list(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				size_t len, char ***names, size_t *count);

/* Size of the FILE_FULL_EA_INFORMATION encoding of eas (entries 4-byte
 * aligned, no padding after the last): what FileEaInformation.EaSize and
 * the directory classes' EaSize report.  0 for no EAs. */
size_t smbd_ea_list_size(const struct smbd_ea *eas, size_t count);

/*
 * Encode eas[0..count) as FILE_FULL_EA_INFORMATION, whole entries only,
 * at most max_len bytes: *out (talloc'ed on mem_ctx), *out_len, and
 * *num_encoded entries.  If not all fit, the status is
 * NT_STATUS_BUFFER_OVERFLOW (some fit) or NT_STATUS_BUFFER_TOO_SMALL (not
 * even the first), as NtQueryEaFile answers.
 */
NTSTATUS smbd_ea_encode_full_list(TALLOC_CTX *mem_ctx,
				  const struct smbd_ea *eas, size_t count,
				  size_t max_len, uint8_t **out,
				  size_t *out_len, size_t *num_encoded);

/* ---- store (VFS jobs) ---- */

/* All EAs of the file, sorted by stored name (a stable order for the
 * single-entry enumeration); *count 0 and *eas NULL when none. */
NTSTATUS smbd_ea_list(int fd, TALLOC_CTX *mem_ctx, struct smbd_ea **eas,
		      size_t *count);

/* smbd_ea_list_size() of the file's EAs, without reading the values. */
NTSTATUS smbd_ea_size_fd(int fd, uint32_t *size);

/* The same for the entry `name` of the directory dirfd (QUERY_DIRECTORY):
 * a symlink's own (none) is reported, never its target's. */
NTSTATUS smbd_ea_size_at(int dirfd, const char *name, uint32_t *size);

/*
 * Apply a parsed SET list ([MS-FSA] 2.1.5.15.5): in order, each EA
 * replaces the one of the same name (any case), a zero-length value
 * deletes it.  replace_all first drops every existing EA (CREATE with
 * ExtA on an overwritten file).  NT_STATUS_EA_TOO_LARGE, before anything
 * changes, when the resulting set exceeds SMBD_EA_MAX_SET_SIZE.
 */
NTSTATUS smbd_ea_set(int fd, const struct smbd_ea *eas, size_t count,
		     bool replace_all);

/* ---- per-handle state (event loop) ---- */

/* The open's EA enumeration cursor for SL_RETURN_SINGLE_ENTRY without
 * SL_RESTART_SCAN (index of the next EA to return), created at 0 on
 * first use and freed with op.  NULL on allocation failure. */
uint32_t *smbd_open_ea_cursor(struct smbd_open *op);

#endif
