"""One run at a time.

The lock is an flock(2) on a file in LOCKDIR (default /run/lock/logcheck).
The stale-lock rule is the kernel's: a lock belongs to an open file
description, and the kernel releases it when the holder exits, however it
exits (SIGKILL, a crash, the OOM killer).  A lock file left behind is
therefore never a held lock, and nothing has to guess from process ids or
ages whether a holder is still alive.  The holder's process id is written
into the file for the error message only.

The lock file is opened with O_NOFOLLOW and must be a regular file owned by
the user running the check: a link or a file planted by someone else in a
shared lock directory is refused.
"""

import errno
import fcntl
import os
import stat
from .errors import LogsieveError


class LockError(LogsieveError):
    pass


class RunLock:
    def __init__(self, directory, name="logsieve.lock"):
        self.path = os.path.join(directory, name)
        self._fd = None

    def acquire(self):
        directory = os.path.dirname(self.path)
        try:
            os.makedirs(directory, mode=0o755, exist_ok=True)
        except OSError as error:
            raise LockError(f"cannot create the lock directory {directory}: {error.strerror} "
                            f"(create it for the logcheck user, e.g. with tmpfiles.d: "
                            f"'d {directory} 0755 logcheck logcheck')") from None
        try:
            # O_NOFOLLOW: a link planted in a shared directory cannot redirect us.
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as error:
            raise LockError(f"cannot open lock file {self.path}: {error.strerror}") from None
        status = os.fstat(self._fd)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            os.close(self._fd)
            self._fd = None
            raise LockError(f"refusing lock file {self.path}: not a regular file owned by "
                            f"user {os.geteuid()}")
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = self._holder()
            os.close(self._fd)
            self._fd = None
            if error.errno in (errno.EWOULDBLOCK, errno.EACCES):
                raise LockError("another logsieve run is still running"
                                + (f" (process {holder})" if holder else "")
                                + f"; lock {self.path}") from None
            raise LockError(f"cannot lock {self.path}: {error.strerror}") from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, b"%d\n" % os.getpid())
        return self

    def _holder(self):
        try:
            return os.pread(self._fd, 32, 0).decode("ascii", "replace").strip()
        except OSError:
            return ""

    def release(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
