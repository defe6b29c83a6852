#!/usr/bin/python3
"""A hostile local client of clusterd's database socket
(<run dir>/clusterd-db.sock, dbwrap/dbwrap_cluster_proto.h), run inside a
node by test_cluster_db_hostile.sh:

    cluster_db_hostile.py SOCKET [SEED]
    cluster_db_hostile.py SOCKET fill   attach new names until refused

Frames with bad lengths, records that do not parse, requests that break
the protocol's rules, COMMITs whose transaction is garbage, a request of
the other kind for an attached name, clients that vanish mid-frame or
while their update is under way, two requests sent at once, a
connection flood, and randomly mutated requests.  Each case has the
expected outcome: the connection closed (a request that does not parse:
clusterd cannot trust the framing any more) or an NTSTATUS.  Prints one
line per case; exits 1 if any outcome differs or clusterd stops
answering.
"""
import os
import random
import socket
import struct
import sys
import time

SOCK = sys.argv[1]
FILL = len(sys.argv) > 2 and sys.argv[2] == 'fill'
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 and not FILL else 1)
REC_REQ, REC_RESP, REC_TXN = 58, 59, 65  # lib/util/marshall.h
ATTACH, STORE, DELETE, ATTACH_PERSISTENT, COMMIT = 1, 2, 3, 4, 5
MAX_FRAME = 1024 * 1024 + 4096 + 1024  # CLDB_MAX_FRAME

OK = 'status 0x00000000'
RETRY = 'status 0xc000022d'
COLLISION = 'status 0xc0000035'
BAD_NET = 'status 0xc00000c3'  # a COMMIT whose TXN does not parse
CORRUPT = 'status 0xc00000e4'  # ... whose TXN header is not a TXN
CLOSED = 'closed'

failures = []


def rec(op, db, key=b'', seq=0, value=b''):
    d = db.encode()
    return (struct.pack('<HHI', REC_REQ, 1, op) +
            struct.pack('<I', len(d) + 1) + d +
            struct.pack('<I', len(key)) + key + struct.pack('<Q', seq) +
            struct.pack('<I', len(value)) + value)


def frame(body):
    return struct.pack('<I', len(body)) + body


def txn(changes, count=None):
    b = struct.pack('<HHI', REC_TXN, 1,
                    len(changes) if count is None else count)
    for op, k, v in changes:
        b += struct.pack('<II', op, len(k)) + k + struct.pack('<I', len(v)) + v
    return b


def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(SOCK)
    return s


def recv_exact(s, n):
    data = b''
    while len(data) < n:
        c = s.recv(n - len(data))
        if not c:
            return None
        data += c
    return data


def answer(s):
    """The next answer on s as 'status 0x...', or 'closed'."""
    hdr = recv_exact(s, 4)
    if hdr is None:
        return CLOSED
    body = recv_exact(s, struct.unpack('<I', hdr)[0])
    if body is None or struct.unpack('<H', body[:2])[0] != REC_RESP:
        return 'bad answer'
    return 'status 0x%08x' % struct.unpack('<I', body[4:8])[0]


def ask(raw):
    try:
        s = conn()
    except OSError as e:
        return 'connect: %s' % e
    try:
        s.sendall(raw)
        return answer(s)
    except socket.timeout:
        return 'no answer in 10 s'
    except OSError as e:
        return CLOSED if e.errno in (104, 32) else str(e)
    finally:
        s.close()


def check(name, got, want):
    print('%-40s %s' % (name, got))
    if got != want:
        failures.append('%s: %s, expected %s' % (name, got, want))


if FILL:
    # this node's limit on databases (CLDB_MAX_DBS): names only its own
    # clients attached count; the next attach of a new name is refused
    n = 0
    while True:
        got = ask(frame(rec(ATTACH, 'fill%d' % n)))
        if got != OK:
            break
        n += 1
    print('attached %d names, then %s' % (n, got))
    sys.exit(0 if got == 'status 0xc000009a' and n > 0 else 1)

# Names of this run: a volatile and a persistent database.
V, P = 'hv%d' % os.getpid(), 'hp%d' % os.getpid()
cases = [
    ('frame length 0', struct.pack('<I', 0), CLOSED),
    ('frame length 0xffffffff', struct.pack('<I', 0xffffffff), CLOSED),
    ('frame length max + 1', struct.pack('<I', MAX_FRAME + 1), CLOSED),
    ('garbage body', frame(os.urandom(64)), CLOSED),
    ('another record type', frame(struct.pack('<HH', 57, 1) + bytes(40)),
     CLOSED),
    ('unknown op 9', frame(rec(9, V)), CLOSED),
    ('name ../etc', frame(rec(ATTACH, '../etc')), CLOSED),
    ('name of 65 bytes', frame(rec(ATTACH, 'a' * 65)), CLOSED),
    ('store with an empty key', frame(rec(STORE, V, b'', 0, b'v')), CLOSED),
    ('store of the reserved key',
     frame(rec(STORE, V, b'\0cldb-dbseq', 0, b'v')), CLOSED),
    ('delete with a value', frame(rec(DELETE, V, b'k', 1, b'v')), CLOSED),
    ('attach with a key', frame(rec(ATTACH, V, b'k')), CLOSED),
    ('a trailing byte', frame(rec(ATTACH, V) + b'\0'), CLOSED),
    ('attach', frame(rec(ATTACH, V)), OK),
    ('store', frame(rec(STORE, V, b'k', 0, b'v')), OK),
    ('store with a stale seq', frame(rec(STORE, V, b'k', 0, b'w')), RETRY),
    ('attach persistent', frame(rec(ATTACH_PERSISTENT, P)), OK),
    ('attach the volatile one as persistent',
     frame(rec(ATTACH_PERSISTENT, V)), COLLISION),
    ('commit to the volatile one',
     frame(rec(COMMIT, V, b'', 0, txn([(STORE, b'a', b'1')]))), COLLISION),
    ('store to the persistent one', frame(rec(STORE, P, b'k', 0, b'v')),
     COLLISION),
    ('commit of garbage', frame(rec(COMMIT, P, b'', 0, os.urandom(50))),
     CORRUPT),
    ('commit claiming 4096 changes',
     frame(rec(COMMIT, P, b'', 0, txn([], count=4096))), BAD_NET),
    ('commit with op 7', frame(rec(COMMIT, P, b'', 0, txn([(7, b'a', b'')]))),
     BAD_NET),
    ('commit of the reserved key',
     frame(rec(COMMIT, P, b'', 0, txn([(STORE, b'\0cldb-dbseq', b'x')]))),
     BAD_NET),
    ('commit changing one key three times',
     frame(rec(COMMIT, P, b'', 0, txn([(STORE, b'a', b'1'), (DELETE, b'a', b''),
                                       (STORE, b'a', b'2')]))), OK),
    ('commit from a stale database seq',
     frame(rec(COMMIT, P, b'', 0, txn([(STORE, b'a', b'3')]))), RETRY),
    ('the volatile one still attaches', frame(rec(ATTACH, V)), OK),
    ('the persistent one still attaches', frame(rec(ATTACH_PERSISTENT, P)),
     OK),
]
for name, raw, want in cases:
    check(name, ask(raw), want)

# partial frames, then gone
for cut in (2, 4, 10):
    s = conn()
    s.sendall(frame(rec(STORE, V, b'partial', 0, b'v'))[:cut])
    s.close()
# clients that go away while their update is under way
for i in range(50):
    s = conn()
    s.sendall(frame(rec(STORE, V, b'gone%d' % i, 0, b'v')))
    s.close()
check('after 3 partial frames and 50 vanished clients',
      ask(frame(rec(ATTACH, V))), OK)

# two requests at once on one connection: answered one after the other
s = conn()
s.sendall(frame(rec(STORE, V, b'two', 0, b'1')) +
          frame(rec(STORE, V, b'two', 1, b'2')))
try:
    check('two requests sent at once', answer(s) + ', ' + answer(s),
          OK + ', ' + OK)
except socket.timeout:
    check('two requests sent at once', 'no answer in 10 s', OK + ', ' + OK)
s.close()

# a flood of connections (clusterd takes at most 1024; the listen queue
# of 64 may refuse some while it accepts)
conns = []
for i in range(1100):
    try:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.setblocking(False)
        c.connect(SOCK)
        conns.append(c)
    except OSError:
        c.close()
        time.sleep(0.001)
print('flood: %d connections open' % len(conns))
for c in conns:
    c.close()
time.sleep(0.5)

# mutated valid requests
for i in range(300):
    b = bytearray(frame(rec(random.choice([1, 2, 3, 4, 5]),
                            random.choice([V, P]), b'k',
                            random.randrange(4),
                            b'v' * random.randrange(8))))
    for _ in range(random.randrange(1, 4)):
        b[random.randrange(len(b))] = random.randrange(256)
    try:
        s = conn()
        s.settimeout(0.2)
        s.sendall(bytes(b))
        try:
            s.recv(100)
        except socket.timeout:
            pass
        s.close()
    except OSError:
        pass
print('300 mutated requests sent')

deadline = time.time() + 10
while True:
    got = ask(frame(rec(ATTACH, V)))
    if got == OK or time.time() > deadline:
        break
    time.sleep(0.2)
check('clusterd answers at the end', got, OK)
if failures:
    print('FAILED: ' + '; '.join(failures))
    sys.exit(1)
