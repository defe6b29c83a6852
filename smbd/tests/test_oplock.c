/*
 * Oplock and lease decisions (smbd/oplock.h) and the lease record with
 * its transitions (smbd/lease_record.h).
 *
 * Expected answers come from [MS-SMB2] 3.3.5.9 / 3.3.4.7 / 3.3.5.22.2
 * and from what smbtorture smb2.oplock / smb2.lease check against
 * Windows: a batch holder breaks to level II for a plain second open,
 * to none for an overwrite; a sharing violation breaks H only; R alone
 * breaks to none without acknowledgement; breaking3's step-wise breaks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <talloc.h>

#include "lib/util/byteorder.h"
#include "smbd/lease_record.h"
#include "smbd/oplock.h"
#include "smbd/smb2_wire.h"

#define R SMB2_LEASE_READ
#define H SMB2_LEASE_HANDLE
#define W SMB2_LEASE_WRITE

static struct oplock_request plain_open(uint8_t level, uint32_t lease)
{
	struct oplock_request r = {
		.oplock_level = level,
		.lease_state = lease,
		.access_mask = SEC_FILE_READ_DATA | SEC_FILE_WRITE_DATA,
		.first_attempt = true,
		.level2_allowed = true,
		.oplocks_allowed = true,
	};
	return r;
}

static struct oplock_holder oplock_holder(uint8_t level)
{
	struct oplock_holder h = {
		.oplock_level = level,
		.access_mask = SEC_FILE_READ_DATA,
	};
	return h;
}

static struct oplock_holder lease_holder(uint32_t state)
{
	struct oplock_holder h = {
		.oplock_level = SMB2_OPLOCK_LEVEL_LEASE,
		.state = state,
		.access_mask = SEC_FILE_READ_DATA,
	};
	return h;
}

static void test_level_mapping(void **state)
{
	assert_int_equal(oplock_level_to_lease_state(SMB2_OPLOCK_LEVEL_BATCH),
			 R | W | H);
	assert_int_equal(
		oplock_level_to_lease_state(SMB2_OPLOCK_LEVEL_EXCLUSIVE),
		R | W);
	assert_int_equal(oplock_level_to_lease_state(SMB2_OPLOCK_LEVEL_II), R);
	assert_int_equal(oplock_level_to_lease_state(SMB2_OPLOCK_LEVEL_NONE),
			 0);
	assert_int_equal(oplock_lease_state_to_level(R | H),
			 SMB2_OPLOCK_LEVEL_II);
	assert_int_equal(oplock_lease_state_to_level(R | W | H),
			 SMB2_OPLOCK_LEVEL_BATCH);
	assert_int_equal(oplock_lease_state_to_level(H), SMB2_OPLOCK_LEVEL_NONE);
	assert_true(oplock_is_stat_open(SEC_FILE_READ_ATTRIBUTE));
	assert_false(oplock_is_stat_open(SEC_FILE_READ_ATTRIBUTE |
					 SEC_STD_READ_CONTROL));
	assert_true(oplock_is_lease_stat_open(SEC_FILE_READ_ATTRIBUTE |
					      SEC_STD_READ_CONTROL));
	assert_false(oplock_is_stat_open(0));
}

static void test_batch_breaks_to_level2(void **state)
{
	struct oplock_request r = plain_open(SMB2_OPLOCK_LEVEL_BATCH, 0);
	struct oplock_holder h = oplock_holder(SMB2_OPLOCK_LEVEL_BATCH);
	uint8_t level;
	uint32_t granted;

	assert_true(oplock_check_breaks(&r, &h, 1));
	assert_true(h.send_break);
	assert_int_equal(h.break_to, R);

	/* acknowledged: the holder has level II, the open goes on and
	 * gets level II as well */
	h.oplock_level = SMB2_OPLOCK_LEVEL_II;
	r.first_attempt = false;
	assert_false(oplock_check_breaks(&r, &h, 1));
	assert_false(h.send_break);
	granted = oplock_grant(&r, &h, 1, &level);
	assert_int_equal(level, SMB2_OPLOCK_LEVEL_II);
	assert_int_equal(granted, R);
}

static void test_overwrite_breaks_to_none(void **state)
{
	struct oplock_request r = plain_open(SMB2_OPLOCK_LEVEL_NONE, 0);
	struct oplock_holder h = oplock_holder(SMB2_OPLOCK_LEVEL_BATCH);

	r.will_overwrite = true;
	assert_true(oplock_check_breaks(&r, &h, 1));
	assert_int_equal(h.break_to, 0);

	/* a level II holder is broken by an overwrite too, without wait */
	h = oplock_holder(SMB2_OPLOCK_LEVEL_II);
	assert_false(oplock_check_breaks(&r, &h, 1));
	assert_true(h.send_break);
	assert_int_equal(h.break_to, 0);
}

static void test_sharing_violation_breaks_handle(void **state)
{
	struct oplock_request r = plain_open(SMB2_OPLOCK_LEVEL_NONE, 0);
	struct oplock_holder h = lease_holder(R | W | H);

	r.sharing_violation = true;
	assert_true(oplock_check_breaks(&r, &h, 1));
	assert_int_equal(h.break_to, R | W);

	/* no H anywhere: nothing to wait for, the caller fails the open */
	h = lease_holder(R | W);
	assert_false(oplock_check_breaks(&r, &h, 1));
	assert_false(h.send_break);

	/* exclusive oplock: no H, the violation stands */
	h = oplock_holder(SMB2_OPLOCK_LEVEL_EXCLUSIVE);
	assert_false(oplock_check_breaks(&r, &h, 1));
}

static void test_stat_open_breaks_nothing(void **state)
{
	struct oplock_request r = plain_open(SMB2_OPLOCK_LEVEL_NONE, 0);
	struct oplock_holder h = oplock_holder(SMB2_OPLOCK_LEVEL_BATCH);

	r.access_mask = SEC_FILE_READ_ATTRIBUTE | SEC_STD_SYNCHRONIZE;
	assert_false(oplock_check_breaks(&r, &h, 1));
	assert_false(h.send_break);

	/* READ_CONTROL breaks an oplock but not a lease */
	r.access_mask = SEC_FILE_READ_ATTRIBUTE | SEC_STD_READ_CONTROL;
	h = lease_holder(R | W | H);
	assert_false(oplock_check_breaks(&r, &h, 1));
	h = oplock_holder(SMB2_OPLOCK_LEVEL_BATCH);
	assert_true(oplock_check_breaks(&r, &h, 1));
}

static void test_same_lease_not_broken(void **state)
{
	struct oplock_request r =
		plain_open(SMB2_OPLOCK_LEVEL_LEASE, R | W | H);
	struct oplock_holder h = lease_holder(R | W | H);
	uint8_t level;

	h.same_lease = true;
	assert_false(oplock_check_breaks(&r, &h, 1));
	assert_false(h.send_break);
	assert_int_equal(oplock_grant(&r, &h, 1, &level), R | W | H);
	assert_int_equal(level, SMB2_OPLOCK_LEVEL_LEASE);
}

static void test_breaking_lease_delays(void **state)
{
	struct oplock_request r = plain_open(SMB2_OPLOCK_LEVEL_NONE, 0);
	struct oplock_holder h = lease_holder(R | H);

	/* R|H holds nothing a plain open needs, unless still breaking */
	assert_false(oplock_check_breaks(&r, &h, 1));
	h.breaking = true;
	assert_true(oplock_check_breaks(&r, &h, 1));
}

static void test_grant_rules(void **state)
{
	struct oplock_request r = plain_open(SMB2_OPLOCK_LEVEL_BATCH, 0);
	struct oplock_holder h = oplock_holder(SMB2_OPLOCK_LEVEL_NONE);
	uint8_t level;

	/* alone: batch */
	assert_int_equal(oplock_grant(&r, NULL, 0, &level), R | W | H);
	assert_int_equal(level, SMB2_OPLOCK_LEVEL_BATCH);

	/* another open without oplock: level II */
	oplock_grant(&r, &h, 1, &level);
	assert_int_equal(level, SMB2_OPLOCK_LEVEL_II);

	/* another open that only reads attributes: still batch */
	h.access_mask = SEC_FILE_READ_ATTRIBUTE;
	oplock_grant(&r, &h, 1, &level);
	assert_int_equal(level, SMB2_OPLOCK_LEVEL_BATCH);

	/* "level2 oplocks = no": nothing instead of level II */
	h.access_mask = SEC_FILE_READ_DATA;
	r.level2_allowed = false;
	oplock_grant(&r, &h, 1, &level);
	assert_int_equal(level, SMB2_OPLOCK_LEVEL_NONE);

	/* an H lease elsewhere: an oplock cannot coexist */
	r = plain_open(SMB2_OPLOCK_LEVEL_II, 0);
	h = lease_holder(R | H);
	oplock_grant(&r, &h, 1, &level);
	assert_int_equal(level, SMB2_OPLOCK_LEVEL_NONE);

	/* and a lease next to an oplock loses H */
	r = plain_open(SMB2_OPLOCK_LEVEL_LEASE, R | H);
	h = oplock_holder(SMB2_OPLOCK_LEVEL_II);
	assert_int_equal(oplock_grant(&r, &h, 1, &level), R);

	/* W alone and WH are no lease; RH is */
	r = plain_open(SMB2_OPLOCK_LEVEL_LEASE, W);
	assert_int_equal(oplock_grant(&r, NULL, 0, &level), 0);
	r.lease_state = W | H;
	assert_int_equal(oplock_grant(&r, NULL, 0, &level), 0);
	r.lease_state = R | H;
	assert_int_equal(oplock_grant(&r, NULL, 0, &level), R | H);

	/* directories never get W */
	r.lease_state = R | W | H;
	r.is_dir = true;
	assert_int_equal(oplock_grant(&r, NULL, 0, &level), R | H);

	/* byte-range locks take R and H away */
	r.is_dir = false;
	r.has_brlocks = true;
	assert_int_equal(oplock_grant(&r, NULL, 0, &level), W);
}

static void test_contend_level2(void **state)
{
	struct oplock_holder h[4] = {
		oplock_holder(SMB2_OPLOCK_LEVEL_II),
		lease_holder(R | H),
		lease_holder(R),
		oplock_holder(SMB2_OPLOCK_LEVEL_NONE),
	};

	h[2].same_lease = true; /* the writer's own lease */
	assert_int_equal(oplock_contend_level2(h, 4), 2);
	assert_true(h[0].send_break);
	assert_true(h[1].send_break);
	assert_false(h[2].send_break);
	assert_false(h[3].send_break);
	assert_int_equal(h[1].break_to, 0);
}

static void test_lease_wire(void **state)
{
	uint8_t buf[SMB2_LEASE_V2_SIZE];
	struct smb2_lease l, back;
	size_t len;

	memset(buf, 0, sizeof(buf));
	assert_int_equal(NT_STATUS_V(smb2_lease_pull(buf, 31, &l)),
			 NT_STATUS_V(NT_STATUS_INVALID_PARAMETER));
	assert_int_equal(NT_STATUS_V(smb2_lease_pull(buf, 40, &l)),
			 NT_STATUS_V(NT_STATUS_INVALID_PARAMETER));

	memset(&l, 0, sizeof(l));
	memset(l.key, 0xab, 16);
	memset(l.parent_key, 0xcd, 16);
	l.state = R | H;
	l.flags = SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
	l.epoch = 7;
	l.version = 2;
	len = smb2_lease_push(&l, buf);
	assert_int_equal(len, 52);
	assert_int_equal(PULL_LE32(buf, 16), R | H);
	assert_int_equal(PULL_LE16(buf, 48), 7);
	assert_true(NT_STATUS_IS_OK(smb2_lease_pull(buf, len, &back)));
	assert_int_equal(back.version, 2);
	assert_int_equal(back.epoch, 7);
	assert_memory_equal(back.parent_key, l.parent_key, 16);

	/* without the flag, the parent key is not taken; unknown flags
	 * are dropped */
	PUSH_LE32(buf, 20, 0x10);
	assert_true(NT_STATUS_IS_OK(smb2_lease_pull(buf, len, &back)));
	assert_int_equal(back.flags, 0);
	assert_false(smb2_lease_key_valid(back.parent_key));

	/* v1: 32 bytes, no epoch */
	l.version = 1;
	assert_int_equal(smb2_lease_push(&l, buf), 32);
	assert_true(NT_STATUS_IS_OK(smb2_lease_pull(buf, 32, &back)));
	assert_int_equal(back.version, 1);
	assert_int_equal(back.epoch, 0);
}

static void test_record_roundtrip(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct lease_record *r = talloc_zero(mem, struct lease_record);
	struct lease_record *back = NULL;
	uint8_t fk[16], fk2[16];
	uint8_t *buf;
	size_t len, i;

	memset(fk, 1, 16);
	memset(fk2, 2, 16);
	r->version = 2;
	r->epoch = 3;
	r->current_state = R | H;
	r->breaking = true;
	r->breaking_to_requested = R;
	r->breaking_to_required = R;
	r->has_parent = true;
	memset(r->parent_key, 9, 16);
	assert_true(NT_STATUS_IS_OK(
		lease_record_add_file(r, fk, "/srv/share", "a/b.txt", NULL)));
	assert_true(NT_STATUS_IS_OK(
		lease_record_add_file(r, fk2, "/srv/share", "c", "s1")));
	r->files[1].opens = 3;
	assert_true(NT_STATUS_IS_OK(lease_record_push(mem, r, &buf, &len)));
	assert_true(NT_STATUS_IS_OK(lease_record_pull(mem, buf, len, &back)));
	assert_int_equal(back->epoch, 3);
	assert_int_equal(back->current_state, R | H);
	assert_true(back->breaking);
	assert_int_equal(back->num_files, 2);
	assert_string_equal(back->files[0].relpath, "a/b.txt");
	assert_null(back->files[0].stream_name);
	assert_string_equal(back->files[1].stream_name, "s1");
	assert_int_equal(back->files[1].opens, 3);
	assert_int_equal(lease_record_find_file(back, fk2, "S1"), 1);
	assert_int_equal(lease_record_find_file(back, fk2, NULL), -1);
	lease_record_remove_file(back, 0);
	assert_int_equal(lease_record_find_file(back, fk2, "s1"), 0);

	/* every truncation and a trailing byte are refused */
	for (i = 0; i < len; i++) {
		assert_false(NT_STATUS_IS_OK(
			lease_record_pull(mem, buf, i, &back)));
	}
	buf = talloc_realloc(mem, buf, uint8_t, len + 1);
	buf[len] = 0;
	assert_false(NT_STATUS_IS_OK(lease_record_pull(mem, buf, len + 1,
						       &back)));
	/* a state with unknown bits is corruption */
	r->current_state = 0x10;
	assert_true(NT_STATUS_IS_OK(lease_record_push(mem, r, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(lease_record_pull(mem, buf, len, &back)));
	r->current_state = R;
	r->breaking_to_required = 0x20;
	assert_true(NT_STATUS_IS_OK(lease_record_push(mem, r, &buf, &len)));
	assert_false(NT_STATUS_IS_OK(lease_record_pull(mem, buf, len, &back)));
	talloc_free(mem);
}

static void test_lease_break_and_ack(void **state)
{
	struct lease_record r = { .version = 2, .epoch = 1,
				  .current_state = R | W | H };
	struct lease_break_notice n;

	/* no break in progress: an ack is UNSUCCESSFUL */
	assert_int_equal(NT_STATUS_V(lease_record_ack(&r, R, &n)),
			 NT_STATUS_V(NT_STATUS_UNSUCCESSFUL));

	lease_record_break(&r, R | H, &n);
	assert_true(n.send);
	assert_true(n.ack_required);
	assert_int_equal(n.from, R | W | H);
	assert_int_equal(n.to, R | H);
	assert_int_equal(n.epoch, 2);
	assert_true(r.breaking);

	/* a second break while breaking only lowers the target */
	lease_record_break(&r, R, &n);
	assert_false(n.send);
	assert_int_equal(r.breaking_to_required, R);
	assert_int_equal(r.breaking_to_requested, R | H);

	/* acking more than was asked for is refused */
	assert_int_equal(NT_STATUS_V(lease_record_ack(&r, R | W, &n)),
			 NT_STATUS_V(NT_STATUS_REQUEST_NOT_ACCEPTED));
	/* RH is what the client was told; the target is R now, so it
	 * is broken again from RH to R */
	assert_true(NT_STATUS_IS_OK(lease_record_ack(&r, R | H, &n)));
	assert_true(n.send);
	assert_true(n.ack_required);
	assert_int_equal(n.from, R | H);
	assert_int_equal(n.to, R);
	assert_true(r.breaking);
	assert_true(NT_STATUS_IS_OK(lease_record_ack(&r, R, &n)));
	assert_false(n.send);
	assert_false(r.breaking);
	assert_int_equal(r.current_state, R);

	/* R alone: to none without ack, epoch + 1 */
	lease_record_break(&r, 0, &n);
	assert_true(n.send);
	assert_false(n.ack_required);
	assert_int_equal(n.epoch, 3);
	assert_int_equal(r.current_state, 0);
	assert_false(r.breaking);

	/* nothing left to break */
	lease_record_break(&r, 0, &n);
	assert_false(n.send);

	/* v1 leases carry no epoch in notifications */
	r.version = 1;
	r.current_state = R | H;
	lease_record_break(&r, R, &n);
	assert_int_equal(n.epoch, 0);
}

static void test_lease_ack_lower_than_required(void **state)
{
	struct lease_record r = { .version = 1, .current_state = R | W };
	struct lease_break_notice n;

	lease_record_break(&r, R, &n);
	/* the client may give up more than asked */
	assert_true(NT_STATUS_IS_OK(lease_record_ack(&r, 0, &n)));
	assert_false(n.send);
	assert_int_equal(r.current_state, 0);
}

static void test_lease_upgrade(void **state)
{
	struct lease_record r = { .version = 2, .epoch = 1,
				  .current_state = R };

	assert_true(lease_record_upgrade(&r, R | H, R | H));
	assert_int_equal(r.current_state, R | H);
	assert_int_equal(r.epoch, 2);
	/* not a superset: no change (no downgrade through an open) */
	assert_false(lease_record_upgrade(&r, R, R));
	assert_false(lease_record_upgrade(&r, R | W, R | W));
	/* not all of it grantable: no change */
	assert_false(lease_record_upgrade(&r, R | W | H, R | H));
	/* never while breaking */
	r.breaking = true;
	assert_false(lease_record_upgrade(&r, R | W | H, R | W | H));
	assert_int_equal(r.current_state, R | H);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_mapping),
		cmocka_unit_test(test_batch_breaks_to_level2),
		cmocka_unit_test(test_overwrite_breaks_to_none),
		cmocka_unit_test(test_sharing_violation_breaks_handle),
		cmocka_unit_test(test_stat_open_breaks_nothing),
		cmocka_unit_test(test_same_lease_not_broken),
		cmocka_unit_test(test_breaking_lease_delays),
		cmocka_unit_test(test_grant_rules),
		cmocka_unit_test(test_contend_level2),
		cmocka_unit_test(test_lease_wire),
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_lease_break_and_ack),
		cmocka_unit_test(test_lease_ack_lower_than_required),
		cmocka_unit_test(test_lease_upgrade),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
