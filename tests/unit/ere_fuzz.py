"""A differential fuzzer of the rule dialect: random rules from a grammar of
the ERE constructs, lines built to nearly match them, GNU grep -E as the
oracle, in the C locale and in C.UTF-8.

Used by tests/unit/test_ere_fuzz.py (a bounded, seeded run in every test run,
and every case ever found, replayed from ere_cases.jsonl) and by
`make fuzz` (a larger run that records what it finds).
"""

import json
import os
import random
import subprocess
import tempfile

from logsieve import ere
from logsieve.engine import CompiledRules
from logsieve.rules import Rule, RuleError

LOCALES = (None, "C.UTF-8")  # None: the C locale
CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ere_cases.jsonl")

_LETTERS = "abcAB019 _-:/."
_WIDE_LETTERS = ["é", "ß", "Ä", "٣", "中", "²", "\u3000", "\u00a0"]
_CLASSES = ["alpha", "alnum", "digit", "space", "upper", "lower", "punct", "xdigit",
            "blank", "graph", "print", "cntrl"]


class Grammar:
    """Random rules, mostly valid, with the corners grep reads its own way."""

    def __init__(self, rng, wide=False):
        self.rng = rng
        self.wide = wide
        self.groups = 0

    def rule(self):
        self.groups = 0
        text = self.alternation(3)
        if self.rng.random() < 0.15:
            text = self.rng.choice(["*", "+", "?", "{1}", "{,2}", "^*", "{1,2,3}", ")"]) + text
        return text

    def alternation(self, depth):
        branches = [self.branch(depth) for _branch in range(self.rng.choice([1, 1, 1, 2, 3]))]
        return "|".join(branches)

    def branch(self, depth):
        return "".join(self.piece(depth) for _piece in range(self.rng.randint(0, 4)))

    def piece(self, depth):
        atom = self.atom(depth)
        roll = self.rng.random()
        if roll < 0.45:
            return atom
        count = 1 if roll < 0.85 else 2
        return atom + "".join(self.repetition() for _repetition in range(count))

    def repetition(self):
        rng = self.rng
        kind = rng.random()
        if kind < 0.5:
            return rng.choice(["*", "+", "?"])
        low = rng.randint(0, 3)
        high = low + rng.randint(-1, 2)
        zero = "0" if rng.random() < 0.1 else ""
        return rng.choice([
            "{%s%d}" % (zero, low), "{%d,}" % low, "{,%d}" % max(high, 0),
            "{%d,%d}" % (low, high), "{%d,%d,%d}" % (low, low, high), "{}", "{x}", "{%d" % low,
            "{ %d}" % low, "{,}"])

    def atom(self, depth):
        rng = self.rng
        roll = rng.random()
        if roll < 0.35:
            return self.char()
        if roll < 0.45:
            return "."
        if roll < 0.6:
            return self.bracket()
        if roll < 0.7 and depth > 0:
            self.groups += 1
            inner = self.alternation(depth - 1)
            return "(" + inner + ")"
        if roll < 0.8:
            return rng.choice(["^", "$", "\\<", "\\>", "\\b", "\\B", "\\w", "\\W", "\\s", "\\S"])
        if roll < 0.85 and self.groups:
            return "\\%d" % rng.randint(1, self.groups) + rng.choice(["", "", "0"])
        if roll < 0.9:
            return rng.choice(["\\.", "\\*", "\\{", "\\(", "\\)", "\\|", "\\d", "\\a", "{", "}", ")",
                               "\\^", "\\$", "\\[", "\\]"])
        return self.char()

    def char(self):
        if self.wide and self.rng.random() < 0.2:
            return self.rng.choice(_WIDE_LETTERS)
        return self.rng.choice(_LETTERS.replace(".", ""))

    def bracket(self):
        rng = self.rng
        items = []
        if rng.random() < 0.05:
            return "[:" + rng.choice(_CLASSES) + ":]"  # the everyday mistake
        for _round in range(rng.randint(1, 3)):
            roll = rng.random()
            if roll < 0.4:
                items.append(self.char().replace("]", "x"))
            elif roll < 0.7:
                low, high = sorted([self.char(), self.char()])
                if rng.random() < 0.1:
                    low, high = high, low
                items.append(low + "-" + high)
            elif roll < 0.9:
                items.append("[:" + rng.choice(_CLASSES + ["nosuch"] * 0) + ":]")
            else:
                # (No [=a=] or [.-.]: they send grep to glibc's matcher, whose
                # bugs with them are recorded in ere_cases.jsonl.)
                items.append(rng.choice(["-", "[.ab.]", "\\", "^", "[:", "."]))
        body = "".join(items)
        if rng.random() < 0.1:
            body = "]" + body
        return "[" + ("^" if rng.random() < 0.25 else "") + body + "]"


def sample_lines(rule, rng, wide):
    """Lines built to nearly match `rule`: strings it would match, then
    mutated by a character, plus strays beyond ASCII in C.UTF-8."""
    lines = set()
    try:
        tree = ere.parse(rule.encode("utf-8"), utf8=wide).tree
    except ere.EreSyntaxError:
        tree = None
    alphabet = list(_LETTERS) + ["*", "(", ")", "{", "}", "[", "]", "|", "\\", "x", "\t"]
    if wide:
        alphabet += _WIDE_LETTERS + ["\udcff", "\udcc3"]
    for _round in range(12):
        text = _generate(tree, rng, alphabet) if tree is not None else ""
        if rng.random() < 0.6 and text:
            position = rng.randrange(len(text) + 1)
            action = rng.random()
            if action < 0.3:
                text = text[:position] + text[position + 1:]
            elif action < 0.6:
                text = text[:position] + rng.choice(alphabet) + text[position:]
            else:
                text = text[:position] + rng.choice(alphabet) + text[position + 1:]
        if rng.random() < 0.3:
            text = rng.choice(alphabet) + text
        lines.add(text)
    lines.add("")
    encoding = ("utf-8", "surrogateescape") if wide else ("latin-1",)
    result = []
    for line in sorted(lines):
        try:
            data = line.encode(*encoding)
        except UnicodeEncodeError:
            data = line.encode("utf-8", "surrogateescape")
        data = data.rstrip(b" \t\n\v\f\r").replace(b"\n", b"")
        result.append(data)
    return sorted(set(result))


def _generate(node, rng, alphabet):
    kind = node[0]
    if kind == "char":
        return chr(node[1])
    if kind == "str":
        return node[1]
    if kind == "byte":
        return chr(node[1] + 0xDC00)
    if kind == "any":
        return rng.choice(alphabet)
    if kind == "set":
        if node[1] or not node[2]:
            return rng.choice(alphabet)
        item = rng.choice(node[2])
        if item[0] == "char":
            return chr(item[1])
        if item[0] == "range":
            return chr(rng.randint(item[1], item[2]))
        return rng.choice(alphabet)
    if kind == "perl":
        return rng.choice(alphabet)
    if kind in ("assert", "empty"):
        return ""
    if kind == "backref":
        return rng.choice(["", "a", "ab", "1"])
    if kind == "group":
        return _generate(node[1], rng, alphabet)
    if kind == "cat":
        return "".join(_generate(item, rng, alphabet) for item in node[1])
    if kind == "alt":
        return _generate(rng.choice(node[1]), rng, alphabet)
    if kind == "rep":
        count = rng.randint(node[2], min(node[3] if node[3] is not None else node[2] + 2,
                                         node[2] + 2))
        return "".join(_generate(node[1], rng, alphabet) for _copy in range(count))
    return ""


def grep(rule, lines, locale):
    """GNU grep -E's verdict: ("error", message) or ("match", indices)."""
    with tempfile.NamedTemporaryFile(prefix="logsieve-fuzz-") as handle:
        handle.write(b"".join(line + b"\n" for line in lines))
        handle.flush()
        environment = dict(os.environ, LC_ALL=locale or "C")
        result = subprocess.run(["grep", "-E", "-a", "-n", "-e", rule, handle.name],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=environment, check=False)
    if result.returncode == 2:
        errors = [line for line in result.stderr.decode("utf-8", "replace").splitlines()
                  if not line.startswith("grep: warning:")]
        return ("error", errors[0].removeprefix("grep: ") if errors else "")
    numbers = [int(line.split(b":", 1)[0]) - 1 for line in result.stdout.split(b"\n") if line]
    return ("match", sorted(numbers))


def logsieve(rule, lines, locale):
    """logsieve's verdict, in the same form as grep()'s."""
    try:
        compiled = CompiledRules([Rule(rule, "fuzz", 1)], None, locale)
    except RuleError as error:
        return ("error", error.reason)
    return ("match", [index for index, line in enumerate(lines) if compiled.matches(line)])


def check(case):
    """None when logsieve agrees with the oracle on `case`, else a message.
    A case may carry its own expected verdict (`expect`) where logsieve
    follows POSIX rather than grep (documented in the README)."""
    rule = case_bytes(case["rule"])
    lines = [case_bytes(line) for line in case["lines"]]
    locale = case.get("locale")
    expected = grep(rule, lines, locale)
    if "expect" in case:
        expected = tuple(case["expect"])
    actual = logsieve(rule, lines, locale)
    if expected[0] == "match" and actual[0] == "match":
        if expected[1] == actual[1]:
            return None
        differing = sorted(set(expected[1]) ^ set(actual[1]))
        return (f"{case['rule']!r} in {locale or 'C'}: grep matches {expected[1]}, logsieve "
                f"{actual[1]}; differing lines: {[lines[index] for index in differing]}")
    if expected == actual:
        return None
    return f"{case['rule']!r} in {locale or 'C'}: grep says {expected}, logsieve {actual}"


def case_bytes(text):
    """Cases keep bytes as text: each byte one character (Latin-1)."""
    return text.encode("latin-1")


def case_text(data):
    return data.decode("latin-1")


def random_cases(count, seed):
    """`count` random cases (half in each locale), reproducible from `seed`."""
    rng = random.Random(seed)
    for number in range(count):
        locale = LOCALES[number % len(LOCALES)]
        wide = locale is not None
        rule = Grammar(rng, wide).rule()
        encoding = ("utf-8", "surrogateescape") if wide else ("latin-1",)
        try:
            rule_bytes = rule.encode(*encoding)
        except UnicodeEncodeError:
            rule_bytes = rule.encode("utf-8")
        if not rule_bytes or b"\n" in rule_bytes or _empty_iteration_backref(rule_bytes, wide):
            continue
        lines = sample_lines(rule, rng, wide)
        yield {"rule": case_text(rule_bytes), "locale": locale,
               "lines": [case_text(line) for line in lines]}


def _empty_iteration_backref(rule, wide):
    """A back-reference to a group repeated by `+`, `*` or an interval that
    can match the empty string: POSIX lets such a group's last iteration be
    empty only when nothing else matches, the `regex` package always (README:
    a known difference); the fuzzer leaves those rules out."""
    try:
        parsed = ere.parse(rule, utf8=wide)
    except ere.EreSyntaxError:
        return False
    return parsed.backrefs and _repeated_nullable_group(parsed.tree, False)


def _nullable(node):
    kind = node[0]
    if kind in ("assert", "empty", "backref", "anything"):
        return True
    if kind == "group":
        return _nullable(node[1])
    if kind == "cat":
        return all(_nullable(item) for item in node[1])
    if kind == "alt":
        return any(_nullable(item) for item in node[1])
    if kind == "rep":
        return node[2] == 0 or _nullable(node[1])
    return False


def _repeated_nullable_group(node, repeated):
    kind = node[0]
    if kind == "group":
        return (repeated and _nullable(node[1])) or _repeated_nullable_group(node[1], repeated)
    if kind in ("cat", "alt"):
        return any(_repeated_nullable_group(item, repeated) for item in node[1])
    if kind == "rep":
        return _repeated_nullable_group(node[1], repeated or node[3] != 1)
    return False


def load_cases():
    with open(CASES, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip() and not line.startswith("#")]


def record(case, path=CASES):
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(case, ensure_ascii=False) + "\n")


def main():
    """`make fuzz`: LOGSIEVE_FUZZ_CASES random cases (default 20000) from
    LOGSIEVE_FUZZ_SEED (default: random); every disagreement is appended to
    the regression cases."""
    count = int(os.environ.get("LOGSIEVE_FUZZ_CASES", "20000"))
    seed = int(os.environ.get("LOGSIEVE_FUZZ_SEED", str(random.SystemRandom().randrange(1 << 30))))
    found = 0
    checked = 0
    for case in random_cases(count, seed):
        checked += 1
        problem = check(case)
        if problem:
            found += 1
            print(problem)
            record(case)
    print(f"seed {seed}: {checked} cases, {found} disagreements recorded in {CASES}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
