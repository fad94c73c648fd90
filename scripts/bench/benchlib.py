"""What the CPU-per-request benchmarks share (scripts/bench/mongo_path.py, scripts/bench/tenant_path.py).

Each of them compares servers that run side by side on one machine: it hands this module the servers (port, main
PID, database) and a wrk Lua script whose done() prints one "<MARKER> {json}" line of counts, and gets

  * `Runner.wrk`: one wrk run against a server with the CPU the server spent meanwhile, from /proc/PID/stat
    utime+stime of the main process and all its descendants (uvicorn's workers), and wrk's counts,
  * `Runner.idle`: the CPU the servers spend with no traffic,
  * `Runner.rounds`: ROUNDS rounds per request type, the servers in an order that rotates from round to round,
  * `Runner.perf_runs`: one more run per server under `perf stat -e context-switches,task-clock`, and one for the
    Swift service under `perf record -g` (samples by DSO),
  * the medians, ratios and markdown tables built from those runs, and `write_section`, which replaces one
    generated section of docs/performance.md.

Runs with the repository's .venv Python (pymongo, for seeding).
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymongo


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
    # Per mode: libc malloc calls per request (Runner.malloc_counts).
    mallocs: dict[str, float] = field(default_factory=dict)

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


def parse_servers(specs: list[str], names: dict[str, str]) -> list[Server]:
    """`key:port:pid:database` arguments as servers, named by key."""
    servers = []
    for spec in specs:
        key, port, pid, database = spec.split(":")
        servers.append(Server(key, names[key], int(port), int(pid), database))
    return servers


class Runner:
    """Runs wrk against the servers and keeps every figure. Subclasses give the request types (mode, title), what
    the seed is called and the Lua script's marker, seed a server's database (`seed`), and may change what wrk's
    script gets and what happens before a run (`wrk_script_args`, `before_run`)."""

    types: list[tuple[str, str]] = []
    seeded = "documents"
    # What the Lua script's done() line starts with.
    marker = "WRK"
    # Modes that get a perf record of the Swift service (by layer, `perf_layers`) after their rounds; "get" always does.
    perf_record_modes: list[str] = ["get"]
    # Modes whose malloc calls per request are counted on every server (Runner.malloc_counts).
    malloc_modes: list[str] = []

    def __init__(self, args: argparse.Namespace, servers: list[Server]):
        self.args = args
        self.servers = servers
        self.raw = Path(args.raw_dir)
        # For seeding: every harness seeds its servers' MongoDB databases.
        self.client = pymongo.MongoClient(args.uri, serverSelectionTimeoutMS=10000)
        self.clk_tck = int(subprocess.run(["getconf", "CLK_TCK"], capture_output=True, text=True, check=True).stdout)
        self.perf_dso: list[tuple[str, float]] = []
        # Per mode: the Swift service's samples by layer (see `layer_of`), in per cent.
        self.perf_layers: dict[str, dict[str, float]] = {}

    def server(self, key: str) -> Server:
        """The server with `key`."""
        return next(server for server in self.servers if server.key == key)

    def wrk_script_args(self, server: Server, mode: str, label: str) -> list[str]:
        """What follows `--` on wrk's command line: the Lua script's arguments."""
        return [mode, self.args.api_key, str(self.args.seed)]

    def before_run(self, server: Server, mode: str) -> None:
        """Called before each measured run of a round (to reset a collection, say)."""

    def describe(self, run: dict) -> str:
        """The end of a run's progress line."""
        return f"non-2xx {run['other']}, socket errors {run['socket_errors']}"

    def wrk(self, server: Server, mode: str, duration: int, label: str, perf: list[str] | None = None) -> dict:
        """One wrk run against `server`, with its CPU delta; `perf` is a perf command to run alongside."""
        command = [
            "wrk", "-t", str(self.args.threads), "-c", str(self.args.connections), "-d", f"{duration}s", "--timeout", "30s",
            "-s", self.args.lua, f"http://127.0.0.1:{server.port}", "--", *self.wrk_script_args(server, mode, label),
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
        line = next((item for item in result.stdout.splitlines() if item.startswith(f"{self.marker} ")), None)
        if result.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed for {server.name} ({mode}): {result.stderr.strip() or result.stdout[-400:]}")
        if server.pids() != pids:
            raise RuntimeError(f"{server.name}: its processes changed during the run (a worker died?)")
        run = json.loads(line.removeprefix(f"{self.marker} "))
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
        """CPU the servers spend with no traffic (timers, driver heartbeats, the service's gauges), all at once."""
        pids = {server.key: server.pids() for server in self.servers}
        before = {server.key: server.cpu_ticks(pids[server.key]) for server in self.servers}
        time.sleep(self.args.idle)
        for server in self.servers:
            ticks = server.cpu_ticks(pids[server.key]) - before[server.key]
            server.idle_cpu_ms_per_s = ticks * 1000 / self.clk_tck / self.args.idle

    def seed(self, server: Server) -> float:
        """Fills the server's database with the seeded documents; the seconds it took."""
        raise NotImplementedError

    def run(self) -> None:
        """Seeds, measures the idle CPU, warms up with GET, runs the rounds of every type of `types` in order, and
        the perf runs right after the GET rounds."""
        for server in self.servers:
            seconds = self.seed(server)
            note(f"seeded {self.args.seed} {self.seeded} for {server.name} in {seconds:.1f} s")
        note(f"idle CPU over {self.args.idle} s")
        self.idle()
        self.warm_up("get")
        for mode, title in self.types:
            self.rounds(mode, title)
            if mode == "get":
                self.perf_runs("get")
            elif mode in self.perf_record_modes and self.args.perf:
                self.perf_record(mode)
            if mode in self.malloc_modes and self.args.perf:
                self.malloc_counts(mode)

    def warm_up(self, mode: str) -> None:
        """One unmeasured run per server."""
        for server in self.servers:
            note(f"warm-up: {server.name}, {mode.upper()} for {self.args.warmup} s")
            self.wrk(server, mode, self.args.warmup, f"warmup-{server.key}")

    def rounds(self, mode: str, title: str) -> None:
        """ROUNDS rounds of one run per server; the order of the servers rotates from round to round."""
        for round_index in range(self.args.rounds):
            shift = round_index % len(self.servers)
            for server in self.servers[shift:] + self.servers[:shift]:
                self.before_run(server, mode)
                run = self.wrk(server, mode, self.args.duration, f"{mode}-r{round_index + 1}-{server.key}")
                server.runs.setdefault(mode, []).append(run)
                note(f"{title} round {round_index + 1} {server.name}: {run['requests']} requests, "
                     f"{run['rps']:.0f}/s, {fmt(run['cpu_ms_per_request'], '.3f')} CPU ms/request, " + self.describe(run))
                time.sleep(self.args.pause)

    def perf_runs(self, mode: str, swift_key: str = "swift") -> None:
        """One `mode` run per server under perf stat, and one for the Swift service under perf record -g."""
        if not self.args.perf:
            return
        for server in self.servers:
            output = self.raw / f"perf-stat-{server.key}.csv"
            perf = ["perf", "stat", "-e", "context-switches,task-clock", "-x", ",", "-o", str(output),
                    "-p", ",".join(map(str, server.pids())), "--", "sleep", str(self.args.duration)]
            try:
                run = self.wrk(server, mode, self.args.duration, f"perf-stat-{server.key}", perf)
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
        self.perf_record(mode, swift_key)

    def perf_record(self, mode: str, swift_key: str = "swift") -> None:
        """One `mode` run of the Swift service under perf record -g: samples by DSO (for GET, `perf_dso`) and by
        layer (`perf_layers[mode]`)."""
        swift = self.server(swift_key)
        data = self.raw / f"perf-record-{swift_key}-{mode}.data"
        perf = ["perf", "record", "-g", "-o", str(data), "-p", ",".join(map(str, swift.pids())), "--", "sleep",
                str(self.args.duration)]
        try:
            self.before_run(swift, mode)
            self.wrk(swift, mode, self.args.duration, f"perf-record-{swift_key}-{mode}", perf)
            for sort, suffix in (("dso", "dso"), ("dso,sym", "symbols")):
                text = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--sort", sort, "--no-children", "-g", "none"],
                                      capture_output=True, text=True, check=True).stdout
                (self.raw / f"perf-report-{swift_key}-{mode}-{suffix}.txt").write_text(text)
                if suffix == "dso" and mode == "get":
                    self.perf_dso = parse_perf_dso(text)
                if suffix == "symbols":
                    self.perf_layers[mode] = layer_shares(text, swift.name)
            data.unlink(missing_ok=True)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
            note(f"perf record for {swift.name} failed: {error}")

    def malloc_counts(self, mode: str) -> None:
        """One `mode` run per server under `perf stat -e probe_libc:malloc` (a uprobe on libc's malloc, added here and
        removed after): libc malloc calls per request. Each call then traps, so these runs are not timed."""
        added = ensure_malloc_probe()
        if added is None:
            return
        try:
            for server in self.servers:
                output = self.raw / f"perf-malloc-{mode}-{server.key}.csv"
                perf = ["perf", "stat", "-e", "probe_libc:malloc", "-x", ",", "-o", str(output),
                        "-p", ",".join(map(str, server.pids())), "--", "sleep", str(self.args.duration)]
                try:
                    self.before_run(server, mode)
                    run = self.wrk(server, mode, self.args.duration, f"perf-malloc-{mode}-{server.key}", perf)
                    calls = parse_perf_counters(output.read_text()).get("probe_libc:malloc")
                except (RuntimeError, OSError, ValueError) as error:
                    note(f"malloc count for {server.name} failed: {error}")
                    continue
                if calls is not None and run["requests"]:
                    server.mallocs[mode] = calls / run["requests"]
                    note(f"malloc {mode} {server.name}: {server.mallocs[mode]:.1f} calls/request")
        finally:
            if added:
                subprocess.run(["perf", "probe", "-q", "-d", "probe_libc:malloc"], capture_output=True)


def ensure_malloc_probe() -> bool | None:
    """Adds the uprobe probe_libc:malloc unless it exists: True when added here, False when it was there, None when
    perf cannot add it (no uprobes)."""
    listed = subprocess.run(["perf", "probe", "-l"], capture_output=True, text=True)
    if "probe_libc:malloc" in listed.stdout:
        return False
    for libc in ("/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6"):
        if Path(libc).exists():
            added = subprocess.run(["perf", "probe", "-q", "-x", libc, "-a", "malloc"], capture_output=True, text=True)
            if added.returncode == 0:
                return True
            note(f"perf probe on {libc} failed: {added.stderr.strip()}; no malloc counts")
            return None
    note("no libc.so.6 found; no malloc counts")
    return None


def parse_perf_counters(text: str) -> dict[str, float]:
    """perf stat -x, output (value,unit,event,...) as {event: value}."""
    counters = {}
    for line in text.splitlines():
        parts = line.split(",")
        if len(parts) >= 3 and parts[0] and not line.startswith("#"):
            try:
                counters[parts[2]] = float(parts[0])
            except ValueError:
                continue
    return counters


def parse_perf_stat(text: str) -> dict[str, float]:
    """perf stat -x, output with context switches and task-clock."""
    counters = parse_perf_counters(text)
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


def dso_group(dso: str, binary: str) -> str:
    """Which layer a DSO belongs to, for the summary; `binary` is the service's own executable."""
    if "mongoc" in dso or "bson" in dso:
        return "libmongoc/libbson"
    if dso.startswith("[kernel") or dso in ("[vdso]",):
        return "kernel"
    if dso.startswith("libswift") or "Foundation" in dso or "dispatch" in dso or "BlocksRuntime" in dso:
        return "Swift runtime, Foundation, Dispatch"
    if dso.startswith(("libc.so", "libc-", "libm.so", "libpthread", "ld-linux", "libstdc++", "libgcc")):
        return "libc and C++ runtime"
    if dso == binary:
        return f"{binary} (its Swift code, NIO, Hummingbird: linked statically)"
    return "other (libssl, libcrypto, …)"


RETAIN_RELEASE = re.compile(r"^swift_(retain|release|bridgeObject(Retain|Release)|unknownObject(Retain|Release)|nonatomic_)")
METADATA = re.compile(r"getGenericMetadata|getCache|swift_getWitnessTable|tryCast|swift_dynamicCast|ConcurrentReadableHashMap|"
                      r"MetadataCache|swift_conformsToProtocol|getTypeByMangledName|instantiateConcreteType|swift_checkMetadataState|"
                      r"swift_getAssociated|swift_getTypeByMangled|MetadataAllocator")
EXCLUSIVITY = re.compile(r"swift_(begin|end)Access|AccessSet")
MALLOC = re.compile(r"malloc|free|_int_|unlink_chunk|tcache|consolidate|realloc|calloc|memalign|usable_size|arena_")
MANGLED_MODULE = re.compile(r"^\$s(\d+)")


def layer_of(dso: str, symbol: str, binary: str) -> str:
    """The layer a sample belongs to: the kernel, libmongoc, malloc, the Swift runtime split by what it does, and the
    statically linked binary split by module (read from the mangled name, `$s<length><Module>…`)."""
    if dso.startswith("[kernel") or dso == "[vdso]":
        return "kernel (syscalls, scheduling, loopback TCP)"
    if "mongoc" in dso or "bson" in dso:
        return "libmongoc, libbson"
    if dso.startswith(("libc.so", "libc-")):
        return "libc malloc/free" if MALLOC.search(symbol) else "libc other (memcpy, locks, …)"
    if dso.startswith("libswift_Concurrency"):
        return "Swift concurrency runtime (tasks, continuations)"
    if dso.startswith("libswiftCore") or (dso == binary and symbol.startswith("__swift")):
        if RETAIN_RELEASE.search(symbol):
            return "Swift retain/release"
        if METADATA.search(symbol):
            return "Swift generic metadata, casts"
        if EXCLUSIVITY.search(symbol):
            return "Swift exclusivity checks"
        return "Swift stdlib (strings, arrays, hashing, …)"
    if "Foundation" in dso or "dispatch" in dso or "icu" in dso:
        return "Foundation, Dispatch"
    if dso == binary:
        if symbol.startswith("c_nio"):
            return "SwiftNIO, Hummingbird"
        match = MANGLED_MODULE.match(symbol)
        if symbol.startswith(("$ss", "$sS")):
            return "Swift stdlib (strings, arrays, hashing, …)"
        if match:
            length = int(match.group(1))
            module = symbol[match.end():match.end() + length]
            if module.startswith(("NIO", "_NIO", "Hummingbird", "HTTPTypes", "DequeModule", "ServiceLifecycle", "AsyncAlgorithms")):
                return "SwiftNIO, Hummingbird"
            if module == "DatabaseLayer":
                return "DatabaseLayer (BSON, JSON, middleware, pools)"
            if module in ("Logging", "Metrics", "Prometheus", "CoreMetrics"):
                return "swift-log, swift-prometheus"
            return "the service's own code" if module.endswith("Service") else f"other Swift modules ({module})"
        return "other code in the binary"
    if dso.startswith(("libm.so", "libpthread", "ld-linux", "libstdc++", "libgcc")):
        return "libc other (memcpy, locks, …)"
    return "other libraries (libssl, libcrypto, …)"


def layer_shares(report: str, binary: str) -> dict[str, float]:
    """`perf report --sort dso,sym` lines ("  2.29%  libswiftCore.so  [.] swift_retain") summed by `layer_of`."""
    shares: dict[str, float] = {}
    for line in report.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(\S+)", line)
        if match:
            layer = layer_of(match.group(2), match.group(3), binary)
            shares[layer] = shares.get(layer, 0) + float(match.group(1))
    return shares


def layer_table(runner: Runner, types: list[tuple[str, str]], cpu: dict[str, float | None]) -> list[str]:
    """Rows of layer × request type: share of the Swift service's samples, and that share of its median CPU per request."""
    modes = [(mode, title) for mode, title in types if mode in runner.perf_layers]
    if not modes:
        return []
    # Layers under 0.5 % everywhere are summed into one row, so the table stays readable.
    rest = "everything else (each under 0.5 %)"
    shares = {mode: {} for mode, _ in modes}
    every = {layer for mode, _ in modes for layer in runner.perf_layers[mode]}
    for layer in every:
        small = all(runner.perf_layers[mode].get(layer, 0) < 0.5 for mode, _ in modes)
        for mode, _ in modes:
            key = rest if small else layer
            shares[mode][key] = shares[mode].get(key, 0) + runner.perf_layers[mode].get(layer, 0)
    layers = sorted({layer for mode, _ in modes for layer in shares[mode]},
                    key=lambda layer: (layer == rest, -sum(shares[mode].get(layer, 0) for mode, _ in modes)))
    lines = ["| layer | " + " | ".join(title for _, title in modes) + " |", "|---|" + "---:|" * len(modes)]
    for layer in layers:
        cells = []
        for mode, _ in modes:
            share = shares[mode].get(layer, 0)
            ms = cpu.get(mode)
            cells.append(f"{share:.1f} % ({ms * share / 100:.3f} ms)" if ms else f"{share:.1f} %")
        lines.append(f"| {layer} | " + " | ".join(cells) + " |")
    return lines


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


def medians(runner: Runner, modes: list[str]) -> dict[str, dict[str, dict[str, float | None]]]:
    """Per mode and server: the medians over the rounds of CPU ms per request, requests per second and requests."""
    result: dict[str, dict[str, dict[str, float | None]]] = {}
    for mode in modes:
        result[mode] = {}
        for server in runner.servers:
            runs = server.runs.get(mode, [])
            result[mode][server.key] = {
                "cpu": median([run["cpu_ms_per_request"] for run in runs]),
                "rps": median([run["rps"] for run in runs]),
                "requests": median([run["requests"] for run in runs]),
            }
    return result


def run_rows(runner: Runner, table: dict[str, dict[str, dict[str, float | None]]], types: list[tuple[str, str]],
             extra: Callable[[str, list[dict]], list[str]]) -> list[str]:
    """One table row per request type and server: requests and req/s (medians), CPU ms/request of each round, non-2xx
    and socket errors (sums), then the cells `extra(mode, runs)` gives."""
    rows = []
    for mode, title in types:
        for server in runner.servers:
            runs = server.runs.get(mode, [])
            m = table[mode][server.key]
            cells = [title, server.name, fmt(m["requests"], ".0f"), fmt(m["rps"], ".0f"),
                     ", ".join(fmt(r["cpu_ms_per_request"]) for r in runs), str(sum(r["other"] for r in runs)),
                     str(sum(r["socket_errors"] for r in runs)), *extra(mode, runs)]
            rows.append("| " + " | ".join(cells) + " |")
    return rows


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def idle_line(runner: Runner, table: dict[str, dict[str, dict[str, float | None]]]) -> str:
    """The sentence on idle CPU: background work is spread over a run's requests, so it weighs most where a
    server is slowest."""
    shares = []
    for server in runner.servers:
        slowest = min((m[server.key]["rps"] for m in table.values() if m[server.key]["rps"]), default=None)
        share = ratio(server.idle_cpu_ms_per_s, slowest)
        shares.append(f"{server.name} {fmt(server.idle_cpu_ms_per_s, '.1f')} ms/s "
                      f"(≈ {fmt(share, '.3f')} ms per request at its slowest median rate, {fmt(slowest, '.0f')} req/s)")
    return f"Idle CPU (no traffic, {runner.args.idle} s, in ticks of {1000 // runner.clk_tck} ms): " + "; ".join(shares)


def perf_lines(runner: Runner, request: str, swift_name: str, raw_dir: str) -> list[str]:
    """The perf stat table (one row per server) and the perf record breakdown by DSO, when there are figures."""
    lines: list[str] = []
    if any(server.perf_stat for server in runner.servers):
        lines += ["", f"Context switches, one extra {request} run per server under `perf stat -e context-switches,task-clock -p PID` "
                  "(not in the medians above):", "",
                  "| server | requests | context switches / request | task-clock ms / request | /proc CPU ms / request |",
                  "|---|---:|---:|---:|---:|"]
        for server in runner.servers:
            if server.perf_stat:
                p = server.perf_stat
                lines.append(f"| {server.name} | {p['requests']} | {fmt(p['context_switches_per_request'], '.2f')} | "
                             f"{fmt(p['task_clock_ms_per_request'])} | {fmt(p['cpu_ms_per_request_proc'])} |")
    if runner.perf_dso:
        groups: dict[str, float] = {}
        for dso, percent in runner.perf_dso:
            group = dso_group(dso, swift_name)
            groups[group] = groups.get(group, 0) + percent
        top = ", ".join(f"{dso} {percent:.1f} %" for dso, percent in runner.perf_dso[:8])
        lines += ["", f"Where {swift_name} spends its {request} CPU (`perf record -g` during one more {request} run, samples by DSO; "
                  f"report in `{raw_dir}`, git-ignored):", "",
                  "| layer | share of samples |", "|---|---:|"]
        lines += [f"| {group} | {percent:.1f} % |" for group, percent in sorted(groups.items(), key=lambda item: -item[1])]
        lines += ["", f"Top DSOs: {top}."]
    return lines


def raw_figures(runner: Runner, started: dt.datetime, wall: float, summary: dict) -> dict:
    """Everything measured, for results.json (the API key left out)."""
    args = runner.args
    return {
        "started": started.isoformat(), "wall_seconds": wall, "commit": args.commit, "clk_tck": runner.clk_tck,
        "settings": {k: v for k, v in vars(args).items() if k not in ("api_key",)}, "summary": summary,
        "servers": {s.key: {"name": s.name, "database": s.database, "runs": s.runs, "perf_stat": s.perf_stat,
                            "idle_cpu_ms_per_s": s.idle_cpu_ms_per_s} for s in runner.servers},
        "perf_dso": runner.perf_dso, "perf_layers": runner.perf_layers,
        "mallocs": {s.key: s.mallocs for s in runner.servers},
    }


def write_section(path: Path, section: str, heading: str, before: str | None = None) -> None:
    """Replaces the section (from `heading` to the next "## " heading). A missing one goes right before the
    heading `before` when that exists, else at the end of the file.

    At the end it lies below "## Service benchmarks", which scripts/bench/bench.py keeps verbatim.
    """
    text = path.read_text() if path.exists() else "# Performance\n"
    start = text.find(f"\n{heading}\n")
    following_at = text.find(f"\n{before}\n") if before else -1
    if start >= 0:
        following = text.find("\n## ", start + 1)
        tail = text[following + 1:] if following >= 0 else ""
        text = text[:start + 1] + section + ("\n" + tail if tail else "")
    elif following_at >= 0:
        text = text[:following_at + 1] + section + "\n" + text[following_at + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def argument_parser(doc: str, connections: int, seed: int) -> argparse.ArgumentParser:
    """The arguments every harness takes from its shell script."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uri", required=True)
    parser.add_argument("--server", action="append", required=True, help="key:port:pid:database")
    parser.add_argument("--lua", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=connections)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--idle", type=int, default=10)
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--perf", type=int, default=1)
    parser.add_argument("--commit", default="unknown")
    parser.add_argument("--out", required=True)
    parser.add_argument("--raw-dir", required=True)
    return parser


def measure(args: argparse.Namespace, names: dict[str, str], bench: Callable[[argparse.Namespace, list[Server]], Runner],
            report: Callable[[Any, dt.datetime, str, float], tuple[str, dict]], heading: str, before: str | None = None) -> Runner:
    """The whole run of a harness: its `bench` on the `--server`s (named by `names`), then `report(bench, started,
    load average at the start, seconds)`, written to results.json and as the section `heading` (see write_section),
    and printed."""
    servers = parse_servers(args.server, names)
    Path(args.raw_dir).mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc)
    load_start = load_average()
    clock = time.monotonic()
    runner = bench(args, servers)
    runner.run()
    section, raw = report(runner, started, load_start, time.monotonic() - clock)
    (Path(args.raw_dir) / "results.json").write_text(json.dumps(raw, indent=2, default=str) + "\n")
    write_section(Path(args.out), section, heading, before)
    print(section)
    return runner
