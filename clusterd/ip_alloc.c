/*
 * Public IP assignment (see ip_alloc.h for the algorithm and why).
 */
#include <stdlib.h>
#include <string.h>

#include "clusterd/ip_alloc.h"

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* Index in the sorted unique candidate array, or -1. */
static int cand_index(const uint32_t *cand, size_t n, uint32_t id)
{
	const uint32_t *p = NULL;

	if (id == IP_ALLOC_NONE) {
		return -1;
	}
	p = bsearch(&id, cand, n, sizeof(*cand), u32_cmp);
	return p == NULL ? -1 : (int)(p - cand);
}

size_t ip_alloc_compute(size_t num_ips, const uint32_t *prev,
			const uint32_t *candidates, size_t num_candidates,
			uint32_t *out)
{
	uint32_t *cand = NULL, *before = NULL;
	size_t *count = NULL;
	size_t n = 0, changed = 0;

	before = malloc((num_ips + 1) * sizeof(*before));
	cand = malloc((num_candidates + 1) * sizeof(*cand));
	count = calloc(num_candidates + 1, sizeof(*count));
	if (before == NULL || cand == NULL || count == NULL) {
		/* Keeping the previous owners is the safe answer: nothing
		 * moves, and the next membership event recomputes. */
		if (out != prev) {
			memmove(out, prev, num_ips * sizeof(*out));
		}
		free(before);
		free(cand);
		free(count);
		return 0;
	}
	memcpy(before, prev, num_ips * sizeof(*before));

	/* Sorted, unique, without the "none" id. */
	for (size_t i = 0; i < num_candidates; i++) {
		if (candidates[i] != IP_ALLOC_NONE) {
			cand[n++] = candidates[i];
		}
	}
	qsort(cand, n, sizeof(*cand), u32_cmp);
	{
		size_t w = 0;
		for (size_t i = 0; i < n; i++) {
			if (w == 0 || cand[w - 1] != cand[i]) {
				cand[w++] = cand[i];
			}
		}
		n = w;
	}

	/* 1. sticky */
	for (size_t i = 0; i < num_ips; i++) {
		int c = cand_index(cand, n, before[i]);
		if (c >= 0) {
			out[i] = before[i];
			count[c]++;
		} else {
			out[i] = IP_ALLOC_NONE;
		}
	}

	if (n > 0) {
		/* 2. fill, in index order, onto the least loaded */
		for (size_t i = 0; i < num_ips; i++) {
			size_t best = 0;
			if (out[i] != IP_ALLOC_NONE) {
				continue;
			}
			for (size_t c = 1; c < n; c++) {
				if (count[c] < count[best]) {
					best = c;
				}
			}
			out[i] = cand[best];
			count[best]++;
		}

		/* 3. balance: bounded, every move lowers the spread's sum of
		 * squares, but cap it anyway. */
		for (size_t round = 0; round <= num_ips; round++) {
			size_t hi = 0, lo = 0;
			for (size_t c = 1; c < n; c++) {
				if (count[c] >= count[hi]) {
					hi = c; /* ties: highest id */
				}
				if (count[c] < count[lo]) {
					lo = c; /* ties: lowest id */
				}
			}
			if (count[hi] < count[lo] + 2) {
				break;
			}
			for (size_t i = num_ips; i-- > 0;) {
				if (out[i] == cand[hi]) {
					out[i] = cand[lo];
					count[hi]--;
					count[lo]++;
					break;
				}
			}
		}
	}

	for (size_t i = 0; i < num_ips; i++) {
		if (out[i] != before[i]) {
			changed++;
		}
	}
	free(before);
	free(cand);
	free(count);
	return changed;
}
