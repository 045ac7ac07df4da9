"""The report as JSON Lines (`--format json`), for programs that read it.

One object a line, always valid JSON whatever bytes the log holds: text is
decoded as UTF-8 and bytes that are not UTF-8 stay visible as `\\xff`
escapes.  Without -u, one object per reported line, with the template its
line falls in under -u; with -u, one object per group.  The schema is
documented in the README ("JSON report").
"""

import json
import tempfile

from .report import report_blocks
from .summary import group_lines, group_section
from .syslogline import iso_time, parse
from .templates import most_frequent

TOP_VALUES = 10


def text(value):
    """Bytes as JSON text: UTF-8, anything else escaped as \\xNN."""
    return None if value is None else value.decode("utf-8", "backslashreplace")


def _write(out, document):
    out.write(json.dumps(document, ensure_ascii=False).encode("utf-8") + b"\n")


def _slots(group):
    return [{"type": slot.kind, "text": text(slot.shape),
             "values": [[text(value), count] for value, count in slot.top(TOP_VALUES)]}
            for slot in group.slots()]


def group_object(title, group):
    return {"section": title, "template": text(group.template.text),
            "program": text(group.program), "count": group.count,
            "first": iso_time(group.first_time), "last": iso_time(group.last_time),
            "hosts": {text(host): count for host, count in most_frequent(group.hosts)},
            "placeholders": _slots(group)}


def line_object(title, line, template):
    header = parse(line)
    return {"section": title, "line": text(line), "time": iso_time(header.stamp),
            "host": text(header.host), "program": text(header.program),
            "pid": int(header.pid) if header.pid else None,
            "message": text(header.message), "template": text(template.text)}


def write_lines(out, title, lines):
    """One object per line of a section: its lines are read once to learn the
    templates (kept meanwhile in a private temporary file), then again."""
    with tempfile.TemporaryFile() as copy:
        def copied():
            for block in report_blocks(lines):
                copy.write(block)
                yield from block[:-1].split(b"\n")
        miner = group_lines(copied())
        miner.groups()
        copy.seek(0)
        for raw in copy:
            line = raw[:-1]
            _write(out, line_object(title, line, miner.template_of(parse(line).message)))


def write_json_report(out, sections, summary, notices=(), errors=()):
    """`sections`: (title, SortedLines) pairs in report order."""
    for title, messages in (("Notices", notices), ("Errors", errors)):
        for message in messages:
            _write(out, {"section": title,
                         "line": text(message.strip().encode("utf-8", "surrogateescape"))})
    for title, lines in sections:
        if summary:
            for group in group_section(lines):
                _write(out, group_object(title, group))
        else:
            write_lines(out, title, lines)
