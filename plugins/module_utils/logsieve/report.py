"""The report: logcheck's order, sections and text.

logcheck sorts the new lines with `sort -k 1,3 -s` (or `sort -u` when
SORTUNIQ=1) before anything else, then strips trailing white space.
Filtering does not change relative order, so logsieve sorts only the lines that
end up in the report, with the same sort(1) in the C locale: the order is
logcheck's by construction, and sort(1) keeps memory bounded (it spills to
private temporary files beyond its buffer) whatever the log's size.  Lines
that arrive in order already (a log is written in time order) skip sort(1).
With the native module, lines that arrive nearly in order (each log file is
in time order; classic stamps leave lines of one second out of sort(1)'s
order; a central server's per-host files each start again) skip it too: each
block is sorted on its own and the sorted runs are merged (see SortedLines).
"""

import fcntl
import functools
import itertools
import os
import subprocess
import tempfile
import threading
from typing import NamedTuple

from .engine import RunMerger, block_matcher_enabled, sort_lines, split_runs
from .lines import has_trailing_whitespace, sort_order, stripped_blocks, whole_line_blocks
from .errors import CommandError, LogsieveError

SORT_BUFFER = "16M"  # sort(1) spills to temporary files beyond this
BLOCK_SIZE = 1 << 20
# Merging sorted runs reads each through a buffer of its own: together at
# most MERGE_BUFFERS bytes (at least MERGE_MIN_BUFFER each).  Beyond MAX_RUNS
# runs (lines in no order at all, millions of them) sort(1) takes over, which
# keeps memory bounded whatever the input.
MERGE_BUFFERS = 16 << 20
MERGE_MIN_BUFFER = 16 << 10
MAX_RUNS = MERGE_BUFFERS // MERGE_MIN_BUFFER
# Runs holding this much are merged in two parts at once, on two cores (see
# SortedLines.blocks); below it a second thread costs more than it saves.
SPLIT_MERGE_SIZE = 8 << 20


def _widen_pipe(stream):
    """A 1 MiB pipe buffer (Linux's default upper limit) so that writing a
    block of lines seldom waits while sort(1) sorts a run: the classifying
    workers go on meanwhile."""
    try:
        fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
    except (AttributeError, OSError):
        pass  # the default size works too, only slower


class ReportError(LogsieveError):
    pass


class SortedLines:
    """Lines fed in input order, read back in logcheck's order.

    Logs are written in time order, so the lines usually arrive in sort(1)'s
    order already: they are kept in a private temporary file and read back
    as they are.  With the native module, a block out of order is sorted on
    its own (stably, on the same key) before it is written, and the file
    holds sorted runs (a new one starts where a block's first key is below
    the last key written); they are merged when read back, ties going to the
    earlier run: a stable sort of the whole, as sort(1)'s.  Without it (or
    beyond MAX_RUNS runs, or for `sort -u`), sort(1) takes over at the first
    line out of order: it is given the file so far, then the rest as it
    comes.  An empty instance costs nothing.

    With `as_read` the lines stay in input order and as read (LogSentry's
    report, which neither sorts nor strips).
    """

    def __init__(self, unique=False, tmpdir=None, as_read=False):
        self.command = ["sort", "-S", SORT_BUFFER]
        self.tmpdir = tmpdir  # config.temporary_directory(), or None
        if self.tmpdir:
            self.command += ["-T", self.tmpdir]
        self.command += ["-u"] if unique else ["-k", "1,3", "-s"]
        self.unique = unique
        self.as_read = as_read
        self.count = 0
        self.needs_strip = False  # whether some line ends in white space
        self._file = None  # the lines while they are in order, or in runs
        self._last_key = None
        self._size = 0  # bytes written to the file
        self._runs = [[0, 0]]  # (offset, length) of the file's sorted runs
        self._merge = (not unique and not as_read and RunMerger is not None
                       and block_matcher_enabled())
        self._process = None  # sort(1), once they are not
        self._errors = None   # sort(1)'s standard error, for the error message

    def __len__(self):
        return self.count

    def extend(self, lines):
        if lines:
            text = b"\n".join(lines)
            self.write_text(text, len(lines), has_trailing_whitespace(text), sort_order(lines))

    def write_text(self, text, count, strip, order):
        """Add `count` lines given as one bytes-like object joined by
        newlines; `strip`: whether some of them end in white space; `order`:
        their lines.sort_order()."""
        first_key, last_key, in_order = order
        if self._process is None and self._merge:
            if not in_order:
                text, first_key, last_key = sort_lines(text)
            if self._last_key is not None and first_key < self._last_key:
                if len(self._runs) < MAX_RUNS:
                    self._runs.append([self._size, 0])
                else:
                    self._start_sort()
            self._last_key = last_key
            if self._process is None:
                self._write_run(text)
                self.count += count
                self.needs_strip = self.needs_strip or strip
                return
        elif self._process is None:
            if not self.as_read and (self.unique or not in_order
                                     or (self._last_key is not None
                                         and first_key < self._last_key)):
                self._start_sort()
            self._last_key = last_key
        target = self._process.stdin if self._process is not None else self._open_file()
        try:
            target.write(text)
            target.write(b"\n")
        except BrokenPipeError:
            raise self._sort_failed() from None
        self.count += count
        self.needs_strip = not self.as_read and (self.needs_strip or strip)

    def _open_file(self):
        if self._file is None:
            self._file = tempfile.TemporaryFile(dir=self.tmpdir)
        return self._file

    def _write_run(self, text):
        """Append lines to the last run of the file."""
        target = self._open_file()
        target.write(text)
        target.write(b"\n")
        size = len(text) + 1
        self._size += size
        self._runs[-1][1] += size

    def _start_sort(self):
        environment = dict(os.environ, LC_ALL="C")
        self._errors = tempfile.TemporaryFile(dir=self.tmpdir)
        try:
            self._process = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=self._errors,
                                             env=environment)
        except OSError as error:
            raise ReportError(f"could not run {self.command[0]}: {error.strerror}") from None
        _widen_pipe(self._process.stdin)
        if self._file is not None:
            self._file.flush()
            size = self._file.tell()
            self._file.seek(0)
            try:
                self._process.stdin.flush()
                _copy_file(self._file, self._process.stdin, size)
            except BrokenPipeError:
                raise self._sort_failed() from None
            self._file.close()
            self._file = None

    def blocks(self, strip=False):
        """The sorted lines as blocks of whole lines, each ending in a newline;
        with `strip`, without their trailing white space (lines.strip_line)."""
        if self._file is not None and self._merge and (len(self._runs) > 1 or strip):
            # merged (or only stripped: one run) by the native module
            self._file.flush()
            runs = [tuple(run) for run in self._runs]
            if len(runs) > 1 and self._size >= SPLIT_MERGE_SIZE and split_runs is not None \
                    and len(os.sched_getaffinity(0)) > 1:
                yield from self._merged_in_two(runs, strip)
            else:
                merger = RunMerger(self._file.fileno(), runs,
                                   max(MERGE_MIN_BUFFER, MERGE_BUFFERS // len(runs)), strip)
                yield from iter(functools.partial(merger.read, BLOCK_SIZE), b"")
            self.close()
            return
        if strip:
            yield from stripped_blocks(self.blocks())
            return
        if self._file is not None:
            self._file.flush()
            self._file.seek(0)
            source = self._file
        elif self._process is not None:
            try:
                self._process.stdin.close()
            except BrokenPipeError:
                raise self._sort_failed() from None
            source = self._process.stdout
        else:
            return
        yield from whole_line_blocks(iter(functools.partial(source.read, BLOCK_SIZE), b""),
                                     newlines=True)
        if self._process is not None and self._process.wait() != 0:
            raise self._sort_failed()
        self.close()

    def _merged_in_two(self, runs, strip):
        """The runs merged as blocks() gives them, on two cores: every run is
        cut at one key (split_runs), the lines below it are merged here while
        a thread merges the rest into a private temporary file, read back
        after them.  Ties are all above the cut, so the order is the same."""
        fd = self._file.fileno()
        cuts = split_runs(fd, runs)
        buffer = max(MERGE_MIN_BUFFER, MERGE_BUFFERS // (2 * len(runs)))
        lower = RunMerger(fd, [(offset, cut - offset) for (offset, _length), cut
                               in zip(runs, cuts)], buffer, strip)
        upper = RunMerger(fd, [(cut, offset + length - cut) for (offset, length), cut
                               in zip(runs, cuts)], buffer, strip)
        with tempfile.TemporaryFile(dir=self.tmpdir) as spill:
            sizes, failure = [], []

            def merge_upper():
                try:
                    for block in iter(functools.partial(upper.read, BLOCK_SIZE), b""):
                        spill.write(block)
                        sizes.append(len(block))
                    spill.flush()
                except BaseException as error:  # noqa: BLE001 - raised below, in the reader
                    failure.append(error)

            thread = threading.Thread(target=merge_upper, name="logsieve-merge", daemon=True)
            thread.start()
            try:
                yield from iter(functools.partial(lower.read, BLOCK_SIZE), b"")
            finally:
                thread.join()
            if failure:
                raise failure[0]
            spill.seek(0)
            for size in sizes:
                yield spill.read(size)

    def _sort_failed(self):
        """The error for a sort(1) that ended or failed before its time."""
        self._process.wait()
        self._errors.seek(0)
        return CommandError(self.command, self._process.returncode, self._errors.read(64 << 10))

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._process is not None:
            if self._process.returncode is None:
                self._process.kill()
                self._process.wait()
            try:
                self._process.stdin.close()
            except BrokenPipeError:
                pass  # lines still buffered for the sort(1) just killed
            self._process.stdout.close()
            self._process = None
        if self._errors is not None:
            self._errors.close()
            self._errors = None


def _copy_file(source, pipe, size):
    """Copy `size` bytes of an open file into a pipe, in the kernel."""
    offset = 0
    while offset < size:
        sent = os.sendfile(pipe.fileno(), source.fileno(), offset, size - offset)
        if sent == 0:
            raise ReportError("the temporary file of report lines ended early")
        offset += sent


def section_header(title):
    """A section title and logcheck's alternating =-=- underline."""
    underline = "".join("=" if position % 2 == 0 else "-" for position in range(len(title)))
    return f"{title}\n{underline}\n".encode("utf-8")


def report_blocks(lines):
    """A section's lines (SortedLines) in report order, as blocks of whole
    lines ending in newlines, trailing white space stripped as logcheck does."""
    return lines.blocks(strip=lines.needs_strip)


def write_section(out, title, lines):
    """Write one section (title, lines, blank line) if `lines` has any.
    Returns the number of lines written under the title (0: none, no title)."""
    blocks = report_blocks(lines)
    first = next(blocks, None)
    if first is None:
        return 0
    out.write(section_header(title))
    written = 0
    for block in itertools.chain([first], blocks):
        out.write(block)
        if lines.unique:  # sort -u left fewer than were added
            written += block.count(b"\n")
    out.write(b"\n")
    return written if lines.unique else len(lines)


class Part(NamedTuple):
    """Where a part of a report written to a file lies: `kind` is "text"
    (notices, header, errors, footer: [start, end) is all of it) or the
    section's kind ("attack", "security", "events"), with its `title`, its
    number of `lines` and [start, end) the bytes of its lines."""
    kind: str
    title: str
    lines: int
    start: int
    end: int


def read_optional(path):
    """header.txt / footer.txt: included when readable, as logcheck does."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""
