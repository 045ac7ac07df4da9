"""One engine under one name (tests/conftest.py): the module's engine is the
tests' engine, and a third name for it fails loudly."""

import importlib
import sys

import pytest

import logsieve.engine
import logsieve.rules
from ansible_collections.logsieve.logcheck.plugins.module_utils import rule_validation

COLLECTION_ENGINE = "ansible_collections.logsieve.logcheck.plugins.module_utils.logsieve"


def test_the_module_and_the_tests_share_one_engine():
    assert rule_validation.RuleError is logsieve.rules.RuleError
    assert rule_validation.CompiledRules is logsieve.engine.CompiledRules
    assert sys.modules[COLLECTION_ENGINE + ".engine"] is logsieve.engine
    assert logsieve.engine.__spec__.name == "logsieve.engine"


def test_a_third_name_for_the_engine_fails_loudly():
    with pytest.raises(ImportError, match="second time"):
        importlib.import_module("plugins.module_utils.logsieve.engine")
    assert "plugins.module_utils.logsieve.engine" not in sys.modules
