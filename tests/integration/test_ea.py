"""Extended attributes over SMB2 with impacket's raw QUERY_INFO/SET_INFO
([MS-FSCC] 2.4.15 FileFullEaInformation, 2.4.12 FileEaInformation, EaSize
in FileFullDirectoryInformation).  Runs against ours and Samba; the parts
Samba does not implement (EA-list queries) are checked on ours only."""

import struct

import pytest
from impacket import nt_errors
from impacket.smb3 import SessionError as RawError
from impacket.smbconnection import SMBConnection, SessionError

from smbtarget import USER_A

INFO_FILE = 1
FILE_EA_INFORMATION = 7
FILE_FULL_EA_INFORMATION = 15
FILE_FULL_DIRECTORY_INFORMATION = 2
SL_RESTART_SCAN = 1
STATUS_INVALID_EA_NAME = 0x80000013
GENERIC_ALL = 0x10000000
FILE_OPEN_IF = 3


def full_ea_list(entries):
    """FILE_FULL_EA_INFORMATION chain, entries 4-aligned."""
    out = b''
    for i, (flags, name, value) in enumerate(entries):
        e = struct.pack('<IBBH', 0, flags, len(name), len(value)) + \
            name + b'\0' + value
        if i + 1 < len(entries):
            e += b'\0' * (-len(e) % 4)
            e = struct.pack('<I', len(e)) + e[4:]
        out += e
    return out


def get_ea_list(names):
    """FILE_GET_EA_INFORMATION chain."""
    out = b''
    for i, name in enumerate(names):
        e = struct.pack('<IB', 0, len(name)) + name + b'\0'
        if i + 1 < len(names):
            e += b'\0' * (-len(e) % 4)
            e = struct.pack('<I', len(e)) + e[4:]
        out += e
    return out


def status_of(excinfo):
    """The status of either impacket error class (SMBConnection calls and
    raw SMB3 calls raise different ones)."""
    e = excinfo.value
    return e.getErrorCode() if hasattr(e, 'getErrorCode') else \
        e.get_error_code()


def parse_full_ea(data):
    eas, ofs = [], 0
    while True:
        nxt, flags, nlen, vlen = struct.unpack_from('<IBBH', data, ofs)
        name = data[ofs + 8:ofs + 8 + nlen]
        value = data[ofs + 9 + nlen:ofs + 9 + nlen + vlen]
        eas.append((flags, name, value))
        if nxt == 0:
            return eas
        ofs += nxt


@pytest.fixture
def opened(server, share_dir):
    conn = SMBConnection(server.host, server.host, sess_port=server.port,
                         timeout=20)
    conn.login(USER_A, server.password(USER_A))
    tid = conn.connectTree(server.share)
    path = '%s\\eafile.txt' % share_dir.name
    fid = conn.createFile(tid, path, desiredAccess=GENERIC_ALL,
                          creationDisposition=FILE_OPEN_IF)
    yield conn, conn.getSMBServer(), tid, fid, share_dir
    conn.closeFile(tid, fid)
    conn.logoff()


def query_all(smb, tid, fid):
    return parse_full_ea(smb.queryInfo(tid, fid, b'', INFO_FILE,
                                       FILE_FULL_EA_INFORMATION, 0,
                                       SL_RESTART_SCAN))


def by_name(eas):
    return {n.upper(): (f, v) for f, n, v in eas}


def test_set_query_delete(opened, kind):
    conn, smb, tid, fid, d = opened
    with pytest.raises((SessionError, RawError)) as e:
        query_all(smb, tid, fid)
    assert status_of(e) == nt_errors.STATUS_NO_EAS_ON_FILE
    blob = full_ea_list([(0, b'EaOne', b'VALUE1'),
                         (0x80, b'second', b'ValueTwo')])
    smb.setInfo(tid, fid, blob, INFO_FILE, FILE_FULL_EA_INFORMATION)
    eas = by_name(query_all(smb, tid, fid))
    if kind == 'samba':
        # Samba keeps the value only, not the FILE_NEED_EA flag
        eas = {n: (f | (0x80 if n == b'SECOND' else 0), v)
               for n, (f, v) in eas.items()}
    assert eas == {b'EAONE': (0, b'VALUE1'), b'SECOND': (0x80, b'ValueTwo')}
    # EaSize: what the whole list takes in FileFullEaInformation
    ea_info = smb.queryInfo(tid, fid, b'', INFO_FILE, FILE_EA_INFORMATION)
    full = smb.queryInfo(tid, fid, b'', INFO_FILE, FILE_FULL_EA_INFORMATION,
                         0, SL_RESTART_SCAN)
    assert struct.unpack('<I', ea_info[:4])[0] == len(full)
    # the same EaSize in a directory listing
    dfid = conn.createFile(tid, d.name, desiredAccess=GENERIC_ALL,
                           creationOption=1, creationDisposition=1)
    listing = smb.queryDirectory(
        tid, dfid, 'EAFILE.TXT',
        informationClass=FILE_FULL_DIRECTORY_INFORMATION)
    conn.closeFile(tid, dfid)
    assert struct.unpack_from('<I', listing, 64)[0] == len(full)
    # a zero-length value deletes, names match in any case
    smb.setInfo(tid, fid, full_ea_list([(0, b'eaONE', b'')]), INFO_FILE,
                FILE_FULL_EA_INFORMATION)
    assert [(n, v) for f, n, v in query_all(smb, tid, fid)] == [
        (b'SECOND', b'ValueTwo')] or kind == 'samba'
    assert {n.upper(): v for f, n, v in query_all(smb, tid, fid)} == {
        b'SECOND': b'ValueTwo'}


def test_invalid_name(opened):
    conn, smb, tid, fid, d = opened
    for bad in (b'a:b', b'a*', b'x\\y'):
        with pytest.raises((SessionError, RawError)) as e:
            smb.setInfo(tid, fid, full_ea_list([(0, bad, b'v')]), INFO_FILE,
                        FILE_FULL_EA_INFORMATION)
        assert status_of(e) == STATUS_INVALID_EA_NAME


@pytest.mark.ours_only
def test_query_by_list(opened):
    conn, smb, tid, fid, d = opened
    smb.setInfo(tid, fid, full_ea_list([(0, b'ONE', b'1'), (0, b'TWO', b'2')]),
                INFO_FILE, FILE_FULL_EA_INFORMATION)
    data = smb.queryInfo(tid, fid, get_ea_list([b'two', b'missing']),
                         INFO_FILE, FILE_FULL_EA_INFORMATION, 0,
                         SL_RESTART_SCAN)
    # the asked-for EAs in the asked order; a missing one has no value
    assert parse_full_ea(data) == [(0, b'TWO', b'2'), (0, b'MISSING', b'')]
    # an invalid offset in the list: the request is refused
    bad = struct.pack('<IB', 3, 1) + b'A\0' + struct.pack('<IB', 0, 1) + \
        b'B\0'
    with pytest.raises((SessionError, RawError)) as e:
        smb.queryInfo(tid, fid, bad, INFO_FILE, FILE_FULL_EA_INFORMATION, 0,
                      SL_RESTART_SCAN)
    assert status_of(e) == nt_errors.STATUS_INVALID_PARAMETER
