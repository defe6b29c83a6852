"""Debian's smbclient against the server, one run per SMB dialect, with
signing required by the client (--client-protection=sign)."""

import hashlib
import os
import re

import pytest

from conftest import run_smbclient

DIALECTS = ['SMB2_02', 'SMB2_10', 'SMB3_00', 'SMB3_02', 'SMB3_11']
BIG = 100 * 1024 * 1024


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture(scope='module')
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp('big') / 'random.bin'
    with open(path, 'wb') as f:
        for _ in range(BIG // (1 << 20)):
            f.write(os.urandom(1 << 20))
    yield str(path), sha256_file(path)
    path.unlink()   # pytest keeps its temp dirs; 100 MiB files need not


def ok(r):
    """smbclient reports most failures as NT_STATUS_* text, not only as
    its exit code."""
    out = r.stdout + r.stderr
    assert r.returncode == 0 and 'NT_STATUS_' not in out, \
        'smbclient failed (rc %d):\n%s' % (r.returncode, out[-3000:])
    return r.stdout


@pytest.mark.parametrize('dialect', DIALECTS)
def test_negotiates_forced_dialect(server, dialect):
    r = run_smbclient(server, 'ls', dialect=dialect, debug=4)
    # debug level 4 also logs harmless NT_STATUS_* names; rc decides
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert 'negotiated dialect[%s]' % dialect in r.stdout + r.stderr


@pytest.mark.slow
@pytest.mark.parametrize('dialect', DIALECTS)
def test_file_operations(server, share_dir, big_file, tmp_path, dialect):
    src, digest = big_file
    back = tmp_path / 'back.bin'
    d = share_dir.name
    out = ok(run_smbclient(server, ';'.join([
        'cd %s' % d,
        'mkdir sub',
        'put %s sub\\big.bin' % src,
        'ls sub\\*',
        'allinfo sub\\big.bin',
    ]), dialect=dialect))
    assert re.search(r'^\s+big\.bin\s+A\s+%d\s' % BIG, out, re.M), out
    for field in ('create_time:', 'access_time:', 'write_time:',
                  'change_time:'):
        assert re.search(r'^%s\s+\S.*\d{4}' % field, out, re.M), \
            'allinfo lacks %s:\n%s' % (field, out)
    # FILE_ATTRIBUTE_ARCHIVE (0x20) and nothing else on a fresh file
    assert re.search(r'^attributes: A \(20\)$', out, re.M), out
    assert 'stream: [::$DATA], %d bytes' % BIG in out, out
    # the bytes on disk are the bytes sent
    assert os.path.getsize(os.path.join(share_dir.path, 'sub', 'big.bin')) \
        == BIG

    ok(run_smbclient(server, 'cd %s; get sub\\big.bin %s' % (d, back),
                     dialect=dialect))
    same = sha256_file(back) == digest
    back.unlink()
    assert same, 'the file read back differs from the file written'

    out = ok(run_smbclient(server, ';'.join([
        'cd %s' % d,
        'rename sub\\big.bin sub\\renamed.bin',
        'ls sub\\*',
    ]), dialect=dialect))
    assert 'renamed.bin' in out and 'big.bin' not in out, out
    assert os.path.exists(os.path.join(share_dir.path, 'sub', 'renamed.bin'))

    out = ok(run_smbclient(server, ';'.join([
        'cd %s' % d,
        'del sub\\renamed.bin',
        'rmdir sub',
        'ls',
    ]), dialect=dialect))
    assert 'sub' not in re.findall(r'^\s+(\S+)\s+D\s', out, re.M), out
    assert not os.path.exists(os.path.join(share_dir.path, 'sub'))


@pytest.mark.parametrize('dialect', ['SMB2_02', 'SMB3_11'])
def test_missing_file_is_reported(server, share_dir, tmp_path, dialect):
    r = run_smbclient(server, 'cd %s; get nosuch.txt %s' % (
        share_dir.name, tmp_path / 'x'), dialect=dialect)
    assert 'NT_STATUS_OBJECT_NAME_NOT_FOUND' in r.stdout + r.stderr


def test_rmdir_of_nonempty_directory_fails(server, share_dir):
    os.mkdir(os.path.join(share_dir.path, 'full'))
    open(os.path.join(share_dir.path, 'full', 'f'), 'w').close()
    r = run_smbclient(server, 'cd %s; rmdir full' % share_dir.name)
    assert 'NT_STATUS_DIRECTORY_NOT_EMPTY' in r.stdout + r.stderr
    assert os.path.isdir(os.path.join(share_dir.path, 'full'))


def test_wrong_password_is_refused(server):
    r = run_smbclient(server, 'ls', password='not-the-password')
    assert r.returncode != 0
    assert 'NT_STATUS_LOGON_FAILURE' in r.stdout + r.stderr


@pytest.fixture(scope='module')
def unsigned_server(server_factory):
    """A server that does not require signing: unsigned READ replies of
    64 KiB and more are spliced from the file (smb2_read.c)."""
    return server_factory(signing='auto')


@pytest.mark.parametrize('dialect', ['SMB2_02', 'SMB3_11'])
def test_unsigned_get_and_reget(unsigned_server, tmp_path, dialect):
    """Unsigned reads, the spliced path: a whole file whose size is not a
    multiple of the read size nor of a page, then a resumed read from an
    offset inside a page (reget: from the end of the local copy)."""
    t = unsigned_server
    name = 'unsigned_%s.bin' % dialect
    size = 20 * 1024 * 1024 + 12345
    data = os.urandom(size)
    path = os.path.join(t.share_path, name)
    with open(path, 'wb') as f:
        f.write(data)
    os.chmod(path, 0o644)
    digest = hashlib.sha256(data).hexdigest()
    back = tmp_path / 'back.bin'
    try:
        ok(run_smbclient(t, 'get %s %s' % (name, back), dialect=dialect,
                         sign=False))
        assert sha256_file(back) == digest, 'get: bytes differ'
        with open(back, 'wb') as f:
            f.write(data[:5000])
        ok(run_smbclient(t, 'reget %s %s' % (name, back), dialect=dialect,
                         sign=False))
        assert os.path.getsize(back) == size
        assert sha256_file(back) == digest, 'reget: bytes differ'
    finally:
        os.unlink(path)
