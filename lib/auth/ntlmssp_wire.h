/*
 * NTLMSSP messages on the wire ([MS-NLMP] 2.2): parsing of NEGOTIATE,
 * CHALLENGE and AUTHENTICATE with every length and offset checked
 * against the message, AV pairs, and building of CHALLENGE.
 *
 * Parsed fields point into the caller's message buffer (no copies):
 * keep the message alive while the parsed struct is used.
 *
 * Internal to lib/auth.
 */
#ifndef LIB_AUTH_NTLMSSP_WIRE_H
#define LIB_AUTH_NTLMSSP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "lib/util/ntstatus.h"

/* [MS-NLMP] 2.2.2.5 NEGOTIATE flags */
#define NTLMSSP_NEGOTIATE_UNICODE 0x00000001u
#define NTLMSSP_NEGOTIATE_OEM 0x00000002u
#define NTLMSSP_REQUEST_TARGET 0x00000004u
#define NTLMSSP_NEGOTIATE_SIGN 0x00000010u
#define NTLMSSP_NEGOTIATE_SEAL 0x00000020u
#define NTLMSSP_NEGOTIATE_LM_KEY 0x00000080u
#define NTLMSSP_NEGOTIATE_NTLM 0x00000200u
#define NTLMSSP_ANONYMOUS 0x00000800u
#define NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED 0x00001000u
#define NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED 0x00002000u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN 0x00008000u
#define NTLMSSP_TARGET_TYPE_DOMAIN 0x00010000u
#define NTLMSSP_TARGET_TYPE_SERVER 0x00020000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO 0x00800000u
#define NTLMSSP_NEGOTIATE_VERSION 0x02000000u
#define NTLMSSP_NEGOTIATE_128 0x20000000u
#define NTLMSSP_NEGOTIATE_KEY_EXCH 0x40000000u
#define NTLMSSP_NEGOTIATE_56 0x80000000u

#define NTLMSSP_MSG_NEGOTIATE 1
#define NTLMSSP_MSG_CHALLENGE 2
#define NTLMSSP_MSG_AUTHENTICATE 3

/* [MS-NLMP] 2.2.2.1 AV_PAIR ids */
#define MSV_AV_EOL 0
#define MSV_AV_NB_COMPUTER_NAME 1
#define MSV_AV_NB_DOMAIN_NAME 2
#define MSV_AV_DNS_COMPUTER_NAME 3
#define MSV_AV_DNS_DOMAIN_NAME 4
#define MSV_AV_FLAGS 6
#define MSV_AV_TIMESTAMP 7

/* MsvAvFlags bit: the AUTHENTICATE message carries a MIC. */
#define MSV_AV_FLAG_MIC_PRESENT 0x00000002u

/* Fixed header sizes of AUTHENTICATE ([MS-NLMP] 2.2.1.3). */
#define NTLMSSP_AUTH_HEADER_MIN 64
#define NTLMSSP_AUTH_MIC_OFFSET 72
#define NTLMSSP_AUTH_HEADER_WITH_MIC 88

/* Size of the NTLMv2_CLIENT_CHALLENGE fixed part ([MS-NLMP] 2.2.2.7)
 * plus the 16-byte NTProofStr in front of it. */
#define NTLMV2_RESPONSE_MIN (16 + 28)

struct ntlmssp_blob {
	const uint8_t *data;
	size_t len;
};

struct ntlmssp_negotiate_msg {
	uint32_t flags;
};

struct ntlmssp_challenge_msg {
	uint32_t flags;
	uint8_t server_challenge[8];
	struct ntlmssp_blob target_name;
	struct ntlmssp_blob target_info;
};

struct ntlmssp_authenticate_msg {
	struct ntlmssp_blob lm_response;
	struct ntlmssp_blob nt_response;
	struct ntlmssp_blob domain;
	struct ntlmssp_blob user;
	struct ntlmssp_blob workstation;
	struct ntlmssp_blob encrypted_session_key;
	uint32_t flags;
	/* Lowest offset of any non-empty payload field (the message length
	 * when all are empty): the fixed header can be no longer. */
	size_t payload_start;
};

/* What the server needs from the client's AV pairs. */
struct ntlmssp_av_info {
	bool has_flags;
	uint32_t flags;
	bool has_timestamp;
	uint64_t timestamp;
};

/* All return NT_STATUS_INVALID_PARAMETER for a malformed message. */
NTSTATUS ntlmssp_parse_negotiate(const uint8_t *msg, size_t len,
				 struct ntlmssp_negotiate_msg *out);
NTSTATUS ntlmssp_parse_challenge(const uint8_t *msg, size_t len,
				 struct ntlmssp_challenge_msg *out);
NTSTATUS ntlmssp_parse_authenticate(const uint8_t *msg, size_t len,
				    struct ntlmssp_authenticate_msg *out);

/* Walk an AV_PAIR list; it must end with MsvAvEOL inside len (bytes
 * after the EOL, such as the NTLMv2 blob's padding, are ignored). */
NTSTATUS ntlmssp_parse_av_pairs(const uint8_t *p, size_t len,
				struct ntlmssp_av_info *out);

/* Message type of a buffer starting with "NTLMSSP\0", or 0. */
uint32_t ntlmssp_message_type(const uint8_t *msg, size_t len);

/* A string payload field as UTF-8 (UTF-16LE when unicode, else OEM taken
 * as ASCII).  NULL for invalid text. */
char *ntlmssp_blob_to_string(TALLOC_CTX *mem_ctx,
			     const struct ntlmssp_blob *b, bool unicode);

struct ntlmssp_challenge_params {
	uint32_t flags;
	uint8_t server_challenge[8];
	const char *target_name;
	const char *nb_domain;
	const char *nb_computer;
	const char *dns_domain;
	const char *dns_computer;
	uint64_t timestamp; /* FILETIME */
};

/* Build a CHALLENGE message (2.2.1.2) on mem_ctx.  Strings are UTF-8,
 * written as UTF-16LE (TargetName as OEM when UNICODE is not in flags).
 * NULL strings are sent empty. */
NTSTATUS ntlmssp_build_challenge(TALLOC_CTX *mem_ctx,
				 const struct ntlmssp_challenge_params *p,
				 uint8_t **out, size_t *out_len);

/* The VERSION structure (2.2.2.10) this server reports. */
void ntlmssp_push_version(uint8_t out[8]);

#endif
