#include "smbd/smb2_credits.h"

#include <talloc.h>

#include "smbd/smbd.h"

bool smbd_credits_init(struct smbd_connection *conn, uint32_t max_credits)
{
	uint32_t bits = 1;

	/* A power of two at least max_credits, so that mid % bits maps the
	 * window without collisions. */
	while (bits < max_credits) {
		bits <<= 1;
	}
	conn->seq_bitmap = talloc_zero_array(conn, uint8_t, bits / 8 + 1);
	if (conn->seq_bitmap == NULL) {
		return false;
	}
	conn->seq_bitmap_bits = bits;
	conn->max_credits = max_credits;
	conn->seq_low = 0;
	conn->seq_range = 1; /* the NEGOTIATE with message id 0 */
	return true;
}

static bool seq_bit(const struct smbd_connection *conn, uint64_t mid)
{
	uint32_t b = mid & (conn->seq_bitmap_bits - 1);

	return (conn->seq_bitmap[b / 8] >> (b % 8)) & 1;
}

static void seq_set(struct smbd_connection *conn, uint64_t mid, bool on)
{
	uint32_t b = mid & (conn->seq_bitmap_bits - 1);

	if (on) {
		conn->seq_bitmap[b / 8] |= (uint8_t)(1u << (b % 8));
	} else {
		conn->seq_bitmap[b / 8] &= (uint8_t)~(1u << (b % 8));
	}
}

bool smbd_credits_consume(struct smbd_connection *conn, uint64_t mid,
			  uint16_t charge)
{
	uint64_t m;

	if (charge == 0) {
		charge = 1;
	}
	if (mid == UINT64_MAX) {
		return false; /* reserved for oplock breaks */
	}
	if (mid < conn->seq_low || mid + charge < mid ||
	    mid + charge > conn->seq_low + conn->seq_range) {
		return false;
	}
	for (m = mid; m < mid + charge; m++) {
		if (seq_bit(conn, m)) {
			return false;
		}
	}
	for (m = mid; m < mid + charge; m++) {
		seq_set(conn, m, true);
	}
	while (conn->seq_range > 0 && seq_bit(conn, conn->seq_low)) {
		seq_set(conn, conn->seq_low, false);
		conn->seq_low++;
		conn->seq_range--;
	}
	return true;
}

uint16_t smbd_credits_grant(struct smbd_connection *conn, uint16_t charge,
			    uint16_t requested)
{
	uint32_t room;
	uint32_t grant = requested;

	if (grant == 0) {
		grant = 1;
	}
	room = conn->max_credits > conn->seq_range
		       ? conn->max_credits - conn->seq_range
		       : 0;
	/* Always keep at least one credit outstanding, or the client could
	 * never send again. */
	if (grant > room) {
		grant = room;
	}
	if (grant == 0 && conn->seq_range == 0) {
		grant = 1;
	}
	conn->seq_range += grant;
	return (uint16_t)grant;
}
