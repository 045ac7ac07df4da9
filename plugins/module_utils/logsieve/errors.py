"""The one exception root of logsieve.

Every error logsieve reports to its user (a bad rule, an unreadable log, a
failed delivery, ...) is a ``LogsieveError``: the command line catches this one
class and prints its message; callers of the engine (the Ansible module, the
tests) can do the same.  Each module keeps its own subclass, so that a caller
that cares can still tell a rule error from a delivery error.

This module imports nothing of logsieve's: every other module may import it.
"""


class LogsieveError(Exception):
    """Something logsieve cannot do, said in words fit for the administrator."""
