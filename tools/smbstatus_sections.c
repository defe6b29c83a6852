/*
 * The smbstatus sections of the file-semantics databases
 * (smbstatus_sections.h): share modes (locking.tdb), leases (leases.tdb)
 * and byte-range locks (brlock.tdb), each decoded with the module's own
 * record code, never by knowing its bytes here.
 */
#include "tools/smbstatus_sections.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dbwrap/dbwrap.h"
#include "lib/param/loadparm.h"
#include "lib/util/byteorder.h"
#include "smbd/brlock.h"
#include "smbd/lease_record.h"
#include "smbd/oplock.h"
#include "smbd/share_mode_record.h"
#include "smbd/smbd_cluster.h"

/* A database of the lock directory, or NULL (and no error) if no server
 * ever created it. */
static struct db_context *open_lock_db(TALLOC_CTX *mem_ctx,
				       const struct smb_conf *conf,
				       const char *name, bool *failed)
{
	char *path = talloc_asprintf(mem_ctx, "%s/%s.tdb",
				     conf->global.lock_directory, name);
	struct stat st;
	struct db_context *db;

	*failed = false;
	/* replicated (clustering): clusterd has it, or makes it empty */
	if (path == NULL ||
	    (!conf->global.clustering && stat(path, &st) != 0)) {
		return NULL;
	}
	db = smbd_db_open(mem_ctx, NULL, conf, name);
	if (db == NULL) {
		fprintf(stderr, "smbstatus: cannot open %s\n", name);
		*failed = true;
	}
	return db;
}

static char *hex_str(TALLOC_CTX *mem_ctx, const uint8_t *b, size_t n)
{
	char *s = talloc_array(mem_ctx, char, 2 * n + 1);
	size_t i;

	if (s == NULL) {
		return NULL;
	}
	for (i = 0; i < n; i++) {
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	}
	return s;
}

static const char *oplock_name(uint8_t t)
{
	switch (t) {
	case SHARE_MODE_OPLOCK_NONE: return "none";
	case SHARE_MODE_OPLOCK_LEVEL_II: return "level2";
	case SHARE_MODE_OPLOCK_EXCLUSIVE: return "exclusive";
	case SHARE_MODE_OPLOCK_BATCH: return "batch";
	case SHARE_MODE_OPLOCK_LEASE: return "lease";
	default: return "?";
	}
}

static char *lease_state_str(TALLOC_CTX *mem_ctx, uint32_t state)
{
	if ((state & SMB2_LEASE_MASK) == 0) {
		return talloc_strdup(mem_ctx, "none");
	}
	return talloc_asprintf(mem_ctx, "%s%s%s",
			       (state & SMB2_LEASE_READ) ? "R" : "",
			       (state & SMB2_LEASE_WRITE) ? "W" : "",
			       (state & SMB2_LEASE_HANDLE) ? "H" : "");
}

struct section_walk {
	TALLOC_CTX *mem_ctx;
	bool all;
	json_t *json;
	struct db_context *share_modes; /* to name brlock files */
	bool header_done;
};

/* Share modes */

static int share_mode_fn(struct db_record *rec, void *private_data)
{
	struct section_walk *w = private_data;
	TALLOC_CTX *frame = talloc_new(w->mem_ctx);
	struct db_data key = dbwrap_record_get_key(rec);
	struct db_data v = dbwrap_record_get_value(rec);
	struct share_mode_data *d;
	uint64_t dev = 0, ino = 0;
	uint32_t i;

	if (key.dsize != SHARE_MODE_KEY_SIZE ||
	    !NT_STATUS_IS_OK(share_mode_record_pull(frame, v.dptr, v.dsize,
						    &d))) {
		talloc_free(frame);
		return 0;
	}
	share_mode_key_pull(key.dptr, &dev, &ino);
	for (i = 0; i < d->num_entries; i++) {
		const struct share_mode_entry *e = &d->entries[i];
		bool alive = status_owner_alive(&e->owner);
		const char *name = d->relpath != NULL ? d->relpath : "";
		bool pending = share_mode_data_delete_pending(
			d, e->stream_name != NULL ? e->stream_name : "");

		if (!alive && !w->all) {
			continue;
		}
		if (e->stream_name != NULL) {
			name = talloc_asprintf(frame, "%s:%s", name,
					       e->stream_name);
		}
		if (w->json != NULL) {
			json_array_append_new(
				w->json,
				json_pack("{s:I, s:o, s:s, s:s, s:s, s:s,"
					  " s:s, s:s, s:s, s:b, s:s, s:s}",
					  "pid", (json_int_t)e->owner.pid,
					  "owner",
					  status_server_id_json(&e->owner),
					  "file_id",
					  talloc_asprintf(frame, "%" PRIx64
							  ":%" PRIx64,
							  dev, ino),
					  "share_path",
					  d->share_path ? d->share_path : "",
					  "path", name, "persistent_id",
					  talloc_asprintf(frame, "0x%" PRIx64,
							  e->file_id),
					  "access_mask",
					  talloc_asprintf(frame, "0x%08x",
							  e->access_mask),
					  "share_access",
					  status_share_access_str(
						  frame, e->share_access),
					  "oplock", oplock_name(e->oplock_type),
					  "delete_pending", pending,
					  "lease_key",
					  e->oplock_type ==
							  SHARE_MODE_OPLOCK_LEASE
						  ? hex_str(frame,
							    e->lease_key, 16)
						  : "",
					  "state", alive ? "open" : "gone"));
		} else {
			if (!w->header_done) {
				printf("\n%-8s %-10s %-5s %-9s %-7s %s\n",
				       "PID", "Access", "Share", "Oplock",
				       "DelPend", "Name");
				printf("-----------------------------------"
				       "-----------------------------------"
				       "---\n");
				w->header_done = true;
			}
			printf("%-8s 0x%08x %-5s %-9s %-7s %s/%s%s\n",
			       status_pid_str(frame, &e->owner),
			       e->access_mask,
			       status_share_access_str(frame, e->share_access),
			       oplock_name(e->oplock_type),
			       pending ? "yes" : "no",
			       d->share_path ? d->share_path : "", name,
			       alive ? "" : " (gone)");
		}
	}
	talloc_free(frame);
	return 0;
}

static int show_share_modes(TALLOC_CTX *mem_ctx, const struct smb_conf *conf,
			    bool all, json_t *json)
{
	struct section_walk w = {.mem_ctx = mem_ctx, .all = all,
				 .json = json};
	bool failed;
	struct db_context *db = open_lock_db(mem_ctx, conf, "locking",
					     &failed);

	if (db == NULL) {
		return failed ? -1 : 0;
	}
	if (!NT_STATUS_IS_OK(dbwrap_traverse_read(db, share_mode_fn, &w,
						  NULL))) {
		talloc_free(db);
		return -1;
	}
	/* closed again: tdb refuses a second open of one file in a
	 * process, and the byte-range lock section opens it to name files */
	talloc_free(db);
	return 0;
}

/* Leases */

static int lease_fn(struct db_record *rec, void *private_data)
{
	struct section_walk *w = private_data;
	TALLOC_CTX *frame = talloc_new(w->mem_ctx);
	struct db_data key = dbwrap_record_get_key(rec);
	struct db_data v = dbwrap_record_get_value(rec);
	struct lease_record *r;
	uint32_t i;

	if (key.dsize != LEASE_DB_KEY_SIZE ||
	    !NT_STATUS_IS_OK(lease_record_pull(frame, v.dptr, v.dsize, &r))) {
		talloc_free(frame);
		return 0;
	}
	if (w->json != NULL) {
		json_t *files = json_array();

		for (i = 0; i < r->num_files; i++) {
			const struct lease_file *f = &r->files[i];

			json_array_append_new(
				files,
				json_pack("{s:s, s:s, s:s, s:I}", "share_path",
					  f->share_path ? f->share_path : "",
					  "path", f->relpath ? f->relpath : "",
					  "stream",
					  f->stream_name ? f->stream_name : "",
					  "opens", (json_int_t)f->opens));
		}
		json_array_append_new(
			w->json,
			json_pack("{s:s, s:s, s:I, s:s, s:I, s:b, s:s, s:o}",
				  "client_guid", hex_str(frame, key.dptr, 16),
				  "lease_key",
				  hex_str(frame, key.dptr + 16, 16),
				  "version", (json_int_t)r->version, "state",
				  lease_state_str(frame, r->current_state),
				  "epoch", (json_int_t)r->epoch, "breaking",
				  r->breaking, "breaking_to",
				  r->breaking
					  ? lease_state_str(
						    frame,
						    r->breaking_to_required)
					  : "",
				  "files", files));
	} else {
		if (!w->header_done) {
			printf("\n%-32s %-32s %-5s %-5s %-9s %s\n",
			       "ClientGuid", "LeaseKey", "State", "Epoch",
			       "Breaking", "Files");
			printf("-----------------------------------"
			       "-----------------------------------"
			       "-----------------------------------\n");
			w->header_done = true;
		}
		printf("%-32s %-32s %-5s %-5u %-9s",
		       hex_str(frame, key.dptr, 16),
		       hex_str(frame, key.dptr + 16, 16),
		       lease_state_str(frame, r->current_state), r->epoch,
		       r->breaking ? lease_state_str(frame,
						     r->breaking_to_required)
				   : "-");
		for (i = 0; i < r->num_files; i++) {
			printf(" %s/%s", r->files[i].share_path
						 ? r->files[i].share_path
						 : "",
			       r->files[i].relpath ? r->files[i].relpath : "");
		}
		printf("\n");
	}
	talloc_free(frame);
	return 0;
}

static int show_leases(TALLOC_CTX *mem_ctx, const struct smb_conf *conf,
		       bool all, json_t *json)
{
	struct section_walk w = {.mem_ctx = mem_ctx, .all = all,
				 .json = json};
	bool failed;
	struct db_context *db = open_lock_db(mem_ctx, conf, "leases",
					     &failed);

	if (db == NULL) {
		return failed ? -1 : 0;
	}
	if (!NT_STATUS_IS_OK(dbwrap_traverse_read(db, lease_fn, &w, NULL))) {
		return -1;
	}
	return 0;
}

/* Byte-range locks */

struct path_of_file {
	TALLOC_CTX *mem_ctx;
	char *path;
};

static void path_parser(struct db_data key, struct db_data data,
			void *private_data)
{
	struct path_of_file *p = private_data;
	struct share_mode_data *d;

	if (NT_STATUS_IS_OK(share_mode_record_pull(p->mem_ctx, data.dptr,
						   data.dsize, &d))) {
		p->path = talloc_asprintf(p->mem_ctx, "%s/%s",
					  d->share_path ? d->share_path : "",
					  d->relpath ? d->relpath : "");
	}
}

static int brlock_fn(struct db_record *rec, void *private_data)
{
	struct section_walk *w = private_data;
	TALLOC_CTX *frame = talloc_new(w->mem_ctx);
	struct db_data key = dbwrap_record_get_key(rec);
	struct db_data v = dbwrap_record_get_value(rec);
	struct brl_set set;
	struct path_of_file p = {.mem_ctx = frame};
	uint64_t dev, ino;
	const char *stream = NULL;
	uint32_t i;

	if (key.dsize < 16 ||
	    !NT_STATUS_IS_OK(brl_set_decode(frame, v.dptr, v.dsize, &set))) {
		talloc_free(frame);
		return 0;
	}
	dev = PULL_LE64(key.dptr, 0);
	ino = PULL_LE64(key.dptr, 8);
	if (key.dsize > 17 && key.dptr[16] == ':') {
		stream = talloc_strndup(frame, (const char *)key.dptr + 17,
					key.dsize - 17);
	}
	/* The file's name is in its share-mode record (an open holds every
	 * lock, so the record exists while the locks do). */
	if (w->share_modes != NULL) {
		(void)dbwrap_parse_record(w->share_modes,
					  db_data_make(key.dptr, 16),
					  path_parser, &p);
	}
	if (p.path == NULL) {
		p.path = talloc_asprintf(frame, "file %" PRIx64 ":%" PRIx64,
					 dev, ino);
	}
	if (stream != NULL) {
		p.path = talloc_asprintf(frame, "%s:%s", p.path, stream);
	}
	for (i = 0; i < set.num; i++) {
		const struct brl_lock *l = &set.locks[i];
		bool alive = status_owner_alive(&l->owner.pid);

		if (!alive && !w->all) {
			continue;
		}
		if (w->json != NULL) {
			json_array_append_new(
				w->json,
				json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:s,"
					  " s:s}",
					  "pid", (json_int_t)l->owner.pid.pid,
					  "owner",
					  status_server_id_json(&l->owner.pid),
					  "persistent_id",
					  talloc_asprintf(frame, "0x%" PRIx64,
							  l->owner.open_id),
					  "path", p.path, "type",
					  l->type == BRL_EXCLUSIVE ? "exclusive"
								   : "shared",
					  "start",
					  talloc_asprintf(frame, "%" PRIu64,
							  l->start),
					  "length",
					  talloc_asprintf(frame, "%" PRIu64,
							  l->length),
					  "state", alive ? "held" : "gone"));
		} else {
			if (!w->header_done) {
				printf("\n%-8s %-10s %-20s %-20s %s\n", "PID",
				       "Type", "Start", "Length", "Name");
				printf("-----------------------------------"
				       "-----------------------------------"
				       "---\n");
				w->header_done = true;
			}
			printf("%-8s %-10s %-20" PRIu64 " %-20" PRIu64
			       " %s%s\n",
			       status_pid_str(frame, &l->owner.pid),
			       l->type == BRL_EXCLUSIVE ? "exclusive"
							: "shared",
			       l->start, l->length, p.path,
			       alive ? "" : " (gone)");
		}
	}
	talloc_free(frame);
	return 0;
}

static int show_brlocks(TALLOC_CTX *mem_ctx, const struct smb_conf *conf,
			bool all, json_t *json)
{
	struct section_walk w = {.mem_ctx = mem_ctx, .all = all,
				 .json = json};
	bool failed;
	struct db_context *db = open_lock_db(mem_ctx, conf, "brlock",
					     &failed);

	if (db == NULL) {
		return failed ? -1 : 0;
	}
	w.share_modes = open_lock_db(mem_ctx, conf, "locking", &failed);
	if (!NT_STATUS_IS_OK(dbwrap_traverse_read(db, brlock_fn, &w,
						  NULL))) {
		return -1;
	}
	return 0;
}

const struct status_section status_sections[] = {
	{"share_modes", show_share_modes},
	{"leases", show_leases},
	{"byte_range_locks", show_brlocks},
	{NULL, NULL},
};
