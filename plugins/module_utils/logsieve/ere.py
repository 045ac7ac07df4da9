"""The one reader of logcheck rules: POSIX extended regular expressions read
exactly as GNU grep -E reads them, and written out for the matchers.

GNU grep compiles every rule twice: glibc's regex parser decides which rules
are refused (and says why), and its own DFA parser (dfa.c) decides what the
others mean, except rules with back-references, which glibc's regex matches.
The two parsers disagree in corners, and the corners decide what a rule
hides.  `parse()` follows both: it refuses what either refuses, with grep's
words, and builds the tree dfa.c builds:

* a repetition operator with nothing before it (at the start of the rule,
  after `(` or `|`) repeats the empty string: `*a` means `a`;
* after an assertion (`^ $ \\< \\> \\b \\B`) it repeats the assertion: `^*a`
  means `a` anywhere (`^` zero or more times);
* repetitions stack: `a+?` is `(a+)?`, `a*+` is `(a*)+`, `a**` is `a*`,
  `a{1}{2}` is `aa` (never lazy, never possessive);
* `{` opens an interval only when glibc reads one (`a{1`, `a{x}`, `a{ 1}` are
  literal; `a{}`, `a{2,1}`, `a{1,2,3}` are refused); leading zeros are
  digits (`a{01}` is `a{1}`); `{,n}` is `{0,n}`;
* `\\1`..`\\9` are back-references to a group closed before them in the same
  alternative (`\\10` is `\\1` then `0`); other escaped letters are the letter;
* in a bracket expression a backslash is literal, `]` first is literal, `-`
  is literal only first or last, ranges go up, and the everyday mistake
  `[:digit:]` is refused as grep refuses it.

The reading depends on the locale's character set: in a UTF-8 locale a rule's
multibyte character is one character (`é*` repeats it), in the C locale it is
bytes.  Writers turn the tree into a pattern for RE2 (bytes, Latin-1 mode: the
C locale, or lines of ASCII in a UTF-8 locale; or UTF-8 mode for other lines
in a UTF-8 locale) and for the `regex` package, which confirms the few rules
RE2 cannot run exactly.
"""

import functools
import re

from . import charclass
from .errors import LogsieveError

# glibc's messages (regcomp.c), as grep prints them.
BADBR = "Invalid content of \\{\\}"
EBRACK = "Unmatched [, [^, [:, [., or [="
ECOLLATE = "Invalid collation character"
ECTYPE = "Invalid character class name"
EESCAPE = "Trailing backslash"
EPAREN = "Unmatched ( or \\("
ERANGE = "Invalid range end"
ESIZE = "Regular expression too big"
ESUBREG = "Invalid back reference"
# dfa.c's own.
DFA_COLON = "character class syntax is [[:space:]], not [:space:]"
DFA_TOO_BIG = "regular expression too big"

RE_DUP_MAX = 0x7FFF
_BRACKET_NAME_MAX = 32  # glibc's BRACKET_NAME_BUF_SIZE


class EreSyntaxError(LogsieveError, ValueError):
    """A rule GNU grep -E refuses; `reason` is grep's message."""

    def __init__(self, reason):
        self.reason = reason
        super().__init__(reason)


# --- The tree ----------------------------------------------------------------
# Nodes are tuples, the first member names the kind:
#   ("char", code)               a character (a byte in the C locale)
#   ("str", text)                characters in a row
#   ("byte", code)               a byte that is not UTF-8 in a UTF-8 rule
#   ("any",)                     `.`
#   ("set", negated, items)      bracket expression; items: ("char", c),
#                                ("range", lo, hi), ("class", name)
#   ("perl", letter)             \w \W \s \S
#   ("assert", kind)             one of ^ $ < > b B ` '
#   ("backref", number)
#   ("group", node, number)      a parenthesised group (numbered as grep does)
#   ("cat", [nodes]), ("alt", [nodes]), ("empty",)
#   ("rep", node, min, max)      max None: no upper bound

EMPTY = ("empty",)
# Lexing the rule's own text (never matching lines): a run of characters that
# mean themselves (stray bytes in a UTF-8 rule excepted); it becomes one
# ("str", text) node, which the writers write character by character.
_PLAIN_RUN = re.compile("[^\\\\\\[{}*+?()|^$.\udc80-\udcff]+")
_BRACKETS = {}  # (bracket text, utf8) -> (node, whether dfa.c refuses it): Parser.bracket
_ASSERT_ESCAPES = {"<": "<", ">": ">", "b": "b", "B": "B", "`": "`", "'": "'"}


class Rule:
    """A parsed rule: its tree and what the matchers need to know about it.
    `prefilter` (a tree, or None): for a rule grep matches with glibc's regex
    that dfa.c reads otherwise, grep's line must also match dfa.c's superset
    of its own reading (_superset); where the two readings agree, that adds
    nothing and is None."""

    __slots__ = ("tree", "utf8", "alternation", "backrefs", "groups", "prefilter")

    def __init__(self, tree, utf8, alternation, backrefs, groups, prefilter=None):
        self.tree = tree
        self.utf8 = utf8
        self.alternation = alternation  # a '|' outside any group
        self.backrefs = backrefs        # has a back-reference
        self.groups = groups
        self.prefilter = prefilter


def decode(pattern, utf8):
    """A rule's bytes as the characters the locale sees: every byte in the C
    locale; UTF-8 characters in a UTF-8 locale, with each byte that is not
    part of one as a lone surrogate (U+DC80..U+DCFF)."""
    if utf8:
        return pattern.decode("utf-8", "surrogateescape")
    return pattern.decode("latin-1")


def _is_raw_byte(code, utf8):
    return utf8 and 0xDC80 <= code <= 0xDCFF


class _Parser:
    """Builds the tree of one rule as dfa.c reads it, or, with `glibc`, as
    glibc's regex reads it (grep matches with the latter the rules dfa.c
    cannot: see _dfa_declines)."""

    def __init__(self, pattern, utf8, glibc=False):
        self.text = decode(pattern, utf8)
        self.utf8 = utf8
        self.glibc = glibc
        self.pos = 0
        self.groups = 0
        self.backrefs = False
        self.dfa_errors = []  # refused by dfa.c only: glibc's errors come first
        self.leading = True  # glibc: where an expression starts

    # -- lexing ---------------------------------------------------------------

    def peek(self):
        return self.text[self.pos] if self.pos < len(self.text) else None

    def literal(self, char):
        code = ord(char)
        return ("byte", code - 0xDC00) if _is_raw_byte(code, self.utf8) else ("char", code)

    def interval(self):
        """At '{' (self.pos on it): (min, max, end) of the interval glibc and
        dfa.c read there, None when '{' is an ordinary character, or
        ("error", reason) when glibc refuses it (after an operand)."""
        text = self.text
        index = self.pos + 1

        def number(index):
            # glibc's fetch_number: up to '}' or ','; anything but digits spoils it.
            value = -1
            while True:
                if index >= len(text):
                    return -2, index, None
                char = text[index]
                if char == "\\":
                    index += 2
                    value = -2
                    continue
                index += 1
                if char in "},":
                    return value, index, char
                if value == -2 or not "0" <= char <= "9":
                    value = -2
                else:
                    value = int(char) if value == -1 else min(RE_DUP_MAX + 1, value * 10 + int(char))

        start, index, token = number(index)
        end = -1
        if start == -1:
            if token == ",":
                start = 0
            else:
                return ("error", BADBR)  # '{}'
        if start != -2:
            if token == "}":
                end = start
            else:
                end, index, token = number(index)
        if start == -2 or end == -2:
            return None
        if (end != -1 and start > end) or token != "}":
            return ("error", BADBR)
        if (start if end == -1 else end) > RE_DUP_MAX:
            return ("error", ESIZE)
        return start, (None if end == -1 else end), index

    # -- parsing (glibc's checks, dfa.c's tree) ------------------------------

    def parse(self):
        tree = self.alternation(0)
        if self.pos < len(self.text):  # an unmatched ')' at the top is read as a literal
            raise AssertionError("parser stopped early")
        return tree

    def alternation(self, depth):
        branches = [self.branch(depth)]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.branch(depth))
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def branch(self, depth):
        items = []
        self.leading = True
        text = self.text
        while True:
            run = _PLAIN_RUN.match(text, self.pos)
            if run:
                end = run.end()
                if end < len(text) and text[end] in "*+?{":
                    end -= 1  # the last character takes the repetition
                if end > self.pos:
                    items.append(("str", text[self.pos:end]))
                    self.pos = end
                    self.leading = False
                    continue
            char = self.peek()
            if char is None or char == "|" or (char == ")" and depth > 0):
                break
            items.append(self.closure(depth))
        if not items:
            return EMPTY
        return items[0] if len(items) == 1 else ("cat", items)

    def closure(self, depth):
        """An operand and the repetitions after it.  With nothing to repeat
        (a repetition first in a branch), dfa.c repeats the empty string and
        glibc skips the operator; after an assertion dfa.c repeats the
        assertion and glibc skips the operator (_check_glibc: what glibc
        refuses)."""
        if self.glibc:
            return self.glibc_closure(depth)
        char = self.peek()
        if char in ("*", "+", "?") or (char == "{" and self._leading_interval()):
            atom = EMPTY
        else:
            atom = self.atom(depth)
        return self.repetitions(atom)

    def repetitions(self, atom):
        """`atom` with the repetition operators that follow it."""
        while True:
            char = self.peek()
            if char in ("*", "+", "?"):
                self.pos += 1
                atom = ("rep", atom) + {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
                continue
            if char == "{":
                read = self.interval()
                if read is None:
                    break
                if read[0] == "error":
                    # An interval glibc refuses (_check_glibc), or one it
                    # does not read here: dfa.c reads an ordinary '{',
                    # except past RE_DUP_MAX, which it refuses.
                    if read[1] == ESIZE:
                        self.dfa_errors.append(DFA_TOO_BIG)
                    break
                minimum, maximum, end = read
                self.pos = end
                atom = ("rep", atom, minimum, maximum)
                continue
            break
        return atom

    def glibc_closure(self, depth):
        """glibc's parse_expression: where an expression starts, repetition
        operators are skipped one character at a time (so after a skipped
        `{`, its digits and `}` are ordinary characters), and a ')' right
        after them is an ordinary character; an assertion takes no
        repetition (the next expression starts after it)."""
        if self.leading:
            skipped = False
            while self.peek() is not None and self.peek() in "*+?{":
                self.pos += 1
                skipped = True
            char = self.peek()
            if skipped and (char is None or char == "|"):
                return EMPTY
            if skipped and char == ")":
                self.pos += 1
                atom = ("char", ord(")"))
            else:
                atom = self.atom(depth)
        else:
            atom = self.atom(depth)
        if atom[0] == "assert":
            self.leading = True
            return atom
        self.leading = False
        return self.repetitions(atom)

    def _leading_interval(self):
        """A '{' where a branch starts: dfa.c repeats the empty string when it
        is a valid interval; otherwise it is an ordinary character."""
        read = self.interval()
        if read is not None and read[0] == "error" and read[1] == ESIZE:
            self.dfa_errors.append(DFA_TOO_BIG)
        return read is not None and read[0] != "error"

    def atom(self, depth):
        char = self.text[self.pos]
        self.pos += 1
        if char == "(":
            self.groups += 1
            number = self.groups
            inner = self.alternation(depth + 1)
            if self.peek() != ")":
                raise EreSyntaxError(EPAREN)
            self.pos += 1
            return ("group", inner, number)
        if char == ".":
            return ("any",)
        if char in "^$":
            return ("assert", char)
        if char == "[":
            return self.bracket()
        if char == "\\":
            if self.pos >= len(self.text):
                raise EreSyntaxError(EESCAPE)
            escaped = self.text[self.pos]
            self.pos += 1
            if "1" <= escaped <= "9":
                self.backrefs = True  # glibc has checked it names a closed group
                return ("backref", int(escaped))
            if escaped in _ASSERT_ESCAPES:
                return ("assert", _ASSERT_ESCAPES[escaped])
            if escaped in "wWsS":
                return ("perl", escaped)
            return self.literal(escaped)
        if char == "{":
            return ("char", ord("{"))  # not an interval (see closure)
        # ')' here is unmatched (depth 0): an ordinary character; so is '}'.
        return self.literal(char)

    def bracket(self):
        """A bracket expression, self.pos after its '['; the same few are in
        most rules, so they are read once (_BRACKETS)."""
        end = _bracket_end(self.text, self.pos - 1)
        key = (self.text[self.pos - 1:end], self.utf8)
        known = _BRACKETS.get(key)
        if known is not None:
            node, colon = known
            self.pos = end
            if colon:
                self.dfa_errors.append(DFA_COLON)
            return node
        errors = len(self.dfa_errors)
        node = self.read_bracket()
        if self.pos == end and len(_BRACKETS) < 4096:
            _BRACKETS[key] = (node, len(self.dfa_errors) > errors)
        return node

    def read_bracket(self):
        """A bracket expression, self.pos after its '[' (glibc's
        parse_bracket_exp for the errors, dfa.c for the colon mistake)."""
        text = self.text
        negated = False
        if self.peek() == "^":
            negated = True
            self.pos += 1
        items = []
        first = True
        colon_state = 1 if self.peek() == ":" else 0
        while True:
            if self.pos >= len(text):
                raise EreSyntaxError(EBRACK)
            colon_state &= ~2
            start, start_char = self._bracket_element(first)
            first = False
            if self.pos >= len(text):
                raise EreSyntaxError(EBRACK)
            if start_char == "[":  # [:class:], [=a=] or [.a.]
                colon_state |= 8
            else:
                colon_state |= 2 if start_char == ":" else 4
            # glibc: a class or an equivalence class never starts a range.
            if start[0] not in ("class", "equiv") and text[self.pos] == "-":
                if self.pos + 1 >= len(text):
                    raise EreSyntaxError(EBRACK)
                if text[self.pos + 1] == "]":
                    items.append(self._element(start))  # '-' before ']' is itself
                    self.pos += 1
                    items.append(("char", ord("-")))
                    colon_state = (colon_state & ~2) | 4
                    if self.pos >= len(text):
                        raise EreSyntaxError(EBRACK)
                    self.pos += 1  # the ']'
                    break
                self.pos += 1
                end = self._bracket_element(True)[0]
                colon_state |= 8  # dfa.c: a range is not the [:space:] mistake
                # glibc's build_range_exp: classes first, then collating names.
                if end[0] in ("class", "equiv"):
                    raise EreSyntaxError(ERANGE)
                start, end = self._element(start), self._element(end)
                low, high = start[1], end[1]
                if self.utf8 and (low >= 0x80 or high >= 0x80):
                    # glibc in a UTF-8 locale: a range's ends beyond ASCII
                    # have no collation sequence.
                    raise EreSyntaxError(ECOLLATE)
                if low > high:
                    raise EreSyntaxError(ERANGE)
                # (A range from a [.a.] is one dfa.c hands to glibc.)
                items.append(("range", low, high)
                             + (("coll",) if "coll" in (start[0], end[0]) else ()))
            else:
                items.append(self._element(start))
            if self.pos >= len(text):
                raise EreSyntaxError(EBRACK)
            if text[self.pos] == "]":
                self.pos += 1
                break
        if colon_state == 7:
            self.dfa_errors.append(DFA_COLON)
        return ("set", negated, tuple(items))

    def _element(self, element):
        """A bracket element as an item, checked as glibc checks it where it
        is used: ("char", c), ("class", name), ("equiv", c), ("coll", c) (in
        the locales logsieve reads, both stand for the character)."""
        kind, value = element
        if kind == "class":
            if value not in charclass.CLASSES:
                raise EreSyntaxError(ECTYPE)
            return element
        if kind in ("equiv", "coll"):
            if len(value) != 1:
                raise EreSyntaxError(ECOLLATE)
            item = self.literal(value)
            if item[0] == "byte" or (self.utf8 and item[1] >= 0x80):
                raise EreSyntaxError(ECOLLATE)
            return (kind, item[1])
        return element

    def _bracket_element(self, accept_hyphen):
        """One element, unchecked (_element), and its first character:
        ("char", c), or ("class" | "equiv" | "coll", name)."""
        text = self.text
        char = text[self.pos]
        if char == "[" and self.pos + 1 < len(text) and text[self.pos + 1] in ".=:":
            delimiter = text[self.pos + 1]
            index = self.pos + 2
            name = []
            size = 0  # glibc's name buffer holds bytes
            while True:
                if size >= _BRACKET_NAME_MAX or index >= len(text):
                    raise EreSyntaxError(EBRACK)
                current = text[index]
                index += 1
                if index >= len(text):
                    raise EreSyntaxError(EBRACK)
                if current == delimiter and text[index] == "]":
                    break
                name.append(current)
                size += len(current.encode("utf-8", "surrogateescape")) if self.utf8 else 1
            self.pos = index + 1
            kind = {":": "class", "=": "equiv", ".": "coll"}[delimiter]
            return (kind, "".join(name)), "["
        if char == "-" and not accept_hyphen:
            if self.pos + 1 >= len(text) or text[self.pos + 1] != "]":
                raise EreSyntaxError(ERANGE)
        self.pos += 1
        item = self.literal(char)
        return (("char", item[1] + 0xDC00) if item[0] == "byte" else item), char


def _check_glibc(pattern, utf8):
    """Raise EreSyntaxError with glibc's reason for the first thing its
    parser refuses, reading the rule as glibc reads it: a repetition operator
    where an expression starts (first in a branch, after `(`, `|` or an
    assertion) is skipped alone (`{` too: what follows it is ordinary
    characters), and a ')' right after such a skipped operator is an
    ordinary character, which leaves its group open (`(*)` and `(^*)` are
    refused, `(*a)` is not).  A back-reference must name a group closed
    before it in the same alternative."""
    parser = _Parser(pattern, utf8)
    text = parser.text
    # One frame per open group (the rule itself first): its number, the
    # groups closed where its alternation began, and those closed in the
    # alternatives before the current one.
    frames = [(0, frozenset(), set())]
    completed = set()
    count = 0
    leading = True   # where glibc starts an expression
    skipped = False  # a repetition operator was just skipped there
    index = 0
    while index < len(text):
        run = _PLAIN_RUN.match(text, index)
        if run:
            index = run.end()
            leading = skipped = False
            continue
        char = text[index]
        if char == "\\":
            if index + 1 >= len(text):
                raise EreSyntaxError(EESCAPE)
            escaped = text[index + 1]
            index += 2
            if "1" <= escaped <= "9" and int(escaped) not in completed:
                raise EreSyntaxError(ESUBREG)
            leading = escaped in _ASSERT_ESCAPES
            skipped = False
            continue
        if char == "[":
            parser.pos = index + 1
            parser.bracket()
            index = parser.pos
            leading = skipped = False
            continue
        if char in "*+?{" and leading:
            skipped = True
            index += 1
            continue
        if char == "{":
            parser.pos = index
            read = parser.interval()
            if read is not None:
                if read[0] == "error":
                    raise EreSyntaxError(read[1])
                index = read[2]
                continue
        index += 1
        if char == ")" and len(frames) > 1 and not skipped:
            number, initial, accumulated = frames.pop()
            completed |= accumulated
            completed.add(number)
            leading = skipped = False
        elif char == "(":
            count += 1
            frames.append((count, frozenset(completed), set()))
            leading, skipped = True, False
        elif char == "|":
            initial, accumulated = frames[-1][1:]
            accumulated |= completed
            completed = set(initial)
            leading, skipped = True, False
        elif char in "^$":
            leading, skipped = True, False
        else:
            leading = skipped = False
    if len(frames) > 1:
        raise EreSyntaxError(EPAREN)


def _bracket_end(text, start):
    """Index after the bracket expression at text[start] == '[' (for
    _glibc_parens; the parser has checked it already)."""
    index = start + 1
    if text[index:index + 1] == "^":
        index += 1
    if text[index:index + 1] == "]":
        index += 1
    while index < len(text):
        char = text[index]
        if char == "[" and text[index + 1:index + 2] in (".", "=", ":"):
            close = text.find(text[index + 1] + "]", index + 2)
            if close < 0:
                return len(text)
            index = close + 2
            continue
        if char == "]":
            return index + 1
        index += 1
    return len(text)


def parse(pattern, utf8=False):
    """Read one rule (bytes) as `grep -E` does in the C locale (utf8=False) or
    in a UTF-8 locale.  Raises EreSyntaxError with grep's reason for a rule
    grep refuses."""
    _check_glibc(pattern, utf8)
    parser = _Parser(pattern, utf8)
    tree = parser.parse()
    if parser.dfa_errors:
        raise EreSyntaxError(parser.dfa_errors[0])
    if _dfa_declines(tree, utf8):
        # dfa.c cannot match it (a back-reference; [=a=] or [.a.]; in a
        # UTF-8 locale also word anchors, \w \W \s \S, classes but digit,
        # ranges but digits, [^...], characters beyond ASCII in brackets):
        # grep matches it with glibc's regex, which reads it glibc's way.
        dfa_tree = tree
        parser = _Parser(pattern, utf8, glibc=True)
        tree = parser.parse()
        if tree != dfa_tree:
            prefilter = _superset(dfa_tree, utf8)
            return Rule(tree, utf8, tree[0] == "alt", parser.backrefs, parser.groups,
                        prefilter if _has_plain(prefilter) else None)
    return Rule(tree, utf8, tree[0] == "alt", parser.backrefs, parser.groups)


ANYTHING = ("anything",)  # any bytes, any number of them (dfa.c's superset)


def _dfa_declines(node, utf8):
    """Whether dfa.c hands the rule to glibc's matcher: some atom of it that
    dfa.c cannot match (dfa_supported), not repeated zero times (dfa.c drops
    `x{0}`)."""
    kind = node[0]
    if kind == "any":
        return False
    if kind == "assert":
        return utf8 and node[1] in "<>bB"
    if kind == "group":
        return _dfa_declines(node[1], utf8)
    if kind in ("cat", "alt"):
        return any(_dfa_declines(item, utf8) for item in node[1])
    if kind == "rep":
        return node[3] != 0 and _dfa_declines(node[1], utf8)
    return _declined_atom(node, utf8)


def _declined_atom(node, utf8):
    """Whether dfa.c hands this atom to glibc (dfa_supported: a
    back-reference, [=a=] or [.a.]; in a UTF-8 locale also \\w \\W \\s \\S,
    [^...], classes but digit, ranges but of digits)."""
    kind = node[0]
    if kind == "backref":
        return True
    if kind == "perl":
        return utf8
    if kind == "set":
        negated, items = node[1], node[2]
        if any(item[0] in ("equiv", "coll") or len(item) > 3 for item in items):
            return True
        return utf8 and (negated or any(
            item[0] == "class" and item[1] != "digit"
            or item[0] == "range" and item[1] != item[2]
            and not (0x30 <= item[1] <= 0x39 and 0x30 <= item[2] <= 0x39)
            for item in items))
    return False


def _any_in_superset(node, utf8):
    """Whether dfa.c's superset reads this atom as any bytes: those it hands
    to glibc, and in a UTF-8 locale brackets with characters beyond ASCII
    (MBCSET; its `.` is one UTF-8 character there)."""
    if _declined_atom(node, utf8):
        return True
    kind = node[0]
    if kind == "set":
        return utf8 and any(item[0] == "char" and item[1] >= 0x80 for item in node[2])
    return False


def _superset(node, utf8):
    """dfa.c's superset DFA (dfassbuild): its reading with every atom it
    hands to glibc as any bytes, and in a UTF-8 locale without word anchors."""
    kind = node[0]
    if _any_in_superset(node, utf8):
        return ANYTHING
    if kind == "assert" and utf8 and node[1] in "<>bB":
        return EMPTY
    if kind == "group":
        return ("group", _superset(node[1], utf8), node[2])
    if kind in ("cat", "alt"):
        return (kind, [_superset(item, utf8) for item in node[1]])
    if kind == "rep":
        if node[3] is None or (node[2], node[3]) == (0, 1):
            if _any_in_superset(node[1], utf8):
                return ANYTHING  # dfa.c folds the *, + or ? into it
        return ("rep", _superset(node[1], utf8), node[2], node[3])
    return node


def _has_plain(node):
    """dfa.c keeps a superset only with some ordinary character or set in it."""
    kind = node[0]
    if kind in ("char", "str", "byte", "set", "perl", "any"):
        return True
    if kind == "group":
        return _has_plain(node[1])
    if kind in ("cat", "alt"):
        return any(_has_plain(item) for item in node[1])
    if kind == "rep":
        return _has_plain(node[1])
    return False


def top_level_alternatives(pattern, utf8=False):
    """The rule's top-level alternatives, each as the bytes of the rule that
    spell it (for checks of the rule's text, such as its anchors)."""
    text = decode(pattern, utf8)
    parts = []
    start = 0
    depth = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _bracket_end(text, index)
            continue
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(text[start:index])
            start = index + 1
        index += 1
    parts.append(text[start:])
    encoding = ("utf-8", "surrogateescape") if utf8 else ("latin-1",)
    return [part.encode(*encoding) for part in parts]


# --- Writing the tree for the matchers ---------------------------------------

# Characters written as themselves (nothing special to RE2 or `regex`, in a
# bracket expression or out of one); others are escaped by code.
_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _:/=,;@%'\"<>!`")
_C_WORD = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
_C_SPACE = charclass.C_CLASSES["space"]
_SURROGATES = (0xD800, 0xDFFF)
_RAW_BYTES = (0xDC80, 0xDCFF)
_NEVER_BYTES = "[^\\x00-\\xff]"


def _zero_width(node):
    kind = node[0]
    if kind in ("assert", "empty"):
        return True
    if kind == "group":
        return _zero_width(node[1])
    if kind in ("cat", "alt"):
        return all(_zero_width(item) for item in node[1])
    if kind == "rep":
        return _zero_width(node[1])
    return False


class _Writer:
    """Writes a tree as a pattern.  Subclasses say how characters, sets and
    assertions are spelled; `exact` turns False where the pattern only
    over-approximates the rule (the `regex` package confirms)."""

    capture = False  # back-references need capturing groups

    def __init__(self):
        self.exact = True

    def write(self, node):
        kind = node[0]
        if kind == "char":
            return self.char(node[1])
        if kind == "str":
            return "".join(self.char(ord(char)) for char in node[1])
        if kind == "byte":
            return self.byte(node[1])
        if kind == "any":
            return self.any()
        if kind == "set":
            return self.set(node[1], node[2])
        if kind == "perl":
            letter = node[1]
            name = charclass.WORD if letter in "wW" else "space"
            return self.set(letter.isupper(), (("class", name),))
        if kind == "assert":
            return self.assertion(node[1])
        if kind == "backref":
            return self.backref(node[1])
        if kind == "group":
            inner = self.write(node[1])
            return "(" + inner + ")" if self.capture else "(?:" + inner + ")"
        if kind == "cat":
            return "".join(self.write(item) for item in node[1])
        if kind == "alt":
            return "|".join(self.write(item) for item in node[1])
        if kind == "empty":
            return "(?:)"
        if kind == "anything":
            return "(?s:.*)"
        if kind == "rep":
            inner, minimum, maximum = node[1], node[2], node[3]
            if _zero_width(inner) and not (self.capture and _has_group(inner)):
                # A repeated assertion is the assertion, or nothing when it may
                # be absent: `^*` is the empty string, `\b+` is `\b`.
                return "(?:)" if minimum == 0 else self.write(inner)
            if maximum is None:
                suffix = {0: "*", 1: "+"}.get(minimum, "{%d,}" % minimum)
            elif (minimum, maximum) == (0, 1):
                suffix = "?"
            elif minimum == maximum:
                suffix = "{%d}" % minimum
            else:
                suffix = "{%d,%d}" % (minimum, maximum)
            return "(?:" + self.write(inner) + ")" + suffix
        raise AssertionError(kind)

    def backref(self, number):
        self.exact = False
        return self.ANYTHING

    def any(self):
        return self.set(True, ())

    def runs(self, items):
        """A bracket's items as (first, last) code runs."""
        runs = []
        for item in items:
            if item[0] in ("char", "equiv", "coll"):
                runs.append((item[1], item[1]))
            elif item[0] == "range":
                runs.append((item[1], item[2]))
            else:
                runs.extend(self.class_runs(item[1]))
        return runs

    def bracket(self, negated, runs, never):
        if not runs:
            return "(?s:.)" if negated else never
        body = "".join(self.code(first) if first == last else self.code(first) + "-" + self.code(last)
                       for first, last in runs)
        return "[" + ("^" if negated else "") + body + "]"


class _RegexWriting:
    """What the `regex` package's writers share: capturing groups for real
    back-references, and GNU's word anchors spelled with look-arounds."""

    capture = True

    def backref(self, number):
        return "(?:\\%d)" % number

    def assertion(self, kind):
        word = self.word_context()
        return _word_assertion(kind, word) or {"^": "^", "$": "\\Z", "`": "\\A", "'": "\\Z"}[kind]


def _has_group(node):
    kind = node[0]
    if kind == "group":
        return True
    if kind in ("cat", "alt"):
        return any(_has_group(item) for item in node[1])
    if kind == "rep":
        return _has_group(node[1])
    return False


class _BytesWriter(_Writer):
    """RE2 in Latin-1 mode: a byte is a character, as grep in the C locale.
    With `ascii_lines` the tree is a UTF-8 rule's, written for lines of
    ASCII only: characters beyond ASCII never match there.  With
    `transcription` (a charclass.Transcription) an ASCII rule is written for
    lines beyond ASCII as transcribed in a UTF-8 locale: classes hold the
    bytes that stand for their characters, and no `.`, bracket or class
    holds charclass.INVALID, a byte that is not UTF-8."""

    ANYTHING = "(?s:.*)"

    def __init__(self, ascii_lines=False, transcription=None):
        super().__init__()
        self.limit = 0x7F if ascii_lines else 0xFF
        self.classes = transcription.classes if transcription else None
        self.excluded = [(charclass.INVALID, charclass.INVALID)] if transcription else []

    def code(self, code):
        return chr(code) if code in _SAFE else "\\x%02x" % code

    def char(self, code):
        return self.code(code) if code <= self.limit else _NEVER_BYTES

    def byte(self, code):
        return self.char(code) if self.limit == 0xFF else _NEVER_BYTES

    def class_runs(self, name):
        if self.classes is not None:
            return self.classes[name]
        return _C_WORD if name == charclass.WORD else charclass.C_CLASSES[name]

    def runs(self, items):
        return [(first, min(last, self.limit)) for first, last in super().runs(items)
                if first <= self.limit]

    def set(self, negated, items):
        runs = self.runs(items)
        if negated:
            runs += self.excluded
        return self.bracket(negated, runs, _NEVER_BYTES)

    def assertion(self, kind):
        if kind in "<>" or (self.classes is not None and kind in "bB"):
            # RE2's word boundaries know ASCII words only: an approximation
            # (\b for GNU's \< and \>; nothing beyond ASCII) that `regex` confirms.
            self.exact = False
            return "\\b" if self.classes is None else "(?:)"
        return {"^": "^", "$": "$", "`": "\\A", "'": "\\z", "b": "\\b", "B": "\\B"}[kind]


class _BytesRegexWriter(_RegexWriting, _BytesWriter):
    """The `regex` package on bytes, for rules RE2 cannot run exactly: the same
    reading, with back-references and GNU word anchors spelled out."""

    def word_context(self):
        return self.set(False, (("class", charclass.WORD),))


def _word_assertion(kind, word):
    return {
        "<": "(?<!%s)(?=%s)" % (word, word),
        ">": "(?<=%s)(?!%s)" % (word, word),
        "b": "(?:(?<=%s)(?!%s)|(?<!%s)(?=%s))" % (word, word, word, word),
        "B": "(?:(?<=%s)(?=%s)|(?<!%s)(?!%s))" % (word, word, word, word),
    }.get(kind)


class _StrRegexWriter(_RegexWriting, _Writer):
    """The `regex` package on a line decoded as a UTF-8 locale reads it
    (decode_line: each byte that is not UTF-8 a lone surrogate, U+DC80 and
    up, which only itself matches), with the locale's classes spelled out:
    the exact reading of every rule on lines beyond ASCII, for the rules the
    transcription cannot carry (characters beyond ASCII in the rule,
    back-references) and to confirm word anchors."""

    def __init__(self, locale_name):
        super().__init__()
        self.locale_name = locale_name

    def code(self, code):
        return chr(code) if code < 0x80 and code in _SAFE else "\\U%08x" % code

    def char(self, code):
        return self.code(code)

    def byte(self, code):
        return self.code(code + 0xDC00)

    def class_runs(self, name):
        return charclass.locale_class(name, self.locale_name)

    def set(self, negated, items):
        runs = self.runs(items)
        if negated:
            runs = [run for run in runs if not _RAW_BYTES[0] <= run[0] <= _RAW_BYTES[1]]
            runs.append(_RAW_BYTES)
        else:
            # A range's ends are characters; a stray byte is only itself.
            runs = [piece for run in runs for piece in _without_stray_bytes(run)]
        return self.bracket(negated, runs, "[^\\x00-\\U0010ffff]")

    def word_context(self):
        return _str_word_context(self.locale_name)


def _without_stray_bytes(run):
    first, last = run
    if first == last or last < _RAW_BYTES[0] or first > _RAW_BYTES[1]:
        return [run]
    pieces = []
    if first < _SURROGATES[0]:
        pieces.append((first, _SURROGATES[0] - 1))
    if last > _SURROGATES[1]:
        pieces.append((_SURROGATES[1] + 1, last))
    return pieces


@functools.lru_cache(maxsize=None)
def _str_word_context(locale_name):
    """The characters that make a word for word anchors on a decoded line:
    glibc reads a byte that is not UTF-8 as the character of that code (0xff:
    U+00FF, a letter) when it looks for word boundaries, and only then (`\\w`
    never matches it)."""
    alnum = charclass.locale_class("alnum", locale_name)
    stray = tuple(("char", 0xDC00 + code) for code in range(0x80, 0x100)
                  if any(first <= code <= last for first, last in alnum))
    return _StrRegexWriter(locale_name).set(False, (("class", charclass.WORD),) + stray)


def write_bytes(rule, ascii_lines=False, transcription=None):
    """(RE2 Latin-1 pattern, exact) for `rule`: its meaning in the C locale;
    with ascii_lines, a UTF-8 rule's meaning on lines of ASCII; with a
    transcription, an ASCII rule's meaning on transcribed lines beyond ASCII."""
    writer = _BytesWriter(ascii_lines, transcription)
    pattern = writer.write(rule.tree)
    return pattern.encode("latin-1"), writer.exact


def write_bytes_regex(rule, ascii_lines=False):
    """The `regex` package's pattern (bytes) that decides `rule` exactly."""
    writer = _BytesRegexWriter(ascii_lines)
    return ("(?s)" + writer.write(rule.tree)).encode("latin-1")


def write_str_regex(rule, locale_name):
    """The `regex` package's pattern (str) that decides `rule` exactly on a
    line decoded with decode_line()."""
    return "(?s)" + _StrRegexWriter(locale_name).write(rule.tree)


def write_prefilter(rule, locale_name=None, ascii_lines=False):
    """The `regex` package's pattern for rule.prefilter (bytes; str, for
    decode_line(), with locale_name), or None without one."""
    if rule.prefilter is None:
        return None
    if locale_name is not None:
        return "(?s)" + _StrRegexWriter(locale_name).write(rule.prefilter)
    return ("(?s)" + _BytesRegexWriter(ascii_lines).write(rule.prefilter)).encode("latin-1")


def decode_line(line):
    """A line as a UTF-8 locale reads it, for write_str_regex()'s patterns."""
    return line.decode("utf-8", "surrogateescape")
