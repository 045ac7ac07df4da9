"""The validation logic of logsieve.logcheck.validate_rules, and the module itself."""

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.logsieve.logcheck.plugins.module_utils import rule_validation as rv

PREFIX = "^(\\w{3} [ :[:digit:]]{11}|[0-9T:.+-]{32}) [._[:alnum:]-]+ "
ACCEPTED = "Nov 21 07:44:38 gw sshd[812]: Accepted password for root from 203.0.113.5 port 51234 ssh2"
INVALID = "Nov 21 07:44:39 gw sshd[813]: Invalid user admin from 203.0.113.5 port 51235"


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return str(path)


@pytest.fixture
def samples(tmp_path):
    return (write(tmp_path / "ignore.log", [INVALID]),
            write(tmp_path / "report.log", [ACCEPTED]))


def reasons(result):
    return [(os.path.basename(p.file), p.line, p.reason) for p in result.errors]


def test_good_rules_pass_and_count_hits(tmp_path, samples):
    rules = write(tmp_path / "local-ssh", [
        "# comment", "",
        PREFIX + "sshd\\[[[:digit:]]+\\]: Invalid user [^[:space:]]* from [.:[:xdigit:]]+ port [[:digit:]]+$",
        PREFIX + "sshd\\[[[:digit:]]+\\]: Connection closed by [.:[:xdigit:]]+ port [[:digit:]]+$",
    ])
    result = rv.validate([rules], must_ignore=[samples[0]], must_report=[samples[1]])
    assert result.errors == []
    assert [hit["hits"] for hit in result.rule_hits] == [1, 0]
    assert [hit["line"] for hit in result.rule_hits] == [3, 4]
    # The rule no sample exercises is a warning, not an error.
    assert [(w.line, w.reason) for w in result.warnings] == [
        (4, "rule matches none of the lines that must be ignored")]
    assert result.samples == 2


def test_rule_that_does_not_compile(tmp_path):
    rules = write(tmp_path / "r", ["^(unclosed$", "^fine$"])
    result = rv.validate([rules])
    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error.line, error.rule) == (1, "^(unclosed$")
    assert error.reason.startswith("rule does not compile")


@pytest.mark.parametrize("rule, grep_says", [
    ("^[:digit:]+$", "character class syntax is [[:space:]], not [:space:]"),
    ("^[a-z-9]$", "Invalid range end"),
    ("^a{1,2,3}$", "Invalid content of \\{\\}"),
    ("^(*)$", "Unmatched ( or \\("),
    ("^(a)|\\1$", "Invalid back reference"),
])
def test_rules_grep_refuses_are_refused_with_greps_reason(tmp_path, rule, grep_says):
    rules = write(tmp_path / "r", [rule])
    result = rv.validate([rules])
    assert [(error.line, error.reason) for error in result.errors] == [
        (1, "rule does not compile: " + grep_says)]
    # and grep itself says so
    run = subprocess.run(["grep", "-E", "-e", rule, "/dev/null"], stderr=subprocess.PIPE,
                         env={"LC_ALL": "C"}, check=False)
    assert run.returncode == 2 and grep_says in run.stderr.decode()


@pytest.mark.parametrize("rule", ["^a**$", "^a{1}{2}$", "^*a$", "^a+?$", "^(a)\\10$"])
def test_rules_grep_takes_are_taken(tmp_path, rule):
    rules = write(tmp_path / "r", [rule])
    result = rv.validate([rules], require_anchors=False)
    assert not [error for error in result.errors if "compile" in error.reason]


def test_character_class_is_posix_not_python(tmp_path):
    # Python's re would read [[:digit:]] as a set of characters plus "]".
    rules = write(tmp_path / "r", ["^id [[:digit:]]+$"])
    ignore = write(tmp_path / "i", ["id 42"])
    report = write(tmp_path / "p", ["id :]"])
    result = rv.validate([rules], [ignore], [report])
    assert result.errors == []


@pytest.mark.parametrize("rule, reason", [
    ("   ", "blank rule (only white space): some tools read it as a wildcard"),
    ("\t", "blank rule (only white space): some tools read it as a wildcard"),
    ("^.*$", "empty rule: it matches every line"),
    (".*", "empty rule: it matches every line"),
    ("()", "empty rule: it matches every line"),
    ("^", "empty rule: it matches every line"),
])
def test_blank_and_empty_rules(tmp_path, rule, reason):
    rules = write(tmp_path / "r", ["^ok$", rule])
    result = rv.validate([rules])
    assert reasons(result) == [("r", 2, reason)]


@pytest.mark.parametrize("rule, fragment", [
    ("foo$", "not anchored with ^"),
    ("^foo", "not anchored with $"),
    ("^foo\\$", "not anchored with $"),
    ("^foo$|bar$", "not anchored with ^ at the start (in the alternative 'bar$')"),
    ("^foo$|^bar", "not anchored with $"),
])
def test_unanchored_rules(tmp_path, rule, fragment):
    rules = write(tmp_path / "r", [rule])
    result = rv.validate([rules])
    assert len(result.errors) == 1 and fragment in result.errors[0].reason
    # Allowed when anchors are not required.
    assert rv.validate([rules], require_anchors=False).errors == []


@pytest.mark.parametrize("rule", [
    "^foo\\\\$",           # a literal backslash, then the end
    "^(a|b)$",
    "^a[|]b$",             # | inside a bracket expression
    "^a\\|b$",             # an escaped |
    "^[]|]x$",             # ] first in a bracket expression is literal
    "^(x|(y|z))$",
])
def test_anchored_rules(rule):
    assert rv.anchoring_problem(rule.encode()) is None


@pytest.mark.parametrize("rule, never", [
    ("^foo $", True),
    ("^foo\t$", True),
    ("^foo\\ $", True),
    ("^foo +$", True),
    ("^foo[[:space:]]$", True),
    ("^foo[[:space:]]+$", True),
    ("^foo[[:blank:]]{1,3}$", True),
    ("^foo\\s$", True),
    ("^x$|^foo $", True),
    ("^foo *$", False),
    ("^foo ?$", False),
    ("^foo[[:space:]]*$", False),
    ("^foo[[:space:]]{0,2}$", False),
    ("^foo\\\\s$", False),     # a literal backslash and "s"
    ("^foo$", False),
])
def test_trailing_white_space(rule, never):
    assert (rv.trailing_whitespace_problem(rule.encode()) is not None) is never


def test_trailing_space_rule_fails_validation(tmp_path):
    rules = write(tmp_path / "r", ["^foo $"])
    ignore = write(tmp_path / "i", ["foo "])  # stripped to "foo" before matching
    result = rv.validate([rules], [ignore])
    found = {e.reason.split(",")[0] for e in result.errors}
    assert "rule requires white space at the end of the line" in found
    assert "no rule matches this line" in found


def test_unmatched_must_ignore_line(tmp_path):
    rules = write(tmp_path / "r", ["^known$"])
    ignore = write(tmp_path / "i", ["known", "", "# a comment", "unknown  "])
    result = rv.validate([rules], [ignore])
    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error.file, error.line, error.rule, error.sample) == (ignore, 4, "", "unknown")


def test_matched_must_report_line_names_the_rule(tmp_path, samples):
    too_wide = PREFIX + "sshd\\[[[:digit:]]+\\]: .*$"
    rules = write(tmp_path / "local-ssh", ["^nothing$", too_wide])
    result = rv.validate([rules], must_ignore=[samples[0]], must_report=[samples[1]])
    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error.file, error.line, error.rule) == (rules, 2, too_wide)
    assert error.sample == ACCEPTED
    assert error.reason == "rule matches a line that must be reported (%s:1)" % samples[1]


def test_back_reference_rule_uses_the_engine_fallback(tmp_path):
    rules = write(tmp_path / "r", ["^(ab)x\\1$"])
    ignore = write(tmp_path / "i", ["abxab"])
    report = write(tmp_path / "p", ["abxcd"])
    assert rv.validate([rules], [ignore], [report]).errors == []


def test_rule_tree_and_levels(tmp_path):
    for level, rule in (("paranoid", "^p$"), ("server", "^s$"), ("workstation", "^w$")):
        directory = tmp_path / ("ignore.d." + level)
        directory.mkdir()
        write(directory / "local-x", [rule])
    # run-parts skips names with dots: not read.
    write(tmp_path / "ignore.d.server" / "local.bak", ["^.*$"])

    def files(level):
        return [os.path.relpath(path, str(tmp_path))
                for path in rv.validate([str(tmp_path)], level=level).rule_files]

    assert files("paranoid") == ["ignore.d.paranoid/local-x"]
    assert files("server") == ["ignore.d.server/local-x", "ignore.d.paranoid/local-x"]
    assert len(files("workstation")) == 3
    # A plain directory of rule files.
    assert files_in(str(tmp_path / "ignore.d.server")) == ["local-x"]


def files_in(directory):
    return [os.path.basename(p) for p in rv.validate([directory]).rule_files]


def test_missing_paths(tmp_path):
    with pytest.raises(ValueError):
        rv.validate([str(tmp_path / "nope")])
    rules = write(tmp_path / "r", ["^x$"])
    with pytest.raises(ValueError):
        rv.validate([rules], must_ignore=[str(tmp_path / "nope.log")])


def test_invalid_utf8_in_rules_and_samples(tmp_path):
    (tmp_path / "r").write_bytes(b"^caf\xe9 [[:digit:]]$\n")
    (tmp_path / "i").write_bytes(b"caf\xe9 1\n")
    result = rv.validate([str(tmp_path / "r")], [str(tmp_path / "i")])
    assert result.errors == []
    assert result.rule_hits[0]["rule"] == "^caf\\xe9 [[:digit:]]$"


# --- The module, run by Ansible --------------------------------------------------------

def run_module(collections_path, args, check=False):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path,
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible")
    completed = subprocess.run(
        [ansible, "localhost", "-m", "logsieve.logcheck.validate_rules", "-a", json.dumps(args)]
        + (["--check"] if check else []),
        env=env, capture_output=True, text=True, timeout=120, check=False)
    output = json.loads(completed.stdout)
    return output["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_module_fails_with_structured_errors(tmp_path, collections_path, samples):
    rules = write(tmp_path / "local-ssh", [
        PREFIX + "sshd\\[[[:digit:]]+\\]: Invalid user [^[:space:]]* from [.:[:xdigit:]]+ port [[:digit:]]+$",
        PREFIX + "sshd\\[[[:digit:]]+\\]: Accepted .*$",
        "unanchored",
    ])
    result = run_module(collections_path, {
        "rules": [rules], "must_ignore": [samples[0]], "must_report": [samples[1]]})
    assert result["failed"] is True
    assert result["changed"] is False
    assert [(e["line"], e["reason"].split(" (")[0]) for e in result["errors"]] == [
        (3, "rule is not anchored with ^ at the start"),
        (2, "rule matches a line that must be reported"),
    ]
    assert result["errors"][1]["sample"] == ACCEPTED
    assert rules + ":2:" in result["msg"]
    assert [hit["hits"] for hit in result["rule_hits"]] == [1, 1, 0]


def test_module_passes_in_check_mode(tmp_path, collections_path, samples):
    rules = write(tmp_path / "local-ssh", [
        PREFIX + "sshd\\[[[:digit:]]+\\]: Invalid user [^[:space:]]* from [.:[:xdigit:]]+ port [[:digit:]]+$",
        "^never matches anything$",
    ])
    args = {"rules": [rules], "must_ignore": [samples[0]], "must_report": [samples[1]],
            }
    result = run_module(collections_path, args, check=True)
    assert not result.get("failed"), result
    assert result["errors"] == []
    assert result["rule_warnings"][0]["line"] == 2
    assert any("matches none" in warning for warning in result["warnings"])


@pytest.mark.parametrize("plugin, kind, words", [
    ("logsieve.logcheck.validate_rules", "module", ["must_ignore", "must_report", "rule_hits"]),
    ("logsieve.logcheck.ere_escape", "filter", ["newline"]),
    ("logsieve.logcheck.ere_alternatives", "filter", ["empty"]),
    ("logsieve.logcheck.rule_problem", "filter", ["staging_dir"]),
])
def test_documentation_renders(collections_path, plugin, kind, words):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_NOCOLOR="1")
    ansible_doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    completed = subprocess.run([ansible_doc, "-t", kind, plugin], env=env,
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "ERROR" not in completed.stderr
    for word in words:
        assert word in completed.stdout
