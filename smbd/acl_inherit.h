/*
 * The descriptor of a new file or directory ([MS-DTYP] 2.5.3.4
 * CreateSecurityDescriptor, as NTFS uses it: DACL auto-inheritance on).
 *
 *   owner  the creator's descriptor's owner, else the token's user
 *   group  the creator's descriptor's group, else the token's primary group
 *   DACL   the creator's DACL if it has one (a NULL DACL stays NULL); unless
 *          it is PROTECTED, the ACEs inherited from the parent are appended
 *          (and SE_DACL_AUTO_INHERITED set).  Without a creator DACL: the
 *          inherited ACEs if the parent has inheritable ones, else
 *          default_dacl (the caller's idea of a default: this server uses
 *          the DACL that the unix mode of the new file stands for).
 *   SACL   the creator's SACL, if given (the caller checks the privilege).
 *
 * Inheritance of one parent ACE ([MS-DTYP] 2.5.3.4.2):
 *   file child:      OBJECT_INHERIT ACEs become effective ACEs;
 *   directory child: CONTAINER_INHERIT ACEs become effective ACEs and stay
 *                    inheritable unless NO_PROPAGATE_INHERIT; OBJECT_INHERIT
 *                    only ACEs pass on as INHERIT_ONLY (unless
 *                    NO_PROPAGATE_INHERIT).
 *   Effective copies have CREATOR OWNER / CREATOR GROUP replaced by the new
 *   owner / group and generic rights mapped; when that changes the ACE and
 *   it stays inheritable, the original goes along as an INHERIT_ONLY copy.
 *   Inherited ACEs carry INHERITED_ACE, and the new DACL is
 *   SE_DACL_AUTO_INHERITED, only when the parent's DACL is
 *   SE_DACL_AUTO_INHERITED (what Windows shows, smb2.acls.INHERITFLAGS).
 *
 * Pure; the result is a talloc child of mem_ctx.
 */
#ifndef SMBD_ACL_INHERIT_H
#define SMBD_ACL_INHERIT_H

#include <stdbool.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"
#include "smbd/nt_access.h"
#include "smbd/nt_acl.h"

/* The ACEs a child inherits from parent_dacl; NULL on ENOMEM.  The result
 * may have no ACEs.  auto_inherit: mark them INHERITED_ACE (NTFS does so
 * when the parent's DACL is SE_DACL_AUTO_INHERITED). */
struct nt_acl *acl_inherit_dacl(TALLOC_CTX *mem_ctx,
				const struct nt_acl *parent_dacl,
				bool is_container, bool auto_inherit,
				const struct nt_sid *owner,
				const struct nt_sid *group);

/* parent and creator may be NULL; default_dacl NULL means a NULL DACL. */
NTSTATUS acl_create_descriptor(TALLOC_CTX *mem_ctx, const struct nt_sd *parent,
			       const struct nt_sd *creator, bool is_container,
			       const struct nt_token *token,
			       const struct nt_acl *default_dacl,
			       struct nt_sd **out);

#endif
