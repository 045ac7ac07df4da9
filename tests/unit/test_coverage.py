"""Rule coverage: exact hit counts per rule, kept in the state directory:
counted by the checker run for local rules, by `logsieve coverage --count`
for the others."""

import datetime
import json
import os
import subprocess
import sys

import pytest

from logsieve import coverage
from logsieve.rules import RuleTree

PREFIX = rb"^\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ "


def make_tree(tmp_path, local_rules):
    server = tmp_path / "rules" / "ignore.d.server"
    server.mkdir(parents=True, exist_ok=True)
    (server / "local-app").write_bytes(b"\n".join(local_rules) + b"\n")
    (server / "debian-ish").write_bytes(PREFIX + rb"cron\[[0-9]+\]: .*$" + b"\n")
    return tmp_path / "rules"


def write_conf(tmp_path):
    (tmp_path / "state").mkdir(exist_ok=True)
    conf = tmp_path / "logcheck.conf"
    conf.write_text(f"STATEDIR={tmp_path / 'state'}\nRULEDIR={tmp_path / 'rules'}\n"
                    f"LOCKDIR={tmp_path / 'state'}\nREPORTLEVEL=server\nINTRO=0\n")
    return conf


def run(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "logsieve.cli", "coverage",
                           "-c", str(write_conf(tmp_path)), *args],
                          capture_output=True, check=False)


def check(tmp_path, log, *args):
    """A checker run on `log`, its report to standard output."""
    return subprocess.run([sys.executable, "-m", "logsieve.cli", "--allow-root", "-o",
                           "-c", str(write_conf(tmp_path)), "-l", str(log), *args],
                          capture_output=True, check=False)


def counted(tmp_path):
    """{rule text: (hits, sole)} of the counts file."""
    data = json.loads((tmp_path / "state" / "coverage.json").read_bytes())
    return {entry["rule"]: (entry["hits"], entry["sole"]) for entry in data["rules"].values()}


LOG = (b"Nov 21 07:44:38 h app[1]: job 1 done\n"
       b"Nov 21 07:44:39 h app[1]: job 2 done\n"
       b"Nov 21 07:44:40 h app[1]: job 3 failed\n"
       b"Nov 21 07:44:41 h cron[2]: ran\n")
RULES = [PREFIX + rb"app\[[0-9]+\]: job [0-9]+ done$",   # hits 2, sole 0: redundant
         PREFIX + rb"app\[[0-9]+\]: job [0-9]+ .*$",     # hits 3, sole 1 (the failed job)
         PREFIX + rb"app\[[0-9]+\]: job 2 done$",         # hits 1, sole 0: redundant
         PREFIX + rb"app\[[0-9]+\]: never$"]              # hits 0


def test_the_checker_run_counts_local_rules_exactly_and_redundant_ones_are_found(tmp_path):
    make_tree(tmp_path, RULES)
    (tmp_path / "syslog").write_bytes(LOG)
    done = check(tmp_path, tmp_path / "syslog")
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert counted(tmp_path) == {RULES[0].decode(): (2, 0), RULES[1].decode(): (3, 1),
                                 RULES[2].decode(): (1, 0), RULES[3].decode(): (0, 0)}
    done = run(tmp_path, "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    hits = {item["rule"]: (item["hits"]) for item in result["top"]}
    assert hits == {RULES[1].decode(): 3, RULES[0].decode(): 2, RULES[2].decode(): 1}
    assert [item["rule"] for item in result["redundant"]] == [RULES[0].decode(), RULES[2].decode()]
    # Debian's files are left out unless asked for.
    assert result["rules"] == 4
    assert json.loads(run(tmp_path, "--all", "--format", "json").stdout)["rules"] == 5
    # Lines are counted once: when the cursor moves past them.
    with open(tmp_path / "syslog", "ab") as log:
        log.write(b"Nov 21 07:45:00 h app[1]: job 4 failed\n")
    assert check(tmp_path, tmp_path / "syslog").returncode == 0
    assert counted(tmp_path)[RULES[1].decode()] == (4, 2)
    # A test run (-t) moves no cursor and counts nothing.
    with open(tmp_path / "syslog", "ab") as log:
        log.write(b"Nov 21 07:45:01 h app[1]: job 5 failed\n")
    assert check(tmp_path, tmp_path / "syslog", "-t").returncode == 0
    assert counted(tmp_path)[RULES[1].decode()] == (4, 2)


def test_an_edited_rule_starts_afresh_in_the_checker_run(tmp_path):
    make_tree(tmp_path, RULES)
    (tmp_path / "syslog").write_bytes(LOG)
    assert check(tmp_path, tmp_path / "syslog").returncode == 0
    edited = PREFIX + rb"app\[[0-9]+\]: job [0-9]+ (done|failed)$"
    make_tree(tmp_path, RULES[:1] + [edited] + RULES[2:])
    with open(tmp_path / "syslog", "ab") as log:
        log.write(b"Nov 21 07:45:00 h app[1]: job 4 failed\n")
    assert check(tmp_path, tmp_path / "syslog").returncode == 0
    counts = counted(tmp_path)
    assert counts[edited.decode()] == (1, 1)
    assert counts[RULES[1].decode()] == (3, 1)  # the old text keeps its own history
    assert counts[RULES[0].decode()] == (2, 0)


def test_the_daily_count_adds_only_rules_the_checker_does_not_count(tmp_path):
    make_tree(tmp_path, RULES)
    (tmp_path / "syslog.1").write_bytes(LOG)
    done = run(tmp_path, "--count", str(tmp_path / "syslog.1"), "--all", "--format", "json")
    assert done.returncode == 0, done.stderr
    debian_rule = (PREFIX + rb"cron\[[0-9]+\]: .*$").decode()
    assert counted(tmp_path) == {debian_rule: (1, 1)}
    # The same rotated file is counted once.
    assert run(tmp_path, "--count", str(tmp_path / "syslog.1")).returncode == 0
    assert counted(tmp_path) == {debian_rule: (1, 1)}


def test_unused_after_n_days_and_an_edited_rule_starts_afresh(tmp_path):
    tree = RuleTree(str(make_tree(tmp_path, RULES)), "server")
    rules = coverage.ignore_rules(tree)
    counts = coverage.Counts(str(tmp_path))
    lines = LOG.split(b"\n")[:-1]
    long_ago = datetime.date(2026, 1, 1)
    counts.add(rules, *coverage.count(rules, lines), today=long_ago)
    counts.save()
    later = long_ago + datetime.timedelta(days=40)
    result = coverage.report(rules, coverage.Counts(str(tmp_path)), 30, today=later)
    assert [item["rule"] for item in result["unused"]] == [RULES[0].decode(), RULES[1].decode(),
                                                           RULES[2].decode(), RULES[3].decode()]
    assert coverage.report(rules, counts, 30, today=long_ago + datetime.timedelta(days=10))[
        "unused"] == []
    # Edit the never-matching rule: it has no history.
    make_tree(tmp_path, RULES[:3] + [PREFIX + rb"app\[[0-9]+\]: never again$"])
    rules = coverage.ignore_rules(RuleTree(str(tmp_path / "rules"), "server"))
    result = coverage.report(rules, coverage.Counts(str(tmp_path)), 30, today=later)
    assert len(result["unused"]) == 3


@pytest.mark.parametrize("counter", ["checker", "daily"])
def test_a_damaged_counts_file_is_set_aside_and_counting_goes_on(tmp_path, counter):
    make_tree(tmp_path, RULES)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "coverage.json").write_bytes(b'{"version": 1, "rules": [tru')
    (tmp_path / "syslog.1").write_bytes(LOG)
    if counter == "checker":
        done = check(tmp_path, tmp_path / "syslog.1")
        assert b"job 3 failed" not in done.stdout and b"cron" not in done.stdout
    else:
        done = run(tmp_path, "--count", str(tmp_path / "syslog.1"))
    assert done.returncode == 0, done.stderr
    assert b"damaged coverage counts" in done.stderr
    assert str(tmp_path / "state" / "coverage.json").encode() in done.stderr
    assert (tmp_path / "state" / "coverage.json.damaged").read_bytes().startswith(b'{"version"')
    data = json.loads((tmp_path / "state" / "coverage.json").read_bytes())
    # local rules 2+3+1+0 by the checker, cron's 1 by the daily count
    assert sum(entry["hits"] for entry in data["rules"].values()) == (
        6 if counter == "checker" else 1)


def test_counting_never_fails_a_checker_run(tmp_path):
    make_tree(tmp_path, RULES)
    (tmp_path / "syslog").write_bytes(LOG + b"Nov 21 07:44:42 h app[1]: news\n")
    (tmp_path / "state").mkdir()
    for name in ("coverage.json", "coverage.json.damaged"):  # cannot be read, set aside or written
        (tmp_path / "state" / name).mkdir()
        (tmp_path / "state" / name / "x").write_bytes(b"")
    done = check(tmp_path, tmp_path / "syslog")
    assert done.returncode == 0, done.stderr
    assert b"app[1]: news" in done.stdout
    assert b"could not be set aside" in done.stderr
    assert b"rule coverage not counted" in done.stderr
    # The cursor moved all the same: nothing is reported twice.
    done = check(tmp_path, tmp_path / "syslog")
    assert done.returncode == 0 and b"news" not in done.stdout


def test_add_run_turns_errors_into_warnings(tmp_path):
    rules = coverage.counted_per_run(RuleTree(str(make_tree(tmp_path, RULES)), "server"))
    assert len(rules) == len(RULES)
    warnings = []
    coverage.add_run(str(tmp_path / "missing" / "state"), rules, [(1, 1)] * len(rules),
                     warnings.append)
    assert len(warnings) == 1 and "rule coverage not counted" in warnings[0]
    coverage.add_run(str(tmp_path), rules, [(1, 0)] * len(rules), warnings.append)
    coverage.add_run(str(tmp_path), rules, [], warnings.append)  # nothing read: seen today
    assert len(warnings) == 1
    entries = coverage.Counts(str(tmp_path)).entries.values()
    assert sorted((entry["hits"], entry["sole"]) for entry in entries) == [(1, 0)] * len(rules)


def test_bad_input_names_the_file(tmp_path):
    make_tree(tmp_path, RULES)
    done = run(tmp_path, "--count", str(tmp_path / "missing.log"))
    assert done.returncode == 1
    assert f"{tmp_path / 'missing.log'}: cannot read the log".encode() in done.stderr
    assert run(tmp_path, "--missing-ok", "--count", str(tmp_path / "missing.log")).returncode == 0
    (tmp_path / "rules" / "ignore.d.server" / "local-bad").write_bytes(b"^(open$\n")
    done = run(tmp_path)
    assert done.returncode == 1 and b"local-bad:1" in done.stderr


def test_counts_are_summed_over_the_blocks_of_the_workers(tmp_path):
    make_tree(tmp_path, RULES)
    lines = b"".join(b"Nov 21 07:44:%02d h app[1]: job %d %s\n"
                     % (number % 60, number, b"failed" if number % 4 == 0 else b"done")
                     for number in range(1, 120001))
    assert len(lines) > 4 << 20  # blocks of 1 MiB: the parent classifies one, workers the rest
    (tmp_path / "syslog").write_bytes(lines)
    done = subprocess.run([sys.executable, "-m", "logsieve.cli", "--allow-root", "-o",
                           "-c", str(write_conf(tmp_path)), "-l", str(tmp_path / "syslog")],
                          capture_output=True, check=False,
                          env=dict(os.environ, LOGSIEVE_WORKERS="2"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""
    assert counted(tmp_path)[RULES[0].decode()] == (90000, 0)
    assert counted(tmp_path)[RULES[1].decode()] == (120000, 30000)
    assert counted(tmp_path)[RULES[2].decode()] == (1, 0)
