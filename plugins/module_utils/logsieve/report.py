"""The report: logcheck's order, sections and text.

logcheck sorts the new lines with `sort -k 1,3 -s` (or `sort -u` when
SORTUNIQ=1) before anything else, then strips trailing white space.
Filtering does not change relative order, so logsieve sorts only the lines that
end up in the report, with the same sort(1) in the C locale: the order is
logcheck's by construction, and sort(1) keeps memory bounded (it spills to
private temporary files beyond its buffer) whatever the log's size.
"""

import fcntl
import itertools
import os
import re
import subprocess

from .engine import TRAILING_WHITESPACE

SORT_BUFFER = "16M"  # sort(1) spills to temporary files beyond this
BLOCK_SIZE = 1 << 20


# Every white space byte but newline, mapped to CR: one search then finds a
# line that ends in any of them.
_BLANKS_TO_CR = bytes.maketrans(b" \t\v\f", b"\r\r\r\r")


def has_trailing_whitespace(text):
    """Whether a line of `text` (lines joined by newlines) ends in white space."""
    marked = text.translate(_BLANKS_TO_CR)
    return b"\r\n" in marked or marked.endswith(b"\r")


def _widen_pipe(stream):
    """A 1 MiB pipe buffer (Linux's default upper limit) so that writing a
    block of lines seldom waits while sort(1) sorts a run: the classifying
    workers go on meanwhile."""
    try:
        fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
    except (AttributeError, OSError):
        pass  # the default size works too, only slower


class ReportError(Exception):
    pass


class SortedLines:
    """Lines fed in input order, read back in logcheck's order.

    sort(1) starts with the first line; an empty instance costs nothing.
    """

    def __init__(self, unique=False, tmpdir=None):
        self.command = ["sort", "-S", SORT_BUFFER]
        if tmpdir and os.path.isdir(tmpdir):
            self.command += ["-T", tmpdir]
        self.command += ["-u"] if unique else ["-k", "1,3", "-s"]
        self.count = 0
        self._process = None

    def __len__(self):
        return self.count

    def extend(self, lines):
        if lines:
            self.write_text(b"\n".join(lines), len(lines))

    def write_text(self, text, count):
        """Add `count` lines given as one bytes object joined by newlines."""
        if self._process is None:
            environment = dict(os.environ, LC_ALL="C")
            self._process = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, env=environment)
            _widen_pipe(self._process.stdin)
        self._process.stdin.write(text + b"\n")
        self.count += count

    def blocks(self):
        """The sorted lines as blocks of whole lines, each ending in a newline."""
        if self._process is None:
            return
        self._process.stdin.close()
        pending = b""
        while True:
            chunk = self._process.stdout.read(BLOCK_SIZE)
            if not chunk:
                break
            data = pending + chunk if pending else chunk
            end = data.rfind(b"\n") + 1
            pending = data[end:]
            if end:
                yield data[:end]
        if self._process.wait() != 0:
            raise ReportError(f"sort exited with status {self._process.returncode}")
        self._process = None
        if pending:
            yield pending + b"\n"

    def close(self):
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def stripped_blocks(blocks):
    """Blocks with trailing white space removed from every line."""
    for block in blocks:
        if has_trailing_whitespace(block[:-1]):
            block = b"\n".join(line.rstrip(TRAILING_WHITESPACE)
                               for line in block[:-1].split(b"\n")) + b"\n"
        yield block


def section_header(title):
    """A section title and logcheck's alternating =-=- underline."""
    underline = "".join("=" if position % 2 == 0 else "-" for position in range(len(title)))
    return f"{title}\n{underline}\n".encode("utf-8")


_SUMMARY_PREFIX = re.compile(
    rb"^(?:\w{3} [ :0-9]{11}|\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d)?) ")
_PID = re.compile(rb"^(\S+ [^\s\[]+)\[\d+\]:")


def summarize(blocks):
    """Group identical messages (ignoring time stamp and process id) with counts.

    logcheck's -u hands sections to syslog-summary, which Debian no longer
    ships; this is logsieve's own grouping, in first-seen order.  (Our own
    patterns on our own data: rules never go through Python's `re`.)
    """
    counts = {}
    for block in blocks:
        for line in block[:-1].split(b"\n"):
            message = _SUMMARY_PREFIX.sub(b"", line, count=1)
            message = _PID.sub(b"\\1:", message, count=1)
            counts[message] = counts.get(message, 0) + 1
    yield b"".join(b"%7d %s\n" % (count, message) for message, count in counts.items())


def write_section(out, title, lines, summary=False):
    """Write one section (title, lines, blank line) if `lines` has any."""
    blocks = stripped_blocks(lines.blocks())
    first = next(blocks, None)
    if first is None:
        return False
    out.write(section_header(title))
    for block in summarize(itertools.chain([first], blocks)) if summary \
            else itertools.chain([first], blocks):
        out.write(block)
    out.write(b"\n")
    return True


def read_optional(path):
    """header.txt / footer.txt: included when readable, as logcheck does."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""
