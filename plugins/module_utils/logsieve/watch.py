"""`logsieve watch`: metalog-style immediate actions.

The periodic check reports once an hour; some lines should page someone at
once.  `watch` follows the same logs (and the journal) with the same sources
and classifies each new line with the same classifier; for every attack and
violation line it runs ACTION_COMMAND from logcheck.conf, as the checker's
user, without a shell (the command is split into words as the shell would;
write `sh -c '...'` to have one): the lines on standard input,
LOGSIEVE_SECTION (`attack` or `violations`), LOGSIEVE_COUNT and
LOGSIEVE_TEMPLATE in the environment.

Bursts: lines of one template (burst_key: the program and the message's
skeleton, as the grouped report's template miner masks it) within
ACTION_WINDOW seconds are one action.  The first line of a template starts a window and its action at
once, with every line of that template read in the same pass; lines of it
that arrive later in the window are held and, when the window closes, go out
as one more action (count and lines).  Actions carry at most
ACTION_MAX_LINES lines; the count is always complete.

Position: watch keeps its own cursors, in $STATEDIR/watch/, in the same
format as the periodic check's (rotation aware), and never touches the
periodic check's.  On its first start it begins at the end of every log.  It
saves its position after each pass, once the actions of that pass started:
a restart goes on where it stopped.  A log that disappears is waited for (it
is read again from its start when it comes back).

Actions never block reading: each runs in its own process group with its
lines in a temporary file as standard input; one that runs longer than
ACTION_TIMEOUT seconds is killed, and a failing, hanging or killed action is
logged to standard error (the journal, under systemd).
"""

import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

from .config import ConfigError
from .cursor import remove_stale_temporaries
from .errors import LogsieveError
from .lines import whole_line_blocks
from . import syslogline
from .templates import TemplateMiner
from .sources import FileSource, SourceError

STATE_SUBDIR = "watch"


class WatchError(LogsieveError):
    pass


def action_command(settings):
    """ACTION_COMMAND split into words as the shell would (no shell runs it)."""
    command = shlex.split(settings.action_command)
    if not command:
        raise ConfigError("ACTION_COMMAND is not set in logcheck.conf: logsieve watch needs "
                          "a command to run for attack and violation lines")
    return command


# --- Which lines are one burst ------------------------------------------------

def burst_key(line, miner):
    """The template a line belongs to for grouping bursts: its program and the
    skeleton the grouped report's template miner (templates.py) gives its
    message (addresses, numbers, ids, times masked by type)."""
    header = syslogline.parse(line)
    skeleton = miner.skeleton_of(header.message)[0]
    return (header.program or b"") + b": " + b" ".join(skeleton)


class Burst:
    """Lines of one (section, template) within one window."""

    def __init__(self, section, key, now):
        self.section = section
        self.key = key
        self.opened = now
        self.count = 0
        self.lines = []

    def add(self, line, limit):
        self.count += 1
        if len(self.lines) < limit:
            self.lines.append(line)


class Actions:
    """Runs ACTION_COMMAND for bursts; never waits for one."""

    def __init__(self, command, timeout, max_running, log):
        self.command = command
        self.timeout = timeout
        self.max_running = max_running
        self.log = log
        self.running = []  # (process, started, description)
        self.waiting = []  # bursts waiting for a free slot
        self.started = 0

    def start(self, burst):
        self.waiting.append(burst)
        self.poll()

    def _launch(self, burst):
        stdin = tempfile.TemporaryFile()
        stdin.write(b"".join(line + b"\n" for line in burst.lines))
        stdin.seek(0)
        environment = dict(os.environ, LOGSIEVE_SECTION=burst.section,
                           LOGSIEVE_COUNT=str(burst.count),
                           LOGSIEVE_TEMPLATE=burst.key.decode("utf-8", "replace"))
        description = f"{self.command[0]} ({burst.section}, {burst.count} line(s))"
        try:
            process = subprocess.Popen(self.command, stdin=stdin, stdout=subprocess.DEVNULL,
                                       env=environment, start_new_session=True)
        except OSError as error:
            self.log(f"action {description} could not start: {error.strerror}")
            return
        finally:
            stdin.close()
        self.started += 1
        self.running.append((process, time.monotonic(), description))

    def poll(self):
        """Reap finished actions, kill those over their time limit, start waiting ones."""
        now = time.monotonic()
        still = []
        for process, started, description in self.running:
            status = process.poll()
            if status is None and now - started > self.timeout:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
                self.log(f"action {description} killed after {self.timeout:g} s "
                         f"(ACTION_TIMEOUT)")
            elif status is None:
                still.append((process, started, description))
            elif status != 0:
                self.log(f"action {description} failed: "
                         + (f"killed by signal {-status}" if status < 0
                            else f"exit status {status}"))
        self.running = still
        while self.waiting and len(self.running) < self.max_running:
            self._launch(self.waiting.pop(0))


def _log_to_stderr(message):
    """The watcher's default log: a line on standard error, at once."""
    sys.stderr.write(f"logsieve watch: {message}\n")
    sys.stderr.flush()


class Watcher:
    """Follows `sources` (objects with chunks() and commit(), as the
    periodic check's, on the watch's own state directory), classifies their
    lines and starts actions."""

    def __init__(self, classifier, sources, command, settings, log=None):
        """settings: config.Settings (ACTION_* and WATCH_INTERVAL)."""
        self.classifier = classifier
        self.sources = sources
        self.window = settings.action_window
        self.max_lines = int(settings.action_max_lines)
        self.interval = settings.watch_interval
        self.log = log or _log_to_stderr
        self.actions = Actions(command, settings.action_timeout,
                               int(settings.action_max_running), self.log)
        self.bursts = {}  # (section, key) -> Burst of the open window
        self.miner = TemplateMiner()
        self.missing = set()  # sources being waited for
        self.stopping = False

    def prime(self):
        """Start at the end of every source watch has no position for yet,
        without an action (a log missing now is read from its start once it
        appears)."""
        for source in self.sources:
            if os.path.exists(source.offset_file):
                continue
            try:
                for _chunk in source.chunks():
                    pass
                source.commit()
            except SourceError:
                self._waiting_for(source)

    def _waiting_for(self, source):
        if source not in self.missing:
            self.missing.add(source)
            self.log(f"waiting for {getattr(source, 'logfile', source.name)} to appear")

    def read(self, source):
        """The new whole lines of one source; the position is saved with
        commit() once they were handled."""
        text = b"".join(source.chunks())
        tail = len(text) - (text.rfind(b"\n") + 1)
        if tail and isinstance(source, FileSource):
            source.hold_back(tail)  # a line still being written: read it whole next time
            text = text[:len(text) - tail]
        return text

    def handle(self, text, now):
        """Classify `text` (whole lines) and open or feed bursts."""
        fresh = []
        for block in whole_line_blocks([text]):
            placed = self.classifier.classify_text(block).placed
            for line, attack_names, violation_names, _hits in placed:
                section = "attack" if attack_names else "violations" if violation_names else None
                if section is None:
                    continue
                key = (section, burst_key(line, self.miner))
                burst = self.bursts.get(key)
                if burst is None:
                    burst = self.bursts[key] = Burst(section, key[1], now)
                    fresh.append(burst)
                burst.add(line, self.max_lines)
        for burst in fresh:
            # The start of a burst: its action at once, with what was read.
            self.actions.start(burst)
            self.bursts[(burst.section, burst.key)] = Burst(
                burst.section, burst.key, burst.opened)

    def close_windows(self, now):
        for key, burst in list(self.bursts.items()):
            if now - burst.opened >= self.window:
                del self.bursts[key]
                if burst.count:
                    self.actions.start(burst)

    def step(self):
        now = time.monotonic()
        for source in self.sources:
            try:
                text = self.read(source)
            except SourceError:
                self._waiting_for(source)
                continue
            if source in self.missing:
                self.missing.discard(source)
                self.log(f"{getattr(source, 'logfile', source.name)} is back")
            if text:
                self.handle(text, now)
                source.commit()  # only when something was read: no write per pass
        self.close_windows(now)
        self.actions.poll()

    def run(self):
        def stop(signum, frame):
            self.stopping = True
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not self.stopping:
            started = time.monotonic()
            self.step()
            time.sleep(max(0.0, self.interval - (time.monotonic() - started)))
        return 0


def state_directory(statedir):
    """$STATEDIR/watch, created owner-only; whether it existed before."""
    path = os.path.join(statedir, STATE_SUBDIR)
    existed = os.path.isdir(path)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError as error:
        raise WatchError(f"cannot create the watch state directory {path}: "
                         f"{error.strerror}") from None
    remove_stale_temporaries(path)
    return path, existed


__all__ = ["Watcher", "WatchError", "action_command", "burst_key", "state_directory"]
