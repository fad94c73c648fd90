#!/usr/bin/env bash
# mongo-path.sh (`make bench-mongo`): CPU per request of task-repo-service on its MongoDB data path, beside a
# FastAPI + Motor peer (Benchmarks/TaskPeer) and a libmongoc-direct Swift floor (Benchmarks/MongoFloor).
#
# Outside: installs the dependencies (scripts/install-deps.sh, wrk, the peer's venv in Benchmarks/TaskPeer/.venv),
# builds task-repo-service and mongo-floor in release, then reruns itself inside scripts/with-test-servers.sh.
# Inside: starts the three servers on free ports, each on a fresh database on that run's nx-27017, and runs
# scripts/bench/mongo_path.py, which seeds, runs wrk (scripts/bench/mongo-path.lua) round by round, reads the CPU
# from /proc, and writes the "## MongoDB data path (issue 8)" section of docs/performance.md. Raw figures, wrk
# output, perf data and server logs go to docs/performance.raw/mongo-path/ (git-ignored).
#
# Environment: BENCH_ROUNDS (3), BENCH_DURATION (10 s), BENCH_CONNECTIONS (32), BENCH_WRK_THREADS (1),
# BENCH_SEED (4000 tasks per database), BENCH_MONGO_POOL (10: MONGO_POOL_MAX and the floor's threads),
# BENCH_PERF (1; 0 skips perf stat / perf record), BENCH_READY_TIMEOUT (60 s).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/../lib.sh"
cd -- "$REPO_ROOT"

BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_DURATION=${BENCH_DURATION:-10}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_WRK_THREADS=${BENCH_WRK_THREADS:-1}
BENCH_SEED=${BENCH_SEED:-4000}
BENCH_MONGO_POOL=${BENCH_MONGO_POOL:-10}
BENCH_PERF=${BENCH_PERF:-1}
BENCH_READY_TIMEOUT=${BENCH_READY_TIMEOUT:-60}
API_KEY_VALUE=bench_api_key_123
PEER_DIR="$REPO_ROOT/Benchmarks/TaskPeer"
PEER_VENV="$PEER_DIR/.venv"
RAW_DIR="$REPO_ROOT/docs/performance.raw/mongo-path"

# peer_venv: Benchmarks/TaskPeer/.venv with requirements.txt installed; rebuilt when the requirements change.
peer_venv() {
    local stamp="$PEER_VENV/.requirements-sha256" want
    want=$(sha256sum "$PEER_DIR/requirements.txt" | cut -d' ' -f1)
    if [[ -x $PEER_VENV/bin/uvicorn && -f $stamp && $(cat "$stamp") == "$want" ]]; then
        return 0
    fi
    note "creating the peer's venv $PEER_VENV"
    # Debian's interpreter, as install-deps.sh uses for .venv.
    /usr/bin/python3 -m venv --clear "$PEER_VENV"
    "$PEER_VENV/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$PEER_DIR/requirements.txt"
    printf '%s\n' "$want" >"$stamp"
}

# ---------------------------------------------------------------- outside
if [[ ${1:-} != --inner ]]; then
    bench_release_build task-repo-service mongo-floor
    peer_venv
    exec "$REPO_ROOT/scripts/with-test-servers.sh" bash "$SCRIPT_DIR/mongo-path.sh" --inner
fi

# ----------------------------------------------------------------- inside
[[ -n ${TEST_MONGODB_URIS:-} && -n ${BENCH_BIN_DIR:-} ]] || die "run scripts/bench/mongo-path.sh without --inner"
NX_URI=''
IFS=',' read -ra entries <<<"$TEST_MONGODB_URIS"
for entry in "${entries[@]}"; do
    [[ ${entry%%=*} == nx-27017 ]] && NX_URI=${entry#*=}
done
[[ -n $NX_URI ]] || die "no nx-27017 in TEST_MONGODB_URIS"
command -v perf >/dev/null || BENCH_PERF=0

rm -rf -- "$RAW_DIR"
mkdir -p -- "$RAW_DIR"
declare -A PIDS=()
PY_PID=''

# Stops every server this script started (uvicorn's master stops its workers; kill_tree is for the rest).
# shellcheck disable=SC2317 # runs from the trap
cleanup() {
    local rc=$? key pid i
    trap - EXIT INT TERM
    if [[ -n $PY_PID ]] && pid_running "$PY_PID"; then
        kill -TERM "$PY_PID" 2>/dev/null || true
        wait "$PY_PID" 2>/dev/null || true
    fi
    for key in "${!PIDS[@]}"; do
        pid=${PIDS[$key]}
        pid_running "$pid" || continue
        kill_tree TERM "$pid"
        for ((i = 0; i < 100; i++)); do
            pid_running "$pid" || break
            sleep 0.1
        done
        if pid_running "$pid"; then
            warn "$key (PID $pid) still running 10 s after TERM; sending KILL"
            kill_tree KILL "$pid"
        fi
        wait "$pid" 2>/dev/null || true
    done
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# await_ready KEY PORT: the server answers 200 on /health/ready, or the run stops.
await_ready() {
    local key=$1 port=$2 start=$SECONDS
    while ((SECONDS - start < BENCH_READY_TIMEOUT)); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null; then
            return 0
        fi
        pid_running "${PIDS[$key]}" || break
        sleep 0.2
    done
    show_log_tail "$RAW_DIR/$key.log"
    die "$key did not become ready on port $port"
}

mapfile -t PORTS < <(free_ports 3)
((${#PORTS[@]} == 3)) || die "could not find free ports"
declare -A PORT=([swift]=${PORTS[0]} [peer]=${PORTS[1]} [floor]=${PORTS[2]})
declare -A DATABASE=([swift]=bench_mongo_swift [peer]=bench_mongo_peer [floor]=bench_mongo_floor)

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
for key in swift peer floor; do
    await_ready "$key" "${PORT[$key]}"
    note "$key ready on port ${PORT[$key]} (PID ${PIDS[$key]})"
done

commit=$(bench_commit)
servers=()
for key in swift peer floor; do servers+=(--server "$key:${PORT[$key]}:${PIDS[$key]}:${DATABASE[$key]}"); done

# In the background so that a TERM reaches the trap at once (bash defers traps while a foreground child runs).
"$VENV_PY" "$SCRIPT_DIR/mongo_path.py" --uri "$NX_URI" "${servers[@]}" --lua "$SCRIPT_DIR/mongo-path.lua" \
    --api-key "$API_KEY_VALUE" --rounds "$BENCH_ROUNDS" --duration "$BENCH_DURATION" --connections "$BENCH_CONNECTIONS" \
    --threads "$BENCH_WRK_THREADS" --seed "$BENCH_SEED" --pool "$BENCH_MONGO_POOL" --perf "$BENCH_PERF" --commit "$commit" \
    --out "$REPO_ROOT/docs/performance.md" --raw-dir "$RAW_DIR" </dev/null &
PY_PID=$!
rc=0
wait "$PY_PID" || rc=$?
PY_PID=''
exit "$rc"
