/*
 * libFuzzer target: the SMB2 LOCK request parser (smbd/smb2_lock_wire.h)
 * and the lock logic it feeds (smbd/brlock.h).
 *
 * The input is a LOCK request body.  Besides memory errors it checks the
 * promises smb2_lock.c relies on, and aborts (a finding) when one breaks:
 *   - an accepted request has 1..count elements that fit in the body,
 *     each read back from the wire exactly;
 *   - a request with good flags is all unlocks (the first one UNLOCK,
 *     later ones UNLOCK or deferred-invalid) or all locks; only a lone
 *     lock blocks;
 *   - applying it to a lock set twice from two owners keeps the set
 *     consistent: a failed lock request leaves the set as it was, every
 *     lock held is a valid range, and the set survives an encode/decode
 *     round trip unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/byteorder.h"
#include "smbd/brlock.h"
#include "smbd/smb2_lock_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_smb2_lock: %s:%d: %s\n",         \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

static bool lock_equal(const struct brl_lock *a, const struct brl_lock *b)
{
	return brl_owner_equal(&a->owner, &b->owner) && a->start == b->start &&
	       a->length == b->length && a->type == b->type;
}

static bool locks_equal(const struct brl_lock *a, const struct brl_lock *b,
			uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (!lock_equal(&a[i], &b[i])) {
			return false;
		}
	}
	return true;
}

static void check_set(TALLOC_CTX *ctx, const struct brl_set *set)
{
	struct brl_set back;
	uint8_t *buf;
	size_t len;
	uint32_t i;

	for (i = 0; i < set->num; i++) {
		CHECK(brl_range_valid(set->locks[i].start,
				      set->locks[i].length));
	}
	CHECK(NT_STATUS_IS_OK(brl_set_encode(ctx, set, &buf, &len)));
	CHECK(NT_STATUS_IS_OK(brl_set_decode(ctx, buf, len, &back)));
	CHECK(back.num == set->num);
	CHECK(locks_equal(back.locks, set->locks, set->num));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	static const struct brl_owner owners[2] = {
		{ .pid = { 0, 1, 0, 1 }, .open_id = 1 },
		{ .pid = { 0, 2, 0, 2 }, .open_id = 1 },
	};
	struct smb2_lock_req r;
	struct brl_set set = { 0 };
	NTSTATUS status;
	uint16_t i;
	int round;

	status = smb2_lock_parse(ctx, data, size, &r);
	if (!NT_STATUS_IS_OK(status)) {
		talloc_free(ctx);
		return 0;
	}
	CHECK(r.count > 0);
	CHECK(24 + (size_t)r.count * 24 <= size);
	for (i = 0; i < r.count; i++) {
		const uint8_t *e = data + 24 + (size_t)i * 24;

		CHECK(r.elems[i].start == PULL_LE64(e, 0));
		CHECK(r.elems[i].length == PULL_LE64(e, 8));
	}
	if (!NT_STATUS_IS_OK(r.flags_status)) {
		CHECK(!r.blocking);
		talloc_free(ctx);
		return 0;
	}
	CHECK(!r.blocking || r.count == 1);
	for (i = 0; i < r.count; i++) {
		if (r.is_unlock) {
			CHECK(r.elems[i].op == BRL_OP_UNLOCK ||
			      (i > 0 && r.elems[i].op == BRL_OP_INVALID));
		} else {
			CHECK(r.elems[i].op == BRL_OP_SHARED ||
			      r.elems[i].op == BRL_OP_EXCLUSIVE);
		}
	}

	/* apply as both owners, twice; then as unlocks */
	for (round = 0; round < 4; round++) {
		struct brl_set before = set;
		struct brl_lock *copy = NULL;
		bool changed;

		if (set.num > 0) {
			copy = talloc_memdup(ctx, set.locks,
					     set.num * sizeof(set.locks[0]));
			CHECK(copy != NULL);
		}
		status = brl_set_apply(ctx, &set, &owners[round & 1], r.elems,
				       r.count, r.is_unlock, NULL, &changed);
		if (!r.is_unlock && !NT_STATUS_IS_OK(status)) {
			CHECK(!changed && set.num == before.num);
			CHECK(locks_equal(copy, set.locks, set.num));
		}
		check_set(ctx, &set);
	}
	for (i = 0; i < r.count; i++) {
		r.elems[i].op = BRL_OP_UNLOCK;
	}
	(void)brl_set_apply(ctx, &set, &owners[0], r.elems, r.count, true,
			    NULL, NULL);
	check_set(ctx, &set);
	CHECK(brl_set_remove_owner(&set, &owners[1]) <= 4u * r.count);
	brl_set_remove_owner(&set, &owners[0]);
	CHECK(set.num == 0);
	talloc_free(ctx);
	return 0;
}
