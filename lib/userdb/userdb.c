/*
 * The user database on tdb.  Keys are "USER/" + lower-cased account name;
 * values are userdb_record.c encodings.  Read-modify-write sequences hold
 * the tdb chain lock of their key, so two writers cannot lose each other's
 * update.
 *
 * In a cluster the same records live in a persistent replicated database
 * (userdb_open_db): every change is a one-record transaction of the
 * clustered backend, redone when another node committed first
 * (NT_STATUS_RETRY), so two nodes cannot lose each other's update either.
 */
#include "lib/userdb/userdb.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tdb.h>
#include <unistd.h>

#include "dbwrap/dbwrap.h"
#include "lib/crypto/nt_hash.h"
#include "lib/userdb/userdb_record.h"
#include "lib/util/debug.h"

#define USERDB_KEY_PREFIX "USER/"

struct userdb {
	struct tdb_context *tdb;
	char *path;
	bool read_only;
	/* userdb_open_db: the records are in this dbwrap database (the
	 * replicated "passdb" in a cluster), tdb is NULL. */
	struct db_context *db;
};

/* A change redone this often after NT_STATUS_RETRY means other nodes won
 * every race: give up (logged) rather than loop. */
#define USERDB_MAX_RETRIES 100

static int userdb_destructor(struct userdb *db)
{
	if (db->tdb != NULL) {
		tdb_close(db->tdb);
		db->tdb = NULL;
	}
	return 0;
}

static NTSTATUS status_from_tdb(struct tdb_context *tdb)
{
	switch (tdb_error(tdb)) {
	case TDB_SUCCESS:
		return NT_STATUS_OK;
	case TDB_ERR_OOM:
		return NT_STATUS_NO_MEMORY;
	case TDB_ERR_NOEXIST:
		return NT_STATUS_NO_SUCH_USER;
	case TDB_ERR_EXISTS:
		return NT_STATUS_USER_EXISTS;
	case TDB_ERR_RDONLY:
		return NT_STATUS_ACCESS_DENIED;
	case TDB_ERR_CORRUPT:
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	default:
		return NT_STATUS_UNEXPECTED_IO_ERROR;
	}
}

/* mkdir -p for the directories above path, each new one mode 0700: the
 * database holds password hashes. */
static NTSTATUS make_parent_dirs(const char *path)
{
	char *copy = strdup(path);
	char *p;
	NTSTATUS status = NT_STATUS_OK;

	if (copy == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (p = copy + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(copy, 0700) == 0) {
			/* Exactly 0700 whatever the umask. */
			(void)chmod(copy, 0700);
		} else if (errno != EEXIST) {
			DBG_ERR("mkdir %s: %s\n", copy, strerror(errno));
			status = map_nt_error_from_unix(errno);
			break;
		}
		*p = '/';
	}
	free(copy);
	return status;
}

NTSTATUS userdb_open(TALLOC_CTX *mem_ctx, const char *path, bool create,
		     struct userdb **out)
{
	struct userdb *db;
	struct stat sb;
	bool existed;
	int flags = O_RDWR | O_CLOEXEC;

	*out = NULL;
	if (path == NULL || path[0] == '\0') {
		return NT_STATUS_INVALID_PARAMETER;
	}
	existed = stat(path, &sb) == 0;
	if (!existed && !create) {
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (!existed) {
		NT_STATUS_NOT_OK_RETURN(make_parent_dirs(path));
		flags |= O_CREAT;
	}
	db = talloc_zero(mem_ctx, struct userdb);
	if (db == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	db->path = talloc_strdup(db, path);
	if (db->path == NULL) {
		talloc_free(db);
		return NT_STATUS_NO_MEMORY;
	}
	talloc_set_destructor(db, userdb_destructor);
	db->tdb = tdb_open(path, 0, TDB_DEFAULT, flags, 0600);
	if (db->tdb == NULL && existed && (errno == EACCES || errno == EROFS)) {
		/* Reading is enough for a caller that only looks users up. */
		db->tdb = tdb_open(path, 0, TDB_DEFAULT, O_RDONLY | O_CLOEXEC,
				   0600);
		db->read_only = db->tdb != NULL;
	}
	if (db->tdb == NULL) {
		int err = errno;

		DBG_ERR("cannot open user database %s: %s\n", path,
			strerror(err));
		talloc_free(db);
		return err == ENOENT ? NT_STATUS_OBJECT_NAME_NOT_FOUND
				     : map_nt_error_from_unix(err);
	}
	if (!existed && fchmod(tdb_fd(db->tdb), 0600) != 0) {
		DBG_WARNING("chmod 0600 %s: %s\n", path, strerror(errno));
	}
	*out = db;
	return NT_STATUS_OK;
}

NTSTATUS userdb_open_db(TALLOC_CTX *mem_ctx, struct db_context *ddb,
			struct userdb **out)
{
	struct userdb *db;

	*out = NULL;
	if (ddb == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	db = talloc_zero(mem_ctx, struct userdb);
	if (db == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	db->path = talloc_strdup(db, dbwrap_name(ddb));
	if (db->path == NULL) {
		talloc_free(db);
		return NT_STATUS_NO_MEMORY;
	}
	db->db = talloc_steal(db, ddb);
	*out = db;
	return NT_STATUS_OK;
}

const char *userdb_check_name(const char *name)
{
	size_t i, len;

	if (name == NULL || name[0] == '\0') {
		return "the name is empty";
	}
	len = strlen(name);
	if (len > USERDB_NAME_MAX) {
		return "the name is longer than 256 bytes";
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f) {
			return "the name contains a control character";
		}
		if (strchr("\"/\\[]:;|=,+*?<>@", c) != NULL) {
			return "the name contains one of \" / \\ [ ] : ; | = "
			       ", + * ? < > @";
		}
	}
	if (name[0] == ' ' || name[len - 1] == ' ') {
		return "the name starts or ends with a space";
	}
	return NULL;
}

/* The tdb key for account; the data is a talloc child of mem_ctx. */
static bool make_key(TALLOC_CTX *mem_ctx, const char *account, TDB_DATA *key)
{
	char *k = talloc_asprintf(mem_ctx, USERDB_KEY_PREFIX "%s", account);
	char *c;

	if (k == NULL) {
		return false;
	}
	for (c = k + strlen(USERDB_KEY_PREFIX); *c != '\0'; c++) {
		*c = (char)tolower((unsigned char)*c);
	}
	key->dptr = (unsigned char *)k;
	key->dsize = strlen(k);
	return true;
}

/* Fetch and decode under the caller's locking choice. */
static NTSTATUS fetch_entry(struct userdb *db, TALLOC_CTX *mem_ctx,
			    TDB_DATA key, struct userdb_entry **out)
{
	TDB_DATA data;
	NTSTATUS status;

	if (db->db != NULL) {
		struct db_data v = {0};

		status = dbwrap_fetch(db->db, NULL, db_data_make(key.dptr,
								  key.dsize),
				      &v);
		if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
			return NT_STATUS_NO_SUCH_USER;
		}
		NT_STATUS_NOT_OK_RETURN(status);
		status = userdb_record_decode(mem_ctx, v.dptr, v.dsize, out);
		talloc_free(v.dptr);
		return status;
	}
	data = tdb_fetch(db->tdb, key);
	if (data.dptr == NULL) {
		if (tdb_error(db->tdb) == TDB_ERR_NOEXIST) {
			return NT_STATUS_NO_SUCH_USER;
		}
		return status_from_tdb(db->tdb);
	}
	status = userdb_record_decode(mem_ctx, data.dptr, data.dsize, out);
	free(data.dptr);
	if (NT_STATUS_EQUAL(status, NT_STATUS_INTERNAL_DB_CORRUPTION)) {
		DBG_ERR("%s: record %.*s cannot be decoded (unknown version "
			"or damaged)\n",
			db->path, (int)key.dsize, (const char *)key.dptr);
	}
	return status;
}

static NTSTATUS store_entry(struct userdb *db, TDB_DATA key,
			    const struct userdb_entry *e, int flag)
{
	TALLOC_CTX *frame = talloc_new(NULL);
	TDB_DATA data;
	uint8_t *buf = NULL;
	size_t len = 0;
	NTSTATUS status;

	if (frame == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (db->read_only) {
		talloc_free(frame);
		return NT_STATUS_ACCESS_DENIED;
	}
	status = userdb_record_encode(frame, e, &buf, &len);
	if (NT_STATUS_IS_OK(status)) {
		data.dptr = buf;
		data.dsize = len;
		if (tdb_store(db->tdb, key, data, flag) != 0) {
			status = status_from_tdb(db->tdb);
		}
	}
	talloc_free(frame);
	return status;
}

enum db_update_op { DB_ADD, DB_MODIFY, DB_DELETE };

/*
 * One change of key in the dbwrap database (userdb_open_db): fetch_locked
 * + store/delete, a transaction of its own on a persistent database,
 * redone while the clustered backend says another node committed first.
 * DB_ADD stores *add unless the key exists; DB_MODIFY lets change() edit
 * the existing entry.
 */
static NTSTATUS db_update(struct userdb *db, TDB_DATA key,
			  enum db_update_op op, const struct userdb_entry *add,
			  void (*change)(struct userdb_entry *e,
					 const void *arg),
			  const void *arg)
{
	struct db_data k = db_data_make(key.dptr, key.dsize);

	for (int i = 0; i < USERDB_MAX_RETRIES; i++) {
		TALLOC_CTX *frame = talloc_new(NULL);
		struct db_record *rec;
		struct db_data v;
		struct userdb_entry *e = NULL;
		uint8_t *buf = NULL;
		size_t len = 0;
		NTSTATUS status;

		if (frame == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		rec = dbwrap_fetch_locked(db->db, frame, k);
		if (rec == NULL) {
			talloc_free(frame);
			return NT_STATUS_INTERNAL_DB_ERROR;
		}
		v = dbwrap_record_get_value(rec);
		if (op == DB_ADD) {
			status = v.dsize != 0
					 ? NT_STATUS_USER_EXISTS
					 : userdb_record_encode(frame, add,
								&buf, &len);
		} else if (v.dsize == 0) {
			status = NT_STATUS_NO_SUCH_USER;
		} else if (op == DB_DELETE) {
			status = dbwrap_record_delete(rec);
		} else {
			status = userdb_record_decode(frame, v.dptr, v.dsize,
						      &e);
			if (NT_STATUS_IS_OK(status)) {
				change(e, arg);
				status = userdb_record_encode(frame, e, &buf,
							      &len);
				memset(e->nt_hash, 0, sizeof(e->nt_hash));
			}
		}
		if (NT_STATUS_IS_OK(status) && buf != NULL) {
			status = dbwrap_record_store(rec,
						     db_data_make(buf, len));
			memset(buf, 0, len); /* it holds the NT hash */
		}
		talloc_free(frame);
		if (!NT_STATUS_EQUAL(status, NT_STATUS_RETRY)) {
			return status;
		}
	}
	DBG_ERR("%s: gave up on %.*s after %d conflicts with other nodes\n",
		db->path, (int)key.dsize, (const char *)key.dptr,
		USERDB_MAX_RETRIES);
	return NT_STATUS_RETRY;
}

NTSTATUS userdb_get(struct userdb *db, TALLOC_CTX *mem_ctx,
		    const char *account, struct userdb_entry **out)
{
	TDB_DATA key;
	NTSTATUS status;

	*out = NULL;
	if (userdb_check_name(account) != NULL) {
		/* A name that can never have been added: no such user. */
		return NT_STATUS_NO_SUCH_USER;
	}
	if (!make_key(NULL, account, &key)) {
		return NT_STATUS_NO_MEMORY;
	}
	status = fetch_entry(db, mem_ctx, key, out);
	talloc_free(key.dptr);
	return status;
}

NTSTATUS userdb_add(struct userdb *db, const char *account,
		    const char *unix_user, const uint8_t nt_hash[16])
{
	struct userdb_entry e = {
		.account = (char *)account,
		.unix_user = (char *)unix_user,
		.disabled = false,
		.pwd_last_set = time(NULL),
	};
	TDB_DATA key;
	NTSTATUS status;

	if (userdb_check_name(account) != NULL ||
	    userdb_check_name(unix_user) != NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	memcpy(e.nt_hash, nt_hash, 16);
	if (!make_key(NULL, account, &key)) {
		return NT_STATUS_NO_MEMORY;
	}
	/* TDB_INSERT fails atomically if the key exists. */
	status = db->db != NULL ? db_update(db, key, DB_ADD, &e, NULL, NULL)
				: store_entry(db, key, &e, TDB_INSERT);
	talloc_free(key.dptr);
	memset(e.nt_hash, 0, sizeof(e.nt_hash));
	return status;
}

/* Fetch, let change() modify, store back: all under the record lock. */
static NTSTATUS modify_entry(struct userdb *db, const char *account,
			     void (*change)(struct userdb_entry *e,
					    const void *arg),
			     const void *arg)
{
	struct userdb_entry *e = NULL;
	TDB_DATA key;
	NTSTATUS status;

	if (userdb_check_name(account) != NULL) {
		return NT_STATUS_NO_SUCH_USER;
	}
	if (db->read_only) {
		return NT_STATUS_ACCESS_DENIED;
	}
	if (!make_key(NULL, account, &key)) {
		return NT_STATUS_NO_MEMORY;
	}
	if (db->db != NULL) {
		status = db_update(db, key, DB_MODIFY, NULL, change, arg);
		talloc_free(key.dptr);
		return status;
	}
	if (tdb_chainlock(db->tdb, key) != 0) {
		status = status_from_tdb(db->tdb);
		talloc_free(key.dptr);
		return status;
	}
	status = fetch_entry(db, key.dptr, key, &e);
	if (NT_STATUS_IS_OK(status)) {
		change(e, arg);
		status = store_entry(db, key, e, TDB_MODIFY);
		memset(e->nt_hash, 0, sizeof(e->nt_hash));
	}
	tdb_chainunlock(db->tdb, key);
	talloc_free(key.dptr);
	return status;
}

static void change_hash(struct userdb_entry *e, const void *arg)
{
	memcpy(e->nt_hash, arg, 16);
	e->pwd_last_set = time(NULL);
}

NTSTATUS userdb_set_nt_hash(struct userdb *db, const char *account,
			    const uint8_t nt_hash[16])
{
	return modify_entry(db, account, change_hash, nt_hash);
}

NTSTATUS userdb_set_password(struct userdb *db, const char *account,
			     const char *password)
{
	uint8_t hash[16];
	NTSTATUS status;

	if (password == NULL || !nt_hash_from_password(password, hash)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	status = userdb_set_nt_hash(db, account, hash);
	memset(hash, 0, sizeof(hash));
	return status;
}

static void change_disabled(struct userdb_entry *e, const void *arg)
{
	e->disabled = *(const bool *)arg;
}

NTSTATUS userdb_set_disabled(struct userdb *db, const char *account,
			     bool disabled)
{
	return modify_entry(db, account, change_disabled, &disabled);
}

NTSTATUS userdb_delete(struct userdb *db, const char *account)
{
	TDB_DATA key;
	NTSTATUS status = NT_STATUS_OK;

	if (userdb_check_name(account) != NULL) {
		return NT_STATUS_NO_SUCH_USER;
	}
	if (db->read_only) {
		return NT_STATUS_ACCESS_DENIED;
	}
	if (!make_key(NULL, account, &key)) {
		return NT_STATUS_NO_MEMORY;
	}
	if (db->db != NULL) {
		status = db_update(db, key, DB_DELETE, NULL, NULL, NULL);
	} else if (tdb_delete(db->tdb, key) != 0) {
		status = tdb_error(db->tdb) == TDB_ERR_NOEXIST
				 ? NT_STATUS_NO_SUCH_USER
				 : status_from_tdb(db->tdb);
	}
	talloc_free(key.dptr);
	return status;
}

struct list_state {
	struct userdb *db;
	TALLOC_CTX *mem_ctx;
	struct userdb_entry **entries;
	size_t count;
	NTSTATUS status;
};

static int list_one(struct tdb_context *tdb, TDB_DATA key, TDB_DATA data,
		    void *private_data)
{
	struct list_state *st = private_data;
	size_t plen = strlen(USERDB_KEY_PREFIX);
	struct userdb_entry *e = NULL;
	struct userdb_entry **grown;
	NTSTATUS status;

	if (key.dsize < plen || memcmp(key.dptr, USERDB_KEY_PREFIX, plen) != 0) {
		return 0; /* not a user record */
	}
	status = userdb_record_decode(st->mem_ctx, data.dptr, data.dsize, &e);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("%s: record %.*s cannot be decoded: %s\n",
			st->db->path, (int)key.dsize, (const char *)key.dptr,
			nt_errstr(status));
		st->status = status;
		return -1;
	}
	grown = talloc_realloc(st->mem_ctx, st->entries,
			       struct userdb_entry *, st->count + 1);
	if (grown == NULL) {
		talloc_free(e);
		st->status = NT_STATUS_NO_MEMORY;
		return -1;
	}
	st->entries = grown;
	st->entries[st->count++] = talloc_steal(st->entries, e);
	return 0;
}

static int list_one_db(struct db_record *rec, void *private_data)
{
	struct db_data k = dbwrap_record_get_key(rec);
	struct db_data v = dbwrap_record_get_value(rec);
	TDB_DATA key = {.dptr = k.dptr, .dsize = k.dsize};
	TDB_DATA data = {.dptr = v.dptr, .dsize = v.dsize};

	return list_one(NULL, key, data, private_data);
}

static int compare_entries(const void *a, const void *b)
{
	const struct userdb_entry *ea = *(struct userdb_entry *const *)a;
	const struct userdb_entry *eb = *(struct userdb_entry *const *)b;

	return strcasecmp(ea->account, eb->account);
}

NTSTATUS userdb_list(struct userdb *db, TALLOC_CTX *mem_ctx,
		     struct userdb_entry ***entries, size_t *count)
{
	struct list_state st = {
		.db = db,
		.status = NT_STATUS_OK,
	};

	*entries = NULL;
	*count = 0;
	st.mem_ctx = talloc_new(NULL);
	if (st.mem_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (db->db != NULL) {
		NTSTATUS status = dbwrap_traverse_read(db->db, list_one_db, &st,
						       NULL);
		if (!NT_STATUS_IS_OK(status) && NT_STATUS_IS_OK(st.status)) {
			st.status = status;
		}
	} else if (tdb_traverse_read(db->tdb, list_one, &st) < 0 &&
		   NT_STATUS_IS_OK(st.status)) {
		st.status = status_from_tdb(db->tdb);
	}
	if (!NT_STATUS_IS_OK(st.status)) {
		talloc_free(st.mem_ctx);
		return st.status;
	}
	if (st.count == 0) {
		st.entries = talloc_array(st.mem_ctx, struct userdb_entry *, 0);
		if (st.entries == NULL) {
			talloc_free(st.mem_ctx);
			return NT_STATUS_NO_MEMORY;
		}
	}
	qsort(st.entries, st.count, sizeof(st.entries[0]), compare_entries);
	*entries = talloc_steal(mem_ctx, st.entries);
	*count = st.count;
	talloc_free(st.mem_ctx);
	return NT_STATUS_OK;
}
