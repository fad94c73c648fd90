#!/usr/bin/env bash
# mongo-path.sh (`make bench-mongo`): CPU per request of task-repo-service on its MongoDB data path, beside a
# FastAPI + Motor peer (Benchmarks/TaskPeer) and a libmongoc-direct Swift floor (Benchmarks/MongoFloor).
#
# Outside: installs the dependencies (scripts/install-deps.sh, wrk, the peer's venv in Benchmarks/TaskPeer/.venv),
# builds task-repo-service and mongo-floor in release, then reruns itself inside scripts/with-test-servers.sh.
# Inside: starts the servers on free ports (those three, plus task-repo-service with CONCURRENCY_EXECUTOR=default
# and mongo-floor with FLOOR_INLINE=1, for the executor and thread-hop A/B), each on a fresh database on that
# run's nx-27017, and runs
# scripts/bench/mongo_path.py, which seeds, runs wrk (scripts/bench/mongo-path.lua) round by round, reads the CPU
# from /proc, and writes the "## MongoDB data path (issue 8)" section of docs/performance.md. Raw figures, wrk
# output, perf data and server logs go to docs/performance.raw/mongo-path/ (git-ignored).
#
# Environment: BENCH_ROUNDS (3), BENCH_DURATION (10 s), BENCH_CONNECTIONS (32), BENCH_WRK_THREADS (1),
# BENCH_SEED (4000 tasks per database), BENCH_MONGO_POOL (10: MONGO_POOL_MAX and the floor's threads),
# BENCH_PERF (1; 0 skips perf stat / perf record / the malloc uprobe), BENCH_READY_TIMEOUT (60 s).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/../lib.sh"
# shellcheck source=scripts/bench/servers.sh
source "$SCRIPT_DIR/servers.sh"
cd -- "$REPO_ROOT"

BENCH_SEED=${BENCH_SEED:-4000}
BENCH_MONGO_POOL=${BENCH_MONGO_POOL:-10}
PEER_DIR="$REPO_ROOT/Benchmarks/TaskPeer"
RAW_DIR="$REPO_ROOT/docs/performance.raw/mongo-path"

# ---------------------------------------------------------------- outside
[[ ${1:-} == --inner ]] || bench_outside "$SCRIPT_DIR/mongo-path.sh" task-repo-service mongo-floor

# ----------------------------------------------------------------- inside
[[ -n ${TEST_MONGODB_URIS:-} && -n ${BENCH_BIN_DIR:-} ]] || die "run scripts/bench/mongo-path.sh without --inner"
NX_URI=$(bench_nx_uri)
command -v perf >/dev/null || BENCH_PERF=0

bench_start "$RAW_DIR"

KEYS=(swift peer floor swiftdefault inline)
mapfile -t PORTS < <(free_ports ${#KEYS[@]})
((${#PORTS[@]} == ${#KEYS[@]})) || die "could not find free ports"
declare -A PORT=([swift]=${PORTS[0]} [peer]=${PORTS[1]} [floor]=${PORTS[2]} [swiftdefault]=${PORTS[3]} [inline]=${PORTS[4]})
declare -A DATABASE=([swift]=bench_mongo_swift [peer]=bench_mongo_peer [floor]=bench_mongo_floor
    [swiftdefault]=bench_mongo_swiftdefault [inline]=bench_mongo_inline)

# Clean environments, like scripts/up.sh: only what each server reads. No per-request logging anywhere (the
# service at warning, uvicorn without its access log, the floor logs nothing), so logging is not what is compared.
env -i PATH="$PATH" API_KEY="$API_KEY_VALUE" MONGODB_URI="$NX_URI" MONGODB_DATABASE="${DATABASE[swift]}" HOST=127.0.0.1 \
    PORT="${PORT[swift]}" LOG_LEVEL=warning MONGO_POOL_MAX="$BENCH_MONGO_POOL" \
    "$BENCH_BIN_DIR/task-repo-service" </dev/null >"$RAW_DIR/swift.log" 2>&1 &
PIDS[swift]=$!
env -i PATH="$PATH" API_KEY="$API_KEY_VALUE" MONGODB_URI="$NX_URI" MONGODB_DATABASE="${DATABASE[peer]}" \
    "$PEER_VENV/bin/uvicorn" app:app --app-dir "$PEER_DIR" --host 127.0.0.1 --port "${PORT[peer]}" --workers 2 \
    --no-access-log --log-level warning </dev/null >"$RAW_DIR/peer.log" 2>&1 &
PIDS[peer]=$!
env -i PATH="$PATH" API_KEY="$API_KEY_VALUE" MONGODB_URI="$NX_URI" MONGODB_DATABASE="${DATABASE[floor]}" HOST=127.0.0.1 \
    PORT="${PORT[floor]}" LOG_LEVEL=warning MONGO_POOL_MAX="$BENCH_MONGO_POOL" \
    "$BENCH_BIN_DIR/mongo-floor" </dev/null >"$RAW_DIR/floor.log" 2>&1 &
PIDS[floor]=$!
# The two A/B servers: the service on the runtime's executor, and the floor without its hop to the blocking threads.
env -i PATH="$PATH" API_KEY="$API_KEY_VALUE" MONGODB_URI="$NX_URI" MONGODB_DATABASE="${DATABASE[swiftdefault]}" HOST=127.0.0.1 \
    PORT="${PORT[swiftdefault]}" LOG_LEVEL=warning MONGO_POOL_MAX="$BENCH_MONGO_POOL" CONCURRENCY_EXECUTOR=default \
    "$BENCH_BIN_DIR/task-repo-service" </dev/null >"$RAW_DIR/swiftdefault.log" 2>&1 &
PIDS[swiftdefault]=$!
env -i PATH="$PATH" API_KEY="$API_KEY_VALUE" MONGODB_URI="$NX_URI" MONGODB_DATABASE="${DATABASE[inline]}" HOST=127.0.0.1 \
    PORT="${PORT[inline]}" LOG_LEVEL=warning MONGO_POOL_MAX="$BENCH_MONGO_POOL" FLOOR_INLINE=1 \
    "$BENCH_BIN_DIR/mongo-floor" </dev/null >"$RAW_DIR/inline.log" 2>&1 &
PIDS[inline]=$!
for key in "${KEYS[@]}"; do bench_await_ready "$key" "${PORT[$key]}"; done

servers=()
for key in "${KEYS[@]}"; do servers+=(--server "$key:${PORT[$key]}:${PIDS[$key]}:${DATABASE[$key]}"); done

bench_measure "$SCRIPT_DIR/mongo_path.py" "$SCRIPT_DIR/mongo-path.lua" "$NX_URI" "${servers[@]}" --seed "$BENCH_SEED" --pool "$BENCH_MONGO_POOL"
