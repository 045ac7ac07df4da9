"""`logsieve suggest`: rules written from the lines, checked before printing.

The rules are applied the way logcheck applies them (GNU grep -E in
C.UTF-8), and the safety checks run against Debian's real rule database."""

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from logsieve import mustreport, suggest
from logsieve.rules import SYSLOG_PREFIX
from logsieve.ruletext import anchoring_problem

DEBIAN_RULES = "/etc/logcheck"


def run_suggest(tmp_path, *args, stdin=None):
    conf = tmp_path / "logcheck.conf"
    if not conf.exists():
        conf.write_text(f"STATEDIR={tmp_path}\n")
    tree = tmp_path / "tree"
    tree.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "logsieve.cli", "suggest", "-c", str(conf),
                           "-r", str(tree), *args], input=stdin, capture_output=True, check=False)


def rules_of(output):
    return [line for line in output.split(b"\n") if line and not line.startswith(b"#")]


def grep_matches(rules, lines, tmp_path):
    """The lines GNU grep in C.UTF-8 matches with these rules (as logcheck)."""
    (tmp_path / "rules").write_bytes(b"\n".join(rules) + b"\n")
    (tmp_path / "lines").write_bytes(b"\n".join(lines) + b"\n")
    done = subprocess.run(["grep", "-E", "-f", str(tmp_path / "rules"), str(tmp_path / "lines")],
                          env=dict(os.environ, LC_ALL="C.UTF-8"), capture_output=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout.splitlines()


def sshd_lines(users, start=0):
    return [b"Nov 21 07:%02d:%02d web1 sshd[%d]: Accepted password for %s from 192.0.2.%d port %d "
            b"ssh2" % (n // 60, n % 60, 1000 + n, user, n % 250 + 1, 40000 + n)
            for n, user in enumerate(users, start=start)]


def test_a_group_becomes_one_anchored_rule_that_grep_applies_to_new_lines(tmp_path):
    log = [b"Nov 21 07:44:%02d gw1 dhclient[%d]: DHCPACK of 10.0.0.%d from 10.0.0.1 (xid=0x%08x)"
           % (n, 500 + n, n + 2, 0x1234abcd + n * 77) for n in range(6)]
    (tmp_path / "log").write_bytes(b"\n".join(log) + b"\n")
    done = run_suggest(tmp_path, "-l", str(tmp_path / "log"))
    assert done.returncode == 0, done.stderr
    rules = rules_of(done.stdout)
    assert len(rules) == 1
    rule = rules[0]
    assert rule.startswith(b"^" + SYSLOG_PREFIX.encode()[1:])
    assert anchoring_problem(rule) is None
    # The constant server address never varied: literal; the others are shapes.
    assert b"from 10\\.0\\.0\\.1 " in rule
    assert b"[[:digit:]]{1,3}" in rule and b"[[:xdigit:]]" in rule
    assert b"# 6 lines, e.g.: " + log[0] in done.stdout
    new = [b"2026-11-22T01:02:03.456789+01:00 gw1 dhclient[77]: DHCPACK of 10.0.0.99 from "
           b"10.0.0.1 (xid=0x0badcafe)",
           b"Nov 22 01:02:03 gw1 dhclient[77]: DHCPACK of 10.0.0.99 from 10.0.0.1 (xid=0x0badcafe)"]
    other = [b"Nov 22 01:02:03 gw1 dhclient[77]: DHCPNAK of 10.0.0.99 from 10.0.0.1 (xid=0x0badcafe)",
             b"Nov 22 01:02:03 gw1 dhclient[77]: DHCPACK of 10.0.0.99 from 10.0.0.254 (xid=0x0badcafe)"]
    assert grep_matches(rules, log + new + other, tmp_path) == log + new


def test_narrowest_shapes():
    assert suggest.shape_for([b"1", b"22"])[0] == "number"
    assert suggest.shape_for([b"-1", b"22"])[0] == "signed number"
    assert suggest.shape_for([b"192.0.2.1", b"10.1.2.3"])[0] == "IPv4"
    assert suggest.shape_for([b"192.0.2.1", b"2001:db8::1"])[0] == "IP address"
    assert suggest.shape_for([b"00:11:22:33:44:55"])[0] == "MAC address"
    assert suggest.shape_for([b"deadbeef", b"0a1b2c3d"])[0] == "hex"
    assert suggest.shape_for([b"eth0", b"enp3s0", b"eth0.2"])[0] == "interface name"
    assert suggest.shape_for([b"alice", b"bob"], "USER")[0] == "user name"
    assert suggest.shape_for([b"mx1.example.org", b"web.example.org"], "HOST")[0] == "host name"
    assert suggest.shape_for([b"/var/log/syslog", b"/tmp/x"])[0] == "path"


def test_successful_logins_of_any_user_get_no_rule(tmp_path):
    # "Accepted password for" is the kind of line the corpus says must be
    # reported, whoever logs in: no rule, whichever users were seen.
    for users in ([b"alice", b"bob", b"carol", b"dave"] * 2, [b"deploy"] * 4):
        log = sshd_lines(users)
        (tmp_path / "log").write_bytes(b"\n".join(log) + b"\n")
        done = run_suggest(tmp_path, "-l", str(tmp_path / "log"))
        assert done.returncode == 0, done.stderr
        assert rules_of(done.stdout) == []
        assert b"the kind of message that must be reported" in done.stdout
        assert b"1 groups left in the report" in done.stderr


def test_users_must_report_file_is_honoured(tmp_path):
    log = [b"Nov 21 07:44:%02d db1 backup.sh[%d]: copied %d files to tape%d" % (n, n, n * 10, n % 3)
           for n in range(8)]
    (tmp_path / "log").write_bytes(b"\n".join(log) + b"\n")
    assert len(rules_of(run_suggest(tmp_path, "-l", str(tmp_path / "log")).stdout)) == 1
    (tmp_path / "keep").write_bytes(b"# ours\nNov 30 01:00:00 db1 backup.sh[9]: copied 0 files to tape1\n")
    done = run_suggest(tmp_path, "-l", str(tmp_path / "log"), "--must-report", str(tmp_path / "keep"))
    assert rules_of(done.stdout) == []
    assert b"copied 0 files to tape1" in done.stdout


@pytest.mark.debian
def test_lines_debian_flags_get_no_rule_and_no_rule_hides_them(tmp_path):
    tree = tmp_path / "tree"
    for name in ("cracking.d", "violations.d", "violations.ignore.d"):
        shutil.copytree(os.path.join(DEBIAN_RULES, name), tree / name)
    # Debian's cracking.d/kernel flags "Oversized packet received from": the
    # other sizes fold with it into one template whose word-shaped rule
    # would hide it; the suggested rule lists the sizes seen instead.
    flagged = [b"Nov 21 07:44:%02d web1 kernel: Oversized packet received from 192.0.2.%d"
               % (n, n + 1) for n in range(3)]
    noise = [b"Nov 21 07:45:%02d web1 kernel: %s packet received from 192.0.2.%d" % (n, size, n + 1)
             for n, size in enumerate([b"Tiny", b"Small", b"Big", b"Huge"] * 2)]
    (tmp_path / "log").write_bytes(b"\n".join(flagged + noise) + b"\n")
    done = run_suggest(tmp_path, "-l", str(tmp_path / "log"))
    assert done.returncode == 0, done.stderr
    rules = rules_of(done.stdout)
    assert len(rules) == 1 and b"(Big|Huge|Small|Tiny)" in rules[0], done.stdout
    assert grep_matches(rules, flagged + noise, tmp_path) == noise


def test_yaml_for_the_rules_role(tmp_path):
    log = [b"Nov 21 04:12:%02d mx1 backup.sh[%d]: done in %d s, it's %d files" % (n, 90 + n, 300 + n, n)
           for n in range(3)]
    done = run_suggest(tmp_path, "-l", "-", "--format", "rules_group_custom",
                       stdin=b"\n".join(log) + b"\nThis email is sent by logcheck.\n")
    assert done.returncode == 0, done.stderr
    data = yaml.safe_load(done.stdout)
    assert list(data) == ["rules_group_custom", "rules_samples_ignore"]
    rules = [rule.encode() for rule in data["rules_group_custom"]]
    assert len(rules) == 1
    samples = [line.encode() for line in data["rules_samples_ignore"]]
    assert grep_matches(rules, samples, tmp_path) == samples
    assert b"1 lines without a syslog header skipped" in done.stderr


def test_bad_input_names_the_file(tmp_path):
    done = run_suggest(tmp_path, "-l", str(tmp_path / "missing.log"))
    assert done.returncode == 1
    assert f"{tmp_path / 'missing.log'}: cannot read the log".encode() in done.stderr
    done = run_suggest(tmp_path, "-l", "-", "--must-report", str(tmp_path / "nope"), stdin=b"")
    assert done.returncode == 1 and str(tmp_path / "nope").encode() in done.stderr
    tree = tmp_path / "tree" / "ignore.d.server"
    tree.mkdir(parents=True)
    (tree / "local-bad").write_bytes(b"^(unclosed$\n")
    before = (tree / "local-bad").read_bytes()
    done = run_suggest(tmp_path, "-l", "-", stdin=b"Nov 21 07:44:38 h p: x\n")
    assert done.returncode == 1
    assert b"local-bad:1" in done.stderr
    assert (tree / "local-bad").read_bytes() == before


@pytest.mark.debian
def test_shipped_corpus_has_both_stamp_forms_and_debian_reports_it(tmp_path):
    lines = mustreport.shipped()
    assert sum(line[:1].isdigit() for line in lines) >= 20
    assert sum(line[:1].isalpha() for line in lines) >= 20
    # Debian's own ignore rules at the paranoid level hide none of it but
    # routine su and sudo sessions (still lines no suggested rule may hide).
    directory = os.path.join(DEBIAN_RULES, "ignore.d.paranoid")
    rules = [line for name in sorted(os.listdir(directory))
             for line in open(os.path.join(directory, name), "rb").read().split(b"\n")
             if line.strip() and not line.startswith(b"#")]
    ignored = grep_matches(rules, lines, tmp_path)
    assert all(b" su[" in line or b" sudo[" in line for line in ignored), ignored


def test_no_rule_covers_root_in_a_name_even_for_a_program_the_corpus_does_not_know(tmp_path):
    def lines(users):
        return [b"Nov 21 06:00:%02d mx1 vaultd[%d]: token revoked for user %s" % (n, 70 + n, user)
                for n, user in enumerate(users)]
    log = lines([b"svc-web", b"svc-db", b"svc-mail", b"svc-dns"] * 2)
    (tmp_path / "log").write_bytes(b"\n".join(log) + b"\n")
    rules = rules_of(run_suggest(tmp_path, "-l", str(tmp_path / "log")).stdout)
    assert len(rules) == 1 and b"(svc-db|svc-dns|svc-mail|svc-web)" in rules[0]
    assert grep_matches(rules, lines([b"root", b"svc-x"]) + log, tmp_path) == log
    log = lines([b"svc-web", b"svc-db", b"root", b"svc-dns"] * 2)
    (tmp_path / "log").write_bytes(b"\n".join(log) + b"\n")
    done = run_suggest(tmp_path, "-l", str(tmp_path / "log"))
    assert rules_of(done.stdout) == []
    assert b"naming root" in done.stdout


def test_the_kind_of_message_that_must_be_reported_gets_no_rule_even_for_one_unit(tmp_path):
    # The corpus has nginx failing; cron failing is the same kind of event:
    # a rule for "cron.service: Failed ..." would hide cron's next failure.
    log = [b"2026-11-21T14:00:%02d.000000+00:00 web1 systemd[1]: cron.service: Failed with result "
           b"'exit-code'." % n for n in range(4)]
    log += [b"2026-11-21T14:00:%02d.000000+00:00 web1 systemd[1]: Failed to start cron.service - "
            b"Regular background program processing daemon." % n for n in range(4)]
    log += [b"2026-11-21T14:01:%02d.000000+00:00 web1 sshd[%d]: Accepted password for deploy from "
            b"192.0.2.7 port %d ssh2" % (n, 300 + n, 50000 + n) for n in range(4)]
    (tmp_path / "log").write_bytes(b"\n".join(log) + b"\n")
    done = run_suggest(tmp_path, "-l", str(tmp_path / "log"))
    assert done.returncode == 0, done.stderr
    assert rules_of(done.stdout) == []
    assert done.stdout.count(b"the kind of message that must be reported") == 3
