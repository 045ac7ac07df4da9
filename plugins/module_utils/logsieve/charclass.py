"""What the locale says characters are: whether lines are read as UTF-8, and
which characters each POSIX class holds.

grep matches in the locale it runs in.  logcheck runs from cron, which on
Debian passes the system locale (/etc/default/locale, often C.UTF-8): there
a byte sequence that is not UTF-8 is matched by nothing in a rule, and
`[[:alpha:]]` or `\\w` hold every letter the locale knows.  In the C locale a
character is a byte and the classes are ASCII.

The locale is read from the environment the process was started with
(LC_ALL, then LC_CTYPE, then LANG, as setlocale(3) does).  Python replaces a
C locale by C.UTF-8 in its own environment at start-up (PEP 538), so the
environment is read from /proc/self/environ, which keeps what the process
was given.  A locale that is not installed is the C locale, as for grep.
"""

import ctypes
import functools
import locale
import os

# The class names POSIX brackets accept (glibc's, as grep -E knows them).
CLASSES = ("alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print",
           "punct", "space", "upper", "xdigit")


def _c_class(name):
    test = {
        "alnum": lambda c: chr(c).isascii() and chr(c).isalnum(),
        "alpha": lambda c: chr(c).isascii() and chr(c).isalpha(),
        "blank": lambda c: c in (0x09, 0x20),
        "cntrl": lambda c: c < 0x20 or c == 0x7F,
        "digit": lambda c: 0x30 <= c <= 0x39,
        "graph": lambda c: 0x21 <= c <= 0x7E,
        "lower": lambda c: 0x61 <= c <= 0x7A,
        "print": lambda c: 0x20 <= c <= 0x7E,
        "punct": lambda c: 0x21 <= c <= 0x7E and not chr(c).isalnum(),
        "space": lambda c: 0x09 <= c <= 0x0D or c == 0x20,
        "upper": lambda c: 0x41 <= c <= 0x5A,
        "xdigit": lambda c: chr(c) in "0123456789abcdefABCDEF",
    }[name]
    return _ranges(code for code in range(256) if test(code))


def _ranges(codes):
    """Sorted code points -> [(first, last), ...] of their runs."""
    runs = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return [tuple(run) for run in runs]


# The classes in the C locale: bytes, ASCII members only.
C_CLASSES = {name: _c_class(name) for name in CLASSES}
WORD = "word"  # \w: alnum and '_'


def locale_name(environ=None):
    """The LC_CTYPE locale name the process was started with."""
    if environ is None:
        environ = _initial_environ()
    for variable in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = environ.get(variable)
        if value:
            return value
    return "C"


def _initial_environ():
    try:
        with open("/proc/self/environ", "rb") as handle:
            data = handle.read()
    except OSError:
        return dict(os.environ)
    environ = {}
    for entry in data.split(b"\0"):
        name, sep, value = entry.partition(b"=")
        if sep:
            environ[name.decode("latin-1")] = value.decode("latin-1")
    return environ


@functools.lru_cache(maxsize=None)
def is_utf8(name):
    """Whether the locale `name` is installed and reads UTF-8."""
    if name in ("C", "POSIX"):
        return False
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, name)
        return locale.nl_langinfo(locale.CODESET).upper() in ("UTF-8", "UTF8")
    except locale.Error:
        return False  # not installed: grep falls back to the C locale
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)


def utf8_locale():
    """The name of the process's locale when it reads UTF-8, else None."""
    name = locale_name()
    return name if is_utf8(name) else None


@functools.lru_cache(maxsize=None)
def locale_class(name, locale_name_):
    """[(first, last), ...] code point runs of class `name` (or WORD) in the
    UTF-8 locale `locale_name_`, as its iswctype(3) says."""
    if name == WORD:
        runs = list(locale_class("alnum", locale_name_))
        return _ranges(sorted({code for first, last in runs
                               for code in range(first, last + 1)} | {0x5F}))
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, locale_name_)
        try:
            from ._blockmatch import class_runs  # the C++ loop: milliseconds
        except ImportError:
            class_runs = _class_runs_ctypes   # the same calls through ctypes: seconds
        return [tuple(run) for run in class_runs(name)]
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)


def _class_runs_ctypes(name):
    libc = ctypes.CDLL(None)
    libc.wctype.restype = ctypes.c_ulong
    libc.wctype.argtypes = [ctypes.c_char_p]
    iswctype = libc.iswctype
    iswctype.argtypes = [ctypes.c_uint32, ctypes.c_ulong]
    iswctype.restype = ctypes.c_int
    handle = libc.wctype(name.encode())
    return _ranges(code for code in range(0x110000) if iswctype(code, handle))


# --- Lines beyond ASCII in a UTF-8 locale ---------------------------------------
#
# A rule of ASCII (nearly every rule) can tell two characters beyond ASCII
# apart only by the classes they belong to: `.` and `[^x]` take any
# character, `[[:alpha:]]`, `\w` and the other classes the locale's.  So such
# a line is matched in a transcription: each character beyond ASCII becomes
# one byte (0x80 and up) that stands for its set of classes (a locale has a
# handful of such sets: C.UTF-8 eight), each byte that is not UTF-8 becomes
# INVALID, which nothing but itself matches, and the rules are written with
# classes that hold those bytes (ere.write_bytes with these classes).

INVALID = 0xFF


class Transcription:
    """The class sets of one UTF-8 locale, and the transcription of lines."""

    def __init__(self, locale_name_):
        runs = {name: locale_class(name, locale_name_) for name in CLASSES}
        edges = {0x80, 0x110000}
        for name in CLASSES:
            for first, last in runs[name]:
                edges.update((first, last + 1))
        edges = sorted(edge for edge in edges if 0x80 <= edge <= 0x110000)
        self._starts = edges[:-1]
        self._bytes = []
        signatures = {}
        for start in self._starts:
            signature = frozenset(name for name in CLASSES if _in_runs(runs[name], start))
            if signature not in signatures:
                if len(signatures) >= INVALID - 0x80:
                    raise ValueError("the locale has too many kinds of characters")
                signatures[signature] = 0x80 + len(signatures)
            self._bytes.append(signatures[signature])
        # Each class over the bytes of a transcribed line.
        self.classes = {}
        for name in CLASSES:
            members = [code for first, last in C_CLASSES[name] for code in range(first, last + 1)
                       if code < 0x80]
            members += [code for signature, code in signatures.items() if name in signature]
            self.classes[name] = _ranges(sorted(members))
        word = {code for first, last in self.classes["alnum"] for code in range(first, last + 1)}
        self.classes[WORD] = _ranges(sorted(word | {0x5F}))
        self._table = _TranscriptionTable(self)

    def byte(self, code):
        """The byte standing for character `code` beyond ASCII."""
        if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8 (surrogateescape)
            return INVALID
        low, high = 0, len(self._starts)
        while high - low > 1:
            middle = (low + high) // 2
            if self._starts[middle] <= code:
                low = middle
            else:
                high = middle
        return self._bytes[low]

    def transcribe(self, line):
        """A line (bytes) in the transcription; ASCII stays as it is."""
        return line.decode("utf-8", "surrogateescape").translate(self._table).encode("latin-1")


class _TranscriptionTable(dict):
    """str.translate()'s table: ASCII maps to itself, the rest on demand."""

    def __init__(self, transcription):
        super().__init__()
        self._transcription = transcription

    def __missing__(self, code):
        value = code if code < 0x80 else self._transcription.byte(code)
        self[code] = value
        return value


def _in_runs(runs, code):
    low, high = 0, len(runs)
    while low < high:
        middle = (low + high) // 2
        first, last = runs[middle]
        if code < first:
            high = middle
        elif code > last:
            low = middle + 1
        else:
            return True
    return False


@functools.lru_cache(maxsize=None)
def transcription(locale_name_):
    return Transcription(locale_name_)
