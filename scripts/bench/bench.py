#!/usr/bin/env python3
"""Startup and memory benchmark of the five services (run by scripts/bench.sh).

Python standard library only. Expects the release binaries and the compiled
baseline server, and the throwaway stores of scripts/with-test-servers.sh
(TEST_POSTGRES_URL, TEST_REDIS_URL, TEST_MONGODB_URIS) with deploy/postgres/init.sql
already applied. Every process it starts is a direct child, recorded in
--pid-dir, and stopped (TERM, then KILL after 10 s) before it returns, also on
errors, Ctrl-C and TERM. Everything listens and connects on 127.0.0.1 only.

What it measures, per service:
  * ready: wall time from just before fork/exec to the first 200 from
    GET /health/ready (polled every 2 ms on a new connection; the 200 must name
    the service, so a stranger on a reused port cannot answer for it). One
    warm-up start first (it creates the store files;
    reported as "first start"), then --runs timed starts, round-robin with the
    baseline so that machine noise hits all of them alike.
  * idle RSS: VmRSS from /proc/PID/status, 1 s after ready with no traffic
    (median over the timed starts).
  * RSS after load: one more start; after ready and 1 s idle, --requests
    GET /health/ready over --concurrency keep-alive connections (exactly that
    many requests, then stop), then VmRSS and VmHWM (peak) at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
READY_BUDGET_MS = 300.0
RSS_BUDGET_MIB = 30.0
POLL_INTERVAL_S = 0.002
IDLE_SETTLE_S = 1.0
STOP_TIMEOUT_S = 10.0
LOAD_DEADLINE_S = 300.0
PSQL = "/usr/lib/postgresql/15/bin/psql"

SERVICES = [
    "tenant-mgmt-service",
    "user-data-service",
    "task-repo-service",
    "category-repository-service",
    "management-system-repo",
]
BASELINE = "baseline"
# Passed through from the caller's environment (as scripts/up.sh does); nothing else leaks in.
PASS_THROUGH = ["PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR", "LD_LIBRARY_PATH", "SWIFT_BACKTRACE"]


def log(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------- config


@dataclass
class Stores:
    pg_host: str
    pg_port: int
    redis_url: str
    mongo_host: str
    mongo_port: int

    @property
    def mongo_base(self) -> str:
        return f"mongodb://{self.mongo_host}:{self.mongo_port}"

    @classmethod
    def from_environment(cls) -> "Stores":
        pg = urllib.parse.urlsplit(os.environ["TEST_POSTGRES_URL"])
        uris = dict(item.split("=", 1) for item in os.environ["TEST_MONGODB_URIS"].split(",") if "=" in item)
        if "nx-27017" not in uris:
            raise SystemExit("TEST_MONGODB_URIS has no nx-27017 entry")
        mongo = urllib.parse.urlsplit(uris["nx-27017"])
        return cls(
            pg_host=pg.hostname or "127.0.0.1",
            pg_port=pg.port or 5432,
            redis_url=os.environ["TEST_REDIS_URL"],
            mongo_host=mongo.hostname or "127.0.0.1",
            mongo_port=mongo.port or 27017,
        )


def service_env(name: str, port: int, stores: Stores, api_key: str) -> dict[str, str]:
    """The environment of one service: the caller's basics, then exactly what scripts/up.sh sets, on the test stores."""
    env = {var: os.environ[var] for var in PASS_THROUGH if os.environ.get(var)}
    env["API_KEY"] = api_key
    env["REDIS_URL"] = stores.redis_url
    env["SERVICE_NAME"] = name
    mongo = stores.mongo_base
    pg_host, pg_port = stores.pg_host, str(stores.pg_port)
    if name == "tenant-mgmt-service":
        env.update(
            TENANT_MONGODB_URI=mongo,
            TENANT_REGISTRY_DB="tenant_registry",
            TENANT_POSTGRES_URI=f"postgresql://postgres@{pg_host}:{pg_port}/management_system_repository",
            TENANT_SERVICE_HOST="127.0.0.1",
            TENANT_SERVICE_PORT=str(port),
        )
    elif name == "user-data-service":
        env.update(
            USER_DB_HOST=pg_host,
            USER_DB_PORT=pg_port,
            USER_DB_USER="postgres",
            USER_DB_PASSWORD="",
            USER_DB_NAME="system_users",
            POSTGRES_URI=f"postgresql://postgres@{pg_host}:{pg_port}/user_extensions",
            MONGODB_URI=f"{mongo}/user_insights",
            USER_SERVICE_HOST="127.0.0.1",
            USER_SERVICE_PORT=str(port),
        )
    elif name == "task-repo-service":
        env.update(
            MONGODB_URI=f"{mongo}/task_repository",
            MONGODB_DATABASE="task_repository",
            HOST="127.0.0.1",
            PORT=str(port),
        )
    elif name == "category-repository-service":
        env.update(
            MONGODB_URI=f"{mongo}/category_repository",
            MONGODB_DATABASE="category_repository",
            HOST="127.0.0.1",
            PORT=str(port),
        )
    elif name == "management-system-repo":
        env.update(
            SYSTEM_DB_HOST=pg_host,
            SYSTEM_DB_PORT=pg_port,
            SYSTEM_DB_USER="postgres",
            SYSTEM_DB_PASSWORD="",
            SYSTEM_DB_NAME="management_system_repository",
            CONFIG_DB_HOST=stores.mongo_host,
            CONFIG_DB_PORT=str(stores.mongo_port),
            CONFIG_DB_NAME="config_db",
            HOST="127.0.0.1",
            PORT=str(port),
        )
    elif name == BASELINE:
        env["PORT"] = str(port)
    else:
        raise ValueError(name)
    return env


# -------------------------------------------------------------------- helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (like free_port in scripts/lib.sh)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM, RssAnon, RssFile (bytes) and Threads from /proc/PID/status."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                values[key] = int(rest.split()[0]) * 1024
            elif key == "Threads":
                values[key] = int(rest.split()[0])
    return values


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text[-lines:])


class Failure(Exception):
    """A start that did not become ready; carries the log tail."""


# ------------------------------------------------------------------- processes


class Launcher:
    """Starts, times and stops service processes; remembers every one until it is gone."""

    def __init__(self, binaries: dict[str, Path], stores: Stores, api_key: str, log_dir: Path, pid_dir: Path, ready_timeout: float):
        self.binaries = binaries
        self.stores = stores
        self.api_key = api_key
        self.log_dir = log_dir
        self.pid_dir = pid_dir
        self.ready_timeout = ready_timeout
        self.live: dict[int, tuple[subprocess.Popen[bytes], Path]] = {}
        self.kills = 0

    def start(self, name: str, label: str) -> tuple[subprocess.Popen[bytes], int, float, Path]:
        """Start NAME, wait for its first ready 200; return (process, port, ready seconds, log). Raises Failure."""
        port = free_port()
        if port_open(port):  # taken between the check and now
            port = free_port()
        env = service_env(name, port, self.stores, self.api_key)
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "ab") as logf:
            logf.write(f"\n=== {dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ} {label}: port {port}\n".encode())
            logf.flush()
            start = time.perf_counter()
            try:
                proc = subprocess.Popen(
                    [str(self.binaries[name])], env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=logf,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )
            except OSError as exc:
                raise Failure(f"{name} ({label}) could not be started: {exc}") from exc
        pid_file = self.pid_dir / f"{proc.pid}.pid"
        pid_file.write_text(f"{proc.pid} {self.binaries[name].name}\n")
        self.live[proc.pid] = (proc, pid_file)

        deadline = start + self.ready_timeout
        expected = "bench-baseline" if name == BASELINE else name
        last = "connection refused"
        while True:
            if proc.poll() is not None:
                self.forget(proc)
                raise Failure(f"{name} ({label}) exited with status {proc.returncode} before it became ready; "
                              f"last answer: {last}\n{log_tail(log_path)}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                try:
                    conn.request("GET", "/health/ready")
                    response = conn.getresponse()
                    body = response.read()
                finally:
                    conn.close()
                if response.status == 200:
                    elapsed = time.perf_counter() - start
                    try:
                        service = json.loads(body).get("service")
                    except ValueError:
                        service = None
                    if service != expected:
                        self.stop(proc)
                        raise Failure(f"port {port} answered for {service!r}, not {expected}: another process took the port")
                    return proc, port, elapsed, log_path
                last = f"HTTP {response.status} {body[:300].decode(errors='replace')}"
            except (OSError, http.client.HTTPException) as exc:
                if not isinstance(exc, ConnectionRefusedError):
                    last = f"{type(exc).__name__}: {exc}"
            if time.perf_counter() > deadline:
                self.stop(proc)
                raise Failure(f"{name} ({label}) not ready after {self.ready_timeout:.0f} s; last answer: {last}\n{log_tail(log_path)}")
            time.sleep(POLL_INTERVAL_S)

    def forget(self, proc: subprocess.Popen[bytes]) -> None:
        entry = self.live.pop(proc.pid, None)
        if entry:
            entry[1].unlink(missing_ok=True)

    def stop(self, proc: subprocess.Popen[bytes]) -> float:
        """TERM, wait up to 10 s, then KILL. Returns the seconds it took."""
        start = time.perf_counter()
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kills += 1
                warn(f"PID {proc.pid} still running {STOP_TIMEOUT_S:.0f} s after TERM; sending KILL")
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT_S)
        self.forget(proc)
        return time.perf_counter() - start

    def stop_all(self) -> None:
        for proc, _ in list(self.live.values()):
            try:
                self.stop(proc)
            except Exception as exc:  # keep going: every process must be stopped
                warn(f"could not stop PID {proc.pid}: {exc}")


# ----------------------------------------------------------------------- load


def load(port: int, requests: int, concurrency: int) -> dict[str, float]:
    """Send exactly REQUESTS GET /health/ready over CONCURRENCY keep-alive connections."""
    lock = threading.Lock()
    issued = 0
    statuses: dict[int, int] = {}
    errors: list[str] = []
    reconnects = 0
    deadline = time.perf_counter() + LOAD_DEADLINE_S

    def take() -> bool:
        nonlocal issued
        with lock:
            if issued >= requests or time.perf_counter() > deadline:
                return False
            issued += 1
            return True

    def worker() -> None:
        nonlocal reconnects
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while take():
                try:
                    conn.request("GET", "/health/ready")
                    response = conn.getresponse()
                    response.read()
                    with lock:
                        statuses[response.status] = statuses.get(response.status, 0) + 1
                    if response.will_close:
                        conn.close()
                        with lock:
                            reconnects += 1
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    with lock:
                        reconnects += 1
                        errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(LOAD_DEADLINE_S + 30)
    elapsed = time.perf_counter() - start
    ok = statuses.get(200, 0)
    return {
        "requests": issued,
        "ok": ok,
        "non_200": sum(count for status, count in statuses.items() if status != 200),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "reconnects": reconnects,
        "seconds": elapsed,
        "per_second": issued / elapsed if elapsed > 0 else 0.0,
    }


def psql_round_trip(stores: Stores) -> float:
    """Seconds for one `psql -c 'select 1'`: process start, libpq connect and auth, one query."""
    start = time.perf_counter()
    subprocess.run(
        [PSQL, "-X", "-q", "-t", "-h", stores.pg_host, "-p", str(stores.pg_port), "-U", "postgres", "-d", "postgres", "-c", "select 1"],
        check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30,
    )
    return time.perf_counter() - start


# ---------------------------------------------------------------------- bench


@dataclass
class Result:
    name: str
    first_ms: float | None = None
    ready_ms: list[float] = field(default_factory=list)
    idle: list[dict[str, int]] = field(default_factory=list)
    stop_ms: list[float] = field(default_factory=list)
    loaded: dict[str, object] = field(default_factory=dict)
    failure: str | None = None

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.ready_ms) if self.ready_ms else None

    @property
    def min_ms(self) -> float | None:
        return min(self.ready_ms) if self.ready_ms else None

    def idle_median(self, key: str = "VmRSS") -> float | None:
        values = [sample[key] for sample in self.idle if key in sample]
        return statistics.median(values) if values else None


def one_start(launcher: Launcher, result: Result, label: str, timed: bool) -> None:
    if result.failure:
        return
    try:
        proc, _, seconds, _ = launcher.start(result.name, label)
    except Failure as exc:
        result.failure = str(exc)
        warn(str(exc))
        return
    try:
        if timed:
            result.ready_ms.append(seconds * 1000)
            time.sleep(IDLE_SETTLE_S)
            if proc.poll() is None:
                result.idle.append(proc_status(proc.pid))
        else:
            result.first_ms = seconds * 1000
    finally:
        stopped = launcher.stop(proc)
    if timed:
        result.stop_ms.append(stopped * 1000)
    if proc.returncode not in (0, -signal.SIGTERM, 143):
        warn(f"{result.name} ({label}) exited with status {proc.returncode} on TERM")


def load_phase(launcher: Launcher, result: Result, requests: int, concurrency: int) -> None:
    if result.failure:
        return
    try:
        proc, port, _, log_path = launcher.start(result.name, "load")
    except Failure as exc:
        result.failure = str(exc)
        warn(str(exc))
        return
    try:
        time.sleep(IDLE_SETTLE_S)
        before = proc_status(proc.pid)
        outcome = load(port, requests, concurrency)
        if proc.poll() is not None:
            result.failure = f"{result.name} died under load (status {proc.returncode})\n{log_tail(log_path)}"
            warn(result.failure)
            return
        after = proc_status(proc.pid)
        result.loaded = {"before": before, "after": after, **outcome}
        if outcome["ok"] != requests:
            warn(f"{result.name}: {outcome['ok']} of {requests} requests got 200 "
                 f"({outcome['non_200']} other statuses, {outcome['errors']} errors {outcome['first_error']})")
    finally:
        launcher.stop(proc)


def run(args: argparse.Namespace) -> int:
    stores = Stores.from_environment()
    log_dir = Path(args.raw_dir) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    pid_dir = Path(args.pid_dir)
    pid_dir.mkdir(parents=True, exist_ok=True)
    binaries = {name: Path(args.bin_dir) / name for name in SERVICES}
    if args.baseline:
        binaries[BASELINE] = Path(args.baseline)
    for name, path in binaries.items():
        if not os.access(path, os.X_OK):
            raise SystemExit(f"{path} is not an executable")
    launcher = Launcher(binaries, stores, args.api_key, log_dir, pid_dir, args.ready_timeout)
    names = ([BASELINE] if args.baseline else []) + SERVICES
    results = {name: Result(name) for name in names}
    psql_ms: list[float] = []
    started = dt.datetime.now(dt.timezone.utc)
    load_at_start = os.getloadavg()
    t0 = time.perf_counter()
    try:
        log("warm-up: one start each (first start creates the store files)")
        for name in names:
            one_start(launcher, results[name], "warm-up", timed=False)
        for round_no in range(1, args.runs + 1):
            # Rotate the order so that no service always runs right after another one's shutdown.
            order = names[round_no % len(names):] + names[: round_no % len(names)]
            try:
                psql_ms.append(psql_round_trip(stores) * 1000)
            except (subprocess.SubprocessError, OSError) as exc:
                warn(f"psql round trip failed: {exc}")
            for name in order:
                one_start(launcher, results[name], f"run {round_no}", timed=True)
            log(f"round {round_no}/{args.runs} ready ms: " + ", ".join(
                f"{name} {results[name].ready_ms[-1]:.0f}" for name in names if len(results[name].ready_ms) == round_no))
        for name in (n for n in names if not results[n].failure):
            log(f"load: {args.requests} x GET /health/ready on {name} ({args.concurrency} keep-alive connections)")
            load_phase(launcher, results[name], args.requests, args.concurrency)
    finally:
        launcher.stop_all()
    wall = time.perf_counter() - t0

    report = Report(args, results, psql_ms, started, load_at_start, wall, launcher.kills)
    text = report.markdown()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + report.preserved_section(out))
    (Path(args.raw_dir) / "results.json").write_text(json.dumps(report.raw(), indent=2) + "\n")
    print()
    print(report.summary_text())
    print(f"\nWritten to {args.out} (raw figures and service logs in {args.raw_dir}/)")
    failed = [r.name for r in results.values() if r.failure]
    if failed:
        warn("did not complete: " + ", ".join(failed))
        return 1
    if args.enforce_budgets and report.over_budget():
        warn("over budget: " + ", ".join(report.over_budget()))
        return 3
    return 0


# --------------------------------------------------------------------- report

SERVICE_SECTION = "## Service benchmarks"
SERVICE_PLACEHOLDER = f"""{SERVICE_SECTION}

Service issues add their own benchmarks here, one `###` subsection each, with the command that
reproduces the figures. `make bench` regenerates everything above this heading on every run and
keeps this section exactly as it is.
"""


def fmt(value: float | None, spec: str = ".0f", suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


class Report:
    def __init__(self, args, results: dict[str, Result], psql_ms, started, load_at_start, wall, kills):
        self.args = args
        self.results = results
        self.psql_ms = psql_ms
        self.started = started
        self.load_at_start = load_at_start
        self.wall = wall
        self.kills = kills
        self.baseline = results.get(BASELINE)
        services = [results[name] for name in SERVICES]
        idle = [r.idle_median() for r in services if r.idle_median() is not None]
        self.smallest_idle = min(idle) if idle else None
        self.services = services

    # Budget verdicts: None when not measured.
    @staticmethod
    def ready_ok(r: Result) -> bool | None:
        return None if r.median_ms is None else r.median_ms <= READY_BUDGET_MS

    @staticmethod
    def rss_ok(r: Result) -> bool | None:
        value = r.idle_median()
        return None if value is None else value / MIB <= RSS_BUDGET_MIB

    def over_budget(self) -> list[str]:
        return [r.name for r in self.services if self.ready_ok(r) is False or self.rss_ok(r) is False]

    def ratio(self, r: Result) -> float | None:
        base = self.baseline.median_ms if self.baseline else None
        return None if base in (None, 0) or r.median_ms is None else r.median_ms / base

    def rows(self) -> list[list[str]]:
        def verdict(ok: bool | None) -> str:
            return "n/a" if ok is None else ("pass" if ok else "FAIL")

        rows = []
        for r in self.services + ([self.baseline] if self.baseline else []):
            idle = r.idle_median()
            after = r.loaded.get("after", {}).get("VmRSS") if r.loaded else None
            is_base = r.name == BASELINE
            rows.append([
                "baseline (minimal Swift HTTP server)" if is_base else r.name,
                fmt(r.first_ms),
                fmt(r.median_ms),
                fmt(r.min_ms),
                "1.00" if is_base and r.median_ms else fmt(self.ratio(r), ".2f"),
                fmt(idle / MIB if idle else None, ".1f"),
                "-" if is_base else fmt(idle / self.smallest_idle if idle and self.smallest_idle else None, ".2f"),
                fmt(after / MIB if after else None, ".1f"),
                "-" if is_base else ("not ready" if r.failure and r.median_ms is None else verdict(self.ready_ok(r))),
                "-" if is_base else verdict(self.rss_ok(r)),
            ])
        return rows

    HEADERS = ["Service", "First start ms", "Ready median ms", "Ready min ms", "x baseline",
               "Idle RSS MiB", "x smallest", "RSS after 10k MiB", f"Ready <= {READY_BUDGET_MS:.0f} ms",
               f"Idle RSS <= {RSS_BUDGET_MIB:.0f} MiB"]

    def headers(self) -> list[str]:
        headers = list(self.HEADERS)
        if self.args.requests != 10000:
            headers[7] = f"RSS after {self.args.requests} MiB"
        return headers

    def markdown_table(self) -> str:
        headers = self.headers()
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows()]
        return "\n".join(lines)

    def summary_text(self) -> str:
        headers = self.headers()
        rows = self.rows()
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
        out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))]
        out.append("  ".join("-" * w for w in widths))
        for row in rows:
            out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        out.append("")
        out.append(self.baseline_sentence())
        problems = self.problems()
        if problems:
            out.append("")
            out.extend(problems)
        return "\n".join(out)

    def baseline_sentence(self) -> str:
        base = self.baseline
        parts = []
        if base and base.median_ms is not None:
            parts.append(f"Baseline: minimal Swift+Foundation HTTP server, start to first 200 median {base.median_ms:.1f} ms "
                         f"(min {base.min_ms:.1f}), idle RSS {fmt((base.idle_median() or 0) / MIB, '.1f')} MiB.")
        else:
            parts.append("Baseline: not measured (see warnings); ratios are n/a.")
        if self.psql_ms:
            parts.append(f"Store round trip (psql -c 'select 1', process start included): median {statistics.median(self.psql_ms):.1f} ms.")
        return " ".join(parts)

    def problems(self) -> list[str]:
        lines = []
        for r in self.results.values():
            if r.failure:
                lines.append(f"PROBLEM {r.name}: {r.failure.splitlines()[0]}")
            if r.loaded and r.loaded.get("ok") != self.args.requests:
                lines.append(f"PROBLEM {r.name}: {r.loaded.get('ok')} of {self.args.requests} load requests got 200 "
                             f"({r.loaded.get('non_200')} other statuses, {r.loaded.get('errors')} errors {r.loaded.get('first_error')})")
        if self.kills:
            lines.append(f"PROBLEM: {self.kills} process(es) needed KILL after {STOP_TIMEOUT_S:.0f} s of TERM")
        return lines

    def machine(self) -> list[str]:
        meminfo = {}
        with open("/proc/meminfo") as f:
            for line in f:
                key, _, rest = line.partition(":")
                meminfo[key] = int(rest.split()[0]) * 1024
        model = "unknown CPU"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        nproc = len(os.sched_getaffinity(0))
        la = self.load_at_start
        return [
            f"- CPUs: {nproc} (nproc), {model}",
            f"- Memory: {meminfo['MemTotal'] / MIB / 1024:.1f} GiB total, {meminfo.get('MemAvailable', 0) / MIB / 1024:.1f} GiB available at the end",
            f"- Kernel: {platform.system()} {platform.release()}; {self.args.os_name}",
            f"- Swift: {self.args.swift_version}",
            f"- Code: {self.args.commit}",
            f"- Load average when the run started: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} (a shared machine: read the ratios, not the absolute ms)",
        ]

    def markdown(self) -> str:
        a = self.args
        base = self.baseline
        out = [
            "# Performance",
            "",
            f"Generated by `make bench` ([scripts/bench.sh](../scripts/bench.sh)) on {self.started:%Y-%m-%d %H:%M} UTC "
            f"in {self.wall:.0f} s (after the release build). Everything above \"{SERVICE_SECTION}\" is regenerated on every run.",
            "",
            "## Machine",
            "",
            *self.machine(),
            "",
            "## Method",
            "",
            f"- Binaries: `swift build -c release`; run with a clean environment (as `scripts/up.sh` sets it, "
            f"`API_KEY`, `REDIS_URL` and the per-service variables) against the throwaway PostgreSQL 15, Redis and "
            f"nx-27017 of `scripts/with-test-servers.sh`, all on 127.0.0.1, with `deploy/postgres/init.sql` applied. "
            f"Default log level (info: one line per request, to a file).",
            f"- **Ready**: wall time from just before fork/exec to the first `200` from `GET /health/ready` "
            f"(polled every {POLL_INTERVAL_S * 1000:.0f} ms, a new connection each time; it includes that request, "
            f"which pings every store the service uses). Each service first gets one untimed warm-up start "
            f"(\"First start\": creates the store files), then {a.runs} timed starts, "
            f"round-robin with the baseline in rotating order so that noise on the shared machine hits all alike. "
            f"Median and minimum of the {a.runs}.",
            f"- **Baseline**: the same measurement of `scripts/bench/baseline-server.swift`, compiled with `swiftc -O`: "
            f"the smallest HTTP server a Swift service can be (Swift runtime and Foundation loaded like the services, "
            f"POSIX sockets, one fixed 200 answer, no stores, no NIO). It shares the process start, dynamic linking of "
            f"the Swift libraries, the loopback and the polling with the services, so **x baseline** is the service's "
            f"own startup work (NIO, configuration, pools, store connections, first readiness checks) "
            f"as a multiple of that floor; it is steadier than the milliseconds when the machine is busy. "
            f"A store round trip (`psql -c 'select 1'`, process start included) is measured in the same rounds for reference.",
            f"- **Idle RSS**: `VmRSS` from `/proc/PID/status` {IDLE_SETTLE_S:.0f} s after ready, no traffic; median of "
            f"the timed starts. **x smallest**: ratio to the smallest service's idle RSS. RSS counts the shared Swift "
            f"libraries' resident pages too (the detail table splits anonymous and file-backed memory).",
            f"- **RSS after {a.requests}**: one more start; {IDLE_SETTLE_S:.0f} s after ready, exactly {a.requests} "
            f"`GET /health/ready` over {a.concurrency} keep-alive connections (a Python stdlib loader on loopback; "
            f"it measures memory under use, not throughput: the loader shares the {len(os.sched_getaffinity(0))} cores), "
            f"then `VmRSS` at once.",
            f"- Budgets: median ready <= {READY_BUDGET_MS:.0f} ms, idle RSS <= {RSS_BUDGET_MIB:.0f} MiB.",
            "",
            "## Results",
            "",
            self.markdown_table(),
            "",
            self.baseline_sentence(),
            "",
        ]
        problems = self.problems()
        if problems:
            out += ["**Problems in this run:**", ""] + [f"- {p}" for p in problems] + [""]
        out += [
            "### Detail",
            "",
            "Ready ms of each timed start (in run order), stop time after `SIGTERM`, and the memory breakdown.",
            "",
            "| Service | Ready ms per run | Stop ms median | Idle RssAnon MiB | Idle RssFile MiB | Threads | "
            f"Load req/s | Peak RSS (VmHWM) after {a.requests} MiB |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in self.services + ([base] if base else []):
            anon, filed = r.idle_median("RssAnon"), r.idle_median("RssFile")
            threads = r.idle_median("Threads")
            after = r.loaded.get("after", {}) if r.loaded else {}
            out.append("| " + " | ".join([
                r.name,
                ", ".join(f"{v:.0f}" for v in r.ready_ms) or "n/a",
                fmt(statistics.median(r.stop_ms) if r.stop_ms else None),
                fmt(anon / MIB if anon else None, ".1f"),
                fmt(filed / MIB if filed else None, ".1f"),
                fmt(threads),
                fmt(r.loaded.get("per_second") if r.loaded else None),
                fmt(after.get("VmHWM", 0) / MIB if after.get("VmHWM") else None, ".1f"),
            ]) + " |")
        failures = [r for r in self.results.values() if r.failure]
        if failures:
            out += ["", "### Failures", ""]
            for r in failures:
                out += [f"{r.name}:", "", "```", r.failure, "```", ""]
        # One blank line before the preserved section.
        return "\n".join(out).rstrip("\n") + "\n\n"

    @staticmethod
    def preserved_section(path: Path) -> str:
        """The existing "Service benchmarks" section (written by hand), or the placeholder."""
        try:
            old = path.read_text()
        except OSError:
            return SERVICE_PLACEHOLDER
        for marker in (f"\n{SERVICE_SECTION}\n", f"\n{SERVICE_SECTION}"):
            index = old.find(marker)
            if index >= 0:
                section = old[index + 1:]
                return section if section.endswith("\n") else section + "\n"
        if old.startswith(SERVICE_SECTION):
            return old
        return SERVICE_PLACEHOLDER

    def raw(self) -> dict[str, object]:
        return {
            "started": self.started.isoformat(),
            "wall_seconds": self.wall,
            "runs": self.args.runs,
            "requests": self.args.requests,
            "concurrency": self.args.concurrency,
            "budgets": {"ready_ms": READY_BUDGET_MS, "idle_rss_mib": RSS_BUDGET_MIB},
            "psql_round_trip_ms": self.psql_ms,
            "results": {
                name: {
                    "first_start_ms": r.first_ms,
                    "ready_ms": r.ready_ms,
                    "ready_median_ms": r.median_ms,
                    "ready_min_ms": r.min_ms,
                    "ratio_to_baseline": self.ratio(r),
                    "idle": r.idle,
                    "stop_ms": r.stop_ms,
                    "load": r.loaded,
                    "failure": r.failure,
                }
                for name, r in self.results.items()
            },
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", required=True, help="swift build -c release --show-bin-path")
    parser.add_argument("--baseline", default="", help="the compiled baseline server (empty: no baseline)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--ready-timeout", type=float, default=60.0)
    parser.add_argument("--api-key", default="bench_api_key_123")
    parser.add_argument("--out", default="docs/performance.md")
    parser.add_argument("--raw-dir", default="docs/performance.raw")
    parser.add_argument("--pid-dir", required=True)
    parser.add_argument("--swift-version", default="unknown")
    parser.add_argument("--commit", default="unknown")
    parser.add_argument("--os-name", default="unknown OS")
    parser.add_argument("--enforce-budgets", action="store_true")
    args = parser.parse_args()
    if args.runs < 1 or args.requests < 1 or args.concurrency < 1:
        parser.error("--runs, --requests and --concurrency must be at least 1")
    # TERM (from with-test-servers.sh's cleanup) must unwind through the finally blocks that stop the services.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
