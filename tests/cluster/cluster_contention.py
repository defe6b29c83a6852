#!/usr/bin/python3
"""One side of tests/cluster/test_cluster_contention.sh (run in the client
namespace): opens and closes one file exclusively through one node, as
fast as it can, while the same runs through another node.

    cluster_contention.py --user U --password P [--share S] [--port N]
                          --start-at EPOCH --seconds S --out FILE IP NAME

Each round: CREATE of NAME for writing sharing nothing (FILE_OPEN_IF);
granted -> a moment held, CLOSE; SHARING_VIOLATION -> counted, again.
Writes JSON to FILE: {"granted": n, "refused": n, "errors": [...],
"holds": [[t_granted, t_close_sent], ...]}.  A hold is the time between
receiving the CREATE's success and sending the CLOSE: inside the time the
server holds the open, so holds of the two sides (one clock: one
machine) must never overlap if the share modes are cluster-wide.
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
from smb2ops import (FILE_OPEN_IF, GENERIC_WRITE_ACCESS,  # noqa: E402
                     OPLOCK_NONE, STATUS_SHARING_VIOLATION, close, open_file)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--user', required=True)
    ap.add_argument('--password', required=True)
    ap.add_argument('--share', default='share')
    ap.add_argument('--port', type=int, default=445)
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
        while time.time() < a.start_at:
            time.sleep(0.001)
        end = time.time() + a.seconds
        while time.time() < end and len(res['errors']) < 10:
            st, _, fid, _ = open_file(c, a.name, OPLOCK_NONE, share_access=0,
                                      disposition=FILE_OPEN_IF,
                                      desired_access=GENERIC_WRITE_ACCESS)
            if st == STATUS_SHARING_VIOLATION:
                res['refused'] += 1
                continue
            if st != 0:
                res['errors'].append('CREATE: %s' %
                                     smb2raw.status_name(st))
                continue
            t_granted = time.time()
            time.sleep(0.002)
            t_close = time.time()
            st = close(c, fid)
            res['holds'].append([t_granted, t_close])
            res['granted'] += 1
            if st != 0:
                res['errors'].append('CLOSE: %s' % smb2raw.status_name(st))
    finally:
        c.close()
    with open(a.out, 'w') as f:
        json.dump(res, f)


if __name__ == '__main__':
    main()
