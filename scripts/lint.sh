#!/usr/bin/env bash
# lint.sh: the checks `make test` runs before building. Every Swift line in Sources/, Tests/ and
# Benchmarks/ is at most 150 characters (the lineLength of .swift-format); a longer one is printed as
# FILE:LINE and fails the run. Fast and dependency-free, so it runs first.
set -euo pipefail
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"
cd -- "$REPO_ROOT"

limit=150
mapfile -t files < <(git ls-files -co --exclude-standard -- 'Sources/*.swift' 'Tests/*.swift' 'Benchmarks/*.swift')
((${#files[@]} > 0)) || die "no Swift files found"
long=$(awk -v limit="$limit" 'length($0) > limit { printf "%s:%d: %d characters\n", FILENAME, FNR, length($0) }' "${files[@]}")
if [[ -n $long ]]; then
    printf '%s\n' "$long" >&2
    die "$(printf '%s\n' "$long" | wc -l) lines longer than $limit characters (see .swift-format)"
fi
note "lint: ${#files[@]} Swift files, no line over $limit characters"
