"""Where the new lines come from: log files read from a cursor, and the journal.

Cursors are logtail2's offset files (`$STATEDIR/offset.var.log.syslog` holding
"inode\\noffset\\n"), so a host can switch between logcheck and logsieve.  A
source reads without moving its cursor; `commit()` moves it, and the caller
does that only once the report was delivered.
"""

import glob
import os
import subprocess
from dataclasses import dataclass

CHUNK_SIZE = 1 << 20

# Lines logtail2 prints when a file shrank under the same inode.
TRUNCATION_WARNING = (
    b"***************\n"
    b"*** WARNING ***: Log file %s is smaller than last time checked!\n"
    b"*************** This could indicate tampering.\n"
)

JOURNAL_FIRST_RUN = (
    "This is the first time logcheck has checked the systemd journal.\n"
    "Only recent entries (from the last 5 hours) will be checked\n"
    "If you do not wish to check the systemd journal, please see "
    "/etc/logcheck/logcheck.logfiles.d/journal.logfiles\n"
)


class SourceError(Exception):
    pass


def write_atomically(path, data, mode=0o600):
    """Replace `path` by `data` so that a crash leaves the old or the new file."""
    directory = os.path.dirname(path) or "."
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


def offset_path(statedir, logfile):
    """logcheck's offset file name: '/var/log/syslog' -> 'offset.var.log.syslog'."""
    return os.path.join(statedir, "offset" + logfile.replace("/", "."))


@dataclass
class Cursor:
    inode: int = 0
    offset: int = 0

    @classmethod
    def load(cls, path):
        """Read a logtail2 offset file; a missing or unreadable one is no cursor."""
        try:
            with open(path, "rb") as handle:
                lines = handle.read().split(b"\n")
        except FileNotFoundError:
            return cls()
        try:
            inode = int(lines[0]) if lines and lines[0].strip() else 0
            offset = int(lines[1]) if len(lines) > 1 and lines[1].strip() else 0
        except ValueError:
            raise SourceError(f"{path}: not an offset file (expected inode and offset)") from None
        return cls(inode, offset)

    def save(self, path):
        write_atomically(path, b"%d\n%d\n" % (self.inode, self.offset))


def _read_from(path, offset, opener=open):
    """Yield the bytes of `path` from `offset` on, in chunks."""
    with opener(path, "rb") as handle:
        if offset:
            handle.seek(offset)
        while True:
            chunk = handle.read(CHUNK_SIZE)
            if not chunk:
                return
            yield chunk


def rotated_file(logfile, inode):
    """The file `logfile` was rotated to, as logtail2 finds it (savelog's .0,
    logrotate's .1, dateext's newest -YYYYMMDD), if it still has `inode`."""
    candidates = []
    zero, one_gz = logfile + ".0", logfile + ".1.gz"
    if os.path.exists(zero) and os.path.exists(one_gz) and \
            os.stat(zero).st_mtime > os.stat(one_gz).st_mtime:
        candidates.append(zero)
    elif os.path.exists(logfile + ".1"):
        candidates.append(logfile + ".1")
    else:
        dated = sorted(glob.glob(glob.escape(logfile) + "-[0-9]" * 8))
        if dated:
            candidates.append(dated[-1])
    for candidate in candidates:
        try:
            if os.stat(candidate).st_ino == inode:
                return candidate
        except OSError:
            pass
    return None


class FileSource:
    """New lines of one log file since its logtail2 cursor."""

    def __init__(self, logfile, statedir):
        self.logfile = logfile
        self.name = os.path.basename(logfile)
        self.offset_file = offset_path(statedir, logfile)
        self._next_cursor = None

    def chunks(self):
        try:
            status = os.stat(self.logfile)
        except OSError as error:
            raise SourceError(f"File {self.logfile} cannot be read: {error.strerror}") from None
        if not os.access(self.logfile, os.R_OK):
            raise SourceError(f"File {self.logfile} cannot be read: Permission denied")
        cursor = Cursor.load(self.offset_file)
        offset = cursor.offset
        if cursor.inode == status.st_ino:
            if offset == status.st_size:
                self._next_cursor = Cursor(status.st_ino, offset)
                return
            if offset > status.st_size:
                offset = 0
                yield TRUNCATION_WARNING % os.fsencode(self.logfile)
        else:
            rotated = rotated_file(self.logfile, cursor.inode) if cursor.inode else None
            if rotated:
                yield from _read_from(rotated, cursor.offset)
            offset = 0
        size = offset
        for chunk in _read_from(self.logfile, offset):
            size += len(chunk)
            yield chunk
        self._next_cursor = Cursor(status.st_ino, size)

    def commit(self):
        if self._next_cursor is not None:
            self._next_cursor.save(self.offset_file)


class JournalSource:
    """New journal entries since the journal's own cursor.

    logcheck 1.4 reads from the offset file's modification time, which can
    skip or repeat entries within a second; logsieve stores the journal cursor
    in that same file (logcheck only looks at its time stamp).
    """

    name = "journal"

    def __init__(self, statedir, journalctl="journalctl"):
        self.offset_file = os.path.join(statedir, "offset.journal")
        self.journalctl = journalctl
        self.first_run = False
        self._next_cursor = None

    def _since_arguments(self):
        try:
            with open(self.offset_file, "rb") as handle:
                saved = handle.read().strip()
        except FileNotFoundError:
            self.first_run = True
            return ["--since=-5h"]
        if saved.startswith(b"s="):
            return ["--after-cursor=" + saved.decode("ascii", "replace")]
        return ["--since=@%d" % int(os.stat(self.offset_file).st_mtime)]

    def chunks(self):
        command = [self.journalctl, "--quiet", "--no-pager", "--show-cursor"] + self._since_arguments()
        try:
            completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       check=False)
        except OSError as error:
            raise SourceError(f"Could not run journalctl: {error.strerror}") from None
        if completed.returncode != 0:
            raise SourceError("Could not run journalctl: "
                              + completed.stderr.decode("utf-8", "replace").strip())
        output = completed.stdout
        marker = output.rfind(b"-- cursor: ")
        if marker >= 0 and (marker == 0 or output[marker - 1:marker] == b"\n"):
            self._next_cursor = output[marker + len(b"-- cursor: "):].strip()
            output = output[:marker]
        if output:
            yield output

    def commit(self):
        if self._next_cursor:
            write_atomically(self.offset_file, self._next_cursor + b"\n")
        elif not os.path.exists(self.offset_file):
            write_atomically(self.offset_file, b"")


def split_lines(chunks):
    """Lines (without newline) of a stream of byte chunks; a last line without
    a final newline is still a line, as sort(1) reads it."""
    pending = b""
    for chunk in chunks:
        if pending:
            chunk = pending + chunk
        lines = chunk.split(b"\n")
        pending = lines.pop()
        yield from lines
    if pending:
        yield pending
