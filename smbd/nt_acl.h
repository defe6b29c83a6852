/*
 * Windows security descriptors in memory and on the wire.
 *
 * The wire form is the self-relative SECURITY_DESCRIPTOR of [MS-DTYP]
 * 2.4.6 with SIDs (2.4.2.2), ACLs (2.4.5) and ACEs (2.4.4).  These bytes
 * come from clients (SET_INFO, the "SecD" create context) and from the
 * extended attribute a descriptor is stored in, so nt_sd_parse() checks
 * every offset, count and size before it reads.
 *
 * Round trip: nt_sd_encode(nt_sd_parse(x)) gives back the same
 * descriptor a client sent (ACE order, flags, ACE types this server does
 * not interpret, bytes following the SID inside an ACE), laid out in the
 * canonical order owner, group, SACL, DACL.  Clients compare what they
 * set with what they read (smbtorture smb2_util_verify_sd), so nothing
 * is normalised behind their back.
 *
 * Ownership: everything is talloc; a parsed struct nt_sd owns its SIDs
 * and ACLs.  Pure functions, thread-safe (usable on VFS workers).
 *
 *	struct nt_sd *sd;
 *	status = nt_sd_parse(mem_ctx, buf, len, &sd);
 *	...
 *	status = nt_sd_encode(mem_ctx, sd, SECINFO_OWNER | SECINFO_DACL,
 *			      &blob, &blob_len);
 */
#ifndef SMBD_NT_ACL_H
#define SMBD_NT_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

#define NT_SID_MAX_SUB_AUTHS 15

/* [MS-DTYP] 2.4.2.2; the 48-bit authority kept as the big-endian value */
struct nt_sid {
	uint8_t num_auths;
	uint64_t authority;
	uint32_t sub_auths[NT_SID_MAX_SUB_AUTHS];
};

/* ACE types ([MS-DTYP] 2.4.4.1) this server interprets */
#define NT_ACE_ACCESS_ALLOWED 0x00
#define NT_ACE_ACCESS_DENIED 0x01
#define NT_ACE_SYSTEM_AUDIT 0x02
#define NT_ACE_SYSTEM_ALARM 0x03
#define NT_ACE_ACCESS_ALLOWED_CALLBACK 0x09
#define NT_ACE_ACCESS_DENIED_CALLBACK 0x0A
#define NT_ACE_SYSTEM_MANDATORY_LABEL 0x11

/* AceFlags */
#define NT_ACE_OBJECT_INHERIT 0x01
#define NT_ACE_CONTAINER_INHERIT 0x02
#define NT_ACE_NO_PROPAGATE_INHERIT 0x04
#define NT_ACE_INHERIT_ONLY 0x08
#define NT_ACE_INHERITED 0x10
#define NT_ACE_SUCCESSFUL_ACCESS 0x40
#define NT_ACE_FAILED_ACCESS 0x80

/* SECURITY_DESCRIPTOR Control ([MS-DTYP] 2.4.6) */
#define NT_SD_OWNER_DEFAULTED 0x0001
#define NT_SD_GROUP_DEFAULTED 0x0002
#define NT_SD_DACL_PRESENT 0x0004
#define NT_SD_DACL_DEFAULTED 0x0008
#define NT_SD_SACL_PRESENT 0x0010
#define NT_SD_SACL_DEFAULTED 0x0020
#define NT_SD_DACL_TRUSTED 0x0040
#define NT_SD_SERVER_SECURITY 0x0080
#define NT_SD_DACL_AUTO_INHERIT_REQ 0x0100
#define NT_SD_SACL_AUTO_INHERIT_REQ 0x0200
#define NT_SD_DACL_AUTO_INHERITED 0x0400
#define NT_SD_SACL_AUTO_INHERITED 0x0800
#define NT_SD_DACL_PROTECTED 0x1000
#define NT_SD_SACL_PROTECTED 0x2000
#define NT_SD_RM_CONTROL_VALID 0x4000
#define NT_SD_SELF_RELATIVE 0x8000

/* SecurityInformation bits ([MS-SMB2] 2.2.37); same values as sec_desc.h */
#define NT_SECINFO_OWNER 0x00000001
#define NT_SECINFO_GROUP 0x00000002
#define NT_SECINFO_DACL 0x00000004
#define NT_SECINFO_SACL 0x00000008

/*
 * One ACE.  For the types that carry Mask + SID (allowed, denied, audit,
 * alarm, callback variants, mandatory label) has_sid is true and extra
 * holds the bytes after the SID (callback application data, padding).
 * Any other type (object ACEs, resource attributes...) is kept opaque:
 * extra is the whole body after the 4-byte header.
 */
struct nt_ace {
	uint8_t type;
	uint8_t flags;
	bool has_sid;
	uint32_t mask;
	struct nt_sid sid;
	uint8_t *extra; /* talloc child of the ACL's ace array, or NULL */
	uint16_t extra_len;
};

struct nt_acl {
	uint8_t revision; /* 2 (ACL_REVISION) or 4 (ACL_REVISION_DS) */
	uint32_t num_aces;
	struct nt_ace *aces; /* talloc array, child of the acl */
};

/*
 * A descriptor.  owner/group NULL: absent.  dacl NULL with
 * NT_SD_DACL_PRESENT in control: a NULL DACL (everyone may do anything);
 * without the flag: no DACL given.
 */
struct nt_sd {
	uint8_t revision; /* 1 */
	uint16_t control;
	struct nt_sid *owner;
	struct nt_sid *group;
	struct nt_acl *sacl;
	struct nt_acl *dacl;
};

/* Well-known SIDs ([MS-DTYP] 2.4.2.4) */
extern const struct nt_sid nt_sid_world;		/* S-1-1-0 */
extern const struct nt_sid nt_sid_creator_owner;	/* S-1-3-0 */
extern const struct nt_sid nt_sid_creator_group;	/* S-1-3-1 */
extern const struct nt_sid nt_sid_owner_rights;		/* S-1-3-4 */
extern const struct nt_sid nt_sid_authenticated_users; /* S-1-5-11 */
extern const struct nt_sid nt_sid_builtin_users;	/* S-1-5-32-545 */

/* S-1-22-1-<uid> and S-1-22-2-<gid>: Samba's "Unix User/Group" SIDs */
struct nt_sid nt_sid_unix_user(uint32_t uid);
struct nt_sid nt_sid_unix_group(uint32_t gid);

bool nt_sid_equal(const struct nt_sid *a, const struct nt_sid *b);
size_t nt_sid_wire_size(const struct nt_sid *sid);
/* "S-1-5-32-545"; talloc'ed on mem_ctx, for logs and tests */
char *nt_sid_string(TALLOC_CTX *mem_ctx, const struct nt_sid *sid);

/*
 * Parse a self-relative descriptor of len bytes.  Checks: revision 1,
 * SE_SELF_RELATIVE set, every offset inside the buffer and not inside
 * the 20-byte header, SID revision 1 with at most 15 sub-authorities,
 * ACL revision 2 or 4, AclSize inside the buffer, every ACE inside its
 * ACL and big enough for its type.  A DACL offset without DACL_PRESENT
 * is ignored, as Windows does; DACL_PRESENT with offset 0 is a NULL DACL.
 * NT_STATUS_INVALID_SECURITY_DESCR for anything malformed.
 */
NTSTATUS nt_sd_parse(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
		     struct nt_sd **out);

/*
 * Encode the parts of sd selected by secinfo (NT_SECINFO_*), self-relative.
 * Parts not selected are left out and their PRESENT flag cleared, as a
 * QUERY_INFO with those SecurityInformation bits returns.
 */
NTSTATUS nt_sd_encode(TALLOC_CTX *mem_ctx, const struct nt_sd *sd,
		      uint32_t secinfo, uint8_t **out, size_t *out_len);

/* Deep copies (NULL in, NULL out). */
struct nt_sid *nt_sid_dup(TALLOC_CTX *mem_ctx, const struct nt_sid *sid);
struct nt_acl *nt_acl_dup(TALLOC_CTX *mem_ctx, const struct nt_acl *acl);
struct nt_sd *nt_sd_dup(TALLOC_CTX *mem_ctx, const struct nt_sd *sd);

/* Append an ACE (sid-carrying type) to acl; false on ENOMEM or overflow. */
bool nt_acl_add(struct nt_acl *acl, uint8_t type, uint8_t flags,
		uint32_t mask, const struct nt_sid *sid);

/* Map the generic rights of every ACE that applies to the object itself
 * (not INHERIT_ONLY), as Windows does when a descriptor is set: the ACE
 * is stored with the file rights GENERIC_* stand for.  acl may be NULL. */
void nt_acl_map_generic_file(struct nt_acl *acl);

/* [MS-DTYP] 2.4.3 generic mapping for files and directories:
 * GENERIC_READ/WRITE/EXECUTE/ALL become the file rights they stand for. */
uint32_t nt_map_generic_file(uint32_t mask);

#endif
