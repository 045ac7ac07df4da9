"""`logsieve watch` with real parts: a real log file written while it runs, a
real action command (a process that records what it was given), real
rotation, a real hanging action killed by the time limit."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from logsieve.templates import TemplateMiner
from logsieve.watch import burst_key

PREFIX = r"^(\w{3} [ :[:digit:]]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ "

# The action: records its start time, environment and standard input.
ACTION = r'''#!{python}
import json, os, sys, time
started = time.time()
record = {{"started": started, "section": os.environ.get("LOGSIEVE_SECTION"),
          "count": int(os.environ.get("LOGSIEVE_COUNT", "0")),
          "template": os.environ.get("LOGSIEVE_TEMPLATE"),
          "lines": sys.stdin.read().splitlines()}}
path = os.path.join({records!r}, "%f-%d.json" % (started, os.getpid()))
with open(path + ".tmp", "w") as handle:
    json.dump(record, handle)
os.rename(path + ".tmp", path)
if record["lines"] and "hang" in record["lines"][0]:
    time.sleep(120)
if record["lines"] and "crash" in record["lines"][0]:
    sys.exit(3)
'''


class Bed:
    def __init__(self, tmp_path, **conf):
        self.tmp = tmp_path
        self.log = tmp_path / "syslog"
        self.log.write_text("Nov 21 07:00:00 gw sshd[1]: Failed password for root (old line)\n")
        self.records = tmp_path / "records"
        self.records.mkdir()
        action = tmp_path / "action"
        action.write_text(ACTION.format(python=sys.executable, records=str(self.records)))
        action.chmod(0o755)
        rules = tmp_path / "rules"
        for name, rule in (("cracking.d", "possible break-in attempt"),
                           ("violations.d", "Failed password for"),
                           ("ignore.d.server", PREFIX + r"app\[[0-9]+\]: tick")):
            (rules / name).mkdir(parents=True)
            (rules / name / "local-test").write_text(rule + "\n")
        self.state = tmp_path / "state"
        self.state.mkdir()
        settings = {"ACTION_COMMAND": f"{action} --from-watch", "ACTION_WINDOW": "1",
                    "ACTION_TIMEOUT": "5", "LOCKDIR": str(tmp_path / "lock"), **conf}
        self.conf = tmp_path / "logcheck.conf"
        self.conf.write_text("".join(f"{name}='{value}'\n" for name, value in settings.items()))
        self.stderr = tmp_path / "watch.err"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "logsieve.cli", "watch", "--allow-root", "-c", str(self.conf),
             "-r", str(self.tmp / "rules"), "-S", str(self.state), "-l", str(self.log)],
            stderr=open(self.stderr, "wb"))
        self.wait_for_log("following 1 log(s)")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            assert self.process.wait(timeout=10) == 0
        self.process = None

    def messages(self):
        return self.stderr.read_text()

    def wait_for_log(self, text, timeout=15):
        deadline = time.monotonic() + timeout
        while text not in self.messages():
            assert time.monotonic() < deadline, f"{text!r} not logged: {self.messages()}"
            assert self.process.poll() is None, self.messages()
            time.sleep(0.05)

    def append(self, *lines, path=None):
        with open(path or self.log, "a") as handle:
            handle.write("".join(line + "\n" for line in lines))
        return time.time()

    def actions(self):
        found = []
        for name in sorted(os.listdir(self.records)):
            if name.endswith(".json"):
                with open(self.records / name) as handle:
                    found.append(json.load(handle))
        return sorted(found, key=lambda record: record["started"])

    def wait_for_actions(self, count, timeout=15):
        deadline = time.monotonic() + timeout
        while len(self.actions()) < count:
            assert time.monotonic() < deadline, (self.actions(), self.messages())
            time.sleep(0.05)
        return self.actions()


@pytest.fixture
def bed(tmp_path):
    beds = []

    def make(**conf):
        beds.append(Bed(tmp_path, **conf))
        return beds[-1]
    yield make
    for each in beds:
        if each.process and each.process.poll() is None:
            each.process.kill()
            each.process.wait()


def test_action_at_once_with_lines_and_section(bed):
    watch = bed()
    watch.start()
    written = watch.append("Nov 21 07:01:00 gw app[7]: tick 1",
                           "Nov 21 07:01:01 gw sshd[9]: Failed password for root from 203.0.113.9")
    (action,) = watch.wait_for_actions(1)
    assert action["started"] - written < 2.0  # latency: line written -> action started
    assert action["section"] == "violations" and action["count"] == 1
    assert action["lines"] == ["Nov 21 07:01:01 gw sshd[9]: Failed password for root from "
                               "203.0.113.9"]
    assert action["template"] == "sshd: Failed password for root from <ADDR>"
    watch.append("Nov 21 07:01:02 gw kernel: possible break-in attempt from 203.0.113.9")
    assert watch.wait_for_actions(2)[1]["section"] == "attack"
    # The periodic check's cursor is never written by watch; its own is apart.
    assert os.listdir(watch.state) == ["watch"]
    assert os.listdir(watch.state / "watch") == ["offset" + str(watch.log).replace("/", ".")]
    watch.stop()


def test_burst_of_200_failures_is_one_action(bed):
    watch = bed(ACTION_WINDOW="30", ACTION_MAX_LINES="20")
    watch.start()
    watch.append(*[f"Nov 21 07:02:{n % 60:02d} gw sshd[{1000 + n}]: Failed password for "
                   f"invalid user u{n} from 203.0.113.{n % 250} port {40000 + n} ssh2"
                   for n in range(200)])
    watch.wait_for_actions(1)
    time.sleep(1.5)  # later passes must not fire again within the window
    actions = watch.actions()
    assert len(actions) == 1, actions
    assert actions[0]["count"] == 200 and len(actions[0]["lines"]) == 20
    watch.stop()


def test_burst_spread_over_a_window_and_the_rest_at_its_end(bed):
    watch = bed(ACTION_WINDOW="2")
    watch.start()
    for n in range(6):
        watch.append(f"Nov 21 07:03:0{n} gw sshd[{n}]: Failed password for root from 203.0.113.{n}")
        time.sleep(0.2)
    actions = watch.wait_for_actions(2, timeout=10)
    time.sleep(2.5)
    actions = watch.actions()
    assert len(actions) == 2 and sum(action["count"] for action in actions) == 6
    watch.stop()


def test_rotation_while_watching_and_restart(bed):
    watch = bed()
    watch.start()
    watch.append("Nov 21 07:04:00 gw sshd[1]: Failed password for a")
    watch.wait_for_actions(1)
    os.rename(watch.log, str(watch.log) + ".1")
    # The daemon writes to the rotated file until it reopens its log.
    watch.append("Nov 21 07:04:01 gw sshd[2]: Failed password for b", path=str(watch.log) + ".1")
    watch.append("Nov 21 07:04:02 gw sshd[3]: Failed password for c")
    time.sleep(1.2)  # the next window
    watch.append("Nov 21 07:04:03 gw sshd[4]: Failed password for d")
    deadline = time.monotonic() + 10
    while sum(action["count"] for action in watch.actions()) < 4:
        assert time.monotonic() < deadline, (watch.actions(), watch.messages())
        time.sleep(0.1)
    watch.stop()
    # Stopped: a line is written; the restarted watch fires for it alone.
    watch.append("Nov 21 07:04:04 gw sshd[5]: Failed password for e")
    watch.start()
    deadline = time.monotonic() + 10
    while sum(action["count"] for action in watch.actions()) < 5:
        assert time.monotonic() < deadline, (watch.actions(), watch.messages())
        time.sleep(0.1)
    time.sleep(1.5)
    lines = [line for action in watch.actions() for line in action["lines"]]
    assert sorted(line[-1] for line in lines) == ["a", "b", "c", "d", "e"]  # each once
    watch.stop()


def test_hanging_and_failing_actions_never_block_reading(bed):
    watch = bed(ACTION_TIMEOUT="1")
    watch.start()
    watch.append("Nov 21 07:05:00 gw sshd[1]: Failed password for hang")
    watch.wait_for_actions(1)
    written = watch.append("Nov 21 07:05:01 gw kernel: possible break-in attempt crash")
    actions = watch.wait_for_actions(2)
    assert actions[1]["started"] - written < 2.0  # the hanging action did not hold it up
    watch.wait_for_log("failed: exit status 3")
    watch.wait_for_log("killed after 1 s (ACTION_TIMEOUT)")
    watch.stop()


def test_disappearing_log_is_waited_for(bed):
    watch = bed()
    watch.start()
    os.unlink(watch.log)
    watch.wait_for_log(f"waiting for {watch.log} to appear")
    watch.append("Nov 21 07:06:00 gw sshd[1]: Failed password for back")
    watch.wait_for_log(f"{watch.log} is back")
    (action,) = watch.wait_for_actions(1)
    assert action["lines"] == ["Nov 21 07:06:00 gw sshd[1]: Failed password for back"]
    watch.stop()


def test_without_action_command_it_refuses_to_start(bed, tmp_path):
    watch = bed(ACTION_COMMAND="")
    done = subprocess.run([sys.executable, "-m", "logsieve.cli", "watch", "--allow-root",
                           "-c", str(watch.conf), "-l", str(watch.log)],
                          stderr=subprocess.PIPE, check=False, timeout=30)
    assert done.returncode == 1 and b"ACTION_COMMAND is not set" in done.stderr


def test_burst_key_is_program_and_template():
    miner = TemplateMiner()
    one = b"2026-11-21T07:44:38.930427+00:00 web1 sshd[812]: Failed password for root from 10.0.0.1"
    two = b"Nov 21 07:44:39 web2 sshd[9]: Failed password for root from 10.0.0.77"
    assert burst_key(one, miner) == burst_key(two, miner) == \
        b"sshd: Failed password for root from <ADDR>"
    assert burst_key(b"Nov 21 07:44:39 web2 sshd[9]: Accepted password", miner) != \
        burst_key(two, miner)
    assert burst_key(b"Nov 21 07:44:39 web2 su[9]: Failed password for root from 10.0.0.77",
                     miner) != burst_key(two, miner)
