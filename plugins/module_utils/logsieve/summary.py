"""The grouped report (`-u`, SYSLOGSUMMARY=1) and the per-program overview
(SYSLOGSUMMARY=2, `--overview`).

logcheck's -u handed each section to syslog-summary, which Debian no longer
ships and which folded identical messages only.  Here each section's lines
fold into templates (templates.TemplateMiner): one line per template and
program with its count, then when and where it was seen and the most
frequent values of each placeholder, so that nothing an administrator acts
on is lost while the mail gets short.  Sections, titles and their order stay
logcheck's; groups are in the order of their first time.
"""

from collections import Counter

from .report import report_blocks, section_header
from .syslogline import parse
from .templates import OTHERS, Slot, TemplateMiner, most_frequent, placeholder, split_token

TOP_VALUES = 5
TOP_HOSTS = 5
INDENT = b" " * 10
OVERVIEW_TITLE = "Lines per program"


def group_lines(lines):
    """Fold an iterable of report lines (bytes) into templates, line by line:
    the miner, its groups are in miner.groups()."""
    miner = TemplateMiner()
    for line in lines:
        miner.add(parse(line))
    return miner


class GroupedSection:
    """A report section under -u: its lines are folded as they arrive, by
    the pipeline's workers (absorb) or here, and never kept."""

    def __init__(self):
        self.miner = TemplateMiner()
        self.count = 0

    def __len__(self):
        return self.count

    def extend(self, lines):
        if lines:
            self.miner.add_block(b"\n".join(lines))
            self.count += len(lines)

    def write_text(self, text, count, strip, order):
        """As SortedLines.write_text (white space and order do not matter here)."""
        self.miner.add_block(bytes(text))
        self.count += count

    def absorb(self, taken, count):
        self.miner.absorb(taken)
        self.count += count

    def close(self):
        pass


_worker_miner = None


def fold_block(text):
    """In a pipeline worker: fold one block's lines (a bytes-like object);
    what GroupedSection.absorb() takes.  The worker's miner keeps its caches
    from block to block."""
    global _worker_miner
    if _worker_miner is None:
        _worker_miner = TemplateMiner()
    return _worker_miner.take_block(bytes(text))


def group_section(lines):
    """The Groups of a section (SortedLines or GroupedSection), in the order
    of their first time."""
    if isinstance(lines, GroupedSection):
        return lines.miner.groups()
    miner = TemplateMiner()
    for block in report_blocks(lines):
        miner.add_block(block)
    return miner.groups()


def _counted(counter, top):
    """`value (count), ...` for the most frequent values, and how many more."""
    shown = [(value, count) for value, count in most_frequent(counter, top + 1)
             if value != OTHERS][:top]
    text = b", ".join(b"%s (%d)" % (value if value else b'""', count) for value, count in shown)
    rest = len(counter) - len(shown) - (OTHERS in counter)
    if rest > 0 or OTHERS in counter:
        text += b", +%d%s more" % (rest, b"+" if OTHERS in counter else b"")
    return text


def format_group(group):
    """A group as report text: the count and template, then one indented
    line for when and where, and one for each placeholder's values.  A
    group whose placeholders each hold one value (a group of one line, or
    the same line repeated) shows its message instead: it is shorter to
    read than a template with a line for each value."""
    program = group.program + b": " if group.program else b""
    slots = group.slots()
    message = _message(group, slots)
    if message is not None:
        text = [b"%7d  %s%s\n" % (group.count, program, message)]
        slots = []
    else:
        text = [b"%7d  %s%s\n" % (group.count, program, group.template.text)]
    if group.first_time is None:
        if message is not None and not group.hosts:
            return text[0]  # nothing more to say of it (no header)
        when = b"time unknown"
    elif group.first_time == group.last_time:
        when = b"at %s" % group.first_time
    else:
        when = b"from %s to %s" % (group.first_time, group.last_time)
    if group.hosts:
        when += b" on " + (_counted(group.hosts, TOP_HOSTS) if len(group.hosts) > 1
                           else next(iter(group.hosts)))
    text.append(INDENT + when + b"\n")
    constant = []
    for slot in slots:
        if slot.kind == "MIXED":  # its values are whole tokens: show them without the
            slot = _without_punctuation(slot)  # punctuation the template shows
        if group.count > 1 and len(slot.values) == 1 and OTHERS not in slot.values:
            constant.append(slot.shape + b" " + (next(iter(slot.values)) or b'""'))
        elif slot.values:
            text.append(INDENT + slot.shape + b" " + _counted(slot.values, TOP_VALUES) + b"\n")
    if constant:
        text.append(INDENT + b"every line: " + b", ".join(constant) + b"\n")
    return b"".join(text)


def _message(group, slots):
    """The template with each placeholder's only value put back, or None
    when a placeholder has more than one (a word with digits holds its
    whole token, the others the value inside their shape)."""
    tokens = list(group.template.skeleton)
    for position, slot in zip(sorted(group.template.kinds), slots):
        if len(slot.values) != 1 or OTHERS in slot.values:
            return None
        value = next(iter(slot.values))
        tokens[position] = value if slot.kind == "MIXED" else \
            slot.shape.replace(placeholder(slot.kind), value, 1)
    return b" ".join(tokens)


def _without_punctuation(slot):
    values = Counter()
    for value, count in slot.values.items():
        values[split_token(value)[1] if value != OTHERS else value] += count
    return Slot(slot.kind, slot.shape, values)


def write_groups(out, title, groups):
    """Write one grouped section (title, groups, blank line) if it has any;
    the number of lines written under the title."""
    if not groups:
        return 0
    out.write(section_header(title))
    written = 0
    for group in groups:
        text = format_group(group)
        out.write(text)
        written += text.count(b"\n")
    out.write(b"\n")
    return written


def program_counts(grouped):
    """(lines, program, section title) for every program of every section,
    most lines first; `grouped`: (title, groups) pairs."""
    counts = Counter()
    for title, groups in grouped:
        for group in groups:
            counts[(group.program or b"(no program)", title)] += group.count
    return sorted(((count, program, title) for (program, title), count in counts.items()),
                  key=lambda row: (-row[0], row[1], row[2]))


def write_overview(out, grouped):
    """A few lines at the top of the report: where the lines come from."""
    rows = program_counts(grouped)
    if not rows:
        return
    out.write(section_header(OVERVIEW_TITLE))
    width = max(len(program) for _count, program, _title in rows)
    for count, program, title in rows:
        out.write(b"%7d  %s  %s\n" % (count, program.ljust(width), title.encode("utf-8")))
    out.write(b"\n")
