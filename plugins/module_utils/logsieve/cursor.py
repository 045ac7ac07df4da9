"""Cursors: where the last delivered report stopped reading a log file.

A cursor is logtail2's offset file (`$STATEDIR/offset.var.log.syslog`):

    inode\\n
    offset\\n
    sha256:LENGTH:HEX\\n      (logsieve's optional third line)
 or empty:MTIME_NS\\n         (the same, for a file that was empty)

logtail2 reads only the first two lines, so logcheck and logsieve can take
turns on the same files.  The third line is a fingerprint of the file's first
LENGTH bytes: with it a rotated file is recognised by inode *and* content,
so a reused inode or a copy (copytruncate, gzip) cannot fool the cursor.  An
empty file has no content to recognise; its cursor records the file's
modification time instead, and any rotated copy modified later holds lines
written since.  A cursor written by logtail2 has no third line; logsieve
then trusts the inode alone, as logtail2 does.

Writes are atomic: a temporary file in the same directory (created with
O_EXCL, owner-only), fsync, rename, fsync of the directory.  A crash at any
instant leaves either the old cursor or the new one.
"""

import errno
import gzip
import hashlib
import os
import tempfile
from dataclasses import dataclass
from .errors import LogsieveError

# How much of a file's beginning the fingerprint covers.
FINGERPRINT_BYTES = 4096
TEMPORARY_PREFIX = ".logsieve-tmp."


class CursorError(LogsieveError):
    pass


def write_atomically(path, data, mode=0o600):
    """Replace `path` by `data` so that a crash leaves the old or the new file.

    The temporary file gets an unpredictable name and O_EXCL (mkstemp), so a
    file or link planted in the state directory is never written through;
    rename() replaces a link at `path` rather than following it.
    """
    directory = os.path.dirname(path) or "."
    descriptor, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
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
    directory_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


def remove_stale_temporaries(directory):
    """Temporary files left by a run that was killed mid-write (call under the run lock)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith(TEMPORARY_PREFIX):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


def offset_path(statedir, logfile):
    """logcheck's offset file name: '/var/log/syslog' -> 'offset.var.log.syslog'."""
    return os.path.join(statedir, "offset" + logfile.replace("/", "."))


def fingerprint_of(data):
    """The fingerprint line's value for a file beginning with `data`."""
    return "sha256:%d:%s" % (len(data), hashlib.sha256(data).hexdigest())


def read_head(handle, length):
    """The first `length` bytes of an open binary file (plain or gzip)."""
    handle.seek(0)
    data = b""
    while len(data) < length:
        chunk = handle.read(length - len(data))
        if not chunk:
            break
        data += chunk
    return data


@dataclass
class Cursor:
    inode: int = 0
    offset: int = 0
    fingerprint: str = ""      # "" when written by logtail2 or when the file was empty
    empty_since: int = None    # the file's mtime (ns) when it was read empty

    @classmethod
    def load(cls, path):
        """Read an offset file; a missing one is the cursor of a file never read."""
        try:
            # O_NOFOLLOW: a link planted in the state directory is refused.
            with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as handle:
                lines = handle.read().split(b"\n")
        except FileNotFoundError:
            return cls()
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise CursorError(f"{path} is a symbolic link; refusing to use it as a "
                                  f"cursor") from None
            raise CursorError(f"{path}: cannot read the offset file: {error.strerror}") from None
        try:
            inode = int(lines[0]) if lines[0].strip() else 0
            offset = int(lines[1]) if len(lines) > 1 and lines[1].strip() else 0
        except ValueError:
            raise CursorError(f"{path}: not an offset file (expected inode and offset)") from None
        fingerprint, empty_since = "", None
        if len(lines) > 2 and lines[2].startswith(b"sha256:"):
            fingerprint = lines[2].strip().decode("ascii", "replace")
        elif len(lines) > 2 and lines[2].startswith(b"empty:") and lines[2][6:].strip().isdigit():
            empty_since = int(lines[2][6:])
        return cls(inode, offset, fingerprint, empty_since)

    @classmethod
    def for_file(cls, handle, offset, known_size=None):
        """The cursor at `offset` of the open file `handle`: its inode and a
        fingerprint of its beginning, as far as it is known to exist (up to
        `offset`, or `known_size`)."""
        status = os.fstat(handle.fileno())
        length = min(FINGERPRINT_BYTES, max(offset, known_size or 0))
        head = os.pread(handle.fileno(), length, 0) if length else b""
        if head:
            return cls(status.st_ino, offset, fingerprint_of(head))
        return cls(status.st_ino, 0, "", status.st_mtime_ns)

    def to_bytes(self):
        """The offset file's text (other sources append their own lines)."""
        text = b"%d\n%d\n" % (self.inode, self.offset)
        if self.fingerprint:
            text += self.fingerprint.encode("ascii") + b"\n"
        elif self.empty_since is not None:
            text += b"empty:%d\n" % self.empty_since
        return text

    def save(self, path):
        write_atomically(path, self.to_bytes())

    @property
    def fingerprint_length(self):
        try:
            return int(self.fingerprint.split(":")[1])
        except (IndexError, ValueError):
            return 0

    def content_matches(self, handle):
        """True when the open file `handle` (plain or gzip) begins with the
        bytes this cursor's fingerprint covers.  None when there is no
        fingerprint to compare (logtail2's cursor): then only the inode counts."""
        length = self.fingerprint_length
        if not length:
            return None
        try:
            head = read_head(handle, length)
        except (OSError, EOFError, gzip.BadGzipFile):
            return False
        return len(head) == length and fingerprint_of(head) == self.fingerprint
