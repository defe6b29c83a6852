/*
 * CreateSecurityDescriptor and ACE inheritance; see acl_inherit.h.
 */
#include "smbd/acl_inherit.h"

#include <string.h>

#define INHERIT_FLAGS                                                          \
	(NT_ACE_OBJECT_INHERIT | NT_ACE_CONTAINER_INHERIT |                    \
	 NT_ACE_NO_PROPAGATE_INHERIT | NT_ACE_INHERIT_ONLY)

static bool add_copy(struct nt_acl *acl, const struct nt_ace *ace,
		     uint8_t flags, uint32_t mask, const struct nt_sid *sid)
{
	if (!nt_acl_add(acl, ace->type, flags, mask, sid)) {
		return false;
	}
	/* keep callback data and the like */
	if (ace->extra_len > 0) {
		struct nt_ace *a = &acl->aces[acl->num_aces - 1];
		a->extra = talloc_memdup(acl->aces, ace->extra, ace->extra_len);
		if (a->extra == NULL) {
			return false;
		}
		a->extra_len = ace->extra_len;
	}
	return true;
}

/* The effective ACE's trustee: CREATOR OWNER/GROUP stand for the new
 * object's owner/group. */
static const struct nt_sid *effective_sid(const struct nt_ace *ace,
					  const struct nt_sid *owner,
					  const struct nt_sid *group)
{
	if (nt_sid_equal(&ace->sid, &nt_sid_creator_owner)) {
		return owner;
	}
	if (nt_sid_equal(&ace->sid, &nt_sid_creator_group)) {
		return group;
	}
	return &ace->sid;
}

static bool inherit_one(struct nt_acl *out, const struct nt_ace *ace,
			bool is_container, uint8_t I,
			const struct nt_sid *owner, const struct nt_sid *group)
{
	bool oi = (ace->flags & NT_ACE_OBJECT_INHERIT) != 0;
	bool ci = (ace->flags & NT_ACE_CONTAINER_INHERIT) != 0;
	bool np = (ace->flags & NT_ACE_NO_PROPAGATE_INHERIT) != 0;
	uint8_t audit = ace->flags & (NT_ACE_SUCCESSFUL_ACCESS |
				      NT_ACE_FAILED_ACCESS);
	const struct nt_sid *sid;
	uint32_t mask;
	bool changed;

	if (!ace->has_sid) {
		return true; /* object ACEs mean nothing on files */
	}
	sid = effective_sid(ace, owner, group);
	mask = nt_map_generic_file(ace->mask);
	changed = sid != &ace->sid || mask != ace->mask;

	if (!is_container) {
		if (!oi) {
			return true;
		}
		return add_copy(out, ace, I | audit, mask, sid);
	}
	if (ci) {
		if (np) {
			return add_copy(out, ace, I | audit, mask, sid);
		}
		if (!changed) {
			uint8_t flags = (ace->flags & (INHERIT_FLAGS | audit) &
					 ~NT_ACE_INHERIT_ONLY) | I;
			return add_copy(out, ace, flags, mask, sid);
		}
		/* the effective part for this directory, and the original
		 * to pass on to its children */
		return add_copy(out, ace, I | audit, mask, sid) &&
		       add_copy(out, ace,
				(ace->flags & (INHERIT_FLAGS | audit)) |
					NT_ACE_INHERIT_ONLY | I,
				ace->mask, &ace->sid);
	}
	if (oi && !np) {
		/* for the files below, not for this directory */
		return add_copy(out, ace,
				(ace->flags & (INHERIT_FLAGS | audit)) |
					NT_ACE_INHERIT_ONLY | I,
				ace->mask, &ace->sid);
	}
	return true;
}

struct nt_acl *acl_inherit_dacl(TALLOC_CTX *mem_ctx,
				const struct nt_acl *parent_dacl,
				bool is_container, bool auto_inherit,
				const struct nt_sid *owner,
				const struct nt_sid *group)
{
	struct nt_acl *out = talloc_zero(mem_ctx, struct nt_acl);

	if (out == NULL) {
		return NULL;
	}
	out->revision = parent_dacl != NULL ? parent_dacl->revision : 2;
	out->aces = talloc_zero_array(out, struct nt_ace, 1);
	if (out->aces == NULL) {
		talloc_free(out);
		return NULL;
	}
	for (uint32_t i = 0; parent_dacl != NULL && i < parent_dacl->num_aces;
	     i++) {
		if (!inherit_one(out, &parent_dacl->aces[i], is_container,
				 auto_inherit ? NT_ACE_INHERITED : 0, owner,
				 group)) {
			talloc_free(out);
			return NULL;
		}
	}
	return out;
}

/* creator's explicit ACEs followed by the inherited ones */
static struct nt_acl *merge_acl(TALLOC_CTX *mem_ctx,
				const struct nt_acl *explicit_acl,
				const struct nt_acl *inherited)
{
	struct nt_acl *out = talloc_zero(mem_ctx, struct nt_acl);

	if (out == NULL) {
		return NULL;
	}
	out->revision = explicit_acl->revision;
	out->aces = talloc_zero_array(out, struct nt_ace, 1);
	if (out->aces == NULL) {
		talloc_free(out);
		return NULL;
	}
	for (uint32_t i = 0; i < explicit_acl->num_aces; i++) {
		const struct nt_ace *a = &explicit_acl->aces[i];
		if (!a->has_sid || (a->flags & NT_ACE_INHERITED)) {
			continue;
		}
		if (!add_copy(out, a, a->flags, a->mask, &a->sid)) {
			talloc_free(out);
			return NULL;
		}
	}
	for (uint32_t i = 0; i < inherited->num_aces; i++) {
		const struct nt_ace *a = &inherited->aces[i];
		if (!add_copy(out, a, a->flags, a->mask, &a->sid)) {
			talloc_free(out);
			return NULL;
		}
	}
	return out;
}

NTSTATUS acl_create_descriptor(TALLOC_CTX *mem_ctx, const struct nt_sd *parent,
			       const struct nt_sd *creator, bool is_container,
			       const struct nt_token *token,
			       const struct nt_acl *default_dacl,
			       struct nt_sd **out)
{
	struct nt_sd *sd = talloc_zero(mem_ctx, struct nt_sd);
	struct nt_acl *inherited = NULL;
	bool auto_inherit = parent != NULL &&
			    (parent->control & NT_SD_DACL_AUTO_INHERITED);
	uint16_t auto_flag = auto_inherit ? NT_SD_DACL_AUTO_INHERITED : 0;
	bool creator_dacl =
		creator != NULL && (creator->control & NT_SD_DACL_PRESENT);

	if (sd == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	sd->revision = 1;
	sd->control = NT_SD_SELF_RELATIVE;
	if (creator != NULL) {
		sd->control |= creator->control &
			       ~(NT_SD_DACL_PRESENT | NT_SD_SACL_PRESENT |
				 NT_SD_DACL_AUTO_INHERIT_REQ |
				 NT_SD_SACL_AUTO_INHERIT_REQ);
	}
	sd->owner = nt_sid_dup(sd, (creator != NULL && creator->owner != NULL)
					   ? creator->owner
					   : &token->user);
	sd->group = nt_sid_dup(sd, (creator != NULL && creator->group != NULL)
					   ? creator->group
					   : &token->group);
	if (sd->owner == NULL || sd->group == NULL) {
		goto nomem;
	}
	if (parent != NULL && parent->dacl != NULL) {
		inherited = acl_inherit_dacl(sd, parent->dacl, is_container,
					     auto_inherit, sd->owner,
					     sd->group);
		if (inherited == NULL) {
			goto nomem;
		}
		if (inherited->num_aces == 0) {
			TALLOC_FREE(inherited);
		}
	}

	sd->control |= NT_SD_DACL_PRESENT;
	if (creator_dacl) {
		if (creator->dacl != NULL && inherited != NULL &&
		    !(creator->control & NT_SD_DACL_PROTECTED)) {
			sd->dacl = merge_acl(sd, creator->dacl, inherited);
			sd->control |= auto_flag;
		} else {
			sd->dacl = nt_acl_dup(sd, creator->dacl);
		}
		if (creator->dacl != NULL && sd->dacl == NULL) {
			goto nomem;
		}
	} else if (inherited != NULL) {
		sd->dacl = inherited;
		sd->control |= auto_flag;
	} else if (default_dacl != NULL) {
		sd->dacl = nt_acl_dup(sd, default_dacl);
		if (sd->dacl == NULL) {
			goto nomem;
		}
	}
	if (creator != NULL && (creator->control & NT_SD_SACL_PRESENT)) {
		sd->control |= NT_SD_SACL_PRESENT;
		sd->sacl = nt_acl_dup(sd, creator->sacl);
		if (creator->sacl != NULL && sd->sacl == NULL) {
			goto nomem;
		}
	}
	*out = sd;
	return NT_STATUS_OK;
nomem:
	talloc_free(sd);
	return NT_STATUS_NO_MEMORY;
}
