import os
import sys

# The repository root, so that tests can import the benchmark corpus generator.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# The engine of this checkout, in-process and in every `python -m logsieve.cli`
# the tests start: never an older copy installed in the environment.
ENGINE = os.path.join(ROOT, "plugins", "module_utils")
sys.path.insert(0, ENGINE)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [ENGINE] + [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path])
