"""multilog directories read as one log: real files laid out as daemontools'
multilog writes and rotates them, the real checker, the djbdns rule set."""

import datetime
import os
import subprocess
import sys

import jinja2
import pytest

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "roles", "rules", "templates")


def environment():
    """The rules role's templates as Ansible renders them (these use no filter)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True,
                              keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


START = datetime.datetime(2026, 11, 21, 8, 40, 0, 250000, tzinfo=datetime.timezone.utc)


def label(moment):
    """The TAI64N label multilog writes for a UTC time (TAI = UNIX + 10 s)."""
    seconds = int(moment.timestamp())
    return "@%016x%08x" % ((1 << 62) + 10 + seconds, moment.microsecond * 1000)


def entry(offset_seconds, text):
    moment = START + datetime.timedelta(seconds=offset_seconds)
    return f"{label(moment)} {text}\n", moment


def stamp(moment):
    return moment.isoformat(timespec="microseconds")


def logsieve(bed, *args):
    return subprocess.run([sys.executable, "-m", "logsieve.cli", "--allow-root",
                           *bed["base"], *args], env=dict(os.environ, TZ="UTC"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)


@pytest.fixture
def bed(tmp_path):
    service = tmp_path / "service" / "dnscache" / "log" / "main"
    service.mkdir(parents=True)
    rules = tmp_path / "rules" / "ignore.d.server"
    rules.mkdir(parents=True)
    (rules / "local-djbdns").write_text(
        environment().get_template("etc/logcheck/ignore.d.LEVEL/local-djbdns.j2").render())
    state = tmp_path / "state"
    state.mkdir()
    conf = tmp_path / "logcheck.conf"
    conf.write_text(f'INTRO=0\nLOCKDIR="{tmp_path}/lock"\n')
    return {"dir": service, "state": state, "conf": conf, "host": os.uname().nodename.split(".")[0],
            "base": ["-c", str(conf), "-r", str(tmp_path / "rules"), "-S", str(state), "-o",
                     "-l", str(service)]}


def reported(result):
    assert result.returncode == 0, result.stderr
    return result.stdout.decode().splitlines()[2:-1] if result.stdout else []


def write(path, entries, mode="w"):
    with open(path, mode) as handle:
        handle.write("".join(entry[0] for entry in entries))


def test_rotated_oldest_first_then_current_as_syslog_lines(bed):
    host = bed["host"]
    old = [entry(0, "starting"), entry(1, "servfail example.net. input/output error")]
    newer = [entry(2, "query 1 7f000001:d3a1:5b2c 1 www.example.org."),
             entry(3, "drop 17 timed out")]
    current = [entry(4, "cached 1 www.example.org."),
               entry(5, "lame c6336401 example.net. net.")]
    # Created newest first: the order must come from the labels, not the disk.
    write(bed["dir"] / "current", current)
    write(bed["dir"] / (label(newer[-1][1]) + ".u"), newer)
    write(bed["dir"] / (label(old[-1][1]) + ".s"), old)
    (bed["dir"] / "state").write_text("")  # multilog's own files are not logs
    (bed["dir"] / "lock").write_text("")
    assert reported(logsieve(bed, "-t")) == [
        f"{stamp(old[1][1])} {host} dnscache: servfail example.net. input/output error",
        f"{stamp(newer[1][1])} {host} dnscache: drop 17 timed out",
        f"{stamp(current[1][1])} {host} dnscache: lame c6336401 example.net. net.",
    ]
    with open(bed["conf"], "a") as handle:
        handle.write("MULTILOG_STAMP=classic\n")
    classic = reported(logsieve(bed, "-t"))
    assert classic[0] == f"Nov 21 08:40:01 {host} dnscache: servfail example.net. input/output error"


def test_cursor_survives_multilog_rotation(bed):
    current = bed["dir"] / "current"
    write(current, [entry(0, "drop 1 timed out"), entry(1, "query 1 7f000001:d3a1:5b2c 1 a.")])
    assert [line.split(": ", 1)[1] for line in reported(logsieve(bed))] == ["drop 1 timed out"]
    assert reported(logsieve(bed)) == []  # nothing new
    # More lines, one not finished yet (no newline): left for later.
    write(current, [entry(2, "drop 2 timed out")], mode="a")
    with open(current, "a") as handle:
        handle.write(entry(3, "drop 3 timed")[0][:-1])
    assert [line.split(": ", 1)[1] for line in reported(logsieve(bed))] == ["drop 2 timed out"]
    with open(current, "a") as handle:
        handle.write(" out\n")
    write(current, [entry(4, "drop 4 timed out")], mode="a")
    # multilog rotates: current keeps its inode and contents under a new name,
    # then a new current; twice before the next run.
    first = bed["dir"] / (label(START + datetime.timedelta(seconds=4)) + ".s")
    os.rename(current, first)
    write(current, [entry(5, "drop 5 timed out")])
    os.rename(current, bed["dir"] / (label(START + datetime.timedelta(seconds=5)) + ".s"))
    write(current, [entry(6, "drop 6 timed out")])
    assert [line.split(": ", 1)[1] for line in reported(logsieve(bed))] == [
        "drop 3 timed out", "drop 4 timed out", "drop 5 timed out", "drop 6 timed out"]
    # multilog removes the oldest rotated file: nothing is read again.
    first.unlink()
    write(current, [entry(7, "drop 7 timed out")], mode="a")
    assert [line.split(": ", 1)[1] for line in reported(logsieve(bed))] == ["drop 7 timed out"]
    assert reported(logsieve(bed)) == []


def test_damaged_or_missing_label_is_reported(bed):
    current = bed["dir"] / "current"
    good, moment = entry(0, "query 1 7f000001:d3a1:5b2c 1 www.example.org.")
    current.write_text(good + "query 2 7f000001:d3a1:5b2d 1 no.label.\n"
                       + "@40000000zzzz0000000000000 query 3 7f000001:d3a1:5b2e 1 bad.label.\n")
    lines = reported(logsieve(bed, "-t"))
    where = f"multilog line without a valid TAI64N label in {current}: "
    assert lines == [
        f"{stamp(moment)} {bed['host']} dnscache: {where}query 2 7f000001:d3a1:5b2d 1 no.label.",
        f"{stamp(moment)} {bed['host']} dnscache: {where}@40000000zzzz0000000000000 "
        "query 3 7f000001:d3a1:5b2e 1 bad.label.",
    ]


def test_djbdns_routine_ignored_trouble_reported(bed):
    samples = environment().get_template("samples/djbdns.ignore.j2").render().splitlines()
    routine = [line.split("dnscache: ", 1)[1] for line in samples if "dnscache: " in line]
    trouble = ["servfail example.net. input/output error", "drop 17 timed out",
               "lame c6336401 example.net. net."]
    write(bed["dir"] / "current",
          [entry(number, text) for number, text in enumerate(routine + trouble)])
    assert [line.split("dnscache: ", 1)[1] for line in reported(logsieve(bed, "-t"))] == trouble
