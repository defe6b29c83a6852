#!/usr/bin/python3
"""File semantics between smbd processes of different cluster nodes,
for tests/cluster/test_cluster_files.sh (run in the client namespace).

    cluster_files.py --user U --password P [--share S] CHECK ARGS

    sharemode IP_A IP_B   A opens a file sharing only READ: B's writer
                          gets SHARING_VIOLATION (a sharing reader does
                          not); after A's CLOSE, B's writer gets in
    lease IP_A IP_B       A holds an RWH lease; B's open breaks it: A gets
                          the break (RWH -> RH), B's CREATE answers an
                          interim STATUS_PENDING and no final answer
                          until A acknowledges, then completes
    lock IP_A IP_B        A's exclusive lock: B's overlapping
                          fail-immediately locks get LOCK_NOT_GRANTED,
                          B's write into it FILE_LOCK_CONFLICT; B's
                          blocking lock goes pending and is granted when
                          A unlocks
    hold READY RELEASE LIMIT TAG=IP...
                          per TAG a connection through IP: some traffic
                          (opens, writes, closes), then one file held open
                          with an RH lease and a byte-range lock; writes
                          {TAG: file name} as JSON to READY, keeps
                          everything until the file RELEASE exists (at
                          most LIMIT seconds), then disconnects

Every wait is bounded (connections time out after 10 s, each step has
its own bound).  Prints "ok: ..." lines with timings; on a failed check
"FAIL: ..." and exit 1.  A and B may be the same address (two smbd
processes of one node): the checks must hold there too.
"""

import argparse
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'integration'))

import smb2raw  # noqa: E402
from smb2ops import (ACK_REQUIRED, EXCLUSIVE, FAIL_IMMEDIATELY,  # noqa: E402
                     FILE_OPEN, FILE_OPEN_IF, FILE_OVERWRITE_IF,
                     GENERIC_READ_ACCESS, GENERIC_WRITE_ACCESS, LEASE_H,
                     LEASE_R, LEASE_W, OPLOCK_LEASE, OPLOCK_NONE, SHARE_READ,
                     SHARED, STATUS_FILE_LOCK_CONFLICT,
                     STATUS_LOCK_NOT_GRANTED, STATUS_SHARING_VIOLATION,
                     UNLOCK, close, create_msg, create_reply, expect_break,
                     is_interim, lease_ack, lease_context, lock_body,
                     no_answer, open_file, recv_any, recv_final,
                     recv_interim, send, status)
import smb2ops  # noqa: E402
from smb2raw import LOCK, WRITE, nbt, parse_header, write_body  # noqa: E402

RWH = LEASE_R | LEASE_W | LEASE_H
RH = LEASE_R | LEASE_H


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)


def sname(st):
    return smb2raw.status_name(st)


def ms(t0, t1=None):
    return '%.0f ms' % (((t1 if t1 is not None else time.time()) - t0) *
                        1000)


def unique(prefix):
    return '%s_%s.dat' % (prefix, os.urandom(4).hex())


class Clients:
    """The connections of one check, closed at the end whatever happens."""

    def __init__(self, args):
        self.args = args
        self.conns = []

    def connect(self, ip, client_guid=None):
        c = smb2ops.connect(ip, self.args.port, self.args.user,
                            self.args.password, self.args.share,
                            client_guid or os.urandom(16))
        self.conns.append(c)
        return c

    def __enter__(self):
        return self

    def __exit__(self, *a):
        for c in self.conns:
            c.close()


def check_sharemode(args, ip_a, ip_b):
    with Clients(args) as cl:
        a, b = cl.connect(ip_a), cl.connect(ip_b)
        name = unique('cf_sharemode')
        st, _, fa, _ = open_file(a, name, OPLOCK_NONE,
                                 share_access=SHARE_READ,
                                 disposition=FILE_OVERWRITE_IF)
        check(st == 0, 'A (%s) cannot create %s: %s' % (ip_a, name,
                                                       sname(st)))
        t0 = time.time()
        st, _, fb, _ = open_file(b, name, OPLOCK_NONE, share_access=7,
                                 disposition=FILE_OPEN,
                                 desired_access=GENERIC_WRITE_ACCESS)
        check(st == STATUS_SHARING_VIOLATION,
              'B (%s) opened for writing a file A (%s) holds sharing READ '
              'only: %s, not SHARING_VIOLATION' % (ip_b, ip_a, sname(st)))
        t_refused = ms(t0)
        # a reader that shares everything is compatible with A's open
        st, _, fr, _ = open_file(b, name, OPLOCK_NONE, share_access=7,
                                 disposition=FILE_OPEN,
                                 desired_access=GENERIC_READ_ACCESS)
        check(st == 0, 'B (%s) cannot open the file for reading: %s' %
              (ip_b, sname(st)))
        close(b, fr)
        print('ok: sharemode: A through %s shares READ only; B through %s: '
              'writer refused with SHARING_VIOLATION (answer in %s), '
              'a sharing reader admitted' % (ip_a, ip_b, t_refused))

        st = close(a, fa)
        check(st == 0, 'A cannot close: %s' % sname(st))
        t_close = time.time()
        # A's CLOSE is answered once its share-mode entry is gone on A's
        # node; another node applies the change when the ordered stream
        # delivers it there (milliseconds later): a refused retry is
        # counted and shown, a bound of 5 s fails the check
        tries = 0
        while True:
            tries += 1
            st, _, fb, _ = open_file(b, name, OPLOCK_NONE, share_access=7,
                                     disposition=FILE_OPEN,
                                     desired_access=GENERIC_WRITE_ACCESS)
            if st != STATUS_SHARING_VIOLATION or \
                    time.time() - t_close > 5:
                break
            time.sleep(0.02)
        check(st == 0, 'B (%s) still cannot open for writing %s after A '
              'closed (%d tries): %s' % (ip_b, ms(t_close), tries,
                                         sname(st)))
        print('ok: sharemode: after A closed, B opened for writing %s after '
              'the close (attempt %d)' % (ms(t_close), tries))
        close(b, fb)


def check_lease(args, ip_a, ip_b):
    with Clients(args) as cl:
        a, b = cl.connect(ip_a), cl.connect(ip_b)
        name = unique('cf_lease')
        key = os.urandom(16)
        st, level, fa, state = open_file(a, name, OPLOCK_LEASE,
                                         lease_context(key, RWH))
        check(st == 0 and level == OPLOCK_LEASE and state == RWH,
              'A (%s) did not get an RWH lease: %s level %r state %r' %
              (ip_a, sname(st), level, state))

        mid, msg = create_msg(b, name, OPLOCK_NONE)
        t0 = time.time()
        b.send_raw(nbt(msg))
        try:
            brk = expect_break(a, timeout=10)
        except TimeoutError:
            raise CheckFailed('A (%s) got no lease break within 10 s of '
                              'B\'s (%s) open' % (ip_a, ip_b))
        t_break = time.time()
        size, _, flags, bkey, cur, new = struct.unpack('<HHI16sII',
                                                       brk[:32])
        check(size == 44 and bkey == key and flags & ACK_REQUIRED and
              (cur, new) == (RWH, RH),
              'bad lease break: size %d key ok %s flags %d %d -> %d' %
              (size, bkey == key, flags, cur, new))

        # B waits: an interim STATUS_PENDING (smbd sends it 500 ms after
        # the request arrived), no final answer while A sits on the break;
        # watched for 1.5 s, longer (at most 6 s) until the interim came
        interim_at = None
        until = time.time() + 1.5
        limit = time.time() + 6
        while True:
            now = time.time()
            if now >= limit or (now >= until and interim_at is not None):
                break
            m = recv_any(b, (until if interim_at is not None else limit) -
                         now)
            if m is None:
                continue
            if is_interim(m, mid):
                interim_at = time.time()
                continue
            raise CheckFailed('B\'s CREATE answered %s before A '
                              'acknowledged the break' %
                              sname(parse_header(m)['status']))
        check(interim_at is not None,
              'no interim STATUS_PENDING for B\'s CREATE within %s' % ms(t0))

        t_ack = time.time()
        st, body = lease_ack(a, key, RH)
        t_acked = time.time()
        check(st == 0, 'lease break ack: %s' % sname(st))
        check(struct.unpack('<I', body[24:28])[0] == RH,
              'the ack response does not grant RH')
        try:
            st, _, fb, _ = create_reply(b.recv_frame(timeout=10))
        except TimeoutError:
            raise CheckFailed('B\'s CREATE not completed within 10 s of '
                              'the ack')
        t_done = time.time()
        check(st == 0, 'B\'s CREATE completed with %s' % sname(st))
        print('ok: lease: A through %s holds RWH; B through %s opens: the '
              'break reached A after %s, B got interim STATUS_PENDING after '
              '%s and no answer for %s until the ack; B completed %s after '
              'A sent the ack (%s after the ack\'s response)' %
              (ip_a, ip_b, ms(t0, t_break), ms(t0, interim_at),
               ms(t0, t_ack), ms(t_ack, t_done), ms(t_acked, t_done)))
        close(b, fb)
        close(a, fa)


def lock(c, fid, elements):
    return status(c.request(LOCK, lock_body(fid, elements)))


def check_lock(args, ip_a, ip_b):
    with Clients(args) as cl:
        a, b = cl.connect(ip_a), cl.connect(ip_b)
        name = unique('cf_lock')
        fa = a.create(name)
        fb = b.create(name)
        st = status(a.request(WRITE, write_body(fa, b'x' * 200)))
        check(st == 0, 'write: %s' % sname(st))
        st = lock(a, fa, [(100, 50, EXCLUSIVE | FAIL_IMMEDIATELY)])
        check(st == 0, 'A\'s lock: %s' % sname(st))
        t0 = time.time()
        for flags, what in ((EXCLUSIVE | FAIL_IMMEDIATELY, 'exclusive'),
                            (SHARED | FAIL_IMMEDIATELY, 'shared')):
            st = lock(b, fb, [(120, 1, flags)])
            check(st == STATUS_LOCK_NOT_GRANTED,
                  'B\'s (%s) %s lock inside A\'s (%s) range: %s, not '
                  'LOCK_NOT_GRANTED' % (ip_b, what, ip_a, sname(st)))
        t_refused = ms(t0)
        st = lock(b, fb, [(150, 10, EXCLUSIVE | FAIL_IMMEDIATELY)])
        check(st == 0, 'B\'s lock next to A\'s range: %s' % sname(st))
        st = lock(b, fb, [(150, 10, UNLOCK)])
        check(st == 0, 'B\'s unlock: %s' % sname(st))
        st = status(b.request(WRITE, write_body(fb, b'y' * 10,
                                                 offset=140)))
        check(st == STATUS_FILE_LOCK_CONFLICT,
              'B\'s write into A\'s range: %s' % sname(st))
        print('ok: lock: A through %s locks 100+50; B through %s: '
              'overlapping fail-immediately locks LOCK_NOT_GRANTED (two in '
              '%s), write FILE_LOCK_CONFLICT, lock next to it granted' %
              (ip_a, ip_b, t_refused))

        mid = send(b, LOCK, lock_body(fb, [(120, 10, EXCLUSIVE)]))
        t0 = time.time()
        try:
            recv_interim(b, mid, timeout=10)
        except AssertionError as e:
            raise CheckFailed('B\'s blocking lock: %s' % e)
        t_interim = time.time()
        check(no_answer(b, 1.0), 'B\'s blocking lock answered while A '
              'still holds the range')
        t_unlock = time.time()
        st = lock(a, fa, [(100, 50, UNLOCK)])
        check(st == 0, 'A\'s unlock: %s' % sname(st))
        try:
            st = recv_final(b, mid, timeout=10)
        except TimeoutError:
            raise CheckFailed('B\'s blocked lock not granted within 10 s '
                              'of A\'s unlock')
        t_granted = time.time()
        check(st == 0, 'B\'s blocked lock: %s' % sname(st))
        # B holds it now, on B's node; A's node refuses A
        st = lock(a, fa, [(125, 1, SHARED | FAIL_IMMEDIATELY)])
        check(st == STATUS_LOCK_NOT_GRANTED,
              'A got a lock inside B\'s granted range: %s' % sname(st))
        print('ok: lock: B\'s blocking lock pending (interim after %s, no '
              'answer for 1 s); granted %s after A sent its unlock; then A '
              'is refused inside B\'s range' %
              (ms(t0, t_interim), ms(t_unlock, t_granted)))
        lock(b, fb, [(120, 10, UNLOCK)])
        close(b, fb)
        close(a, fa)


def hold(args, ready, release, limit, pairs):
    """Traffic through every node, then opens held until released."""
    cl = Clients(args)
    files = {}
    try:
        for pair in pairs:
            tag, ip = pair.split('=', 1)
            c = cl.connect(ip)
            for i in range(10):
                fid = c.create(unique('cf_traffic_%s' % tag))
                st = status(c.request(WRITE, write_body(fid, b't' * 64)))
                check(st == 0, 'traffic write through %s: %s' %
                      (ip, sname(st)))
                close(c, fid)
            name = unique('cf_hold_%s' % tag)
            st, level, fid, state = open_file(
                c, name, OPLOCK_LEASE, lease_context(os.urandom(16), RH),
                disposition=FILE_OPEN_IF)
            check(st == 0 and state == RH, 'held open through %s: %s %r' %
                  (ip, sname(st), state))
            st = status(c.request(WRITE, write_body(fid, b'h' * 100)))
            check(st == 0, 'write to the held file: %s' % sname(st))
            st = lock(c, fid, [(0, 10, SHARED | FAIL_IMMEDIATELY)])
            check(st == 0, 'lock of the held file: %s' % sname(st))
            files[tag] = name
        with open(ready + '.tmp', 'w') as f:
            json.dump(files, f)
        os.rename(ready + '.tmp', ready)
        print('ok: hold: traffic through %s; holding %s' %
              (', '.join(pairs), ' '.join(sorted(files.values()))))
        sys.stdout.flush()
        end = time.time() + limit
        while not os.path.exists(release):
            check(time.time() < end, 'not released within %d s' % limit)
            time.sleep(0.1)
    finally:
        # no CLOSE: a connection to a node that was killed meanwhile would
        # only time out; disconnecting ends every open on the servers
        cl.__exit__()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--user', required=True)
    p.add_argument('--password', required=True)
    p.add_argument('--share', default='share')
    p.add_argument('--port', type=int, default=445)
    p.add_argument('check')
    p.add_argument('rest', nargs='*')
    args = p.parse_args()
    checks = {'sharemode': check_sharemode, 'lease': check_lease,
              'lock': check_lock}
    try:
        if args.check in checks and len(args.rest) == 2:
            checks[args.check](args, *args.rest)
        elif args.check == 'hold' and len(args.rest) >= 4:
            hold(args, args.rest[0], args.rest[1], int(args.rest[2]),
                 args.rest[3:])
        else:
            p.error('unknown check or wrong arguments')
    except (CheckFailed, AssertionError) as e:
        print('FAIL: %s: %s' % (args.check, e))
        return 1
    except (TimeoutError, smb2raw.Closed, RuntimeError, OSError) as e:
        print('FAIL: %s: %s: %s' % (args.check, type(e).__name__, e))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
