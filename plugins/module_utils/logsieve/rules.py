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
from . import ere
from . import charclass
from .charclass import CLASSES
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
        # A blank rule or a whole file has no rule text to show.
        shown = rule_text(rule).strip()
        super().__init__(f"{path}:{line}: {shown}: {reason}" if shown else f"{path}:{line}: {reason}")


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
    re2: bytes              # pattern for RE2 (Latin-1); an over-approximation when exact is False
    exact: bool             # RE2 alone decides; otherwise confirm with `fallback`
    fallback: bytes = b""   # pattern for the `regex` package (bytes)
    alternation: bool = False  # has a '|' outside any parentheses
    # The rules it stands for (one, or the members sharing a prefix): a UTF-8
    # locale's set for lines beyond ASCII is written from them (wide()).
    members: tuple = ()
    # A second `regex` pattern a line must match too (ere.Rule.prefilter).
    prefilter: bytes = b""
    prefix: bytes = b""     # the syslog prefix the members share (share_prefixes)


_POSIX_CLASSES = {name.encode() for name in CLASSES}


# A bracket expression of plain characters and known [:class:] items means
# the same to RE2 as to POSIX, and needs no work.  It reads only one way ('['
# or '[^', a first member that may be ']', members, ']'), so the patterns
# built on it fail in linear time, even on the 100 KB shared-prefix rules.
# (Whether its ranges go up, and the `[:digit:]` mistake, are checked apart:
# _verbatim_valid.)
_PLAIN_MEMBER = rb"[^\]\[\\]|\[:(?:" + b"|".join(sorted(_POSIX_CLASSES)) + rb"):\]"
_PLAIN_BRACKET = rb"\[(?:\^|(?!\^))(?:\]|%s)(?:%s)*\]" % (_PLAIN_MEMBER, _PLAIN_MEMBER)


# A rule RE2 reads exactly as GNU ERE does, token by token: plain bytes,
# escaped punctuation, \w and \W, simple brackets, anchors, dots, groups,
# alternatives, and one repetition right after an operand (not after another
# repetition: RE2 would read `+?` as lazy; intervals without leading zeros,
# which RE2 reads literally, and within RE2's limit).  Most rules are such;
# they skip the reader, the slowest part of start-up.  (Conservative:
# anything else is read by ere.)  Each token can be read only one way, so a
# rule that does not fit fails in linear time.
_VERBATIM = re.compile(rb"""(?:
      [^\\\[{}*+?()|^$.\x80-\xff]
    | \\[^0-9A-Za-z<>`'\x80-\xff] | \\[wW]
    | %s
    | [.^$|()]
    | (?<=[^\\(|^$*+?}])(?:[*+?]|\{(?:0|[1-9][0-9]{0,2})(?:,(?:0|[1-9][0-9]{0,2})?)?\})
)*""" % _PLAIN_BRACKET, re.VERBOSE)
# What is left of a verbatim rule without its escapes and brackets: its
# groups and alternatives.
_NOT_STRUCTURE = re.compile(rb"\\.|%s|[^()|]" % _PLAIN_BRACKET, re.DOTALL)
# A verbatim rule's brackets (escapes skipped), and its intervals with a
# maximum: grep refuses some of either (_verbatim checks them).
_BRACKET_TOKENS = re.compile(rb"\\.|(%s)" % _PLAIN_BRACKET, re.DOTALL)
_INTERVAL_RANGES = re.compile(rb"\{([0-9]+),([0-9]+)\}")


@functools.lru_cache(maxsize=4096)
def _plain_bracket_ok(bracket):
    """Whether RE2 reads this bracket expression as grep does, and grep takes
    it (ranges that go up, no `[:digit:]` mistake).  A '-' next to another
    '-' or after a leading ']' is left to the reader."""
    if b"--" in bracket or bracket.startswith((b"[]-", b"[^]-")):
        return False
    try:
        ere.parse(bracket)
    except ere.EreSyntaxError:
        return False
    return True


@functools.lru_cache(maxsize=8192)  # the same in every locale: read once
def _verbatim(pattern):
    """The Translation of a rule RE2 can take as it is, or None."""
    if not _VERBATIM.fullmatch(pattern):
        return None
    for token in _BRACKET_TOKENS.finditer(pattern):
        if token.group(1) and not _plain_bracket_ok(token.group(1)):
            return None
    for low, high in _INTERVAL_RANGES.findall(pattern):
        if int(low) > int(high):
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
    # A repetition right after '(' or '|' or an anchor was excluded above;
    # one first in the rule is not: read those.
    if pattern[:1] in (b"*", b"+", b"?", b"{"):
        return None
    return Translation(pattern, True, pattern, alternation, (pattern,))


@functools.lru_cache(maxsize=8192)
def translate(pattern, locale_name=None):
    """Read one rule as GNU grep -E does, in the C locale (locale_name None)
    or in the UTF-8 locale `locale_name`, into a Translation for lines of
    ASCII there (bytes in the C locale).  Raises ere.EreSyntaxError with
    grep's reason for a rule grep refuses."""
    if locale_name is None or pattern.isascii():
        # An ASCII rule means the same on lines of ASCII in both locales.
        verbatim = _verbatim(pattern)
        if verbatim is not None:
            return verbatim
    return _read(pattern, locale_name)


def _read(pattern, locale_name=None):
    """translate() through the reader, without the verbatim fast path."""
    rule = ere.parse(pattern, utf8=locale_name is not None)
    ascii_lines = rule.utf8
    re2, exact = ere.write_bytes(rule, ascii_lines)
    prefilter = ere.write_prefilter(rule, None, ascii_lines) or b""
    exact = exact and not prefilter
    fallback = ere.write_bytes_regex(rule, ascii_lines) if not exact else re2
    return Translation(re2, exact, fallback, rule.alternation, (pattern,), prefilter)


@dataclass(frozen=True)
class WideTranslation:
    """A rule for lines beyond ASCII in a UTF-8 locale."""
    re2: bytes       # pattern for RE2 (Latin-1) on the line's charclass transcription
    exact: bool
    fallback: str    # pattern for the `regex` package, on ere.decode_line(line)
    prefilter: str = ""  # a second one a line must match too (ere.Rule.prefilter)


@functools.lru_cache(maxsize=8192)
def wide_translation(pattern, locale_name):
    """A rule for lines beyond ASCII in the UTF-8 locale `locale_name`.  Rules
    of ASCII without back-references are matched on the transcription
    (charclass); the others are candidates on every such line, which the
    `regex` package decides."""
    rule = ere.parse(pattern, utf8=True)
    if not pattern.isascii() or rule.backrefs or rule.prefilter is not None:
        return WideTranslation(b"", False, ere.write_str_regex(rule, locale_name),
                               ere.write_prefilter(rule, locale_name) or "")
    re2, exact = ere.write_bytes(rule, transcription=charclass.transcription(locale_name))
    return WideTranslation(re2, exact, "" if exact else ere.write_str_regex(rule, locale_name))


def wide(translation, locale_name):
    """The WideTranslation of a Translation (of its members, side by side)."""
    members = [wide_translation(member, locale_name) for member in translation.members]
    if len(members) == 1:
        return members[0]
    # share_prefixes() groups no rule wide_may_be_inexact() in a UTF-8 locale.
    if not all(member.exact for member in members):
        raise AssertionError("share_prefixes() grouped an inexact wide rule")
    prefix = wide_translation(translation.prefix, locale_name).re2 if translation.prefix else b""
    if prefix and all(member.re2.startswith(prefix) for member in members):
        # The members share the prefix here too: a smaller program.
        return WideTranslation(prefix + b"(?:" + b"|".join(
            member.re2[len(prefix):] for member in members) + b")", True, "")
    return WideTranslation(b"|".join(b"(?:" + member.re2 + b")" for member in members), True, "")


# Rules whose meaning beyond ASCII RE2 may only approximate (word anchors,
# back-references, characters beyond ASCII: see wide_translation), found
# from their text.
_WIDE_INEXACT = re.compile(rb"\\[bB<>1-9]|[\x80-\xff]")


def wide_may_be_inexact(pattern):
    return _WIDE_INEXACT.search(pattern) is not None


# --- Sharing the syslog prefix ---------------------------------------------------

# `^(TIMESTAMP FORMS) [HOST CHARACTERS]+ `: a group without nested groups,
# then the host name's bracket expression (lexing the rule's own text).
_HOST_PREFIX = re.compile(rb"\^\((?:[^()\\\[\]]|\\.|" + _PLAIN_BRACKET + rb")*\) "
                          + _PLAIN_BRACKET + rb"\+ ")


def is_local(rule):
    """Rules of the administrator's own files (local, local-*), not Debian's."""
    name = os.path.basename(rule.path)
    return name == "local" or name.startswith("local-")


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


def share_prefixes(rules, locale_name=None):
    """Group rules by shared syslog prefix.

    Returns a list of (pattern, members, translation): for members sharing a
    prefix, the pattern `PREFIX(REST1|REST2|...)` and its Translation, made of
    the members' own translations (each REST as it reads in its own rule: an
    unmatched ')' stays a literal); for a rule standing alone, its own pattern
    and None.  Rules that need the `regex` package are never combined (in a
    UTF-8 locale, on lines beyond ASCII either).
    """
    groups = {}
    alone = []
    for rule in rules:
        parts = split_host_prefix(rule.pattern)
        if parts is not None and not (locale_name and wide_may_be_inexact(rule.pattern)):
            translation = translate(rule.pattern, locale_name)
            # The prefix as the rule's own translation spells it: as written
            # (the fast path) or as the reader writes it.
            prefix_re2 = (translate(parts[0], locale_name) if translation.re2 == rule.pattern
                          else _read(parts[0], locale_name)).re2
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
        pattern = prefix + b"(" + b"|".join(rest for rest, _rest_re2, _rule in members) + b")"
        re2 = (translate(prefix, locale_name).re2
               + b"(?:" + b"|".join(rest for _rest, rest, _rule in members) + b")")
        combined.append((pattern, [rule for _rest, _rest_re2, rule in members],
                         Translation(re2, True, re2, False,
                                     tuple(rule.pattern for _rest, _rest_re2, rule in members), b"",
                                     prefix)))
    return combined + alone
