/*
 * File metadata as SMB sees it: NT times, DOS attributes, sizes, file id.
 *
 * The POSIX file system knows nothing of READONLY/HIDDEN/SYSTEM/ARCHIVE
 * or of a settable creation time, so those live in one extended
 * attribute per file, "user.DOSATTRIB", in this project's own encoding
 * (see DOSATTRIB_* in dosmode.c):
 *
 *   offset size field
 *   0      2    version (LE16), currently 1; any other value -> ignored
 *   2      2    flags (LE16): 0x0001 attributes valid,
 *                             0x0002 creation time valid
 *   4      4    attributes (LE32), FILE_ATTRIBUTE_{READONLY,HIDDEN,SYSTEM,
 *               ARCHIVE} only
 *   8      8    creation time (LE64, NT time)
 *
 * (Samba stores NDR under the same name; a Samba blob starts with the
 * ASCII "0x", so it reads here as an unknown version and is ignored, and
 * is overwritten at the next attribute change.)
 *
 * Without the xattr, attributes are derived the way Samba 4.17 does with
 * its defaults (store dos attributes = yes, map archive = yes, map
 * readonly = no, map hidden = no, map system = no, hide dot files = yes):
 * ARCHIVE when the owner execute bit is set, never READONLY, HIDDEN for
 * names starting with '.' (other than "." and "..") and names matching the
 * share's "hide files" list.  DIRECTORY always
 * reflects the real type; a file with no other attribute reports
 * FILE_ATTRIBUTE_NORMAL.
 *
 * ChangeTime: reported as the write time (as Samba 4.17 does; see
 * dosmode.c).
 *
 * Creation time: the stored one if a client ever set it (Linux cannot set
 * btime, so a stored time is the only way a SET_INFO can be honoured),
 * else statx btime, else min(mtime, ctime).
 *
 * Every function here does system calls and must run on a VFS worker
 * thread under the session user's credentials, never on the event loop.
 * None keeps state; all are thread-safe.
 */
#ifndef SMBD_DOSMODE_H
#define SMBD_DOSMODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "lib/util/ntstatus.h"

struct smb_conf_share;

struct smbd_file_meta {
	uint64_t creation_time, last_access_time, last_write_time,
		change_time; /* NT time: 100 ns since 1601-01-01 UTC */
	uint64_t allocation_size, end_of_file; /* both 0 for directories */
	uint32_t attributes; /* FILE_ATTRIBUTE_*; FILE_ATTRIBUTE_NORMAL alone
				when none apply */
	/* The part of attributes that only the name gives (HIDDEN through
	 * "hide dot files" / "hide files"): not stored, so the overwrite
	 * checks of CREATE, which compare stored attributes ([MS-FSA]
	 * 2.1.5.1.2.1; Samba does the same), must leave it out. */
	uint32_t attributes_from_name;
	uint64_t index_number; /* inode */
	uint64_t device;
	uint32_t nlink; /* 1 for directories, as Windows reports */
	bool is_dir;
	uint32_t unix_mode;
	uid_t uid;
	gid_t gid;
};

/* The DOS attributes we store; everything else a client sets is
 * dropped (as Samba does). */
#define SMBD_DOSMODE_STORED_MASK 0x00000027 /* READONLY|HIDDEN|SYSTEM|ARCHIVE */

/*
 * Metadata of an open file: statx(fd, "", AT_EMPTY_PATH) plus the stored
 * DOS attributes.  fd may be an O_PATH descriptor.  name is the last
 * component (for "hide dot files"; NULL or "" = the share root); share
 * may be NULL (defaults).
 */
NTSTATUS smbd_file_meta_fd(int fd, const char *name,
			   const struct smb_conf_share *share,
			   struct smbd_file_meta *out);

/*
 * The same for a directory entry, without opening it for I/O:
 * statx(dirfd, name, AT_SYMLINK_NOFOLLOW).  The xattr is read through an
 * O_PATH|O_NOFOLLOW descriptor of the entry and getxattr() on
 * "/proc/self/fd/N": that names exactly the inode statx saw, follows no
 * symlink, has no open side effects (FIFOs, atime, leases) and needs no
 * read permission.  Symlinks get no xattr lookup (user.* xattrs cannot
 * exist on them).  name must be a single component.
 * NT_STATUS_OBJECT_NAME_NOT_FOUND if the entry vanished.
 */
NTSTATUS smbd_file_meta_at(int dirfd, const char *name,
			   const struct smb_conf_share *share,
			   struct smbd_file_meta *out);

/*
 * Store DOS attributes (masked by SMBD_DOSMODE_STORED_MASK; DIRECTORY and
 * NORMAL are implied, never stored), keeping a stored creation time.
 * fd may be O_PATH.  Needs the right to set user xattrs (owner or write
 * permission) -> NT_STATUS_ACCESS_DENIED otherwise.
 */
NTSTATUS smbd_dosmode_set_fd(int fd, uint32_t attributes, bool is_dir);

/*
 * Store a creation time (NT time) for the file, keeping the stored
 * attributes (or, if none are stored yet, storing the currently derived
 * ones so that adding the xattr does not change what clients see).
 */
NTSTATUS smbd_dosmode_set_create_time_fd(int fd, uint64_t nt_time);

/*
 * Does name (one component) match a Samba-style pattern list
 * "/pat1/pat2/" ("hide files", "veto files")?  Patterns use '*' and '?'
 * and compare ASCII letters case-insensitively; empty patterns are
 * skipped.  list NULL -> false.  Pure.
 */
bool smbd_name_in_pattern_list(const char *list, const char *name);

/*
 * The write time of one open, as Windows and Samba 4.17 move it
 * ([MS-FSA] 2.1.4.17 "Algorithm for Noting That a File Has Been
 * Modified"; smb2.timestamps delayed-* tests):
 *
 *  - A client-set write time (FileBasicInformation) is sticky: later
 *    writes and truncations through that open do not move it, and it is
 *    put back on the file at close.
 *  - Otherwise the first write through an open does not change the
 *    reported write time at once: the time before the write is shown
 *    and, SMBD_WRITE_TIME_DELAY_USEC later, the write time becomes "now"
 *    and stays so for further writes until close.
 *  - FLUSH, SET_INFO EndOfFile/Allocation and FileBasicInformation (even
 *    with no time given) on an open that wrote update it to now at once.
 *  - At close: the sticky time, or now if the delayed update was still
 *    pending or the open wrote after the last update, or the delayed
 *    update's time if it is not on disk yet.
 *
 * The kernel's mtime follows every write; `shown` overlays it in what
 * this open reports.  Event-loop state, pure functions: no system calls.
 * (Other processes see the file's mtime, which is at most one delay
 * period off; the cluster-wide copy belongs in the share-mode record.)
 */
#define SMBD_WRITE_TIME_DELAY_USEC 2000000

struct smbd_write_time {
	uint64_t sticky; /* NT time set by the client through this open; 0 */
	uint64_t shown;	 /* reported instead of the file's mtime; 0: none */
	bool triggered;	 /* a write started the delayed update already */
	bool modified;	 /* written or truncated through this open */
	bool on_close;	 /* written since the last update: now at close */
	bool unsaved;	 /* `shown` is the delayed update's, not on disk */
};

/* A write through the open; true if it is the first one and the caller
 * must start the delayed update (and report the pre-write mtime with
 * smbd_write_time_pre_write()). */
bool smbd_write_time_note_write(struct smbd_write_time *wt);
/* The file's mtime just before the open's first write. */
void smbd_write_time_pre_write(struct smbd_write_time *wt, uint64_t mtime);
/* The delay ran out at `now`. */
void smbd_write_time_delay_expired(struct smbd_write_time *wt, uint64_t now);
/* Should FLUSH / EndOfFile / FileBasicInformation set the write time to
 * now (smbd_file_touch_write_time_fd) and report it with
 * smbd_write_time_updated()? */
bool smbd_write_time_wants_update(const struct smbd_write_time *wt);
void smbd_write_time_updated(struct smbd_write_time *wt, uint64_t t);
/* The client set the write time through this open. */
void smbd_write_time_set_sticky(struct smbd_write_time *wt, uint64_t t);
/* Another open changed the file's write time: report the file's again. */
void smbd_write_time_forget(struct smbd_write_time *wt);
/* What close must store: false = nothing; else *t is the NT time, or 0
 * for "now".  delay_pending: the delayed update has not run yet. */
bool smbd_write_time_at_close(const struct smbd_write_time *wt,
			      bool delay_pending, uint64_t *t);
/* The write time to report, given the file's (disk_time). */
uint64_t smbd_write_time_report(const struct smbd_write_time *wt,
				uint64_t disk_time);

/*
 * Worker side: set the file's write time to nt_time (0: now from the
 * fine-grained clock; a caller who only may write, not own, the file
 * gets the kernel's coarser "now"), keeping the access time;
 * *result (may be NULL) receives the write time the file then has.
 * fd may be O_PATH.
 */
NTSTATUS smbd_file_set_write_time_fd(int fd, uint64_t nt_time,
				     uint64_t *result);

uint64_t nt_time_from_timespec(struct timespec ts);
struct timespec timespec_from_nt_time(uint64_t nt);

/* errno -> NTSTATUS for file-system calls (shared by the info classes) */
NTSTATUS smbd_info_map_errno(int err);

#endif
