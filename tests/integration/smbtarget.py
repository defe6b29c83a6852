#!/usr/bin/python3
"""Start and stop the SMB server under test, for every test layer.

One implementation is shared by the pytest fixtures (conftest.py), the
smbtorture runner and the benchmark, so they all configure a server the
same way.  Two targets:

  ours   BUILD/smbd/smbd -s CONF -F, configured in a private state
         directory, users added with BUILD/tools/smbuser.
  samba  Debian's smbd through shared/tools/samba-ref-server.sh, with a
         private SAMBA_REF_ROOT and port so it never clashes with another
         reference instance on the machine.

Both get the same two unix users (smb3ta, smb3tb), each with an SMB account,
and a share "share" whose directory both may write.

Command line use (shell scripts):
  smbtarget.py start --target ours|samba --root DIR [--port N]
               [--profile full|plain] [--global 'k = v'] [--share 'k = v']
      starts the server, prints shell assignments (SMB3_PORT=... etc.)
  smbtarget.py stop --target ours|samba --root DIR
"""

import argparse
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, '..', '..'))

USER_A = 'smb3ta'
USER_B = 'smb3tb'
SHARE = 'share'


def free_port():
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def port_open(port, host='127.0.0.1'):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def ensure_unix_user(name):
    if subprocess.run(['id', name], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode == 0:
        return
    r = subprocess.run(['useradd', '-M', '-d', '/nonexistent',
                        '-s', '/usr/sbin/nologin', name],
                       stderr=subprocess.PIPE, text=True)
    # a concurrent run may have created it in between
    if r.returncode != 0 and subprocess.run(
            ['id', name], stdout=subprocess.DEVNULL).returncode != 0:
        raise RuntimeError('useradd %s failed: %s' % (name, r.stderr))


def build_dir():
    return os.environ.get('SMB3_BUILD', os.path.join(REPO, 'build'))


def samba_ref_script():
    cands = [os.environ.get('SMB3_SAMBA_REF', ''),
             '/work/shared/tools/samba-ref-server.sh',
             os.path.join(REPO, '..', 'shared', 'tools',
                          'samba-ref-server.sh')]
    for c in cands:
        if c and os.path.isfile(c):
            return os.path.abspath(c)
    raise RuntimeError('samba-ref-server.sh not found (set SMB3_SAMBA_REF)')


def pid_is(pid, needle):
    """True if pid is alive and its command line contains needle (so a
    recycled pid is never mistaken for our server)."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return needle.encode() in f.read()
    except OSError:
        return False


class Target:
    """A running (or startable) server; attributes are plain data so the
    tests can build client command lines from them."""

    kind = None

    def __init__(self, root, port=None, extra_global=(), extra_share=(),
                 signing='mandatory'):
        self.root = os.path.abspath(root)
        self.port = port or free_port()
        self.host = '127.0.0.1'
        self.share = SHARE
        self.share_path = os.path.join(self.root, 'share')
        self.extra_global = list(extra_global)
        self.extra_share = list(extra_share)
        self.signing = signing
        self.users = {}          # SMB name -> password
        self.unix_users = {}     # SMB name -> unix name
        pwfile = os.path.join(self.root, 'passwords')
        if os.path.exists(pwfile):   # re-attached from the command line
            with open(pwfile) as f:
                for line in f:
                    n, u, p = line.rstrip('\n').split(':', 2)
                    self.users[n] = p
                    self.unix_users[n] = u

    def _remember_users(self):
        with open(os.path.join(self.root, 'passwords'), 'w') as f:
            os.fchmod(f.fileno(), 0o600)
            for n, p in self.users.items():
                f.write('%s:%s:%s\n' % (n, self.unix_users[n], p))

    def _prepare_dirs(self):
        os.makedirs(self.root, exist_ok=True)
        # the session users must be able to walk down to the share
        os.chmod(self.root, 0o755)
        os.makedirs(self.share_path, exist_ok=True)
        os.chmod(self.share_path, 0o777)

    def unc(self, path=''):
        return '//%s/%s%s' % (self.host, self.share, path)

    def password(self, user=USER_A):
        return self.users[user]

    def alive(self):
        pid = self.pid()
        return pid is not None

    def start(self):
        raise NotImplementedError

    def stop(self):
        raise NotImplementedError

    def pid(self):
        raise NotImplementedError

    def add_user(self, name, unix_name, password):
        raise NotImplementedError

    def set_enabled(self, name, enabled):
        raise NotImplementedError

    def log_tail(self, lines=40):
        return ''

    def shell_vars(self):
        return {'SMB3_TARGET': self.kind, 'SMB3_HOST': self.host,
                'SMB3_PORT': str(self.port), 'SMB3_SHARE': self.share,
                'SMB3_SHARE_PATH': self.share_path,
                'SMB3_USER': USER_A, 'SMB3_PASS': self.users[USER_A],
                'SMB3_USER_B': USER_B, 'SMB3_PASS_B': self.users[USER_B],
                'SMB3_PID': str(self.pid() or '')}


class OursTarget(Target):
    kind = 'ours'

    def __init__(self, root, **kw):
        super().__init__(root, **kw)
        self.build = os.path.abspath(build_dir())
        self.smbd = os.path.join(self.build, 'smbd', 'smbd')
        self.smbuser = os.path.join(self.build, 'tools', 'smbuser')
        self.smbconf_check = os.path.join(self.build, 'tools',
                                          'smbconf-check')
        self.conf = os.path.join(self.root, 'smb.conf')
        self.logfile = os.path.join(self.root, 'smbd.log')
        self.pidfile = os.path.join(self.root, 'smbd.test-pid')

    def write_conf(self):
        for d in ('state', 'private', 'lock', 'run'):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        os.chmod(os.path.join(self.root, 'private'), 0o700)
        lines = ['[global]',
                 '\tsmb ports = %d' % self.port,
                 '\tinterfaces = 127.0.0.1',
                 '\tbind interfaces only = yes',
                 '\tstate directory = %s/state' % self.root,
                 '\tprivate dir = %s/private' % self.root,
                 '\tlock directory = %s/lock' % self.root,
                 '\tpid directory = %s/run' % self.root,
                 '\tlog level = %s' % os.environ.get('SMB3_LOGLEVEL', '1'),
                 '\tserver signing = %s' % self.signing,
                 '\tserver min protocol = SMB2_02',
                 '\tserver max protocol = SMB3_11',
                 '\tmap to guest = never']
        lines += ['\t' + l for l in self.extra_global]
        lines += ['', '[%s]' % self.share,
                  '\tpath = %s' % self.share_path,
                  '\tread only = no',
                  '\tguest ok = no']
        lines += ['\t' + l for l in self.extra_share]
        with open(self.conf, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def _smbuser(self, *args, stdin=None):
        r = subprocess.run([self.smbuser, '-s', self.conf] + list(args),
                           input=stdin, capture_output=True, text=True,
                           timeout=30)
        if r.returncode != 0:
            raise RuntimeError('smbuser %s failed (%d): %s%s' % (
                ' '.join(args), r.returncode, r.stdout, r.stderr))
        return r.stdout

    def add_user(self, name, unix_name, password):
        ensure_unix_user(unix_name)
        self._smbuser('add', name, '--unix-user', unix_name,
                      '--password-stdin', stdin=password + '\n')
        self.users[name] = password
        self.unix_users[name] = unix_name
        self._remember_users()

    def set_enabled(self, name, enabled):
        self._smbuser('enable' if enabled else 'disable', name)

    def start(self):
        for exe in (self.smbd, self.smbuser):
            if not os.access(exe, os.X_OK):
                raise RuntimeError('%s not built (SMB3_BUILD=%s)' %
                                   (exe, self.build))
        self._prepare_dirs()
        self.write_conf()
        for u in (USER_A, USER_B):
            self.add_user(u, u, 'Pw-' + secrets.token_hex(8))
        log = open(self.logfile, 'ab')
        # own session: the server and every child it forks share one
        # process group that stop() signals by its id
        proc = subprocess.Popen(
            [self.smbd, '-s', self.conf, '-F',
             '-d', os.environ.get('SMB3_LOGLEVEL', '1')],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
        log.close()
        with open(self.pidfile, 'w') as f:
            f.write('%d\n' % proc.pid)
        self._proc = proc
        deadline = time.time() + 15
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError('smbd exited with %d:\n%s' %
                                   (proc.returncode, self.log_tail()))
            if port_open(self.port):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError('smbd did not listen on %d:\n%s' %
                           (self.port, self.log_tail()))

    def pid(self):
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        proc = getattr(self, '_proc', None)
        if proc is not None and proc.poll() is not None:
            return None
        return pid if pid_is(pid, self.conf) else None

    def stop(self):
        pid = self.pid()
        if pid is None:
            return
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.time() + 10
        while time.time() < deadline and self.pid() is not None:
            proc = getattr(self, '_proc', None)
            if proc is not None:
                proc.poll()
            time.sleep(0.1)
        try:
            os.killpg(pid, signal.SIGKILL)   # the group, leftovers included
        except ProcessLookupError:
            pass
        proc = getattr(self, '_proc', None)
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.unlink(self.pidfile)
        except OSError:
            pass

    def log_tail(self, lines=40):
        try:
            with open(self.logfile, errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return ''


class SambaTarget(Target):
    kind = 'samba'

    def __init__(self, root, profile='plain', **kw):
        super().__init__(root, **kw)
        self.profile = profile
        self.script = samba_ref_script()
        self.conf = os.path.join(self.root, 'etc', 'smb.conf')
        self.logfile = os.path.join(self.root, 'log', 'log.smbd')

    def _env(self):
        env = dict(os.environ)
        sign = {'mandatory': 'server signing = mandatory',
                'auto': 'server signing = auto',
                'off': 'server signing = disabled'}[self.signing]
        env.update(SAMBA_REF_ROOT=self.root, SAMBA_REF_PORT=str(self.port),
                   SAMBA_REF_USER=USER_A,
                   SAMBA_REF_PASS=self.users.get(USER_A, ''),
                   SAMBA_REF_PROFILE=self.profile,
                   SAMBA_REF_EXTRA_GLOBAL='\n'.join(
                       [sign] + self.extra_global),
                   SAMBA_REF_EXTRA_SHARE='\n'.join(self.extra_share))
        return env

    def _script(self, cmd, check=True):
        r = subprocess.run([self.script, cmd], env=self._env(),
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError('samba-ref-server.sh %s failed: %s%s' %
                               (cmd, r.stdout, r.stderr))
        return r

    def add_user(self, name, unix_name, password):
        if name != unix_name:
            raise RuntimeError('samba target: SMB name must equal unix name')
        ensure_unix_user(unix_name)
        r = subprocess.run(['smbpasswd', '-c', self.conf, '-D', '0', '-s',
                            '-a', name], input='%s\n%s\n' % (password, password),
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError('smbpasswd -a %s: %s' % (name, r.stderr))
        self.users[name] = password
        self.unix_users[name] = unix_name
        self._remember_users()

    def set_enabled(self, name, enabled):
        r = subprocess.run(['smbpasswd', '-c', self.conf,
                            '-e' if enabled else '-d', name],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError('smbpasswd -e/-d %s: %s' % (name, r.stderr))

    def start(self):
        os.makedirs(self.root, exist_ok=True)
        os.chmod(self.root, 0o755)
        ensure_unix_user(USER_A)
        self.users[USER_A] = 'Pw-' + secrets.token_hex(8)
        self.unix_users[USER_A] = USER_A
        self._script('start')
        self._prepare_dirs()
        self.add_user(USER_B, USER_B, 'Pw-' + secrets.token_hex(8))
        self._remember_users()
        return self

    def pid(self):
        r = subprocess.run([self.script, 'status'], env=self._env(),
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            return None
        parts = r.stdout.split()
        return int(parts[2]) if len(parts) > 2 and parts[2].isdigit() \
            else None

    def stop(self):
        self._script('stop', check=False)

    def log_tail(self, lines=40):
        try:
            with open(self.logfile, errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return ''


def make_target(kind, root, **kw):
    if kind == 'ours':
        kw.pop('profile', None)
        return OursTarget(root, **kw)
    if kind == 'samba':
        return SambaTarget(root, **kw)
    raise ValueError('SMB3_TARGET must be "ours" or "samba", not %r' % kind)


def connection_pids(server_pid):
    """Direct children of the server: one per client connection (both our
    smbd and Samba's fork per connection; Samba also has helper children,
    which the caller tells apart by age)."""
    kids = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            if int(fields[1]) == server_pid:
                kids.append(int(d))
        except (OSError, IndexError, ValueError):
            continue
    return kids


def pid_serving_port(server_pid, local_port):
    """The child of server_pid that serves the client TCP connection whose
    local (client-side) port is local_port: the child holding a socket
    whose peer is that port.  None if there is none."""
    inodes = set()
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if int(fields[2].rsplit(':', 1)[1], 16) == local_port:
                        inodes.add(fields[9])
        except OSError:
            continue
    for pid in connection_pids(server_pid):
        fd_dir = '/proc/%d/fd' % pid
        try:
            for fd in os.listdir(fd_dir):
                link = os.readlink(os.path.join(fd_dir, fd))
                if link.startswith('socket:[') and link[8:-1] in inodes:
                    return pid
        except OSError:
            continue
    return None

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('action', choices=['start', 'stop'])
    ap.add_argument('--target', default=os.environ.get('SMB3_TARGET', 'ours'))
    ap.add_argument('--root', required=True)
    ap.add_argument('--port', type=int)
    ap.add_argument('--profile', default='plain')
    ap.add_argument('--signing', default='mandatory')
    ap.add_argument('--global', dest='glob', action='append', default=[])
    ap.add_argument('--share', action='append', default=[])
    a = ap.parse_args()
    kw = dict(port=a.port, extra_global=a.glob, extra_share=a.share,
              signing=a.signing)
    if a.target == 'samba':
        kw['profile'] = a.profile
    t = make_target(a.target, a.root, **kw)
    if a.action == 'stop':
        if a.target == 'ours':
            # re-attach by the recorded pid file (started by another call)
            t.stop()
        else:
            t.port = a.port or t.port
            t.stop()
        return 0
    try:
        t.start()
    except Exception as e:  # report, never leave a half-started server
        print('smbtarget: %s' % e, file=sys.stderr)
        t.stop()
        return 1
    for k, v in t.shell_vars().items():
        print('%s=%s' % (k, shlex.quote(v)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
