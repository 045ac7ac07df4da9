"""Check that logsieve's native block matcher loads, and say why when not.

Run on the host with the checker's virtual environment's Python (the checker
role's native mode). Exits 0 when `import logsieve._blockmatch` works.
Otherwise prints one line, naming what is missing, and exits 1: the matcher is
optional when logsieve is built (without it the build succeeds and the checker
falls back to google-re2), so a missing compiler or header shows up here.
"""

import glob
import importlib
import os
import shutil
import sys
import sysconfig

RE2_HEADER_DIRS = ("/usr/include", "/usr/local/include")
RE2_LIBRARY_GLOBS = ("/usr/lib/*/libre2.so", "/usr/lib/libre2.so", "/usr/local/lib/libre2.so")


def missing_build_pieces():
    """What the build of the extension needs and this host lacks."""
    missing = []
    compiler = (sysconfig.get_config_var("CXX") or "g++").split()[0]
    if shutil.which(compiler) is None:
        missing.append("the C++ compiler %s (Debian package g++)" % compiler)
    python_header = os.path.join(sysconfig.get_paths()["include"], "Python.h")
    if not os.path.exists(python_header):
        missing.append(
            "the headers of Python %d.%d, %s (Debian package python3-dev for /usr/bin/python3)"
            % (sys.version_info[0], sys.version_info[1], python_header)
        )
    if not any(os.path.exists(os.path.join(d, "re2", "re2.h")) for d in RE2_HEADER_DIRS):
        missing.append("RE2's headers, re2/re2.h (Debian package libre2-dev)")
    if not any(glob.glob(pattern) for pattern in RE2_LIBRARY_GLOBS):
        missing.append("RE2's library for linking, libre2.so (Debian package libre2-dev)")
    return missing


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
        # Built, but it does not load: a library it was linked against is
        # gone or changed (e.g. RE2 after a release upgrade).
        return "logsieve's native matcher was built but does not load (%s: %s)" % (
            type(error).__name__,
            error,
        )
    missing = missing_build_pieces()
    if missing:
        return "logsieve was built without its native matcher; missing: %s" % "; ".join(missing)
    return (
        "logsieve was built without its native matcher, although the compiler, Python's "
        "headers and RE2 are present: the compile failed (pip install -v shows the "
        "compiler's error)"
    )


def main():
    problem = diagnosis()
    if problem is None:
        print("logsieve._blockmatch loads")
        return 0
    print(problem)
    return 1


if __name__ == "__main__":
    sys.exit(main())
