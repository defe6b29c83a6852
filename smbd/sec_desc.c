/*
 * Self-relative security descriptors <-> unix owner, group and mode.
 * See sec_desc.h for the mapping.
 */
#include <string.h>
#include <sys/stat.h>

#include "lib/util/byteorder.h"
#include "smbd/sec_desc.h"
#include "smbd/smb2_wire.h"

#define SD_HEADER_SIZE 20
#define ACL_HEADER_SIZE 8
#define ACE_HEADER_SIZE 8 /* type, flags, size, mask */
#define SID_MAX_SUB_AUTHS 15
#define SEC_ACE_FLAG_INHERIT_ONLY 0x08

struct sid {
	uint8_t num_auths;
	uint64_t authority; /* 48 bits, big-endian on the wire */
	uint32_t sub_auths[SID_MAX_SUB_AUTHS];
};

#define SID_AUTH_WORLD 1
#define SID_AUTH_CREATOR 3
#define SID_AUTH_UNIX 22

static size_t sid_size(const struct sid *s)
{
	return 8 + 4 * (size_t)s->num_auths;
}

static size_t sid_push(uint8_t *p, const struct sid *s)
{
	p[0] = 1; /* Revision */
	p[1] = s->num_auths;
	for (int i = 0; i < 6; i++) {
		p[2 + i] = (uint8_t)(s->authority >> (8 * (5 - i)));
	}
	for (int i = 0; i < s->num_auths; i++) {
		PUSH_LE32(p, 8 + 4 * (size_t)i, s->sub_auths[i]);
	}
	return sid_size(s);
}

static bool sid_pull(const uint8_t *buf, size_t len, size_t ofs,
		     struct sid *s)
{
	if (ofs > len || len - ofs < 8 || buf[ofs] != 1 ||
	    buf[ofs + 1] > SID_MAX_SUB_AUTHS) {
		return false;
	}
	s->num_auths = buf[ofs + 1];
	if (len - ofs < sid_size(s)) {
		return false;
	}
	s->authority = 0;
	for (int i = 0; i < 6; i++) {
		s->authority = (s->authority << 8) | buf[ofs + 2 + i];
	}
	for (int i = 0; i < s->num_auths; i++) {
		s->sub_auths[i] = PULL_LE32(buf, ofs + 8 + 4 * (size_t)i);
	}
	return true;
}

static struct sid sid_make(uint64_t authority, int n, uint32_t a0,
			   uint32_t a1)
{
	struct sid s = { .num_auths = (uint8_t)n, .authority = authority };
	s.sub_auths[0] = a0;
	s.sub_auths[1] = a1;
	return s;
}

static bool sid_is(const struct sid *s, uint64_t authority, int n,
		   uint32_t a0, uint32_t a1)
{
	if (s->authority != authority || s->num_auths != n) {
		return false;
	}
	return (n < 1 || s->sub_auths[0] == a0) &&
	       (n < 2 || s->sub_auths[1] == a1);
}

/* rwx (3 bits) -> access mask */
static uint32_t rwx_to_mask(unsigned rwx)
{
	uint32_t mask = 0;
	if (rwx == 7) {
		return SEC_FILE_ALL;
	}
	if (rwx & 4) {
		mask |= SEC_RIGHTS_FILE_READ;
	}
	if (rwx & 2) {
		mask |= SEC_RIGHTS_FILE_WRITE | SEC_STD_DELETE;
	}
	if (rwx & 1) {
		mask |= SEC_RIGHTS_FILE_EXECUTE;
	}
	return mask;
}

static unsigned mask_to_rwx(uint32_t mask)
{
	unsigned rwx = 0;
	if (mask & SEC_GENERIC_ALL) {
		return 7;
	}
	if (mask & (SEC_FILE_READ_DATA | SEC_GENERIC_READ)) {
		rwx |= 4;
	}
	if (mask & (SEC_FILE_WRITE_DATA | SEC_FILE_APPEND_DATA |
		    SEC_GENERIC_WRITE)) {
		rwx |= 2;
	}
	if (mask & (SEC_FILE_EXECUTE | SEC_GENERIC_EXECUTE)) {
		rwx |= 1;
	}
	return rwx;
}

struct ace {
	uint32_t mask;
	struct sid sid;
};

static size_t acl_push(uint8_t *p, const struct ace *aces, int n)
{
	size_t ofs = ACL_HEADER_SIZE;
	for (int i = 0; i < n; i++) {
		size_t ace_size = ACE_HEADER_SIZE + sid_size(&aces[i].sid);
		p[ofs] = SEC_ACE_TYPE_ACCESS_ALLOWED;
		p[ofs + 1] = 0; /* AceFlags */
		PUSH_LE16(p, ofs + 2, (uint16_t)ace_size);
		PUSH_LE32(p, ofs + 4, aces[i].mask);
		sid_push(p + ofs + 8, &aces[i].sid);
		ofs += ace_size;
	}
	p[0] = 2; /* AclRevision: ACL_REVISION */
	p[1] = 0;
	PUSH_LE16(p, 2, (uint16_t)ofs);
	PUSH_LE16(p, 4, (uint16_t)n);
	PUSH_LE16(p, 6, 0);
	return ofs;
}

static size_t acl_size(const struct ace *aces, int n)
{
	size_t size = ACL_HEADER_SIZE;
	for (int i = 0; i < n; i++) {
		size += ACE_HEADER_SIZE + sid_size(&aces[i].sid);
	}
	return size;
}

NTSTATUS sec_desc_from_unix(TALLOC_CTX *mem_ctx, uid_t uid, gid_t gid,
			    mode_t mode, bool is_dir, uint32_t secinfo,
			    uint8_t **out, size_t *out_len)
{
	struct sid owner = sid_make(SID_AUTH_UNIX, 2, 1, (uint32_t)uid);
	struct sid group = sid_make(SID_AUTH_UNIX, 2, 2, (uint32_t)gid);
	struct ace aces[3];
	int num_aces = 0;
	uint16_t control = SEC_DESC_SELF_RELATIVE;
	size_t size = SD_HEADER_SIZE, ofs = SD_HEADER_SIZE;
	uint32_t owner_mask;
	uint8_t *p;

	(void)is_dir;

	owner_mask = rwx_to_mask((mode >> 6) & 7) | SEC_STD_READ_CONTROL |
		     SEC_STD_WRITE_DAC | SEC_FILE_READ_ATTRIBUTE |
		     SEC_FILE_WRITE_ATTRIBUTE;
	aces[num_aces++] = (struct ace){ owner_mask, owner };
	if ((mode >> 3) & 7) {
		aces[num_aces++] =
			(struct ace){ rwx_to_mask((mode >> 3) & 7), group };
	}
	if (mode & 7) {
		aces[num_aces++] = (struct ace){
			rwx_to_mask(mode & 7),
			sid_make(SID_AUTH_WORLD, 1, 0, 0)
		};
	}

	if (secinfo & SECINFO_OWNER) {
		size += sid_size(&owner);
	}
	if (secinfo & SECINFO_GROUP) {
		size += sid_size(&group);
	}
	if (secinfo & SECINFO_SACL) {
		size += ACL_HEADER_SIZE;
		control |= SEC_DESC_SACL_PRESENT;
	}
	if (secinfo & SECINFO_DACL) {
		size += acl_size(aces, num_aces);
		control |= SEC_DESC_DACL_PRESENT;
	}

	p = talloc_zero_array(mem_ctx, uint8_t, size);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	p[0] = 1; /* Revision */
	p[1] = 0; /* Sbz1 */
	PUSH_LE16(p, 2, control);
	if (secinfo & SECINFO_OWNER) {
		PUSH_LE32(p, 4, (uint32_t)ofs);
		ofs += sid_push(p + ofs, &owner);
	}
	if (secinfo & SECINFO_GROUP) {
		PUSH_LE32(p, 8, (uint32_t)ofs);
		ofs += sid_push(p + ofs, &group);
	}
	if (secinfo & SECINFO_SACL) {
		PUSH_LE32(p, 12, (uint32_t)ofs);
		ofs += acl_push(p + ofs, NULL, 0);
	}
	if (secinfo & SECINFO_DACL) {
		PUSH_LE32(p, 16, (uint32_t)ofs);
		ofs += acl_push(p + ofs, aces, num_aces);
	}
	*out = p;
	*out_len = ofs;
	return NT_STATUS_OK;
}

/* Map a DACL back to 0777 bits; see sec_desc.h. */
static NTSTATUS dacl_to_mode(const uint8_t *buf, size_t len, size_t ofs,
			     uid_t cur_uid, gid_t cur_gid, mode_t *mode)
{
	uint16_t acl_len, count;
	size_t pos, end;
	mode_t m = 0;

	if (ofs > len || len - ofs < ACL_HEADER_SIZE) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	acl_len = PULL_LE16(buf, ofs + 2);
	count = PULL_LE16(buf, ofs + 4);
	if (acl_len < ACL_HEADER_SIZE || acl_len > len - ofs) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	end = ofs + acl_len;
	pos = ofs + ACL_HEADER_SIZE;
	for (uint16_t i = 0; i < count; i++) {
		uint8_t type, flags;
		uint16_t ace_len;
		uint32_t mask;
		struct sid sid;
		unsigned rwx;

		if (end - pos < ACE_HEADER_SIZE) {
			return NT_STATUS_INVALID_SECURITY_DESCR;
		}
		type = buf[pos];
		flags = buf[pos + 1];
		ace_len = PULL_LE16(buf, pos + 2);
		if (ace_len < ACE_HEADER_SIZE || ace_len > end - pos) {
			return NT_STATUS_INVALID_SECURITY_DESCR;
		}
		mask = PULL_LE32(buf, pos + 4);
		if (!sid_pull(buf, pos + ace_len, pos + 8, &sid)) {
			return NT_STATUS_INVALID_SECURITY_DESCR;
		}
		pos += ace_len;
		if (flags & SEC_ACE_FLAG_INHERIT_ONLY) {
			continue; /* applies to children only: nothing here */
		}
		if (type != SEC_ACE_TYPE_ACCESS_ALLOWED) {
			return NT_STATUS_NOT_SUPPORTED;
		}
		rwx = mask_to_rwx(mask);
		if (sid_is(&sid, SID_AUTH_UNIX, 2, 1, (uint32_t)cur_uid) ||
		    sid_is(&sid, SID_AUTH_CREATOR, 1, 0, 0)) {
			m |= (mode_t)(rwx << 6);
		} else if (sid_is(&sid, SID_AUTH_UNIX, 2, 2,
				  (uint32_t)cur_gid)) {
			m |= (mode_t)(rwx << 3);
		} else if (sid_is(&sid, SID_AUTH_WORLD, 1, 0, 0)) {
			m |= (mode_t)rwx;
		} else {
			return NT_STATUS_NOT_SUPPORTED;
		}
	}
	*mode = m;
	return NT_STATUS_OK;
}

NTSTATUS sec_desc_to_unix_change(const uint8_t *buf, size_t len,
				 uint32_t secinfo, uid_t cur_uid,
				 gid_t cur_gid, mode_t cur_mode,
				 struct sec_desc_change *change)
{
	uint16_t control;
	uint32_t owner_ofs, group_ofs, sacl_ofs, dacl_ofs;
	struct sid sid;

	memset(change, 0, sizeof(*change));
	(void)cur_mode;
	if (len < SD_HEADER_SIZE || buf[0] != 1) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	control = PULL_LE16(buf, 2);
	if (!(control & SEC_DESC_SELF_RELATIVE)) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	owner_ofs = PULL_LE32(buf, 4);
	group_ofs = PULL_LE32(buf, 8);
	sacl_ofs = PULL_LE32(buf, 12);
	dacl_ofs = PULL_LE32(buf, 16);

	if ((secinfo & SECINFO_OWNER) && owner_ofs != 0) {
		if (!sid_pull(buf, len, owner_ofs, &sid)) {
			return NT_STATUS_INVALID_SECURITY_DESCR;
		}
		if (sid.authority != SID_AUTH_UNIX || sid.num_auths != 2 ||
		    sid.sub_auths[0] != 1) {
			return NT_STATUS_INVALID_OWNER;
		}
		change->set_owner = true;
		change->owner = (uid_t)sid.sub_auths[1];
	}
	if ((secinfo & SECINFO_GROUP) && group_ofs != 0) {
		if (!sid_pull(buf, len, group_ofs, &sid)) {
			return NT_STATUS_INVALID_SECURITY_DESCR;
		}
		if (sid.authority != SID_AUTH_UNIX || sid.num_auths != 2 ||
		    sid.sub_auths[0] != 2) {
			return NT_STATUS_INVALID_OWNER;
		}
		change->set_group = true;
		change->group = (gid_t)sid.sub_auths[1];
	}
	if ((secinfo & SECINFO_SACL) && (control & SEC_DESC_SACL_PRESENT) &&
	    sacl_ofs != 0) {
		if (sacl_ofs > len || len - sacl_ofs < ACL_HEADER_SIZE) {
			return NT_STATUS_INVALID_SECURITY_DESCR;
		}
		if (PULL_LE16(buf, sacl_ofs + 4) != 0) {
			return NT_STATUS_NOT_SUPPORTED;
		}
	}
	if ((secinfo & SECINFO_DACL) && (control & SEC_DESC_DACL_PRESENT)) {
		uid_t uid = change->set_owner ? change->owner : cur_uid;
		gid_t gid = change->set_group ? change->group : cur_gid;
		NTSTATUS status;
		if (dacl_ofs == 0) {
			/* a NULL DACL grants everyone everything */
			change->set_mode = true;
			change->mode = 0777;
			return NT_STATUS_OK;
		}
		status = dacl_to_mode(buf, len, dacl_ofs, uid, gid,
				      &change->mode);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		change->set_mode = true;
	}
	return NT_STATUS_OK;
}
