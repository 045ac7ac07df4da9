"""Mailing a report, and what goes out when it is too large to mail.

A log flood (a first run on an untuned server, a daemon in a loop, an
attacker filling the log) makes a report of tens of megabytes.  Most MTAs
refuse it (postfix's default message_size_limit is 10,240,000 bytes); the
delivery fails, the cursors stay, and every later run fails the same way with
a bigger backlog: the checker would be wedged for good.  So a message larger
than MAX_REPORT_SIZE (default 5M; 0: no limit) is replaced by a digest that
fits, and the full report is kept on the host (archive.py).  The digest says
how large the report was, where the full one is, how many lines each section
has, and then each section in order, whole if it fits, else its grouped
summary (templates with counts, summary.py) as far as it fits: attack alerts
and security events first, so they are never cut before the system events
are.  With -u the sections are grouped already: their first lines are shown.
Then the cursors move as after any delivered report.
"""

import os
import tempfile

from .archive import keep
from .delivery import deliver, spool_message
from .report import section_header
from .summary import format_group
from .templates import TemplateMiner

# Header, notices and the like are small; more of them than this is cut.
TEXT_KEPT = 16 << 10
# A digest line longer than this is cut (a flood of 1 MB lines is still read).
LINE_KEPT = 2000
# Room for the message's headers and MIME framing beside the digest's text.
ENVELOPE = 8 << 10
# The smallest text budget tried before giving up on lines altogether.
SMALLEST_BUDGET = 1 << 10


def mail_report(report, layout, subject, settings, debug=lambda message: None):
    """Deliver the report written to the open file `report` (its parts in
    `layout`, report.Part); when its message is larger than MAX_REPORT_SIZE,
    keep the report and deliver a digest instead.  Raises if delivery failed
    (and then removes the report it kept: the next run reports it again)."""
    limit = settings.max_report_size
    report_size = _size(report)
    message = kept = None
    try:
        # Only a gzipped attachment can make the message smaller than the
        # report: otherwise a report over the limit needs no message to tell.
        if not limit or report_size <= limit or settings.mail_as_attachment == 2:
            message = spool_message(report, subject, settings)
            if limit and wire_size(message) > limit:
                message.close()
                message = None
        if message is None:
            kept = keep(report, settings.state_dir, settings.report_keep_days,
                        settings.report_keep_size)
            debug(f"the report ({report_size} bytes) makes a mail over MAX_REPORT_SIZE={limit}: "
                  f"kept in {kept}, mailing a digest")
            message = _fitting_digest(report, layout, subject, settings, limit, report_size, kept)
        deliver(message, settings)
    except BaseException:
        if kept is not None:
            try:
                os.unlink(kept)
            except OSError:
                pass
        raise
    finally:
        if message is not None:
            message.close()


def _size(handle):
    handle.seek(0, os.SEEK_END)
    return handle.tell()


def wire_size(message):
    """The size of a spooled message as an MTA counts it: with CRLF line ends
    (SMTP sends them; the spool has Unix ones)."""
    size = _size(message)
    message.seek(0)
    return size + sum(block.count(b"\n") for block in iter(lambda: message.read(1 << 20), b""))


def _fitting_digest(report, layout, subject, settings, limit, report_size, kept):
    """The digest's message, with as many lines as fit under `limit`."""
    budget = max(limit - ENVELOPE, SMALLEST_BUDGET)
    while True:
        with tempfile.TemporaryFile(dir=settings.temporary_directory()) as text:
            write_digest(report, layout, text, budget, limit, report_size, kept,
                         grouped=bool(settings.syslog_summary))
            message = spool_message(text, subject, settings)
        # Line ends, headers and quoted-printable make the message larger
        # than its text: shrink the text by as much as the message is over.
        size = wire_size(message)
        if size <= limit or budget <= SMALLEST_BUDGET:
            return message
        message.close()
        budget = max(min(budget * limit // size * 97 // 100, budget - 1024), SMALLEST_BUDGET)


def write_digest(report, layout, out, budget, limit, report_size, kept, grouped=False):
    """Write the digest of the report in `report` (parts in `layout`) to
    `out`, the lines of its sections within `budget` bytes.  A section that
    fits goes whole; one that does not is shown as its grouped summary
    (templates with counts, summary.py), as far as that fits, unless the
    report is `grouped` already (-u): then its first lines."""
    sections = [part for part in layout if part.kind != "text"]
    out.write((f"This report is too large to mail: {report_size} bytes, over MAX_REPORT_SIZE "
               f"({limit} bytes).\nThe full report is kept on this host, gzip-compressed and "
               f"readable by the checker's user only:\n\n    {kept}\n\n"
               f"Lines per section:\n").encode("utf-8", "surrogateescape"))
    for part in sections:
        out.write(f"  {part.lines:9d}  {part.title}\n".encode("utf-8", "surrogateescape"))
    out.write(b"\n")
    # Section titles and the note on a cut section need room whatever happens.
    reserve = sum(len(part.title.encode("utf-8", "surrogateescape")) * 2 + 80
                  for part in sections)
    remaining = max(budget - reserve, 0)
    for part in layout:
        if part.kind == "text":
            out.write(_read(report, part.start, min(part.end - part.start, TEXT_KEPT)))
            continue
        out.write(section_header(part.title))
        lines, total, what = _lines(report, part.start, part.end), part.lines, "lines"
        if not grouped and part.end - part.start + part.lines > remaining:
            groups = _groups(report, part)
            out.write(f"({part.lines} lines, grouped into {len(groups)} templates with their "
                      f"counts; the lines are in the full report)\n".encode())
            lines = (line for group in groups for line in format_group(group).split(b"\n")[:-1])
            total, what = sum(format_group(group).count(b"\n") for group in groups), \
                "lines of the grouped summary"
        shown = 0
        for line in lines:
            if len(line) > LINE_KEPT:
                line = line[:LINE_KEPT] + b" [cut]"
            if len(line) + 1 > remaining:
                break
            out.write(line + b"\n")
            remaining -= len(line) + 1
            shown += 1
        if shown < total:
            out.write(f"[... {total - shown} more of {total} {what}: see the full "
                      f"report]\n".encode())
        out.write(b"\n")


def _groups(report, part):
    """The grouped summary's groups of a section of the report file."""
    miner = TemplateMiner()
    batch, size = [], 0
    for line in _lines(report, part.start, part.end):
        batch.append(line)
        size += len(line)
        if size >= 1 << 20:
            miner.add_block(b"\n".join(batch))
            batch, size = [], 0
    if batch:
        miner.add_block(b"\n".join(batch))
    return miner.groups()


def _read(handle, start, length):
    handle.seek(start)
    return handle.read(length)


def _lines(handle, start, end):
    """The lines of [start, end) of an open file, without newlines, a block
    at a time (a line longer than a block is cut to LINE_KEPT)."""
    handle.seek(start)
    position, pending = start, b""
    while position < end:
        block = handle.read(min(1 << 20, end - position))
        if not block:
            break
        position += len(block)
        data = pending + block
        lines = data.split(b"\n")
        pending = lines.pop()
        if len(pending) > LINE_KEPT:
            pending = pending[:LINE_KEPT + 1]
        yield from lines
    if pending:
        yield pending
