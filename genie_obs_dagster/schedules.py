"""Schedules: space configuration daily, and a nightly reconciliation of the last few days.

The sensor keeps the recent partitions current as changes arrive; the reconciliation is the safety net
for what a sensor cannot see (a change that ended up with the same counts, a run the sensor gave up on,
the ingestion principal's own reads) and keeps every ingest asset materialized at least daily, which is
what the freshness expectations rely on. Both yield one run per workspace, tagged with it, so runs of
different workspaces fail independently and queue per workspace. The marts have no schedule: they follow
their upstream (``automation.marts_condition``).
"""

# No `from __future__ import annotations` here: Dagster inspects the schedule functions' type hints at runtime.

import datetime as dt

import dagster as dg

from .automation import INGEST_JOB, RANGE_END_TAG, RANGE_START_TAG, SPACE_JOB, TRIGGER_TAG, WORKSPACE_TAG
from .partitions import partition_key
from .settings import Settings

SPACE_SCHEDULE = "genie_space_refresh_daily"
RECONCILE_SCHEDULE = "genie_nightly_reconciliation"


def reconcile_range(settings: Settings, day: dt.date) -> tuple[dt.date, dt.date]:
    """The last ``reconcile_days`` days up to ``day``, never before the first partition."""
    start = max(day - dt.timedelta(days=settings.automation.reconcile_days - 1), settings.history.first_day(day))
    return start, day


def build_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    auto = settings.automation

    @dg.schedule(
        name=SPACE_SCHEDULE,
        job_name=SPACE_JOB,
        cron_schedule=auto.space_refresh_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Refreshes the configuration of every space seen (and its history), one run per workspace.",
    )
    def genie_space_refresh_daily(context: dg.ScheduleEvaluationContext):
        day = context.scheduled_execution_time.astimezone(dt.timezone.utc).date()
        return [
            dg.RunRequest(run_key=f"{ws}:{day}", partition_key=ws,
                          tags={WORKSPACE_TAG: ws, TRIGGER_TAG: "space-refresh"})
            for ws in settings.workspace_ids
        ]

    @dg.schedule(
        name=RECONCILE_SCHEDULE,
        job_name=INGEST_JOB,
        cron_schedule=auto.reconcile_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Re-runs genie_ingest over the last {auto.reconcile_days} days (today included), one range "
        "run per workspace: the safety net behind the sensor.",
    )
    def genie_nightly_reconciliation(context: dg.ScheduleEvaluationContext):
        day = context.scheduled_execution_time.astimezone(dt.timezone.utc).date()
        start, end = reconcile_range(settings, day)
        return [
            dg.RunRequest(run_key=f"{ws}:{start}:{end}", tags={
                RANGE_START_TAG: str(partition_key(ws, start)), RANGE_END_TAG: str(partition_key(ws, end)),
                WORKSPACE_TAG: ws, TRIGGER_TAG: "reconciliation",
            })
            for ws in settings.workspace_ids
        ]

    return [genie_space_refresh_daily, genie_nightly_reconciliation]


# -- benchmarks (eval runs): only with an `evals` section in the settings ---------------------------------------
EVAL_SCHEDULE = "genie_eval_runs_schedule"
EVAL_COLLECT_SCHEDULE = "genie_eval_runs_collect"


def eval_schedule_name(index: int) -> str:
    """``genie_eval_runs_schedule`` for ``evals.cron``, ``genie_eval_runs_schedule_2``... for the other crons."""
    return EVAL_SCHEDULE if index == 0 else f"{EVAL_SCHEDULE}_{index + 1}"


def open_eval_runs(instance: dg.DagsterInstance, workspace_id: str) -> int:
    """Runs in progress after the latest materialization of the workspace's ``genie_eval_runs`` partition."""
    from .assets.evals import EVAL_ASSET, OPEN_RUNS

    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(EVAL_ASSET), asset_partitions=[workspace_id]), limit=1).records
    if not records or records[0].asset_materialization is None:
        return 0
    value = records[0].asset_materialization.metadata.get(OPEN_RUNS)
    return int(value.value) if value is not None and value.value is not None else 0


def build_eval_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    """One schedule per distinct eval cron (``evals.cron`` first, then the per-space ones): each tick requests a run
    of ``genie_evals`` per workspace, which starts the runs of the spaces due at that tick (their own cron ticked
    since their latest run) and collects the finished ones. ``evals.collect_cron`` collects runs still in progress,
    only for workspaces whose latest materialization left some open."""
    if settings.evals is None:
        return []
    from .assets.evals import AS_OF_TAG, EVAL_JOB

    def starter(name: str, cron: str) -> dg.ScheduleDefinition:
        @dg.schedule(name=name, job_name=EVAL_JOB, cron_schedule=cron, execution_timezone="UTC",
                     default_status=dg.DefaultScheduleStatus.RUNNING,
                     description=f"Benchmarks: starts eval runs of the spaces due at {cron} (UTC) and stores runs and "
                     "results, one run per workspace.")
        def _schedule(context: dg.ScheduleEvaluationContext):
            tick = context.scheduled_execution_time.astimezone(dt.timezone.utc)
            return [dg.RunRequest(run_key=f"{ws}:{tick.isoformat()}", partition_key=ws,
                                  tags={WORKSPACE_TAG: ws, TRIGGER_TAG: "eval-schedule", AS_OF_TAG: tick.isoformat()})
                    for ws in settings.workspace_ids]

        return _schedule

    schedules = [starter(eval_schedule_name(i), cron) for i, cron in enumerate(settings.evals.crons)]
    if settings.evals.collect_cron is not None:
        @dg.schedule(name=EVAL_COLLECT_SCHEDULE, job_name=EVAL_JOB, cron_schedule=settings.evals.collect_cron,
                     execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING,
                     description="Benchmarks: collects eval runs still in progress, only for workspaces whose latest "
                     "genie_eval_runs materialization left some open.")
        def genie_eval_runs_collect(context: dg.ScheduleEvaluationContext):
            tick = context.scheduled_execution_time.astimezone(dt.timezone.utc)
            due = [ws for ws in settings.workspace_ids if open_eval_runs(context.instance, ws) > 0]
            if not due:
                return dg.SkipReason("no eval run in progress")
            return [dg.RunRequest(run_key=f"{ws}:collect:{tick.isoformat()}", partition_key=ws,
                                  tags={WORKSPACE_TAG: ws, TRIGGER_TAG: "eval-collect", AS_OF_TAG: tick.isoformat()})
                    for ws in due]

        schedules.append(genie_eval_runs_collect)
    return schedules
