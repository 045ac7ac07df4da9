"""Reading the sources and classifying their lines, in parallel.

Blocks of whole lines go to worker processes forked after the rules are
compiled (they share the compiled rules), through shared memory; each block's
unknown lines come back the same way, and only the few lines a raise rule
matched cross the pipes.  Results come back in order; at most a few blocks are
in flight, so memory stays bounded however large the log.

Each worker has a pipe of its own, and blocks go round the workers in turn,
so the parent always knows which worker owes it the next result.  A worker
that dies (the kernel's OOM killer, a SIGKILL, a crash in the matcher) closes
its pipe: the parent reads end-of-file there at once and stops the run with
an error naming the process and how it ended, instead of waiting forever for
a result that will never come (as multiprocessing.Pool would).  Nothing is
delivered then and no cursor moves.
"""

import collections
import itertools
import mmap
import multiprocessing
import os
import signal
import traceback

from .engine import BlockResult, Classification, block_matcher_enabled, sort_lines
from .errors import LogsieveError, exit_description
from .lines import whole_line_blocks

MAX_WORKERS = 4

# Shared memory for the blocks in flight: one slot per block, mapped before
# the workers fork.  A block goes in, its events come back in the same slot
# (they are a subset of its lines), so only small messages cross the pipes.
SLOT_SIZE = 2 << 20

_worker_classifier = None  # set in the parent before forking
_worker_slots = None
_worker_fold = None


class Folded:
    """A block's events folded in the worker (by `fold_events`), in place of
    the lines: `taken` is what the events section's absorb() takes."""

    __slots__ = ("taken",)

    def __init__(self, taken):
        self.taken = taken


class WorkerError(LogsieveError):
    """A classifying worker process died or failed: the run stops."""


def classify_sorted(classifier, text):
    """classifier.classify_text(), with sort_events()."""
    return sort_events(classifier.classify_text(text))


def sort_events(result):
    """A BlockResult whose events, out of logcheck's order, are sorted
    (stably, on its key) where the native module can: in the workers, in
    parallel, so that the report's SortedLines only merges runs."""
    if result.order is not None and not result.order[2] and sort_lines is not None \
            and block_matcher_enabled():
        events, first_key, last_key = sort_lines(result.events)
        result = result._replace(events=events, order=(first_key, last_key, True))
    return result


def _classify_slot(slot, length):
    """classify_text() on the block in `slot`, sort_events() unless grouped.
    Its events, the bulk of the result, go back through the same slot: returns (slot, their length, the
    BlockResult without them)."""
    start = slot * SLOT_SIZE
    with memoryview(_worker_slots) as shared:
        result = _worker_classifier.classify_text(shared[start:start + length])
        if _worker_fold is not None:  # grouped: folded, in no particular order
            return slot, Folded(_worker_fold(result.events)), result._replace(events=b"")
        result = sort_events(result)
        shared[start:start + len(result.events)] = result.events
    return slot, len(result.events), result._replace(events=b"")


def default_workers():
    """One worker per usable CPU (at most MAX_WORKERS); LOGSIEVE_WORKERS overrides."""
    configured = os.environ.get("LOGSIEVE_WORKERS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def read_groups(groups):
    """The text blocks of all sources: sources sharing a base name are
    concatenated (as logcheck appends them to one file), groups in order."""
    for group in groups:
        yield from whole_line_blocks(
            itertools.chain.from_iterable(source.chunks() for source in group))


def _serve(connection, inherited):
    """A worker's loop: (slot, length) in, _classify_slot()'s result out;
    None or end-of-file (the parent is gone) ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    for other in inherited:
        other.close()  # the parent's ends of the other pipes: EOF must reach them
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            outcome = ("ok", _classify_slot(*task))
        except Exception:  # noqa: BLE001 - reported by the parent, with the traceback
            outcome = ("error", traceback.format_exc())
        try:
            connection.send(outcome)
        except OSError:
            return


class Workers:
    """Worker processes forked now (they share what the parent holds), each
    with its own pipe; task `number` goes to worker `number % count`."""

    def __init__(self, count):
        context = multiprocessing.get_context("fork")
        self._workers = []  # (process, the parent's end of its pipe)
        for _number in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_serve, args=(theirs, [worker[1] for worker in self._workers] + [ours]),
                name="logsieve-worker", daemon=True)
            process.start()
            theirs.close()
            self._workers.append((process, ours))

    def __len__(self):
        return len(self._workers)

    def send(self, number, task):
        process, connection = self._workers[number % len(self._workers)]
        try:
            connection.send(task)
        except OSError:
            raise self._died(process) from None

    def receive(self, number):
        process, connection = self._workers[number % len(self._workers)]
        try:
            status, outcome = connection.recv()
        except (EOFError, OSError):
            raise self._died(process) from None
        if status == "error":
            raise WorkerError(f"classifying worker process {process.pid} failed: {outcome}")
        return outcome

    @staticmethod
    def _died(process):
        process.join(5)
        how = exit_description(process.exitcode) if process.exitcode is not None \
            else "stopped answering"
        if process.exitcode == -signal.SIGKILL:
            how += " (by the kernel's out-of-memory killer, or by someone)"
        return WorkerError(f"classifying worker process {process.pid} {how}; the run stopped "
                           f"before delivering anything, no cursor moved")

    def close(self):
        for process, connection in self._workers:
            try:
                connection.send(None)
            except OSError:
                pass
            connection.close()
        for process, _pipe in self._workers:
            process.join(1)
            if process.exitcode is None:
                process.kill()
                process.join()
        self._workers = []


def classify_blocks(classifier, blocks, new_section, workers=None, fold_events=None):
    """Classify text blocks into a Classification whose sections are made by
    `new_section` (the report's SortedLines, or GroupedSection under -u).
    `fold_events`: a function the workers run on each block's events instead
    of sending the lines back (the grouped report folds them there, in
    parallel); the events section absorbs what it returns."""
    global _worker_classifier, _worker_slots, _worker_fold
    workers = default_workers() if workers is None else workers
    result = Classification(new_section=new_section)
    in_flight = collections.deque()  # task numbers, oldest first
    window = 2 * workers  # blocks in flight at most
    pool = None
    slots = None
    free_slots = []
    dispatched = 0

    def collect(outcome):
        """Add a BlockResult, or _classify_slot()'s outcome."""
        if not isinstance(outcome, BlockResult):
            slot, length, outcome = outcome
            free_slots.append(slot)
            if isinstance(length, Folded):
                result.events.absorb(length.taken, outcome.event_count)
                outcome = outcome._replace(event_count=0)
            else:
                events = memoryview(slots)[slot * SLOT_SIZE:slot * SLOT_SIZE + length]
                outcome = outcome._replace(events=events)
        result.add_block(outcome)

    try:
        for number, text in enumerate(blocks):
            if workers > 1 and pool is None and number == 1:
                slots = mmap.mmap(-1, window * SLOT_SIZE)  # shared with the children
                free_slots.extend(range(window))
                _worker_classifier, _worker_slots, _worker_fold = classifier, slots, fold_events
                pool = Workers(workers)
                # The first block was classified here; go on in the workers.
            if pool is None:
                # Grouped (-u), the lines are folded in the order they come,
                # as the workers fold theirs: not sorted first.
                collect(classifier.classify_text(text) if fold_events is not None
                        else classify_sorted(classifier, text))
                continue
            if len(in_flight) == window:
                collect(pool.receive(in_flight.popleft()))
            if len(text) <= SLOT_SIZE:
                slot = free_slots.pop()
                slots[slot * SLOT_SIZE:slot * SLOT_SIZE + len(text)] = text
                pool.send(dispatched, (slot, len(text)))
                in_flight.append(dispatched)
                dispatched += 1
            else:
                # A block of very long lines does not fit a slot: the blocks
                # before it are collected, then it is classified here, in order.
                while in_flight:
                    collect(pool.receive(in_flight.popleft()))
                collect(classifier.classify_text(text) if fold_events is not None
                        else classify_sorted(classifier, text))
        while in_flight:
            collect(pool.receive(in_flight.popleft()))
    except BaseException:
        result.close()  # no sort(1) left behind
        raise
    finally:
        if pool is not None:
            pool.close()
        _worker_classifier = _worker_slots = _worker_fold = None
        if slots is not None:
            slots.close()
    return result.finish()
