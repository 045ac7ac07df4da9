"""Make this checkout importable as the collection logsieve.logcheck, as
Ansible sees it: <tmp>/ansible_collections/logsieve/logcheck -> the repository."""

import atexit
import os
import shutil
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = tempfile.mkdtemp(prefix="logsieve-collections.")
atexit.register(shutil.rmtree, COLLECTIONS, True)
os.makedirs(os.path.join(COLLECTIONS, "ansible_collections", "logsieve"))
os.symlink(ROOT, os.path.join(COLLECTIONS, "ansible_collections", "logsieve", "logcheck"))
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


@pytest.fixture(scope="session")
def collections_path():
    """A directory for ANSIBLE_COLLECTIONS_PATH that holds this checkout."""
    return COLLECTIONS
