/*
 * public_addresses parser (see public_ips.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clusterd/public_ips.h"

#define PUBLIC_IPS_MAX 1024
#define PUBLIC_IPS_FILE_MAX (1024 * 1024)

static int public_ip_cmp(const void *a, const void *b)
{
	const struct public_ip *x = a, *y = b;

	if (x->family != y->family) {
		return x->family == AF_INET ? -1 : 1;
	}
	return memcmp(x->bytes, y->bytes, sizeof(x->bytes));
}

/* Interface names as the kernel accepts them: 1..IFNAMSIZ-1 bytes, no '/',
 * no whitespace, not "." or "..". */
static bool iface_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ) {
		return false;
	}
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '/' || c == ':' || c == ',' || isspace(c) || c < 0x21 || c > 0x7e) {
			return false;
		}
	}
	return true;
}

/* Parse "addr/prefix" into ip; returns a static error text or NULL. */
static const char *parse_addr(TALLOC_CTX *mem_ctx, char *word,
			      struct public_ip *ip)
{
	char *slash = strchr(word, '/');
	char *end = NULL;
	unsigned long prefix;
	char buf[INET6_ADDRSTRLEN];
	unsigned max;

	if (slash == NULL) {
		return "address without /prefix";
	}
	*slash = '\0';
	if (slash[1] == '\0' || !isdigit((unsigned char)slash[1])) {
		return "bad prefix";
	}
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0') {
		return "bad prefix";
	}
	memset(ip->bytes, 0, sizeof(ip->bytes));
	if (inet_pton(AF_INET, word, ip->bytes) == 1) {
		ip->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, word, ip->bytes) == 1) {
		ip->family = AF_INET6;
		max = 128;
	} else {
		return "not an IPv4 or IPv6 address";
	}
	if (prefix > max || prefix == 0) {
		return "prefix out of range";
	}
	ip->prefix = prefix;
	if (inet_ntop(ip->family, ip->bytes, buf, sizeof(buf)) == NULL) {
		return "not an IPv4 or IPv6 address";
	}
	ip->addr = talloc_strdup(mem_ctx, buf);
	if (ip->addr == NULL) {
		return "out of memory";
	}
	return NULL;
}

NTSTATUS public_ips_parse(TALLOC_CTX *mem_ctx, const char *text,
			  const char *fname, struct public_ip_list **out,
			  char **errmsg)
{
	struct public_ip_list *l = NULL;
	char *copy = NULL, *line = NULL, *next = NULL;
	unsigned lineno = 0;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	l = talloc_zero(mem_ctx, struct public_ip_list);
	copy = talloc_strdup(l, text);
	if (l == NULL || copy == NULL) {
		TALLOC_FREE(l);
		return NT_STATUS_NO_MEMORY;
	}

#define FAIL(...)                                                              \
	do {                                                                   \
		if (errmsg != NULL) {                                          \
			*errmsg = talloc_asprintf(mem_ctx, "%s:%u: ", fname,   \
						  lineno);                     \
			*errmsg = talloc_asprintf_append(*errmsg, __VA_ARGS__); \
		}                                                              \
		TALLOC_FREE(l);                                                \
		return NT_STATUS_INVALID_PARAMETER;                            \
	} while (0)

	for (line = copy; line != NULL; line = next) {
		char *words[3] = { NULL, NULL, NULL };
		size_t nwords = 0;
		char *p = NULL, *save = NULL;
		struct public_ip ip = { 0 };
		const char *err = NULL;

		lineno++;
		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = '\0';
		}
		p = strchr(line, '#');
		if (p != NULL) {
			*p = '\0';
		}
		if (strlen(line) >= 4096) {
			FAIL("line too long");
		}
		for (p = strtok_r(line, " \t\r", &save); p != NULL;
		     p = strtok_r(NULL, " \t\r", &save)) {
			if (nwords == 3) {
				FAIL("too many words (expected \"addr/prefix iface\")");
			}
			words[nwords++] = p;
		}
		if (nwords == 0) {
			continue;
		}
		if (nwords == 3) {
			/* CTDB allows "iface1,iface2": we take one. */
			FAIL("too many words (expected \"addr/prefix iface\")");
		}
		if (nwords == 1) {
			FAIL("missing interface name after %s", words[0]);
		}
		err = parse_addr(l, words[0], &ip);
		if (err != NULL) {
			FAIL("%s: %s", words[0], err);
		}
		if (!iface_name_ok(words[1])) {
			FAIL("bad interface name \"%s\"", words[1]);
		}
		ip.iface = talloc_strdup(l, words[1]);
		if (ip.iface == NULL) {
			TALLOC_FREE(l);
			return NT_STATUS_NO_MEMORY;
		}
		for (size_t i = 0; i < l->num; i++) {
			if (public_ip_cmp(&l->ips[i], &ip) == 0) {
				FAIL("duplicate address %s", ip.addr);
			}
		}
		if (l->num >= PUBLIC_IPS_MAX) {
			FAIL("more than %d addresses", PUBLIC_IPS_MAX);
		}
		l->ips = talloc_realloc(l, l->ips, struct public_ip, l->num + 1);
		if (l->ips == NULL) {
			TALLOC_FREE(l);
			return NT_STATUS_NO_MEMORY;
		}
		l->ips[l->num++] = ip;
	}
#undef FAIL
	TALLOC_FREE(copy);
	if (l->num > 1) {
		qsort(l->ips, l->num, sizeof(l->ips[0]), public_ip_cmp);
	}
	*out = l;
	return NT_STATUS_OK;
}

NTSTATUS public_ips_load(TALLOC_CTX *mem_ctx, const char *path,
			 struct public_ip_list **out, char **errmsg)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;
	NTSTATUS status;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT) {
			*out = talloc_zero(mem_ctx, struct public_ip_list);
			return *out != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
		}
		if (errmsg != NULL) {
			*errmsg = talloc_asprintf(mem_ctx, "%s: %s", path,
						  strerror(errno));
		}
		return map_nt_error_from_unix(errno);
	}
	buf = talloc_size(mem_ctx, PUBLIC_IPS_FILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return NT_STATUS_NO_MEMORY;
	}
	while ((n = read(fd, buf + len, PUBLIC_IPS_FILE_MAX + 1 - len)) > 0) {
		len += n;
		if (len > PUBLIC_IPS_FILE_MAX) {
			break;
		}
	}
	close(fd);
	if (n < 0 || len > PUBLIC_IPS_FILE_MAX || memchr(buf, 0, len) != NULL) {
		if (errmsg != NULL) {
			*errmsg = talloc_asprintf(mem_ctx, "%s: %s", path,
				n < 0 ? strerror(errno)
				      : "too large or contains NUL bytes");
		}
		TALLOC_FREE(buf);
		return NT_STATUS_INVALID_PARAMETER;
	}
	buf[len] = '\0';
	status = public_ips_parse(mem_ctx, buf, path, out, errmsg);
	TALLOC_FREE(buf);
	return status;
}

int public_ips_find(const struct public_ip_list *l, const char *addr)
{
	uint8_t bytes[16] = { 0 };
	int family;

	if (inet_pton(AF_INET, addr, bytes) == 1) {
		family = AF_INET;
	} else if (inet_pton(AF_INET6, addr, bytes) == 1) {
		family = AF_INET6;
	} else {
		return -1;
	}
	for (size_t i = 0; i < l->num; i++) {
		if (l->ips[i].family == family &&
		    memcmp(l->ips[i].bytes, bytes, 16) == 0) {
			return (int)i;
		}
	}
	return -1;
}

uint32_t public_ips_checksum(const struct public_ip_list *l)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < l->num; i++) {
		char line[INET6_ADDRSTRLEN + IFNAMSIZ + 16];
		int n = snprintf(line, sizeof(line), "%s/%u %s\n", l->ips[i].addr,
				 l->ips[i].prefix, l->ips[i].iface);
		for (int k = 0; k < n && k < (int)sizeof(line); k++) {
			h ^= (uint8_t)line[k];
			h *= 16777619u;
		}
	}
	return h;
}
