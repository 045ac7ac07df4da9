"""Pack a staged logsieve source tree into a reproducible source archive.

    pack_source.py SOURCE_DIR OUTPUT_DIR

Runs on the controller for the checker role's native mode: the hosts build
logsieve, with its C++ block matcher, from this archive (pip installs a
.tar.gz as it installs an sdist). Writes OUTPUT_DIR/NAME-VERSION.tar.gz and
prints, as JSON, its path and the build requirements of pyproject.toml's
[build-system] table (the hosts install them before they build):

    {"archive": "/tmp/.../logsieve-0.1.0.tar.gz", "build_requires": ["setuptools>=77"]}

The archive is the same bytes for the same source: members in sorted order
under NAME-VERSION/, a fixed time stamp (SOURCE_DATE_EPOCH, default
1980-01-01), owner root, mode 0644 or 0755, no name or time in the gzip
header. So the role copies it, and the host rebuilds, only when the source
changed. Droppings a checkout may hold (__pycache__, *.pyc, *.so, *.egg-info)
are left out.
"""

import gzip
import io
import json
import os
import sys
import tarfile

try:
    import tomllib
except ImportError:  # Python < 3.11: the TOML parser pip carries
    from pip._vendor import tomli as tomllib

SKIPPED_DIRS = ("__pycache__",)
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".so", ".egg-info")


def read_project(source_dir):
    """(name, version, build requirements) from SOURCE_DIR/pyproject.toml."""
    with open(os.path.join(source_dir, "pyproject.toml"), "rb") as stream:
        pyproject = tomllib.load(stream)
    project = pyproject["project"]
    return project["name"], project["version"], pyproject["build-system"]["requires"]


def member_paths(source_dir):
    """Relative paths of the directories and files to pack, sorted."""
    found = []
    for current, dirs, files in os.walk(source_dir):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(SKIPPED_SUFFIXES)]
        relative = os.path.relpath(current, source_dir)
        if relative != ".":
            found.append(relative)
        found.extend(
            os.path.normpath(os.path.join(relative, name))
            for name in files
            if not name.endswith(SKIPPED_SUFFIXES)
        )
    return sorted(found)


def member_info(path, name, mtime):
    """A tar header for PATH that depends on its content only."""
    info = tarfile.TarInfo(name)
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if os.path.isdir(path):
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    else:
        info.size = os.path.getsize(path)
        info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
    return info


def write_archive(source_dir, top_dir, archive, mtime):
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(member_info(source_dir, top_dir, mtime))
        for relative in member_paths(source_dir):
            path = os.path.join(source_dir, relative)
            info = member_info(path, top_dir + "/" + relative.replace(os.sep, "/"), mtime)
            if info.isdir():
                tar.addfile(info)
            else:
                with open(path, "rb") as content:
                    tar.addfile(info, content)
    with open(archive, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as packed:
            packed.write(tar_bytes.getvalue())


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: pack_source.py SOURCE_DIR OUTPUT_DIR\n")
        return 2
    source_dir, output_dir = argv[1:]
    name, version, build_requires = read_project(source_dir)
    top_dir = "%s-%s" % (name, version)
    archive = os.path.join(output_dir, top_dir + ".tar.gz")
    write_archive(source_dir, top_dir, archive, int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")))
    json.dump({"archive": archive, "build_requires": build_requires}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
