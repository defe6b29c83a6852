"""Hostile and broken traffic, sent with raw sockets (smb2raw.py).

For every case the server must, within a few seconds, either answer with
an error status or close the connection; it must never crash, hang, or
answer with success.  After each case a fresh client must still be served
and the server process must still be alive (the autouse server_survives
fixture checks the latter)."""

import socket
import struct
import time

import pytest
from impacket.smbconnection import SMBConnection

import smb2raw as R
from smbtarget import USER_A

ANSWER_TIMEOUT = 5.0


def outcome(conn, data=None, timeout=ANSWER_TIMEOUT):
    """Send data (if any) and wait for one answer: ('closed', None) or
    ('status', NTSTATUS, message).  A silent, open connection fails the
    test."""
    try:
        if data is not None:
            conn.send_raw(data)
        msg = conn.recv_frame(timeout=timeout)
    except R.Closed:
        return ('closed', None, None)
    except TimeoutError:
        pytest.fail('the server neither answered nor closed the '
                    'connection within %.0fs' % timeout)
    h = R.parse_header(msg)
    if h is None:
        pytest.fail('answer is not an SMB2 header: %r' % msg[:16])
    return ('status', h['status'], msg)


def assert_rejected(result, allowed=None):
    """An error status (one of `allowed` when given) or a closed
    connection."""
    kind, status, _ = result
    if kind == 'closed':
        return
    assert status not in (R.STATUS_SUCCESS, R.STATUS_PENDING,
                          R.STATUS_MORE_PROCESSING_REQUIRED), \
        'hostile request succeeded: %s' % R.status_name(status)
    assert status & 0xC0000000 == 0xC0000000, \
        'not an error status: %s' % R.status_name(status)
    if allowed:
        assert status in allowed, 'got %s, expected one of %s' % (
            R.status_name(status), [R.status_name(a) for a in allowed])


@pytest.fixture
def healthy(server):
    """After the test: a fresh, well-behaved client is still served."""
    yield
    deadline = time.time() + 10
    while True:
        try:
            c = SMBConnection(server.host, server.host, sess_port=server.port,
                              timeout=10)
            c.login(USER_A, server.password(USER_A))
            c.listPath(server.share, '\\*')
            c.close()
            return
        except Exception as e:   # noqa: BLE001 - report any failure
            if time.time() > deadline:
                pytest.fail('server no longer serves a fresh client: %r' % e)
            time.sleep(0.5)


@pytest.fixture
def raw(server, healthy):
    c = R.Raw(server.host, server.port, timeout=ANSWER_TIMEOUT)
    yield c
    c.close()


@pytest.fixture
def authed(server, healthy):
    """Negotiated (2.1), signed session, tree connected, one open file."""
    c = R.login(server, USER_A, server.password(USER_A), server.share)
    c.fid = c.create('malformed_%d.bin' % id(c))
    yield c
    try:
        c.request(R.CLOSE, R.close_body(c.fid))
    except Exception:   # noqa: BLE001 - the connection may be gone
        pass
    c.close()


def negotiated(server):
    c = R.Raw(server.host, server.port, timeout=ANSWER_TIMEOUT)
    c.negotiate()
    return c


# --------------------------------------------------------------- framing

def test_truncated_header(raw):
    msg = R.header(R.NEGOTIATE)[:20]
    assert_rejected(outcome(raw, R.nbt(msg)))


def test_wrong_protocol_id(raw):
    msg = R.header(R.NEGOTIATE, protocol=b'\xfeXYZ') + R.negotiate_body(
        [R.DIALECT_210])
    assert_rejected(outcome(raw, R.nbt(msg)))


def test_wrong_header_structure_size(raw):
    msg = R.header(R.NEGOTIATE, structure_size=65) + R.negotiate_body(
        [R.DIALECT_210])
    assert_rejected(outcome(raw, R.nbt(msg)))


def test_nbt_length_longer_than_data_then_close(server, healthy):
    for _ in range(3):
        s = socket.create_connection((server.host, server.port), timeout=5)
        msg = R.header(R.NEGOTIATE) + R.negotiate_body([R.DIALECT_210])
        s.sendall(R.nbt(msg, length=len(msg) + 1000))
        s.close()


def test_nbt_length_longer_than_data_keeps_others_served(server, healthy):
    """A client that stalls mid-frame must not block anyone else: the
    healthy fixture connects while this one still hangs."""
    s = socket.create_connection((server.host, server.port), timeout=5)
    s.sendall(R.nbt(R.header(R.NEGOTIATE), length=4096))
    c = SMBConnection(server.host, server.host, sess_port=server.port,
                      timeout=10)
    c.login(USER_A, server.password(USER_A))
    c.close()
    s.close()


def test_zero_length_frame(raw):
    """A zero-length frame carries no message; the server may ignore it
    (then the negotiate that follows must work) or close."""
    try:
        raw.send_raw(R.nbt(b''))
        dialect = raw.negotiate()
    except (R.Closed, RuntimeError):
        return
    except TimeoutError:
        pytest.fail('server hung after a zero-length frame')
    assert dialect in (R.DIALECT_202, R.DIALECT_210)


def test_16mib_frame(raw):
    """The largest frame the 24-bit length allows: a NEGOTIATE followed by
    16 MiB of junk.  Trailing bytes after a complete request are not an
    error in themselves (Samba answers the NEGOTIATE), so any answer or a
    close is fine; a crash or silence is not."""
    n = 0xFFFFFF
    msg = R.header(R.NEGOTIATE) + R.negotiate_body([R.DIALECT_210])
    chunk = b'\x41' * (1 << 20)
    try:
        raw.send_raw(R.nbt(msg, length=n))
        sent = len(msg)
        while sent < n:
            part = chunk[:min(len(chunk), n - sent)]
            raw.send_raw(part)
            sent += len(part)
    except (R.Closed, OSError):
        return  # closed early: fine
    kind, status, _ = outcome(raw, timeout=10)
    assert kind == 'closed' or status != R.STATUS_PENDING


def test_bad_smb1_negotiate(raw):
    # SMB1 header (32 bytes) with NEGOTIATE (0x72), a word count of 0 and a
    # byte count that claims far more dialect strings than follow
    smb1 = (b'\xffSMB' + bytes([0x72]) + b'\0' * 4 + bytes([0x18]) +
            struct.pack('<H', 0xc853) + b'\0' * 20 + b'\0' +
            struct.pack('<H', 500) + b'\x02NT LM 0.12')
    assert_rejected(outcome(raw, R.nbt(smb1)))


def test_smb1_non_negotiate_command(raw):
    smb1 = (b'\xffSMB' + bytes([0x2e]) + b'\0' * 27 + b'\0' +
            struct.pack('<H', 0))
    assert_rejected(outcome(raw, R.nbt(smb1)))


# --------------------------------------------------------------- negotiate

def test_negotiate_dialect_count_65535(raw):
    msg = R.header(R.NEGOTIATE) + R.negotiate_body(
        [R.DIALECT_202, R.DIALECT_210], dialect_count=65535)
    assert_rejected(outcome(raw, R.nbt(msg)),
                    allowed=[R.STATUS_INVALID_PARAMETER])


def test_negotiate_dialect_count_zero(raw):
    msg = R.header(R.NEGOTIATE) + R.negotiate_body([], dialect_count=0)
    assert_rejected(outcome(raw, R.nbt(msg)),
                    allowed=[R.STATUS_INVALID_PARAMETER])


def test_negotiate_wrong_structure_size(raw):
    msg = R.header(R.NEGOTIATE) + R.negotiate_body(
        [R.DIALECT_210], structure_size=35)
    assert_rejected(outcome(raw, R.nbt(msg)),
                    allowed=[R.STATUS_INVALID_PARAMETER])


def test_negotiate_body_truncated(raw):
    msg = R.header(R.NEGOTIATE) + R.negotiate_body([R.DIALECT_210])[:20]
    assert_rejected(outcome(raw, R.nbt(msg)))


def test_negotiate_311_context_offset_past_end(raw):
    ctx = struct.pack('<HHI', 1, 38, 0) + struct.pack('<HHH', 1, 32, 1) + \
        b'\x11' * 32   # PREAUTH_INTEGRITY_CAPABILITIES, SHA-512
    msg = R.header(R.NEGOTIATE) + R.negotiate_body(
        [R.DIALECT_311], contexts=ctx, context_offset=0x10000)
    assert_rejected(outcome(raw, R.nbt(msg)))


def test_negotiate_311_context_count_huge(raw):
    ctx = struct.pack('<HHI', 1, 38, 0) + struct.pack('<HHH', 1, 32, 1) + \
        b'\x11' * 32
    msg = R.header(R.NEGOTIATE) + R.negotiate_body(
        [R.DIALECT_311], contexts=ctx, context_count=65535)
    assert_rejected(outcome(raw, R.nbt(msg)))


def test_negotiate_311_context_data_length_past_end(raw):
    ctx = struct.pack('<HHI', 1, 0xFFFF, 0) + struct.pack('<HHH', 1, 32, 1)
    msg = R.header(R.NEGOTIATE) + R.negotiate_body(
        [R.DIALECT_311], contexts=ctx)
    assert_rejected(outcome(raw, R.nbt(msg)))


# --------------------------------------------------------------- ordering

def test_session_setup_before_negotiate(raw):
    msg = R.header(R.SESSION_SETUP, message_id=0) + R.session_setup_body(
        R.spnego_init(R.ntlm_negotiate()))
    assert_rejected(outcome(raw, R.nbt(msg)))


def test_create_before_negotiate(raw):
    msg = R.header(R.CREATE, tree_id=1, session_id=1) + R.create_body('x')
    assert_rejected(outcome(raw, R.nbt(msg)))


def test_tree_connect_before_session_setup(server, healthy):
    with negotiated(server) as c:
        msg = R.header(R.TREE_CONNECT, message_id=c.next_mid()) + \
            R.tree_connect_body('\\\\127.0.0.1\\share')
        assert_rejected(outcome(c, R.nbt(msg)),
                        allowed=[R.STATUS_USER_SESSION_DELETED,
                                 R.STATUS_ACCESS_DENIED,
                                 R.STATUS_INVALID_PARAMETER])


def test_create_with_unknown_session_and_tree(server, healthy):
    with negotiated(server) as c:
        msg = R.header(R.CREATE, message_id=c.next_mid(), session_id=0x1234,
                       tree_id=7) + R.create_body('x')
        assert_rejected(outcome(c, R.nbt(msg)),
                        allowed=[R.STATUS_USER_SESSION_DELETED,
                                 R.STATUS_ACCESS_DENIED,
                                 R.STATUS_INVALID_PARAMETER])


def test_second_negotiate_on_same_connection(server, healthy):
    with negotiated(server) as c:
        msg = R.header(R.NEGOTIATE, message_id=c.next_mid()) + \
            R.negotiate_body([R.DIALECT_210])
        assert_rejected(outcome(c, R.nbt(msg)))


# --------------------------------------------------------------- session

@pytest.mark.parametrize('offset,length', [
    (0xFFFF, 10),          # offset far past the end
    (64 + 24, 0xFFFF),     # length far past the end
    (8, 16),               # buffer inside the header
])
def test_session_setup_buffer_out_of_range(server, healthy, offset, length):
    with negotiated(server) as c:
        msg = R.header(R.SESSION_SETUP, message_id=c.next_mid()) + \
            R.session_setup_body(R.spnego_init(R.ntlm_negotiate()),
                                 offset=offset, length=length)
        assert_rejected(outcome(c, R.nbt(msg)))


def test_session_setup_garbage_blob(server, healthy):
    with negotiated(server) as c:
        msg = R.header(R.SESSION_SETUP, message_id=c.next_mid()) + \
            R.session_setup_body(b'\x60\x84\xff\xff\xff\xff' + b'\0' * 20)
        assert_rejected(outcome(c, R.nbt(msg)))


def test_session_setup_wrong_structure_size(server, healthy):
    with negotiated(server) as c:
        msg = R.header(R.SESSION_SETUP, message_id=c.next_mid()) + \
            R.session_setup_body(R.spnego_init(R.ntlm_negotiate()),
                                 structure_size=24)
        assert_rejected(outcome(c, R.nbt(msg)),
                        allowed=[R.STATUS_INVALID_PARAMETER])


def test_unsigned_request_on_signed_session(authed):
    msg = R.header(R.READ, message_id=authed.next_mid(),
                   session_id=authed.session_id, tree_id=authed.tree_id) + \
        R.read_body(authed.fid, 16)
    assert_rejected(outcome(authed, R.nbt(msg)),
                    allowed=[R.STATUS_ACCESS_DENIED])


def test_bad_signature(authed):
    msg = bytearray(authed.sign(R.header(
        R.READ, message_id=authed.next_mid(), session_id=authed.session_id,
        tree_id=authed.tree_id) + R.read_body(authed.fid, 16)))
    msg[50] ^= 0xFF
    assert_rejected(outcome(authed, R.nbt(bytes(msg))),
                    allowed=[R.STATUS_ACCESS_DENIED])


# --------------------------------------------------------------- tree, create

def tree_request(c, command, body, **kw):
    kw.setdefault('message_id', c.next_mid())
    kw.setdefault('session_id', c.session_id)
    kw.setdefault('tree_id', c.tree_id)
    return R.nbt(c.sign(R.header(command, **kw) + body))


def test_tree_connect_path_past_end(server, healthy):
    c = R.Raw(server.host, server.port)
    c.negotiate()
    c.session_setup(USER_A, server.password(USER_A))
    with c:
        body = R.tree_connect_body('\\\\127.0.0.1\\share', length=0x7FF0)
        assert_rejected(outcome(c, tree_request(c, R.TREE_CONNECT, body,
                                                tree_id=0)))


@pytest.mark.parametrize('kw', [
    dict(name_offset=0xFFF0),
    dict(name_length=0xFFFE),
    dict(name_length=3),                    # odd UTF-16 length
    dict(name_offset=20),                   # name inside the header
    dict(contexts_offset=0xFFFFFF00, contexts_length=16,
         contexts=b'\0' * 24),
    dict(contexts_length=0x7FFFFFFF, contexts=b'\0' * 24),
    dict(structure_size=56),
], ids=['name_offset', 'name_length', 'odd_name_length', 'name_in_header',
        'contexts_offset', 'contexts_length', 'structure_size'])
def test_create_out_of_range(authed, kw):
    body = R.create_body('f_oob.txt', **kw)
    assert_rejected(outcome(authed, tree_request(authed, R.CREATE, body)))


def test_create_context_chain_loops(authed):
    # one create context whose Next (4 bytes at 0) points to itself
    ctx = struct.pack('<IHHHHI', 0, 16, 4, 0, 0, 0) + b'DHnQ' + b'\0' * 4
    body = R.create_body('f_ctx.txt', contexts=ctx)
    # patch Next of the context to its own offset 0 -> "loop" only if the
    # parser does not require progress; use 8-unaligned self-pointer too
    for nxt in (0xFFFFFFF8, 3):
        b = bytearray(body)
        ctx_off = struct.unpack_from('<I', b, 48)[0] - 64
        struct.pack_into('<I', b, ctx_off, nxt)
        res = outcome(authed, tree_request(authed, R.CREATE, bytes(b)))
        assert_rejected(res)
        if res[0] == 'closed':
            return


# --------------------------------------------------------------- read, write

def test_read_length_4gib(authed):
    body = R.read_body(authed.fid, 0xFFFFFFFF)
    assert_rejected(outcome(authed, tree_request(authed, R.READ, body)),
                    allowed=[R.STATUS_INVALID_PARAMETER])


def test_read_channel_info_past_end(authed):
    body = R.read_body(authed.fid, 16, channel_off=0xFFF0, channel_len=64)
    assert_rejected(outcome(authed, tree_request(authed, R.READ, body)))


def test_read_wrong_structure_size(authed):
    body = R.read_body(authed.fid, 16, structure_size=48)
    assert_rejected(outcome(authed, tree_request(authed, R.READ, body)),
                    allowed=[R.STATUS_INVALID_PARAMETER])


def test_read_unknown_file_id(authed):
    body = R.read_body(b'\x42' * 16, 16)
    assert_rejected(outcome(authed, tree_request(authed, R.READ, body)),
                    allowed=[R.STATUS_FILE_CLOSED,
                             R.STATUS_INVALID_PARAMETER])


@pytest.mark.parametrize('kw', [
    dict(data_offset=0xFFF0),
    dict(length=0x10000),                   # more than was sent
    dict(length=0xFFFFFFFF),
    dict(data_offset=10),                   # data inside the header
], ids=['data_offset', 'length_past_end', 'length_4gib', 'data_in_header'])
def test_write_out_of_range(authed, kw):
    body = R.write_body(authed.fid, b'x' * 64, **kw)
    assert_rejected(outcome(authed, tree_request(authed, R.WRITE, body)))


def test_read_write_still_work_after_rejections(authed):
    """The same session keeps working after hostile requests that were
    answered with an error (the connection was not torn down)."""
    res = outcome(authed, tree_request(authed, R.READ, R.read_body(
        authed.fid, 0xFFFFFFFF)))
    if res[0] == 'closed':
        pytest.skip('server closes on this error; nothing more to check')
    r = outcome(authed, tree_request(authed, R.WRITE, R.write_body(
        authed.fid, b'still alive')))
    assert r[1] == R.STATUS_SUCCESS, R.status_name(r[1])
    r = outcome(authed, tree_request(authed, R.READ, R.read_body(
        authed.fid, 11)))
    assert r[1] == R.STATUS_SUCCESS, R.status_name(r[1])
    assert r[2][64 + 16:64 + 27] == b'still alive'


# --------------------------------------------------------------- compound

def compound(c, parts, next_commands):
    """Chain `parts` [(command, body)] with explicit NextCommand values;
    each part padded to 8 bytes like a client would; signed as a whole
    chain is not possible with wrong offsets, so each part is signed
    over its own bytes."""
    out = b''
    for (cmd, body), nxt in zip(parts, next_commands):
        msg = R.header(cmd, message_id=c.next_mid(),
                       session_id=c.session_id, tree_id=c.tree_id,
                       next_command=nxt) + body
        msg += b'\0' * ((-len(msg)) % 8) if nxt else b''
        out += c.sign(msg)
    return R.nbt(out)


def read_part(c):
    return (R.READ, R.read_body(c.fid, 16))


def test_compound_next_command_past_end(authed):
    data = compound(authed, [read_part(authed), read_part(authed)],
                    [0x10000, 0])
    assert_rejected(outcome(authed, data))


def test_compound_next_command_unaligned(authed):
    p1 = R.header(R.READ, message_id=authed.next_mid(),
                  session_id=authed.session_id, tree_id=authed.tree_id,
                  next_command=64 + 49) + R.read_body(authed.fid, 16)
    p2 = R.header(R.READ, message_id=authed.next_mid(),
                  session_id=authed.session_id, tree_id=authed.tree_id) + \
        R.read_body(authed.fid, 16)
    data = R.nbt(authed.sign(p1) + authed.sign(p2))
    assert_rejected(outcome(authed, data))


def test_compound_next_command_loops_back(authed):
    # NextCommand of the second part = -(its own offset) as uint32: a parser
    # doing signed or wrapping arithmetic would loop forever
    first_len = 64 + 56
    data = compound(authed, [read_part(authed), read_part(authed)],
                    [first_len, (-first_len) & 0xFFFFFFFF])
    assert_rejected(outcome(authed, data))


def test_compound_next_command_smaller_than_header(authed):
    data = compound(authed, [read_part(authed), read_part(authed)],
                    [8, 0])
    assert_rejected(outcome(authed, data))


def test_compound_many_empty_parts(authed):
    """1000 chained ECHOs whose NextCommand is exactly one header: the
    server must cap or reject, not allocate without bound or hang."""
    parts = [(R.ECHO, struct.pack('<HH', 4, 0))] * 1000
    nexts = [72] * 999 + [0]
    try:
        authed.send_raw(compound(authed, parts, nexts))
    except R.Closed:
        return
    # answers (errors or echoes) or a close are all fine; silence is not
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            authed.recv_frame(timeout=ANSWER_TIMEOUT)
        except (R.Closed, TimeoutError):
            return
