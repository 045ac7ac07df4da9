import pytest

from tests.differential.harness import Scratch, require_logcheck


@pytest.fixture
def scratch():
    """A world-readable scratch directory for one comparison (Debian's logcheck required)."""
    require_logcheck()
    directory = Scratch()
    yield directory
    directory.cleanup()
