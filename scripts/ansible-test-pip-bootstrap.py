#!/usr/bin/env python3
"""Give ansible-test its pip bootstrap script without the network it wants.

Each virtual environment `ansible-test sanity --venv` makes starts from a
bootstrap script that ansible-test downloads from its own file host (a
get-pip.py for one pinned pip version) unless its cache already holds it.
This script makes that file from the pip wheel on the package index, which
`pip download` fetches through pip's own configuration (index, proxy,
certificates), and writes it where ansible-test looks:
~/.ansible/test/cache/get_pip_<version>.py. The wheel is embedded, so the
file works on its own, as get-pip.py does.

Run it with the Python that has ansible-core (ansible-test reads the pinned
version from it). It does nothing when the file is there already.
"""

import base64
import glob
import os
import subprocess
import sys
import tempfile
import types

from ansible_test._internal.python_requirements import get_venv_packages

BOOTSTRAP = '''\
"""pip {version}'s bootstrap for ansible-test, made by
scripts/ansible-test-pip-bootstrap.py from the wheel {wheel}: it
runs `pip install` from that wheel with ansible-test's arguments."""
import base64
import os
import sys
import tempfile

WHEEL = base64.b64decode(
{encoded})


def main():
    # get-pip.py's own switches; pip itself does not know them.
    arguments = [argument for argument in sys.argv[1:]
                 if argument not in ("--no-setuptools", "--no-wheel")]
    with tempfile.TemporaryDirectory() as directory:
        wheel = os.path.join(directory, "{wheel}")
        with open(wheel, "wb") as handle:
            handle.write(WHEEL)
        sys.path.insert(0, wheel)
        from pip._internal.cli.main import main as pip
        return pip(["install"] + arguments)


if __name__ == "__main__":
    sys.exit(main())
'''


def cache_path(version):
    """Where ansible-test looks for pip <version>'s bootstrap script."""
    return os.path.expanduser(
        "~/.ansible/test/cache/get_pip_%s.py" % version.replace(".", "_"))


def main():
    interpreter = types.SimpleNamespace(version="%d.%d" % sys.version_info[:2])
    version = get_venv_packages(interpreter)["pip"]
    path = cache_path(version)
    if os.path.exists(path):
        print("pip %s bootstrap for ansible-test: %s (present)" % (version, path))
        return 0
    with tempfile.TemporaryDirectory() as directory:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--disable-pip-version-check",
                        "--dest", directory, "pip==%s" % version], check=True)
        (wheel,) = glob.glob(os.path.join(directory, "pip-*.whl"))
        with open(wheel, "rb") as handle:
            encoded = base64.b64encode(handle.read()).decode("ascii")
    lines = "\n".join('    "%s"' % encoded[start:start + 76]
                      for start in range(0, len(encoded), 76))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as handle:
        handle.write(BOOTSTRAP.format(version=version, wheel=os.path.basename(wheel),
                                      encoded=lines))
    os.replace(path + ".tmp", path)
    print("pip %s bootstrap for ansible-test: %s (made from %s)"
          % (version, path, os.path.basename(wheel)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
