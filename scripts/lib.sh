# shellcheck shell=bash
# Helpers shared by the dev/test scripts: start, await and stop PostgreSQL,
# PgBouncer, Redis, nx-27017 and SecantusDB on 127.0.0.1, each with its files
# under a directory of the caller's choosing.
#
# Source this from a script that runs with `set -euo pipefail`. It sets no
# shell options itself, so that sourcing it into an interactive shell (to use
# a helper by hand) does not turn on errexit there.
#
# Start functions print diagnostics (with the server's log tail) and return 1
# when a server does not come up; they never `exit`.

REPO_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
# The Debian packages' server binaries are not on PATH; use them explicitly.
PG_BIN=/usr/lib/postgresql/15/bin
VENV_DIR="$REPO_ROOT/.venv"
VENV_PY="$VENV_DIR/bin/python"

note() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# abspath PATH: PATH made absolute against $PWD (daemons chdir away).
abspath() {
    case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

# show_log_tail FILE [LINES]
show_log_tail() {
    local file=$1 lines=${2:-40}
    if [[ -r $file ]]; then
        printf -- '----- last %s lines of %s -----\n' "$lines" "$file" >&2
        tail -n "$lines" -- "$file" >&2 || true
        printf -- '----- end of %s -----\n' "$file" >&2
    else
        printf -- '(no log at %s)\n' "$file" >&2
    fi
}

# live_pid FILE [PATTERN]: print the PID in FILE if that process is running
# and, when PATTERN is given, its command line contains PATTERN. The pattern
# guards against signalling an unrelated process that reused a stale PID
# (e.g. PID files left in .data/ across a reboot).
live_pid() {
    local file=$1 pattern=${2:-} pid='' stat state cmdline
    [[ -r $file ]] || return 1
    # nx-27017 writes its PID without a trailing newline: read's status is then 1.
    IFS= read -r pid <"$file" || true
    pid=${pid//[[:space:]]/}
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    # The state follows the parenthesised command name; a zombie has exited.
    state=${stat##*) }
    state=${state%% *}
    [[ $state != Z ]] || return 1
    if [[ -n $pattern ]]; then
        cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
        [[ $cmdline == *"$pattern"* ]] || return 1
    fi
    printf '%s\n' "$pid"
}

pid_running() {
    local stat state
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    state=${stat##*) }
    state=${state%% *}
    [[ $state != Z ]]
}

# stop_pidfile FILE [PATTERN] [TIMEOUT]: TERM the process, wait up to TIMEOUT
# (default 10) seconds, then KILL. Removes FILE. Succeeds when nothing runs.
stop_pidfile() {
    local file=$1 pattern=${2:-} timeout=${3:-10} pid i
    if ! pid=$(live_pid "$file" "$pattern"); then
        rm -f -- "$file"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
        pid_running "$pid" || break
        sleep 0.1
    done
    if pid_running "$pid"; then
        warn "PID $pid ($file) still running ${timeout}s after TERM; sending KILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            pid_running "$pid" || break
            sleep 0.1
        done
    fi
    rm -f -- "$file"
}

# kill_tree SIGNAL PID: signal PID and all its descendants (children first),
# so that e.g. the xctest runner under `swift test` goes too.
kill_tree() {
    local sig=$1 pid=$2 child
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        kill_tree "$sig" "$child"
    done
    kill "-$sig" "$pid" 2>/dev/null || true
}

# port_open HOST PORT: something accepts TCP connections there.
port_open() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_for_port HOST PORT TIMEOUT (seconds)
wait_for_port() {
    local host=$1 port=$2 timeout=$3 start=$SECONDS
    while ((SECONDS - start < timeout)); do
        port_open "$host" "$port" && return 0
        sleep 0.1
    done
    return 1
}

# require_free_port PORT WHAT: fail clearly instead of letting a readiness
# check succeed against some other process that already owns the port.
require_free_port() {
    if port_open 127.0.0.1 "$1"; then
        printf 'error: port %s (for %s) is already in use on 127.0.0.1\n' "$1" "$2" >&2
        return 1
    fi
}

# free_port: print one TCP port on 127.0.0.1 that is free right now.
free_port() {
    free_ports 1
}

# free_ports N: N distinct free ports, one per line. All sockets are held open
# together so the kernel cannot hand out the same port twice.
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
    s.close()
PY
}

# apt_install PACKAGE...: install the Debian packages that are missing (the
# benchmarks' extras such as wrk and perf; install-deps.sh has its own list).
apt_install() {
    local missing=() pkg status sudo=()
    for pkg in "$@"; do
        # `dpkg -s` alone also succeeds for removed-but-not-purged packages.
        status=$(dpkg -s "$pkg" 2>/dev/null | sed -n 's/^Status: //p') || true
        [[ $status == "install ok installed" ]] || missing+=("$pkg")
    done
    ((${#missing[@]} > 0)) || return 0
    if ((EUID != 0)); then
        command -v sudo >/dev/null || die "missing packages (${missing[*]}) and not root; install them first"
        sudo=(sudo)
    fi
    note "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# bench_release_build PRODUCT...: what a benchmark script does before it measures: Swift on PATH, the
# dependencies, wrk and (unless BENCH_PERF=0) perf, then the PRODUCTs built in release. Sets and exports
# BENCH_BIN_DIR. BENCH_SKIP_BUILD=1 builds nothing and measures the PRODUCTs already in BENCH_BIN_DIR (default
# .build/release), for a run while someone else's SwiftPM build holds .build; bench_commit then says so.
bench_release_build() {
    local product
    case ":$PATH:" in
    *:/opt/swift/usr/bin:*) ;;
    *) [[ -x /opt/swift/usr/bin/swift ]] && export PATH="$PATH:/opt/swift/usr/bin" ;;
    esac
    "$REPO_ROOT/scripts/install-deps.sh"
    apt_install wrk
    # perf is optional; linux-perf is the Debian package of /usr/bin/perf.
    if ((${BENCH_PERF:-1})) && ! command -v perf >/dev/null; then apt_install linux-perf || warn "no perf: skipping the perf runs"; fi
    if ((${BENCH_SKIP_BUILD:-0})); then
        BENCH_BIN_DIR=${BENCH_BIN_DIR:-$REPO_ROOT/.build/release}
        for product in "$@"; do
            [[ -x $BENCH_BIN_DIR/$product ]] || die "BENCH_SKIP_BUILD=1, but there is no $BENCH_BIN_DIR/$product"
        done
        warn "BENCH_SKIP_BUILD=1: measuring the binaries already in $BENCH_BIN_DIR ($*), not a fresh build"
        export BENCH_BIN_DIR
        return 0
    fi
    note "building release binaries ($*)"
    # One product per invocation: given twice, `--product` builds only the last.
    for product in "$@"; do swift build -c release --product "$product"; done
    BENCH_BIN_DIR=$(swift build -c release --show-bin-path)
    export BENCH_BIN_DIR
}

# bench_commit: the short commit measured, "+ uncommitted changes" when the code differs from it.
bench_commit() {
    local commit
    commit=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [[ $commit != unknown && -n $(git -C "$REPO_ROOT" status --porcelain -- Sources Benchmarks Package.swift 2>/dev/null) ]]; then
        commit="$commit + uncommitted changes"
    fi
    if ((${BENCH_SKIP_BUILD:-0})); then commit="$commit (binaries not rebuilt: BENCH_SKIP_BUILD=1)"; fi
    printf '%s\n' "$commit"
}

# spawn_bg PIDFILE LOGFILE CMD [ARGS...]: run CMD in its own session (a Ctrl-C
# in the caller's terminal must not reach it), stdin from /dev/null, stdout and
# stderr appended to LOGFILE. The child writes its own PID right before exec:
# `setsid` forks when the caller is a process-group leader, so $! may be wrong.
spawn_bg() {
    local pidfile=$1 logfile=$2 i
    shift 2
    rm -f -- "$pidfile"
    # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
    nohup setsid bash -c 'echo "$$" >"$0" && exec "$@"' "$pidfile" "$@" \
        </dev/null >>"$logfile" 2>&1 &
    for ((i = 0; i < 50; i++)); do
        [[ -s $pidfile ]] && return 0
        sleep 0.1
    done
    printf 'error: %s did not start (no PID file %s)\n' "$(basename -- "$1")" "$pidfile" >&2
    show_log_tail "$logfile"
    return 1
}

# await_server NAME PIDFILE PATTERN LOGFILE TIMEOUT CHECK [ARGS...]: poll CHECK
# until it succeeds; give up early when the process is gone (PID file naming a
# dead process, or still no PID file after 5 s), else after TIMEOUT seconds.
# Deadlines use $SECONDS: one CHECK may itself take seconds.
await_server() {
    local name=$1 pidfile=$2 pattern=$3 logfile=$4 timeout=$5 start=$SECONDS
    shift 5
    while ((SECONDS - start < timeout)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if ! live_pid "$pidfile" "$pattern" >/dev/null; then
            if [[ -e $pidfile ]] || ((SECONDS - start >= 5)); then
                printf 'error: %s exited before it became ready\n' "$name" >&2
                show_log_tail "$logfile"
                return 1
            fi
        fi
        sleep 0.1
    done
    printf 'error: %s not ready after %ss\n' "$name" "$timeout" >&2
    show_log_tail "$logfile"
    return 1
}

# ---------------------------------------------------------------- PostgreSQL

# as_pg_owner CMD...: PostgreSQL refuses to run as root, so as root run its
# tools as the `postgres` OS user. cd / first: the caller's cwd (say /root)
# may be unreadable for that user, which trips initdb and pg_ctl.
as_pg_owner() {
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

# pg_running DIR
pg_running() {
    local dir
    dir=$(abspath "$1")
    [[ -f $dir/postmaster.pid ]] && as_pg_owner "$PG_BIN/pg_ctl" status -D "$dir" >/dev/null 2>&1
}

# pg_ready PORT
pg_ready() {
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -U postgres -d postgres
}

# start_postgres DIR PORT [LOGFILE]: initdb DIR if it holds no cluster yet
# (an existing one is reused), then start it on 127.0.0.1:PORT and wait until
# it accepts connections. Superuser `postgres`, trust auth, fsync off: the
# data is throwaway test/dev data.
start_postgres() {
    local dir port=$2 log out sockdir opts
    # as_pg_owner runs from /: relative paths would point elsewhere.
    dir=$(abspath "$1")
    log=$(abspath "${3:-$dir/postgres.log}")
    if [[ ! -x $PG_BIN/pg_ctl ]]; then
        printf 'error: %s/pg_ctl missing; run scripts/install-deps.sh\n' "$PG_BIN" >&2
        return 1
    fi
    mkdir -p -- "$dir"
    if ((EUID == 0)); then
        chown postgres: "$dir"
        chmod 700 "$dir"
        if ! runuser -u postgres -- test -w "$dir"; then
            printf 'error: the postgres OS user cannot reach %s (a parent directory is not world-searchable)\n' "$dir" >&2
            return 1
        fi
    fi
    if [[ ! -f $dir/PG_VERSION ]]; then
        if ! out=$(as_pg_owner "$PG_BIN/initdb" -D "$dir" -A trust -U postgres \
            --encoding=UTF8 --locale=C --no-sync --no-instructions 2>&1); then
            printf 'error: initdb %s failed:\n%s\n' "$dir" "$out" >&2
            return 1
        fi
    fi
    if pg_running "$dir"; then
        note "PostgreSQL in $dir is already running"
    else
        require_free_port "$port" PostgreSQL || return 1
        # pg_ctl opens the log as the postgres user.
        touch -- "$log"
        if ((EUID == 0)); then chown postgres: "$log"; fi
        # Unix socket in DIR keeps us off /var/run/postgresql (and the Debian
        # cluster); a socket path over 107 bytes is fatal, so go TCP-only then.
        sockdir=$dir
        if ((${#dir} + 16 > 107)); then
            warn "socket path under $dir too long; PostgreSQL will listen on TCP only"
            sockdir=''
        fi
        # pg_ctl hands -o to /bin/sh: single-quote the directory.
        opts="-p $port -k '$sockdir' -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off"
        if ! as_pg_owner "$PG_BIN/pg_ctl" -D "$dir" -l "$log" -w -t 60 -s -o "$opts" start; then
            printf 'error: PostgreSQL in %s did not start\n' "$dir" >&2
            show_log_tail "$log"
            return 1
        fi
    fi
    local start=$SECONDS
    while ((SECONDS - start < 30)); do
        pg_ready "$port" && return 0
        sleep 0.1
    done
    printf 'error: PostgreSQL on port %s is not accepting connections\n' "$port" >&2
    show_log_tail "$log"
    return 1
}

# stop_postgres DIR: fast shutdown (disconnect clients), immediate as fallback.
stop_postgres() {
    local dir
    dir=$(abspath "$1")
    pg_running "$dir" || return 0
    if ! as_pg_owner "$PG_BIN/pg_ctl" -D "$dir" -m fast -w -t 30 -s stop; then
        warn "PostgreSQL in $dir did not stop in 30s; stopping it immediately"
        as_pg_owner "$PG_BIN/pg_ctl" -D "$dir" -m immediate -w -t 30 -s stop || return 1
    fi
}

# --------------------------------------------------------------------- Redis

# redis_ping PORT PASSWORD (REDISCLI_AUTH keeps the password off argv;
# timeout because redis-cli waits forever on a listener that never answers)
redis_ping() {
    local reply
    reply=$(REDISCLI_AUTH=$2 timeout 3 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) || return 1
    [[ $reply == PONG ]]
}

# start_redis DIR PORT PASSWORD [LOGFILE [PIDFILE]]: no persistence at all.
start_redis() {
    local dir port=$2 password=$3 log pidfile
    mkdir -p -- "$1"
    dir=$(cd -- "$1" && pwd)
    log=$(abspath "${4:-$dir/redis.log}")
    pidfile=$(abspath "${5:-$dir/redis.pid}")
    require_free_port "$port" Redis || return 1
    # Redis daemonizes itself and writes/removes its own PID file; it reports
    # startup errors only in its log, which await_server shows.
    rm -f -- "$pidfile"
    redis-server --port "$port" --bind 127.0.0.1 --requirepass "$password" \
        --dir "$dir" --daemonize yes --pidfile "$pidfile" --logfile "$log" \
        --save "" --appendonly no </dev/null || {
        show_log_tail "$log"
        return 1
    }
    await_server "Redis on port $port" "$pidfile" redis-server "$log" 20 \
        redis_ping "$port" "$password"
}

# --------------------------------------------------------------------- Mongo

# mongo_ping URI [TIMEOUT]: a real round trip through pymongo (from the venv),
# retried until TIMEOUT seconds (default 15).
mongo_ping() {
    "$VENV_PY" - "$1" "${2:-15}" <<'PY'
import sys, time
import pymongo
uri, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
while True:
    try:
        with pymongo.MongoClient(uri, serverSelectionTimeoutMS=2000, connectTimeoutMS=2000) as client:
            client.admin.command("ping")
        sys.exit(0)
    except Exception as exc:
        if time.monotonic() > deadline:
            print(f"mongo ping {uri} failed: {exc}", file=sys.stderr)
            sys.exit(1)
        time.sleep(0.2)
PY
}

# URIs a client should use. nx-27017 reports a standalone server. SecantusDB
# says in `hello` it is the primary of the single-node replica set
# "secantus"; directConnection=true makes pymongo and libmongoc treat it as
# one server instead of discovering the set from the hosts it advertises.
nx_uri() { printf 'mongodb://127.0.0.1:%s/\n' "$1"; }
secantus_uri() { printf 'mongodb://127.0.0.1:%s/?directConnection=true\n' "$1"; }

# start_mongo_nx DIR PORT [LOGFILE [PIDFILE]]: nx-27017 (MongoDB wire protocol
# over SQLite), one SQLite file per database under DIR/data.
start_mongo_nx() {
    local dir log pidfile port=$2
    mkdir -p -- "$1"
    dir=$(cd -- "$1" && pwd)
    log=$(abspath "${3:-$dir/nx.log}")
    pidfile=$(abspath "${4:-$dir/nx.pid}")
    # Its own daemon mode (-d) is used: it double-forks, writes and removes
    # the PID file itself and sends stdout/stderr (tracebacks too) to the log
    # file. In foreground mode every log line would be written twice. It
    # chdirs to / and refuses to start over a PID file naming a live process,
    # hence absolute paths and removing any stale file first.
    require_free_port "$port" nx-27017 || return 1
    if ! live_pid "$pidfile" nx-27017 >/dev/null; then rm -f -- "$pidfile"; fi
    # Output before it daemonizes (argument errors) is appended to the log too.
    # shellcheck disable=SC2094
    "$VENV_DIR/bin/nx-27017" -d --host 127.0.0.1 -p "$port" --data-dir "$dir/data" \
        --log-file "$log" --pid-file "$pidfile" </dev/null >>"$log" 2>&1 || {
        show_log_tail "$log"
        return 1
    }
    await_server "nx-27017 on port $port" "$pidfile" nx-27017 "$log" 30 \
        port_open 127.0.0.1 "$port" || return 1
    mongo_ping "$(nx_uri "$port")" 15 || {
        show_log_tail "$log"
        return 1
    }
}

# start_mongo_secantus DIR PORT [LOGFILE [PIDFILE]]: SecantusDB (WiredTiger
# storage under DIR/data). It has no daemon mode; spawn_bg records its PID.
start_mongo_secantus() {
    local dir port=$2 log pidfile
    mkdir -p -- "$1"
    dir=$(cd -- "$1" && pwd)
    log=$(abspath "${3:-$dir/secantus.log}")
    pidfile=$(abspath "${4:-$dir/secantus.pid}")
    require_free_port "$port" SecantusDB || return 1
    # Without --config it would pick up ./secantusd.toml or
    # ~/.secantus/secantusd.toml if present; an empty file pins the defaults.
    : >"$dir/secantusd.toml"
    (cd -- "$dir" && spawn_bg "$pidfile" "$log" "$VENV_DIR/bin/secantusd-py" \
        --config "$dir/secantusd.toml" --host 127.0.0.1 --port "$port" \
        --storage-path "$dir/data") || return 1
    await_server "SecantusDB on port $port" "$pidfile" secantusd "$log" 30 \
        port_open 127.0.0.1 "$port" || return 1
    mongo_ping "$(secantus_uri "$port")" 15 || {
        show_log_tail "$log"
        return 1
    }
}

# ----------------------------------------------------------------- PgBouncer

PGBOUNCER_BIN=/usr/sbin/pgbouncer
# The role PgBouncer looks passwords up as (auth_user), and the admin console's.
PGBOUNCER_AUTH_USER=postgres

# pgbouncer_ready PORT PASSWORD: a login as the auth user and a query that
# PgBouncer has to forward, so a wrong PG_PORT fails the check too. timeout:
# a client waits up to query_wait_timeout for a server that never answers.
pgbouncer_ready() {
    PGPASSWORD=$2 PGCONNECT_TIMEOUT=3 timeout 5 "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$1" \
        -U "$PGBOUNCER_AUTH_USER" -d postgres -c 'SELECT 1' >/dev/null 2>&1
}

# start_pgbouncer DIR PORT PG_PORT PASSWORD [LOGFILE [PIDFILE]]: PgBouncer on
# 127.0.0.1:PORT in transaction mode in front of the PostgreSQL on
# 127.0.0.1:PG_PORT, for every database there (wildcard entry). It writes
# pgbouncer.ini and userlist.txt into DIR (rewritten on every start) and sets
# PASSWORD as the password of the superuser postgres in that cluster.
#
# Clients log in with SCRAM-SHA-256 under their real PostgreSQL password:
# userlist.txt holds only postgres; any other role is looked up at login time
# with auth_query (as postgres), so roles created after the start work too.
# The cluster itself keeps trusting loopback clients; the password is set
# there anyway so that a postgres client may use the same credentials direct
# or through PgBouncer.
start_pgbouncer() {
    local dir port=$2 pg_port=$3 password=$4 log pidfile ini userlist as_owner=()
    if [[ ! -x $PGBOUNCER_BIN ]]; then
        printf 'error: %s missing; run scripts/install-deps.sh\n' "$PGBOUNCER_BIN" >&2
        return 1
    fi
    mkdir -p -- "$1"
    dir=$(cd -- "$1" && pwd)
    log=$(abspath "${5:-$dir/pgbouncer.log}")
    pidfile=$(abspath "${6:-$dir/pgbouncer.pid}")
    ini="$dir/pgbouncer.ini"
    userlist="$dir/userlist.txt"
    require_free_port "$port" PgBouncer || return 1

    # \getenv keeps the password off psql's command line.
    if ! PGBOUNCER_PASSWORD=$password "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" \
        -U postgres -d postgres >/dev/null <<SQL; then
\\getenv password PGBOUNCER_PASSWORD
ALTER ROLE $PGBOUNCER_AUTH_USER PASSWORD :'password';
SQL
        printf 'error: could not set the password of %s on PostgreSQL port %s\n' "$PGBOUNCER_AUTH_USER" "$pg_port" >&2
        return 1
    fi

    # The password is in plain text: readable by its owner only. "" is a literal " there.
    (umask 077 && printf '"%s" "%s"\n' "$PGBOUNCER_AUTH_USER" "${password//\"/\"\"}" >"$userlist")
    # Pool sizes and timeouts as in deploy/pgbouncer/pgbouncer.ini, so tests see what compose
    # runs; only the listener, the databases and the authentication differ.
    cat >"$ini" <<EOF_INI
;; Written by scripts/lib.sh start_pgbouncer; rewritten on every start.
[databases]
;; Any database name: the tests create databases of their own.
* = host=127.0.0.1 port=$pg_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
;; TCP only: the default socket directory is the Debian cluster's.
unix_socket_dir =

auth_type = scram-sha-256
auth_file = $userlist
auth_user = $PGBOUNCER_AUTH_USER
;; PgBouncer's default query, spelled out: it runs in the database the client asked for
;; (pg_authid is shared by all of them) and, like PostgreSQL, refuses an expired password.
auth_query = SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END FROM pg_catalog.pg_authid WHERE rolname = \$1 AND rolcanlogin

pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
reserve_pool_size = 5
reserve_pool_timeout = 3
max_db_connections = 40
query_wait_timeout = 10
client_login_timeout = 10
server_connect_timeout = 5
;; The default 15 s would refuse every login to a database for that long after one failed
;; server login (say a test connecting just before its CREATE DATABASE committed).
server_login_retry = 2
ignore_startup_parameters = extra_float_digits

admin_users = $PGBOUNCER_AUTH_USER
stats_users = $PGBOUNCER_AUTH_USER
;; Logs go to stderr, which spawn_bg appends to the log file.
log_connections = 0
log_disconnections = 0
EOF_INI

    # PgBouncer refuses to run as root. setpriv rather than as_pg_owner's runuser: runuser stays
    # behind as the parent, so the PID file would name it instead of pgbouncer (and a KILL would
    # orphan pgbouncer); setpriv execs.
    if ((EUID == 0)); then
        chown postgres: "$ini" "$userlist"
        as_owner=(setpriv --reuid=postgres --regid=postgres --init-groups --reset-env --)
        if ! "${as_owner[@]}" test -r "$userlist"; then
            printf 'error: the postgres OS user cannot read %s (a parent directory is not world-searchable)\n' "$userlist" >&2
            return 1
        fi
    fi
    printf '\n=== %s starting PgBouncer on port %s\n' "$(date -u +%FT%TZ)" "$port" >>"$log"
    (cd -- "$dir" && spawn_bg "$pidfile" "$log" "${as_owner[@]}" "$PGBOUNCER_BIN" "$ini") || return 1
    await_server "PgBouncer on port $port" "$pidfile" pgbouncer "$log" 20 \
        pgbouncer_ready "$port" "$password"
}
