/*
 * Self-relative security descriptors: parse, encode, copy.
 * See nt_acl.h; wire layout [MS-DTYP] 2.4.2.2, 2.4.4, 2.4.5, 2.4.6.
 */
#include "smbd/nt_acl.h"

#include <stdio.h>
#include <string.h>

#include "lib/util/byteorder.h"
#include "smbd/smb2_wire.h"

#define SD_HDR 20
#define ACL_HDR 8
#define ACE_HDR 4
#define SID_HDR 8
#define ACL_MAX_SIZE 0xffff

const struct nt_sid nt_sid_world = { 1, 1, { 0 } };
const struct nt_sid nt_sid_creator_owner = { 1, 3, { 0 } };
const struct nt_sid nt_sid_creator_group = { 1, 3, { 1 } };
const struct nt_sid nt_sid_owner_rights = { 1, 3, { 4 } };
const struct nt_sid nt_sid_authenticated_users = { 1, 5, { 11 } };
const struct nt_sid nt_sid_builtin_users = { 2, 5, { 32, 545 } };

struct nt_sid nt_sid_unix_user(uint32_t uid)
{
	struct nt_sid s = { .num_auths = 2, .authority = 22 };
	s.sub_auths[0] = 1;
	s.sub_auths[1] = uid;
	return s;
}

struct nt_sid nt_sid_unix_group(uint32_t gid)
{
	struct nt_sid s = { .num_auths = 2, .authority = 22 };
	s.sub_auths[0] = 2;
	s.sub_auths[1] = gid;
	return s;
}

bool nt_sid_equal(const struct nt_sid *a, const struct nt_sid *b)
{
	if (a->num_auths != b->num_auths || a->authority != b->authority) {
		return false;
	}
	return memcmp(a->sub_auths, b->sub_auths,
		      sizeof(uint32_t) * a->num_auths) == 0;
}

size_t nt_sid_wire_size(const struct nt_sid *sid)
{
	return SID_HDR + 4 * (size_t)sid->num_auths;
}

char *nt_sid_string(TALLOC_CTX *mem_ctx, const struct nt_sid *sid)
{
	char *s = talloc_asprintf(mem_ctx, "S-1-%llu",
				  (unsigned long long)sid->authority);
	for (int i = 0; s != NULL && i < sid->num_auths; i++) {
		s = talloc_asprintf_append(s, "-%u", sid->sub_auths[i]);
	}
	return s;
}

/* ---- parsing ---- */

static bool sid_pull(const uint8_t *buf, size_t len, size_t ofs,
		     struct nt_sid *sid)
{
	if (ofs > len || len - ofs < SID_HDR) {
		return false;
	}
	if (buf[ofs] != 1 || buf[ofs + 1] > NT_SID_MAX_SUB_AUTHS) {
		return false;
	}
	sid->num_auths = buf[ofs + 1];
	if (len - ofs < nt_sid_wire_size(sid)) {
		return false;
	}
	sid->authority = 0;
	for (int i = 0; i < 6; i++) {
		sid->authority = (sid->authority << 8) | buf[ofs + 2 + i];
	}
	memset(sid->sub_auths, 0, sizeof(sid->sub_auths));
	for (int i = 0; i < sid->num_auths; i++) {
		sid->sub_auths[i] = PULL_LE32(buf, ofs + SID_HDR + 4 * (size_t)i);
	}
	return true;
}

static bool ace_type_has_sid(uint8_t type)
{
	switch (type) {
	case NT_ACE_ACCESS_ALLOWED:
	case NT_ACE_ACCESS_DENIED:
	case NT_ACE_SYSTEM_AUDIT:
	case NT_ACE_SYSTEM_ALARM:
	case NT_ACE_ACCESS_ALLOWED_CALLBACK:
	case NT_ACE_ACCESS_DENIED_CALLBACK:
	case 0x0D: /* SYSTEM_AUDIT_CALLBACK */
	case 0x0E: /* SYSTEM_ALARM_CALLBACK */
	case NT_ACE_SYSTEM_MANDATORY_LABEL:
	case 0x13: /* SYSTEM_SCOPED_POLICY_ID */
		return true;
	default:
		return false;
	}
}

/* ace_buf/ace_len: exactly one ACE (AceSize bytes). */
static bool ace_pull(TALLOC_CTX *mem_ctx, const uint8_t *ace_buf,
		     size_t ace_len, struct nt_ace *ace)
{
	size_t body_ofs;

	ace->type = ace_buf[0];
	ace->flags = ace_buf[1];
	ace->has_sid = ace_type_has_sid(ace->type);
	if (ace->has_sid) {
		if (ace_len < ACE_HDR + 4 + SID_HDR) {
			return false;
		}
		ace->mask = PULL_LE32(ace_buf, ACE_HDR);
		if (!sid_pull(ace_buf, ace_len, ACE_HDR + 4, &ace->sid)) {
			return false;
		}
		body_ofs = ACE_HDR + 4 + nt_sid_wire_size(&ace->sid);
	} else {
		body_ofs = ACE_HDR;
	}
	ace->extra_len = (uint16_t)(ace_len - body_ofs);
	ace->extra = NULL;
	if (ace->extra_len > 0) {
		ace->extra = talloc_memdup(mem_ctx, ace_buf + body_ofs,
					   ace->extra_len);
		if (ace->extra == NULL) {
			return false;
		}
	}
	return true;
}

static NTSTATUS acl_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
			 size_t ofs, struct nt_acl **out)
{
	struct nt_acl *acl;
	uint16_t acl_size, count;
	size_t pos, end;

	if (ofs < SD_HDR || ofs > len || len - ofs < ACL_HDR) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	if (buf[ofs] != 2 && buf[ofs] != 4) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	acl_size = PULL_LE16(buf, ofs + 2);
	count = PULL_LE16(buf, ofs + 4);
	if (acl_size < ACL_HDR || acl_size > len - ofs) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	/* every ACE needs at least its header */
	if (count > (acl_size - ACL_HDR) / ACE_HDR) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	acl = talloc_zero(mem_ctx, struct nt_acl);
	if (acl == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	acl->revision = buf[ofs];
	acl->num_aces = count;
	acl->aces = talloc_zero_array(acl, struct nt_ace, count ? count : 1);
	if (acl->aces == NULL) {
		talloc_free(acl);
		return NT_STATUS_NO_MEMORY;
	}
	pos = ofs + ACL_HDR;
	end = ofs + acl_size;
	for (uint16_t i = 0; i < count; i++) {
		uint16_t ace_size;

		if (end - pos < ACE_HDR) {
			talloc_free(acl);
			return NT_STATUS_INVALID_SECURITY_DESCR;
		}
		ace_size = PULL_LE16(buf, pos + 2);
		if (ace_size < ACE_HDR || ace_size > end - pos) {
			talloc_free(acl);
			return NT_STATUS_INVALID_SECURITY_DESCR;
		}
		if (!ace_pull(acl->aces, buf + pos, ace_size, &acl->aces[i])) {
			talloc_free(acl);
			return NT_STATUS_INVALID_SECURITY_DESCR;
		}
		pos += ace_size;
	}
	*out = acl;
	return NT_STATUS_OK;
}

static NTSTATUS sd_sid_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			    size_t len, uint32_t ofs, struct nt_sid **out)
{
	struct nt_sid sid;

	*out = NULL;
	if (ofs == 0) {
		return NT_STATUS_OK;
	}
	if (ofs < SD_HDR || !sid_pull(buf, len, ofs, &sid)) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	*out = nt_sid_dup(mem_ctx, &sid);
	return *out != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

NTSTATUS nt_sd_parse(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
		     struct nt_sd **out)
{
	struct nt_sd *sd;
	uint32_t owner_ofs, group_ofs, sacl_ofs, dacl_ofs;
	NTSTATUS status;

	*out = NULL;
	if (buf == NULL || len < SD_HDR || buf[0] != 1) {
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	sd = talloc_zero(mem_ctx, struct nt_sd);
	if (sd == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	sd->revision = 1;
	sd->control = PULL_LE16(buf, 2);
	if (!(sd->control & NT_SD_SELF_RELATIVE)) {
		talloc_free(sd);
		return NT_STATUS_INVALID_SECURITY_DESCR;
	}
	owner_ofs = PULL_LE32(buf, 4);
	group_ofs = PULL_LE32(buf, 8);
	sacl_ofs = PULL_LE32(buf, 12);
	dacl_ofs = PULL_LE32(buf, 16);

	status = sd_sid_pull(sd, buf, len, owner_ofs, &sd->owner);
	if (NT_STATUS_IS_OK(status)) {
		status = sd_sid_pull(sd, buf, len, group_ofs, &sd->group);
	}
	if (NT_STATUS_IS_OK(status) && (sd->control & NT_SD_SACL_PRESENT) &&
	    sacl_ofs != 0) {
		status = acl_pull(sd, buf, len, sacl_ofs, &sd->sacl);
	}
	if (NT_STATUS_IS_OK(status) && (sd->control & NT_SD_DACL_PRESENT) &&
	    dacl_ofs != 0) {
		status = acl_pull(sd, buf, len, dacl_ofs, &sd->dacl);
	}
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(sd);
		return status;
	}
	*out = sd;
	return NT_STATUS_OK;
}

/* ---- encoding ---- */

static size_t ace_wire_size(const struct nt_ace *ace)
{
	size_t size = ACE_HDR + ace->extra_len;
	if (ace->has_sid) {
		size += 4 + nt_sid_wire_size(&ace->sid);
	}
	return size;
}

static size_t acl_wire_size(const struct nt_acl *acl)
{
	size_t size = ACL_HDR;
	for (uint32_t i = 0; i < acl->num_aces; i++) {
		size += ace_wire_size(&acl->aces[i]);
	}
	return size;
}

static size_t sid_push(uint8_t *p, const struct nt_sid *sid)
{
	p[0] = 1;
	p[1] = sid->num_auths;
	for (int i = 0; i < 6; i++) {
		p[2 + i] = (uint8_t)(sid->authority >> (8 * (5 - i)));
	}
	for (int i = 0; i < sid->num_auths; i++) {
		PUSH_LE32(p, SID_HDR + 4 * (size_t)i, sid->sub_auths[i]);
	}
	return nt_sid_wire_size(sid);
}

static size_t acl_push(uint8_t *p, const struct nt_acl *acl)
{
	size_t ofs = ACL_HDR;

	for (uint32_t i = 0; i < acl->num_aces; i++) {
		const struct nt_ace *ace = &acl->aces[i];
		size_t start = ofs;

		p[ofs] = ace->type;
		p[ofs + 1] = ace->flags;
		PUSH_LE16(p, ofs + 2, (uint16_t)ace_wire_size(ace));
		ofs += ACE_HDR;
		if (ace->has_sid) {
			PUSH_LE32(p, ofs, ace->mask);
			ofs += 4;
			ofs += sid_push(p + ofs, &ace->sid);
		}
		if (ace->extra_len > 0) {
			memcpy(p + ofs, ace->extra, ace->extra_len);
			ofs += ace->extra_len;
		}
		(void)start;
	}
	p[0] = acl->revision != 0 ? acl->revision : 2;
	p[1] = 0;
	PUSH_LE16(p, 2, (uint16_t)ofs);
	PUSH_LE16(p, 4, (uint16_t)acl->num_aces);
	PUSH_LE16(p, 6, 0);
	return ofs;
}

NTSTATUS nt_sd_encode(TALLOC_CTX *mem_ctx, const struct nt_sd *sd,
		      uint32_t secinfo, uint8_t **out, size_t *out_len)
{
	const struct nt_sid *owner = NULL, *group = NULL;
	const struct nt_acl *sacl = NULL, *dacl = NULL;
	uint16_t control = sd->control | NT_SD_SELF_RELATIVE;
	size_t size = SD_HDR, ofs = SD_HDR;
	uint8_t *p;

	if (secinfo & NT_SECINFO_OWNER) {
		owner = sd->owner;
	}
	if (secinfo & NT_SECINFO_GROUP) {
		group = sd->group;
	}
	if (secinfo & NT_SECINFO_SACL) {
		sacl = sd->sacl;
	} else {
		control &= ~(NT_SD_SACL_PRESENT | NT_SD_SACL_AUTO_INHERITED |
			     NT_SD_SACL_PROTECTED | NT_SD_SACL_DEFAULTED);
	}
	if (secinfo & NT_SECINFO_DACL) {
		dacl = sd->dacl;
	} else {
		control &= ~(NT_SD_DACL_PRESENT | NT_SD_DACL_AUTO_INHERITED |
			     NT_SD_DACL_PROTECTED | NT_SD_DACL_DEFAULTED);
	}
	if (owner != NULL) {
		size += nt_sid_wire_size(owner);
	}
	if (group != NULL) {
		size += nt_sid_wire_size(group);
	}
	if (sacl != NULL) {
		if (acl_wire_size(sacl) > ACL_MAX_SIZE) {
			return NT_STATUS_INVALID_SECURITY_DESCR;
		}
		size += acl_wire_size(sacl);
	}
	if (dacl != NULL) {
		if (acl_wire_size(dacl) > ACL_MAX_SIZE) {
			return NT_STATUS_INVALID_SECURITY_DESCR;
		}
		size += acl_wire_size(dacl);
	}
	p = talloc_zero_array(mem_ctx, uint8_t, size);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	p[0] = 1;
	PUSH_LE16(p, 2, control);
	if (owner != NULL) {
		PUSH_LE32(p, 4, (uint32_t)ofs);
		ofs += sid_push(p + ofs, owner);
	}
	if (group != NULL) {
		PUSH_LE32(p, 8, (uint32_t)ofs);
		ofs += sid_push(p + ofs, group);
	}
	if (sacl != NULL) {
		PUSH_LE32(p, 12, (uint32_t)ofs);
		ofs += acl_push(p + ofs, sacl);
	}
	if (dacl != NULL) {
		PUSH_LE32(p, 16, (uint32_t)ofs);
		ofs += acl_push(p + ofs, dacl);
	}
	*out = p;
	*out_len = ofs;
	return NT_STATUS_OK;
}

/* ---- copies and construction ---- */

struct nt_sid *nt_sid_dup(TALLOC_CTX *mem_ctx, const struct nt_sid *sid)
{
	if (sid == NULL) {
		return NULL;
	}
	return talloc_memdup(mem_ctx, sid, sizeof(*sid));
}

struct nt_acl *nt_acl_dup(TALLOC_CTX *mem_ctx, const struct nt_acl *acl)
{
	struct nt_acl *copy;

	if (acl == NULL) {
		return NULL;
	}
	copy = talloc_zero(mem_ctx, struct nt_acl);
	if (copy == NULL) {
		return NULL;
	}
	copy->revision = acl->revision;
	copy->num_aces = 0;
	copy->aces = talloc_zero_array(copy, struct nt_ace,
				       acl->num_aces ? acl->num_aces : 1);
	if (copy->aces == NULL) {
		talloc_free(copy);
		return NULL;
	}
	for (uint32_t i = 0; i < acl->num_aces; i++) {
		struct nt_ace *a = &copy->aces[i];
		*a = acl->aces[i];
		if (a->extra_len > 0) {
			a->extra = talloc_memdup(copy->aces, acl->aces[i].extra,
						 a->extra_len);
			if (a->extra == NULL) {
				talloc_free(copy);
				return NULL;
			}
		}
		copy->num_aces++;
	}
	return copy;
}

struct nt_sd *nt_sd_dup(TALLOC_CTX *mem_ctx, const struct nt_sd *sd)
{
	struct nt_sd *copy;

	if (sd == NULL) {
		return NULL;
	}
	copy = talloc_zero(mem_ctx, struct nt_sd);
	if (copy == NULL) {
		return NULL;
	}
	copy->revision = sd->revision;
	copy->control = sd->control;
	copy->owner = nt_sid_dup(copy, sd->owner);
	copy->group = nt_sid_dup(copy, sd->group);
	copy->sacl = nt_acl_dup(copy, sd->sacl);
	copy->dacl = nt_acl_dup(copy, sd->dacl);
	if ((sd->owner && !copy->owner) || (sd->group && !copy->group) ||
	    (sd->sacl && !copy->sacl) || (sd->dacl && !copy->dacl)) {
		talloc_free(copy);
		return NULL;
	}
	return copy;
}

bool nt_acl_add(struct nt_acl *acl, uint8_t type, uint8_t flags,
		uint32_t mask, const struct nt_sid *sid)
{
	struct nt_ace *aces;

	if (acl->num_aces >= ACL_MAX_SIZE / (ACE_HDR + 4 + SID_HDR)) {
		return false;
	}
	aces = talloc_realloc(acl, acl->aces, struct nt_ace,
			      acl->num_aces + 1);
	if (aces == NULL) {
		return false;
	}
	acl->aces = aces;
	aces[acl->num_aces] = (struct nt_ace){
		.type = type,
		.flags = flags,
		.has_sid = true,
		.mask = mask,
		.sid = *sid,
	};
	acl->num_aces++;
	return true;
}

uint32_t nt_map_generic_file(uint32_t mask)
{
	if (mask & SEC_GENERIC_READ) {
		mask |= SEC_RIGHTS_FILE_READ;
	}
	if (mask & SEC_GENERIC_WRITE) {
		mask |= SEC_RIGHTS_FILE_WRITE;
	}
	if (mask & SEC_GENERIC_EXECUTE) {
		mask |= SEC_RIGHTS_FILE_EXECUTE;
	}
	if (mask & SEC_GENERIC_ALL) {
		mask |= SEC_FILE_ALL;
	}
	return mask & ~(SEC_GENERIC_READ | SEC_GENERIC_WRITE |
			SEC_GENERIC_EXECUTE | SEC_GENERIC_ALL);
}

void nt_acl_map_generic_file(struct nt_acl *acl)
{
	for (uint32_t i = 0; acl != NULL && i < acl->num_aces; i++) {
		struct nt_ace *ace = &acl->aces[i];
		if (ace->has_sid && !(ace->flags & NT_ACE_INHERIT_ONLY)) {
			ace->mask = nt_map_generic_file(ace->mask);
		}
	}
}
