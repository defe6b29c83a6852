/*
 * Share modes and delete-pending between the opens of one file
 * ([MS-FSA] 2.1.5.1.2 "Algorithm to Check Sharing Access to an Existing
 * Stream or Directory", 2.1.5.1 DeletePending).
 *
 * Today the opens that can conflict are those of this process; the
 * cross-process share-mode database (dbwrap, next issue) will back the
 * same two calls, so callers do not change.
 */
#ifndef SMBD_SHARE_MODE_H
#define SMBD_SHARE_MODE_H

#include "smbd/smbd.h"

/*
 * May a new open of (tcon's share, relpath, stream) with this access and
 * share access coexist with the opens there are?  NT_STATUS_OK,
 * NT_STATUS_SHARING_VIOLATION, or NT_STATUS_DELETE_PENDING when an open
 * has marked the file for deletion.
 */
NTSTATUS smbd_share_mode_check(struct smbd_client *client,
			       const struct smbd_tcon *tcon,
			       const char *relpath, const char *stream,
			       uint32_t access, uint32_t share_access);

/* Number of other opens of the same file as op (same share and path). */
unsigned smbd_share_mode_other_opens(struct smbd_client *client,
				     const struct smbd_open *op);

/* Is op's parent directory open with DELETE access by another open?
 * Windows then refuses to rename op (SHARING_VIOLATION). */
bool smbd_share_mode_parent_open_for_delete(struct smbd_client *client,
					    const struct smbd_open *op);

#endif
