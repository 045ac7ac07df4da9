"""Privileges: no run as root unless told, owner-only state and temporary
files, and a real run as the `logcheck` user reading an `adm` log."""

import os
import shutil
import stat
import subprocess
import sys

import pytest

from .bed import Bed, reported_numbers


@pytest.fixture
def bed(tmp_path):
    return Bed(str(tmp_path))


def test_refuses_root_without_allow_root(bed):
    if os.geteuid() != 0:
        pytest.skip("runs as root only")
    bed.append(bed.logs[0], ["line 1"])
    command = [c for c in bed.command("-o") if c != "--allow-root"]
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=bed.environment(), check=False)
    assert completed.returncode == 1
    assert b"should not be run as root" in completed.stderr
    assert completed.stdout == b""
    assert os.listdir(bed.statedir) == []


def test_state_files_are_owner_only_whatever_the_umask(bed):
    bed.append(bed.logs[0], ["line 1"])
    command = " ".join(bed.command("-o"))
    completed = subprocess.run(["sh", "-c", f"umask 000; exec {command}"], env=bed.environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    assert completed.returncode == 0, completed.stderr.decode()
    for name in os.listdir(bed.statedir):
        assert stat.S_IMODE(os.stat(os.path.join(bed.statedir, name)).st_mode) == 0o600, name
    lock = os.path.join(bed.path, "lock", "logsieve.lock")
    assert stat.S_IMODE(os.stat(lock).st_mode) == 0o600
    assert os.listdir(os.path.join(bed.path, "tmp")) == []


def logcheck_user_can_run(python):
    try:
        return subprocess.run(["runuser", "-u", "logcheck", "--", python, "-c", "import re2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              check=False).returncode == 0
    except OSError:
        return False


@pytest.fixture
def public_bed():
    """A bed the logcheck user can enter (pytest's tmp_path is root's alone)."""
    bed = Bed()
    yield bed
    shutil.rmtree(bed.path, ignore_errors=True)


def test_runs_as_logcheck_in_adm(public_bed):
    """As cron runs it: user logcheck, member of adm, reading a root:adm 0640
    log; its state directory is its own, 0700."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to the logcheck user")
    if not logcheck_user_can_run(sys.executable):
        pytest.skip(f"the logcheck user cannot run {sys.executable} (build the venv on /usr/bin/python3)")
    bed = public_bed
    import grp
    import pwd
    logcheck = pwd.getpwnam("logcheck")
    adm = grp.getgrnam("adm").gr_gid
    bed.append(bed.logs[0], ["line 1", "line 2"])
    os.chown(bed.logs[0], 0, adm)
    os.chmod(bed.logs[0], 0o640)
    for directory in ("state", "lock", "tmp"):
        os.chown(os.path.join(bed.path, directory), logcheck.pw_uid, logcheck.pw_gid)
        os.chmod(os.path.join(bed.path, directory), 0o700)
    command = [c for c in bed.command("-o") if c != "--allow-root"]
    completed = subprocess.run(["runuser", "-u", "logcheck", "--", *command],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    assert completed.returncode == 0, completed.stderr.decode()
    assert reported_numbers(completed.stdout.decode()) == [1, 2]
    for name in os.listdir(bed.statedir):
        status = os.stat(os.path.join(bed.statedir, name))
        assert status.st_uid == logcheck.pw_uid
        assert stat.S_IMODE(status.st_mode) == 0o600
