# shellcheck shell=bash
# Helpers shared by the benchmarks that start servers of their own beside a FastAPI peer (mongo-path.sh,
# tenant-path.sh): the peers' venv, the nx-27017 of a with-test-servers.sh run, waiting for readiness, stopping
# every server on exit, and running the measuring Python script so that a TERM still reaches the trap.
#
# Source it after scripts/lib.sh. The servers a script starts go into PIDS (key → PID); their logs are
# $BENCH_RAW_DIR/KEY.log.

# The settings both take (their headers say what each means), with the same defaults.
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_DURATION=${BENCH_DURATION:-10}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_WRK_THREADS=${BENCH_WRK_THREADS:-1}
BENCH_PERF=${BENCH_PERF:-1}
BENCH_READY_TIMEOUT=${BENCH_READY_TIMEOUT:-60}
API_KEY_VALUE=bench_api_key_123

# The peers (Benchmarks/TaskPeer, Benchmarks/TenantPeer) share one venv, built from TaskPeer's requirements.txt.
PEER_REQUIREMENTS="$REPO_ROOT/Benchmarks/TaskPeer/requirements.txt"
PEER_VENV="$REPO_ROOT/Benchmarks/TaskPeer/.venv"
declare -A PIDS=()
PY_PID=''

# bench_peer_venv: $PEER_VENV with the requirements installed; rebuilt when they change.
bench_peer_venv() {
    local stamp="$PEER_VENV/.requirements-sha256" want
    want=$(sha256sum "$PEER_REQUIREMENTS" | cut -d' ' -f1)
    if [[ -x $PEER_VENV/bin/uvicorn && -f $stamp && $(cat "$stamp") == "$want" ]]; then
        return 0
    fi
    note "creating the peers' venv $PEER_VENV"
    # Debian's interpreter, as install-deps.sh uses for .venv.
    /usr/bin/python3 -m venv --clear "$PEER_VENV"
    "$PEER_VENV/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$PEER_REQUIREMENTS"
    printf '%s\n' "$want" >"$stamp"
}

# bench_outside SCRIPT PRODUCT...: the outer half of a benchmark: the PRODUCTs built in release
# (bench_release_build), the peers' venv, then SCRIPT again, with --inner, inside scripts/with-test-servers.sh.
bench_outside() {
    local script=$1
    shift
    bench_release_build "$@"
    bench_peer_venv
    exec "$REPO_ROOT/scripts/with-test-servers.sh" bash "$script" --inner
}

# bench_nx_uri: the URI of the run's nx-27017 (from TEST_MONGODB_URIS), or the script stops.
bench_nx_uri() {
    local entry entries uri=''
    IFS=',' read -ra entries <<<"${TEST_MONGODB_URIS:-}"
    for entry in "${entries[@]}"; do
        [[ ${entry%%=*} == nx-27017 ]] && uri=${entry#*=}
    done
    [[ -n $uri ]] || die "no nx-27017 in TEST_MONGODB_URIS"
    printf '%s\n' "$uri"
}

# Stops every server in PIDS (uvicorn's master stops its workers; kill_tree is for the rest) and the measuring
# script.
# shellcheck disable=SC2317 # runs from the trap
bench_cleanup() {
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

# bench_start RAW_DIR: a fresh RAW_DIR (BENCH_RAW_DIR from now on) and the traps that stop the servers.
bench_start() {
    BENCH_RAW_DIR=$1
    rm -rf -- "$BENCH_RAW_DIR"
    mkdir -p -- "$BENCH_RAW_DIR"
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# bench_await_ready KEY PORT: the server answers 200 on /health/ready within BENCH_READY_TIMEOUT, or the run stops.
bench_await_ready() {
    local key=$1 port=$2 start=$SECONDS
    while ((SECONDS - start < BENCH_READY_TIMEOUT)); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null; then
            note "$key ready on port $port (PID ${PIDS[$key]})"
            return 0
        fi
        pid_running "${PIDS[$key]}" || break
        sleep 0.2
    done
    show_log_tail "$BENCH_RAW_DIR/$key.log"
    die "$key did not become ready on port $port"
}

# bench_measure SCRIPT LUA NX_URI [ARGS...]: runs the measuring SCRIPT (scripts/bench/*.py, with the repository's
# .venv) with the wrk script LUA, the settings above and ARGS, writing into docs/performance.md and $BENCH_RAW_DIR,
# and exits with its status. In the background so that a TERM reaches the trap at once (bash defers traps while a
# foreground child runs).
bench_measure() {
    local script=$1 lua=$2 uri=$3 rc=0
    shift 3
    "$VENV_PY" "$script" --uri "$uri" --lua "$lua" --api-key "$API_KEY_VALUE" --rounds "$BENCH_ROUNDS" \
        --duration "$BENCH_DURATION" --connections "$BENCH_CONNECTIONS" --threads "$BENCH_WRK_THREADS" --perf "$BENCH_PERF" \
        --commit "$(bench_commit)" --out "$REPO_ROOT/docs/performance.md" --raw-dir "$BENCH_RAW_DIR" "$@" </dev/null &
    PY_PID=$!
    wait "$PY_PID" || rc=$?
    PY_PID=''
    exit "$rc"
}
