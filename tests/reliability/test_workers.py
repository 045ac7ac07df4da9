"""A classifying worker killed mid-run (the OOM killer's SIGKILL): the run
ends at once with an error naming the worker, delivers nothing and moves no
cursor; the next run reads the same lines."""

import os
import re
import signal
import time

from logsieve.cursor import Cursor, offset_path

from .bed import Bed

LINES = 300000  # about 16 blocks: the run is still going when a worker dies


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    if int(handle.read().rsplit(b")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def test_worker_killed_mid_run_stops_the_run(tmp_path):
    bed = Bed(str(tmp_path), extra_conf="MAX_REPORT_SIZE=64K\n")
    log = bed.logs[0]
    with open(log, "wb") as handle:
        handle.write(b"".join(b"Nov 21 07:44:38 testhost app[42]: line %d\n" % number
                              for number in range(LINES)))
    checker = bed.start(LOGSIEVE_WORKERS=2)
    deadline = time.monotonic() + 60
    while len(children(checker.pid)) < 2:
        assert checker.poll() is None, checker.communicate()
        assert time.monotonic() < deadline, "no worker processes appeared"
        time.sleep(0.001)
    # Hold the checker while one of its workers dies, so that it surely has
    # blocks left for that worker.
    os.kill(checker.pid, signal.SIGSTOP)
    victim = children(checker.pid)[0]
    os.kill(victim, signal.SIGKILL)
    os.kill(checker.pid, signal.SIGCONT)
    stderr = checker.communicate(timeout=60)[1]
    assert checker.returncode == 1, stderr
    assert re.search(rb"^Error: classifying worker process %d was killed by signal 9 \(SIGKILL\)"
                     rb".*no cursor moved$" % victim, stderr, re.MULTILINE), stderr
    assert bed.messages() == []
    assert Cursor.load(offset_path(bed.statedir, log)).offset == 0
    assert children(checker.pid) == []

    completed = bed.run(LOGSIEVE_WORKERS=2)
    assert completed.returncode == 0, completed.stderr.decode()
    (body,) = bed.bodies()
    assert re.search(rf"^ +{LINES}  System Events$", body, re.MULTILINE)
    assert Cursor.load(offset_path(bed.statedir, log)).offset == os.path.getsize(log)
