/*
 * clusterctl: the cluster status CLI, talking to the local clusterd over
 * its control socket (ctrl_proto.h).
 *
 *   clusterctl [-c cluster.conf] [-S socket] status [--json]
 *   clusterctl [-c cluster.conf] [-S socket] stop | continue
 *
 * Exit codes: 0 ok (status: this node is a healthy, quorate member of an
 * agreed view), 1 error talking to clusterd, 2 usage or configuration,
 * 3 the local clusterd is not running, 4 status printed but this node is
 * not ok (unhealthy, stopped, no quorum, or no agreed view yet).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clusterd/cluster_conf.h"
#include "clusterd/cluster_state.h"
#include "clusterd/ctrl_client.h"
#include "clusterd/ctrl_proto.h"
#include "lib/util/marshall.h"

#define EXIT_OK 0
#define EXIT_ERROR 1
#define EXIT_USAGE 2
#define EXIT_NOT_RUNNING 3
#define EXIT_NOT_OK 4

#define IO_TIMEOUT_MS 10000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: clusterctl [-c cluster.conf] [-S socket] COMMAND\n"
		"  status [--json]   nodes, leader, quorum, generation, public IPs\n"
		"  stop              this node gives up its public IPs (stays a member)\n"
		"  continue          undo stop\n"
		"exit: 0 ok, 1 error, 2 usage, 3 clusterd not running, 4 node not ok\n");
}

/* Sends one request; *body (talloc on mem_ctx) is the response record. */
static int transact(TALLOC_CTX *mem_ctx, const char *path, uint32_t op,
		    uint8_t **body, size_t *body_len)
{
	NTSTATUS status = ctrl_transact(mem_ctx, path, op, IO_TIMEOUT_MS,
					body, body_len);

	if (NT_STATUS_IS_OK(status)) {
		return EXIT_OK;
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_NAME_TOO_LONG)) {
		fprintf(stderr, "clusterctl: socket path too long: %s\n", path);
		return EXIT_USAGE;
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND)) {
		fprintf(stderr, "clusterctl: clusterd is not running "
				"on this node (nothing answers at %s)\n",
			path);
		return EXIT_NOT_RUNNING;
	}
	fprintf(stderr, "clusterctl: talking to clusterd at %s: %s\n", path,
		nt_errstr(status));
	return EXIT_ERROR;
}

static const char *ip_owner_text(char *buf, size_t len, uint32_t owner)
{
	if (owner == 0) {
		return "-";
	}
	snprintf(buf, len, "%u", owner);
	return buf;
}

static bool node_ok(const struct ctrl_status *s)
{
	if (!s->committed || !s->quorate) {
		return false;
	}
	for (uint32_t i = 0; i < s->num_nodes; i++) {
		if (s->nodes[i].id == s->my_id) {
			return s->nodes[i].state == CLUSTER_NODE_OK;
		}
	}
	return false;
}

static void print_text(const struct ctrl_status *s)
{
	char buf[16];

	printf("This node:  %u\n", s->my_id);
	printf("Generation: %llu%s\n", (unsigned long long)s->generation,
	       s->committed ? "" : " (membership round in progress)");
	printf("Quorum:     %s\n", s->quorate ? "yes" : "NO");
	if (s->leader != 0) {
		printf("Leader:     %u\n", s->leader);
	} else {
		printf("Leader:     none\n");
	}
	printf("\nNodes: %u\n", s->num_nodes);
	printf("  %-6s %-40s %s\n", "ID", "ADDRESS", "STATE");
	for (uint32_t i = 0; i < s->num_nodes; i++) {
		printf("  %-6u %-40s %s%s\n", s->nodes[i].id,
		       s->nodes[i].addr[0] != '\0' ? s->nodes[i].addr : "-",
		       cluster_node_state_name(s->nodes[i].state),
		       s->nodes[i].id == s->my_id ? " (this node)" : "");
	}
	printf("\nPublic IPs: %u\n", s->num_ips);
	if (s->num_ips > 0) {
		printf("  %-44s %-8s %s\n", "ADDRESS", "IFACE", "NODE");
	}
	for (uint32_t i = 0; i < s->num_ips; i++) {
		char addr[80];
		snprintf(addr, sizeof(addr), "%s/%u", s->ips[i].addr,
			 s->ips[i].prefix);
		printf("  %-44s %-8s %s%s\n", addr, s->ips[i].iface,
		       ip_owner_text(buf, sizeof(buf), s->ips[i].owner),
		       s->ips[i].held ? " (held here)" : "");
	}
	printf("\nReplicated databases: %u%s\n", s->num_dbs,
	       s->dbs_in_sync ? ""
			      : " (not in sync: waiting for a snapshot, "
				"changes refused)");
	if (s->num_dbs > 0) {
		printf("  %-44s %s\n", "NAME", "RECORDS");
	}
	for (uint32_t i = 0; i < s->num_dbs; i++) {
		printf("  %-44s %llu\n", s->dbs[i].name,
		       (unsigned long long)s->dbs[i].records);
	}
}

static int print_json(const struct ctrl_status *s)
{
	json_t *root = json_object(), *nodes = json_array(), *ips = json_array();
	char *text = NULL;

	if (root == NULL || nodes == NULL || ips == NULL) {
		return EXIT_ERROR;
	}
	json_object_set_new(root, "node", json_integer(s->my_id));
	json_object_set_new(root, "generation", json_integer(s->generation));
	json_object_set_new(root, "committed", json_boolean(s->committed));
	json_object_set_new(root, "quorum", json_boolean(s->quorate));
	json_object_set_new(root, "leader", s->leader != 0 ?
				json_integer(s->leader) : json_null());
	json_object_set_new(root, "ok", json_boolean(node_ok(s)));
	for (uint32_t i = 0; i < s->num_nodes; i++) {
		json_t *n = json_object();
		json_object_set_new(n, "id", json_integer(s->nodes[i].id));
		json_object_set_new(n, "address", json_string(s->nodes[i].addr));
		json_object_set_new(n, "state", json_string(
			cluster_node_state_name(s->nodes[i].state)));
		json_object_set_new(n, "this_node",
				    json_boolean(s->nodes[i].id == s->my_id));
		json_array_append_new(nodes, n);
	}
	for (uint32_t i = 0; i < s->num_ips; i++) {
		json_t *ip = json_object();
		json_object_set_new(ip, "address", json_string(s->ips[i].addr));
		json_object_set_new(ip, "prefix", json_integer(s->ips[i].prefix));
		json_object_set_new(ip, "interface", json_string(s->ips[i].iface));
		json_object_set_new(ip, "node", s->ips[i].owner != 0 ?
				    json_integer(s->ips[i].owner) : json_null());
		json_object_set_new(ip, "held_here", json_boolean(s->ips[i].held));
		json_array_append_new(ips, ip);
	}
	json_object_set_new(root, "nodes", nodes);
	json_object_set_new(root, "public_ips", ips);
	{
		json_t *dbs = json_array();
		if (dbs == NULL) {
			json_decref(root);
			return EXIT_ERROR;
		}
		for (uint32_t i = 0; i < s->num_dbs; i++) {
			json_t *d = json_object();
			json_object_set_new(d, "name",
					    json_string(s->dbs[i].name));
			json_object_set_new(d, "records",
					    json_integer(s->dbs[i].records));
			json_array_append_new(dbs, d);
		}
		json_object_set_new(root, "databases", dbs);
		json_object_set_new(root, "databases_in_sync",
				    json_boolean(s->dbs_in_sync));
	}
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (text == NULL) {
		return EXIT_ERROR;
	}
	printf("%s\n", text);
	free(text);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL, *socket_path = NULL, *cmd = NULL;
	TALLOC_CTX *mem_ctx = talloc_new(NULL);
	struct cluster_conf *conf = NULL;
	bool json = false;
	uint8_t *body = NULL;
	size_t body_len = 0;
	uint32_t op;
	char *err = NULL;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "c:S:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		case 'S':
			socket_path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "status") == 0) {
		op = CTRL_OP_STATUS;
	} else if (strcmp(cmd, "stop") == 0 && !json) {
		op = CTRL_OP_STOP;
	} else if (strcmp(cmd, "continue") == 0 && !json) {
		op = CTRL_OP_CONTINUE;
	} else {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (socket_path == NULL) {
		NTSTATUS status = cluster_conf_load(
			mem_ctx, conf_path != NULL ? conf_path
						   : cluster_conf_default_path(),
			&conf, &err);
		if (!NT_STATUS_IS_OK(status)) {
			fprintf(stderr, "clusterctl: %s\n",
				err != NULL ? err : nt_errstr(status));
			return EXIT_USAGE;
		}
		socket_path = conf->socket_path;
	}

	rc = transact(mem_ctx, socket_path, op, &body, &body_len);
	if (rc != EXIT_OK) {
		talloc_free(mem_ctx);
		return rc;
	}
	if (ctrl_body_type(body, body_len) == REC_CLUSTERD_CTRL_RESULT) {
		NTSTATUS result;
		if (!NT_STATUS_IS_OK(ctrl_result_pull(body, body_len, &result))) {
			fprintf(stderr, "clusterctl: malformed answer\n");
			rc = EXIT_ERROR;
		} else if (!NT_STATUS_IS_OK(result) || op == CTRL_OP_STATUS) {
			fprintf(stderr, "clusterctl: clusterd says %s\n",
				nt_errstr(result));
			rc = EXIT_ERROR;
		}
	} else if (op == CTRL_OP_STATUS) {
		struct ctrl_status *s = NULL;
		if (!NT_STATUS_IS_OK(ctrl_status_pull(mem_ctx, body, body_len, &s))) {
			fprintf(stderr, "clusterctl: malformed status from clusterd\n");
			rc = EXIT_ERROR;
		} else {
			if (json) {
				rc = print_json(s);
			} else {
				print_text(s);
			}
			if (rc == EXIT_OK && !node_ok(s)) {
				rc = EXIT_NOT_OK;
			}
		}
	} else {
		fprintf(stderr, "clusterctl: unexpected answer\n");
		rc = EXIT_ERROR;
	}
	talloc_free(mem_ctx);
	return rc;
}
