"""The measuring half of scripts/bench/mongo-path.sh (`make bench-mongo`): CPU per request on the MongoDB data path.

mongo-path.sh builds and starts the servers (task-repo-service, the FastAPI + Motor peer, the mongo-floor floor, and
for two A/B questions task-repo-service on the runtime's executor and the floor without its thread hop), each on its
own fresh database on the same nx-27017, and hands their ports and PIDs to this script, which

  * seeds every database with the same pending tasks (ids 00000000-0000-4000-8000-<n>, so wrk's Lua needs only n),
  * for each request type (GET by id, create, claim-next, claim+complete) runs ROUNDS rounds of one wrk run per
    server (CONNECTIONS connections, DURATION s), the servers in rotating order within each round; before every
    claim run that server's collection is reset to the same seeded tasks, so each claims from an equal queue,
  * measures, per run, the requests wrk completed, non-2xx answers and socket errors, throughput, and CPU ms per
    request from /proc/PID/stat utime+stime (for uvicorn the master plus every worker),
  * after the GET rounds, one more GET run per server under `perf stat -e context-switches,task-clock` (context
    switches per request); after every type's rounds one run under `perf record -g` for task-repo-service
    (samples by DSO and by layer), and after GET's and create's one run per server under a malloc uprobe,
  * prints the medians and ratios and writes the "## MongoDB data path (issue 8)" section of docs/performance.md.

Runs with the repository's .venv Python (pymongo); the shared parts are in scripts/bench/benchlib.py.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import pymongo

from benchlib import Runner, Server, argument_parser, fmt, idle_line, load_average, measure, medians, note, perf_lines
from benchlib import layer_table, raw_figures, ratio, run_rows

SECTION = "## MongoDB data path (issue 8)"
TYPES = [("get", "GET /api/v1/tasks/{id}"), ("create", "POST /api/v1/tasks"), ("claim", "claim-next"),
         ("claimcomplete", "claim+complete")]
CLAIM_TYPES = {"claim", "claimcomplete"}
SWIFT, PEER, FLOOR = "task-repo-service", "peer (FastAPI + Motor)", "mongo-floor"
SWIFT_DEFAULT, INLINE = "task-repo-service, runtime's executor", "mongo-floor inline (no hop; not servable)"
NAMES = {"swift": SWIFT, "peer": PEER, "floor": FLOOR, "swiftdefault": SWIFT_DEFAULT, "inline": INLINE}


def task_document(index: int, now: dt.datetime) -> dict:
    """A pending task in task-repo-service's stored shape; created_at increases with the index (queue order)."""
    created = now + dt.timedelta(milliseconds=index)
    return {
        "task_id": f"00000000-0000-4000-8000-{index:012d}", "task_type": "BENCH",
        "request": {"content": {"text": "benchmark", "n": index}, "metadata": {"user_id": "bench"}},
        "template": {"service_type": "BENCH", "parameters": {"model": "none"}}, "tags": {"service": "bench"},
        "priority": 0, "run_after": now, "max_attempts": 3, "status": "pending", "attempts": 0,
        "attempts_remaining": 3, "errors": [], "created_at": created, "updated_at": created,
    }


def seed(client: pymongo.MongoClient, database: str, count: int) -> float:
    """Empties the tasks collection (keeping the indexes the server made) and inserts `count` tasks; seconds taken."""
    start = time.monotonic()
    tasks = client[database]["tasks"]
    tasks.delete_many({})
    # A little in the past, so every seeded task is already due for claim-next.
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(minutes=1)
    for first in range(0, count, 1000):
        tasks.insert_many([task_document(i, now) for i in range(first, min(first + 1000, count))], ordered=False)
    return time.monotonic() - start


class Bench(Runner):
    """Runs the rounds and keeps every figure."""

    types = TYPES
    seeded = "tasks"
    marker = "MONGOPATH"
    perf_record_modes = [mode for mode, _ in TYPES]
    malloc_modes = ["get", "create"]

    def before_run(self, server: Server, mode: str) -> None:
        """Before every claim run that server's collection is reset to the same seeded tasks."""
        if mode in CLAIM_TYPES:
            seed(self.client, server.database, self.args.seed)

    def describe(self, run: dict) -> str:
        """Non-2xx answers and 204s (the claim queue ran dry)."""
        return f"non-2xx {run['other']}, 204 {run['s204']}"

    def seed(self, server: Server) -> float:
        """The seeded pending tasks."""
        return seed(self.client, server.database, self.args.seed)


def report(bench: Bench, started: dt.datetime, load_start: str, wall: float) -> tuple[str, dict]:
    """The markdown section and the raw figures."""
    args = bench.args
    table = medians(bench, [mode for mode, _ in TYPES])
    load_end = load_average()
    lines = [
        SECTION, "",
        f"`make bench-mongo` ([scripts/bench/mongo-path.sh](../scripts/bench/mongo-path.sh)), "
        f"{started:%Y-%m-%d %H:%M} UTC, {wall / 60:.0f} min, code {args.commit}. Issue: the MongoDB data path should cost at most "
        "a fifth of the peer's. The figure is **CPU ms per request** of the server process (utime + stime from "
        "`/proc/PID/stat`; for uvicorn the master plus both workers) over a wrk run, divided by the requests wrk completed.", "",
        f"- Load: wrk, {args.connections} connections, {args.threads} thread(s), {args.duration} s per run, {args.rounds} rounds; "
        "in each round the servers run one after another in rotating order, so that drift on the machine hits all alike. "
        "Medians of the rounds.",
        f"- Servers, each on its own fresh database on the same nx-27017 (a Python process, the store stand-in that bounds "
        f"throughput), all on 127.0.0.1: **{SWIFT}** (release build, `LOG_LEVEL=warning`, `MONGO_POOL_MAX={args.pool}`); "
        "**peer**: [Benchmarks/TaskPeer](../Benchmarks/TaskPeer/app.py), FastAPI + Motor with pydantic-validated bodies, "
        "`uvicorn --workers 2` (uvloop, httptools, no access log); **floor**: "
        "[Benchmarks/MongoFloor](../Benchmarks/MongoFloor/main.swift), Hummingbird's router calling libmongoc directly "
        f"(BSON built in place, replies written by libbson as relaxed extended JSON, {args.pool} blocking threads on an "
        "NIOThreadPool, NIO's event loops as the executor like the service). All send the same queries, sort, updates "
        "and projection, and have the same indexes.",
        f"- Data: every database starts with {args.seed} pending tasks in the service's stored shape; GET reads random ones. "
        f"Before each claim run that server's collection is reset to those {args.seed} tasks, so all claim from equal queues "
        "(nx-27017's claim-next slows down steeply with the number of pending tasks, so the seed is a trade-off: enough that "
        "no run drains the queue, which the 204 column checks, and few enough that claims still come by the hundred). "
        "claim+complete: a claim's answer queues its "
        "task_id and claim_token in wrk's Lua, and the thread's next request completes it (a per-thread state machine: wrk "
        "does not tell a script which connection an answer came on).",
        f"- The machine was **shared** (2 cores; other engineers' builds were running; load average {load_start} at the start, "
        f"{load_end} at the end), and wrk and nx-27017 ran on the same cores: absolute figures are noisy, read the "
        "ratios, which come from the same rounds. /proc counts CPU in clock ticks "
        f"({1000 // bench.clk_tck} ms each): a claim run of a few hundred requests carries a few per cent of rounding; "
        "perf stat's task-clock (below, for GET) is exact.",
        "- What the figures include: everything each process does, so the service's own work beyond the data path "
        "(request ids, metrics, tenant checks, typed decoding and encoding) counts, and the floor, which does none of it, "
        "shows what a Swift server pays for HTTP plus libmongoc alone.", "",
        "| request | task-repo-service CPU ms/req | peer CPU ms/req | floor CPU ms/req | Swift / peer | floor / peer "
        "| Swift / floor | goal Swift / peer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    summary = {}
    for mode, title in TYPES:
        swift, peer, floor = (table[mode][key]["cpu"] for key in ("swift", "peer", "floor"))
        summary[mode] = {"swift": swift, "peer": peer, "floor": floor, "swift_to_peer": ratio(swift, peer),
                         "floor_to_peer": ratio(floor, peer), "swift_to_floor": ratio(swift, floor)}
        lines.append(f"| {title} | {fmt(swift)} | {fmt(peer)} | {fmt(floor)} | {fmt(ratio(swift, peer), '.2f')} | "
                     f"{fmt(ratio(floor, peer), '.2f')} | {fmt(ratio(swift, floor), '.2f')} | ≤ 0.20 |")
    keys = {server.key for server in bench.servers}
    if {"swiftdefault", "inline"} <= keys:
        lines += [
            "", "Two more servers ran in the same rounds, to answer two questions of the issue. **Executor:** "
            f"{SWIFT_DEFAULT} is the same binary with `CONCURRENCY_EXECUTOR=default`, so Swift concurrency's jobs run on "
            "the runtime's own pool instead of NIO's event loops. **The hop:** mongo-floor with `FLOOR_INLINE=1` calls "
            "libmongoc on the event loop that runs the handler, without the hop to the blocking threads and back. That "
            "blocks the loop for a whole store round trip, so at most two requests (one per loop) are ever in flight: "
            "no production server may do it. It is here only to measure what the hop costs.", "",
            "| request | event loops CPU ms/req | runtime's executor CPU ms/req | event loops / runtime's | floor inline "
            "CPU ms/req | floor / floor inline | floor inline / peer |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for mode, title in TYPES:
            swift, default, floor, inline, peer = (table[mode][key]["cpu"] for key in ("swift", "swiftdefault", "floor", "inline", "peer"))
            summary[mode].update(swift_default=default, inline=inline, executor_ratio=ratio(swift, default),
                                 floor_to_inline=ratio(floor, inline), inline_to_peer=ratio(inline, peer))
            lines.append(f"| {title} | {fmt(swift)} | {fmt(default)} | {fmt(ratio(swift, default), '.2f')} | {fmt(inline)} | "
                         f"{fmt(ratio(floor, inline), '.2f')} | {fmt(ratio(inline, peer), '.2f')} |")
    if any(server.mallocs for server in bench.servers):
        modes = [(mode, title) for mode, title in TYPES if mode in Bench.malloc_modes]
        lines += ["", "Allocations: libc `malloc` calls per request, one more run per server under `perf stat -e "
                  "probe_libc:malloc` (a uprobe; every call traps, so these runs are not timed). Swift's objects, arrays "
                  "and strings all come from malloc; CPython takes small objects from its own pools, so the peer's count "
                  "is only its large allocations and not comparable.", "",
                  "| server | " + " | ".join(title for _, title in modes) + " |", "|---|" + "---:|" * len(modes)]
        for server in bench.servers:
            lines.append(f"| {server.name} | " + " | ".join(fmt(server.mallocs.get(mode), ".1f") for mode, _ in modes) + " |")
    lines += [
        "", "Throughput and errors (medians over the rounds; non-2xx and socket errors summed over the rounds; for claim-next "
        "the 204s say whether the queue ran dry):", "",
        "| request | server | requests | req/s | CPU ms/req per round | non-2xx | socket errors | 204 | claimed / completed |",
        "|---|---|---:|---:|---|---:|---:|---:|---|",
    ]
    lines += run_rows(bench, table, TYPES, lambda mode, runs: [
        str(sum(r["s204"] for r in runs)),
        f"{sum(r['claimed'] for r in runs)} / {sum(r['completed'] for r in runs)}" if mode == "claimcomplete" else ""])
    lines += ["", idle_line(bench, table)
              + ". It is part of the figures above; only at claim-next's rates is it more than noise.",
              "", "claim-next and claim+complete run at tens to a hundred-odd requests per second (nx-27017 scans the pending tasks for "
              "every claim). All servers, the floor too, spend more per claim than per GET or create, most likely "
              "because at such rates every request pays its own wake-ups of the event loop, the blocking thread and the "
              "kernel's network path instead of sharing them with other requests (not measured separately). Those rows "
              "are also the least precise: hundreds, not thousands, of requests per run."]
    lines += perf_lines(bench, "GET", SWIFT, "docs/performance.raw/mongo-path/")
    layers = layer_table(bench, TYPES, {mode: table[mode]["swift"]["cpu"] for mode, _ in TYPES})
    if layers:
        lines += ["", f"Where {SWIFT}'s CPU goes, per request type: one more run of each under `perf record -g`, samples "
                  "by layer (the statically linked binary split by the module in each symbol's mangled name, the Swift "
                  "runtime by what the function does), and in brackets that share of the median CPU ms per request above:",
                  ""] + layers
    lines += ["", "Reproduce: `make bench-mongo` (environment: BENCH_ROUNDS, BENCH_DURATION, BENCH_CONNECTIONS, BENCH_SEED, "
              "BENCH_WRK_THREADS, BENCH_PERF=0 to skip perf). Raw figures, wrk output and server logs: "
              "`docs/performance.raw/mongo-path/` (git-ignored)."]
    raw = raw_figures(bench, started, wall, summary)
    return "\n".join(lines) + "\n", raw


def main() -> int:
    """Parses the arguments from mongo-path.sh and runs everything."""
    args = argument_parser(__doc__, connections=32, seed=4000).parse_args()
    bench = measure(args, NAMES, Bench, report, SECTION)
    dry = [f"{s.name} {mode}" for s in bench.servers for mode in CLAIM_TYPES for run in s.runs.get(mode, []) if run["s204"]]
    if dry:
        note("warning: the claim queue ran dry (204) in: " + ", ".join(sorted(set(dry))) + "; raise BENCH_SEED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
