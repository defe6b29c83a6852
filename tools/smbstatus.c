/*
 * smbstatus: what every smbd process of this server is doing, read from
 * the databases in the lock directory (never by asking the processes):
 * sessions, tree connects, open files, and the file-semantics state that
 * other modules register through status_sections (share modes, leases,
 * byte-range locks).
 *
 *   smbstatus [-s CONF] [-p|--processes] [-S|--shares] [-L|--locks]
 *             [--json] [--all]
 *
 * Records whose owner process is gone are not shown (they are garbage the
 * parent removes when it reaps the child); --all shows them marked.
 * Exit status: 0 shown, 1 bad usage or configuration, 2 no database (no
 * server has run with this lock directory).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_config.h"
#include "dbwrap/dbwrap.h"
#include "lib/param/loadparm.h"
#include "clusterd/cluster_state.h"
#include "clusterd/ctrl_proto.h"
#include "smbd/share_mode_record.h"
#include "smbd/smbXsrv_global.h"
#include "smbd/smbd_cluster.h"
#include "tools/smbstatus_sections.h"

#define DEFAULT_CONFIG SMB3_SYSCONFDIR "/smb.conf"

struct status_opts {
	const char *config;
	bool config_given;
	bool json;
	bool all;
	bool processes;
	bool shares;
	bool locks;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: smbstatus [-s CONF] [-p] [-S] [-L] [--json] [--all]\n"
		"  -s, --configfile CONF  smb.conf to read the lock directory "
		"from\n"
		"                         (default " DEFAULT_CONFIG ")\n"
		"  -p, --processes        sessions only\n"
		"  -S, --shares           tree connects only\n"
		"  -L, --locks            open files and locks only\n"
		"      --json             machine-readable output\n"
		"      --all              also records of processes that are "
		"gone\n");
}

/*
 * With "clustering = yes" the databases are the replicated ones and hold
 * the records of every node; which nodes are members comes from the local
 * clusterd's status, asked once at start (a tool's snapshot).
 */
struct status_cluster {
	bool clustered;
	uint32_t node;		/* this node's id */
	uint32_t *members;	/* nodes in the cluster's view (not
				 * disconnected) */
	uint32_t num_members;
};

static struct status_cluster status_cluster;

bool status_owner_alive(const struct server_id *id)
{
	uint32_t i;

	if (!status_cluster.clustered) {
		/* Records of other nodes are the cluster's business;
		 * here a local pid is alive if signal 0 reaches it. */
		if (id->node != 0) {
			return true;
		}
		return kill((pid_t)id->pid, 0) == 0 || errno == EPERM;
	}
	if (id->node == status_cluster.node) {
		return kill((pid_t)id->pid, 0) == 0 || errno == EPERM;
	}
	/* another node's process: alive as long as its node is a member
	 * (its own smbd parent removes what its dead processes left) */
	for (i = 0; i < status_cluster.num_members; i++) {
		if (status_cluster.members[i] == id->node) {
			return true;
		}
	}
	return false;
}

char *status_pid_str(TALLOC_CTX *mem_ctx, const struct server_id *id)
{
	/* "node:pid" in a cluster, as Samba's smbstatus on ctdb */
	if (status_cluster.clustered) {
		return talloc_asprintf(mem_ctx, "%u:%u", (unsigned)id->node,
				       (unsigned)id->pid);
	}
	return talloc_asprintf(mem_ctx, "%u", (unsigned)id->pid);
}

/* Ask the local clusterd who we are and which nodes are members. */
static bool status_cluster_init(TALLOC_CTX *mem_ctx,
				const struct smb_conf *conf)
{
	struct ctrl_status *st = NULL;
	NTSTATUS status;
	uint32_t i;

	if (!conf->global.clustering) {
		return true;
	}
	status = smbd_cluster_status(mem_ctx, conf->global.clusterd_socket,
				     5000, &st);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "smbstatus: clustering = yes, but clusterd "
				"does not answer at %s: %s\n",
			conf->global.clusterd_socket, nt_errstr(status));
		return false;
	}
	status_cluster.clustered = true;
	status_cluster.node = st->my_id;
	status_cluster.members = talloc_array(mem_ctx, uint32_t,
					      st->num_nodes);
	if (status_cluster.members == NULL) {
		return false;
	}
	for (i = 0; i < st->num_nodes; i++) {
		if (st->nodes[i].state != CLUSTER_NODE_DISCONNECTED) {
			status_cluster.members[status_cluster.num_members++] =
				st->nodes[i].id;
		}
	}
	return true;
}

const char *status_dialect_name(uint16_t dialect)
{
	switch (dialect) {
	case 0x0202: return "SMB2_02";
	case 0x0210: return "SMB2_10";
	case 0x0300: return "SMB3_00";
	case 0x0302: return "SMB3_02";
	case 0x0311: return "SMB3_11";
	default: return "-";
	}
}

static const char *signing_name(const struct smbXsrv_session_global *s)
{
	if (!s->has_signing_key) {
		return "-";
	}
	switch (s->signing_algo) {
	case 0: return "HMAC-SHA256";
	case 1: return "AES-128-CMAC";
	case 2: return "AES-128-GMAC";
	default: return "?";
	}
}

static const char *cipher_name(uint16_t id)
{
	switch (id) {
	case 0: return "-";
	case 1: return "AES-128-CCM";
	case 2: return "AES-128-GCM";
	case 3: return "AES-256-CCM";
	case 4: return "AES-256-GCM";
	default: return "?";
	}
}

char *status_nttime_str(TALLOC_CTX *mem_ctx, uint64_t nt)
{
	time_t t;
	struct tm tm;
	char buf[64];

	if (nt == 0) {
		return talloc_strdup(mem_ctx, "-");
	}
	t = (time_t)(nt / 10000000ull - 11644473600ull);
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return talloc_strdup(mem_ctx, buf);
}

char *status_share_access_str(TALLOC_CTX *mem_ctx, uint32_t share_access)
{
	/* What the open lets others do, as Samba's DENY_* column tells the
	 * opposite: R/W/D present = shared. */
	return talloc_asprintf(mem_ctx, "%c%c%c",
			       (share_access & 1) ? 'R' : '-',
			       (share_access & 2) ? 'W' : '-',
			       (share_access & 4) ? 'D' : '-');
}

json_t *status_server_id_json(const struct server_id *id)
{
	char unique[24];

	snprintf(unique, sizeof(unique), "%" PRIx64, id->unique);
	return json_pack("{s:I, s:I, s:I, s:s}", "node", (json_int_t)id->node,
			 "pid", (json_int_t)id->pid, "task",
			 (json_int_t)id->task, "unique", unique);
}

/* Sessions */

struct walk_state {
	TALLOC_CTX *mem_ctx;
	const struct status_opts *opts;
	json_t *array;
	int shown;
};

static int session_fn(struct db_record *rec, void *private_data)
{
	struct walk_state *w = private_data;
	TALLOC_CTX *frame = talloc_new(w->mem_ctx);
	struct db_data v = dbwrap_record_get_value(rec);
	struct smbXsrv_session_global s;
	bool alive;

	if (!NT_STATUS_IS_OK(smbXsrv_session_global_decode(frame, v.dptr,
							   v.dsize, &s))) {
		talloc_free(frame);
		return 0;
	}
	alive = status_owner_alive(&s.owner);
	if (!alive && !w->opts->all) {
		talloc_free(frame);
		return 0;
	}
	if (s.state == SMBXSRV_SESSION_GLOBAL_IN_PROGRESS && !w->opts->all) {
		talloc_free(frame);
		return 0;
	}
	w->shown++;
	if (w->array != NULL) {
		json_t *o = json_pack(
			"{s:s, s:o, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s,"
			" s:b, s:s, s:b, s:b, s:b, s:s, s:s}",
			"session_id",
			talloc_asprintf(frame, "0x%" PRIx64, s.session_id),
			"owner", status_server_id_json(&s.owner), "account",
			s.account ? s.account : "", "domain",
			s.domain ? s.domain : "", "unix_user",
			s.unix_user ? s.unix_user : "", "uid",
			(json_int_t)s.uid, "gid", (json_int_t)s.gid,
			"remote_address", s.remote_addr ? s.remote_addr : "",
			"dialect", status_dialect_name(s.dialect), "signing",
			signing_name(&s), "signing_required",
			s.signing_required, "encryption",
			cipher_name(s.cipher_id), "encryption_required",
			s.encryption_required, "guest", s.guest, "anonymous",
			s.anonymous, "auth_time",
			status_nttime_str(frame, s.auth_time), "state",
			alive ? (s.state == SMBXSRV_SESSION_GLOBAL_VALID
					 ? "valid"
					 : (s.state ==
							    SMBXSRV_SESSION_GLOBAL_EXPIRED
						    ? "expired"
						    : "in-progress"))
			      : "gone");
		json_array_append_new(w->array, o);
	} else {
		printf("%-8s %-12" PRIx64 " %-16s %-12s %-22s %-8s %-13s "
		       "%-11s%s\n",
		       status_pid_str(frame, &s.owner), s.session_id,
		       s.account ? s.account : "",
		       s.unix_user ? s.unix_user : "",
		       s.remote_addr ? s.remote_addr : "",
		       status_dialect_name(s.dialect), signing_name(&s),
		       cipher_name(s.cipher_id), alive ? "" : " (gone)");
	}
	talloc_free(frame);
	return 0;
}

/* Tree connects */

static int tcon_fn(struct db_record *rec, void *private_data)
{
	struct walk_state *w = private_data;
	TALLOC_CTX *frame = talloc_new(w->mem_ctx);
	struct db_data v = dbwrap_record_get_value(rec);
	struct smbXsrv_tcon_global t;
	bool alive;

	if (!NT_STATUS_IS_OK(
		    smbXsrv_tcon_global_decode(frame, v.dptr, v.dsize, &t))) {
		talloc_free(frame);
		return 0;
	}
	alive = status_owner_alive(&t.owner);
	if (!alive && !w->opts->all) {
		talloc_free(frame);
		return 0;
	}
	w->shown++;
	if (w->array != NULL) {
		json_array_append_new(
			w->array,
			json_pack("{s:s, s:s, s:I, s:o, s:s, s:s, s:s, s:b}",
				  "session_id",
				  talloc_asprintf(frame, "0x%" PRIx64,
						  t.session_id),
				  "tree_id",
				  talloc_asprintf(frame, "0x%x", t.tcon_id),
				  "pid", (json_int_t)t.owner.pid, "owner",
				  status_server_id_json(&t.owner), "share",
				  t.share_name ? t.share_name : "", "path",
				  t.share_path ? t.share_path : "",
				  "connected_at",
				  status_nttime_str(frame, t.connect_time),
				  "encryption_required",
				  t.encryption_required));
	} else {
		printf("%-16s %-8s %-12" PRIx64 " %-8x %-24s %s%s\n",
		       t.share_name ? t.share_name : "",
		       status_pid_str(frame, &t.owner),
		       t.session_id, t.tcon_id,
		       status_nttime_str(frame, t.connect_time),
		       t.share_path ? t.share_path : "",
		       alive ? "" : " (gone)");
	}
	talloc_free(frame);
	return 0;
}

/* Open files */

static void show_open(struct walk_state *w, TALLOC_CTX *frame,
		      const struct smbXsrv_open_global *o, bool alive)
{
	const char *name = o->stream != NULL
				   ? talloc_asprintf(frame, "%s:%s",
						     o->relpath, o->stream)
				   : o->relpath;

	w->shown++;
	if (w->array != NULL) {
		json_array_append_new(
			w->array,
			json_pack("{s:s, s:s, s:I, s:o, s:s, s:s, s:s, s:s,"
				  " s:b, s:s, s:s, s:b, s:s}",
				  "persistent_id",
				  talloc_asprintf(frame, "0x%" PRIx64,
						  o->persistent_id),
				  "session_id",
				  talloc_asprintf(frame, "0x%" PRIx64,
						  o->session_id),
				  "pid", (json_int_t)o->owner.pid, "owner",
				  status_server_id_json(&o->owner), "share",
				  o->share_name ? o->share_name : "",
				  "share_path",
				  o->share_path ? o->share_path : "", "path",
				  name, "access_mask",
				  talloc_asprintf(frame, "0x%08x",
						  o->access_mask),
				  "is_directory", o->is_dir, "share_access",
				  status_share_access_str(frame,
							  o->share_access),
				  "opened_at",
				  status_nttime_str(frame, o->open_time),
				  "durable", o->durable, "state",
				  alive ? (o->disconnected ? "disconnected"
							   : "open")
					: "gone"));
	} else {
		printf("%-8s %-12" PRIx64 " %-10s %-5s %-10s %-24s %s/%s%s\n",
		       status_pid_str(frame, &o->owner), o->persistent_id,
		       talloc_asprintf(frame, "0x%08x", o->access_mask),
		       status_share_access_str(frame, o->share_access),
		       o->share_name ? o->share_name : "",
		       status_nttime_str(frame, o->open_time),
		       o->share_path ? o->share_path : "", name,
		       alive ? "" : " (gone)");
	}
}

static int open_fn(struct db_record *rec, void *private_data)
{
	struct walk_state *w = private_data;
	TALLOC_CTX *frame = talloc_new(w->mem_ctx);
	struct db_data v = dbwrap_record_get_value(rec);
	struct smbXsrv_open_global o;
	bool alive;

	if (!NT_STATUS_IS_OK(
		    smbXsrv_open_global_decode(frame, v.dptr, v.dsize, &o))) {
		talloc_free(frame);
		return 0;
	}
	alive = status_owner_alive(&o.owner);
	if ((!alive && !w->opts->all) || o.relpath == NULL) {
		/* no path: a record of an older smbd, which reserved the
		 * id before the CREATE had a path */
		talloc_free(frame);
		return 0;
	}
	show_open(w, frame, &o, alive);
	talloc_free(frame);
	return 0;
}

/*
 * In a cluster smbXsrv_open_global may stay on each node
 * (smbd_db_node_local()), so the open files of every node come from the
 * replicated share-mode entries (one per open of a file, directory or
 * stream; as in Samba, named pipes have none), with the share's name
 * from the tree connect's record.
 */
struct share_open_walk {
	struct walk_state *w;
	struct db_context *tcons;
};

static void tcon_share_parser(struct db_data key, struct db_data data,
			      void *private_data)
{
	struct smbXsrv_open_global *o = private_data;
	struct smbXsrv_tcon_global t;

	if (NT_STATUS_IS_OK(smbXsrv_tcon_global_decode(o, data.dptr,
						       data.dsize, &t))) {
		o->share_name = t.share_name;
	}
}

static int share_open_fn(struct db_record *rec, void *private_data)
{
	struct share_open_walk *sw = private_data;
	struct walk_state *w = sw->w;
	TALLOC_CTX *frame = talloc_new(w->mem_ctx);
	struct db_data key = dbwrap_record_get_key(rec);
	struct db_data v = dbwrap_record_get_value(rec);
	struct share_mode_data *d;
	uint32_t i;

	if (key.dsize != SHARE_MODE_KEY_SIZE ||
	    !NT_STATUS_IS_OK(share_mode_record_pull(frame, v.dptr, v.dsize,
						    &d))) {
		talloc_free(frame);
		return 0;
	}
	for (i = 0; i < d->num_entries; i++) {
		const struct share_mode_entry *e = &d->entries[i];
		struct smbXsrv_open_global *o =
			talloc_zero(frame, struct smbXsrv_open_global);
		uint8_t tkey[SMBXSRV_TCON_KEY_SIZE];
		bool alive = status_owner_alive(&e->owner);

		if (o == NULL || (!alive && !w->opts->all)) {
			continue;
		}
		*o = (struct smbXsrv_open_global){
			.persistent_id = e->file_id,
			.owner = e->owner,
			.session_id = e->session_id,
			.tcon_id = e->tree_id,
			.share_path = d->share_path,
			.relpath = d->relpath != NULL ? d->relpath : "",
			.stream = e->stream_name,
			.is_dir = e->is_directory,
			.access_mask = e->access_mask,
			.share_access = e->share_access,
			.open_time = e->open_time,
		};
		smbXsrv_tcon_global_key(tkey, e->session_id, e->tree_id);
		(void)dbwrap_parse_record(sw->tcons,
					  db_data_make(tkey, sizeof(tkey)),
					  tcon_share_parser, o);
		show_open(w, frame, o, alive);
	}
	talloc_free(frame);
	return 0;
}

static int walk_share_opens(struct smbXsrv_global_dbs *dbs,
			    const struct smb_conf *conf, struct walk_state *w)
{
	struct share_open_walk sw = {.w = w,
				     .tcons = dbs->db[SMBXSRV_DB_TCON]};
	struct db_context *db = smbd_db_open(w->mem_ctx, NULL, conf,
					     "locking");
	NTSTATUS status;

	if (db == NULL) {
		fprintf(stderr, "smbstatus: cannot open %s\n",
			"locking");
		return -1;
	}
	status = dbwrap_traverse_read(db, share_open_fn, &sw, NULL);
	/* closed again: the share-mode section opens it too */
	talloc_free(db);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "smbstatus: reading %s: %s\n",
			"locking", nt_errstr(status));
		return -1;
	}
	return 0;
}

static int walk(struct smbXsrv_global_dbs *dbs, enum smbXsrv_global_db which,
		dbwrap_traverse_fn fn, struct walk_state *w)
{
	NTSTATUS status = dbwrap_traverse_read(dbs->db[which], fn, w, NULL);

	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "smbstatus: reading %s: %s\n",
			smbXsrv_global_db_name(which), nt_errstr(status));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"configfile", required_argument, NULL, 's'},
		{"processes", no_argument, NULL, 'p'},
		{"shares", no_argument, NULL, 'S'},
		{"locks", no_argument, NULL, 'L'},
		{"json", no_argument, NULL, 'j'},
		{"all", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct status_opts o = {.config = DEFAULT_CONFIG};
	TALLOC_CTX *mem_ctx = talloc_new(NULL);
	struct smb_conf *conf;
	struct smbXsrv_global_dbs *dbs;
	struct walk_state w = {.mem_ctx = mem_ctx, .opts = &o};
	json_t *root = NULL;
	char *probe;
	struct stat st;
	int c, rc = 0;
	size_t i;

	while ((c = getopt_long(argc, argv, "s:pSLh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.config = optarg;
			o.config_given = true;
			break;
		case 'p': o.processes = true; break;
		case 'S': o.shares = true; break;
		case 'L': o.locks = true; break;
		case 'j': o.json = true; break;
		case 'a': o.all = true; break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	if (!o.processes && !o.shares && !o.locks) {
		o.processes = o.shares = o.locks = true;
	}
	conf = smb_conf_load_for_tool(mem_ctx, o.config, o.config_given,
				      "smbstatus");
	if (conf == NULL) {
		return 1;
	}
	if (!status_cluster_init(mem_ctx, conf)) {
		return 2;
	}
	/* Do not create databases for a server that never ran here (in a
	 * cluster they are clusterd's: attaching creates nothing on disk
	 * that a server would not). */
	probe = talloc_asprintf(mem_ctx, "%s/%s.tdb",
				conf->global.lock_directory,
				smbXsrv_global_db_name(SMBXSRV_DB_SESSION));
	if (!status_cluster.clustered && stat(probe, &st) != 0) {
		fprintf(stderr,
			"smbstatus: no server state in %s (is smbd running "
			"with this configuration?)\n",
			conf->global.lock_directory);
		return 2;
	}
	dbs = smbXsrv_global_dbs_open(mem_ctx, NULL, conf);
	if (dbs == NULL) {
		fprintf(stderr, "smbstatus: cannot open the databases in %s\n",
			conf->global.lock_directory);
		return 2;
	}

	if (o.json) {
		root = json_pack("{s:s, s:s}", "version", SMB3_VERSION,
				 "timestamp",
				 status_nttime_str(mem_ctx,
						   ((uint64_t)time(NULL) +
						    11644473600ull) *
							   10000000ull));
		if (status_cluster.clustered) {
			/* every record's owner has its "node" too */
			json_object_set_new(root, "clustering", json_true());
			json_object_set_new(root, "node",
					    json_integer(status_cluster.node));
		}
	} else if (status_cluster.clustered) {
		printf("Cluster node %u: the records of every node "
		       "(PID is node:pid)\n",
		       (unsigned)status_cluster.node);
	}
	if (o.processes) {
		if (o.json) {
			w.array = json_array();
		} else {
			printf("\n%-8s %-12s %-16s %-12s %-22s %-8s %-13s %s\n",
			       "PID", "Session", "User", "Unix user",
			       "Client", "Dialect", "Signing", "Encryption");
			printf("%s\n", "-----------------------------------"
				       "-----------------------------------"
				       "----------------------------");
		}
		rc |= walk(dbs, SMBXSRV_DB_SESSION, session_fn, &w);
		if (o.json) {
			json_object_set_new(root, "sessions", w.array);
		}
	}
	if (o.shares) {
		if (o.json) {
			w.array = json_array();
		} else {
			printf("\n%-16s %-8s %-12s %-8s %-24s %s\n", "Service",
			       "PID", "Session", "Tree", "Connected at",
			       "Path");
			printf("%s\n", "-----------------------------------"
				       "-----------------------------------"
				       "-----------");
		}
		rc |= walk(dbs, SMBXSRV_DB_TCON, tcon_fn, &w);
		if (o.json) {
			json_object_set_new(root, "tcons", w.array);
		}
	}
	if (o.locks) {
		if (o.json) {
			w.array = json_array();
		} else {
			printf("\n%-8s %-12s %-10s %-5s %-10s %-24s %s\n",
			       "PID", "FileId", "Access", "Share", "Service",
			       "Opened at", "Name");
			printf("%s\n", "-----------------------------------"
				       "-----------------------------------"
				       "-----------");
		}
		if (status_cluster.clustered) {
			rc |= walk_share_opens(dbs, conf, &w);
		} else {
			rc |= walk(dbs, SMBXSRV_DB_OPEN, open_fn, &w);
		}
		if (o.json) {
			json_object_set_new(root, "open_files", w.array);
		}
		for (i = 0; status_sections[i].name != NULL; i++) {
			const struct status_section *sec = &status_sections[i];
			json_t *arr = o.json ? json_array() : NULL;

			if (sec->show(mem_ctx, conf, o.all, arr) != 0) {
				rc |= -1;
			}
			if (o.json) {
				json_object_set_new(root, sec->name, arr);
			}
		}
	}
	if (o.json) {
		char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);

		if (text == NULL) {
			rc = -1;
		} else {
			printf("%s\n", text);
			free(text);
		}
		json_decref(root);
	}
	talloc_free(mem_ctx);
	return rc == 0 ? 0 : 1;
}
