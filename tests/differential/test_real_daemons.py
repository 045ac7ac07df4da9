"""Differential tests on logs written by real daemons in a Debian 12 container.

The corpus (tests/differential/real_daemons.py) holds what sshd, cron,
systemd, postfix, su and sudo logged in a container with systemd as PID 1,
plus injected kernel-firewall lines, in Debian 12's RFC 3339 files and in a
classic-format copy.  For each file and each report level, logsieve's report
must equal Debian's logcheck's, byte for byte, with Debian's own rules.

Podman and the image localhost/logsieve-test:bookworm are required: when they
are missing these tests fail (CI builds the image first), they never skip.
"""

import re

import pytest

from logsieve.levels import REPORT_LEVELS
from tests.differential import real_daemons
from tests.differential.harness import assert_same_report


CLASSIC = rb"[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d"
RFC3339 = rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d"
HOST = rb" [._A-Za-z0-9-]+ "

# What each daemon must have left in the corpus; the tests below would pass on
# an empty file, so these make sure the corpus really holds the daemons' lines.
EXPECTED = {
    "sshd": rb"sshd\[\d+\]: Accepted publickey for alice from 127\.0\.0\.1",
    "sshd failed password": rb"sshd\[\d+\]: Failed password for alice from",
    "sshd invalid user": rb"sshd\[\d+\]: Invalid user nosuchuser from",
    "sshd closed before auth": rb"sshd\[\d+\]: Connection closed by authenticating user \w+ ",
    "CRON": rb"CRON\[\d+\]: \(root\) CMD \(echo logsieve-corpus-tick",
    "systemd": rb"systemd\[1\]: logsieve-corpus-fail\.service: Failed with result",
    "postfix": rb"postfix/local\[\d+\]: \w+: to=<nosuchuser@[^>]*>.*status=bounced",
    "postfix delivered": rb"postfix/local\[\d+\]: \w+: to=<alice@[^>]*>.*status=sent",
    "su": rb"su\[\d+\]: FAILED SU \(to root\) alice on none$",
    "su on a terminal": rb"su\[\d+\]: FAILED SU \(to root\) alice on pts/\d+$",
    "sudo on a terminal": rb"sudo: +alice : TTY=pts/\d+ ; .*COMMAND=/usr/bin/uptime$",
    "sudo": rb"sudo: +alice : .*COMMAND=/usr/bin/id",
    "kernel": rb"kernel: \[UFW BLOCK\] IN=eth0 OUT= MAC=",
    "kernel plain": rb"kernel: IN=eth0 OUT= MAC=[0-9a-f:]+ SRC=",
}


@pytest.fixture(scope="module")
def corpus():
    """The corpus files as {name: path}; a missing podman or image fails here."""
    try:
        return real_daemons.corpus()
    except real_daemons.CorpusError as error:
        pytest.fail(f"real-daemon corpus unavailable: {error}", pytrace=False)


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


@pytest.mark.differential
def test_corpus_holds_every_daemon_in_both_time_stamp_forms(corpus):
    rfc3339 = read(corpus["syslog"]) + read(corpus["auth.log"]) + read(corpus["mail.log"])
    classic = read(corpus["classic.log"])
    for form, text, stamp in (("RFC 3339", rfc3339, RFC3339), ("classic", classic, CLASSIC)):
        for what, pattern in EXPECTED.items():
            line = re.compile(rb"^" + stamp + HOST + pattern, re.MULTILINE)
            assert line.search(text), f"no {what} line with {form} time stamps: /{pattern.decode()}/"


@pytest.mark.differential
@pytest.mark.parametrize("name", real_daemons.LOG_FILES)
def test_corpus_file_uses_one_time_stamp_form(corpus, name):
    lines = read(corpus[name]).splitlines()
    assert len(lines) >= 20, f"{name} holds only {len(lines)} lines"
    stamp = CLASSIC if name == "classic.log" else RFC3339
    line = re.compile(b"^" + stamp + HOST + rb"\S")
    odd = [entry for entry in lines if not line.match(entry)]
    assert not odd, f"{name}: lines without the expected time stamp: {odd[:5]!r}"


@pytest.mark.differential
@pytest.mark.parametrize("level", REPORT_LEVELS)
@pytest.mark.parametrize("name", real_daemons.LOG_FILES)
def test_debian_rules_real_daemon_log(corpus, scratch, name, level):
    rules = scratch.copy_rules()
    log = scratch.write(name, read(corpus[name]))
    reference, candidate = scratch.compare(rules, log, REPORTLEVEL=level)
    assert_same_report(reference, candidate)


@pytest.mark.differential
@pytest.mark.parametrize("name", ["syslog", "classic.log"])
def test_real_daemon_log_as_cron_runs_it(corpus, scratch, name):
    """C.UTF-8 (cron's locale for logcheck) and SORTUNIQ on the same real lines."""
    rules = scratch.copy_rules()
    log = scratch.write(name, read(corpus[name]))
    reference, candidate = scratch.compare(rules, log, locale="C.UTF-8",
                                           REPORTLEVEL="server", SORTUNIQ="1")
    assert_same_report(reference, candidate)
