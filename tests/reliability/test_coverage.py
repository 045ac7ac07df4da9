"""Rule coverage counted by the real checker: the hits of the lines the
cursors moved past, once; a run that delivered nothing counts nothing, and
counting never makes a run fail."""

import json
import os

import pytest

from .bed import IGNORE_RULE, Bed, reported_numbers


@pytest.fixture
def bed(tmp_path):
    return Bed(str(tmp_path))


def counts(bed):
    """(hits, sole) of the bed's local ignore rule, None before any count."""
    path = os.path.join(bed.statedir, "coverage.json")
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        entries = json.load(handle)["rules"].values()
    return {entry["rule"]: (entry["hits"], entry["sole"]) for entry in entries}[IGNORE_RULE]


def test_a_failed_delivery_counts_nothing_the_next_run_counts_once(bed):
    bed.append(bed.logs[0], ["ignoreme 1", "line 2", "ignoreme 3"])
    open(os.path.join(bed.path, "fail"), "w").close()
    failed = bed.run()
    assert failed.returncode != 0
    assert counts(bed) is None
    os.unlink(os.path.join(bed.path, "fail"))
    done = bed.run()
    assert done.returncode == 0, done.stderr.decode()
    assert reported_numbers(bed.bodies()[0]) == [2]
    assert counts(bed) == (2, 2)
    # Killed after delivery, before its cursors move: the lines are reported
    # and counted again by the next run, not by this one.
    bed.clear_mail()
    bed.append(bed.logs[0], ["ignoreme 4", "line 5"])
    killed = bed.run(FAKE_SENDMAIL_KILL_CALLER=1)
    assert killed.returncode != 0
    bed.wait_for_stand_ins()
    assert counts(bed) == (2, 2)
    assert bed.run().returncode == 0
    assert counts(bed) == (3, 3)


def test_a_damaged_counts_file_is_set_aside_and_the_run_succeeds(bed):
    path = bed.write("state/coverage.json", b"\x00not json")
    bed.append(bed.logs[0], ["ignoreme 1", "line 2"])
    done = bed.run()
    assert done.returncode == 0
    assert f"Warning: {path}: damaged coverage counts".encode() in done.stderr
    assert reported_numbers(bed.bodies()[0]) == [2]
    with open(path + ".damaged", "rb") as handle:
        assert handle.read() == b"\x00not json"
    assert counts(bed) == (1, 1)
