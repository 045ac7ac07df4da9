"""The `journal` entry: read through journalctl with the journal's cursor,
advanced only after delivery.  journalctl is an external command; a stand-in
on PATH plays the journal (entries in a file, cursor = entry number) and
records how it was called."""

import os
import re
import shutil
import sys
import time

import pytest

from logsieve.sources import SYSLOG_CATCH_ALL, journal_duplicated_by

from .bed import Bed, reported_numbers

FAKE_JOURNALCTL = r'''#!{python}
import os, sys
bed = {bed!r}
with open(os.path.join(bed, "journalctl.calls"), "a") as calls:
    calls.write(" ".join(sys.argv[1:]) + "\n")
if os.path.exists(os.path.join(bed, "journal.fail")):
    sys.stderr.write("Failed to open journal: permission denied\n")
    sys.exit(1)
if not os.path.exists(os.path.join(bed, "journal.entries")):
    sys.exit(1)          # as journalctl --quiet does when there is no journal at all
entries = open(os.path.join(bed, "journal.entries")).read().splitlines()
start = 0
for argument in sys.argv[1:]:
    if argument.startswith("--after-cursor=s="):
        start = int(argument.split("=s=")[1])
for entry in entries[start:]:
    print(entry)
if entries[start:] and "--show-cursor" in sys.argv:
    print("-- cursor: s=%d" % len(entries))
'''


@pytest.fixture
def bed(tmp_path):
    bed = Bed(str(tmp_path), logs=())
    bed.write("logfiles", "journal\n")
    bed.write("bin/journalctl", FAKE_JOURNALCTL.format(python=sys.executable, bed=bed.path),
              mode=0o755)
    bed.write("journal.entries", "")
    return bed


def journal(bed, first, last):
    with open(os.path.join(bed.path, "journal.entries"), "a") as entries:
        for number in range(first, last + 1):
            entries.write(bed.line(f"line {number}"))


def run(bed, *args):
    path = os.path.join(bed.path, "bin") + ":" + os.environ["PATH"]
    return bed.run(*args, PATH=path)


def calls(bed):
    with open(os.path.join(bed.path, "journalctl.calls")) as handle:
        return handle.read().splitlines()


def test_journal_cursor_moves_only_after_delivery(bed):
    journal(bed, 1, 3)
    first = run(bed, "-o")
    assert first.returncode == 0, first.stderr.decode()
    text = first.stdout.decode()
    assert text.startswith("This is the first time logcheck has checked the systemd journal.")
    assert reported_numbers(text) == [1, 2, 3]
    assert calls(bed)[-1] == "--quiet --no-pager --show-cursor --since=-5h"
    offset = os.path.join(bed.statedir, "offset.journal")
    assert open(offset).read() == "s=3\n"

    journal(bed, 4, 5)
    open(os.path.join(bed.path, "fail"), "w").close()           # the mail fails
    failed = run(bed)
    assert failed.returncode == 1
    assert open(offset).read() == "s=3\n"
    os.unlink(os.path.join(bed.path, "fail"))
    delivered = run(bed)
    assert delivered.returncode == 0, delivered.stderr.decode()
    assert calls(bed)[-1].endswith("--after-cursor=s=3")
    assert [reported_numbers(body) for body in bed.bodies()] == [[4, 5]]
    assert "first time" not in bed.bodies()[0]
    assert open(offset).read() == "s=5\n"

    nothing = run(bed, "-o")                                     # no new entry
    assert nothing.stdout == b""
    assert open(offset).read() == "s=5\n"


def test_logchecks_offset_file_is_read_by_its_time(bed):
    offset = os.path.join(bed.statedir, "offset.journal")
    open(offset, "w").close()                                    # logcheck's: empty, touched
    os.utime(offset, (1763700000, 1763700000))
    journal(bed, 1, 1)
    completed = run(bed, "-o")
    assert completed.returncode == 0
    assert calls(bed)[-1].endswith("--since=@1763700000")
    assert open(offset).read() == "s=1\n"


def test_journalctl_failure_stops_the_run(bed):
    journal(bed, 1, 1)
    open(os.path.join(bed.path, "journal.fail"), "w").close()
    completed = run(bed)
    assert completed.returncode == 1
    assert re.search(rb"Error: journalctl --quiet --no-pager --show-cursor --since=-5h "
                     rb"exited with status 1: Failed to open journal: permission denied\n",
                     completed.stderr)
    assert not os.path.exists(os.path.join(bed.statedir, "offset.journal"))
    assert bed.messages() == []


def test_read_journal_setting(bed):
    journal(bed, 1, 1)
    with open(bed.conf, "a") as conf:
        conf.write("READ_JOURNAL=no\n")
    completed = run(bed, "-o", "-d")
    assert completed.returncode == 0
    assert b"journal not read" in completed.stderr
    assert not os.path.exists(os.path.join(bed.path, "journalctl.calls"))


def test_duplicate_rule(tmp_path):
    syslog = tmp_path / "syslog"
    syslog.write_text("")
    catch_all = (str(syslog),)
    entries = ["journal", str(syslog), "/var/log/auth.log"]
    # rsyslog writes the catch-all file: the journal would repeat it
    assert journal_duplicated_by(entries, catch_all=catch_all) == str(syslog)
    # the file went quiet a day ago: read the journal again
    assert journal_duplicated_by(entries, now=time.time() + 2 * 86400, catch_all=catch_all) is None
    # no catch-all file in the list, or it does not exist
    assert journal_duplicated_by(["journal", "/var/log/auth.log"], catch_all=catch_all) is None
    syslog.unlink()
    assert journal_duplicated_by(entries, catch_all=catch_all) is None
    assert journal_duplicated_by(entries, "yes", catch_all=catch_all) is None
    assert journal_duplicated_by(entries, "no", catch_all=catch_all) == "READ_JOURNAL=no"
    # Debian's default lists (syslog.logfiles) name this file
    assert "/var/log/syslog" in SYSLOG_CATCH_ALL


def test_no_journalctl_is_reported_like_logcheck(bed):
    """A host without systemd: logcheck reports `E: File could not be read:
    journal` and goes on with the other logs; so does logsieve."""
    log = os.path.join(bed.path, "log", "syslog")
    bed.append(log, ["line 1"])
    bed.write("logfiles", f"journal\n{log}\n")
    bare = os.path.join(bed.path, "bare-bin")
    os.makedirs(bare)
    os.symlink(shutil.which("sort"), os.path.join(bare, "sort"))
    completed = bed.run("-o", PATH=bare)
    assert completed.returncode == 0, completed.stderr.decode()
    text = completed.stdout.decode()
    assert "E: File could not be read: journal" in text
    assert reported_numbers(text) == [1]


def test_absent_or_empty_journal_is_not_an_error(bed):
    """journalctl --quiet exits 1 without a word when there is no journal at
    all (a container, a chroot): nothing to read, not a failure."""
    log = os.path.join(bed.path, "log", "syslog")
    bed.append(log, ["line 1"])
    bed.write("logfiles", f"journal\n{log}\n")
    os.unlink(os.path.join(bed.path, "journal.entries"))
    completed = run(bed, "-o", "-d")
    assert completed.returncode == 0, completed.stderr.decode()
    assert reported_numbers(completed.stdout.decode()) == [1]
    assert b"no journal to read" in completed.stderr
    bed.write("journal.entries", "")                   # a journal without entries
    again = run(bed, "-o")
    assert again.returncode == 0, again.stderr.decode()
    assert again.stdout == b""


def test_real_journalctl_failure_is_reported_with_its_message(tmp_path):
    """The real journalctl, refusing a cursor it cannot read: the error names
    the command, its status and journalctl's own words."""
    bed = Bed(str(tmp_path), logs=())
    bed.write("logfiles", "journal\n")
    bed.write("state/offset.journal", "s=not-a-cursor\n")
    completed = bed.run("-o", "-t")
    assert completed.returncode == 1
    assert re.search(rb"^Error: journalctl --quiet --no-pager --show-cursor "
                     rb"--after-cursor=s=not-a-cursor exited with status 1: "
                     rb"Failed to seek to cursor: Invalid argument$",
                     completed.stderr, re.MULTILINE), completed.stderr
