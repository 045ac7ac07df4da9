"""`logsieve suggest`: rules for what the report still shows, written from the
lines themselves and checked before they are printed.

Administrators quieten logcheck by copying a report line into a `local-*`
file and editing it into a regular expression by hand.  This does the editing:
the lines no rule ignores are grouped by the grouped report's templates
(templates.TemplateMiner: one grouping, never a second miner), and each group
becomes one rule: the shared syslog prefix (rules.SYSLOG_PREFIX, both time
stamp forms), the program, its constant words escaped, and each placeholder
written as the narrowest shape that covers the values seen (a value that never
varied stays literal).

A rule that hides a line that had to be reported is the worst thing this tool
could print, so every rule is checked with the checker's own engine first: it
compiles, it is anchored, it matches every line it was made from, it matches
no line the rule tree's cracking or violations rules flag, and no line of the
must-report corpus (mustreport).  When it fails, the rule is narrowed once
(placeholders with few values become the list of those values); a group whose
rule still fails is not suggested and is listed with the reason: its lines
stay in the report.
"""

import itertools
import re
import sys

from .engine import Classifier, CompiledRules
from .errors import LogsieveError
from .lines import strip_line, whole_line_blocks
from .mustreport import load as load_must_report
from .pipeline import read_groups
from .rules import SYSLOG_PREFIX, Rule, RuleError, RuleTree
from .ruletext import anchoring_problem, ere_escape_bytes, trailing_whitespace_problem
from .subcommand import checker_flags, checker_parser, exit_status
from .syslogline import parse
from .templates import OTHERS, PLACEHOLDER, TemplateMiner, mask_token

# A typed value seen in fewer lines than this is not trusted to be a constant:
# it is written as its shape, not literally.
LITERAL_MIN_LINES = 3
# A word placeholder with at most this many values may be narrowed to the
# list of them when its shape is too wide to be safe.  Only words (user names,
# message words): the word is what tells one kind of event from another
# (`root` from `alice`, `Oversized` from `Tiny`); listing the numbers or
# addresses seen would make any rule dodge the corpus without being safer.
MAX_LISTED_VALUES = 8
LISTED_KINDS = ("*", "USER")
# Groups with fewer lines are not suggested (`--min-count`).
DEFAULT_MIN_COUNT = 2
FORMATS = ("plain", "rules_host_custom", "rules_group_custom")

# The shapes a placeholder's values can take, narrowest first: (name, test on
# a value with Python's `re` -- our own data, never a rule --, the ERE written
# into the rule).  The first shape every value fits is used.
_DIGIT = r"[[:digit:]]"
_XDIGIT = r"[[:xdigit:]]"
_IPV4 = _DIGIT + r"{1,3}(\." + _DIGIT + r"{1,3}){3}"
_IPV6 = _XDIGIT + r"{0,4}(:" + _XDIGIT + r"{0,4}){2,7}(\." + _DIGIT + r"{1,3}){0,3}(%[[:alnum:]]+)?"
SHAPES = [
    ("number", rb"[0-9]+", _DIGIT + "+"),
    ("signed number", rb"[-+]?[0-9]+", r"[-+]?" + _DIGIT + "+"),
    ("IPv4", rb"[0-9]{1,3}(?:\.[0-9]{1,3}){3}", _IPV4),
    ("IPv4 and port", rb"[0-9]{1,3}(?:\.[0-9]{1,3}){3}[:#][0-9]{1,5}",
     _IPV4 + r"[:#]" + _DIGIT + "{1,5}"),
    ("decimal", rb"[-+]?[0-9]+(?:[.,][0-9]+)*", r"[-+]?" + _DIGIT + r"+([.,]" + _DIGIT + "+)*"),
    ("time", rb"[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?",
     _DIGIT + r"{1,2}:" + _DIGIT + r"{2}:" + _DIGIT + r"{2}([.,]" + _DIGIT + "+)?"),
    ("MAC address", rb"[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5,}",
     _XDIGIT + r"{2}([:-]" + _XDIGIT + "{2}){5,}"),
    ("IPv6", rb"[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}(?:%[0-9A-Za-z]+)?",
     _IPV6),
    ("IP address", rb"[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}"
     rb"(?:\.[0-9]{1,3}){0,3}(?:%[0-9A-Za-z]+)?", "(" + _IPV4 + "|" + _IPV6 + ")"),
    ("UUID", rb"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}",
     _XDIGIT + r"{8}(-" + _XDIGIT + r"{4}){3}-" + _XDIGIT + "{12}"),
    ("hex", rb"(?:0[xX])?[0-9a-fA-F]+", r"(0[xX])?" + _XDIGIT + "+"),
    ("interface name", rb"[A-Za-z][A-Za-z0-9]*[0-9](?:\.[0-9]+)?",
     r"[[:alpha:]][[:alnum:]]*" + _DIGIT + r"(\." + _DIGIT + "+)?"),
    ("user name", rb"[A-Za-z0-9_][A-Za-z0-9_.-]*\$?", r"[[:alnum:]_][[:alnum:]_.-]*\$?"),
    ("host name", rb"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?", r"[[:alnum:]_-]+(\.[[:alnum:]_-]+)*\.?"),
    ("path", rb"/[^ \t]*", r"/[^[:space:]]*"),
    ("word", rb"[^ \t]+", r"[^[:space:]]+"),
    # A date written with spaces inside (`Tue Jun 14 15:16:01 2005`).
    ("date", rb"[A-Za-z0-9:,./+-]+(?: +[A-Za-z0-9:,./+-]+)*",
     r"[[:alnum:]:,./+-]+( +[[:alnum:]:,./+-]+)*"),
]
_SHAPE_TESTS = [(name, re.compile(test), ere.encode()) for name, test, ere in SHAPES]
_SHAPE_ERE = {test[0]: test[2] for test in _SHAPE_TESTS}
# What a placeholder's type allows when its values are not all known (more
# values than a group counts): the widest shape of that type.
_KIND_SHAPES = {"NUM": "decimal", "IP": "IP address", "ADDR": "host name", "MAC": "MAC address",
                "UUID": "UUID", "HEX": "hex", "TIME": "time", "PATH": "path", "USER": "word",
                "HOST": "host name", "DATE": "date"}
_BLANKS = re.compile(rb"[ \t]")
_GAPS = re.compile(rb"[ \t]+")
_GAPS_KEPT = re.compile(rb"([ \t]+)")
ROOT = b"root"
_DIGITS = re.compile(rb"[0-9]+")


class SuggestError(LogsieveError):
    """Input suggest cannot work with."""


# A user name is not written as a host name's shape, nor the other way round.
_NOT_FOR_KIND = {"USER": "host name", "ADDR": "user name", "HOST": "user name", "IP": "user name"}


def shape_for(values, kind=None):
    """(name, ERE) of the narrowest shape every value (bytes) fits."""
    skip = _NOT_FOR_KIND.get(kind)
    for name, test, ere in _SHAPE_TESTS:
        if name != skip and all(test.fullmatch(value) for value in values):
            return name, ere
    return None, None


class Suggestion:
    """One group and what became of it: a checked rule, or the reason why
    none is suggested."""

    __slots__ = ("program", "template", "count", "example", "rule", "problem", "lines")

    def __init__(self, program, template, count, example, lines):
        self.program = program
        self.template = template
        self.count = count
        self.example = example
        self.lines = lines
        self.rule = None
        self.problem = None

    def as_dict(self):
        return {"program": _text(self.program or b""), "template": _text(self.template),
                "count": self.count, "example": _text(self.example),
                "rule": _text(self.rule) if self.rule is not None else None,
                "problem": self.problem}


def _text(data):
    return data.decode("utf-8", "backslashreplace")


# --- Writing a rule --------------------------------------------------------

def _slot_pattern(shape, kind, values, count, listed):
    """The ERE for one placeholder token `shape` (e.g. `rhost=<IP>`,
    `ssh<NUM>`) whose values were `values` (a Counter)."""
    known = [value for value in values if value != OTHERS]
    complete = OTHERS not in values
    if kind == "MIXED":
        # A word with digits inside: its values are whole tokens.
        if complete and len(known) == 1 and count >= LITERAL_MIN_LINES:
            return ere_escape_bytes(known[0])
        parts = _DIGITS.split(shape.replace(b"<NUM>", b"0"))
        return (_DIGIT.encode() + b"+").join(ere_escape_bytes(part) for part in parts)
    before, after = PLACEHOLDER.split(shape, 1)[::2]
    filled = [value for value in known if value]
    if complete and len(known) == 1 and count >= LITERAL_MIN_LINES:
        core = ere_escape_bytes(known[0])
    else:
        if listed and kind in LISTED_KINDS and complete and len(filled) <= MAX_LISTED_VALUES:
            core = _alternatives(filled)
        elif complete and shape_for(filled, kind)[1] is not None:
            core = shape_for(filled, kind)[1]
        else:
            core = _SHAPE_ERE[_KIND_SHAPES.get(kind, "word")]
        if b"" in known:
            core = b"(" + core + b")?"
    return ere_escape_bytes(before) + core + ere_escape_bytes(after)


def _alternatives(values):
    if len(values) == 1:
        return ere_escape_bytes(values[0])
    return b"(" + b"|".join(ere_escape_bytes(value) for value in sorted(values)) + b")"


def build_rule(group, lines, listed=False):
    """The rule (bytes) for a template group and the lines it was made from."""
    headers = [parse(line) for line in lines]
    pids = {header.pid is not None for header in headers}
    parts = [SYSLOG_PREFIX.encode()]
    if group.program is not None:
        parts.append(ere_escape_bytes(group.program))
        if pids == {True}:
            parts.append(rb"\[" + _DIGIT.encode() + rb"+\]")
        elif True in pids:
            parts.append(rb"(\[" + _DIGIT.encode() + rb"+\])?")
        parts.append(b":")
        if any(header.message for header in headers):
            parts.append(b" ")
    messages = [header.message for header in headers]
    if any(message[:1] in (b" ", b"\t") for message in messages):
        parts.append(b"[[:blank:]]*")
    separators = _separators(messages, len(group.skeleton))
    tokens = []
    for position, token in enumerate(group.skeleton):
        kind = group.kinds.get(position)
        if kind is None:
            tokens.append(_BLANKS.sub(b"[[:blank:]]+", ere_escape_bytes(token)))
        else:
            tokens.append(_slot_pattern(token, kind, group.values[position], group.count, listed))
        if position < len(separators):
            tokens.append(separators[position])
    parts.append(b"".join(tokens))
    parts.append(b"$")
    return b"".join(parts)


def _separators(messages, tokens):
    """The white space between a template's tokens: as written when every
    line has the same there, `[[:blank:]]+` where they differ (or where a
    token holds spaces itself, such as a date)."""
    seen = None
    for message in messages:
        gaps = _GAPS.findall(message.strip(b" \t"))
        if len(gaps) != tokens - 1:
            return [b"[[:blank:]]+"] * (tokens - 1)
        seen = [set() for _gap in gaps] if seen is None else seen
        for position, gap in enumerate(gaps):
            seen[position].add(gap)
    return [ere_escape_bytes(next(iter(gap))) if len(gap) == 1 else b"[[:blank:]]+"
            for gap in seen or []]


# --- Checking a rule -------------------------------------------------------

# Words at the start of a message that make it the same kind of message as a
# must-report line of the same program ("Failed to start", "Accepted password
# for").
RESEMBLING_WORDS = 3
_NAME_LIKE = re.compile(rb"[0-9._/@:-]")


def _masked(message):
    return tuple(mask_token(token)[0] for token in message.split())


def must_report_kinds(lines):
    """What resembles(), below, compares a group with: (program, masked
    words) of each must-report line."""
    kinds = []
    for line in lines:
        header = parse(line)
        if header.stamp is not None:
            kinds.append((header.program, _masked(header.message), line))
    return kinds


def resembles(program, message, kinds):
    """The must-report line whose kind of message `message` of `program` is,
    or None.  The corpus holds one line of each kind; a rule that lists the
    unit, device or user seen (`cron.service: Failed with result ...`) would
    not match it, yet it hides the same event of that unit for good.  Same
    program, and the same first words, or the same words but one name (a
    word with a digit or `._/@:-`: a unit, a device; `Failed` and `Accepted`
    are different words, not names)."""
    words = _masked(message)
    for kind_program, kind_words, line in kinds:
        if kind_program != program:
            continue
        if len(words) >= RESEMBLING_WORDS and words[:RESEMBLING_WORDS] == kind_words[:RESEMBLING_WORDS]:
            return line
        if len(words) == len(kind_words):
            differ = [(a, b) for a, b in zip(words, kind_words) if a != b]
            if len(differ) <= 1 and all(_NAME_LIKE.search(a) and _NAME_LIKE.search(b)
                                        for a, b in differ):
                return line
    return None


def root_probes(group, line):
    """`line` (one of the group's) with each of its name placeholders (a user
    name, a varying word) set to `root`: the line a rule must not hide even
    when the corpus holds no line of this program.  A rule that lists the
    names seen passes unless `root` was one of them."""
    message = parse(line).message
    parts = _GAPS_KEPT.split(message.strip(b" \t"))
    tokens, gaps = parts[0::2], parts[1::2]
    if len(tokens) != len(group.skeleton):
        return []
    start = line[:len(line) - len(message)] + message[:len(message) - len(message.lstrip(b" \t"))]
    probes = []
    for position, kind in group.kinds.items():
        if kind not in LISTED_KINDS:
            continue
        before, after = PLACEHOLDER.split(group.skeleton[position], 1)[::2]
        changed = list(tokens)
        changed[position] = before + ROOT + after
        if changed[position] == tokens[position]:
            continue
        probes.append(start + b"".join(token + gap for token, gap in zip(changed, gaps + [b""])))
    return probes


def rule_problem(pattern, lines, forbidden):
    """Why `pattern` is not safe to suggest, or None.  lines: what it was made
    from (it must match each); forbidden: (where, line) pairs it must match
    none of."""
    rule = Rule(pattern, "<suggested>", 1)
    try:
        compiled = CompiledRules([rule])
    except RuleError as error:
        return f"the rule does not compile: {error.reason}"
    reason = anchoring_problem(pattern) or trailing_whitespace_problem(pattern)
    if reason:
        return reason
    for line in lines:
        if not compiled.match(strip_line(line)):
            return f"the rule does not match a line it was made from: {_text(line)}"
    for where, line in forbidden:
        if compiled.match(line):
            return f"the rule would hide a line that must be reported ({where}): {_text(line)}"
    return None


# --- The whole run ------------------------------------------------------------

def unexplained_lines(classifier, blocks):
    """(lines no rule explains, lines a cracking or violations rule flags,
    lines read) of text blocks, classified by the checker's own rules.  The
    flagged ones are those the report shows in its security sections."""
    unknown = []
    flagged = []
    read = 0
    for text in blocks:
        result = classifier.classify_text(text)
        read += result.lines
        if result.event_count:
            unknown.extend(bytes(result.events).split(b"\n"))
        for line, attack_names, violation_names, _hits in result.placed:
            if attack_names or violation_names:
                flagged.append(strip_line(line))
            else:
                unknown.append(line)
    return unknown, flagged, read


def suggest(lines, flagged=(), must_report_files=(), min_count=DEFAULT_MIN_COUNT):
    """Suggestions for `lines` (bytes, the lines no rule explains), in the
    order of the groups' first lines.  Returns (suggestions, lines without a
    syslog header, which no anchored rule can describe)."""
    miner = TemplateMiner()
    kept = []
    headerless = 0
    for line in lines:
        line = strip_line(line)
        if not line:
            continue
        header = parse(line)
        if header.stamp is None:
            headerless += 1
            continue
        miner.add(header)
        kept.append((line, header))
    groups = miner.groups()
    by_key = {(group.program, group.skeleton): group for group in groups}
    members = {}
    for line, header in kept:
        skeleton = miner.skeleton_of(header.message)[0]
        members.setdefault((header.program, skeleton), []).append(line)
    must_report = load_must_report(must_report_files)
    kinds = must_report_kinds(must_report)
    forbidden = [("must-report corpus", line) for line in must_report]
    forbidden += [("flagged by a cracking or violations rule", line) for line in flagged]
    suggestions = []
    for group in groups:
        group_lines = members.get((group.program, group.skeleton), [])
        if by_key.get((group.program, group.skeleton)) is not group or not group_lines:
            continue
        suggestion = Suggestion(group.program, group.text, len(group_lines), group_lines[0],
                                group_lines)
        if suggestion.count < min_count:
            continue
        problem = None
        like = resembles(group.program, parse(group_lines[0]).message, kinds)
        if like is not None:
            suggestion.problem = ("its lines are the kind of message that must be reported: "
                                  + _text(like))
            suggestions.append(suggestion)
            continue
        probes = [("the same line naming root", probe)
                  for probe in root_probes(group, group_lines[0])]
        for listed in (False, True):
            pattern = build_rule(group, group_lines, listed)
            problem = rule_problem(pattern, group_lines, forbidden + probes)
            if problem is None:
                suggestion.rule = pattern
                break
        suggestion.problem = problem
        suggestions.append(suggestion)
    return suggestions, headerless


# --- Output -------------------------------------------------------------------

def _comment(suggestion):
    return b"# %d line%s, e.g.: %s" % (suggestion.count, b"" if suggestion.count == 1 else b"s",
                                       suggestion.example)


def _unsafe_comments(suggestions):
    out = []
    unsafe = [s for s in suggestions if s.rule is None]
    if unsafe:
        out.append(b"# Not suggested: these groups stay in the report (no safe rule found).")
        for suggestion in unsafe:
            out.append(b"#   %d line%s of %s: %s" % (
                suggestion.count, b"" if suggestion.count == 1 else b"s",
                suggestion.program or b"(no program)", suggestion.template))
            out.append(b"#     e.g.: " + suggestion.example)
            out.append(b"#     why: " + suggestion.problem.encode("utf-8", "backslashreplace"))
    return out


def _yaml_quote(data):
    return b"'" + data.replace(b"'", b"''") + b"'"


def render(suggestions, form="plain"):
    """The suggestions as bytes: plain rule lines, each under a comment with
    its count and an example, ready for a `local-*` file; or YAML for the rules
    role (`rules_host_custom` / `rules_group_custom`, with the examples as
    `rules_samples_ignore`, so the role checks each rule matches them)."""
    if form not in FORMATS:
        raise SuggestError(f"unknown output form {form!r} (expected one of {', '.join(FORMATS)})")
    safe = [s for s in suggestions if s.rule is not None]
    out = []
    if form == "plain":
        for suggestion in safe:
            out.extend([_comment(suggestion), suggestion.rule])
        out.extend(_unsafe_comments(suggestions))
        return b"\n".join(out) + b"\n" if out else b""
    out.append(b"# Rules suggested by logsieve suggest: review each one before deploying.")
    out.append(b"%s:" % form.encode() + (b"" if safe else b" []"))
    for suggestion in safe:
        out.append(b"  " + _comment(suggestion).replace(b"\n", b" "))
        out.append(b"  - " + _yaml_quote(suggestion.rule))
    out.append(b"rules_samples_ignore:" + (b"" if safe else b" []"))
    for suggestion in safe:
        out.append(b"  - " + _yaml_quote(suggestion.example))
    out.extend(_unsafe_comments(suggestions))
    text = b"\n".join(out) + b"\n"
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        raise SuggestError("the lines hold bytes that are not UTF-8: use the plain form") from None
    return text


# --- Command line -------------------------------------------------------------

def parse_arguments(argv):
    parser = checker_parser(
        "logsieve suggest",
        "Suggest anchored, checked rules for the lines the rules do not explain.",
        log_lists=True)
    parser.add_argument("-l", dest="logfiles", action="append", metavar="LOG",
                        help="read this log (repeatable; '-': a report or lines on standard "
                             "input); default: the configured log list, from the cursors, "
                             "which are not moved")
    parser.add_argument("--min-count", type=int, default=DEFAULT_MIN_COUNT, metavar="N",
                        help=f"suggest rules for groups of at least N lines "
                             f"(default {DEFAULT_MIN_COUNT})")
    parser.add_argument("--format", choices=FORMATS, default="plain",
                        help="plain rule lines (default), or YAML for the rules role's variable")
    parser.add_argument("--must-report", action="append", default=[], metavar="FILE",
                        help="more lines no suggested rule may match (repeatable)")
    options = parser.parse_args(argv)
    if options.min_count < 1:
        parser.error("--min-count must be at least 1")
    return options


def _file_blocks(path, stdin):
    if path == "-":
        return whole_line_blocks(iter(lambda: stdin.read(1 << 20), b""))
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise SuggestError(f"{path}: cannot read the log: {error.strerror}") from None

    def chunks():
        with handle:
            try:
                yield from iter(lambda: handle.read(1 << 20), b"")
            except OSError as error:
                raise SuggestError(f"{path}: cannot read the log: {error.strerror}") from None
    return whole_line_blocks(chunks())


def main(argv, checker_settings, collect_sources, stdin=None, stdout=None):
    """`logsieve suggest`.  checker_settings and collect_sources are the
    checker's (cli): the same configuration, rule tree and log list."""
    try:
        options = parse_arguments(argv)
    except SystemExit as exit_:
        return 0 if exit_.code == 0 else 2
    return exit_status(_run, options, checker_settings, collect_sources,
                       stdin or sys.stdin.buffer, stdout or sys.stdout.buffer)


def _run(options, checker_settings, collect_sources, stdin, stdout):
    for path in options.must_report:
        load_must_report([path])  # a clear error before any work
    # test: the cursors are read, never moved.
    settings, checker_options = checker_settings(**checker_flags(options), test=True)
    classifier = Classifier(RuleTree(settings.rule_dir, settings.report_level))
    if options.logfiles:
        blocks = itertools.chain.from_iterable(
            _file_blocks(path, stdin) for path in options.logfiles)
    else:
        groups, errors = collect_sources(settings, checker_options)
        for error in errors:
            sys.stderr.write(f"{error}\n")
        blocks = read_groups(groups)
    unknown, flagged, read = unexplained_lines(classifier, blocks)
    suggestions, headerless = suggest(unknown, flagged, options.must_report, options.min_count)
    stdout.write(render(suggestions, options.format))
    stdout.flush()
    made = sum(1 for s in suggestions if s.rule is not None)
    skipped = f", {headerless} lines without a syslog header skipped" if headerless else ""
    sys.stderr.write(f"logsieve suggest: {read} lines read, {len(unknown)} not explained by the rules, "
                     f"{made} rules suggested, {len(suggestions) - made} groups left in the report"
                     f"{skipped}\n")
    return 0
