"""One run at a time.

The lock is an flock(2) on a file in LOCKDIR: the kernel releases it when the
holder exits, however it exits, so a lock left by a killed run is never stale.
The holder's process id is written into the file for the error message.
"""

import errno
import fcntl
import os


class LockError(Exception):
    pass


class RunLock:
    def __init__(self, directory, name="logsieve.lock"):
        self.path = os.path.join(directory, name)
        self._fd = None

    def acquire(self):
        directory = os.path.dirname(self.path)
        try:
            os.makedirs(directory, mode=0o755, exist_ok=True)
            # O_NOFOLLOW: a link planted in a shared directory cannot redirect us.
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as error:
            raise LockError(f"cannot open lock file {self.path}: {error.strerror}") from None
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
