"""Case-insensitive, case-preserving names ("case sensitive = auto", the
default of both servers), driven by smbclient and impacket: a file created
as "Foo.TXT" is opened as "foo.txt", listed as "Foo.TXT", and renamed by
names in any case; new names keep the client's spelling.  Runs against
ours and Samba (SMB3_TARGET=samba)."""

import io
import os

import pytest
from impacket import nt_errors
from impacket.smbconnection import SMBConnection, SessionError

from smbtarget import USER_A

CONTENT = b'case-insensitive\n'


def login(t):
    conn = SMBConnection(t.host, t.host, sess_port=t.port, timeout=20)
    conn.login(USER_A, t.password(USER_A))
    return conn


def listing(conn, t, pattern):
    return sorted(f.get_longname() for f in conn.listPath(t.share, pattern)
                  if f.get_longname() not in ('.', '..'))


def ok(res):
    assert res.returncode == 0, res.stdout + res.stderr
    assert 'NT_STATUS_' not in res.stdout, res.stdout


def test_smbclient_get_put_rename(server, smbclient, share_dir, tmp_path):
    src = tmp_path / 'src'
    src.write_bytes(CONTENT)
    got = tmp_path / 'got'
    d = share_dir.name
    ok(smbclient('mkdir %s\\SubDir; put %s %s\\SubDir\\Foo.TXT' %
                 (d, src, d)))
    # every component in another case
    ok(smbclient('get %s\\subdir\\foo.txt %s' % (d.upper(), got)))
    assert got.read_bytes() == CONTENT
    # the listing shows the name as created, once
    res = smbclient('ls %s\\SUBDIR\\*' % d)
    ok(res)
    assert 'Foo.TXT' in res.stdout
    assert 'foo.txt' not in res.stdout
    assert os.listdir(os.path.join(share_dir.path, 'SubDir')) == ['Foo.TXT']
    # a case-only rename of the file itself changes its case
    ok(smbclient('rename %s\\subdir\\FOO.txt %s\\SUBDIR\\fOO.tXt' % (d, d)))
    assert os.listdir(os.path.join(share_dir.path, 'SubDir')) == ['fOO.tXt']
    # a new name in an existing directory (spelled otherwise) keeps the
    # client's spelling and lands in that directory
    ok(smbclient('put %s %s\\SUBDIR\\New.Name' % (src, d)))
    assert sorted(os.listdir(os.path.join(share_dir.path, 'SubDir'))) == \
        ['New.Name', 'fOO.tXt']
    # rename into a directory spelled otherwise
    ok(smbclient('mkdir %s\\Other; rename %s\\subdir\\new.name '
                 '%s\\OTHER\\Moved.Name' % (d, d, d)))
    assert os.listdir(os.path.join(share_dir.path, 'Other')) == \
        ['Moved.Name']


def test_impacket_open_list_collide(server, share_dir):
    conn = login(server)
    d = share_dir.name
    conn.putFile(server.share, '%s\\Foo.TXT' % d, io.BytesIO(CONTENT).read)
    buf = io.BytesIO()
    conn.getFile(server.share, '%s\\FOO.txt' % d.upper(), buf.write)
    assert buf.getvalue() == CONTENT
    assert listing(conn, server, '%s\\*' % d) == ['Foo.TXT']
    # a pattern without wildcards in another case finds it too
    assert listing(conn, server, '%s\\foo.txt' % d) == ['Foo.TXT']
    # creating "foo.txt" exclusively collides with "Foo.TXT"
    tid = conn.connectTree(server.share)
    with pytest.raises(SessionError) as e:
        conn.createFile(tid, '%s\\foo.txt' % d, creationDisposition=2)
    assert e.value.getErrorCode() == nt_errors.STATUS_OBJECT_NAME_COLLISION
    # renaming another file onto a case variant (impacket sets
    # ReplaceIfExists) replaces that file: one file remains, never two
    # names differing only in case
    conn.putFile(server.share, '%s\\bar.txt' % d, io.BytesIO(b'x').read)
    conn.rename(server.share, '%s\\BAR.txt' % d, '%s\\FOO.TXT' % d)
    names = os.listdir(share_dir.path)
    assert len(names) == 1 and names[0].upper() == 'FOO.TXT', names
    buf = io.BytesIO()
    conn.getFile(server.share, '%s\\foo.txt' % d, buf.write)
    assert buf.getvalue() == b'x'
    # delete by another case
    conn.deleteFile(server.share, '%s\\fOo.TxT' % d)
    assert os.listdir(share_dir.path) == []
    conn.logoff()
