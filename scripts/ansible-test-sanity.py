"""ansible-test sanity on this collection, as a collection's CI runs it.

Every sanity test that applies, each in a virtual environment of its own,
on every Python the collection claims (tests/config.yml: python_requires)
that this machine has. Run it with the Python that has ansible-core
(`make lint` uses .venv's); arguments go to ansible-test (`--test pylint`).

Three things ansible-test needs that a plain checkout does not give it:

* The collection at ansible_collections/logsieve/logcheck. ansible-test
  resolves symbolic links, and inside a git checkout tests only what git
  tracks there, so it tests a copy in a temporary directory: the files git
  tracks and the new ones it does not ignore.
* Its pip bootstrap script. Each virtual environment starts from a
  get-pip.py (for one pinned pip version) that ansible-test downloads from
  its own file host unless its cache holds it. This script makes that file
  from the pip wheel on the package index, which `pip download` fetches with
  pip's own configuration (index, proxy, certificates), and writes it where
  ansible-test looks: ~/.ansible/test/cache/get_pip_<version>.py. The wheel
  is embedded, so the file works on its own, as get-pip.py does.
* An interpreter for each Python version. ansible-test looks for pythonX.Y on
  PATH and stops at one that does not run (a pyenv shim of a version pyenv
  does not enable); this script passes each working interpreter it finds
  (on PATH, or installed by pyenv) and says which claimed versions it lacks.
"""

import base64
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import types

import yaml
from packaging.specifiers import SpecifierSet

from ansible_test._internal.constants import SUPPORTED_PYTHON_VERSIONS
from ansible_test._internal.python_requirements import get_venv_packages

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMESPACE, NAME = "logsieve", "logcheck"

BOOTSTRAP = '''\
"""pip {version}'s bootstrap for ansible-test, made by
scripts/ansible-test-sanity.py from the wheel {wheel}: it
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


def bootstrap_path(version):
    """Where ansible-test looks for pip <version>'s bootstrap script."""
    return os.path.expanduser("~/.ansible/test/cache/get_pip_%s.py" % version.replace(".", "_"))


def make_pip_bootstrap():
    """Write ansible-test's pip bootstrap script, unless it is there."""
    interpreter = types.SimpleNamespace(version="%d.%d" % sys.version_info[:2])
    version = get_venv_packages(interpreter)["pip"]
    path = bootstrap_path(version)
    if os.path.exists(path):
        return
    with tempfile.TemporaryDirectory() as directory:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--disable-pip-version-check",
                        "--dest", directory, "pip==%s" % version], check=True)
        (wheel,) = glob.glob(os.path.join(directory, "pip-*.whl"))
        with open(wheel, "rb") as handle:
            encoded = base64.b64encode(handle.read()).decode("ascii")
    lines = "\n".join('    "%s"' % encoded[start:start + 76] for start in range(0, len(encoded), 76))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as handle:
        handle.write(BOOTSTRAP.format(version=version, wheel=os.path.basename(wheel), encoded=lines))
    os.replace(path + ".tmp", path)
    print("made ansible-test's pip %s bootstrap %s from %s" % (version, path, os.path.basename(wheel)))


def claimed_versions():
    """The Python versions ansible-test supports that tests/config.yml claims."""
    with open(os.path.join(ROOT, "tests", "config.yml")) as handle:
        requires = SpecifierSet(yaml.safe_load(handle)["modules"]["python_requires"])
    return [version for version in SUPPORTED_PYTHON_VERSIONS if version in requires]


def interpreter(version):
    """A working python<version>: on PATH, or installed by pyenv."""
    candidates = [shutil.which("python" + version)]
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", version + ".*", "bin",
                                                "python" + version)), reverse=True)
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", ""], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode == 0:
            return candidate
    return None


def copy_collection(destination):
    """The files git tracks and the new ones it does not ignore, copied."""
    listing = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], check=True, stdout=subprocess.PIPE).stdout
    for path in filter(None, listing.decode().split("\0")):
        source = os.path.join(ROOT, path)
        if not os.path.lexists(source):
            continue  # deleted in the working tree
        target = os.path.join(destination, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


def main(arguments):
    make_pip_bootstrap()
    targets, missing = [], []
    interpreters = {}
    for version in claimed_versions():
        path = interpreter(version)
        if path:
            interpreters[version] = path
            targets += ["--target-python", "%s@%s" % (version, path)]
        else:
            missing.append(version)
    print("sanity on Python %s%s" % (
        ", ".join(targets[1::2]),
        "; not on %s (no interpreter here)" % ", ".join(missing) if missing else ""))
    with tempfile.TemporaryDirectory(prefix="logsieve-ansible-test.") as directory:
        collection = os.path.join(directory, "ansible_collections", NAMESPACE, NAME)
        copy_collection(collection)
        # Some tests look up pythonX.Y on PATH themselves: these come first.
        bin_dir = os.path.join(directory, "bin")
        os.mkdir(bin_dir)
        for version, path in interpreters.items():
            os.symlink(path, os.path.join(bin_dir, "python" + version))
        environment = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"])
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-test"), "sanity",
                   "--color", "no", "--controller", "origin:python=venv/default"] + targets
        return subprocess.run(command + arguments, cwd=collection, env=environment,
                              check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
