"""smbcontrol and the messaging between smbd processes.

Two impacket clients make two smbd children.  smbcontrol pings one child
and the parent (each answers with PONG from its own socket in
<lock directory>/msg.sock), shuts the other child down (its client loses
the connection, the first keeps working, the child's socket is gone),
fails cleanly for a pid that does not exist, and finally shuts the whole
server down through the parent."""

import os
import signal
import subprocess
import time

import pytest
from impacket.smbconnection import SMBConnection

from smbtarget import USER_A

pytestmark = pytest.mark.ours_only


@pytest.fixture(scope='module')
def srv(server_factory):
    t = server_factory()
    yield t
    server_factory.stop(t)
    server_factory.started.remove(t)


def smbcontrol(t, *args, timeout=30):
    exe = os.path.join(t.build, 'tools', 'smbcontrol')
    return subprocess.run([exe, '-s', t.conf, '-t', '10'] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def children_of(ppid):
    kids = set()
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                stat = f.read()
        except OSError:
            continue
        # the field after the parenthesised command name is the state,
        # then the parent pid
        fields = stat[stat.rindex(')') + 2:].split()
        if int(fields[1]) == ppid and fields[0] != 'Z':
            kids.add(int(d))
    return kids


def connect(t):
    c = SMBConnection(t.host, t.host, sess_port=t.port, timeout=20)
    c.login(USER_A, t.password(USER_A))
    c.connectTree(t.share)
    return c


def new_child(t, before):
    deadline = time.time() + 10
    while time.time() < deadline:
        extra = children_of(t.pid()) - before
        if len(extra) == 1:
            return extra.pop()
        time.sleep(0.1)
    raise AssertionError('no new smbd child appeared')


def wait_gone(pid, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not os.path.exists('/proc/%d' % pid):
            return True
        try:
            with open('/proc/%d/stat' % pid) as f:
                if f.read().split(') ')[1].startswith('Z'):
                    return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


def test_ping_and_shutdown(srv):
    parent = srv.pid()
    sockdir = os.path.join(srv.root, 'lock', 'msg.sock')
    assert os.path.exists(os.path.join(sockdir, str(parent)))

    before = children_of(parent)
    c1 = connect(srv)
    child1 = new_child(srv, before)
    c2 = connect(srv)
    child2 = new_child(srv, before | {child1})
    assert os.path.exists(os.path.join(sockdir, str(child1)))
    assert os.path.exists(os.path.join(sockdir, str(child2)))

    r = smbcontrol(srv, str(child1), 'ping')
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'PONG from pid %d' % child1
    r = smbcontrol(srv, 'smbd', 'ping')
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'PONG from pid %d' % parent

    r = smbcontrol(srv, str(child2), 'shutdown')
    assert r.returncode == 0, r.stderr
    assert wait_gone(child2), 'child %d did not exit' % child2
    with pytest.raises(Exception):
        c2.listPath(srv.share, '\\*')
    # the child left cleanly: its socket is gone, the others' are there
    assert not os.path.exists(os.path.join(sockdir, str(child2)))
    assert os.path.exists(os.path.join(sockdir, str(child1)))
    # and the other client does not notice
    c1.listPath(srv.share, '\\*')
    r = smbcontrol(srv, str(child1), 'ping')
    assert r.returncode == 0 and str(child1) in r.stdout
    # smbcontrol's own socket is gone too
    assert sorted(os.listdir(sockdir)) == sorted(
        [str(parent), '%d.unique' % parent,
         str(child1), '%d.unique' % child1])

    # a pid nobody has
    r = smbcontrol(srv, str(child2), 'ping')
    assert r.returncode == 1
    assert 'OBJECT_NAME_NOT_FOUND' in r.stderr

    # a child killed outright cannot remove its socket: the parent does
    # once it has reaped the child
    c3 = connect(srv)
    child3 = new_child(srv, before | {child1})
    assert os.path.exists(os.path.join(sockdir, str(child3)))
    os.kill(child3, signal.SIGKILL)
    assert wait_gone(child3)
    deadline = time.time() + 10
    while (os.path.exists(os.path.join(sockdir, str(child3))) and
           time.time() < deadline):
        time.sleep(0.1)
    assert not os.path.exists(os.path.join(sockdir, str(child3)))
    assert not os.path.exists(os.path.join(sockdir, '%d.unique' % child3))
    c1.listPath(srv.share, '\\*')

    # the parent stops the whole server, children included
    r = smbcontrol(srv, 'smbd', 'shutdown')
    assert r.returncode == 0, r.stderr
    assert wait_gone(parent, 15), 'smbd did not stop'
    assert wait_gone(child1, 5)
    assert srv.pid() is None
    with pytest.raises(Exception):
        c1.listPath(srv.share, '\\*')
    for c in (c1, c2, c3):
        try:
            c.close()
        except Exception:
            pass


def test_usage_errors(srv):
    assert smbcontrol(srv, 'notapid', 'ping').returncode == 1
    assert smbcontrol(srv, '1', 'frobnicate').returncode == 2
    assert smbcontrol(srv, 'ping').returncode == 2
