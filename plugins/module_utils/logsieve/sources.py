"""Where the new lines come from: log files read from a cursor, and the journal.

A source reads without moving its cursor (see cursor.py); `commit()` moves it,
and the caller does that only once the report was delivered.

Rotation: when the file under the log's name is no longer the one the cursor
points into (another inode, or the same inode with other first bytes: a
reused inode, or copytruncate), the rotated copies are searched (savelog's
.0, logrotate's .1, .2.gz ..., dateext's -YYYYMMDD[.gz]) for the file the
cursor points into: same inode and same first bytes (create), or same first
bytes (a copy: copytruncate, compressed).  Its rest is read from the cursor's
offset, then any newer rotated copy whole, then the new file.
"""

import dataclasses
import gzip
import os
import subprocess
import tempfile
import time

from .cursor import Cursor, CursorError, offset_path, write_atomically
from .errors import CommandError, LogsieveError

CHUNK_SIZE = 1 << 20

# Lines logtail2 prints when a file shrank under the same inode.
TRUNCATION_WARNING = (
    b"***************\n"
    b"*** WARNING ***: Log file %s is smaller than last time checked!\n"
    b"*************** This could indicate tampering.\n"
)

# logsieve's warning when the cursor's file was rotated away and no rotated
# copy holds it any more: lines written before the rotation may be missing.
ROTATED_MISSING_WARNING = (
    b"***************\n"
    b"*** WARNING ***: Log file %s was rotated and the rotated file was not found!\n"
    b"*************** Lines written before the rotation may be missing.\n"
)

JOURNAL_FIRST_RUN = (
    "This is the first time logcheck has checked the systemd journal.\n"
    "Only recent entries (from the last 5 hours) will be checked\n"
    "If you do not wish to check the systemd journal, please see "
    "/etc/logcheck/logcheck.logfiles.d/journal.logfiles\n"
)


class SourceError(LogsieveError):
    pass


def _digits(text):
    return bool(text) and all(char in "0123456789" for char in text)


def rotated_generations(logfile):
    """The rotated copies of `logfile`, per naming scheme, newest first.

    Numbered (savelog's .0, logrotate's .1, .2.gz, ...) and dated (logrotate's
    dateext -YYYYMMDD, -YYYYMMDD.gz).  Each generation is a list of paths: the
    plain file, then its .gz (both exist while gzip is running).
    """
    directory = os.path.dirname(logfile) or "."
    base = os.path.basename(logfile)
    numbered, dated = {}, {}
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    for name in names:
        if not name.startswith(base) or name == base:
            continue
        rest = name[len(base):]
        if rest.endswith(".gz"):
            rest = rest[:-3]
        path = os.path.join(directory, name)
        if rest.startswith(".") and _digits(rest[1:]):
            numbered.setdefault(int(rest[1:]), []).append(path)
        elif rest.startswith("-") and len(rest) == 9 and _digits(rest[1:]):
            dated.setdefault(rest[1:], []).append(path)
    schemes = [[sorted(numbered[index], key=len) for index in sorted(numbered)],
               [sorted(dated[day], key=len) for day in sorted(dated, reverse=True)]]
    return [scheme for scheme in schemes if scheme]


def _open_log(path):
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def _is_cursor_file(path, cursor, by_inode):
    """Whether `path` is the file `cursor` points into.

    by_inode: the same inode, and the same beginning when the cursor has a
    fingerprint (a file renamed by `create` rotation).  Otherwise the
    fingerprint alone (a copy: copytruncate, or gzip after rotation).
    """
    compressed = path.endswith(".gz")
    try:
        if by_inode:
            if compressed and not cursor.fingerprint:
                return False   # logtail2's cursor: plain files only, as logtail2
            if os.stat(path).st_ino != cursor.inode:
                return False
        elif not cursor.fingerprint:
            return False
        with _open_log(path) as handle:
            return cursor.content_matches(handle) is not False
    except OSError:
        return False


def unread_rotated(logfile, cursor):
    """(path, offset) pairs to read before the live file after a rotation: the
    rotated file the cursor points into, from the cursor's offset, then the
    newer rotated files (several rotations since the last delivery) whole."""
    schemes = rotated_generations(logfile)
    for by_inode in (True, False):
        for scheme in schemes:
            for position, generation in enumerate(scheme):
                for path in generation:
                    if _is_cursor_file(path, cursor, by_inode):
                        found = os.stat(path).st_mtime
                        newer = [candidates[0] for candidates in reversed(scheme[:position])
                                 if os.stat(candidates[0]).st_mtime >= found]
                        return [(path, cursor.offset)] + [(other, 0) for other in newer]
    return []


def rotated_since(logfile, mtime_ns):
    """(path, 0) pairs, oldest first, of the rotated copies modified after
    `mtime_ns`: what was written to a file that was empty at that time."""
    parts = []
    for scheme in rotated_generations(logfile):
        for generation in reversed(scheme):
            try:
                if os.stat(generation[0]).st_mtime_ns > mtime_ns:
                    parts.append((generation[0], 0))
            except OSError:
                pass
    return parts


def _read_from(handle, offset):
    """Yield the bytes of an open file from `offset` on, in chunks."""
    handle.seek(offset)
    while True:
        chunk = handle.read(CHUNK_SIZE)
        if not chunk:
            return
        yield chunk


def _read_rotated(parts):
    """The unread parts of rotated files; each ends with a newline so that its
    last line is not glued to the next file's first."""
    for path, offset in parts:
        last = b"\n"
        try:
            with _open_log(path) as handle:
                for chunk in _read_from(handle, offset):
                    last = chunk[-1:]
                    yield chunk
        except (OSError, EOFError) as error:
            raise SourceError(f"Rotated file {path} cannot be read: {error}") from None
        if last != b"\n":
            yield b"\n"


class FileSource:
    """New lines of one log file since its cursor, rotation aware."""

    def __init__(self, logfile, statedir, pin_new=False):
        self.logfile = logfile
        self.name = os.path.basename(logfile)
        self.offset_file = offset_path(statedir, logfile)
        self.pin_new = pin_new
        self._next_cursor = None

    def chunks(self):
        try:
            cursor = Cursor.load(self.offset_file)
        except CursorError as error:
            raise SourceError(str(error)) from None
        try:
            handle = open(self.logfile, "rb")
        except OSError as error:
            raise SourceError(f"File {self.logfile} cannot be read: {error.strerror}") from None
        with handle:
            # inode and size of the file opened, not of whatever the name points to later
            status = os.fstat(handle.fileno())
            if not cursor.inode and self.pin_new:
                # First sight of this file: record which file it is, at offset 0
                # (nothing is skipped by that), so that if this delivery fails
                # and the file is rotated, the next run finds it.
                try:
                    Cursor.for_file(handle, 0, status.st_size).save(self.offset_file)
                except OSError as error:
                    raise SourceError(f"cannot write the cursor {self.offset_file}: "
                                      f"{error.strerror}") from None
            offset = cursor.offset
            same_file = (cursor.inode == status.st_ino
                         and cursor.content_matches(handle) is not False)
            if cursor.inode and cursor.empty_since is not None:
                # Empty when last read: whatever was rotated since, then the file.
                yield from _read_rotated(rotated_since(self.logfile, cursor.empty_since))
                offset = 0
            elif same_file and offset > status.st_size:
                yield TRUNCATION_WARNING % os.fsencode(self.logfile)
                offset = 0
            elif not same_file:
                offset = 0
                if cursor.inode:
                    parts = unread_rotated(self.logfile, cursor)
                    if parts:
                        yield from _read_rotated(parts)
                    elif cursor.inode == status.st_ino and cursor.offset > status.st_size:
                        # shrunk in place, and no copy of it anywhere: logtail2's case
                        yield TRUNCATION_WARNING % os.fsencode(self.logfile)
                    elif cursor.offset:
                        yield ROTATED_MISSING_WARNING % os.fsencode(self.logfile)
            end = offset
            for chunk in _read_from(handle, offset):
                end += len(chunk)
                yield chunk
            self._next_cursor = Cursor.for_file(handle, end)

    def hold_back(self, length):
        """Leave the last `length` bytes read (a line still being written, at
        the end of the live file) to be read again next time."""
        if self._next_cursor is not None and length:
            self._next_cursor = dataclasses.replace(
                self._next_cursor, offset=self._next_cursor.offset - length)

    def commit(self):
        if self._next_cursor is not None:
            self._next_cursor.save(self.offset_file)


class JournalSource:
    """New journal entries since the journal's own cursor.

    logcheck 1.4 reads from the offset file's modification time, which can
    skip or repeat entries within a second.  logsieve asks journalctl for the
    cursor of the last entry it printed (--show-cursor) and stores it in that
    same file, `$STATEDIR/offset.journal`; the next run starts after it
    (--after-cursor).  An offset file left by logcheck (empty: logcheck only
    looks at its time stamp) is read as logcheck does, from its time.
    """

    name = "journal"
    CURSOR_MARKER = b"-- cursor: "

    def __init__(self, statedir, journalctl="journalctl"):
        self.offset_file = os.path.join(statedir, "offset.journal")
        self.journalctl = journalctl
        self.first_run = False
        self.absent = False  # journalctl found no journal at all
        self._saved_cursor = b""
        self._next_cursor = None

    def _since_arguments(self):
        try:
            with open(self.offset_file, "rb") as handle:
                saved = handle.read().strip()
        except FileNotFoundError:
            self.first_run = True
            return ["--since=-5h"]
        except OSError as error:
            raise SourceError(f"{self.offset_file}: {error.strerror}") from None
        if saved.startswith(b"s="):
            self._saved_cursor = saved
            return ["--after-cursor=" + saved.decode("ascii", "replace")]
        return ["--since=@%d" % int(os.stat(self.offset_file).st_mtime)]

    def chunks(self):
        command = [self.journalctl, "--quiet", "--no-pager", "--show-cursor"] + self._since_arguments()
        # stderr goes to a file: a pipe nobody reads while stdout is streamed
        # could fill up and block journalctl.
        errors_file = tempfile.TemporaryFile()
        try:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors_file,
                                       env=dict(os.environ, SYSTEMD_PAGER="", LC_ALL="C.UTF-8"))
        except OSError as error:
            errors_file.close()
            raise SourceError(f"Could not run journalctl: {error.strerror}") from None
        # Stream the output; the last line is the cursor, so hold the last
        # line of every chunk back until the next one arrives.
        held = b""
        printed = False
        try:
            while True:
                chunk = process.stdout.read(CHUNK_SIZE)
                if not chunk:
                    break
                printed = True
                data = held + chunk
                cut = data.rfind(b"\n", 0, len(data) - 1) + 1
                held = data[cut:]
                if cut:
                    yield data[:cut]
        finally:
            process.stdout.close()
            returncode = process.wait()
            errors_file.seek(0)
            errors = errors_file.read(64 << 10)
            errors_file.close()
        if returncode != 0:
            if not printed and not errors.strip():
                # `journalctl --quiet` exits 1 without a word when there is
                # no journal at all (a container, a chroot): nothing to read.
                self.absent = True
                self._next_cursor = self._saved_cursor
                return
            raise CommandError(command, returncode, errors)
        if held.startswith(self.CURSOR_MARKER):
            self._next_cursor = held[len(self.CURSOR_MARKER):].strip()
        elif held:
            yield held
        if self._next_cursor is None:
            # No new entry: keep the cursor (and refresh the time logcheck reads).
            self._next_cursor = self._saved_cursor

    def commit(self):
        if self._next_cursor is not None:
            write_atomically(self.offset_file,
                             self._next_cursor + b"\n" if self._next_cursor else b"")


# Files in which Debian's rsyslog and syslog-ng write every message they take
# from the journal.
SYSLOG_CATCH_ALL = ("/var/log/syslog", "/var/log/messages")
FRESH_SECONDS = 24 * 3600


def journal_duplicated_by(entries, read_journal="auto", now=None, catch_all=SYSLOG_CATCH_ALL):
    """The listed file that makes the `journal` entry a duplicate, or None.

    logcheck's default list names both `journal` and /var/log/syslog: on a
    host with rsyslog every message is reported twice.  The rule (setting
    READ_JOURNAL, default auto): the journal is skipped when the same list
    names a syslog daemon's catch-all file (/var/log/syslog or
    /var/log/messages) that was written within the last 24 hours, i.e. a
    syslog daemon is writing the journal's messages into files that are read
    anyway.  If that file goes quiet for a day (the daemon was removed or is
    down), the journal is read again: the rule errs towards reading twice,
    never towards reading nothing.  READ_JOURNAL=yes always reads the
    journal, READ_JOURNAL=no never does.
    """
    if read_journal == "yes":
        return None
    if read_journal == "no":
        return "READ_JOURNAL=no"
    if read_journal != "auto":
        raise SourceError(f"READ_JOURNAL must be auto, yes or no, not {read_journal!r}")
    now = time.time() if now is None else now
    for entry in entries:
        if entry in catch_all:
            try:
                if now - os.stat(entry).st_mtime < FRESH_SECONDS:
                    return entry
            except OSError:
                pass
    return None
