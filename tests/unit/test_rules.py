"""Rule files and the ERE dialect, checked by what the rules match."""

import os

import pytest

from logsieve.engine import CompiledRules
from logsieve.rules import (SYSLOG_PREFIX, Rule, RuleError, RuleTree, _read, _verbatim,
                            read_rule_file, rule_files, run_parts_name, share_prefixes,
                            split_host_prefix)


def matches(pattern, line, locale_name=None):
    """Whether `pattern` matches `line` in the C locale (or `locale_name`)."""
    rules = CompiledRules([Rule(pattern.encode("latin-1"), "test", 1)], None, locale_name)
    return rules.matches(line.encode("latin-1") if isinstance(line, str) else line)


@pytest.mark.parametrize("pattern, line, expected", [
    # POSIX classes, which Python's re would read as sets of characters
    (r"^[[:digit:]]+$", "12345", True),
    (r"^[[:digit:]]+$", "12a45", False),
    (r"^[[:alpha:]]{3} x$", "Nov x", True),
    (r"^[[:alpha:]]{3} x$", ":di x", False),
    # a backslash inside brackets is an ordinary character in POSIX
    (r"^a[\.]b$", "a\\b", True),
    (r"^a[\.]b$", "a.b", True),
    (r"^a[\.]b$", "axb", False),
    # ']' first in a bracket is literal
    (r"^[]x]+$", "]x]", True),
    # \s and [[:space:]] include vertical tab, as in GNU grep
    (r"^a\sb$", "a\x0bb", True),
    (r"^a[[:space:]]b$", "a\x0cb", True),
    # \w is ASCII word characters; bytes are characters (C locale)
    (r"^\w+$", "caf\xe9", False),
    (r"^caf.$", "caf\xe9", True),
    # GNU extensions
    (r"^a{,2}b$", "aab", True),
    (r"^a{,2}b$", "aaab", False),
    (r"\<word\>", "a word here", True),
    (r"\<word\>", "swordfish", False),
    # repetition with nothing to repeat is literal in ERE
    (r"^*star$", "*star", True),
    (r"(*a)", "x*a", True),
    # an unmatched ')' is literal
    (r"a)b", "xa)b", True),
    # an unknown escaped letter is the letter
    (r"^\d$", "d", True),
    # back-references
    (r"^(ab+) and \1$", "abb and abb", True),
    (r"^(ab+) and \1$", "abb and ab", False),
    # equivalence class in the C locale
    (r"^[[=a=]]$", "a", True),
])
def test_dialect(pattern, line, expected):
    assert matches(pattern, line) is expected


@pytest.mark.parametrize("pattern, reason", [
    # grep's own words
    (r"abc(", "Unmatched ( or \\("),
    (r"[abc", "Unmatched [, [^, [:, [., or [="),
    (r"[[:nosuch:]]", "Invalid character class name"),
    ("abc\\", "Trailing backslash"),
    (r"[:digit:]", "character class syntax is [[:space:]], not [:space:]"),
])
def test_bad_rules_name_file_line_and_reason(pattern, reason):
    with pytest.raises(RuleError) as caught:
        CompiledRules([Rule(b"^ok$", "/rules/ignore.d.server/x", 1),
                       Rule(pattern.encode(), "/rules/ignore.d.server/x", 7)])
    assert str(caught.value) == f"/rules/ignore.d.server/x:7: {pattern}: {reason}"


def test_read_rule_file_drops_comments_and_blank_lines(tmp_path):
    path = tmp_path / "rules"
    path.write_bytes(b"# comment\n\n   \t\n^one$\n  # not a comment: leading blank\n^two$\n")
    rules = read_rule_file(str(path))
    assert [(rule.pattern, rule.line) for rule in rules] == [
        (b"^one$", 4), (b"  # not a comment: leading blank", 5), (b"^two$", 6)]


def test_rule_files_follow_run_parts_naming(tmp_path):
    for name in ["ssh", "local-web", "Under_score", "backup~", "with.dot", "x.dpkg-old"]:
        (tmp_path / name).write_text("^x$\n")
    (tmp_path / "directory").mkdir()
    os.symlink("/nonexistent", tmp_path / "dangling")
    assert [name for name, _path in rule_files(str(tmp_path))] == ["Under_score", "local-web", "ssh"]
    assert run_parts_name("a-b_C9") and not run_parts_name("a.b") and not run_parts_name("")


def test_rule_tree_merges_the_levels_that_apply(tmp_path):
    for level, rule in [("paranoid", "^p$"), ("server", "^s$"), ("workstation", "^w$")]:
        directory = tmp_path / f"ignore.d.{level}"
        directory.mkdir()
        (directory / "app").write_text(rule + "\n")
    (tmp_path / "violations.d").mkdir()
    server = RuleTree(str(tmp_path), "server")
    assert [rule.pattern for rule in server.ignore["app"]] == [b"^s$", b"^p$"]
    assert server.violations == {} and server.cracking is None
    workstation = RuleTree(str(tmp_path), "workstation")
    assert len(workstation.ignore["app"]) == 3
    assert RuleTree(str(tmp_path), "paranoid").ignore["app"][0].pattern == b"^p$"
    with pytest.raises(ValueError):
        RuleTree(str(tmp_path), "desktop")


# Rules at the edge of what RE2 can take as written.
EDGE_RULES = [rb"^*star$", rb"(*a)", rb"a)b", rb"(a", rb"^\d$", rb"^(ab+) and \1$", rb"^[[=a=]]$",
              rb"^a{,2}b$", rb"a{,}", rb"a{1,}", rb"\<word\>", rb"^a[\.]b$", rb"^[]x]+$",
              rb"a|b", rb"(a|b)", rb"x(a|b)|c", rb"a\|b", rb"\(a", rb"\(*", rb"[(]a", rb"^{2}",
              rb"a|*b", rb"a\**", rb"$*", rb"[[:digit:]]{3}", rb"[[:foo:]]", rb"\.\-\/", rb"a}",
              rb"\w*", rb"\W+", rb"\b*", rb"\s+", b"caf\\\xe9", rb"\`a\'", b"tab\there"]


@pytest.mark.debian
def test_rules_taken_as_written_are_those_translation_leaves_alone():
    # Every Debian rule and the edge cases: the fast path either declines or
    # gives exactly what the full translation gives.
    rules = [rule for path in rule_files_under("/etc/logcheck") for rule in read_rule_file(path)]
    patterns = {rule.pattern for rule in rules}
    # Rules sharing a syslog prefix make patterns of up to 100 KB: the fast
    # path must not backtrack on them.
    combined = [pattern for pattern, members, _translation in share_prefixes(rules) if len(members) > 1]
    assert max(map(len, combined)) > 50_000
    taken = 0
    for pattern in sorted(patterns) + EDGE_RULES + combined:
        fast = _verbatim(pattern)
        if fast is not None:
            taken += 1
            # grep takes it, and reads its structure alike (what it matches
            # is the fuzzer's business: tests/unit/test_dialect_fuzz.py).
            assert fast.alternation == _read(pattern).alternation, pattern
    assert taken > len(patterns) // 2  # the fast path is the common one


def rule_files_under(directory):
    return [os.path.join(root, name) for root, _subdirectories, names in os.walk(directory) for name in names]


def test_shared_prefix_means_the_same_as_the_rules_alone():
    prefix = r"^(\w{3} [ :[:digit:]]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ "
    patterns = [prefix + r"sshd\[[0-9]+\]: one$", prefix + r"cron\[[0-9]+\]: (two|three)$",
                prefix + r"app: a)b$", prefix + r"a|b", r"^other$"]
    rules = [Rule(pattern.encode(), "f", number) for number, pattern in enumerate(patterns, 1)]
    shared = share_prefixes(rules)
    # The three simple rules are combined; the top-level '|' one and the other stay alone.
    assert sorted(len(members) for _pattern, members, _translation in shared) == [1, 1, 3]
    combined = CompiledRules([Rule(pattern, "f", 1) for pattern, _members, _translation in shared],
                             [translation for _pattern, _members, translation in shared])
    alone = CompiledRules(rules)
    for line in [b"Nov 21 07:44:38 web1 sshd[1]: one", b"Nov 21 07:44:38 web1 cron[2]: three",
                 b"2026-11-21T07:44:38.930427+00:00 web1 cron[2]: two", b"b", b"other",
                 b"Nov 21 07:44:38 web1 cron[2]: four", b"Nov 21 07:44:38 web1 sshd[1]: one!",
                 # an unmatched ')' is a literal in its own rule, not the group's end
                 b"Nov 21 07:44:38 web1 app: a)b", b"Nov 21 07:44:38 web1 app: ab"]:
        assert combined.matches(line) == alone.matches(line), line


def test_split_host_prefix():
    assert split_host_prefix(rb"^(\w{3} [ :0-9]{11}|x) [._[:alnum:]-]+ prog: msg$") == (
        rb"^(\w{3} [ :0-9]{11}|x) [._[:alnum:]-]+ ", b"prog: msg$")
    assert split_host_prefix(rb"^no group here") is None
    assert split_host_prefix(rb"^(a) [b]+ x|y") is None


@pytest.mark.parametrize("line, expected", [
    ("Nov 21 07:44:38 web1 prog[1]: hello", True),
    ("Nov  1 07:44:38 web1 prog[1]: hello", True),
    ("2026-11-21T07:44:38.930427+00:00 web1 prog[1]: hello", True),
    ("2026-11-21T07:44:38+01:00 web1 prog[1]: hello", True),
    ("2026-11-21T07:44:38Z web1 prog[1]: hello", True),
    ("2026-11-21T07:44:38.5Z host.example.org prog[1]: hello", True),
    ("2026-11-21 07:44:38 web1 prog[1]: hello", False),
    ("Nov 21 07:44:38 web1 prog[1]: hello!", False),
])
def test_syslog_prefix_covers_both_time_stamp_forms(line, expected):
    assert matches(SYSLOG_PREFIX + r"prog\[[0-9]+\]: hello$", line) is expected
