"""The C++ block matcher classifies exactly as google-re2's per-line calls do,
and report sections come out in sort(1)'s order whether or not they skip it."""

import os
import random
import subprocess
import sys
from collections import Counter

import pytest

from benchmarks import corpus
from logsieve import engine, syslogline, templates
from logsieve.engine import Classifier
from logsieve.levels import REPORT_LEVELS
from logsieve.lines import sort_order
from logsieve.report import SortedLines
from logsieve.rules import SYSLOG_PREFIX, RuleTree
from logsieve.syslogline import time_key

DEBIAN_RULES = "/etc/logcheck"

# Lines that have broken checkers before: empty, blank, white space at either
# end, CR, NUL, invalid UTF-8, fewer than three fields, a 1 MiB line, a day
# padded with a blank, and keys that compare equal.
ADVERSARIAL = [
    b"",
    b"   ",
    b"\t leading blanks",
    b"Nov 21 10:00:00 host app[1]: trailing blanks \t ",
    b"Nov 21 10:00:00 host app[1]: crlf\r",
    b"Nov 21 10:00:00 host app[1]: \x00 nul \x00",
    b"Nov 21 10:00:00 host app[1]: invalid \xff\xfe utf-8 \xe9",
    b"two fields",
    b"Nov 21 10:00:00 host app[1]: " + b"x" * (1 << 20),
    b"Nov  1 10:00:00 host CRON[12]: (root) CMD (true)",
    b"Nov 21 10:00:00 host app[1]: same key, first",
    b"Nov 21 10:00:00 host app[1]: same key, second",
    b"2026-11-21T10:00:00.000001+00:00 host sshd[5]: Invalid user admin from 192.0.2.1 port 22",
    b"Nov 21 09:59:59 host su[7]: (to root) alice on pts/0",
]


def classifier(tree, native, monkeypatch, locale_name=None):
    monkeypatch.setenv("LOGSIEVE_BLOCKMATCH", "1" if native else "0")
    built = Classifier(tree, support_cracking_ignore=True, locale_name=locale_name)
    assert (built.quiet._block_matcher is not None) == native
    return built


def blocks_of(lines, size):
    return [b"\n".join(lines[start:start + size]) for start in range(0, len(lines), size)]


def test_block_matcher_is_built():
    assert engine.BlockMatcher is not None, (
        "logsieve._blockmatch was not built: install g++, python3-dev and libre2-dev, "
        "then reinstall logsieve (make venv)")


# Lines beyond ASCII, which a UTF-8 locale matches on the slower path.
BEYOND_ASCII = [
    b"Nov 21 10:00:00 host sshd[5]: Disconnected from invalid user ora\xffcle 192.0.2.1 port 22 [preauth]",
    b"Nov 21 10:00:00 host sshd[5]: Disconnected from invalid user \xc3\xa9mile 192.0.2.1 port 22 [preauth]",
    b"Nov 21 10:00:00 host su[7]: (to root) \xc3\xa9mile on pts/0",
    b"Nov 21 10:00:00 h\xc3\xb6st CRON[12]: (root) CMD (caf\xe9)",
]


@pytest.mark.debian
@pytest.mark.parametrize("locale_name", [None, "C.UTF-8"])
@pytest.mark.parametrize("level", REPORT_LEVELS)
def test_same_classification_on_debian_rules(level, locale_name, monkeypatch):
    tree = RuleTree(DEBIAN_RULES, level)
    lines = [line.encode() for line in corpus.lines(6000, 0.5, seed=7)] + ADVERSARIAL
    lines[::500] = BEYOND_ASCII * (len(lines[::500]) // len(BEYOND_ASCII)) + BEYOND_ASCII[
        :len(lines[::500]) % len(BEYOND_ASCII)]
    native = classifier(tree, True, monkeypatch, locale_name)
    per_line = classifier(tree, False, monkeypatch, locale_name)
    for block in blocks_of(lines, 1000) + [b"\n".join(ADVERSARIAL)]:
        expected = per_line.classify_text(block)
        assert native.classify_text(block) == expected
        assert native.classify_text(memoryview(block)) == expected  # shared memory
    # Not vacuous: which lines are events depends on the locale (the rule
    # for the sshd line is a server one).
    events = per_line.classify_text(b"\n".join(BEYOND_ASCII)).events
    assert (b"ora\xffcle" in events) == (locale_name is not None or level == "paranoid")


def write_rules(directory, files):
    for name, rules in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(rule + "\n" for rule in rules))


def test_same_classification_with_raise_and_back_reference_rules(tmp_path, monkeypatch):
    # A back-reference rule is confirmed by `regex`: a line RE2 lets through
    # and `regex` rejects is an event again, in its place among the others.
    # (\4: the syslog prefix has three groups of its own.)
    write_rules(tmp_path, {
        "ignore.d.server/app": [SYSLOG_PREFIX + r"app\[[0-9]+\]: (ping|pong) \4$",
                                SYSLOG_PREFIX + r"app\[[0-9]+\]: tick$"],
        "cracking.d/app": [r"app\[[0-9]+\]: attack"],
        "cracking.ignore.d/app": [r"app\[[0-9]+\]: attack drill"],
        "violations.d/app": [r"app\[[0-9]+\]: denied"],
        "violations.ignore.d/app": [r"app\[[0-9]+\]: denied harmless"],
    })
    tree = RuleTree(str(tmp_path), "server")
    messages = ["ping ping", "ping pong", "tick", "attack now", "attack drill", "denied",
                "denied harmless", "other", "pong pong", "tick tock"]
    lines = [f"Nov 21 10:00:{second % 60:02d} host app[{second}]: {messages[second % 10]}"
             .encode() for second in range(200)]
    native = classifier(tree, True, monkeypatch)
    per_line = classifier(tree, False, monkeypatch)
    for block in blocks_of(lines, 37):
        result = native.classify_text(block)
        count, events, event_count, strip, order, placed, _timeouts, _counts = result
        assert result == per_line.classify_text(block)
        assert b"ping pong" in events and b"tick tock" in events and b"pong pong" not in events
        assert event_count == events.count(b"\n") + 1
        assert order == sort_order(events.split(b"\n"))
        assert {line.split(b": ", 1)[1] for line, *_placement in placed} == {
            b"attack now", b"attack drill", b"denied", b"denied harmless"}


def sort_reference(lines, unique=False):
    """What sort(1) itself makes of the lines, as logcheck runs it."""
    command = ["sort", "-u"] if unique else ["sort", "-k", "1,3", "-s"]
    output = subprocess.run(command, input=b"".join(line + b"\n" for line in lines),
                            stdout=subprocess.PIPE, check=True,
                            env=dict(os.environ, LC_ALL="C")).stdout
    return output.split(b"\n")[:-1]


def read_back(section):
    return b"".join(section.blocks()).split(b"\n")[:-1]


def feed(section, blocks):
    for block in blocks:
        text = b"\n".join(block)
        section.write_text(text, len(block), False, sort_order(block))


IN_ORDER = [b"Nov  9 23:59:59 host a: 1", b"Nov 10 00:00:00 host a: 2",
            b"Nov 10 00:00:00 host a: 1", b"Nov 10 00:00:00 host a: 1",
            b"Nov 10 00:00:01 host", b"Nov 10 00:00:01 host\t b: 3"]


def sorted_lines(tmp_path, monkeypatch, native, **options):
    """A SortedLines that merges runs itself (native) or hands them to sort(1)."""
    monkeypatch.setenv("LOGSIEVE_BLOCKMATCH", "1" if native else "0")
    section = SortedLines(tmpdir=str(tmp_path), **options)
    assert section._merge == (native and not options.get("unique"))
    return section


def test_lines_in_order_skip_sort(tmp_path):
    assert sort_reference(IN_ORDER) == IN_ORDER
    section = SortedLines(tmpdir=str(tmp_path))
    feed(section, [IN_ORDER[:3], IN_ORDER[3:]])
    assert section._process is None
    assert read_back(section) == IN_ORDER


@pytest.mark.parametrize("blocks", [
    [IN_ORDER[:3], [b"Nov  9 23:59:58 host a: 0"], IN_ORDER[3:]],      # between blocks
    [IN_ORDER[:4], [b"Dec  1 00:00:00 host a: 0", b"Nov 30 00:00:00 host a: 0"]],  # within
    [IN_ORDER, [b"2026-11-21T10:00:00.1+00:00 web a: 1"]],             # formats mixed
])
@pytest.mark.parametrize("native", [True, False], ids=["merged", "sort(1)"])
def test_lines_out_of_order_are_sorted_as_sort_does(blocks, native, tmp_path, monkeypatch):
    section = sorted_lines(tmp_path, monkeypatch, native)
    feed(section, blocks)
    # Natively, blocks are sorted on their own and merged: no sort(1).
    assert (section._process is None) == native
    lines = [line for block in blocks for line in block]
    assert read_back(section) == sort_reference(lines)
    assert section.count == len(lines)


def test_unique_lines_always_go_through_sort(tmp_path):
    section = SortedLines(unique=True, tmpdir=str(tmp_path))
    feed(section, [IN_ORDER])
    assert read_back(section) == sort_reference(IN_ORDER, unique=True)


# --- Per-run rule counts (BlockMatch.counts, BlockResult.counts) ----------------

def reference_counts(tree, lines):
    """(hits, sole) of each counted rule, every line matched against every
    ignore.d rule on its own (coverage.count), sole among ignore.d rules,
    over the lines no raise rule placed... and those it did: a hit is a hit."""
    from logsieve import coverage

    ignore = [rule for _name, rules in sorted(tree.ignore.items()) for rule in rules]
    hits, sole = coverage.count(ignore, lines)
    return tuple((hits[ignore.index(rule)], sole[ignore.index(rule)])
                 for rule in coverage.counted_per_run(tree))


def summed(results):
    totals = None
    for result in results:
        pairs = list(result.counts)
        totals = pairs if totals is None else [
            (hits + more, sole + more_sole) for (hits, sole), (more, more_sole) in zip(totals, pairs)]
    return tuple(totals)


@pytest.mark.parametrize("locale_name", [None, "C.UTF-8"])
def test_native_and_pure_counts_agree_and_are_exact(tmp_path, monkeypatch, locale_name):
    write_rules(tmp_path, {
        "ignore.d.server/app": [SYSLOG_PREFIX + r"app\[[0-9]+\]: tick$",
                                SYSLOG_PREFIX + r"app\[[0-9]+\]: t.*$"],
        "ignore.d.server/local-app": [
            SYSLOG_PREFIX + r"app\[[0-9]+\]: tick$",                # shares every hit
            SYSLOG_PREFIX + r"app\[[0-9]+\]: (ping|pong) \4$",      # back-reference: confirmed
            SYSLOG_PREFIX + r"app\[[0-9]+\]: [[:alpha:]]+ ping$",   # sole hits
            SYSLOG_PREFIX + r"app\[[0-9]+\]: attack drill$",        # on a raised line
            SYSLOG_PREFIX + r"app\[[0-9]+\]: caf. .*$",              # beyond ASCII too
            SYSLOG_PREFIX + r"app\[[0-9]+\]: never$"],
        "ignore.d.server/local": [SYSLOG_PREFIX + r"app\[[0-9]+\]: .* ping$"],
        "cracking.d/app": [r"app\[[0-9]+\]: attack"],
        "violations.d/app": [r"app\[[0-9]+\]: denied"],
    })
    tree = RuleTree(str(tmp_path), "server")
    messages = ["ping ping", "ping pong", "tick", "attack now", "attack drill", "denied",
                "pong ping", "other", "tock", "caf\xe9 ok", "caf\u00e9 \u00e9t\u00e9", "x ping"]
    lines = [f"Nov 21 10:00:{second % 60:02d} host app[{second}]: {messages[second % 12]}"
             .encode("utf-8" if second % 24 < 12 else "latin-1") for second in range(240)]
    native = classifier(tree, True, monkeypatch, locale_name)
    per_line = classifier(tree, False, monkeypatch, locale_name)
    assert len(native.counted) == 7
    results = []
    for block in blocks_of(lines, 37):
        # every pattern's counts, and the counted rules'
        attention = native._attention
        assert (native.quiet.classify_block(block, attention).counts
                == per_line.quiet.classify_block(block, attention).counts)
        result = native.classify_text(block)
        assert result == per_line.classify_text(block)
        results.append(result)
    totals = summed(results)
    if locale_name is None:  # coverage.count matches as the C locale does
        assert totals == reference_counts(tree, lines)
    hits = dict(zip((rule.pattern.decode() for rule in native.counted), totals))
    assert hits[SYSLOG_PREFIX + r"app\[[0-9]+\]: tick$"] == (20, 0)
    assert hits[SYSLOG_PREFIX + r"app\[[0-9]+\]: (ping|pong) \4$"] == (20, 0)  # and .* ping$
    assert hits[SYSLOG_PREFIX + r"app\[[0-9]+\]: attack drill$"] == (20, 20)
    assert hits[SYSLOG_PREFIX + r"app\[[0-9]+\]: never$"] == (0, 0)


@pytest.mark.debian
def test_native_and_pure_counts_agree_on_debian_rules(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(DEBIAN_RULES, tmp_path / "rules", symlinks=True)
    server = tmp_path / "rules" / "ignore.d.server"
    copied = [line for name in sorted(os.listdir(server)) for line in (server / name).read_bytes()
              .split(b"\n") if line.startswith(b"^")][::25]
    (server / "local-copied").write_bytes(b"\n".join(copied) + b"\n")
    tree = RuleTree(str(tmp_path / "rules"), "server")
    lines = [line.encode() for line in corpus.lines(6000, 0.5, seed=11)] + ADVERSARIAL
    native = classifier(tree, True, monkeypatch)
    per_line = classifier(tree, False, monkeypatch)
    results = []
    for block in blocks_of(lines, 1000):
        result = native.classify_text(block)
        assert result == per_line.classify_text(block)
        results.append(result)
    totals = summed(results)
    assert totals == reference_counts(tree, lines)
    assert sum(hits for hits, _sole in totals) > 0


# Lines on which a merge could go wrong: keys that compare equal (whole lines
# and first three fields only), fewer than three fields, empty and blank
# lines, leading blanks and tabs, both stamp forms, a day padded with a blank,
# bytes above 0x7f (C locale: unsigned), NUL, CR and a 200 KiB line.
MERGE_ADVERSARIAL = [
    b"", b" ", b"\t", b"  \t ", b"a", b"a b", b"a  b", b"a\tb", b"a b c", b"a b c ",
    b" a b c", b"\ta b c", b"a b c d", b"a b c e", b"a b c\td",
    b"Nov  1 10:00:00 host a[1]: x", b"Nov 1 10:00:00 host a[1]: x",
    b"Nov 10 10:00:00 host a[1]: x", b"Nov 10 10:00:00 host a[1]: y",
    b"Nov 10 10:00:00 host b[2]: x", b"Nov 10 10:00:00 host", b"Nov 10 10:00:00",
    b"Dec  1 00:00:00 host a: z",
    b"2026-11-10T10:00:00.000001+00:00 host a[1]: x",
    b"2026-11-10T10:00:00.000001+00:00 host a[1]: y",
    b"2026-11-10T10:00:00+00:00 host a[1]: x", b"2026-11-10T10:00:00Z host a[1]: x",
    b"\xe9t\xe9 host a: 1", b"\x7f host a: 1", b"a\x00b c d", b"a b c\r",
    b"Nov 10 10:00:00 host big: " + b"x" * (200 << 10),
]


def random_blocks(rng, count):
    """Lines drawn from MERGE_ADVERSARIAL, each tagged so equal lines can be
    told apart (stability), cut into blocks of random sizes; runs of them
    in order, as log files are, with local disorder."""
    lines = []
    while len(lines) < count:
        run = sorted(rng.choices(MERGE_ADVERSARIAL, k=rng.randint(1, 40)),
                     key=sort_key_reference)
        if rng.random() < 0.3:
            rng.shuffle(run)
        lines.extend(line + (b"" if rng.random() < 0.3 else b" #%d" % len(lines))
                     for line in run)
    blocks = []
    while lines:
        size = rng.randint(1, 60)
        blocks.append(lines[:size])
        lines = lines[size:]
    return blocks


def sort_key_reference(line):
    """The key of `sort -k 1,3` in the C locale, written out plainly."""
    end = 0
    for _field in range(3):
        while end < len(line) and line[end:end + 1] in b" \t":
            end += 1
        while end < len(line) and line[end:end + 1] not in b" \t":
            end += 1
    return line[:end]


@pytest.mark.parametrize("seed", range(12))
def test_merged_runs_order_exactly_as_sort(seed, tmp_path, monkeypatch):
    import random

    blocks = random_blocks(random.Random(seed), 600)
    section = sorted_lines(tmp_path, monkeypatch, True)
    feed(section, blocks)
    assert section._process is None
    lines = [line for block in blocks for line in block]
    expected = sort_reference(lines)
    assert expected == sorted(lines, key=sort_key_reference)  # the key, checked too
    assert read_back(section) == expected


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("strip", [False, True], ids=["as-is", "stripped"])
def test_runs_merged_in_two_parts_order_exactly_as_sort(seed, strip, tmp_path, monkeypatch):
    import random

    from logsieve import report
    from logsieve.lines import strip_line

    cuts = []
    monkeypatch.setattr(report, "SPLIT_MERGE_SIZE", 0)
    monkeypatch.setattr(report, "split_runs", lambda *args: cuts.append(
        engine.split_runs(*args)) or cuts[-1])
    blocks = random_blocks(random.Random(seed), 600)
    section = sorted_lines(tmp_path, monkeypatch, True)
    feed(section, blocks)
    expected = sort_reference([line for block in blocks for line in block])
    merged = b"".join(section.blocks(strip=strip))
    assert cuts and len(cuts[0]) == len(section._runs) > 1  # it was merged in two
    if strip:
        expected = [strip_line(line) for line in expected]
    assert merged.split(b"\n")[:-1] == expected


def test_split_runs_cuts_every_run_at_one_key(tmp_path):
    runs, text = [], b""
    for host in range(6):  # each run in order, as a host's log file is
        lines = b"".join(b"Nov 21 07:%02d:00 host%d a: %d\n" % (minute, host, minute)
                         for minute in range(0, 60, host + 1))
        runs.append((len(text), len(lines)))
        text += lines
    path = tmp_path / "runs"
    path.write_bytes(text)
    with open(path, "rb") as handle:
        cuts = engine.split_runs(handle.fileno(), runs)
    below = [line for (offset, _length), cut in zip(runs, cuts)
             for line in text[offset:cut].splitlines()]
    above = [line for (offset, length), cut in zip(runs, cuts)
             for line in text[cut:offset + length].splitlines()]
    assert below and above
    assert max(map(sort_key_reference, below)) < min(map(sort_key_reference, above))
    assert all(cut == offset + length or text[cut - 1:cut] == b"\n"
               for (offset, length), cut in zip(runs, cuts))


def test_sort_lines_is_a_stable_sort_on_the_key():
    lines = [line + b" #%d" % number for number, line in enumerate(MERGE_ADVERSARIAL * 3)]
    lines.reverse()
    text, first_key, last_key = engine.sort_lines(b"\n".join(lines))
    expected = sort_reference(lines)
    assert text.split(b"\n") == expected
    assert (first_key, last_key) == (sort_key_reference(expected[0]),
                                     sort_key_reference(expected[-1]))
    assert engine.sort_lines(b"") == (b"", b"", b"")  # one empty line


def test_too_many_runs_go_to_sort(tmp_path, monkeypatch):
    import random

    from logsieve import report

    monkeypatch.setattr(report, "MAX_RUNS", 5)
    blocks = random_blocks(random.Random(99), 400)
    section = sorted_lines(tmp_path, monkeypatch, True)
    feed(section, blocks)
    assert section._process is not None  # runs beyond MAX_RUNS: sort(1) took over
    lines = [line for block in blocks for line in block]
    assert read_back(section) == sort_reference(lines)


def test_merge_reads_lines_longer_than_its_buffers(tmp_path, monkeypatch):
    from logsieve import report

    monkeypatch.setattr(report, "MERGE_MIN_BUFFER", 16)
    monkeypatch.setattr(report, "MERGE_BUFFERS", 64)
    blocks = [[b"b b b " + b"y" * 5000, b"c c c"], [b"a a a " + b"x" * 3000], [b"a a a", b""]]
    section = sorted_lines(tmp_path, monkeypatch, True)
    feed(section, blocks)
    lines = [line for block in blocks for line in block]
    assert read_back(section) == sort_reference(lines)


@pytest.mark.debian
def test_grouped_report_is_the_same_with_and_without_the_native_module(tmp_path):
    # The native path sorts each block's events in the worker before the
    # report merges them; a grouped report (-u) folds lines in the order they
    # come, so it must not get sorted blocks (it would order its groups
    # otherwise).  Several blocks of lines in no order, both stamp forms.
    log = tmp_path / "unordered.log"
    log.write_text("".join(line + "\n" for line in corpus.lines(
        40000, 0.53, seed=2, loghub=corpus.loghub_messages(), loghub_fraction=0.1,
        ordered=False)))
    conf = tmp_path / "logcheck.conf"
    conf.write_text(f'REPORTLEVEL="server"\nLOCKDIR="{tmp_path}/lock"\n')
    (tmp_path / "state").mkdir()
    reports = []
    for native in ("1", "0"):
        reports.append(subprocess.run(
            [sys.executable, "-m", "logsieve.cli", "--allow-root", "-c", str(conf),
             "-r", DEBIAN_RULES, "-S", str(tmp_path / "state"), "-o", "-t", "-u",
             "-l", str(log)],
            stdout=subprocess.PIPE, check=True,
            env=dict(os.environ, LOGSIEVE_BLOCKMATCH=native)).stdout)
    assert reports[0] == reports[1]
    assert reports[0].count(b"\n") > 10


# Headers as syslogline reads them, and the ways they can fail to be one.
HEADER_PIECES = [
    b"Nov 21 07:44:38", b"Nov  1 07:44:38", b"nov 21 07:44:38", b"Nov 21 7:44:38",
    b"2026-11-21T07:44:38.123456+00:00", b"2026-11-21T07:44:38+0000", b"2026-11-21T07:44:38Z",
    b"2026-11-21T07:44:38+00:0", b"2026-11-21T07:44:38+0", b"2026-11-21T", b"2026-11-21T.:Zx",
    b" ", b"", b"host", b"h\t", b"sshd[12]:", b"sshd:", b"sshd[x]:", b"sshd[12]", b"CRON(pam)[3]:",
    b"prog(a:b)[12]:", b"prog(a b)x:", b"a(b(c)[1]:", b"postfix/smtpd[9]:", b"kernel:", b":", b"x:y",
    b"msg", b"[12]", b"(x)", b"\xff\xfe", b"0xdeadBEEF", b"\r",
]


@pytest.mark.parametrize("seed", range(25))
def test_native_and_python_buckets_agree(seed, monkeypatch):
    """templates.buckets(): the C++ parse of the headers and sort into buckets
    gives what syslogline's regular expression and Python's sort give."""
    rng = random.Random(seed)
    lines = [b"".join(rng.choice(HEADER_PIECES) + rng.choice([b" ", b"", b"  "])
                      for _piece in range(rng.randrange(6))).rstrip(b"\n")
             for _line in range(300)]
    lines += [b"", b"Nov 21 07:44:38 myhost", b"Nov 21 07:44:38 myhost "]
    text = b"\n".join(lines) + rng.choice([b"", b"\n"])
    native = templates.buckets(text)
    monkeypatch.setenv("LOGSIEVE_BLOCKMATCH", "0")
    python = templates.buckets(text)
    assert native == python
    assert sorted(index for bucket in native for index in bucket[2]) == list(range(len(lines)))


# Values of every type a layout serves, and of their look-alikes: runs of
# digits of every length, hexadecimal letters where digits were, an octet
# too long for an address, a 0 before an x.
VALUE_PIECES = [
    b"7", b"42", b"31337", b"0", b"-12", b"+3", b"1.5", b"12,5", b"1.2.3", b"1.2.3.4", b"10.0.0.255",
    b"1.2.3.4567", b"1234.5.6.7", b"10.0.0.1:8080", b"10.0.0.1#53", b"10.0.0.1:123456",
    b"00:16:3e:5c:2a:01", b"00:16:3E:5C:2A:01", b"00-16-3e-5c-2a-01", b"00:16:3e:5c:2a",
    b"0x00", b"0x7f3A", b"0X1", b"1x7f", b"0xg", b"eth0", b"eth12", b"ppp3", b"tty1", b"ab12",
    b"ab12cd", b"12ms", b"1234567ms", b"0xab", b"x0", b"IN=eth0", b"IN=ab1", b"ID=12", b"TOS=0x10",
    b"[123.456]", b"(uid=0)", b"rip=10.0.0.9,", b"Eth" + b"1" * 20, b"deadbeef12", b"12ab",
    b"3F2A1B2C3D:", b"a1b2c3d4", b"1234abcd5", b"user1.example.net", b"(mail2.example.org):",
    b"host12.local", b"db1a.example.com.", b"status=1/FAILURE", b"1/ab", b"12/Dec/2020",
    b"@0x7f0072714565", b"@0x1", b"@12ab", b"session=<D12A63CB6D>", b"id=(a1b2c3)", b"id=[0f1e2d3c]",
    b"id=<12ab>", b"session=<D12A63CB6D>,",
]
VALUE_WORDS = [b"from", b"port", b"user", b"SRC=", b"MAC=", b"to", b"[UFW", b"BLOCK]"]


@pytest.mark.parametrize("seed", range(20))
def test_native_counts_read_what_the_extractor_reads(seed):
    """templates._layout and bucket_counts: where every line of a bucket
    fits its sample, the values are those the skeleton's extractor reads,
    whatever digits, letters or lengths the values have, counted as Counter
    counts them (the same order), and each line's type is the sample's but
    where the extractor reads a word's <HEX> as any hexadecimal run."""
    rng = random.Random(seed)
    shapes = [[rng.choice(VALUE_PIECES + VALUE_WORDS) for _token in range(rng.randint(1, 6))]
              for _shape in range(30)]
    read = 0
    for shape in shapes:
        for token in range(len(shape)):
            if rng.random() < 0.3:  # a word of the message, not a value
                shape[token] = rng.choice(VALUE_WORDS)
        sample = b" ".join(shape)
        miner = templates.TemplateMiner()
        for _line in range(templates._EXTRACT_AFTER):
            miner._masked(sample)
        candidate = miner._known[templates._TRANSLATE(sample)][0]
        extractor, layout = candidate[3], candidate[2]
        # lines of the same bucket: each value's digits replaced, their
        # number changed, now and then a hexadecimal letter for a digit
        lines = [sample]
        for _line in range(40):
            letters = rng.random() < 0.3
            words = []
            for word in shape:
                word = bytes(rng.choice(b"0123456789abcdefABCDEF" if letters else b"0123456789")
                             if byte in b"0123456789" and rng.random() < 0.5 else byte
                             for byte in word)
                words.append(word.replace(b"1", b"1" * rng.randint(1, 3), 1))
            lines.append(b" ".join(words))
        if layout is None:
            continue
        any_hex = [position for position, kind in candidate[1].items()
                   if kind == "MIXED" and b"<HEX>" in candidate[0][position]]
        for line in lines:  # one at a time: where it fits, what the extractor reads
            native = templates._native_counts(line, 1, layout, False)
            if native is None:
                continue
            match = extractor.fullmatch(line)
            assert match is not None, (line, sample)
            assert [list(counts.items()) for counts in native] == [[(value, 1)]
                                                                   for value in match.groups()]
            skeleton = miner._mask(line)[0]
            assert [token for position, token in enumerate(skeleton) if position not in any_hex] \
                == [token for position, token in enumerate(candidate[0])
                    if position not in any_hex], (line, sample)  # the same type
            read += 1
        fitting = [line for line in lines
                   if templates._native_counts(line, 1, layout, False) is not None]
        for members in filter(None, (fitting, lines)):  # and together
            messages = b"\n".join(members)
            native = templates._native_counts(messages, len(members), layout, False)
            assert (native is not None) == (len(members) == len(fitting))
            if native is not None:
                rows = extractor.findall(messages)
                columns = list(zip(*rows)) if extractor.groups > 1 else [rows][:extractor.groups]
                assert [list(counts.items()) for counts in native] \
                    == [list(Counter(column).items()) for column in columns]
                assert [(once, count, list(repeated.items())) for once, count, repeated
                        in templates._native_counts(messages, len(members), layout, True)] \
                    == [(once, count, list(repeated.items())) for once, count, repeated
                        in map(templates._portable, map(Counter, columns))]
    assert read  # layouts were made, and lines read with them


def _handed_over(taken):
    """What take_block() hands over, with the order of every count."""
    lines, groups = taken
    return lines, [(key, group.count, group.first_index, group.first, group.last,
                    [(once, count, list(repeated.items())) for once, count, repeated
                     in (group.hosts, *(group.values[position] for position in sorted(group.values)))])
                   for key, group in groups.items()]


@pytest.mark.parametrize("seed", range(10))
def test_native_counting_hands_over_what_python_counts(seed, monkeypatch):
    """A worker's groups (take_block()) are the same, down to the order of
    their values, whether the native module reads and counts a bucket's
    values or Python does: a group made of one bucket, of several (host
    names of several shapes share <ADDR>), and of buckets and single lines."""
    rng = random.Random(seed)
    hosts = [b"mail%d.example.net", b"user%d.example.org", b"%d.%d.%d.%d", b"db%da.example.com"]
    templates_ = [b"warning: hostname %s does not resolve to address 203.0.%d.%d",
                  b"client @0x%x %s#%d (example.org): query denied",
                  b"Main process exited, code=exited, status=%d/FAILURE %s"]
    blocks = []
    for _block in range(4):
        lines = []
        for _line in range(rng.randrange(200, 600)):
            host = rng.choice(hosts)
            host %= tuple(rng.choice((1, 7, 42, 255, 3000)) for _run in range(host.count(b"%")))
            template = rng.choice(templates_)
            values = {b"warning": (host, rng.randrange(256), rng.randrange(256)),
                      b"client ": (rng.choice((0x7f00, 0xdeadbeef, rng.randrange(1 << 40))), host,
                                   rng.randrange(65536)),
                      b"Main pr": (rng.choice((1, 2, 203)), host)}[template[:7]]
            lines.append(b"Nov 21 07:%02d:%02d h%d app[%d]: " % (
                rng.randrange(60), rng.randrange(60), rng.randrange(3), rng.randrange(9))
                + template % values)
        blocks.append(b"\n".join(lines) + b"\n")
    handed = {}
    for native in ("1", "0"):
        monkeypatch.setenv("LOGSIEVE_BLOCKMATCH", native)
        worker = templates.TemplateMiner()
        handed[native] = [_handed_over(worker.take_block(block)) for block in blocks]
    assert handed["1"] == handed["0"]
    assert sum(len(groups) for _lines, groups in handed["1"]) >= 8


# Stamps as the header parser reads them (b"": none): classic ones, of a
# month or of a word that is none (its key is equal to another's), RFC 3339.
STAMP_PIECES = [b"Nov 21 07:44:38", b"Nov  1 07:44:38", b"Dec 31 23:59:59", b"Jan  1 00:00:00",
                b"Foo 21 07:44:38", b"Bar 21 07:44:38", b"",
                b"2026-11-21T07:44:38.123456+00:00", b"2026-11-21T07:44:38Z", b"1999-01-01T00:00:00Z"]


@pytest.mark.parametrize("seed", range(20))
def test_native_time_bounds_are_pythons(seed):
    """time_bounds(): the earliest and latest stamp in time_key's order (the
    first of equal ones, empty ones skipped), natively as in Python, whose
    shortcut (text order within one month) gives what min() and max() on
    time_key give."""
    rng = random.Random(seed)
    stamps = [rng.choice(STAMP_PIECES) for _stamp in range(rng.randrange(1, 40))]
    only = rng.choice([None, (b"Nov",), (b"Foo", b"Bar")])  # one month: the shortcut
    if only:  # or only stamps of equal keys
        stamps = [stamp for stamp in stamps if stamp[:3] in only] or [b""]
    native = templates._native_time_bounds(stamps)
    assert native == syslogline.time_bounds(stamps)
    present = list(filter(None, stamps))
    assert native == ((min(present, key=time_key), max(present, key=time_key))
                      if present else None)
    for bound in native or ():  # of stamps with equal keys (Foo and Bar), the first
        assert bound is next(stamp for stamp in present if time_key(stamp) == time_key(bound))
