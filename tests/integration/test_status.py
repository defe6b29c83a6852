"""The status CLI (tools/smbstatus) shows what every smbd process does.

Three clients on three connections (three smbd processes) with different
users and dialects each hold a file open; `smbstatus --json` must list
exactly their sessions, tree connects and open files, each under the pid
of the process that serves it.  After kill -9 of one of those processes,
its records disappear and another client can open its file."""

import json
import os
import signal
import subprocess
import time

import pytest
from impacket.smb3structs import (FILE_READ_DATA, FILE_SHARE_READ,
                                  FILE_WRITE_DATA, SMB2_DIALECT_21,
                                  SMB2_DIALECT_30, SMB2_DIALECT_002)
from impacket.smbconnection import SMBConnection

import smbtarget
from smbtarget import USER_A, USER_B

pytestmark = pytest.mark.ours_only

DIALECTS = {SMB2_DIALECT_21: 'SMB2_10', SMB2_DIALECT_30: 'SMB3_00',
            SMB2_DIALECT_002: "SMB2_02"}


def smbstatus(t, *args):
    exe = os.path.join(t.build, 'tools', 'smbstatus')
    r = subprocess.run([exe, '-s', t.conf] + list(args),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def status_json(t):
    return json.loads(smbstatus(t, '--json'))


class Client:
    def __init__(self, t, user, dialect, name):
        self.conn = SMBConnection(t.host, t.host, sess_port=t.port,
                                  timeout=20, preferredDialect=dialect)
        self.conn.login(user, t.password(user))
        self.tid = self.conn.connectTree(t.share)
        self.name = name
        self.fid = self.conn.createFile(
            self.tid, name, desiredAccess=FILE_READ_DATA | FILE_WRITE_DATA,
            shareMode=FILE_SHARE_READ, creationDisposition=5)  # OVERWRITE_IF

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


def wait_for(pred, seconds=10):
    deadline = time.time() + seconds
    while True:
        v = pred()
        if v or time.time() > deadline:
            return v
        time.sleep(0.2)


@pytest.fixture
def three_clients(server):
    clients = [Client(server, USER_A, SMB2_DIALECT_21, 'status_a.txt'),
               Client(server, USER_B, SMB2_DIALECT_30, 'status_b.txt'),
               Client(server, USER_A, SMB2_DIALECT_002, 'status_c.txt')]
    yield clients
    for c in clients:
        c.close()


def test_three_clients_shown(server, three_clients):
    kids = set(smbtarget.connection_pids(server.pid()))
    st = status_json(server)

    ours = [s for s in st['sessions'] if s['owner']['pid'] in kids]
    assert len(ours) == 3, st['sessions']
    assert len({s['owner']['pid'] for s in ours}) == 3
    assert sorted(s['account'] for s in ours) == sorted(
        [USER_A, USER_B, USER_A])
    assert sorted(s['dialect'] for s in ours) == sorted(DIALECTS.values())
    for s in ours:
        assert s['remote_address'].startswith('127.0.0.1:')
        assert s['state'] == 'valid'
        # the shared server runs with server signing = mandatory
        assert s['signing'] != '-'
        assert s['signing_required'] is True

    by_pid = {s['owner']['pid']: s for s in ours}
    tcons = [t for t in st['tcons'] if t['pid'] in by_pid]
    assert len(tcons) == 3
    for t in tcons:
        assert t['share'].lower() == server.share.lower()
        assert t['session_id'] == by_pid[t['pid']]['session_id']

    opens = {o['path']: o for o in st['open_files'] if o['pid'] in by_pid}
    for c in three_clients:
        assert c.name in opens, opens.keys()
        o = opens[c.name]
        assert o['share_access'] == 'R--'
        assert int(o['access_mask'], 16) & 0x3 == 0x3  # read + write data
    pids = {opens[c.name]['pid'] for c in three_clients}
    assert pids == set(by_pid)

    # the share-mode database agrees: one entry per open, same process
    modes = {m['path']: m for m in st['share_modes'] if m['pid'] in by_pid}
    for c in three_clients:
        assert c.name in modes, st['share_modes']
        m = modes[c.name]
        assert m['share_access'] == 'R--'
        assert m['pid'] == opens[c.name]['pid']
        assert m['persistent_id'] == opens[c.name]['persistent_id']
        assert m['delete_pending'] is False
    assert 'leases' in st and 'byte_range_locks' in st

    # the human form names every client too
    text = smbstatus(server)
    for c in three_clients:
        assert c.name in text
    assert USER_B in text


def test_killed_process_disappears(server, three_clients):
    victim = three_clients[2]   # USER_A's: reopened as USER_A below
    st = status_json(server)
    mine = [o for o in st['open_files'] if o['path'] == victim.name]
    assert len(mine) == 1
    pid = mine[0]['pid']
    assert pid in smbtarget.connection_pids(server.pid())
    os.kill(pid, signal.SIGKILL)

    def gone():
        s = status_json(server)
        return (all(x['pid'] != pid for x in s['open_files']) and
                all(x['owner']['pid'] != pid for x in s['sessions']) and
                all(x['pid'] != pid for x in s['tcons']))
    assert wait_for(gone), status_json(server)
    # the others are still listed
    st = status_json(server)
    names = {o['path'] for o in st['open_files']}
    assert three_clients[0].name in names and three_clients[1].name in names

    # and another client can now open the file the dead one held
    c = SMBConnection(server.host, server.host, sess_port=server.port,
                      timeout=20)
    c.login(USER_A, server.password(USER_A))
    tid = c.connectTree(server.share)
    fid = c.createFile(tid, victim.name,
                       desiredAccess=FILE_READ_DATA | FILE_WRITE_DATA,
                       shareMode=0, creationDisposition=1)  # OPEN
    c.closeFile(tid, fid)
    c.close()
    assert server.pid() is not None


def test_no_server_state(tmp_path):
    conf = tmp_path / 'smb.conf'
    conf.write_text('[global]\n\tlock directory = %s/lock\n' % tmp_path)
    exe = os.path.join(os.path.abspath(smbtarget.build_dir()), 'tools',
                       'smbstatus')
    r = subprocess.run([exe, '-s', str(conf)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2
    assert 'no server state' in r.stderr


def test_clean_disconnect_leaves_no_records(server):
    c = Client(server, USER_B, SMB2_DIALECT_30, 'status_d.txt')
    st = status_json(server)
    pids = {o['pid'] for o in st['open_files'] if o['path'] == c.name}
    assert len(pids) == 1
    c.close()

    def none_left():
        out = json.loads(smbstatus(server, '--json', '--all'))
        return not any(
            x['pid'] in pids for x in out['open_files'] + out['tcons']) \
            and not any(x['owner']['pid'] in pids for x in out['sessions'])
    assert wait_for(none_left), smbstatus(server, '--all')
