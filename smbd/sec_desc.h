/*
 * Security descriptors built from POSIX ownership and mode bits.
 *
 * This server keeps no NT ACLs: the descriptor a client reads is derived
 * from the file's uid, gid and rwx bits, and the only change accepted is
 * one that maps back onto those bits (see sec_desc_to_mode()).
 *
 *   Owner  S-1-22-1-<uid>   (Samba's "Unix User" authority 22)
 *   Group  S-1-22-2-<gid>   ("Unix Group")
 *   DACL   ACCESS_ALLOWED ACEs for the owner, the group and Everyone
 *          (S-1-1-0) from the user/group/other rwx bits:
 *            r -> FILE_GENERIC_READ, w -> FILE_GENERIC_WRITE (+DELETE),
 *            x -> FILE_GENERIC_EXECUTE, rwx -> FILE_ALL_ACCESS;
 *          the owner also always has READ_CONTROL, WRITE_DAC and
 *          FILE_READ/WRITE_ATTRIBUTES (it may chmod and utimes).
 *          Group/Everyone ACEs with no rights are left out.
 *   SACL   empty (present only when asked for).
 *
 * The encoding is the self-relative SECURITY_DESCRIPTOR of [MS-DTYP]
 * 2.4.6 with SIDs (2.4.2.2), ACL (2.4.5) and ACCESS_ALLOWED_ACE (2.4.4.2).
 * Pure functions; thread-safe.
 */
#ifndef SMBD_SEC_DESC_H
#define SMBD_SEC_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

/* SecurityInformation / AdditionalInformation bits ([MS-SMB2] 2.2.37) */
#define SECINFO_OWNER 0x00000001
#define SECINFO_GROUP 0x00000002
#define SECINFO_DACL 0x00000004
#define SECINFO_SACL 0x00000008
#define SECINFO_LABEL 0x00000010
#define SECINFO_ATTRIBUTE 0x00000020
#define SECINFO_SCOPE 0x00000040
#define SECINFO_BACKUP 0x00010000

/* SECURITY_DESCRIPTOR Control ([MS-DTYP] 2.4.6) */
#define SEC_DESC_OWNER_DEFAULTED 0x0001
#define SEC_DESC_GROUP_DEFAULTED 0x0002
#define SEC_DESC_DACL_PRESENT 0x0004
#define SEC_DESC_SACL_PRESENT 0x0010
#define SEC_DESC_SELF_RELATIVE 0x8000

#define SEC_ACE_TYPE_ACCESS_ALLOWED 0
#define SEC_ACE_TYPE_ACCESS_DENIED 1

/*
 * Encode the descriptor of a file owned by uid:gid with mode for the
 * parts selected by secinfo (OWNER/GROUP/DACL/SACL; other bits ignored).
 * *out is talloc'ed on mem_ctx, *out_len its size.  The access checks
 * (READ_CONTROL, ACCESS_SYSTEM_SECURITY) are the caller's.
 */
NTSTATUS sec_desc_from_unix(TALLOC_CTX *mem_ctx, uid_t uid, gid_t gid,
			    mode_t mode, bool is_dir, uint32_t secinfo,
			    uint8_t **out, size_t *out_len);

/* What a client's change may do to the file, decoded from a descriptor. */
struct sec_desc_change {
	bool set_owner;
	uid_t owner;
	bool set_group;
	gid_t group;
	bool set_mode;
	mode_t mode; /* the 0777 bits only */
};

/*
 * Parse a self-relative descriptor from a SET_INFO (len bytes, hostile)
 * and translate the parts selected by secinfo into a unix change:
 *   OWNER/GROUP  must be S-1-22-1-x / S-1-22-2-x
 *   DACL         only ACCESS_ALLOWED ACEs for the current owner
 *                (S-1-22-1-<cur_uid>, or S-1-3-0 CREATOR OWNER), the
 *                group (S-1-22-2-<cur_gid>) and Everyone, which are
 *                mapped back to rwx bits (r: FILE_READ_DATA, w:
 *                FILE_WRITE_DATA or FILE_APPEND_DATA, x: FILE_EXECUTE,
 *                or the matching GENERIC_* bit / GENERIC_ALL);
 *                inherit-only ACEs are ignored.
 *   SACL         only an empty or absent SACL.
 * Anything that cannot be represented -> NT_STATUS_ACCESS_DENIED would
 * be a lie about why; we answer NT_STATUS_NOT_SUPPORTED for
 * unrepresentable ACLs and NT_STATUS_INVALID_OWNER for unmappable SIDs,
 * NT_STATUS_INVALID_SECURITY_DESCR for malformed input.
 */
NTSTATUS sec_desc_to_unix_change(const uint8_t *buf, size_t len,
				 uint32_t secinfo, uid_t cur_uid,
				 gid_t cur_gid, mode_t cur_mode,
				 struct sec_desc_change *change);

#endif
