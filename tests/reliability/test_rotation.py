"""Rotation modes with real files: every line reported once, none skipped.

Each test: lines 1-5 are reported; lines 6-8 are written; the log is rotated
the way logrotate does it; lines 9-10 go to the new file; the next run must
report exactly 6-10.
"""

import gzip
import os
import shutil
import subprocess

import pytest

from .bed import Bed, reported_numbers


def report(bed):
    """Run the checker with the report on stdout (cursors move); the numbers reported."""
    completed = bed.run("-o")
    assert completed.returncode == 0, completed.stderr.decode()
    return reported_numbers(completed.stdout.decode())


def numbered(bed, first, last):
    bed.append(bed.logs[0], [f"line {number}" for number in range(first, last + 1)])


def rotate_create(log, target):
    os.rename(log, target)
    open(log, "ab").close()


def rotate_copytruncate(log, target):
    shutil.copyfile(log, target)
    with open(log, "r+b") as handle:
        handle.truncate(0)


def compress(path):
    with open(path, "rb") as source, gzip.open(path + ".gz", "wb") as target:
        shutil.copyfileobj(source, target)
    shutil.copystat(path, path + ".gz")
    os.unlink(path)


@pytest.fixture
def bed(tmp_path):
    return Bed(str(tmp_path))


def scenario(bed, rotate):
    log = bed.logs[0]
    numbered(bed, 1, 5)
    assert report(bed) == [1, 2, 3, 4, 5]
    numbered(bed, 6, 8)
    rotate(log)
    numbered(bed, 9, 10)
    assert report(bed) == [6, 7, 8, 9, 10]
    assert report(bed) == []


def test_create(bed):
    scenario(bed, lambda log: rotate_create(log, log + ".1"))


def test_copytruncate(bed):
    scenario(bed, lambda log: rotate_copytruncate(log, log + ".1"))


def test_copytruncate_new_file_longer_than_old_offset(bed):
    """Same inode, and the new content already passes the old offset:
    logtail2 would skip the new file's beginning and lose the old tail."""
    log = bed.logs[0]
    numbered(bed, 1, 2)
    assert report(bed) == [1, 2]
    numbered(bed, 3, 4)
    rotate_copytruncate(log, log + ".1")
    numbered(bed, 5, 12)
    assert report(bed) == list(range(3, 13))


def test_copytruncate_nothing_new_yet(bed):
    log = bed.logs[0]
    numbered(bed, 1, 3)
    assert report(bed) == [1, 2, 3]
    numbered(bed, 4, 5)
    rotate_copytruncate(log, log + ".1")
    completed = bed.run("-o")
    assert reported_numbers(completed.stdout.decode()) == [4, 5]
    assert b"smaller than last time" not in completed.stdout
    numbered(bed, 6, 6)
    assert report(bed) == [6]


def test_dateext(bed):
    scenario(bed, lambda log: rotate_create(log, log + "-20261121"))


def test_dateext_picks_the_right_day(bed):
    log = bed.logs[0]
    with open(log + "-20261119", "w") as old:
        old.write("an older generation\n")
    scenario(bed, lambda log: rotate_create(log, log + "-20261121"))


def test_gzip_without_delaycompress(bed):
    def rotate(log):
        rotate_create(log, log + ".1")
        compress(log + ".1")
    scenario(bed, rotate)


def test_dateext_gzip(bed):
    def rotate(log):
        rotate_create(log, log + "-20261121")
        compress(log + "-20261121")
    scenario(bed, rotate)


def test_copytruncate_gzip(bed):
    def rotate(log):
        rotate_copytruncate(log, log + ".1")
        compress(log + ".1")
    scenario(bed, rotate)


def test_savelog(bed):
    def rotate(log):
        with open(log + ".1.gz", "wb") as older:
            older.write(gzip.compress(b"older\n"))
        os.utime(log + ".1.gz", (1, 1))
        rotate_create(log, log + ".0")
    scenario(bed, rotate)


def test_several_rotations_between_deliveries(bed):
    """The mail failed twice; meanwhile the log was rotated twice (logrotate
    shifting .1 to .2.gz).  The next delivery covers all of it."""
    log = bed.logs[0]
    numbered(bed, 1, 3)
    assert report(bed) == [1, 2, 3]
    numbered(bed, 4, 5)
    rotate_create(log, log + ".1")
    numbered(bed, 6, 7)
    compress(log + ".1")
    os.rename(log + ".1.gz", log + ".2.gz")
    rotate_create(log, log + ".1")
    numbered(bed, 8, 9)
    assert report(bed) == [4, 5, 6, 7, 8, 9]


def test_reused_inode_is_not_trusted(bed):
    """The file under the log's name has the cursor's inode but other first
    bytes (an inode freed by gzip and reused by the new log, here made
    deterministic by rewriting the file in place): inode alone would skip
    the new file's first lines and the old file's tail."""
    log = bed.logs[0]
    numbered(bed, 1, 3)
    assert report(bed) == [1, 2, 3]
    numbered(bed, 4, 5)
    inode = os.stat(log).st_ino
    with open(log, "rb") as source, gzip.open(log + ".1.gz", "wb") as target:
        shutil.copyfileobj(source, target)
    with open(log, "r+b") as handle:
        handle.truncate(0)
    numbered(bed, 6, 15)
    assert os.stat(log).st_ino == inode
    assert report(bed) == list(range(4, 16))


def test_truncation_without_rotated_copy_warns(bed):
    """Shrunk in place with no copy anywhere: logtail2's tampering warning."""
    log = bed.logs[0]
    numbered(bed, 1, 5)
    assert report(bed) == [1, 2, 3, 4, 5]
    with open(log, "r+b") as handle:
        handle.truncate(0)
    numbered(bed, 6, 6)
    completed = bed.run("-o")
    assert reported_numbers(completed.stdout.decode()) == [6]
    assert b"is smaller than last time checked!" in completed.stdout


def test_rotated_copy_deleted_warns(bed):
    """Rotated, and the rotated file removed before the next run: the lines
    in it are gone, and the report says so."""
    log = bed.logs[0]
    numbered(bed, 1, 5)
    assert report(bed) == [1, 2, 3, 4, 5]
    numbered(bed, 6, 7)
    rotate_create(log, log + ".1")
    os.unlink(log + ".1")
    numbered(bed, 8, 8)
    completed = bed.run("-o")
    assert reported_numbers(completed.stdout.decode()) == [8]
    assert completed.stdout.count(b"was rotated and the rotated file was not found!") == 1
    # said once: the next run starts from the new file's cursor
    numbered(bed, 9, 9)
    completed = bed.run("-o")
    assert reported_numbers(completed.stdout.decode()) == [9]
    assert b"was rotated" not in completed.stdout


def test_cursor_not_moved_by_failed_delivery(bed):
    numbered(bed, 1, 3)
    open(os.path.join(bed.path, "fail"), "w").close()
    failed = bed.run()
    assert failed.returncode != 0
    assert b"stand-in: temporary failure" in failed.stderr
    assert bed.messages() == []
    os.unlink(os.path.join(bed.path, "fail"))
    numbered(bed, 4, 4)
    rotate_create(bed.logs[0], bed.logs[0] + ".1")
    numbered(bed, 5, 5)
    delivered = bed.run()
    assert delivered.returncode == 0, delivered.stderr.decode()
    assert [reported_numbers(body) for body in bed.bodies()] == [[1, 2, 3, 4, 5]]


def test_test_mode_does_not_move_cursors(bed):
    numbered(bed, 1, 2)
    completed = bed.run("-o", "-t")
    assert reported_numbers(completed.stdout.decode()) == [1, 2]
    assert report(bed) == [1, 2]


def test_missing_log_keeps_its_cursor(bed):
    """Rotated away and not yet recreated: the rest of the rotated file is
    read once the new one exists."""
    log = bed.logs[0]
    numbered(bed, 1, 2)
    assert report(bed) == [1, 2]
    numbered(bed, 3, 4)
    os.rename(log, log + ".1")
    completed = bed.run("-o")
    assert reported_numbers(completed.stdout.decode()) == []
    open(log, "ab").close()
    numbered(bed, 5, 5)
    assert report(bed) == [3, 4, 5]


def test_gzip_rotation_with_logtail2_would_lose_lines(bed):
    """The reference point: logtail2 never reads a compressed rotated file."""
    log = bed.logs[0]
    offset = os.path.join(bed.path, "logtail2.offset")
    numbered(bed, 1, 2)
    subprocess.run(["/usr/sbin/logtail2", "-f", log, "-o", offset], check=True,
                   stdout=subprocess.PIPE)
    numbered(bed, 3, 4)
    rotate_create(log, log + ".1")
    compress(log + ".1")
    numbered(bed, 5, 5)
    output = subprocess.run(["/usr/sbin/logtail2", "-f", log, "-o", offset], check=True,
                            stdout=subprocess.PIPE).stdout.decode()
    assert reported_numbers(output) == [5]
