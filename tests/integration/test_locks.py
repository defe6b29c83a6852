"""Byte-range locks hold between smbd processes (docs/locking.md).

Two raw SMB2 clients (tests/integration/smb2raw.py) on two TCP
connections are served by two server processes (checked: two different
children of the server).  Client A's exclusive lock makes client B's
overlapping FAIL_IMMEDIATELY lock fail with LOCK_NOT_GRANTED and B's
write into the range fail with FILE_LOCK_CONFLICT; B's blocking lock goes
pending (interim STATUS_PENDING) and is granted once A unlocks or closes,
or once A's server process is killed with SIGKILL (the dead process's
locks are dropped).  Every check passes against Samba 4.17 too (SMB3_TARGET=samba)
except the wake-up of a lock blocked behind a killed process (ours only).
"""

import json
import os
import signal
import struct
import subprocess
import time

import pytest

import smb2raw
import smbtarget
from smb2ops import (EXCLUSIVE, FAIL_IMMEDIATELY, SHARED,
                     STATUS_CANCELLED, STATUS_FILE_LOCK_CONFLICT,
                     STATUS_LOCK_NOT_GRANTED, STATUS_RANGE_NOT_LOCKED,
                     UNLOCK, lock_body, recv_final, recv_interim, send,
                     status)
from smb2ops import no_answer as no_answer_within
from smb2raw import (CANCEL, CLOSE, LOCK, WRITE, close_body, header, nbt,
                     write_body)
from smbtarget import USER_A


def login(t):
    """smb2raw.login with a patient timeout: a loaded machine (CI,
    parallel builds) must not turn a slow answer into a test error."""
    c = smb2raw.Raw(t.host, t.port, timeout=30.0)
    c.negotiate()
    c.session_setup(USER_A, t.password(USER_A))
    c.tree_connect('\\\\%s\\%s' % (t.host, t.share))
    return c


def serving_pid(t, c):
    """The server process serving raw connection c."""
    return smbtarget.pid_serving_port(t.pid(), c.sock.getsockname()[1])


@pytest.fixture
def two_clients(server, share_dir):
    a = login(server)
    b = login(server)
    name = share_dir.name + '\\locked.dat'
    fa = a.create(name)
    fb = b.create(name)
    r = a.request(WRITE, write_body(fa, b'x' * 200))
    assert status(r) == 0
    pa, pb = serving_pid(server, a), serving_pid(server, b)
    assert pa is not None and pb is not None and pa != pb, \
        'the two connections must be served by two processes'
    yield server, a, fa, b, fb, pa
    for c in (a, b):
        c.close()


def test_conflict_across_processes(two_clients):
    t, a, fa, b, fb, _ = two_clients
    r = a.request(LOCK, lock_body(fa, [(100, 50, EXCLUSIVE |
                                        FAIL_IMMEDIATELY)]))
    assert status(r) == 0
    # B: overlapping locks fail, shared or exclusive; outside is fine
    for flags in (EXCLUSIVE | FAIL_IMMEDIATELY, SHARED | FAIL_IMMEDIATELY):
        r = b.request(LOCK, lock_body(fb, [(120, 1, flags)]))
        assert status(r) == STATUS_LOCK_NOT_GRANTED
    r = b.request(LOCK, lock_body(fb, [(150, 10, EXCLUSIVE |
                                        FAIL_IMMEDIATELY)]))
    assert status(r) == 0
    # B's write into A's range conflicts, A's own write does not
    r = b.request(WRITE, write_body(fb, b'y' * 10, offset=140))
    assert status(r) == STATUS_FILE_LOCK_CONFLICT
    r = a.request(WRITE, write_body(fa, b'y' * 10, offset=140))
    assert status(r) == 0
    # A cannot unlock B's lock; after A unlocks, B's write goes through
    r = a.request(LOCK, lock_body(fa, [(150, 10, UNLOCK)]))
    assert status(r) == STATUS_RANGE_NOT_LOCKED
    r = a.request(LOCK, lock_body(fa, [(100, 50, UNLOCK)]))
    assert status(r) == 0
    r = b.request(WRITE, write_body(fb, b'y' * 10, offset=140))
    assert status(r) == 0


def test_blocked_lock_granted_on_unlock(two_clients):
    t, a, fa, b, fb, _ = two_clients
    r = a.request(LOCK, lock_body(fa, [(0, 10, EXCLUSIVE)]))
    assert status(r) == 0
    mid = send(b, LOCK, lock_body(fb, [(5, 10, EXCLUSIVE)]))
    recv_interim(b, mid)
    assert no_answer_within(b, 1.0), 'the blocked lock was answered early'
    r = a.request(LOCK, lock_body(fa, [(0, 10, UNLOCK)]))
    assert status(r) == 0
    assert recv_final(b, mid) == 0
    # B holds it now: A is refused
    r = a.request(LOCK, lock_body(fa, [(0, 10, SHARED | FAIL_IMMEDIATELY)]))
    assert status(r) == STATUS_LOCK_NOT_GRANTED


def test_blocked_lock_granted_when_holder_closes(two_clients):
    t, a, fa, b, fb, _ = two_clients
    r = a.request(LOCK, lock_body(fa, [(0, 10, SHARED)]))
    assert status(r) == 0
    mid = send(b, LOCK, lock_body(fb, [(0, 1, EXCLUSIVE)]))
    recv_interim(b, mid)
    r = a.request(CLOSE, close_body(fa))
    assert status(r) == 0
    assert recv_final(b, mid) == 0


def test_cancel_blocked_lock(two_clients):
    """CANCEL ends a blocked lock with STATUS_CANCELLED, named by its
    AsyncId once the interim answer arrived, or by its MessageId when
    the client sends it before seeing that answer."""
    t, a, fa, b, fb, _ = two_clients
    r = a.request(LOCK, lock_body(fa, [(0, 10, EXCLUSIVE)]))
    assert status(r) == 0
    mid = send(b, LOCK, lock_body(fb, [(0, 10, SHARED)]))
    # at once, by MessageId (sync header, no credit)
    b.send_raw(nbt(b.sign(header(CANCEL, message_id=mid,
                                 session_id=b.session_id,
                                 tree_id=b.tree_id, credit_request=0) +
                          struct.pack('<HH', 4, 0))))
    assert recv_final(b, mid) == STATUS_CANCELLED
    # the lock was not taken: B can still lock elsewhere, A is alone
    r = a.request(LOCK, lock_body(fa, [(0, 10, UNLOCK)]))
    assert status(r) == 0
    r = b.request(LOCK, lock_body(fb, [(0, 10, EXCLUSIVE |
                                        FAIL_IMMEDIATELY)]))
    assert status(r) == 0


def test_kill_releases_locks(two_clients):
    t, a, fa, b, fb, pa = two_clients
    r = a.request(LOCK, lock_body(fa, [(0, 200, EXCLUSIVE |
                                        FAIL_IMMEDIATELY)]))
    assert status(r) == 0
    r = b.request(LOCK, lock_body(fb, [(50, 1, SHARED | FAIL_IMMEDIATELY)]))
    assert status(r) == STATUS_LOCK_NOT_GRANTED
    os.kill(pa, signal.SIGKILL)
    # the dead process's lock is dropped when the record is next used;
    # give the kernel a moment to reap the process
    deadline = time.time() + 10
    while True:
        r = b.request(LOCK, lock_body(fb, [(50, 1, EXCLUSIVE |
                                            FAIL_IMMEDIATELY)]))
        if status(r) != STATUS_LOCK_NOT_GRANTED or time.time() > deadline:
            break
        time.sleep(0.1)
    assert status(r) == 0
    r = b.request(WRITE, write_body(fb, b'z' * 10, offset=0))
    assert status(r) == 0


@pytest.mark.ours_only
def test_kill_wakes_blocked_lock(two_clients):
    """A lock blocked behind a process that dies is granted: the wait
    watches the holder's death.  Samba 4.17 leaves such a waiter pending
    (a new lock request succeeds there, see the test above)."""
    t, a, fa, b, fb, pa = two_clients
    r = a.request(LOCK, lock_body(fa, [(0, 200, EXCLUSIVE |
                                        FAIL_IMMEDIATELY)]))
    assert status(r) == 0
    mid = send(b, LOCK, lock_body(fb, [(50, 1, EXCLUSIVE)]))
    recv_interim(b, mid)
    assert no_answer_within(b, 0.5)
    os.kill(pa, signal.SIGKILL)
    assert recv_final(b, mid) == 0
    r = b.request(WRITE, write_body(fb, b'z' * 10, offset=0))
    assert status(r) == 0


def test_strict_locking_no(server_factory):
    """'strict locking = no': READ and WRITE ignore byte-range locks; a
    LOCK request is still refused."""
    t = server_factory(extra_share=['strict locking = no'])
    a = login(t)
    b = login(t)
    try:
        d = os.path.join(t.share_path, 'sl_%s' % os.urandom(4).hex())
        os.mkdir(d)
        os.chmod(d, 0o777)
        name = os.path.basename(d) + '\\f.dat'
        fa, fb = a.create(name), b.create(name)
        r = a.request(LOCK, lock_body(fa, [(0, 100, EXCLUSIVE |
                                            FAIL_IMMEDIATELY)]))
        assert status(r) == 0
        r = b.request(WRITE, write_body(fb, b'w' * 10, offset=10))
        assert status(r) == 0
        r = b.request(LOCK, lock_body(fb, [(10, 1, SHARED |
                                            FAIL_IMMEDIATELY)]))
        assert status(r) == STATUS_LOCK_NOT_GRANTED
    finally:
        a.close()
        b.close()
        t.stop()


@pytest.mark.ours_only
def test_lock_needs_data_access_and_a_file(server, share_dir):
    """LOCK through a handle without read or write data access is
    ACCESS_DENIED (as Windows' NtLockFile; Samba says INVALID_HANDLE for
    its stat opens), on a directory INVALID_PARAMETER ([MS-FSA] 2.1.5.8;
    Samba: INVALID_DEVICE_REQUEST)."""
    c = login(server)
    try:
        name = share_dir.name + '\\f.dat'
        c.create(name)
        attr_only = c.create(name, desired_access=0x00000080)
        r = c.request(LOCK, lock_body(attr_only, [(0, 1, EXCLUSIVE |
                                                   FAIL_IMMEDIATELY)]))
        assert status(r) == smb2raw.STATUS_ACCESS_DENIED
        read_only = c.create(name, desired_access=0x00120089)
        r = c.request(LOCK, lock_body(read_only, [(0, 1, EXCLUSIVE |
                                                   FAIL_IMMEDIATELY)]))
        assert status(r) == 0
        d = c.create(share_dir.name, options=0x1,
                     desired_access=0x00100081)
        r = c.request(LOCK, lock_body(d, [(0, 1, SHARED |
                                           FAIL_IMMEDIATELY)]))
        assert status(r) == smb2raw.STATUS_INVALID_PARAMETER
    finally:
        c.close()


@pytest.mark.ours_only
def test_smbstatus_lists_locks(two_clients):
    """smbstatus -L --json shows the locks of every process with the
    file's name (joined with its share-mode record), and a lock is gone
    from it once unlocked."""
    t, a, fa, b, fb, pa = two_clients

    def locks():
        r = subprocess.run([os.path.join(t.build, 'tools', 'smbstatus'),
                            '-s', t.conf, '-L', '--json'],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return [l for l in json.loads(r.stdout)['byte_range_locks']
                if l['path'].endswith('locked.dat')]

    r = a.request(LOCK, lock_body(fa, [(100, 50, EXCLUSIVE |
                                        FAIL_IMMEDIATELY)]))
    assert status(r) == 0
    r = b.request(LOCK, lock_body(fb, [(0, 0, SHARED | FAIL_IMMEDIATELY)]))
    assert status(r) == 0
    got = sorted((l['pid'], l['type'], l['start'], l['length'])
                 for l in locks())
    pb = serving_pid(t, b)
    assert got == sorted([(pa, 'exclusive', '100', '50'),
                          (pb, 'shared', '0', '0')]), got
    r = a.request(LOCK, lock_body(fa, [(100, 50, UNLOCK)]))
    assert status(r) == 0
    assert [(l['pid'], l['type']) for l in locks()] == [(pb, 'shared')]
