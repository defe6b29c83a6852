"""Oplock and lease breaks between two smbd processes.

Client A and client B are two raw SMB2 2.1 connections (smb2raw.Raw), so
two smbd children serve them.  A holds an RWH lease (or a batch oplock)
on a file; B opens the same file.  Checked, with the order of events on
the wire:
  - A receives the break notification (MessageId 0xFFFFFFFFFFFFFFFF,
    command OPLOCK_BREAK), naming its lease key and RWH -> RH (a plain
    second open) or the oplock level II;
  - B's CREATE does not complete before A acknowledges (no final
    response while A sits on the break), and completes right after;
  - with a sharing violation (A opened without share access and holds
    H), A's acknowledgement of the H break is not enough: B completes
    with SHARING_VIOLATION only after A closes, or succeeds once A has
    closed;
  - when A never acknowledges, B's CREATE completes after the break
    timeout ('oplock break timeout = 3' here; our parameter, Windows
    and Samba wait 35 s), not before;
  - when A's smbd process is killed (kill -9) while B waits, B's CREATE
    completes at once, and the same lease key works again.
The same checks pass against Samba 4.17 (SMB3_TARGET=samba) except the
timeout one, which needs our parameter, and the kill one (Samba waits for
the 35 s timeout there), both skipped for Samba.
"""

import os
import signal
import struct
import time

import pytest

from smb2ops import (ACK_REQUIRED, LEASE_H, LEASE_R, LEASE_W, OPLOCK_BATCH,
                     OPLOCK_II, OPLOCK_LEASE, OPLOCK_NONE,
                     STATUS_SHARING_VIOLATION, close, create_msg, create_reply, expect_break, lease_ack,
                     lease_context, no_answer, oplock_ack, open_file)
import smb2ops
from smb2raw import OPLOCK_BREAK, nbt, parse_header
import smbtarget
from smbtarget import USER_A


def connect(t, client_guid=None):
    return smb2ops.connect(t.host, t.port, USER_A, t.password(USER_A),
                           t.share, client_guid)


GUID_A = os.urandom(16)


@pytest.fixture
def clients(server):
    a, b = connect(server, GUID_A), connect(server)
    yield a, b
    a.close()
    b.close()


def test_lease_break_waits_for_ack(clients):
    a, b = clients
    name = 'lease_%s.dat' % os.urandom(4).hex()
    key = os.urandom(16)
    st, level, fid_a, state = open_file(
        a, name, OPLOCK_LEASE, lease_context(key, LEASE_R | LEASE_W | LEASE_H))
    assert st == 0 and level == OPLOCK_LEASE
    assert state == LEASE_R | LEASE_W | LEASE_H

    _, msg = create_msg(b, name, OPLOCK_NONE)
    b.send_raw(nbt(msg))
    brk = expect_break(a)
    size, epoch, flags, bkey, cur, new = struct.unpack(
        '<HHI16sII', brk[:32])
    assert size == 44
    assert bkey == key
    assert flags & ACK_REQUIRED
    assert cur == LEASE_R | LEASE_W | LEASE_H
    assert new == LEASE_R | LEASE_H

    # B waits as long as A does not answer
    assert no_answer(b, 1.5)
    t_ack = time.time()
    st, body = lease_ack(a, key, LEASE_R | LEASE_H)
    assert st == 0
    assert struct.unpack('<I', body[24:28])[0] == LEASE_R | LEASE_H
    st, level, fid_b, _ = create_reply(b.recv_frame())
    assert st == 0
    assert time.time() - t_ack < 3
    close(b, fid_b)
    close(a, fid_a)


def test_batch_oplock_break_to_level2(clients):
    a, b = clients
    name = 'oplock_%s.dat' % os.urandom(4).hex()
    st, level, fid_a, _ = open_file(a, name, OPLOCK_BATCH)
    assert st == 0 and level == OPLOCK_BATCH

    _, msg = create_msg(b, name, OPLOCK_BATCH)
    b.send_raw(nbt(msg))
    brk = expect_break(a)
    size, blevel = struct.unpack('<HB', brk[:3])
    assert size == 24 and blevel == OPLOCK_II
    assert brk[8:24] == fid_a
    assert no_answer(b, 1.5)
    st, body = oplock_ack(a, fid_a, OPLOCK_II)
    assert st == 0 and body[2] == OPLOCK_II
    st, level, fid_b, _ = create_reply(b.recv_frame())
    assert st == 0 and level == OPLOCK_II
    close(b, fid_b)
    close(a, fid_a)


def test_sharing_violation_breaks_handle(clients):
    a, b = clients
    name = 'lease_sv_%s.dat' % os.urandom(4).hex()
    key = os.urandom(16)
    st, level, fid_a, state = open_file(
        a, name, OPLOCK_LEASE, lease_context(key, LEASE_R | LEASE_H),
        share_access=0)
    assert st == 0 and state == LEASE_R | LEASE_H

    _, msg = create_msg(b, name, OPLOCK_NONE)
    b.send_raw(nbt(msg))
    brk = expect_break(a)
    cur, new = struct.unpack('<II', brk[24:32])
    assert (cur, new) == (LEASE_R | LEASE_H, LEASE_R)
    assert no_answer(b, 1.0)
    # giving up H while keeping the handle open: the violation stands
    st, _ = lease_ack(a, key, LEASE_R)
    assert st == 0
    st, _, _, _ = create_reply(b.recv_frame())
    assert st == STATUS_SHARING_VIOLATION
    close(a, fid_a)


@pytest.mark.ours_only  # 'oplock break timeout' is our parameter
def test_break_timeout(server_factory):
    t = server_factory(extra_global=['oplock break timeout = 3'])
    a, b = connect(t), connect(t)
    try:
        name = 'lease_to_%s.dat' % os.urandom(4).hex()
        key = os.urandom(16)
        st, level, fid_a, state = open_file(
            a, name, OPLOCK_LEASE,
            lease_context(key, LEASE_R | LEASE_W | LEASE_H))
        assert st == 0 and state == LEASE_R | LEASE_W | LEASE_H
        t0 = time.time()
        _, msg = create_msg(b, name, OPLOCK_NONE)
        b.send_raw(nbt(msg))
        expect_break(a)
        # A never answers: B goes on once the timeout has passed
        st, _, fid_b, _ = create_reply(b.recv_frame(timeout=10))
        waited = time.time() - t0
        assert st == 0
        assert 2.5 <= waited < 8, waited
        # the lease was dropped: a late acknowledgement is refused
        st, _ = lease_ack(a, key, LEASE_R | LEASE_H)
        assert st != 0
        close(b, fid_b)
        close(a, fid_a)
    finally:
        a.close()
        b.close()


def child_of(t, sock):
    """The smbd child serving the TCP connection of sock."""
    return smbtarget.pid_serving_port(t.pid(), sock.getsockname()[1])


# Samba 4.17 does not watch the holder process: its waiting open only
# goes on after the 35 s break timeout.
@pytest.mark.ours_only
def test_holder_killed(server, clients):
    a, b = clients
    name = 'lease_kill_%s.dat' % os.urandom(4).hex()
    key = os.urandom(16)
    st, _, _, state = open_file(
        a, name, OPLOCK_LEASE, lease_context(key, LEASE_R | LEASE_W | LEASE_H))
    assert st == 0 and state == LEASE_R | LEASE_W | LEASE_H
    pid = child_of(server, a.sock)
    assert pid is not None

    _, msg = create_msg(b, name, OPLOCK_NONE)
    b.send_raw(nbt(msg))
    expect_break(a)
    assert no_answer(b, 1.0)
    t0 = time.time()
    os.kill(pid, signal.SIGKILL)
    st, _, fid_b, _ = create_reply(b.recv_frame(timeout=10))
    assert st == 0
    assert time.time() - t0 < 5
    close(b, fid_b)

    # the dead holder's lease is gone: the same client (ClientGuid)
    # reconnecting may use its key for another file
    c = connect(server, GUID_A)
    try:
        st, level, fid_c, state = open_file(
            c, name + '.2', OPLOCK_LEASE, lease_context(key, LEASE_R))
        assert st == 0 and level == OPLOCK_LEASE and state == LEASE_R
        close(c, fid_c)
    finally:
        c.close()


def test_config_switches(server_factory):
    """'oplocks = no' grants nothing; 'level2 oplocks = no' turns the
    level II a second open would get into none; 'smb2 leases = no' (a
    global) ignores lease requests (no RqLs answer, no oplock)."""
    t = server_factory(extra_share=['oplocks = no'])
    c = connect(t)
    try:
        st, level, fid, _ = open_file(c, 'cfg1.dat', OPLOCK_BATCH)
        assert st == 0 and level == OPLOCK_NONE
        close(c, fid)
    finally:
        c.close()

    t = server_factory(extra_share=['level2 oplocks = no'])
    a, b = connect(t), connect(t)
    try:
        st, level, fid_a, _ = open_file(a, 'cfg2.dat', OPLOCK_NONE)
        assert st == 0
        st, level, fid_b, _ = open_file(b, 'cfg2.dat', OPLOCK_II)
        assert st == 0 and level == OPLOCK_NONE
        close(b, fid_b)
        close(a, fid_a)
    finally:
        a.close()
        b.close()

    t = server_factory(extra_global=['smb2 leases = no'])
    c = connect(t)
    try:
        st, level, fid, state = open_file(
            c, 'cfg3.dat', OPLOCK_LEASE,
            lease_context(os.urandom(16), LEASE_R | LEASE_H))
        assert st == 0 and level == OPLOCK_NONE and state is None
        close(c, fid)
    finally:
        c.close()


STATUS_INVALID_PARAMETER = 0xC000000D
STATUS_INVALID_OPLOCK_PROTOCOL = 0xC00000E3
STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034
STATUS_UNSUCCESSFUL = 0xC0000001
STATUS_REQUEST_NOT_ACCEPTED = 0xC00000D0
STATUS_FILE_CLOSED = 0xC0000128


def test_ack_validation(clients):
    """[MS-SMB2] 3.3.5.22: what an acknowledgement may not say."""
    a, b = clients
    name = 'ack_%s.dat' % os.urandom(4).hex()
    key = os.urandom(16)

    # an OPLOCK_BREAK of another size than 24 or 36
    r = a.request(OPLOCK_BREAK, struct.pack('<HBBI16s', 30, 0, 0, 0,
                                            b'\0' * 16) + b'\0' * 6)
    assert parse_header(r)['status'] == STATUS_INVALID_PARAMETER
    # acks for what does not exist or is not breaking
    st, _ = oplock_ack(a, b'\x11' * 16, OPLOCK_II)
    assert st == STATUS_FILE_CLOSED
    st, _ = lease_ack(a, os.urandom(16), LEASE_R)
    assert st == STATUS_OBJECT_NAME_NOT_FOUND
    st, level, fid, state = open_file(
        a, name, OPLOCK_LEASE, lease_context(key, LEASE_R | LEASE_W | LEASE_H))
    assert st == 0 and state == LEASE_R | LEASE_W | LEASE_H
    st, _ = lease_ack(a, key, LEASE_R)
    assert st == STATUS_UNSUCCESSFUL
    st, _ = oplock_ack(a, fid, OPLOCK_II)
    assert st == STATUS_INVALID_OPLOCK_PROTOCOL

    # breaking RWH -> RH: W back is no ack, RH is
    _, msg = create_msg(b, name, OPLOCK_NONE)
    b.send_raw(nbt(msg))
    expect_break(a)
    st, _ = lease_ack(a, key, LEASE_R | LEASE_W)
    assert st == STATUS_REQUEST_NOT_ACCEPTED
    st, _ = lease_ack(a, key, LEASE_R | LEASE_H)
    assert st == 0
    st, _, fid_b, _ = create_reply(b.recv_frame())
    assert st == 0
    close(b, fid_b)
    close(a, fid)

    # a batch oplock: a level that is no ack level is refused while the
    # break is outstanding, then the right one is taken
    name2 = name + '.b'
    st, level, fid, _ = open_file(a, name2, OPLOCK_BATCH)
    assert st == 0 and level == OPLOCK_BATCH
    _, msg = create_msg(b, name2, OPLOCK_NONE)
    b.send_raw(nbt(msg))
    expect_break(a)
    st, _ = oplock_ack(a, fid, OPLOCK_BATCH)
    assert st == STATUS_INVALID_PARAMETER
    st, body = oplock_ack(a, fid, OPLOCK_NONE)
    assert st == 0 and body[2] == OPLOCK_NONE
    st, _, fid_b, _ = create_reply(b.recv_frame())
    assert st == 0
    close(b, fid_b)
    close(a, fid)
