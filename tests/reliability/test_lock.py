"""One run at a time, with two real checker processes."""

import os
import signal
import time

import pytest

from .bed import Bed, reported_numbers


@pytest.fixture
def bed(tmp_path):
    return Bed(str(tmp_path))


def wait_for(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_second_run_refused_while_first_holds_the_lock_and_kill_frees_it(bed):
    bed.append(bed.logs[0], ["line 1"])
    hold = os.path.join(bed.path, "hold")
    open(hold, "w").close()
    first = bed.start()                       # will wait inside sendmail, holding the lock
    try:
        wait_for(bed.stand_ins_running)
        second = bed.run()
        assert second.returncode == 1
        message = second.stderr.decode()
        assert "another logsieve run is still running" in message
        assert f"(process {first.pid})" in message
        assert os.path.join(bed.path, "lock", "logsieve.lock") in message
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # The lock file stays behind, but the kernel released the lock with the
    # holder: the next run needs no clean-up.
    assert os.path.exists(os.path.join(bed.path, "lock", "logsieve.lock"))
    os.unlink(hold)
    bed.wait_for_stand_ins()
    bed.clear_mail()                          # the killed run's mail went out anyway
    third = bed.run()
    assert third.returncode == 0, third.stderr.decode()
    # the killed run never moved the cursor: the line is reported again
    assert [reported_numbers(body) for body in bed.bodies()] == [[1]]


def test_lock_file_of_another_user_is_refused(bed):
    if os.geteuid() != 0:
        pytest.skip("needs root to plant a file owned by another user")
    lock = os.path.join(bed.path, "lock", "logsieve.lock")
    open(lock, "w").close()
    os.chown(lock, 65534, 65534)
    bed.append(bed.logs[0], ["line 1"])
    completed = bed.run()
    assert completed.returncode == 1
    assert b"refusing lock file" in completed.stderr


def test_symlinked_lock_file_is_refused(bed):
    lock = os.path.join(bed.path, "lock", "logsieve.lock")
    os.symlink(os.path.join(bed.path, "elsewhere"), lock)
    completed = bed.run()
    assert completed.returncode == 1
    assert b"cannot open lock file" in completed.stderr
    assert not os.path.exists(os.path.join(bed.path, "elsewhere"))
