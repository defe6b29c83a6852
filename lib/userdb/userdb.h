/*
 * The user database: SMB accounts with their NT hash, in a tdb file
 * (by default <private dir>/passdb.tdb, see struct smb_conf_global).
 *
 * An account name is matched case-insensitively (ASCII letters): the tdb
 * key is "USER/" plus the lower-cased name, and the record keeps the name
 * as first written.  The password itself is never stored, only its NT hash
 * ([MS-NLMP] 3.3.1 NTOWFv1), which is what NTLM authentication needs.  The
 * record encoding is versioned and defined in userdb_record.h.
 *
 * The tdb does its own locking, so smbd processes may read while the
 * smbuser tool writes.
 *
 *   struct userdb *db;
 *   NTSTATUS status = userdb_open(mem_ctx, conf->global.passdb_path,
 *                                 false, &db);
 *   struct userdb_entry *e;
 *   status = userdb_get(db, mem_ctx, "Alice", &e);
 *   if (NT_STATUS_IS_OK(status) && !e->disabled) { use e->nt_hash; }
 *   talloc_free(e);
 *   talloc_free(db);      (closes the tdb)
 */
#ifndef LIB_USERDB_USERDB_H
#define LIB_USERDB_USERDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

/* Longest account / unix user name in bytes (UTF-8). */
#define USERDB_NAME_MAX 256

struct userdb;

struct userdb_entry {
	/* The SMB account name as it was added (case preserved). */
	char *account;
	/* The unix user whose identity file access runs with. */
	char *unix_user;
	/* NTOWFv1 of the password. */
	uint8_t nt_hash[16];
	/* A disabled account cannot log on (NT_STATUS_ACCOUNT_DISABLED). */
	bool disabled;
	/* When the password was last set (seconds since the epoch). */
	time_t pwd_last_set;
};

/*
 * Open the database at path.  With create, a missing file is created with
 * mode 0600 (and missing parent directories with mode 0700); without it,
 * a missing file gives NT_STATUS_OBJECT_NAME_NOT_FOUND.  If the file
 * cannot be opened for writing it is opened read-only (writes then fail
 * with NT_STATUS_ACCESS_DENIED).  *out is a talloc child of mem_ctx;
 * freeing it closes the file.
 */
NTSTATUS userdb_open(TALLOC_CTX *mem_ctx, const char *path, bool create,
		     struct userdb **out);

/*
 * The same records in a dbwrap database instead of a tdb file: in a
 * cluster, the persistent replicated "passdb" (smbd/smbd_userdb.h).
 * Takes db over (talloc_steal to *out).  Changes are one-record
 * transactions, redone up to 100 times when another node committed first.
 */
struct db_context;
NTSTATUS userdb_open_db(TALLOC_CTX *mem_ctx, struct db_context *db,
			struct userdb **out);

/* Look account up.  *out is allocated on mem_ctx (which may be NULL: then
 * the caller frees it).  NT_STATUS_NO_SUCH_USER if absent,
 * NT_STATUS_INTERNAL_DB_CORRUPTION if the record cannot be decoded (for
 * example an unknown record version). */
NTSTATUS userdb_get(struct userdb *db, TALLOC_CTX *mem_ctx,
		    const char *account, struct userdb_entry **out);

/* Add an account with the given NT hash, enabled, password set now.
 * NT_STATUS_USER_EXISTS if the (case-insensitive) name is taken,
 * NT_STATUS_INVALID_PARAMETER for an invalid account or unix user name
 * (see userdb_check_name). */
NTSTATUS userdb_add(struct userdb *db, const char *account,
		    const char *unix_user, const uint8_t nt_hash[16]);

/* Replace the NT hash and set pwd_last_set to now.  NT_STATUS_NO_SUCH_USER
 * if absent. */
NTSTATUS userdb_set_nt_hash(struct userdb *db, const char *account,
			    const uint8_t nt_hash[16]);

/* The same from a password (UTF-8): hashed here, never stored.
 * NT_STATUS_INVALID_PARAMETER if the password is not valid UTF-8 or
 * longer than 256 characters. */
NTSTATUS userdb_set_password(struct userdb *db, const char *account,
			     const char *password);

NTSTATUS userdb_set_disabled(struct userdb *db, const char *account,
			     bool disabled);

/* NT_STATUS_NO_SUCH_USER if absent. */
NTSTATUS userdb_delete(struct userdb *db, const char *account);

/* Every account, sorted by lower-cased name.  *entries is a talloc array
 * on mem_ctx (its elements are its children); *count its length. */
NTSTATUS userdb_list(struct userdb *db, TALLOC_CTX *mem_ctx,
		     struct userdb_entry ***entries, size_t *count);

/* NULL if name is acceptable as an account name, else why not (a static
 * string).  Accepted: 1..USERDB_NAME_MAX bytes of UTF-8 without control
 * characters and without the characters Windows forbids in user names
 * (" / \ [ ] : ; | = , + * ? < > @). */
const char *userdb_check_name(const char *name);

#endif
