/*
 * marshall: see marshall.h.  Header: u16 type, u16 version (little-endian).
 */
#include "lib/util/marshall.h"

#include <string.h>

#include "lib/util/byteorder.h"

#define MARSHALL_HEADER_SIZE 4
/* A record larger than this is a bug or an attack, not data. */
#define MARSHALL_MAX_SIZE (64u * 1024 * 1024)

struct marshall_push {
	TALLOC_CTX *mem_ctx;
	uint8_t *buf;
	size_t len;
	size_t alloc;
	bool error;
};

static uint8_t *push_space(struct marshall_push *p, size_t n)
{
	uint8_t *dst;

	if (p->error) {
		return NULL;
	}
	if (n > MARSHALL_MAX_SIZE - p->len) {
		p->error = true;
		return NULL;
	}
	if (p->len + n > p->alloc) {
		size_t want = p->alloc * 2;
		uint8_t *nbuf;

		if (want < p->len + n) {
			want = p->len + n;
		}
		nbuf = talloc_realloc(p, p->buf, uint8_t, want);
		if (nbuf == NULL) {
			p->error = true;
			return NULL;
		}
		p->buf = nbuf;
		p->alloc = want;
	}
	dst = p->buf + p->len;
	p->len += n;
	return dst;
}

struct marshall_push *marshall_push_init(TALLOC_CTX *mem_ctx, uint16_t type,
					 uint16_t version)
{
	struct marshall_push *p = talloc_zero(mem_ctx, struct marshall_push);

	if (p == NULL) {
		return NULL;
	}
	p->mem_ctx = mem_ctx;
	p->alloc = 128;
	p->buf = talloc_array(p, uint8_t, p->alloc);
	if (p->buf == NULL) {
		talloc_free(p);
		return NULL;
	}
	marshall_push_u16(p, type);
	marshall_push_u16(p, version);
	return p;
}

void marshall_push_u8(struct marshall_push *p, uint8_t v)
{
	uint8_t *d = (p != NULL) ? push_space(p, 1) : NULL;
	if (d != NULL) {
		d[0] = v;
	}
}

void marshall_push_u16(struct marshall_push *p, uint16_t v)
{
	uint8_t *d = (p != NULL) ? push_space(p, 2) : NULL;
	if (d != NULL) {
		PUSH_LE16(d, 0, v);
	}
}

void marshall_push_u32(struct marshall_push *p, uint32_t v)
{
	uint8_t *d = (p != NULL) ? push_space(p, 4) : NULL;
	if (d != NULL) {
		PUSH_LE32(d, 0, v);
	}
}

void marshall_push_u64(struct marshall_push *p, uint64_t v)
{
	uint8_t *d = (p != NULL) ? push_space(p, 8) : NULL;
	if (d != NULL) {
		PUSH_LE64(d, 0, v);
	}
}

void marshall_push_bool(struct marshall_push *p, bool v)
{
	marshall_push_u8(p, v ? 1 : 0);
}

void marshall_push_bytes(struct marshall_push *p, const void *b, size_t n)
{
	uint8_t *d = (p != NULL) ? push_space(p, n) : NULL;
	if (d != NULL && n > 0) {
		memcpy(d, b, n);
	}
}

void marshall_push_blob(struct marshall_push *p, const void *b, size_t n)
{
	if (p == NULL) {
		return;
	}
	if (n > UINT32_MAX) {
		p->error = true;
		return;
	}
	marshall_push_u32(p, (uint32_t)n);
	marshall_push_bytes(p, b, n);
}

void marshall_push_string(struct marshall_push *p, const char *s)
{
	size_t n;

	if (p == NULL) {
		return;
	}
	if (s == NULL) {
		marshall_push_u32(p, 0);
		return;
	}
	n = strlen(s);
	if (n >= UINT32_MAX) {
		p->error = true;
		return;
	}
	marshall_push_u32(p, (uint32_t)(n + 1));
	marshall_push_bytes(p, s, n);
}

size_t marshall_push_offset(const struct marshall_push *p)
{
	return (p != NULL) ? p->len : 0;
}

void marshall_push_patch_u32(struct marshall_push *p, size_t offset,
			     uint32_t v)
{
	if (p == NULL || p->error) {
		return;
	}
	if (offset > p->len || p->len - offset < 4) {
		p->error = true;
		return;
	}
	PUSH_LE32(p->buf, offset, v);
}

NTSTATUS marshall_push_finish(struct marshall_push *p, uint8_t **out,
			      size_t *out_len)
{
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (p->error) {
		talloc_free(p);
		return NT_STATUS_NO_MEMORY;
	}
	*out = talloc_realloc(p, p->buf, uint8_t, p->len);
	if (*out == NULL) {
		talloc_free(p);
		return NT_STATUS_NO_MEMORY;
	}
	*out = talloc_steal(p->mem_ctx, *out);
	*out_len = p->len;
	talloc_free(p);
	return NT_STATUS_OK;
}

static const uint8_t *pull_space(struct marshall_pull *r, size_t n)
{
	const uint8_t *s;

	if (r->error || r->ofs > r->len || r->len - r->ofs < n) {
		r->error = true;
		return NULL;
	}
	s = r->buf + r->ofs;
	r->ofs += n;
	return s;
}

NTSTATUS marshall_pull_init(struct marshall_pull *r, const uint8_t *buf,
			    size_t len, uint16_t type, uint16_t max_version)
{
	uint16_t t, v;

	*r = (struct marshall_pull){.buf = buf, .len = len};
	if (buf == NULL || len < MARSHALL_HEADER_SIZE) {
		r->error = true;
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	t = PULL_LE16(buf, 0);
	v = PULL_LE16(buf, 2);
	if (t != type || v == 0 || v > max_version) {
		r->error = true;
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	r->version = v;
	r->ofs = MARSHALL_HEADER_SIZE;
	return NT_STATUS_OK;
}

bool marshall_pull_u8(struct marshall_pull *r, uint8_t *v)
{
	const uint8_t *s = pull_space(r, 1);
	if (s == NULL) {
		return false;
	}
	*v = s[0];
	return true;
}

bool marshall_pull_u16(struct marshall_pull *r, uint16_t *v)
{
	const uint8_t *s = pull_space(r, 2);
	if (s == NULL) {
		return false;
	}
	*v = PULL_LE16(s, 0);
	return true;
}

bool marshall_pull_u32(struct marshall_pull *r, uint32_t *v)
{
	const uint8_t *s = pull_space(r, 4);
	if (s == NULL) {
		return false;
	}
	*v = PULL_LE32(s, 0);
	return true;
}

bool marshall_pull_u64(struct marshall_pull *r, uint64_t *v)
{
	const uint8_t *s = pull_space(r, 8);
	if (s == NULL) {
		return false;
	}
	*v = PULL_LE64(s, 0);
	return true;
}

bool marshall_pull_bool(struct marshall_pull *r, bool *v)
{
	uint8_t b;

	if (!marshall_pull_u8(r, &b)) {
		return false;
	}
	if (b > 1) {
		r->error = true;
		return false;
	}
	*v = (b == 1);
	return true;
}

bool marshall_pull_bytes(struct marshall_pull *r, void *b, size_t n)
{
	const uint8_t *s = pull_space(r, n);
	if (s == NULL) {
		return false;
	}
	if (n > 0) {
		memcpy(b, s, n);
	}
	return true;
}

bool marshall_pull_blob(struct marshall_pull *r, const uint8_t **b,
			size_t *n)
{
	uint32_t len;
	const uint8_t *s;

	if (!marshall_pull_u32(r, &len)) {
		return false;
	}
	s = pull_space(r, len);
	if (s == NULL) {
		return false;
	}
	*b = s;
	*n = len;
	return true;
}

bool marshall_pull_string(struct marshall_pull *r, TALLOC_CTX *mem_ctx,
			  char **out)
{
	uint32_t len;
	const uint8_t *s;
	char *str;

	if (!marshall_pull_u32(r, &len)) {
		return false;
	}
	if (len == 0) {
		*out = NULL;
		return true;
	}
	s = pull_space(r, len - 1);
	if (s == NULL) {
		return false;
	}
	if (memchr(s, '\0', len - 1) != NULL) {
		r->error = true;
		return false;
	}
	str = talloc_strndup(mem_ctx, (const char *)s, len - 1);
	if (str == NULL) {
		r->error = true;
		return false;
	}
	*out = str;
	return true;
}

bool marshall_pull_count(struct marshall_pull *r, uint32_t *count,
			 size_t min_elem_size)
{
	uint32_t n;

	if (!marshall_pull_u32(r, &n)) {
		return false;
	}
	if (min_elem_size > 0 &&
	    (size_t)n > (r->len - r->ofs) / min_elem_size) {
		r->error = true;
		return false;
	}
	*count = n;
	return true;
}

NTSTATUS marshall_pull_finish(struct marshall_pull *r)
{
	if (r->error || r->ofs != r->len) {
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	}
	return NT_STATUS_OK;
}
