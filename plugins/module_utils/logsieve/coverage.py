"""Rule coverage: how often each ignore rule matched, kept in the state
directory, and `logsieve coverage`, which says which rules earn their place.
What is counted and when, and what the report says, is told once, in the
README's section "Rule coverage"; here is how.

Two counters add to the same counts file (`Counts`), each for its own rules,
so no line is counted twice:

* The checker run, for `counted_per_run(tree)`.  The engine gives each of
  these rules a pattern of its own in the RE2 set (engine.Classifier.counted),
  whose hits the block matcher already yields per line: counting is an
  increment per hit (engine.BlockMatch.counts), summed over the blocks
  (BlockResult.counts, Classification.counts).  The command line calls
  `add_run` right after the cursors moved.
* `logsieve coverage --count LOG` (`count`: each line against every ignore
  rule on its own), for the other rules.
"""

import datetime
import hashlib
import json
import os
import sys

from .cursor import write_atomically
from .engine import CompiledRules
from .errors import LogsieveError
from .lines import strip_line
from .rules import RuleTree, is_local, rule_text
from .subcommand import checker_flags, checker_parser, exit_status

FILE_NAME = "coverage.json"
VERSION = 1
MAX_ENTRIES = 50000
FORGET_AFTER_DAYS = 365
DEFAULT_UNUSED_DAYS = 30
DEFAULT_TOP = 10
FORMATS = ("text", "json")
# Logs remembered as counted, so a rotated log is counted once.
MAX_COUNTED_FILES = 100


class CoverageError(LogsieveError):
    """A coverage request that cannot be answered (not a damaged counts file,
    which is set aside)."""


def rule_key(rule):
    """The key of a rule: its file's name and its text (not its line number)."""
    digest = hashlib.sha256(os.path.basename(rule.path).encode("utf-8", "surrogateescape")
                            + b"\0" + rule.pattern)
    return digest.hexdigest()[:24]


def ignore_rules(tree):
    """The ignore rules of a RuleTree at its level, in file order."""
    rules = []
    for files in (tree.ignore, tree.violations_ignore, tree.cracking_ignore):
        for _name, file_rules in sorted((files or {}).items()):
            rules.extend(file_rules)
    return rules


def counted_per_run(tree):
    """The rules whose hits the checker run counts (engine.Classifier.counted
    holds the same): the local ones of ignore.d.*."""
    return [rule for _name, file_rules in sorted((tree.ignore or {}).items())
            for rule in file_rules if is_local(rule)]


def add_run(statedir, rules, counts, warn=None):
    """Add a checker run's counts ((hits, sole) per rule of `rules`, engine.
    Classification.counts) to the counts file.  Never raises: an error is a
    warning (on standard error by default)."""
    warn = warn or _warn
    if not rules:
        return
    try:
        counted = Counts(statedir, warn)
        counts = counts or [(0, 0)] * len(rules)
        counted.add(rules, [hits for hits, _sole in counts], [sole for _hits, sole in counts])
        counted.save()
    except Exception as error:  # noqa: BLE001 - coverage never fails a run
        warn(f"{os.path.join(statedir, FILE_NAME)}: rule coverage not counted: "
             f"{getattr(error, 'strerror', None) or error}")


def _warn(message):
    sys.stderr.write(f"Warning: {message}\n")


class Counts:
    """The counts file of a state directory."""

    def __init__(self, statedir, warn=None):
        self.path = os.path.join(statedir, FILE_NAME)
        self.warn = warn or _warn
        self.counted = []  # fingerprints of the logs counted (see file_fingerprint)
        self.entries = self._load()

    def _load(self):
        try:
            with open(self.path, "rb") as handle:
                data = json.loads(handle.read())
            if not isinstance(data, dict) or data.get("version") != VERSION \
                    or not isinstance(data.get("rules"), dict):
                raise ValueError("not a logsieve coverage file of version %d" % VERSION)
            for entry in data["rules"].values():
                if not (isinstance(entry, dict) and isinstance(entry.get("hits"), int)
                        and isinstance(entry.get("sole"), int)
                        and isinstance(entry.get("first"), str)):
                    raise ValueError("an entry is malformed")
            counted = data.get("counted", [])
            if not (isinstance(counted, list) and all(isinstance(item, str) for item in counted)):
                raise ValueError("the list of counted logs is malformed")
            self.counted = counted
            return data["rules"]
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            aside = self.path + ".damaged"
            try:
                os.replace(self.path, aside)
                where = f"set aside as {aside}"
            except OSError as move_error:
                where = f"could not be set aside ({move_error.strerror})"
            self.warn(f"{self.path}: damaged coverage counts ({error}); {where}, "
                      f"counting starts again")
            return {}

    def add(self, rules, hits, sole, today=None):
        """Add one run's counts: hits[i], sole[i] for rules[i]."""
        today = (today or datetime.date.today()).isoformat()
        for rule, rule_hits, rule_sole in zip(rules, hits, sole):
            entry = self.entries.setdefault(rule_key(rule), {
                "file": os.path.basename(rule.path), "rule": rule_text(rule.pattern),
                "hits": 0, "sole": 0, "first": today, "last_hit": None})
            entry["hits"] += rule_hits
            entry["sole"] += rule_sole
            entry["seen"] = today
            if rule_hits:
                entry["last_hit"] = today
        self._bound(today)

    def _bound(self, today):
        limit = (datetime.date.fromisoformat(today)
                 - datetime.timedelta(days=FORGET_AFTER_DAYS)).isoformat()
        for key in [key for key, entry in self.entries.items()
                    if entry.get("seen", entry["first"]) < limit]:
            del self.entries[key]
        if len(self.entries) > MAX_ENTRIES:
            ordered = sorted(self.entries, key=lambda key: self.entries[key].get("seen", ""))
            for key in ordered[:len(self.entries) - MAX_ENTRIES]:
                del self.entries[key]

    def already_counted(self, fingerprint):
        return fingerprint in self.counted

    def mark_counted(self, fingerprint):
        self.counted = (self.counted + [fingerprint])[-MAX_COUNTED_FILES:]

    def save(self):
        data = json.dumps({"version": VERSION, "rules": self.entries, "counted": self.counted},
                          sort_keys=True)
        write_atomically(self.path, data.encode() + b"\n")


def file_fingerprint(path):
    """A rotated log's identity: its size and a hash of its first 4096 bytes
    (the cursors' fingerprint), so the same file is counted once."""
    from .cursor import fingerprint_of
    with open(path, "rb") as handle:
        head = handle.read(4096)
        size = os.fstat(handle.fileno()).st_size
    return f"{size}:{fingerprint_of(head)}"


def count(rules, lines):
    """(hits, sole hits) per rule over `lines` (bytes), each rule matched on
    its own."""
    compiled = CompiledRules(rules)
    hits = [0] * len(rules)
    sole = [0] * len(rules)
    for line in lines:
        matched = compiled.match(strip_line(line))
        for index in matched:
            hits[index] += 1
        if len(matched) == 1:
            sole[matched[0]] += 1
    return hits, sole


def report(rules, counts, unused_days=DEFAULT_UNUSED_DAYS, include_debian=False,
           top=DEFAULT_TOP, today=None):
    """What coverage says about the rules in use: a dict with `unused` (no hit
    for `unused_days` days, counted for at least that long), `top` (most hits)
    and `redundant` (hits, but never a line no other rule matched)."""
    today = today or datetime.date.today()
    limit = (today - datetime.timedelta(days=unused_days)).isoformat()
    unused, used, redundant = [], [], []
    for rule in rules:
        if not include_debian and not is_local(rule):
            continue
        entry = counts.entries.get(rule_key(rule))
        item = {"file": rule.path, "line": rule.line, "rule": rule_text(rule.pattern),
                "hits": entry["hits"] if entry else 0, "sole": entry["sole"] if entry else 0,
                "counted_since": entry["first"] if entry else None,
                "last_hit": entry["last_hit"] if entry else None}
        if entry is None:
            continue
        if (entry["last_hit"] or entry["first"]) <= limit and entry["first"] <= limit:
            unused.append(item)
        if entry["hits"]:
            used.append(item)
            if not entry["sole"]:
                redundant.append(item)
    used.sort(key=lambda item: -item["hits"])
    return {"unused_days": unused_days, "unused": unused, "top": used[:top],
            "redundant": redundant, "rules": sum(1 for rule in rules
                                                 if include_debian or is_local(rule))}


def render_text(result):
    out = [f"Rules considered: {result['rules']}"]
    out.append(f"\nRules with no hit for {result['unused_days']} days: {len(result['unused'])}")
    out += [f"  {item['file']}:{item['line']}: {item['rule']}  (last hit: "
            f"{item['last_hit'] or 'never, counted since ' + item['counted_since']})"
            for item in result["unused"]]
    out.append("\nRules that match the most:")
    out += [f"  {item['hits']:>10}  {item['file']}:{item['line']}: {item['rule']}"
            for item in result["top"]]
    out.append(f"\nRules that never matched a line no other rule matched "
               f"(redundant on the traffic seen): {len(result['redundant'])}")
    out += [f"  {item['file']}:{item['line']}: {item['rule']}  ({item['hits']} hits)"
            for item in result["redundant"]]
    return "\n".join(out) + "\n"


# --- Command line -------------------------------------------------------------

def parse_arguments(argv):
    parser = checker_parser("logsieve coverage",
                            "Which rules match, which never do, which are redundant.")
    parser.add_argument("--unused-days", type=int, default=DEFAULT_UNUSED_DAYS, metavar="N",
                        help=f"list rules with no hit for N days (default {DEFAULT_UNUSED_DAYS})")
    parser.add_argument("--top", type=int, default=DEFAULT_TOP, metavar="N")
    parser.add_argument("--all", dest="include_debian", action="store_true",
                        help="Debian's own rule files too (default: local and local-* only)")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--count", action="append", default=[], metavar="LOG",
                        help="first add the hits of this log's lines to the counts (once per "
                             "file: a rotated log counted before is skipped)")
    parser.add_argument("--missing-ok", action="store_true",
                        help="with --count: a log that does not exist (not rotated yet) is "
                             "skipped silently")
    parser.add_argument("-q", dest="quiet", action="store_true", help="print no report")
    options = parser.parse_args(argv)
    if options.unused_days < 1:
        parser.error("--unused-days must be at least 1")
    return options


def main(argv, checker_settings):
    """`logsieve coverage`; checker_settings is the checker's (cli)."""
    try:
        options = parse_arguments(argv)
    except SystemExit as exit_:
        return 0 if exit_.code == 0 else 2
    return exit_status(_run, options, checker_settings)


def _run(options, checker_settings):
    settings = checker_settings(**checker_flags(options))[0]
    tree = RuleTree(settings.rule_dir, settings.report_level)
    rules = ignore_rules(tree)
    CompiledRules(rules)  # a rule tree with errors: the error names the file and line
    # Matched against every rule, added for those the checker does not count.
    per_run = set(map(id, counted_per_run(tree)))
    counted_here = [number for number, rule in enumerate(rules) if id(rule) not in per_run]
    counts = Counts(settings.state_dir)
    for path in options.count:
        if options.missing_ok and not os.path.lexists(path):
            continue
        try:
            fingerprint = file_fingerprint(path)
            if counts.already_counted(fingerprint):
                continue
            with open(path, "rb") as handle:
                lines = handle.read().split(b"\n")
        except OSError as error:
            raise CoverageError(f"{path}: cannot read the log: {error.strerror}") from None
        hits, sole = count(rules, [line for line in lines if line])
        counts.add([rules[number] for number in counted_here],
                   [hits[number] for number in counted_here],
                   [sole[number] for number in counted_here])
        counts.mark_counted(fingerprint)
    if options.count:
        counts.save()
    if options.quiet:
        return 0
    result = report(rules, counts, options.unused_days, options.include_debian, options.top)
    if options.format == "json":
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        sys.stdout.write(render_text(result))
    return 0
