"""Checks that logcheck rules are safe to deploy, against sample log lines.

The pure logic of the module logsieve.logcheck.validate_rules, kept apart from
Ansible so that it can be tested directly.  Matching goes through the checker's
own engine (`CompiledRules`), so a rule means here exactly what it means when
the checker runs; only the rule *text* is inspected here (anchors, trailing
white space), split into its alternatives by the engine's ERE reader
(`ere.top_level_alternatives`), never matched with Python's `re`.
"""

import os

from ansible_collections.logsieve.logcheck.plugins.module_utils.logsieve.levels import (
    IGNORE_LEVELS, REPORT_LEVELS)
from ansible_collections.logsieve.logcheck.plugins.module_utils.logsieve.lines import (
    WHITESPACE, strip_line)

try:
    from ansible_collections.logsieve.logcheck.plugins.module_utils.logsieve.engine import (
        RE2_IMPORT_ERROR, CompiledRules)
    if RE2_IMPORT_ERROR is not None:
        raise RE2_IMPORT_ERROR
    from ansible_collections.logsieve.logcheck.plugins.module_utils.logsieve.rules import (
        RuleError, read_rule_file, rule_files, rule_text)
    from ansible_collections.logsieve.logcheck.plugins.module_utils.logsieve.ruletext import (
        anchoring_problem, trailing_whitespace_problem)
    ENGINE_IMPORT_ERROR = None
except ImportError as error:  # google-re2 or regex missing where the module runs
    ENGINE_IMPORT_ERROR = error
# Probe lines: a rule that matches all of them matches every line.
_WILDCARD_PROBES = (b"", b"x", b"\x01 logsieve wildcard probe 0 ~",
                    b"Nov 21 07:44:38 host prog[1]: logsieve wildcard probe")


class Problem:
    """One failure or warning: where (file, line), which rule, why, and the
    sample line involved, if any."""

    __slots__ = ("file", "line", "rule", "reason", "sample")

    def __init__(self, file, line, rule, reason, sample=None):
        self.file = file
        self.line = line
        self.rule = rule
        self.reason = reason
        self.sample = sample

    def as_dict(self):
        result = {"file": self.file, "line": self.line, "rule": self.rule,
                  "reason": self.reason}
        if self.sample is not None:
            result["sample"] = self.sample
        return result

    def __str__(self):
        text = "%s:%s: %s: %s" % (self.file, self.line, self.rule, self.reason)
        if self.sample is not None:
            text += " (sample: %s)" % self.sample
        return text


class Result:
    def __init__(self):
        self.errors = []
        self.warnings = []
        self.rule_hits = []   # dicts: file, line, rule, hits
        self.rule_files = []  # the files read
        self.samples = 0      # sample lines checked

    @property
    def failed(self):
        return bool(self.errors)


def _text(data):
    return data.decode("utf-8", "backslashreplace")


# --- Which files hold the rules ----------------------------------------------

def collect_rule_files(paths, level):
    """The rule files named by `paths`, in order, without duplicates.

    A path is a rule file; a directory of rule files (read as logcheck reads
    one: run-parts names only); or a logcheck rule tree (a directory holding
    ignore.d.* / cracking.d / violations.d), of which the ignore.d directories
    of `level` are read, plus the cracking and violations directories.
    Raises ValueError for a path that does not exist.
    """
    found = []
    for path in paths:
        if os.path.isdir(path):
            subdirs = _tree_subdirs(path, level)
            if subdirs is None:
                found.extend(rule_path for _name, rule_path in rule_files(path))
            else:
                for subdir in subdirs:
                    found.extend(rule_path for _name, rule_path in rule_files(subdir))
        elif os.path.exists(path):
            found.append(path)
        else:
            raise ValueError("%s: no such rule file or directory" % path)
    unique = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def _tree_subdirs(root, level):
    """The rule directories of a logcheck tree at `level`, or None when `root`
    is not a rule tree."""
    names = (["ignore.d.%s" % name for name in IGNORE_LEVELS[level]]
             + ["cracking.d", "cracking.ignore.d", "violations.d", "violations.ignore.d"])
    is_tree = any(os.path.isdir(os.path.join(root, entry)) for entry in os.listdir(root)
                  if entry.startswith("ignore.d.") or entry in names)
    if not is_tree:
        return None
    return [os.path.join(root, name) for name in names
            if os.path.isdir(os.path.join(root, name))]


# --- Samples ------------------------------------------------------------------------

def read_samples(path):
    """(line number, line) of a sample log: blank lines and lines starting with
    '#' are skipped; lines are stripped of trailing white space as the checker
    strips them."""
    with open(path, "rb") as handle:
        data = handle.read()
    samples = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        line = line.rstrip(WHITESPACE)
        if not line or line.startswith(b"#"):
            continue
        samples.append((number, line))
    return samples


# --- The validation ----------------------------------------------------------------------

def validate(rule_paths, must_ignore=(), must_report=(), require_anchors=True,
             level="server"):
    """Validate the rules found under `rule_paths` against sample logs.

    Returns a Result; its `errors` make the module fail.  Raises ValueError for
    a missing path and ImportError when the engine cannot be imported.
    """
    if ENGINE_IMPORT_ERROR is not None:
        raise ENGINE_IMPORT_ERROR
    if level not in REPORT_LEVELS:
        raise ValueError("unknown level %r (expected one of %s)"
                         % (level, ", ".join(REPORT_LEVELS)))
    for path in list(must_ignore) + list(must_report):
        if not os.path.isfile(path):
            raise ValueError("%s: no such sample file" % path)

    result = Result()
    try:
        result.rule_files = collect_rule_files(rule_paths, level)
    except RuleError as error:
        result.errors.append(Problem(error.path, error.line, rule_text(error.rule),
                                     error.reason))
        return result
    usable = []
    for path in result.rule_files:
        try:
            rules = read_rule_file(path)
        except OSError as error:
            result.errors.append(Problem(path, 0, "", "cannot read the rule file: %s" % error))
            continue
        _check_blank_lines(path, result)
        for rule in rules:
            # A rule that compiles still joins the set when it fails another
            # check, so that it is also checked against the samples.
            if _check_rule(rule, require_anchors, result):
                usable.append(rule)

    compiled = CompiledRules(usable)
    hits = [0] * len(usable)
    ignore_hits = [0] * len(usable)

    for sample_path in must_ignore:
        for number, line in read_samples(sample_path):
            result.samples += 1
            matched = compiled.match(strip_line(line))
            for index in matched:
                hits[index] += 1
                ignore_hits[index] += 1
            if not matched:
                result.errors.append(Problem(
                    sample_path, number, "",
                    "no rule matches this line, which must be ignored", _text(line)))

    for sample_path in must_report:
        for number, line in read_samples(sample_path):
            result.samples += 1
            for index in sorted(compiled.match(strip_line(line))):
                hits[index] += 1
                rule = usable[index]
                result.errors.append(Problem(
                    rule.path, rule.line, rule_text(rule.pattern),
                    "rule matches a line that must be reported (%s:%d)"
                    % (sample_path, number), _text(line)))

    for index, rule in enumerate(usable):
        result.rule_hits.append({"file": rule.path, "line": rule.line,
                                 "rule": rule_text(rule.pattern), "hits": hits[index]})
        if must_ignore and not ignore_hits[index]:
            result.warnings.append(Problem(
                rule.path, rule.line, rule_text(rule.pattern),
                "rule matches none of the lines that must be ignored"))
    return result


def _check_blank_lines(path, result):
    """A line of only white space is dropped by logsieve and logcheck 1.4, but
    older logcheck versions and hand-run `grep -E -f` read it as a pattern that
    matches every line: refuse it."""
    with open(path, "rb") as handle:
        data = handle.read()
    if not data.strip(WHITESPACE):
        # An empty file is harmless here (it holds no rule), but say so.
        result.warnings.append(Problem(path, 0, "", "rule file holds no rules"))
        return
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        if raw_line and not raw_line.strip(WHITESPACE):
            result.errors.append(Problem(
                path, number, _text(raw_line),
                "blank rule (only white space): some tools read it as a wildcard"))


def _check_rule(rule, require_anchors, result):
    """Check one rule on its own and record its problems.  True when it can
    join the compiled set (it compiles and is not a wildcard)."""
    text = rule_text(rule.pattern)
    try:
        single = CompiledRules([rule])
    except RuleError as error:
        result.errors.append(Problem(rule.path, rule.line, text,
                                     "rule does not compile: %s" % error.reason))
        return False
    if all(single.match(probe) for probe in _WILDCARD_PROBES):
        result.errors.append(Problem(rule.path, rule.line, text,
                                     "empty rule: it matches every line"))
        return False
    if require_anchors:
        reason = anchoring_problem(rule.pattern)
        if reason:
            result.errors.append(Problem(rule.path, rule.line, text, reason))
    reason = trailing_whitespace_problem(rule.pattern)
    if reason:
        result.errors.append(Problem(rule.path, rule.line, text, reason))
    return True
