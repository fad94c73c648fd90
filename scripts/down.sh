#!/usr/bin/env bash
# down.sh: stop the local platform that up.sh started (`make down`): the
# services, then SecantusDB, Redis, PgBouncer and PostgreSQL. Only processes
# named by up.sh's PID files (and the .data/postgres cluster) are touched;
# .data stays. Safe to run when nothing is running.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"

DATA="$REPO_ROOT/.data"
PIDS="$DATA/pids"

shopt -s nullglob
# Services first (every PID file but the servers'), so none of them sees its
# database vanish while it still serves requests. A PID file's name is the
# service's binary name; stop_pidfile only signals a process whose command
# line contains it, and drops stale files.
for pidfile in "$PIDS"/*.pid; do
    name=$(basename -- "$pidfile" .pid)
    case $name in redis | nx-27017 | secantusdb | pgbouncer) continue ;; esac
    if live_pid "$pidfile" "$name" >/dev/null; then note "stopping $name"; fi
    stop_pidfile "$pidfile" "$name" 15
done

if live_pid "$PIDS/secantusdb.pid" secantusd >/dev/null; then note "stopping SecantusDB"; fi
stop_pidfile "$PIDS/secantusdb.pid" secantusd
# Stacks started before the switch to SecantusDB ran nx-27017.
if live_pid "$PIDS/nx-27017.pid" nx-27017 >/dev/null; then note "stopping nx-27017"; fi
stop_pidfile "$PIDS/nx-27017.pid" nx-27017
if live_pid "$PIDS/redis.pid" redis-server >/dev/null; then note "stopping Redis"; fi
stop_pidfile "$PIDS/redis.pid" redis-server
if live_pid "$PIDS/pgbouncer.pid" pgbouncer >/dev/null; then note "stopping PgBouncer"; fi
stop_pidfile "$PIDS/pgbouncer.pid" pgbouncer

if [[ -d $DATA/postgres ]] && pg_running "$DATA/postgres"; then
    note "stopping PostgreSQL"
    stop_postgres "$DATA/postgres"
fi
note "local platform stopped (data kept in .data; make clean-data deletes it)"
