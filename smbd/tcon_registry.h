/*
 * Tree connects of every smbd process, per share: what "max connections"
 * (a share parameter, counted across all clients as in Samba) needs.
 * Kept in connections.tdb in the lock directory through dbwrap (one
 * record per share, REC_CONNECTIONS); entries of processes that died
 * are ignored and removed when met.
 */
#ifndef SMBD_TCON_REGISTRY_H
#define SMBD_TCON_REGISTRY_H

#include "smbd/smbd.h"

/* Count the share's tree connects and, if fewer than max (0 = no
 * limit), record this one.  NT_STATUS_INSUFFICIENT_RESOURCES when the
 * share is full (the status Samba answers). */
NTSTATUS smbd_tcon_registry_add(struct smbd_tcon *tcon, const char *share,
				int max);

/* Forget tcon's record (from its destructor). */
void smbd_tcon_registry_remove(struct smbd_tcon *tcon);

#endif
