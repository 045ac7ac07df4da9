"""One engine under one name in the test process.

The engine's files (plugins/module_utils/logsieve) are the package `logsieve`:
`make venv` installs this checkout editable, so the tests and every
`python -m logsieve.cli` they start run this checkout's code.  The Ansible
module reaches the same files as
ansible_collections.logsieve.logcheck.plugins.module_utils.logsieve, the name
AnsiballZ bundles them under on a host.  Loaded under both names in one
process, every class would exist twice (`logsieve.rules.RuleError` would not
be the error rule_validation raises), so the finder below:

- makes `ansible_collections.logsieve.logcheck` this checkout, with the
  engine's collection name an alias of `logsieve` (the same module objects);
- fails an import of `logsieve` from anywhere but this checkout (an older
  copy installed in the environment: run `make venv`), and any import that
  would load the engine's files under a third name (such as
  `plugins.module_utils.logsieve`).

Tests import the engine as `logsieve`; only module_utils and the module use
the collection name.
"""

import importlib
import importlib.abc
import importlib.machinery
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
ENGINE_DIR = os.path.join(ROOT, "plugins", "module_utils", "logsieve")
ENGINE = "logsieve"
COLLECTION = "ansible_collections.logsieve.logcheck"
COLLECTION_ENGINE = COLLECTION + ".plugins.module_utils.logsieve"


class _Alias(importlib.abc.Loader):
    """Loads a module as the module already imported under its one name."""

    def __init__(self, target):
        self.target = target
        self.own_spec = None

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = self.own_spec  # importlib set it to the alias's


class OneEngineFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in ("ansible_collections", "ansible_collections.logsieve"):
            return importlib.machinery.ModuleSpec(name, None, is_package=True)
        if name == COLLECTION:
            spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
            spec.submodule_search_locations = [ROOT]
            return spec
        if name == COLLECTION_ENGINE or name.startswith(COLLECTION_ENGINE + "."):
            return importlib.machinery.ModuleSpec(
                name, _Alias(ENGINE + name[len(COLLECTION_ENGINE):]),
                is_package=name == COLLECTION_ENGINE)
        spec = self._find_elsewhere(name, path, target)
        if spec is not None:
            self._check(name, spec)
        return spec

    def _find_elsewhere(self, name, path, target):
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is not self and find is not None:
                spec = find(name, path, target)
                if spec is not None:
                    return spec
        return None

    @staticmethod
    def _check(name, spec):
        locations = [spec.origin or "", *(spec.submodule_search_locations or [])]
        from_engine = any(os.path.realpath(location) == ENGINE_DIR
                          or os.path.realpath(location).startswith(ENGINE_DIR + os.sep)
                          for location in locations if location)
        is_engine = name == ENGINE or name.startswith(ENGINE + ".")
        if is_engine and not from_engine:
            raise ImportError(f"{name} would come from {spec.origin}, not from this checkout "
                              f"({ENGINE_DIR}): run `make venv`", name=name)
        if from_engine and not is_engine:
            raise ImportError(f"{name} would load the engine a second time, under another "
                              f"name: import it as {ENGINE} (see tests/conftest.py)", name=name)


if not any(isinstance(finder, OneEngineFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, OneEngineFinder())
    for _loaded in [name for name in sys.modules if name == ENGINE or name.startswith(ENGINE + ".")]:
        OneEngineFinder._check(_loaded, sys.modules[_loaded].__spec__)
    importlib.import_module(ENGINE)  # a wrong copy fails the run here, before any test


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory):
    """A directory for ANSIBLE_COLLECTIONS_PATH (Ansible's own processes) that
    holds this checkout as the collection logsieve.logcheck."""
    collections = tmp_path_factory.mktemp("collections")
    (collections / "ansible_collections" / "logsieve").mkdir(parents=True)
    (collections / "ansible_collections" / "logsieve" / "logcheck").symlink_to(ROOT)
    return str(collections)
