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
