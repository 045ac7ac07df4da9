"""Fault injection: never lose an alert, never repeat a delivered one.

Many rounds of: append numbered lines to two logs (some lines a rule
ignores), sometimes rotate them (create, copytruncate, gzip right away,
dateext), then run the real checker and sometimes kill it with SIGKILL at a
random moment, while the sendmail stand-in sometimes refuses the message.

Definitions (the README states the same):
- delivered: a line appears in a message the stand-in accepted.
- lost: a line no rule ignores that was never delivered.
- duplicated: a line delivered again after a run that delivered it exited
  successfully (exit status 0: its delivery completed and its cursors were
  committed), or a line twice in one message.
A run killed after its sendmail accepted the message but before its cursors
were saved leads to the same lines being delivered again: that is the
at-least-once guarantee, counted apart as "redelivered after a kill".

LOGSIEVE_FAULT_ROUNDS and LOGSIEVE_FAULT_SEED change the rounds and the seed.
"""

import collections
import datetime
import email
import email.policy
import gzip
import os
import random
import shutil
import signal
import time

import pytest

from tests.reliability.bed import Bed, reported_numbers

ROUNDS = int(os.environ.get("LOGSIEVE_FAULT_ROUNDS", "150"))
SEED = int(os.environ.get("LOGSIEVE_FAULT_SEED", str(int(time.time()))))
KILL_PROBABILITY = 0.4
SENDMAIL_FAILURE = 0.25
KEEP_GENERATIONS = 40


def compress(path):
    with open(path, "rb") as source, gzip.open(path + ".gz", "wb") as target:
        shutil.copyfileobj(source, target)
    shutil.copystat(path, path + ".gz")
    os.unlink(path)


def rotate_numbered(log, mode, compressed):
    """logrotate's numbered scheme: shift .N(.gz) to .N+1, then create or
    copytruncate into .1, then (no delaycompress) gzip it at once."""
    for index in range(KEEP_GENERATIONS, 0, -1):
        for suffix in ("", ".gz"):
            older = f"{log}.{index}{suffix}"
            if os.path.exists(older):
                if index == KEEP_GENERATIONS:
                    os.unlink(older)
                else:
                    os.rename(older, f"{log}.{index + 1}{suffix}")
    if mode == "create":
        os.rename(log, log + ".1")
        open(log, "ab").close()
    else:
        shutil.copyfile(log, log + ".1")
        with open(log, "r+b") as handle:
            handle.truncate(0)
    if compressed:
        compress(log + ".1")


def rotate_dated(log, day, compressed):
    target = f"{log}-{day:%Y%m%d}"
    os.rename(log, target)
    open(log, "ab").close()
    if compressed:
        compress(target)


class Ledger:
    """What was appended, what was delivered, and what counts as what."""

    def __init__(self):
        self.reportable = set()
        self.ignorable = set()
        self.deliveries = collections.Counter()
        self.committed = set()          # delivered before a run that exited 0
        self.duplicated = []
        self.redelivered_after_kill = 0
        self.seen_files = set()
        self.messages = 0

    def collect(self, bed):
        for name in sorted(os.listdir(bed.maildir)):
            if name.startswith(".") or name in self.seen_files:
                continue
            self.seen_files.add(name)
            self.messages += 1
            with open(os.path.join(bed.maildir, name), "rb") as handle:
                body = email.message_from_binary_file(
                    handle, policy=email.policy.default).get_content()
            numbers = reported_numbers(body)
            counts = collections.Counter(numbers)
            for number, count in counts.items():
                if number in self.committed or count > 1:
                    self.duplicated.append(number)
                elif self.deliveries[number]:
                    self.redelivered_after_kill += 1
                self.deliveries[number] += count
            ignored = reported_numbers(body, "ignoreme")
            assert not ignored, f"ignored lines were reported: {ignored}"

    def run_succeeded(self):
        self.committed.update(number for number, count in self.deliveries.items() if count)


@pytest.mark.fault
def test_fault_injection(capsys):
    rng = random.Random(SEED)
    bed = Bed(logs=("syslog", "auth.log"))
    syslog, auth = bed.logs
    ledger = Ledger()
    figures = collections.Counter()
    day = datetime.date(2026, 1, 1)
    next_number = 1
    durations = [0.5]
    events = []
    started = time.monotonic()
    # As after installation: the checker has seen each (empty) log once.
    # Lines written before it ever ran, then rotated away, are not its to find.
    first = bed.run()
    assert first.returncode == 0, first.stderr.decode()
    try:
        for round_number in range(ROUNDS):
            for log in bed.logs:
                texts = []
                for _text in range(rng.randint(0, 12)):
                    if rng.random() < 0.2:
                        texts.append(f"ignoreme {next_number}")
                        ledger.ignorable.add(next_number)
                    else:
                        texts.append(f"line {next_number}")
                        ledger.reportable.add(next_number)
                    next_number += 1
                bed.append(log, texts)
                figures["lines appended"] += len(texts)
                if texts:
                    events.append(f"round {round_number}: {os.path.basename(log)} += "
                                  f"{texts[0].split()[-1]}..{texts[-1].split()[-1]}")
            if rng.random() < 0.3:
                mode = rng.choice(["create", "copytruncate"])
                compressed = rng.random() < 0.5
                rotate_numbered(syslog, mode, compressed)
                events.append(f"round {round_number}: syslog rotated {mode} gzip={compressed}")
                figures[f"rotations {mode}{' + gzip' if compressed else ''}"] += 1
            if rng.random() < 0.2:
                day += datetime.timedelta(days=1)
                compressed = rng.random() < 0.5
                rotate_dated(auth, day, compressed)
                events.append(f"round {round_number}: auth.log rotated dateext gzip={compressed}")
                figures[f"rotations dateext{' + gzip' if compressed else ''}"] += 1

            begun = time.monotonic()
            checker = bed.start(FAKE_SENDMAIL_FAIL=SENDMAIL_FAILURE)
            killed = False
            if rng.random() < KILL_PROBABILITY:
                time.sleep(rng.uniform(0, 1.1 * sorted(durations)[len(durations) // 2]))
                if checker.poll() is None:
                    checker.send_signal(signal.SIGKILL)
                    killed = True
            errors = checker.communicate(timeout=60)[1]
            if not killed:
                durations.append(time.monotonic() - begun)
            # a sendmail started by a killed run finishes on its own
            bed.wait_for_stand_ins()
            ledger.collect(bed)
            events.append(f"round {round_number}: run killed={killed} "
                          f"exit={checker.returncode} messages={ledger.messages}")
            if killed:
                figures["kills"] += 1
            elif checker.returncode == 0:
                ledger.run_succeeded()
                figures["successful runs"] += 1
            elif b"stand-in: temporary failure" in errors:
                figures["failed deliveries"] += 1
            else:
                pytest.fail(f"round {round_number}: unexpected failure "
                            f"{checker.returncode}: {errors.decode()}")

        # the end: a run with no fault delivers whatever is left
        final = bed.run()
        assert final.returncode == 0, final.stderr.decode()
        bed.wait_for_stand_ins()
        ledger.collect(bed)
        ledger.run_succeeded()
    finally:
        elapsed = time.monotonic() - started

    lost = sorted(ledger.reportable - set(ledger.deliveries))
    delivered_ignored = sorted(ledger.ignorable & set(ledger.deliveries))
    with capsys.disabled():
        print(f"\nfault injection (seed {SEED}, {elapsed:.0f} s):")
        print(f"  rounds: {ROUNDS}")
        print(f"  kills: {figures['kills']}")
        print(f"  failed deliveries: {figures['failed deliveries']}")
        print(f"  successful runs: {figures['successful runs'] + 1}")
        for name in sorted(figures):
            if name.startswith("rotations"):
                print(f"  {name}: {figures[name]}")
        print(f"  lines appended: {figures['lines appended']} "
              f"({len(ledger.reportable)} reportable, {len(ledger.ignorable)} ignored by a rule)")
        print(f"  messages delivered: {ledger.messages}")
        print(f"  lines delivered: {len(ledger.deliveries)} distinct, "
              f"{sum(ledger.deliveries.values())} in all")
        print(f"  redelivered after a kill (at least once): {ledger.redelivered_after_kill}")
        print(f"  lines lost: {len(lost)}")
        print(f"  duplicated: {len(ledger.duplicated)}")
    if lost or ledger.duplicated:
        with open(os.path.join(bed.path, "events"), "w") as handle:
            handle.write("\n".join(events) + "\n")
        print(f"bed kept for inspection: {bed.path} (events in {bed.path}/events)")
    assert not lost, f"lost lines: {lost[:20]}"
    assert not ledger.duplicated, f"duplicated lines: {ledger.duplicated[:20]}"
    assert not delivered_ignored
    assert figures["kills"] > 0 and figures["failed deliveries"] > 0
    shutil.rmtree(bed.path, ignore_errors=True)
