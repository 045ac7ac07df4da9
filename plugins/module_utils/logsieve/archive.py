"""Full reports kept on the host when the mail could only carry a digest.

A report too large to mail (see digest.py) is not lost: it is kept in
`$STATEDIR/reports/`, gzip-compressed, owner-only (the directory 0700, the
files 0600: a report holds whatever the logs held), and the mail names it.
Old ones are pruned at every keep: those older than REPORT_KEEP_DAYS, then
the oldest until all of them together fit in REPORT_KEEP_SIZE.  The report
just kept is never pruned, whatever its size: the mail points to it.

A report is written to a temporary file and renamed into place, so a kept
report is always whole; temporaries of a killed run are removed by the next
(under the run lock).
"""

import errno
import gzip
import os
import stat
import tempfile
import time

from .cursor import TEMPORARY_PREFIX, remove_stale_temporaries
from .errors import LogsieveError

DIRECTORY = "reports"
PREFIX = "report-"
SUFFIX = ".gz"


class ArchiveError(LogsieveError):
    pass


def reports_directory(statedir):
    """$STATEDIR/reports, created owner-only; refused when it is a link or
    someone else's (nothing is ever written through a planted path)."""
    path = os.path.join(statedir, DIRECTORY)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as error:
        raise ArchiveError(f"cannot create {path} for the full report: {error.strerror}") \
            from None
    status = os.lstat(path)
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.geteuid():
        raise ArchiveError(f"{path} is not a directory owned by this user; refusing to keep "
                           f"the full report there")
    if stat.S_IMODE(status.st_mode) & 0o077:
        os.chmod(path, 0o700)
    return path


def keep(report, statedir, keep_days, keep_bytes):
    """Compress the report (an open binary file) into the reports directory;
    return the kept file's absolute path.  Prunes older reports."""
    directory = reports_directory(statedir)
    remove_stale_temporaries(directory)
    name = PREFIX + time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}{SUFFIX}"
    path = os.path.abspath(os.path.join(directory, name))
    descriptor, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            with gzip.GzipFile(filename=name[:-len(SUFFIX)], fileobj=handle, mode="wb",
                               compresslevel=6) as packer:
                report.seek(0)
                for block in iter(lambda: report.read(1 << 20), b""):
                    packer.write(block)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise ArchiveError(f"cannot keep the full report in {directory}: "
                           f"{error.strerror or error}") from None
    prune(directory, keep_days, keep_bytes, spare=path)
    return path


def kept_reports(directory):
    """(modification time, size, path) of the kept reports, oldest first."""
    found = []
    for name in os.listdir(directory):
        if name.startswith(PREFIX) and name.endswith(SUFFIX):
            path = os.path.join(directory, name)
            try:
                status = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(status.st_mode):
                found.append((status.st_mtime, status.st_size, path))
    return sorted(found)


def prune(directory, keep_days, keep_bytes, spare=None, now=None):
    """Remove kept reports older than `keep_days`, then the oldest until the
    rest fit in `keep_bytes`; never `spare`.  Returns the paths removed."""
    now = time.time() if now is None else now
    reports = kept_reports(directory)
    removed = []
    total = sum(report[1] for report in reports)
    for mtime, size, path in reports:
        if path == spare:
            continue
        if now - mtime > keep_days * 86400 or total > keep_bytes:
            try:
                os.unlink(path)
            except OSError as error:
                if error.errno != errno.ENOENT:
                    continue
            total -= size
            removed.append(path)
    return removed
