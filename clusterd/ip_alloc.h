/*
 * Public IP assignment: a pure function that every node evaluates on the
 * same inputs (the agreed membership, the agreed health of each member,
 * the agreed previous owners) and so reaches the same answer without a
 * round of messages.
 *
 * Inputs: n IPs, indexed by their position in the sorted public address
 * list; prev[i] the previous owner of IP i (IP_ALLOC_NONE if none); the
 * candidate node ids (members that are healthy and not stopped, any
 * order, duplicates ignored).
 *
 * Algorithm (deterministic, stable, balanced):
 *   1. Sticky: an IP whose previous owner is a candidate stays there.
 *   2. Fill: every other IP, in index order, goes to the candidate with
 *      the fewest IPs (ties: the lowest node id).
 *   3. Balance: while the most-loaded candidate has two or more IPs more
 *      than the least-loaded, move the highest-index IP of the
 *      most-loaded (ties: the highest node id) to the least-loaded (ties:
 *      the lowest node id).
 * The result has max - min <= 1 IPs per candidate and moves the fewest
 * IPs that such a balance allows: a node that leaves loses only its own
 * IPs, a node that joins takes IPs only from the nodes above the new
 * average.  With no candidate every IP is unassigned.
 */
#ifndef CLUSTERD_IP_ALLOC_H
#define CLUSTERD_IP_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#define IP_ALLOC_NONE 0u /* corosync node ids are never 0 */

/* out may equal prev.  Returns the number of IPs whose owner changed. */
size_t ip_alloc_compute(size_t num_ips, const uint32_t *prev,
			const uint32_t *candidates, size_t num_candidates,
			uint32_t *out);

#endif
