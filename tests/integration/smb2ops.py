"""SMB2 operations on smb2raw connections that several tests share:
opens with oplocks and leases, break notifications and their
acknowledgements, byte-range locks, interim and final answers.

Used by test_leases.py and test_locks.py (two smbd processes of one
server) and by tests/cluster/cluster_files.py (smbd processes of
different cluster nodes).  Every receive is bounded by a timeout.
"""

import struct
import time

import smb2raw
from smb2raw import (CLOSE, CREATE, FLAGS_ASYNC, OPLOCK_BREAK,
                     STATUS_PENDING, Raw, close_body, create_body, header,
                     nbt, parse_header)

LEASE_R, LEASE_H, LEASE_W = 1, 2, 4
OPLOCK_NONE, OPLOCK_II, OPLOCK_BATCH, OPLOCK_LEASE = 0, 1, 9, 0xFF
ACK_REQUIRED = 1
FILE_OPEN, FILE_OPEN_IF, FILE_OVERWRITE_IF = 1, 3, 5
NO_MID = 0xFFFFFFFFFFFFFFFF

SHARE_READ, SHARE_WRITE, SHARE_DELETE = 1, 2, 4
# FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA |
# FILE_WRITE_ATTRIBUTES | READ_CONTROL | SYNCHRONIZE (MS-SMB2 2.2.13.1.1)
GENERIC_WRITE_ACCESS = 0x00120116
# FILE_READ_DATA | FILE_READ_EA | FILE_READ_ATTRIBUTES | READ_CONTROL |
# SYNCHRONIZE
GENERIC_READ_ACCESS = 0x00120089

STATUS_SHARING_VIOLATION = 0xC0000043
STATUS_LOCK_NOT_GRANTED = 0xC0000055
STATUS_FILE_LOCK_CONFLICT = 0xC0000054
STATUS_RANGE_NOT_LOCKED = 0xC000007E
STATUS_CANCELLED = 0xC0000120

# LOCK element flags (MS-SMB2 2.2.26.1)
SHARED, EXCLUSIVE, UNLOCK, FAIL_IMMEDIATELY = 0x1, 0x2, 0x4, 0x10


def connect(host, port, user, password, share, client_guid=None,
            timeout=10.0):
    """A Raw connection negotiated at 2.1 (with client_guid, random if
    None), authenticated, signed and connected to share."""
    c = Raw(host, port, timeout=timeout)
    try:
        c.negotiate(client_guid=client_guid)
        c.session_setup(user, password)
        c.tree_connect('\\\\%s\\%s' % (host, share))
    except Exception:
        c.close()
        raise
    return c


def status(msg):
    return parse_header(msg)['status']


def send(c, command, body):
    """Send a signed request without waiting; returns its message id."""
    mid = c.next_mid()
    msg = header(command, message_id=mid, session_id=c.session_id,
                 tree_id=c.tree_id) + body
    c.send_raw(nbt(c.sign(msg)))
    return mid


# ---------------------------------------------------------------- opens

def lease_context(key, state):
    """An RqLs v1 create context (MS-SMB2 2.2.13.2.8), 8-aligned."""
    data = key + struct.pack('<IIQ', state, 0, 0)
    # Next, NameOffset 16, NameLength 4, Reserved, DataOffset 24, DataLen
    return struct.pack('<IHHHHI', 0, 16, 4, 0, 24, len(data)) + \
        b'RqLs' + b'\0' * 4 + data


def create_msg(c, name, oplock, contexts=b'', share_access=7,
               disposition=FILE_OPEN_IF, **kw):
    """A signed CREATE request (not sent) and its message id; kw go to
    smb2raw.create_body (desired_access, options, ...)."""
    body = bytearray(create_body(name, contexts=contexts,
                                 share_access=share_access,
                                 disposition=disposition, **kw))
    body[3] = oplock  # RequestedOplockLevel
    mid = c.next_mid()
    msg = header(CREATE, message_id=mid, session_id=c.session_id,
                 tree_id=c.tree_id) + bytes(body)
    return mid, c.sign(msg)


def create_reply(msg):
    """(status, oplock level, file id, lease state or None) of a CREATE
    response."""
    h = parse_header(msg)
    if h['status'] != 0:
        return h['status'], None, None, None
    b = msg[64:]
    level = b[2]
    fid = b[64:80]
    lease = None
    c_off, c_len = struct.unpack('<II', b[80:88])
    if c_len:
        ctx = msg[c_off:c_off + c_len]
        while ctx:
            nxt, n_off, n_len, _, d_off, d_len = struct.unpack(
                '<IHHHHI', ctx[:16])
            if ctx[n_off:n_off + n_len] == b'RqLs':
                lease = struct.unpack('<I', ctx[d_off + 16:d_off + 20])[0]
            if not nxt:
                break
            ctx = ctx[nxt:]
    return 0, level, fid, lease


def open_file(c, name, oplock, contexts=b'', share_access=7, **kw):
    """Send a CREATE and wait for its final answer: create_reply()."""
    _, msg = create_msg(c, name, oplock, contexts, share_access, **kw)
    c.send_raw(nbt(msg))
    return create_reply(c.recv_frame())


def close(c, fid):
    return status(c.request(CLOSE, close_body(fid)))


# ---------------------------------------------------------------- breaks

def expect_break(c, timeout=5):
    """The next frame must be a break notification (MS-SMB2 2.2.23/24):
    returns its body."""
    msg = c.recv_frame(timeout=timeout)
    h = parse_header(msg)
    assert h['command'] == OPLOCK_BREAK, h
    assert h['message_id'] == NO_MID, h
    assert h['flags'] & smb2raw.FLAGS_SERVER_TO_REDIR
    return msg[64:]


def no_answer(c, seconds):
    """True when nothing but interim responses arrive for seconds."""
    try:
        c.recv_frame(timeout=seconds)
    except TimeoutError:
        return True
    return False


def lease_ack(c, key, state):
    body = struct.pack('<HHI16sIQ', 36, 0, 0, key, state, 0)
    r = c.request(OPLOCK_BREAK, body)
    return parse_header(r)['status'], r[64:]


def oplock_ack(c, fid, level):
    body = struct.pack('<HBBI16s', 24, level, 0, 0, fid)
    r = c.request(OPLOCK_BREAK, body)
    return parse_header(r)['status'], r[64:]


# ---------------------------------------------------------------- locks

def lock_body(file_id, elements, sequence=0):
    """MS-SMB2 2.2.26: elements are (offset, length, flags)."""
    b = struct.pack('<HHI16s', 48, len(elements), sequence, file_id)
    for off, length, flags in elements:
        b += struct.pack('<QQII', off, length, flags, 0)
    return b


# ------------------------------------------------- interim and final answers

def recv_any(c, timeout):
    """The next frame, interim answers included, or None when nothing
    arrives within timeout seconds."""
    deadline = time.time() + timeout
    try:
        hdr = c._recv_exact(4, deadline)
    except TimeoutError:
        return None
    n = struct.unpack('>I', hdr)[0] & 0xFFFFFF
    # once a frame has begun, the rest of it gets the connection's timeout
    return c._recv_exact(n, time.time() + c.timeout)


def is_interim(msg, mid):
    h = parse_header(msg)
    return h is not None and h['message_id'] == mid and \
        h['status'] == STATUS_PENDING and bool(h['flags'] & FLAGS_ASYNC)


def recv_interim(c, mid, timeout=20.0):
    """The interim STATUS_PENDING answer of request mid."""
    msg = recv_any(c, timeout)
    assert msg is not None, 'no interim response for message %d' % mid
    h = parse_header(msg)
    assert h['message_id'] == mid, h
    assert is_interim(msg, mid), \
        'answered at once: %s' % smb2raw.status_name(h['status'])


def recv_final(c, mid, timeout=30.0):
    """The final status of request mid (interim answers skipped)."""
    msg = c.recv_frame(timeout=timeout)
    h = parse_header(msg)
    assert h['message_id'] == mid, h
    return h['status']
