#!/usr/bin/env bash
# bench-tasks.sh: claim-next + complete throughput of task-repo-service over HTTP against the same two
# findAndModify calls made directly through libmongoc (Benchmarks/TaskQueueBenchmark), with the same
# concurrency, in one run, on each MongoDB-compatible test server. Writes the "task-repo-service"
# subsection of docs/performance.md. Loopback only; every loop is bounded by the task count.
set -euo pipefail
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"
cd -- "$REPO_ROOT"

TASKS=${BENCH_TASKS:-2000}
CONCURRENCY=${BENCH_CONCURRENCY:-8}

if [[ -z ${TEST_MONGODB_URIS:-} ]]; then
    "$SCRIPT_DIR/install-deps.sh"
    swift build -c release --product task-repo-service
    swift build -c release --product TaskQueueBenchmark
    exec "$SCRIPT_DIR/with-test-servers.sh" bash "$SCRIPT_DIR/bench-tasks.sh"
fi

bin=$(swift build -c release --show-bin-path)
rows=()
service_pid=""
cleanup() { [[ -n $service_pid ]] && kill "$service_pid" 2>/dev/null || true; }
trap cleanup EXIT

IFS=',' read -ra servers <<<"$TEST_MONGODB_URIS"
for entry in "${servers[@]}"; do
    name=${entry%%=*}
    uri=${entry#*=}
    count=$TASKS
    # secantusdb is faithful but slow under concurrent writes: a smaller run keeps `make bench` short.
    [[ $name == secantusdb ]] && count=$((TASKS / 10))
    port=$(free_port)
    database="bench_tasks_$RANDOM"
    env -i PATH="$PATH" API_KEY=bench_api_key_123 MONGODB_URI="$uri" MONGODB_DATABASE="$database" HOST=127.0.0.1 PORT="$port" \
        LOG_LEVEL=warning MONGO_POOL_MAX=$((CONCURRENCY + 2)) "$bin/task-repo-service" >"/tmp/bench-task-$name.log" 2>&1 &
    service_pid=$!
    for _ in $(seq 1 300); do
        curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
        sleep 0.1
    done
    note "task queue on $name: $count tasks, concurrency $CONCURRENCY"
    result=$(API_KEY=bench_api_key_123 "$bin/TaskQueueBenchmark" "http://127.0.0.1:$port" "$uri" "$database" "$count" "$CONCURRENCY")
    echo "$result"
    kill "$service_pid" && wait "$service_pid" 2>/dev/null || true
    service_pid=""
    rows+=("$name $result")
done

python3 - "${rows[@]}" <<'PY'
import json, sys, datetime, pathlib, re
rows = []
for arg in sys.argv[1:]:
    name, data = arg.split(" ", 1)
    rows.append((name, json.loads(data)))
lines = ["### task-repo-service: claim-next + complete", "",
         f"`make bench` ([scripts/bench-tasks.sh](../scripts/bench-tasks.sh)), {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC. "
         "Each worker loops claim-next then complete until the queue is empty. **direct** issues the service's two "
         "findAndModify calls through DatabaseLayer/libmongoc; **HTTP** goes through task-repo-service (release build, "
         "same server, same concurrency, same run). The ratio is what to read: the MongoDB stand-in is a single Python "
         "process and bounds both paths.", "",
         "| MongoDB server | tasks | concurrency | direct pairs/s | HTTP pairs/s | HTTP / direct |", "|---|---:|---:|---:|---:|---:|"]
for name, r in rows:
    lines.append(f"| {name} | {r['tasks']} | {r['concurrency']} | {r['direct_pairs_per_second']} | {r['http_pairs_per_second']} | {r['http_to_direct_ratio']} |")
section = "\n".join(lines) + "\n"
path = pathlib.Path("docs/performance.md")
text = path.read_text()
start, end = "<!-- task-queue-bench:start -->", "<!-- task-queue-bench:end -->"
block = f"{start}\n{section}{end}\n"
if start in text:
    text = re.sub(re.escape(start) + ".*?" + re.escape(end) + "\n?", block, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + block
path.write_text(text)
print(section)
PY
