"""The sensors: ``genie_audit_sensor`` keeps the (workspace, day) partitions of the last days equal to the source,
and finds days before them (since the history start) with audit rows missing from bronze; ``genie_marts_sensor``
rebuilds the marts and the dashboard after their upstream changed.

Thin wiring over :mod:`genie_obs_dagster.automation`, which holds the decisions and their reasons. The audit
sensor is a plain sensor because it compares an external source (``system.access.audit``) with bronze, which no
automation condition can see; the marts only depend on our own assets, so a condition does it.
"""

# No `from __future__ import annotations` here: Dagster inspects the sensor function's type hints at runtime.

import datetime as dt
from collections.abc import Callable

import dagster as dg

from .assets.marts import MART_GROUP
from .automation import (
    INGEST_JOB,
    TRIGGER_TAG,
    SensorCursor,
    observe,
    plan_runs,
    watch_window,
    workspaces_in_flight,
)
from .concurrency import WAREHOUSE_POOL, api_pool, reap_dead_holders
from .resources import WarehouseResource
from .settings import Settings
from .warehouse import WarehouseBusy

SENSOR_NAME = "genie_audit_sensor"
MARTS_SENSOR_NAME = "genie_marts_sensor"
# How often the marts' conditions are evaluated. A tick reads only the Dagster instance (the status of every
# upstream partition), never the warehouse; the condition itself limits rebuilds to one per hour, so a minute
# only bounds how long a settled upstream waits for its rebuild.
MARTS_SENSOR_INTERVAL_S = 60
# A tick must stay well under the 60 s sensor timeout; a run holding the embedded file is a reason to come
# back next tick, not to wait.
LOCK_TIMEOUT_S = 5.0
IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def build_audit_sensor(settings: Settings, clock: Callable[[], dt.datetime] = _utc_now,
                       lock_timeout_s: float = LOCK_TIMEOUT_S) -> dg.SensorDefinition:
    auto = settings.automation
    interval = auto.interval_s(settings.warehouse.backend)

    @dg.sensor(
        name=SENSOR_NAME,
        job_name=INGEST_JOB,
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Every {interval}s: compares the source audit log with bronze for each workspace and day of "
            f"the last {auto.lookback_days} days and requests genie_ingest runs per workspace over the days that "
            "differ (new rows, late rows for old days, days never loaded); once an hour also checks every day since "
            "the history start for audit rows missing from bronze (a scheduler down longer than the window, a "
            "workspace added without its initial load, rows arriving after their day left the window) and requests "
            "those days. Requests fetch-only runs for messages not final yet, never fetched or with retryable fetch "
            "errors (waiting longer after each attempt). Skips a workspace while one of its runs is in progress, "
            "and skips the tick while a run holds the embedded warehouse."
        ),
    )
    def genie_audit_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        now = clock()
        window = watch_window(settings, now.date())
        cursor = SensorCursor.load(context.cursor)
        try:
            obs = observe(warehouse.for_sensor(lock_timeout_s), settings, window,
                          check_gaps=cursor.gap_check_due(now))
        except WarehouseBusy:
            return dg.SkipReason("warehouse busy: a run is writing to the embedded DuckDB file; looking again next tick")
        # A run killed outside the daemon (kill -9 of the demo, the CLI, an in-process run) stays "started" and keeps
        # its pool slots: free them and fail it first, so that it neither blocks its workspace here nor the queue.
        for line in reap_dead_holders(context.instance, [WAREHOUSE_POOL, *map(api_pool, settings.workspace_ids)]):
            context.log.warning(line)
        running = context.instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS), limit=1000)
        in_flight = workspaces_in_flight((r.tags for r in running), settings.workspace_ids)
        plan = plan_runs(obs, cursor, in_flight, now, auto)
        gaps = plan.gap_summary()
        if gaps and plan.gaps:
            context.log.warning(gaps)
        for run in plan.runs:
            context.log.info(f"requesting {'a fetch-only' if run.fetch_only else 'a genie_ingest'} run: {run.describe()}")
        if not plan.runs:
            return dg.SensorResult(skip_reason=dg.SkipReason(plan.summary(window)), cursor=plan.cursor.dump())
        return dg.SensorResult(run_requests=[r.run_request() for r in plan.runs], cursor=plan.cursor.dump())

    return genie_audit_sensor


def build_marts_sensor() -> dg.AutomationConditionSensorDefinition:
    """Evaluates the automation condition of the marts and the dashboard (``automation.marts_condition``), in the
    daemon (the asset daemon of ``dagster dev`` / ``dagster-daemon run``), and requests one run for whatever is
    due. Its runs carry ``genie_obs/trigger: upstream-updated`` and go through the same asset code as a manual
    ``genie_marts`` run: every SQL step claims the ``genie_obs_warehouse`` pool (``WarehouseResource.session``)."""
    return dg.AutomationConditionSensorDefinition(
        MARTS_SENSOR_NAME,
        target=dg.AssetSelection.groups(MART_GROUP),
        run_tags={TRIGGER_TAG: "upstream-updated"},
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=MARTS_SENSOR_INTERVAL_S,
        description="Rebuilds the marts and the local dashboard once the base tables they read changed: at most "
        "once an hour, never while a run or a backfill is still writing their upstream, nothing when nothing changed.",
    )


def run_sensor_once(defs: dg.Definitions, settings: Settings, instance: dg.DagsterInstance,
                    cursor: str | None = None, clock: Callable[[], dt.datetime] = _utc_now,
                    ) -> tuple[list[tuple[dg.RunRequest, dg.ExecuteInProcessResult]], str | None, str | None]:
    """One tick evaluated and its runs executed in this process, as the daemon would launch them (the demo
    and tests use it; in production the daemon does this every tick). Returns (request, result) pairs, the
    new cursor and the skip message."""
    sensor = build_audit_sensor(settings, clock)
    with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs,
                                 resources={"warehouse": WarehouseResource.from_settings(settings)}) as ctx:
        data = sensor.evaluate_tick(ctx)
    job = defs.resolve_job_def(INGEST_JOB)
    done = [(r, job.execute_in_process(instance=instance, tags=r.tags, asset_selection=r.asset_selection,
                                       raise_on_error=False)) for r in data.run_requests or []]
    return done, data.cursor, data.skip_message
