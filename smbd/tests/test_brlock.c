/*
 * Byte-range lock logic (smbd/brlock.c) and the SMB2 LOCK request parser
 * (smbd/smb2_lock_wire.c): the Windows rules that smbtorture smb2.lock.*
 * checks, exercised without a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <cmocka.h>

#include "lib/util/byteorder.h"
#include "smbd/brlock.h"
#include "smbd/smb2_lock_wire.h"

static const struct brl_owner A = { .pid = { 0, 100, 0, 1 }, .open_id = 1 };
static const struct brl_owner A2 = { .pid = { 0, 100, 0, 1 }, .open_id = 2 };
static const struct brl_owner B = { .pid = { 0, 200, 0, 7 }, .open_id = 1 };

static NTSTATUS lock1(TALLOC_CTX *mem, struct brl_set *set,
		      const struct brl_owner *o, uint64_t start, uint64_t len,
		      enum brl_op op)
{
	struct brl_elem e = { .start = start, .length = len, .op = op };

	return brl_set_apply(mem, set, o, &e, 1, op == BRL_OP_UNLOCK, NULL,
			     NULL);
}

#define X BRL_OP_EXCLUSIVE
#define S BRL_OP_SHARED
#define U BRL_OP_UNLOCK
#define ST_EQ(a, b) assert_int_equal(NT_STATUS_V(a), NT_STATUS_V(b))

static void test_range_valid(void **state)
{
	assert_true(brl_range_valid(0, 0));
	assert_true(brl_range_valid(UINT64_MAX, 0));
	assert_true(brl_range_valid(UINT64_MAX, 1)); /* last byte */
	assert_false(brl_range_valid(UINT64_MAX, 2));
	assert_false(brl_range_valid(UINT64_MAX, UINT64_MAX));
	assert_true(brl_range_valid(1, UINT64_MAX));
	assert_false(brl_range_valid(2, UINT64_MAX));
}

/* smbtorture smb2.lock.zerobytelength: a lock {10,0} against others */
static void test_zero_length_overlap(void **state)
{
	static const struct {
		uint64_t s, l;
		bool overlap;
	} t[] = {
		{ 10, 0, false }, { 9, 1, false }, { 10, 1, false },
		{ 11, 1, false }, { 9, 2, true },  { 10, 2, false },
		{ 9, 3, true },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(brl_ranges_overlap(10, 0, t[i].s, t[i].l),
				 t[i].overlap);
		assert_int_equal(brl_ranges_overlap(t[i].s, t[i].l, 10, 0),
				 t[i].overlap);
	}
	/* {0,0} overlaps nothing ([MS-FSA] 2.1.4.10) */
	assert_false(brl_ranges_overlap(0, 0, 0, 100));
	assert_false(brl_ranges_overlap(0, 100, 0, 0));
	/* the top of the 64-bit space */
	assert_true(brl_ranges_overlap(UINT64_MAX, 1, 1, UINT64_MAX));
	assert_false(brl_ranges_overlap(UINT64_MAX, 1, 0, UINT64_MAX));
	assert_true(brl_ranges_overlap(UINT64_MAX, 0, 1, UINT64_MAX));
	assert_true(brl_ranges_overlap(UINT64_MAX - 1, 2, UINT64_MAX, 1));
	assert_false(brl_ranges_overlap(0, 10, 10, 10));
	assert_true(brl_ranges_overlap(0, 11, 10, 10));
	assert_true(brl_ranges_overlap(5, 1, 0, 10));
}

static void test_conflicts_and_stacking(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct brl_set set = { 0 };

	/* shared on shared: any open */
	ST_EQ(lock1(mem, &set, &A, 0, 10, S), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &A, 0, 10, S), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &B, 5, 10, S), NT_STATUS_OK);
	/* exclusive over a shared one: not even the same open */
	ST_EQ(lock1(mem, &set, &A, 0, 10, X), NT_STATUS_LOCK_NOT_GRANTED);
	ST_EQ(lock1(mem, &set, &B, 0, 1, X), NT_STATUS_LOCK_NOT_GRANTED);
	assert_int_equal(set.num, 3);
	ST_EQ(lock1(mem, &set, &A, 0, 10, U), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &A, 0, 10, U), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &A, 0, 10, U), NT_STATUS_RANGE_NOT_LOCKED);
	ST_EQ(lock1(mem, &set, &B, 5, 10, U), NT_STATUS_OK);
	assert_int_equal(set.num, 0);

	/* shared stacks on the same open's exclusive lock, not another's;
	 * a second exclusive does not stack */
	ST_EQ(lock1(mem, &set, &A, 0, 10, X), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &A, 0, 10, S), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &A, 0, 10, S), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &A, 0, 10, X), NT_STATUS_LOCK_NOT_GRANTED);
	ST_EQ(lock1(mem, &set, &A2, 0, 10, S), NT_STATUS_LOCK_NOT_GRANTED);
	ST_EQ(lock1(mem, &set, &B, 9, 1, S), NT_STATUS_LOCK_NOT_GRANTED);
	ST_EQ(lock1(mem, &set, &B, 10, 1, X), NT_STATUS_OK);
	/* unlocking takes the exclusive lock first: B may share now */
	ST_EQ(lock1(mem, &set, &A, 0, 10, U), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &B, 0, 5, S), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &B, 0, 5, X), NT_STATUS_LOCK_NOT_GRANTED);
	/* unlock needs the exact range and the same open */
	ST_EQ(lock1(mem, &set, &A, 0, 9, U), NT_STATUS_RANGE_NOT_LOCKED);
	ST_EQ(lock1(mem, &set, &A2, 0, 10, U), NT_STATUS_RANGE_NOT_LOCKED);
	ST_EQ(lock1(mem, &set, &A, UINT64_MAX, 2, U),
	      NT_STATUS_INVALID_LOCK_RANGE);
	talloc_free(mem);
}

static void test_invalid_range_and_top(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct brl_set set = { 0 };

	ST_EQ(lock1(mem, &set, &A, UINT64_MAX, UINT64_MAX, X),
	      NT_STATUS_INVALID_LOCK_RANGE);
	ST_EQ(lock1(mem, &set, &A, UINT64_MAX, 2, X),
	      NT_STATUS_INVALID_LOCK_RANGE);
	ST_EQ(lock1(mem, &set, &A, UINT64_MAX, 1, X), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &B, UINT64_MAX, 1, X),
	      NT_STATUS_LOCK_NOT_GRANTED);
	/* max/0: zero-length locks never conflict with each other */
	ST_EQ(lock1(mem, &set, &A, UINT64_MAX, 0, X), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &B, UINT64_MAX, 0, X), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &B, 0, 0, X), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &A, 0, 0, X), NT_STATUS_OK);
	assert_int_equal(set.num, 5);
	talloc_free(mem);
}

/* smbtorture smb2.lock.multiple-unlock */
static void test_multi_element(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct brl_set set = { 0 };
	struct brl_elem two[2] = {
		{ .start = 0, .length = 10, .op = X },
		{ .start = 10, .length = 10, .op = X },
	};
	struct brl_elem unl[2] = {
		{ .start = 0, .length = 10, .op = U },
		{ .start = 10, .length = 10, .op = U },
	};
	struct brl_lock blocker;
	bool changed;

	/* the second element conflicts: the first is taken back */
	ST_EQ(lock1(mem, &set, &A, 10, 10, X), NT_STATUS_OK);
	ST_EQ(brl_set_apply(mem, &set, &A, two, 2, false, &blocker, &changed),
	      NT_STATUS_LOCK_NOT_GRANTED);
	assert_false(changed);
	assert_int_equal(set.num, 1);
	assert_true(blocker.start == 10 && brl_owner_equal(&blocker.owner, &A));
	ST_EQ(lock1(mem, &set, &B, 0, 10, X), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &B, 0, 10, U), NT_STATUS_OK);

	/* unlock [0,10) [10,20) with only the second locked: nothing done */
	ST_EQ(brl_set_apply(mem, &set, &A, unl, 2, true, NULL, &changed),
	      NT_STATUS_RANGE_NOT_LOCKED);
	assert_false(changed);
	assert_int_equal(set.num, 1);
	ST_EQ(lock1(mem, &set, &A, 10, 10, U), NT_STATUS_OK);

	/* with only the first locked: the first is unlocked */
	ST_EQ(lock1(mem, &set, &A, 0, 10, X), NT_STATUS_OK);
	ST_EQ(brl_set_apply(mem, &set, &A, unl, 2, true, NULL, &changed),
	      NT_STATUS_RANGE_NOT_LOCKED);
	assert_true(changed);
	assert_int_equal(set.num, 0);

	/* unlock then a lock element: unlocks, then INVALID_PARAMETER */
	ST_EQ(brl_set_apply(mem, &set, &A, two, 2, false, NULL, &changed),
	      NT_STATUS_OK);
	assert_true(changed);
	unl[1].op = BRL_OP_INVALID;
	ST_EQ(brl_set_apply(mem, &set, &A, unl, 2, true, NULL, NULL),
	      NT_STATUS_INVALID_PARAMETER);
	assert_int_equal(set.num, 1);
	assert_true(set.locks[0].start == 10);

	/* two elements of one request conflicting with each other */
	two[0].start = 100;
	two[1].start = 105;
	ST_EQ(brl_set_apply(mem, &set, &A, two, 2, false, NULL, NULL),
	      NT_STATUS_LOCK_NOT_GRANTED);
	assert_int_equal(set.num, 1);
	talloc_free(mem);
}

/* smbtorture smb2.lock.rw-shared, rw-exclusive, zerobyteread */
static void test_io_check(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct brl_set set = { 0 };

	ST_EQ(lock1(mem, &set, &A, 100, 100, S), NT_STATUS_OK);
	ST_EQ(brl_set_check_io(&set, &A, 100, 100, false), NT_STATUS_OK);
	ST_EQ(brl_set_check_io(&set, &B, 100, 100, false), NT_STATUS_OK);
	ST_EQ(brl_set_check_io(&set, &A, 100, 100, true),
	      NT_STATUS_FILE_LOCK_CONFLICT);
	ST_EQ(brl_set_check_io(&set, &B, 199, 1, true),
	      NT_STATUS_FILE_LOCK_CONFLICT);
	ST_EQ(brl_set_check_io(&set, &B, 200, 10, true), NT_STATUS_OK);
	ST_EQ(brl_set_check_io(&set, &B, 0, 100, true), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &A, 100, 100, U), NT_STATUS_OK);

	ST_EQ(lock1(mem, &set, &A, 0, 10, X), NT_STATUS_OK);
	ST_EQ(brl_set_check_io(&set, &A, 0, 10, false), NT_STATUS_OK);
	ST_EQ(brl_set_check_io(&set, &A, 0, 10, true), NT_STATUS_OK);
	ST_EQ(brl_set_check_io(&set, &A2, 5, 10, false),
	      NT_STATUS_FILE_LOCK_CONFLICT);
	ST_EQ(brl_set_check_io(&set, &B, 9, 1, true),
	      NT_STATUS_FILE_LOCK_CONFLICT);
	/* an empty read never conflicts */
	ST_EQ(brl_set_check_io(&set, &B, 5, 0, false), NT_STATUS_OK);
	/* a zero-length lock at O stops I/O that spans O, not I/O that
	 * starts there ([MS-FSA] 2.1.4.10 compares last bytes) */
	ST_EQ(lock1(mem, &set, &A, 50, 0, X), NT_STATUS_OK);
	ST_EQ(brl_set_check_io(&set, &B, 40, 20, true),
	      NT_STATUS_FILE_LOCK_CONFLICT);
	ST_EQ(brl_set_check_io(&set, &B, 50, 20, true), NT_STATUS_OK);
	ST_EQ(brl_set_check_io(&set, &B, 40, 10, false), NT_STATUS_OK);
	talloc_free(mem);
}

static void test_limit(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct brl_set set = { 0 };
	struct brl_elem *e = talloc_array(mem, struct brl_elem,
					  BRL_MAX_LOCKS_PER_STREAM);
	uint32_t i;

	for (i = 0; i < BRL_MAX_LOCKS_PER_STREAM; i++) {
		e[i] = (struct brl_elem){ .start = 2 * (uint64_t)i,
					  .length = 1,
					  .op = BRL_OP_SHARED };
	}
	ST_EQ(brl_set_apply(mem, &set, &A, e, BRL_MAX_LOCKS_PER_STREAM - 1,
			    false, NULL, NULL),
	      NT_STATUS_OK);
	/* two more do not fit: refused whole */
	ST_EQ(brl_set_apply(mem, &set, &B, e, 2, false, NULL, NULL),
	      NT_STATUS_INSUFFICIENT_RESOURCES);
	assert_int_equal(set.num, BRL_MAX_LOCKS_PER_STREAM - 1);
	ST_EQ(brl_set_apply(mem, &set, &B, e, 1, false, NULL, NULL),
	      NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &B, 1, 1, S), NT_STATUS_INSUFFICIENT_RESOURCES);
	/* unlocking is always possible */
	ST_EQ(lock1(mem, &set, &B, 0, 1, U), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &B, 1, 1, S), NT_STATUS_OK);
	talloc_free(mem);
}

static bool alive_not_200(const struct server_id *pid, void *private_data)
{
	int *asked = private_data;

	(*asked)++;
	return pid->pid != 200;
}

static void test_remove_owner_and_dead(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct brl_set set = { 0 };
	int asked = 0;

	ST_EQ(lock1(mem, &set, &A, 0, 1, S), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &B, 0, 1, S), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &A2, 0, 1, S), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &A, 5, 1, X), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &B, 7, 1, X), NT_STATUS_OK);
	assert_int_equal(brl_set_remove_owner(&set, &A), 2);
	assert_int_equal(set.num, 3);
	assert_int_equal(brl_set_remove_dead(&set, alive_not_200, &asked), 2);
	assert_int_equal(asked, 3);
	assert_int_equal(set.num, 1);
	assert_true(brl_owner_equal(&set.locks[0].owner, &A2));
	/* the dead owner's ranges are free now */
	ST_EQ(lock1(mem, &set, &A, 7, 1, X), NT_STATUS_OK);
	talloc_free(mem);
}

static void test_encode_decode(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct brl_set set = { 0 }, d;
	uint8_t *buf, *bad;
	size_t len, i;

	ST_EQ(lock1(mem, &set, &A, 1, 2, S), NT_STATUS_OK);
	ST_EQ(lock1(mem, &set, &B, UINT64_MAX, 1, X), NT_STATUS_OK);
	ST_EQ(brl_set_encode(mem, &set, &buf, &len), NT_STATUS_OK);
	ST_EQ(brl_set_decode(mem, buf, len, &d), NT_STATUS_OK);
	assert_int_equal(d.num, 2);
	assert_true(brl_owner_equal(&d.locks[0].owner, &A));
	assert_true(d.locks[0].start == 1 && d.locks[0].length == 2);
	assert_int_equal(d.locks[0].type, BRL_SHARED);
	assert_true(brl_owner_equal(&d.locks[1].owner, &B));
	assert_true(d.locks[1].start == UINT64_MAX);
	assert_int_equal(d.locks[1].type, BRL_EXCLUSIVE);

	/* every truncation and a trailing byte are refused */
	for (i = 1; i < len; i++) {
		assert_false(NT_STATUS_IS_OK(brl_set_decode(mem, buf, i, &d)));
	}
	bad = talloc_array(mem, uint8_t, len + 1);
	memcpy(bad, buf, len);
	bad[len] = 0;
	assert_false(NT_STATUS_IS_OK(brl_set_decode(mem, bad, len + 1, &d)));
	/* an unknown lock type, an invalid range */
	memcpy(bad, buf, len);
	bad[len - 1] = 3;
	assert_false(NT_STATUS_IS_OK(brl_set_decode(mem, bad, len, &d)));
	memcpy(bad, buf, len);
	PUSH_LE64(bad, len - 9, 2); /* length of {UINT64_MAX, 2} */
	assert_false(NT_STATUS_IS_OK(brl_set_decode(mem, bad, len, &d)));
	/* empty value: no locks */
	ST_EQ(brl_set_decode(mem, NULL, 0, &d), NT_STATUS_OK);
	assert_int_equal(d.num, 0);
	talloc_free(mem);
}

/* Build a LOCK body with the given elements. */
static size_t lock_body(uint8_t *b, uint16_t count, uint32_t seq,
			const uint32_t *flags, size_t nflags)
{
	size_t i;

	memset(b, 0, SMB2_LOCK_REQ_FIXED + nflags * SMB2_LOCK_ELEMENT_SIZE);
	PUSH_LE16(b, 0, 48);
	PUSH_LE16(b, 2, count);
	PUSH_LE32(b, 4, seq);
	for (i = 0; i < nflags; i++) {
		uint8_t *e = b + SMB2_LOCK_REQ_FIXED +
			     i * SMB2_LOCK_ELEMENT_SIZE;

		PUSH_LE64(e, 0, 100 + i);
		PUSH_LE64(e, 8, 10);
		PUSH_LE32(e, 16, flags[i]);
	}
	return SMB2_LOCK_REQ_FIXED + nflags * SMB2_LOCK_ELEMENT_SIZE;
}

#define FSH SMB2_LOCKFLAG_SHARED_LOCK
#define FEX SMB2_LOCKFLAG_EXCLUSIVE_LOCK
#define FUN SMB2_LOCKFLAG_UNLOCK
#define FFI SMB2_LOCKFLAG_FAIL_IMMEDIATELY

static NTSTATUS parse_flags(TALLOC_CTX *mem, struct smb2_lock_req *r,
			    const uint32_t *flags, size_t n)
{
	uint8_t b[SMB2_LOCK_REQ_FIXED + 4 * SMB2_LOCK_ELEMENT_SIZE];
	size_t len = lock_body(b, (uint16_t)n, 0, flags, n);
	NTSTATUS status = smb2_lock_parse(mem, b, len, r);

	return NT_STATUS_IS_OK(status) ? r->flags_status : status;
}

/* smbtorture smb2.lock.valid-request and multiple-unlock */
static void test_parse(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	struct smb2_lock_req r;
	uint8_t b[SMB2_LOCK_REQ_FIXED + 2 * SMB2_LOCK_ELEMENT_SIZE];
	size_t len;
	static const uint32_t ok1[][1] = {
		{ FSH }, { FEX }, { FSH | FFI }, { FEX | FFI }, { FUN },
	};
	static const uint32_t bad1[][1] = {
		{ 0 }, { FUN | FEX }, { FUN | FSH }, { FUN | FFI },
		{ FSH | FEX }, { FFI }, { 0xffffffe8 }, { FEX | 0x20 },
	};
	size_t i;

	for (i = 0; i < sizeof(ok1) / sizeof(ok1[0]); i++) {
		ST_EQ(parse_flags(mem, &r, ok1[i], 1), NT_STATUS_OK);
		assert_int_equal(r.blocking, !(ok1[i][0] & (FFI | FUN)));
		assert_int_equal(r.is_unlock, ok1[i][0] == FUN);
	}
	for (i = 0; i < sizeof(bad1) / sizeof(bad1[0]); i++) {
		ST_EQ(parse_flags(mem, &r, bad1[i], 1),
		      NT_STATUS_INVALID_PARAMETER);
	}
	ST_EQ(parse_flags(mem, &r, (uint32_t[]){ 0, FUN }, 2),
	      NT_STATUS_INVALID_PARAMETER);
	ST_EQ(parse_flags(mem, &r, (uint32_t[]){ FSH | FFI, FSH }, 2),
	      NT_STATUS_INVALID_PARAMETER);
	ST_EQ(parse_flags(mem, &r, (uint32_t[]){ FSH, FSH | FFI }, 2),
	      NT_STATUS_INVALID_PARAMETER);
	ST_EQ(parse_flags(mem, &r, (uint32_t[]){ FEX | FFI, FUN }, 2),
	      NT_STATUS_INVALID_PARAMETER);
	ST_EQ(parse_flags(mem, &r, (uint32_t[]){ FEX | FFI, FSH | FFI }, 2),
	      NT_STATUS_OK);
	assert_false(r.blocking);
	assert_int_equal(r.elems[0].op, BRL_OP_EXCLUSIVE);
	assert_int_equal(r.elems[1].op, BRL_OP_SHARED);
	assert_true(r.elems[1].start == 101 && r.elems[1].length == 10);
	/* an unlock request defers its bad elements */
	ST_EQ(parse_flags(mem, &r, (uint32_t[]){ FUN, 0 }, 2), NT_STATUS_OK);
	assert_true(r.is_unlock);
	assert_int_equal(r.elems[0].op, BRL_OP_UNLOCK);
	assert_int_equal(r.elems[1].op, BRL_OP_INVALID);
	ST_EQ(parse_flags(mem, &r, (uint32_t[]){ FUN, FEX | FFI }, 2),
	      NT_STATUS_OK);
	assert_int_equal(r.elems[1].op, BRL_OP_INVALID);

	/* structure: no elements, elements beyond the body */
	len = lock_body(b, 0, 0, (uint32_t[]){ FEX }, 1);
	ST_EQ(smb2_lock_parse(mem, b, len, &r), NT_STATUS_INVALID_PARAMETER);
	len = lock_body(b, 3, 0, (uint32_t[]){ FEX, FEX }, 2);
	ST_EQ(smb2_lock_parse(mem, b, len, &r), NT_STATUS_INVALID_PARAMETER);
	ST_EQ(smb2_lock_parse(mem, b, SMB2_LOCK_REQ_FIXED - 1, &r),
	      NT_STATUS_INVALID_PARAMETER);
	len = lock_body(b, 2, 0x1234567, (uint32_t[]){ FEX | FFI, FEX | FFI },
			2);
	ST_EQ(smb2_lock_parse(mem, b, len, &r), NT_STATUS_OK);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.sequence, 0x1234567);
	assert_ptr_equal(r.file_id, b + 8);
	talloc_free(mem);
}

/* [MS-SMB2] 3.3.5.14, smbtorture smb2.lock.replay_smb3_specification_* */
static void test_lock_sequence(void **state)
{
	uint8_t seq[SMB2_LOCK_SEQUENCE_ENTRIES];
	int idx;

	smb2_lock_sequence_init(seq);
	/* index 0 and 65: never checked */
	assert_false(smb2_lock_sequence_check(seq, 0x001, &idx));
	assert_int_equal(idx, -1);
	assert_false(smb2_lock_sequence_check(seq, 0x411, &idx));
	assert_int_equal(idx, -1);
	/* index 1, number 1: first time processed, then a replay */
	assert_false(smb2_lock_sequence_check(seq, 0x011, &idx));
	assert_int_equal(idx, 0);
	smb2_lock_sequence_done(seq, idx, 0x011);
	assert_true(smb2_lock_sequence_check(seq, 0x011, &idx));
	/* a new number in the same entry is processed and forgets the
	 * old one even if it fails */
	assert_false(smb2_lock_sequence_check(seq, 0x012, &idx));
	assert_false(smb2_lock_sequence_check(seq, 0x011, &idx));
	/* index 64 is the last valid one */
	assert_false(smb2_lock_sequence_check(seq, 0x401, &idx));
	assert_int_equal(idx, 63);
	smb2_lock_sequence_done(seq, idx, 0x401);
	assert_true(smb2_lock_sequence_check(seq, 0x401, &idx));
	assert_false(smb2_lock_sequence_check(seq, 0x021, &idx));
}

static void test_key(void **state)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	uint64_t dev, ino;
	char *stream;
	size_t len;
	uint8_t *k = brl_key_make(mem, 0x0102030405060708ull, 42, NULL, &len);

	assert_int_equal(len, 16);
	assert_int_equal(k[0], 0x08); /* little-endian */
	assert_true(brl_key_parse(mem, k, len, &dev, &ino, &stream));
	assert_true(dev == 0x0102030405060708ull && ino == 42);
	assert_null(stream);
	k = brl_key_make(mem, 1, 2, "s1", &len);
	assert_int_equal(len, 19);
	assert_true(brl_key_parse(mem, k, len, &dev, &ino, &stream));
	assert_string_equal(stream, "s1");
	assert_false(brl_key_parse(mem, k, 15, &dev, &ino, &stream));
	assert_false(brl_key_parse(mem, k, 17, &dev, &ino, &stream));
	k[16] = 'x';
	assert_false(brl_key_parse(mem, k, len, &dev, &ino, &stream));
	/* the file id's device as the share-mode database has it */
	assert_true(brl_file_dev(makedev(254, 3)) == ((254ull << 32) | 3));
	talloc_free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_valid),
		cmocka_unit_test(test_zero_length_overlap),
		cmocka_unit_test(test_conflicts_and_stacking),
		cmocka_unit_test(test_invalid_range_and_top),
		cmocka_unit_test(test_multi_element),
		cmocka_unit_test(test_io_check),
		cmocka_unit_test(test_remove_owner_and_dead),
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_lock_sequence),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
