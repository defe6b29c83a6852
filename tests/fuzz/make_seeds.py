#!/usr/bin/python3
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

    /usr/bin/python3 tests/fuzz/make_seeds.py [OUTDIR]

The SMB2 seeds are client streams written from [MS-SMB2] 2.2: NEGOTIATE
(with 3.1.1 contexts), an anonymous and a guest NTLMSSP logon inside
SPNEGO, TREE_CONNECT, then one scenario per command family, mostly as
related compounds so that no FileId has to be known.  Records use the
format of fuzz_smb2_frame.c: a flags byte (0x07: fix message ids, map
session ids and FileIds) and a 24-bit big-endian length.
"""
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "corpus")

# --- SMB2 ---------------------------------------------------------------

NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT, TREE_DISCONNECT, CREATE, \
    CLOSE, FLUSH, READ, WRITE, LOCK, IOCTL, CANCEL, ECHO, QUERY_DIRECTORY, \
    CHANGE_NOTIFY, QUERY_INFO, SET_INFO, OPLOCK_BREAK = range(19)
RELATED = 0x4
FULL_FID = b"\xff" * 16
SESSION = 1   # virtual: the first session (harness flag 0x02)
TREE = 1      # tree ids count from 1 per client


def hdr(cmd, mid=0, session=SESSION, tree=TREE, flags=0, credits=64,
        charge=1, next_cmd=0):
    return struct.pack("<4sHHIHHIIQIIQ16s", b"\xfeSMB", 64, charge, 0, cmd,
                       credits, flags, next_cmd, mid, 0, tree, session,
                       b"\0" * 16)


def utf16(s):
    return s.encode("utf-16-le")


def negotiate(dialects=(0x202, 0x210, 0x300, 0x302, 0x311), contexts=True,
              mid=0):
    body_len = 36 + 2 * len(dialects)
    ctx_blob = b""
    ctx_ofs = 0
    count = 0
    if contexts and 0x311 in dialects:
        pad = (8 - (64 + body_len) % 8) % 8
        ctx_ofs = 64 + body_len + pad
        ctxs = [
            (1, struct.pack("<HHH", 1, 32, 1) + bytes(range(32))),
            (2, struct.pack("<HHH", 2, 2, 1)),
            (8, struct.pack("<HHHH", 3, 2, 1, 0)),
        ]
        parts = []
        for i, (t, data) in enumerate(ctxs):
            c = struct.pack("<HHI", t, len(data), 0) + data
            if i != len(ctxs) - 1:
                c += b"\0" * ((8 - len(c) % 8) % 8)
            parts.append(c)
        ctx_blob = b"\0" * pad + b"".join(parts)
        count = len(ctxs)
    body = struct.pack("<HHHHI16sIHH", 36, len(dialects), 1, 0, 0x7f,
                       b"fuzz-client-guid", ctx_ofs, count, 0)
    body += b"".join(struct.pack("<H", d) for d in dialects)
    return hdr(NEGOTIATE, mid=mid, session=0, tree=0) + body + ctx_blob


def der(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82, n >> 8, n & 0xff])
    return bytes([tag]) + length + content


NTLMSSP_OID = bytes([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37,
                     0x02, 0x02, 0x0a])
SPNEGO_OID = bytes([0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02])

NEG_FLAGS = 0x62088215  # unicode, NTLM, sign, always sign, ESS, 128, KEY_EXCH


def ntlmssp_negotiate():
    return b"NTLMSSP\0" + struct.pack("<IIHHIHHI", 1, NEG_FLAGS, 0, 0, 40,
                                      0, 0, 40) + bytes([6, 1, 0, 0, 0, 0,
                                                         0, 15])


def ntlmssp_authenticate(user="", domain="", nt=b"", lm=b"", key=b"",
                         flags=NEG_FLAGS):
    fields = [lm, nt, utf16(domain), utf16(user), utf16("FUZZWS"), key]
    ofs = 64
    heads = b""
    payload = b""
    for f in fields:
        heads += struct.pack("<HHI", len(f), len(f), ofs + len(payload))
        payload += f
    return (b"NTLMSSP\0" + struct.pack("<I", 3) + heads +
            struct.pack("<I", flags) + payload)


def spnego_init(mech_token):
    mech_list = der(0xa0, der(0x30, NTLMSSP_OID))
    token = der(0xa2, der(0x04, mech_token))
    return der(0x60, SPNEGO_OID + der(0xa0, der(0x30, mech_list + token)))


def spnego_resp(token):
    return der(0xa1, der(0x30, der(0xa2, der(0x04, token))))


def session_setup(blob, session=0):
    body = struct.pack("<HBBIIHHQ", 25, 0, 1, 1, 0, 64 + 24, len(blob), 0)
    return hdr(SESSION_SETUP, session=session, tree=0) + body + blob


def tree_connect(share="share"):
    path = utf16("\\\\FUZZ\\" + share)
    body = struct.pack("<HHHH", 9, 0, 64 + 8, len(path))
    return hdr(TREE_CONNECT, tree=0) + body + path


def create_context(name, data=b""):
    """One SMB2_CREATE_CONTEXT (Next patched by create_contexts)."""
    c = struct.pack("<IHHHHI", 0, 16, len(name), 0,
                    24 if data else 0, len(data)) + name
    c += b"\0" * ((8 - len(c) % 8) % 8)
    return c + data


def create_contexts(*ctxs):
    out = b""
    for i, c in enumerate(ctxs):
        if i != len(ctxs) - 1:
            c += b"\0" * ((8 - len(c) % 8) % 8)
            c = struct.pack("<I", len(c)) + c[4:]
        out += c
    return out


def create_body(name, access=0x0012019f, disposition=5, options=0x40,
                attrs=0x80, share_access=7, oplock=0, contexts=b""):
    name16 = utf16(name)
    name_ofs = 64 + 56
    dyn = name16 if name16 else b"\0"
    ctx_ofs = 0
    if contexts:
        pad = (8 - (name_ofs + len(dyn)) % 8) % 8
        dyn += b"\0" * pad
        ctx_ofs = name_ofs + len(dyn)
        dyn += contexts
    body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, oplock, 2, 0, 0, access,
                       attrs, share_access, disposition, options, name_ofs,
                       len(name16), ctx_ofs, len(contexts))
    return body + dyn


def write_body(data, offset=0, fid=FULL_FID):
    return struct.pack("<HHIQ16sIIHHI", 49, 64 + 48, len(data), offset, fid,
                       0, 0, 0, 0, 0) + data


def read_body(length=4096, offset=0, fid=FULL_FID):
    return struct.pack("<HBBIQ16sIIIHH", 49, 0x50, 0, length, offset, fid,
                       0, 0, 0, 0, 0) + b"\0"


def close_body(fid=FULL_FID, flags=1):
    return struct.pack("<HHI16s", 24, flags, 0, fid)


def flush_body(fid=FULL_FID):
    return struct.pack("<HHI16s", 24, 0, 0, fid)


def query_info_body(info_type, klass, out_len=4096, addl=0, fid=FULL_FID,
                    inbuf=b""):
    in_ofs = 64 + 40 if inbuf else 0
    return struct.pack("<HBBIHHIII16s", 41, info_type, klass, out_len,
                       in_ofs, 0, len(inbuf), addl, 0, fid) + \
        (inbuf if inbuf else b"\0")


def set_info_body(info_type, klass, data, addl=0, fid=FULL_FID):
    return struct.pack("<HBBIHHI16s", 33, info_type, klass, len(data),
                       64 + 32, 0, addl, fid) + data


def query_dir_body(pattern="*", klass=0x25, flags=0, out_len=65536,
                   fid=FULL_FID):
    p = utf16(pattern)
    return struct.pack("<HBBI16sHHI", 33, klass, flags, 0, fid, 64 + 32,
                       len(p), out_len) + (p if p else b"\0")


def ioctl_body(ctl, inbuf=b"", max_out=4096, fid=FULL_FID, flags=1):
    in_ofs = 64 + 56 if inbuf else 0
    return struct.pack("<HHI16sIIIIIIII", 57, 0, ctl, fid, in_ofs,
                       len(inbuf), 0, 0, 0, max_out, flags, 0) + \
        (inbuf if inbuf else b"\0" * 8)


def lock_body(locks, fid=FULL_FID):
    body = struct.pack("<HHI16s", 48, len(locks), 0, fid)
    for off, length, flags in locks:
        body += struct.pack("<QQII", off, length, flags, 0)
    return body


def notify_body(fid=FULL_FID):
    return struct.pack("<HHI16sII", 32, 0, 4096, fid, 0x17, 0)


def simple(cmd, **kw):
    return hdr(cmd, **kw) + struct.pack("<HH", 4, 0)


def compound(*reqs, related=True):
    """reqs: (cmd, body); all but the first related when related."""
    frames = []
    for i, (cmd, body) in enumerate(reqs):
        flags = RELATED if (related and i > 0) else 0
        frames.append([cmd, body, flags])
    out = b""
    for i, (cmd, body, flags) in enumerate(frames):
        last = i == len(frames) - 1
        length = 64 + len(body)
        pad = 0 if last else (8 - length % 8) % 8
        h = hdr(cmd, flags=flags, next_cmd=0 if last else length + pad)
        out += h + body + b"\0" * pad
    return out


def record(frame, flags=0x07):
    return bytes([flags]) + struct.pack(">I", len(frame))[1:] + frame


def stream(*frames, flags=0x07):
    return b"".join(record(f, flags) for f in frames)


ANON_LOGON = [
    session_setup(spnego_init(ntlmssp_negotiate())),
    session_setup(spnego_resp(ntlmssp_authenticate(lm=b"\0")),
                  session=SESSION),
]
NTLMV2_BLOB = (b"\x11" * 16 + struct.pack("<BBHIQ8sI", 1, 1, 0, 0,
                                          0x01d9000000000000, b"cchallen",
                                          0) +
               struct.pack("<HH", 2, 18) + utf16("WORKGROUP") +
               struct.pack("<HHI", 6, 4, 2) + struct.pack("<HH", 0, 0) +
               b"\0" * 4)
GUEST_LOGON = [
    session_setup(spnego_init(ntlmssp_negotiate())),
    session_setup(spnego_resp(ntlmssp_authenticate(
        user="nosuchuser", domain="WORKGROUP", nt=NTLMV2_BLOB,
        lm=b"\0" * 24, key=b"\x22" * 16)), session=SESSION),
]
PRELUDE = [negotiate()] + ANON_LOGON + [tree_connect()]


def smb2_seeds():
    s = {}
    s["negotiate_311"] = stream(negotiate())
    s["negotiate_202"] = stream(negotiate((0x202,)))
    s["negotiate_wildcard"] = stream(negotiate((0x202, 0x2ff)))
    smb1 = (b"\xffSMB" + bytes([0x72]) + b"\0" * 4 + bytes([0x18]) +
            struct.pack("<H", 0xc853) + b"\0" * 12 + struct.pack("<HHHH",
                                                                 0, 0xfeff,
                                                                 0, 0))
    dialects = b"\x02NT LM 0.12\0\x02SMB 2.002\0\x02SMB 2.???\0"
    smb1 += b"\0" + struct.pack("<H", len(dialects)) + dialects
    # the SMB1 NEGOTIATE used message id 0 ([MS-SMB2] 3.3.5.3.1)
    s["smb1_upgrade"] = stream(smb1, negotiate((0x202, 0x210), mid=1),
                               flags=0)
    s["anonymous_logon"] = stream(negotiate(), *ANON_LOGON)
    s["guest_logon"] = stream(negotiate(), *GUEST_LOGON, tree_connect())
    s["raw_ntlmssp_logon"] = stream(
        negotiate((0x202, 0x210, 0x300)),
        session_setup(ntlmssp_negotiate()),
        session_setup(ntlmssp_authenticate(lm=b"\0"), session=SESSION))
    s["known_user_bad_password"] = stream(
        negotiate(), session_setup(spnego_init(ntlmssp_negotiate())),
        session_setup(spnego_resp(ntlmssp_authenticate(
            user="fuzzuser", domain="WORKGROUP", nt=NTLMV2_BLOB)),
            session=SESSION))
    s["tree_connect_ipc"] = stream(negotiate(), *ANON_LOGON,
                                   tree_connect("IPC$"),
                                   simple(TREE_DISCONNECT),
                                   simple(LOGOFF, tree=0))
    s["echo_cancel"] = stream(negotiate(), simple(ECHO, session=0, tree=0),
                              simple(CANCEL, session=0, tree=0))
    mxac = create_contexts(create_context(b"MxAc"), create_context(b"QFid"))
    s["create_write_read_close"] = stream(*PRELUDE, compound(
        (CREATE, create_body("dir\\..\\a.txt" if False else "a.txt",
                             contexts=mxac)),
        (WRITE, write_body(b"hello fuzzer" * 10)),
        (READ, read_body()),
        (FLUSH, flush_body()),
        (CLOSE, close_body())))
    s["create_dir_query_directory"] = stream(*PRELUDE, compound(
        (CREATE, create_body("sub", disposition=2, options=0x1,
                             attrs=0x10)),
        (CLOSE, close_body())), compound(
        (CREATE, create_body("sub\\f1.txt")),
        (CLOSE, close_body())), compound(
        (CREATE, create_body("", access=0x00100081, disposition=1,
                             options=0x1, attrs=0)),
        (QUERY_DIRECTORY, query_dir_body("*")),
        (QUERY_DIRECTORY, query_dir_body("*.TXT", klass=0x03, flags=1)),
        (QUERY_DIRECTORY, query_dir_body("<", klass=0x26)),
        (CLOSE, close_body())))
    basic = struct.pack("<QQQQII", 0, 0, 0x01d9000000000000, 0, 0x20, 0)
    rename = struct.pack("<B7sQI", 1, b"\0" * 7, 0, len(utf16("b.txt"))) + \
        utf16("b.txt")
    s["getinfo_setinfo"] = stream(*PRELUDE, compound(
        (CREATE, create_body("c.txt", access=0x001f01ff)),
        (QUERY_INFO, query_info_body(1, 0x12)),          # All
        (QUERY_INFO, query_info_body(1, 0x05)),          # Standard
        (QUERY_INFO, query_info_body(1, 0x22)),          # NetworkOpen
        (QUERY_INFO, query_info_body(2, 0x01)),          # FsVolume
        (QUERY_INFO, query_info_body(2, 0x03)),          # FsSize
        (QUERY_INFO, query_info_body(3, 0, addl=0x7)),   # security
        (SET_INFO, set_info_body(1, 0x04, basic)),       # Basic
        (SET_INFO, set_info_body(1, 0x14, struct.pack("<Q", 100))),  # EOF
        (SET_INFO, set_info_body(1, 0x0a, rename)),      # Rename
        (SET_INFO, set_info_body(1, 0x0d, b"\x01")),     # Disposition
        (CLOSE, close_body())))
    s["lock_notify_ioctl"] = stream(*PRELUDE, compound(
        (CREATE, create_body("d.txt")),
        (LOCK, lock_body([(0, 10, 2)])),
        (IOCTL, ioctl_body(0x00140204, struct.pack(
            "<I16sHH", 0x7f, b"fuzz-client-guid", 1, 5) +
            struct.pack("<5H", 0x202, 0x210, 0x300, 0x302, 0x311))),
        (IOCTL, ioctl_body(0x00090078)),  # FSCTL_CREATE_OR_GET_OBJECT_ID
        (CHANGE_NOTIFY, notify_body()),
        (CLOSE, close_body())))
    # non-related use of a FileId: volatile id 1, persistent 0 -> mapped
    fid1 = struct.pack("<QQ", 0, 1)
    s["unrelated_fileid"] = stream(
        *PRELUDE,
        hdr(CREATE) + create_body("e.txt"),
        hdr(WRITE) + write_body(b"x" * 100, fid=fid1),
        hdr(READ) + read_body(fid=fid1),
        hdr(QUERY_INFO) + query_info_body(1, 0x12, fid=fid1),
        hdr(CLOSE) + close_body(fid=fid1),
        simple(TREE_DISCONNECT), simple(LOGOFF, tree=0))
    # a lone unsigned WRITE of 64 KiB or more: the transport leaves its
    # data in pipes (smbd_connection_classify); the first write of an
    # open takes the copying path
    s["large_unsigned_write"] = stream(
        *PRELUDE,
        hdr(CREATE) + create_body("h.txt"),
        hdr(WRITE) + write_body(b"y" * 100, fid=fid1),
        hdr(WRITE, charge=2) + write_body(bytes(range(256)) * 280,
                                          offset=100, fid=fid1),
        hdr(READ, charge=2) + read_body(length=72000, fid=fid1),
        hdr(CLOSE) + close_body(fid=fid1))
    s["create_contexts"] = stream(*PRELUDE, compound(
        (CREATE, create_body("f.txt", oplock=0xff, contexts=create_contexts(
            create_context(b"RqLs", b"\x01" * 16 + struct.pack("<IIQ", 7, 0,
                                                               0)),
            create_context(b"DHnQ", b"\0" * 16),
            create_context(b"AlSi", struct.pack("<Q", 4096)),
            create_context(b"MxAc")))),
        (CLOSE, close_body())))
    s["timewarp"] = stream(*PRELUDE, hdr(CREATE) + create_body(
        "f.txt", contexts=create_contexts(create_context(
            b"TWrp", struct.pack("<Q", 0x01d9000000000000)))))
    s["read_only_share"] = stream(negotiate(), *ANON_LOGON,
                                  tree_connect("ro"), compound(
        (CREATE, create_body("g.txt")),
        (CLOSE, close_body())))
    s["bad_names"] = stream(*PRELUDE,
                            hdr(CREATE) + create_body("..\\etc\\passwd"),
                            hdr(CREATE) + create_body("a:stream"),
                            hdr(CREATE) + create_body("\\abs"),
                            hdr(CREATE) + create_body("x\\\\y"))
    return s


# --- other targets --------------------------------------------------------

def gensec_seeds():
    neg = ntlmssp_negotiate()
    return {
        "spnego_init": b"\x00" + spnego_init(neg),
        "raw_ntlmssp_negotiate": b"\x00" + neg,
        "empty": b"\x00",
        "raw_anonymous_auth": b"\x01" + ntlmssp_authenticate(lm=b"\0"),
        "spnego_anonymous_auth": b"\x02" + spnego_resp(
            ntlmssp_authenticate(lm=b"\0")),
        "spnego_guest_auth": b"\x02" + spnego_resp(ntlmssp_authenticate(
            user="nosuch", domain="WORKGROUP", nt=NTLMV2_BLOB,
            key=b"\x22" * 16)),
        "spnego_user_auth": b"\x02" + spnego_resp(ntlmssp_authenticate(
            user="alice", domain="WORKGROUP", nt=NTLMV2_BLOB,
            key=b"\x22" * 16)),
    }


def auth_wire_seeds():
    neg = ntlmssp_negotiate()
    challenge = (b"NTLMSSP\0" + struct.pack("<IHHII8sQHHI", 2, 8, 8, 56,
                                            NEG_FLAGS, b"chalenge", 0,
                                            len(NTLMV2_BLOB) - 44,
                                            len(NTLMV2_BLOB) - 44, 64) +
                 bytes([6, 1, 0, 0, 0, 0, 0, 15]) + utf16("FUZZ") +
                 NTLMV2_BLOB[44:])
    return {
        "spnego_init": b"\x00" + spnego_init(neg),
        "spnego_resp": b"\x00" + spnego_resp(ntlmssp_authenticate()),
        "negotiate": b"\x01" + neg,
        "challenge": b"\x02" + challenge,
        "authenticate": b"\x03" + ntlmssp_authenticate(
            user="u", domain="d", nt=NTLMV2_BLOB, key=b"k" * 16),
        "av_pairs": b"\x04" + NTLMV2_BLOB[44:],
    }


def ntname_seeds():
    return {
        "path": b"\x00" + utf16("dir\\sub\\file.txt"),
        "trailing": b"\x00" + utf16("dir\\"),
        "wildcard": b"\x01" + utf16("*.t?t"),
        "dotdot": b"\x00" + utf16("a\\..\\b"),
        "surrogates": b"\x00" + "\U0001f600x\u00e9".encode("utf-16-le"),
        "stream": b"\x00" + utf16("f:s:$DATA"),
    }


def loadparm_seeds():
    return {
        "basic": b"[global]\nworkgroup = EXAMPLE\nserver min protocol = "
                 b"SMB3\n[data]\npath = /srv/data\nread only = no\n"
                 b"valid users = alice, \"bob smith\", @staff\n",
        "include": b"[global]\ninclude = inc.conf\ninclude = loop.conf\n",
        "continuation": b"[global]\nserver \\\nstring = a \\\nb\n[s]\n"
                        b"comment = x\npath=/tmp\n",
        "homes": b"[homes]\nbrowseable = no\n[printers]\npath = /var/spool\n"
                 b"printable = yes\n",
        "many": b"[global]\nmap to guest = Bad User\nserver signing = "
                b"mandatory\nsmb ports = 445 4455\ninterfaces = 127.0.0.1/8"
                b" eth0\nlog level = 3\nsmb2 max read = 65536\n",
    }


def fscc_match_seeds():
    return {
        "star": b"*\0file.txt",
        "dos_star": b"<.TXT\0readme.txt",
        "qm": b"f??e.*\0file.c",
        "dos_dot": b"a\"b\0a.b",
        "exact": b"Hello\0hELLO",
        "long": b"*a*b*c*d*e*f*\0" + b"abcdef" * 40,
        "utf8": "*\u00e9*\0\u00c9t\u00e9".encode(),
    }


def sec_desc_seeds():
    def sid(*parts):
        rev, auth, subs = 1, parts[0], parts[1:]
        return struct.pack("<BB", rev, len(subs)) + auth.to_bytes(6, "big") \
            + b"".join(struct.pack("<I", x) for x in subs)

    owner = sid(22, 1, 1000)
    group = sid(22, 2, 1000)
    aces = b""
    for who, mask in ((owner, 0x1f01ff), (group, 0x1200a9),
                      (sid(1, 0), 0x1200a9)):
        aces += struct.pack("<BBHI", 0, 0, 8 + len(who), mask) + who
    acl = struct.pack("<BBHHH", 2, 0, 8 + len(aces), 3, 0) + aces
    ofs_owner = 20
    ofs_group = ofs_owner + len(owner)
    ofs_dacl = ofs_group + len(group)
    sd = struct.pack("<BBHIIII", 1, 0, 0x8004, ofs_owner, ofs_group, 0,
                     ofs_dacl) + owner + group + acl
    return {
        "full": struct.pack("<I", 7) + sd,
        "dacl_only": struct.pack("<I", 4) + sd,
        "owner_only": struct.pack("<I", 1) + sd,
        "from_unix": struct.pack("<IIIH", 7, 1000, 100, 0o750),
    }


def userdb_seeds():
    account, unix = b"alice", b"alice"
    rec = struct.pack("<IIQ16sHH", 1, 0, 1700000000, b"\x42" * 16,
                      len(account), len(unix)) + account + unix
    return {"alice": rec}


def messaging_seeds():
    """Frames of messaging/messaging_private.h.  Stream records are
    [flags u8][len u16 LE][datagram]; flag 0x01 makes the harness address
    the frame to its own process.  'raw_frame' is one bare frame for the
    parser (its stream reading is noise)."""
    data_max = 60 * 1024 - 80

    def sid(node=0, pid=4242, task=0, unique=5):
        return struct.pack("<IIIQ", node, pid, task, unique)

    def frame(payload_all, frag=0, msg_id=1, msg_type=1000, nfds=0):
        total = len(payload_all)
        count = max(1, (total + data_max - 1) // data_max)
        part = payload_all[frag * data_max:(frag + 1) * data_max]
        return (struct.pack("<IHHI", 0x47534d53, 1, 80, msg_type) +
                sid() + sid(pid=1) +
                struct.pack("<QIIIIHH", msg_id, frag, count, total,
                            len(part), nfds, 0) + part)

    def rec(dgram, flags=0x01):
        return struct.pack("<BH", flags, len(dgram)) + dgram

    big = bytes((i * 7) & 0xff for i in range(data_max + 10))
    bad = bytearray(frame(b"bad"))
    bad[0] ^= 1
    return {
        "raw_frame": frame(b"hello"),
        "single": rec(frame(b"hello")),
        "empty_msg": rec(frame(b"", msg_type=1001)),
        "two_fragments": rec(frame(big, 0, 7)) + rec(frame(big, 1, 7)),
        "bad_then_good": rec(bytes(bad)) + rec(frame(b"x" * 100, msg_id=2)),
        "out_of_order": (rec(frame(big + big, 0, 9)) +
                         rec(frame(big + big, 2, 9)) +
                         rec(frame(b"after", msg_id=10))),
    }


def main():
    corpora = {
        "fuzz_smb2_frame": smb2_seeds(),
        "fuzz_gensec": gensec_seeds(),
        "fuzz_auth_wire": auth_wire_seeds(),
        "fuzz_ntname": ntname_seeds(),
        "fuzz_loadparm": loadparm_seeds(),
        "fuzz_fscc_match": fscc_match_seeds(),
        "fuzz_sec_desc": sec_desc_seeds(),
        "fuzz_userdb_record": userdb_seeds(),
        "fuzz_messaging_frame": messaging_seeds(),
    }
    for target, seeds in corpora.items():
        d = os.path.join(OUT, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name + ".bin"), "wb") as f:
                f.write(data)
    print("seeds written to", OUT)


if __name__ == "__main__":
    main()
