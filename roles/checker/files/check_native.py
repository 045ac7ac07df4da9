"""Check that logsieve's native block matcher loads, and say why when not.

Run on the host with the checker's virtual environment's Python (the checker
role's native mode). Exits 0 when `import logsieve._blockmatch` works.
Otherwise prints one line saying what is wrong and exits 1. The host installs a
wheel built in a build container of its Debian release; it needs only RE2's
runtime library (libre2-9 in Debian 11 and 12, libre2-11 in 13).
"""

import importlib
import sys


def diagnosis():
    """None when the native matcher loads, else what is wrong."""
    try:
        importlib.import_module("logsieve._blockmatch")
        return None
    except ModuleNotFoundError as error:
        reason = "%s: %s" % (type(error).__name__, error)
        if error.name == "logsieve":
            return "logsieve is not installed in %s (%s)" % (sys.prefix, reason)
        if error.name != "logsieve._blockmatch":
            return "logsieve does not load in %s (%s)" % (sys.prefix, reason)
    except ImportError as error:
        # Installed, but it does not load: RE2's runtime library is missing or
        # another release's (a wheel of another Debian release, or an upgrade).
        return ("logsieve's native matcher is installed but does not load, is RE2's runtime "
                "library of this Debian release installed? (%s: %s)" % (type(error).__name__, error))
    return "the installed logsieve wheel has no native matcher (a pure Python wheel)"


def main():
    problem = diagnosis()
    if problem is None:
        print("logsieve._blockmatch loads")
        return 0
    print(problem)
    return 1


if __name__ == "__main__":
    sys.exit(main())
