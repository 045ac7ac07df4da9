"""Jinja filters for writing logcheck rules (POSIX extended regular expressions)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.logsieve.logcheck.plugins.module_utils.logsieve.ruletext import (
    ERE_SPECIAL)

# Characters that cannot appear in a rule: a rule is one line of a file, and a
# newline in a value would start a new (unvalidated) rule.
FORBIDDEN = frozenset("\n\r\0")


def ere_escape(value):
    """Escape a value (an interface name, an address, a host name) so that a
    POSIX ERE matches it literally.

    Refuses values holding a newline, a carriage return or a NUL byte, which
    would split the rule file's line, and values that are not strings or
    numbers, so that a list or a mapping is not silently rendered as its repr.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise AnsibleFilterError(
            "ere_escape expects a string, got %s: %r" % (type(value).__name__, value))
    text = str(value)
    bad = sorted(FORBIDDEN.intersection(text))
    if bad:
        raise AnsibleFilterError(
            "ere_escape: %r holds a character a rule cannot contain (%s)"
            % (text, ", ".join(repr(char) for char in bad)))
    return "".join("\\" + char if char in ERE_SPECIAL else char for char in text)


def ere_alternatives(values):
    """Escape each value and join them as one ERE group: (a|b|c).

    Refuses an empty list: an empty group would match the empty string, which
    is the wildcard the rules must never contain.
    """
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise AnsibleFilterError("ere_alternatives expects a list, got %r" % (values,))
    escaped = [ere_escape(value) for value in values]
    if not escaped or any(not item for item in escaped):
        raise AnsibleFilterError(
            "ere_alternatives: an empty list or an empty value would match anything: %r"
            % (list(values),))
    return "(" + "|".join(escaped) + ")"


def rule_problem(problem, staging_dir=None, live_dir=None):
    """One failure of logsieve.logcheck.validate_rules as a line of text:
    "FILE line N: REASON; rule: RULE; sample: LINE".  A file under
    `staging_dir` is shown at its place under `live_dir`."""
    if not isinstance(problem, dict):
        raise AnsibleFilterError("rule_problem expects a mapping, got %r" % (problem,))
    path = str(problem.get("file", ""))
    if staging_dir and live_dir and path.startswith(staging_dir.rstrip("/") + "/"):
        path = live_dir.rstrip("/") + path[len(staging_dir.rstrip("/")):]
    text = "%s line %s: %s" % (path, problem.get("line", 0), problem.get("reason", ""))
    if problem.get("rule"):
        text += "; rule: %s" % problem["rule"]
    if problem.get("sample") is not None:
        text += "; sample: %s" % problem["sample"]
    return text


class FilterModule:
    """logcheck rule filters."""

    def filters(self):
        return {
            "ere_escape": ere_escape,
            "ere_alternatives": ere_alternatives,
            "rule_problem": rule_problem,
        }
