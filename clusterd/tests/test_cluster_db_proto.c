/*
 * Unit tests: the encodings of replicated databases
 * (dbwrap/dbwrap_cluster_proto.h): round trips, every truncation, a
 * trailing byte, bad names, ops and sizes, corrupt stored values; the
 * persistent ops, TXN with its limits, SYNC_DATA v2; VACUUM and its
 * application to a replica (clusterd/cluster_db_vacuum.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <unistd.h>

#include "clusterd/cluster_db_vacuum.h"
#include "dbwrap/dbwrap_cluster_proto.h"
#include "lib/util/marshall.h"

static void test_names(void **state)
{
	char longname[CLDB_MAX_NAME + 2];

	assert_true(cldb_name_ok("locking"));
	assert_true(cldb_name_ok("smbXsrv_open_global.tdb-1_x"));
	assert_false(cldb_name_ok(NULL));
	assert_false(cldb_name_ok(""));
	assert_false(cldb_name_ok(".hidden"));
	assert_false(cldb_name_ok("../etc"));
	assert_false(cldb_name_ok("a/b"));
	assert_false(cldb_name_ok("a b"));
	assert_false(cldb_name_ok("a\n"));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(cldb_name_ok(longname));
	longname[CLDB_MAX_NAME] = '\0';
	assert_true(cldb_name_ok(longname));
}

static void test_request(void **state)
{
	struct cldb_request r = {
		.op = CLDB_OP_STORE,
		.db = "test",
		.key = db_data_string("key"),
		.seq = 42,
		.value = db_data_string("value"),
	};
	struct cldb_request got;
	uint8_t *buf = NULL, *longer;
	size_t len = 0;
	TALLOC_CTX *mem = talloc_new(NULL);

	assert_true(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	assert_int_equal(cldb_frame_len(buf, CLDB_MAX_FRAME), len - 4);
	assert_true(NT_STATUS_IS_OK(
		cldb_request_pull(mem, buf + 4, len - 4, &got)));
	assert_int_equal(got.op, CLDB_OP_STORE);
	assert_string_equal(got.db, "test");
	assert_int_equal(got.seq, 42);
	assert_int_equal(got.key.dsize, 3);
	assert_memory_equal(got.key.dptr, "key", 3);
	assert_int_equal(got.value.dsize, 5);
	assert_memory_equal(got.value.dptr, "value", 5);
	for (size_t l = 0; l < len - 4; l++) {
		assert_false(NT_STATUS_IS_OK(
			cldb_request_pull(mem, buf + 4, l, &got)));
	}
	longer = talloc_size(mem, len + 1);
	memcpy(longer, buf, len);
	longer[len] = 0;
	assert_false(NT_STATUS_IS_OK(
		cldb_request_pull(mem, longer + 4, len - 3, &got)));

	/* refused when pushing: bad name, empty key, value on ATTACH */
	r.db = "../x";
	assert_false(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	r.db = "test";
	r.key = db_data_make(NULL, 0);
	assert_false(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	r.op = CLDB_OP_ATTACH;
	assert_false(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	r.value = db_data_make(NULL, 0);
	assert_true(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	/* a DELETE carrying a value is refused */
	r.op = CLDB_OP_DELETE;
	r.key = db_data_string("k");
	r.value = db_data_string("v");
	assert_false(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	talloc_free(mem);
}

/* A hand-made request with a bad op or an oversized key: pull refuses. */
static void test_request_hostile(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cldb_request got;
	struct marshall_push *p;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint8_t *bigkey = talloc_zero_size(mem, CLDB_MAX_KEY + 1);

	p = marshall_push_init(mem, REC_CLUSTERD_DB_REQ, 1);
	marshall_push_u32(p, 7);
	marshall_push_string(p, "test");
	marshall_push_blob(p, "k", 1);
	marshall_push_u64(p, 0);
	marshall_push_blob(p, NULL, 0);
	assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(cldb_request_pull(mem, buf, len, &got)));

	p = marshall_push_init(mem, REC_CLUSTERD_DB_REQ, 1);
	marshall_push_u32(p, CLDB_OP_STORE);
	marshall_push_string(p, "test");
	marshall_push_blob(p, bigkey, CLDB_MAX_KEY + 1);
	marshall_push_u64(p, 0);
	marshall_push_blob(p, NULL, 0);
	assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(cldb_request_pull(mem, buf, len, &got)));

	/* a response where a request is expected */
	{
		struct cldb_response r = {.status = NT_STATUS_OK};
		assert_true(NT_STATUS_IS_OK(
			cldb_response_push(mem, &r, &buf, &len)));
		assert_false(NT_STATUS_IS_OK(
			cldb_request_pull(mem, buf + 4, len - 4, &got)));
	}
	talloc_free(mem);
}

static void test_response(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cldb_response r = {.status = NT_STATUS_RETRY,
				  .seq = 7,
				  .path = "/var/lib/x.tdb"};
	struct cldb_response got;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_true(NT_STATUS_IS_OK(cldb_response_push(mem, &r, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(
		cldb_response_pull(mem, buf + 4, len - 4, &got)));
	assert_true(NT_STATUS_EQUAL(got.status, NT_STATUS_RETRY));
	assert_int_equal(got.seq, 7);
	assert_string_equal(got.path, "/var/lib/x.tdb");
	for (size_t l = 0; l < len - 4; l++) {
		assert_false(NT_STATUS_IS_OK(
			cldb_response_pull(mem, buf + 4, l, &got)));
	}
	talloc_free(mem);
}

static void test_update(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cldb_update u = {
		.nodeid = 3,
		.reqid = 99,
		.req = {.op = CLDB_OP_DELETE,
			.db = "locking",
			.key = db_data_string("abc"),
			.seq = 5},
	};
	struct cldb_update got;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_true(NT_STATUS_IS_OK(cldb_update_push(mem, &u, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_update_pull(mem, buf, len, &got)));
	assert_int_equal(got.nodeid, 3);
	assert_int_equal(got.reqid, 99);
	assert_int_equal(got.req.op, CLDB_OP_DELETE);
	assert_string_equal(got.req.db, "locking");
	assert_int_equal(got.req.seq, 5);
	for (size_t l = 0; l < len; l++) {
		assert_false(NT_STATUS_IS_OK(
			cldb_update_pull(mem, buf, l, &got)));
	}
	/* ATTACH never travels */
	u.req.op = CLDB_OP_ATTACH;
	u.req.key = db_data_make(NULL, 0);
	assert_false(NT_STATUS_IS_OK(cldb_update_push(mem, &u, &buf, &len)));
	talloc_free(mem);
}

static void test_value(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cldb_value v = {.seq = 12, .value = db_data_string("hello")};
	struct cldb_value got;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_true(NT_STATUS_IS_OK(cldb_value_push(mem, &v, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_value_pull(buf, len, &got)));
	assert_int_equal(got.seq, 12);
	assert_false(got.deleted);
	assert_memory_equal(got.value.dptr, "hello", 5);
	for (size_t l = 0; l < len; l++) {
		assert_false(NT_STATUS_IS_OK(cldb_value_pull(buf, l, &got)));
	}
	/* a tombstone with a value, or seq 0, is corrupt */
	v.deleted = true;
	assert_true(NT_STATUS_IS_OK(cldb_value_push(mem, &v, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(cldb_value_pull(buf, len, &got)));
	v.value = db_data_make(NULL, 0);
	assert_true(NT_STATUS_IS_OK(cldb_value_push(mem, &v, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_value_pull(buf, len, &got)));
	assert_true(got.deleted);
	v.seq = 0;
	assert_true(NT_STATUS_IS_OK(cldb_value_push(mem, &v, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(cldb_value_pull(buf, len, &got)));
	/* the next change of UINT64_MAX would wrap to 0: corrupt too */
	v.seq = UINT64_MAX;
	assert_true(NT_STATUS_IS_OK(cldb_value_push(mem, &v, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(cldb_value_pull(buf, len, &got)));
	v.seq = UINT64_MAX - 1;
	assert_true(NT_STATUS_IS_OK(cldb_value_push(mem, &v, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_value_pull(buf, len, &got)));
	talloc_free(mem);
}

static void test_sync(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cldb_value v = {.seq = 3, .value = db_data_string("x")};
	struct cldb_sync_rec recs[2];
	struct cldb_sync m = {.nodeid = 2, .pid = 77, .nonce = 5, .db = "t",
			      .num_recs = 2, .recs = recs};
	struct cldb_sync got;
	uint8_t *stored = NULL, *buf = NULL;
	size_t slen = 0, len = 0;

	assert_true(NT_STATUS_IS_OK(cldb_value_push(mem, &v, &stored, &slen)));
	recs[0].key = db_data_string("a");
	recs[0].stored = db_data_make(stored, slen);
	recs[1].key = db_data_string("bb");
	recs[1].stored = db_data_make(stored, slen);
	assert_true(NT_STATUS_IS_OK(cldb_sync_push(
		mem, REC_CLUSTERD_DB_SYNC_DATA, &m, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_sync_pull(
		mem, REC_CLUSTERD_DB_SYNC_DATA, buf, len, &got)));
	assert_int_equal(got.nodeid, 2);
	assert_int_equal(got.pid, 77);
	assert_int_equal(got.nonce, 5);
	assert_string_equal(got.db, "t");
	assert_int_equal(got.num_recs, 2);
	assert_memory_equal(got.recs[1].key.dptr, "bb", 2);
	for (size_t l = 0; l < len; l++) {
		assert_false(NT_STATUS_IS_OK(cldb_sync_pull(
			mem, REC_CLUSTERD_DB_SYNC_DATA, buf, l, &got)));
	}
	/* as another type: refused */
	assert_false(NT_STATUS_IS_OK(cldb_sync_pull(
		mem, REC_CLUSTERD_DB_SYNC_DONE, buf, len, &got)));
	/* a stored value that is not a VALUE record */
	recs[1].stored = db_data_string("garbage!");
	assert_true(NT_STATUS_IS_OK(cldb_sync_push(
		mem, REC_CLUSTERD_DB_SYNC_DATA, &m, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(cldb_sync_pull(
		mem, REC_CLUSTERD_DB_SYNC_DATA, buf, len, &got)));
	/* REQ and DONE */
	assert_true(NT_STATUS_IS_OK(cldb_sync_push(
		mem, REC_CLUSTERD_DB_SYNC_REQ, &m, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_sync_pull(
		mem, REC_CLUSTERD_DB_SYNC_REQ, buf, len, &got)));
	assert_int_equal(got.nodeid, 2);
	assert_int_equal(got.nonce, 5);
	assert_true(NT_STATUS_IS_OK(cldb_sync_push(
		mem, REC_CLUSTERD_DB_SYNC_DONE, &m, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_sync_pull(
		mem, REC_CLUSTERD_DB_SYNC_DONE, buf, len, &got)));
	assert_int_equal(got.pid, 77);
	for (size_t l = 0; l < len; l++) {
		assert_false(NT_STATUS_IS_OK(cldb_sync_pull(
			mem, REC_CLUSTERD_DB_SYNC_DONE, buf, l, &got)));
	}
	/* a bad database name */
	m.db = "../x";
	assert_false(NT_STATUS_IS_OK(cldb_sync_push(
		mem, REC_CLUSTERD_DB_SYNC_DATA, &m, &buf, &len)));
	talloc_free(mem);
}

static void test_sync_state(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cldb_sync_state m = {.nodeid = 3, .view = 0x1122334455667788ULL,
				    .synced = true, .applied = 42,
				    .persisted = 7};
	struct marshall_push *p;
	struct cldb_sync_state got;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_true(NT_STATUS_IS_OK(cldb_sync_state_push(mem, &m, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_sync_state_pull(buf, len, &got)));
	assert_int_equal(got.nodeid, 3);
	assert_true(got.view == m.view);
	assert_true(got.synced);
	assert_int_equal(got.applied, 42);
	assert_int_equal(got.persisted, 7);
	for (size_t l = 0; l < len; l++) {
		assert_false(NT_STATUS_IS_OK(cldb_sync_state_pull(buf, l, &got)));
	}
	/* the bool is 0 or 1 (after the 4-byte header, a u32 and a u64) */
	buf[4 + 12] = 2;
	assert_false(NT_STATUS_IS_OK(cldb_sync_state_pull(buf, len, &got)));
	/* trailing bytes */
	m.synced = false;
	assert_true(NT_STATUS_IS_OK(cldb_sync_state_push(mem, &m, &buf, &len)));
	buf = talloc_realloc(mem, buf, uint8_t, len + 1);
	assert_non_null(buf);
	buf[len] = 0;
	assert_false(NT_STATUS_IS_OK(cldb_sync_state_pull(buf, len + 1, &got)));
	/* version 1 (no persisted): still read, as 0 */
	p = marshall_push_init(mem, REC_CLUSTERD_DB_SYNC_STATE, 1);
	marshall_push_u32(p, 3);
	marshall_push_u64(p, 9);
	marshall_push_bool(p, true);
	marshall_push_u64(p, 42);
	assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_sync_state_pull(buf, len, &got)));
	assert_int_equal(got.applied, 42);
	assert_int_equal(got.persisted, 0);
	talloc_free(mem);
}

/* Persistent databases: the ops of the client socket and of UPDATE. */
static void test_persistent_ops(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cldb_request r = {.op = CLDB_OP_ATTACH_PERSISTENT, .db = "p"};
	struct cldb_request got;
	struct cldb_update u = {.nodeid = 1, .reqid = 2};
	struct cldb_update ugot;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_true(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_request_pull(
		mem, buf + CLDB_FRAME_HDR, len - CLDB_FRAME_HDR, &got)));
	assert_int_equal(got.op, CLDB_OP_ATTACH_PERSISTENT);
	/* an attach has no key */
	r.key = db_data_string("k");
	assert_false(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	/* COMMIT: a value (the TXN), no key */
	r.op = CLDB_OP_COMMIT;
	r.value = db_data_string("txn");
	assert_false(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	r.key = db_data_make(NULL, 0);
	r.seq = 9;
	assert_true(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_request_pull(
		mem, buf + CLDB_FRAME_HDR, len - CLDB_FRAME_HDR, &got)));
	assert_int_equal(got.op, CLDB_OP_COMMIT);
	assert_int_equal(got.seq, 9);
	r.value = db_data_make(NULL, 0);
	assert_false(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	/* the reserved database-seq key cannot be stored by a client */
	r.op = CLDB_OP_STORE;
	r.key = db_data_make(CLDB_DBSEQ_KEY, CLDB_DBSEQ_KEY_LEN);
	assert_true(cldb_key_reserved(r.key));
	assert_false(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	r.op = CLDB_OP_DELETE;
	assert_false(NT_STATUS_IS_OK(cldb_request_push(mem, &r, &buf, &len)));
	/* COMMIT travels as UPDATE, an attach never does */
	u.req.op = CLDB_OP_COMMIT;
	u.req.db = "p";
	u.req.seq = 4;
	u.req.value = db_data_string("txn");
	assert_true(NT_STATUS_IS_OK(cldb_update_push(mem, &u, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_update_pull(mem, buf, len, &ugot)));
	assert_int_equal(ugot.req.op, CLDB_OP_COMMIT);
	assert_int_equal(ugot.req.seq, 4);
	u.req.op = CLDB_OP_ATTACH_PERSISTENT;
	u.req.value = db_data_make(NULL, 0);
	assert_false(NT_STATUS_IS_OK(cldb_update_push(mem, &u, &buf, &len)));
	talloc_free(mem);
}

/* TXN: a transaction's changes. */
static void test_txn(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cldb_txn_rec recs[3] = {
		{.op = CLDB_OP_STORE,
		 .key = db_data_string("a"),
		 .value = db_data_string("1")},
		{.op = CLDB_OP_DELETE, .key = db_data_string("bb")},
		{.op = CLDB_OP_STORE, .key = db_data_string("c")},
	};
	struct cldb_txn t = {.num_recs = 3, .recs = recs};
	struct cldb_txn got;
	struct cldb_txn_rec *many;
	uint8_t *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;

	assert_true(NT_STATUS_IS_OK(cldb_txn_push(mem, &t, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_txn_pull(mem, buf, len, &got)));
	assert_int_equal(got.num_recs, 3);
	assert_int_equal(got.recs[0].op, CLDB_OP_STORE);
	assert_memory_equal(got.recs[0].value.dptr, "1", 1);
	assert_int_equal(got.recs[1].op, CLDB_OP_DELETE);
	assert_memory_equal(got.recs[1].key.dptr, "bb", 2);
	assert_int_equal(got.recs[2].value.dsize, 0); /* an empty value */
	assert_true(NT_STATUS_IS_OK(cldb_txn_push(mem, &got, &buf2, &len2)));
	assert_int_equal(len2, len);
	assert_memory_equal(buf2, buf, len);
	for (size_t l = 0; l < len; l++) {
		assert_false(NT_STATUS_IS_OK(cldb_txn_pull(mem, buf, l, &got)));
	}
	buf = talloc_realloc(mem, buf, uint8_t, len + 1);
	assert_non_null(buf);
	buf[len] = 0;
	assert_false(NT_STATUS_IS_OK(cldb_txn_pull(mem, buf, len + 1, &got)));
	/* a count larger than the bytes present (after the 4-byte header) */
	assert_true(NT_STATUS_IS_OK(cldb_txn_push(mem, &t, &buf, &len)));
	buf[4] = 0xff;
	buf[5] = 0xff;
	assert_false(NT_STATUS_IS_OK(cldb_txn_pull(mem, buf, len, &got)));
	/* hostile changes, refused by push and, hand-made, by pull */
	recs[1].value = db_data_string("x"); /* a DELETE with a value */
	assert_false(NT_STATUS_IS_OK(cldb_txn_push(mem, &t, &buf, &len)));
	recs[1].value = db_data_make(NULL, 0);
	recs[1].op = 7;
	assert_false(NT_STATUS_IS_OK(cldb_txn_push(mem, &t, &buf, &len)));
	recs[1].op = CLDB_OP_DELETE;
	recs[1].key = db_data_make(CLDB_DBSEQ_KEY, CLDB_DBSEQ_KEY_LEN);
	assert_false(NT_STATUS_IS_OK(cldb_txn_push(mem, &t, &buf, &len)));
	recs[1].key = db_data_make(NULL, 0);
	assert_false(NT_STATUS_IS_OK(cldb_txn_push(mem, &t, &buf, &len)));
	{
		struct marshall_push *p =
			marshall_push_init(mem, REC_CLUSTERD_DB_TXN, 1);
		marshall_push_u32(p, 1);
		marshall_push_u32(p, CLDB_OP_STORE);
		marshall_push_blob(p, CLDB_DBSEQ_KEY, CLDB_DBSEQ_KEY_LEN);
		marshall_push_blob(p, "v", 1);
		assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
		assert_false(
			NT_STATUS_IS_OK(cldb_txn_pull(mem, buf, len, &got)));
	}
	/* limits: changes and bytes */
	many = talloc_zero_array(mem, struct cldb_txn_rec,
				 CLDB_TXN_MAX_RECS + 1);
	assert_non_null(many);
	for (uint32_t i = 0; i <= CLDB_TXN_MAX_RECS; i++) {
		many[i].op = CLDB_OP_DELETE;
		many[i].key = db_data_string("k");
	}
	t.recs = many;
	t.num_recs = CLDB_TXN_MAX_RECS;
	assert_true(NT_STATUS_IS_OK(cldb_txn_push(mem, &t, &buf, &len)));
	t.num_recs = CLDB_TXN_MAX_RECS + 1;
	assert_true(NT_STATUS_EQUAL(cldb_txn_push(mem, &t, &buf, &len),
				    NT_STATUS_INSUFFICIENT_RESOURCES));
	{
		uint8_t *big = talloc_zero_size(mem, 600000);
		assert_non_null(big);
		many[0].op = many[1].op = CLDB_OP_STORE;
		many[0].value = many[1].value = db_data_make(big, 600000);
		t.num_recs = 2;
		assert_true(NT_STATUS_EQUAL(cldb_txn_push(mem, &t, &buf, &len),
					    NT_STATUS_INSUFFICIENT_RESOURCES));
		t.num_recs = 1;
		assert_true(NT_STATUS_IS_OK(cldb_txn_push(mem, &t, &buf, &len)));
	}
	talloc_free(mem);
}

/* SYNC_DATA v2 carries the persistent flag; v1 is still read. */
static void test_sync_persistent(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cldb_sync m = {.nodeid = 0, .pid = 0, .nonce = 8, .db = "p",
			      .flags = CLDB_SYNC_PERSISTENT};
	struct cldb_sync got;
	struct marshall_push *p;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_true(NT_STATUS_IS_OK(cldb_sync_push(
		mem, REC_CLUSTERD_DB_SYNC_DATA, &m, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_sync_pull(
		mem, REC_CLUSTERD_DB_SYNC_DATA, buf, len, &got)));
	assert_int_equal(got.flags, CLDB_SYNC_PERSISTENT);
	/* unknown flags: refused both ways */
	m.flags = 0x2;
	assert_false(NT_STATUS_IS_OK(cldb_sync_push(
		mem, REC_CLUSTERD_DB_SYNC_DATA, &m, &buf, &len)));
	m.flags = CLDB_SYNC_PERSISTENT;
	assert_true(NT_STATUS_IS_OK(cldb_sync_push(
		mem, REC_CLUSTERD_DB_SYNC_DATA, &m, &buf, &len)));
	/* header 4, nodeid 4, pid 4, nonce 8, string "p" (u32 2 + 2): 26 */
	buf[26] = 0x2;
	assert_false(NT_STATUS_IS_OK(cldb_sync_pull(
		mem, REC_CLUSTERD_DB_SYNC_DATA, buf, len, &got)));
	/* version 1 (no flags): volatile */
	p = marshall_push_init(mem, REC_CLUSTERD_DB_SYNC_DATA, 1);
	marshall_push_u32(p, 0);
	marshall_push_u32(p, 0);
	marshall_push_u64(p, 8);
	marshall_push_string(p, "v");
	marshall_push_u32(p, 0);
	assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_sync_pull(
		mem, REC_CLUSTERD_DB_SYNC_DATA, buf, len, &got)));
	assert_int_equal(got.flags, 0);
	assert_string_equal(got.db, "v");
	talloc_free(mem);
}

/* VACUUM: round trip, truncations, hostile entries, limits. */
static void test_vacuum(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct cldb_vacuum_rec recs[2] = {
		{.key = db_data_string("a"), .seq = 3},
		{.key = db_data_string("bcd"), .seq = UINT64_MAX - 1},
	};
	struct cldb_vacuum v = {.nodeid = 7, .db = "locking", .num_recs = 2,
				.recs = recs};
	struct cldb_vacuum got;
	struct cldb_vacuum_rec *many;
	uint8_t *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;

	assert_true(NT_STATUS_IS_OK(cldb_vacuum_push(mem, &v, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_vacuum_pull(mem, buf, len, &got)));
	assert_int_equal(got.nodeid, 7);
	assert_string_equal(got.db, "locking");
	assert_int_equal(got.num_recs, 2);
	assert_int_equal(got.recs[0].key.dsize, 1);
	assert_memory_equal(got.recs[1].key.dptr, "bcd", 3);
	assert_true(got.recs[1].seq == UINT64_MAX - 1);
	assert_true(NT_STATUS_IS_OK(cldb_vacuum_push(mem, &got, &buf2, &len2)));
	assert_int_equal(len2, len);
	assert_memory_equal(buf2, buf, len);
	for (size_t l = 0; l < len; l++) {
		assert_false(
			NT_STATUS_IS_OK(cldb_vacuum_pull(mem, buf, l, &got)));
	}
	buf = talloc_realloc(mem, buf, uint8_t, len + 1);
	assert_non_null(buf);
	buf[len] = 0;
	assert_false(NT_STATUS_IS_OK(cldb_vacuum_pull(mem, buf, len + 1, &got)));
	/* an empty list is valid (nothing to do) */
	v.num_recs = 0;
	assert_true(NT_STATUS_IS_OK(cldb_vacuum_push(mem, &v, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_vacuum_pull(mem, buf, len, &got)));
	assert_int_equal(got.num_recs, 0);
	v.num_recs = 2;
	/* hostile entries: refused by push and, hand-made, by pull */
	{
		struct {
			const char *db;
			const void *key;
			size_t klen;
			uint64_t seq;
		} bad[] = {
			{"../x", "a", 1, 1},
			{"db", "a", 1, 0},
			{"db", "a", 1, UINT64_MAX},
			{"db", "", 0, 1},
			{"db", CLDB_FLOOR_KEY, CLDB_FLOOR_KEY_LEN, 1},
			{"db", CLDB_DBSEQ_KEY, CLDB_DBSEQ_KEY_LEN, 1},
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct cldb_vacuum_rec r = {
				.key = db_data_make(bad[i].key, bad[i].klen),
				.seq = bad[i].seq};
			struct cldb_vacuum b = {.db = (char *)bad[i].db,
						.num_recs = 1, .recs = &r};
			struct marshall_push *p = marshall_push_init(
				mem, REC_CLUSTERD_DB_VACUUM, 1);

			assert_false(NT_STATUS_IS_OK(
				cldb_vacuum_push(mem, &b, &buf, &len)));
			marshall_push_u32(p, 1);
			marshall_push_string(p, bad[i].db);
			marshall_push_u32(p, 1);
			marshall_push_blob(p, bad[i].key, bad[i].klen);
			marshall_push_u64(p, bad[i].seq);
			assert_true(NT_STATUS_IS_OK(
				marshall_push_finish(p, &buf, &len)));
			assert_false(NT_STATUS_IS_OK(
				cldb_vacuum_pull(mem, buf, len, &got)));
		}
	}
	/* a count larger than the entries present */
	{
		struct marshall_push *p =
			marshall_push_init(mem, REC_CLUSTERD_DB_VACUUM, 1);
		marshall_push_u32(p, 1);
		marshall_push_string(p, "db");
		marshall_push_u32(p, 1000000);
		marshall_push_blob(p, "a", 1);
		marshall_push_u64(p, 1);
		assert_true(NT_STATUS_IS_OK(marshall_push_finish(p, &buf, &len)));
		assert_false(
			NT_STATUS_IS_OK(cldb_vacuum_pull(mem, buf, len, &got)));
	}
	/* limits: entries and key bytes */
	many = talloc_zero_array(mem, struct cldb_vacuum_rec,
				 CLDB_VACUUM_MAX_RECS + 1);
	assert_non_null(many);
	for (uint32_t i = 0; i <= CLDB_VACUUM_MAX_RECS; i++) {
		many[i].key = db_data_string("k");
		many[i].seq = 1;
	}
	v.recs = many;
	v.num_recs = CLDB_VACUUM_MAX_RECS;
	assert_true(NT_STATUS_IS_OK(cldb_vacuum_push(mem, &v, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(cldb_vacuum_pull(mem, buf, len, &got)));
	v.num_recs = CLDB_VACUUM_MAX_RECS + 1;
	assert_false(NT_STATUS_IS_OK(cldb_vacuum_push(mem, &v, &buf, &len)));
	{
		uint8_t *k = talloc_zero_size(mem, CLDB_MAX_KEY);
		assert_non_null(k);
		memset(k, 'k', CLDB_MAX_KEY);
		/* 64 keys of 4 KiB fill the chunk, one more is over */
		for (uint32_t i = 0; i <= 64; i++) {
			many[i].key = db_data_make(k, CLDB_MAX_KEY);
		}
		v.num_recs = 64;
		assert_true(
			NT_STATUS_IS_OK(cldb_vacuum_push(mem, &v, &buf, &len)));
		v.num_recs = 65;
		assert_false(
			NT_STATUS_IS_OK(cldb_vacuum_push(mem, &v, &buf, &len)));
	}
	talloc_free(mem);
}

static void put(struct db_context *db, const char *key, uint64_t seq,
		bool deleted)
{
	struct cldb_value v = {.seq = seq, .deleted = deleted,
			       .value = deleted ? db_data_make(NULL, 0)
						: db_data_string("val")};
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_true(NT_STATUS_IS_OK(cldb_value_push(NULL, &v, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(
		dbwrap_store(db, db_data_string(key), db_data_make(buf, len))));
	talloc_free(buf);
}

/* takes buf over, as clusterd_cpg_send() does */
static NTSTATUS count_send(uint8_t *buf, size_t len, void *p)
{
	struct cldb_vacuum v;
	TALLOC_CTX *mem = talloc_new(NULL);
	NTSTATUS status = cldb_vacuum_pull(mem, buf, len, &v);

	assert_true(NT_STATUS_IS_OK(status));
	*(unsigned *)p += v.num_recs;
	talloc_free(mem);
	talloc_free(buf);
	return status;
}

/*
 * Applying a VACUUM to a replica: only tombstones with exactly the listed
 * seq go, the floor takes the highest removed seq and never goes down;
 * the walk lists tombstones only, never the reserved keys.
 */
static void test_vacuum_apply(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	char dir[] = "/tmp/test_vacuum.XXXXXX";
	char *path;
	struct db_context *db;
	struct cldb_vacuum_rec recs[5] = {
		{.key = db_data_string("t5"), .seq = 5},   /* goes */
		{.key = db_data_string("t9"), .seq = 8},   /* newer: stays */
		{.key = db_data_string("live"), .seq = 4}, /* live: stays */
		{.key = db_data_string("none"), .seq = 2}, /* no record */
		{.key = db_data_string("t7"), .seq = 7},   /* goes */
	};
	struct cldb_vacuum v = {.nodeid = 1, .db = "d", .num_recs = 5,
				.recs = recs};
	uint64_t floor = 1;
	size_t removed = 0, n = 0;
	unsigned listed = 0, budget = 4;

	assert_non_null(mkdtemp(dir));
	path = talloc_asprintf(mem, "%s/d.tdb", dir);
	db = db_open_tdb(mem, NULL, path, 0, DBWRAP_FLAG_NONE);
	assert_non_null(db);
	assert_true(NT_STATUS_IS_OK(cluster_db_vacuum_floor(db, &floor)));
	assert_true(floor == 0);
	put(db, "t5", 5, true);
	put(db, "t9", 9, true);
	put(db, "live", 4, false);
	put(db, "t7", 7, true);

	assert_true(NT_STATUS_IS_OK(cluster_db_vacuum_collect(
		db, "d", 1, &budget, count_send, &listed, &n)));
	assert_int_equal(n, 3);
	assert_int_equal(listed, 3);
	assert_int_equal(budget, 3);

	assert_true(NT_STATUS_IS_OK(cluster_db_vacuum_apply(db, &v, &removed)));
	assert_int_equal(removed, 2);
	assert_false(dbwrap_exists(db, db_data_string("t5")));
	assert_false(dbwrap_exists(db, db_data_string("t7")));
	assert_true(dbwrap_exists(db, db_data_string("t9")));
	assert_true(dbwrap_exists(db, db_data_string("live")));
	assert_true(NT_STATUS_IS_OK(cluster_db_vacuum_floor(db, &floor)));
	assert_true(floor == 7);
	/* the same VACUUM again: nothing left to remove, floor unchanged */
	assert_true(NT_STATUS_IS_OK(cluster_db_vacuum_apply(db, &v, &removed)));
	assert_int_equal(removed, 0);
	/* a lower tombstone removed later does not lower the floor */
	put(db, "t3", 3, true);
	recs[0] = (struct cldb_vacuum_rec){.key = db_data_string("t3"),
					   .seq = 3};
	v.num_recs = 1;
	assert_true(NT_STATUS_IS_OK(cluster_db_vacuum_apply(db, &v, &removed)));
	assert_int_equal(removed, 1);
	assert_true(NT_STATUS_IS_OK(cluster_db_vacuum_floor(db, &floor)));
	assert_true(floor == 7);
	/* the walk never lists the floor (a tombstone, but reserved) */
	listed = 0;
	assert_true(NT_STATUS_IS_OK(cluster_db_vacuum_collect(
		db, "d", 1, &budget, count_send, &listed, &n)));
	assert_int_equal(n, 1); /* t9 */
	/* a floor with no seq left above it is corrupt */
	{
		struct cldb_value fv = {.seq = UINT64_MAX - 1, .deleted = true};
		uint8_t *buf = NULL;
		size_t len = 0;
		assert_true(NT_STATUS_IS_OK(
			cldb_value_push(mem, &fv, &buf, &len)));
		assert_true(NT_STATUS_IS_OK(dbwrap_store(
			db, db_data_make(CLDB_FLOOR_KEY, CLDB_FLOOR_KEY_LEN),
			db_data_make(buf, len))));
		assert_true(NT_STATUS_EQUAL(
			cluster_db_vacuum_floor(db, &floor),
			NT_STATUS_INTERNAL_DB_CORRUPTION));
	}
	unlink(path);
	rmdir(dir);
	talloc_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_request_hostile),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_sync_state),
		cmocka_unit_test(test_persistent_ops),
		cmocka_unit_test(test_txn),
		cmocka_unit_test(test_vacuum),
		cmocka_unit_test(test_vacuum_apply),
		cmocka_unit_test(test_sync_persistent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
