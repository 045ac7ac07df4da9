"""The rule dialect against GNU grep -E, the oracle (tests/unit/ere_fuzz.py):
every case the fuzzer ever found, and a bounded random run.

The random run is seeded, so a test run is repeatable: RANDOM_CASES cases,
half in the C locale and half in C.UTF-8.  `make fuzz` runs many more from a
fresh seed and records what it finds in ere_cases.jsonl.
"""

import shutil
import subprocess

import pytest

from tests.unit import ere_fuzz

RANDOM_CASES = 400
SEED = 20261203


def test_grep_is_gnu_grep():
    assert shutil.which("grep"), "GNU grep is the oracle of these tests"
    version = subprocess.run(["grep", "--version"], stdout=subprocess.PIPE, check=True).stdout
    assert b"GNU grep" in version


@pytest.mark.parametrize("case", ere_fuzz.load_cases(),
                         ids=lambda case: f"{case['locale'] or 'C'}:{case['rule']!r}")
def test_every_case_ever_found(case):
    assert ere_fuzz.check(case) is None


def test_random_rules_read_as_grep_reads_them():
    problems = []
    checked = 0
    for case in ere_fuzz.random_cases(RANDOM_CASES, SEED):
        checked += 1
        problem = ere_fuzz.check(case)
        if problem:
            problems.append(problem)
    assert checked > RANDOM_CASES * 0.8
    assert not problems, "\n".join(problems)
