/*
 * The public IP addresses of the cluster: the CTDB-style public_addresses
 * file, one address a line:
 *
 *     # comment
 *     192.168.100.11/24 eth0
 *     fd00::11/64 eth1
 *
 * Every node must have the same file: the assignment (ip_alloc.h) indexes
 * addresses by their position in the sorted list, so nodes with different
 * files would compute different answers.  clusterd announces a checksum of
 * its list in every HELLO and logs an error when a peer's differs.
 */
#ifndef CLUSTERD_PUBLIC_IPS_H
#define CLUSTERD_PUBLIC_IPS_H

#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

struct public_ip {
	char *addr;	    /* canonical text (inet_ntop), no prefix */
	int family;	    /* AF_INET or AF_INET6 */
	uint8_t bytes[16];  /* network order, 4 used for AF_INET */
	unsigned prefix;    /* 0..32 or 0..128 */
	char *iface;
};

struct public_ip_list {
	size_t num;
	struct public_ip *ips; /* sorted: IPv4 first, then by address bytes */
};

/*
 * Parse the text of a public_addresses file.  fname is only used in error
 * messages, which read "fname:line: what" and land in *errmsg (talloc'ed
 * on mem_ctx) when the result is NT_STATUS_INVALID_PARAMETER.  Duplicate
 * addresses, bad prefixes, missing or bad interface names and trailing
 * words are errors; blank lines and '#' comments are skipped.
 */
NTSTATUS public_ips_parse(TALLOC_CTX *mem_ctx, const char *text,
			  const char *fname, struct public_ip_list **out,
			  char **errmsg);

/* Read and parse path.  A file that does not exist is an empty list (a
 * cluster without public addresses is legal); other read errors fail. */
NTSTATUS public_ips_load(TALLOC_CTX *mem_ctx, const char *path,
			 struct public_ip_list **out, char **errmsg);

/* Index of addr (any textual form) in the list, or -1. */
int public_ips_find(const struct public_ip_list *l, const char *addr);

/* FNV-1a over the canonical lines, to compare lists between nodes. */
uint32_t public_ips_checksum(const struct public_ip_list *l);

#endif
