"""Message templates: similar log lines folded into one template with typed
placeholders, for the grouped report (`-u`) and, later, for writing rules.

Why our own miner: the published grouping accuracy of Drain (drain3's
algorithm) on loghub's Linux and OpenSSH sets is 0.69 and 0.79, well below
the 0.95 this report needs, and Drain merges by similarity alone, so it can
fold two different messages into one.  This miner folds lines in two steps,
each one something the data shows:

1. Typed masking.  Every white-space separated token whose value has the shape
   of a variable is replaced by a typed placeholder: dates and times, IPv4 and
   IPv6 addresses, MAC addresses, UUIDs, hexadecimal ids, numbers, paths.  A
   `key=value` token keeps its key; punctuation around a token stays
   (`[<IP>]`, `(uid=<NUM>)`).  A word with digits inside keeps its letters
   (`ssh<NUM>`, `tty<NUM>`).  The result is the line's *skeleton*.
2. Variable words.  Two skeletons of one program that differ in one word only
   are the same message when that position shows enough different values:
   four, or two after the word `user` (a user name follows it in the
   messages of login, su, sshd, pam, ...).  Fewer values keep the skeletons
   apart: "failures for root" and "failures for admin" stay two templates
   when nothing else shows that position varies.  Once a position is known to
   vary, the same message from another program folds into it too.  The
   placeholder's type comes from its values: `<USER>` after `user`, `<HOST>`
   when every value is a host name, `<*>` otherwise.

Lines are never merged on similarity: two skeletons fold only when they are
equal but at one word position, so two different kinds of message stay
apart.  Lines are not kept: a group holds its counts, first and last time,
hosts, and each placeholder's values with their counts (bounded).
"""

import itertools
import operator
import re
from collections import Counter

from . import syslogline
from .engine import block_matcher_enabled
from .syslogline import time_key

try:  # the C++ twin of buckets(), in the block matcher's module
    from ._blockmatch import bucket_lines as _native_buckets
except ImportError:  # not built (or built before it had one): Python's
    _native_buckets = None
try:  # a bucket's values read and counted without the extractor (see _layout)
    from ._blockmatch import bucket_counts as _native_counts
except ImportError:
    _native_counts = None
try:  # the C++ twin of syslogline.time_bounds()
    from ._blockmatch import time_bounds as _native_time_bounds
except ImportError:
    _native_time_bounds = None

PLACEHOLDER = re.compile(rb"<([A-Z*]+)>")

# Values a placeholder or a group counts at most: every BATCH lines of
# a group, and at the end, the less frequent ones beyond MAX_VALUES are
# counted together under OTHERS (the top values are what a reader acts on;
# a value first seen after a pruning counts from there).
MAX_VALUES = 1000
SLACK = 4
BATCH = 4096
OTHERS = b"<others>"
# Distinct values a word position needs to become a placeholder.
MIN_VALUES = 4
MIN_VALUES_NAMED = 2
# Words announcing that the next word is a name, and the name's type.
NAMING_WORDS = {b"user": "USER"}
# Constant words a skeleton keeps beside a position that folds: a message
# that is little more than its variable parts (`<HEX>: removed`) is not
# folded, as nothing would show that two of them are the same message.
MIN_CONSTANT_WORDS = 2
# Skeletons kept before the miner folds what it can (bounds memory).
MAX_SKELETONS = 20000
OVERFLOW = (b"<*>",)

_MONTH = rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_CLOCK = rb"[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?"
# Dates written with spaces inside: one token each.
_SPACED_DATE = (rb"(?:" + _DAY + rb",? )?" + _MONTH + rb" +[0-9]{1,2},? " + _CLOCK
                + rb"(?: [0-9]{4})?|" + _DAY + rb" [0-9]{1,2} " + _MONTH + rb" [0-9]{4} " + _CLOCK)
_TOKENS = re.compile(_SPACED_DATE + rb"|[^ \t]+")
_HAS_SPACED_DATE = re.compile(_SPACED_DATE)

# The shapes of variable values, tried in this order on a whole token's core.
_TYPES = [
    ("DATE", _SPACED_DATE + rb"|[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ]" + _CLOCK
     + rb"(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?|[0-9]{1,2}/" + _MONTH + rb"/[0-9]{4}(?::" + _CLOCK + rb")?"),
    ("TIME", _CLOCK),
    ("IP", rb"[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:[:#][0-9]{1,5})?"  # _IPV4 below
           rb"|(?=[0-9a-fA-F:.]*::|(?:[0-9a-fA-F]{1,4}:){7})[0-9a-fA-F:]{2,39}(?:\.[0-9.]+)?"
           rb"(?:%[0-9A-Za-z]+)?"),
    ("MAC", rb"[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5,}"),
    ("UUID", rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    ("NUM", rb"[-+]?[0-9]+(?:[.,][0-9]+)*"),
    ("HEX", rb"0[xX][0-9a-fA-F]+|(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}"),
    ("PATH", rb"(?:/[^/ \t]*)+/?"),
    # A random-looking id (base64, a key fingerprint): long, with digits,
    # lower and upper case letters.
    ("ID", rb"(?=[^ \n]*[0-9])(?=[^ \n]*[a-z])(?=[^ \n]*[A-Z])[A-Za-z0-9+/_-]{20,}={0,2}"),
    # A host name: a letter, two dots at least and a last label like a
    # domain's (not a file name's extension that is no country's domain),
    # or one dot before a generic top-level domain.
    ("HOST", rb"(?=[^ \n]*[A-Za-z][^ \n]*\.)"
             rb"(?![^ \n]*\.(?:gz|xz|bz2|zst|zip|tar|tgz|deb|rpm|log|txt|conf|cfg|ini|json|yaml|yml|xml"
             rb"|html|js|css|pem|crt|lock|pid|sock|bak|tmp)\.?(?![^ \n]))"
             rb"(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+\.[a-z]{2,6}"
             rb"|[A-Za-z0-9_-]+\.(?:com|net|org|edu|gov|mil|int|info|biz))\.?"),
]
# A host is named by address or by name, in the same place of a message: both
# have the skeleton <ADDR>; a template shows <IP> or <HOST> when all the
# values it saw are of one of the two kinds.
_ADDRESS_KINDS = {"IP": "ADDR", "HOST": "ADDR"}
_TYPED = re.compile(b"|".join(b"(?P<%s>%s)" % (name.encode(), pattern)
                              for name, pattern in _TYPES))
_DIGITS = re.compile(rb"[0-9]+")
_DIGIT_RUNS = re.compile(rb"([0-9]+)")
# Inside a word: a run of hexadecimal digits long enough to be an id.
_HEX_RUN = re.compile(rb"0[xX][0-9a-fA-F]+|(?<![0-9A-Za-z])(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}"
                      rb"|(?<=[^0-9A-Za-z])(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}"
                      rb"(?![0-9A-Za-z])")
_OPENING = b"([{<'\""
_CLOSING = b")]}>'\",;:.!?"
_HOST = re.compile(rb"(?=[^.]*[A-Za-z])[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+\.?")
_TOKEN_CACHE_SIZE = 20000  # per process: bounded memory with many unique tokens
_KNOWN_SIZE = 5000
_KEY_DROPS = b"0123456789abcdefABCDEF"
_TRANSLATE = operator.methodcaller("translate", None, _KEY_DROPS)
_SECOND = operator.itemgetter(1)
_ONE = (1).__eq__
_CANDIDATES = 8  # skeletons per key
_EXTRACT_AFTER = 3  # lines of a skeleton before it gets an extractor
_BLANKS = rb"[ \t\r\x0b\x0c]+"  # within one line
# A <HEX> inside a word with digits, as _HEX_RUN masks it (`@0x7f3a...`, a
# named client's address): with its 0x, or without.
_HEX_PIECE = rb"(?:0[xX][0-9a-fA-F]+|[0-9a-fA-F]+)"
_TYPE_PATTERNS = dict(_TYPES)
_IPV4 = rb"[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:[:#][0-9]{1,5})?"
_IPV4_ONLY = re.compile(_IPV4)
_TYPE_PATTERNS["ADDR"] = _TYPE_PATTERNS["IP"] + b"|" + _TYPE_PATTERNS["HOST"]


# Values whose runs of digits may change without changing their type (see
# _layout): (kinds, shape of the value, its runs: (their digits: _DECIMAL,
# _HEXADECIMAL or _MIXED_HEX, least, most characters, most 0 for any), bound
# of the token's length).
#   A number (but a dotted quad: an IPv4 address then); an IPv4 address and
#   port (runs bounded as the type's pattern bounds them); a host name (its
#   letters and dots make it one, whatever its digits); a MAC address
#   (pairs); a hexadecimal number written 0x..., or without 0x (then with a
#   digit and a letter, as <HEX> needs).
#   Words: one run of digits (`eth0`, `26412ms`, `IN=eth0`,
#   `status=1/FAILURE`) whose letters beside it are not hexadecimal nor an
#   `x` (no <HEX> can form), shorter than an <ID>; `@0x...` (named's
#   clients); `key=<...>` around a hexadecimal id (`session=<D12A63CB6D>`),
#   whose <HEX> the extractor reads as any run of hexadecimal digits
#   (_HEX_PIECE), and so does the layout.
_DECIMAL, _HEXADECIMAL, _MIXED_HEX = 0, 1, 2
_ANY_DIGITS = (_DECIMAL, 1, 0)
_VALUE_PIECES = [
    (("NUM",), re.compile(rb"(?![0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$)[-+]?[0-9]+(?:[.,][0-9]+)*"),
     _DIGIT_RUNS, itertools.repeat(_ANY_DIGITS), 0),
    (("IP", "ADDR"), re.compile(rb"[0-9]+(?:\.[0-9]+){3}(?:[:#][0-9]+)?"), _DIGIT_RUNS,
     ((_DECIMAL, 1, 3),) * 4 + ((_DECIMAL, 1, 5),), 0),
    (("ADDR",), re.compile(_TYPE_PATTERNS["HOST"]), _DIGIT_RUNS, itertools.repeat(_ANY_DIGITS), 0),
    (("MAC",), re.compile(rb"[0-9a-fA-F]{2}(?:([:-])[0-9a-fA-F]{2})*"), re.compile(rb"([0-9a-fA-F]{2})"),
     itertools.repeat((_HEXADECIMAL, 2, 2)), 0),
    (("HEX",), re.compile(rb"0[xX][0-9a-fA-F]+"), re.compile(rb"(?<=^0[xX])([0-9a-fA-F]+)"),
     ((_HEXADECIMAL, 1, 0),), 0),
    (("HEX",), re.compile(rb"(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}"),
     re.compile(rb"([0-9a-fA-F]+)"), ((_MIXED_HEX, 8, 0),), 0),
    (("MIXED",), re.compile(rb"(?=.*[A-Za-z])(?:[A-Za-z_]+=)?(?:[A-Za-z_]*[g-zG-Z_])?[0-9]+"
                            rb"(?:[g-wyzG-WYZ_/][A-Za-z_]*)?"),
     _DIGIT_RUNS, (_ANY_DIGITS,), 20),
    (("MIXED",), re.compile(rb"@0[xX][0-9a-fA-F]+"), re.compile(rb"(?<=^@0[xX])([0-9a-fA-F]+)"),
     ((_HEXADECIMAL, 1, 0),), 0),
    (("MIXED",), re.compile(rb"[A-Za-z_]+=[<(\[](?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])"
                            rb"[0-9a-fA-F]{6,}[>)\]][,;:.]?"),
     re.compile(rb"(?<=[<(\[])([0-9a-fA-F]+)"), ((_HEXADECIMAL, 1, 0),), 0),
]


def placeholder(kind):
    return b"<%s>" % kind.encode()


def split_token(token):
    """(prefix, core, suffix): the punctuation around a token."""
    start, end = 0, len(token)
    while start < end and token[start] in _OPENING:
        start += 1
    while end > start and token[end - 1] in _CLOSING:
        end -= 1
    return token[:start], token[start:end], token[end:]


def _typed(core):
    """The type of a value, or None."""
    match = _TYPED.fullmatch(core)
    if match is None or match.lastgroup == "PATH" and len(core) == 1:
        return None
    return _ADDRESS_KINDS.get(match.lastgroup, match.lastgroup)


def mask_token(token):
    """(shape, kind, value) of one token.  kind is None for a constant word
    (shape is the token); "MIXED" for a word with digits inside, whose value
    is the whole token; otherwise the placeholder's type and the value it
    stands for.  A `key=value` or `key:value` token keeps its key."""
    prefix, core, suffix = split_token(token)
    kind = _typed(core) if core else None
    if kind is None:
        for separator in (b"=", b":"):
            split = core.find(separator)
            if split > 0 or separator == b"=" and split == 0:
                value = core[split + 1:]
                kind = _typed(value) if value else None
                if kind is not None:
                    prefix, core = prefix + core[:split + 1], value
                break
    if kind is not None:
        return prefix + placeholder(kind) + suffix, kind, core
    if any(48 <= byte <= 57 for byte in token):
        return _DIGITS.sub(b"<NUM>", _HEX_RUN.sub(b"<HEX>", token)), "MIXED", token
    return token, None, None


def _time_bounds(stamps):
    if _native_time_bounds is not None and block_matcher_enabled():
        return _native_time_bounds(stamps)
    return syslogline.time_bounds(stamps)


def buckets(text):
    """The lines of a block (joined by newlines, a final newline or not) in
    buckets: lines of one program whose messages differ only in digits and
    hexadecimal letters.  A list of (program, key, indices, stamps, hosts,
    messages), in the order of program + b"\\n" + key; key: the message
    without those characters; indices, stamps and hosts: a tuple with an item
    per line of the bucket, in block order (b"" where the header has none);
    messages: theirs, joined by newlines.  The C++ twin in the native module
    does the same (when it is in use, see engine.block_matcher_enabled)."""
    if _native_buckets is not None and block_matcher_enabled():
        return _native_buckets(text)
    rows = syslogline.parse_block(text)
    stamps, hosts, programs, messages = zip(*rows)
    # _TRANSLATE of every message, in one call (no message holds a newline)
    keys = b"\n".join(messages).translate(None, _KEY_DROPS).split(b"\n")
    names = list(map(b"\n".join, zip(programs, keys)))  # no line holds a newline
    # Buckets in the order of their text, lines in a bucket in block order: a
    # sort on each distinct bucket's rank (an integer compares faster than a
    # long message).
    rank = {name: number for number, name in enumerate(sorted(set(names)))}
    ranks = list(map(rank.__getitem__, names))
    order = sorted(range(len(rows)), key=ranks.__getitem__)
    result = []
    for _rank, members in itertools.groupby(order, key=ranks.__getitem__):
        members = tuple(members)
        first = members[0]
        result.append((programs[first], keys[first], members,
                       tuple(map(stamps.__getitem__, members)),
                       tuple(map(hosts.__getitem__, members)),
                       b"\n".join(map(messages.__getitem__, members))))
    return result


class Slot:
    """A placeholder in a template: its type, the text it shows in the
    template (`<IP>`, `rhost=<IP>`, `ssh<NUM>`) and, in a group, its values
    with their counts."""

    __slots__ = ("kind", "shape", "values")

    def __init__(self, kind, shape, values=None):
        self.kind = kind
        self.shape = shape
        self.values = values if values is not None else Counter()

    def top(self, count=5):
        return most_frequent(self.values, count)


def most_frequent(counter, count=None):
    """(value, count) pairs, most frequent first, ties in value order (a
    report reads the same whatever order the lines were counted in)."""
    pairs = sorted(counter.items(), key=lambda pair: (-pair[1], pair[0]))
    return pairs if count is None else pairs[:count]


def _count(counter, value, count=1):
    """Add to a bounded counter."""
    if value in counter or len(counter) < MAX_VALUES:
        counter[value] += count
    else:
        counter[OTHERS] += count


def _bound(counter):
    """Keep the MAX_VALUES most frequent values; the rest count as OTHERS."""
    others = counter.pop(OTHERS, 0)
    # most_common()'s order (stable: ties in counting order), by one sort in
    # C rather than heapq.nlargest's loop in Python.
    kept = dict(sorted(counter.items(), key=_SECOND, reverse=True)[:MAX_VALUES])
    others += sum(counter.values()) - sum(kept.values())
    counter.clear()
    counter.update(kept)
    counter[OTHERS] = others


def _portable(counter):
    """A counter as (values seen once, how many, Counter of the others):
    most values of a block are seen once; they travel joined by newlines
    (no value holds one), one string for pickle instead of one object each,
    and are counted in C on arrival."""
    once = list(map(_ONE, counter.values()))
    multi = Counter(dict(itertools.compress(counter.items(), map(operator.not_, once))))
    singles = list(itertools.compress(counter, once))
    return b"\n".join(singles), len(singles), multi


def _add_counts(target, source):
    """target.update(source) for a mapping source, in C: the same counts and
    the same order of new values (Counter.update loops in Python)."""
    values = list(source)
    dict.update(target, zip(values, map(operator.add, source.values(),
                                        map(target.get, values, itertools.repeat(0)))))


def _merge_counter(target, source):
    if isinstance(source, tuple):  # _portable()
        singles, count, source = source
        if count:
            singles = singles.split(b"\n")
            if len(target) >= MAX_VALUES:
                # Full: a new value seen once in its block counts under
                # OTHERS, as _count() does; those counted already go on.
                # Values a block repeats are all counted (below), and the
                # counter is bounded far less often (a sort each time).
                known = list(filter(target.__contains__, singles))
                target.update(known)
                target[OTHERS] += count - len(known)
            else:
                target.update(singles)
    _add_counts(target, source)
    if len(target) > SLACK * MAX_VALUES:
        _bound(target)


class Group:
    """The lines of one template from one program: how many, when, where,
    and the values of each placeholder.  Lines are counted in batches (their
    stamps, hosts and values wait in short lists, counted in C by Counter),
    so call flush() before reading first, last, hosts or values directly.

    An `exact` group counts every value, unbounded, and only when flushed:
    a group of one block (take_block()), which the block bounds; the miner
    that absorbs it bounds its counters."""

    __slots__ = ("program", "skeleton", "kinds", "exact", "count", "first", "last",
                 "first_index", "hosts", "values", "template", "_stamps", "_hosts", "_columns",
                 "_waiting", "_read")

    def __init__(self, program, skeleton, kinds, exact=False):
        self.program = program
        self.skeleton = skeleton  # tuple of token shapes
        self.kinds = kinds  # {position: kind} of the placeholders
        self.exact = exact
        self.count = 0
        self.first = self.last = None  # (time_key, stamp)
        self.first_index = None
        self.hosts = Counter()
        self.values = {position: Counter() for position in kinds}
        self.template = None  # set by TemplateMiner.groups()
        self._stamps, self._hosts = [], []
        self._waiting = 0  # lines since the last flush
        # A bucket the native module read as this group's first lines:
        # (messages, lines, layout, its values in _portable()'s form).
        self._read = None
        self._new_columns()

    def _new_columns(self):
        # The values waiting, a list per placeholder in position order:
        # counted a column at a time, without turning rows into columns.
        self._columns = [[] for _position in self.kinds]

    def _counters(self):
        return [self.values[position] for position in sorted(self.values)]

    def _count_waiting(self):
        """Count the values waiting, in the order their lines came: a
        pending read (it waits only while it is all the group has), then
        the columns."""
        if self._read is not None:
            messages, lines, layout, _portables = self._read
            self._read = None
            for counter, counts in zip(self._counters(),
                                       _native_counts(messages, lines, layout, False)):
                _add_counts(counter, counts)
        if self._columns and self._columns[0]:
            for counter, column in zip(self._counters(), self._columns):
                counter.update(column)
            self._new_columns()

    def add_line(self, index, stamp, host, row):
        """row: the values of the placeholders, in position order."""
        if self._read is not None:
            self._count_waiting()
        self.count += 1
        if self.first_index is None:
            self.first_index = index
        if stamp is not None:
            self._stamps.append(stamp)
        if host is not None:
            self._hosts.append(host)
        for column, value in zip(self._columns, row):
            column.append(value)
        self._waiting += 1
        if self._waiting >= BATCH and not self.exact:
            self.flush()

    def add_lines(self, first_index, stamps, hosts, columns):
        """add_line() for many lines at once (stamps and hosts may hold b"");
        columns: the values of each placeholder, in position order."""
        if self._read is not None:
            self._count_waiting()
        for column, values in zip(self._columns, columns):
            column.extend(values)
        self._add_times(first_index, stamps, hosts)

    def add_read(self, first_index, stamps, hosts, messages, layout):
        """add_lines() for a bucket (`messages`: joined by newlines) whose
        values the native module reads and counts, where every line fits
        `layout` (see _layout); whether it did.  The values are counted at
        once, in the order a flush would count them: a read that is an
        exact group's first lines waits in _portable()'s form, which
        take_block() hands over as it is."""
        first = self.exact and not self.count
        counted = _native_counts(messages, len(stamps), layout, first)
        if counted is None:
            return False
        if first:
            self._read = (messages, len(stamps), layout, counted)
        else:
            self._count_waiting()
            for counter, counts in zip(self._counters(), counted):
                _add_counts(counter, counts)
        self._add_times(first_index, stamps, hosts)
        return True

    def _add_times(self, first_index, stamps, hosts):
        self.count += len(stamps)
        if self.first_index is None:
            self.first_index = first_index
        self._stamps.extend(stamps)
        self._hosts.extend(hosts)
        self._waiting += len(stamps)
        if self._waiting >= BATCH and not self.exact:
            self.flush()

    def flush(self, final=False):
        """Count the lines waiting, and bound the counters (to SLACK times
        their bound until the `final` flush: bounding costs a sort)."""
        if self._stamps:
            for stamp in _time_bounds(self._stamps) or ():
                key = time_key(stamp)
                if self.first is None or key < self.first[0]:
                    self.first = (key, stamp)
                if self.last is None or key >= self.last[0]:
                    self.last = (key, stamp)
            self._stamps = []
        if self._hosts:
            self.hosts.update(self._hosts)
            self.hosts.pop(b"", None)
            self._hosts = []
        self._count_waiting()
        self._waiting = 0
        if self.exact:
            return
        for counter in (self.hosts, *self.values.values()):
            if len(counter) > (MAX_VALUES if final else SLACK * MAX_VALUES):
                _bound(counter)

    def hand_over(self):
        """Counted, and its counters in _portable()'s form (take_block())."""
        read, self._read = self._read, None
        self.flush()
        self.hosts = _portable(self.hosts)
        self.values = dict(zip(sorted(self.values), read[3])) if read is not None else \
            {position: _portable(counter) for position, counter in self.values.items()}

    def absorb(self, other):
        self.flush()
        if not isinstance(other.hosts, tuple):  # not from take_block(): flushed there
            other.flush()
        self.count += other.count
        self.first_index = other.first_index if self.first_index is None \
            else min(self.first_index, other.first_index)
        for pair in (other.first, other.last):
            if pair is not None:
                if self.first is None or pair[0] < self.first[0]:
                    self.first = pair
                if self.last is None or pair[0] >= self.last[0]:
                    self.last = pair
        _merge_counter(self.hosts, other.hosts)
        for position, counter in other.values.items():
            _merge_counter(self.values[position], counter)

    @property
    def first_time(self):
        """The earliest time stamp (bytes) of its lines, None if they have none."""
        self.flush()
        return self.first[1] if self.first else None

    @property
    def last_time(self):
        self.flush()
        return self.last[1] if self.last else None

    def slots(self):
        """The placeholders in template order, each with this group's values."""
        self.flush()
        shown = self.template or self
        return [Slot(shown.kinds[position], shown.skeleton[position], self.values[position])
                for position in sorted(shown.kinds)]

    @property
    def text(self):
        return b" ".join(self.skeleton)


class Template:
    """A template: its tokens, and the position and type of each placeholder.
    Program-independent (the same message from su and from sshd shares it)."""

    __slots__ = ("skeleton", "kinds")

    def __init__(self, skeleton, kinds):
        self.skeleton = skeleton
        self.kinds = kinds

    @property
    def text(self):
        return b" ".join(self.skeleton)

    def __repr__(self):
        return f"Template({self.text!r})"


class TemplateMiner:
    """Feed lines with add(), in report order; groups() gives the groups,
    ordered by their first time (then report order)."""

    def __init__(self):
        self._groups = {}  # (program, skeleton) -> Group
        self._redirect = {}  # skeleton folded -> (skeleton, kinds) it folded into
        self._wild = {}  # (length, skeleton with None at a varying position) -> position, kind
        self._tokens = {}  # token -> mask_token(token)
        self._unfolded = set()  # skeletons nothing learned folds (cleared by fold())
        self._templates = {}  # skeleton -> Template, made by groups()
        self._lines = 0
        self._known = {}  # message without digits -> masked, see _masked()
        self._exact = False  # groups count exactly (take_block())

    def _mask(self, message):
        cache = self._tokens
        if len(cache) > _TOKEN_CACHE_SIZE:
            cache.clear()
        if b":" in message and _HAS_SPACED_DATE.search(message):
            tokens = _TOKENS.findall(message)
        else:
            tokens = message.split()
        shapes = []
        kinds = {}
        values = []
        named = False
        for position, token in enumerate(tokens):
            masked = cache.get(token)
            if masked is None:
                masked = cache[token] = mask_token(token)
            shape, kind, value = masked
            if named and kind == "NUM":
                # A number after "user" is a name (the variable-word step
                # folds it with the other names).
                shape, kind, value = token, None, None
            named = token.lower() in NAMING_WORDS
            shapes.append(shape)
            if kind is not None:
                kinds[position] = kind
                values.append((position, value))
        return tuple(shapes), kinds, values, tokens

    def _masked(self, message):
        """_mask(), through a cache keyed by the message without its digits
        and hexadecimal letters: lines that differ only in numbers and ids
        (most of a log) share an entry, and once a skeleton was seen a few
        times an extractor (a regular expression of the skeleton) reads their
        values in one call.  A line no extractor matches takes the slow path,
        so the cache never changes a result.  tokens is None when the cache
        answered."""
        key = _TRANSLATE(message)
        candidates = self._known.get(key)
        if candidates is not None:
            for candidate in candidates:
                extractor = candidate[3]
                if extractor is not None:
                    match = extractor.fullmatch(message)
                    if match is not None:
                        return candidate[0], candidate[1], match.groups(), None
        skeleton, kinds, values, tokens = self._mask(message)
        values = tuple(value for _position, value in values)
        if candidates is None:
            if len(self._known) >= _KNOWN_SIZE:
                self._known.clear()
            candidates = self._known[key] = []
        for candidate in candidates:
            if candidate[0] == skeleton:
                candidate[5] += 1
                if candidate[5] == _EXTRACT_AFTER:
                    candidate[3] = _extractor(candidate[4], skeleton, kinds)
                    candidate[2] = _layout(candidate[4], skeleton, kinds)
                    candidate[4] = None
                break
        else:
            if len(candidates) < _CANDIDATES:
                candidates.append([skeleton, kinds, None, None, tokens, 1])
        return skeleton, kinds, values, tokens

    def skeleton_of(self, message):
        """(skeleton, kinds, row) of a message, with what the miner has
        learned so far applied; row: the placeholders' values in position
        order."""
        skeleton, kinds, row, tokens = self._masked(message)
        if not self._redirect and not self._wild:
            return skeleton, kinds, row
        skeleton, kinds, values, tokens = self._mask(message)
        target = self._redirect.get(skeleton)
        while target is not None and target[0] in self._redirect:  # folded again since
            target = self._redirect[target[0]]
        if target is None and self._wild and skeleton not in self._unfolded:
            target = self._learned(skeleton, kinds)
            if target is None:
                self._unfolded.add(skeleton)
        if target is not None:
            new_skeleton, new_kinds = target
            values = _values_for(tokens, kinds, new_kinds, values, new_skeleton)
            skeleton, kinds = new_skeleton, new_kinds
        return skeleton, kinds, tuple(value for _position, value in sorted(values))

    def _learned(self, skeleton, kinds):
        """Fold a new skeleton into a template learned before, if it differs
        from it only at positions known to vary."""
        folded = list(skeleton)
        new_kinds = dict(kinds)
        changed = True
        while changed:
            changed = False
            for position in range(len(folded)):
                if new_kinds.get(position, "MIXED") != "MIXED":
                    continue
                probe = folded[:]
                probe[position] = None
                known = self._wild.get((len(folded), tuple(probe)))
                if known is not None and _fits(folded[position], *known):
                    folded[position], new_kinds[position] = known
                    changed = True
        if not changed and folded == list(skeleton):
            return None
        target = (tuple(folded), new_kinds)
        self._redirect[skeleton] = target
        return target

    def add(self, header):
        """Count one line, given as its syslogline.Header; returns its Group."""
        skeleton, kinds, values = self.skeleton_of(header.message)
        key = (header.program, skeleton)
        group = self._groups.get(key)
        if group is None:
            if len(self._groups) >= MAX_SKELETONS:
                self.fold()
                if len(self._groups) >= MAX_SKELETONS // 2:
                    # Too many different messages to keep apart within the
                    # memory bound: the rest of this program's new ones are
                    # counted together, each message a value of <*>.
                    skeleton, kinds = OVERFLOW, {0: "*"}
                    values = (header.message,)
                    key = (header.program, skeleton)
                else:
                    return self.add(header)
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = Group(header.program, skeleton, kinds, self._exact)
        group.add_line(self._lines, header.stamp, header.host, values)
        self._lines += 1
        return group

    def add_block(self, text):
        """Count the lines of a block (lines joined by newlines).  Lines are
        sorted into buckets by program and cache key (buckets()), and each
        bucket whose skeleton has an extractor is read in one call (the
        native module's, or one findall() over its messages) and counted in
        bulk: the per-line work is done in C (parsing, keys, the sort into
        buckets, the reading, the counting)."""
        lines = 0
        native = _native_counts is not None and block_matcher_enabled()
        for program, key, indices, stamps, hosts, messages in buckets(text):
            lines += len(indices)
            program = program or None
            if len(indices) > 1 and self._bulk(program, key, self._lines + indices[0], stamps,
                                               hosts, messages, native):
                continue
            for index, stamp, host, message in zip(indices, stamps, hosts,
                                                   messages.split(b"\n")):
                counted, self._lines = self._lines, self._lines + index
                self.add(syslogline.Header(stamp or None, host or None, program, None, message))
                self._lines = counted
        self._lines += lines

    def _bulk(self, program, key, first, stamps, hosts, messages, native=False):
        """Count a bucket's lines (`messages`: joined by newlines) through its
        skeleton's extractor, if it has one and it reads every line; whether
        it did.  `native`: the values are read and counted by the native
        module where every line fits the skeleton's sample line (the same
        values)."""
        if self._redirect or self._wild:
            return False
        for candidate in self._known.get(key, ()):
            extractor = candidate[3]
            if extractor is not None:
                key = (program, candidate[0])
                group = self._groups.get(key) or \
                    Group(program, candidate[0], candidate[1], self._exact)
                if not (native and candidate[2] is not None and
                        group.add_read(first, stamps, hosts, messages, candidate[2])):
                    rows = extractor.findall(messages)
                    if len(rows) != len(stamps):
                        return False
                    # findall() gives a value per line for one placeholder
                    group.add_lines(first, stamps, hosts, list(zip(*rows)) if extractor.groups > 1
                                    else [rows][:extractor.groups])
                self._groups.setdefault(key, group)  # kept once it holds lines
                return True
        return False

    def take_block(self, text):
        """add_block(), then hand over the groups it made: (lines, groups)
        for absorb() in another miner (the pipeline's workers fold their
        blocks; the caches stay here, warm for the next block)."""
        self._groups, self._lines = {}, 0
        self._exact = True
        try:
            self.add_block(text)
        finally:
            self._exact = False
        for group in self._groups.values():
            group.hand_over()
        taken, self._groups = self._groups, {}
        return self._lines, taken

    def absorb(self, taken):
        """Count the groups take_block() handed over, as lines after those
        counted so far."""
        lines, groups = taken
        for key, group in groups.items():
            group.first_index += self._lines
            existing = self._groups.get(key)
            if existing is None and (self._redirect or self._wild):
                # after a fold: what was learned applies to this group too
                target = self._redirect.get(key[1])
                while target is not None and target[0] in self._redirect:
                    target = self._redirect[target[0]]
                if target is None:
                    target = self._learned(key[1], group.kinds)
                if target is not None:
                    group = _unportable(group)
                    self._groups[key] = group
                    self._move(key, group, *target)
                    continue
            if existing is None and len(self._groups) >= MAX_SKELETONS:
                self.fold()
                if len(self._groups) >= MAX_SKELETONS // 2:
                    group = _overflowing(group)  # see add()
                    key = (group.program, OVERFLOW)
                    existing = self._groups.get(key)
                else:
                    self._groups[key] = group = _unportable(group)
                    target = self._learned(key[1], group.kinds)
                    if target is not None:
                        self._move(key, group, *target)
                    continue
            if existing is None:
                existing = self._groups[key] = Group(group.program, group.skeleton, group.kinds)
            existing.absorb(group)
        self._lines += lines

    def fold(self):
        """Fold skeletons that differ only at a word position showing enough
        values (see the module's docstring), until nothing more folds."""
        for group in self._groups.values():
            group.flush()
        while True:
            families = {}
            for (program, skeleton), group in self._groups.items():
                if len(skeleton) - len(group.kinds) < MIN_CONSTANT_WORDS:
                    continue
                for position, shape in enumerate(skeleton):
                    if group.kinds.get(position, "MIXED") != "MIXED" or position not in \
                            group.kinds and len(skeleton) - len(group.kinds) <= MIN_CONSTANT_WORDS:
                        continue
                    probe = list(skeleton)
                    probe[position] = None
                    family = families.setdefault((program, len(skeleton), tuple(probe), position), {})
                    family.setdefault(shape, []).append((program, skeleton))
            merges = []
            for (program, _kinds, probe, position), members in families.items():
                named = NAMING_WORDS.get(probe[position - 1].lower()) if position and \
                    probe[position - 1] is not None else None
                if len(members) >= (MIN_VALUES_NAMED if named else MIN_VALUES):
                    lines = sum(self._groups[key].count for keys in members.values() for key in keys)
                    merges.append((lines, probe, position, named, members))
            # Also fold skeletons of other programs into positions known to vary.
            folded_any = False
            taken = set()
            for lines, probe, position, named, members in sorted(merges, key=lambda m: -m[0]):
                keys = [key for keys in members.values() for key in keys]
                if any(key in taken for key in keys):
                    continue
                taken.update(keys)
                self._fold_position(keys, probe, position, named)
                folded_any = True
            self._unfolded.clear()
            if self._apply_wild():
                folded_any = True
            if self._fold_empty():
                folded_any = True
            if not folded_any:
                return

    def _fold_position(self, keys, probe, position, named):
        originals = []
        for key in keys:
            group = self._groups[key]
            if group.kinds.get(position) == "MIXED":
                originals.extend(value for value in group.values[position] if value != OTHERS)
            else:
                originals.append(group.skeleton[position])
        prefix, suffix = _common_affixes(originals)
        values = []
        for key in keys:
            group = self._groups[key]
            token = group.skeleton[position]
            if group.kinds.get(position) == "MIXED":
                values.extend((value, count) for value, count in group.values[position].items())
            else:
                values.append((token, group.count))
        kind = named or ("HOST" if all(_HOST.fullmatch(_strip(value, prefix, suffix))
                                       for value, _count in values if value != OTHERS) else "*")
        shape = prefix + placeholder(kind) + suffix
        self._wild[(len(probe), probe)] = (shape, kind)
        for key in keys:
            group = self._groups[key]
            kinds = dict(group.kinds)
            kinds[position] = kind
            self._move(key, group, probe[:position] + (shape,) + probe[position + 1:], kinds)

    def _apply_wild(self):
        """Fold groups whose skeleton has a position another program showed varies."""
        moved = False
        for key in list(self._groups):
            group = self._groups.get(key)
            if group is None:
                continue
            target = self._learned(group.skeleton, group.kinds)
            if target is None:
                continue
            self._move(key, group, *target)
            moved = True
        return moved

    def _fold_empty(self):
        """An empty value (`()`, `rhost=`) is a value: it folds into the typed
        placeholder its sibling skeleton has at the same place."""
        typed = {}
        for (program, skeleton), group in self._groups.items():
            for position, kind in group.kinds.items():
                if kind != "MIXED":
                    probe = skeleton[:position] + (None,) + skeleton[position + 1:]
                    typed.setdefault((program, probe, position), (skeleton[position], kind))
        moved = False
        for key in list(self._groups):
            program, skeleton = key
            group = self._groups[key]
            for position, token in enumerate(skeleton):
                if position in group.kinds:
                    continue
                prefix, core, suffix = split_token(token)
                if core.endswith(b"=") and core.find(b"=") == len(core) - 1:
                    prefix, core = prefix + core, b""  # `key=`
                if core or not (prefix or suffix):
                    continue
                probe = skeleton[:position] + (None,) + skeleton[position + 1:]
                found = typed.get((program, probe, position))
                if found is None or found[0] != prefix + placeholder(found[1]) + suffix:
                    continue
                shape, kind = found
                kinds = dict(group.kinds)
                kinds[position] = kind
                self._move(key, group, probe[:position] + (shape,) + probe[position + 1:], kinds)
                moved = True
                break
        return moved

    def _move(self, key, group, skeleton, kinds):
        """Re-key a group under a folded skeleton (its values already moved),
        merging it with a group there."""
        group.flush()
        del self._groups[key]
        for position, kind in kinds.items():
            if group.kinds.get(position) != kind:
                group.values[position] = _folded_values(group, position, skeleton[position], kind)
        self._redirect[group.skeleton] = (skeleton, kinds)
        group.skeleton, group.kinds = skeleton, kinds
        group._new_columns()  # pylint: disable=protected-access
        existing = self._groups.get((key[0], skeleton))
        if existing is None:
            self._groups[(key[0], skeleton)] = group
        else:
            existing.absorb(group)

    def groups(self):
        """Fold, then the groups in order of their first line; each group's
        `template` is set."""
        self.fold()
        by_skeleton = {}
        for group in self._groups.values():
            group.flush(final=True)
        for group in self._groups.values():
            by_skeleton.setdefault(group.skeleton, []).append(group)
        self._templates = {skeleton: _template(skeleton, members)
                           for skeleton, members in by_skeleton.items()}
        for group in self._groups.values():
            group.template = self._templates[group.skeleton]
        return sorted(self._groups.values(),
                      key=lambda group: (group.first[0] if group.first else (2,), group.first_index))

    def template_of(self, message):
        """The Template a message falls in, with what the miner learned (after
        groups(); a message it never saw gets a template of its own)."""
        skeleton, kinds, _values = self.skeleton_of(message)
        template = self._templates.get(skeleton)
        return template if template is not None else _template(skeleton, [])


def _template(skeleton, groups):
    """The Template of groups sharing a skeleton: an address placeholder
    shows <IP> or <HOST> when every value seen is of that kind."""
    kinds = dict(groups[0].kinds) if groups else {}
    shapes = list(skeleton)
    for position, kind in kinds.items():
        if kind != "ADDR":
            continue
        seen = {_address_kind(value) for group in groups for value in group.values[position]
                if value not in (b"", OTHERS)}
        if len(seen) == 1:
            kinds[position] = seen.pop()
            shapes[position] = shapes[position].replace(b"<ADDR>", placeholder(kinds[position]))
    return Template(tuple(shapes), kinds)


def _address_kind(value):
    match = _TYPED.fullmatch(value)
    return match.lastgroup if match is not None and match.lastgroup in _ADDRESS_KINDS else "ADDR"


def _extractor(tokens, skeleton, kinds):
    """A regular expression that matches the messages of this skeleton and
    captures the value of each placeholder, in position order."""
    parts = []
    for position, token in enumerate(tokens):
        kind = kinds.get(position)
        shape = skeleton[position]
        if kind is None:
            parts.append(re.escape(token))
        elif kind == "MIXED":
            pieces = re.split(rb"(<NUM>|<HEX>)", shape)
            parts.append(b"(" + b"".join(b"[0-9]+" if piece == b"<NUM>" else _HEX_PIECE
                                         if piece == b"<HEX>" else re.escape(piece)
                                         for piece in pieces) + b")")
        else:
            prefix, suffix = shape.split(placeholder(kind), 1)
            pattern = _TYPE_PATTERNS[kind]
            if kind == "ADDR":  # the sample's kind of address (the key pins it)
                pattern = _IPV4 if _IPV4_ONLY.fullmatch(token, len(prefix), len(token) - len(suffix)) \
                    else pattern
            parts.append(re.escape(prefix) + b"(" + pattern + b")" + re.escape(suffix))
    # One line at a time (fullmatch) or all lines of a block (findall).
    return re.compile(rb"^[ \t\r\x0b\x0c]*" + _BLANKS.join(parts) + rb"[ \t\r\x0b\x0c]*$", re.M)


def _layout(tokens, skeleton, kinds):
    """What the native module needs to read a skeleton's values without its
    extractor (bucket_counts), from the sample line the skeleton was made
    of: for each token, (the constant word or None, the placeholder's prefix
    and suffix, the pieces of its value: literal bytes, or a run (its
    digits, least and most characters, most 0 for any), a bound on the
    token's length or 0).  Only values whose type cannot change when their
    runs change get a layout (_VALUE_PIECES; a word's <HEX> is read as the
    extractor reads it); None for any other skeleton: its extractor reads
    it."""
    if len(tokens) != len(skeleton):
        return None
    layout = []
    for position, token in enumerate(tokens):
        kind = kinds.get(position)
        if kind is None:
            layout.append((token, b"", b"", (), 0))
            continue
        prefix = suffix = b""
        if kind != "MIXED":
            prefix, suffix = skeleton[position].split(placeholder(kind), 1)
        value = token[len(prefix):len(token) - len(suffix)]
        for kinds_served, shape, runs, bounds, shorter_than in _VALUE_PIECES:
            if kind in kinds_served and shape.fullmatch(value):
                break
        else:
            return None
        bounds = iter(bounds)
        pieces = tuple(next(bounds) if number % 2 else piece
                       for number, piece in enumerate(runs.split(value)) if piece)
        layout.append((None, prefix, suffix, pieces, shorter_than))
    return tuple(layout)


def _unportable(group):
    """A group handed over by take_block() with plain Counters again."""
    copy = Group(group.program, group.skeleton, group.kinds)
    copy.absorb(group)
    return copy


def _overflowing(group):
    """A group handed over by take_block() as part of the overflow group of
    its program: its count, times and hosts, its template as the value."""
    overflow = Group(group.program, OVERFLOW, {0: "*"})
    overflow.count, overflow.first, overflow.last = group.count, group.first, group.last
    overflow.first_index, overflow.hosts = group.first_index, group.hosts
    overflow.values[0][b" ".join(group.skeleton)] = group.count
    return overflow


def _folded_values(group, position, shape, kind):
    """The values of a group's position that becomes the placeholder `shape`:
    those of a word with digits, or the word itself, without the
    placeholder's punctuation."""
    prefix, suffix = shape.split(placeholder(kind), 1)
    counter = Counter()
    if group.kinds.get(position) == "MIXED":
        for value, count in group.values[position].items():
            _count(counter, _strip(value, prefix, suffix), count)
    else:
        counter[_strip(group.skeleton[position], prefix, suffix)] = group.count
    return counter


def _values_for(tokens, old_kinds, new_kinds, values, skeleton):
    """Values of a line for a skeleton folded further: a position that became
    a placeholder takes its token, without the placeholder's punctuation."""
    result = []
    for position, kind in new_kinds.items():
        if old_kinds.get(position) == kind:
            continue
        shape = skeleton[position]
        prefix, suffix = shape.split(placeholder(kind), 1)
        result.append((position, _strip(tokens[position], prefix, suffix)))
    kept = [(position, value) for position, value in values
            if old_kinds.get(position) == new_kinds.get(position)]
    return kept + result


def _fits(token, shape, kind):
    """Whether a token (a word, or a word with digits masked) can be the
    value of a placeholder: it has the placeholder's punctuation and key."""
    prefix, suffix = shape.split(placeholder(kind), 1)
    return token.startswith(prefix) and token.endswith(suffix) and \
        len(token) >= len(prefix) + len(suffix)


def _strip(value, prefix, suffix):
    if prefix and value.startswith(prefix):
        value = value[len(prefix):]
    if suffix and value.endswith(suffix):
        value = value[:-len(suffix)]
    return value


def _common_affixes(tokens):
    """The punctuation (and key=) all tokens start and end with."""
    first = min(tokens)
    last = max(tokens)
    length = 0
    while length < len(first) and length < len(last) and first[length] == last[length]:
        length += 1
    prefix = first[:length]
    while prefix and not (prefix[-1] in _OPENING or prefix[-1:] == b"="):
        prefix = prefix[:-1]
    shortest = min(len(token) for token in tokens) - len(prefix)
    suffix = b""
    for size in range(1, shortest + 1):
        ending = tokens[0][-size:]
        if all(token.endswith(ending) for token in tokens):
            suffix = ending
        else:
            break
    while suffix and suffix[0] not in _CLOSING:
        suffix = suffix[1:]
    return prefix, suffix
