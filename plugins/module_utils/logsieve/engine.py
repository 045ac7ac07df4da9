"""The matching engine: one compiled RE2 set for a list of rules, and the
logcheck classification of log lines built on it.

Every caller (the command line, the Ansible module, the tests) matches through
`CompiledRules`, so a rule means the same thing everywhere.

Words used here:
  raise rules   cracking.d and violations.d rules: a line they match goes
                into an attack or security section (unless an ignore file
                of the pair drops it).
  quiet set     one CompiledRules holding the raise rules first, then every
                ignore.d rule: a line it does not match is a system event, a
                line only ignore rules match is dropped.  One RE2 pass decides
                the common case.
  side set      the cracking.ignore.d and violations.ignore.d rules, asked
                only about lines a raise rule matched.
  noticed       a line of a block with a hit that needs a closer look: a
                raise rule, or an approximate rule whose hit the `regex`
                package must confirm (BlockMatch.noticed).
  placed        a noticed line a raise rule really matched, with the
                sections logcheck puts it in (Classifier.place()).
"""

import os
from array import array
from collections import Counter
from itertools import accumulate, chain, compress
from functools import partial
from operator import eq, not_
from typing import NamedTuple, Optional

try:
    from re2 import _re2
    RE2_IMPORT_ERROR = None
except ImportError as error:
    # Importable without google-re2 (Ansible imports module_utils to inspect
    # them); the first compile raises this error, and the module reports it
    # before (rule_validation.ENGINE_IMPORT_ERROR).
    _re2 = None
    RE2_IMPORT_ERROR = error

from . import charclass, ere
from .lines import WHITESPACE, has_trailing_whitespace, sort_order
from .rules import (Rule, RuleError, WideTranslation, is_local, share_prefixes, translate,
                    wide, wide_may_be_inexact)

try:
    # The per-line loop in C++ (native/blockmatch.cc); optional at build time.
    # The same module sorts report lines in logcheck's order (report.py).
    from ._blockmatch import RuleSet as BlockMatcher, RunMerger, sort_lines  # pylint: disable=unused-import
except ImportError:
    BlockMatcher = RunMerger = sort_lines = None
try:  # the final merge in two parts at once (report.py); not in older builds
    from ._blockmatch import split_runs  # pylint: disable=unused-import
except ImportError:
    split_runs = None

# Per-line time limit for the `regex` package (rules RE2 cannot run exactly).
FALLBACK_TIMEOUT = 0.5

# RE2 memory budget for one compiled set (program and DFA cache).  When the DFA
# cache fills up, RE2 flushes and rebuilds it; this budget keeps that rare for
# the full Debian rule database while bounding memory.
RE2_MAX_MEM = 96 << 20


def _re2_options():
    if RE2_IMPORT_ERROR is not None:
        raise RE2_IMPORT_ERROR
    options = _re2.RE2.Options()
    # Bytes, as grep in the C locale; in a UTF-8 locale lines of ASCII, and
    # the transcription of the others (charclass.Transcription).
    options.encoding = _re2.RE2.Options.Encoding.LATIN1
    options.never_capture = True
    options.log_errors = False
    options.max_mem = RE2_MAX_MEM
    return options


class BlockMatch(NamedTuple):
    """One block of lines matched by CompiledRules.classify_block() (the C++
    matcher returns the same seven values as a tuple)."""

    lines: int               # lines read
    events: bytes            # the lines no rule matched, as read, joined by newlines
    event_count: int         # how many lines `events` holds
    strip: bool              # whether one of them ends in white space (the report strips it)
    order: Optional[tuple]   # lines.sort_order() of them; None without events
    noticed: list            # (line, candidate hits, events before it) of each noticed line
    # Hits per rule, for coverage: 2 * len(rules) native int64 (array "q"),
    # the hits of rule i at i, its sole hits (the line matched no other rule)
    # at len(rules) + i.  Only lines matched and not noticed are counted:
    # their hits are final; a noticed line's are candidates, counted by the
    # caller once confirmed (Classifier.classify_text).
    counts: bytes


class BlockResult(NamedTuple):
    """One block of lines classified by Classifier.classify_text().  The
    first five fields are its quiet set's BlockMatch's, settled: a noticed
    line no rule really matched is an event again."""

    lines: int
    events: bytes
    event_count: int
    strip: bool
    order: Optional[tuple]
    placed: list             # Classifier.place() of each line a raise rule matched
    timeouts: dict           # rule -> lines it could not decide in time (they were kept)
    # (hits, sole hits) in this block of each rule of Classifier.counted, in
    # that order: hits are lines it matched; sole hits, lines no other
    # ignore.d rule matched (coverage.py says what is counted and when).
    counts: tuple = ()


def block_matcher_enabled():
    """Whether blocks are matched by the C++ loop: when it was built, unless
    LOGSIEVE_BLOCKMATCH=0 asks for google-re2's per-line calls (the tests
    compare the two)."""
    return BlockMatcher is not None and os.environ.get("LOGSIEVE_BLOCKMATCH", "1") != "0"


_PROCESS_LOCALE = object()


class CompiledRules:
    """A list of rules compiled once; `match(line)` gives the indices of every
    rule that matches, in one pass over the line.

    In a UTF-8 locale (`locale_name`; by default the process's, see
    charclass) lines of ASCII, nearly all lines, are matched as in the C
    locale (the rules written for them: ere.write_bytes); other lines by a
    second set, compiled when the first such line comes, whose rules match
    characters as the locale defines them and never a byte that is not
    UTF-8 (rules.wide)."""

    def __init__(self, rules, translations=None, locale_name=_PROCESS_LOCALE):
        """translations: the rules' Translations where known already (None:
        translate the rule)."""
        if locale_name is _PROCESS_LOCALE:
            locale_name = charclass.utf8_locale()
        self.locale_name = locale_name
        self.rules = list(rules)
        options = _re2_options()
        self._set = _re2.Set(_re2.RE2.Anchor.UNANCHORED, options)
        # index -> compiled `regex` pattern that confirms an approximate RE2 hit
        self._confirm = {}
        self.timeouts = {}  # rule index -> lines it could not decide in time
        patterns = []  # what the set holds, in rule order
        self._translations = []
        for index, (rule, translation) in enumerate(
                zip(self.rules, translations or [None] * len(self.rules))):
            translation = _translation(rule, translation, locale_name)
            self._translations.append(translation)
            approximation, confirm = _translate_rule(rule, translation)
            added = self._set.Add(approximation)
            if added < 0:
                # RE2 cannot parse it: let the `regex` package decide every line.
                reason = _re2.RE2(approximation, options).error()
                if isinstance(reason, bytes):
                    reason = reason.decode("utf-8", "backslashreplace")
                confirm = _compile_fallback(rule, translation.fallback, reason,
                                            translation.prefilter)
                approximation = b""
                added = self._set.Add(approximation)
            patterns.append(approximation)
            if added != index:
                raise RuleError(rule.path, rule.line, rule.pattern, "RE2 refused the rule")
            if confirm is not None:
                self._confirm[index] = confirm
        # Rule indices whose RE2 hit is only a candidate, to confirm().
        unconfirmed = set(self._confirm)
        if locale_name is not None:
            unconfirmed.update(
                index for index, translation in enumerate(self._translations)
                if any(map(wide_may_be_inexact, translation.members)))
        self.unconfirmed = frozenset(unconfirmed)
        self._wide_set = None       # the set for lines beyond ASCII (_build_wide)
        self._wide_confirm = None
        self._transcription = None
        self._block_matcher = None
        if block_matcher_enabled() and self.rules:
            try:
                self._block_matcher = BlockMatcher(patterns, RE2_MAX_MEM)
            except MemoryError:
                raise self._too_large() from None
            except ValueError:
                pass  # the system's RE2 is older than google-re2's: match with the latter
        if self._block_matcher is not None:
            # The set for single lines is compiled when first used.
            self.match_candidates = self._first_match_candidates
            self.match = self._first_match
        else:
            self._compile()

    def _build_wide(self):
        """Compile the rules for lines beyond ASCII in the UTF-8 locale (on
        first need: most logs have none)."""
        if self._wide_set is not None:
            return
        import regex

        self._transcription = charclass.transcription(self.locale_name)
        wide_set = _re2.Set(_re2.RE2.Anchor.UNANCHORED, _re2_options())
        confirm = {}
        for index, translation in enumerate(self._translations):
            written = wide(translation, self.locale_name)
            pattern = written.re2
            if wide_set.Add(pattern) != index:
                wide_set.Add(b"")  # RE2 cannot: `regex` decides every such line
                written = WideTranslation(b"", False, "|".join(
                    "(?:%s)" % ere.write_str_regex(ere.parse(member, utf8=True), self.locale_name)
                    for member in translation.members))
            if not written.exact:
                confirm[index] = _confirmer(regex, written.fallback, written.prefilter)
        if self.rules and not wide_set.Compile():
            raise self._too_large()
        self._wide_confirm = confirm
        self._wide_set = wide_set

    def _match_line(self, line):
        """RE2's hits (candidates) for one line in a UTF-8 locale."""
        if line.isascii():
            return self._set.Match(line)
        self._build_wide()
        return self._wide_set.Match(self._transcription.transcribe(line))

    def _too_large(self):
        return RuleError(self.rules[0].path, 0, b"",
                         "the rule set is too large for RE2's memory budget")

    def _compile(self):
        """Compile the set for single lines.  match_candidates() is RE2's own
        matcher: hits that may include unconfirmed ones.  Callers on the hot
        path use it directly and confirm() only the rare lines whose hits meet
        `unconfirmed`; match() confirms them."""
        if self.rules and not self._set.Compile():
            raise self._too_large()
        if not self.rules:
            self.match_candidates = _no_match
        elif self.locale_name is None:
            self.match_candidates = self._set.Match
        else:
            self.match_candidates = self._match_line
        self.match = self._match_confirmed if self.unconfirmed else self.match_candidates

    def _first_match_candidates(self, line):
        self._compile()
        return self.match_candidates(line)

    def _first_match(self, line):
        self._compile()
        return self.match(line)

    def __len__(self):
        return len(self.rules)

    def _match_confirmed(self, line):
        hits = self.match_candidates(line)
        if hits and not self.unconfirmed.isdisjoint(hits):
            hits = self.confirm(hits, line)
        return hits

    def confirm(self, hits, line):
        """`hits` without the approximate ones the `regex` package rejects."""
        if self.locale_name is None or line.isascii():
            return [index for index in hits
                    if index not in self._confirm or self._confirmed(self._confirm, index, line)]
        self._build_wide()
        text = ere.decode_line(line)
        return [index for index in hits
                if index not in self._wide_confirm
                or self._confirmed(self._wide_confirm, index, text)]

    def classify_block(self, text, attention):
        """The BlockMatch of `text` (whole lines joined by newlines), each line
        matched without its trailing white space.  A line is noticed when it
        has a hit on a rule flagged in `attention` (one byte per rule); lines
        matched only by other rules are dropped.  Hits are candidates:
        confirm() them."""
        if self._block_matcher is not None:
            if self.locale_name is None:
                return BlockMatch._make(self._block_matcher.classify(text, attention))
            # Lines beyond ASCII come back undecided (hits None): match them here.
            result = BlockMatch._make(self._block_matcher.classify(text, attention, True))
            if any(entry[1] is None for entry in result.noticed):
                result = self._decide(result, attention)
            return result
        # google-re2, one call per line; map() and compress() keep the loop in C.
        data = bytes(text)
        lines = data.split(b"\n")
        if self.locale_name is None or data.isascii():
            match = self._set.Match if self.rules else _no_match
        else:
            match = self.match_candidates  # per line: ASCII or not
        hits = list(map(match, [line.rstrip(WHITESPACE) for line in lines]))
        is_event = list(map(not_, hits))
        events = list(compress(lines, is_event))
        event_count = len(events)
        flagged = frozenset(index for index, flag in enumerate(attention) if flag)
        noticed_at = list(compress(range(len(lines)),
                                   map(not_, map(flagged.isdisjoint, hits))))
        noticed = []
        if noticed_at:
            events_before = [0, *accumulate(is_event)]
            noticed = [(lines[index], hits[index], events_before[index]) for index in noticed_at]
        order = sort_order(events) if events else None
        events = b"\n".join(events)
        counts = _count_hits(len(self.rules), compress(hits, map(flagged.isdisjoint, hits)))
        return BlockMatch(len(lines), events, event_count, has_trailing_whitespace(events),
                          order, noticed, counts.tobytes())

    def _decide(self, result, attention):
        """The block matcher's result with its undecided lines (beyond ASCII
        in a UTF-8 locale) matched: each becomes an event, a noticed line or
        nothing, as classify_block() would have made it."""
        count, events, event_count, strip, order, noticed, counts = result
        flagged = frozenset(index for index, flag in enumerate(attention) if flag)
        kept = []
        late_events = []  # (events before it, line)
        dropped = []  # hits of the lines that turned out to be matched, not noticed
        for line, hits, events_before in noticed:
            if hits is None:
                hits = self.match_candidates(line.rstrip(WHITESPACE))
                if not hits:
                    late_events.append((events_before, line))
                    continue
                if flagged.isdisjoint(hits):
                    dropped.append(hits)
                    continue
            # Events before it now include the undecided lines before it
            # that turned out to be events.
            kept.append((line, hits, events_before + len(late_events)))
        if late_events:
            lines = _insert_lines(events, event_count, late_events)
            events, event_count = b"\n".join(lines), len(lines)
            order = sort_order(lines)
            strip = has_trailing_whitespace(events)
        if dropped:
            more = _count_hits(len(self.rules), dropped)
            total = array("q")
            total.frombytes(counts)
            counts = array("q", map(sum, zip(total, more))).tobytes()
        return BlockMatch(count, events, event_count, strip, order, kept, counts)

    def matches(self, line):
        return bool(self.match(line))

    def _confirmed(self, confirmers, index, line):
        try:
            return confirmers[index].search(line, timeout=FALLBACK_TIMEOUT) is not None
        except TimeoutError:
            # A rule that cannot decide in time does not hide the line.
            self.timeouts[index] = self.timeouts.get(index, 0) + 1
            return False

    def take_timeouts(self):
        """{rule: lines} for the rules that could not decide a line within
        FALLBACK_TIMEOUT since the last call (those lines were not hidden);
        the count starts again."""
        timeouts = {self.rules[index]: count for index, count in self.timeouts.items()}
        self.timeouts = {}
        return timeouts


def timeout_notice(rule, count):
    """What to tell the administrator about a rule that timed out."""
    return (f"rule {rule} could not decide {count} line(s) within {FALLBACK_TIMEOUT} s "
            f"(the `regex` package's limit): they were taken as not matched by it")


def _no_match(line):
    return []


def _count_hits(size, matched):
    """BlockMatch.counts, as an array, of the hit lists `matched` (each a
    line's, for a set of `size` rules; empty lists count nothing)."""
    matched = list(matched)
    counts = array("q", bytes(16 * size))
    for index, hits in Counter(chain.from_iterable(matched)).items():
        counts[index] = hits
    alone = compress(matched, map(partial(eq, 1), map(len, matched)))
    for index, sole in Counter(chain.from_iterable(alone)).items():
        counts[size + index] = sole
    return counts


def _translation(rule, translation, locale_name):
    """The rule's Translation (given, or read now); RuleError names the rule
    and grep's reason for one grep refuses."""
    if not rule.pattern:
        raise RuleError(rule.path, rule.line, rule.pattern, "empty rule")
    if translation is not None:
        return translation
    try:
        return translate(rule.pattern, locale_name)
    except ere.EreSyntaxError as error:
        raise RuleError(rule.path, rule.line, rule.pattern, error.reason) from None


def _translate_rule(rule, translation):
    """(pattern for the RE2 set, `regex` confirmation or None) for one rule."""
    if translation.exact:
        return translation.re2, None
    return translation.re2, _compile_fallback(rule, translation.fallback, None,
                                              translation.prefilter)


def _compile_fallback(rule, pattern, reason=None, prefilter=b""):
    """The `regex` package's pattern for a rule; if it fails too, the error
    names `reason` (RE2's, for a rule RE2 rejected) or the package's own."""
    import regex  # here: few rule sets need it, and importing it takes a while

    try:
        return _confirmer(regex, pattern, prefilter, regex.ASCII)
    except regex.error as error:
        raise RuleError(rule.path, rule.line, rule.pattern, reason or str(error)) from None


def _confirmer(regex, pattern, prefilter, flags=0):
    """A compiled `regex` pattern, or both patterns where a line must match
    a prefilter too (ere.Rule.prefilter)."""
    compiled = regex.compile(pattern, flags)
    if not prefilter:
        return compiled
    return _Both(regex.compile(prefilter, flags), compiled)


class _Both:
    """Two patterns a line must both match (search() as `regex`'s)."""

    def __init__(self, first, second):
        self.first = first
        self.second = second

    def search(self, line, timeout=None):
        if self.first.search(line, timeout=timeout) is None:
            return None
        return self.second.search(line, timeout=timeout)


# --- logcheck's classification ---------------------------------------------------

class Classification:
    """Where the lines of one run belong, in input order (not yet sorted).

    `attack` and `violations` map a rule file name to its section's lines;
    `events` are the lines no rule explains.  Lines are kept as read (before
    trailing white space is stripped) because logcheck sorts them before
    stripping.  Sections are made by `new_section` (a list, or the report's
    SortedLines, which streams to sort(1) so memory stays bounded).
    """

    def __init__(self, new_section=list):
        self.new_section = new_section
        self.events = new_section()
        self.attack = {}
        self.violations = {}
        # Violations sections as they are when some attack alert was found:
        # logcheck then drops lines that also match a cracking rule.
        self._violations_after_attack = {}
        self.lines = 0
        self.timeouts = {}  # rule -> lines it could not decide in time (they were kept)
        self.counts = []  # the BlockResult.counts of the blocks, summed

    def add_block(self, block):
        """Add a Classifier.classify_text() BlockResult."""
        self.lines += block.lines
        if block.counts:
            if self.counts:
                self.counts = [(hits + more_hits, sole + more_sole) for (hits, sole), (
                    more_hits, more_sole) in zip(self.counts, block.counts)]
            else:
                self.counts = list(block.counts)
        if block.event_count:
            self.events.write_text(block.events, block.event_count, block.strip, block.order)
        self.add_placed(block.placed)
        for rule, count in block.timeouts.items():
            self.timeouts[rule] = self.timeouts.get(rule, 0) + count

    def add_placed(self, placed):
        """Add lines placed by Classifier.place(): (line, attack section names,
        violations section names, whether a cracking rule matched the line)."""
        batches = {}  # (which sections, name) -> lines, to add in one go
        for line, attack_names, violation_names, cracking_hit in placed:
            for name in attack_names:
                batches.setdefault(("attack", name), []).append(line)
            for name in violation_names:
                batches.setdefault(("violations", name), []).append(line)
                if not cracking_hit:
                    batches.setdefault(("_violations_after_attack", name), []).append(line)
        for (which, name), lines in batches.items():
            sections = getattr(self, which)
            if name not in sections:
                sections[name] = self.new_section()
            sections[name].extend(lines)

    def finish(self):
        """Settle the sections once every line is in; sections sorted by name."""
        if self.attack:
            self.violations, dropped = self._violations_after_attack, self.violations
        else:
            dropped = self._violations_after_attack
        for section in dropped.values():
            _close(section)
        self._violations_after_attack = {}
        self.attack = dict(sorted(self.attack.items()))
        self.violations = dict(sorted(self.violations.items()))
        return self

    def close(self):
        for section in [self.events, *self.attack.values(), *self.violations.values(),
                        *self._violations_after_attack.values()]:
            _close(section)


def _close(section):
    """Sections are lists or the report's SortedLines; only the latter close."""
    if hasattr(section, "close"):
        section.close()


class Classifier:
    """logcheck's rules for which line goes into which report section.

    One RE2 set holds every ignore, cracking and violations rule.  A line no rule
    matches is a system event (the common case: one RE2 call).  A line some
    cracking or violations rule matches is placed in its sections at once; the
    Classification settles violations at the end, since whether any attack
    alert was found changes how they are filtered.
    """

    def __init__(self, tree, support_cracking_ignore=False, locale_name=_PROCESS_LOCALE):
        """locale_name: the UTF-8 locale to match in, None for the C locale;
        by default the process's (charclass.utf8_locale)."""
        self.tree = tree
        # logcheck skips the cracking check entirely when SUPPORT_CRACKING_IGNORE
        # is on and cracking.ignore.d is missing; logsieve still checks.
        self.cracking_ignore = (tree.cracking_ignore or {}) if support_cracking_ignore else None
        self.violations_ignore = tree.violations_ignore or {}

        raise_rules, raise_tags = _tagged(
            [("cracking", tree.cracking), ("violations", tree.violations)])
        self._raise_count = len(raise_rules)
        # Which ignore rule matched never matters to the report, so ignore
        # rules with the same syslog prefix share one pattern: a much smaller,
        # faster RE2 program.  The administrator's own rules (local, local-*)
        # stand alone, each its own pattern, so their hits are counted per
        # rule (`counted`, BlockResult.counts; see coverage.py).
        ignore_rules = [rule for _name, rules in sorted((tree.ignore or {}).items()) for rule in rules]
        if locale_name is _PROCESS_LOCALE:
            locale_name = charclass.utf8_locale()
        self.counted = [rule for rule in ignore_rules if is_local(rule)]
        shared = share_prefixes([rule for rule in ignore_rules if not is_local(rule)],
                                locale_name) + [(rule.pattern, [rule], None) for rule in self.counted]
        shared_rules = [Rule(pattern, members[0].path, members[0].line)
                        for pattern, members, _translation in shared]
        self._tags = raise_tags + [("ignore", "")] * len(shared)
        # counted[i] is pattern _counted_at[i] of the quiet set
        first_counted = len(raise_rules) + len(shared) - len(self.counted)
        self._counted_at = list(range(first_counted, first_counted + len(self.counted)))
        try:
            self.quiet = CompiledRules(raise_rules + shared_rules,
                                       [None] * len(raise_rules)
                                       + [translation for _pattern, _members, translation in shared],
                                       locale_name)
        except RuleError:
            CompiledRules(raise_rules + ignore_rules, None, locale_name)  # names the rule itself
            raise
        side_rules, self._side_tags = _tagged(
            [("cracking-ignore", self.cracking_ignore),
             ("violations-ignore", self.violations_ignore)])
        self.side = CompiledRules(side_rules, None, locale_name)
        self._placements = {}  # place()'s cache
        # Hits that need a closer look: raise rules, and approximate ones.
        attention = frozenset(range(self._raise_count)) | self.quiet.unconfirmed
        self._attention = bytes(index in attention for index in range(len(self.quiet)))

    def classify_text(self, text):
        """The BlockResult of `text` (bytes of whole lines joined by newlines,
        or any buffer of such bytes).  Lines are kept as read; they are
        stripped when written."""
        match = self.quiet.classify_block(text, self._attention)
        placed = []
        late_events = []  # (events before it, line) for lines whose hits were all false
        confirmed = []  # the confirmed hits of noticed lines, for the counts
        for line, hits, events_before in match.noticed:
            stripped = line.rstrip(WHITESPACE)
            if not self.quiet.unconfirmed.isdisjoint(hits):
                hits = self.quiet.confirm(hits, stripped)
            if not hits:
                late_events.append((events_before, line))
                continue
            confirmed.append(hits)
            if min(hits) < self._raise_count:
                placed.append(self.place(line, stripped, hits))
        if late_events:
            lines = _insert_lines(match.events, match.event_count, late_events)
            events = b"\n".join(lines)
            match = match._replace(events=events, event_count=len(lines), order=sort_order(lines),
                                   strip=match.strip or has_trailing_whitespace(events))
        timeouts = self.quiet.take_timeouts()
        if self.side.timeouts:
            timeouts.update(self.side.take_timeouts())
        return BlockResult(*match[:5], placed, timeouts, self._counts(match.counts, confirmed))

    def _counts(self, block_counts, confirmed):
        """BlockResult.counts: the block matcher's counts of the counted
        rules, and the ignore hits of noticed lines, now confirmed."""
        if not self.counted:
            return ()
        counts = memoryview(block_counts).cast("q")
        size = len(self.quiet)
        hits = [counts[index] for index in self._counted_at]
        sole = [counts[size + index] for index in self._counted_at]
        position = {index: number for number, index in enumerate(self._counted_at)}
        for line_hits in confirmed:
            ignore_hits = [index for index in line_hits if index >= self._raise_count]
            for index in ignore_hits:
                number = position.get(index)
                if number is not None:
                    hits[number] += 1
                    if len(ignore_hits) == 1:
                        sole[number] += 1
        return tuple(zip(hits, sole))

    def place(self, line, stripped, hits):
        """The sections logcheck's greplogoutput() puts a line in that some
        cracking or violations rule matched: (line, attack section names,
        violations section names, whether a cracking rule matched it).

        Whether violations lines that also match a cracking rule are dropped
        depends on whether any attack alert was found at all: the
        Classification decides that at the end."""
        key = (frozenset(hits), frozenset(self.side.match(stripped)))
        sections = self._placements.get(key)
        if sections is None:
            sections = self._placements[key] = self._sections(*key)
        return (line, *sections)

    def _sections(self, hits, side_hits):
        """(attack names, violations names, cracking rule matched) for a line
        matched by the rules `hits` of the quiet set and `side_hits` of the
        side set.  Depends on nothing else, so place() caches it."""
        matched = {}
        for index in hits:
            kind, name = self._tags[index]
            matched.setdefault(kind, set()).add(name)
        side = {}
        for index in side_hits:
            kind, name = self._side_tags[index]
            side.setdefault(kind, set()).add(name)
        cracking = matched.get("cracking", set())
        attack_names = ()
        if self.tree.cracking is not None:
            cracking_ignored = side.get("cracking-ignore") if self.cracking_ignore is not None \
                else None
            attack_names = tuple(
                name for name in sorted(cracking)
                if not self._filtered(name, cracking, self.tree.cracking, cracking_ignored))
        violation_names = ()
        if self.tree.violations is not None:
            violations = matched.get("violations", set())
            violation_names = tuple(
                name for name in sorted(violations)
                if not self._filtered(name, violations, self.tree.violations,
                                      side.get("violations-ignore", set())))
        return attack_names, violation_names, bool(cracking)

    @staticmethod
    def _filtered(name, raised_by, raise_files, ignored_by):
        """Whether logcheck's greplogoutput() drops a line raised by file `name`.

        raised_by: raise files of this kind that match the line;
        ignored_by: names of the paired ignore directory's files that match it
        (None when there is no ignore directory).
        """
        if ignored_by is not None:
            if name in ignored_by or f"logcheck-{name}" in ignored_by:
                return True
        if name == "logcheck":
            if ignored_by:
                return True  # every ignore file applies to the catch-all file
            # Lines reported under a more specific file are not repeated here
            # (logcheck's test is the bash regex ^logcheck*, i.e. "logchec...").
            if any(other in raised_by for other in raise_files
                   if not other.startswith("logchec")):
                return True
        if ignored_by:
            if "local" in ignored_by or any(n.startswith("local-") for n in ignored_by):
                return True
        return False


def _insert_lines(text, count, insertions):
    """The list of `count` lines joined by newlines in `text`, with lines
    inserted: `insertions` are (how many of the original lines precede it,
    line), in input order."""
    lines = text.split(b"\n") if count else []
    for position, line in reversed(insertions):
        lines.insert(position, line)
    return lines


def _tagged(groups):
    """Flatten {kind: {file name: rules}} into (rules, [(kind, file name)])."""
    rules = []
    tags = []
    for kind, files in groups:
        for name, file_rules in sorted((files or {}).items()):
            rules.extend(file_rules)
            tags.extend([(kind, name)] * len(file_rules))
    return rules, tags


__all__ = ["BlockMatch", "BlockResult", "CompiledRules", "Classifier", "Classification",
           "Rule", "RuleError", "timeout_notice"]
