/* Unit tests for the user database (lib/userdb). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tdb.h>
#include <unistd.h>

#include "dbwrap/dbwrap.h"
#include "lib/crypto/nt_hash.h"
#include "lib/userdb/userdb.h"
#include "lib/userdb/userdb_record.h"

static char *tmpdir;

/* [MS-NLMP] 4.2.1 (common values) and 4.2.2.1.2: NTOWFv1("Password"). */
static const uint8_t password_nt_hash[16] = {
	0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca,
	0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f, 0xd8, 0x52,
};

static void test_nt_hash_vector(void **state)
{
	uint8_t hash[16];

	assert_true(nt_hash_from_password("Password", hash));
	assert_memory_equal(hash, password_nt_hash, 16);
}

static char *db_path(TALLOC_CTX *ctx, const char *name)
{
	return talloc_asprintf(ctx, "%s/%s", tmpdir, name);
}

static void test_open_create_modes(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char *dir = db_path(ctx, "sub/private");
	char *path = talloc_asprintf(ctx, "%s/passdb.tdb", dir);
	struct userdb *db = NULL;
	struct stat sb;
	NTSTATUS status;

	status = userdb_open(ctx, path, false, &db);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND));
	assert_null(db);

	status = userdb_open(ctx, path, true, &db);
	assert_true(NT_STATUS_IS_OK(status));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	talloc_free(db);

	/* Reopen without create now works. */
	status = userdb_open(ctx, path, false, &db);
	assert_true(NT_STATUS_IS_OK(status));
	talloc_free(db);
	unlink(path);
	rmdir(dir);
	rmdir(db_path(ctx, "sub"));
	talloc_free(ctx);
}

static void test_round_trip(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char *path = db_path(ctx, "rt.tdb");
	struct userdb *db = NULL;
	struct userdb_entry *e = NULL;
	struct userdb_entry **list = NULL;
	uint8_t other[16];
	size_t n = 0;
	time_t before = time(NULL);
	NTSTATUS status;

	assert_true(NT_STATUS_IS_OK(userdb_open(ctx, path, true, &db)));

	status = userdb_get(db, ctx, "alice", &e);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_NO_SUCH_USER));

	assert_true(NT_STATUS_IS_OK(
		userdb_add(db, "Alice", "alice", password_nt_hash)));
	status = userdb_add(db, "ALICE", "root", password_nt_hash);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_USER_EXISTS));
	assert_true(NT_STATUS_IS_OK(
		userdb_add(db, "bob", "nobody", password_nt_hash)));

	status = userdb_add(db, "bad/name", "x", password_nt_hash);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER));
	status = userdb_add(db, "", "x", password_nt_hash);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER));

	/* Case-insensitive lookup, case-preserving name. */
	assert_true(NT_STATUS_IS_OK(userdb_get(db, ctx, "aLiCe", &e)));
	assert_string_equal(e->account, "Alice");
	assert_string_equal(e->unix_user, "alice");
	assert_memory_equal(e->nt_hash, password_nt_hash, 16);
	assert_false(e->disabled);
	assert_true(e->pwd_last_set >= before);

	/* disable / enable */
	assert_true(NT_STATUS_IS_OK(userdb_set_disabled(db, "alice", true)));
	assert_true(NT_STATUS_IS_OK(userdb_get(db, ctx, "alice", &e)));
	assert_true(e->disabled);
	assert_memory_equal(e->nt_hash, password_nt_hash, 16);
	assert_true(NT_STATUS_IS_OK(userdb_set_disabled(db, "ALICE", false)));
	assert_true(NT_STATUS_IS_OK(userdb_get(db, ctx, "alice", &e)));
	assert_false(e->disabled);

	/* passwd */
	assert_true(nt_hash_from_password("other secret", other));
	assert_true(NT_STATUS_IS_OK(
		userdb_set_password(db, "alice", "other secret")));
	assert_true(NT_STATUS_IS_OK(userdb_get(db, ctx, "alice", &e)));
	assert_memory_equal(e->nt_hash, other, 16);
	assert_string_equal(e->unix_user, "alice");
	assert_true(NT_STATUS_IS_OK(
		userdb_set_nt_hash(db, "alice", password_nt_hash)));
	assert_true(NT_STATUS_IS_OK(userdb_get(db, ctx, "alice", &e)));
	assert_memory_equal(e->nt_hash, password_nt_hash, 16);
	status = userdb_set_password(db, "carol", "x");
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_NO_SUCH_USER));
	status = userdb_set_disabled(db, "carol", true);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_NO_SUCH_USER));

	/* list, sorted */
	assert_true(NT_STATUS_IS_OK(userdb_list(db, ctx, &list, &n)));
	assert_int_equal(n, 2);
	assert_string_equal(list[0]->account, "Alice");
	assert_string_equal(list[1]->account, "bob");
	assert_string_equal(list[1]->unix_user, "nobody");

	/* delete */
	assert_true(NT_STATUS_IS_OK(userdb_delete(db, "ALICE")));
	status = userdb_delete(db, "alice");
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_NO_SUCH_USER));
	status = userdb_get(db, ctx, "alice", &e);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_NO_SUCH_USER));
	assert_true(NT_STATUS_IS_OK(userdb_list(db, ctx, &list, &n)));
	assert_int_equal(n, 1);

	/* Persisted: a new handle sees the same (tdb allows one open of a
	 * file per process, so close the first). */
	talloc_free(db);
	db = NULL;
	{
		struct userdb *db2 = NULL;

		assert_true(NT_STATUS_IS_OK(
			userdb_open(ctx, path, false, &db2)));
		assert_true(NT_STATUS_IS_OK(userdb_get(db2, ctx, "BOB", &e)));
		assert_string_equal(e->account, "bob");
		talloc_free(db2);
	}
	talloc_free(db);
	unlink(path);
	talloc_free(ctx);
}

static void test_record_encoding(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct userdb_entry in = {
		.account = "Alice",
		.unix_user = "al",
		.disabled = true,
		.pwd_last_set = 0x0102030405060708LL,
	};
	struct userdb_entry *out = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	static const uint8_t expect_head[36] = {
		0x01, 0, 0, 0,				/* version, reserved */
		0x01, 0, 0, 0,				/* flags: disabled */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* time */
		0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca, /* hash */
		0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f, 0xd8, 0x52,
		0x05, 0x00,				/* account length */
		0x02, 0x00,				/* unix user length */
	};

	memcpy(in.nt_hash, password_nt_hash, 16);
	assert_true(NT_STATUS_IS_OK(userdb_record_encode(ctx, &in, &buf, &len)));
	assert_int_equal(len, 36 + 5 + 2);
	assert_memory_equal(buf, expect_head, 36);
	assert_memory_equal(buf + 36, "Aliceal", 7);

	assert_true(NT_STATUS_IS_OK(userdb_record_decode(ctx, buf, len, &out)));
	assert_string_equal(out->account, "Alice");
	assert_string_equal(out->unix_user, "al");
	assert_true(out->disabled);
	assert_int_equal(out->pwd_last_set, 0x0102030405060708LL);
	assert_memory_equal(out->nt_hash, password_nt_hash, 16);

	/* Unknown version, unknown flag, wrong lengths: all refused. */
	buf[0] = 2;
	assert_true(NT_STATUS_EQUAL(userdb_record_decode(ctx, buf, len, &out),
				    NT_STATUS_INTERNAL_DB_CORRUPTION));
	buf[0] = 1;
	buf[4] = 0x03;
	assert_true(NT_STATUS_EQUAL(userdb_record_decode(ctx, buf, len, &out),
				    NT_STATUS_INTERNAL_DB_CORRUPTION));
	buf[4] = 0x01;
	assert_true(NT_STATUS_EQUAL(
		userdb_record_decode(ctx, buf, len - 1, &out),
		NT_STATUS_INTERNAL_DB_CORRUPTION));
	assert_true(NT_STATUS_EQUAL(userdb_record_decode(ctx, buf, 10, &out),
				    NT_STATUS_INTERNAL_DB_CORRUPTION));
	buf[32] = 0xff;
	assert_true(NT_STATUS_EQUAL(userdb_record_decode(ctx, buf, len, &out),
				    NT_STATUS_INTERNAL_DB_CORRUPTION));
	buf[32] = 5;
	buf[37] = 0; /* NUL inside the account name */
	assert_true(NT_STATUS_EQUAL(userdb_record_decode(ctx, buf, len, &out),
				    NT_STATUS_INTERNAL_DB_CORRUPTION));
	talloc_free(ctx);
}

/* A record written by a future version is rejected on lookup, not
 * misread. */
static void test_unknown_version_in_db(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char *path = db_path(ctx, "ver.tdb");
	struct userdb *db = NULL;
	struct userdb_entry *e = NULL;
	struct userdb_entry **list = NULL;
	struct tdb_context *tdb;
	TDB_DATA key, data;
	size_t n;
	NTSTATUS status;

	assert_true(NT_STATUS_IS_OK(userdb_open(ctx, path, true, &db)));
	assert_true(NT_STATUS_IS_OK(
		userdb_add(db, "future", "nobody", password_nt_hash)));
	talloc_free(db);

	tdb = tdb_open(path, 0, TDB_DEFAULT, O_RDWR, 0600);
	assert_non_null(tdb);
	key.dptr = (unsigned char *)"USER/future";
	key.dsize = strlen("USER/future");
	data = tdb_fetch(tdb, key);
	assert_non_null(data.dptr);
	data.dptr[0] = 99;
	assert_int_equal(tdb_store(tdb, key, data, TDB_REPLACE), 0);
	free(data.dptr);
	tdb_close(tdb);

	assert_true(NT_STATUS_IS_OK(userdb_open(ctx, path, false, &db)));
	status = userdb_get(db, ctx, "future", &e);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INTERNAL_DB_CORRUPTION));
	assert_null(e);
	status = userdb_list(db, ctx, &list, &n);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INTERNAL_DB_CORRUPTION));
	status = userdb_set_disabled(db, "future", true);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_INTERNAL_DB_CORRUPTION));
	talloc_free(db);
	unlink(path);
	talloc_free(ctx);
}

static void test_check_name(void **state)
{
	assert_null(userdb_check_name("alice"));
	assert_null(userdb_check_name("J\xc3\xbcrgen Smith"));
	assert_non_null(userdb_check_name(""));
	assert_non_null(userdb_check_name("a:b"));
	assert_non_null(userdb_check_name("a@b"));
	assert_non_null(userdb_check_name("a\nb"));
	assert_non_null(userdb_check_name(" lead"));
}

/*
 * The same operations on a dbwrap database (userdb_open_db, what a
 * cluster uses through the replicated backend): here a persistent local
 * tdb, so every change is dbwrap's one-record transaction.
 */
static void test_dbwrap_backed(void **state)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char *path = db_path(ctx, "dbwrap.tdb");
	struct db_context *ddb;
	struct userdb *db = NULL;
	struct userdb_entry *e = NULL;
	struct userdb_entry **list = NULL;
	uint8_t other[16];
	size_t n = 0;
	NTSTATUS status;

	ddb = db_open_tdb(ctx, NULL, path, 0, DBWRAP_FLAG_PERSISTENT);
	assert_non_null(ddb);
	assert_true(NT_STATUS_IS_OK(userdb_open_db(ctx, ddb, &db)));
	assert_true(talloc_parent(ddb) == db); /* taken over */

	status = userdb_get(db, ctx, "alice", &e);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_NO_SUCH_USER));
	assert_true(NT_STATUS_IS_OK(
		userdb_add(db, "Alice", "alice", password_nt_hash)));
	status = userdb_add(db, "ALICE", "root", password_nt_hash);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_USER_EXISTS));
	assert_true(NT_STATUS_IS_OK(
		userdb_add(db, "bob", "nobody", password_nt_hash)));

	assert_true(NT_STATUS_IS_OK(userdb_get(db, ctx, "aLiCe", &e)));
	assert_string_equal(e->account, "Alice");
	assert_string_equal(e->unix_user, "alice");
	assert_memory_equal(e->nt_hash, password_nt_hash, 16);
	assert_false(e->disabled);

	assert_true(NT_STATUS_IS_OK(userdb_set_disabled(db, "bob", true)));
	memset(other, 0x5a, sizeof(other));
	assert_true(NT_STATUS_IS_OK(userdb_set_nt_hash(db, "ALICE", other)));
	assert_true(NT_STATUS_IS_OK(userdb_get(db, ctx, "alice", &e)));
	assert_memory_equal(e->nt_hash, other, 16);
	assert_true(NT_STATUS_IS_OK(userdb_get(db, ctx, "bob", &e)));
	assert_true(e->disabled);
	status = userdb_set_disabled(db, "carol", true);
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_NO_SUCH_USER));

	assert_true(NT_STATUS_IS_OK(userdb_list(db, ctx, &list, &n)));
	assert_int_equal(n, 2);
	assert_string_equal(list[0]->account, "Alice");
	assert_string_equal(list[1]->account, "bob");

	assert_true(NT_STATUS_IS_OK(userdb_delete(db, "Bob")));
	status = userdb_delete(db, "bob");
	assert_true(NT_STATUS_EQUAL(status, NT_STATUS_NO_SUCH_USER));
	assert_true(NT_STATUS_IS_OK(userdb_list(db, ctx, &list, &n)));
	assert_int_equal(n, 1);

	/* the records are those of the tdb format: reopened, still there */
	talloc_free(db);
	ddb = db_open_tdb(ctx, NULL, path, 0, DBWRAP_FLAG_PERSISTENT);
	assert_non_null(ddb);
	assert_true(NT_STATUS_IS_OK(userdb_open_db(ctx, ddb, &db)));
	assert_true(NT_STATUS_IS_OK(userdb_get(db, ctx, "alice", &e)));
	assert_memory_equal(e->nt_hash, other, 16);
	talloc_free(db);
	unlink(path);
	unlink(talloc_asprintf(ctx, "%s.watch", path)); /* dbwrap's side db */
	talloc_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nt_hash_vector),
		cmocka_unit_test(test_open_create_modes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_dbwrap_backed),
		cmocka_unit_test(test_record_encoding),
		cmocka_unit_test(test_unknown_version_in_db),
		cmocka_unit_test(test_check_name),
	};
	char template[] = "/tmp/userdb_test.XXXXXX";
	int rc;

	tmpdir = mkdtemp(template);
	if (tmpdir == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(tmpdir);
	return rc;
}
