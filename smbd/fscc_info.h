/*
 * Encoders for the [MS-FSCC] information classes that QUERY_INFO and
 * QUERY_DIRECTORY return, plus the name helpers they need (search
 * pattern matching per [MS-FSA] 2.1.4.4 and 8.3 short names).
 *
 * Pure functions: no system calls, no global state; safe on any thread.
 * Strings are UTF-8 in, UTF-16LE on the wire.  Buffers are talloc'ed on
 * the caller's mem_ctx.
 *
 * Usage (GETINFO):
 *     struct fscc_file_info fi = { .meta = &meta, .path = "dir\\a.txt", ... };
 *     uint8_t *blob; size_t len, fixed;
 *     status = fscc_encode_file_info(mem_ctx, FSCC_FILE_ALL_INFORMATION,
 *                                    &fi, &blob, &len, &fixed);
 *     -> the full encoding; the caller truncates to the client's
 *        OutputBufferLength: below `fixed` -> INFO_LENGTH_MISMATCH, below
 *        `len` -> STATUS_BUFFER_OVERFLOW with the first bytes.
 */
#ifndef SMBD_FSCC_INFO_H
#define SMBD_FSCC_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"
#include "smbd/dosmode.h"

/* [MS-FSCC] 2.4 file information classes */
#define FSCC_FILE_DIRECTORY_INFORMATION 1
#define FSCC_FILE_FULL_DIRECTORY_INFORMATION 2
#define FSCC_FILE_BOTH_DIRECTORY_INFORMATION 3
#define FSCC_FILE_BASIC_INFORMATION 4
#define FSCC_FILE_STANDARD_INFORMATION 5
#define FSCC_FILE_INTERNAL_INFORMATION 6
#define FSCC_FILE_EA_INFORMATION 7
#define FSCC_FILE_ACCESS_INFORMATION 8
#define FSCC_FILE_NAME_INFORMATION 9
#define FSCC_FILE_RENAME_INFORMATION 10
#define FSCC_FILE_LINK_INFORMATION 11
#define FSCC_FILE_NAMES_INFORMATION 12
#define FSCC_FILE_DISPOSITION_INFORMATION 13
#define FSCC_FILE_POSITION_INFORMATION 14
#define FSCC_FILE_FULL_EA_INFORMATION 15
#define FSCC_FILE_MODE_INFORMATION 16
#define FSCC_FILE_ALIGNMENT_INFORMATION 17
#define FSCC_FILE_ALL_INFORMATION 18
#define FSCC_FILE_ALLOCATION_INFORMATION 19
#define FSCC_FILE_END_OF_FILE_INFORMATION 20
#define FSCC_FILE_ALTERNATE_NAME_INFORMATION 21
#define FSCC_FILE_STREAM_INFORMATION 22
#define FSCC_FILE_PIPE_INFORMATION 23
#define FSCC_FILE_COMPRESSION_INFORMATION 28
#define FSCC_FILE_NETWORK_OPEN_INFORMATION 34
#define FSCC_FILE_ATTRIBUTE_TAG_INFORMATION 35
#define FSCC_FILE_ID_BOTH_DIRECTORY_INFORMATION 37
#define FSCC_FILE_ID_FULL_DIRECTORY_INFORMATION 38
#define FSCC_FILE_VALID_DATA_LENGTH_INFORMATION 39
#define FSCC_FILE_SHORT_NAME_INFORMATION 40
#define FSCC_FILE_NORMALIZED_NAME_INFORMATION 48
#define FSCC_FILE_ID_INFORMATION 59
#define FSCC_FILE_ID_EXTD_DIRECTORY_INFORMATION 60
#define FSCC_FILE_DISPOSITION_INFORMATION_EX 64
#define FSCC_FILE_RENAME_INFORMATION_EX 65

/* [MS-FSCC] 2.5 file system information classes */
#define FSCC_FS_VOLUME_INFORMATION 1
#define FSCC_FS_LABEL_INFORMATION 2
#define FSCC_FS_SIZE_INFORMATION 3
#define FSCC_FS_DEVICE_INFORMATION 4
#define FSCC_FS_ATTRIBUTE_INFORMATION 5
#define FSCC_FS_CONTROL_INFORMATION 6
#define FSCC_FS_FULL_SIZE_INFORMATION 7
#define FSCC_FS_OBJECTID_INFORMATION 8
#define FSCC_FS_SECTOR_SIZE_INFORMATION 11

/* FileSystemAttributes ([MS-FSCC] 2.5.1) */
#define FILE_CASE_SENSITIVE_SEARCH 0x00000001
#define FILE_CASE_PRESERVED_NAMES 0x00000002
#define FILE_UNICODE_ON_DISK 0x00000004
#define FILE_PERSISTENT_ACLS 0x00000008
#define FILE_SUPPORTS_SPARSE_FILES 0x00000040

/* FileFsDeviceInformation ([MS-FSCC] 2.5.10) */
#define FILE_DEVICE_DISK 0x00000007
#define FILE_READ_ONLY_DEVICE 0x00000002
#define FILE_DEVICE_IS_MOUNTED 0x00000020

/* Everything a file information class may report about an open. */
struct fscc_file_info {
	const struct smbd_file_meta *meta;
	/* share-relative, '\\'-separated, no leading '\\'; "" = root */
	const char *path;
	uint32_t access_mask; /* FileAccessInformation */
	uint64_t position;    /* FilePositionInformation */
	uint32_t mode;	      /* FileModeInformation */
	bool delete_pending;
	uint32_t ea_size; /* FileEaInformation (0: no EAs) */
};

/*
 * Encode a file information class for QUERY_INFO.  *out (talloc'ed on
 * mem_ctx) receives the complete encoding of *out_len bytes; *fixed_len
 * the smallest OutputBufferLength the class accepts at all (what Windows
 * and Samba answer INFO_LENGTH_MISMATCH below).
 * NT_STATUS_INVALID_INFO_CLASS for classes not implemented here;
 * NT_STATUS_OBJECT_NAME_INVALID if a name does not convert.
 */
NTSTATUS fscc_encode_file_info(TALLOC_CTX *mem_ctx, uint8_t info_class,
			       const struct fscc_file_info *fi, uint8_t **out,
			       size_t *out_len, size_t *fixed_len);

/* The classes QUERY_DIRECTORY supports. */
bool fscc_dir_class_supported(uint8_t info_class);

/*
 * Encode one directory entry ([MS-FSCC] 2.4 FileDirectoryInformation and
 * relatives) at buf with `space` bytes free; NextEntryOffset is written 0
 * (the caller links entries).  FileIndex is 0 (as NTFS: "undefined" for
 * FileIndex on most file systems).  Returns the entry length (not
 * padded), or 0 if it does not fit or the name does not convert.
 * short_name may be NULL (no 8.3 name).
 */
size_t fscc_encode_dir_entry(uint8_t info_class,
			     const struct smbd_file_meta *meta,
			     const char *name, const char *short_name,
			     uint8_t *buf, size_t space);

/*
 * Set EaSize in an entry fscc_encode_dir_entry() wrote, for the classes
 * that have the field (FileFullDirectoryInformation, FileBothDirectory-,
 * FileIdBothDirectory-, FileIdFullDirectory-, FileIdExtdDirectory-
 * Information: offset 64); does nothing for the others.
 */
void fscc_dir_entry_set_ea_size(uint8_t info_class, uint8_t *entry,
				uint32_t ea_size);
bool fscc_dir_class_has_ea_size(uint8_t info_class);

/* Everything a file-system information class reports. */
struct fscc_fs_info {
	uint64_t total_units; /* allocation units */
	uint64_t free_units;  /* for the caller (statvfs f_bavail) */
	uint64_t actual_free_units; /* f_bfree */
	uint32_t sectors_per_unit;
	uint32_t bytes_per_sector;
	uint64_t volume_creation_time; /* NT time */
	uint32_t serial_number;
	const char *label;   /* volume label */
	const char *fs_name; /* "NTFS" */
	uint32_t fs_attributes;
	uint32_t max_component_len;
	uint32_t device_characteristics;
	uint8_t object_id[16];
};

/* As fscc_encode_file_info() for [MS-FSCC] 2.5 classes. */
NTSTATUS fscc_encode_fs_info(TALLOC_CTX *mem_ctx, uint8_t info_class,
			     const struct fscc_fs_info *fsi, uint8_t **out,
			     size_t *out_len, size_t *fixed_len);

/*
 * Does name match a search pattern ([MS-FSA] 2.1.4.4): '*', '?', and the
 * DOS wildcards '<' (DOS_STAR), '>' (DOS_QM), '"' (DOS_DOT), all other
 * characters compared case-insensitively.  Case folding is the Unicode
 * simple upper-case mapping (towupper in a private C.UTF-8 locale; ASCII
 * only if that locale is missing).  Invalid UTF-8 never matches.
 * Runs in O(len(pattern) * len(name)).
 */
bool fscc_name_matches(const char *pattern, const char *name);

/*
 * Are two names equal under the same case folding as fscc_name_matches()
 * (no wildcards: every character is literal)?  The case-insensitive name
 * lookup (smbd/vfs/vfs_casefold.h) uses it, so that a name found by a
 * search pattern is also found by an open.  Invalid UTF-8 is equal only
 * when the bytes are.
 */
bool fscc_name_equal_ci(const char *a, const char *b);

/* Is the pattern "*" (or equivalent) so every name matches? */
bool fscc_pattern_is_all(const char *pattern);

/*
 * The 8.3 name for name: NULL if name already is a valid 8.3 name
 * (Windows then leaves ShortName empty), else a generated, stable name
 * "PREFI~XY.EXT" (talloc'ed on mem_ctx).  fscc_short_name_always() gives
 * the uppercased name itself instead of NULL (FileAlternateNameInformation).
 */
char *fscc_short_name(TALLOC_CTX *mem_ctx, const char *name);
char *fscc_short_name_always(TALLOC_CTX *mem_ctx, const char *name);

#endif
