"""The end-to-end demo on the embedded default: sandbox data in, every asset materialized, figures out."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

import dagster as dg

from .assets.dashboard import dashboard_path
from .partitions import partition_key
from .sandbox.runtime import Sandbox, simulated_databricks_dir, start_sandbox
from .sandbox.server.sql_types import SANDBOX_WAREHOUSE_ID
from .sensors import run_sensor_once
from .settings import Settings, parse_settings
from .warehouse import TableNames
from .warehouse.sql import ident

log = logging.getLogger("genie_obs.demo")

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# Progress lines (INFO) on the console, not Dagster's step-by-step DEBUG events.
QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
DEMO_TABLES = ("genie_audit_events", "genie_messages_to_fetch", "message_details", "message_fetch_errors",
               "genie_space_details", "genie_space_config_history")


def range_tags(workspace_id: str, start: dt.date, end: dt.date) -> dict[str, str]:
    """Tags of a single-run backfill over one workspace's days (what the backfill daemon launches)."""
    return {
        RANGE_START_TAG: str(partition_key(workspace_id, start)),
        RANGE_END_TAG: str(partition_key(workspace_id, end)),
    }


def materialize_range(
    defs: dg.Definitions, job_name: str, workspace_id: str, start: dt.date, end: dt.date, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    """One run of a partitioned asset job over a workspace's date range, like a single-run backfill."""
    job = defs.resolve_job_def(job_name)
    return job.execute_in_process(instance=instance, tags=range_tags(workspace_id, start, end), run_config=QUIET)


def compare_with_truth(box: Sandbox) -> dict[str, int]:
    """What a user would check: listed messages and askers, and fetched statuses, against the scenario."""
    expected = box.scenario.expected_messages_to_fetch()
    silver = {(r[0], r[1]): r[2] for r in box.warehouse.sql(
        "SELECT workspace_id, message_id, asker_email FROM main.genie_analytics.genie_messages_to_fetch")}
    final = {m.key: m.final_status for m in box.scenario.messages}
    details = box.warehouse.sql("SELECT workspace_id, message_id, status FROM main.genie_analytics.message_details")
    return {
        "listed": len(silver),
        "unexpected": len(set(silver) - set(expected)),
        "wrong_asker": sum(1 for k, a in silver.items() if k in expected and expected[k].asker_email != a),
        "in_flight": len(set(expected) - set(silver)),
        "details": len(details),
        "true_status": sum(1 for w, m, st in details if final.get((w, m)) == st),
    }


def on_simulated_databricks(settings: Settings) -> Settings:
    """The same settings on the Databricks back end, with the first simulated workspace as the control workspace
    (its SQL warehouse holds the system tables and the product's tables)."""
    raw = settings.model_dump(mode="json", by_alias=True, exclude_none=True)
    raw["warehouse"] = {**raw["warehouse"], "backend": "databricks", "databricks": {
        "host": settings.workspaces[0].url, "warehouse_id": SANDBOX_WAREHOUSE_ID}}
    return parse_settings(raw, source="settings with warehouse.backend databricks", environ={})


def run_demo(settings: Settings, defs: dg.Definitions, instance: dg.DagsterInstance) -> dict[str, object]:
    """The initial load of the sandbox's whole history, as single-run backfills would do it, then space details."""
    t0 = time.monotonic()
    box = start_sandbox(settings)
    try:
        scenario = box.scenario
        first, last = scenario.start_date, scenario.start_date + dt.timedelta(days=scenario.days - 1)
        print(f"sandbox: {len(scenario.workspaces)} simulated workspaces "
              f"({', '.join(box.sim.urls.values())}), {len(scenario.spaces)} spaces, {len(scenario.messages)} messages, "
              f"{box.loaded_rows} audit rows delivered ({first}..{last})")
        t1 = time.monotonic()
        ids = settings.workspace_ids
        defs.resolve_job_def("genie_ingest").execute_in_process(
            instance=instance, run_config=QUIET, tags={RANGE_START_TAG: str(partition_key(ids[0], first)),
                                                       RANGE_END_TAG: str(partition_key(ids[-1], last))})
        print(f"ingested {len(ids)} workspace(s) ({first}..{last}) in one run: the audit layer, then every workspace's "
              f"Genie API in parallel, in {time.monotonic() - t1:.1f}s")
        spaces_job = defs.resolve_job_def("genie_space_refresh")
        for ws in settings.workspace_ids:
            spaces_job.execute_in_process(instance=instance, partition_key=ws, run_config=QUIET)
        print(f"refreshed space details of {len(settings.workspace_ids)} workspace(s)")
        arrived = box.deliver(as_of=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3))
        done, _, skip = run_sensor_once(defs, settings, instance)
        print(f"three days later: {arrived} more audit rows delivered, some for earlier days; "
              f"the sensor requested {len(done)} run(s)" + (f" ({skip})" if skip else ""))
        for req, result in done:
            print(f"  {req.tags['genie_obs/reason']}: {'succeeded' if result.success else 'FAILED'}")
        defs.resolve_job_def("genie_marts").execute_in_process(instance=instance, run_config=QUIET)
        print("rebuilt the marts and the dashboard")
        counts = {t: box.warehouse.sql(f"SELECT COUNT(*) FROM main.genie_analytics.{ident(t)}")[0][0]  # noqa: S608
                  for t in DEMO_TABLES}
        print("tables: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
        truth = compare_with_truth(box)
        print(f"against the scenario's ground truth: {truth['listed']} messages listed, {truth['unexpected']} unexpected, "
              f"{truth['wrong_asker']} with a wrong asker, {truth['in_flight']} not visible yet (audit rows still in "
              f"flight); message_details: {truth['true_status']} of {truth['details']} with the true final status")
        if settings.warehouse.backend == "databricks":
            states = box.sim.sql_state_counts()
            print(f"Databricks back end: {sum(states.values())} SQL statements ran on the simulated SQL warehouse "
                  f"({', '.join(f'{n} {s.lower()}' for s, n in sorted(states.items()))}); tables in "
                  f"{settings.target.catalog}.{settings.target.schema_} (simulator files: "
                  f"{simulated_databricks_dir(settings)})")
        else:
            print(f"embedded warehouse: {Path(settings.warehouse.duckdb.path).resolve()} (DuckDB; schema "
                  f"{TableNames.duckdb_schema(settings.target.catalog, settings.target.schema_)})")
        print(f"dashboard: {dashboard_path(settings).resolve()}  (open it in a browser; it works offline)")
        print(f"demo finished in {time.monotonic() - t0:.1f}s")
        return {"counts": counts, **truth}
    finally:
        box.stop()
