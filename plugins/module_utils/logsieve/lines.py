"""Log lines as logcheck handles them: white space, the sort key, blocks.

The engine, the pipeline, the report, the sources and `logsieve test` all
strip, sort and split lines with these helpers, so that a line means the
same to each of them.  Python's `re` here works on our own data, never on
rules.  This module imports nothing of logsieve's.
"""

import re
from operator import le

# [[:space:]] in the C locale: what logcheck strips from the end of a line
# (sed 's/[[:space:]]\+$//') and what makes a rule line blank.
WHITESPACE = b" \t\n\v\f\r"
# Every white space byte but newline, mapped to CR: one search then finds a
# line that ends in any of them.
_BLANKS_TO_CR = bytes.maketrans(b" \t\v\f", b"\r\r\r\r")
_BLANKS = WHITESPACE.replace(b"\n", b"")  # within a line

# The key of logcheck's `sort -k 1,3 -s` in the C locale: up to the end of the
# third field (runs of non-blanks, each with the blanks before it).
_SORT_KEY = re.compile(rb"(?:[ \t\n]*[^ \t\n]*){3}")


def strip_line(line):
    """A line without its trailing white space, as rules see it."""
    return line.rstrip(WHITESPACE)


def has_trailing_whitespace(text):
    """Whether a line of `text` (lines joined by newlines) ends in white space."""
    marked = text.translate(_BLANKS_TO_CR)
    return b"\r\n" in marked or marked.endswith(b"\r")


def stripped_blocks(blocks):
    """Blocks (each ending in a newline) with every line stripped."""
    for block in blocks:
        marked = block.translate(_BLANKS_TO_CR)
        end = marked.find(b"\r\n")
        if end < 0:
            yield block
            continue
        # Only the lines that end in white space are cut (few, as a rule):
        # each piece runs from a newline to the end of such a line.
        pieces = []
        start = 0
        while end >= 0:
            pieces.append(block[start:end + 1].rstrip(_BLANKS))
            start = end + 1
            end = marked.find(b"\r\n", start)
        pieces.append(block[start:])  # from the last such line's newline on
        yield b"".join(pieces)


def sort_order(lines):
    """(first sort key, last sort key, whether the keys never decrease) for a
    non-empty list of lines; bytes compare as sort(1) does in the C locale."""
    keys = [line[:_SORT_KEY.match(line).end()] for line in lines]
    return keys[0], keys[-1], all(map(le, keys, keys[1:]))


def whole_line_blocks(chunks, newlines=False):
    """Blocks of whole lines (joined by newlines, no final newline) from a
    stream of byte chunks; a last line without a newline is a block too.
    With `newlines`, every block ends in a newline, the last one included."""
    pending = b""
    for chunk in chunks:
        data = pending + chunk if pending else chunk
        end = data.rfind(b"\n")
        if end < 0:
            pending = data
            continue
        pending = data[end + 1:]
        yield data[:end + 1] if newlines else data[:end]
    if pending:
        yield pending + b"\n" if newlines else pending


def split_lines(chunks):
    """Lines (without newline) of a stream of byte chunks; a last line without
    a final newline is still a line, as sort(1) reads it."""
    pending = b""
    for chunk in chunks:
        if pending:
            chunk = pending + chunk
        lines = chunk.split(b"\n")
        pending = lines.pop()
        yield from lines
    if pending:
        yield pending
