"""The measuring half of scripts/bench/mongo-path.sh (`make bench-mongo`): CPU per request on the MongoDB data path.

mongo-path.sh builds and starts the three servers (task-repo-service, the FastAPI + Motor peer, the mongo-floor
floor), each on its own fresh database on the same nx-27017, and hands their ports and PIDs to this script, which

  * seeds every database with the same pending tasks (ids 00000000-0000-4000-8000-<n>, so wrk's Lua needs only n),
  * for each request type (GET by id, create, claim-next, claim+complete) runs ROUNDS rounds of one wrk run per
    server (CONNECTIONS connections, DURATION s), the servers in rotating order within each round; before every
    claim run that server's collection is reset to the same seeded tasks, so each claims from an equal queue,
  * measures, per run, the requests wrk completed, non-2xx answers and socket errors, throughput, and CPU ms per
    request from /proc/PID/stat utime+stime (for uvicorn the master plus every worker),
  * after the GET rounds, one more GET run per server under `perf stat -e context-switches,task-clock` (context
    switches per request), and one under `perf record -g` for task-repo-service (samples by DSO),
  * prints the medians and ratios and writes the "## MongoDB data path (issue 8)" section of docs/performance.md.

Runs with the repository's .venv Python (pymongo). Standard library otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pymongo

SECTION = "## MongoDB data path (issue 8)"
TYPES = [("get", "GET /api/v1/tasks/{id}"), ("create", "POST /api/v1/tasks"), ("claim", "claim-next"),
         ("claimcomplete", "claim+complete")]
CLAIM_TYPES = {"claim", "claimcomplete"}
SWIFT, PEER, FLOOR = "task-repo-service", "peer (FastAPI + Motor)", "mongo-floor"


def note(message: str) -> None:
    """Progress on stderr, like lib.sh's note."""
    print(f"==> {message}", file=sys.stderr, flush=True)


@dataclass
class Server:
    """One server under test: its port, main PID and database."""

    key: str
    name: str
    port: int
    pid: int
    database: str
    runs: dict[str, list[dict]] = field(default_factory=dict)
    perf_stat: dict | None = None
    idle_cpu_ms_per_s: float | None = None

    def pids(self) -> list[int]:
        """The main process and all its descendants (uvicorn's workers), read from /proc."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
        found, stack = [], [self.pid]
        while stack:
            pid = stack.pop()
            found.append(pid)
            stack.extend(children.get(pid, []))
        return sorted(found)

    def cpu_ticks(self, pids: list[int]) -> int:
        """utime + stime of `pids` in clock ticks (fields 14 and 15 of /proc/PID/stat); all threads included."""
        total = 0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total


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


class Bench:
    """Runs the rounds and keeps every figure."""

    def __init__(self, args: argparse.Namespace, servers: list[Server]):
        self.args = args
        self.servers = servers
        self.raw = Path(args.raw_dir)
        self.clk_tck = int(subprocess.run(["getconf", "CLK_TCK"], capture_output=True, text=True, check=True).stdout)
        self.client = pymongo.MongoClient(args.uri, serverSelectionTimeoutMS=10000)
        self.perf_dso: list[tuple[str, float]] = []
        self.dead_claims = 0

    def wrk(self, server: Server, mode: str, duration: int, label: str, perf: list[str] | None = None) -> dict:
        """One wrk run against `server`, with its CPU delta; `perf` is a perf command to run alongside."""
        command = [
            "wrk", "-t", str(self.args.threads), "-c", str(self.args.connections), "-d", f"{duration}s", "--timeout", "30s",
            "-s", self.args.lua, f"http://127.0.0.1:{server.port}", "--", mode, self.args.api_key, str(self.args.seed),
        ]
        pids = server.pids()
        perf_process = subprocess.Popen(perf, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) if perf else None
        start_ticks, start = server.cpu_ticks(pids), time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True)
        end_ticks, wall = server.cpu_ticks(pids), time.monotonic() - start
        perf_error = ""
        if perf_process:
            _, perf_error = perf_process.communicate(timeout=duration + 60)
        (self.raw / f"wrk-{label}.txt").write_text(" ".join(command) + "\n\n" + result.stdout + result.stderr + perf_error)
        line = next((item for item in result.stdout.splitlines() if item.startswith("MONGOPATH ")), None)
        if result.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed for {server.name} ({mode}): {result.stderr.strip() or result.stdout[-400:]}")
        if server.pids() != pids:
            raise RuntimeError(f"{server.name}: its processes changed during the run (a worker died?)")
        run = json.loads(line.removeprefix("MONGOPATH "))
        requests = run["requests"]
        cpu_ms = (end_ticks - start_ticks) * 1000 / self.clk_tck
        run.update(
            wall_s=round(wall, 3), cpu_ms=cpu_ms, rps=requests / (run["duration_us"] / 1e6),
            cpu_ms_per_request=cpu_ms / requests if requests else None,
            socket_errors=run["connect_errors"] + run["read_errors"] + run["write_errors"] + run["timeouts"],
            pids=pids,
        )
        return run

    def idle(self) -> None:
        """CPU the servers spend with no traffic (timers, driver heartbeats, the service's queue gauge), all at once."""
        pids = {server.key: server.pids() for server in self.servers}
        before = {server.key: server.cpu_ticks(pids[server.key]) for server in self.servers}
        time.sleep(self.args.idle)
        for server in self.servers:
            ticks = server.cpu_ticks(pids[server.key]) - before[server.key]
            server.idle_cpu_ms_per_s = ticks * 1000 / self.clk_tck / self.args.idle

    def run(self) -> None:
        """Seeds, warms up, runs every round, then the perf runs."""
        for server in self.servers:
            seconds = seed(self.client, server.database, self.args.seed)
            note(f"seeded {self.args.seed} tasks for {server.name} in {seconds:.1f} s")
        note(f"idle CPU over {self.args.idle} s")
        self.idle()
        for server in self.servers:
            note(f"warm-up: {server.name}, GET for {self.args.warmup} s")
            self.wrk(server, "get", self.args.warmup, f"warmup-{server.key}")
        for mode, title in TYPES:
            for round_index in range(self.args.rounds):
                shift = round_index % len(self.servers)
                for server in self.servers[shift:] + self.servers[:shift]:
                    if mode in CLAIM_TYPES:
                        seed(self.client, server.database, self.args.seed)
                    run = self.wrk(server, mode, self.args.duration, f"{mode}-r{round_index + 1}-{server.key}")
                    server.runs.setdefault(mode, []).append(run)
                    note(f"{title} round {round_index + 1} {server.name}: {run['requests']} requests, "
                         f"{run['rps']:.0f}/s, {fmt(run['cpu_ms_per_request'], '.3f')} CPU ms/request, "
                         f"non-2xx {run['other']}, 204 {run['s204']}")
                    time.sleep(self.args.pause)
            if mode == "get":
                self.perf_runs()

    def perf_runs(self) -> None:
        """One GET run per server under perf stat, and one for the Swift service under perf record -g."""
        if not self.args.perf:
            return
        for server in self.servers:
            output = self.raw / f"perf-stat-{server.key}.csv"
            perf = ["perf", "stat", "-e", "context-switches,task-clock", "-x", ",", "-o", str(output),
                    "-p", ",".join(map(str, server.pids())), "--", "sleep", str(self.args.duration)]
            try:
                run = self.wrk(server, "get", self.args.duration, f"perf-stat-{server.key}", perf)
                counters = parse_perf_stat(output.read_text())
            except (RuntimeError, OSError, ValueError) as error:
                note(f"perf stat for {server.name} failed: {error}")
                continue
            requests = run["requests"]
            server.perf_stat = {
                "requests": requests, "context_switches": counters.get("context-switches"),
                "task_clock_ms": counters.get("task-clock"),
                "context_switches_per_request": counters["context-switches"] / requests if requests else None,
                "task_clock_ms_per_request": counters["task-clock"] / requests if requests else None,
                "cpu_ms_per_request_proc": run["cpu_ms_per_request"],
            }
            note(f"perf stat {server.name}: {fmt(server.perf_stat['context_switches_per_request'], '.2f')} "
                 "context switches/request")
        swift = next(server for server in self.servers if server.key == "swift")
        data = self.raw / "perf-record-swift-get.data"
        perf = ["perf", "record", "-g", "-o", str(data), "-p", ",".join(map(str, swift.pids())), "--", "sleep",
                str(self.args.duration)]
        try:
            self.wrk(swift, "get", self.args.duration, "perf-record-swift", perf)
            report = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--sort", "dso", "--no-children", "-g", "none"],
                                    capture_output=True, text=True, check=True).stdout
            (self.raw / "perf-report-swift-get-dso.txt").write_text(report)
            symbols = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--sort", "dso,sym", "--no-children", "-g", "none"],
                                     capture_output=True, text=True, check=True).stdout
            (self.raw / "perf-report-swift-get-symbols.txt").write_text(symbols)
            self.perf_dso = parse_perf_dso(report)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
            note(f"perf record for {SWIFT} failed: {error}")


def parse_perf_stat(text: str) -> dict[str, float]:
    """perf stat -x, output: value,unit,event,..."""
    counters = {}
    for line in text.splitlines():
        parts = line.split(",")
        if len(parts) >= 3 and parts[0] and not line.startswith("#"):
            try:
                counters[parts[2]] = float(parts[0])
            except ValueError:
                continue
    if "context-switches" not in counters or "task-clock" not in counters:
        raise ValueError(f"unexpected perf stat output: {text[:200]}")
    return counters


def parse_perf_dso(report: str) -> list[tuple[str, float]]:
    """`perf report --sort dso` lines ("  28.53%  libswiftCore.so") as (dso, percent)."""
    rows = []
    for line in report.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+(\S.*?)\s*$", line)
        if match:
            rows.append((match.group(2), float(match.group(1))))
    return rows


def dso_group(dso: str) -> str:
    """Which layer a DSO belongs to, for the summary."""
    if "mongoc" in dso or "bson" in dso:
        return "libmongoc/libbson"
    if dso.startswith("[kernel") or dso in ("[vdso]",):
        return "kernel"
    if dso.startswith("libswift") or "Foundation" in dso or "dispatch" in dso or "BlocksRuntime" in dso:
        return "Swift runtime, Foundation, Dispatch"
    if dso.startswith(("libc.so", "libc-", "libm.so", "libpthread", "ld-linux", "libstdc++", "libgcc")):
        return "libc and C++ runtime"
    if dso == "task-repo-service":
        return "task-repo-service (its Swift code, NIO, Hummingbird: linked statically)"
    return "other (libssl, libcrypto, …)"


def fmt(value: float | None, spec: str = ".3f") -> str:
    """A number for the table, n/a when missing."""
    return "n/a" if value is None else format(value, spec)


def median(values: list[float | None]) -> float | None:
    """Median of the present values."""
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None."""
    return a / b if a is not None and b else None


def report(bench: Bench, started: dt.datetime, load_start: str, wall: float) -> tuple[str, dict]:
    """The markdown section and the raw figures."""
    args = bench.args
    medians: dict[str, dict[str, dict[str, float | None]]] = {}
    for mode, _ in TYPES:
        medians[mode] = {}
        for server in bench.servers:
            runs = server.runs.get(mode, [])
            medians[mode][server.key] = {
                "cpu": median([run["cpu_ms_per_request"] for run in runs]),
                "rps": median([run["rps"] for run in runs]),
                "requests": median([run["requests"] for run in runs]),
            }
    load_end = Path("/proc/loadavg").read_text().split()[:3]
    lines = [
        SECTION, "",
        f"`make bench-mongo` ([scripts/bench/mongo-path.sh](../scripts/bench/mongo-path.sh)), "
        f"{started:%Y-%m-%d %H:%M} UTC, {wall / 60:.0f} min, code {args.commit}. Issue: the MongoDB data path should cost at most "
        "a fifth of the peer's. The figure is **CPU ms per request** of the server process (utime + stime from "
        "`/proc/PID/stat`; for uvicorn the master plus both workers) over a wrk run, divided by the requests wrk completed.", "",
        f"- Load: wrk, {args.connections} connections, {args.threads} thread(s), {args.duration} s per run, {args.rounds} rounds; "
        "in each round the three servers run one after another in rotating order, so that drift on the machine hits all alike. "
        "Medians of the rounds.",
        f"- Servers, each on its own fresh database on the same nx-27017 (a Python process, the store stand-in that bounds "
        f"throughput), all on 127.0.0.1: **{SWIFT}** (release build, `LOG_LEVEL=warning`, `MONGO_POOL_MAX={args.pool}`); "
        "**peer**: [Benchmarks/TaskPeer](../Benchmarks/TaskPeer/app.py), FastAPI + Motor with pydantic-validated bodies, "
        "`uvicorn --workers 2` (uvloop, httptools, no access log); **floor**: "
        "[Benchmarks/MongoFloor](../Benchmarks/MongoFloor/main.swift), Hummingbird's router calling libmongoc directly "
        f"(BSON built in place, replies written by libbson as relaxed extended JSON, {args.pool} blocking threads on an "
        "NIOThreadPool). All three send the same queries, sort, updates and projection, and have the same indexes.",
        f"- Data: every database starts with {args.seed} pending tasks in the service's stored shape; GET reads random ones. "
        f"Before each claim run that server's collection is reset to those {args.seed} tasks, so all claim from equal queues "
        "(nx-27017's claim-next slows down steeply with the number of pending tasks, so the seed is a trade-off: enough that "
        "no run drains the queue, which the 204 column checks, and few enough that claims still come by the hundred). "
        "claim+complete: a claim's answer queues its "
        "task_id and claim_token in wrk's Lua, and the thread's next request completes it (a per-thread state machine: wrk "
        "does not tell a script which connection an answer came on).",
        f"- The machine was **shared** (2 cores; other engineers' builds were running; load average {load_start} at the start, "
        f"{' '.join(load_end)} at the end), and wrk and nx-27017 ran on the same cores: absolute figures are noisy, read the "
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
        swift, peer, floor = (medians[mode][key]["cpu"] for key in ("swift", "peer", "floor"))
        summary[mode] = {"swift": swift, "peer": peer, "floor": floor, "swift_to_peer": ratio(swift, peer),
                         "floor_to_peer": ratio(floor, peer), "swift_to_floor": ratio(swift, floor)}
        lines.append(f"| {title} | {fmt(swift)} | {fmt(peer)} | {fmt(floor)} | {fmt(ratio(swift, peer), '.2f')} | "
                     f"{fmt(ratio(floor, peer), '.2f')} | {fmt(ratio(swift, floor), '.2f')} | ≤ 0.20 |")
    lines += [
        "", "Throughput and errors (medians over the rounds; non-2xx and socket errors summed over the rounds; for claim-next "
        "the 204s say whether the queue ran dry):", "",
        "| request | server | requests | req/s | CPU ms/req per round | non-2xx | socket errors | 204 | claimed / completed |",
        "|---|---|---:|---:|---|---:|---:|---:|---|",
    ]
    for mode, title in TYPES:
        for server in bench.servers:
            runs = server.runs.get(mode, [])
            m = medians[mode][server.key]
            pairs = f"{sum(r['claimed'] for r in runs)} / {sum(r['completed'] for r in runs)}" if mode == "claimcomplete" else ""
            lines.append(
                f"| {title} | {server.name} | {fmt(m['requests'], '.0f')} | {fmt(m['rps'], '.0f')} | "
                f"{', '.join(fmt(r['cpu_ms_per_request']) for r in runs)} | {sum(r['other'] for r in runs)} | "
                f"{sum(r['socket_errors'] for r in runs)} | {sum(r['s204'] for r in runs)} | {pairs} |")
    # Background work (the service's queue-depth gauge, driver heartbeats) is spread over the requests of a run, so
    # it weighs most where the stand-in is slowest.
    idle_share = []
    for server in bench.servers:
        slowest = min((m[server.key]["rps"] for m in medians.values() if m[server.key]["rps"]), default=None)
        share = ratio(server.idle_cpu_ms_per_s, slowest)
        idle_share.append(f"{server.name} {fmt(server.idle_cpu_ms_per_s, '.1f')} ms/s "
                          f"(≈ {fmt(share, '.3f')} ms per request at its slowest median rate, {fmt(slowest, '.0f')} req/s)")
    lines += ["", f"Idle CPU (no traffic, {args.idle} s, in ticks of {1000 // bench.clk_tck} ms): " + "; ".join(idle_share)
              + ". It is part of the figures above; only at claim-next's rates is it more than noise.",
              "", "claim-next and claim+complete run at tens to a hundred-odd requests per second (nx-27017 scans the pending tasks for "
              "every claim). All three servers, the floor too, spend more per claim than per GET or create, most likely "
              "because at such rates every request pays its own wake-ups of the event loop, the blocking thread and the "
              "kernel's network path instead of sharing them with other requests (not measured separately). Those rows "
              "are also the least precise: hundreds, not thousands, of requests per run."]
    if any(server.perf_stat for server in bench.servers):
        lines += ["", "Context switches, one extra GET run per server under `perf stat -e context-switches,task-clock -p PID` "
                  "(not in the medians above):", "",
                  "| server | requests | context switches / request | task-clock ms / request | /proc CPU ms / request |",
                  "|---|---:|---:|---:|---:|"]
        for server in bench.servers:
            if server.perf_stat:
                p = server.perf_stat
                lines.append(f"| {server.name} | {p['requests']} | {fmt(p['context_switches_per_request'], '.2f')} | "
                             f"{fmt(p['task_clock_ms_per_request'])} | {fmt(p['cpu_ms_per_request_proc'])} |")
    if bench.perf_dso:
        groups: dict[str, float] = {}
        for dso, percent in bench.perf_dso:
            groups[dso_group(dso)] = groups.get(dso_group(dso), 0) + percent
        top = ", ".join(f"{dso} {percent:.1f} %" for dso, percent in bench.perf_dso[:8])
        lines += ["", f"Where {SWIFT} spends its GET CPU (`perf record -g` during one more GET run, samples by DSO; "
                  "report in `docs/performance.raw/mongo-path/`, git-ignored):", "",
                  "| layer | share of samples |", "|---|---:|"]
        lines += [f"| {group} | {percent:.1f} % |" for group, percent in sorted(groups.items(), key=lambda item: -item[1])]
        lines += ["", f"Top DSOs: {top}."]
    lines += ["", "Reproduce: `make bench-mongo` (environment: BENCH_ROUNDS, BENCH_DURATION, BENCH_CONNECTIONS, BENCH_SEED, "
              "BENCH_WRK_THREADS, BENCH_PERF=0 to skip perf). Raw figures, wrk output and server logs: "
              "`docs/performance.raw/mongo-path/` (git-ignored)."]
    raw = {
        "started": started.isoformat(), "wall_seconds": wall, "commit": args.commit, "clk_tck": bench.clk_tck,
        "settings": {k: v for k, v in vars(args).items() if k not in ("api_key",)}, "summary": summary,
        "servers": {s.key: {"name": s.name, "database": s.database, "runs": s.runs, "perf_stat": s.perf_stat,
                            "idle_cpu_ms_per_s": s.idle_cpu_ms_per_s} for s in bench.servers},
        "perf_dso": bench.perf_dso,
    }
    return "\n".join(lines) + "\n", raw


def write_section(path: Path, section: str, heading: str = SECTION) -> None:
    """Replaces the section (from `heading` to the next "## " heading) or appends it at the end of the file.

    At the end it lies below "## Service benchmarks", which scripts/bench/bench.py keeps verbatim.
    """
    text = path.read_text() if path.exists() else "# Performance\n"
    start = text.find(f"\n{heading}\n")
    if start >= 0:
        following = text.find("\n## ", start + 1)
        tail = text[following + 1:] if following >= 0 else ""
        text = text[:start + 1] + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main() -> int:
    """Parses the arguments from mongo-path.sh and runs everything."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uri", required=True)
    parser.add_argument("--server", action="append", required=True, help="key:port:pid:database")
    parser.add_argument("--lua", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=4000)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--idle", type=int, default=10)
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--perf", type=int, default=1)
    parser.add_argument("--commit", default="unknown")
    parser.add_argument("--out", required=True)
    parser.add_argument("--raw-dir", required=True)
    args = parser.parse_args()

    names = {"swift": SWIFT, "peer": PEER, "floor": FLOOR}
    servers = []
    for spec in args.server:
        key, port, pid, database = spec.split(":")
        servers.append(Server(key, names[key], int(port), int(pid), database))
    Path(args.raw_dir).mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc)
    load_start = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    clock = time.monotonic()
    bench = Bench(args, servers)
    bench.run()
    section, raw = report(bench, started, load_start, time.monotonic() - clock)
    (Path(args.raw_dir) / "results.json").write_text(json.dumps(raw, indent=2, default=str) + "\n")
    write_section(Path(args.out), section)
    print(section)
    dry = [f"{s.name} {mode}" for s in servers for mode in CLAIM_TYPES for run in s.runs.get(mode, []) if run["s204"]]
    if dry:
        note("warning: the claim queue ran dry (204) in: " + ", ".join(sorted(set(dry))) + "; raise BENCH_SEED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
