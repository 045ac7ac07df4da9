"""Reading the sources and classifying their lines, in parallel.

Blocks of whole lines go to worker processes forked after the rules are
compiled (they share the compiled rules), through shared memory; each block's
unknown lines come back the same way, and only the few lines a raise rule
matched cross the pipes.  Results come back in order; at most a few blocks are
in flight, so memory stays bounded however large the log.
"""

import collections
import itertools
import mmap
import multiprocessing
import os

from .engine import BlockResult, Classification, block_matcher_enabled, sort_lines
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


def _classify_in_worker(text):
    if _worker_fold is not None:  # grouped: the events section folds them as they come
        return _worker_classifier.classify_text(text)
    return classify_sorted(_worker_classifier, text)


def _classify_slot(slot, length):
    """classify_text() on the block in `slot`, sort_events() unless grouped.  Its events, the bulk of the
    result, go back through the same slot: returns (slot, their length, the
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


def classify_blocks(classifier, blocks, new_section, workers=None, fold_events=None):
    """Classify text blocks into a Classification whose sections are made by
    `new_section` (the report's SortedLines, or GroupedSection under -u).
    `fold_events`: a function the workers run on each block's events instead
    of sending the lines back (the grouped report folds them there, in
    parallel); the events section absorbs what it returns."""
    global _worker_classifier, _worker_slots, _worker_fold
    workers = default_workers() if workers is None else workers
    result = Classification(new_section=new_section)
    in_flight = collections.deque()
    window = 2 * workers  # blocks in flight at most
    pool = None
    slots = None
    free_slots = []

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
                pool = multiprocessing.get_context("fork").Pool(workers)
                # The first block was classified here; go on in the workers.
            if pool is None:
                # Grouped (-u), the lines are folded in the order they come,
                # as the workers fold theirs: not sorted first.
                collect(classifier.classify_text(text) if fold_events is not None
                        else classify_sorted(classifier, text))
                continue
            if len(in_flight) == window:
                collect(in_flight.popleft().get())
            if len(text) <= SLOT_SIZE:
                slot = free_slots.pop()
                slots[slot * SLOT_SIZE:slot * SLOT_SIZE + len(text)] = text
                in_flight.append(pool.apply_async(_classify_slot, (slot, len(text))))
            else:  # a block of very long lines: sent through the pipe
                in_flight.append(pool.apply_async(_classify_in_worker, (text,)))
        while in_flight:
            collect(in_flight.popleft().get())
    except BaseException:
        result.close()  # no sort(1) left behind
        raise
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        _worker_classifier = _worker_slots = _worker_fold = None
        if slots is not None:
            slots.close()
    return result.finish()
