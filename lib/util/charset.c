#include "lib/util/charset.h"

#include <string.h>
#include <sys/types.h>

/* Decode one code point from UTF-8; returns bytes consumed or -1. */
static int utf8_decode(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0];
	int n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		c &= 0x07;
	} else {
		return -1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return -1;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff)) {
		return -1;
	}
	*cp = c;
	return n;
}

ssize_t utf8_to_utf16le_buf(const char *src, uint8_t *dst, size_t dst_len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t out = 0;

	while (*s != '\0') {
		uint32_t cp;
		int n = utf8_decode(s, &cp);

		if (n < 0) {
			return -1;
		}
		s += n;
		if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000;
			uint16_t hi = 0xd800 | (v >> 10);
			uint16_t lo = 0xdc00 | (v & 0x3ff);

			if (dst != NULL) {
				if (out + 4 > dst_len) {
					return -1;
				}
				dst[out] = hi & 0xff;
				dst[out + 1] = hi >> 8;
				dst[out + 2] = lo & 0xff;
				dst[out + 3] = lo >> 8;
			}
			out += 4;
		} else {
			if (dst != NULL) {
				if (out + 2 > dst_len) {
					return -1;
				}
				dst[out] = cp & 0xff;
				dst[out + 1] = cp >> 8;
			}
			out += 2;
		}
	}
	return (ssize_t)out;
}

ssize_t utf8_utf16le_len(const char *src)
{
	return utf8_to_utf16le_buf(src, NULL, 0);
}

bool utf8_to_utf16le(TALLOC_CTX *mem_ctx, const char *src, uint8_t **out,
		     size_t *out_len)
{
	ssize_t len = utf8_utf16le_len(src);
	uint8_t *buf;

	if (len < 0) {
		return false;
	}
	buf = talloc_array(mem_ctx, uint8_t, len > 0 ? len : 1);
	if (buf == NULL) {
		return false;
	}
	if (utf8_to_utf16le_buf(src, buf, len) != len) {
		talloc_free(buf);
		return false;
	}
	*out = buf;
	*out_len = (size_t)len;
	return true;
}

char *utf16le_to_utf8(TALLOC_CTX *mem_ctx, const uint8_t *src, size_t len)
{
	char *dst;
	size_t i, o = 0;

	if (len % 2 != 0) {
		return NULL;
	}
	/* Each UTF-16 unit becomes at most 3 bytes of UTF-8. */
	dst = talloc_array(mem_ctx, char, (len / 2) * 3 + 1);
	if (dst == NULL) {
		return NULL;
	}
	for (i = 0; i < len; i += 2) {
		uint32_t cp = src[i] | (src[i + 1] << 8);

		if (cp == 0) {
			goto invalid;
		}
		if (cp >= 0xd800 && cp <= 0xdbff) {
			uint32_t lo;

			if (i + 4 > len) {
				goto invalid;
			}
			lo = src[i + 2] | (src[i + 3] << 8);
			if (lo < 0xdc00 || lo > 0xdfff) {
				goto invalid;
			}
			cp = 0x10000 + (((cp - 0xd800) << 10) | (lo - 0xdc00));
			i += 2;
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			goto invalid;
		}
		if (cp < 0x80) {
			dst[o++] = (char)cp;
		} else if (cp < 0x800) {
			dst[o++] = (char)(0xc0 | (cp >> 6));
			dst[o++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			dst[o++] = (char)(0xe0 | (cp >> 12));
			dst[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			dst[o++] = (char)(0x80 | (cp & 0x3f));
		} else {
			dst[o++] = (char)(0xf0 | (cp >> 18));
			dst[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
			dst[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			dst[o++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	dst[o] = '\0';
	return dst;
invalid:
	talloc_free(dst);
	return NULL;
}
