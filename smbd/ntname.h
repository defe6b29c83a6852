/*
 * NT path names from the wire -> relative POSIX paths beneath a share.
 *
 * SMB2 names are UTF-16LE, '\\'-separated and relative to the share root
 * ([MS-SMB2] 2.2.13 "Buffer", [MS-FSCC] 2.1.5).  This module is the one
 * place that decides which names are acceptable, so that nothing below it
 * ever sees a '/', a "..", an empty component or a character NTFS would
 * refuse.  The VFS additionally resolves every path beneath the share root
 * (RESOLVE_BENEATH); rejecting here gives the client the NTSTATUS Windows
 * would, rather than whatever errno the kernel picks.
 *
 * Results are talloc'ed on the caller's mem_ctx.
 */
#ifndef SMBD_NTNAME_H
#define SMBD_NTNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

/* Longest component NTFS stores, in UTF-16 code units ([MS-FSCC] 2.1.5.2
 * "up to 255 characters"). */
#define NTNAME_MAX_COMPONENT_UNITS 255

/* Flags for ntname_to_relpath() and ntname_component_from_utf16() */
/* Accept the wildcard characters * ? < > " (directory search patterns,
 * [MS-FSA] 2.1.4.4); never accepted in a path to open. */
#define NTNAME_ALLOW_WILDCARDS 0x0001

/*
 * Convert the Name of a CREATE request (len bytes of UTF-16LE, no
 * terminator) into a '/'-separated UTF-8 path relative to the share root.
 * An empty name is the share root and yields "".  '/' separates
 * components like '\\' (Samba accepts both in SMB2 paths).
 *
 * A single trailing '\\' is accepted and dropped; *trailing_sep (may be
 * NULL) reports it so the caller can insist the object is a directory.
 *
 * Errors:
 *   NT_STATUS_INVALID_PARAMETER    name starts with '\\' ([MS-SMB2] 3.3.5.9),
 *                                  or an odd byte count
 *   NT_STATUS_OBJECT_NAME_INVALID  invalid character (0x00-0x1F, : * ? " <
 *                                  > |), a ':' (see ntname_to_relpath_stream),
 *                                  an empty component ("a\\\\b"), a "."
 *                                  component, a component over 255 units,
 *                                  a name that is not valid UTF-16
 *   NT_STATUS_OBJECT_PATH_SYNTAX_BAD  a ".." component (what Samba returns;
 *                                  it must never walk up)
 *   NT_STATUS_NO_MEMORY
 */
NTSTATUS ntname_to_relpath(TALLOC_CTX *mem_ctx, const uint8_t *name,
			   size_t len, char **relpath, bool *trailing_sep);

/*
 * The stream part of a CREATE name ([MS-FSCC] 2.1.5.3 stream names,
 * 2.1.5.4 stream types): "file:name", "file:name:$DATA" and "file::$DATA".
 */
struct ntname_stream {
	bool present; /* the name had a ':' part at all */
	char *name;   /* UTF-8 stream name, talloc'ed; NULL: the unnamed data
		       * stream ("file::$DATA" or no ':' part) */
};

/*
 * ntname_to_relpath() for names that may carry a stream part.  The part
 * before the first ':' is checked and converted exactly as by
 * ntname_to_relpath(); the rest must be "name", "name:$DATA" or
 * ":$DATA" (type compared case-insensitively).  A stream name is 1..255
 * UTF-16 units of anything but NUL, '\\', '/' and ':' (control
 * characters and wildcards are valid, as on NTFS).
 *
 * Errors as ntname_to_relpath(), plus NT_STATUS_OBJECT_NAME_INVALID for:
 * an empty stream part ("file:", "file::"), a type other than $DATA
 * ("file:s:$FOO", "file:s:"), a third ':', an invalid stream character,
 * a stream name over 255 units, and a stream part after a trailing '\\'
 * ("dir\\:s").  Other stream types ($INDEX_ALLOCATION...) are refused:
 * nothing but data streams is stored.
 */
NTSTATUS ntname_to_relpath_stream(TALLOC_CTX *mem_ctx, const uint8_t *name,
				  size_t len, char **relpath,
				  bool *trailing_sep,
				  struct ntname_stream *stream);

/*
 * The target of a stream rename (FileRenameInformation whose name starts
 * with ':', [MS-FSA] 2.1.5.15.11.1): ":name" or ":name:$DATA" gives
 * *stream_name; "::$DATA" (the unnamed stream) gives *stream_name = NULL.
 * Per that section every malformed target is NT_STATUS_INVALID_PARAMETER
 * (not OBJECT_NAME_INVALID as at CREATE).
 */
NTSTATUS ntname_stream_rename_target(TALLOC_CTX *mem_ctx,
				     const uint8_t *name, size_t len,
				     char **stream_name);

/*
 * Check and convert one path component (e.g. the new name of a rename
 * target's last element, or a QUERY_DIRECTORY search pattern with
 * NTNAME_ALLOW_WILDCARDS).  No separators are allowed; "" is invalid.
 * Same error codes as ntname_to_relpath().
 */
NTSTATUS ntname_component_from_utf16(TALLOC_CTX *mem_ctx,
				     const uint8_t *name, size_t len,
				     uint32_t flags, char **component);

/*
 * The same checks on a component already in UTF-8 (e.g. produced by
 * another module).  NT_STATUS_OK if acceptable.
 */
NTSTATUS ntname_check_component(const char *component, uint32_t flags);

#endif
