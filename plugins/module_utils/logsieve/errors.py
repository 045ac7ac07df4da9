"""The one exception root of logsieve.

Every error logsieve reports to its user (a bad rule, an unreadable log, a
failed delivery, ...) is a ``LogsieveError``: the command line catches this one
class and prints its message; callers of the engine (the Ansible module, the
tests) can do the same.  Each module keeps its own subclass, so that a caller
that cares can still tell a rule error from a delivery error.

This module imports nothing of logsieve's: every other module may import it.
"""

import signal


class LogsieveError(Exception):
    """Something logsieve cannot do, said in words fit for the administrator."""


def exit_description(returncode):
    """How a process ended, in words: 'exited with status 75', or 'was killed
    by signal 9 (SIGKILL)' for a negative subprocess return code."""
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        return f"was killed by signal {-returncode} ({name})"
    return f"exited with status {returncode}"


class CommandError(LogsieveError):
    """An external command (journalctl, sort, sendmail) that failed: the
    message names the command as run, how it ended and what it said on its
    standard error, so the administrator need not re-run it to learn why."""

    def __init__(self, argv, returncode, message=b""):
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        message = " ".join(message.split())[:2000]
        self.argv, self.returncode, self.message = list(argv), returncode, message
        command = " ".join(str(argument) for argument in argv)
        super().__init__(f"{command} {exit_description(returncode)}: "
                         + (message or "(it printed no message)"))
