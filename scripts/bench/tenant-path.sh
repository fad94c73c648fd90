#!/usr/bin/env bash
# tenant-path.sh (`make bench-tenants`): CPU per request of tenant-mgmt-service on its data path (GET, PUT and create
# of tenants, and GET /health as the HTTP-only baseline), beside a FastAPI + Motor + asyncpg peer
# (Benchmarks/TenantPeer) in the same rounds.
#
# Outside: installs the dependencies (scripts/install-deps.sh, wrk, perf, the peers' venv in Benchmarks/TaskPeer/.venv),
# builds tenant-mgmt-service in release, then reruns itself inside scripts/with-test-servers.sh.
# Inside: creates a PostgreSQL database per server for tenant schemas, starts both servers on free ports, each with a
# fresh registry database on that run's nx-27017 and no Redis (so every GET reads MongoDB), and runs
# scripts/bench/tenant_path.py, which seeds, runs wrk (scripts/bench/tenant-path.lua) round by round, reads the CPU
# from /proc, and writes the "## Tenant service data path (issue 8)" section of docs/performance.md. Raw figures, wrk
# output, perf data and server logs go to docs/performance.raw/tenant-path/ (git-ignored).
#
# Environment: BENCH_ROUNDS (3), BENCH_DURATION (10 s), BENCH_CONNECTIONS (32), BENCH_WRK_THREADS (1),
# BENCH_SEED (2000 tenants per registry), BENCH_POOL (10: the service's MONGO_POOL_MAX and PG_POOL_MAX; half of it
# is each peer worker's PostgreSQL pool), BENCH_PERF (1; 0 skips perf stat / perf record), BENCH_READY_TIMEOUT (60 s),
# BENCH_SKIP_BUILD (0; 1 measures the binary already in BENCH_BIN_DIR, default .build/release: see scripts/lib.sh).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/../lib.sh"
# shellcheck source=scripts/bench/servers.sh
source "$SCRIPT_DIR/servers.sh"
cd -- "$REPO_ROOT"

BENCH_SEED=${BENCH_SEED:-2000}
BENCH_POOL=${BENCH_POOL:-10}
RAW_DIR="$REPO_ROOT/docs/performance.raw/tenant-path"

# ---------------------------------------------------------------- outside
[[ ${1:-} == --inner ]] || bench_outside "$SCRIPT_DIR/tenant-path.sh" tenant-mgmt-service

# ----------------------------------------------------------------- inside
[[ -n ${TEST_MONGODB_URIS:-} && -n ${TEST_POSTGRES_URL:-} && -n ${BENCH_BIN_DIR:-} ]] ||
    die "run scripts/bench/tenant-path.sh without --inner"
NX_URI=$(bench_nx_uri)
command -v perf >/dev/null || BENCH_PERF=0
bench_start "$RAW_DIR"

mapfile -t PORTS < <(free_ports 2)
((${#PORTS[@]} == 2)) || die "could not find free ports"
declare -A PORT=([swift]=${PORTS[0]} [peer]=${PORTS[1]})
# One name per server for its registry (MongoDB) and for its tenant schemas (PostgreSQL).
declare -A DATABASE=([swift]=bench_tenant_swift [peer]=bench_tenant_peer)
for key in swift peer; do
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$TEST_POSTGRES_URL" >/dev/null \
        -c "DROP DATABASE IF EXISTS ${DATABASE[$key]}" -c "CREATE DATABASE ${DATABASE[$key]} ENCODING 'UTF8' TEMPLATE template0"
done

# Clean environments, like scripts/up.sh: only what each server reads. No per-request logging on either side (the
# service at warning, uvicorn without its access log), so logging is not what is compared.
env -i PATH="$PATH" API_KEY="$API_KEY_VALUE" TENANT_MONGODB_URI="$NX_URI" TENANT_REGISTRY_DB="${DATABASE[swift]}" \
    TENANT_POSTGRES_URI="${TEST_POSTGRES_URL%/*}/${DATABASE[swift]}" TENANT_SERVICE_HOST=127.0.0.1 \
    TENANT_SERVICE_PORT="${PORT[swift]}" LOG_LEVEL=warning MONGO_POOL_MAX="$BENCH_POOL" PG_POOL_MAX="$BENCH_POOL" \
    "$BENCH_BIN_DIR/tenant-mgmt-service" </dev/null >"$RAW_DIR/swift.log" 2>&1 &
PIDS[swift]=$!
env -i PATH="$PATH" API_KEY="$API_KEY_VALUE" TENANT_MONGODB_URI="$NX_URI" TENANT_REGISTRY_DB="${DATABASE[peer]}" \
    TENANT_POSTGRES_URI="${TEST_POSTGRES_URL%/*}/${DATABASE[peer]}" PG_POOL_MAX=$((BENCH_POOL / 2 > 0 ? BENCH_POOL / 2 : 1)) \
    "$PEER_VENV/bin/uvicorn" app:app --app-dir "$REPO_ROOT/Benchmarks/TenantPeer" --host 127.0.0.1 --port "${PORT[peer]}" \
    --workers 2 --no-access-log --log-level warning </dev/null >"$RAW_DIR/peer.log" 2>&1 &
PIDS[peer]=$!
for key in swift peer; do bench_await_ready "$key" "${PORT[$key]}"; done

servers=()
for key in swift peer; do servers+=(--server "$key:${PORT[$key]}:${PIDS[$key]}:${DATABASE[$key]}"); done

bench_measure "$SCRIPT_DIR/tenant_path.py" "$SCRIPT_DIR/tenant-path.lua" "$NX_URI" "${servers[@]}" --seed "$BENCH_SEED" --pool "$BENCH_POOL"
