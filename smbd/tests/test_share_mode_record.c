/*
 * REC_SHARE_MODE encoding (smbd/share_mode_record.c): round trip of
 * every field, the exact byte layout of a small record, and refusal of
 * truncated, padded, retyped and oversized-count inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/util/byteorder.h"
#include "lib/util/marshall.h"
#include "smbd/share_mode_record.h"

static struct share_mode_data *sample(TALLOC_CTX *mem)
{
	struct share_mode_data *d = talloc_zero(mem, struct share_mode_data);
	struct share_mode_entry e = {
		.owner = { .node = 3, .pid = 4242, .task = 1,
			   .unique = 0x1122334455667788ULL },
		.file_id = 0xAABBCCDD00112233ULL,
		.session_id = 0x0102030405060708ULL,
		.tree_id = 7,
		.access_mask = 0x0012019f,
		.share_access = 3,
		.create_options = 0x40,
		.is_directory = false,
		.oplock_type = SHARE_MODE_OPLOCK_LEASE,
		.open_time = 133000000000000000ULL,
		.uid = 1000,
	};

	assert_non_null(d);
	d->seqnum = 99;
	d->share_path = talloc_strdup(d, "/srv/share");
	d->relpath = talloc_strdup(d, "dir/file.txt");
	memset(e.client_guid, 0x5a, 16);
	memset(e.lease_key, 0xa5, 16);
	assert_true(NT_STATUS_IS_OK(share_mode_data_add_entry(d, &e)));
	e.stream_name = "s1:$DATA";
	e.oplock_type = SHARE_MODE_OPLOCK_NONE;
	e.owner.pid = 4343;
	assert_true(NT_STATUS_IS_OK(share_mode_data_add_entry(d, &e)));
	assert_true(NT_STATUS_IS_OK(
		share_mode_data_set_delete(d, NULL, true, 1000)));
	return d;
}

static void test_roundtrip(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct share_mode_data *d = sample(mem), *back = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_true(NT_STATUS_IS_OK(share_mode_record_push(mem, d, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(
		share_mode_record_pull(mem, buf, len, &back)));
	assert_int_equal(back->seqnum, 99);
	assert_string_equal(back->share_path, "/srv/share");
	assert_string_equal(back->relpath, "dir/file.txt");
	assert_int_equal(back->num_deletes, 1);
	assert_string_equal(back->deletes[0].name, "");
	assert_int_equal(back->deletes[0].uid, 1000);
	assert_int_equal(back->num_entries, 2);
	assert_null(back->entries[0].stream_name);
	assert_string_equal(back->entries[1].stream_name, "s1:$DATA");
	assert_int_equal(back->entries[0].owner.node, 3);
	assert_int_equal(back->entries[0].owner.pid, 4242);
	assert_int_equal(back->entries[1].owner.pid, 4343);
	assert_int_equal(back->entries[0].owner.task, 1);
	assert_true(back->entries[0].owner.unique == 0x1122334455667788ULL);
	assert_true(back->entries[0].file_id == 0xAABBCCDD00112233ULL);
	assert_true(back->entries[0].session_id == 0x0102030405060708ULL);
	assert_int_equal(back->entries[0].tree_id, 7);
	assert_int_equal(back->entries[0].access_mask, 0x0012019f);
	assert_int_equal(back->entries[0].share_access, 3);
	assert_int_equal(back->entries[0].create_options, 0x40);
	assert_int_equal(back->entries[0].oplock_type, SHARE_MODE_OPLOCK_LEASE);
	assert_int_equal(back->entries[1].oplock_type, SHARE_MODE_OPLOCK_NONE);
	assert_memory_equal(back->entries[0].client_guid, d->entries[0].client_guid, 16);
	assert_memory_equal(back->entries[0].lease_key, d->entries[0].lease_key, 16);
	assert_true(back->entries[0].open_time == 133000000000000000ULL);
	assert_int_equal(back->entries[0].uid, 1000);
	assert_true(share_mode_data_delete_pending(back, NULL));
	assert_true(share_mode_data_delete_pending(back, ""));
	assert_false(share_mode_data_delete_pending(back, "s1:$DATA"));
	talloc_free(mem);
}

/* The layout is part of the contract with other processes (and, later,
 * nodes): pin the bytes of an empty record. */
static void test_layout(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct share_mode_data d = { .seqnum = 0x0102030405060708ULL,
				     .share_path = "/s", .relpath = "" };
	static const uint8_t want[] = {
		20, 0, 1, 0,				/* REC_SHARE_MODE v1 */
		8, 7, 6, 5, 4, 3, 2, 1,			/* seqnum */
		3, 0, 0, 0, '/', 's',			/* "/s" (len+1) */
		1, 0, 0, 0,				/* "" */
		0, 0, 0, 0,				/* no deletes */
		0, 0, 0, 0,				/* no entries */
	};
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_true(NT_STATUS_IS_OK(share_mode_record_push(mem, &d, &buf, &len)));
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	talloc_free(mem);
}

static void test_refuses_damage(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct share_mode_data *d = sample(mem), *back = NULL;
	uint8_t *buf = NULL, *copy;
	size_t len = 0, cut;

	(void)state;
	assert_true(NT_STATUS_IS_OK(share_mode_record_push(mem, d, &buf, &len)));
	/* every truncation fails, none crashes */
	for (cut = 0; cut < len; cut++) {
		assert_false(NT_STATUS_IS_OK(
			share_mode_record_pull(mem, buf, cut, &back)));
		assert_null(back);
	}
	/* trailing garbage */
	copy = talloc_array(mem, uint8_t, len + 1);
	memcpy(copy, buf, len);
	copy[len] = 0;
	assert_false(NT_STATUS_IS_OK(
		share_mode_record_pull(mem, copy, len + 1, &back)));
	/* another record type, a future version */
	memcpy(copy, buf, len);
	PUSH_LE16(copy, 0, REC_BRLOCK);
	assert_false(NT_STATUS_IS_OK(
		share_mode_record_pull(mem, copy, len, &back)));
	memcpy(copy, buf, len);
	PUSH_LE16(copy, 2, SHARE_MODE_RECORD_VERSION + 1);
	assert_false(NT_STATUS_IS_OK(
		share_mode_record_pull(mem, copy, len, &back)));
	talloc_free(mem);
}

static void test_huge_count(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct share_mode_data d = { .share_path = "/s", .relpath = "f" };
	struct share_mode_data *back = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_true(NT_STATUS_IS_OK(share_mode_record_push(mem, &d, &buf, &len)));
	/* claim 2^32-1 entries in a record that has none */
	PUSH_LE32(buf, len - 4, 0xffffffff);
	assert_true(NT_STATUS_EQUAL(share_mode_record_pull(mem, buf, len, &back),
				    NT_STATUS_INTERNAL_DB_CORRUPTION));
	talloc_free(mem);
}

static void test_entries_and_deletes(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct share_mode_data *d = sample(mem);

	(void)state;
	share_mode_data_remove_entry(d, 0);
	assert_int_equal(d->num_entries, 1);
	assert_int_equal(d->entries[0].owner.pid, 4343);
	assert_string_equal(d->entries[0].stream_name, "s1:$DATA");
	share_mode_data_remove_entry(d, 5); /* out of range: nothing */
	assert_int_equal(d->num_entries, 1);

	assert_true(NT_STATUS_IS_OK(
		share_mode_data_set_delete(d, "S1:$DATA", true, 5)));
	assert_true(share_mode_data_delete_pending(d, "s1:$data"));
	assert_int_equal(d->num_deletes, 2);
	assert_true(NT_STATUS_IS_OK(share_mode_data_set_delete(d, "", false, 0)));
	assert_false(share_mode_data_delete_pending(d, NULL));
	assert_true(share_mode_data_delete_pending(d, "s1:$DATA"));
	assert_int_equal(d->num_deletes, 1);
	assert_true(share_mode_stream_equal(NULL, ""));
	assert_false(share_mode_stream_equal(NULL, "x"));
	talloc_free(mem);
}

static void test_key(void **state)
{
	uint8_t key[SHARE_MODE_KEY_SIZE];
	uint64_t dev, ino;

	(void)state;
	share_mode_key_push(key, 0x0807060504030201ULL, 0x100);
	assert_int_equal(key[0], 1);
	assert_int_equal(key[7], 8);
	assert_int_equal(key[8], 0);
	assert_int_equal(key[9], 1);
	share_mode_key_pull(key, &dev, &ino);
	assert_true(dev == 0x0807060504030201ULL);
	assert_true(ino == 0x100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_refuses_damage),
		cmocka_unit_test(test_huge_count),
		cmocka_unit_test(test_entries_and_deletes),
		cmocka_unit_test(test_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
