/*
 * The NT one-way function ([MS-NLMP] 3.3.1 NTOWFv1): MD4 over the
 * UTF-16LE form of the password.  The user database stores only this.
 */
#ifndef LIB_CRYPTO_NT_HASH_H
#define LIB_CRYPTO_NT_HASH_H

#include <stdbool.h>
#include <stdint.h>

/* false if password is not valid UTF-8 or too long (over 256 chars). */
bool nt_hash_from_password(const char *password, uint8_t nt_hash[16]);

#endif
