"""logcheck rule files: reading them, and translating their regex dialect.

logcheck rules are POSIX extended regular expressions as `grep -E` reads them
in the C locale, one per line.  This module turns each into a pattern for RE2
(Latin-1 mode, so that every byte is a character, as in the C locale) or, for
the few constructs RE2 lacks (back-references, GNU word anchors), into a
pattern for the `regex` package.  Python's `re` is never used for rules: it
reads `[[:digit:]]` as a set of characters.
"""

import functools
import os
import re
import stat
from dataclasses import dataclass
from .errors import LogsieveError
from .levels import IGNORE_LEVELS
from .lines import WHITESPACE

# The directories of a logcheck rule tree.
CRACKING = "cracking.d"
CRACKING_IGNORE = "cracking.ignore.d"
VIOLATIONS = "violations.d"
VIOLATIONS_IGNORE = "violations.ignore.d"

# The start of a syslog line up to the program name, for both time stamp forms:
# classic "Nov 21 07:44:38" and RFC 3339 (Debian 12's rsyslog), with or without
# fractional seconds, with "Z" or an offset.  Debian's own `[0-9T:.+-]{32}`
# misses the last two.
SYSLOG_PREFIX = (r"^(\w{3} [ :[:digit:]]{11}|[[:digit:]]{4}-[[:digit:]]{2}-[[:digit:]]{2}T"
                 r"[[:digit:]]{2}:[[:digit:]]{2}:[[:digit:]]{2}(\.[[:digit:]]+)?"
                 r"(Z|[+-][[:digit:]]{2}:[[:digit:]]{2})) [._[:alnum:]-]+ ")

_RUN_PARTS_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


class RuleError(LogsieveError):
    """A rule that cannot be used, with the place it came from."""

    def __init__(self, path, line, rule, reason):
        self.path = path
        self.line = line
        self.rule = rule
        self.reason = reason
        super().__init__(f"{path}:{line}: {rule_text(rule)}: {reason}")


def rule_text(pattern):
    """A rule as printable text (rules are bytes; show undecodable bytes escaped)."""
    return pattern.decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Rule:
    pattern: bytes  # the rule as written in the file
    path: str       # the file it came from
    line: int       # its line number there (1-based)

    def __str__(self):
        return f"{self.path}:{self.line}: {rule_text(self.pattern)}"


def is_rule_line(raw_line):
    """logcheck keeps every line that is neither blank nor starts with '#'."""
    return bool(raw_line.strip(WHITESPACE)) and not raw_line.startswith(b"#")


def read_rule_file(path):
    """The rules of one file, comments and blank lines dropped, in file order."""
    with open(path, "rb") as handle:
        data = handle.read()
    rules = []
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        if is_rule_line(raw_line):
            rules.append(Rule(raw_line, path, number))
    return rules


def run_parts_name(name):
    """run-parts (without --lsbsysinit) runs only names made of [A-Za-z0-9_-]."""
    return bool(name) and all(char in _RUN_PARTS_CHARS for char in name)


def rule_files(directory):
    """The rule files of a directory that logcheck reads, sorted by name.

    Like logcheck: names run-parts accepts, regular files (or links to them);
    an unreadable file is an error rather than silently skipped.
    """
    found = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        try:
            is_file = stat.S_ISREG(os.stat(path).st_mode)
        except OSError:
            continue  # a dangling link: run-parts skips it too
        if not is_file or not run_parts_name(name):
            continue
        if not os.access(path, os.R_OK):
            raise RuleError(path, 0, b"", "rule file is not readable")
        found.append((name, path))
    return found


class RuleTree:
    """A logcheck rule directory, loaded and combined for one report level.

    Each attribute maps a file name to its list of rules.  Ignore files of the
    levels that apply are merged by name, as logcheck concatenates them.
    `None` means the directory does not exist (which logcheck treats
    differently from an empty one).
    """

    def __init__(self, ruledir, level="server"):
        if level not in IGNORE_LEVELS:
            raise ValueError(f"unknown report level {level!r} "
                             f"(expected one of {', '.join(IGNORE_LEVELS)})")
        self.ruledir = ruledir
        self.level = level
        self.cracking = self._load(CRACKING)
        self.cracking_ignore = self._load(CRACKING_IGNORE)
        self.violations = self._load(VIOLATIONS)
        self.violations_ignore = self._load(VIOLATIONS_IGNORE)
        self.ignore = None
        for ignore_level in IGNORE_LEVELS[level]:
            loaded = self._load(f"ignore.d.{ignore_level}")
            if loaded is None:
                continue
            if self.ignore is None:
                self.ignore = {}
            for name, rules in loaded.items():
                self.ignore.setdefault(name, []).extend(rules)

    def _load(self, subdir):
        directory = os.path.join(self.ruledir, subdir)
        if not os.path.isdir(directory):
            return None
        return {name: read_rule_file(path) for name, path in rule_files(directory)}


# --- Dialect translation -------------------------------------------------------

@dataclass(frozen=True)
class Translation:
    re2: bytes              # pattern for RE2; an over-approximation when exact is False
    exact: bool             # RE2 alone decides; otherwise confirm with `fallback`
    fallback: bytes = b""   # pattern for the `regex` package
    alternation: bool = False  # has a '|' outside any parentheses


_POSIX_CLASSES = {b"alnum", b"alpha", b"blank", b"cntrl", b"digit", b"graph",
                  b"lower", b"print", b"punct", b"space", b"upper", b"xdigit"}


# A bracket expression of plain characters and known [:class:] items means
# the same to RE2 as to POSIX, and needs no work.  It reads only one way ('['
# or '[^', a first member that may be ']', members, ']'), so the patterns
# built on it fail in linear time, even on the 100 KB shared-prefix rules.
_PLAIN_MEMBER = rb"[^\]\[\\]|\[:(?:" + b"|".join(sorted(_POSIX_CLASSES)) + rb"):\]"
_PLAIN_BRACKET = rb"\[(?:\^|(?!\^))(?:\]|%s)(?:%s)*\]" % (_PLAIN_MEMBER, _PLAIN_MEMBER)
_SIMPLE_BRACKET = re.compile(_PLAIN_BRACKET)


def _bracket(pattern, start):
    """Translate the bracket expression starting at pattern[start] == '['.

    Returns (end index after ']', body for RE2 / `regex`).  In POSIX brackets a
    backslash is an ordinary character and ']' first is a literal.
    """
    simple = _SIMPLE_BRACKET.match(pattern, start)
    if simple:
        return simple.end(), simple.group()
    index = start + 1
    out = bytearray(b"[")
    if index < len(pattern) and pattern[index:index + 1] == b"^":
        out += b"^"
        index += 1
    first = True
    while index < len(pattern):
        char = pattern[index:index + 1]
        if char == b"]" and not first:
            out += b"]"
            return index + 1, bytes(out)
        first = False
        if char == b"[" and pattern[index + 1:index + 2] in (b":", b"=", b"."):
            kind = pattern[index + 1:index + 2]
            close = pattern.find(kind + b"]", index + 2)
            if close < 0:
                raise ValueError("unterminated [" + kind.decode() + " in bracket expression")
            name = pattern[index + 2:close]
            if kind == b":":
                if name not in _POSIX_CLASSES:
                    raise ValueError(f"invalid character class [:{name.decode('latin-1')}:]")
                out += b"[:" + name + b":]"
            else:  # [=x=] and [.x.]: in the C locale, the character itself
                if len(name) != 1:
                    raise ValueError("unsupported collating element in bracket expression")
                out += b"\\x%02x" % name[0]
            index = close + 2
            continue
        if char in (b"\\", b"[", b"^") or char == b"]":
            out += b"\\" + char  # literal here, special to RE2
        else:
            out += char
        index += 1
    raise ValueError("unmatched [ in rule")


# Lexing the rule's own text (not matching log lines): a run of bytes that
# mean themselves in both dialects.
_PLAIN_RUN = re.compile(rb"[^\\\[{}*+?()|^$.]+")


# A rule RE2 reads exactly as GNU ERE does, token by token: plain bytes,
# escaped punctuation, \w and \W, simple brackets, anchors, dots, groups,
# alternatives, and repetitions right after an operand.  Most rules are such;
# they skip the translation, the slowest part of start-up.  (Conservative:
# anything else, such as a repetition after an escape, is translated.)
# Each token can be read only one way, so a rule that does not fit fails in
# linear time.
_VERBATIM = re.compile(rb"""(?:
      [^\\\[{}*+?()|^$.]
    | \\[^0-9A-Za-z<>`'\x80-\xff] | \\[wW]
    | %s
    | [.^$|()]
    | (?<=[^\\(|^$])(?:[*+?]|\{[0-9]+(?:,[0-9]*)?\})
)*""" % _PLAIN_BRACKET, re.VERBOSE)
# What is left of a verbatim rule without its escapes and brackets: its
# groups and alternatives.
_NOT_STRUCTURE = re.compile(rb"\\.|%s|[^()|]" % _PLAIN_BRACKET, re.DOTALL)


def _verbatim(pattern):
    """The Translation of a rule RE2 can take as it is, or None."""
    if not _VERBATIM.fullmatch(pattern):
        return None
    depth = 0
    alternation = False
    for char in _NOT_STRUCTURE.sub(b"", pattern):
        if char == 0x28:  # (
            depth += 1
        elif char == 0x29:  # )
            depth -= 1
            if depth < 0:
                return None  # an unmatched ')' is a literal: translate it
        elif depth == 0:  # |
            alternation = True
    if depth:
        return None
    return Translation(pattern, True, pattern, alternation)


@functools.lru_cache(maxsize=8192)
def translate(pattern):
    """Translate one POSIX ERE (GNU grep -E dialect) into a Translation."""
    verbatim = _verbatim(pattern)
    if verbatim is not None:
        return verbatim
    return _translate(pattern)


def _translate(pattern):
    alternation = False
    re2_out = bytearray()
    fallback_out = bytearray()
    exact = True
    index = 0
    length = len(pattern)
    # Where a repetition operator has nothing to repeat, ERE reads it literally.
    after_operand = False
    depth = 0
    while index < length:
        plain = _PLAIN_RUN.match(pattern, index)
        if plain:
            re2_out += plain.group()
            fallback_out += plain.group()
            index = plain.end()
            after_operand = True
            continue
        char = pattern[index:index + 1]
        if char == b"\\":
            if index + 1 >= length:
                raise ValueError("trailing backslash")
            escaped = pattern[index + 1:index + 2]
            index += 2
            if escaped in b"123456789":
                exact = False
                # Over-approximate a back-reference by "anything on the line".
                re2_out += b"(?:.*)"
                fallback_out += b"\\" + escaped
            elif escaped in (b"<", b">"):
                exact = False
                re2_out += b"\\b"
                fallback_out += b"\\m" if escaped == b"<" else b"\\M"
            elif escaped == b"`":
                re2_out += b"\\A"
                fallback_out += b"\\A"
            elif escaped == b"'":
                re2_out += b"\\z"
                fallback_out += b"\\Z"
            elif escaped == b"s":
                re2_out += b"[[:space:]]"
                fallback_out += b"[ \\t\\n\\v\\f\\r]"
            elif escaped == b"S":
                re2_out += b"[^[:space:]]"
                fallback_out += b"[^ \\t\\n\\v\\f\\r]"
            elif escaped in (b"w", b"W", b"b", b"B"):
                re2_out += b"\\" + escaped
                fallback_out += b"\\" + escaped
            elif escaped.isalnum():
                # GNU grep reads an unknown escaped letter as the letter itself.
                re2_out += escaped
                fallback_out += escaped
            else:
                re2_out += b"\\" + escaped
                fallback_out += b"\\" + escaped
            after_operand = escaped not in (b"<", b">", b"`", b"'", b"b", b"B")
            continue
        if char == b"[":
            index, body = _bracket(pattern, index)
            re2_out += body
            fallback_out += body
            after_operand = True
            continue
        if char in (b"*", b"+", b"?") and not after_operand:
            re2_out += b"\\" + char
            fallback_out += b"\\" + char
            after_operand = True
            index += 1
            continue
        if char == b"{":
            close = pattern.find(b"}", index)
            interval = pattern[index + 1:close] if close > 0 else b""
            if close > 0 and after_operand and interval and all(
                    c in b"0123456789," for c in interval) and interval.count(b",") <= 1:
                if interval.startswith(b","):
                    interval = b"0" + interval  # GNU {,n} means {0,n}
                re2_out += b"{" + interval + b"}"
                fallback_out += b"{" + interval + b"}"
                index = close + 1
                continue
            re2_out += b"\\{"
            fallback_out += b"\\{"
            after_operand = True
            index += 1
            continue
        if char == b"(":
            depth += 1
            after_operand = False
        elif char == b")":
            if depth == 0:
                # An unmatched ')' is an ordinary character in GNU ERE.
                re2_out += b"\\)"
                fallback_out += b"\\)"
                after_operand = True
                index += 1
                continue
            depth -= 1
            after_operand = True
        elif char in (b"|", b"^"):
            alternation = alternation or (char == b"|" and depth == 0)
            after_operand = False
        elif char == b"}":
            char = b"\\}"
            after_operand = True
        else:  # * + ? after an operand, $ and .
            after_operand = char != b"$"
        re2_out += char
        fallback_out += char
        index += 1
    if depth:
        raise ValueError("unmatched ( in rule")
    return Translation(bytes(re2_out), exact, bytes(fallback_out), alternation)


# --- Sharing the syslog prefix ---------------------------------------------------

# `^(TIMESTAMP FORMS) [HOST CHARACTERS]+ `: a group without nested groups,
# then the host name's bracket expression (lexing the rule's own text).
_HOST_PREFIX = re.compile(rb"\^\((?:[^()\\\[\]]|\\.|" + _PLAIN_BRACKET + rb")*\) "
                          + _PLAIN_BRACKET + rb"\+ ")


def split_host_prefix(pattern):
    """Split `^(TIMESTAMPS) [HOSTCHARS]+ REST` into (prefix, REST), or None.

    Most logcheck rules start with one of a few such prefixes.  Rules with the
    same prefix can share it: `P(R1|R2)` means exactly `PR1|PR2`, as long as a
    rule has no top-level `|` and REST does not start with a repetition.
    """
    prefix = _HOST_PREFIX.match(pattern)
    if not prefix:
        return None
    rest = pattern[prefix.end():]
    try:
        translation = translate(pattern)
    except ValueError:
        return None
    if translation.alternation or rest[:1] in (b"*", b"+", b"?", b"{"):
        return None
    return prefix.group(), rest


def share_prefixes(rules):
    """Group rules by shared syslog prefix.

    Returns a list of (pattern, members, translation): for members sharing a
    prefix, the pattern `PREFIX(REST1|REST2|...)` and its Translation, made of
    the members' own translations (each REST as it reads in its own rule: an
    unmatched ')' stays a literal); for a rule standing alone, its own pattern
    and None.  Rules that need the `regex` package are never combined.
    """
    groups = {}
    alone = []
    for rule in rules:
        parts = split_host_prefix(rule.pattern)
        if parts is not None:
            translation = translate(rule.pattern)
            prefix_re2 = translate(parts[0]).re2
            if translation.exact and translation.re2.startswith(prefix_re2):
                groups.setdefault(parts[0], []).append(
                    (parts[1], translation.re2[len(prefix_re2):], rule))
                continue
        alone.append((rule.pattern, [rule], None))
    combined = []
    for prefix, members in groups.items():
        if len(members) == 1:
            combined.append((members[0][2].pattern, [members[0][2]], None))
            continue
        pattern = prefix + b"(" + b"|".join(rest for rest, _, _ in members) + b")"
        re2 = translate(prefix).re2 + b"(" + b"|".join(rest for _, rest, _ in members) + b")"
        combined.append((pattern, [rule for _, _, rule in members], Translation(re2, True, re2)))
    return combined + alone
