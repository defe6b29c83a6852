/*
 * NT security descriptors stored with files, and what CREATE, QUERY_INFO
 * and SET_INFO do with them.
 *
 * Where: the extended attribute "trusted.smb3.ntacl" of the file.
 *   Why "trusted.": only a process with CAP_SYS_ADMIN may read or write
 *   that namespace.  A local user can set "user." attributes on any file
 *   they own, so an ACL kept there could be forged to grant oneself (or
 *   someone else) rights the share's ACL never gave; "security." belongs
 *   to LSMs.  Workers run as the session user and have no capabilities,
 *   so the few calls that touch the attribute switch the worker thread to
 *   root for that one syscall and back (acl_store_read/acl_store_write),
 *   always AFTER this server did the access check that allows it.
 *   Should switching back to the session user ever fail, the process
 *   aborts: continuing a client's job as root is never an option.
 *
 * Encoding (version 1, little-endian, 44-byte header):
 *   0  4  magic "S3NA"
 *   4  2  version (1)
 *   6  2  hash algorithm (1 = SHA-256)
 *   8  4  length of the descriptor
 *   12 32 SHA-256 of the descriptor bytes
 *   44 .. the self-relative SECURITY_DESCRIPTOR ([MS-DTYP] 2.4.6), all of
 *         owner, group, DACL and SACL
 *   Why a hash: an attribute cut short or edited by a backup/copy tool
 *   must be noticed, not parsed into some other, valid-looking ACL.  A
 *   blob that fails any check is reported (NT_STATUS_INVALID_SECURITY_DESCR)
 *   rather than ignored, so a damaged ACL never falls back to the (maybe
 *   wider) unix permissions; root can remove it (setfattr -x).
 *
 * Files without the attribute keep the unix-mode semantics of sec_desc.h:
 * a descriptor is stored only when a client sets one, creates with one
 * ("SecD"), or creates below a directory that has one (inheritance).
 *
 * The unix permissions still apply underneath (the kernel checks every
 * worker's syscalls as the session user): a stored ACL can narrow what a
 * user may do, never widen it past the mode bits.
 *
 * Threads: functions marked "worker" run inside a VFS job as the session
 * user (creds); acl_ctx_new() on the event loop.
 */
#ifndef SMBD_ACL_STORE_H
#define SMBD_ACL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"
#include "smbd/nt_access.h"
#include "smbd/nt_acl.h"

struct smbd_session;
struct vfs_creds;
struct vfs_share;

#define ACL_STORE_XATTR "trusted.smb3.ntacl"
#define ACL_BLOB_HEADER 44
#define ACL_BLOB_VERSION 1

/* ---- the stored encoding (pure) ---- */

NTSTATUS acl_blob_encode(TALLOC_CTX *mem_ctx, const struct nt_sd *sd,
			 uint8_t **blob, size_t *blob_len);
/* Checks magic, version, length and hash, then parses. */
NTSTATUS acl_blob_decode(TALLOC_CTX *mem_ctx, const uint8_t *blob,
			 size_t blob_len, struct nt_sd **sd);

/* ---- the attribute (worker) ---- */

/* *sd = NULL when none is stored (or the file system has no xattrs).
 * fd may be an O_PATH descriptor. */
NTSTATUS acl_store_read(TALLOC_CTX *mem_ctx, int fd,
			const struct vfs_creds *creds, struct nt_sd **sd);
NTSTATUS acl_store_write(int fd, const struct vfs_creds *creds,
			 const struct nt_sd *sd);

/* ---- per-request context ---- */

/*
 * What a job needs to decide about descriptors: copies of the session's
 * token and credentials (the job may outlive the session), the parsed
 * "SecD" create context, and what the checks found.  Talloc child of
 * mem_ctx (make it a child of the job's private_data).
 */
struct acl_ctx {
	struct nt_token *token;
	struct vfs_creds *creds;
	struct nt_sd *creator; /* SecD of a CREATE, or NULL */
	/* results */
	bool have_sd;	     /* the opened file has a stored descriptor */
	uint32_t max_access; /* what the descriptor allows; ~0 if none */
	struct nt_sd *parent_sd; /* stored descriptor of the parent */
};

/*
 * Event loop.  secd/secd_len: the data of a "SecD" create context or
 * NULL/0.  A malformed SecD is NT_STATUS_INVALID_PARAMETER (as Samba
 * answers); one with a SACL needs root (NT_STATUS_PRIVILEGE_NOT_HELD).
 */
NTSTATUS acl_ctx_new(TALLOC_CTX *mem_ctx, struct smbd_session *session,
		     const uint8_t *secd, size_t secd_len,
		     struct acl_ctx **out);

/*
 * CREATE of an existing file (worker).  pfd: an fd of the file (O_PATH
 * is fine), relpath its name beneath share.  *access: the requested
 * access, generic bits mapped, maybe with MAXIMUM_ALLOWED.  If the file
 * has a stored descriptor, run the access check; DELETE may also come
 * from FILE_DELETE_CHILD on the parent (its stored descriptor, or the
 * one its unix mode stands for).  Overwriting dispositions need
 * FILE_WRITE_DATA.  Sets ctx->max_access.  NT_STATUS_ACCESS_DENIED when
 * refused.  Nothing to do (OK) for FILE_CREATE, which fails with a
 * collision anyway.
 */
NTSTATUS acl_open_existing(struct acl_ctx *ctx, const struct vfs_share *share,
			   const char *relpath, int pfd, uint32_t disposition,
			   uint32_t access);

/* ctx->max_access, or ~0 without ctx: AND it into the maximal access. */
uint32_t acl_open_max_access(const struct acl_ctx *ctx);

/*
 * CREATE of a new file or directory, before it is created (worker): read
 * the parent's descriptor; if there is one, the parent must grant
 * FILE_ADD_FILE (FILE_ADD_SUBDIRECTORY for a directory).  A SecD owner
 * must be a SID of the user's token (root: any) -> NT_STATUS_INVALID_OWNER.
 */
NTSTATUS acl_create_check(struct acl_ctx *ctx, const struct vfs_share *share,
			  const char *relpath, bool is_dir);

/*
 * After it was created (worker): store the new object's descriptor
 * (acl_inherit.h) if the parent has one or a SecD was given; else store
 * nothing.  fd: the new file or directory.
 */
NTSTATUS acl_create_store(struct acl_ctx *ctx, int fd, bool is_dir);

/*
 * QUERY_INFO SECURITY (worker): the stored descriptor, or the one the
 * unix ownership and mode stand for (sec_desc.h), as an nt_sd.
 */
NTSTATUS acl_query(TALLOC_CTX *mem_ctx, struct acl_ctx *ctx, int fd,
		   bool is_dir, struct nt_sd **sd);

/*
 * SET_INFO SECURITY (worker): parse buf (NT_STATUS_INVALID_SECURITY_DESCR
 * if malformed), replace the parts secinfo selects in the current
 * descriptor (stored or derived from the mode), store.  An owner other
 * than the user's own SID needs root (NT_STATUS_INVALID_OWNER).  With
 * NT_SECINFO_DACL and no DACL_PRESENT in buf, the result is a NULL DACL,
 * as on Windows.  The caller checked WRITE_OWNER / WRITE_DAC.
 */
NTSTATUS acl_set(struct acl_ctx *ctx, int fd, bool is_dir, const uint8_t *buf,
		 size_t len, uint32_t secinfo);

#endif
