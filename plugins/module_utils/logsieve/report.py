"""The report: logcheck's order, sections and text.

logcheck sorts the new lines with `sort -k 1,3 -s` (or `sort -u` when
SORTUNIQ=1) before anything else, then strips trailing white space.
Filtering does not change relative order, so logsieve sorts only the lines that
end up in the report, with the same sort(1) in the C locale: the order is
logcheck's by construction, and sort(1) keeps memory bounded (it spills to
private temporary files beyond its buffer) whatever the log's size.  Lines
that arrive in order already (a log is written in time order) skip sort(1).
"""

import fcntl
import functools
import itertools
import os
import re
import subprocess
import tempfile
from typing import NamedTuple

from .lines import has_trailing_whitespace, sort_order, stripped_blocks, whole_line_blocks
from .errors import CommandError, LogsieveError

SORT_BUFFER = "16M"  # sort(1) spills to temporary files beyond this
BLOCK_SIZE = 1 << 20


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
    as they are.  At the first line out of order, sort(1) takes over: it is
    given the file so far, then the rest as it comes.  An empty instance
    costs nothing.
    """

    def __init__(self, unique=False, tmpdir=None):
        self.command = ["sort", "-S", SORT_BUFFER]
        self.tmpdir = tmpdir  # config.temporary_directory(), or None
        if self.tmpdir:
            self.command += ["-T", self.tmpdir]
        self.command += ["-u"] if unique else ["-k", "1,3", "-s"]
        self.unique = unique
        self.count = 0
        self.needs_strip = False  # whether some line ends in white space
        self._file = None  # the lines while they are in order
        self._last_key = None
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
        if self._process is None:
            if self.unique or not in_order or (self._last_key is not None
                                               and first_key < self._last_key):
                self._start_sort()
            elif self._file is None:
                self._file = tempfile.TemporaryFile(dir=self.tmpdir)
        self._last_key = last_key
        target = self._process.stdin if self._process is not None else self._file
        try:
            target.write(text)
            target.write(b"\n")
        except BrokenPipeError:
            raise self._sort_failed() from None
        self.count += count
        self.needs_strip = self.needs_strip or strip

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

    def blocks(self):
        """The sorted lines as blocks of whole lines, each ending in a newline."""
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


_SUMMARY_PREFIX = re.compile(
    rb"^(?:\w{3} [ :0-9]{11}|\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d)?) ")
_PID = re.compile(rb"^(\S+ [^\s\[]+)\[\d+\]:")


# Distinct messages -u holds in memory (roughly, in bytes) before sort(1)
# takes the grouping over: a flood of distinct lines must not grow memory.
SUMMARY_MEMORY = 32 << 20


def _messages(blocks):
    """The lines of `blocks` without time stamp and process id."""
    for block in blocks:
        for line in block[:-1].split(b"\n"):
            message = _SUMMARY_PREFIX.sub(b"", line, count=1)
            yield _PID.sub(b"\\1:", message, count=1)


def summarize(blocks, tmpdir=None, memory=SUMMARY_MEMORY):
    """Group identical messages (ignoring time stamp and process id) with counts.

    logcheck's -u hands sections to syslog-summary, which Debian no longer
    ships; this is logsieve's own grouping, in first-seen order.  (Our own
    patterns on our own data: rules never go through Python's `re`.)  Up to
    `memory` bytes of distinct messages are counted in memory; beyond, sort(1)
    groups them, spilling to temporary files, so memory stays bounded.
    """
    counts = {}
    held = 0
    messages = _messages(blocks)
    for message in messages:
        count = counts.get(message)
        if count is not None:
            counts[message] = count + 1
            continue
        counts[message] = 1
        held += len(message) + 100  # the message and its dictionary entry
        if held > memory:
            yield from _summarize_with_sort(counts, messages, tmpdir)
            return
    yield from _in_blocks(b"%7d %s\n" % (count, message) for message, count in counts.items())


def _in_blocks(lines):
    batch, size = [], 0
    for line in lines:
        batch.append(line)
        size += len(line)
        if size >= BLOCK_SIZE:
            yield b"".join(batch)
            batch, size = [], 0
    if batch:
        yield b"".join(batch)


class _Sort:
    """sort(1) in the C locale with our arguments; its standard error kept
    for the error message."""

    def __init__(self, arguments, tmpdir):
        self.command = ["sort", "-S", SORT_BUFFER] + (["-T", tmpdir] if tmpdir else []) \
            + arguments
        self.errors = tempfile.TemporaryFile(dir=tmpdir)
        try:
            self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=self.errors,
                                            env=dict(os.environ, LC_ALL="C"))
        except OSError as error:
            self.errors.close()
            raise ReportError(f"could not run sort: {error.strerror}") from None

    def write(self, data):
        try:
            self.process.stdin.write(data)
        except BrokenPipeError:
            raise self.failed() from None

    def output(self):
        """Close its input; its output in blocks (sort writes only then)."""
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            raise self.failed() from None
        yield from iter(functools.partial(self.process.stdout.read, BLOCK_SIZE), b"")
        self.process.stdout.close()
        if self.process.wait() != 0:
            raise self.failed()
        self.errors.close()

    def failed(self):
        self.process.kill()
        self.process.wait()
        self.errors.seek(0)
        return CommandError(self.command, self.process.returncode, self.errors.read(64 << 10))

    def close(self):
        if self.process.returncode is None:
            self.process.kill()
            self.process.wait()
        self.errors.close()


def _summarize_with_sort(counts, rest, tmpdir):
    """summarize() beyond memory: `counts` so far (in first-seen order) and
    the `rest` of the messages, grouped by sort(1): once by message (stable,
    so each group starts with its first occurrence), then by first occurrence."""
    by_message = _Sort(["-t", "\t", "-k", "3", "-s"], tmpdir)
    by_first = None
    try:
        position = 0
        for position, (message, count) in enumerate(counts.items()):
            by_message.write(b"%012d\t%d\t%s\n" % (position, count, message))
        counts.clear()
        for block in _in_blocks(b"%012d\t1\t%s\n" % (number, message)
                                for number, message in enumerate(rest, start=position + 1)):
            by_message.write(block)
        by_first = _Sort([], tmpdir)
        group, first, total = None, b"", 0
        for block in whole_line_blocks(by_message.output()):
            grouped = []
            for line in block.split(b"\n"):
                number, count, message = line.split(b"\t", 2)
                if message == group:
                    total += int(count)
                    continue
                if group is not None:
                    grouped.append(b"%s\t%7d %s\n" % (first, total, group))
                group, first, total = message, number, int(count)
            by_first.write(b"".join(grouped))
        if group is not None:
            by_first.write(b"%s\t%7d %s\n" % (first, total, group))
        for block in whole_line_blocks(by_first.output(), newlines=True):
            yield b"".join(line[13:] + b"\n" for line in block[:-1].split(b"\n"))
    finally:
        by_message.close()
        if by_first is not None:
            by_first.close()


def write_section(out, title, lines, summary=False):
    """Write one section (title, lines, blank line) if `lines` has any.
    Returns the number of lines written under the title (0: none, no title)."""
    blocks = stripped_blocks(lines.blocks()) if lines.needs_strip else lines.blocks()
    first = next(blocks, None)
    if first is None:
        return 0
    out.write(section_header(title))
    written = 0
    blocks = itertools.chain([first], blocks)
    if summary:
        blocks = summarize(blocks, lines.tmpdir)
    for block in blocks:
        out.write(block)
        written += block.count(b"\n")
    out.write(b"\n")
    return written


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
