"""Unix identities and the share boundary: each SMB user acts as its own
unix user, and nothing leads out of the share (symlinks, "..")."""

import io
import os
import pwd
import shutil

import pytest
from impacket import nt_errors
from impacket.smbconnection import SMBConnection, SessionError

from smbtarget import USER_A, USER_B

SECRET = b'outside the share: must never be served\n'


def login(t, user):
    c = SMBConnection(t.host, t.host, sess_port=t.port, timeout=20)
    c.login(user, t.password(user))
    return c


def read(conn, t, path):
    buf = io.BytesIO()
    conn.getFile(t.share, path, buf.write)
    return buf.getvalue()


def test_files_are_created_as_the_session_user(server, share_dir):
    for user in (USER_A, USER_B):
        c = login(server, user)
        c.putFile(server.share, '\\%s\\by_%s.txt' % (share_dir.name, user),
                  io.BytesIO(b'x').read)
        st = os.stat(os.path.join(share_dir.path, 'by_%s.txt' % user))
        assert st.st_uid == pwd.getpwnam(server.unix_users[user]).pw_uid, \
            'file of %s owned by uid %d' % (user, st.st_uid)
        c.close()


def test_private_file_of_a_is_denied_to_b(server, share_dir):
    a = login(server, USER_A)
    path = '\\%s\\private.txt' % share_dir.name
    a.putFile(server.share, path, io.BytesIO(b'secret of A').read)
    os.chmod(os.path.join(share_dir.path, 'private.txt'), 0o600)
    assert read(a, server, path) == b'secret of A'   # A still can

    b = login(server, USER_B)
    with pytest.raises(SessionError) as e:
        read(b, server, path)
    assert e.value.getErrorCode() == nt_errors.STATUS_ACCESS_DENIED
    with pytest.raises(SessionError) as e:
        b.putFile(server.share, path, io.BytesIO(b'overwritten').read)
    assert e.value.getErrorCode() == nt_errors.STATUS_ACCESS_DENIED
    with open(os.path.join(share_dir.path, 'private.txt'), 'rb') as f:
        assert f.read() == b'secret of A'
    a.close()
    b.close()


@pytest.fixture
def outside(server):
    """A directory beside the share (not inside it) with a readable
    secret."""
    path = os.path.join(server.root, 'outside_%s' % os.urandom(3).hex())
    os.mkdir(path)
    os.chmod(path, 0o755)
    with open(os.path.join(path, 'secret.txt'), 'wb') as f:
        f.write(SECRET)
    os.chmod(os.path.join(path, 'secret.txt'), 0o644)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_file_symlink_out_of_share_is_not_followed(server, share_dir,
                                                   outside):
    os.symlink(os.path.join(outside, 'secret.txt'),
               os.path.join(share_dir.path, 'link_file'))
    os.symlink('/etc/passwd', os.path.join(share_dir.path, 'link_passwd'))
    c = login(server, USER_A)
    for name in ('link_file', 'link_passwd'):
        with pytest.raises(SessionError):
            data = read(c, server, '\\%s\\%s' % (share_dir.name, name))
            # only reached if the server served it
            assert SECRET not in data and b'root:' not in data
    c.close()


def test_directory_symlink_out_of_share_is_not_followed(server, share_dir,
                                                        outside):
    os.symlink(outside, os.path.join(share_dir.path, 'link_dir'))
    c = login(server, USER_A)
    base = '\\%s\\link_dir' % share_dir.name
    try:
        listed = [f.get_longname() for f in
                  c.listPath(server.share, base + '\\*')]
    except SessionError:
        listed = []
    assert 'secret.txt' not in listed, 'listed a directory outside the share'
    with pytest.raises(SessionError):
        read(c, server, base + '\\secret.txt')
    # writing through the link must not land outside either
    with pytest.raises(SessionError):
        c.putFile(server.share, base + '\\planted.txt',
                  io.BytesIO(b'x').read)
    assert not os.path.exists(os.path.join(outside, 'planted.txt'))
    c.close()


@pytest.mark.parametrize('path', [
    '\\..\\%(out)s\\secret.txt',
    '\\%(dir)s\\..\\..\\%(out)s\\secret.txt',
    '..\\%(out)s\\secret.txt',
])
def test_dotdot_does_not_leave_the_share(server, share_dir, outside, path):
    c = login(server, USER_A)
    p = path % {'out': os.path.basename(outside), 'dir': share_dir.name}
    with pytest.raises(SessionError):
        data = read(c, server, p)
        assert SECRET not in data
    c.close()
