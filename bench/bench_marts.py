"""Benchmark: the fixed costs of the ``genie_marts`` job (issue 11). Prints figures; never a test.

For each history length (default 7 and 90 days of 2 workspaces x 500 questions a day) it builds a sandbox
warehouse, then runs the marts job (11 marts + the dashboard) several times in process and prints the median
job time, the DuckDB file opens and the sqlglot parses of one run (the first, with cold SQL caches, and a
warm one), against the goals below. The machine may be busy: medians of repeats.

Filling the warehouse: the scenario's system tables are loaded, the audit layer (bronze + silver) runs as range
runs per workspace; ``message_details`` is written by the product's own row shaping and MERGE
(``genie.rows.shape`` + ``genie.ingest.write_outcomes``) from the API answers the simulated workspace would give
(``sandbox.server.wire.message_json``), without HTTP: fetching 90,000 messages over the API would take minutes
and is what bench_message_fetch.py measures. Space details come from the real refresh job against the simulator.

Usage: .venv/bin/python bench/bench_marts.py [--days 7 90] [--questions-per-day 500] [--workspaces 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import sqlglot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genie_obs_dagster.code_location import build_definitions  # noqa: E402
from genie_obs_dagster.demo import materialize_range  # noqa: E402
from genie_obs_dagster.genie.ingest import pending_refs, write_outcomes  # noqa: E402
from genie_obs_dagster.genie.rows import FetchOutcome, shape  # noqa: E402
from genie_obs_dagster.partitions import Slice  # noqa: E402
from genie_obs_dagster.sandbox.scenario import ScenarioParams, generate  # noqa: E402
from genie_obs_dagster.sandbox.server import SimConfig, SimulatedDatabricks, WorkspaceFaults  # noqa: E402
from genie_obs_dagster.sandbox.server.wire import message_json, scim_user_json  # noqa: E402
from genie_obs_dagster.sandbox.system_tables import load_system_tables  # noqa: E402
from genie_obs_dagster.settings import parse_settings  # noqa: E402
from genie_obs_dagster.warehouse import TableNames  # noqa: E402
from genie_obs_dagster.warehouse import sql as sqlmod  # noqa: E402
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse  # noqa: E402

QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
PRINCIPAL = "5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f"
GOAL_OPENS_PER_STEP = 1  # one warehouse connection per step
GOAL_WARM_PARSES = 0  # parsed SQL cached: a second run parses nothing


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Count DuckDB file opens (``DuckDBWarehouse._open``), sqlglot parses and SQL renders while the block runs."""
    counts: Counter[str] = Counter()
    orig_open, orig_parse, orig_render = DuckDBWarehouse._open, sqlglot.parse, sqlmod.render

    def _open(self: DuckDBWarehouse):  # type: ignore[no-untyped-def]
        counts["opens"] += 1
        return orig_open(self)

    def parse(*a, **kw):  # type: ignore[no-untyped-def]
        counts["parses"] += 1
        return orig_parse(*a, **kw)

    def render(*a, **kw):  # type: ignore[no-untyped-def]
        counts["renders"] += 1
        return orig_render(*a, **kw)

    DuckDBWarehouse._open, sqlglot.parse, sqlmod.render = _open, parse, render  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        DuckDBWarehouse._open, sqlglot.parse, sqlmod.render = orig_open, orig_parse, orig_render  # type: ignore[method-assign]


def clear_sql_caches() -> None:
    for name in ("parse_file", "parse_text", "rendered"):
        fn = getattr(sqlmod, name, None)
        if hasattr(fn, "cache_clear"):
            fn.cache_clear()


def fill_message_details(wh: DuckDBWarehouse, scenario, settings) -> int:  # type: ignore[no-untyped-def]
    """Every listed message's API answer (as the simulator would give it after the history), shaped and merged."""
    later = scenario.end + dt.timedelta(days=30)
    by_key = {m.key: m for m in scenario.messages}
    users = {u.user_id: u for u in scenario.users}
    end = scenario.start_date + dt.timedelta(days=scenario.days - 1)
    written = 0
    for ws in settings.workspace_ids:
        _, refs = pending_refs(wh, Slice(ws, scenario.start_date, end), "")
        batch: list[FetchOutcome] = []
        for ref in refs:
            m = by_key[(ref.workspace_id, ref.message_id)]
            batch.append(shape(FetchOutcome(ref, later, 1, message=message_json(m, later),
                                            user=scim_user_json(users[m.user_id]))))
            if len(batch) == 2000:
                write_outcomes(wh, batch)
                written, batch = written + len(batch), []
        if batch:
            write_outcomes(wh, batch)
            written += len(batch)
    return written


def bench(days: int, qpd: int, n_ws: int, repeats: int) -> dict[str, float]:
    start = dt.date(2026, 1, 1)
    ws_ids = tuple(str(1000000000000000 + i) for i in range(n_ws))
    t = time.monotonic()
    scenario = generate(ScenarioParams(start_date=start, days=days, workspace_ids=ws_ids, questions_per_day=qpd,
                                       ingestion_principal=PRINCIPAL, principal_reads_all=True))
    sim = SimulatedDatabricks(scenario, SimConfig(faults=WorkspaceFaults(requests_per_second=None)))
    sim.start()
    os.environ["GENIE_OBS_CLIENT_ID"], os.environ["GENIE_OBS_CLIENT_SECRET"] = sim.client_id, sim.client_secret
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = parse_settings({
                "workspaces": [{"id": w, "url": sim.urls[w]} for w in ws_ids],
                "history": {"start_date": start.isoformat()}, "ingestion_principal": {"identity": PRINCIPAL},
                "warehouse": {"duckdb": {"path": f"{tmp}/bench.duckdb"}}, "api": {"rate_per_s": 1000},
            })
            wh = DuckDBWarehouse(settings.warehouse.duckdb.path, TableNames.from_settings(settings))
            audit_rows = load_system_tables(wh, scenario)
            defs = build_definitions(settings)
            instance = dg.DagsterInstance.ephemeral()
            for ws in ws_ids:
                materialize_range(defs, "genie_audit_layer", ws, start, start + dt.timedelta(days=days - 1), instance)
            details = fill_message_details(wh, scenario, settings)
            for ws in ws_ids:
                defs.resolve_job_def("genie_space_refresh").execute_in_process(instance=instance, partition_key=ws,
                                                                               run_config=QUIET_RUN)
            print(f"\n{n_ws} workspaces x {days} days x {qpd} questions/day: {len(scenario.messages):,} messages, "
                  f"{audit_rows:,} audit rows, {details:,} message_details rows (set up in {time.monotonic() - t:.0f}s)")
            job = defs.resolve_job_def("genie_marts")
            steps = len(job.graph.node_defs)
            times, first, warm = [], Counter(), Counter()
            for i in range(repeats):
                if i == 0:
                    clear_sql_caches()
                with counting() as counts:
                    t = time.monotonic()
                    result = job.execute_in_process(instance=instance, run_config=QUIET_RUN)
                    times.append(time.monotonic() - t)
                assert result.success
                if i == 0:
                    first = counts
                else:
                    warm = counts
            return {"steps": steps, "median_s": statistics.median(times[1:] or times), "first_s": times[0],
                    "min_s": min(times), "opens": first["opens"], "opens_warm": warm["opens"],
                    "parses_first": first["parses"], "parses_warm": warm["parses"],
                    "renders_first": first["renders"], "renders_warm": warm["renders"]}
    finally:
        sim.stop()


def main() -> None:
    import logging

    logging.getLogger("genie_obs").setLevel(logging.WARNING)
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, nargs="+", default=[7, 90])
    ap.add_argument("--questions-per-day", type=int, default=500)
    ap.add_argument("--workspaces", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rows = []
    for days in args.days:
        r = bench(days, args.questions_per_day, args.workspaces, args.repeats)
        rows.append((days, r))
        print(f"marts job ({r['steps']} steps), {args.repeats} runs in process: median of warm runs {r['median_s']:.2f}s "
              f"(first, cold caches {r['first_s']:.2f}s; fastest {r['min_s']:.2f}s)")
        print(f"  DuckDB file opens per run: {r['opens']} (goal: <= {GOAL_OPENS_PER_STEP * r['steps']}, one per step)")
        print(f"  sqlglot parses: first run {r['parses_first']}, warm run {r['parses_warm']} "
              f"(goal: warm {GOAL_WARM_PARSES}); SQL renders: first run {r['renders_first']}, warm run {r['renders_warm']}")
    print("\nsummary: " + "; ".join(f"{d} days {r['median_s']:.2f}s, {r['opens']} opens, {r['parses_warm']} warm parses"
                                    for d, r in rows))


if __name__ == "__main__":
    main()
