"""impacket's SMB2/3 client (python3-impacket 0.10: dialects 2.0.2, 2.1 and
3.0; it has no 3.1.1) against the server: logons and file operations."""

import io
import os

import pytest
from impacket import nt_errors
from impacket.smb3structs import (SMB2_DIALECT_002, SMB2_DIALECT_21,
                                  SMB2_DIALECT_30)
from impacket.smbconnection import SMBConnection, SessionError

from smbtarget import USER_A, USER_B

DIALECTS = {'2.0.2': SMB2_DIALECT_002, '2.1': SMB2_DIALECT_21,
            '3.0': SMB2_DIALECT_30}


def connect(t, dialect=SMB2_DIALECT_21):
    conn = SMBConnection(t.host, t.host, sess_port=t.port,
                         preferredDialect=dialect, timeout=20)
    assert conn.getDialect() == dialect
    return conn


def login(t, user=USER_A, password=None, dialect=SMB2_DIALECT_21):
    conn = connect(t, dialect)
    conn.login(user, t.password(user) if password is None else password)
    return conn


def status_of(excinfo):
    return excinfo.value.getErrorCode()


def status_name(code):
    return nt_errors.ERROR_MESSAGES.get(code, ('0x%08x' % code,))[0]


def expect_status(excinfo, expected):
    got = status_of(excinfo)
    assert got == expected, 'got %s, expected %s' % (
        status_name(got), status_name(expected))


@pytest.mark.parametrize('dialect', DIALECTS.values(), ids=DIALECTS.keys())
def test_login_right_password(server, dialect):
    conn = login(server, dialect=dialect)
    conn.listPath(server.share, '\\*')
    conn.logoff()


@pytest.mark.parametrize('dialect', DIALECTS.values(), ids=DIALECTS.keys())
def test_login_wrong_password(server, dialect):
    conn = connect(server, dialect)
    with pytest.raises(SessionError) as e:
        conn.login(USER_A, 'definitely-wrong')
    expect_status(e, nt_errors.STATUS_LOGON_FAILURE)


def test_login_unknown_user(server):
    conn = connect(server)
    with pytest.raises(SessionError) as e:
        conn.login('nosuchuser%s' % os.getpid(), 'whatever')
    expect_status(e, nt_errors.STATUS_LOGON_FAILURE)


def test_login_disabled_user(server):
    server.set_enabled(USER_B, False)
    try:
        conn = connect(server)
        with pytest.raises(SessionError) as e:
            conn.login(USER_B, server.password(USER_B))
        expect_status(e, nt_errors.STATUS_ACCOUNT_DISABLED)
    finally:
        server.set_enabled(USER_B, True)
    # and enabling works again
    login(server, USER_B).logoff()


def names(conn, share, pattern):
    return sorted(f.get_longname() for f in conn.listPath(share, pattern)
                  if f.get_longname() not in ('.', '..'))


@pytest.mark.parametrize('dialect', DIALECTS.values(), ids=DIALECTS.keys())
def test_file_operations(server, share_dir, dialect):
    conn = login(server, dialect=dialect)
    s, base = server.share, '\\' + share_dir.name
    payload = os.urandom(3 * 1024 * 1024 + 17)   # several READ/WRITEs

    conn.createDirectory(s, base + '\\dir')
    assert os.path.isdir(os.path.join(share_dir.path, 'dir'))
    with pytest.raises(SessionError) as e:
        conn.createDirectory(s, base + '\\dir')
    expect_status(e, nt_errors.STATUS_OBJECT_NAME_COLLISION)

    conn.putFile(s, base + '\\dir\\f.bin', io.BytesIO(payload).read)
    with open(os.path.join(share_dir.path, 'dir', 'f.bin'), 'rb') as f:
        assert f.read() == payload
    assert names(conn, s, base + '\\dir\\*') == ['f.bin']
    entry = conn.listPath(s, base + '\\dir\\f.bin')[0]
    assert entry.get_filesize() == len(payload)
    assert not entry.is_directory()

    got = io.BytesIO()
    conn.getFile(s, base + '\\dir\\f.bin', got.write)
    assert got.getvalue() == payload

    conn.rename(s, base + '\\dir\\f.bin', base + '\\dir\\g.bin')
    assert names(conn, s, base + '\\dir\\*') == ['g.bin']
    with pytest.raises(SessionError) as e:
        conn.getFile(s, base + '\\dir\\f.bin', io.BytesIO().write)
    expect_status(e, nt_errors.STATUS_OBJECT_NAME_NOT_FOUND)

    with pytest.raises(SessionError) as e:
        conn.deleteDirectory(s, base + '\\dir')
    expect_status(e, nt_errors.STATUS_DIRECTORY_NOT_EMPTY)

    conn.deleteFile(s, base + '\\dir\\g.bin')
    assert names(conn, s, base + '\\dir\\*') == []
    conn.deleteDirectory(s, base + '\\dir')
    assert not os.path.exists(os.path.join(share_dir.path, 'dir'))
    conn.logoff()


def test_tree_connect_to_missing_share(server):
    conn = login(server)
    with pytest.raises(SessionError) as e:
        conn.connectTree('nosuchshare')
    expect_status(e, nt_errors.STATUS_BAD_NETWORK_NAME)
