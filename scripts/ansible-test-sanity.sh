#!/usr/bin/env bash
# ansible-test sanity on this collection, as a collection's CI runs it: every
# test that applies, each in a virtual environment of its own (--venv), on
# every Python the collection claims (tests/config.yml) that this machine
# has; ansible-test says which it skipped. Arguments go to ansible-test, e.g.
# `--test pylint`. Needs .venv (make venv).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${VENV:-$repo/.venv}"

# ansible-test would download pip's bootstrap script from its own file host.
"$venv/bin/python" "$repo/scripts/ansible-test-pip-bootstrap.py"

# ansible-test wants the collection at ansible_collections/logsieve/logcheck,
# resolves symbolic links, and inside a git checkout tests only what git
# tracks there; so it tests a copy outside the checkout: the files git tracks
# and the new ones it does not ignore.
root="$(mktemp -d "${TMPDIR:-/tmp}/logsieve-ansible-test.XXXXXX")"
trap 'rm -rf "$root"' EXIT
copy="$root/ansible_collections/logsieve/logcheck"
mkdir -p "$copy"
git -C "$repo" ls-files -z --cached --others --exclude-standard \
  | tar -C "$repo" --null --files-from=- --ignore-failed-read -cf - 2>/dev/null \
  | tar -C "$copy" -xf -
cd "$copy"
"$venv/bin/ansible-test" sanity --venv --color no "$@"
