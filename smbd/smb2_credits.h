/*
 * Credits and the message-id sequence window ([MS-SMB2] 3.3.1.1,
 * 3.3.5.2.3, 3.3.5.2.5, 3.3.1.2).  Every message id the client may use
 * was granted by an earlier response; each id is accepted once.
 */
#ifndef SMBD_SMB2_CREDITS_H
#define SMBD_SMB2_CREDITS_H

#include <stdbool.h>
#include <stdint.h>

struct smbd_connection;

bool smbd_credits_init(struct smbd_connection *conn, uint32_t max_credits);

/* Consume message ids mid .. mid+charge-1; false when any lies outside
 * the window or was used before (the connection is then dropped). */
bool smbd_credits_consume(struct smbd_connection *conn, uint64_t mid,
			  uint16_t charge);

/* How many credits to grant in a response: what was asked (at least
 * one), limited so the client never holds more than max_credits. */
uint16_t smbd_credits_grant(struct smbd_connection *conn, uint16_t charge,
			    uint16_t requested);

#endif
