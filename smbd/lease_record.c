/*
 * Lease wire contexts, the leases.tdb record and lease state transitions
 * (lease_record.h).
 */
#include "smbd/lease_record.h"

#include <string.h>

#include "lib/util/byteorder.h"
#include "lib/util/marshall.h"
#include "smbd/oplock.h"

NTSTATUS smb2_lease_pull(const uint8_t *buf, size_t len,
			 struct smb2_lease *lease)
{
	memset(lease, 0, sizeof(*lease));
	if (len == SMB2_LEASE_V1_SIZE) {
		lease->version = 1;
	} else if (len == SMB2_LEASE_V2_SIZE) {
		lease->version = 2;
	} else {
		return NT_STATUS_INVALID_PARAMETER;
	}
	memcpy(lease->key, buf, 16);
	lease->state = PULL_LE32(buf, 16);
	if (lease->version == 1) {
		/* v1 Flags and Duration are reserved ([MS-SMB2] 2.2.13.2.8) */
		return NT_STATUS_OK;
	}
	lease->flags = PULL_LE32(buf, 20) & SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
	lease->duration = PULL_LE64(buf, 24);
	if (lease->flags & SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET) {
		memcpy(lease->parent_key, buf + 32, 16);
	}
	lease->epoch = PULL_LE16(buf, 48);
	return NT_STATUS_OK;
}

size_t smb2_lease_push(const struct smb2_lease *lease, uint8_t *buf)
{
	size_t len = lease->version == 2 ? SMB2_LEASE_V2_SIZE
					 : SMB2_LEASE_V1_SIZE;

	memset(buf, 0, len);
	memcpy(buf, lease->key, 16);
	PUSH_LE32(buf, 16, lease->state);
	PUSH_LE32(buf, 20, lease->flags);
	PUSH_LE64(buf, 24, lease->duration);
	if (lease->version == 2) {
		memcpy(buf + 32, lease->parent_key, 16);
		PUSH_LE16(buf, 48, lease->epoch);
	}
	return len;
}

bool smb2_lease_key_valid(const uint8_t key[16])
{
	static const uint8_t zero[16];

	return memcmp(key, zero, 16) != 0;
}

void lease_db_key(uint8_t key[LEASE_DB_KEY_SIZE], const uint8_t guid[16],
		  const uint8_t lease_key[16])
{
	memcpy(key, guid, 16);
	memcpy(key + 16, lease_key, 16);
}

NTSTATUS lease_record_push(TALLOC_CTX *mem_ctx, const struct lease_record *r,
			   uint8_t **out, size_t *out_len)
{
	struct marshall_push *p =
		marshall_push_init(mem_ctx, REC_LEASE, LEASE_RECORD_VERSION);
	uint32_t i;

	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_push_u16(p, r->version);
	marshall_push_u16(p, r->epoch);
	marshall_push_u32(p, r->current_state);
	marshall_push_bool(p, r->breaking);
	marshall_push_u32(p, r->breaking_to_requested);
	marshall_push_u32(p, r->breaking_to_required);
	marshall_push_bool(p, r->has_parent);
	marshall_push_bytes(p, r->parent_key, 16);
	marshall_push_u32(p, r->num_files);
	for (i = 0; i < r->num_files; i++) {
		const struct lease_file *f = &r->files[i];

		marshall_push_bytes(p, f->file_key, 16);
		marshall_push_string(p, f->share_path);
		marshall_push_string(p, f->relpath);
		marshall_push_string(p, f->stream_name);
		marshall_push_u32(p, f->opens);
	}
	return marshall_push_finish(p, out, out_len);
}

NTSTATUS lease_record_pull(TALLOC_CTX *mem_ctx, const uint8_t *buf,
			   size_t len, struct lease_record **out)
{
	struct marshall_pull pr;
	struct lease_record *r;
	NTSTATUS status;
	uint32_t i;

	*out = NULL;
	status = marshall_pull_init(&pr, buf, len, REC_LEASE,
				    LEASE_RECORD_VERSION);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	r = talloc_zero(mem_ctx, struct lease_record);
	if (r == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	marshall_pull_u16(&pr, &r->version);
	marshall_pull_u16(&pr, &r->epoch);
	marshall_pull_u32(&pr, &r->current_state);
	marshall_pull_bool(&pr, &r->breaking);
	marshall_pull_u32(&pr, &r->breaking_to_requested);
	marshall_pull_u32(&pr, &r->breaking_to_required);
	marshall_pull_bool(&pr, &r->has_parent);
	marshall_pull_bytes(&pr, r->parent_key, 16);
	/* a file is at least its key, three string lengths and a count */
	if (!marshall_pull_count(&pr, &r->num_files, 16 + 4 * 4)) {
		talloc_free(r);
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	r->files = talloc_zero_array(r, struct lease_file,
				     r->num_files > 0 ? r->num_files : 1);
	if (r->files == NULL) {
		talloc_free(r);
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < r->num_files; i++) {
		struct lease_file *f = &r->files[i];

		marshall_pull_bytes(&pr, f->file_key, 16);
		marshall_pull_string(&pr, r, &f->share_path);
		marshall_pull_string(&pr, r, &f->relpath);
		marshall_pull_string(&pr, r, &f->stream_name);
		marshall_pull_u32(&pr, &f->opens);
	}
	status = marshall_pull_finish(&pr);
	if (!NT_STATUS_IS_OK(status) || (r->version != 1 && r->version != 2) ||
	    ((r->current_state | r->breaking_to_requested |
	      r->breaking_to_required) &
	     ~SMB2_LEASE_MASK) != 0) {
		talloc_free(r);
		return NT_STATUS_IS_OK(status) ? NT_STATUS_INTERNAL_DB_CORRUPTION
					       : status;
	}
	*out = r;
	return NT_STATUS_OK;
}

static bool stream_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL) {
		return a == b;
	}
	return strcasecmp(a, b) == 0;
}

int lease_record_find_file(const struct lease_record *r,
			   const uint8_t file_key[16], const char *stream)
{
	uint32_t i;

	for (i = 0; i < r->num_files; i++) {
		if (memcmp(r->files[i].file_key, file_key, 16) == 0 &&
		    stream_equal(r->files[i].stream_name, stream)) {
			return (int)i;
		}
	}
	return -1;
}

NTSTATUS lease_record_add_file(struct lease_record *r,
			       const uint8_t file_key[16],
			       const char *share_path, const char *relpath,
			       const char *stream)
{
	struct lease_file *files, *f;

	files = talloc_realloc(r, r->files, struct lease_file,
			       r->num_files + 1);
	if (files == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	r->files = files;
	f = &files[r->num_files];
	memset(f, 0, sizeof(*f));
	memcpy(f->file_key, file_key, 16);
	f->share_path = talloc_strdup(r, share_path ? share_path : "");
	f->relpath = talloc_strdup(r, relpath ? relpath : "");
	f->stream_name = stream ? talloc_strdup(r, stream) : NULL;
	if (f->share_path == NULL || f->relpath == NULL ||
	    (stream != NULL && f->stream_name == NULL)) {
		return NT_STATUS_NO_MEMORY;
	}
	r->num_files++;
	return NT_STATUS_OK;
}

void lease_record_remove_file(struct lease_record *r, uint32_t i)
{
	if (i >= r->num_files) {
		return;
	}
	memmove(&r->files[i], &r->files[i + 1],
		(r->num_files - i - 1) * sizeof(r->files[0]));
	r->num_files--;
}

static void notice(struct lease_break_notice *n, const struct lease_record *r,
		   uint32_t from, uint32_t to, bool ack)
{
	n->send = true;
	n->ack_required = ack;
	n->from = from;
	n->to = to;
	n->epoch = r->version > 1 ? r->epoch : 0;
}

void lease_record_break(struct lease_record *r, uint32_t break_to,
			struct lease_break_notice *n)
{
	uint32_t from = r->current_state;

	memset(n, 0, sizeof(*n));
	break_to &= from;
	if (r->breaking) {
		/* already on its way down: the acknowledgement will be
		 * checked against the lower target (and broken further) */
		r->breaking_to_required &= break_to;
		return;
	}
	if (from == break_to) {
		return;
	}
	r->epoch++;
	if (from == SMB2_LEASE_READ) {
		/* nothing cached that must be written back: gone now */
		r->current_state = SMB2_LEASE_NONE;
		notice(n, r, from, SMB2_LEASE_NONE, false);
		return;
	}
	r->breaking = true;
	r->breaking_to_requested = break_to;
	r->breaking_to_required = break_to;
	notice(n, r, from, break_to, true);
}

NTSTATUS lease_record_ack(struct lease_record *r, uint32_t new_state,
			  struct lease_break_notice *next)
{
	uint32_t further;

	memset(next, 0, sizeof(*next));
	if (!r->breaking) {
		return NT_STATUS_UNSUCCESSFUL;
	}
	if ((new_state & r->breaking_to_requested) != new_state) {
		return NT_STATUS_REQUEST_NOT_ACCEPTED;
	}
	r->current_state = new_state;
	if ((new_state & ~r->breaking_to_required) == 0) {
		r->breaking = false;
		r->breaking_to_requested = 0;
		r->breaking_to_required = 0;
		return NT_STATUS_OK;
	}
	/*
	 * The target went lower while the client worked on the first
	 * break.  Windows breaks again, keeping R while W or H are
	 * still to go (smb2.lease.breaking3, v2_breaking3).
	 */
	further = r->breaking_to_required & new_state;
	if (new_state & (SMB2_LEASE_WRITE | SMB2_LEASE_HANDLE)) {
		further |= SMB2_LEASE_READ;
		further &= new_state;
		r->breaking_to_requested = further;
		notice(next, r, new_state, further, true);
		return NT_STATUS_OK;
	}
	/* R only left: it goes to none without an acknowledgement */
	r->current_state = SMB2_LEASE_NONE;
	r->breaking = false;
	r->breaking_to_requested = 0;
	r->breaking_to_required = 0;
	notice(next, r, new_state, further, false);
	return NT_STATUS_OK;
}

bool lease_record_upgrade(struct lease_record *r, uint32_t requested,
			  uint32_t granted)
{
	uint32_t existing = r->current_state;

	if ((existing & requested) != existing || granted == existing ||
	    granted != requested || r->breaking) {
		return false;
	}
	r->current_state = granted;
	r->epoch++;
	return true;
}
