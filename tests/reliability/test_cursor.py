"""Cursor files: logtail2 reads ours and we read logtail2's, both ways, and a
cursor write interrupted by SIGKILL leaves the old or the new cursor."""

import os
import random
import signal
import stat
import subprocess
import sys
import time

import pytest

from logsieve.cursor import FINGERPRINT_BYTES, Cursor, offset_path

from .bed import Bed, reported_numbers

LOGTAIL2 = "/usr/sbin/logtail2"


@pytest.fixture
def bed(tmp_path):
    assert os.path.exists(LOGTAIL2), "logtail2 (package logtail) is the reference and must be installed"
    return Bed(str(tmp_path))


def numbered(bed, first, last):
    bed.append(bed.logs[0], [f"line {number}" for number in range(first, last + 1)])


def logsieve(bed):
    completed = bed.run("-o")
    assert completed.returncode == 0, completed.stderr.decode()
    return reported_numbers(completed.stdout.decode())


def logtail2(bed, *options):
    """logtail2 on the same log and the same offset file, as logcheck runs it."""
    log = bed.logs[0]
    completed = subprocess.run([LOGTAIL2, *options, "-f", log, "-o", offset_path(bed.statedir, log)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return reported_numbers(completed.stdout.decode())


def test_offset_file_format(bed):
    numbered(bed, 1, 3)
    logsieve(bed)
    path = offset_path(bed.statedir, bed.logs[0])
    assert os.path.basename(path) == "offset" + bed.logs[0].replace("/", ".")
    lines = open(path, "rb").read().split(b"\n")
    assert int(lines[0]) == os.stat(bed.logs[0]).st_ino
    assert int(lines[1]) == os.path.getsize(bed.logs[0])
    assert lines[2].startswith(b"sha256:%d:" % os.path.getsize(bed.logs[0]))
    assert lines[3:] == [b""]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_logtail2_continues_from_our_cursor(bed):
    numbered(bed, 1, 3)
    assert logsieve(bed) == [1, 2, 3]
    numbered(bed, 4, 5)
    assert logtail2(bed) == [4, 5]
    numbered(bed, 6, 6)
    # logtail2 rewrote the cursor without our fingerprint: we go on by inode
    assert logsieve(bed) == [6]
    numbered(bed, 7, 7)
    assert logtail2(bed) == [7]


def test_we_continue_from_logtail2s_cursor(bed):
    numbered(bed, 1, 3)
    assert logtail2(bed) == [1, 2, 3]
    numbered(bed, 4, 4)
    assert logsieve(bed) == [4]


def test_logtail2_cursor_across_create_rotation(bed):
    """A cursor without fingerprint (logtail2's) still follows a `create`
    rotation by inode, as logtail2 does."""
    log = bed.logs[0]
    numbered(bed, 1, 3)
    assert logtail2(bed) == [1, 2, 3]
    numbered(bed, 4, 5)
    os.rename(log, log + ".1")
    open(log, "ab").close()
    numbered(bed, 6, 6)
    assert logsieve(bed) == [4, 5, 6]


def test_logtail2_reads_our_cursor_across_rotation(bed):
    log = bed.logs[0]
    numbered(bed, 1, 3)
    assert logsieve(bed) == [1, 2, 3]
    numbered(bed, 4, 5)
    os.rename(log, log + ".1")
    open(log, "ab").close()
    numbered(bed, 6, 6)
    assert logtail2(bed) == [4, 5, 6]


def test_long_file_fingerprint_is_bounded(bed):
    bed.append(bed.logs[0], [f"line {number}" for number in range(1, 200)])
    logsieve(bed)
    cursor = Cursor.load(offset_path(bed.statedir, bed.logs[0]))
    assert cursor.fingerprint_length == FINGERPRINT_BYTES


def test_planted_symlink_is_refused(bed):
    victim = os.path.join(bed.path, "victim")
    with open(victim, "w") as handle:
        handle.write("precious\n")
    path = offset_path(bed.statedir, bed.logs[0])
    os.symlink(victim, path)
    numbered(bed, 1, 1)
    completed = bed.run("-o")
    assert completed.returncode == 1
    assert b"is a symbolic link" in completed.stderr
    assert open(victim).read() == "precious\n"


def test_atomic_write_replaces_a_link_instead_of_following_it(tmp_path):
    from logsieve.cursor import write_atomically
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    link = tmp_path / "offset.x"
    os.symlink(victim, link)
    write_atomically(str(link), b"1\n2\n")
    assert victim.read_text() == "precious\n"
    assert not os.path.islink(link) and link.read_bytes() == b"1\n2\n"
    assert stat.S_IMODE(os.stat(link).st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["offset.x", "victim"]


def test_stale_temporary_files_are_removed(bed):
    stale = os.path.join(bed.statedir, ".logsieve-tmp.abc123")
    open(stale, "w").close()
    numbered(bed, 1, 1)
    logsieve(bed)
    assert not os.path.exists(stale)


WRITER = r"""
import sys
from logsieve.cursor import Cursor
path = sys.argv[1]
number = 0
while True:
    number += 1
    Cursor(number, number * 1000, "sha256:3:" + "%064x" % number).save(path)
"""


def test_sigkill_during_cursor_writes_leaves_a_whole_cursor(tmp_path):
    """Kill a process that rewrites a cursor in a loop at random instants:
    the file is always one whole cursor, never empty or mixed."""
    path = str(tmp_path / "offset.var.log.syslog")
    seen = set()
    for _round in range(25):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, path])
        before = Cursor.load(path).inode
        deadline = time.monotonic() + 30
        while Cursor.load(path).inode == before and time.monotonic() < deadline:
            time.sleep(0.001)                 # the writer is writing
        time.sleep(random.uniform(0, 0.05))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        cursor = Cursor.load(path)
        assert cursor.inode > 0
        assert cursor.offset == cursor.inode * 1000
        assert cursor.fingerprint == "sha256:3:" + "%064x" % cursor.inode
        seen.add(cursor.inode)
    assert len(seen) > 1


def test_missing_state_directory_is_a_clear_error(bed):
    os.rmdir(bed.statedir)
    numbered(bed, 1, 1)
    completed = bed.run()
    assert completed.returncode == 1
    assert completed.stderr.startswith(b"Error: cannot write the cursor ")
    assert b"Traceback" not in completed.stderr
    assert bed.messages() == []
