#!/usr/bin/env bash
# schemathesis.sh [SERVICE...]: property-based API tests of every service
# against its own OpenAPI document (Schemathesis 4, from .venv), meant to run
# inside scripts/with-test-servers.sh (`make test` runs it from run-tests.sh).
#
# For each service it:
#   1. starts the binary from $SERVICE_BIN_DIR (default .build/debug) on a
#      free 127.0.0.1 port, with a clean environment (env -i, as up.sh does)
#      that points it at the throwaway stores: SecantusDB (the faithful
#      MongoDB stand-in of TEST_MONGODB_URIS), PostgreSQL (TEST_POSTGRES_URL)
#      and Redis (TEST_REDIS_URL). Every database name is fresh for this run,
#      so nothing left by the Swift tests or an earlier run is seen;
#   2. waits until /health/ready answers 200;
#   3. runs `schemathesis run services/<svc>/openapi.yaml` against it: every
#      check (one narrow, self-expiring exclusion: see "exclusions" below),
#      every phase (examples, coverage, fuzzing, stateful), a fixed seed and
#      no example database, so a run is reproducible;
#   4. stops the service.
# Then it prints one line per service and exits non-zero if any failed.
#
# No X-Tenant-ID is forced with -H: where a document declares the header,
# Schemathesis must generate it, leave it out and break it (negative cases,
# missing_required_header), and a fixed value would overwrite all of that.
#
# Environment (all optional):
#   SERVICE_BIN_DIR               directory of the five binaries (.build/debug)
#   SCHEMATHESIS_MAX_EXAMPLES     test cases per operation and phase (20)
#   SCHEMATHESIS_SEED             Hypothesis seed (20250601)
#   SCHEMATHESIS_WORKERS          concurrent workers (1: Schemathesis' workers are threads, and
#                                 Debian 12's Python 3.11 sometimes fails with "SystemError: AST
#                                 constructor recursion depth mismatch" when two threads build ASTs
#                                 at once (CPython gh-106905), a runtime error that is not the
#                                 service's; one thread also makes a fixed seed one fixed run)
#   SCHEMATHESIS_REQUEST_TIMEOUT  seconds per request (10)
#   SCHEMATHESIS_SERVICE_TIMEOUT  hard cap in seconds for one service's run (300)
#   SCHEMATHESIS_REPORT_DIR       per service: JUnit and NDJSON reports, the
#                                 Schemathesis config and the service log
#                                 (.build/schemathesis)
# Arguments: service names to test (default: all five).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"
cd -- "$REPO_ROOT"

[[ -n ${TEST_POSTGRES_URL:-} && -n ${TEST_REDIS_URL:-} && -n ${TEST_MONGODB_URIS:-} ]] ||
    die "TEST_* variables not set: run this through scripts/with-test-servers.sh"

ALL_SERVICES=(tenant-mgmt-service user-data-service task-repo-service category-repository-service management-system-repo)
if (($# > 0)); then SERVICES=("$@"); else SERVICES=("${ALL_SERVICES[@]}"); fi

BIN_DIR=$(abspath "${SERVICE_BIN_DIR:-.build/debug}")
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-20}
SEED=${SCHEMATHESIS_SEED:-20250601}
WORKERS=${SCHEMATHESIS_WORKERS:-1}
REQUEST_TIMEOUT=${SCHEMATHESIS_REQUEST_TIMEOUT:-10}
SERVICE_TIMEOUT=${SCHEMATHESIS_SERVICE_TIMEOUT:-300}
REPORT_DIR=$(abspath "${SCHEMATHESIS_REPORT_DIR:-.build/schemathesis}")
SCHEMATHESIS="$VENV_DIR/bin/schemathesis"
API_KEY=schemathesis_api_key
# Fresh database names: lowercase letters, digits and '_' (valid for both
# stores and for the services' name checks), short enough for 63 bytes.
DB_PREFIX="st_$(date +%s)_$$"

[[ -x $SCHEMATHESIS ]] || "$SCRIPT_DIR/install-deps.sh"
[[ -x $SCHEMATHESIS ]] || die "$SCHEMATHESIS not installed"
[[ $MAX_EXAMPLES =~ ^[0-9]+$ ]] && ((MAX_EXAMPLES >= 1)) || die "SCHEMATHESIS_MAX_EXAMPLES must be a positive integer"

for svc in "${SERVICES[@]}"; do
    [[ " ${ALL_SERVICES[*]} " == *" $svc "* ]] || die "unknown service $svc (known: ${ALL_SERVICES[*]})"
    [[ -x $BIN_DIR/$svc ]] || die "$BIN_DIR/$svc not found: build first (swift build), or set SERVICE_BIN_DIR"
    [[ -f services/$svc/openapi.yaml ]] || die "services/$svc/openapi.yaml not found"
done

# ------------------------------------------------------------------- stores
# SecantusDB, not nx-27017: nx-27017 stores dates written by updates as
# strings, so task leases would never expire (see up.sh).
MONGO_URI=''
IFS=',' read -ra mongo_entries <<<"$TEST_MONGODB_URIS"
for entry in "${mongo_entries[@]}"; do
    if [[ ${entry%%=*} == secantusdb ]]; then MONGO_URI=${entry#*=}; fi
done
[[ -n $MONGO_URI ]] || die "TEST_MONGODB_URIS has no secantusdb entry"
# mongodb://HOST:PORT/[DB][?QUERY]: split off the query (directConnection=true)
# so that a database can be put in the path.
MONGO_BASE=${MONGO_URI%%\?*}
MONGO_QUERY=''
if [[ $MONGO_URI == *\?* ]]; then MONGO_QUERY="?${MONGO_URI#*\?}"; fi
MONGO_HOSTPORT=${MONGO_BASE#mongodb://}
MONGO_HOSTPORT=${MONGO_HOSTPORT%%/*}
MONGO_HOST=${MONGO_HOSTPORT%:*}
MONGO_PORT=${MONGO_HOSTPORT##*:}
MONGO_BASE="mongodb://$MONGO_HOSTPORT"
mongo_uri() { printf '%s/%s%s\n' "$MONGO_BASE" "$1" "$MONGO_QUERY"; }

# postgresql://USER@HOST:PORT/DB (superuser, trust auth).
PG_HOSTPORT=${TEST_POSTGRES_URL#*://}
PG_HOSTPORT=${PG_HOSTPORT#*@}
PG_HOSTPORT=${PG_HOSTPORT%%/*}
PG_HOST=${PG_HOSTPORT%:*}
PG_PORT=${PG_HOSTPORT##*:}

# create_pg_database NAME: create it unless it exists (UTF8, as init.sql does).
create_pg_database() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$TEST_POSTGRES_URL" -v name="$1" >/dev/null <<'SQL'
SELECT format('CREATE DATABASE %I ENCODING %L TEMPLATE template0', :'name', 'UTF8')
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = :'name')
\gexec
SQL
}

# A throwaway ES256 key pair, so login and refresh can issue tokens (and the
# bearer check is active) the way they are under make up.
JWT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/prismicx-st-jwt.XXXXXX")
(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$JWT_DIR/private.pem" 2>/dev/null)
openssl pkey -in "$JWT_DIR/private.pem" -pubout -out "$JWT_DIR/public.pem" 2>/dev/null
# pem_one_line FILE: the PEM with its newlines as \n (one env line; the services accept it).
pem_one_line() {
    awk 'BEGIN { ORS = "" } { if (NR > 1) print "\\n"; print }' "$1"
}

# user-data-service's migration grants to the NOLOGIN role user_data_app
# (deploy/postgres/init.sql creates it in make up and compose); the same here.
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$TEST_POSTGRES_URL" >/dev/null <<'SQL'
DO $$
BEGIN
    CREATE ROLE user_data_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
SQL

# service_env NAME PORT: NAME's environment, one VAR=value per line. Only what
# up.sh gives it, on the test stores; PostgreSQL as the superuser.
service_env() {
    local svc=$1 port=$2 db=$DB_PREFIX
    printf '%s\n' "API_KEY=$API_KEY" "REDIS_URL=$TEST_REDIS_URL" "SERVICE_NAME=$svc" "LOG_LEVEL=info" \
        "JWT_PUBLIC_KEY=$(pem_one_line "$JWT_DIR/public.pem")"
    case $svc in
    tenant-mgmt-service)
        printf '%s\n' \
            "TENANT_MONGODB_URI=$(mongo_uri '')" \
            "TENANT_REGISTRY_DB=${db}_tenant_registry" \
            "TENANT_POSTGRES_URI=postgresql://postgres@$PG_HOST:$PG_PORT/${db}_management" \
            "TENANT_SERVICE_HOST=127.0.0.1" \
            "TENANT_SERVICE_PORT=$port"
        ;;
    user-data-service)
        printf '%s\n' \
            "USER_DB_HOST=$PG_HOST" \
            "USER_DB_PORT=$PG_PORT" \
            "USER_DB_USER=postgres" \
            "USER_DB_PASSWORD=" \
            "USER_DB_NAME=${db}_system_users" \
            "POSTGRES_URI=postgresql://postgres@$PG_HOST:$PG_PORT/${db}_user_extensions" \
            "MONGODB_URI=$(mongo_uri "${db}_user_insights")" \
            "JWT_PRIVATE_KEY=$(pem_one_line "$JWT_DIR/private.pem")" \
            "BCRYPT_COST=4" \
            "USER_SERVICE_HOST=127.0.0.1" \
            "USER_SERVICE_PORT=$port"
        ;;
    task-repo-service)
        printf '%s\n' \
            "MONGODB_URI=$(mongo_uri "${db}_task_repository")" \
            "MONGODB_DATABASE=${db}_task_repository" \
            "MONGODB_TASKS_COLLECTION=tasks" \
            "HOST=127.0.0.1" \
            "PORT=$port"
        ;;
    category-repository-service)
        printf '%s\n' \
            "MONGODB_URI=$(mongo_uri "${db}_category_repository")" \
            "MONGODB_DATABASE=${db}_category_repository" \
            "HOST=127.0.0.1" \
            "PORT=$port"
        ;;
    management-system-repo)
        printf '%s\n' \
            "SYSTEM_DB_HOST=$PG_HOST" \
            "SYSTEM_DB_PORT=$PG_PORT" \
            "SYSTEM_DB_USER=postgres" \
            "SYSTEM_DB_PASSWORD=" \
            "SYSTEM_DB_NAME=${db}_management" \
            "CONFIG_DB_HOST=$MONGO_HOST" \
            "CONFIG_DB_PORT=$MONGO_PORT" \
            "CONFIG_DB_USER=" \
            "CONFIG_DB_PASSWORD=" \
            "CONFIG_DB_NAME=${db}_config_db" \
            "HOST=127.0.0.1" \
            "PORT=$port"
        ;;
    esac
}

# pg_databases NAME: the PostgreSQL databases NAME expects to exist.
pg_databases() {
    local db=$DB_PREFIX
    case $1 in
    tenant-mgmt-service | management-system-repo) printf '%s\n' "${db}_management" ;;
    user-data-service) printf '%s\n' "${db}_system_users" "${db}_user_extensions" ;;
    esac
}

health_ready() {
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/health/ready"
}

# ---------------------------------------------------------------- run state
mkdir -p -- "$REPORT_DIR"
PID_DIR=$(mktemp -d "${TMPDIR:-/tmp}/prismicx-st.XXXXXX")
CURRENT_SVC=''
ST_PID=''

# shellcheck disable=SC2317 # runs from the trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $ST_PID ]] && pid_running "$ST_PID"; then
        kill_tree TERM "$ST_PID"
        wait "$ST_PID" 2>/dev/null || true
    fi
    if [[ -n $CURRENT_SVC ]]; then
        stop_pidfile "$PID_DIR/$CURRENT_SVC.pid" "$CURRENT_SVC" 10 || true
    fi
    rm -rf -- "$PID_DIR" "$JWT_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

base_env=()
for var in PATH HOME USER LANG LC_ALL TZ TMPDIR LD_LIBRARY_PATH SWIFT_BACKTRACE; do
    if [[ -n ${!var:-} ]]; then base_env+=("$var=${!var}"); fi
done

# ------------------------------------------------------------- config
# No check is excluded: undeclared methods answer 405 with `Allow` on every
# path, health and metrics included (MethodNotAllowedMiddleware).
# write_config FILE: the Schemathesis config. Always written and passed explicitly: otherwise
# Schemathesis would pick up any schemathesis.toml in this directory or a
# parent.
#
# Every check is enabled here, in the file, rather than with `--checks all`:
# command-line options override every level of the config file, so a later
# per-operation setting could not take effect. (max_response_time stays off, as with
# `--checks all`: it needs a limit, and timing a debug build on a shared
# 2-core box proves nothing. object_level_authorization runs but can find
# nothing while the API knows one identity, the API key.)
#
# The cache is off: it would replay requests remembered from earlier runs
# (in ./.schemathesis) and seed the run with their resources, so two runs with
# the same seed would no longer be the same run.
#
# A service may add narrow, commented settings in services/<svc>/schemathesis.toml
# (for example a real value for an opaque server-issued token such as a page
# cursor, which no generated string can be); they are appended here.
write_config() {
    local file=$1 svc=$2
    cat >"$file" <<'TOML'
[cache]
enabled = false

[checks]
enabled = true
TOML
    if [[ -f $REPO_ROOT/services/$svc/schemathesis.toml ]]; then
        printf '\n# From services/%s/schemathesis.toml\n' "$svc" >>"$file"
        cat -- "$REPO_ROOT/services/$svc/schemathesis.toml" >>"$file"
    fi
}

declare -A RESULT DURATION
failed=()

# run_service NAME: start, test, stop; sets RESULT[NAME]. Returns non-zero
# when the service failed its run.
run_service() {
    local svc=$1 port log pidfile env_lines dbname rc=0
    log="$REPORT_DIR/$svc.log"
    pidfile="$PID_DIR/$svc.pid"
    rm -f -- "$log" "$REPORT_DIR/$svc".{junit.xml,ndjson,schemathesis.toml}

    while IFS= read -r dbname; do
        [[ -n $dbname ]] || continue
        create_pg_database "$dbname" || {
            RESULT[$svc]="error: could not create PostgreSQL database $dbname"
            return 1
        }
    done < <(pg_databases "$svc")

    port=$(free_port)
    mapfile -t env_lines < <(service_env "$svc" "$port")
    note "$svc: starting on 127.0.0.1:$port (log $log)"
    CURRENT_SVC=$svc
    spawn_bg "$pidfile" "$log" env -i "${base_env[@]}" "${env_lines[@]}" "$BIN_DIR/$svc" || {
        RESULT[$svc]="error: did not start"
        return 1
    }
    if ! await_server "$svc" "$pidfile" "$svc" "$log" 60 health_ready "$port"; then
        RESULT[$svc]="error: /health/ready never answered 200"
        stop_pidfile "$pidfile" "$svc" 10 || true
        CURRENT_SVC=''
        return 1
    fi

    # Kept with the reports, so that the command line printed below can be run again.
    local config="$REPORT_DIR/$svc.schemathesis.toml"
    write_config "$config" "$svc"

    local args=(
        run "services/$svc/openapi.yaml"
        --url "http://127.0.0.1:$port"
        -H "X-API-Key: $API_KEY"
        --phases examples,coverage,fuzzing,stateful
        --max-examples "$MAX_EXAMPLES"
        --seed "$SEED"
        --generation-database none
        --request-timeout "$REQUEST_TIMEOUT"
        --workers "$WORKERS"
        --continue-on-failure
        --report junit,ndjson
        --report-junit-path "$REPORT_DIR/$svc.junit.xml"
        --report-ndjson-path "$REPORT_DIR/$svc.ndjson"
    )
    # %q: the line can be pasted back into a shell.
    note "$svc: $(printf '%q ' "$SCHEMATHESIS" --config-file "$config" --no-color "${args[@]}")"
    sed 's/^/    /' "$config" >&2
    # In the background, so that a TERM is handled at once (see with-test-servers.sh).
    timeout --kill-after=10 "$SERVICE_TIMEOUT" \
        "$SCHEMATHESIS" --config-file "$config" --no-color "${args[@]}" </dev/null &
    ST_PID=$!
    wait "$ST_PID" || rc=$?
    ST_PID=''

    local died=0
    if ! live_pid "$pidfile" "$svc" >/dev/null; then died=1; fi
    stop_pidfile "$pidfile" "$svc" 10 || true
    CURRENT_SVC=''
    case $rc in
    0) RESULT[$svc]=passed ;;
    1) RESULT[$svc]="FAILED (failures found)" ;;
    124 | 137) RESULT[$svc]="FAILED (no result within ${SERVICE_TIMEOUT}s)" ;;
    *) RESULT[$svc]="FAILED (schemathesis exit $rc)" ;;
    esac
    if ((died)); then
        warn "$svc exited during the run"
        RESULT[$svc]="FAILED (the service exited during the run)"
    fi
    if [[ ${RESULT[$svc]} != passed ]]; then show_log_tail "$log" 20; fi
    [[ ${RESULT[$svc]} == passed ]]
}

for svc in "${SERVICES[@]}"; do
    start=$SECONDS
    if ! run_service "$svc"; then failed+=("$svc"); fi
    DURATION[$svc]=$((SECONDS - start))
done

printf '\nSchemathesis summary (seed %s, %s examples, reports and logs in %s):\n' \
    "$SEED" "$MAX_EXAMPLES" "$REPORT_DIR" >&2
for svc in "${SERVICES[@]}"; do
    printf '  %-28s %5ss  %s\n' "$svc" "${DURATION[$svc]}" "${RESULT[$svc]}" >&2
done
if ((${#failed[@]} > 0)); then
    warn "schemathesis failed for: ${failed[*]}"
    exit 1
fi
note "schemathesis: all ${#SERVICES[@]} services passed"
