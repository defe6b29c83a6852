"""Share modes and delete-on-close hold between smbd processes.

Two impacket clients on two TCP connections are served by two smbd
processes (checked: two different children of the server).  What one
client's open denies, the other's open is refused (SHARING_VIOLATION);
a file marked for deletion through one connection refuses new opens on
the other (DELETE_PENDING) and is gone once the last handle of either
closes; after kill -9 of the process that held a file open without
sharing, the other client can open it (the dead owner's share-mode entry
is dropped).  Every check passes against Samba 4.17 too
(SMB3_TARGET=samba); both fork one child per connection, found here by
its peer port."""

import os
import signal
import struct
import time

import pytest
from impacket import nt_errors
from impacket.smb3structs import (FILE_READ_DATA, FILE_SHARE_DELETE,
                                  FILE_SHARE_READ, FILE_SHARE_WRITE,
                                  FILE_WRITE_DATA, SMB2_FILE_ALL_INFO,
                                  SMB2_FILE_DISPOSITION_INFO,
                                  SMB2_FILE_RENAME_INFO,
                                  SMB2_FILE_STANDARD_INFO)
from impacket.smbconnection import SMBConnection, SessionError

import smbtarget
from smbtarget import USER_A

DELETE = 0x00010000
READ_ATTRIBUTES = 0x80
SHARE_ALL = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE
FILE_OPEN = 1
FILE_OPEN_IF = 3
FILE_OVERWRITE_IF = 5
NON_DIRECTORY = 0x40


def connect(t):
    c = SMBConnection(t.host, t.host, sess_port=t.port, timeout=20)
    c.login(USER_A, t.password(USER_A))
    tid = c.connectTree(t.share)
    return c, tid


def open_file(c, tid, name, access, share, disposition=FILE_OPEN):
    return c.createFile(tid, name, desiredAccess=access, shareMode=share,
                        creationOption=NON_DIRECTORY,
                        creationDisposition=disposition)


def status_of(fn):
    try:
        fn()
    except SessionError as e:
        return e.getErrorCode()
    return 0


def child_of(t, conn):
    """The server process serving the impacket connection conn."""
    return smbtarget.pid_serving_port(
        t.pid(), conn.getSMBServer().get_socket().getsockname()[1])


@pytest.fixture
def two(server):
    a = connect(server)
    b = connect(server)
    yield a, b
    for c, _ in (a, b):
        try:
            c.close()
        except Exception:
            pass


def test_two_processes(server, two):
    (a, _), (b, _) = two
    pa, pb = child_of(server, a), child_of(server, b)
    assert pa is not None and pb is not None
    assert pa != pb


def test_deny_write_refuses_writer_elsewhere(two):
    (a, ta), (b, tb) = two
    name = 'sm_deny_write.txt'
    fa = open_file(a, ta, name, FILE_READ_DATA | FILE_WRITE_DATA,
                   FILE_SHARE_READ, FILE_OVERWRITE_IF)
    try:
        # a writer is refused: a shares reading only
        st = status_of(lambda: open_file(b, tb, name, FILE_WRITE_DATA,
                                         SHARE_ALL))
        assert st == nt_errors.STATUS_SHARING_VIOLATION
        # an open that would deny a's writing is refused as well
        st = status_of(lambda: open_file(b, tb, name, FILE_READ_DATA,
                                         FILE_SHARE_READ))
        assert st == nt_errors.STATUS_SHARING_VIOLATION
        # a reader that shares writing is fine
        fb = open_file(b, tb, name, FILE_READ_DATA, SHARE_ALL)
        b.closeFile(tb, fb)
        # an attributes-only open never conflicts
        fb = open_file(b, tb, name, READ_ATTRIBUTES, 0)
        b.closeFile(tb, fb)
    finally:
        a.closeFile(ta, fa)
    # once a's handle is gone, the writer gets in
    fb = open_file(b, tb, name, FILE_WRITE_DATA, 0)
    b.closeFile(tb, fb)
    fb = open_file(b, tb, name, DELETE, SHARE_ALL)
    b.getSMBServer().setInfo(tb, fb, inputBlob=b'\x01',
                             fileInfoClass=SMB2_FILE_DISPOSITION_INFO)
    b.closeFile(tb, fb)


def exists(c, tid, name):
    st = status_of(lambda: c.closeFile(
        tid, open_file(c, tid, name, READ_ATTRIBUTES, SHARE_ALL)))
    if st == nt_errors.STATUS_OBJECT_NAME_NOT_FOUND:
        return False
    assert st == 0, hex(st)
    return True


def test_delete_on_close_seen_elsewhere(two):
    (a, ta), (b, tb) = two
    name = 'sm_delete_pending.txt'
    fa = open_file(a, ta, name, FILE_READ_DATA | DELETE, SHARE_ALL,
                   FILE_OVERWRITE_IF)
    fb = open_file(b, tb, name, FILE_READ_DATA, SHARE_ALL)
    # a marks the file for deletion
    a.getSMBServer().setInfo(ta, fa, inputBlob=b'\x01',
                             fileInfoClass=SMB2_FILE_DISPOSITION_INFO)
    # b's new open is refused: the file is delete-pending
    st = status_of(lambda: open_file(b, tb, name, FILE_READ_DATA,
                                     SHARE_ALL))
    assert st == nt_errors.STATUS_DELETE_PENDING
    # and b's open handle says so (FileStandardInformation.DeletePending)
    info = b.getSMBServer().queryInfo(
        tb, fb, fileInfoClass=SMB2_FILE_STANDARD_INFO)
    assert info[20] == 1
    # a closes: b still has it open, so it is still there (and pending)
    a.closeFile(ta, fa)
    st = status_of(lambda: open_file(a, ta, name, FILE_READ_DATA,
                                     SHARE_ALL))
    assert st == nt_errors.STATUS_DELETE_PENDING
    # the last handle, in the other process, deletes it
    b.closeFile(tb, fb)
    assert not exists(a, ta, name)
    assert not exists(b, tb, name)


def test_delete_on_close_option_last_closer_elsewhere(two):
    """FILE_DELETE_ON_CLOSE: the file becomes delete-pending when that
    handle closes, and goes with the last handle of any process."""
    (a, ta), (b, tb) = two
    name = 'sm_doc_option.txt'
    fa = a.createFile(ta, name, desiredAccess=FILE_READ_DATA | DELETE,
                      shareMode=SHARE_ALL,
                      creationOption=NON_DIRECTORY | 0x00001000,
                      creationDisposition=FILE_OVERWRITE_IF)
    fb = open_file(b, tb, name, FILE_READ_DATA, SHARE_ALL)
    a.closeFile(ta, fa)
    assert status_of(lambda: open_file(b, tb, name, FILE_READ_DATA,
                                       SHARE_ALL)) == \
        nt_errors.STATUS_DELETE_PENDING
    b.closeFile(tb, fb)
    assert not exists(b, tb, name)


def test_killed_holder_releases_file(server):
    name = 'sm_killed.txt'
    a, ta = connect(server)
    b, tb = connect(server)
    try:
        open_file(a, ta, name, FILE_READ_DATA | FILE_WRITE_DATA, 0,
                  FILE_OVERWRITE_IF)
        st = status_of(lambda: open_file(b, tb, name, FILE_WRITE_DATA,
                                         SHARE_ALL))
        assert st == nt_errors.STATUS_SHARING_VIOLATION
        pid = child_of(server, a)
        assert pid is not None and pid != child_of(server, b)
        os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 10
        while True:
            st = status_of(lambda: b.closeFile(
                tb, open_file(b, tb, name, FILE_WRITE_DATA, 0)))
            if st == 0 or time.time() > deadline:
                break
            time.sleep(0.2)
        assert st == 0, hex(st)
    finally:
        for c in (a, b):
            try:
                c.close()
            except Exception:
                pass


@pytest.mark.ours_only
def test_killed_holder_delete_pending_is_carried_out(server):
    """The process holding the last handle of a delete-pending file dies:
    the next process that looks at the file carries out the delete, as if
    the handle had been closed (Samba only drops the dead entry; our
    choice, docs/share-modes.md "Dead owners")."""
    name = 'sm_killed_doc.txt'
    a, ta = connect(server)
    b, tb = connect(server)
    try:
        fa = open_file(a, ta, name, FILE_READ_DATA | DELETE, SHARE_ALL,
                       FILE_OVERWRITE_IF)
        a.getSMBServer().setInfo(ta, fa, inputBlob=b'\x01',
                                 fileInfoClass=SMB2_FILE_DISPOSITION_INFO)
        assert status_of(lambda: open_file(b, tb, name, FILE_READ_DATA,
                                           SHARE_ALL)) == \
            nt_errors.STATUS_DELETE_PENDING
        pid = child_of(server, a)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 10
        while True:
            st = status_of(lambda: b.closeFile(
                tb, open_file(b, tb, name, FILE_READ_DATA, SHARE_ALL)))
            if st != nt_errors.STATUS_DELETE_PENDING or \
                    time.time() > deadline:
                break
            time.sleep(0.2)
        assert st == nt_errors.STATUS_OBJECT_NAME_NOT_FOUND, hex(st)
        assert not os.path.exists(os.path.join(server.share_path, name))
    finally:
        for c in (a, b):
            try:
                c.close()
            except Exception:
                pass


def test_disconnect_closes_delete_on_close_handle(two, server):
    """A connection that ends without CLOSE closes its handles: a
    FILE_DELETE_ON_CLOSE handle makes the file delete-pending, and the
    other process's last CLOSE deletes it."""
    (a, ta), (b, tb) = two
    name = 'sm_doc_disconnect.txt'
    a.createFile(ta, name, desiredAccess=FILE_READ_DATA | DELETE,
                 shareMode=SHARE_ALL,
                 creationOption=NON_DIRECTORY | 0x00001000,
                 creationDisposition=FILE_OVERWRITE_IF)
    fb = open_file(b, tb, name, FILE_READ_DATA, SHARE_ALL)
    a.close()
    deadline = time.time() + 10
    while True:   # the server notices the closed connection shortly
        st = status_of(lambda: b.closeFile(
            tb, open_file(b, tb, name, FILE_READ_DATA, SHARE_ALL)))
        if st != 0 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert st == nt_errors.STATUS_DELETE_PENDING, hex(st)
    b.closeFile(tb, fb)
    assert not exists(b, tb, name)


def rename(c, tid, fid, new_name):
    name = new_name.encode('utf-16-le')
    blob = (b'\x00' + b'\x00' * 7 + b'\x00' * 8 +
            struct.pack('<I', len(name)) + name)
    c.getSMBServer().setInfo(tid, fid, inputBlob=blob,
                             fileInfoClass=SMB2_FILE_RENAME_INFO)


def name_of(c, tid, fid):
    """The path FileAllInformation reports for the open."""
    info = c.getSMBServer().queryInfo(tid, fid,
                                      fileInfoClass=SMB2_FILE_ALL_INFO)
    n = struct.unpack_from('<I', info, 96)[0]
    return info[100:100 + n].decode('utf-16-le').lstrip('\\')


def test_rename_seen_by_other_process(two):
    """A renames a file that B has open: B's handle follows the file
    (its name, and B can rename it further by its handle)."""
    (a, ta), (b, tb) = two
    old, mid, new = 'sm_ren_old.txt', 'sm_ren_mid.txt', 'sm_ren_new.txt'
    for n in (old, mid, new):
        try:
            f = open_file(a, ta, n, DELETE, SHARE_ALL)
            a.getSMBServer().setInfo(
                ta, f, inputBlob=b'\x01',
                fileInfoClass=SMB2_FILE_DISPOSITION_INFO)
            a.closeFile(ta, f)
        except SessionError:
            pass
    access = DELETE | FILE_READ_DATA | READ_ATTRIBUTES
    fa = open_file(a, ta, old, access, SHARE_ALL, FILE_OVERWRITE_IF)
    fb = open_file(b, tb, old, access, SHARE_ALL)
    rename(a, ta, fa, mid)
    deadline = time.time() + 5
    while name_of(b, tb, fb) != mid and time.time() < deadline:
        time.sleep(0.1)   # the other process hears of it by a message
    assert name_of(b, tb, fb) == mid
    rename(b, tb, fb, new)
    assert name_of(b, tb, fb) == new
    b.closeFile(tb, fb)
    a.getSMBServer().setInfo(ta, fa, inputBlob=b'\x01',
                             fileInfoClass=SMB2_FILE_DISPOSITION_INFO)
    a.closeFile(ta, fa)
    assert not exists(a, ta, new)
    assert not exists(a, ta, mid)


@pytest.mark.ours_only
def test_close_deletes_only_its_own_file(two):
    """A file is delete-pending in A; B renames another file over its
    name (Samba allows replacing an open file).  A's last close must not
    delete the file that now has the name.  Samba 4.17 does delete it
    (it unlinks by name at close), hence ours only."""
    (a, ta), (b, tb) = two
    target, src = 'sm_repl_target.txt', 'sm_repl_src.txt'
    fa = open_file(a, ta, target, FILE_READ_DATA | DELETE, SHARE_ALL,
                   FILE_OVERWRITE_IF)
    a.getSMBServer().setInfo(ta, fa, inputBlob=b'\x01',
                             fileInfoClass=SMB2_FILE_DISPOSITION_INFO)
    fb = open_file(b, tb, src, FILE_READ_DATA | DELETE, SHARE_ALL,
                   FILE_OVERWRITE_IF)
    name = target.encode('utf-16-le')
    blob = (b'\x01' + b'\x00' * 15 + struct.pack('<I', len(name)) + name)
    st = status_of(lambda: b.getSMBServer().setInfo(
        tb, fb, inputBlob=blob, fileInfoClass=SMB2_FILE_RENAME_INFO))
    if st != 0:
        # a server may refuse to replace an open file; then there is
        # nothing more to check
        assert st in (nt_errors.STATUS_ACCESS_DENIED,
                      nt_errors.STATUS_SHARING_VIOLATION), hex(st)
        a.closeFile(ta, fa)
        b.closeFile(tb, fb)
        assert not exists(b, tb, target)
        return
    b.closeFile(tb, fb)
    a.closeFile(ta, fa)
    assert exists(b, tb, target)
    fb = open_file(b, tb, target, DELETE, SHARE_ALL)
    b.getSMBServer().setInfo(tb, fb, inputBlob=b'\x01',
                             fileInfoClass=SMB2_FILE_DISPOSITION_INFO)
    b.closeFile(tb, fb)


def test_tree_disconnect_deletes_delete_on_close_file(two):
    """A tree disconnect closes the tree's handles: the last handle of a
    FILE_DELETE_ON_CLOSE file deletes it (as its user, in that process,
    which lives on)."""
    (a, ta), (b, tb) = two
    name = 'sm_doc_tdis.txt'
    a.createFile(ta, name, desiredAccess=FILE_READ_DATA | DELETE,
                 shareMode=SHARE_ALL,
                 creationOption=NON_DIRECTORY | 0x00001000,
                 creationDisposition=FILE_OVERWRITE_IF)
    assert exists(b, tb, name)
    a.disconnectTree(ta)
    deadline = time.time() + 10
    while exists(b, tb, name) and time.time() < deadline:
        time.sleep(0.1)
    assert not exists(b, tb, name)


@pytest.mark.ours_only
def test_disconnect_delete_runs_as_the_user(server):
    """The delete owed by a handle closed through a tree disconnect runs
    as the session's user, like a CLOSE: in a directory the user may not
    write, the user's own file stays (a delete as root would remove
    it)."""
    import pwd
    pw = pwd.getpwnam(USER_A)
    d = os.path.join(server.share_path, 'sm_ro_dir')
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)              # root's, not writable by the user
    path = os.path.join(d, 'mine.txt')
    with open(path, 'w') as f:
        f.write('x')
    os.chown(path, pw.pw_uid, pw.pw_gid)
    a, ta = connect(server)
    try:
        st = status_of(lambda: a.createFile(
            ta, 'sm_ro_dir\\mine.txt', desiredAccess=FILE_READ_DATA | DELETE,
            shareMode=SHARE_ALL, creationOption=NON_DIRECTORY | 0x00001000,
            creationDisposition=FILE_OPEN))
        # the owner is granted DELETE (unix permissions: the owner may
        # change the file's metadata), so the open itself succeeds
        assert st == 0, hex(st)
        a.disconnectTree(ta)
        time.sleep(1)
        assert os.path.exists(path)
    finally:
        try:
            a.close()
        except Exception:
            pass
        os.unlink(path)
        os.rmdir(d)


def rename_status(c, tid, fid, new_name):
    """rename()'s NTSTATUS (the low-level call raises smb3's error)."""
    from impacket import smb3
    try:
        rename(c, tid, fid, new_name)
    except smb3.SessionError as e:
        return e.get_error_code()
    return 0


def open_dir_delete(c, tid, name):
    """Open (create) directory name with DELETE access, sharing all."""
    return c.createFile(tid, name, desiredAccess=DELETE | READ_ATTRIBUTES,
                        shareMode=SHARE_ALL, creationOption=0x1,
                        creationDisposition=FILE_OPEN_IF,
                        fileAttributes=0x10)


@pytest.mark.ours_only  # Samba 4.17 checks only its own process's opens
def test_rename_into_dir_open_for_delete_elsewhere(two):
    """The rename rule of Windows (Samba bug 15861): a name may not move
    INTO a directory that another open holds with DELETE access
    (SHARING_VIOLATION), whichever process holds it; moving OUT of such
    a directory is allowed."""
    (a, ta), (b, tb) = two
    src, dst = 'sm_rdir_src', 'sm_rdir_dst'
    ds = open_dir_delete(a, ta, src)
    dd = open_dir_delete(a, ta, dst)
    a.closeFile(ta, ds)
    a.closeFile(ta, dd)
    f = open_file(a, ta, src + '\\f.txt', DELETE | FILE_READ_DATA,
                  SHARE_ALL, FILE_OVERWRITE_IF)
    hold = open_dir_delete(b, tb, dst)   # B: the target dir, with DELETE
    try:
        st = rename_status(a, ta, f, dst + '\\f.txt')
        assert st == nt_errors.STATUS_SHARING_VIOLATION, hex(st)
    finally:
        b.closeFile(tb, hold)
    hold = open_dir_delete(b, tb, src)   # now the source dir
    try:
        assert rename_status(a, ta, f, dst + '\\f.txt') == 0
    finally:
        b.closeFile(tb, hold)
    a.getSMBServer().setInfo(ta, f, inputBlob=b'\x01',
                             fileInfoClass=SMB2_FILE_DISPOSITION_INFO)
    a.closeFile(ta, f)
    for d in (src, dst):
        h = open_dir_delete(a, ta, d)
        a.getSMBServer().setInfo(ta, h, inputBlob=b'\x01',
                                 fileInfoClass=SMB2_FILE_DISPOSITION_INFO)
        a.closeFile(ta, h)
