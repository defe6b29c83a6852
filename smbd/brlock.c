/*
 * Byte-range lock logic on the locks of one stream (brlock.h, layer 1).
 * Pure functions: no I/O, no process state.
 */
#include "smbd/brlock.h"

#include <string.h>
#include <sys/sysmacros.h>

#include "lib/util/byteorder.h"
#include "lib/util/marshall.h"

#define BRL_RECORD_VERSION 1
/* owner (20 + 8) + start + length + type */
#define BRL_LOCK_WIRE_SIZE (SERVER_ID_WIRE_SIZE + 8 + 8 + 8 + 1)

static bool brl_pid_equal(const struct server_id *a,
			  const struct server_id *b)
{
	return a->node == b->node && a->pid == b->pid && a->task == b->task &&
	       a->unique == b->unique;
}

bool brl_owner_equal(const struct brl_owner *a, const struct brl_owner *b)
{
	return a->open_id == b->open_id && brl_pid_equal(&a->pid, &b->pid);
}

bool brl_range_valid(uint64_t start, uint64_t length)
{
	return length == 0 || start + (length - 1) >= start;
}

bool brl_ranges_overlap(uint64_t start1, uint64_t len1, uint64_t start2,
			uint64_t len2)
{
	/*
	 * [MS-FSA] 2.1.4.10 compares inclusive last bytes, start + len - 1.
	 * For a zero-length range that is start - 1, which makes a
	 * zero-length range at O overlap exactly the ranges with
	 * start < O <= last; at O = 0 it would wrap, hence the rule that
	 * {0, 0} overlaps nothing.  Written out case by case so that no
	 * subtraction wraps.
	 */
	if (len1 == 0 && len2 == 0) {
		return false;
	}
	if (len1 == 0) {
		return start2 < start1 && start1 - start2 <= len2 - 1;
	}
	if (len2 == 0) {
		return start1 < start2 && start2 - start1 <= len1 - 1;
	}
	/* last1 >= start2 and last2 >= start1 */
	if (start1 <= start2) {
		return start2 - start1 <= len1 - 1;
	}
	return start1 - start2 <= len2 - 1;
}

bool brl_conflicts(const struct brl_lock *held, const struct brl_owner *owner,
		   uint64_t start, uint64_t length, bool exclusive,
		   bool lock_intent)
{
	if (!brl_ranges_overlap(held->start, held->length, start, length)) {
		return false;
	}
	if (held->type == BRL_EXCLUSIVE) {
		if (!brl_owner_equal(&held->owner, owner)) {
			return true;
		}
		/* its own open may read and write under it and stack
		 * shared locks on it, but not a second exclusive lock
		 * (smbtorture smb2.lock.stacking) */
		return lock_intent && exclusive;
	}
	/* a shared lock: readers and shared lockers of any open pass */
	return exclusive;
}

/* Make room for n more locks. */
static bool brl_set_grow(TALLOC_CTX *mem_ctx, struct brl_set *set, uint32_t n)
{
	size_t have = set->locks != NULL ? talloc_array_length(set->locks) : 0;
	struct brl_lock *l;

	if (set->num + n <= have) {
		return true;
	}
	if (set->num > UINT32_MAX - n) {
		return false;
	}
	l = talloc_realloc(mem_ctx, set->locks, struct brl_lock,
			   set->num + n);
	if (l == NULL) {
		return false;
	}
	set->locks = l;
	return true;
}

static void brl_set_remove_at(struct brl_set *set, uint32_t i)
{
	memmove(&set->locks[i], &set->locks[i + 1],
		(set->num - i - 1) * sizeof(set->locks[0]));
	set->num--;
}

static NTSTATUS brl_set_lock_one(struct brl_set *set,
				 const struct brl_owner *owner,
				 const struct brl_elem *e,
				 struct brl_lock *blocker)
{
	bool exclusive = e->op == BRL_OP_EXCLUSIVE;
	uint32_t i;

	if (!brl_range_valid(e->start, e->length)) {
		return NT_STATUS_INVALID_LOCK_RANGE;
	}
	for (i = 0; i < set->num; i++) {
		if (brl_conflicts(&set->locks[i], owner, e->start, e->length,
				  exclusive, true)) {
			if (blocker != NULL) {
				*blocker = set->locks[i];
			}
			return NT_STATUS_LOCK_NOT_GRANTED;
		}
	}
	/* room was made by the caller */
	set->locks[set->num++] = (struct brl_lock){
		.owner = *owner,
		.start = e->start,
		.length = e->length,
		.type = exclusive ? BRL_EXCLUSIVE : BRL_SHARED,
	};
	return NT_STATUS_OK;
}

static NTSTATUS brl_set_unlock_one(struct brl_set *set,
				   const struct brl_owner *owner,
				   const struct brl_elem *e)
{
	uint32_t i, found = UINT32_MAX;

	if (e->op != BRL_OP_UNLOCK) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!brl_range_valid(e->start, e->length)) {
		return NT_STATUS_INVALID_LOCK_RANGE;
	}
	/* [MS-FSA] 2.1.5.9: the same open and exactly the same range; an
	 * exclusive lock goes before shared ones stacked on it */
	for (i = 0; i < set->num; i++) {
		const struct brl_lock *l = &set->locks[i];

		if (l->start != e->start || l->length != e->length ||
		    !brl_owner_equal(&l->owner, owner)) {
			continue;
		}
		if (l->type == BRL_EXCLUSIVE) {
			found = i;
			break;
		}
		if (found == UINT32_MAX) {
			found = i;
		}
	}
	if (found == UINT32_MAX) {
		return NT_STATUS_RANGE_NOT_LOCKED;
	}
	brl_set_remove_at(set, found);
	return NT_STATUS_OK;
}

NTSTATUS brl_set_apply(TALLOC_CTX *mem_ctx, struct brl_set *set,
		       const struct brl_owner *owner,
		       const struct brl_elem *elems, uint32_t num_elems,
		       bool is_unlock, struct brl_lock *blocker,
		       bool *changed)
{
	uint32_t before = set->num;
	NTSTATUS status = NT_STATUS_OK;
	uint32_t i;

	if (changed != NULL) {
		*changed = false;
	}
	if (is_unlock) {
		for (i = 0; i < num_elems; i++) {
			status = brl_set_unlock_one(set, owner, &elems[i]);
			if (!NT_STATUS_IS_OK(status)) {
				break;
			}
		}
		if (changed != NULL) {
			*changed = set->num != before;
		}
		return status;
	}

	if (num_elems > BRL_MAX_LOCKS_PER_STREAM - set->num) {
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	}
	if (!brl_set_grow(mem_ctx, set, num_elems)) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < num_elems; i++) {
		if (elems[i].op != BRL_OP_SHARED &&
		    elems[i].op != BRL_OP_EXCLUSIVE) {
			status = NT_STATUS_INVALID_PARAMETER;
			break;
		}
		status = brl_set_lock_one(set, owner, &elems[i], blocker);
		if (!NT_STATUS_IS_OK(status)) {
			break;
		}
	}
	if (!NT_STATUS_IS_OK(status)) {
		/* all or nothing: the new locks are at the end */
		set->num = before;
		return status;
	}
	if (changed != NULL) {
		*changed = num_elems > 0;
	}
	return NT_STATUS_OK;
}

NTSTATUS brl_set_check_io(const struct brl_set *set,
			  const struct brl_owner *owner, uint64_t start,
			  uint64_t length, bool write)
{
	uint32_t i;

	if (length == 0) {
		return NT_STATUS_OK;
	}
	for (i = 0; i < set->num; i++) {
		if (brl_conflicts(&set->locks[i], owner, start, length, write,
				  false)) {
			return NT_STATUS_FILE_LOCK_CONFLICT;
		}
	}
	return NT_STATUS_OK;
}

uint32_t brl_set_remove_owner(struct brl_set *set,
			      const struct brl_owner *owner)
{
	uint32_t i = 0, removed = 0;

	while (i < set->num) {
		if (brl_owner_equal(&set->locks[i].owner, owner)) {
			brl_set_remove_at(set, i);
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}

uint32_t brl_set_remove_dead(struct brl_set *set,
			     bool (*alive)(const struct server_id *pid,
					   void *private_data),
			     void *private_data)
{
	uint32_t i = 0, removed = 0;

	while (i < set->num) {
		if (!alive(&set->locks[i].owner.pid, private_data)) {
			brl_set_remove_at(set, i);
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}

NTSTATUS brl_set_encode(TALLOC_CTX *mem_ctx, const struct brl_set *set,
			uint8_t **out, size_t *out_len)
{
	struct marshall_push *p =
		marshall_push_init(mem_ctx, REC_BRLOCK, BRL_RECORD_VERSION);
	uint32_t i;

	marshall_push_u32(p, set->num);
	for (i = 0; i < set->num; i++) {
		const struct brl_lock *l = &set->locks[i];

		marshall_push_u32(p, l->owner.pid.node);
		marshall_push_u32(p, l->owner.pid.pid);
		marshall_push_u32(p, l->owner.pid.task);
		marshall_push_u64(p, l->owner.pid.unique);
		marshall_push_u64(p, l->owner.open_id);
		marshall_push_u64(p, l->start);
		marshall_push_u64(p, l->length);
		marshall_push_u8(p, (uint8_t)l->type);
	}
	return marshall_push_finish(p, out, out_len);
}

NTSTATUS brl_set_decode(TALLOC_CTX *mem_ctx, const uint8_t *buf, size_t len,
			struct brl_set *set)
{
	struct marshall_pull r;
	uint32_t count, i;
	NTSTATUS status;

	*set = (struct brl_set){ 0 };
	if (len == 0) {
		return NT_STATUS_OK;
	}
	status = marshall_pull_init(&r, buf, len, REC_BRLOCK,
				    BRL_RECORD_VERSION);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (!marshall_pull_count(&r, &count, BRL_LOCK_WIRE_SIZE)) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	if (count > 0) {
		set->locks = talloc_array(mem_ctx, struct brl_lock, count);
		if (set->locks == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	for (i = 0; i < count; i++) {
		struct brl_lock *l = &set->locks[i];
		uint8_t type = 0;

		marshall_pull_u32(&r, &l->owner.pid.node);
		marshall_pull_u32(&r, &l->owner.pid.pid);
		marshall_pull_u32(&r, &l->owner.pid.task);
		marshall_pull_u64(&r, &l->owner.pid.unique);
		marshall_pull_u64(&r, &l->owner.open_id);
		marshall_pull_u64(&r, &l->start);
		marshall_pull_u64(&r, &l->length);
		if (!marshall_pull_u8(&r, &type) ||
		    (type != BRL_SHARED && type != BRL_EXCLUSIVE) ||
		    !brl_range_valid(l->start, l->length)) {
			TALLOC_FREE(set->locks);
			return NT_STATUS_INTERNAL_DB_CORRUPTION;
		}
		l->type = (enum brl_type)type;
	}
	status = marshall_pull_finish(&r);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(set->locks);
		return status;
	}
	set->num = count;
	return NT_STATUS_OK;
}

uint64_t brl_file_dev(dev_t dev)
{
	return ((uint64_t)major(dev) << 32) | (uint64_t)minor(dev);
}

uint8_t *brl_key_make(TALLOC_CTX *mem_ctx, uint64_t dev, uint64_t ino,
		      const char *stream, size_t *key_len)
{
	size_t slen = stream != NULL ? strlen(stream) : 0;
	size_t len = BRL_KEY_FILE_ID_SIZE + (stream != NULL ? 1 + slen : 0);
	uint8_t *key = talloc_array(mem_ctx, uint8_t, len);

	if (key == NULL) {
		return NULL;
	}
	PUSH_LE64(key, 0, dev);
	PUSH_LE64(key, 8, ino);
	if (stream != NULL) {
		key[BRL_KEY_FILE_ID_SIZE] = ':';
		memcpy(key + BRL_KEY_FILE_ID_SIZE + 1, stream, slen);
	}
	*key_len = len;
	return key;
}

bool brl_key_parse(TALLOC_CTX *mem_ctx, const uint8_t *key, size_t key_len,
		   uint64_t *dev, uint64_t *ino, char **stream)
{
	*stream = NULL;
	if (key_len < BRL_KEY_FILE_ID_SIZE ||
	    (key_len > BRL_KEY_FILE_ID_SIZE &&
	     (key_len == BRL_KEY_FILE_ID_SIZE + 1 ||
	      key[BRL_KEY_FILE_ID_SIZE] != ':' ||
	      memchr(key + BRL_KEY_FILE_ID_SIZE + 1, '\0',
		     key_len - BRL_KEY_FILE_ID_SIZE - 1) != NULL))) {
		return false;
	}
	*dev = PULL_LE64(key, 0);
	*ino = PULL_LE64(key, 8);
	if (key_len > BRL_KEY_FILE_ID_SIZE) {
		*stream = talloc_strndup(
			mem_ctx, (const char *)key + BRL_KEY_FILE_ID_SIZE + 1,
			key_len - BRL_KEY_FILE_ID_SIZE - 1);
		if (*stream == NULL) {
			return false;
		}
	}
	return true;
}
