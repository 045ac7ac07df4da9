"""Benchmarks: logsieve against Debian's logcheck, and against public data.

The labelled loghub samples are read where they are, never copied into the
repository: LOGHUB_DATA, else shared/data/loghub beside the checkout, beside a
worktree's parent, or in the workplace's /work/shared.
"""

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LOGHUB_PLACES = (os.path.join(REPO, "..", "shared", "data", "loghub"),
                  os.path.join(REPO, "..", "..", "shared", "data", "loghub"),
                  "/work/shared/data/loghub")
LOGHUB = os.environ.get("LOGHUB_DATA") or next(
    (path for path in _LOGHUB_PLACES if os.path.isdir(path)), _LOGHUB_PLACES[0])


def loghub_missing(path, check):
    """Say loudly that the loghub benchmark did not run; its exit status.

    A machine without the data (a clone elsewhere) still runs the other
    benchmarks; with --check, the missing data is a failure.
    """
    print(f"*** loghub data not found in {os.path.abspath(path)} (LOGHUB_DATA to name it): "
          f"this benchmark was NOT run", flush=True)
    return 1 if check else 0
