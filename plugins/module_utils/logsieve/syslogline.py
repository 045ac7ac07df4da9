"""A syslog line's header: time stamp, host, program, process id, message.

The grouped report and its JSON need the parts of a line that logcheck never
looks at: when it was written, by which host and program.  Both time stamp
forms are read (classic `Nov 21 07:44:38`, RFC 3339 as Debian 12's rsyslog
writes); a line without a recognisable header (a multi-line continuation, a
kernel line without a program) keeps what could be read and the rest is its
message, so it is still shown.  (Python's `re` on our own patterns and data,
never on rules.)
"""

import datetime
import re
from collections import namedtuple

_HEADER_PATTERN = (
    rb"(?P<stamp>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}"
    rb"|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9]{2}:?[0-9]{2})?)"
    rb" (?P<host>[^ \n]+)"  # no part goes past its line (a header without a message)
    rb"(?: (?P<program>[^ \[:\n]+(?:\([^ )\n]*\))?)(?:\[(?P<pid>[0-9]+)\])?:(?= |$))? ?")
_HEADER = re.compile(_HEADER_PATTERN)
# Every line of a block: its header's parts but the pid (b"" where missing),
# then its message.  (A group less to capture: one object less per line.)
_LINES = re.compile(rb"^(?:" + _HEADER_PATTERN.replace(rb"(?P<pid>[0-9]+)", rb"[0-9]+")
                    + rb")?([^\n]*)", re.M)

MONTHS = {name: number for number, name in enumerate(
    (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct",
     b"Nov", b"Dec"), start=1)}

Header = namedtuple("Header", "stamp host program pid message")


def parse(line):
    """The Header of a line (bytes); fields it does not have are None."""
    match = _HEADER.match(line)
    if match is None:
        return Header(None, None, None, None, line)
    stamp, host, program, pid = match.group("stamp", "host", "program", "pid")
    return Header(stamp, host, program, pid, line[match.end():])


def parse_block(text):
    """(stamp, host, program, message) of every line of a block (lines
    joined by newlines, a final newline or not), b"" for missing fields."""
    if text.endswith(b"\n"):
        text = text[:-1]
    return _LINES.findall(text)


def time_key(stamp):
    """A key that orders time stamps in time: classic stamps by month, day and
    time (they have no year), RFC 3339 ones after them by their text; None
    (no stamp) last."""
    if stamp is None:
        return (2,)
    if stamp[:1].isdigit():
        return (1, stamp)
    return (0, MONTHS.get(stamp[:3], 0), stamp[4:])  # a space-padded day sorts right


def time_bounds(stamps):
    """(earliest, latest) of time stamps (bytes; empty ones are skipped) in
    time_key's order, the first of equal ones; None when all are empty.
    The native module's time_bounds() is its twin."""
    if b"" in stamps:
        stamps = list(filter(None, stamps))
    if not stamps:
        return None
    earliest, latest = min(stamps), max(stamps)
    if earliest[:3] != latest[:3]:
        # Not all of one month (or all RFC 3339, whose text is in time
        # order): every stamp between two that share a prefix shares it,
        # so within one the text's order is time's.
        earliest, latest = min(stamps, key=time_key), max(stamps, key=time_key)
    return earliest, latest


def iso_time(stamp, year=None):
    """ISO 8601 text for a time stamp, or None when it cannot be read.  A
    classic stamp has no year: the current year is assumed (as syslog does)."""
    if stamp is None:
        return None
    if stamp[:1].isdigit():
        text = stamp.decode("ascii")
        try:
            return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
        except ValueError:
            return text
    month = MONTHS.get(stamp[:3])
    if month is None:
        return None
    year = year or datetime.date.today().year
    try:
        day = int(stamp[4:6])
        hour, minute, second = (int(part) for part in stamp[7:15].split(b":"))
        return datetime.datetime(year, month, day, hour, minute, second).isoformat()
    except ValueError:
        return None
