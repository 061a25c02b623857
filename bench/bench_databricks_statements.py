"""Statements the Databricks back end runs (what keeps a SQL warehouse awake and what it costs): per sensor tick
at rest, per initial-load run of one workspace, per day of history. Against the simulated workspace; prints figures.

    .venv/bin/python bench/bench_databricks_statements.py [--days 14] [--questions 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import dagster as dg

from genie_obs_dagster.code_location import build_definitions
from genie_obs_dagster.demo import materialize_range, on_simulated_databricks
from genie_obs_dagster.sandbox.runtime import start_sandbox
from genie_obs_dagster.sensors import run_sensor_once
from genie_obs_dagster.settings import parse_settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--questions", type=int, default=30)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp())
    base = parse_settings({
        "workspaces": [{"id": "1234567890123456", "url": "http://127.0.0.1:8791"},
                       {"id": "2345678901234567", "url": "http://127.0.0.1:8792"}],
        "history": {"lookback_days": args.days}, "ingestion_principal": {"identity": "bench-principal"},
        "warehouse": {"duckdb": {"path": str(folder / "wh.duckdb")}}, "api": {"rate_per_s": 1000},
        "sandbox": {"questions_per_day": args.questions, "requests_per_second": 0},
    })
    settings = on_simulated_databricks(base)
    box = start_sandbox(settings)
    try:
        defs, instance = build_definitions(settings), dg.DagsterInstance.ephemeral()
        scenario = box.scenario
        first, last = scenario.start_date, scenario.start_date + dt.timedelta(days=scenario.days - 1)
        count = lambda: len(box.sim.sql_statements())  # noqa: E731
        per_run = []
        for ws in settings.workspace_ids:
            before = count()
            materialize_range(defs, "genie_ingest", ws, first, last, instance)
            per_run.append(count() - before)
        now = dt.datetime.now(dt.timezone.utc)

        def tick(cursor: str | None, at: dt.datetime) -> tuple[int, str | None]:
            before = count()
            _, cursor, _ = run_sensor_once(defs, settings, instance, cursor=cursor, clock=lambda: at)
            return count() - before, cursor

        first_tick, cursor = tick(None, now)  # a new process: the schema check, and the hourly gap check
        plain, cursor = tick(cursor, now)  # the next ticks of the hour
        gap_tick, _ = tick(cursor, now + dt.timedelta(hours=1))  # the first tick of the next hour: the gap check
        print(f"history: {scenario.days} days x {len(settings.workspace_ids)} workspaces, {len(scenario.messages)} messages")
        print(f"initial load (one genie_ingest run per workspace over {scenario.days} days): statements per run "
              f"{per_run} = {sum(per_run) / len(per_run) / scenario.days:.1f} per workspace-day")
        print(f"sensor tick at rest: {plain} statement(s); the first tick of each hour {gap_tick} (the gap check over the "
              f"whole history); the first tick of a process {first_tick} (incl. the schema check)")
        interval = settings.automation.interval_s("databricks")
        per_hour = gap_tick + (3600 / interval - 1) * plain
        print(f"sensor at rest: {per_hour:.0f} statements/hour at its default {interval}s interval")
    finally:
        box.stop()


if __name__ == "__main__":
    main()
