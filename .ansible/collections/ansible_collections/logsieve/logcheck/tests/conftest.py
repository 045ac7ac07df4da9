import os
import sys

# The repository root, so that tests can import the benchmark corpus generator.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
