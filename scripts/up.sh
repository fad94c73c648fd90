#!/usr/bin/env bash
# up.sh: start the local platform (`make up`): PostgreSQL with PgBouncer in
# front of it, Redis and SecantusDB with their data in .data/, then the five
# services built by SwiftPM. Running it again starts only what is not running
# yet. Stop with down.sh.
#
# Environment: LOCAL_PG_PORT (55432), LOCAL_PGBOUNCER_PORT (56432),
# LOCAL_PG_PASSWORD (password: the superuser's, which PgBouncer checks;
# PostgreSQL itself trusts loopback clients), LOCAL_REDIS_PORT (56379),
# LOCAL_MONGO_PORT (57017), LOCAL_REDIS_PASSWORD (devpass),
# API_KEY (dev_api_key), BUILD_CONFIG (debug). A development JWT key pair is
# generated once into .data/jwt (JWT_PUBLIC_KEY for all, JWT_PRIVATE_KEY for
# user-data-service).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"

LOCAL_PG_PORT=${LOCAL_PG_PORT:-55432}
LOCAL_PGBOUNCER_PORT=${LOCAL_PGBOUNCER_PORT:-56432}
LOCAL_PG_PASSWORD=${LOCAL_PG_PASSWORD:-password}
LOCAL_REDIS_PORT=${LOCAL_REDIS_PORT:-56379}
LOCAL_MONGO_PORT=${LOCAL_MONGO_PORT:-57017}
LOCAL_REDIS_PASSWORD=${LOCAL_REDIS_PASSWORD:-devpass}
API_KEY=${API_KEY:-dev_api_key}
BUILD_CONFIG=${BUILD_CONFIG:-debug}

DATA="$REPO_ROOT/.data"
LOGS="$DATA/logs"
PIDS="$DATA/pids"
INIT_SQL="$REPO_ROOT/deploy/postgres/init.sql"
JWT_DIR="$DATA/jwt"
# Inside the data dir, so that deleting the cluster forgets it was initialised.
INIT_MARKER="$DATA/postgres/.prismicx-init-sql-applied"

# ----------------------------------------------------------------- services
# Start order, HTTP port and environment of each service. API_KEY and
# REDIS_URL go to all of them; the rest is per service, exactly as listed.
# PostgreSQL is reached as in docker-compose.yml: user-data-service and
# management-system-repo through PgBouncer's transaction pool,
# tenant-mgmt-service directly (it runs DDL).
SERVICES=(tenant-mgmt-service user-data-service task-repo-service category-repository-service management-system-repo)
declare -A SERVICE_PORT=(
    [tenant-mgmt-service]=8501
    [user-data-service]=8502
    [task-repo-service]=8503
    [category-repository-service]=8504
    [management-system-repo]=8505
)

# service_env NAME: print NAME's environment, one VAR=value per line.
service_env() {
    local pg="127.0.0.1" pg_port=$LOCAL_PG_PORT pgbouncer_port=$LOCAL_PGBOUNCER_PORT
    local mongo="mongodb://127.0.0.1:$LOCAL_MONGO_PORT"
    local port=${SERVICE_PORT[$1]}
    printf '%s\n' "API_KEY=$API_KEY" \
        "REDIS_URL=redis://:$LOCAL_REDIS_PASSWORD@127.0.0.1:$LOCAL_REDIS_PORT/0" \
        "JWT_PUBLIC_KEY=$(pem_one_line "$JWT_DIR/public.pem")"
    # Only the issuer holds the signing key.
    if [[ $1 == user-data-service ]]; then printf '%s\n' "JWT_PRIVATE_KEY=$(pem_one_line "$JWT_DIR/private.pem")"; fi
    case $1 in
    tenant-mgmt-service)
        printf '%s\n' \
            "TENANT_MONGODB_URI=$mongo" \
            "TENANT_REGISTRY_DB=tenant_registry" \
            "TENANT_POSTGRES_URI=postgresql://postgres@$pg:$pg_port/management_system_repository" \
            "TENANT_SERVICE_HOST=127.0.0.1" \
            "TENANT_SERVICE_PORT=$port" \
            "TENANT_SERVICE_LOG_LEVEL=INFO" \
            "SERVICE_NAME=tenant-mgmt-service"
        ;;
    user-data-service)
        printf '%s\n' \
            "USER_DB_HOST=$pg" \
            "USER_DB_PORT=$pgbouncer_port" \
            "USER_DB_USER=user_service" \
            "USER_DB_PASSWORD=password" \
            "USER_DB_NAME=system_users" \
            "USER_DB_MIGRATION_USER=user_data_owner" \
            "USER_DB_MIGRATION_PASSWORD=password" \
            "POSTGRES_URI=postgresql://extension_service:password@$pg:$pgbouncer_port/user_extensions" \
            "PG_STATEMENT_TIMEOUT_MS=0" \
            "MONGODB_URI=$mongo/user_insights" \
            "USER_SERVICE_HOST=127.0.0.1" \
            "USER_SERVICE_PORT=$port" \
            "USER_SERVICE_LOG_LEVEL=INFO" \
            "SERVICE_NAME=user-data-service"
        ;;
    task-repo-service)
        printf '%s\n' \
            "MONGODB_URI=$mongo/task_repository" \
            "MONGODB_DATABASE=task_repository" \
            "MONGODB_TASKS_COLLECTION=tasks" \
            "HOST=127.0.0.1" \
            "PORT=$port" \
            "SERVICE_NAME=task-repo-service"
        ;;
    category-repository-service)
        printf '%s\n' \
            "MONGODB_URI=$mongo/category_repository" \
            "MONGODB_DATABASE=category_repository" \
            "HOST=127.0.0.1" \
            "PORT=$port" \
            "SERVICE_NAME=category-repository-service" \
            "MAX_PAGE_SIZE=100"
        ;;
    management-system-repo)
        printf '%s\n' \
            "SYSTEM_DB_HOST=$pg" \
            "SYSTEM_DB_PORT=$pgbouncer_port" \
            "SYSTEM_DB_USER=postgres" \
            "SYSTEM_DB_PASSWORD=$LOCAL_PG_PASSWORD" \
            "SYSTEM_DB_NAME=management_system_repository" \
            "PG_STATEMENT_TIMEOUT_MS=0" \
            "CONFIG_DB_HOST=127.0.0.1" \
            "CONFIG_DB_PORT=$LOCAL_MONGO_PORT" \
            "CONFIG_DB_USER=" \
            "CONFIG_DB_PASSWORD=" \
            "CONFIG_DB_NAME=config_db" \
            "HOST=127.0.0.1" \
            "PORT=$port" \
            "SERVICE_NAME=management-system-repo"
        ;;
    *)
        die "unknown service $1"
        ;;
    esac
}

# pem_one_line FILE: the PEM with its newlines as \n, so it fits one VAR=value
# line (the services turn \n back into newlines).
pem_one_line() {
    awk 'BEGIN { ORS = "" } { if (NR > 1) print "\\n"; print }' "$1"
}

# ensure_jwt_keys: a development ES256 (P-256) key pair in .data/jwt, made
# once. user-data-service signs user tokens with the private key; every
# service verifies them with the public key.
ensure_jwt_keys() {
    [[ -s $JWT_DIR/private.pem && -s $JWT_DIR/public.pem ]] && return 0
    note "generating the development JWT key pair in $JWT_DIR"
    mkdir -p -- "$JWT_DIR"
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$JWT_DIR/private.pem")
    openssl pkey -in "$JWT_DIR/private.pem" -pubout -out "$JWT_DIR/public.pem"
}

health_ready() {
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/health/ready"
}

# ------------------------------------------------------------------ servers
start_servers() {
    local running_port init_sum
    mkdir -p -- "$DATA/redis" "$DATA/secantus" "$LOGS" "$PIDS"

    if pg_running "$DATA/postgres"; then
        running_port=$(sed -n 4p "$DATA/postgres/postmaster.pid")
        if [[ $running_port != "$LOCAL_PG_PORT" ]]; then
            warn "PostgreSQL already runs on port $running_port, not LOCAL_PG_PORT=$LOCAL_PG_PORT (make down to change it)"
        fi
        note "PostgreSQL already running"
    else
        note "starting PostgreSQL on 127.0.0.1:$LOCAL_PG_PORT"
        start_postgres "$DATA/postgres" "$LOCAL_PG_PORT" "$LOGS/postgres.log"
    fi

    # Roles and databases the services expect. init.sql is safe to run again,
    # so it is applied whenever it differs from the last successful run (the
    # marker holds that run's checksum): a cluster made before a change to it
    # gets the change too.
    if [[ -f $INIT_SQL ]]; then
        init_sum=$(sha256sum <"$INIT_SQL" | cut -d' ' -f1)
        if [[ ! -f $INIT_MARKER || "$(cat -- "$INIT_MARKER")" != "$init_sum" ]]; then
            note "applying deploy/postgres/init.sql"
            "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$LOCAL_PG_PORT" \
                -U postgres -d postgres -f "$INIT_SQL" ||
                die "init.sql failed; fix it, or start afresh with make clean-data"
            printf '%s\n' "$init_sum" >"$INIT_MARKER"
        fi
    else
        note "deploy/postgres/init.sql not found: skipping roles/databases setup"
    fi

    if live_pid "$PIDS/pgbouncer.pid" pgbouncer >/dev/null; then
        running_port=$(sed -n 's/^listen_port = //p' "$DATA/pgbouncer/pgbouncer.ini" 2>/dev/null) || true
        if [[ $running_port != "$LOCAL_PGBOUNCER_PORT" ]]; then
            warn "PgBouncer already runs on port ${running_port:-?}, not LOCAL_PGBOUNCER_PORT=$LOCAL_PGBOUNCER_PORT (make down to change it)"
        fi
        note "PgBouncer already running"
    else
        note "starting PgBouncer on 127.0.0.1:$LOCAL_PGBOUNCER_PORT"
        start_pgbouncer "$DATA/pgbouncer" "$LOCAL_PGBOUNCER_PORT" "$LOCAL_PG_PORT" "$LOCAL_PG_PASSWORD" \
            "$LOGS/pgbouncer.log" "$PIDS/pgbouncer.pid"
    fi

    if live_pid "$PIDS/redis.pid" redis-server >/dev/null; then
        note "Redis already running"
    else
        note "starting Redis on 127.0.0.1:$LOCAL_REDIS_PORT"
        start_redis "$DATA/redis" "$LOCAL_REDIS_PORT" "$LOCAL_REDIS_PASSWORD" \
            "$LOGS/redis.log" "$PIDS/redis.pid"
    fi

    # SecantusDB, not nx-27017: nx-27017 0.8.1 stores dates written by updates as strings, so task leases and
    # retry backoff would never expire (see services/task-repo-service/README.md).
    if live_pid "$PIDS/secantusdb.pid" secantusd >/dev/null; then
        note "SecantusDB already running"
    else
        note "starting SecantusDB on 127.0.0.1:$LOCAL_MONGO_PORT"
        start_mongo_secantus "$DATA/secantus" "$LOCAL_MONGO_PORT" "$LOGS/secantusdb.log" "$PIDS/secantusdb.pid"
    fi
}

# ----------------------------------------------------------------- services
start_services() {
    local bin_dir svc env_lines var base_env=()
    # A clean environment (env -i), so that variables from the caller's shell
    # cannot leak into a service; only these pass through.
    for var in PATH HOME USER LANG LC_ALL TZ TMPDIR LD_LIBRARY_PATH SWIFT_BACKTRACE; do
        if [[ -n ${!var:-} ]]; then base_env+=("$var=${!var}"); fi
    done
    note "building (swift build -c $BUILD_CONFIG)"
    swift build -c "$BUILD_CONFIG"
    bin_dir=$(swift build -c "$BUILD_CONFIG" --show-bin-path)

    for svc in "${SERVICES[@]}"; do
        if live_pid "$PIDS/$svc.pid" "$svc" >/dev/null; then
            note "$svc already running (make down && make up to run a new build)"
            continue
        fi
        [[ -x $bin_dir/$svc ]] || die "$bin_dir/$svc not built"
        require_free_port "${SERVICE_PORT[$svc]}" "$svc" || exit 1
        mapfile -t env_lines < <(service_env "$svc")
        note "starting $svc on 127.0.0.1:${SERVICE_PORT[$svc]}"
        printf '\n=== %s starting %s\n' "$(date -u +%FT%TZ)" "$svc" >>"$LOGS/$svc.log"
        spawn_bg "$PIDS/$svc.pid" "$LOGS/$svc.log" env -i "${base_env[@]}" "${env_lines[@]}" "$bin_dir/$svc"
    done

    # All were launched first, so they start up side by side; now wait.
    for svc in "${SERVICES[@]}"; do
        await_server "$svc" "$PIDS/$svc.pid" "$svc" "$LOGS/$svc.log" 60 \
            health_ready "${SERVICE_PORT[$svc]}" || exit 1
    done
}

cd -- "$REPO_ROOT"
"$SCRIPT_DIR/install-deps.sh"
start_servers
ensure_jwt_keys
start_services

printf '\nPrismicX local platform is up (logs in .data/logs, stop with make down):\n'
for svc in "${SERVICES[@]}"; do
    printf '  %-28s http://127.0.0.1:%s\n' "$svc" "${SERVICE_PORT[$svc]}"
done
printf '  %-28s postgresql://postgres@127.0.0.1:%s/postgres\n' PostgreSQL "$LOCAL_PG_PORT"
printf '  %-28s postgresql://postgres:%s@127.0.0.1:%s/postgres\n' PgBouncer "$LOCAL_PG_PASSWORD" "$LOCAL_PGBOUNCER_PORT"
printf '  %-28s redis://:%s@127.0.0.1:%s/0\n' Redis "$LOCAL_REDIS_PASSWORD" "$LOCAL_REDIS_PORT"
printf '  %-28s mongodb://127.0.0.1:%s\n' SecantusDB "$LOCAL_MONGO_PORT"
