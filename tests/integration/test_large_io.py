"""Large READ and WRITE: the sizes NEGOTIATE announces, and multi-credit
requests up to 8 MiB (MS-SMB2 3.3.5.2.5: a request may carry up to
CreditCharge * 64 KiB, more is STATUS_INVALID_PARAMETER).

The default `smb2 max read` / `smb2 max write` is 1 MiB (see
docs/performance.md: smaller requests let client and server overlap);
`smb2 max read = 8388608` brings 8 MiB requests back, as Samba and
Windows offer them."""

import hashlib
import os
import struct

import pytest

from conftest import run_smbclient
from smb2raw import (CLOSE, DIALECT_202, DIALECT_210, ECHO, NEGOTIATE,
                     READ, SIGNING_ENABLED, SIGNING_REQUIRED,
                     STATUS_ACCESS_DENIED, STATUS_INVALID_PARAMETER, WRITE,
                     Raw, close_body, negotiate_body, parse_header,
                     read_body, write_body)
from smbtarget import USER_A

MIB = 1024 * 1024
EIGHT_MIB = 8 * MIB


@pytest.fixture(scope='module')
def signing_auto(server_factory):
    t = server_factory(signing='auto')
    yield t
    server_factory.stop(t)
    server_factory.started.remove(t)


@pytest.fixture(scope='module')
def big_io(server_factory):
    t = server_factory(extra_global=['smb2 max read = %d' % EIGHT_MIB,
                                     'smb2 max write = %d' % EIGHT_MIB])
    yield t
    server_factory.stop(t)
    server_factory.started.remove(t)


def connect(t):
    """A signed 2.1 session tree-connected to the share, and the
    (MaxTransactSize, MaxReadSize, MaxWriteSize) its NEGOTIATE announced
    (MS-SMB2 2.2.4)."""
    c = Raw(t.host, t.port, timeout=30)
    r = c.request(NEGOTIATE, negotiate_body(
        [DIALECT_202, DIALECT_210],
        security_mode=SIGNING_REQUIRED | SIGNING_ENABLED))
    assert parse_header(r)['status'] == 0
    sizes = struct.unpack_from('<III', r, 64 + 28)
    c.session_setup(USER_A, t.password(USER_A))
    c.tree_connect('\\\\%s\\%s' % (t.host, t.share))
    return c, sizes


def charged(c, command, body, charge, sign=True):
    """One request with CreditCharge charge: it takes charge message ids
    (MS-SMB2 3.2.4.1.5) and asks for enough credits for the next one."""
    mid = c.mid
    c.mid += charge
    return c.request(command, body, sign=sign, message_id=mid,
                     credit_charge=charge, credit_request=charge + 64)


def status(r):
    return parse_header(r)['status']


def read_data(r):
    """DataOffset / DataLength of a READ response (MS-SMB2 2.2.20)."""
    off = r[64 + 2]
    ln = struct.unpack_from('<I', r, 64 + 4)[0]
    return r[off:off + ln]


def close(c, fid):
    assert status(c.request(CLOSE, close_body(fid))) == 0


@pytest.mark.ours_only
def test_default_sizes_are_1_mib(server):
    c, (trans, rd, wr) = connect(server)
    try:
        assert (trans, rd, wr) == (EIGHT_MIB, MIB, MIB)
        name = 'large_io_default_%s' % os.urandom(4).hex()
        fid = c.create(name, disposition=5)     # FILE_OVERWRITE_IF
        data = os.urandom(MIB)
        r = charged(c, WRITE, write_body(fid, data), 16)
        assert status(r) == 0
        r = charged(c, READ, read_body(fid, MIB), 16)
        assert status(r) == 0 and read_data(r) == data
        # one byte over the announced maximum, charged correctly
        r = charged(c, READ, read_body(fid, MIB + 1), 17)
        assert status(r) == STATUS_INVALID_PARAMETER
        r = charged(c, WRITE, write_body(fid, data + b'x'), 17)
        assert status(r) == STATUS_INVALID_PARAMETER
        close(c, fid)
        os.unlink(os.path.join(server.share_path, name))
    finally:
        c.close()


def test_8_mib_multi_credit_requests(big_io):
    c, (trans, rd, wr) = connect(big_io)
    try:
        assert (rd, wr) == (EIGHT_MIB, EIGHT_MIB)
        name = 'large_io_8m_%s' % os.urandom(4).hex()
        fid = c.create(name, disposition=5)
        data = os.urandom(EIGHT_MIB)
        # 8 MiB is 128 credits' worth; one credit short is refused
        r = charged(c, WRITE, write_body(fid, data), 127)
        assert status(r) == STATUS_INVALID_PARAMETER
        r = charged(c, WRITE, write_body(fid, data), 128)
        assert status(r) == 0
        assert struct.unpack_from('<I', r, 64 + 4)[0] == EIGHT_MIB
        r = charged(c, READ, read_body(fid, EIGHT_MIB), 127)
        assert status(r) == STATUS_INVALID_PARAMETER
        r = charged(c, READ, read_body(fid, EIGHT_MIB), 128)
        assert status(r) == 0
        assert hashlib.sha256(read_data(r)).digest() == \
            hashlib.sha256(data).digest()
        r = charged(c, READ, read_body(fid, EIGHT_MIB + 1), 129)
        assert status(r) == STATUS_INVALID_PARAMETER
        close(c, fid)
        os.unlink(os.path.join(big_io.share_path, name))
    finally:
        c.close()


@pytest.mark.slow
def test_smbclient_with_8_mib_requests(big_io, tmp_path):
    """Debian's smbclient moves 40 MiB in 8 MiB requests (its window is
    16 MiB: two in flight), SMB 3.1.1 signed, byte-identical."""
    src = tmp_path / 'src.bin'
    back = tmp_path / 'back.bin'
    src.write_bytes(os.urandom(40 * MIB))
    r = run_smbclient(big_io, 'put %s large_io_client.bin; get '
                      'large_io_client.bin %s; del large_io_client.bin' %
                      (src, back), dialect='SMB3_11')
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'NT_STATUS' not in r.stdout + r.stderr
    assert hashlib.sha256(back.read_bytes()).digest() == \
        hashlib.sha256(src.read_bytes()).digest()


def test_unsigned_writes_without_signing(signing_auto, tmp_path):
    """Without signing, 1 MiB WRITEs go socket -> pipe -> file on our
    server (smb2_transport.c, smbd_connection_classify()); the first
    write of an open and a short last one take the copying path.  The
    file on disk and the one read back are the bytes sent."""
    src = tmp_path / 'src.bin'
    back = tmp_path / 'back.bin'
    src.write_bytes(os.urandom(23 * MIB + 12345))
    r = run_smbclient(signing_auto, 'put %s unsigned_big.bin; get '
                      'unsigned_big.bin %s' % (src, back), sign=False,
                      dialect='SMB3_11')
    assert r.returncode == 0, r.stdout + r.stderr
    on_disk = os.path.join(signing_auto.share_path, 'unsigned_big.bin')
    want = hashlib.sha256(src.read_bytes()).digest()
    with open(on_disk, 'rb') as f:
        assert hashlib.sha256(f.read()).digest() == want
    assert hashlib.sha256(back.read_bytes()).digest() == want
    os.unlink(on_disk)


def test_unsigned_large_write_on_signed_session_is_refused(server):
    """MS-SMB2 3.3.5.2.4: an unsigned request on a session that requires
    signing fails with STATUS_ACCESS_DENIED, a 1 MiB WRITE (whose data
    our server leaves in pipes until dispatch) as a 4 KiB one; nothing
    reaches the file and the connection goes on."""
    c, _ = connect(server)
    try:
        name = 'large_io_unsigned_%s' % os.urandom(4).hex()
        fid = c.create(name, disposition=5)
        r = charged(c, WRITE, write_body(fid, os.urandom(4096)), 1,
                    sign=False)
        assert status(r) == STATUS_ACCESS_DENIED
        r = charged(c, WRITE, write_body(fid, os.urandom(MIB)), 16,
                    sign=False)
        assert status(r) == STATUS_ACCESS_DENIED
        assert os.path.getsize(os.path.join(server.share_path, name)) == 0
        r = c.request(ECHO, struct.pack('<HH', 4, 0))
        assert status(r) == 0
        close(c, fid)
        os.unlink(os.path.join(server.share_path, name))
    finally:
        c.close()
