"""pytest fixtures: the server under test and client helpers.

Select the server with SMB3_TARGET=ours|samba (or --target); default ours.
  ours   the freshly built smbd from $SMB3_BUILD (default ./build)
  samba  Debian's smbd via shared/tools/samba-ref-server.sh ("plain"
         profile: Debian defaults), used to prove that the tests are right.
Tests marked @pytest.mark.ours_only exercise our own tools (smbuser,
smbconf-check, their messages) and are skipped against Samba.
SMB3_KEEP=1 keeps the temporary server directories for inspection.
SMB3_EXTRA_GLOBAL / SMB3_EXTRA_SHARE add config lines to the shared server.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smbtarget  # noqa: E402


def pytest_addoption(parser):
    parser.addoption('--target', default=None,
                     help='ours (default) or samba; overrides SMB3_TARGET')


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'ours_only: needs our own tools/messages, skipped for '
        'the Samba reference')
    config.addinivalue_line(
        'markers', 'slow: large transfers (still part of the default run)')


def target_kind(config):
    kind = config.getoption('--target') or os.environ.get('SMB3_TARGET',
                                                          'ours')
    if kind not in ('ours', 'samba'):
        raise pytest.UsageError('SMB3_TARGET must be ours or samba')
    return kind


def pytest_collection_modifyitems(config, items):
    if target_kind(config) == 'ours':
        return
    skip = pytest.mark.skip(reason='only meaningful for our server')
    for item in items:
        if 'ours_only' in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope='session')
def kind(pytestconfig):
    return target_kind(pytestconfig)


class ServerFactory:
    """Starts servers in private temp dirs and stops them all at the end."""

    def __init__(self, kind):
        self.kind = kind
        self.started = []

    def __call__(self, extra_global=(), extra_share=(), signing='mandatory'):
        root = tempfile.mkdtemp(prefix='smb3it.', dir='/var/tmp')
        t = smbtarget.make_target(self.kind, root, extra_global=extra_global,
                                  extra_share=extra_share, signing=signing)
        self.started.append(t)
        try:
            t.start()
        except Exception as e:
            pytest.fail('could not start the %s server: %s' % (self.kind, e))
        return t

    def stop(self, t):
        t.stop()
        if os.environ.get('SMB3_KEEP') != '1':
            shutil.rmtree(t.root, ignore_errors=True)

    def stop_all(self):
        while self.started:
            self.stop(self.started.pop())


@pytest.fixture(scope='session')
def server_factory(kind):
    f = ServerFactory(kind)
    yield f
    f.stop_all()


def _env_lines(name):
    return [l.strip() for l in os.environ.get(name, '').split(';')
            if l.strip()]


@pytest.fixture(scope='session')
def server(server_factory):
    """The shared server for most tests (signing mandatory).
    SMB3_EXTRA_GLOBAL / SMB3_EXTRA_SHARE ("k = v; k2 = v2") add lines, e.g.
    to prove that a test fails on a misconfigured server."""
    return server_factory(extra_global=_env_lines('SMB3_EXTRA_GLOBAL'),
                          extra_share=_env_lines('SMB3_EXTRA_SHARE'))


@pytest.fixture(autouse=True)
def server_survives(request):
    """Every test that used the shared server must leave it running."""
    yield
    if 'server' in request.fixturenames:
        t = request.getfixturevalue('server')
        assert t.pid() is not None, \
            'the server process died; log tail:\n' + t.log_tail()


def run_smbclient(t, commands, user=smbtarget.USER_A, password=None,
                  dialect=None, sign=True, debug=1, timeout=120,
                  path=''):
    """Run Debian's smbclient against target t.  dialect forces both the
    minimum and the maximum protocol, so nothing else can be negotiated."""
    if password is None:
        password = t.password(user)
    args = ['smbclient', t.unc(path), '-p', str(t.port),
            '-U', '%s%%%s' % (user, password), '-d', str(debug)]
    if dialect:
        args += ['-m', dialect, '--option=client min protocol=%s' % dialect]
    if sign:
        args += ['--client-protection=sign']
    args += ['-c', commands]
    return subprocess.run(args, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def smbclient(server):
    def run(commands, **kw):
        return run_smbclient(server, commands, **kw)
    return run


@pytest.fixture
def share_dir(server):
    """A fresh, empty directory inside the share, removed afterwards; its
    name relative to the share root is returned as .name."""
    name = 'td_%s' % os.urandom(4).hex()
    path = os.path.join(server.share_path, name)
    os.mkdir(path)
    os.chmod(path, 0o777)

    class D:
        pass
    d = D()
    d.name, d.path = name, path
    yield d
    shutil.rmtree(path, ignore_errors=True)
