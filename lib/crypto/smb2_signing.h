/*
 * SMB2/3 message signing ([MS-SMB2] 3.1.4.1 sign, 3.1.5.1 verify).
 *
 * Stateless: every call takes the algorithm and the 16-byte signing key
 * (Session.SigningKey or Channel.SigningKey; for 2.x the session key).
 * Nothing is allocated on the common path and the message is never copied:
 * the iovecs are hashed where they lie, with the 16-byte Signature field
 * (header offset 48) fed to the MAC as zeros.
 *
 *	PUSH_LE32(hdr, 16, PULL_LE32(hdr, 16) | SMB2_FLAGS_SIGNED);
 *	status = smb2_signing_sign(SMB2_SIGNING_AES_CMAC, key, iov, 2);
 *	...
 *	status = smb2_signing_check(algo, key, &in, 1);
 *	if (!NT_STATUS_IS_OK(status)) { drop the request }
 *
 * Safe to call from several threads at once.
 */
#ifndef LIB_CRYPTO_SMB2_SIGNING_H
#define LIB_CRYPTO_SMB2_SIGNING_H

#include <stdint.h>
#include <sys/uio.h>

#include "lib/util/ntstatus.h"

/* Signing algorithm ids as in the SMB2_SIGNING_CAPABILITIES negotiate
 * context ([MS-SMB2] 2.2.3.1.7).  HMAC-SHA256 is what 2.0.2/2.1 use,
 * AES-CMAC what 3.0/3.0.2 (and 3.1.1 without that context) use. */
enum smb2_signing_algo {
	SMB2_SIGNING_HMAC_SHA256 = 0,
	SMB2_SIGNING_AES_CMAC = 1,
	SMB2_SIGNING_AES_GMAC = 2,
};

/*
 * vec[0..count-1] together form ONE SMB2 message: the 64-byte SMB2 header
 * first (vec[0] must hold all of it), then the body; for a compound member,
 * everything up to its NextCommand including the padding.  The header's
 * Signature field is treated as zero while computing.
 *
 * sign writes the signature into vec[0].iov_base + 48.  The caller sets
 * SMB2_FLAGS_SIGNED (0x8) in the header before calling: the flags are part
 * of what is signed.  For GMAC the nonce is MessageId plus the role bit
 * (SMB2_FLAGS_SERVER_TO_REDIR in the header's Flags) and the cancel bit
 * (Command == SMB2_CANCEL), [MS-SMB2] 3.1.4.1.
 *
 * Returns NT_STATUS_INVALID_PARAMETER for an unknown algorithm, a NULL
 * key or a too short vec[0], NT_STATUS_INTERNAL_ERROR if the crypto
 * library fails.
 */
NTSTATUS smb2_signing_sign(enum smb2_signing_algo algo, const uint8_t key[16],
			   struct iovec *vec, int count);

/*
 * Verifies the signature in the header of the message in vec (same layout
 * as for sign).  Returns NT_STATUS_ACCESS_DENIED on mismatch (the compare
 * is constant-time), NT_STATUS_INVALID_PARAMETER on bad input.  Does not
 * modify the message.
 */
NTSTATUS smb2_signing_check(enum smb2_signing_algo algo, const uint8_t key[16],
			    const struct iovec *vec, int count);

#endif
