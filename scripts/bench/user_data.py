"""The measuring half of scripts/bench/user-data.sh (`make bench-users`): user-data-service against its database.

user-data.sh starts two user-data-service instances on one fresh `system_users` database behind the run's
pgbouncer (one with the Redis `user:<id>` cache, one with it off) and hands their ports and PIDs to this script,
which

  * seeds users straight into PostgreSQL with psql (deterministic ids and usernames; password hashes made once by
    bcrypt-floor at cost 12 and at cost 4, since hashing thousands at cost 12 would take minutes),
  * runs ROUNDS rounds; in each, in rotating order, one run of every measurement:
      - GET /api/v1/users/{id}, cached (the cache warmed first) and uncached, by wrk;
      - the same SELECT by pgbench, through the same pgbouncer, with the same number of clients;
      - POST /api/v1/auth/login at cost 12 and at cost 4, by wrk;
      - the login's credentials SELECT by pgbench, and bcrypt-floor verifying the same hashes on one thread per core
        (the ceiling of login throughput on this machine),
  * then one uncached GET run under `perf record -g` (samples by DSO) when perf is there,
  * prints the medians and ratios and writes the "## User data service (issue 9)" section of docs/performance.md.

Runs with the repository's .venv Python; standard library plus the helpers of mongo_path.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mongo_path import Server, dso_group, fmt, median, note, parse_perf_dso, ratio, write_section  # noqa: E402

SECTION = "## User data service (issue 9)"
PASSWORD = "bench-password-1"
# Seeded ranges: GET reads 1..get_users; logins use their own users, so a login's cache invalidation
# (last_login_at changes) never empties the cache the cached GET reads.
GET_FIRST, LOGIN12_FIRST, LOGIN4_FIRST = 1, 100_001, 200_001
USER_COLUMNS = "id, email, username, auth_provider, is_active, is_admin, profile, created_at, updated_at, last_login_at"
ID_EXPRESSION = "('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid"


@dataclass
class Measurement:
    """One row of the table: what runs, and its figures per round."""

    key: str
    title: str
    kind: str  # wrk, pgbench or floor
    runs: list[dict] = field(default_factory=list)


class Bench:
    """Seeds, runs every round and keeps every figure."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.raw = Path(args.raw_dir)
        self.clk_tck = int(subprocess.run(["getconf", "CLK_TCK"], capture_output=True, text=True, check=True).stdout)
        cached_port, cached_pid = args.cached.split(":")
        uncached_port, uncached_pid = args.uncached.split(":")
        self.cached = Server("cached", "user-data-service (cache on)", int(cached_port), int(cached_pid), args.database)
        self.uncached = Server("uncached", "user-data-service (cache off)", int(uncached_port), int(uncached_pid), args.database)
        self.hashes: dict[int, str] = {}
        self.perf_dso: dict[str, list[tuple[str, float]]] = {}
        self.perf_symbols: dict[str, dict[str, float]] = {}
        self.measurements = [
            Measurement("get_cached", "GET /api/v1/users/{id}, cache on", "wrk"),
            Measurement("get_uncached", "GET /api/v1/users/{id}, cache off", "wrk"),
            Measurement("pgbench_get", "pgbench: the same SELECT by id, through pgbouncer", "pgbench"),
            Measurement("pgbench_get_direct", "pgbench: the same SELECT by id, straight to PostgreSQL", "pgbench"),
            Measurement("login12", f"POST /api/v1/auth/login, bcrypt cost 12", "wrk"),
            Measurement("login4", "POST /api/v1/auth/login, bcrypt cost 4", "wrk"),
            Measurement("pgbench_credentials", "pgbench: the login's credentials SELECT, through pgbouncer", "pgbench"),
            Measurement("floor12", "bcrypt-floor: verify at cost 12, one thread per core", "floor"),
            Measurement("floor4", "bcrypt-floor: verify at cost 4, one thread per core", "floor"),
        ]
        self.by_key = {m.key: m for m in self.measurements}

    # ---------------------------------------------------------------- setup
    def psql(self, url: str, sql: str, variables: dict[str, str] | None = None) -> str:
        """Runs `sql` with psql (ON_ERROR_STOP) and returns its unaligned output."""
        command = [self.args.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url]
        for name, value in (variables or {}).items():
            command += ["-v", f"{name}={value}"]
        result = subprocess.run(command, input=sql, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def make_hash(self, cost: int) -> str:
        """One bcrypt hash of PASSWORD at `cost`, by the same library the service verifies with."""
        result = subprocess.run([self.args.floor, "hash", str(cost), PASSWORD], capture_output=True, text=True, check=True)
        return result.stdout.strip()

    def seed(self) -> None:
        """The users every run reads; idempotent, so a rerun on the same database adds nothing."""
        start = time.monotonic()
        self.hashes = {12: self.make_hash(12), 4: self.make_hash(4)}
        sql = """
INSERT INTO user_data.users (id, email, username, hashed_password)
SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'bench-user-' || n || '@example.com',
       'bench-user-' || n, :'hash'
FROM generate_series(:first::int, :first::int + :count::int - 1) AS n
ON CONFLICT DO NOTHING;
"""
        for first, count, cost in ((GET_FIRST, self.args.users, 12), (LOGIN12_FIRST, self.args.login_users, 12),
                                   (LOGIN4_FIRST, self.args.login_users, 4)):
            self.psql(self.args.postgres_url, sql, {"hash": self.hashes[cost], "first": str(first), "count": str(count)})
        self.psql(self.args.postgres_url, "ANALYZE user_data.users;")
        note(f"seeded {self.args.users} + 2 x {self.args.login_users} users in {time.monotonic() - start:.1f} s")
        # The scripts pgbench runs: the service's own statements (PostgresUserRepository), the id built from :n.
        (self.raw / "get.sql").write_text(
            f"\\set n random({GET_FIRST}, {GET_FIRST + self.args.users - 1})\n"
            f"SELECT {USER_COLUMNS} FROM user_data.users WHERE id = {ID_EXPRESSION};\n")
        (self.raw / "credentials.sql").write_text(
            f"\\set n random({LOGIN12_FIRST}, {LOGIN12_FIRST + self.args.login_users - 1})\n"
            "SELECT id, hashed_password, is_active, is_admin FROM user_data.users "
            "WHERE lower(username) = lower('bench-user-' || :n);\n")

    def warm_cache(self) -> None:
        """Reads every GET user once through the cached instance, so its runs measure hits."""
        for n in range(GET_FIRST, GET_FIRST + self.args.users):
            request = urllib.request.Request(f"http://127.0.0.1:{self.cached.port}/api/v1/users/00000000-0000-4000-8000-{n:012d}",
                                             headers={"X-API-Key": self.args.api_key})
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()

    # ---------------------------------------------------------------- runs
    def wrk(self, server: Server, mode: str, first: int, count: int, label: str, perf: list[str] | None = None) -> dict:
        """One wrk run against `server`, with the service's CPU over it."""
        duration = self.args.duration
        command = [
            "wrk", "-t", str(self.args.threads), "-c", str(self.args.connections), "-d", f"{duration}s", "--timeout", "30s",
            "-s", self.args.lua, f"http://127.0.0.1:{server.port}", "--", mode, self.args.api_key, str(count), str(first), PASSWORD,
        ]
        pids = server.pids()
        perf_process = subprocess.Popen(perf, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) if perf else None
        start_ticks = server.cpu_ticks(pids)
        result = subprocess.run(command, capture_output=True, text=True)
        end_ticks = server.cpu_ticks(pids)
        perf_error = perf_process.communicate(timeout=duration + 60)[1] if perf_process else ""
        (self.raw / f"{label}.txt").write_text(" ".join(command) + "\n\n" + result.stdout + result.stderr + perf_error)
        line = next((item for item in result.stdout.splitlines() if item.startswith("USERBENCH ")), None)
        if result.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed for {server.name} ({mode}): {result.stderr.strip() or result.stdout[-400:]}")
        run = json.loads(line.removeprefix("USERBENCH "))
        requests = run["requests"]
        cpu_ms = (end_ticks - start_ticks) * 1000 / self.clk_tck
        run.update(rps=requests / (run["duration_us"] / 1e6), cpu_ms_per_request=cpu_ms / requests if requests else None,
                   errors=run["other"] + run["connect_errors"] + run["read_errors"] + run["write_errors"] + run["timeouts"])
        return run

    def pgbench(self, url: str, script: str, label: str) -> dict:
        """One pgbench run of `script`: extended protocol with unnamed statements, as the service's libpq calls."""
        command = [
            "pgbench", "-n", "-M", "extended", "-c", str(self.args.connections), "-j", str(self.args.threads),
            "-T", str(self.args.duration), "-f", str(self.raw / script), url,
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        (self.raw / f"{label}.txt").write_text(" ".join(command) + "\n\n" + result.stdout + result.stderr)
        tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
        processed = re.search(r"number of transactions actually processed: (\d+)", result.stdout)
        failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
        if result.returncode != 0 or tps is None or processed is None:
            raise RuntimeError(f"pgbench failed ({script}): {result.stderr.strip()[-400:]}")
        return {"rps": float(tps.group(1)), "requests": int(processed.group(1)), "errors": int(failed.group(1)) if failed else 0}

    def floor(self, cost: int, label: str) -> dict:
        """One bcrypt-floor run: verifications per second at `cost` for the run's duration."""
        command = [self.args.floor, "verify", self.hashes[cost], PASSWORD, str(self.args.duration)]
        result = subprocess.run(command, capture_output=True, text=True)
        (self.raw / f"{label}.txt").write_text(" ".join(command[:2] + ["HASH"] + command[3:]) + "\n\n" + result.stdout + result.stderr)
        line = next((item for item in result.stdout.splitlines() if item.startswith("BCRYPTFLOOR ")), None)
        if result.returncode != 0 or line is None:
            raise RuntimeError(f"bcrypt-floor failed: {result.stderr.strip()}")
        run = json.loads(line.removeprefix("BCRYPTFLOOR "))
        return {"rps": run["verifications"] / run["seconds"], "requests": run["verifications"], "errors": 0,
                "threads": run["threads"]}

    def measure(self, key: str, label: str) -> dict:
        """One run of measurement `key`."""
        users, logins = self.args.users, self.args.login_users
        if key == "get_cached":
            self.warm_cache()
            return self.wrk(self.cached, "get", GET_FIRST, users, label)
        if key == "get_uncached":
            return self.wrk(self.uncached, "get", GET_FIRST, users, label)
        if key == "login12":
            return self.wrk(self.uncached, "login", LOGIN12_FIRST, logins, label)
        if key == "login4":
            return self.wrk(self.uncached, "login", LOGIN4_FIRST, logins, label)
        if key == "pgbench_get":
            return self.pgbench(self.args.pgbouncer_url, "get.sql", label)
        if key == "pgbench_get_direct":
            return self.pgbench(self.args.postgres_url, "get.sql", label)
        if key == "pgbench_credentials":
            return self.pgbench(self.args.pgbouncer_url, "credentials.sql", label)
        if key == "floor12":
            return self.floor(12, label)
        if key == "floor4":
            return self.floor(4, label)
        raise ValueError(key)

    def run(self) -> None:
        """Seeds, warms up, runs every round, then the perf run."""
        self.seed()
        note("warm-up: both instances, GET and a few logins")
        self.warm_cache()
        self.wrk(self.uncached, "get", GET_FIRST, self.args.users, "warmup-get")
        self.wrk(self.uncached, "login", LOGIN4_FIRST, self.args.login_users, "warmup-login")
        for round_index in range(self.args.rounds):
            shift = round_index % len(self.measurements)
            for measurement in self.measurements[shift:] + self.measurements[:shift]:
                run = self.measure(measurement.key, f"{measurement.key}-r{round_index + 1}")
                measurement.runs.append(run)
                note(f"round {round_index + 1} {measurement.title}: {run['requests']} in {self.args.duration} s, "
                     f"{run['rps']:.1f}/s, errors {run['errors']}"
                     + (f", {fmt(run.get('cpu_ms_per_request'))} CPU ms/request" if "cpu_ms_per_request" in run else ""))
                time.sleep(self.args.pause)
        if self.args.perf:
            self.perf_record()

    def perf_record(self) -> None:
        """An uncached GET run and a cost-4 login run under perf record -g: where the service's time goes, by DSO."""
        for key, mode, first in (("get", "get", GET_FIRST), ("login4", "login", LOGIN4_FIRST)):
            data = self.raw / f"perf-{key}.data"
            perf = ["perf", "record", "-g", "-o", str(data), "-p", ",".join(map(str, self.uncached.pids())), "--",
                    "sleep", str(self.args.duration)]
            count = self.args.users if mode == "get" else self.args.login_users
            try:
                self.wrk(self.uncached, mode, first, count, f"perf-record-{key}", perf)
                report = subprocess.run(["perf", "report", "-i", str(data), "--sort", "dso", "--stdio", "--no-children"],
                                        capture_output=True, text=True, check=True).stdout
                (self.raw / f"perf-{key}-dso.txt").write_text(report)
                self.perf_dso[key] = parse_perf_dso(report)
                symbols = subprocess.run(["perf", "report", "-i", str(data), "--sort", "symbol", "--stdio", "--no-children"],
                                         capture_output=True, text=True, check=True).stdout
                (self.raw / f"perf-{key}-symbols.txt").write_text(symbols)
                self.perf_symbols[key] = symbol_groups(symbols)
            except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
                note(f"perf record of {key} failed, no breakdown: {error}")


def group(dso: str) -> str:
    """The layer of a DSO, mongo_path's groups with libpq and this service's binary named."""
    if "libpq" in dso:
        return "libpq"
    if dso == "user-data-service":
        return "user-data-service (its Swift code, NIO, Hummingbird: linked statically)"
    return dso_group(dso)


# Work that is linked into the service binary, so that the DSO view cannot tell it apart: by symbol name.
SYMBOL_GROUPS = [
    ("bcrypt (HummingbirdBcrypt's C code)", re.compile(r"blf_|bcrypt|Blowfish|encipher", re.IGNORECASE)),
    ("BoringSSL (ES256 signing, SHA-256)", re.compile(r"CCryptoBoringSSL|p256|nistz256|ecp_|sha256", re.IGNORECASE)),
]


def symbol_groups(report: str) -> dict[str, float]:
    """Shares of `perf report --sort symbol` by SYMBOL_GROUPS."""
    shares = {name: 0.0 for name, _ in SYMBOL_GROUPS}
    for line in report.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+\[[.k]\]\s+(\S.*?)\s*$", line)
        if not match:
            continue
        for name, pattern in SYMBOL_GROUPS:
            if pattern.search(match.group(2)):
                shares[name] += float(match.group(1))
                break
    return shares


def report(bench: Bench, started: dt.datetime, load_start: str, wall: float) -> tuple[str, dict]:
    """The markdown section and the raw figures."""
    args = bench.args
    med = {m.key: {"rps": median([run["rps"] for run in m.runs]),
                   "cpu": median([run.get("cpu_ms_per_request") for run in m.runs]),
                   "errors": sum(run["errors"] for run in m.runs)} for m in bench.measurements}
    rps = {key: value["rps"] for key, value in med.items()}
    load_end = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    lines = [
        SECTION, "",
        f"`make bench-users` ([scripts/bench/user-data.sh](../scripts/bench/user-data.sh)), {started:%Y-%m-%d %H:%M} UTC, "
        f"{wall / 60:.0f} min, code {args.commit}. The issue asks for login and `GET /users/{{id}}` (cached and uncached) "
        "throughput through HTTP against the same SELECT run by `pgbench` with the same number of clients, in one run, "
        "and for login throughput at the default bcrypt cost, 12.", "",
        f"- Load: {args.connections} connections (wrk, {args.threads} thread(s)) or {args.connections} clients (pgbench, "
        f"`-M extended`, {args.threads} thread(s)); {args.duration} s per run; {args.rounds} rounds, each running every "
        "measurement once, in an order that rotates from round to round. Medians of the rounds.",
        "- Service: release build, two instances on one fresh `system_users` database, both connected through the run's "
        f"pgbouncer (transaction mode) as compose deploys it, `PG_POOL_MAX={args.connections}`, `LOG_LEVEL=warning`, "
        "as a service caller (`X-API-Key`, no tenant). One has the Redis `user:<id>` cache on (`USER_CACHE_TTL_SECONDS=3600`, "
        "warmed before each of its runs by reading every user once), the other has it off (`USER_CACHE_TTL_SECONDS=0`), so "
        "every GET is a PostgreSQL round trip. Logins go to the cache-off instance.",
        f"- Data: {args.users} users for GET, and {args.login_users} each for the logins at cost 12 and at cost 4 (their "
        "own users, since a login invalidates the user's cache entry). Seeded by SQL with one hash per cost made by "
        "bcrypt-floor. A login does: the lockout check (Redis), the credentials SELECT, one bcrypt verification on NIO's "
        "blocking pool (one thread per core), then in one transaction the refresh-token INSERT and `last_login_at`, "
        "the cache invalidation, and an ES256 signature.",
        "- Baselines: `pgbench` runs the service's own SELECT (the id is built from pgbench's random `:n` inside the "
        "statement, the only difference); for logins, [Benchmarks/BcryptFloor](../Benchmarks/BcryptFloor/main.swift) "
        "verifies the same hash with the same library on one thread per core, nothing else: the most logins per second "
        "this machine can do.",
        f"- The machine was **shared** (2 cores; load average {load_start} at the start, {load_end} at the end), and wrk, "
        "pgbench, pgbouncer, PostgreSQL and Redis ran on the same two cores as the service: read the ratios, which come "
        "from the same rounds.", "",
        "| measurement | per second (median) | service CPU ms per request | errors (all rounds) |",
        "|---|---|---|---|",
    ]
    for m in bench.measurements:
        lines.append(f"| {m.title} | {fmt(med[m.key]['rps'], '.1f')} | {fmt(med[m.key]['cpu'])} | {med[m.key]['errors']} |")
    lines += [
        "", "| ratio | value |", "|---|---|",
        f"| GET cached / pgbench SELECT (pgbouncer) | {fmt(ratio(rps['get_cached'], rps['pgbench_get']), '.2f')} |",
        f"| GET uncached / pgbench SELECT (pgbouncer) | {fmt(ratio(rps['get_uncached'], rps['pgbench_get']), '.2f')} |",
        f"| GET cached / GET uncached | {fmt(ratio(rps['get_cached'], rps['get_uncached']), '.2f')} |",
        f"| pgbench through pgbouncer / straight to PostgreSQL | {fmt(ratio(rps['pgbench_get'], rps['pgbench_get_direct']), '.2f')} |",
        f"| login at cost 12 / bcrypt-floor at cost 12 | {fmt(ratio(rps['login12'], rps['floor12']), '.2f')} |",
        f"| login at cost 4 / bcrypt-floor at cost 4 | {fmt(ratio(rps['login4'], rps['floor4']), '.2f')} |",
        f"| login at cost 12 / pgbench credentials SELECT | {fmt(ratio(rps['login12'], rps['pgbench_credentials']), '.4f')} |",
        "",
    ]
    titles = {"get": "`GET /users/{id}` with the cache off", "login4": "login at bcrypt cost 4"}
    for key, rows in bench.perf_dso.items():
        groups: dict[str, float] = {}
        for dso, percent in rows:
            groups[group(dso)] = groups.get(group(dso), 0.0) + percent
        lines += [f"Where the cache-off instance's CPU goes under {titles[key]} (`perf record -g`, samples by DSO, self time):",
                  "", "| layer | share of samples |", "|---|---|"]
        lines += [f"| {name} | {share:.1f}% |" for name, share in sorted(groups.items(), key=lambda item: -item[1])]
        for name, share in bench.perf_symbols.get(key, {}).items():
            if share >= 0.1:
                lines.append(f"| of which, by symbol: {name} | {share:.1f}% |")
        lines.append("")
    raw = {"started": started.isoformat(), "args": vars(args), "medians": med,
           "runs": {m.key: m.runs for m in bench.measurements}, "perf_dso": bench.perf_dso,
           "perf_symbols": bench.perf_symbols}
    return "\n".join(lines) + "\n", raw


def main() -> int:
    """Parses the arguments from user-data.sh and runs everything."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cached", required=True, help="port:pid of the instance with the cache on")
    parser.add_argument("--uncached", required=True, help="port:pid of the instance with the cache off")
    parser.add_argument("--database", required=True)
    parser.add_argument("--postgres-url", required=True, help="the database, straight to PostgreSQL (seeding, pgbench)")
    parser.add_argument("--pgbouncer-url", required=True, help="the database through pgbouncer (pgbench)")
    parser.add_argument("--psql", default="psql")
    parser.add_argument("--floor", required=True, help="the bcrypt-floor binary")
    parser.add_argument("--lua", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--login-users", type=int, default=200)
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--perf", type=int, default=1)
    parser.add_argument("--commit", default="unknown")
    parser.add_argument("--out", required=True)
    parser.add_argument("--raw-dir", required=True)
    args = parser.parse_args()

    Path(args.raw_dir).mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc)
    load_start = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    clock = time.monotonic()
    bench = Bench(args)
    bench.run()
    section, raw = report(bench, started, load_start, time.monotonic() - clock)
    (Path(args.raw_dir) / "results.json").write_text(json.dumps(raw, indent=2, default=str) + "\n")
    write_section(Path(args.out), section, SECTION)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
