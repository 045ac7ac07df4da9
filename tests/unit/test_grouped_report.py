"""The grouped report (-u, --overview) and the JSON report, end to end: the
real command on real files."""

import json

import pytest

from tests.unit.test_cli import logsieve, setup  # noqa: F401 (setup: the fixture)

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
    assert b"backup of <PATH> failed \xff\xfe\n" in report
    assert b"a continuation line without a header\n" in report
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
