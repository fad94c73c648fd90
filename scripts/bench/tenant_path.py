"""The measuring half of scripts/bench/tenant-path.sh (`make bench-tenants`): CPU per request of tenant-mgmt-service.

tenant-path.sh starts tenant-mgmt-service and its FastAPI + Motor peer (Benchmarks/TenantPeer), each with its own
fresh registry database on the same nx-27017 and its own PostgreSQL database for tenant schemas, and hands their ports
and PIDs to this script, which

  * seeds both registries with the same active tenants in the service's stored shape (ids bench-<n, 6 digits>, so
    wrk's Lua needs only n), each with its four `tenant_databases` records,
  * for each request type (GET /health, GET by id, PUT, create) runs ROUNDS rounds of one wrk run per server, the
    servers in rotating order within each round (scripts/bench/benchlib.py), with CPU ms per request from /proc,
  * after the GET rounds, one more GET run per server under `perf stat`, and one under `perf record -g` for
    tenant-mgmt-service (samples by DSO),
  * prints the medians and ratios and writes the "## Tenant service data path (issue 8)" section of
    docs/performance.md, right before "## User data service (issue 9)" when it is new.

Runs with the repository's .venv Python (pymongo); the shared parts are in scripts/bench/benchlib.py.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import pymongo

from benchlib import Runner, Server, argument_parser, fmt, idle_line, load_average, measure, medians, note, perf_lines
from benchlib import raw_figures, ratio, run_rows

SECTION = "## Tenant service data path (issue 8)"
BEFORE = "## User data service (issue 9)"
TYPES = [("health", "GET /health"), ("get", "GET /api/v1/tenants/{id}"), ("update", "PUT /api/v1/tenants/{id}"),
         ("create", "POST /api/v1/tenants")]
SWIFT, PEER = "tenant-mgmt-service", "peer (FastAPI + Motor + asyncpg)"
PLUGINS = ["crm", "sales", "marketing"]
RAW = "docs/performance.raw/tenant-path/"


def tenant_documents(index: int, created: dt.datetime, connection: str, postgres: str) -> tuple[dict, list[dict]]:
    """An active tenant in the registry's stored shape (MongoTenantRepository.insert) and its database records."""
    tenant_id = f"bench-{index:06d}"
    part = tenant_id.replace("-", "_")
    name = f"Bench Tenant {index}"
    milliseconds = round((created - dt.datetime(1970, 1, 1)).total_seconds() * 1000)
    tenant = {
        "tenant_id": tenant_id, "name": name, "tier": "standard", "region": "eu-west-1", "status": "active",
        "database_config": {"type": "shared", "database_name": f"tenant_{part}_db", "connection_string": connection,
                            "postgres_database": postgres},
        "settings": {"plan": "bench", "features": {"sso": True, "seats": 25}}, "created_at": created, "updated_at": created,
        "name_key": name.lower(), "list_key": f"{milliseconds:015d}:{tenant_id}",
    }
    names = [("mongodb", f"tenant_{part}_db")] + [("postgresql", f"tenant_{part}_{plugin}") for plugin in PLUGINS]
    records = [{"tenant_id": tenant_id, "type": kind, "name": database, "primary": True, "created_at": created,
                "database_key": f"{kind}:{database}"} for kind, database in names]
    return tenant, records


def seed(client: pymongo.MongoClient, server: Server, count: int, connection: str) -> float:
    """Empties the registry (keeping the indexes the server made) and inserts `count` tenants; seconds taken."""
    start = time.monotonic()
    registry = client[server.database]
    registry["tenants"].delete_many({})
    registry["tenant_databases"].delete_many({})
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(hours=1)
    for first in range(0, count, 500):
        tenants, records = [], []
        for index in range(first, min(first + 500, count)):
            tenant, databases = tenant_documents(index, now + dt.timedelta(milliseconds=index), connection, server.database)
            tenants.append(tenant)
            records.extend(databases)
        registry["tenants"].insert_many(tenants, ordered=False)
        registry["tenant_databases"].insert_many(records, ordered=False)
    return time.monotonic() - start


class Bench(Runner):
    """Runs the rounds (creates last: they grow the registry) and keeps every figure."""

    types = TYPES
    seeded = "tenants"
    marker = "TENANTPATH"

    def wrk_script_args(self, server: Server, mode: str, label: str) -> list[str]:
        """The Lua script's arguments: the run's label makes created names unique."""
        return [*super().wrk_script_args(server, mode, label), label]

    def seed(self, server: Server) -> float:
        """The seeded tenants."""
        return seed(self.client, server, self.args.seed, self.args.uri)


def report(bench: Bench, started: dt.datetime, load_start: str, wall: float) -> tuple[str, dict]:
    """The markdown section and the raw figures."""
    args = bench.args
    table = medians(bench, [mode for mode, _ in TYPES])
    health = {key: table["health"][key]["cpu"] for key in ("swift", "peer")}
    lines = [
        SECTION, "",
        f"`make bench-tenants` ([scripts/bench/tenant-path.sh](../scripts/bench/tenant-path.sh)), "
        f"{started:%Y-%m-%d %H:%M} UTC, {wall / 60:.0f} min, code {args.commit}. Issue 8 asks for the tenant service's reads "
        "and writes to get the improvement of the task service's data path (goal: at most a fifth of the peer's CPU). The "
        "figure is **CPU ms per request** of the server process (utime + stime from `/proc/PID/stat`; for uvicorn the master "
        "plus both workers) over a wrk run, divided by the requests wrk completed.", "",
        f"- Load: wrk, {args.connections} connections, {args.threads} thread(s), {args.duration} s per run, {args.rounds} rounds; "
        "in each round the two servers run one after the other, in an order that rotates from round to round. Medians of "
        "the rounds.",
        f"- Servers, each with its own fresh registry database on the same nx-27017 (a Python process that bounds "
        "throughput) and its own PostgreSQL database for tenant schemas, all on 127.0.0.1: "
        f"**{SWIFT}** (release build, `LOG_LEVEL=warning`, `MONGO_POOL_MAX={args.pool}`, `PG_POOL_MAX={args.pool}`, no "
        "`REDIS_URL`, so every GET reads MongoDB); **peer**: [Benchmarks/TenantPeer](../Benchmarks/TenantPeer/app.py), "
        "FastAPI + Motor + asyncpg with pydantic-validated bodies, `uvicorn --workers 2` (uvloop, httptools, no access log, "
        f"{args.pool // 2} PostgreSQL connections per worker). Both send the same queries and updates and have the same "
        "indexes.",
        f"- Data: both registries start with {args.seed} active tenants in the service's stored shape, each with its four "
        "`tenant_databases` records (the stores themselves are not created: GET and PUT read only the registry). "
        "**GET** reads a random one: two queries (the tenant, then its records). **PUT** sets tier, region and settings of "
        "a random one: one `updateOne` under the status compare-and-set, then the two queries of GET. **POST** is the real "
        "create: it *provisions* the tenant (the service has no create that only inserts): insert, four record inserts, "
        "`create` of `tenant_<id>_db.user_insights` and its three indexes, a PostgreSQL transaction with the tenant's "
        "advisory lock and three `CREATE SCHEMA`, the update to `active`, and the two queries of GET, about a dozen store "
        "round trips; names are unique per request (made in wrk's Lua). **GET /health** answers without a store: the "
        "HTTP-only cost, subtracted in the last columns.",
        f"- The machine was **shared** (2 cores; load average {load_start} at the start, {load_average()} at the end), and "
        "wrk, nx-27017 and PostgreSQL ran on the same cores: read the ratios, which come from the same rounds. /proc counts "
        f"CPU in clock ticks ({1000 // bench.clk_tck} ms each).", "",
        "| request | tenant-mgmt-service CPU ms/req | peer CPU ms/req | Swift / peer | goal Swift / peer "
        "| Swift beyond its /health | peer beyond its /health | Swift / peer beyond /health |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    summary = {}
    for mode, title in TYPES:
        swift, peer = table[mode]["swift"]["cpu"], table[mode]["peer"]["cpu"]
        beyond = {key: None if mode == "health" or value is None or health[key] is None else value - health[key]
                  for key, value in (("swift", swift), ("peer", peer))}
        summary[mode] = {"swift": swift, "peer": peer, "swift_to_peer": ratio(swift, peer), "swift_beyond_health": beyond["swift"],
                         "peer_beyond_health": beyond["peer"], "beyond_health_ratio": ratio(beyond["swift"], beyond["peer"])}
        goal = "" if mode == "health" else "≤ 0.20"
        lines.append(f"| {title} | {fmt(swift)} | {fmt(peer)} | {fmt(ratio(swift, peer), '.2f')} | {goal} | "
                     f"{fmt(beyond['swift'])} | {fmt(beyond['peer'])} | {fmt(ratio(beyond['swift'], beyond['peer']), '.2f')} |")
    lines += [
        "", "Throughput and errors (medians over the rounds; non-2xx and socket errors summed over the rounds):", "",
        "| request | server | requests | req/s | CPU ms/req per round | non-2xx | socket errors | 200 | 201 |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    lines += run_rows(bench, table, TYPES, lambda _, runs: [str(sum(r["s200"] for r in runs)), str(sum(r["s201"] for r in runs))])
    lines += ["", idle_line(bench, table) + ". It is part of the figures above and weighs most where a server is slowest, on create."]
    lines += perf_lines(bench, "GET", SWIFT, RAW)
    lines += ["", "Reproduce: `make bench-tenants` (environment: BENCH_ROUNDS, BENCH_DURATION, BENCH_CONNECTIONS, BENCH_SEED, "
              "BENCH_WRK_THREADS, BENCH_POOL, BENCH_PERF=0 to skip perf, BENCH_SKIP_BUILD=1 to measure the binaries already "
              f"built). Raw figures, wrk output and server logs: `{RAW}` (git-ignored)."]
    return "\n".join(lines) + "\n", raw_figures(bench, started, wall, summary)


def main() -> int:
    """Parses the arguments from tenant-path.sh and runs everything; fails when any answer was not a 2xx."""
    args = argument_parser(__doc__, connections=32, seed=2000).parse_args()
    bench = measure(args, {"swift": SWIFT, "peer": PEER}, Bench, report, SECTION, BEFORE)
    failed = [f"{s.name} {mode}" for s in bench.servers for mode, runs in s.runs.items()
              if any(r["other"] or r["socket_errors"] for r in runs)]
    if failed:
        note("error: non-2xx answers or socket errors in: " + ", ".join(failed) + f"; see {RAW}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
