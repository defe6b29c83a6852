"""A deliberately small SMB2 client for hostile-traffic tests.

Everything is built by hand from MS-SMB2 section 2.2 so a test can break
any field: no impacket here.  It speaks dialect 2.1 (0x0210) with
HMAC-SHA256 signing (MS-SMB2 3.1.4.1), authenticates with NTLMv2
(MS-NLMP 3.3.2) wrapped in SPNEGO (MS-SPNG / RFC 4178), and lets the
caller send any bytes on the authenticated, signed connection.
"""

import hashlib
import hmac
import os
import select
import socket
import struct
import time

# MS-SMB2 2.2.1 command codes
NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT, TREE_DISCONNECT, CREATE, \
    CLOSE, FLUSH, READ, WRITE, LOCK, IOCTL, CANCEL, ECHO, QUERY_DIRECTORY, \
    CHANGE_NOTIFY, QUERY_INFO, SET_INFO, OPLOCK_BREAK = range(19)

FLAGS_SERVER_TO_REDIR = 0x1
FLAGS_ASYNC = 0x2
FLAGS_RELATED = 0x4
FLAGS_SIGNED = 0x8

STATUS_SUCCESS = 0
STATUS_PENDING = 0x00000103
STATUS_MORE_PROCESSING_REQUIRED = 0xC0000016
STATUS_INVALID_PARAMETER = 0xC000000D
STATUS_ACCESS_DENIED = 0xC0000022
STATUS_USER_SESSION_DELETED = 0xC0000203
STATUS_FILE_CLOSED = 0xC0000128
STATUS_NOT_SUPPORTED = 0xC00000BB
STATUS_INVALID_NETWORK_RESPONSE = 0xC00000C3
STATUS_NETWORK_NAME_DELETED = 0xC00000C9
STATUS_LOGON_FAILURE = 0xC000006D

DIALECT_202, DIALECT_210, DIALECT_300, DIALECT_302, DIALECT_311 = \
    0x0202, 0x0210, 0x0300, 0x0302, 0x0311

SIGNING_ENABLED = 0x1
SIGNING_REQUIRED = 0x2


def status_name(status):
    names = {v: k for k, v in globals().items()
             if k.startswith('STATUS_') and isinstance(v, int)}
    return names.get(status, '0x%08x' % status)


# ---------------------------------------------------------------- framing

def nbt(payload, length=None):
    """Direct-TCP transport header (MS-SMB2 2.1): a zero byte and a 24-bit
    big-endian length.  length overrides the real one to lie about it."""
    n = len(payload) if length is None else length
    return struct.pack('>I', n & 0xFFFFFF) + payload


def header(command, message_id=0, session_id=0, tree_id=0, flags=0,
           next_command=0, credit_request=64, credit_charge=1, status=0,
           structure_size=64, protocol=b'\xfeSMB'):
    """The 64-byte sync header, MS-SMB2 2.2.1.2."""
    return struct.pack('<4sHHIHHIIQIIQ16s', protocol, structure_size,
                       credit_charge, status, command, credit_request, flags,
                       next_command, message_id, 0, tree_id, session_id,
                       b'\0' * 16)


def negotiate_body(dialects, dialect_count=None, security_mode=SIGNING_ENABLED,
                   structure_size=36, client_guid=None, contexts=b'',
                   context_offset=None, context_count=None):
    """MS-SMB2 2.2.3; 3.1.1 negotiate contexts go after the dialects,
    8-byte aligned, when contexts (raw bytes) are given."""
    count = len(dialects) if dialect_count is None else dialect_count
    guid = client_guid or os.urandom(16)
    dial = b''.join(struct.pack('<H', d) for d in dialects)
    fixed_len = 64 + 36
    tail = b''
    ctx_off = ctx_cnt = 0
    if contexts or context_offset is not None:
        pad = (-(fixed_len + len(dial))) % 8
        ctx_off = fixed_len + len(dial) + pad
        tail = b'\0' * pad + contexts
        ctx_cnt = 1 if contexts else 0
    if context_offset is not None:
        ctx_off = context_offset
    if context_count is not None:
        ctx_cnt = context_count
    # 8 bytes after ClientGuid: NegotiateContextOffset/Count/Reserved2 for
    # 3.1.1, ClientStartTime (zero) otherwise
    start = struct.pack('<IHH', ctx_off, ctx_cnt, 0)
    return struct.pack('<HHHHI16s', structure_size, count, security_mode, 0,
                       0, guid) + start + dial + tail


def session_setup_body(blob, offset=None, length=None, structure_size=25,
                       security_mode=SIGNING_ENABLED, prev_session=0):
    """MS-SMB2 2.2.5; the buffer starts right after the 24 fixed bytes."""
    off = 64 + 24 if offset is None else offset
    ln = len(blob) if length is None else length
    return struct.pack('<HBBIIHHQ', structure_size, 0, security_mode, 0, 0,
                       off, ln, prev_session) + blob


def tree_connect_body(path, offset=None, length=None, structure_size=9):
    """MS-SMB2 2.2.9."""
    p = path.encode('utf-16-le')
    off = 64 + 8 if offset is None else offset
    ln = len(p) if length is None else length
    return struct.pack('<HHHH', structure_size, 0, off, ln) + p


def create_body(name, desired_access=0x0012019F, disposition=3,
                options=0x40, share_access=7, attributes=0x80,
                name_offset=None, name_length=None, contexts=b'',
                contexts_offset=None, contexts_length=None,
                structure_size=57):
    """MS-SMB2 2.2.13 (default: FILE_OPEN_IF a non-directory file, read and
    write access, all sharing)."""
    n = name.encode('utf-16-le')
    off = 64 + 56 if name_offset is None else name_offset
    ln = len(n) if name_length is None else name_length
    buf = n or b'\0'  # the buffer is at least one byte (2.2.13)
    c_off = c_len = 0
    if contexts:
        pad = (-len(buf)) % 8
        c_off = 64 + 56 + len(buf) + pad
        buf += b'\0' * pad + contexts
        c_len = len(contexts)
    if contexts_offset is not None:
        c_off = contexts_offset
    if contexts_length is not None:
        c_len = contexts_length
    return struct.pack('<HBBIQQIIIIIHHII', structure_size, 0, 0, 2, 0, 0,
                       desired_access, attributes, share_access, disposition,
                       options, off, ln, c_off, c_len) + buf


def close_body(file_id):
    """MS-SMB2 2.2.15."""
    return struct.pack('<HHI16s', 24, 0, 0, file_id)


def read_body(file_id, length, offset=0, minimum=0, channel_off=0,
              channel_len=0, structure_size=49):
    """MS-SMB2 2.2.19 (length may exceed 32 bits only by wrapping: the field
    is 32 bits, so 4 GiB - 1 is the largest value)."""
    return struct.pack('<HBBIQ16sIIIHH', structure_size, 0, 0,
                       length & 0xFFFFFFFF, offset, file_id, minimum, 0, 0,
                       channel_off, channel_len) + b'\0'


def write_body(file_id, data, offset=0, data_offset=None, length=None,
               structure_size=49):
    """MS-SMB2 2.2.21."""
    d_off = 64 + 48 if data_offset is None else data_offset
    ln = len(data) if length is None else length
    return struct.pack('<HHIQ16sIIHHI', structure_size, d_off,
                       ln & 0xFFFFFFFF, offset, file_id, 0, 0, 0, 0, 0) + data


def parse_header(msg):
    """(status, command, flags, next_command, message_id, session_id,
    tree_id) of a response header, or None if it is not one."""
    if len(msg) < 64 or msg[:4] != b'\xfeSMB':
        return None
    (_, _, _, status, command, _, flags, next_command, message_id, _,
     tree_id, session_id) = struct.unpack('<4sHHIHHIIQIIQ', msg[:48])
    return dict(status=status, command=command, flags=flags,
                next_command=next_command, message_id=message_id,
                session_id=session_id, tree_id=tree_id)


# ---------------------------------------------------------------- crypto

def _md4(data):
    """MD4 (RFC 1320); OpenSSL 3 no longer offers it to hashlib."""
    def f(x, y, z):
        return (x & y) | (~x & z)

    def g(x, y, z):
        return (x & y) | (x & z) | (y & z)

    def h(x, y, z):
        return x ^ y ^ z

    def rol(v, s):
        v &= 0xFFFFFFFF
        return ((v << s) | (v >> (32 - s))) & 0xFFFFFFFF

    msg = bytearray(data)
    bitlen = (8 * len(data)) & 0xFFFFFFFFFFFFFFFF
    msg.append(0x80)
    while len(msg) % 64 != 56:
        msg.append(0)
    msg += struct.pack('<Q', bitlen)
    a, b, c, d = 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476
    for i in range(0, len(msg), 64):
        x = struct.unpack('<16I', bytes(msg[i:i + 64]))
        aa, bb, cc, dd = a, b, c, d
        for k, s in zip(range(16), [3, 7, 11, 19] * 4):
            t = (a + f(b, c, d) + x[k]) & 0xFFFFFFFF
            a, b, c, d = d, rol(t, s), b, c
        for k, s in zip([0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15],
                        [3, 5, 9, 13] * 4):
            t = (a + g(b, c, d) + x[k] + 0x5A827999) & 0xFFFFFFFF
            a, b, c, d = d, rol(t, s), b, c
        for k, s in zip([0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15],
                        [3, 9, 11, 15] * 4):
            t = (a + h(b, c, d) + x[k] + 0x6ED9EBA1) & 0xFFFFFFFF
            a, b, c, d = d, rol(t, s), b, c
        a, b, c, d = [(p + q) & 0xFFFFFFFF
                      for p, q in zip((a, b, c, d), (aa, bb, cc, dd))]
    return struct.pack('<4I', a, b, c, d)


def nt_hash(password):
    return _md4(password.encode('utf-16-le'))


def _der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b


def _der(tag, content):
    return bytes([tag]) + _der_len(len(content)) + content


OID_SPNEGO = bytes.fromhex('06062b0601050502')
OID_NTLMSSP = bytes.fromhex('060a2b0601040182370202 0a'.replace(' ', ''))


def spnego_init(mech_token):
    """NegTokenInit offering NTLMSSP only (RFC 4178 4.2.1)."""
    mech_types = _der(0xa0, _der(0x30, OID_NTLMSSP))
    token = _der(0xa2, _der(0x04, mech_token))
    return _der(0x60, OID_SPNEGO + _der(0xa0, _der(0x30, mech_types + token)))


def spnego_resp(token):
    """NegTokenResp carrying the next mechanism token."""
    return _der(0xa1, _der(0x30, _der(0xa2, _der(0x04, token))))


NTLM_FLAGS = (0x00000001 |   # UNICODE
              0x00000004 |   # REQUEST_TARGET
              0x00000010 |   # SIGN
              0x00000200 |   # NTLM
              0x00008000 |   # ALWAYS_SIGN
              0x00080000 |   # EXTENDED_SESSIONSECURITY
              0x00800000 |   # TARGET_INFO
              0x20000000)    # 128


def ntlm_negotiate():
    """MS-NLMP 2.2.1.1 NEGOTIATE_MESSAGE, no domain or workstation."""
    return b'NTLMSSP\0' + struct.pack('<II', 1, NTLM_FLAGS) + b'\0' * 16


def ntlm_authenticate(challenge_msg, user, password, domain=''):
    """MS-NLMP 2.2.1.3 AUTHENTICATE_MESSAGE with an NTLMv2 response
    (3.3.2).  Returns (message, session_key); without KEY_EXCH the
    exported session key is the session base key."""
    if challenge_msg[:8] != b'NTLMSSP\0' or \
            struct.unpack('<I', challenge_msg[8:12])[0] != 2:
        raise ValueError('not an NTLM CHALLENGE_MESSAGE')
    flags = struct.unpack('<I', challenge_msg[20:24])[0]
    server_challenge = challenge_msg[24:32]
    ti_len, _, ti_off = struct.unpack('<HHI', challenge_msg[40:48])
    target_info = challenge_msg[ti_off:ti_off + ti_len]
    timestamp = None
    pos = 0
    while pos + 4 <= len(target_info):   # find MsvAvTimestamp (7)
        av_id, av_len = struct.unpack('<HH', target_info[pos:pos + 4])
        if av_id == 7 and av_len == 8:
            timestamp = target_info[pos + 4:pos + 12]
        if av_id == 0:
            break
        pos += 4 + av_len
    if timestamp is None:
        timestamp = struct.pack('<Q', int((time.time() + 11644473600) * 1e7))
    client_challenge = os.urandom(8)
    response_key = hmac.new(nt_hash(password),
                            (user.upper() + domain).encode('utf-16-le'),
                            'md5').digest()
    temp = (b'\x01\x01' + b'\0' * 6 + timestamp + client_challenge +
            b'\0' * 4 + target_info + b'\0' * 4)
    nt_proof = hmac.new(response_key, server_challenge + temp,
                        'md5').digest()
    nt_response = nt_proof + temp
    lm_response = hmac.new(response_key, server_challenge + client_challenge,
                           'md5').digest() + client_challenge
    session_key = hmac.new(response_key, nt_proof, 'md5').digest()
    fields = [lm_response, nt_response, domain.encode('utf-16-le'),
              user.encode('utf-16-le'), 'TESTWS'.encode('utf-16-le'), b'']
    off = 64
    desc = b''
    payload = b''
    for fld in fields:
        desc += struct.pack('<HHI', len(fld), len(fld), off + len(payload))
        payload += fld
    out_flags = NTLM_FLAGS & (flags | 0x00000001)
    msg = b'NTLMSSP\0' + struct.pack('<I', 3) + desc + \
        struct.pack('<I', out_flags) + payload
    return msg, session_key


def extract_ntlm(blob):
    """The NTLMSSP message inside a SPNEGO token (or raw)."""
    i = blob.find(b'NTLMSSP\0')
    if i < 0:
        raise ValueError('no NTLMSSP message in the security blob')
    return blob[i:]


# ---------------------------------------------------------------- client

class Closed(Exception):
    pass


class Raw:
    """One TCP connection.  Every receive is bounded by a timeout, so a
    server that neither answers nor closes makes the test fail instead of
    hang."""

    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout
        self.mid = 0
        self.session_id = 0
        self.tree_id = 0
        self.signing_key = None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def next_mid(self):
        m = self.mid
        self.mid += 1
        return m

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise Closed(str(e))

    def sign(self, msg):
        """Set SMB2_FLAGS_SIGNED and the HMAC-SHA256 signature (2.x)."""
        if self.signing_key is None:
            return msg
        m = bytearray(msg)
        flags = struct.unpack_from('<I', m, 16)[0] | FLAGS_SIGNED
        struct.pack_into('<I', m, 16, flags)
        m[48:64] = b'\0' * 16
        m[48:64] = hmac.new(self.signing_key, bytes(m),
                            hashlib.sha256).digest()[:16]
        return bytes(m)

    def _recv_exact(self, n, deadline):
        buf = b''
        while len(buf) < n:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError('no complete answer within %.1fs' %
                                   self.timeout)
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                chunk = self.sock.recv(n - len(buf))
            except (ConnectionResetError, OSError) as e:
                raise Closed(str(e))
            if not chunk:
                raise Closed('connection closed by the server')
            buf += chunk
        return buf

    def recv_frame(self, timeout=None):
        """One transport frame; interim STATUS_PENDING answers are
        skipped.  Raises Closed or TimeoutError."""
        deadline = time.time() + (timeout or self.timeout)
        while True:
            hdr = self._recv_exact(4, deadline)
            n = struct.unpack('>I', hdr)[0] & 0xFFFFFF
            msg = self._recv_exact(n, deadline)
            h = parse_header(msg)
            if h and h['status'] == STATUS_PENDING and \
                    h['flags'] & FLAGS_ASYNC:
                continue
            return msg

    def request(self, command, body, sign=True, **hdr):
        """Send one (signed, once a session exists) request; return the
        response message (header + body)."""
        hdr.setdefault('message_id', self.next_mid())
        hdr.setdefault('session_id', self.session_id)
        hdr.setdefault('tree_id', self.tree_id)
        msg = header(command, **hdr) + body
        if sign:
            msg = self.sign(msg)
        self.send_raw(nbt(msg))
        return self.recv_frame()

    # -- the happy path, so that hostile requests reach deep parsers --

    def negotiate(self, dialects=(DIALECT_202, DIALECT_210),
                  client_guid=None):
        r = self.request(NEGOTIATE, negotiate_body(
            list(dialects), security_mode=SIGNING_REQUIRED | SIGNING_ENABLED,
            client_guid=client_guid))
        h = parse_header(r)
        if h is None or h['status'] != 0:
            raise RuntimeError('negotiate failed: %r' % h)
        return struct.unpack('<H', r[64 + 4:64 + 6])[0]

    def session_setup(self, user, password, domain='', prev_session=0):
        r = self.request(SESSION_SETUP, session_setup_body(
            spnego_init(ntlm_negotiate()),
            security_mode=SIGNING_REQUIRED | SIGNING_ENABLED))
        h = parse_header(r)
        if h['status'] != STATUS_MORE_PROCESSING_REQUIRED:
            raise RuntimeError('session setup 1: %s' %
                               status_name(h['status']))
        self.session_id = h['session_id']
        off, ln = struct.unpack('<HH', r[64 + 4:64 + 8])
        challenge = extract_ntlm(r[off:off + ln])
        auth, key = ntlm_authenticate(challenge, user, password, domain)
        r = self.request(SESSION_SETUP, session_setup_body(
            spnego_resp(auth),
            security_mode=SIGNING_REQUIRED | SIGNING_ENABLED,
            prev_session=prev_session))
        h = parse_header(r)
        if h['status'] != 0:
            raise RuntimeError('session setup 2: %s' %
                               status_name(h['status']))
        self.signing_key = key
        return h['status']

    def tree_connect(self, unc):
        r = self.request(TREE_CONNECT, tree_connect_body(unc))
        h = parse_header(r)
        if h['status'] != 0:
            raise RuntimeError('tree connect: %s' % status_name(h['status']))
        self.tree_id = h['tree_id']

    def create(self, name, **kw):
        r = self.request(CREATE, create_body(name, **kw))
        h = parse_header(r)
        if h['status'] != 0:
            raise RuntimeError('create %s: %s' % (name,
                                                 status_name(h['status'])))
        return r[64 + 64:64 + 80]   # FileId (2.2.14: offset 64 in body)


def login(t, user, password, share='share'):
    """A Raw connection negotiated at 2.1, authenticated, signed and tree
    connected to the share of target t."""
    c = Raw(t.host, t.port)
    c.negotiate()
    c.session_setup(user, password)
    c.tree_connect('\\\\%s\\%s' % (t.host, share))
    return c
