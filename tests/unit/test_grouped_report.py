"""The grouped report (-u, --overview) and the JSON report, end to end: the
real command on real files."""

import json
import os
import subprocess
import sys

import pytest

# setup: the fixture of test_cli, used by name
from tests.unit.test_cli import logsieve, setup  # noqa: F401 pylint: disable=unused-import

LOG = (b"Nov 21 07:00:00 web1 app[1]: tick 1\n"
       b"Nov 21 07:00:01 web1 sshd[10]: Invalid user admin from 198.51.100.7 port 40001\n"
       b"Nov 21 07:00:02 web2 sshd[11]: Invalid user test from 198.51.100.8 port 40002\n"
       b"Nov 21 07:00:03 web1 sshd[12]: Invalid user admin from 198.51.100.7 port 40003\n"
       b"Nov 21 07:00:04 web1 backup[5]: backup of /srv failed \xff\xfe\n"
       b"    a continuation line without a header\n"
       b"Nov 21 07:00:05 web1 su[7]: FAILED SU (to root) alice on pts/0\n")


@pytest.fixture
def grouped(setup):
    (setup["rules"] / "violations.d" / "su").write_text(r"su\[[0-9]+\]: FAILED SU" + "\n")
    setup["log"].write_bytes(LOG)
    return setup


def run(setup, *flags):
    completed = logsieve(*setup["base"], "-t", "-l", str(setup["log"]), *flags)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_grouped_report(grouped):
    report = run(grouped, "-u")
    assert report.startswith(b"Security Events for su\n=-=-=-=-=-=-=-=-=-=-=-\n")
    assert b"      3  sshd: Invalid user <USER> from <IP> port <NUM>\n" in report
    assert b"<USER> admin (2), test (1)\n" in report
    assert b"on web1 (2), web2 (1)" in report
    # a group of one line shows the line, not a template and its values
    assert b"      1  backup: backup of /srv failed \xff\xfe\n" \
           b"          at Nov 21 07:00:04 on web1\n" in report
    assert b"<PATH>" not in report
    # nothing to say of when and where a line without a header was seen
    assert b"      1  a continuation line without a header\n\n" in report
    assert b"tick" not in report  # ignored by the rules, as without -u
    assert b"Lines per program" not in report


def test_overview_and_syslogsummary_2(grouped):
    report = run(grouped, "--overview")
    assert report.startswith(b"Lines per program\n")
    assert b"      3  sshd          System Events\n" in report
    conf = grouped["tmp"] / "logcheck.conf"
    conf.write_text(conf.read_text() + "SYSLOGSUMMARY=2\n")
    assert run(grouped) == report


def test_plain_report_unchanged_without_u(grouped):
    report = run(grouped)
    events = report.split(b"System Events\n=-=-=-=-=-=-=\n")[1]
    assert sorted(events.splitlines()) == sorted(
        [line for line in LOG.splitlines() if b"tick" not in line and b"FAILED SU" not in line]
        + [b""])


def test_json_lines_per_line(grouped):
    objects = [json.loads(line) for line in run(grouped, "--format", "json").splitlines()]
    assert {obj["section"] for obj in objects} == {"Security Events for su", "System Events"}
    sshd = [obj for obj in objects if obj["program"] == "sshd"]
    assert len(sshd) == 3
    assert sshd[0] == {
        "section": "System Events",
        "line": "Nov 21 07:00:01 web1 sshd[10]: Invalid user admin from 198.51.100.7 port 40001",
        "time": sshd[0]["time"], "host": "web1", "program": "sshd", "pid": 10,
        "message": "Invalid user admin from 198.51.100.7 port 40001",
        "template": "Invalid user <USER> from <IP> port <NUM>"}
    assert sshd[0]["time"].endswith("-11-21T07:00:01")
    backup = next(obj for obj in objects if obj["program"] == "backup")
    assert backup["line"].endswith("failed \\xff\\xfe")  # invalid UTF-8 stays visible
    headerless = next(obj for obj in objects if obj["program"] is None)
    assert headerless["time"] is None and headerless["pid"] is None


def test_json_lines_per_group(grouped):
    objects = [json.loads(line) for line in run(grouped, "--format", "json", "-u").splitlines()]
    group = next(obj for obj in objects if obj["program"] == "sshd")
    assert group["count"] == 3 and group["hosts"] == {"web1": 2, "web2": 1}
    assert group["template"] == "Invalid user <USER> from <IP> port <NUM>"
    assert group["placeholders"][0] == {"type": "USER", "text": "<USER>",
                                        "values": [["admin", 2], ["test", 1]]}
    assert group["first"].endswith("T07:00:01") and group["last"].endswith("T07:00:03")
    assert sum(obj["count"] for obj in objects) == 6


def test_unknown_format_is_refused(grouped):
    completed = logsieve(*grouped["base"], "-t", "-l", str(grouped["log"]), "--format", "xml")
    assert completed.returncode == 1
    conf = grouped["tmp"] / "logcheck.conf"
    conf.write_text(conf.read_text() + "REPORT_FORMAT=xml\n")
    completed = logsieve(*grouped["base"], "-t", "-l", str(grouped["log"]))
    assert completed.returncode == 1 and b"REPORT_FORMAT" in completed.stderr


def test_workers_fold_as_one_process_does(setup):
    # Several 1 MiB blocks: the workers fold all but the first; fewer
    # distinct values than the counters' bound, so every count is exact.
    lines = []
    for number in range(30000):
        user = [b"root", b"admin", b"test", b"oracle", b"pi"][number % 5]
        lines.append(b"Nov 21 %02d:%02d:%02d web%d sshd[%d]: Failed password for %s from "
                     b"203.0.113.%d port %d ssh2" % (
                         number // 3600 % 24, number // 60 % 60, number % 60, number % 3,
                         100 + number % 900, user, number % 200, 1024 + number % 700))
        if number % 7 == 0:
            lines.append(b"Nov 21 10:00:00 db kernel: [%d.%d] eth%d: link up"
                         % (number, number % 9, number % 2))
    setup["log"].write_bytes(b"\n".join(lines) + b"\n")
    assert setup["log"].stat().st_size > 2 << 20
    command = [*setup["base"], "-t", "-l", str(setup["log"]), "-u"]
    reports = []
    for workers in ("1", "2"):
        completed = subprocess.run([sys.executable, "-m", "logsieve.cli", "--allow-root", *command],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=dict(os.environ, LOGSIEVE_WORKERS=workers), check=False)
        assert completed.returncode == 0, completed.stderr
        reports.append(completed.stdout)
    assert reports[0] == reports[1]
    assert b"  30000  sshd: Failed password for <*> from <IP> port <NUM> ssh<NUM>\n" in reports[0]
    assert b"<*> admin (6000), oracle (6000), pi (6000), root (6000), test (6000)\n" in reports[0]
