#!/usr/bin/env bash
# run-tests.sh: the full test run, meant to run inside with-test-servers.sh
# (`make test`): debug build and tests, Schemathesis against the debug
# binaries, the release tests, then the OpenAPI specs. A failed build stops
# the run; after failed tests the remaining steps still run, so one CI log
# shows everything. Exits non-zero if any step failed.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"
cd -- "$REPO_ROOT"

if [[ -z ${TEST_POSTGRES_URL:-} ]]; then
    warn "TEST_* variables not set: run this through scripts/with-test-servers.sh (make test)"
fi

failed=()
step() {
    local name=$1
    shift
    note "$name: $*"
    if "$@"; then
        note "$name: ok"
    else
        warn "$name: FAILED (exit $?)"
        failed+=("$name")
        return 1
    fi
}

step "lint" bash "$SCRIPT_DIR/lint.sh" || true
step "debug build" swift build --build-tests || exit 1
step "debug tests" swift test || true
# Each service's binary against its own openapi.yaml (scripts/schemathesis.sh):
# the debug products just built, so no second build is needed.
debug_bin=$(swift build --show-bin-path) || debug_bin=$REPO_ROOT/.build/debug
step "schemathesis" env SERVICE_BIN_DIR="$debug_bin" bash "$SCRIPT_DIR/schemathesis.sh" || true
# Release too: a C-pointer lifetime bug once crashed only with optimisation.
step "release tests" swift test -c release -Xswiftc -enable-testing || true
if [[ -f $SCRIPT_DIR/validate-openapi.sh ]]; then
    step "OpenAPI specs" bash "$SCRIPT_DIR/validate-openapi.sh" || true
fi

if ((${#failed[@]} > 0)); then
    warn "failed steps: ${failed[*]}"
    exit 1
fi
note "all test steps passed"
