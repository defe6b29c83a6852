#!/usr/bin/python3
"""One side of tests/cluster/test_cluster_contention.sh (run in the client
namespace): fights over one file through one node, as fast as it can,
while the same runs through another node.

    cluster_contention.py --user U --password P [--share S] [--port N]
                          --mode exclusive|shared|lock
                          --start-at EPOCH --seconds S --out FILE IP NAME

Each round, by mode:
  exclusive  CREATE of NAME for writing sharing nothing (FILE_OPEN_IF);
             granted -> a moment held, CLOSE; SHARING_VIOLATION ->
             refused, again
  shared     CREATE sharing everything, CLOSE: never refused, both
             sides add and remove share-mode entries of one record
  lock       (NAME opened once, sharing everything) an exclusive
             fail-immediately byte-range lock of bytes 0-9; granted -> a
             moment held, UNLOCK; LOCK_NOT_GRANTED -> refused, again
Writes JSON to FILE: {"granted": n, "refused": n, "errors": [...],
"holds": [[t_granted, t_release_sent], ...]}.  A hold is the time between
receiving the grant and sending the CLOSE/UNLOCK: inside the time the
server holds it, so exclusive holds of the two sides (one clock: one
machine) must never overlap if share modes and locks are cluster-wide.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'integration'))

import smb2raw  # noqa: E402
import smb2ops  # noqa: E402
from smb2ops import (EXCLUSIVE, FAIL_IMMEDIATELY, FILE_OPEN_IF,  # noqa: E402
                     GENERIC_WRITE_ACCESS, OPLOCK_NONE,
                     STATUS_LOCK_NOT_GRANTED, STATUS_SHARING_VIOLATION,
                     UNLOCK, close, lock_body, open_file, status)
from smb2raw import LOCK  # noqa: E402


def one_open(c, name, res, share):
    st, _, fid, _ = open_file(c, name, OPLOCK_NONE, share_access=share,
                              disposition=FILE_OPEN_IF,
                              desired_access=GENERIC_WRITE_ACCESS)
    if st == STATUS_SHARING_VIOLATION and share == 0:
        res['refused'] += 1
        return
    if st != 0:
        res['errors'].append('CREATE: %s' % smb2raw.status_name(st))
        return
    t_granted = time.time()
    if share == 0:
        time.sleep(0.002)
    t_release = time.time()
    st = close(c, fid)
    res['holds'].append([t_granted, t_release])
    res['granted'] += 1
    if st != 0:
        res['errors'].append('CLOSE: %s' % smb2raw.status_name(st))


def one_lock(c, fid, res):
    st = status(c.request(LOCK, lock_body(
        fid, [(0, 10, EXCLUSIVE | FAIL_IMMEDIATELY)])))
    if st == STATUS_LOCK_NOT_GRANTED:
        res['refused'] += 1
        return
    if st != 0:
        res['errors'].append('LOCK: %s' % smb2raw.status_name(st))
        return
    t_granted = time.time()
    time.sleep(0.002)
    t_release = time.time()
    st = status(c.request(LOCK, lock_body(fid, [(0, 10, UNLOCK)])))
    res['holds'].append([t_granted, t_release])
    res['granted'] += 1
    if st != 0:
        res['errors'].append('UNLOCK: %s' % smb2raw.status_name(st))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--user', required=True)
    ap.add_argument('--password', required=True)
    ap.add_argument('--share', default='share')
    ap.add_argument('--port', type=int, default=445)
    ap.add_argument('--mode', choices=['exclusive', 'shared', 'lock'],
                    default='exclusive')
    ap.add_argument('--start-at', type=float, required=True)
    ap.add_argument('--seconds', type=float, required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('ip')
    ap.add_argument('name')
    a = ap.parse_args()

    res = {'granted': 0, 'refused': 0, 'errors': [], 'holds': []}
    c = smb2ops.connect(a.ip, a.port, a.user, a.password, a.share,
                        os.urandom(16))
    try:
        fid = None
        if a.mode == 'lock':
            st, _, fid, _ = open_file(c, a.name, OPLOCK_NONE, share_access=7,
                                      disposition=FILE_OPEN_IF,
                                      desired_access=GENERIC_WRITE_ACCESS)
            if st != 0:
                res['errors'].append('CREATE: %s' %
                                     smb2raw.status_name(st))
        while time.time() < a.start_at:
            time.sleep(0.001)
        end = time.time() + a.seconds
        while time.time() < end and len(res['errors']) < 10:
            if a.mode == 'lock':
                one_lock(c, fid, res)
            else:
                one_open(c, a.name, res, 7 if a.mode == 'shared' else 0)
        if fid is not None:
            close(c, fid)
    finally:
        c.close()
    with open(a.out, 'w') as f:
        json.dump(res, f)


if __name__ == '__main__':
    main()
