"""Benchmark: the audit layer (bronze + silver) on a larger sandbox. Prints figures; never a test.

Usage: .venv/bin/python bench/bench_audit_layer.py [--days 30] [--questions-per-day 400] [--workspaces 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genie_obs_dagster.code_location import build_definitions  # noqa: E402
from genie_obs_dagster.demo import materialize_range  # noqa: E402
from genie_obs_dagster.sandbox.scenario import ScenarioParams, generate  # noqa: E402
from genie_obs_dagster.sandbox.system_tables import load_system_tables  # noqa: E402
from genie_obs_dagster.settings import parse_settings  # noqa: E402
from genie_obs_dagster.warehouse import TableNames  # noqa: E402
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--questions-per-day", type=int, default=400)
    ap.add_argument("--workspaces", type=int, default=2)
    args = ap.parse_args()
    start = dt.date(2026, 1, 1)
    ws_ids = tuple(str(1000000000000000 + i) for i in range(args.workspaces))
    principal = "5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f"
    with tempfile.TemporaryDirectory() as tmp:
        settings = parse_settings({
            "workspaces": [{"id": w, "url": f"http://127.0.0.1:{9000 + i}"} for i, w in enumerate(ws_ids)],
            "history": {"start_date": start.isoformat()}, "ingestion_principal": {"identity": principal},
            "warehouse": {"duckdb": {"path": f"{tmp}/bench.duckdb"}},
        })
        t = time.monotonic()
        scenario = generate(ScenarioParams(start_date=start, days=args.days, workspace_ids=ws_ids,
                                           questions_per_day=args.questions_per_day, ingestion_principal=principal,
                                           principal_reads_all=True))
        gen_s = time.monotonic() - t
        wh = DuckDBWarehouse(settings.warehouse.duckdb.path, TableNames.from_settings(settings))
        t = time.monotonic()
        rows = load_system_tables(wh, scenario)
        load_s = time.monotonic() - t
        print(f"scenario: {args.workspaces} workspaces x {args.days} days, {len(scenario.messages):,} messages, "
              f"{rows:,} audit rows (generated in {gen_s:.1f}s, loaded in {load_s:.1f}s)")
        defs = build_definitions(settings)
        instance = dg.DagsterInstance.ephemeral()
        day = start + dt.timedelta(days=args.days // 2)
        t = time.monotonic()
        materialize_range(defs, "genie_audit_layer", ws_ids[0], day, day, instance)
        print(f"one workspace-day ({ws_ids[0]} {day}), bronze + silver in one run: {time.monotonic() - t:.2f}s")
        t = time.monotonic()
        for ws in ws_ids:
            materialize_range(defs, "genie_audit_layer", ws, start, start + dt.timedelta(days=args.days - 1), instance)
        all_s = time.monotonic() - t
        bronze = wh.sql("SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events")[0][0]
        silver = wh.sql("SELECT COUNT(*) FROM main.genie_analytics.genie_messages_to_fetch")[0][0]
        print(f"all days, one range run per workspace ({args.workspaces} runs): {all_s:.2f}s "
              f"-> {bronze:,} bronze rows ({bronze / all_s:,.0f} rows/s), {silver:,} messages to fetch")
        expected = len(scenario.expected_messages_to_fetch())
        print(f"ground truth: {expected:,} messages; silver matches count: {silver == expected}")


if __name__ == "__main__":
    main()
