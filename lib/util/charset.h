/*
 * UTF-8 <-> UTF-16LE, strictly.  SMB2 carries every name as UTF-16LE
 * ([MS-SMB2] 2.2); the rest of the code base works in UTF-8.  Invalid
 * input (unpaired surrogates, overlong or truncated UTF-8, odd byte
 * counts) is rejected rather than repaired, so a hostile name can never
 * turn into a different name on disk.
 */
#ifndef LIB_UTIL_CHARSET_H
#define LIB_UTIL_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

/* Convert len bytes of UTF-16LE to a NUL-terminated UTF-8 string allocated
 * on mem_ctx.  NULL on invalid input or allocation failure.  An embedded
 * U+0000 is invalid. */
char *utf16le_to_utf8(TALLOC_CTX *mem_ctx, const uint8_t *src, size_t len);

/* Convert a NUL-terminated UTF-8 string to UTF-16LE (no terminator) on
 * mem_ctx; *out_len receives the byte count.  false on invalid input. */
bool utf8_to_utf16le(TALLOC_CTX *mem_ctx, const char *src, uint8_t **out,
		     size_t *out_len);

/* Bytes that utf8_to_utf16le would produce, or -1 on invalid input. */
ssize_t utf8_utf16le_len(const char *src);

/* Write the UTF-16LE form of src into dst (capacity dst_len bytes);
 * returns bytes written or -1 if invalid or it does not fit. */
ssize_t utf8_to_utf16le_buf(const char *src, uint8_t *dst, size_t dst_len);

#endif
