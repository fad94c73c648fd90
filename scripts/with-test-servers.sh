#!/usr/bin/env bash
# with-test-servers.sh CMD [ARGS...]
#
# Run CMD against throwaway servers on free 127.0.0.1 ports: PostgreSQL 15,
# PgBouncer in front of it, Redis (password "testpass"), nx-27017 and
# SecantusDB. CMD sees:
#   TEST_POSTGRES_URL    postgresql://postgres@127.0.0.1:PORT/postgres (superuser, trust)
#   TEST_PGBOUNCER_URL   postgresql://postgres:testpass@127.0.0.1:PORT/postgres: the same
#                        cluster through PgBouncer 1.18 in transaction mode, as compose runs
#                        it. Any database; any role by its password, even one created later
#                        (a role without a password is refused). No "options" startup
#                        parameter: PgBouncer refuses it
#   TEST_REDIS_URL       redis://:testpass@127.0.0.1:PORT/0
#   TEST_MONGODB_URIS    nx-27017=URI,secantusdb=URI
#   TEST_REQUIRE_SERVERS 1 (tests fail rather than skip when a server is missing)
#   PROMTOOL             path of promtool
# Every server and the temporary directory are removed afterwards, whatever
# happens; the exit status is CMD's.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"

if (($# == 0)); then
    printf 'usage: %s CMD [ARGS...]\n' "$0" >&2
    exit 2
fi

"$SCRIPT_DIR/install-deps.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/prismicx-test.XXXXXX")
# mktemp makes it 0700; the postgres OS user must reach WORK/postgres.
chmod 755 "$WORK"
CHILD_PID=''
CMD_STARTED=0
PG_DIR="$WORK/postgres"
PGBOUNCER_PID="$WORK/pgbouncer/pgbouncer.pid"
REDIS_PID="$WORK/redis/redis.pid"
NX_PID="$WORK/nx/nx.pid"
SECANTUS_PID="$WORK/secantus/secantus.pid"

# The functions below only run from traps, which shellcheck cannot see.
# shellcheck disable=SC2317
# A server that died while CMD ran explains odd test failures: say so.
report_dead_server() {
    local name=$1 pidfile=$2 pattern=$3 log=$4
    if ! live_pid "$pidfile" "$pattern" >/dev/null; then
        warn "$name had exited before cleanup"
        show_log_tail "$log" 20
    fi
}

# shellcheck disable=SC2317
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $CHILD_PID ]] && pid_running "$CHILD_PID"; then
        kill_tree TERM "$CHILD_PID"
        wait "$CHILD_PID" 2>/dev/null || true
    fi
    if ((CMD_STARTED)); then
        report_dead_server SecantusDB "$SECANTUS_PID" secantusd "$WORK/secantus/secantus.log"
        report_dead_server nx-27017 "$NX_PID" nx-27017 "$WORK/nx/nx.log"
        report_dead_server Redis "$REDIS_PID" redis-server "$WORK/redis/redis.log"
        report_dead_server PgBouncer "$PGBOUNCER_PID" pgbouncer "$WORK/pgbouncer/pgbouncer.log"
        if ! pg_running "$PG_DIR"; then
            warn "PostgreSQL had exited before cleanup"
            show_log_tail "$PG_DIR/postgres.log" 20
        fi
    fi
    stop_pidfile "$SECANTUS_PID" secantusd || true
    stop_pidfile "$NX_PID" nx-27017 || true
    stop_pidfile "$REDIS_PID" redis-server || true
    stop_pidfile "$PGBOUNCER_PID" pgbouncer || true
    stop_postgres "$PG_DIR" || true
    rm -rf -- "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mapfile -t PORTS < <(free_ports 5)
((${#PORTS[@]} == 5)) || die "could not find free ports"
PG_PORT=${PORTS[0]} REDIS_PORT=${PORTS[1]} NX_PORT=${PORTS[2]} SECANTUS_PORT=${PORTS[3]}
PGBOUNCER_PORT=${PORTS[4]}

note "starting test servers in $WORK"
start_postgres "$PG_DIR" "$PG_PORT"
start_pgbouncer "$WORK/pgbouncer" "$PGBOUNCER_PORT" "$PG_PORT" testpass
start_redis "$WORK/redis" "$REDIS_PORT" testpass
start_mongo_nx "$WORK/nx" "$NX_PORT"
start_mongo_secantus "$WORK/secantus" "$SECANTUS_PORT"

export TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
export TEST_PGBOUNCER_URL="postgresql://postgres:testpass@127.0.0.1:$PGBOUNCER_PORT/postgres"
export TEST_REDIS_URL="redis://:testpass@127.0.0.1:$REDIS_PORT/0"
TEST_MONGODB_URIS="nx-27017=$(nx_uri "$NX_PORT"),secantusdb=$(secantus_uri "$SECANTUS_PORT")"
export TEST_MONGODB_URIS
export TEST_REQUIRE_SERVERS=1
PROMTOOL=$(command -v promtool) || die "promtool not found"
export PROMTOOL
note "PostgreSQL :$PG_PORT, PgBouncer :$PGBOUNCER_PORT, Redis :$REDIS_PORT, nx-27017 :$NX_PORT, SecantusDB :$SECANTUS_PORT"

# CMD runs in the background so that a TERM to this script is handled at
# once (bash defers traps while a foreground child runs); <&0 keeps stdin,
# which bash would otherwise point at /dev/null for a background job.
CMD_STARTED=1
"$@" <&0 &
CHILD_PID=$!
rc=0
wait "$CHILD_PID" || rc=$?
CHILD_PID=''
exit "$rc"
