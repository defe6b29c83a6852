/*
 * SMB 3.1.1 preauthentication integrity hash ([MS-SMB2] 3.3.5.4 for
 * NEGOTIATE, 3.3.5.5 for SESSION_SETUP; SHA-512 is the only hash
 * algorithm defined).  The connection's hash starts as 64 zero bytes and
 * takes the NEGOTIATE request and response; each session's hash starts as
 * a copy of the connection's and takes its SESSION_SETUP requests and
 * responses, except the final (successful) response.
 */
#ifndef LIB_CRYPTO_SMB2_PREAUTH_H
#define LIB_CRYPTO_SMB2_PREAUTH_H

#include <stdint.h>
#include <sys/uio.h>

/* hash := SHA-512(hash || message), the message given as vec[0..count-1]
 * (the whole SMB2 message, header first, without the 4-byte transport
 * header). */
void smb2_preauth_update(uint8_t hash[64], const struct iovec *vec, int count);

#endif
