"""``genie_eval_runs`` (+ ``genie_eval_results``): benchmarks on a schedule, per workspace; and the
``mart_eval_accuracy`` mart (accuracy over time per space). Built only when the settings have an ``evals`` section.

The work is plain Python (``lifecycle/evals.py``); this module wires it: SQL work inside the warehouse pool, API
calls inside the workspace's API pool and outside the warehouse session, a WARN check on accuracy drops.
"""

# No `from __future__ import annotations` here: Dagster inspects the asset function's type hints at runtime.

import datetime as dt

import dagster as dg

from ..concurrency import slot_guard
from ..lifecycle import evals
from ..resources import GenieResource, WarehouseResource
from ..settings import Settings
from .common import int_metadata, space_filter
from .marts import MART_GROUP, Mart, _mart_asset
from .table_metadata import ROW_COUNT, table_metadata, with_python_source

EVAL_GROUP = "genie_evals"
EVAL_JOB = "genie_evals"
EVAL_ASSET = "genie_eval_runs"
EVAL_CHECK = "accuracy_not_dropped"
# The time a run judges which spaces are due at (ISO 8601, UTC): the schedules set it to their tick; without it, now.
AS_OF_TAG = "genie_obs/evals_as_of"
OPEN_RUNS = "open_eval_runs"
EVAL_MART = Mart(
    "mart_eval_accuracy", ("workspace_id", "space_id", "eval_run_id"), (EVAL_ASSET, "genie_space_details"),
    "Benchmark accuracy over time per space: every DONE eval run with its accuracy (num_correct / num_questions; "
    "NEEDS_REVIEW counts as not correct) and the previous run's.",
    "one row per DONE run of genie_eval_runs")


def as_of(context: dg.AssetExecutionContext) -> dt.datetime:
    raw = context.run.tags.get(AS_OF_TAG)
    if raw:
        return dt.datetime.fromisoformat(raw).astimezone(dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)


def build_eval_assets(settings: Settings, workspace_partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    if settings.evals is None:
        return []
    cfg = settings.evals

    @dg.asset(
        name=EVAL_ASSET,
        group_name=EVAL_GROUP,
        partitions_def=workspace_partitions,
        deps=["genie_space_details"],
        kinds={"python", "databricks"},
        owners=["team:platform"],
        metadata=table_metadata(settings, evals.RUNS_TABLE, also_writes=[evals.RESULTS_TABLE],
                                sql=["evals/benchmark_spaces", "evals/stored_eval_runs", "evals/eval_table_rows",
                                     "checks/evals/accuracy_drop"]),
        description="Benchmarks on a schedule: starts a Genie eval run for each space with benchmark questions whose "
        "cron (evals.spaces, else evals.cron) ticked since its latest run, then stores every eval run of those spaces "
        "and the per-question results of finished runs (genie_eval_results). Never waits for a run: one still in "
        "progress is collected by a later materialization.",
        check_specs=[dg.AssetCheckSpec(EVAL_CHECK, asset=EVAL_ASSET,
                                       description="Warns when a space's latest benchmark accuracy dropped by more than "
                                       f"evals.accuracy_drop_margin ({cfg.accuracy_drop_margin:g}) from its previous run")],
    )
    def genie_eval_runs(context: dg.AssetExecutionContext, warehouse: WarehouseResource, genie: GenieResource):
        now = as_of(context)
        guard = slot_guard(context)
        drops: list[evals.AccuracyDrop] = []
        compared = 0
        failed: list[str] = []
        for ws in context.partition_keys:
            with warehouse.session(context) as wh:
                wh.ensure_schema()
                spaces = wh.query("evals/benchmark_spaces", {"workspace_id": ws, "space_ids": space_filter(settings, ws)})
                benchmarks = {r["space_id"]: evals.benchmark_count(r["serialized_space"]) for r in spaces.to_pylist()}
                benchmarks = {sid: n for sid, n in benchmarks.items() if n > 0}
                stored = evals.stored_runs(wh.query("evals/stored_eval_runs", {"workspace_id": ws}).to_pylist())
            with guard(ws):
                got = evals.run_pass(genie.client(ws), ws, benchmarks, stored, cfg, now, context.log.info)
            with warehouse.session(context) as wh:
                if got.results.num_rows:
                    wh.merge_rows(evals.RESULTS_TABLE, got.results, evals.RESULT_KEYS)
                if got.runs.num_rows:
                    wh.merge_rows(evals.RUNS_TABLE, got.runs, evals.RUN_KEYS)
                latest = wh.query("checks/evals/accuracy_drop", {"workspace_id": ws}).to_pylist()
                held = wh.query("evals/eval_table_rows", {"workspace_id": ws}).to_pylist()[0]
            compared += sum(r["previous_accuracy"] is not None for r in latest)
            drops += evals.accuracy_drops(latest, cfg.accuracy_drop_margin)
            context.log.info(f"workspace {ws}: {len(benchmarks)} space(s) with benchmarks, {len(got.started)} run(s) "
                             f"started, {got.runs_listed} listed, {got.runs_finished_now} newly finished "
                             f"({got.results_fetched} results), {held['open_runs']} still in progress")
            context.add_asset_metadata({
                **int_metadata({ROW_COUNT: held["eval_runs"] or 0, "eval_results": held["eval_results"] or 0,
                                OPEN_RUNS: held["open_runs"] or 0, "spaces_with_benchmarks": len(benchmarks),
                                "runs_started": len(got.started), "runs_start_failed": len(got.start_errors),
                                "runs_listed": got.runs_listed, "runs_finished_now": got.runs_finished_now,
                                "results_fetched": got.results_fetched, "list_errors": len(got.list_errors),
                                "result_errors": len(got.result_errors)}),
            }, partition_key=ws)
            if got.api_calls_failed:
                failed.append(f"workspace {ws}: no eval runs could be listed; first error: {got.list_errors[0][1]}")
        yield dg.MaterializeResult(check_results=[dg.AssetCheckResult(
            check_name=EVAL_CHECK, passed=not drops, severity=dg.AssetCheckSeverity.WARN,
            description="; ".join(d.describe() for d in drops) if drops else
            f"no space's accuracy dropped by more than {cfg.accuracy_drop_margin:.0%} ({compared} space(s) compared "
            "with their previous run)",
            metadata={"spaces_compared": compared, "spaces_dropped": len(drops),
                      "margin": dg.MetadataValue.float(cfg.accuracy_drop_margin),
                      "drops": dg.MetadataValue.json([d.__dict__ for d in drops])},
        )])
        if failed:
            raise dg.Failure(description="; ".join(failed) + ". Runs stored before are kept; the next schedule tick "
                             "tries again.")

    return with_python_source([genie_eval_runs, _mart_asset(EVAL_MART, settings)])


def eval_job(settings: Settings) -> list:
    """The job the eval schedules target (none without an ``evals`` section)."""
    if settings.evals is None:
        return []
    return [dg.define_asset_job(EVAL_JOB, selection=dg.AssetSelection.assets(EVAL_ASSET),
                                description="Benchmarks: start the due spaces' eval runs and store runs and results, "
                                "per workspace.")]


__all__ = ["AS_OF_TAG", "EVAL_ASSET", "EVAL_CHECK", "EVAL_GROUP", "EVAL_JOB", "EVAL_MART", "MART_GROUP", "OPEN_RUNS",
           "build_eval_assets", "eval_job"]
