"""Configuration errors are reported as FILE:LINE: message, by
smbconf-check (exit 1) and by smbd (refuses to start).  Our tools only:
Samba's testparm has its own wording and exit codes."""

import os
import re
import subprocess

import pytest

import smbtarget

pytestmark = pytest.mark.ours_only

BROKEN = {
    # name: (config text, 1-based line of the error)
    'unknown_parameter': ('[global]\n\tsmb ports = 4455\n'
                          '\tthis is not a parameter = 1\n', 3),
    'bad_boolean': ('[global]\n\tbind interfaces only = maybe\n', 2),
    'bad_port': ('[global]\n\tsmb ports = 99999999\n', 2),
    'line_without_equals': ('[global]\n\tsmb ports = 4455\n\n'
                            '\tjust some words\n', 4),
    'unterminated_section': ('[global]\n\tsmb ports = 4455\n[share\n'
                             '\tpath = /tmp\n', 3),
    'bad_signing_value': ('[global]\n\tserver signing = sometimes\n', 2),
}


@pytest.fixture(scope='module')
def tools():
    build = os.path.abspath(smbtarget.build_dir())
    t = {'check': os.path.join(build, 'tools', 'smbconf-check'),
         'smbd': os.path.join(build, 'smbd', 'smbd')}
    for exe in t.values():
        if not os.access(exe, os.X_OK):
            pytest.fail('%s is not built' % exe)
    return t


def write(tmp_path, text):
    p = tmp_path / 'smb.conf'
    p.write_text(text)
    return str(p)


def assert_points_at(output, conf, line):
    assert re.search(r'%s:%d: \S' % (re.escape(conf), line), output), \
        'expected "%s:%d: message" in:\n%s' % (conf, line, output)


@pytest.mark.parametrize('case', sorted(BROKEN))
def test_smbconf_check_reports_file_and_line(tools, tmp_path, case):
    text, line = BROKEN[case]
    conf = write(tmp_path, text)
    r = subprocess.run([tools['check'], conf], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert_points_at(r.stdout + r.stderr, conf, line)


@pytest.mark.parametrize('case', sorted(BROKEN))
def test_smbd_refuses_broken_config(tools, tmp_path, case):
    text, line = BROKEN[case]
    conf = write(tmp_path, text)
    try:
        r = subprocess.run([tools['smbd'], '-s', conf, '-F'],
                           capture_output=True, text=True, timeout=15,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail('smbd started (or hung) with a broken config')
    assert r.returncode != 0
    assert_points_at(r.stdout + r.stderr, conf, line)


def test_smbconf_check_accepts_the_test_config(tools, server):
    r = subprocess.run([tools['check'], server.conf], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr


def test_smbconf_check_missing_file(tools, tmp_path):
    r = subprocess.run([tools['check'], str(tmp_path / 'nope.conf')],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert 'nope.conf' in r.stdout + r.stderr
