/*
 * smb.conf: the server's configuration file, parsed into typed structs.
 *
 * The file format and the parameter names are Samba's (smb.conf(5)):
 *
 *   [global]                      # '#' and ';' start comment lines
 *       workgroup = EXAMPLE
 *       server min protocol = SMB3
 *   [data]
 *       path = /srv/data
 *       read only = no            # "readonly", "read_only" mean the same
 *       valid users = alice, "bob smith", @staff
 *
 * Parameter names are matched case-insensitively with spaces and
 * underscores ignored.  A share-level parameter given in [global] becomes
 * the default for every share section that FOLLOWS it (as in Samba, where
 * a share is copied from the defaults when its section starts).  A
 * global-only parameter inside a share section is an error.  Values keep
 * everything after '=' up to the end of the line (trimmed): like Samba,
 * there are no trailing comments.  A line ending in a backslash continues
 * on the next line.  "include = FILE" reads FILE in place (a relative FILE
 * is taken relative to the directory of the including file; at most
 * SMB_CONF_MAX_INCLUDE_DEPTH levels).  No %-substitutions are made.
 *
 * Unlike Samba, every problem (unknown parameter, bad value, parameter in
 * the wrong section, duplicate share, ...) is an error: loading fails and
 * the caller gets every problem at once, one "FILE:LINE: message" line
 * each, so an administrator can fix them all in one go.
 *
 * Ownership: smb_conf_load() returns one talloc tree; every string and
 * list inside it is a talloc child of the struct smb_conf.  Free the
 * smb_conf (or its parent) and everything goes.
 *
 *   struct smb_conf *conf;
 *   char *errors;
 *   NTSTATUS status = smb_conf_load(mem_ctx, path, &conf, &errors);
 *   if (!NT_STATUS_IS_OK(status)) {
 *       fputs(errors, stderr);
 *       ...
 *   }
 *   const struct smb_conf_share *s = smb_conf_find_share(conf, "data");
 */
#ifndef LIB_PARAM_LOADPARM_H
#define LIB_PARAM_LOADPARM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

#define SMB_CONF_MAX_INCLUDE_DEPTH 16
/* NetBIOS names are 15 characters plus a type byte. */
#define SMB_CONF_NETBIOS_NAME_MAX 15
/* [MS-SRVS] NNLEN: longest share name. */
#define SMB_CONF_SHARE_NAME_MAX 80

/* SMB2 dialect numbers ([MS-SMB2] 2.2.3) as used by the protocol
 * parameters. */
#define SMB_CONF_PROTOCOL_SMB2_02 0x0202
#define SMB_CONF_PROTOCOL_SMB2_10 0x0210
#define SMB_CONF_PROTOCOL_SMB3_00 0x0300
#define SMB_CONF_PROTOCOL_SMB3_02 0x0302
#define SMB_CONF_PROTOCOL_SMB3_11 0x0311

/* "server signing", Samba's spellings:
 *   default                                   -> SMB_CONF_SIGNING_DEFAULT
 *   no/false/0/off/disabled                   -> SMB_CONF_SIGNING_OFF
 *   yes/true/1/on/enabled/auto/if_required    -> SMB_CONF_SIGNING_IF_REQUIRED
 *   desired                                   -> SMB_CONF_SIGNING_DESIRED
 *   mandatory/required/force/forced/enforced  -> SMB_CONF_SIGNING_REQUIRED
 * SMB2 signing can never be switched off on a server ([MS-SMB2] 3.3.5.4:
 * the server always signs when the client requires it), so OFF, DEFAULT,
 * IF_REQUIRED and DESIRED all mean "sign when the client asks";
 * only REQUIRED sets SMB2_NEGOTIATE_SIGNING_REQUIRED. */
enum smb_conf_signing {
	SMB_CONF_SIGNING_DEFAULT = 0,
	SMB_CONF_SIGNING_OFF,
	SMB_CONF_SIGNING_IF_REQUIRED,
	SMB_CONF_SIGNING_DESIRED,
	SMB_CONF_SIGNING_REQUIRED,
};

/* "server smb encrypt" / "smb encrypt", Samba's spellings as for signing
 * (off also: no/false/0/disabled; if_required also: yes/true/1/on/
 * enabled/auto; required also: mandatory/force/forced/enforced). */
enum smb_conf_encrypt {
	SMB_CONF_ENCRYPT_DEFAULT = 0,
	SMB_CONF_ENCRYPT_OFF,
	SMB_CONF_ENCRYPT_IF_REQUIRED,
	SMB_CONF_ENCRYPT_DESIRED,
	SMB_CONF_ENCRYPT_REQUIRED,
};

/* "map to guest": which failed logons become guest logons. */
enum smb_conf_map_to_guest {
	SMB_CONF_MAP_TO_GUEST_NEVER = 0,    /* "Never" */
	SMB_CONF_MAP_TO_GUEST_BAD_USER,	    /* "Bad User": unknown account */
	SMB_CONF_MAP_TO_GUEST_BAD_PASSWORD, /* "Bad Password": any failure */
};

/* "server role": only a standalone server exists here. */
enum smb_conf_server_role {
	SMB_CONF_ROLE_STANDALONE = 0, /* "standalone server", "standalone" */
};

/* "strict locking" (Samba's values; default Auto). */
enum smb_conf_strict_locking {
	SMB_CONF_STRICT_LOCKING_NO = 0,
	SMB_CONF_STRICT_LOCKING_YES,
	SMB_CONF_STRICT_LOCKING_AUTO,
};

/* "case sensitive" (Samba's values; default Auto).  Auto and No look
 * names up case-insensitively (smbd/vfs/vfs_casefold.h), as Samba's
 * Auto does for Windows clients; Yes takes names as spelled. */
enum smb_conf_case_sensitive {
	SMB_CONF_CASE_SENSITIVE_AUTO = 0,
	SMB_CONF_CASE_SENSITIVE_YES,
	SMB_CONF_CASE_SENSITIVE_NO,
};

/* "csc policy": client-side caching advertised in the TREE_CONNECT
 * response ShareFlags ([MS-SMB2] 2.2.10). */
enum smb_conf_csc_policy {
	SMB_CONF_CSC_MANUAL = 0,
	SMB_CONF_CSC_DOCUMENTS,
	SMB_CONF_CSC_PROGRAMS,
	SMB_CONF_CSC_DISABLE,
};

/* Which special section a share came from. */
enum smb_conf_share_kind {
	SMB_CONF_SHARE_ORDINARY = 0,
	SMB_CONF_SHARE_HOMES,	 /* [homes]: per-user home shares */
	SMB_CONF_SHARE_PRINTERS, /* [printers]: kept, not served */
};

/*
 * The [global] section.  Strings are never NULL unless said so; lists are
 * NULL-terminated arrays of strings, NULL when empty.  Directory defaults
 * are derived after the whole file is read, so their order in the file
 * does not matter.
 */
struct smb_conf_global {
	/* "netbios name": upper case, at most 15 characters; default the
	 * host name up to its first '.', upper-cased and truncated. */
	char *netbios_name;
	/* "workgroup": upper case; default "WORKGROUP". */
	char *workgroup;
	/* "server string": free text for clients; default
	 * "smb3cluster <version>". */
	char *server_string;
	/* "interfaces": addresses, address/prefix or interface names as
	 * written (not resolved here); NULL = all interfaces. */
	char **interfaces;
	/* "bind interfaces only" (no). */
	bool bind_interfaces_only;
	/* "smb ports": the TCP ports to listen on, at least one; default
	 * {445}. */
	uint16_t *smb_ports;
	size_t num_smb_ports;
	/* "log level" / "debuglevel": the first number; Samba's per-class
	 * "class:level" words are checked for form and ignored.  (0) */
	int log_level;
	/* "log file": NULL = log to stderr.  Written as given: no %m. */
	char *log_file;
	/* "max smbd processes": connections (= child processes) accepted at
	 * once; 0 = unlimited.  (0) */
	int max_smbd_processes;
	/* "max open files": per connection.  (16384) */
	int max_open_files;
	/* "server signing" (default). */
	enum smb_conf_signing server_signing;
	/* "server min protocol" / "server max protocol": SMB2 dialect
	 * numbers (SMB_CONF_PROTOCOL_*); "SMB2" means SMB2_10 and "SMB3"
	 * SMB3_11 as in Samba.  Defaults SMB2_02 .. SMB3_11; min <= max is
	 * checked. */
	uint16_t server_min_protocol;
	uint16_t server_max_protocol;
	/* "map to guest" (Never). */
	enum smb_conf_map_to_guest map_to_guest;
	/* "guest account": the unix user guests act as ("nobody"). */
	char *guest_account;
	/* "state directory" (SMB3_STATEDIR from build_config.h). */
	char *state_directory;
	/* "private dir": default <state directory>/private. */
	char *private_dir;
	/* "lock directory": default <state directory>/lock. */
	char *lock_directory;
	/* "pid directory": default <state directory>/run. */
	char *pid_directory;
	/* "passdb backend" exactly as written: "tdbsam" or
	 * "tdbsam:/path/file.tdb" (default "tdbsam"). */
	char *passdb_backend;
	/* The user database file the backend names: the path after
	 * "tdbsam:", else <private dir>/passdb.tdb.  Always set. */
	char *passdb_path;
	/* "server role": standalone only. */
	enum smb_conf_server_role server_role;
	/* "security": only "user" is accepted (kept for Samba configs). */
	char *security;
	/* "restrict anonymous": 0, 1 or 2 (0).  2 refuses anonymous
	 * logons. */
	int restrict_anonymous;
	/* "deadtime": minutes of inactivity (with no open files) after
	 * which a connection is dropped; 0 = never.  (0) */
	int deadtime;
	/* "smb2 max read" / "smb2 max write" / "smb2 max trans": bytes
	 * announced in NEGOTIATE; 64 KiB .. 8 MiB, default 8 MiB. */
	uint32_t smb2_max_read;
	uint32_t smb2_max_write;
	uint32_t smb2_max_trans;
	/* "smb2 max credits" (8192). */
	uint32_t smb2_max_credits;
	/* "socket options": kept as written, not applied. */
	char *socket_options;
	/* "server multi channel support" (yes). */
	bool server_multi_channel_support;
	/* "server smb encrypt" (default); see also share->smb_encrypt. */
	enum smb_conf_encrypt server_smb_encrypt;
	/* "smb2 leases" (yes): grant SMB2.1+ leases (RqLs contexts). */
	bool smb2_leases;
	/* "oplock break timeout": seconds an oplock or lease holder has to
	 * acknowledge a break before the server drops the oplock and lets
	 * the waiting open go on; 1..3600, default 35 as Windows.  Our
	 * own name (Samba's "oplock break wait time" is something else:
	 * a delay before sending a break). */
	int oplock_break_timeout;
	/* "clustering" (no): this smbd is one node of a cluster run by
	 * clusterd (docs/cluster.md "smbd in a cluster"): the databases
	 * other processes share are clusterd's replicated ones, the
	 * messaging node number is the cluster node id, and messages to
	 * processes of other nodes go through clusterd.  "clusterd socket"
	 * (/run/clusterd/clusterd.sock) is clusterd's control socket; its
	 * database socket is clusterd-db.sock in the same directory.
	 * Samba's equivalent is "ctdbd socket". */
	bool clustering;
	char *clusterd_socket;
	/* "cluster replicate open records" (yes): with clustering, keep
	 * smbXsrv_open_global in the replicated databases as the other
	 * smbXsrv records; no = a node-local tdb (two CPG round trips
	 * fewer per open/close pair; nothing on another node reads those
	 * records while durable handles are not built).  Our own name. */
	bool cluster_replicate_open_records;
	/* Accepted so that Samba configurations load; no effect here:
	 * "disable netbios" (no), "load printers" (yes), "printing" (NULL),
	 * "unix extensions" (yes), "max log size" (5000). */
	bool disable_netbios;
	bool load_printers;
	char *printing;
	bool unix_extensions;
	int max_log_size;
};

/*
 * One share section (and, in struct smb_conf.share_defaults, the values
 * [global] set for shares).  Same conventions as smb_conf_global.
 */
struct smb_conf_share {
	/* The section name as written (case preserved). */
	char *name;
	enum smb_conf_share_kind kind;
	/* Source of the section header, for messages. */
	const char *source_file;
	unsigned source_line;

	/* "path" / "directory": the share root; NULL when not set. */
	char *path;
	/* "comment" (""). */
	char *comment;
	/* "read only" (yes); "writeable"/"writable"/"write ok" set the
	 * inverse. */
	bool read_only;
	/* "browseable" / "browsable" (yes). */
	bool browseable;
	/* "available" (yes): no means the share is refused. */
	bool available;
	/* "valid users" / "invalid users" / "read list" / "write list":
	 * account names, "@group" or "+group". */
	char **valid_users;
	char **invalid_users;
	char **read_list;
	char **write_list;
	/* "guest ok" / "public" (no), "guest only" / "only guest" (no). */
	bool guest_ok;
	bool guest_only;
	/* "create mask" / "create mode" (0744), "directory mask" /
	 * "directory mode" (0755), "force create mode" (0),
	 * "force directory mode" (0): octal, at most 07777. */
	mode_t create_mask;
	mode_t directory_mask;
	mode_t force_create_mode;
	mode_t force_directory_mode;
	/* "force user" / "force group": NULL when not set. */
	char *force_user;
	char *force_group;
	/* "hide dot files" (yes), "hide unreadable" (no). */
	bool hide_dot_files;
	bool hide_unreadable;
	/* "veto files": Samba's "/pattern/pattern/" string as written;
	 * NULL when not set. */
	char *veto_files;
	/* "hide files": the same "/pattern/pattern/" syntax ('*' and '?'
	 * wildcards, matched case-insensitively against the last name
	 * component); matching names report FILE_ATTRIBUTE_HIDDEN
	 * (smbd/dosmode.c).  NULL when not set. */
	char *hide_files;
	/* "store dos attributes" (yes), "ea support" (yes). */
	bool store_dos_attributes;
	bool ea_support;
	/* "vfs objects" / "vfs object": accepted, kept, not loaded. */
	char **vfs_objects;
	/* "oplocks" (yes), "level2 oplocks" (yes), "kernel oplocks" (no). */
	bool oplocks;
	bool level2_oplocks;
	bool kernel_oplocks;
	/* "strict locking" (Auto). */
	enum smb_conf_strict_locking strict_locking;
	/* "case sensitive" / "casesignames" (Auto). */
	enum smb_conf_case_sensitive case_sensitive;
	/* "follow symlinks" (yes), "wide links" (no): whether symlinks
	 * inside the share are followed, and whether they may lead out of
	 * it. */
	bool follow_symlinks;
	bool wide_links;
	/* "hosts allow" / "allow hosts", "hosts deny" / "deny hosts". */
	char **hosts_allow;
	char **hosts_deny;
	/* "max connections": tree connects to this share at once;
	 * 0 = unlimited.  (0) */
	int max_connections;
	/* "csc policy" (manual). */
	enum smb_conf_csc_policy csc_policy;
	/* "inherit permissions" (no), "nt acl support" (yes),
	 * "durable handles" (yes). */
	bool inherit_permissions;
	bool nt_acl_support;
	bool durable_handles;
	/* "smb encrypt" (default) for this share. */
	enum smb_conf_encrypt smb_encrypt;
	/* "printable" / "print ok" (no): accepted and kept; printing is not
	 * served. */
	bool printable;
	/* "aio read size" / "aio write size": accepted, kept (1). */
	int aio_read_size;
	int aio_write_size;
};

struct smb_conf {
	/* The file (or the name given to smb_conf_load_string). */
	char *source_path;
	struct smb_conf_global global;
	/* Share-level values set in [global]: what a new share starts
	 * from.  Its name is "global". */
	struct smb_conf_share share_defaults;
	/* Shares in file order; [IPC$] is not among them unless the file
	 * defines it (the server adds it). */
	struct smb_conf_share **shares;
	size_t num_shares;
};

/*
 * Parse the file at path.  On success *out (a talloc child of mem_ctx)
 * and NT_STATUS_OK; *errors is set to NULL.
 * On failure *out is NULL and *errors is a talloc string on mem_ctx with
 * one "FILE:LINE: message\n" line per problem; the status is
 * NT_STATUS_OBJECT_NAME_NOT_FOUND when path itself does not exist,
 * NT_STATUS_NO_MEMORY on allocation failure and
 * NT_STATUS_INVALID_PARAMETER otherwise.  errors may be NULL if the caller
 * does not want the text.
 */
NTSTATUS smb_conf_load(TALLOC_CTX *mem_ctx, const char *path,
		       struct smb_conf **out, char **errors);

/* As smb_conf_load(), from text in memory; name stands for the file name
 * in messages and relative includes are taken from the current
 * directory.  smb_conf_load_string(ctx, "defaults", "", ...) gives the
 * built-in defaults. */
NTSTATUS smb_conf_load_string(TALLOC_CTX *mem_ctx, const char *name,
			      const char *text, struct smb_conf **out,
			      char **errors);

/*
 * What the command-line tools do: load path; when that file does not
 * exist and the user did not name it (path_given false), the built-in
 * defaults.  On failure the parser's messages and one line naming the
 * tool and the file go to stderr, and NULL is returned.
 */
struct smb_conf *smb_conf_load_for_tool(TALLOC_CTX *mem_ctx, const char *path,
					bool path_given, const char *tool);

/* The share called name (case-insensitive), or NULL. */
const struct smb_conf_share *smb_conf_find_share(const struct smb_conf *conf,
						 const char *name);

/* Print the effective configuration in smb.conf syntax, like testparm -s:
 * [global] then each share.  Unless show_defaults, only values that differ
 * from the defaults are printed (for a share: from share_defaults). */
void smb_conf_dump(const struct smb_conf *conf, FILE *f, bool show_defaults);

/* Name of a dialect number ("SMB3_11"), or NULL if not one of ours. */
const char *smb_conf_protocol_name(uint16_t dialect);

#endif
