"""The `logsieve` command end to end: real processes on real files, and cursor
compatibility with Debian's logtail2."""

import os
import subprocess
import sys

import pytest

LOGTAIL2 = "/usr/sbin/logtail2"
PREFIX = r"^(\w{3} [ :[:digit:]]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ "


def logsieve(*args, allow_root=True):
    command = [sys.executable, "-m", "logsieve.cli"] + (["--allow-root"] if allow_root else [])
    return subprocess.run(command + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=False)


@pytest.fixture
def setup(tmp_path):
    rules = tmp_path / "rules"
    (rules / "ignore.d.server").mkdir(parents=True)
    (rules / "ignore.d.server" / "app").write_text(PREFIX + r"app\[[0-9]+\]: tick [0-9]+$" + "\n")
    (rules / "violations.d").mkdir()
    (rules / "cracking.d").mkdir()
    state = tmp_path / "state"
    state.mkdir()
    conf = tmp_path / "logcheck.conf"
    conf.write_text(f'REPORTLEVEL="server"\nINTRO=0\nLOCKDIR="{tmp_path}/lock"\n')
    log = tmp_path / "syslog"
    log.write_bytes(b"Nov 21 07:00:00 web1 app[1]: tick 1\nNov 21 07:00:01 web1 app[1]: boom 1\n")
    base = ["-c", str(conf), "-r", str(rules), "-S", str(state), "-o"]
    return {"tmp": tmp_path, "rules": rules, "state": state, "log": log, "base": base}


def offset_file(setup):
    return setup["state"] / ("offset" + str(setup["log"]).replace("/", "."))


def append(path, text):
    with open(path, "ab") as handle:
        handle.write(text)


def test_report_and_cursor(setup):
    first = logsieve(*setup["base"], "-l", str(setup["log"]))
    assert first.returncode == 0, first.stderr
    assert first.stdout == b"System Events\n=-=-=-=-=-=-=\nNov 21 07:00:01 web1 app[1]: boom 1\n\n"
    inode = os.stat(setup["log"]).st_ino
    # logtail2's two lines first (anything after them logtail2 ignores)
    assert offset_file(setup).read_text().splitlines()[:2] == [
        str(inode), str(os.path.getsize(setup["log"]))]
    assert oct(os.stat(offset_file(setup)).st_mode & 0o777) == "0o600"
    # Nothing new: no report at all.
    again = logsieve(*setup["base"], "-l", str(setup["log"]))
    assert again.returncode == 0 and again.stdout == b""
    append(setup["log"], b"Nov 21 07:00:02 web1 app[1]: boom 2\n")
    third = logsieve(*setup["base"], "-l", str(setup["log"]))
    assert third.stdout.splitlines()[2:-1] == [b"Nov 21 07:00:02 web1 app[1]: boom 2"]


def test_test_mode_does_not_move_cursors(setup):
    for _run in range(2):
        result = logsieve(*setup["base"], "-t", "-l", str(setup["log"]))
        assert b"boom 1" in result.stdout
    assert not offset_file(setup).exists()


@pytest.mark.debian
def test_cursor_is_shared_with_logtail2(setup):
    assert os.path.exists(LOGTAIL2), "Debian's logtail2 (package logtail) is needed"
    log, offsets = str(setup["log"]), str(offset_file(setup))
    # logtail2 reads first and writes the cursor; logsieve goes on from it.
    seen = subprocess.run([LOGTAIL2, "-f", log, "-o", offsets], stdout=subprocess.PIPE, check=True)
    assert b"boom 1" in seen.stdout
    append(setup["log"], b"Nov 21 07:00:03 web1 app[1]: after logtail2\n")
    result = logsieve(*setup["base"], "-l", log)
    assert result.stdout.splitlines()[2:-1] == [b"Nov 21 07:00:03 web1 app[1]: after logtail2"]
    # and logtail2 goes on from logsieve's cursor.
    append(setup["log"], b"Nov 21 07:00:04 web1 app[1]: after logsieve\n")
    seen = subprocess.run([LOGTAIL2, "-f", log, "-o", offsets], stdout=subprocess.PIPE, check=True)
    assert seen.stdout == b"Nov 21 07:00:04 web1 app[1]: after logsieve\n"


def test_rotation_reads_the_rest_of_the_rotated_file_first(setup):
    log = str(setup["log"])
    assert logsieve(*setup["base"], "-l", log).returncode == 0
    append(setup["log"], b"Nov 21 07:00:05 web1 app[1]: before rotation\n")
    os.rename(log, log + ".1")
    setup["log"].write_bytes(b"Nov 21 07:00:06 web1 app[1]: after rotation\n")
    result = logsieve(*setup["base"], "-l", log)
    assert result.stdout.splitlines()[2:-1] == [
        b"Nov 21 07:00:05 web1 app[1]: before rotation",
        b"Nov 21 07:00:06 web1 app[1]: after rotation"]


def test_truncation_is_reported_with_a_warning(setup):
    log = str(setup["log"])
    assert logsieve(*setup["base"], "-l", log).returncode == 0
    setup["log"].write_bytes(b"Nov 21 07:00:07 web1 app[1]: x\n")
    result = logsieve(*setup["base"], "-l", log)
    # logtail2-style warning lines (their wording says whether the file shrank
    # in place or its start changed: see tests/reliability/test_cursor.py)
    assert f"*** WARNING ***: Log file {log} ".encode() in result.stdout
    assert b"Nov 21 07:00:07 web1 app[1]: x" in result.stdout


def test_bad_rule_stops_the_run_before_anything_moves(setup):
    bad = setup["rules"] / "ignore.d.server" / "local-broken"
    bad.write_text("# a comment\n" + PREFIX + r"app\[(unclosed$" + "\n")
    result = logsieve(*setup["base"], "-l", str(setup["log"]))
    assert result.returncode == 1
    assert result.stdout == b""
    assert f"{bad}:2: ".encode() in result.stderr
    assert b"Unmatched ( or \\(" in result.stderr  # grep -E's own words
    assert not offset_file(setup).exists()


def test_listed_log_that_does_not_exist_is_reported(setup):
    listing = setup["tmp"] / "logfiles"
    listing.write_text(f"# logs\n{setup['log']}\n/nonexistent/log\n")
    empty = setup["tmp"] / "logfiles.d"
    empty.mkdir()
    result = logsieve(*setup["base"], "-t", "-L", str(listing), "-D", str(empty))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"\nE: File could not be read: /nonexistent/log\n\n")
    assert b"boom 1" in result.stdout


def test_refuses_root_unless_told(setup):
    args = [*setup["base"], "-t", "-l", str(setup["log"])]
    result = logsieve(*args, allow_root=False)
    refused = b"should not be run as root" in result.stderr
    assert refused == (os.geteuid() == 0)
    if refused:
        assert result.returncode == 1 and result.stdout == b""
        result = logsieve(*args)  # told: --allow-root
    # Told, or not root: the run goes on and reports.
    assert result.returncode == 0, result.stderr.decode()
    assert b"web1 app[1]: boom 1" in result.stdout


def test_version_and_usage():
    assert logsieve("-v").stdout.startswith(b"logsieve ")
    assert b"usage: logsieve" in logsieve("-h").stdout
    assert logsieve("-Z").returncode == 1


# --- logsieve test -------------------------------------------------------------------

def run_test(*args):
    return subprocess.run([sys.executable, "-m", "logsieve.cli", "test"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)


@pytest.fixture
def sample(tmp_path):
    log = tmp_path / "sample.log"
    log.write_bytes(b"Nov 21 07:44:38 web1 sshd[1]: Accepted key   \n"
                    b"2026-11-21T07:44:38.930427+00:00 web1 sshd[2]: Accepted key\n"
                    b"2026-11-21T07:44:38Z web1 sshd-session[3]: Accepted key\n"
                    b"Nov 21 07:44:39 web1 cron[4]: job\n")
    return log


def test_logcheck_test_rule_with_standard_prefix(sample):
    result = run_test("-q", "-e", "-l", str(sample), r"sshd(-session)?\[[0-9]+\]: Accepted key")
    assert result.returncode == 0
    # All three time stamp forms, trailing blanks stripped first.
    assert result.stdout.count(b"Accepted key\n") == 3


def test_logcheck_test_invert_and_summary(sample):
    result = run_test("-i", "-l", str(sample), "sshd")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == b"Nov 21 07:44:39 web1 cron[4]: job"
    assert lines[1] == b"=" * 80
    assert lines[2] == f"parsed file: {sample}".encode()
    assert lines[3] == b"used rule: 'sshd'"


def test_logcheck_test_rule_file_and_directory(sample, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "cron").write_text("# comment\n" + PREFIX + r"cron\[[0-9]+\]: job$" + "\n")
    by_file = run_test("-q", "-l", str(sample), "-r", str(rules / "cron"))
    by_dir = run_test("-q", "-l", str(sample), "-r", str(rules))
    assert by_file.stdout == by_dir.stdout == b"Nov 21 07:44:39 web1 cron[4]: job\n"


def test_logcheck_test_exit_status(sample):
    assert run_test("-q", "-l", str(sample), "no such text").returncode == 1
    broken = run_test("-q", "-l", str(sample), "unclosed(")
    assert broken.returncode == 2 and b"Unmatched ( or \\(" in broken.stderr
    assert run_test("-q", "nothing").returncode == 2  # no log file


# --- a rule the `regex` package cannot decide in time --------------------------------

# A back-reference (so RE2 cannot run it) whose alternation backtracks
# exponentially on a long run of "a" followed by one "b" where it needs two
# (RE2's approximation, without the back-reference, lets the line through).
SLOW_RULE = r"^(a|aa)+(b)\2$"
SLOW_LINE = b"a" * 300 + b"bc"


def test_logcheck_test_says_which_rule_timed_out(tmp_path):
    log = tmp_path / "slow.log"
    log.write_bytes(SLOW_LINE + b"\n")
    result = run_test("-q", "-l", str(log), SLOW_RULE)
    assert result.returncode == 1          # taken as not matched
    assert b"WARNING: rule <command line>:1: " + SLOW_RULE.encode() in result.stderr
    assert b"could not decide 1 line(s)" in result.stderr


def test_debug_output_says_which_rule_timed_out(setup):
    (setup["rules"] / "ignore.d.server" / "slow").write_text(SLOW_RULE + "\n")
    with open(setup["log"], "ab") as log:
        log.write(SLOW_LINE + b"\n")
    result = logsieve(*setup["base"], "-d", "-l", str(setup["log"]))
    assert result.returncode == 0, result.stderr.decode()
    assert SLOW_LINE in result.stdout      # the line is not hidden
    slow_file = str(setup["rules"] / "ignore.d.server" / "slow")
    assert f"rule {slow_file}:1: {SLOW_RULE} could not decide 1 line(s)".encode() \
        in result.stderr
