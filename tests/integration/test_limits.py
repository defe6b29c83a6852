"""Resource limits answer politely.

`max connections = 2` (a share parameter): what Samba 4.17 does, checked
with the reference server, is to keep accepting TCP connections,
NEGOTIATE and SESSION_SETUP, and to fail the third concurrent TREE_CONNECT
to the share with STATUS_INSUFFICIENT_RESOURCES; once a connection goes
away, the next tree connect succeeds again."""

import time

import pytest
from impacket import nt_errors
from impacket.smbconnection import SMBConnection, SessionError

from conftest import run_smbclient
from smbtarget import USER_A


@pytest.fixture(scope='module')
def limited(server_factory):
    t = server_factory(extra_share=['max connections = 2'])
    yield t
    server_factory.stop(t)
    server_factory.started.remove(t)


def connect_tree(t):
    c = SMBConnection(t.host, t.host, sess_port=t.port, timeout=20)
    c.login(USER_A, t.password(USER_A))
    c.connectTree(t.share)
    return c


def test_third_tree_connect_is_refused(limited):
    first = [connect_tree(limited), connect_tree(limited)]
    c = SMBConnection(limited.host, limited.host, sess_port=limited.port,
                      timeout=20)
    c.login(USER_A, limited.password(USER_A))   # logon itself is fine
    with pytest.raises(SessionError) as e:
        c.connectTree(limited.share)
    assert e.value.getErrorCode() == nt_errors.STATUS_INSUFFICIENT_RESOURCES
    c.close()

    first.pop().close()
    deadline = time.time() + 10
    while True:     # the server notices the closed connection shortly
        try:
            again = connect_tree(limited)
            break
        except SessionError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    again.listPath(limited.share, '\\*')
    again.close()
    for f in first:
        f.close()
    assert limited.pid() is not None


@pytest.fixture(scope='module')
def one_process(server_factory):
    t = server_factory(extra_global=['max smbd processes = 1'])
    yield t
    server_factory.stop(t)
    server_factory.started.remove(t)


@pytest.mark.ours_only
def test_connection_over_process_limit_is_refused(one_process):
    """`max smbd processes = 1` (Samba's name): a second concurrent
    connection gets STATUS_INSUFFICIENT_RESOURCES to its NEGOTIATE, which
    smbclient reports, instead of a reset; the limit frees up again."""
    t = one_process
    # the start-up probe's connection may still be ending: wait for the
    # one slot to be free
    deadline = time.time() + 10
    while True:
        try:
            first = connect_tree(t)
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    r = run_smbclient(t, 'ls', timeout=30)
    assert r.returncode != 0
    assert 'NT_STATUS_INSUFFICIENT_RESOURCES' in r.stdout + r.stderr
    first.close()
    deadline = time.time() + 10
    while True:
        r = run_smbclient(t, 'ls', timeout=30)
        if r.returncode == 0 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert r.returncode == 0, r.stdout + r.stderr
    assert t.pid() is not None
