"""The marts and the dashboard follow their upstream (``automation.marts_condition``, ``genie_marts_sensor``).

What a user checks: after ingest runs, the marts that read what changed and the dashboard are requested, once, in
one run; with nothing new upstream nothing is; at most one rebuild per hour however often upstream changes; while a
backfill (or a queued run) still has upstream partitions to write nothing is, and once it has finished one rebuild
is; a run the condition asks for waits for the warehouse pool like any other.
Also: the automation wiring (sensors, schedules, the manual job) and no import cycle in the package.

Ticks are evaluated with ``dg.evaluate_automation_conditions`` (what the daemon's automation condition sensor
evaluates) at times the test sets, an hour apart, so each tick passes exactly one ``:15`` (``MARTS_CRON``).
Nothing here waits on the wall clock.
"""

from __future__ import annotations

import ast
import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

from genie_obs_dagster.assets.marts import MART_GROUP, MARTS
from genie_obs_dagster.automation import (
    INGEST_JOB,
    MARTS_CRON,
    MARTS_JOB,
    RANGE_END_TAG,
    RANGE_START_TAG,
    TRIGGER_TAG,
)
from genie_obs_dagster.code_location import build_definitions
from genie_obs_dagster.concurrency import WAREHOUSE_POOL, pool_slot
from genie_obs_dagster.partitions import partition_key
from genie_obs_dagster.schedules import RECONCILE_SCHEDULE, SPACE_SCHEDULE
from genie_obs_dagster.sensors import MARTS_SENSOR_NAME, SENSOR_NAME

from .conftest import WORKSPACES, ApiEnv, make_scenario, make_settings
from .processes import REPO, SAFETY_S

UTC = dt.timezone.utc
# Every mart and the dashboard (the genie_marts group), the configuration-changes mart of the space lifecycle included.
REBUILD = {dg.AssetKey(m.name) for m in MARTS} | {dg.AssetKey("mart_space_config_changes"), dg.AssetKey("genie_dashboard_html")}
# What reads the ingest job's tables: all but the two marts of space configurations (genie_space_details only).
CONFIG_MARTS = {dg.AssetKey("mart_space_config_items"), dg.AssetKey("mart_space_config_versions")}
AFTER_INGEST = REBUILD - CONFIG_MARTS


class Ticks:
    """The marts' automation conditions evaluated tick after tick (keeping the cursor), an hour apart."""

    def __init__(self, env: ApiEnv, instance: dg.DagsterInstance | None = None):
        self.env = env
        self.instance = instance or env.instance
        # Ticks at :20 (five minutes after MARTS_CRON's :15) by default. Their times are ahead of the wall-clock
        # times of the runs between them, so a tick never sees a rebuild and a new upstream change at once: after
        # each rebuild, a tick takes note of it first (the daemon's ticks are a minute apart: the usual case).
        self.now = (dt.datetime.now(UTC) + dt.timedelta(hours=1)).replace(minute=20, second=0, microsecond=0)
        self.cursor = None
        self.requested: list[set[dg.AssetKey]] = []

    def tick(self, after: dt.timedelta = dt.timedelta(hours=1)) -> set[dg.AssetKey]:
        self.now += after
        result = dg.evaluate_automation_conditions(defs=self.env.defs, instance=self.instance, cursor=self.cursor,
                                                   evaluation_time=self.now)
        self.cursor = result.cursor
        keys = {k for k in self.env.defs.resolve_asset_graph().get_all_asset_keys() if result.get_num_requested(k)}
        assert result.total_requested == len(keys)  # unpartitioned: one request per asset at most
        self.requested.append(keys)
        return keys

    def run(self, keys: set[dg.AssetKey], instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
        """What the sensor launches for a tick's request: one run of those assets, with the sensor's run tags."""
        job = self.env.defs.resolve_implicit_global_asset_job_def()
        tags = dict(self.env.defs.resolve_sensor_def(MARTS_SENSOR_NAME).run_tags)
        return job.execute_in_process(instance=instance or self.instance, asset_selection=sorted(keys), tags=tags)


def range_tags(workspace_id: str, start: dt.date, end: dt.date) -> dict[str, str]:
    """A range run over one workspace's days, as a single-run backfill or the audit sensor launches it."""
    return {RANGE_START_TAG: str(partition_key(workspace_id, start)), RANGE_END_TAG: str(partition_key(workspace_id, end))}


def ingest(env: ApiEnv, workspace_id: str, start: dt.date, end: dt.date, **tags: str) -> None:
    job = env.defs.resolve_job_def(INGEST_JOB)
    assert job.execute_in_process(instance=env.instance, tags={**range_tags(workspace_id, start, end), **tags}).success


def materializations(instance: dg.DagsterInstance, key: str) -> int:
    return len(instance.fetch_materializations(dg.AssetKey(key), limit=1000).records)


# -- the condition, tick by tick -------------------------------------------------------------------------------
def test_the_marts_follow_their_upstream_once_per_change(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory()
    ticks = Ticks(env)
    assert ticks.tick() == set()  # the first evaluation only starts the bookkeeping
    assert ticks.tick() == set()  # a :15 passed, nothing upstream changed: no rebuild (the schedule rebuilt hourly)

    # Some partitions only (one workspace, two of five days): the other partitions are missing, which must not
    # hold the marts back (they rebuild from whatever the base tables hold).
    ingest(env, WORKSPACES[0], env.scenario.start_date, env.scenario.start_date + dt.timedelta(days=1))
    assert ticks.tick() == AFTER_INGEST  # what reads the ingest's tables, and the dashboard, in one tick (one run)
    result = ticks.run(AFTER_INGEST)
    assert result.success
    assert result.dagster_run.tags[TRIGGER_TAG] == "upstream-updated"
    marts = env.rows("SELECT COUNT(*) FROM main.genie_analytics.mart_messages")[0][0]
    assert marts == env.rows("SELECT COUNT(*) FROM main.genie_analytics.genie_messages_to_fetch")[0][0] > 0

    assert ticks.tick() == set()  # rebuilt: nothing new upstream, nothing requested
    assert ticks.tick() == set()

    # More upstream work: two runs (the sensor's burst), then one rebuild with everything.
    ingest(env, WORKSPACES[0], env.scenario.start_date + dt.timedelta(days=2), env.last_day)
    ingest(env, WORKSPACES[1], env.scenario.start_date, env.last_day)
    assert ticks.tick() == AFTER_INGEST
    assert ticks.run(AFTER_INGEST).success
    assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.mart_messages")[0][0] == \
        env.rows("SELECT COUNT(*) FROM main.genie_analytics.genie_messages_to_fetch")[0][0] > marts
    assert ticks.tick() == set()

    # Space configurations (the daily space refresh): every mart, the configuration marts included.
    env.refresh_spaces(WORKSPACES[0])
    assert ticks.tick() == REBUILD
    assert ticks.run(REBUILD).success
    assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.mart_space_config_versions")[0][0] > 0
    assert ticks.tick() == set()

    # A manual rebuild (the genie_marts job) counts as handled: no second rebuild for the same upstream change.
    ingest(env, WORKSPACES[1], env.last_day, env.last_day)
    assert env.defs.resolve_job_def(MARTS_JOB).execute_in_process(instance=env.instance).success
    assert ticks.tick() == set()


def test_at_most_one_rebuild_per_hour(api_env_factory: Callable[..., ApiEnv]) -> None:
    """Upstream runs every few minutes (the sensor's ticks): one rebuild per period of MARTS_CRON, not one per run."""
    assert MARTS_CRON == "15 * * * *"
    env = api_env_factory()
    ticks = Ticks(env)  # ticks at :20
    ticks.tick()
    days = [env.scenario.start_date + dt.timedelta(days=i) for i in range(env.scenario.days)]
    ingest(env, WORKSPACES[0], days[0], days[0])
    assert ticks.tick() == AFTER_INGEST
    assert ticks.run(AFTER_INGEST).success
    assert ticks.tick(dt.timedelta(minutes=1)) == set()  # :21
    for day in days[1:4]:  # :31, :41, :51: upstream changed, but no :15 passed since the rebuild
        ingest(env, WORKSPACES[0], day, day)
        assert ticks.tick(dt.timedelta(minutes=10)) == set()
    assert ticks.tick(dt.timedelta(minutes=29)) == AFTER_INGEST  # :20 of the next hour: everything since, in one rebuild


def test_a_backfill_in_flight_holds_the_rebuild_until_it_has_finished(api_env_factory: Callable[..., ApiEnv]) -> None:
    """An asset backfill over every ingest partition (like `genie-obs initial-load`, but without the marts, so that
    only the upstream guard holds them back): its runs land one workspace after the other, and the marts are
    rebuilt once, after the backfill has finished."""
    env = api_env_factory()
    ticks = Ticks(env)
    ticks.tick()
    graph = env.defs.resolve_asset_graph()
    ingest_keys = sorted(env.defs.resolve_job_def(INGEST_JOB).asset_layer.executable_asset_keys)
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=uuid.uuid4().hex[:8], asset_graph=graph, partition_names=None, asset_selection=ingest_keys,
        backfill_timestamp=time.time(), tags={}, dynamic_partitions_store=env.instance, all_partitions=True,
        title="initial load", description=None, run_config=None)
    env.instance.add_backfill(backfill)
    assert ticks.tick() == set()  # nothing written yet

    # The backfill's runs (single-run policy: one per workspace over its whole history), with ticks in between.
    for ws in WORKSPACES:
        ingest(env, ws, env.scenario.start_date, env.last_day, **{"dagster/backfill": backfill.backfill_id})
        assert ticks.tick() == set()  # upstream partitions still to be written: no rebuild
    assert ticks.tick(dt.timedelta(hours=3)) == set()

    env.instance.update_backfill(backfill.with_status(BulkActionStatus.COMPLETED_SUCCESS))
    assert ticks.tick(dt.timedelta(minutes=1)) == AFTER_INGEST  # once, right after the backfill (the period is open)
    assert ticks.run(AFTER_INGEST).success
    assert ticks.tick() == set()
    assert [r for r in ticks.requested if r] == [AFTER_INGEST]  # one rebuild in all


def test_a_queued_upstream_run_holds_the_rebuild(api_env_factory: Callable[..., ApiEnv]) -> None:
    """The sensor's burst: one workspace's run has finished, the other's is still queued. No rebuild until that
    run has ended too."""
    env = api_env_factory()
    ticks = Ticks(env)
    ticks.tick()
    ingest(env, WORKSPACES[0], env.scenario.start_date, env.last_day)
    job = env.defs.resolve_job_def(INGEST_JOB)
    # Created, not launched yet: its partitions are planned, as those of a QUEUED run are (only a finished run
    # releases them).
    queued = env.instance.create_run_for_job(job, tags=range_tags(WORKSPACES[1], env.scenario.start_date, env.last_day))
    assert queued.status == dg.DagsterRunStatus.NOT_STARTED
    assert ticks.tick() == set()
    env.instance.report_run_canceled(queued)  # it ends (here: cancelled; what it wrote would count the same)
    assert ticks.tick(dt.timedelta(minutes=1)) == AFTER_INGEST


# -- the runs it launches ----------------------------------------------------------------------------------------
def test_a_rebuild_the_condition_asks_for_waits_for_the_warehouse_pool(api_env_factory: Callable[..., ApiEnv],
                                                                       tmp_path: Path) -> None:
    """Same asset code as a manual run: each SQL step claims genie_obs_warehouse, so a run launched by the
    automation condition sensor queues behind another holder of the pool (the embedded file has one writer)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("concurrency:\n  pools:\n    default_limit: 1\ntelemetry:\n  enabled: false\n")
    env = api_env_factory(scenario=make_scenario(days=2, questions_per_day=4))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        ticks = Ticks(env, instance)
        ticks.tick()
        ingest_job = env.defs.resolve_job_def(INGEST_JOB)
        assert ingest_job.execute_in_process(instance=instance, tags=range_tags(
            WORKSPACES[0], env.scenario.start_date, env.last_day)).success
        keys = ticks.tick()
        assert keys == AFTER_INGEST
        done: list[dg.ExecuteInProcessResult] = []
        with pool_slot(instance, "another-run", "held_step", WAREHOUSE_POOL):
            rebuild = threading.Thread(target=lambda: done.append(ticks.run(keys, instance)))
            rebuild.start()
            # Wait on the event "a step of the rebuild is queued for the pool" (polled; the limit is a safety net).
            deadline = time.monotonic() + SAFETY_S
            while not instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).pending_steps:
                assert rebuild.is_alive() and time.monotonic() < deadline, "the rebuild never queued for the pool"
                time.sleep(0.05)
            assert materializations(instance, "mart_messages") == 0
        rebuild.join(SAFETY_S)
        assert not rebuild.is_alive() and done and done[0].success
        assert materializations(instance, "mart_messages") == 1
        info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        assert not info.claimed_slots and not info.pending_steps


# -- wiring --------------------------------------------------------------------------------------------------------
def test_the_marts_have_a_running_automation_sensor_a_manual_job_and_no_schedule(tmp_path: Path) -> None:
    defs = build_definitions(make_settings(tmp_path / "wh.duckdb"))
    repo = defs.get_repository_def()
    sensors = {s.name: s for s in repo.sensor_defs}
    assert set(sensors) == {SENSOR_NAME, MARTS_SENSOR_NAME}
    marts_sensor = sensors[MARTS_SENSOR_NAME]
    assert isinstance(marts_sensor, dg.AutomationConditionSensorDefinition)
    assert marts_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert marts_sensor.minimum_interval_seconds == 60
    assert marts_sensor.run_tags == {TRIGGER_TAG: "upstream-updated"}
    graph = defs.resolve_asset_graph()
    assert marts_sensor.asset_selection.resolve(graph) == REBUILD
    assert {k for k in graph.get_all_asset_keys() if graph.get(k).automation_condition is not None} == REBUILD
    assert {graph.get(k).group_name for k in REBUILD} == {MART_GROUP}
    assert {s.name for s in repo.schedule_defs} == {SPACE_SCHEDULE, RECONCILE_SCHEDULE}  # no hourly marts schedule
    assert set(defs.resolve_job_def(MARTS_JOB).asset_layer.executable_asset_keys) == REBUILD


def _package_imports(package: Path) -> dict[str, set[str]]:
    """module -> modules of the package it imports, counting imports inside functions (a lazy import hides a cycle
    from import time, not from the design) and leaving out ``if TYPE_CHECKING:`` blocks."""
    modules: dict[str, tuple[Path, bool]] = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text())
        type_only = {id(n) for node in ast.walk(tree)
                     if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
        targets: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in type_only:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets |= {f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module for a in node.names}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_in_the_package() -> None:
    graph = _package_imports(REPO / "genie_obs_dagster")
    assert {"genie_obs_dagster.automation", "genie_obs_dagster.sensors", "genie_obs_dagster.schedules"} <= set(graph)
    assert "genie_obs_dagster.automation" in graph["genie_obs_dagster.sensors"]  # the graph sees imports
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_lazy_import_cycle(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import X\n")
    (package / "b.py").write_text("X = 1\n\ndef wire():\n    from .a import X\n    return X\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import X\n")
    assert _cycles(_package_imports(package)) == [["pkg.a", "pkg.b"]]

