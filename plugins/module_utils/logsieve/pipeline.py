"""Reading the sources and classifying their lines, in parallel.

Blocks of whole lines go to worker processes forked after the rules are
compiled (they share the compiled rules); each block comes back as one bytes
object of events plus the few lines a raise rule matched, which is cheap to
send between processes.  Results come back in order; at most a few blocks are
in flight, so memory stays bounded however large the log.
"""

import collections
import itertools
import multiprocessing
import os

from .engine import Classification

MAX_WORKERS = 4

_worker_classifier = None  # set in the parent before forking


def _classify_in_worker(text):
    return _worker_classifier.classify_text(text)


def default_workers():
    """One worker per usable CPU (at most MAX_WORKERS); LOGSIEVE_WORKERS overrides."""
    configured = os.environ.get("LOGSIEVE_WORKERS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def whole_line_blocks(chunks):
    """Blocks of whole lines (joined by newlines, no final newline) from a
    stream of byte chunks; a last line without a newline is a block too."""
    pending = b""
    for chunk in chunks:
        data = pending + chunk if pending else chunk
        end = data.rfind(b"\n")
        if end < 0:
            pending = data
            continue
        pending = data[end + 1:]
        yield data[:end]
    if pending:
        yield pending


def read_groups(groups):
    """The text blocks of all sources: sources sharing a base name are
    concatenated (as logcheck appends them to one file), groups in order."""
    for group in groups:
        yield from whole_line_blocks(
            itertools.chain.from_iterable(source.chunks() for source in group))


def classify_blocks(classifier, blocks, new_section, workers=None):
    """Classify text blocks into a Classification whose sections are made by
    `new_section` (the report's SortedLines)."""
    global _worker_classifier
    workers = default_workers() if workers is None else workers
    result = Classification(new_section=new_section)
    events = result.events
    in_flight = collections.deque()
    pool = None

    def collect(outcome):
        count, events_text, event_count, placed = outcome
        result.lines += count
        if event_count:
            events.write_text(events_text, event_count)
        result.add_placed(placed)

    try:
        for number, text in enumerate(blocks):
            if workers > 1 and pool is None and number == 1:
                _worker_classifier = classifier
                pool = multiprocessing.get_context("fork").Pool(workers)
                # The first block was classified here; go on in the workers.
            if pool is None:
                collect(classifier.classify_text(text))
                continue
            in_flight.append(pool.apply_async(_classify_in_worker, (text,)))
            if len(in_flight) > 2 * workers:
                collect(in_flight.popleft().get())
        while in_flight:
            collect(in_flight.popleft().get())
    except BaseException:
        result.close()  # no sort(1) left behind
        raise
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        _worker_classifier = None
    return result.finish()
