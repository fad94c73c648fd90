#!/usr/bin/env bash
# user-data.sh (`make bench-users`): user-data-service's GET /api/v1/users/{id} (cached and uncached) and login
# throughput through HTTP, beside the same SELECTs run by pgbench with the same number of clients and beside
# bcrypt-floor (Benchmarks/BcryptFloor: bcrypt verifications per second, the ceiling of logins), in one run.
#
# Outside: installs the dependencies (scripts/install-deps.sh, wrk, perf), builds user-data-service and bcrypt-floor
# in release, then reruns itself inside scripts/with-test-servers.sh.
# Inside: creates a fresh system_users database, starts two service instances on it through the run's pgbouncer
# (the Redis user cache on and off), and runs scripts/bench/user_data.py, which seeds, runs the rounds and writes the
# "## User data service (issue 9)" section of docs/performance.md. Raw figures, wrk and pgbench output, perf data and
# the service logs go to docs/performance.raw/user-data/ (git-ignored).
#
# Environment: BENCH_ROUNDS (3), BENCH_DURATION (10 s), BENCH_CONNECTIONS (10: wrk connections, pgbench clients and
# PG_POOL_MAX), BENCH_USERS (2000), BENCH_LOGIN_USERS (200), BENCH_PERF (1; 0 skips perf record),
# BENCH_READY_TIMEOUT (60 s).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/../lib.sh"
cd -- "$REPO_ROOT"

BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_DURATION=${BENCH_DURATION:-10}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-10}
BENCH_USERS=${BENCH_USERS:-2000}
BENCH_LOGIN_USERS=${BENCH_LOGIN_USERS:-200}
BENCH_PERF=${BENCH_PERF:-1}
BENCH_READY_TIMEOUT=${BENCH_READY_TIMEOUT:-60}
API_KEY_VALUE=bench_api_key_123
RAW_DIR="$REPO_ROOT/docs/performance.raw/user-data"

# ---------------------------------------------------------------- outside
if [[ ${1:-} != --inner ]]; then
    bench_release_build user-data-service bcrypt-floor
    exec "$REPO_ROOT/scripts/with-test-servers.sh" bash "$SCRIPT_DIR/user-data.sh" --inner
fi

# ----------------------------------------------------------------- inside
[[ -n ${TEST_POSTGRES_URL:-} && -n ${TEST_PGBOUNCER_URL:-} && -n ${BENCH_BIN_DIR:-} ]] ||
    die "run scripts/bench/user-data.sh without --inner"
command -v perf >/dev/null || BENCH_PERF=0

rm -rf -- "$RAW_DIR"
mkdir -p -- "$RAW_DIR"
PY_PID=''
PIDFILES=("$RAW_DIR/cached.pid" "$RAW_DIR/uncached.pid")

# shellcheck disable=SC2317 # runs from the trap
cleanup() {
    local rc=$? pidfile
    trap - EXIT INT TERM
    if [[ -n $PY_PID ]] && pid_running "$PY_PID"; then
        kill -TERM "$PY_PID" 2>/dev/null || true
        wait "$PY_PID" 2>/dev/null || true
    fi
    for pidfile in "${PIDFILES[@]}"; do stop_pidfile "$pidfile" user-data-service 10 || true; done
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# postgresql://postgres:PASSWORD@HOST:PORT/postgres (the test servers' superuser) → its parts.
url_hostport() { local rest=${1#*@}; printf '%s\n' "${rest%%/*}"; }
PG_HOSTPORT=$(url_hostport "$TEST_POSTGRES_URL")
BOUNCER_HOSTPORT=$(url_hostport "$TEST_PGBOUNCER_URL")
BOUNCER_CREDENTIALS=${TEST_PGBOUNCER_URL#*://}
BOUNCER_CREDENTIALS=${BOUNCER_CREDENTIALS%%@*}
DATABASE=bench_system_users
POSTGRES_DB_URL="${TEST_POSTGRES_URL%/*}/$DATABASE"
BOUNCER_DB_URL="${TEST_PGBOUNCER_URL%/*}/$DATABASE"

# The database, a throwaway extensions database the service also opens, and the NOLOGIN role the migration grants
# to (deploy/postgres/init.sql creates it under make up and compose).
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$TEST_POSTGRES_URL" >/dev/null <<SQL
DROP DATABASE IF EXISTS $DATABASE;
CREATE DATABASE $DATABASE ENCODING 'UTF8' TEMPLATE template0;
DROP DATABASE IF EXISTS bench_user_extensions;
CREATE DATABASE bench_user_extensions ENCODING 'UTF8' TEMPLATE template0;
DO \$\$
BEGIN
    CREATE ROLE user_data_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
\$\$;
SQL

# A throwaway ES256 key pair: login signs access tokens.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$RAW_DIR/jwt-private.pem" 2>/dev/null
openssl pkey -in "$RAW_DIR/jwt-private.pem" -pubout -out "$RAW_DIR/jwt-public.pem" 2>/dev/null

mongo_uri=''
IFS=',' read -ra entries <<<"$TEST_MONGODB_URIS"
for entry in "${entries[@]}"; do
    [[ ${entry%%=*} == nx-27017 ]] && mongo_uri=${entry#*=}
done
[[ -n $mongo_uri ]] || die "no nx-27017 in TEST_MONGODB_URIS"

mapfile -t PORTS < <(free_ports 2)
((${#PORTS[@]} == 2)) || die "could not find free ports"
declare -A PORT=([cached]=${PORTS[0]} [uncached]=${PORTS[1]}) TTL=([cached]=3600 [uncached]=0)

# start_instance KEY: one user-data-service in a clean environment (as up.sh), through pgbouncer as compose runs it
# (so with PG_STATEMENT_TIMEOUT_MS=0: pgbouncer refuses the startup parameter that carries it).
start_instance() {
    local key=$1
    spawn_bg "$RAW_DIR/$key.pid" "$RAW_DIR/$key.log" env -i PATH="$PATH" API_KEY="$API_KEY_VALUE" \
        REDIS_URL="$TEST_REDIS_URL" LOG_LEVEL=warning USER_SERVICE_HOST=127.0.0.1 USER_SERVICE_PORT="${PORT[$key]}" \
        USER_DB_HOST="${BOUNCER_HOSTPORT%:*}" USER_DB_PORT="${BOUNCER_HOSTPORT##*:}" USER_DB_USER="${BOUNCER_CREDENTIALS%%:*}" \
        USER_DB_PASSWORD="${BOUNCER_CREDENTIALS#*:}" USER_DB_NAME="$DATABASE" \
        POSTGRES_URI="${TEST_PGBOUNCER_URL%/*}/bench_user_extensions" MONGODB_URI="${mongo_uri%/}/bench_user_insights" \
        PG_POOL_MAX="$BENCH_CONNECTIONS" PG_STATEMENT_TIMEOUT_MS=0 USER_CACHE_TTL_SECONDS="${TTL[$key]}" \
        JWT_PRIVATE_KEY="$(cat "$RAW_DIR/jwt-private.pem")" JWT_PUBLIC_KEY="$(cat "$RAW_DIR/jwt-public.pem")" \
        "$BENCH_BIN_DIR/user-data-service"
}
ready() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/health/ready"; }
# One after the other: the first applies the migrations, so the second finds them applied.
for key in cached uncached; do
    start_instance "$key"
    await_server "user-data-service ($key)" "$RAW_DIR/$key.pid" user-data-service "$RAW_DIR/$key.log" \
        "$BENCH_READY_TIMEOUT" ready "${PORT[$key]}" || die "user-data-service ($key) did not become ready"
    note "user-data-service ($key) ready on port ${PORT[$key]} (PID $(cat "$RAW_DIR/$key.pid"))"
done

commit=$(bench_commit)

# In the background so that a TERM reaches the trap at once (bash defers traps while a foreground child runs).
"$VENV_PY" "$SCRIPT_DIR/user_data.py" \
    --cached "${PORT[cached]}:$(cat "$RAW_DIR/cached.pid")" --uncached "${PORT[uncached]}:$(cat "$RAW_DIR/uncached.pid")" \
    --database "$DATABASE" --postgres-url "$POSTGRES_DB_URL" --pgbouncer-url "$BOUNCER_DB_URL" --psql "$PG_BIN/psql" \
    --floor "$BENCH_BIN_DIR/bcrypt-floor" --lua "$SCRIPT_DIR/user-data.lua" --api-key "$API_KEY_VALUE" \
    --rounds "$BENCH_ROUNDS" --duration "$BENCH_DURATION" --connections "$BENCH_CONNECTIONS" --users "$BENCH_USERS" \
    --login-users "$BENCH_LOGIN_USERS" --perf "$BENCH_PERF" --commit "$commit" \
    --out "$REPO_ROOT/docs/performance.md" --raw-dir "$RAW_DIR" </dev/null &
PY_PID=$!
rc=0
wait "$PY_PID" || rc=$?
PY_PID=''
exit "$rc"
