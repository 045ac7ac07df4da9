"""Run Debian's logcheck and logsieve on the same input and compare.

logcheck must run as the `logcheck` user (it refuses root), so everything it
reads lives in a world-readable scratch directory.
"""

import os
import shutil
import subprocess
import sys
import tempfile

LOGCHECK = "/usr/sbin/logcheck"


def require_logcheck():
    """The reference must be there: a missing one is a failure, never a skip."""
    assert os.path.exists(LOGCHECK), (
        "Debian's logcheck is not installed (apt-get install logcheck logcheck-database); "
        "the differential tests compare against it")


class Scratch:
    """A world-readable directory with a rule tree, a configuration and logs."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="logsieve-diff-", dir="/tmp")
        os.chmod(self.path, 0o755)
        self.statedir = self.mkdir("state")
        os.chmod(self.statedir, 0o777)

    def mkdir(self, name):
        path = os.path.join(self.path, name)
        os.makedirs(path, exist_ok=True)
        os.chmod(path, 0o755)
        return path

    def write(self, name, data, mode=0o644):
        path = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data if isinstance(data, bytes) else data.encode())
        os.chmod(path, mode)
        return path

    def copy_rules(self, source="/etc/logcheck"):
        target = os.path.join(self.path, "rules")
        shutil.copytree(source, target, symlinks=False)
        for directory, dirs, files in os.walk(target):
            os.chmod(directory, 0o755)
            for name in files:
                os.chmod(os.path.join(directory, name), 0o644)
        return target

    def conf(self, **variables):
        # logsieve's lock in the scratch directory, so tests can run beside a real checker.
        variables.setdefault("LOCKDIR", self.mkdir("lock"))
        text = "".join(f'{name}="{value}"\n' for name, value in variables.items())
        return self.write("logcheck.conf", text)

    def compare(self, rules, log, locale="C", **settings):
        """Both checkers on `log` with `rules` and a logcheck.conf of `settings`
        (`-o -t`: report to standard output, cursors left alone)."""
        conf = self.conf(**settings)
        return compare(["-c", conf, "-r", rules, "-S", self.statedir, "-o", "-t", "-l", log],
                       locale)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def run_logcheck(args, locale="C"):
    command = ["runuser", "-u", "logcheck", "--", "env", f"LC_ALL={locale}", "TMP=/tmp",
               LOGCHECK] + args
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)


def run_logsieve(args, locale="C"):
    command = [sys.executable, "-m", "logsieve.cli", "--allow-root"] + args
    environment = dict(os.environ, LC_ALL=locale)
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
                          env=environment)


def compare(args, locale="C"):
    """Run both with the same arguments; return (logcheck, logsieve) results."""
    reference = run_logcheck(args, locale)
    candidate = run_logsieve(args, locale)
    return reference, candidate


def first_difference(expected, actual):
    expected_lines = expected.split(b"\n")
    actual_lines = actual.split(b"\n")
    for number, (left, right) in enumerate(zip(expected_lines, actual_lines), start=1):
        if left != right:
            return f"line {number}:\n  logcheck: {left[:300]!r}\n  logsieve: {right[:300]!r}"
    return (f"lengths differ: logcheck {len(expected_lines)} lines, "
            f"logsieve {len(actual_lines)} lines")


def assert_same_report(reference, candidate):
    assert reference.returncode == 0, reference.stderr.decode(errors="replace")
    assert candidate.returncode == 0, candidate.stderr.decode(errors="replace")
    assert reference.stdout == candidate.stdout, first_difference(reference.stdout, candidate.stdout)
