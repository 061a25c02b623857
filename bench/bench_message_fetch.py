"""Benchmark (issue 4): ingest ~5,000 messages over 2 simulated workspaces with 100 ms latency and a server
limit of 20 requests/s per workspace; compare with a sequential one-request-at-a-time fetch (what the
replaced system does). Prints figures; never a test.

Usage: .venv/bin/python bench/bench_message_fetch.py [--questions-per-day 250] [--days 10] [--skip-sequential]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genie_obs_dagster.genie.auth import OAuthTokenSource  # noqa: E402
from genie_obs_dagster.genie.client import ClientSettings, GenieClient  # noqa: E402
from genie_obs_dagster.genie.ingest import ingest  # noqa: E402
from genie_obs_dagster.partitions import Slice  # noqa: E402
from genie_obs_dagster.sandbox.scenario import ScenarioParams, generate  # noqa: E402
from genie_obs_dagster.sandbox.server import SimConfig, SimulatedDatabricks, WorkspaceFaults  # noqa: E402
from genie_obs_dagster.sandbox.system_tables import load_system_tables  # noqa: E402
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse  # noqa: E402

WS = ("1234567890123456", "2345678901234567")
PRINCIPAL = "5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f"
LIMIT = 20.0


def audit_layer(wh: DuckDBWarehouse, start: dt.date, end: dt.date) -> None:
    wh.ensure_schema()
    for ws in WS:
        sl = Slice(ws, start, end)
        wh.replace("genie_audit_events", "audit/genie_audit_events", {**sl.params(), "ingestion_principal": PRINCIPAL, "space_ids": ""},
                   {"workspace_id": ws, "event_date": (start, end)})
        wh.merge("genie_messages_to_fetch", "audit/genie_messages_to_fetch", sl.params(), ["workspace_id", "message_id"])


def run(sim: SimulatedDatabricks, wh: DuckDBWarehouse, start: dt.date, end: dt.date, settings: ClientSettings,
        label: str, parallel_workspaces: int) -> dict[str, float]:
    clients = {ws: GenieClient(ws, sim.urls[ws], OAuthTokenSource(sim.urls[ws], sim.client_id, sim.client_secret), settings)
               for ws in WS}
    for c in clients.values():
        c.tokens.headers()  # OAuth set-up is not what we measure
    before = {ws: sim.stats(ws) for ws in WS}
    t = time.monotonic()
    results = ingest(wh, [Slice(ws, start, end) for ws in WS], clients.__getitem__,
                     lambda ws: {"spaces": "", "batch_size": 500}, progress=lambda s: None,
                     max_parallel_workspaces=parallel_workspaces)
    seconds = time.monotonic() - t
    served = {ws: sim.stats(ws).requests - before[ws].requests for ws in WS}
    throttled = sum(sim.stats(ws).throttled - before[ws].throttled for ws in WS)
    fetched = sum(r.summary.fetched for r in results)
    failed = sum(r.summary.failed for r in results)
    bound = max(served.values()) / LIMIT  # the fastest any client could go under the server's limit
    listed = wh.sql("SELECT COUNT(*) FROM main.genie_analytics.genie_messages_to_fetch")[0][0]
    stored = wh.sql("SELECT COUNT(*), COUNT(DISTINCT workspace_id || message_id) FROM main.genie_analytics.message_details")[0]
    print(f"{label}: {fetched:,} messages fetched, {failed} failed, {sum(served.values()):,} requests served "
          f"({throttled} answered 429) in {seconds:.1f}s = {sum(served.values()) / seconds:.1f} req/s; "
          f"server-limit bound {bound:.1f}s -> {100 * bound / seconds:.0f}% of the bound; "
          f"lost {listed - stored[0]}, duplicated {stored[0] - stored[1]}")
    return {"seconds": seconds, "fetched": fetched}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions-per-day", type=int, default=250)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--skip-sequential", action="store_true")
    args = ap.parse_args()
    start = dt.date(2026, 1, 1)
    end = start + dt.timedelta(days=args.days - 1)
    scenario = generate(ScenarioParams(start_date=start, days=args.days, workspace_ids=WS, users=40,
                                       questions_per_day=args.questions_per_day, ingestion_principal=PRINCIPAL))
    print(f"scenario: {len(scenario.messages):,} messages over {len(WS)} workspaces; server: 100 ms latency, "
          f"{LIMIT:g} requests/s per workspace")
    faults = WorkspaceFaults(latency_s=0.1, requests_per_second=LIMIT, burst=int(LIMIT))
    with tempfile.TemporaryDirectory() as tmp, SimulatedDatabricks(scenario, SimConfig(faults=faults)) as sim:
        base = DuckDBWarehouse(f"{tmp}/base.duckdb")
        load_system_tables(base, scenario)
        audit_layer(base, start, end)
        shutil.copy(f"{tmp}/base.duckdb", f"{tmp}/seq.duckdb")
        ours = run(sim, base, start, end, ClientSettings(rate_per_s=LIMIT, concurrency=8), "genie-obs (budget 20/s, "
                   "8 in flight per workspace, workspaces in parallel)", parallel_workspaces=len(WS))
        if not args.skip_sequential:
            seq = run(sim, DuckDBWarehouse(f"{tmp}/seq.duckdb"), start, end,
                      ClientSettings(rate_per_s=10_000, concurrency=1), "sequential, one request at a time",
                      parallel_workspaces=1)
            print(f"speed-up over sequential: {seq['seconds'] / ours['seconds']:.1f}x")


if __name__ == "__main__":
    main()
