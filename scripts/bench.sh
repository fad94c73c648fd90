#!/usr/bin/env bash
# bench.sh (`make bench`): startup time and memory of the five services.
#
# Builds the release binaries (swift build -c release) and a minimal Swift
# HTTP server as the same-run baseline (scripts/bench/baseline-server.swift),
# then, inside scripts/with-test-servers.sh (throwaway PostgreSQL, Redis and
# nx-27017 on 127.0.0.1), applies deploy/postgres/init.sql and runs
# scripts/bench/bench.py, which for each service measures
#   * start to first 200 from /health/ready: one warm-up start, then
#     BENCH_RUNS timed starts (median, min, ratio to the baseline),
#   * VmRSS 1 s after ready (idle), and after BENCH_REQUESTS keep-alive
#     GET /health/ready requests,
# prints the table and writes docs/performance.md (everything above its
# "## Service benchmarks" heading is regenerated; that section is kept).
# Raw figures and the service logs go to docs/performance.raw/ (git-ignored).
#
# Environment: BENCH_RUNS (5), BENCH_REQUESTS (10000), BENCH_CONCURRENCY (4),
# BENCH_READY_TIMEOUT (60 s per start), BENCH_ENFORCE_BUDGETS (0; 1 makes a
# service over budget fail the run with status 3).
# Exit status: 0, 1 when a service did not start or finish its load, 3 over budget.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"
cd -- "$REPO_ROOT"

BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_REQUESTS=${BENCH_REQUESTS:-10000}
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-4}
BENCH_READY_TIMEOUT=${BENCH_READY_TIMEOUT:-60}
BENCH_ENFORCE_BUDGETS=${BENCH_ENFORCE_BUDGETS:-0}
BASELINE_SRC="$SCRIPT_DIR/bench/baseline-server.swift"
OUT="$REPO_ROOT/docs/performance.md"
RAW_DIR="$REPO_ROOT/docs/performance.raw"

# ---------------------------------------------------------------- outside
# Build first, then start the stores: they should not idle through a build.
if [[ ${1:-} != --inner ]]; then
    case ":$PATH:" in
    *:/opt/swift/usr/bin:*) ;;
    *) [[ -x /opt/swift/usr/bin/swift ]] && export PATH="$PATH:/opt/swift/usr/bin" ;;
    esac
    "$SCRIPT_DIR/install-deps.sh"

    # SwiftPM waits by itself while another build holds .build.
    note "building release binaries (swift build -c release)"
    swift build -c release
    BENCH_BIN_DIR=$(swift build -c release --show-bin-path)
    for svc in tenant-mgmt-service user-data-service task-repo-service category-repository-service management-system-repo; do
        [[ -x $BENCH_BIN_DIR/$svc ]] || die "$BENCH_BIN_DIR/$svc was not built"
    done

    # The baseline, cached under .build keyed by its source and the compiler.
    swift_version=$(swiftc --version 2>&1 | head -n 1)
    cache_dir="$REPO_ROOT/.build/prismicx-bench"
    key=$( (cat -- "$BASELINE_SRC" && printf '%s\n' "$swift_version") | sha256sum | cut -c1-16)
    BENCH_BASELINE_BIN="$cache_dir/baseline-server-$key"
    if [[ ! -x $BENCH_BASELINE_BIN ]]; then
        note "compiling the baseline server (swiftc -O scripts/bench/baseline-server.swift)"
        mkdir -p -- "$cache_dir"
        rm -f -- "$cache_dir"/baseline-server-*
        if ! (cd -- "$cache_dir" && swiftc -O -module-cache-path "$cache_dir/module-cache" \
            -o "$BENCH_BASELINE_BIN.tmp" "$BASELINE_SRC"); then
            warn "the baseline server did not compile: ratios will be n/a"
            BENCH_BASELINE_BIN=''
        else
            mv -f -- "$BENCH_BASELINE_BIN.tmp" "$BENCH_BASELINE_BIN"
        fi
    fi
    export BENCH_BIN_DIR BENCH_BASELINE_BIN BENCH_SWIFT_VERSION=$swift_version
    exec "$SCRIPT_DIR/with-test-servers.sh" bash "$SCRIPT_DIR/bench.sh" --inner
fi

# ----------------------------------------------------------------- inside
[[ -n ${TEST_POSTGRES_URL:-} && -n ${TEST_REDIS_URL:-} && -n ${TEST_MONGODB_URIS:-} ]] ||
    die "TEST_* variables not set: run scripts/bench.sh without --inner"
[[ -n ${BENCH_BIN_DIR:-} ]] || die "BENCH_BIN_DIR not set: run scripts/bench.sh without --inner"

PID_DIR=$(mktemp -d "${TMPDIR:-/tmp}/prismicx-bench.XXXXXX")
PY_PID=''

# Whatever happens, no service outlives the run: bench.py stops each one it
# started; this is the fallback for anything left in its PID directory.
# shellcheck disable=SC2317 # runs from the trap
cleanup() {
    local rc=$? file pid name
    trap - EXIT INT TERM
    if [[ -n $PY_PID ]] && pid_running "$PY_PID"; then
        kill -TERM "$PY_PID" 2>/dev/null || true
        wait "$PY_PID" 2>/dev/null || true
    fi
    for file in "$PID_DIR"/*.pid; do
        [[ -e $file ]] || continue
        read -r pid name <"$file" || true
        [[ -n ${name:-} ]] || continue
        printf '%s\n' "$pid" >"$file.only"
        if live_pid "$file.only" "$name" >/dev/null; then
            warn "stopping leftover $name (PID $pid)"
            stop_pidfile "$file.only" "$name" 10 || true
        fi
    done
    rm -rf -- "$PID_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

note "applying deploy/postgres/init.sql to the test PostgreSQL"
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$TEST_POSTGRES_URL" -f "$REPO_ROOT/deploy/postgres/init.sql" >/dev/null

rm -rf -- "$RAW_DIR"
mkdir -p -- "$RAW_DIR" "$(dirname -- "$OUT")"

commit=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ $commit != unknown && -n $(git -C "$REPO_ROOT" status --porcelain -- Sources Package.swift 2>/dev/null) ]]; then
    commit="$commit + uncommitted changes in Sources/ or Package.swift"
fi
os_name=$(. /etc/os-release 2>/dev/null && printf '%s' "${PRETTY_NAME:-unknown OS}")

args=(
    --bin-dir "$BENCH_BIN_DIR" --baseline "${BENCH_BASELINE_BIN:-}"
    --runs "$BENCH_RUNS" --requests "$BENCH_REQUESTS" --concurrency "$BENCH_CONCURRENCY"
    --ready-timeout "$BENCH_READY_TIMEOUT" --api-key bench_api_key_123
    --out "$OUT" --raw-dir "$RAW_DIR" --pid-dir "$PID_DIR"
    --swift-version "${BENCH_SWIFT_VERSION:-unknown}" --commit "$commit" --os-name "$os_name"
)
if [[ $BENCH_ENFORCE_BUDGETS == 1 ]]; then args+=(--enforce-budgets); fi

# In the background so that a TERM reaches the trap at once (bash defers traps
# while a foreground child runs); bench.py stops its services on TERM.
python3 "$SCRIPT_DIR/bench/bench.py" "${args[@]}" </dev/null &
PY_PID=$!
rc=0
wait "$PY_PID" || rc=$?
PY_PID=''
exit "$rc"
