# These tests run the checker of this working tree (subprocesses get it through
# PYTHONPATH, see bed.py); in-process imports of logsieve must see the same code,
# not a copy installed into the venv earlier.
import os
import sys

_PACKAGE_PARENT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "plugins", "module_utils")
if _PACKAGE_PARENT not in sys.path:
    sys.path.insert(0, _PACKAGE_PARENT)
