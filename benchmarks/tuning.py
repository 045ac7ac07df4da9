"""How good are the rules `logsieve suggest` writes?  Learned on one half of
a labelled log, applied to the other half with GNU grep in C.UTF-8, as
logcheck applies rules.

    python -m benchmarks.tuning [--loghub DIR] [--log FILE ...] [--check]

For each loghub sample (read at run time from ../shared/data/loghub or LOGHUB_DATA, never
copied into the repository), `logsieve suggest` learns rules from the first
1,000 lines, with Debian's cracking and violations rules in its rule tree (so
lines they flag get no rule) and no ignore rules.  The rules are then applied
to the other 1,000 lines, whose true event (loghub's ground truth) says whether
their kind of message was seen in training.  Printed, per sample:

  * rules made, and rules GNU grep refuses or that are not anchored (goal 0);
  * the share of test lines of events seen in training the rules suppress
    (goal >= 90%), and the same with the test lines' time stamps rewritten
    in RFC 3339 as Debian 12's rsyslog writes them (goal >= 90%);
  * the share of test lines of events not seen in training they suppress
    (goal <= 2%: a new kind of message must still reach the mail);
  * the must-report lines they hide (the shipped corpus; goal 0).

`--log FILE` adds any other syslog file (no ground truth): learned on its
first half, applied to the second; printed are the rules made, the share of
the second half suppressed, and the must-report lines hidden.  With --check
the command exits 1 when a goal is missed.
"""

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile

from benchmarks import LOGHUB, loghub_missing
from logsieve import mustreport
from logsieve.ruletext import anchoring_problem

SAMPLES = ("Linux", "OpenSSH")
TRAIN = 1000
DEBIAN_RULES = "/etc/logcheck"
GOALS = {"broken": 0, "seen": 0.90, "seen_rfc3339": 0.90, "unseen": 0.02, "hidden": 0}
# Groups of one line get a rule too: a 1,000-line sample is a short day.
MIN_COUNT = "1"
_CLASSIC = re.compile(rb"^([A-Z][a-z]{2}) ([ 0-9][0-9]) ([0-9]{2}:[0-9]{2}:[0-9]{2}) ")
_MONTHS = {m: i for i, m in enumerate(
    b"Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), start=1)}


def rfc3339(line, number):
    """The line with its classic stamp written as Debian 12's rsyslog does."""
    match = _CLASSIC.match(line)
    if match is None:
        return line
    month, day, clock = match.groups()
    micro = (number * 7919) % 1000000
    stamp = b"2026-%02d-%02dT%s.%06d+01:00 " % (_MONTHS[month], int(day), clock, micro)
    return stamp + line[match.end():]


def rule_tree(workdir):
    """Debian's cracking and violations rules, no ignore rules."""
    tree = os.path.join(workdir, "tree")
    os.makedirs(tree)
    for name in ("cracking.d", "violations.d", "violations.ignore.d"):
        source = os.path.join(DEBIAN_RULES, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(tree, name))
    return tree


def learn(lines, workdir, tree):
    path = os.path.join(workdir, "train.log")
    with open(path, "wb") as handle:
        handle.write(b"\n".join(lines) + b"\n")
    conf = os.path.join(workdir, "logcheck.conf")
    with open(conf, "w") as handle:
        handle.write(f"RULEDIR={tree}\nSTATEDIR={workdir}\n")
    done = subprocess.run(
        [sys.executable, "-m", "logsieve.cli", "suggest", "-c", conf, "-l", path,
         "--min-count", MIN_COUNT], capture_output=True, check=True)
    rules = [line for line in done.stdout.split(b"\n") if line and not line.startswith(b"#")]
    unsafe = sum(1 for line in done.stdout.split(b"\n") if line.startswith(b"#     why:"))
    return rules, unsafe


def grep_refuses(rule):
    done = subprocess.run(["grep", "-E", "-e", rule, os.devnull], env=_c_utf8(),
                          capture_output=True, check=False)
    return done.returncode == 2


def _c_utf8():
    return dict(os.environ, LC_ALL="C.UTF-8")


def suppressed(rules, lines, workdir):
    """Indices of `lines` some rule matches, by GNU grep in C.UTF-8 (lines
    stripped of trailing white space first, as logcheck does)."""
    if not rules or not lines:
        return set()
    rules_path = os.path.join(workdir, "rules")
    with open(rules_path, "wb") as handle:
        handle.write(b"\n".join(rules) + b"\n")
    log_path = os.path.join(workdir, "test.log")
    with open(log_path, "wb") as handle:
        handle.write(b"\n".join(line.rstrip() for line in lines) + b"\n")
    done = subprocess.run(["grep", "-E", "-n", "-f", rules_path, log_path], env=_c_utf8(),
                          capture_output=True, check=False)
    if done.returncode == 2:
        raise SystemExit(f"grep failed: {done.stderr.decode(errors='replace')}")
    return {int(line.split(b":", 1)[0]) - 1 for line in done.stdout.splitlines()}


def loghub_sample(directory, name):
    with open(os.path.join(directory, f"{name}_2k.log"), "rb") as handle:
        lines = handle.read().rstrip(b"\n").split(b"\n")
    with open(os.path.join(directory, f"{name}_2k.log_structured.csv"), newline="",
              encoding="utf-8", errors="replace") as handle:
        events = [row["EventId"] for row in csv.DictReader(handle)]
    if len(events) != len(lines):
        raise SystemExit(f"{name}: {len(lines)} lines but {len(events)} labels")
    return lines, events


def measure(train, test, events_train, events_test, workdir, tree):
    rules, unsafe = learn(train, workdir, tree)
    broken = sum(1 for rule in rules if grep_refuses(rule) or anchoring_problem(rule))
    corpus = mustreport.shipped()
    hidden = len(suppressed(rules, corpus, workdir))
    result = {"rules": len(rules), "unsafe": unsafe, "broken": broken, "hidden": hidden}
    hits = suppressed(rules, test, workdir)
    if events_test is None:
        result["suppressed"] = len(hits) / len(test)
        return result
    hits_rfc = suppressed(rules, [rfc3339(line, n) for n, line in enumerate(test)], workdir)
    known = set(events_train)
    seen = [n for n, event in enumerate(events_test) if event in known]
    unseen = [n for n, event in enumerate(events_test) if event not in known]
    result["seen_lines"], result["unseen_lines"] = len(seen), len(unseen)
    result["seen"] = sum(1 for n in seen if n in hits) / max(1, len(seen))
    result["seen_rfc3339"] = sum(1 for n in seen if n in hits_rfc) / max(1, len(seen))
    result["unseen"] = sum(1 for n in unseen if n in hits) / max(1, len(unseen))
    return result


def report(name, result):
    print(f"{name}:")
    print(f"  rules made: {result['rules']} ({result['unsafe']} groups left in the report as unsafe)")
    print(f"  rules not compiling or not anchored: {result['broken']} (goal 0)")
    if "seen" in result:
        print(f"  test lines of events seen in training suppressed: {result['seen']:.1%} "
              f"of {result['seen_lines']} (goal >= 90%)")
        print(f"  the same, RFC 3339 time stamps: {result['seen_rfc3339']:.1%} (goal >= 90%)")
        print(f"  test lines of events not seen in training suppressed: {result['unseen']:.1%} "
              f"of {result['unseen_lines']} (goal <= 2%)")
    else:
        print(f"  second half suppressed: {result['suppressed']:.1%}")
    print(f"  must-report lines hidden: {result['hidden']} of {len(mustreport.shipped())} (goal 0)")


def missed(result):
    failures = [name for name in ("broken", "hidden") if result[name] > GOALS[name]]
    if "seen" in result:
        failures += [name for name in ("seen", "seen_rfc3339") if result[name] < GOALS[name]]
        failures += ["unseen"] if result["unseen"] > GOALS["unseen"] else []
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--loghub", default=LOGHUB)
    parser.add_argument("--log", action="append", default=[], help="another syslog file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    options = parser.parse_args(argv)
    failures = []
    if not os.path.isdir(options.loghub):
        return loghub_missing(options.loghub, options.check)
    with tempfile.TemporaryDirectory(prefix="logsieve-tuning-") as workdir:
        tree = rule_tree(workdir)
        print(f"logsieve suggest: learn on {TRAIN} lines, apply with GNU grep (C.UTF-8) "
              f"to the rest; rule tree: Debian's cracking and violations rules")
        for name in SAMPLES:
            lines, events = loghub_sample(options.loghub, name)
            result = measure(lines[:TRAIN], lines[TRAIN:], events[:TRAIN], events[TRAIN:],
                             workdir, tree)
            report(f"loghub {name}", result)
            failures += [f"{name}: {goal}" for goal in missed(result)]
        for path in options.log:
            with open(path, "rb") as handle:
                lines = [line for line in handle.read().split(b"\n") if line]
            half = len(lines) // 2
            result = measure(lines[:half], lines[half:], None, None, workdir, tree)
            report(path, result)
            failures += [f"{path}: {goal}" for goal in missed(result)]
    if failures:
        print("goals missed: " + ", ".join(failures))
        return 1 if options.check else 0
    print("all goals met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
