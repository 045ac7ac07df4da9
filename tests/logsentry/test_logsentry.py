"""LogSentry 1.1's layout: logsieve against a reference built from LogSentry's
grep pipeline (reference.sh), line for line, on logs shaped like a real
server's, with the starter rule files the checker role installs."""

import email
import os
import re
import subprocess
import sys

import pytest

from benchmarks import corpus

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REFERENCE = os.path.join(HERE, "reference.sh")
STARTER = os.path.join(ROOT, "roles", "checker", "files", "logsentry")
FILES = ("logcheck.hacking", "logcheck.violations", "logcheck.violations.ignore",
         "logcheck.ignore")

# Lines that exercise what the corpus seldom shows: case (hacking and
# violations are egrep -i, the ignore files are not), attack lines that are
# also violations, a violation the ignore file misses by case.
HANDMADE = [
    "Nov 21 07:44:38 gw portsentry[77]: ATTACKALERT: TCP SYN/Normal scan from host: 203.0.113.9",
    "2026-11-21T07:44:39.000001+00:00 web1 sshd[88]: FAILED PASSWORD for root from 203.0.113.9",
    "2026-11-21T07:44:40.000001+00:00 web1 sshd[88]: failed password for root from 203.0.113.9",
    "Nov 21 07:44:41 mx postfix/smtpd[9]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: "
    "554 5.7.1 <a@example.net>: Relay Access Denied; from=<x@example.com>",
    "Nov 21 07:44:42 gw kernel: Oversized packet received from 203.0.113.9 denied",
    "Nov 21 07:44:43 gw CRON[5]: (ROOT) CMD (true)",
]


def logsieve(*args):
    return subprocess.run([sys.executable, "-m", "logsieve.cli", "--allow-root", *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)


@pytest.fixture
def bed(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    for name in FILES:
        (rules / name).write_bytes(open(os.path.join(STARTER, name), "rb").read())
    state = tmp_path / "state"
    state.mkdir()
    mailbox = tmp_path / "mail"
    sendmail = tmp_path / "sendmail"
    sendmail.write_text(f"#!/bin/sh\ncat > {mailbox}\n")
    sendmail.chmod(0o755)
    conf = tmp_path / "logcheck.conf"
    conf.write_text(f'LOCKDIR="{tmp_path}/lock"\nSENDMAIL="{sendmail}"\n')
    return {"tmp": tmp_path, "rules": rules, "state": state, "conf": conf, "mail": mailbox,
            "base": ["-c", str(conf), "-r", str(rules), "-S", str(state)]}


def write_logs(bed, count, seed):
    """Two logs (listed in an order their names do not sort in)."""
    lines = list(corpus.lines(count, seed=seed))
    logs = [bed["tmp"] / "messages", bed["tmp"] / "auth"]
    logs[0].write_text("\n".join(lines[: count // 2] + HANDMADE[:3]) + "\n")
    logs[1].write_text("\n".join(lines[count // 2:] + HANDMADE[3:]) + "\n")
    listing = bed["tmp"] / "logfiles"
    listing.write_text("".join(f"{log}\n" for log in logs))
    return logs, listing


def reference(rules, logs):
    done = subprocess.run(["sh", REFERENCE, str(rules), *map(str, logs)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return done.stdout, done.stderr.decode().strip()


@pytest.mark.parametrize("seed", [3, 17])
def test_same_report_as_logsentry_reference(bed, seed):
    logs, listing = write_logs(bed, 6000, seed)
    expected, subject_tail = reference(bed["rules"], logs)
    got = logsieve(*bed["base"], "-L", str(listing), "-D", str(bed["tmp"] / "none"), "-o", "-t")
    assert got.returncode == 0, got.stderr
    assert expected.count(b"\n") > 1000  # the corpus gives every section work
    for title in (b"Active System Attack Alerts", b"Security Violations", b"Unusual System Events"):
        assert b"\n" + title + b"\n" in expected
    assert got.stdout.split(b"\n") == expected.split(b"\n")
    assert subject_tail == "ACTIVE SYSTEM ATTACK!"


def test_subject_and_mail(bed):
    log = bed["tmp"] / "log"
    log.write_text("Nov 21 07:44:38 gw app[1]: something odd\n")
    got = logsieve(*bed["base"], "-l", str(log), "-H", "gw")
    assert got.returncode == 0, got.stderr
    message = email.message_from_bytes(bed["mail"].read_bytes())
    assert re.fullmatch(r"gw \d\d/\d\d/\d\d:\d\d\.\d\d system check", message["Subject"])
    body = message.get_payload(decode=True)
    assert body == (b"\nUnusual System Events\n=-=-=-=-=-=-=-=-=-=-=\n"
                    b"Nov 21 07:44:38 gw app[1]: something odd\n")
    tail = reference(bed["rules"], [log])[1]
    assert tail == "system check"
    # The cursor moved: nothing new, no mail.
    bed["mail"].unlink()
    assert logsieve(*bed["base"], "-l", str(log)).returncode == 0
    assert not bed["mail"].exists()
    with open(log, "a") as handle:
        handle.write("Nov 21 07:44:39 gw sshd[2]: Possible break-in attempt from 203.0.113.9\n")
    assert logsieve(*bed["base"], "-l", str(log), "-H", "gw").returncode == 0
    message = email.message_from_bytes(bed["mail"].read_bytes())
    assert message["Subject"].endswith(" ACTIVE SYSTEM ATTACK!")


@pytest.mark.parametrize("name, content, where, reason", [
    ("logcheck.ignore", b"CRON\n\nsshd\n", ":2: ", "blank rule"),
    ("logcheck.violations.ignore", b"x\n  \n", ":2: ", "blank rule"),
    ("logcheck.hacking", b"", ":1: ", "empty rule file"),
    ("logcheck.violations", b"ok\nfail(ed\n", ":2: fail(ed: ", "unmatched ("),
])
def test_bad_rule_file_stops_before_anything(bed, name, content, where, reason):
    (bed["rules"] / name).write_bytes(content)
    log = bed["tmp"] / "log"
    log.write_text("Nov 21 07:44:38 gw app[1]: something odd\n")
    got = logsieve(*bed["base"], "-l", str(log))
    assert got.returncode == 1
    message = got.stderr.decode()
    assert f"{bed['rules'] / name}{where}" in message and reason in message.lower(), message
    assert got.stdout == b""
    assert not bed["mail"].exists()
    assert os.listdir(bed["state"]) == []  # no cursor moved
