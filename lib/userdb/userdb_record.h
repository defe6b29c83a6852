/*
 * The one encoding of a user record in passdb.tdb.  Never a raw struct:
 * every field is written little-endian at a fixed offset, and the first
 * byte is the record version so that a later layout can be told apart.
 *
 * Version 1 (all integers little-endian):
 *   offset  size  field
 *        0     1  version (= 1)
 *        1     3  reserved, zero
 *        4     4  flags: bit 0 = account disabled; other bits must be 0
 *        8     8  pwd_last_set, seconds since the epoch (signed)
 *       16    16  NT hash
 *       32     2  account name length A (bytes, 1..USERDB_NAME_MAX)
 *       34     2  unix user name length U (bytes, 1..USERDB_NAME_MAX)
 *       36     A  account name, UTF-8, no terminator
 *     36+A     U  unix user name, UTF-8, no terminator
 * The record is exactly 36 + A + U bytes long.
 */
#ifndef LIB_USERDB_USERDB_RECORD_H
#define LIB_USERDB_USERDB_RECORD_H

#include "lib/userdb/userdb.h"

#define USERDB_RECORD_VERSION 1
#define USERDB_RECORD_FIXED_SIZE 36
#define USERDB_FLAG_DISABLED 0x00000001

/* Encode e into a new talloc buffer on mem_ctx.  NT_STATUS_INVALID_PARAMETER
 * if a name is empty or too long. */
NTSTATUS userdb_record_encode(TALLOC_CTX *mem_ctx,
			      const struct userdb_entry *e, uint8_t **buf,
			      size_t *len);

/* Decode len bytes (hostile until checked: from a file anyone with write
 * access may have edited).  NT_STATUS_INTERNAL_DB_CORRUPTION for an unknown
 * version, unknown flags, bad lengths or names with a NUL byte. */
NTSTATUS userdb_record_decode(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			      size_t len, struct userdb_entry **out);

#endif
