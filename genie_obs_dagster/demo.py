"""The end-to-end demo on the embedded default: sandbox data in, every asset materialized, figures out.

The console gets a short account of what happened (sandbox, what each run loaded per workspace, the marts and
dashboard, the check against the scenario's truth, what to do next), not Dagster's step-by-step events: runs
log to the console at WARNING, so a warning or a failure (with its full error and stack trace) still shows.
Every event is kept in the Dagster instance as usual (``make dev`` shows these runs with their full logs).
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import dagster as dg

from .assets.dashboard import dashboard_path
from .automation import INGEST_JOB, REASON_TAG
from .partitions import key_parts, partition_key
from .resources import WarehouseResource
from .sandbox.runtime import Sandbox, on_free_ports, simulated_databricks_dir, start_sandbox
from .sandbox.server.sql_types import SANDBOX_WAREHOUSE_ID
from .sensors import build_audit_sensor
from .settings import Settings, parse_settings
from .warehouse import TableNames
from .warehouse.sql import target_table

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# Dagster's console logger at WARNING for the demo's runs: its per-step DEBUG/INFO events stay in the instance's
# event log (the UI shows them); warnings and failures, with their errors, still reach the console.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# materialize_range (tests, the single-run backfill helper): progress lines (INFO) too, not the DEBUG events.
PROGRESS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
DEMO_TABLES = ("genie_audit_events", "genie_messages_to_fetch", "message_details", "message_fetch_errors",
               "genie_space_details", "genie_space_config_history")
DEFAULT_UI = "http://127.0.0.1:3000"


def say(*parts: object) -> None:
    """A line of the demo's account, flushed so that it stays in order with Dagster's warnings on stderr."""
    print(*parts, flush=True)


class DemoRunFailed(RuntimeError):
    """A run of the demo failed; Dagster has printed its error (console logger at WARNING) above."""


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
    return job.execute_in_process(instance=instance, tags=range_tags(workspace_id, start, end), run_config=PROGRESS)


def on_simulated_databricks(settings: Settings) -> Settings:
    """The same settings on the Databricks back end, with the first simulated workspace as the control workspace
    (its SQL warehouse holds the system tables and the product's tables)."""
    raw = settings.model_dump(mode="json", by_alias=True, exclude_none=True)
    raw["warehouse"] = {**raw["warehouse"], "backend": "databricks", "databricks": {
        "host": settings.workspaces[0].url, "warehouse_id": SANDBOX_WAREHOUSE_ID}}
    return parse_settings(raw, source="settings with warehouse.backend databricks")


class _Runs:
    """Executes the demo's runs quietly and keeps what the account needs: their asset check evaluations."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance):
        self.defs, self.instance = defs, instance
        self.checks: list[dg.AssetCheckEvaluation] = []

    def run(self, job_name: str, **kwargs: Any) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def(job_name)
        result = job.execute_in_process(instance=self.instance, run_config=QUIET, raise_on_error=False, **kwargs)
        self.checks += result.get_asset_check_evaluations()
        if not result.success:
            failed = [e for e in result.all_events if e.is_step_failure]
            error = failed[0].step_failure_data.error if failed else None
            while error is not None and error.cause is not None:  # the exception the step raised, not its wrapper
                error = error.cause
            why = error.message.strip().splitlines()[0] if error is not None and error.message.strip() else "see above"
            steps = f" in step {', '.join(str(e.step_key) for e in failed)}" if failed else ""
            where = "" if self.instance.is_ephemeral else f"; its full log: the Dagster UI (make dev), Runs, {result.run_id}"
            raise DemoRunFailed(f"the {job_name} run {result.run_id} failed{steps}: {why} "
                                f"(Dagster printed the error and stack trace above{where})")
        return result

    def sensor_tick(self, settings: Settings) -> tuple[list[tuple[dg.RunRequest, dg.ExecuteInProcessResult]], str | None]:
        """One tick of genie_audit_sensor and its runs, in this process, as the daemon would launch them
        (``sensors.run_sensor_once``, with the demo's quiet console: the demo prints each requested run)."""
        with dg.build_sensor_context(instance=self.instance, definitions=self.defs,
                                     resources={"warehouse": WarehouseResource.from_settings(settings)}) as ctx:
            ctx.log.setLevel(logging.WARNING)
            data = build_audit_sensor(settings).evaluate_tick(ctx)
        done = [(r, self.run(INGEST_JOB, tags=r.tags, asset_selection=r.asset_selection))
                for r in data.run_requests or []]
        return done, data.skip_message


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


def _by_workspace(box: Sandbox, table: str, where: str = "") -> dict[str, int]:
    rows = box.warehouse.sql(f"SELECT workspace_id, COUNT(*) FROM {target_table(table)} {where} "  # noqa: S608
                             "GROUP BY workspace_id")
    return {r[0]: int(r[1]) for r in rows}


def _open_errors_by_type(box: Sandbox, table: str) -> dict[str, Counter[str]]:
    """Unresolved fetch errors per workspace, as ``type:<ERROR_TYPE>`` counts."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for wid, kind, n in box.warehouse.sql(f"SELECT workspace_id, error_type, COUNT(*) FROM {target_table(table)} "  # noqa: S608
                                          "WHERE NOT resolved GROUP BY workspace_id, error_type"):
        out[wid][f"type:{kind}"] = int(n)
    return out


def _run_figures(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Counter[str]]:
    """Per workspace, what a run recorded on its (workspace, day) materializations of ``asset``: integer metadata
    added up over days, and ``failed_by_type`` merged (as ``type:<ERROR_TYPE>``)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        if mat.asset_key.to_user_string() != asset or mat.partition is None:
            continue
        workspace, _ = key_parts(mat.partition)
        for name, value in mat.metadata.items():
            if isinstance(value, dg.IntMetadataValue) and value.value is not None:
                out[workspace][name] += value.value
            elif name == "failed_by_type" and isinstance(value, dg.JsonMetadataValue) and isinstance(value.data, dict):
                out[workspace].update({f"type:{kind}": int(n) for kind, n in value.data.items()})
    return out


def _failed(figures: Counter[str], noun: str = "fetch errors") -> str:
    kinds = {k.removeprefix("type:"): n for k, n in figures.items() if k.startswith("type:") and n}
    if not kinds:
        return f"no {noun}"
    return f"{noun}: " + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))


def _checks(evaluations: Iterable[dg.AssetCheckEvaluation]) -> str:
    evaluations = list(evaluations)
    failed = [e for e in evaluations if not e.passed]
    if not failed:
        return f"asset checks: {len(evaluations)} evaluated over every run, all passed"
    names = sorted({f"{e.asset_key.to_user_string()}.{e.check_name} ({e.severity.value})" for e in failed})
    return f"asset checks: {len(evaluations) - len(failed)} passed, {len(failed)} FAILED: {', '.join(names)}"


def _timed(label: Callable[[float], str], fn: Callable[[], Any]) -> Any:
    t = time.monotonic()
    out = fn()
    say(label(time.monotonic() - t))
    return out


def run_demo(settings: Settings, defs: dg.Definitions, instance: dg.DagsterInstance) -> dict[str, object]:
    """The initial load of the sandbox's whole history, as single-run backfills would do it, then space details,
    late audit rows through the sensor, the marts and the dashboard; prints an account of each step. Raises
    :class:`DemoRunFailed` when a run fails (Dagster has printed its error)."""
    t0 = time.monotonic()
    runs = _Runs(defs, instance)
    box = start_sandbox(settings)
    try:
        scenario = box.scenario
        ids = settings.workspace_ids
        names = {w.id: w.name or w.id for w in settings.workspaces}
        first, last = scenario.start_date, scenario.start_date + dt.timedelta(days=scenario.days - 1)
        say(f"sandbox: {len(scenario.workspaces)} simulated Databricks workspace(s), {len(scenario.spaces)} Genie spaces, "
            f"{len(scenario.users)} users, {len(scenario.messages)} messages from {first} to {last}")
        for wid, url in box.sim.urls.items():
            say(f"  {names.get(wid, wid)} (workspace {wid}): {url}")
        source = box.warehouse.sql("SELECT COUNT(*) FROM system.access.audit")[0][0]
        say(f"  {source} audit rows in {settings.sources.audit} ({box.loaded_rows} new); more arrive late, "
            "as on Databricks")

        ingest = _timed(lambda s: f"ingest: one genie_ingest run over {len(ids)} workspace(s), {first}..{last}, in "
                                  f"{s:.1f}s (audit layer, then each workspace's Genie API in parallel)",
                        lambda: runs.run(INGEST_JOB, tags={RANGE_START_TAG: str(partition_key(ids[0], first)),
                                                           RANGE_END_TAG: str(partition_key(ids[-1], last))}))
        audit, listed = _by_workspace(box, "genie_audit_events"), _by_workspace(box, "genie_messages_to_fetch")
        fetch, failed = _run_figures(ingest, "message_details"), _run_figures(ingest, "message_fetch_errors")
        for wid in ids:
            f = fetch[wid]
            say(f"  {names[wid]}: {audit.get(wid, 0)} audit events, {listed.get(wid, 0)} messages listed, "
                f"{f['fetched']} fetched ({f['api_requests']} API requests, {f['api_throttled_429']} throttled), "
                f"{_failed(failed[wid])}")

        def refresh_spaces() -> None:
            for wid in ids:
                runs.run("genie_space_refresh", partition_key=wid)

        _timed(lambda s: f"spaces: one genie_space_refresh run per workspace, in {s:.1f}s", refresh_spaces)
        spaces, versions = _by_workspace(box, "genie_space_details"), _by_workspace(box, "genie_space_config_history")
        api_listed = _by_workspace(box, "genie_api_messages")
        missed = _by_workspace(box, "message_details", "WHERE discovered_via = 'api'")
        space_errors = _open_errors_by_type(box, "genie_space_fetch_errors")
        for wid in ids:
            say(f"  {names[wid]}: {spaces.get(wid, 0)} spaces ({versions.get(wid, 0)} configuration versions, "
                f"{_failed(space_errors[wid], 'open space fetch errors')}); {api_listed.get(wid, 0)} messages "
                f"listed through the API, {missed.get(wid, 0)} of them missing from the audit log (fetched too)")

        arrived = box.deliver(as_of=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3))
        done, skip = runs.sensor_tick(settings)
        late = (f"{arrived} more audit rows delivered, some for earlier days" if arrived else
                f"no new audit rows ({settings.sources.audit} already held the late ones: an earlier demo today)")
        say(f"three days later: {late}; genie_audit_sensor requested {len(done)} genie_ingest run(s)"
            + (f": {skip}" if skip and not done else ""))
        for req, _ in done:
            say(f"  {req.tags.get(REASON_TAG, req.tags)}: succeeded")

        _timed(lambda s: f"marts: one genie_marts run rebuilt the marts and the dashboard in {s:.1f}s",
               lambda: runs.run("genie_marts"))
        say(_checks(runs.checks))
        counts = {t: box.warehouse.sql(f"SELECT COUNT(*) FROM {target_table(t)}")[0][0]  # noqa: S608
                  for t in DEMO_TABLES}
        truth = compare_with_truth(box)
        ok = truth["unexpected"] == 0 and truth["wrong_asker"] == 0 and truth["true_status"] == truth["details"]
        say(f"against the scenario's ground truth: {truth['listed']} messages listed, {truth['unexpected']} unexpected, "
            f"{truth['wrong_asker']} with a wrong asker, {truth['in_flight']} not visible yet (audit rows still in "
            f"flight); {truth['true_status']} of {truth['details']} message details with the true final status: "
            + ("OK" if ok else "MISMATCH"))
        if settings.warehouse.backend == "databricks":
            states = box.sim.sql_state_counts()
            say(f"Databricks back end: {sum(states.values())} SQL statements ran on the simulated SQL warehouse "
                f"({', '.join(f'{n} {s.lower()}' for s, n in sorted(states.items()))}); tables in "
                f"{settings.target.catalog}.{settings.target.schema_} (simulator files: "
                f"{simulated_databricks_dir(settings)})")
        else:
            say(f"warehouse: {Path(settings.warehouse.duckdb.path).resolve()} (DuckDB, schema "
                f"{TableNames.duckdb_schema(settings.target.catalog, settings.target.schema_)})")
        say(f"dashboard: {dashboard_path(settings).resolve()} (open it in a browser; it works offline)")
        say(f"demo finished in {time.monotonic() - t0:.1f}s; the simulated workspaces are stopped")
        return {"counts": counts, "truth_ok": ok, **truth}
    finally:
        box.stop()


def next_steps(instance: dg.DagsterInstance) -> str:
    kept = ("" if instance.is_ephemeral else ", with this demo's runs and their full logs")
    if Path("Makefile").is_file():
        return (f"next: `make dev` serves the sandbox and the Dagster UI at {DEFAULT_UI}{kept} "
                "(another port: `make dev PORT=3100`); then `make initial-load` loads every partition from there")
    return ("next: serve the sandbox (`genie-obs sandbox --write-env .env`) and start Dagster on the project "
            f"(`dg dev`, UI at {DEFAULT_UI}){kept}; README, Quickstart")


def build_quietly(settings: Settings) -> dg.Definitions:
    """This product's definitions without the Dagster beta/preview warnings our own definitions trigger (single-run
    backfills, a multi-to-single-dimension partition mapping): scoped to building them, never process-wide, so
    other code in the process still gets its warnings."""
    from .code_location import build_definitions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return build_definitions(settings)


def run_demo_command(settings: Settings, backend: str | None, instance: dg.DagsterInstance) -> int:
    """``genie-obs demo``: the settings' simulated workspaces on free loopback ports (the demo is self-contained,
    so it runs beside ``make dev``), on the requested back end; the account on stdout; exit 1 if a run failed."""
    if backend == "duckdb" and settings.warehouse.backend != "duckdb":
        print("error: --backend duckdb needs settings with warehouse.backend: duckdb", file=sys.stderr)
        return 2
    settings = on_free_ports(settings)
    if backend == "databricks" and settings.warehouse.backend != "databricks":
        settings = on_simulated_databricks(settings)
    try:
        run_demo(settings, build_quietly(settings), instance)
    except DemoRunFailed as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    say(next_steps(instance))
    return 0
