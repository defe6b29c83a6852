"""PreviousSessionId across smbd processes ([MS-SMB2] 3.3.5.5.3;
docs/architecture.md, Sessions).

Client A holds a session (its own connection, so its own smbd process)
with an exclusive open and a waiting CHANGE_NOTIFY.  Client B connects
anew (another process) and authenticates naming A's session as its
PreviousSessionId.  For the same user, A's session must be gone by the
time B's SESSION_SETUP is answered: A's notify is answered
NOTIFY_CLEANUP, A's requests get USER_SESSION_DELETED, and B can open
the file A held exclusively.  For another user A's session stays.  Raw
SMB2 (smb2raw.py); every wait is bounded."""

import struct
import time

import pytest

import smb2raw as R
from smbtarget import USER_A, USER_B
from test_notify import (STATUS_NOTIFY_CLEANUP, WATCH_TREE,
                         CHANGE_FILE_NAME, open_dir, recv_notify,
                         send_notify, wait_interim)

FILE_NON_DIRECTORY_FILE = 0x40


def connect(server, user, prev_session=0):
    c = R.Raw(server.host, server.port, timeout=10.0)
    c.negotiate()
    c.session_setup(user, server.password(user), prev_session=prev_session)
    c.tree_connect('\\\\%s\\share' % server.host)
    return c


def open_exclusive(c, name):
    """CREATE name (open or create) with no sharing: the status."""
    r = c.request(R.CREATE, R.create_body(
        name, desired_access=0x0012019F, disposition=3,
        options=FILE_NON_DIRECTORY_FILE, share_access=0, attributes=0x80))
    return R.parse_header(r)['status']


def holder(server, name):
    """A: the exclusive open of name and a waiting notify on the root."""
    a = connect(server, USER_A)
    assert open_exclusive(a, name) == 0
    d = open_dir(a, '')
    mid = send_notify(a, d, CHANGE_FILE_NAME, flags=WATCH_TREE)
    wait_interim(a, mid)
    return a, mid


def test_previous_session_of_same_user_is_closed(server):
    name = 'prev-session-%d.dat' % int(time.time() * 1000)
    a, mid = holder(server, name)
    try:
        # a second process, same user, names A's session
        b = connect(server, USER_A, prev_session=a.session_id)
        try:
            # the reply came after A's session ended: its open is gone
            assert open_exclusive(b, name) == 0
            status, changes = recv_notify(a, mid)
            assert status == STATUS_NOTIFY_CLEANUP, R.status_name(status)
            assert changes == []
            r = a.request(R.CREATE, R.create_body(name))
            assert R.parse_header(r)['status'] == \
                R.STATUS_USER_SESSION_DELETED
        finally:
            b.close()
    finally:
        a.close()


def test_previous_session_of_other_user_stays(server):
    name = 'prev-session-other-%d.dat' % int(time.time() * 1000)
    a, mid = holder(server, name)
    try:
        b = connect(server, USER_B, prev_session=a.session_id)
        try:
            # A's session still works: its notify still waits
            with pytest.raises(TimeoutError):
                a.recv_frame(timeout=1.0)
            d = open_dir(a, '')
            assert len(d) == 16
        finally:
            b.close()
    finally:
        a.close()
