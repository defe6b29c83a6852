/*
 * Sections of smbstatus beyond the smbXsrv records: each module that keeps
 * file-semantics state in a database (share modes, leases, byte-range
 * locks) adds one entry to status_sections[] (smbstatus_sections.c) with a
 * function that prints its records (text when json is NULL, else appends
 * one object per record to the json array).  Returns 0, or -1 when its
 * database could not be read.
 */
#ifndef TOOLS_SMBSTATUS_SECTIONS_H
#define TOOLS_SMBSTATUS_SECTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <talloc.h>

#include "messaging/messaging.h"

struct smb_conf;

struct status_section {
	const char *name; /* the JSON key, e.g. "byte_range_locks" */
	int (*show)(TALLOC_CTX *mem_ctx, const struct smb_conf *conf,
		    bool all, json_t *json);
};

extern const struct status_section status_sections[];

/* Helpers the sections share with smbstatus.c */
bool status_owner_alive(const struct server_id *id);
const char *status_dialect_name(uint16_t dialect);
char *status_nttime_str(TALLOC_CTX *mem_ctx, uint64_t nt);
char *status_share_access_str(TALLOC_CTX *mem_ctx, uint32_t share_access);
json_t *status_server_id_json(const struct server_id *id);
/* The PID column: "pid", or "node:pid" with clustering. */
char *status_pid_str(TALLOC_CTX *mem_ctx, const struct server_id *id);

#endif
