/*
 * Little-endian wire access.  Every SMB2 field is little-endian
 * ([MS-SMB2] 1.8 "Byte Order"); these helpers compile to plain loads and
 * stores on x86 and stay correct on big-endian hosts.  They do no bounds
 * checking: callers check lengths first (see smb2_in_dynamic() for the
 * checked path from a request).
 */
#ifndef LIB_UTIL_BYTEORDER_H
#define LIB_UTIL_BYTEORDER_H

#include <stdint.h>

static inline uint16_t PULL_LE16(const uint8_t *p, size_t ofs)
{
	return (uint16_t)(p[ofs] | (p[ofs + 1] << 8));
}

static inline uint32_t PULL_LE32(const uint8_t *p, size_t ofs)
{
	return (uint32_t)p[ofs] | ((uint32_t)p[ofs + 1] << 8) |
	       ((uint32_t)p[ofs + 2] << 16) | ((uint32_t)p[ofs + 3] << 24);
}

static inline uint64_t PULL_LE64(const uint8_t *p, size_t ofs)
{
	return (uint64_t)PULL_LE32(p, ofs) |
	       ((uint64_t)PULL_LE32(p, ofs + 4) << 32);
}

static inline void PUSH_LE16(uint8_t *p, size_t ofs, uint16_t v)
{
	p[ofs] = (uint8_t)v;
	p[ofs + 1] = (uint8_t)(v >> 8);
}

static inline void PUSH_LE32(uint8_t *p, size_t ofs, uint32_t v)
{
	p[ofs] = (uint8_t)v;
	p[ofs + 1] = (uint8_t)(v >> 8);
	p[ofs + 2] = (uint8_t)(v >> 16);
	p[ofs + 3] = (uint8_t)(v >> 24);
}

static inline void PUSH_LE64(uint8_t *p, size_t ofs, uint64_t v)
{
	PUSH_LE32(p, ofs, (uint32_t)v);
	PUSH_LE32(p, ofs + 4, (uint32_t)(v >> 32));
}

static inline uint32_t PULL_BE32(const uint8_t *p, size_t ofs)
{
	return ((uint32_t)p[ofs] << 24) | ((uint32_t)p[ofs + 1] << 16) |
	       ((uint32_t)p[ofs + 2] << 8) | (uint32_t)p[ofs + 3];
}

static inline void PUSH_BE32(uint8_t *p, size_t ofs, uint32_t v)
{
	p[ofs] = (uint8_t)(v >> 24);
	p[ofs + 1] = (uint8_t)(v >> 16);
	p[ofs + 2] = (uint8_t)(v >> 8);
	p[ofs + 3] = (uint8_t)v;
}

#endif
