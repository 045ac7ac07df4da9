"""The C++ block matcher classifies exactly as google-re2's per-line calls do,
and report sections come out in sort(1)'s order whether or not they skip it."""

import os
import subprocess

import pytest

from benchmarks import corpus
from logsieve import engine
from logsieve.engine import Classifier
from logsieve.levels import REPORT_LEVELS
from logsieve.lines import sort_order
from logsieve.report import SortedLines
from logsieve.rules import SYSLOG_PREFIX, RuleTree

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
def test_lines_out_of_order_are_sorted_by_sort(blocks, tmp_path):
    section = SortedLines(tmpdir=str(tmp_path))
    feed(section, blocks)
    assert section._process is not None
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
