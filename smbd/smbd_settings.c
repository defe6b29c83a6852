#include "smbd/smbd_settings.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/auth/gensec.h"
#include "lib/param/loadparm.h"
#include "lib/util/debug.h"

struct smbd_settings *smbd_settings_from_conf(TALLOC_CTX *mem_ctx,
					      const struct smb_conf *conf)
{
	const struct smb_conf_global *g = &conf->global;
	struct smbd_settings *s = talloc_zero(mem_ctx, struct smbd_settings);

	if (s == NULL) {
		return NULL;
	}
	s->min_protocol = g->server_min_protocol;
	s->max_protocol = g->server_max_protocol;
	/* SMB2 cannot switch signing off: "disabled" still allows it, and
	 * only "mandatory"/"required" makes it required. */
	s->signing_required = g->server_signing == SMB_CONF_SIGNING_REQUIRED;
	s->max_read_size = g->smb2_max_read;
	s->max_write_size = g->smb2_max_write;
	s->max_trans_size = g->smb2_max_trans;
	s->max_credits = g->smb2_max_credits;
	s->netbios_name = g->netbios_name;
	s->workgroup = g->workgroup;
	s->dns_domain = NULL;
	switch (g->map_to_guest) {
	case SMB_CONF_MAP_TO_GUEST_BAD_USER:
		s->map_to_guest = AUTH_MAP_TO_GUEST_BAD_USER;
		break;
	case SMB_CONF_MAP_TO_GUEST_BAD_PASSWORD:
		s->map_to_guest = AUTH_MAP_TO_GUEST_BAD_PASSWORD;
		break;
	default:
		s->map_to_guest = AUTH_MAP_TO_GUEST_NEVER;
		break;
	}
	s->guest_account = g->guest_account;
	s->allow_anonymous = g->restrict_anonymous < 2;
	s->max_open_files = g->max_open_files > 0 ? g->max_open_files : 16384;
	s->encryption_offered = g->server_smb_encrypt != SMB_CONF_ENCRYPT_OFF;
	s->encryption_required =
		g->server_smb_encrypt == SMB_CONF_ENCRYPT_REQUIRED;
	s->ports = g->smb_ports;
	s->num_ports = g->num_smb_ports;
	s->interfaces = g->interfaces;
	s->bind_interfaces_only = g->bind_interfaces_only;
	s->max_connections =
		g->max_smbd_processes > 0 ? (unsigned)g->max_smbd_processes : 0;
	return s;
}

const char *smbd_settings_passdb_path(const struct smb_conf *conf)
{
	return conf->global.passdb_path;
}

int smbd_settings_log_level(const struct smb_conf *conf)
{
	return conf->global.log_level;
}

const char *smbd_settings_log_file(const struct smb_conf *conf)
{
	return conf->global.log_file;
}

static char *pidfile_path(const struct smb_conf *conf)
{
	return talloc_asprintf(NULL, "%s/smbd.pid", conf->global.pid_directory);
}

/* mkdir -p with mode for the last component; true if it exists now. */
static bool mkdir_parents(const char *dir, mode_t mode)
{
	char *p, *copy = talloc_strdup(NULL, dir);
	bool ok;

	if (copy == NULL) {
		return false;
	}
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(copy, 0755) == -1 && errno != EEXIST) {
				talloc_free(copy);
				return false;
			}
			*p = '/';
		}
	}
	ok = mkdir(copy, mode) == 0 || errno == EEXIST;
	talloc_free(copy);
	return ok;
}

bool smbd_settings_make_dirs(const struct smb_conf *conf)
{
	const struct smb_conf_global *g = &conf->global;
	const struct {
		const char *path;
		mode_t mode;
	} dirs[] = {
		{ g->state_directory, 0755 },
		{ g->private_dir, 0700 },
		{ g->lock_directory, 0755 },
		{ g->pid_directory, 0755 },
	};
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (dirs[i].path != NULL &&
		    !mkdir_parents(dirs[i].path, dirs[i].mode)) {
			DBG_ERR("cannot create directory %s: %s\n",
				dirs[i].path, strerror(errno));
			return false;
		}
	}
	return true;
}

void smbd_settings_write_pidfile(const struct smb_conf *conf)
{
	char *path = pidfile_path(conf);
	FILE *f;

	if (path == NULL) {
		return;
	}
	f = fopen(path, "w");
	if (f == NULL) {
		DBG_WARNING("cannot write %s: %s\n", path, strerror(errno));
	} else {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	talloc_free(path);
}

void smbd_settings_remove_pidfile(const struct smb_conf *conf)
{
	char *path = pidfile_path(conf);

	if (path != NULL) {
		unlink(path);
		talloc_free(path);
	}
}
