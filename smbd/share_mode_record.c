/*
 * REC_SHARE_MODE encoding: see share_mode_record.h for the layout.
 */
#include "smbd/share_mode_record.h"

#include <string.h>
#include <strings.h>

#include "lib/util/byteorder.h"
#include "lib/util/marshall.h"

/* Smallest encoded sizes, for marshall_pull_count(): a delete name is a
 * string (u32 length) and a uid; an entry is everything fixed plus the
 * u32 of its stream name string. */
#define DELETE_MIN_SIZE (4 + 4)
#define ENTRY_MIN_SIZE                                                         \
	(SERVER_ID_WIRE_SIZE + 8 + 8 + 4 + 4 + 4 + 4 + 4 + 1 + 1 + 16 + 16 + \
	 8 + 4 + 4)

void share_mode_key_push(uint8_t key[SHARE_MODE_KEY_SIZE], uint64_t dev,
			 uint64_t ino)
{
	PUSH_LE64(key, 0, dev);
	PUSH_LE64(key, 8, ino);
}

void share_mode_key_pull(const uint8_t key[SHARE_MODE_KEY_SIZE],
			 uint64_t *dev, uint64_t *ino)
{
	*dev = PULL_LE64(key, 0);
	*ino = PULL_LE64(key, 8);
}

static void push_entry(struct marshall_push *p,
		       const struct share_mode_entry *e)
{
	marshall_push_u32(p, e->owner.node);
	marshall_push_u32(p, e->owner.pid);
	marshall_push_u32(p, e->owner.task);
	marshall_push_u64(p, e->owner.unique);
	marshall_push_u64(p, e->file_id);
	marshall_push_u64(p, e->session_id);
	marshall_push_u32(p, e->tree_id);
	marshall_push_u32(p, e->access_mask);
	marshall_push_u32(p, e->share_access);
	marshall_push_u32(p, e->create_options);
	marshall_push_string(p, e->stream_name);
	marshall_push_bool(p, e->is_directory);
	marshall_push_u8(p, e->oplock_type);
	marshall_push_bytes(p, e->client_guid, 16);
	marshall_push_bytes(p, e->lease_key, 16);
	marshall_push_u64(p, e->open_time);
	marshall_push_u32(p, e->uid);
	marshall_push_u32(p, e->flags);
}

NTSTATUS share_mode_record_push(TALLOC_CTX *mem_ctx,
				const struct share_mode_data *d, uint8_t **out,
				size_t *out_len)
{
	struct marshall_push *p;
	uint32_t i;

	p = marshall_push_init(mem_ctx, REC_SHARE_MODE,
			       SHARE_MODE_RECORD_VERSION);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u64(p, d->seqnum);
	marshall_push_string(p, d->share_path);
	marshall_push_string(p, d->relpath);
	marshall_push_u32(p, d->num_deletes);
	for (i = 0; i < d->num_deletes; i++) {
		marshall_push_string(p, d->deletes[i].name);
		marshall_push_u32(p, d->deletes[i].uid);
	}
	marshall_push_u32(p, d->num_entries);
	for (i = 0; i < d->num_entries; i++) {
		push_entry(p, &d->entries[i]);
	}
	return marshall_push_finish(p, out, out_len);
}

static bool pull_entry(struct marshall_pull *r, TALLOC_CTX *mem_ctx,
		       struct share_mode_entry *e)
{
	bool ok = true;

	ok &= marshall_pull_u32(r, &e->owner.node);
	ok &= marshall_pull_u32(r, &e->owner.pid);
	ok &= marshall_pull_u32(r, &e->owner.task);
	ok &= marshall_pull_u64(r, &e->owner.unique);
	ok &= marshall_pull_u64(r, &e->file_id);
	ok &= marshall_pull_u64(r, &e->session_id);
	ok &= marshall_pull_u32(r, &e->tree_id);
	ok &= marshall_pull_u32(r, &e->access_mask);
	ok &= marshall_pull_u32(r, &e->share_access);
	ok &= marshall_pull_u32(r, &e->create_options);
	ok &= marshall_pull_string(r, mem_ctx, &e->stream_name);
	ok &= marshall_pull_bool(r, &e->is_directory);
	ok &= marshall_pull_u8(r, &e->oplock_type);
	ok &= marshall_pull_bytes(r, e->client_guid, 16);
	ok &= marshall_pull_bytes(r, e->lease_key, 16);
	ok &= marshall_pull_u64(r, &e->open_time);
	ok &= marshall_pull_u32(r, &e->uid);
	ok &= marshall_pull_u32(r, &e->flags);
	if (ok && e->oplock_type > SHARE_MODE_OPLOCK_LEASE) {
		ok = false;
	}
	return ok;
}

NTSTATUS share_mode_record_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
				size_t len, struct share_mode_data **out)
{
	struct marshall_pull r;
	struct share_mode_data *d;
	NTSTATUS status;
	uint32_t i;
	bool ok = true;

	*out = NULL;
	status = marshall_pull_init(&r, buf, len, REC_SHARE_MODE,
				    SHARE_MODE_RECORD_VERSION);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	d = talloc_zero(mem_ctx, struct share_mode_data);
	if (d == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	ok &= marshall_pull_u64(&r, &d->seqnum);
	ok &= marshall_pull_string(&r, d, &d->share_path);
	ok &= marshall_pull_string(&r, d, &d->relpath);
	ok &= marshall_pull_count(&r, &d->num_deletes, DELETE_MIN_SIZE);
	if (ok && d->num_deletes > 0) {
		d->deletes = talloc_zero_array(d, struct share_mode_delete,
					       d->num_deletes);
		if (d->deletes == NULL) {
			talloc_free(d);
			return NT_STATUS_NO_MEMORY;
		}
	}
	for (i = 0; ok && i < d->num_deletes; i++) {
		ok &= marshall_pull_string(&r, d->deletes, &d->deletes[i].name);
		ok &= marshall_pull_u32(&r, &d->deletes[i].uid);
		/* "" is the base file; a NULL name is not a valid record */
		ok &= d->deletes[i].name != NULL;
	}
	ok &= marshall_pull_count(&r, &d->num_entries, ENTRY_MIN_SIZE);
	if (ok && d->num_entries > 0) {
		d->entries = talloc_zero_array(d, struct share_mode_entry,
					       d->num_entries);
		if (d->entries == NULL) {
			talloc_free(d);
			return NT_STATUS_NO_MEMORY;
		}
	}
	for (i = 0; ok && i < d->num_entries; i++) {
		ok &= pull_entry(&r, d->entries, &d->entries[i]);
	}
	status = marshall_pull_finish(&r);
	if (!ok || !NT_STATUS_IS_OK(status) || d->share_path == NULL ||
	    d->relpath == NULL) {
		talloc_free(d);
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	*out = d;
	return NT_STATUS_OK;
}

NTSTATUS share_mode_data_add_entry(struct share_mode_data *d,
				   const struct share_mode_entry *e)
{
	struct share_mode_entry *n;

	if (d->num_entries == UINT32_MAX) {
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	}
	n = talloc_realloc(d, d->entries, struct share_mode_entry,
			   d->num_entries + 1);
	if (n == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	d->entries = n;
	n[d->num_entries] = *e;
	n[d->num_entries].stream_name = NULL;
	if (e->stream_name != NULL) {
		n[d->num_entries].stream_name =
			talloc_strdup(d->entries, e->stream_name);
		if (n[d->num_entries].stream_name == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	d->num_entries++;
	return NT_STATUS_OK;
}

void share_mode_data_remove_entry(struct share_mode_data *d, uint32_t i)
{
	if (i >= d->num_entries) {
		return;
	}
	TALLOC_FREE(d->entries[i].stream_name);
	memmove(&d->entries[i], &d->entries[i + 1],
		(d->num_entries - i - 1) * sizeof(d->entries[0]));
	d->num_entries--;
}

bool share_mode_stream_equal(const char *a, const char *b)
{
	if (a == NULL || a[0] == '\0' || b == NULL || b[0] == '\0') {
		return (a == NULL || a[0] == '\0') &&
		       (b == NULL || b[0] == '\0');
	}
	return strcasecmp(a, b) == 0;
}

bool share_mode_data_delete_pending(const struct share_mode_data *d,
				    const char *name)
{
	uint32_t i;

	for (i = 0; i < d->num_deletes; i++) {
		if (share_mode_stream_equal(d->deletes[i].name, name)) {
			return true;
		}
	}
	return false;
}

NTSTATUS share_mode_data_set_delete(struct share_mode_data *d,
				    const char *name, bool on, uint32_t uid)
{
	struct share_mode_delete *n;
	uint32_t i;

	for (i = 0; i < d->num_deletes; i++) {
		if (!share_mode_stream_equal(d->deletes[i].name, name)) {
			continue;
		}
		if (on) {
			d->deletes[i].uid = uid;
			return NT_STATUS_OK;
		}
		TALLOC_FREE(d->deletes[i].name);
		memmove(&d->deletes[i], &d->deletes[i + 1],
			(d->num_deletes - i - 1) * sizeof(d->deletes[0]));
		d->num_deletes--;
		return NT_STATUS_OK;
	}
	if (!on) {
		return NT_STATUS_OK;
	}
	n = talloc_realloc(d, d->deletes, struct share_mode_delete,
			   d->num_deletes + 1);
	if (n == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	d->deletes = n;
	n[d->num_deletes].name =
		talloc_strdup(d->deletes, name != NULL ? name : "");
	if (n[d->num_deletes].name == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	n[d->num_deletes].uid = uid;
	d->num_deletes++;
	return NT_STATUS_OK;
}
