"""daemontools multilog directories, read as one syslog-shaped log.

multilog writes a service's log into a directory: `current`, and, when
`current` is full, renames it to `@<tai64n>.s` (`.u` when it was not
completely written) and starts a new `current`.  Each line starts with a
TAI64N label (`@` and 24 hex digits) and a space.  This adapter sits at the
edge, beside sources.FileSource: it yields the directory's new lines as
syslog lines, `TIME HOST SERVICE: MESSAGE`, so that the rule macros, the
engine and the report need nothing new.

* Order: rotated files oldest first (their names sort in time order), then
  `current`.
* Cursor: the offset file of the directory (cursor.offset_path) holds
  logtail2's inode and offset of the file last read, its fingerprint, and the
  name of the newest rotated file read whole.  When multilog renames
  `current`, the renamed file keeps its inode and first bytes and is found
  among the rotated ones; the rest of it is read from the offset, then every
  newer rotated file, then the new `current`.  A line still being written
  (no newline yet) is left for the next run.
* Time: a TAI64N label is seconds since 1970 in TAI plus 2^62; daemontools
  counts TAI as UNIX time + 10 s (as tai64nlocal does without a leap-second
  table).  The time is written in the form the host's syslog uses
  (MULTILOG_STAMP: `rfc3339`, Debian 12's rsyslog, or `classic`).
* Damaged lines: a line without a valid label is not dropped: it becomes
  `SERVICE: multilog line without a valid TAI64N label in FILE: LINE`, with
  the time of the line before it, which no routine rule ignores.
"""

import os
import socket
import time

from .cursor import Cursor, CursorError, offset_path, write_atomically
from .sources import ROTATED_MISSING_WARNING, SourceError

CURRENT = "current"
LABEL_LENGTH = 25  # '@' and 24 hex digits
TAI64_EPOCH = 1 << 62
TAI_MINUS_UNIX = 10
LABEL_LINE = b"multilog-label:"


class MultilogError(SourceError):
    """A multilog directory that cannot be read (watch waits for it)."""


def is_multilog_dir(path):
    """Whether `path` is a multilog directory: a directory with `current`."""
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, CURRENT))


def service_name(directory):
    """The service a multilog directory logs for: `/etc/service/dnscache/log/main`
    and `/etc/service/dnscache/log` give `dnscache`, `/var/log/dnscache` too."""
    parts = [part for part in os.path.abspath(directory).split(os.sep) if part]
    if len(parts) >= 3 and parts[-2] == "log" and parts[-1] == "main":
        return parts[-3]
    if len(parts) >= 2 and parts[-1] == "log":
        return parts[-2]
    return parts[-1] if parts else "multilog"


def is_rotated_name(name):
    """`@` + 24 hex digits + `.s` or `.u`: a file multilog rotated."""
    return (len(name) == LABEL_LENGTH + 2 and name[0] == "@" and name[-2:] in (".s", ".u")
            and all(char in "0123456789abcdefABCDEF" for char in name[1:LABEL_LENGTH]))


def rotated_files(directory):
    """The rotated files' names, oldest first (their labels sort in time order)."""
    try:
        names = os.listdir(directory)
    except OSError as error:
        raise MultilogError(f"{directory}: cannot list the multilog directory: "
                            f"{error.strerror}") from None
    return sorted((name for name in names if is_rotated_name(name)), key=str.lower)


def label_time(label):
    """The UNIX time (float) of a TAI64N label `@` + 24 hex digits, or None
    when the label is not one."""
    if len(label) != LABEL_LENGTH or label[:1] != b"@":
        return None
    try:
        seconds = int(label[1:17], 16)
        nanoseconds = int(label[17:25], 16)
    except ValueError:
        return None
    if seconds < TAI64_EPOCH or nanoseconds >= 1_000_000_000 or b" " in label or b"+" in label:
        return None
    return seconds - TAI64_EPOCH - TAI_MINUS_UNIX + nanoseconds / 1e9


def format_stamp(when, form="rfc3339"):
    """A time as the host's syslog writes it, in local time."""
    local = time.localtime(when)
    if form == "classic":
        return time.strftime("%b %e %H:%M:%S", local).encode("ascii")
    offset = time.strftime("%z", local)
    micro = int(round((when - int(when)) * 1e6))
    if micro == 1_000_000:
        micro = 999_999
    return ("%s.%06d%s:%s" % (time.strftime("%Y-%m-%dT%H:%M:%S", local), micro,
                              offset[:3], offset[3:])).encode("ascii")


class SyslogShape:
    """Turns multilog lines of one service into syslog lines."""

    def __init__(self, service, host, form="rfc3339"):
        """form: MULTILOG_STAMP, `rfc3339` or `classic` (config.Settings checks it)."""
        self.prefix = b" " + host.encode() + b" " + os.fsencode(service) + b": "
        self.form = form
        self.last_time = None

    def line(self, raw, path):
        """The syslog line for one multilog line (without its newline)."""
        when = label_time(raw[:LABEL_LENGTH]) if raw[LABEL_LENGTH:LABEL_LENGTH + 1] == b" " \
            else None
        if when is None:
            if self.last_time is None:
                try:
                    self.last_time = os.stat(path).st_mtime
                except OSError:
                    self.last_time = time.time()
            return (format_stamp(self.last_time, self.form) + self.prefix
                    + b"multilog line without a valid TAI64N label in "
                    + os.fsencode(path) + b": " + raw)
        self.last_time = when
        return format_stamp(when, self.form) + self.prefix + raw[LABEL_LENGTH + 1:]

    def text(self, data, path):
        """Syslog lines for whole multilog lines (`data` ends with a newline)."""
        return b"".join(self.line(raw, path) + b"\n" for raw in data[:-1].split(b"\n")) \
            if data else b""


def _lines_from(handle, offset, whole_only):
    """(data ending in a newline, end offset) for an open file from `offset`
    (multilog's files are small: 99999 bytes by default).  With `whole_only`
    (the `current` file) a last line without its newline is left for later;
    a rotated `.u` file's unfinished last line is read as a line."""
    handle.seek(offset)
    data = handle.read()
    if whole_only:
        data = data[:data.rfind(b"\n") + 1]
    elif data and not data.endswith(b"\n"):
        return data + b"\n", offset + len(data)
    return data, offset + len(data)


class MultilogSource:
    """New lines of a multilog directory since its cursor, as syslog lines."""

    def __init__(self, directory, statedir, host=None, form="rfc3339"):
        self.directory = directory.rstrip("/") or "/"
        self.name = os.path.basename(self.directory)
        self.offset_file = offset_path(statedir, self.directory)
        self.shape = SyslogShape(service_name(self.directory),
                                 host or socket.gethostname().split(".")[0], form)
        self._next = None

    def _load(self):
        """(Cursor, newest rotated name read) from the offset file."""
        try:
            cursor = Cursor.load(self.offset_file)
            with open(self.offset_file, "rb") as handle:
                lines = handle.read().split(b"\n")
        except FileNotFoundError:
            return Cursor(), ""
        except (CursorError, OSError) as error:
            raise MultilogError(str(error)) from None
        label = next((line[len(LABEL_LINE):].decode("ascii", "replace") for line in lines
                      if line.startswith(LABEL_LINE)), "")
        return cursor, label

    def _points_into(self, path, cursor):
        try:
            with open(path, "rb") as handle:
                return (os.fstat(handle.fileno()).st_ino == cursor.inode
                        and cursor.content_matches(handle) is not False)
        except OSError:
            return False

    def plan(self):
        """[(path, offset)] to read, oldest first; the last is `current`."""
        cursor, label = self._load()
        rotated = rotated_files(self.directory)
        current = os.path.join(self.directory, CURRENT)
        if cursor.inode and self._points_into(current, cursor):
            return [(os.path.join(self.directory, name), 0) for name in rotated
                    if name.lower() > label.lower()] + [(current, cursor.offset)], False
        if cursor.inode:
            for position, name in enumerate(rotated):
                path = os.path.join(self.directory, name)
                if self._points_into(path, cursor):
                    return ([(path, cursor.offset)]
                            + [(os.path.join(self.directory, newer), 0)
                               for newer in rotated[position + 1:]]
                            + [(current, 0)]), False
        newer = [(os.path.join(self.directory, name), 0) for name in rotated
                 if name.lower() > label.lower()]
        # A cursor whose file is gone: lines before the rotation may be missing.
        return newer + [(current, 0)], bool(cursor.inode and cursor.offset)

    def chunks(self):
        parts, missing = self.plan()
        if missing:
            yield ROTATED_MISSING_WARNING % os.fsencode(self.directory)
        newest = ""
        for path, offset in parts:
            try:
                handle = open(path, "rb")
            except FileNotFoundError:
                if path.endswith(CURRENT):
                    raise MultilogError(f"{path} does not exist") from None
                continue  # deleted by multilog meanwhile
            except OSError as error:
                raise MultilogError(f"{path} cannot be read: {error.strerror}") from None
            with handle:
                is_current = os.path.basename(path) == CURRENT
                data, end = _lines_from(handle, offset, whole_only=is_current)
                yield self.shape.text(data, path)
                if is_current:
                    self._next = (Cursor.for_file(handle, end), newest)
                else:
                    newest = os.path.basename(path)

    def commit(self):
        if self._next is None:
            return
        cursor, newest = self._next
        if not newest:
            newest = self._load()[1]
        write_atomically(self.offset_file, cursor.to_bytes()
                         + LABEL_LINE + newest.encode("ascii") + b"\n")


__all__ = ["MultilogError", "MultilogSource", "SyslogShape", "format_stamp", "is_multilog_dir",
           "label_time", "service_name"]
