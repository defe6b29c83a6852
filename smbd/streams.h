/*
 * NTFS alternate data streams ("file:name:$DATA"), stored in extended
 * attributes of the file (or directory) that carries them.
 *
 * Storage
 * -------
 * One xattr per named stream:
 *
 *     name:  "user.smb3.stream.<stream name>"   (UTF-8, case as created)
 *     value: offset size field
 *            0      2    version (LE16), currently 1
 *            2      2    reserved (LE16), written 0, ignored
 *            4      4    data length (LE32); must equal value size - 8
 *            8      n    the stream's bytes
 *
 * Why this name:
 *   - "user." is the only namespace an unprivileged process may write.
 *     Every stream operation runs in a VFS job as the session's unix user,
 *     so the kernel applies the file's own permissions: reading a stream
 *     needs read permission on the file, creating/writing/deleting one
 *     needs write permission (or ownership), exactly as for its data.
 *   - "smb3.stream." is this project's own prefix.  Samba's streams_xattr
 *     uses "user.DosStream.<name>:$DATA" with raw data plus a trailing NUL;
 *     a different prefix means neither server misreads the other's values.
 *   - The stream name is kept verbatim so that listing streams needs only
 *     listxattr plus one size query per stream, and `getfattr -d -m - f`
 *     shows them to an administrator.
 * The version field lets a later encoding (e.g. a chunked one) coexist:
 * values of an unknown version are reported as NT_STATUS_FILE_CORRUPT_ERROR
 * and never overwritten.
 *
 * Case: stream names are case-insensitive and case-preserving on NTFS.
 * Lookups compare names with simple Unicode upper-casing (C.UTF-8
 * towupper); creation first looks for a case-insensitive match, so one
 * server never makes "S" and "s" side by side.  Two creators racing with
 * different case can still make both (the xattr name differs); the share
 * mode database will serialise opens of one file.
 *
 * Limits:
 *   - Linux caps an xattr value at 64 KiB (XATTR_SIZE_MAX), so a stream
 *     holds at most SMBD_STREAM_MAX_SIZE bytes; growing it further fails
 *     with NT_STATUS_DISK_FULL.  File systems lower that: ext4 without the
 *     ea_inode feature keeps all xattrs of an inode in one block (about
 *     4 KiB in total, shared with user.DOSATTRIB); setxattr's ENOSPC shows
 *     as NT_STATUS_DISK_FULL.  For larger streams use XFS, or ext4 with
 *     `tune2fs -O ea_inode`.
 *   - The xattr name holds at most 255 bytes, so a stream name is limited
 *     to 255 - 17 = 238 bytes of UTF-8 (NTFS allows 255 UTF-16 units);
 *     longer names are NT_STATUS_OBJECT_NAME_INVALID.
 *
 * Cost: a stream is read and written as a whole value.  A write or a
 * truncation loads the value, changes it and stores it back (one
 * getxattr + one setxattr, up to 64 KiB each); a read loads the value.
 * Streams are small (Zone.Identifier, resource forks, thumbnails), so
 * this is cheaper than a side file per stream.  Load-modify-store runs
 * under a process-wide mutex, so jobs of one client never lose each
 * other's writes; writers in different processes are not serialised
 * until the share-mode and byte-range databases exist.
 *
 * Threads: every function taking an fd does system calls and must run in
 * a VFS job (threadpool.h) as the session user, never on the event loop.
 * fd is any descriptor of the base file, O_PATH included (then the
 * /proc/self/fd path is used).  They keep no state and are thread-safe.
 */
#ifndef SMBD_STREAMS_H
#define SMBD_STREAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

struct smbd_open;

#define SMBD_STREAM_XATTR_PREFIX "user.smb3.stream."
#define SMBD_STREAM_HEADER_SIZE 8
#define SMBD_STREAM_VERSION 1
/* XATTR_SIZE_MAX (65536) less the header */
#define SMBD_STREAM_MAX_SIZE (65536 - SMBD_STREAM_HEADER_SIZE)
/* XATTR_NAME_MAX (255) less the prefix */
#define SMBD_STREAM_MAX_NAME_BYTES (255 - (sizeof(SMBD_STREAM_XATTR_PREFIX) - 1))

/* One named stream of a file, as smbd_streams_list() reports it. */
struct smbd_stream_info {
	char *name;	 /* UTF-8, as stored (talloc child of the array) */
	uint64_t size;	 /* bytes of data */
	uint64_t alloc_size; /* size rounded up to 4 KiB, 0 when empty */
};

/*
 * Encoding (pure functions, any thread).
 *
 * smbd_stream_encode: *blob (talloc'ed on mem_ctx) = header + data.
 * smbd_stream_decode: checks the header against blob_len; *data points
 * into blob.  NT_STATUS_FILE_CORRUPT_ERROR for a short value, another
 * version or a length mismatch.
 */
NTSTATUS smbd_stream_encode(TALLOC_CTX *mem_ctx, const uint8_t *data,
			    size_t len, uint8_t **blob, size_t *blob_len);
NTSTATUS smbd_stream_decode(const uint8_t *blob, size_t blob_len,
			    const uint8_t **data, size_t *len);

/* Case-insensitive stream name comparison (see "Case" above). */
bool smbd_stream_name_equal(const char *a, const char *b);

/*
 * List the named streams of the file behind fd (the unnamed stream is
 * not listed: the caller adds "::$DATA" for files).  *out is a talloc
 * array on mem_ctx (NULL when *count is 0).  Order: as the file system
 * lists xattrs.
 *
 * FileStreamInformation ([MS-FSCC] 2.4.43) for a file is "::$DATA" with
 * the file's EOF and allocation, then ":<name>:$DATA" for each entry; for
 * a directory only the entries.
 */
NTSTATUS smbd_streams_list(int fd, TALLOC_CTX *mem_ctx,
			   struct smbd_stream_info **out, size_t *count);

/*
 * Encode FileStreamInformation ([MS-FSCC] 2.4.44) into *out (talloc'ed
 * on mem_ctx, *out_len bytes; NULL and 0 when there is no entry at all):
 * first "::$DATA" with unnamed_size/unnamed_alloc when with_unnamed
 * (files; a directory has no unnamed data stream), then
 * ":<name>:$DATA" for each of list[0..count).  Entries are 8-byte
 * aligned, NextEntryOffset 0 in the last.  The caller cuts to the
 * client's OutputBufferLength (STATUS_BUFFER_OVERFLOW; fixed length 32 as
 * Windows requires for the class).  NT_STATUS_OBJECT_NAME_INVALID if a
 * name does not convert to UTF-16.
 */
NTSTATUS smbd_streams_encode_info(TALLOC_CTX *mem_ctx, bool with_unnamed,
				  uint64_t unnamed_size,
				  uint64_t unnamed_alloc,
				  const struct smbd_stream_info *list,
				  size_t count, uint8_t **out,
				  size_t *out_len);

/*
 * Find a stream by name (case-insensitive).  *stored_name (talloc'ed on
 * mem_ctx, may be NULL to skip) is the name as stored; *size (may be
 * NULL) its data size.  NT_STATUS_OBJECT_NAME_NOT_FOUND if none.
 */
NTSTATUS smbd_stream_find(int fd, TALLOC_CTX *mem_ctx, const char *name,
			  char **stored_name, uint64_t *size);

/* Create an empty stream; NT_STATUS_OBJECT_NAME_COLLISION if one of that
 * name (any case) exists. */
NTSTATUS smbd_stream_create(int fd, const char *name);

/*
 * Read up to len bytes at offset; *nread 0 at or past the end.  name is
 * the stored name (smbd_stream_find) or any case of it.
 * NT_STATUS_OBJECT_NAME_NOT_FOUND if the stream was deleted meanwhile.
 */
NTSTATUS smbd_stream_read(int fd, const char *name, uint8_t *buf, size_t len,
			  uint64_t offset, size_t *nread);

/*
 * Write len bytes at offset (append: at the current end, whatever
 * offset), zero-filling a gap.  NT_STATUS_DISK_FULL beyond
 * SMBD_STREAM_MAX_SIZE or when the file system has no room for the value.
 */
NTSTATUS smbd_stream_write(int fd, const char *name, const uint8_t *buf,
			   size_t len, uint64_t offset, bool append,
			   size_t *written);

/* Set the stream's size (FileEndOfFileInformation on a stream open):
 * shrink, or grow with zeros. */
NTSTATUS smbd_stream_truncate(int fd, const char *name, uint64_t size);

/* Remove one stream (delete-on-close of a stream open). */
NTSTATUS smbd_stream_delete(int fd, const char *name);

/* Remove every named stream: overwrite/supersede of the base file
 * ([MS-FSA] 2.1.5.1.2.1 replaces the file's streams). */
NTSTATUS smbd_streams_delete_all(int fd);

/*
 * Rename stream old_name to new_name ([MS-FSA] 2.1.5.15.11.1):
 *   new_name exists (any case, other than old_name itself) and
 *     !replace               -> NT_STATUS_OBJECT_NAME_COLLISION
 *     replace, size != 0     -> NT_STATUS_INVALID_PARAMETER (Windows only
 *                               replaces an empty stream; smb2.streams.names)
 *     replace, size 0        -> it is replaced
 * Renaming to another case of the same name just changes the case.  Not
 * atomic: the new xattr is written before the old one is removed, so a
 * crash in between leaves both, never neither.
 */
NTSTATUS smbd_stream_rename(int fd, TALLOC_CTX *mem_ctx, const char *old_name,
			    const char *new_name, bool replace);

/* AllocationSize reported for a stream of `size` bytes: whole 4 KiB
 * units, 0 when empty. */
uint64_t smbd_stream_alloc_size(uint64_t size);

/*
 * Turn the metadata of a stream's base file (smbd_file_meta_fd on the
 * open's fd) into the stream's own: a data stream is never a directory,
 * so is_dir = false and FILE_ATTRIBUTE_DIRECTORY goes (NORMAL if nothing
 * is left), as Samba's streams_xattr reports streams of directories;
 * smbclient refuses to transfer "a directory".  Sizes are not touched:
 * set end_of_file / allocation_size from the stream's size.
 */
struct smbd_file_meta;
void smbd_stream_meta_fixup(struct smbd_file_meta *meta);

/*
 * Which stream an open names (event loop only).
 *
 * smbd_open_set_stream: record that op is an open of named stream `name`
 * (copied); the record is freed with op.  smbd_open_stream: the name, or
 * NULL when op is the file itself.
 *
 * The name is kept in op->stream_name.
 */
NTSTATUS smbd_open_set_stream(struct smbd_open *op, const char *name);
const char *smbd_open_stream(const struct smbd_open *op);

#endif
