"""Benchmarks: logsieve against Debian's logcheck, and against public data.

The labelled loghub samples are read where they are, never copied into the
repository: ../shared/data/loghub beside the checkout (beside a worktree's
parent too), or LOGHUB_DATA.
"""

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOGHUB = os.environ.get("LOGHUB_DATA") or next(
    (path for path in (os.path.join(REPO, "..", "shared", "data", "loghub"),
                       os.path.join(REPO, "..", "..", "shared", "data", "loghub"))
     if os.path.isdir(path)), os.path.join(REPO, "..", "shared", "data", "loghub"))
