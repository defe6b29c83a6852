/*
 * The smb.conf parameter table and the compiled-in defaults.
 *
 * Names and defaults follow Samba's smb.conf(5) where this server has the
 * same notion; rows marked P_FLAG_SYNONYM are Samba's alternative
 * spellings.  Each row's field type is checked at compile time by the
 * F_* macros, so a row cannot write a bool into a char *.
 */
#include "lib/param/param_table.h"

#include <ctype.h>
#include <stdalign.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "build_config.h"

/* offsetof with a compile-time check that the field has type T. */
#define FIELD_OF(S, f, T)                                                      \
	(offsetof(S, f) +                                                      \
	 0 * sizeof(char[_Generic(((S *)0)->f, T: 1, default: -1)]))
/* Enum fields are written through an int *. */
#define ENUM_FIELD_OF(S, f)                                                    \
	(offsetof(S, f) +                                                      \
	 0 * sizeof(char[sizeof(((S *)0)->f) == sizeof(int) ? 1 : -1]))

#define G_(f, T) P_GLOBAL, FIELD_OF(struct smb_conf_global, f, T)
#define S_(f, T) P_SHARE, FIELD_OF(struct smb_conf_share, f, T)
#define GE_(f) P_GLOBAL, ENUM_FIELD_OF(struct smb_conf_global, f)
#define SE_(f) P_SHARE, ENUM_FIELD_OF(struct smb_conf_share, f)

#define G_BOOL(f) P_BOOL, G_(f, bool)
#define S_BOOL(f) P_BOOL, S_(f, bool)
#define S_BOOL_REV(f) P_BOOL_REV, S_(f, bool)
#define G_STR(f) P_STRING, G_(f, char *)
#define S_STR(f) P_STRING, S_(f, char *)
#define G_LIST(f) P_LIST, G_(f, char **)
#define S_LIST(f) P_LIST, S_(f, char **)
#define G_INT(f) P_INT, G_(f, int)
#define S_INT(f) P_INT, S_(f, int)
#define G_U32(f) P_UINT32, G_(f, uint32_t)
#define S_OCT(f) P_OCTAL, S_(f, mode_t)
#define G_ENUM(f) P_ENUM, GE_(f)
#define S_ENUM(f) P_ENUM, SE_(f)
#define G_PROTO(f) P_PROTOCOL, G_(f, uint16_t)

static const struct param_enum_value signing_values[] = {
	{ "default", SMB_CONF_SIGNING_DEFAULT },
	{ "disabled", SMB_CONF_SIGNING_OFF },
	{ "no", SMB_CONF_SIGNING_OFF },
	{ "false", SMB_CONF_SIGNING_OFF },
	{ "0", SMB_CONF_SIGNING_OFF },
	{ "off", SMB_CONF_SIGNING_OFF },
	{ "auto", SMB_CONF_SIGNING_IF_REQUIRED },
	{ "if_required", SMB_CONF_SIGNING_IF_REQUIRED },
	{ "yes", SMB_CONF_SIGNING_IF_REQUIRED },
	{ "true", SMB_CONF_SIGNING_IF_REQUIRED },
	{ "1", SMB_CONF_SIGNING_IF_REQUIRED },
	{ "on", SMB_CONF_SIGNING_IF_REQUIRED },
	{ "enabled", SMB_CONF_SIGNING_IF_REQUIRED },
	{ "desired", SMB_CONF_SIGNING_DESIRED },
	{ "mandatory", SMB_CONF_SIGNING_REQUIRED },
	{ "required", SMB_CONF_SIGNING_REQUIRED },
	{ "force", SMB_CONF_SIGNING_REQUIRED },
	{ "forced", SMB_CONF_SIGNING_REQUIRED },
	{ "enforced", SMB_CONF_SIGNING_REQUIRED },
	{ NULL, 0 },
};

static const struct param_enum_value encrypt_values[] = {
	{ "default", SMB_CONF_ENCRYPT_DEFAULT },
	{ "off", SMB_CONF_ENCRYPT_OFF },
	{ "no", SMB_CONF_ENCRYPT_OFF },
	{ "false", SMB_CONF_ENCRYPT_OFF },
	{ "0", SMB_CONF_ENCRYPT_OFF },
	{ "disabled", SMB_CONF_ENCRYPT_OFF },
	{ "if_required", SMB_CONF_ENCRYPT_IF_REQUIRED },
	{ "yes", SMB_CONF_ENCRYPT_IF_REQUIRED },
	{ "true", SMB_CONF_ENCRYPT_IF_REQUIRED },
	{ "1", SMB_CONF_ENCRYPT_IF_REQUIRED },
	{ "on", SMB_CONF_ENCRYPT_IF_REQUIRED },
	{ "enabled", SMB_CONF_ENCRYPT_IF_REQUIRED },
	{ "auto", SMB_CONF_ENCRYPT_IF_REQUIRED },
	{ "desired", SMB_CONF_ENCRYPT_DESIRED },
	{ "required", SMB_CONF_ENCRYPT_REQUIRED },
	{ "mandatory", SMB_CONF_ENCRYPT_REQUIRED },
	{ "force", SMB_CONF_ENCRYPT_REQUIRED },
	{ "forced", SMB_CONF_ENCRYPT_REQUIRED },
	{ "enforced", SMB_CONF_ENCRYPT_REQUIRED },
	{ NULL, 0 },
};

static const struct param_enum_value map_to_guest_values[] = {
	{ "Never", SMB_CONF_MAP_TO_GUEST_NEVER },
	{ "Bad User", SMB_CONF_MAP_TO_GUEST_BAD_USER },
	{ "Bad Password", SMB_CONF_MAP_TO_GUEST_BAD_PASSWORD },
	{ NULL, 0 },
};

static const struct param_enum_value server_role_values[] = {
	{ "standalone server", SMB_CONF_ROLE_STANDALONE },
	{ "standalone", SMB_CONF_ROLE_STANDALONE },
	{ NULL, 0 },
};

static const struct param_enum_value strict_locking_values[] = {
	{ "Auto", SMB_CONF_STRICT_LOCKING_AUTO },
	{ "No", SMB_CONF_STRICT_LOCKING_NO },
	{ "false", SMB_CONF_STRICT_LOCKING_NO },
	{ "off", SMB_CONF_STRICT_LOCKING_NO },
	{ "0", SMB_CONF_STRICT_LOCKING_NO },
	{ "Yes", SMB_CONF_STRICT_LOCKING_YES },
	{ "true", SMB_CONF_STRICT_LOCKING_YES },
	{ "on", SMB_CONF_STRICT_LOCKING_YES },
	{ "1", SMB_CONF_STRICT_LOCKING_YES },
	{ NULL, 0 },
};

static const struct param_enum_value case_sensitive_values[] = {
	{ "Auto", SMB_CONF_CASE_SENSITIVE_AUTO },
	{ "Yes", SMB_CONF_CASE_SENSITIVE_YES },
	{ "true", SMB_CONF_CASE_SENSITIVE_YES },
	{ "on", SMB_CONF_CASE_SENSITIVE_YES },
	{ "1", SMB_CONF_CASE_SENSITIVE_YES },
	{ "No", SMB_CONF_CASE_SENSITIVE_NO },
	{ "false", SMB_CONF_CASE_SENSITIVE_NO },
	{ "off", SMB_CONF_CASE_SENSITIVE_NO },
	{ "0", SMB_CONF_CASE_SENSITIVE_NO },
	{ NULL, 0 },
};

static const struct param_enum_value csc_policy_values[] = {
	{ "manual", SMB_CONF_CSC_MANUAL },
	{ "documents", SMB_CONF_CSC_DOCUMENTS },
	{ "programs", SMB_CONF_CSC_PROGRAMS },
	{ "disable", SMB_CONF_CSC_DISABLE },
	{ NULL, 0 },
};

static char *check_passdb_backend(TALLOC_CTX *mem_ctx, const char *value)
{
	if (strcasecmp(value, "tdbsam") == 0) {
		return NULL;
	}
	if (strncasecmp(value, "tdbsam:", 7) == 0) {
		if (value[7] != '/') {
			return talloc_asprintf(
				mem_ctx,
				"passdb backend \"%s\": the path after "
				"\"tdbsam:\" must be absolute",
				value);
		}
		return NULL;
	}
	return talloc_asprintf(mem_ctx,
			       "passdb backend \"%s\" is not supported "
			       "(use \"tdbsam\" or \"tdbsam:/path/file.tdb\")",
			       value);
}

static char *check_security(TALLOC_CTX *mem_ctx, const char *value)
{
	if (strcasecmp(value, "user") == 0 || strcasecmp(value, "auto") == 0) {
		return NULL;
	}
	return talloc_asprintf(mem_ctx,
			       "security = %s is not supported (only \"user\")",
			       value);
}

static char *check_netbios_name(TALLOC_CTX *mem_ctx, const char *value)
{
	size_t i, len = strlen(value);

	if (len == 0 || len > SMB_CONF_NETBIOS_NAME_MAX) {
		return talloc_asprintf(mem_ctx,
				       "\"%s\" must be 1 to %d characters long",
				       value, SMB_CONF_NETBIOS_NAME_MAX);
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c < 0x21 || c == 0x7f || strchr("\\/:*?\"<>|", c)) {
			return talloc_asprintf(
				mem_ctx,
				"\"%s\" contains a character not allowed in "
				"a NetBIOS name",
				value);
		}
	}
	return NULL;
}

/* One "interfaces" word: an IPv4/IPv6 address, address/prefix (or
 * address/netmask), or an interface name (which may be a glob such as
 * "eth*", as in Samba).  Only the form is checked here; whether it exists
 * is the server's business at start-up. */
static char *check_interface(TALLOC_CTX *mem_ctx, const char *item)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(item, '/');
	size_t alen = slash != NULL ? (size_t)(slash - item) : strlen(item);
	unsigned char buf[sizeof(struct in6_addr)];
	int family = 0;
	size_t i;

	if (alen < sizeof(addr)) {
		memcpy(addr, item, alen);
		addr[alen] = '\0';
		if (inet_pton(AF_INET, addr, buf) == 1) {
			family = AF_INET;
		} else if (inet_pton(AF_INET6, addr, buf) == 1) {
			family = AF_INET6;
		}
	}
	if (family != 0 && slash != NULL) {
		const char *pfx = slash + 1;
		char *end = NULL;
		long bits = strtol(pfx, &end, 10);
		long max = family == AF_INET ? 32 : 128;

		if (*pfx != '\0' && *end == '\0' && bits >= 0 && bits <= max) {
			return NULL;
		}
		if (family == AF_INET && inet_pton(AF_INET, pfx, buf) == 1) {
			return NULL; /* address/netmask */
		}
		return talloc_asprintf(mem_ctx, "bad prefix in \"%s\"", item);
	}
	if (family != 0) {
		return NULL;
	}
	if (slash != NULL || alen == 0 || alen >= IFNAMSIZ) {
		return talloc_asprintf(mem_ctx,
				       "\"%s\" is neither an address, "
				       "address/prefix nor an interface name",
				       item);
	}
	for (i = 0; i < alen; i++) {
		unsigned char c = (unsigned char)item[i];

		if (!isalnum(c) && strchr("._-:*?@", c) == NULL) {
			return talloc_asprintf(
				mem_ctx,
				"\"%s\" is neither an address, address/prefix "
				"nor an interface name",
				item);
		}
	}
	return NULL;
}

static char *check_absolute_path(TALLOC_CTX *mem_ctx, const char *value)
{
	if (value[0] != '/') {
		return talloc_asprintf(mem_ctx, "\"%s\" is not an absolute path",
				       value);
	}
	return NULL;
}

const struct param_def param_table[] = {
	/* [global] only */
	{ "netbios name", P_STRING, G_(netbios_name, char *), .flags = P_FLAG_UPPER,
	  .check = check_netbios_name },
	{ "workgroup", P_STRING, G_(workgroup, char *), .flags = P_FLAG_UPPER,
	  .check = check_netbios_name },
	{ "server string", G_STR(server_string) },
	{ "interfaces", G_LIST(interfaces), .check = check_interface },
	{ "bind interfaces only", G_BOOL(bind_interfaces_only) },
	{ "smb ports", P_PORTS, P_GLOBAL,
	  offsetof(struct smb_conf_global, smb_ports),
	  offsetof(struct smb_conf_global, num_smb_ports) },
	{ "log level", P_LOG_LEVEL, G_(log_level, int) },
	{ "debuglevel", P_LOG_LEVEL, G_(log_level, int), .flags = P_FLAG_SYNONYM },
	{ "log file", G_STR(log_file),
	  .flags = P_FLAG_EMPTY_UNSETS },
	{ "max log size", G_INT(max_log_size), .min = 0, .max = 1 << 30 },
	{ "max smbd processes", G_INT(max_smbd_processes), .min = 0,
	  .max = 1 << 24 },
	{ "max open files", G_INT(max_open_files), .min = 1, .max = 1 << 24 },
	{ "server signing", G_ENUM(server_signing), .enums = signing_values },
	{ "server min protocol", G_PROTO(server_min_protocol) },
	{ "min protocol", G_PROTO(server_min_protocol), .flags = P_FLAG_SYNONYM },
	{ "server max protocol", G_PROTO(server_max_protocol) },
	{ "max protocol", G_PROTO(server_max_protocol), .flags = P_FLAG_SYNONYM },
	{ "protocol", G_PROTO(server_max_protocol), .flags = P_FLAG_SYNONYM },
	{ "map to guest", G_ENUM(map_to_guest), .enums = map_to_guest_values },
	{ "guest account", G_STR(guest_account) },
	{ "state directory", G_STR(state_directory), .check = check_absolute_path },
	{ "private dir", G_STR(private_dir), .check = check_absolute_path },
	{ "private directory", G_STR(private_dir), .check = check_absolute_path,
	  .flags = P_FLAG_SYNONYM },
	{ "lock directory", G_STR(lock_directory), .check = check_absolute_path },
	{ "lock dir", G_STR(lock_directory), .check = check_absolute_path,
	  .flags = P_FLAG_SYNONYM },
	{ "pid directory", G_STR(pid_directory), .check = check_absolute_path },
	{ "passdb backend", G_STR(passdb_backend), .check = check_passdb_backend },
	{ "server role", G_ENUM(server_role), .enums = server_role_values },
	{ "security", G_STR(security), .check = check_security },
	{ "restrict anonymous", G_INT(restrict_anonymous), .min = 0, .max = 2 },
	{ "deadtime", G_INT(deadtime), .min = 0, .max = 1 << 24 },
	{ "smb2 max read", G_U32(smb2_max_read), .min = 65536,
	  .max = 8 * 1024 * 1024 },
	{ "smb2 max write", G_U32(smb2_max_write), .min = 65536,
	  .max = 8 * 1024 * 1024 },
	{ "smb2 max trans", G_U32(smb2_max_trans), .min = 65536,
	  .max = 8 * 1024 * 1024 },
	{ "smb2 max credits", G_U32(smb2_max_credits), .min = 128,
	  .max = 65528 },
	{ "socket options", G_STR(socket_options),
	  .flags = P_FLAG_EMPTY_UNSETS },
	{ "server multi channel support", G_BOOL(server_multi_channel_support) },
	{ "smb2 leases", G_BOOL(smb2_leases) },
	{ "oplock break timeout", G_INT(oplock_break_timeout), .min = 1,
	  .max = 3600 },
	{ "clustering", G_BOOL(clustering) },
	{ "clusterd socket", G_STR(clusterd_socket), .check = check_absolute_path },
	{ "cluster replicate open records",
	  G_BOOL(cluster_replicate_open_records) },
	{ "server smb encrypt", G_ENUM(server_smb_encrypt),
	  .enums = encrypt_values },
	{ "disable netbios", G_BOOL(disable_netbios) },
	{ "load printers", G_BOOL(load_printers) },
	{ "printing", G_STR(printing),
	  .flags = P_FLAG_EMPTY_UNSETS },
	{ "unix extensions", G_BOOL(unix_extensions) },

	/* share level */
	{ "path", S_STR(path), .check = check_absolute_path,
	  .flags = P_FLAG_EMPTY_UNSETS },
	{ "directory", S_STR(path), .check = check_absolute_path,
	  .flags = P_FLAG_SYNONYM | P_FLAG_EMPTY_UNSETS },
	{ "comment", S_STR(comment) },
	{ "read only", S_BOOL(read_only) },
	{ "writeable", S_BOOL_REV(read_only), .flags = P_FLAG_SYNONYM },
	{ "writable", S_BOOL_REV(read_only), .flags = P_FLAG_SYNONYM },
	{ "write ok", S_BOOL_REV(read_only), .flags = P_FLAG_SYNONYM },
	{ "browseable", S_BOOL(browseable) },
	{ "browsable", S_BOOL(browseable), .flags = P_FLAG_SYNONYM },
	{ "available", S_BOOL(available) },
	{ "valid users", S_LIST(valid_users) },
	{ "invalid users", S_LIST(invalid_users) },
	{ "read list", S_LIST(read_list) },
	{ "write list", S_LIST(write_list) },
	{ "guest ok", S_BOOL(guest_ok) },
	{ "public", S_BOOL(guest_ok), .flags = P_FLAG_SYNONYM },
	{ "guest only", S_BOOL(guest_only) },
	{ "only guest", S_BOOL(guest_only), .flags = P_FLAG_SYNONYM },
	{ "create mask", S_OCT(create_mask) },
	{ "create mode", S_OCT(create_mask), .flags = P_FLAG_SYNONYM },
	{ "directory mask", S_OCT(directory_mask) },
	{ "directory mode", S_OCT(directory_mask), .flags = P_FLAG_SYNONYM },
	{ "force create mode", S_OCT(force_create_mode) },
	{ "force directory mode", S_OCT(force_directory_mode) },
	{ "force user", S_STR(force_user),
	  .flags = P_FLAG_EMPTY_UNSETS },
	{ "force group", S_STR(force_group), .flags = P_FLAG_EMPTY_UNSETS },
	{ "group", S_STR(force_group),
	  .flags = P_FLAG_SYNONYM | P_FLAG_EMPTY_UNSETS },
	{ "hide dot files", S_BOOL(hide_dot_files) },
	{ "hide unreadable", S_BOOL(hide_unreadable) },
	{ "veto files", S_STR(veto_files),
	  .flags = P_FLAG_EMPTY_UNSETS },
	{ "hide files", S_STR(hide_files),
	  .flags = P_FLAG_EMPTY_UNSETS },
	{ "store dos attributes", S_BOOL(store_dos_attributes) },
	{ "ea support", S_BOOL(ea_support) },
	{ "vfs objects", S_LIST(vfs_objects) },
	{ "vfs object", S_LIST(vfs_objects), .flags = P_FLAG_SYNONYM },
	{ "oplocks", S_BOOL(oplocks) },
	{ "level2 oplocks", S_BOOL(level2_oplocks) },
	{ "kernel oplocks", S_BOOL(kernel_oplocks) },
	{ "strict locking", S_ENUM(strict_locking),
	  .enums = strict_locking_values },
	{ "case sensitive", S_ENUM(case_sensitive),
	  .enums = case_sensitive_values },
	{ "casesignames", S_ENUM(case_sensitive),
	  .enums = case_sensitive_values, .flags = P_FLAG_SYNONYM },
	{ "follow symlinks", S_BOOL(follow_symlinks) },
	{ "wide links", S_BOOL(wide_links) },
	{ "hosts allow", S_LIST(hosts_allow) },
	{ "allow hosts", S_LIST(hosts_allow), .flags = P_FLAG_SYNONYM },
	{ "hosts deny", S_LIST(hosts_deny) },
	{ "deny hosts", S_LIST(hosts_deny), .flags = P_FLAG_SYNONYM },
	{ "max connections", S_INT(max_connections), .min = 0, .max = 1 << 24 },
	{ "csc policy", S_ENUM(csc_policy), .enums = csc_policy_values },
	{ "inherit permissions", S_BOOL(inherit_permissions) },
	{ "nt acl support", S_BOOL(nt_acl_support) },
	{ "durable handles", S_BOOL(durable_handles) },
	{ "smb encrypt", S_ENUM(smb_encrypt), .enums = encrypt_values },
	{ "printable", S_BOOL(printable) },
	{ "print ok", S_BOOL(printable), .flags = P_FLAG_SYNONYM },
	{ "aio read size", S_INT(aio_read_size), .min = 0, .max = 1 << 30 },
	{ "aio write size", S_INT(aio_write_size), .min = 0, .max = 1 << 30 },
};

const size_t param_table_count = sizeof(param_table) / sizeof(param_table[0]);

bool param_normalize_name(const char *name, char *out, size_t out_len)
{
	size_t n = 0;

	for (; *name != '\0'; name++) {
		unsigned char c = (unsigned char)*name;

		if (c == ' ' || c == '\t' || c == '_') {
			continue;
		}
		if (n + 1 >= out_len) {
			return false;
		}
		out[n++] = (char)tolower(c);
	}
	if (out_len == 0) {
		return false;
	}
	out[n] = '\0';
	return true;
}

const struct param_def *param_find(const char *name)
{
	char want[64], have[64];
	size_t i;

	if (!param_normalize_name(name, want, sizeof(want))) {
		return NULL;
	}
	for (i = 0; i < param_table_count; i++) {
		if (param_normalize_name(param_table[i].label, have,
					 sizeof(have)) &&
		    strcmp(want, have) == 0) {
			return &param_table[i];
		}
	}
	return NULL;
}

/* The host name up to its first dot, upper case, at most 15 characters:
 * Samba's default "netbios name". */
static char *default_netbios_name(TALLOC_CTX *mem_ctx)
{
	char host[256];
	size_t i;

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0') {
		return talloc_strdup(mem_ctx, "SMB3CLUSTER");
	}
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	host[SMB_CONF_NETBIOS_NAME_MAX] = '\0';
	for (i = 0; host[i] != '\0'; i++) {
		host[i] = (char)toupper((unsigned char)host[i]);
	}
	return talloc_strdup(mem_ctx, host);
}

void param_global_defaults(struct smb_conf *conf)
{
	struct smb_conf_global *g = &conf->global;

	*g = (struct smb_conf_global){
		.netbios_name = default_netbios_name(conf),
		.workgroup = talloc_strdup(conf, "WORKGROUP"),
		.server_string = talloc_strdup(conf, "smb3cluster " SMB3_VERSION),
		.smb_ports = talloc_array(conf, uint16_t, 1),
		.num_smb_ports = 1,
		.max_open_files = 16384,
		.server_signing = SMB_CONF_SIGNING_DEFAULT,
		.server_min_protocol = SMB_CONF_PROTOCOL_SMB2_02,
		.server_max_protocol = SMB_CONF_PROTOCOL_SMB3_11,
		.map_to_guest = SMB_CONF_MAP_TO_GUEST_NEVER,
		.guest_account = talloc_strdup(conf, "nobody"),
		.state_directory = talloc_strdup(conf, SMB3_STATEDIR),
		.passdb_backend = talloc_strdup(conf, "tdbsam"),
		.server_role = SMB_CONF_ROLE_STANDALONE,
		.security = talloc_strdup(conf, "user"),
		/* Samba and Windows offer 8 MiB; 1 MiB requests let a
		 * client's window hold more of them, so that client, network
		 * and server overlap (docs/performance.md) */
		.smb2_max_read = 1024 * 1024,
		.smb2_max_write = 1024 * 1024,
		.smb2_max_trans = 8 * 1024 * 1024,
		.smb2_max_credits = 8192,
		.server_multi_channel_support = true,
		.smb2_leases = true,
		.oplock_break_timeout = 35,
		.cluster_replicate_open_records = true,
		.clusterd_socket = talloc_strdup(conf,
						 "/run/clusterd/clusterd.sock"),
		.server_smb_encrypt = SMB_CONF_ENCRYPT_DEFAULT,
		.load_printers = true,
		.unix_extensions = true,
		.max_log_size = 5000,
	};
	if (g->smb_ports != NULL) {
		g->smb_ports[0] = 445;
	}
}

void param_share_defaults(struct smb_conf *conf, struct smb_conf_share *s)
{
	*s = (struct smb_conf_share){
		.comment = talloc_strdup(conf, ""),
		.read_only = true,
		.browseable = true,
		.available = true,
		.create_mask = 0744,
		.directory_mask = 0755,
		.hide_dot_files = true,
		.store_dos_attributes = true,
		.ea_support = true,
		.oplocks = true,
		.level2_oplocks = true,
		.strict_locking = SMB_CONF_STRICT_LOCKING_AUTO,
		.case_sensitive = SMB_CONF_CASE_SENSITIVE_AUTO,
		.follow_symlinks = true,
		.csc_policy = SMB_CONF_CSC_MANUAL,
		.nt_acl_support = true,
		.durable_handles = true,
		.smb_encrypt = SMB_CONF_ENCRYPT_DEFAULT,
		.aio_read_size = 1,
		.aio_write_size = 1,
	};
}

bool param_resolve_derived(struct smb_conf *conf)
{
	struct smb_conf_global *g = &conf->global;
	const char *sd = g->state_directory;

	if (g->private_dir == NULL) {
		g->private_dir = talloc_asprintf(conf, "%s/private", sd);
	}
	if (g->lock_directory == NULL) {
		g->lock_directory = talloc_asprintf(conf, "%s/lock", sd);
	}
	if (g->pid_directory == NULL) {
		g->pid_directory = talloc_asprintf(conf, "%s/run", sd);
	}
	TALLOC_FREE(g->passdb_path);
	if (strncasecmp(g->passdb_backend, "tdbsam:", 7) == 0) {
		g->passdb_path = talloc_strdup(conf, g->passdb_backend + 7);
	} else {
		g->passdb_path =
			talloc_asprintf(conf, "%s/passdb.tdb", g->private_dir);
	}
	return g->private_dir != NULL && g->lock_directory != NULL &&
	       g->pid_directory != NULL && g->passdb_path != NULL;
}
