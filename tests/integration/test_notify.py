"""CHANGE_NOTIFY between processes (docs/notify.md).

Client A (its own connection, so its own smbd process) waits for a change
notification on a directory; the change is made by client B on another
connection (another smbd process), or by a local program working on the
share directory directly.  A must receive the right FILE_ACTION_* and
names.  Raw SMB2 (smb2raw.py), so that the request can stay outstanding
while the other side acts.  Every wait is bounded."""

import os
import select
import struct
import subprocess
import time

import pytest

import smb2raw as R
from smbtarget import USER_A

STATUS_CANCELLED = 0xC0000120
STATUS_NOTIFY_CLEANUP = 0x0000010B
STATUS_NOTIFY_ENUM_DIR = 0x0000010C

ADDED, REMOVED, MODIFIED, OLD_NAME, NEW_NAME = 1, 2, 3, 4, 5

CHANGE_FILE_NAME = 0x1
CHANGE_DIR_NAME = 0x2
CHANGE_ATTRIBUTES = 0x4
CHANGE_SIZE = 0x8
CHANGE_LAST_WRITE = 0x10
WATCH_TREE = 0x1

FILE_DIRECTORY_FILE = 0x1
FILE_NON_DIRECTORY_FILE = 0x40
FILE_DELETE_ON_CLOSE = 0x1000

WAIT = 10.0


def login(server):
    return R.login(server, USER_A, server.password(USER_A))


def open_dir(c, name):
    # FILE_LIST_DIRECTORY | READ_ATTRIBUTES | SYNCHRONIZE, FILE_OPEN
    return c.create(name, desired_access=0x00100081, disposition=1,
                    options=FILE_DIRECTORY_FILE, share_access=7,
                    attributes=0x10)


def notify_body(file_id, completion_filter, flags=0, out_len=4096):
    """MS-SMB2 2.2.35."""
    return struct.pack('<HHI16sII', 32, flags, out_len, file_id,
                       completion_filter, 0)


def send_notify(c, file_id, completion_filter, flags=0, out_len=4096):
    """Send a CHANGE_NOTIFY without waiting for its answer; its
    MessageId."""
    mid = c.next_mid()
    msg = R.header(R.CHANGE_NOTIFY, message_id=mid,
                   session_id=c.session_id, tree_id=c.tree_id) + \
        notify_body(file_id, completion_filter, flags, out_len)
    c.send_raw(R.nbt(c.sign(msg)))
    return mid


def wait_interim(c, mid, timeout=WAIT):
    """Read the interim STATUS_PENDING answer of mid (the server sends it
    at once for a notify that has to wait)."""
    deadline = time.time() + timeout
    while True:
        hdr = c._recv_exact(4, deadline)
        n = struct.unpack('>I', hdr)[0] & 0xFFFFFF
        msg = c._recv_exact(n, deadline)
        h = R.parse_header(msg)
        assert h is not None
        assert h['message_id'] == mid
        assert h['status'] == R.STATUS_PENDING, R.status_name(h['status'])
        return


def cancel(c, mid):
    """SMB2 CANCEL of the request mid, by MessageId (MS-SMB2 2.2.30)."""
    c.send_raw(R.nbt(c.sign(R.header(R.CANCEL, message_id=mid,
                                     session_id=c.session_id,
                                     tree_id=c.tree_id, credit_request=0) +
                            struct.pack('<HH', 4, 0))))


def parse_changes(buf):
    """FILE_NOTIFY_INFORMATION chain (MS-FSCC 2.7.1) ->
    [(action, name)]."""
    out = []
    ofs = 0
    while True:
        nxt, action, ln = struct.unpack_from('<III', buf, ofs)
        name = buf[ofs + 12:ofs + 12 + ln].decode('utf-16-le')
        out.append((action, name))
        if nxt == 0:
            return out
        assert nxt % 4 == 0
        ofs += nxt


def recv_notify(c, mid, timeout=WAIT):
    """The final answer of the notify mid: (status, [(action, name)])."""
    msg = c.recv_frame(timeout=timeout)
    h = R.parse_header(msg)
    assert h['message_id'] == mid
    assert h['command'] == R.CHANGE_NOTIFY
    if h['status'] != 0:
        return h['status'], []
    size, off, ln = struct.unpack_from('<HHI', msg, 64)
    assert size == 9
    return 0, parse_changes(msg[off:off + ln])


def collect(c, fid, mid, completion_filter, want, flags=0):
    """Answers until `want` changes came (a server may split them over
    several replies, as the kernel reports them one by one); each
    further request is sent after the previous answer."""
    got = []
    while True:
        status, changes = recv_notify(c, mid)
        assert status == 0, R.status_name(status)
        got += changes
        if len(got) >= want:
            return got
        mid = send_notify(c, fid, completion_filter, flags)


@pytest.fixture
def a(server):
    c = login(server)
    yield c
    c.close()


@pytest.fixture
def b(server):
    c = login(server)
    yield c
    c.close()


def test_other_client_create_rename_delete(server, share_dir, a, b):
    fid = open_dir(a, share_dir.name)
    f = CHANGE_FILE_NAME | CHANGE_DIR_NAME

    mid = send_notify(a, fid, f)
    wait_interim(a, mid)
    # B, another smbd process, creates a file
    h = b.create(share_dir.name + '\\new.txt', disposition=2,
                 options=FILE_NON_DIRECTORY_FILE)
    b.request(R.CLOSE, R.close_body(h))
    assert collect(a, fid, mid, f, 1) == [(ADDED, 'new.txt')]

    # B renames it (SET_INFO FileRenameInformation, MS-FSCC 2.4.42.2)
    mid = send_notify(a, fid, f)
    h = b.create(share_dir.name + '\\new.txt', desired_access=0x00110080,
                 disposition=1, options=FILE_NON_DIRECTORY_FILE)
    target = (share_dir.name + '\\renamed.txt').encode('utf-16-le')
    info = struct.pack('<B7xQI', 0, 0, len(target)) + target
    body = struct.pack('<HBBIHHI16s', 33, 1, 10, len(info), 64 + 32, 0, 0,
                       h) + info
    r = b.request(R.SET_INFO, body)
    assert R.parse_header(r)['status'] == 0
    b.request(R.CLOSE, R.close_body(h))
    got = collect(a, fid, mid, f, 2)
    assert got[:2] == [(OLD_NAME, 'new.txt'), (NEW_NAME, 'renamed.txt')]

    # B deletes it
    mid = send_notify(a, fid, f)
    h = b.create(share_dir.name + '\\renamed.txt', desired_access=0x00110080,
                 disposition=1,
                 options=FILE_NON_DIRECTORY_FILE | FILE_DELETE_ON_CLOSE)
    b.request(R.CLOSE, R.close_body(h))
    assert collect(a, fid, mid, f, 1) == [(REMOVED, 'renamed.txt')]
    a.request(R.CLOSE, R.close_body(fid))


def test_local_process_changes(server, share_dir, a):
    """Changes made on the share directory by a program on the server
    (not through SMB) are reported too: the kernel tells."""
    fid = open_dir(a, share_dir.name)
    f = CHANGE_FILE_NAME | CHANGE_DIR_NAME
    mid = send_notify(a, fid, f)
    wait_interim(a, mid)

    p = os.path.join(share_dir.path, 'local.txt')
    with open(p, 'w') as fh:
        fh.write('x')
    assert collect(a, fid, mid, f, 1) == [(ADDED, 'local.txt')]

    mid = send_notify(a, fid, f)
    os.rename(p, os.path.join(share_dir.path, 'local2.txt'))
    got = collect(a, fid, mid, f, 2)
    assert got[:2] == [(OLD_NAME, 'local.txt'), (NEW_NAME, 'local2.txt')]

    mid = send_notify(a, fid, f)
    os.mkdir(os.path.join(share_dir.path, 'sub'))
    assert collect(a, fid, mid, f, 1) == [(ADDED, 'sub')]

    # a data change with a filter for sizes
    fid2 = open_dir(a, share_dir.name + '\\sub')
    # (Samba's kernel backend reports a write as an ATTRIBUTES change)
    sizes = CHANGE_SIZE | CHANGE_LAST_WRITE | CHANGE_ATTRIBUTES
    mid = send_notify(a, fid2, sizes)
    wait_interim(a, mid)
    with open(os.path.join(share_dir.path, 'sub', 'data'), 'w') as fh:
        fh.write('y' * 100)
    got = collect(a, fid2, mid, sizes, 1)
    assert got[0] == (MODIFIED, 'data')
    a.request(R.CLOSE, R.close_body(fid2))
    a.request(R.CLOSE, R.close_body(fid))


def test_recursive_watch_sees_new_subdirectory(server, share_dir, a, b):
    """WATCH_TREE: a subdirectory made after the watch started is watched
    as well; names are relative to the watched directory."""
    fid = open_dir(a, share_dir.name)
    f = CHANGE_FILE_NAME | CHANGE_DIR_NAME
    mid = send_notify(a, fid, f, flags=WATCH_TREE)
    wait_interim(a, mid)
    h = b.create(share_dir.name + '\\d1', disposition=2,
                 options=FILE_DIRECTORY_FILE, attributes=0x10)
    b.request(R.CLOSE, R.close_body(h))
    assert collect(a, fid, mid, f, 1, WATCH_TREE) == [(ADDED, 'd1')]
    mid = send_notify(a, fid, f, flags=WATCH_TREE)
    h = b.create(share_dir.name + '\\d1\\inner.txt', disposition=2,
                 options=FILE_NON_DIRECTORY_FILE)
    b.request(R.CLOSE, R.close_body(h))
    assert collect(a, fid, mid, f, 1, WATCH_TREE) == [
        (ADDED, 'd1\\inner.txt')]
    a.request(R.CLOSE, R.close_body(fid))


@pytest.mark.ours_only
def test_recursive_watch_local_program(server, share_dir, a):
    """WATCH_TREE and a local program two levels down.  Samba's kernel
    notification watches only the directory itself (its recursive
    notifications come from its own operations), hence ours only."""
    os.makedirs(os.path.join(share_dir.path, 'x', 'y'))
    fid = open_dir(a, share_dir.name)
    f = CHANGE_FILE_NAME | CHANGE_DIR_NAME
    mid = send_notify(a, fid, f, flags=WATCH_TREE)
    wait_interim(a, mid)
    with open(os.path.join(share_dir.path, 'x', 'y', 'deep.txt'), 'w'):
        pass
    assert collect(a, fid, mid, f, 1, WATCH_TREE) == [
        (ADDED, 'x\\y\\deep.txt')]
    mid = send_notify(a, fid, f, flags=WATCH_TREE)
    os.mkdir(os.path.join(share_dir.path, 'x', 'y', 'z'))
    assert collect(a, fid, mid, f, 1, WATCH_TREE) == [(ADDED, 'x\\y\\z')]
    # the new directory is watched too
    mid = send_notify(a, fid, f, flags=WATCH_TREE)
    os.rename(os.path.join(share_dir.path, 'x', 'y', 'deep.txt'),
              os.path.join(share_dir.path, 'x', 'y', 'z', 'moved.txt'))
    got = collect(a, fid, mid, f, 2, WATCH_TREE)
    assert got[:2] == [(REMOVED, 'x\\y\\deep.txt'),
                       (ADDED, 'x\\y\\z\\moved.txt')]
    a.request(R.CLOSE, R.close_body(fid))


@pytest.mark.ours_only
def test_recursive_watch_tree_made_at_once(server, share_dir, a):
    """A local program makes a tree and a file in it faster than a watch
    can follow: every name is still reported, each once (what a new
    directory holds when its watch is added is reported by the server
    itself; ours only like the test above)."""
    fid = open_dir(a, share_dir.name)
    f = CHANGE_FILE_NAME | CHANGE_DIR_NAME
    mid = send_notify(a, fid, f, flags=WATCH_TREE)
    wait_interim(a, mid)
    os.makedirs(os.path.join(share_dir.path, 't1', 't2', 't3'))
    with open(os.path.join(share_dir.path, 't1', 't2', 't3', 'f'), 'w'):
        pass
    got = collect(a, fid, mid, f, 4, WATCH_TREE)
    time.sleep(0.3)
    # nothing reported twice: a further request finds no change
    mid = send_notify(a, fid, f, flags=WATCH_TREE)
    cancel(a, mid)
    status, more = recv_notify(a, mid)
    assert sorted(got + more) == sorted([
        (ADDED, 't1'), (ADDED, 't1\\t2'), (ADDED, 't1\\t2\\t3'),
        (ADDED, 't1\\t2\\t3\\f')])
    a.request(R.CLOSE, R.close_body(fid))


def test_cancel_and_close(server, share_dir, a):
    fid = open_dir(a, share_dir.name)
    mid = send_notify(a, fid, CHANGE_FILE_NAME)
    wait_interim(a, mid)
    # CANCEL by MessageId (MS-SMB2 3.3.5.16)
    cancel(a, mid)
    status, _ = recv_notify(a, mid)
    assert status == STATUS_CANCELLED

    # closing the handle ends a waiting request with NOTIFY_CLEANUP
    mid = send_notify(a, fid, CHANGE_FILE_NAME)
    wait_interim(a, mid)
    cmid = a.next_mid()
    a.send_raw(R.nbt(a.sign(R.header(R.CLOSE, message_id=cmid,
                                     session_id=a.session_id,
                                     tree_id=a.tree_id) +
                            R.close_body(fid))))
    answers = {}
    for _ in range(2):
        msg = a.recv_frame()
        h = R.parse_header(msg)
        answers[h['message_id']] = h['status']
    assert answers == {mid: STATUS_NOTIFY_CLEANUP, cmid: 0}


def test_small_buffer_gives_enum_dir(server, share_dir, a, b):
    """Changes that do not fit the client's buffer: NOTIFY_ENUM_DIR."""
    fid = open_dir(a, share_dir.name)
    mid = send_notify(a, fid, CHANGE_FILE_NAME, out_len=4096)
    cancel(a, mid)
    status, _ = recv_notify(a, mid)
    assert status == STATUS_CANCELLED
    for i in range(200):
        with open(os.path.join(share_dir.path, 'file-with-a-longer-name-%03d' % i), 'w'):
            pass
    time.sleep(0.2)
    mid = send_notify(a, fid, CHANGE_FILE_NAME, out_len=4096)
    status, _ = recv_notify(a, mid)
    assert status == STATUS_NOTIFY_ENUM_DIR
    a.request(R.CLOSE, R.close_body(fid))


def test_notify_on_a_file_is_invalid(server, share_dir, a):
    h = a.create(share_dir.name + '\\plain', disposition=2,
                 options=FILE_NON_DIRECTORY_FILE)
    mid = send_notify(a, h, CHANGE_FILE_NAME)
    status, _ = recv_notify(a, mid)
    assert status == R.STATUS_INVALID_PARAMETER
    a.request(R.CLOSE, R.close_body(h))


def test_smbclient_sees_another_clients_file(server, share_dir, b):
    """A real client: smbclient's "notify" command keeps CHANGE_NOTIFY
    requests going and prints "action name" per change; client B (another
    connection, another smbd process) creates a file."""
    args = ['stdbuf', '-oL', 'smbclient', server.unc(''), '-p',
            str(server.port), '-U', '%s%%%s' % (USER_A,
                                                server.password(USER_A)),
            '-d', '0', '-c', 'notify %s' % share_dir.name]
    p = subprocess.Popen(args, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         text=True)
    try:
        # smbclient prints nothing before the first change: give it time
        # to connect and send its request, then act
        time.sleep(1.5)
        h = b.create(share_dir.name + '\\from-b.txt', disposition=2,
                     options=FILE_NON_DIRECTORY_FILE)
        b.request(R.CLOSE, R.close_body(h))
        out = ''
        deadline = time.time() + WAIT
        while 'from-b.txt' not in out and time.time() < deadline:
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if r:
                line = p.stdout.readline()
                if not line:
                    break
                out += line
        assert '0001 from-b.txt' in out, out
    finally:
        p.kill()
        p.wait(timeout=10)
