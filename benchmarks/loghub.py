"""Grouping accuracy of the grouped report on loghub's labelled logs.

    python -m benchmarks.loghub [--data DIR] [--check] [--audit LOG ...]

Runs logsieve with an empty rule tree (every line is reported) on loghub's
Linux and OpenSSH 2k logs, once with `--format json` (one object per line,
with the template the line falls in under -u) and once with `-u --format
json` (one object per group), and scores the templates against loghub's
ground truth with the standard metric of log template mining, as logpai's
evaluator computes it:

  GA   lines in correct groups / all lines; a group is correct when all its
       lines carry one true event and it holds every line of that event;
  FGA  F1 of precision (correct groups / groups) and recall (correct groups /
       true events);
  mixed lines: lines in groups that hold two true events or more (the
       grouping merged two different messages).

The templates are scored (loghub's events are message templates, the
program is not part of them); the report's groups are one per template and
program, and their figures are printed too.  One configuration for both sets:
logsieve has no per-set setting.

--audit LOG ... prints, for logs without ground truth, the templates whose
placeholders came from folding words (the only step that could merge two
kinds of message) with their values, for a reader to check.

The data are read where they are (default ../shared/data/loghub beside the
repository, or LOGHUB_DATA), never copied into the repository.
"""

import argparse
import collections
import csv
import json
import os
import subprocess
import sys
import tempfile

from benchmarks import LOGHUB, loghub_missing
DEFAULT_DATA = LOGHUB
SETS = ("Linux", "OpenSSH")
GOAL_GA = 0.95
GOAL_FGA = 0.95
GOAL_MIXED = 0.01
FOLDED_KINDS = {"*", "USER", "HOST", "ADDR"}


def score(predicted, truth):
    """(GA, FGA, groups, true events, mixed lines) of predicted group labels
    against true event labels, line by line."""
    members = collections.defaultdict(list)
    for index, label in enumerate(predicted):
        members[label].append(index)
    sizes = collections.Counter(truth)
    correct_lines = correct_groups = mixed = 0
    for indices in members.values():
        events = collections.Counter(truth[index] for index in indices)
        if len(events) > 1:
            mixed += len(indices)
        elif sizes[next(iter(events))] == len(indices):
            correct_lines += len(indices)
            correct_groups += 1
    precision = correct_groups / len(members)
    recall = correct_groups / len(sizes)
    fga = 2 * precision * recall / (precision + recall) if correct_groups else 0.0
    return correct_lines / len(truth), fga, len(members), len(sizes), mixed


def run_logsieve(log, *flags):
    """logsieve's JSON report of `log` with an empty rule tree: the objects."""
    with tempfile.TemporaryDirectory(prefix="logsieve-loghub-") as work:
        rules = os.path.join(work, "rules")
        for directory in ("ignore.d.server", "violations.d", "cracking.d"):
            os.makedirs(os.path.join(rules, directory))
        conf = os.path.join(work, "logcheck.conf")
        with open(conf, "w") as handle:
            handle.write(f'REPORTLEVEL="server"\nINTRO=0\nLOCKDIR="{work}/lock"\n')
        state = os.path.join(work, "state")
        os.mkdir(state)
        command = [sys.executable, "-m", "logsieve.cli", "--allow-root", "-c", conf, "-r", rules,
                   "-S", state, "-o", "-t", "-l", log, "--format", "json", *flags]
        output = subprocess.run(command, stdout=subprocess.PIPE, check=True).stdout
    return [json.loads(line) for line in output.splitlines()]


def true_events(data, name):
    with open(os.path.join(data, f"{name}_2k.log_structured.csv"), newline="") as handle:
        return [row["EventId"] for row in csv.DictReader(handle)]


def measure(data, name):
    log = os.path.join(data, f"{name}_2k.log")
    truth = true_events(data, name)
    lines = run_logsieve(log)
    groups = run_logsieve(log, "-u")
    if len(lines) != len(truth):
        raise SystemExit(f"{name}: {len(lines)} lines reported, {len(truth)} in the ground truth")
    # The report's order is logcheck's sort order: match lines to their
    # ground-truth rows by their text.
    with open(log, "rb") as handle:
        raw = handle.read().decode("utf-8", "backslashreplace").split("\n")
    by_text = collections.defaultdict(list)
    for line, event in zip(raw, truth):
        by_text[line.rstrip()].append(event)
    ordered_truth = [by_text[obj["line"]].pop() for obj in lines]
    templates = score([obj["template"] for obj in lines], ordered_truth)
    report_groups = score([(obj["program"], obj["template"]) for obj in lines], ordered_truth)
    if sum(group["count"] for group in groups) != len(truth) or \
            len(groups) != report_groups[2]:
        raise SystemExit(f"{name}: -u groups disagree with the per-line templates")
    return templates, report_groups


def audit(paths):
    """The folded templates of real logs without ground truth, for a reader."""
    for path in paths:
        groups = run_logsieve(path, "-u")
        lines = sum(group["count"] for group in groups)
        print(f"== {path}: {lines} lines, {len(groups)} groups, "
              f"{len({group['template'] for group in groups})} templates")
        for group in groups:
            folded = [slot for slot in group["placeholders"] if slot["type"] in FOLDED_KINDS]
            if folded:
                print(f"{group['count']:7d} {group['program']}: {group['template']}")
                for slot in folded:
                    values = ", ".join(f"{value} ({count})" for value, count in slot["values"])
                    print(f"          {slot['text']}: {values}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--check", action="store_true", help="fail below the goal")
    parser.add_argument("--audit", nargs="+", metavar="LOG")
    options = parser.parse_args(argv)
    if options.audit:
        audit(options.audit)
        return 0
    if not os.path.isdir(options.data):
        return loghub_missing(options.data, options.check)
    failures = []
    print(f"goal: GA >= {GOAL_GA}, FGA >= {GOAL_FGA}, lines in mixed groups <= {GOAL_MIXED:.0%}")
    for name in SETS:
        templates, report_groups = measure(options.data, name)
        ga, fga, groups, events, mixed = templates
        lines = len(true_events(options.data, name))
        print(f"{name:8s} templates: GA {ga:.3f}  FGA {fga:.3f}  groups {groups} (true {events})  "
              f"mixed lines {mixed} ({mixed / lines:.1%})")
        print(f"{'':8s} report groups (template and program): GA {report_groups[0]:.3f}  "
              f"FGA {report_groups[1]:.3f}  groups {report_groups[2]}  "
              f"mixed lines {report_groups[4]}")
        if ga < GOAL_GA or fga < GOAL_FGA or mixed / lines > GOAL_MIXED:
            failures.append(name)
    if failures:
        print("BELOW THE GOAL: " + ", ".join(failures))
        return 1 if options.check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
