"""LogSentry 1.1's rule layout and report: an adapter at the edge.

Hosts that still run LogSentry (logcheck's ancestor) keep four flat files in
their rule directory instead of logcheck's tree.  LogSentry's `logcheck.sh`
runs egrep over the new log lines three times:

* `egrep -i -f logcheck.hacking`: "Active System Attack Alerts";
* `egrep -i -f logcheck.violations | egrep -v -f logcheck.violations.ignore`:
  "Security Violations";
* `egrep -v -f logcheck.ignore`: "Unusual System Events" (attack and
  violation lines are repeated there when not ignored).

Each section that has lines is written after an empty line, with its title
and a =-=- underline, lines in log order (LogSentry never sorts); the mail
subject is `HOST DATE ACTIVE SYSTEM ATTACK!` when an attack alert was found,
`HOST DATE system check` otherwise, DATE as `date +%m/%d/%y:%H.%M`.

The sources, the engine, delivery and cursors are logsieve's own: this module
only turns the four files into a classifier with the engine's interface
(`classify_text`, see engine.Classifier) and writes the report in LogSentry's
words.  Every line of a LogSentry file is a pattern (grep -f has no comments).
A blank line or an empty file makes grep match every line, which would hide
every report; logsieve refuses such files, naming the file and the line.
"""

import os
import time

from .engine import BlockResult, CompiledRules
from .report import section_header
from .rules import Rule, RuleError, Translation, translate

HACKING = "logcheck.hacking"
VIOLATIONS = "logcheck.violations"
VIOLATIONS_IGNORE = "logcheck.violations.ignore"
IGNORE = "logcheck.ignore"
FILES = (HACKING, VIOLATIONS, VIOLATIONS_IGNORE, IGNORE)

ATTACK_TITLE = "Active System Attack Alerts"
VIOLATIONS_TITLE = "Security Violations"
EVENTS_TITLE = "Unusual System Events"
# The section name in the Classification (logcheck's catch-all file name).
SECTION = "logcheck"
# The sort order LogSentry's sections are given: as read (see report.SortedLines).
IN_ORDER = (b"", b"", True)


def is_logsentry_layout(ruledir):
    """Whether `ruledir` holds LogSentry's four rule files."""
    return all(os.path.isfile(os.path.join(ruledir, name)) for name in FILES)


def read_pattern_file(path):
    """Every line of a LogSentry rule file as a Rule; a blank line or an empty
    file is refused (egrep would take it as matching every line)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise RuleError(path, 0, b"", f"cannot read the rule file: {error.strerror}") from None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line
    if not lines:
        raise RuleError(path, 1, b"", "empty rule file: LogSentry's egrep would match every "
                                      "line with it; write at least one pattern")
    rules = []
    for number, line in enumerate(lines, start=1):
        if not line.strip(b" \t\r"):
            raise RuleError(path, number, line, "blank rule: LogSentry's egrep would match "
                                                "every line with it; remove the line")
        rules.append(Rule(line, path, number))
    return rules


def _compiled(rules, ignore_case):
    """CompiledRules for `rules`, case-insensitive as `egrep -i` when asked."""
    if not ignore_case:
        return CompiledRules(rules)
    translations = []
    for rule in rules:
        try:
            translation = translate(rule.pattern)
        except ValueError as error:
            raise RuleError(rule.path, rule.line, rule.pattern, str(error)) from None
        translations.append(Translation(b"(?i)" + translation.re2, translation.exact,
                                        b"(?i)" + translation.fallback,
                                        translation.alternation))
    return CompiledRules(rules, translations)


class LogSentryClassifier:
    """LogSentry's three egrep passes as one classifier.

    `classify_text` has engine.Classifier's contract (a BlockResult), so the pipeline (blocks,
    workers, shared memory) runs it unchanged: events are the lines
    `logcheck.ignore` does not match; placed lines are those of the attack and
    violations sections, in the single section SECTION.
    """

    def __init__(self, ruledir):
        self.ruledir = ruledir
        loaded = {name: read_pattern_file(os.path.join(ruledir, name)) for name in FILES}
        self.hacking = _compiled(loaded[HACKING], ignore_case=True)
        self.violations = _compiled(loaded[VIOLATIONS], ignore_case=True)
        self.violations_ignore = _compiled(loaded[VIOLATIONS_IGNORE], ignore_case=False)
        self.ignore = _compiled(loaded[IGNORE], ignore_case=False)
        self._sets = (self.hacking, self.violations, self.violations_ignore, self.ignore)
        # What the command line counts under -d.
        self.quiet = [rule for name in FILES for rule in loaded[name]]

    def classify_text(self, text):
        """Lines are matched as read, trailing white space included, as grep
        reads them; a few RE2 calls per line (LogSentry hosts are small)."""
        lines = bytes(text).split(b"\n")
        events = []
        placed = []
        for line in lines:
            if not self.ignore.matches(line):
                events.append(line)
            attack = self.hacking.matches(line)
            violation = self.violations.matches(line) and not self.violations_ignore.matches(line)
            if attack or violation:
                # cracking_hit False: LogSentry never drops violations for attacks.
                placed.append((line, (SECTION,) if attack else (),
                               (SECTION,) if violation else (), False))
        timeouts = {}
        for rules in self._sets:
            timeouts.update(rules.take_timeouts())
        return BlockResult(len(lines), b"\n".join(events), len(events), False, IN_ORDER, placed,
                           timeouts)


def report_section(result):
    """The subject's last words, or None when nothing is to be reported."""
    if result.attack:
        return "ACTIVE SYSTEM ATTACK!"
    if result.violations or len(result.events):
        return "system check"
    return None


def write_report(result, errors, out):
    """LogSentry's report body: each non-empty section after an empty line."""
    if errors:
        out.write(("\n" + "\n".join(errors) + "\n").encode("utf-8", "surrogateescape"))
    for title, lines in ((ATTACK_TITLE, result.attack.get(SECTION)),
                         (VIOLATIONS_TITLE, result.violations.get(SECTION)),
                         (EVENTS_TITLE, result.events)):
        if lines is not None and len(lines):
            out.write(b"\n" + section_header(title))
            for block in lines.blocks():
                out.write(block)


def subject_line(section, host, now=None):
    """LogSentry's subject: `HOST MM/DD/YY:HH.MM ACTIVE SYSTEM ATTACK!` or
    `HOST MM/DD/YY:HH.MM system check`."""
    date = time.strftime("%m/%d/%y:%H.%M", time.localtime(now))
    return f"{host} {date} {section}"


__all__ = ["FILES", "LogSentryClassifier", "is_logsentry_layout", "read_pattern_file",
           "report_section", "subject_line", "write_report"]
