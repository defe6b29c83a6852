/* Derive struct smbd_settings from the parsed smb.conf: the one place
 * where smbd reads [global] parameters. */
#ifndef SMBD_SMBD_SETTINGS_H
#define SMBD_SMBD_SETTINGS_H

#include "smbd/smbd.h"

struct smbd_settings *smbd_settings_from_conf(TALLOC_CTX *mem_ctx,
					      const struct smb_conf *conf);
const char *smbd_settings_passdb_path(const struct smb_conf *conf);
int smbd_settings_log_level(const struct smb_conf *conf);
const char *smbd_settings_log_file(const struct smb_conf *conf); /* or NULL */
/* "pid directory"/smbd.pid; failures are logged, not fatal. */
/* Create the state, private, lock and pid directories (like Samba does
 * at start-up); false, logged, if one cannot be created. */
bool smbd_settings_make_dirs(const struct smb_conf *conf);
void smbd_settings_write_pidfile(const struct smb_conf *conf);
void smbd_settings_remove_pidfile(const struct smb_conf *conf);

#endif
