"""Rule coverage: exact hit counts per rule, kept in the state directory."""

import datetime
import json
import subprocess
import sys

from logsieve import coverage
from logsieve.rules import RuleTree

PREFIX = rb"^\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ "


def make_tree(tmp_path, local_rules):
    server = tmp_path / "rules" / "ignore.d.server"
    server.mkdir(parents=True, exist_ok=True)
    (server / "local-app").write_bytes(b"\n".join(local_rules) + b"\n")
    (server / "debian-ish").write_bytes(PREFIX + rb"cron\[[0-9]+\]: .*$" + b"\n")
    return tmp_path / "rules"


def run(tmp_path, *args):
    (tmp_path / "state").mkdir(exist_ok=True)
    conf = tmp_path / "logcheck.conf"
    conf.write_text(f"STATEDIR={tmp_path / 'state'}\nRULEDIR={tmp_path / 'rules'}\n")
    return subprocess.run([sys.executable, "-m", "logsieve.cli", "coverage", "-c", str(conf),
                           *args], capture_output=True, check=False)


LOG = (b"Nov 21 07:44:38 h app[1]: job 1 done\n"
       b"Nov 21 07:44:39 h app[1]: job 2 done\n"
       b"Nov 21 07:44:40 h app[1]: job 3 failed\n"
       b"Nov 21 07:44:41 h cron[2]: ran\n")
RULES = [PREFIX + rb"app\[[0-9]+\]: job [0-9]+ done$",   # hits 2, sole 0: redundant
         PREFIX + rb"app\[[0-9]+\]: job [0-9]+ .*$",     # hits 3, sole 1 (the failed job)
         PREFIX + rb"app\[[0-9]+\]: job 2 done$",         # hits 1, sole 0: redundant
         PREFIX + rb"app\[[0-9]+\]: never$"]              # hits 0


def test_counts_are_exact_per_rule_and_redundant_rules_are_found(tmp_path):
    make_tree(tmp_path, RULES)
    (tmp_path / "syslog.1").write_bytes(LOG)
    done = run(tmp_path, "--count", str(tmp_path / "syslog.1"), "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    hits = {item["rule"]: (item["hits"]) for item in result["top"]}
    assert hits == {RULES[1].decode(): 3, RULES[0].decode(): 2, RULES[2].decode(): 1}
    assert [item["rule"] for item in result["redundant"]] == [RULES[0].decode(), RULES[2].decode()]
    # Debian's files are left out unless asked for.
    assert result["rules"] == 4
    assert json.loads(run(tmp_path, "--all", "--format", "json").stdout)["rules"] == 5
    # The same rotated file is counted once.
    again = json.loads(run(tmp_path, "--count", str(tmp_path / "syslog.1"),
                           "--format", "json").stdout)
    assert {item["rule"]: item["hits"] for item in again["top"]} == hits


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


def test_a_damaged_counts_file_is_set_aside_and_counting_goes_on(tmp_path):
    make_tree(tmp_path, RULES)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "coverage.json").write_bytes(b'{"version": 1, "rules": [tru')
    (tmp_path / "syslog.1").write_bytes(LOG)
    done = run(tmp_path, "--count", str(tmp_path / "syslog.1"))
    assert done.returncode == 0, done.stderr
    assert b"damaged coverage counts" in done.stderr
    assert str(tmp_path / "state" / "coverage.json").encode() in done.stderr
    assert (tmp_path / "state" / "coverage.json.damaged").read_bytes().startswith(b'{"version"')
    data = json.loads((tmp_path / "state" / "coverage.json").read_bytes())
    assert sum(entry["hits"] for entry in data["rules"].values()) == 7  # 2+3+1+0 + cron's 1


def test_bad_input_names_the_file(tmp_path):
    make_tree(tmp_path, RULES)
    done = run(tmp_path, "--count", str(tmp_path / "missing.log"))
    assert done.returncode == 1
    assert f"{tmp_path / 'missing.log'}: cannot read the log".encode() in done.stderr
    assert run(tmp_path, "--missing-ok", "--count", str(tmp_path / "missing.log")).returncode == 0
    (tmp_path / "rules" / "ignore.d.server" / "local-bad").write_bytes(b"^(open$\n")
    done = run(tmp_path)
    assert done.returncode == 1 and b"local-bad:1" in done.stderr
