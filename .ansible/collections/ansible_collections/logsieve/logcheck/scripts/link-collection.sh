#!/usr/bin/env bash
# Make this checkout importable as the collection logsieve.logcheck:
# <repo>/.cache/collections/ansible_collections/logsieve/logcheck -> <repo>
# Point ANSIBLE_COLLECTIONS_PATH at <repo>/.cache/collections to use it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="$repo/.cache/collections/ansible_collections/logsieve"
mkdir -p "$dir"
ln -sfn "$repo" "$dir/logcheck"
echo "$repo/.cache/collections"
