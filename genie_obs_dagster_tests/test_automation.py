"""Automation: the sensor (gaps, late data, pending messages, retryable errors, runs in progress, a busy
warehouse), the schedules, the run count of a full backfill, and concurrent runs on the embedded warehouse.

Scenarios here are dated relative to today (the sensor watches the last days), and the sensor's requests
are executed the way the daemon would launch them: the job, the request's tags and asset selection.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest

from genie_obs_dagster.automation import (
    FETCH_ASSETS,
    INGEST_JOB,
    TRIGGER_TAG,
    WORKSPACE_TAG,
    AuditPartition,
    FetchGroup,
    Observation,
    SensorCursor,
    plan_runs,
    workspaces_of_run,
)
from genie_obs_dagster.code_location import build_definitions
from genie_obs_dagster.concurrency import api_pool, workspace_api_slot
from genie_obs_dagster.resources import WarehouseResource
from genie_obs_dagster.sandbox.model import Scenario
from genie_obs_dagster.sandbox.server import Fault, SimConfig, SimulatedDatabricks, WorkspaceFaults
from genie_obs_dagster.sandbox.system_tables import load_system_tables
from genie_obs_dagster.schedules import RECONCILE_SCHEDULE, SPACE_SCHEDULE
from genie_obs_dagster.sensors import build_audit_sensor
from genie_obs_dagster.settings import AutomationSettings, Settings
from genie_obs_dagster.warehouse import TableNames
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

from .conftest import PRINCIPAL, WORKSPACES, make_scenario, make_settings
from .processes import REPO, SAFETY_S, WatchedProcess

NO_LIMIT = WorkspaceFaults(requests_per_second=None)
TODAY = dt.datetime.now(dt.timezone.utc).date()
START = TODAY - dt.timedelta(days=5)  # five days up to yesterday, all inside the sensor's 7-day window
BRONZE_VS_SOURCE = (
    "SELECT (SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events WHERE workspace_id = :w AND event_date = :d), "
    "(SELECT COUNT(*) FROM system.access.audit WHERE service_name = 'aibiGenie' AND workspace_id = :w AND event_date = :d)"
)


def recent_scenario(**kw: object) -> Scenario:
    return make_scenario(**{"start_date": START, "questions_per_day": 5, **kw})


class AutoEnv:
    """A scenario delivered up to ``as_of`` into a fresh warehouse, a simulated Databricks serving it, and
    the sensor with a clock the test moves. ``tick()`` evaluates the sensor as the daemon would (keeping
    its cursor); ``run()`` executes a request as the daemon would launch it."""

    def __init__(self, tmp: Path, scenario: Scenario, sim: SimulatedDatabricks, monkeypatch: pytest.MonkeyPatch,
                 as_of: dt.datetime | None, space_ids: dict[str, list[str]] | None = None, **overrides: object):
        monkeypatch.setenv("GENIE_OBS_CLIENT_ID", sim.client_id)
        monkeypatch.setenv("GENIE_OBS_CLIENT_SECRET", sim.client_secret)
        self.sim, self.scenario = sim, scenario
        workspaces = [{"id": w, "url": sim.urls[w], "space_ids": (space_ids or {}).get(w, [])} for w in WORKSPACES]
        overrides.setdefault("api", {"rate_per_s": 1000})
        self.settings: Settings = make_settings(tmp / "wh.duckdb", workspaces=workspaces,
                                                history={"start_date": scenario.start_date.isoformat()}, **overrides)
        self.wh = DuckDBWarehouse(self.settings.warehouse.duckdb.path, TableNames.from_settings(self.settings))
        load_system_tables(self.wh, scenario, as_of=as_of)
        self.defs = build_definitions(self.settings)
        self.instance = dg.DagsterInstance.ephemeral()
        self.now = dt.datetime.now(dt.timezone.utc)
        self.sensor = build_audit_sensor(self.settings, clock=lambda: self.now)
        self.cursor: str | None = None
        self.ran: list[dg.RunRequest] = []

    def tick(self) -> list[dg.RunRequest]:
        # The warehouse resource nests the Databricks client resource, so the context is opened as a context manager.
        with dg.build_sensor_context(instance=self.instance, cursor=self.cursor, definitions=self.defs,
                                     resources={"warehouse": WarehouseResource.from_settings(self.settings)}) as ctx:
            data = self.sensor.evaluate_tick(ctx)
        self.cursor = data.cursor
        self.skip_message = data.skip_message
        return list(data.run_requests or [])

    def run(self, request: dg.RunRequest, expect_success: bool = True) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def(INGEST_JOB)
        result = job.execute_in_process(instance=self.instance, tags=request.tags, raise_on_error=False,
                                        asset_selection=request.asset_selection)
        assert result.success is expect_success
        self.ran.append(request)
        return result

    def run_all(self, requests: list[dg.RunRequest]) -> None:
        for r in requests:
            self.run(r)

    def deliver(self, as_of: dt.datetime | None = None) -> int:
        return load_system_tables(self.wh, self.scenario, as_of=as_of)

    def bronze_matches_source(self, ws: str, day: dt.date) -> bool:
        bronze, source = self.wh.sql(BRONZE_VS_SOURCE, {"w": ws, "d": day})[0]
        return bronze == source


def requested(requests: list[dg.RunRequest]) -> dict[str, tuple[str, str, bool]]:
    """workspace -> (range start day, range end day, fetch only)."""
    out = {}
    for r in requests:
        start = r.tags["dagster/asset_partition_range_start"].split("|")[0]
        end = r.tags["dagster/asset_partition_range_end"].split("|")[0]
        out[r.tags[WORKSPACE_TAG]] = (start, end, r.asset_selection == list(FETCH_ASSETS))
    return out


@pytest.fixture
def auto_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AutoEnv]]:
    sims: list[SimulatedDatabricks] = []
    counter = iter(range(100))

    def make(scenario: Scenario | None = None, config: SimConfig | None = None,
             as_of: dt.datetime | None = None, **kw: object) -> AutoEnv:
        scenario = scenario or recent_scenario()
        sim = SimulatedDatabricks(scenario, config or SimConfig(faults=NO_LIMIT))
        sim.start()
        sims.append(sim)
        folder = tmp_path / f"auto{next(counter)}"
        folder.mkdir()
        return AutoEnv(folder, scenario, sim, monkeypatch, as_of, **kw)

    yield make
    for sim in sims:
        sim.stop()


# -- the sensor against the warehouse ---------------------------------------------------------------------
def test_days_never_loaded_are_requested_one_run_per_workspace_then_nothing(auto_env: Callable[..., AutoEnv]) -> None:
    env = auto_env()
    first = env.tick()  # nothing loaded yet: every day of the window that has rows differs from (empty) bronze
    assert requested(first) == {ws: (str(START), str(START + dt.timedelta(days=4)), False) for ws in WORKSPACES}
    assert all(r.tags[TRIGGER_TAG] == "audit" and r.run_key for r in first)
    env.run_all(first)
    assert env.tick() == []  # everything matches; the sim's own audit rows for our reads are not delivered yet
    assert "match the source" in env.skip_message
    # Our own reads, delivered later, never trigger a run (they change nothing in silver).
    assert env.deliver(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)) > 0
    assert env.tick() == []


def test_a_day_missed_by_the_scheduler_is_picked_up(auto_env: Callable[..., AutoEnv]) -> None:
    env = auto_env()
    first = [r for r in env.tick()]
    # Load the history except one day in the middle for workspace 0, as if its run had never happened.
    missed = START + dt.timedelta(days=2)
    for r in first:
        ws = r.tags[WORKSPACE_TAG]
        if ws == WORKSPACES[0]:
            for a, b in ((START, missed - dt.timedelta(days=1)), (missed + dt.timedelta(days=1), START + dt.timedelta(days=4))):
                env.run(dg.RunRequest(tags={**r.tags, "dagster/asset_partition_range_start": f"{a}|{ws}",
                                            "dagster/asset_partition_range_end": f"{b}|{ws}"}))
        else:
            env.run(r)
    env.cursor = None  # a fresh sensor (or a lost cursor) finds the gap all the same
    again = env.tick()
    assert requested(again) == {WORKSPACES[0]: (str(missed), str(missed), False)}
    env.run_all(again)
    assert env.bronze_matches_source(WORKSPACES[0], missed)
    assert env.tick() == []


def test_rows_of_an_old_day_arriving_two_days_late_are_picked_up(auto_env: Callable[..., AutoEnv]) -> None:
    scenario = recent_scenario()
    old_day = START + dt.timedelta(days=1)
    cutoff = dt.datetime.combine(START + dt.timedelta(days=3), dt.time(12), dt.timezone.utc)
    # Hold back every row of (workspace 0, old day) until two days after the cutoff; deliver the rest normally.
    held = [e for e in scenario.audit_events if e["workspace_id"] == WORKSPACES[0] and e["event_date"] == old_day]
    assert held
    for e in held:
        e["_delivered_at"] = cutoff + dt.timedelta(days=2)
    env = auto_env(scenario, as_of=cutoff)
    env.now = cutoff
    env.run_all(env.tick())
    assert env.tick() == []
    before = env.wh.sql("SELECT COUNT(*) FROM main.genie_analytics.genie_messages_to_fetch")[0][0]

    env.now = cutoff + dt.timedelta(days=2, hours=1)
    env.deliver(env.now)
    late = env.tick()
    got = requested(late)
    reason = next(r for r in late if r.tags[WORKSPACE_TAG] == WORKSPACES[0]).tags["genie_obs/reason"]
    assert reason.startswith(f"workspace {WORKSPACES[0]}") and str(old_day) in reason.split("audit rows changed on")[1]
    # Workspace 0's old day is requested (with the days that had ordinary late rows since the cutoff).
    assert WORKSPACES[0] in got and got[WORKSPACES[0]][0] <= str(old_day) <= got[WORKSPACES[0]][1]
    assert not got[WORKSPACES[0]][2]
    env.run_all(late)
    assert env.bronze_matches_source(WORKSPACES[0], old_day)
    assert env.wh.sql("SELECT COUNT(*) FROM main.genie_analytics.genie_messages_to_fetch")[0][0] > before
    assert env.tick() == []  # after the run: nothing more


def test_only_the_partitions_that_received_rows_are_requested(auto_env: Callable[..., AutoEnv]) -> None:
    """Late rows of one past day only: exactly that workspace and day, as a one-day run."""
    scenario = recent_scenario(late_fraction=0.0)
    day = START + dt.timedelta(days=2)
    victims = [e for e in scenario.audit_events if e["workspace_id"] == WORKSPACES[1] and e["event_date"] == day][:5]
    far = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
    for e in victims:
        e["_delivered_at"] = far
    env = auto_env(scenario, as_of=dt.datetime.now(dt.timezone.utc))
    env.run_all(env.tick())
    assert env.tick() == []
    env.deliver(far)  # the held rows, and the audit rows of our own API reads (which must not count)
    assert env.wh.sql("SELECT COUNT(*) FROM system.access.audit WHERE user_identity.email = :p", {"p": PRINCIPAL})[0][0]
    late = env.tick()
    assert requested(late) == {WORKSPACES[1]: (str(day), str(day), False)}
    env.run_all(late)
    assert env.tick() == []


def test_messages_not_final_yet_are_fetched_again_after_the_wait(auto_env: Callable[..., AutoEnv]) -> None:
    scenario = recent_scenario()
    last = max(scenario.messages, key=lambda m: m.created_at)
    clock = {"t": last.created_at + (last.final_at - last.created_at) / 3}
    env = auto_env(scenario, SimConfig(faults=NO_LIMIT, clock=lambda: clock["t"]),
                   automation={"retry_after_s": 600})
    env.run_all(env.tick())
    pending = env.rows_pending = env.wh.sql("SELECT workspace_id, message_id, first_seen_date FROM "
                                            "main.genie_analytics.message_details WHERE NOT is_final")
    assert (last.workspace_id, last.message_id) in {(r[0], r[1]) for r in pending}
    assert env.tick() == []  # fetched a moment ago: not yet
    assert "next message fetch retry due" in env.skip_message
    env.now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=601)
    retry = env.tick()
    days = {r[2] for r in pending if r[0] == last.workspace_id}
    assert requested(retry) == {last.workspace_id: (str(min(days)), str(max(days)), True)}
    clock["t"] = last.final_at + dt.timedelta(seconds=1)
    attempts = "SELECT SUM(fetch_attempts) FROM main.genie_analytics.message_details WHERE workspace_id = :w"
    before = env.wh.sql(attempts, {"w": last.workspace_id})[0][0]
    env.run_all(retry)  # exactly the pending messages are fetched again, once each
    assert env.wh.sql(attempts, {"w": last.workspace_id})[0][0] - before == len(
        [r for r in pending if r[0] == last.workspace_id])
    assert env.wh.sql("SELECT COUNT(*) FROM main.genie_analytics.message_details WHERE NOT is_final") == [(0,)]
    env.now += dt.timedelta(days=1)
    assert env.tick() == []


def test_retryable_errors_are_retried_and_permanent_ones_are_not(auto_env: Callable[..., AutoEnv]) -> None:
    scenario = recent_scenario()
    gone = next(s.space_id for s in scenario.spaces if s.workspace_id == WORKSPACES[1])
    faults = {
        WORKSPACES[0]: WorkspaceFaults(requests_per_second=None,
                                       faults=(Fault("500", kinds=frozenset({"get_message"}), limit=6),)),
        WORKSPACES[1]: WorkspaceFaults(requests_per_second=None, deleted_space_ids=frozenset({gone})),
    }
    env = auto_env(scenario, SimConfig(faults=NO_LIMIT, workspace_faults=faults),
                   api={"rate_per_s": 1000, "max_attempts": 1}, automation={"retry_after_s": 300})
    env.run_all(env.tick())
    errors = env.wh.sql("SELECT workspace_id, first_seen_date, permanent FROM main.genie_analytics.message_fetch_errors")
    retryable = [e for e in errors if not e[2]]
    assert retryable and {e[0] for e in retryable} == {WORKSPACES[0]}
    assert any(e[2] and e[0] == WORKSPACES[1] for e in errors)  # the deleted space's messages
    assert env.tick() == []  # they just failed: wait first
    env.now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=301)
    retry = env.tick()
    days = sorted({e[1] for e in retryable})
    assert requested(retry) == {WORKSPACES[0]: (str(days[0]), str(days[-1]), True)}  # not workspace 1
    env.run_all(retry)  # the fault budget is spent: the retry succeeds
    assert env.wh.sql("SELECT COUNT(*) FROM main.genie_analytics.message_fetch_errors "
                      "WHERE NOT permanent AND NOT resolved") == [(0,)]
    env.now += dt.timedelta(days=1)
    assert env.tick() == []  # the permanent errors never come back


def test_an_allow_list_is_applied_like_bronze_applies_it(auto_env: Callable[..., AutoEnv]) -> None:
    """With a space allow list, bronze keeps fewer rows than the source: the sensor must not see that as a
    difference forever (its source side filters exactly as bronze does)."""
    scenario = recent_scenario()
    keep = next(s.space_id for s in scenario.spaces if s.workspace_id == WORKSPACES[0])
    env = auto_env(scenario, space_ids={WORKSPACES[0]: [keep]})
    env.run_all(env.tick())
    assert env.tick() == []


def test_a_workspace_with_a_run_in_progress_is_left_alone(auto_env: Callable[..., AutoEnv]) -> None:
    from dagster._core.test_utils import create_run_for_test

    env = auto_env()
    create_run_for_test(env.instance, INGEST_JOB, status=dg.DagsterRunStatus.STARTED, tags={  # a backfill's run
        "dagster/asset_partition_range_start": f"{START}|{WORKSPACES[0]}",
        "dagster/asset_partition_range_end": f"{TODAY}|{WORKSPACES[0]}"})
    assert set(requested(env.tick())) == {WORKSPACES[1]}
    starting = create_run_for_test(env.instance, INGEST_JOB, status=dg.DagsterRunStatus.STARTING,
                                 tags={WORKSPACE_TAG: WORKSPACES[1]})
    assert env.tick() == []
    assert f"waiting for runs in progress: workspace {', '.join(sorted(WORKSPACES))}" in env.skip_message
    env.instance.report_run_canceled(starting)  # workspace 1's run went away without loading: asked again
    assert set(requested(env.tick())) == {WORKSPACES[1]}


def test_the_sensor_skips_while_a_run_holds_the_embedded_warehouse(auto_env: Callable[..., AutoEnv]) -> None:
    env = auto_env()
    env.sensor = build_audit_sensor(env.settings, clock=lambda: env.now, lock_timeout_s=0.5)
    holder = subprocess.Popen(  # another process with the DuckDB file open (what a run writing to it does)
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); "
         "sys.stdin.read()", env.settings.warehouse.duckdb.path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        assert env.tick() == []
        assert env.skip_message and env.skip_message.startswith("warehouse busy")
        assert env.cursor is None  # nothing learnt, nothing forgotten
    finally:
        holder.communicate("")
    assert len(env.tick()) == 2


# -- the planner (pure): repeated failures, cursor, in-flight parsing ---------------------------------------
def _partition(ws: str, day: dt.date, source: int, bronze: int) -> AuditPartition:
    t = dt.datetime.combine(day, dt.time(10), dt.timezone.utc)
    return AuditPartition(ws, day, source, t if source else None, bronze, t if bronze else None)


def test_an_unchanged_difference_is_asked_for_at_most_max_attempts_times() -> None:
    auto = AutomationSettings(max_attempts=2)
    obs = Observation((START, TODAY), (_partition("1", START, 10, 4), _partition("1", TODAY, 3, 3)), ())
    now = dt.datetime.now(dt.timezone.utc)
    cursor, keys = SensorCursor(), []
    for _ in range(2):  # the run fails twice (bronze unchanged): asked again, with a new run key
        plan = plan_runs(obs, cursor, set(), now, auto)
        assert [(r.workspace_id, r.start, r.end) for r in plan.runs] == [("1", START, START)]
        keys.append(plan.runs[0].run_key)
        cursor = SensorCursor.load(plan.cursor.dump())
    assert len(set(keys)) == 2
    plan = plan_runs(obs, cursor, set(), now, auto)  # a third failure: stop asking, say so
    assert plan.runs == [] and plan.gave_up == [f"workspace 1 {START} (audit)"]
    assert "max_attempts" in plan.summary((START, TODAY))
    cursor = SensorCursor.load(plan.cursor.dump())
    assert plan_runs(obs, cursor, set(), now, auto).runs == []  # and keeps not asking
    # New rows for that day: a new difference, asked for again.
    obs2 = Observation(obs.window, (_partition("1", START, 11, 4),), ())
    assert [r.start for r in plan_runs(obs2, cursor, set(), now, auto).runs] == [START]
    # In sync: the cursor forgets the day.
    obs3 = Observation(obs.window, (_partition("1", START, 11, 11),), ())
    assert SensorCursor.load(plan_runs(obs3, cursor, set(), now, auto).cursor.dump()).audit == {}


def test_audit_and_fetch_work_of_a_workspace_share_one_run() -> None:
    auto = AutomationSettings()
    now = dt.datetime.now(dt.timezone.utc)
    old = now - dt.timedelta(days=1)
    obs = Observation((START, TODAY), (_partition("1", TODAY, 5, 2),),
                      (FetchGroup("1", START, "retryable", 1, 3, old), FetchGroup("2", START, "pending", 1, 1, old),
                       FetchGroup("2", TODAY, "pending", 1, 1, now)))
    plan = plan_runs(obs, SensorCursor(), set(), now, auto)
    runs = {r.workspace_id: r for r in plan.runs}
    assert (runs["1"].start, runs["1"].end, runs["1"].fetch_only) == (START, TODAY, False)
    assert (runs["2"].start, runs["2"].end, runs["2"].fetch_only) == (START, START, True)  # today's: not due
    assert runs["2"].run_request().asset_selection == list(FETCH_ASSETS)
    assert plan.next_retry_at is not None and plan.next_retry_at > now
    assert plan_runs(obs, SensorCursor(), {"1", "2"}, now, auto).runs == []


def test_a_garbled_cursor_is_treated_as_empty() -> None:
    assert SensorCursor.load("{not json").audit == {}
    assert SensorCursor.load('{"v": 99, "audit": {"1": {}}}').audit == {}


def test_which_workspaces_a_run_works_on() -> None:
    ws = ["1", "2", "3"]
    assert workspaces_of_run({WORKSPACE_TAG: "2"}, ws) == {"2"}
    assert workspaces_of_run({"dagster/partition": "2026-03-02|3"}, ws) == {"3"}
    assert workspaces_of_run({"dagster/partition": "2"}, ws) == {"2"}  # space refresh (workspace partitions)
    assert workspaces_of_run({"dagster/asset_partition_range_start": "2026-03-02|1",
                              "dagster/asset_partition_range_end": "2026-03-09|1"}, ws) == {"1"}
    assert workspaces_of_run({"dagster/asset_partition_range_start": "2026-03-02|1",
                              "dagster/asset_partition_range_end": "2026-03-09|2"}, ws) == {"1", "2"}
    assert workspaces_of_run({}, ws) == set()


# -- schedules ---------------------------------------------------------------------------------------------
def test_schedules_yield_one_run_per_workspace(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "wh.duckdb", history={"start_date": START.isoformat()},
                             automation={"reconcile_days": 3})
    defs = build_definitions(settings)
    at = dt.datetime.combine(TODAY, dt.time(2, 30), dt.timezone.utc)
    with dg.instance_for_test() as instance:
        ctx = dg.build_schedule_context(instance=instance, scheduled_execution_time=at, repository_def=defs.get_repository_def())
        spaces = defs.resolve_schedule_def(SPACE_SCHEDULE).evaluate_tick(ctx).run_requests or []
        recon = defs.resolve_schedule_def(RECONCILE_SCHEDULE).evaluate_tick(ctx).run_requests or []
    assert sorted(r.partition_key for r in spaces) == sorted(WORKSPACES)
    assert {r.tags[WORKSPACE_TAG] for r in spaces} == set(WORKSPACES)
    assert requested(recon) == {ws: (str(TODAY - dt.timedelta(days=2)), str(TODAY), False) for ws in WORKSPACES}
    job = defs.resolve_job_def(INGEST_JOB)
    keys = job.partitions_def.get_partition_keys_in_range(  # type: ignore[union-attr]
        dg.PartitionKeyRange(recon[0].tags["dagster/asset_partition_range_start"],
                             recon[0].tags["dagster/asset_partition_range_end"]))
    assert len(keys) == 3 and {k.split("|")[1] for k in keys} == {recon[0].tags[WORKSPACE_TAG]}


# -- initial load: run count of a full asset backfill ------------------------------------------------------
def test_a_90_day_50_workspace_backfill_is_tens_of_runs(tmp_path: Path) -> None:
    """What the backfill daemon launches when every asset is backfilled over all partitions. The run
    requests come from the function the daemon itself calls (``build_run_requests_with_backfill_policies``,
    private; the UI test launches a real asset backfill through GraphQL and the daemon)."""
    from dagster._core.definitions.automation_tick_evaluation_context import (
        build_run_requests_with_backfill_policies,
    )
    from dagster._core.definitions.events import AssetKeyPartitionKey

    workspaces = [str(4_000_000_000_000_000 + i) for i in range(50)]
    first = TODAY - dt.timedelta(days=89)
    settings = make_settings(tmp_path / "wh.duckdb", history={"start_date": first.isoformat()},
                             workspaces=[{"id": w, "url": f"https://adb-{w}.7.azuredatabricks.net"} for w in workspaces])
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    selection = []
    for key in graph.get_all_asset_keys():
        pdef = graph.get(key).partitions_def
        selection += [AssetKeyPartitionKey(key, pk) for pk in (pdef.get_partition_keys() if pdef else [None])]
    ingest = set(defs.resolve_job_def(INGEST_JOB).asset_layer.executable_asset_keys)
    assert sum(1 for ap in selection if ap.asset_key in ingest) == len(ingest) * 90 * 50  # 18,000 asset partitions

    requests = build_run_requests_with_backfill_policies(selection, graph, dg.DagsterInstance.ephemeral())

    by_kind: dict[str, list[dg.RunRequest]] = {"range": [], "workspace": [], "unpartitioned": []}
    for r in requests:
        kind = ("range" if "dagster/asset_partition_range_start" in r.tags else
                "workspace" if "dagster/partition" in r.tags else "unpartitioned")
        by_kind[kind].append(r)
    # The (day x workspace) assets: one run per workspace over its 90 days, every ingest asset in it.
    assert {(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in by_kind["range"]} == {(f"{first}|{w}", f"{TODAY}|{w}") for w in workspaces}
    assert len(by_kind["range"]) == 50 and all(set(r.asset_selection or []) == ingest for r in by_kind["range"])
    # The workspace-partitioned API assets (space details, the listing cross-check): one run per workspace.
    assert sorted(r.tags["dagster/partition"] for r in by_kind["workspace"]) == sorted(workspaces)
    # Whatever is not partitioned (the marts) is one run; in all, tens of runs, not thousands.
    assert len(by_kind["unpartitioned"]) <= 1
    assert len(requests) <= 101


# -- concurrency -------------------------------------------------------------------------------------------
def test_the_api_pool_lets_one_run_per_workspace_call_it() -> None:
    """Two runs claim workspace A's pool: the second waits until the first releases; workspace B is free."""
    import threading

    with dg.instance_for_test() as instance:
        order: list[str] = []
        a_held, release_a = threading.Event(), threading.Event()

        def first() -> None:
            with workspace_api_slot(instance, "run-1", "step", "111"):
                order.append("run-1 in")
                a_held.set()
                assert release_a.wait(SAFETY_S)
                order.append("run-1 out")

        def second() -> None:
            with workspace_api_slot(instance, "run-2", "step", "111", sleep=lambda s: time.sleep(0.05)):
                order.append("run-2 in")

        t1 = threading.Thread(target=first)
        t1.start()
        assert a_held.wait(SAFETY_S)
        t2 = threading.Thread(target=second)
        t2.start()
        # Wait on the event "run-2 is queued for the pool" (polled; the limit is only a safety net).
        deadline = time.monotonic() + SAFETY_S
        while not instance.event_log_storage.get_concurrency_info(api_pool("111")).pending_steps:
            assert time.monotonic() < deadline, "the second run never queued for the pool"
            time.sleep(0.05)
        with workspace_api_slot(instance, "run-3", "step", "222"):
            order.append("run-3 in (other workspace)")
        assert "run-2 in" not in order
        release_a.set()
        t1.join(SAFETY_S)
        t2.join(SAFETY_S)
        assert not t1.is_alive() and not t2.is_alive()
        assert order == ["run-1 in", "run-3 in (other workspace)", "run-1 out", "run-2 in"]
        info = instance.event_log_storage.get_concurrency_info(api_pool("111"))
        assert info.slot_count == 1 and not info.claimed_slots and not info.pending_steps


RUN_SCRIPT = textwrap.dedent("""
    import json, logging, sys
    from pathlib import Path
    import dagster as dg
    from genie_obs_dagster.code_location import build_definitions
    from genie_obs_dagster.settings import parse_settings

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(message)s")
    settings_file, job_name, tags, selection = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
    job = build_definitions(parse_settings(json.loads(Path(settings_file).read_text()))).resolve_job_def(job_name)
    instance = dg.DagsterInstance.get() if "--shared-instance" in sys.argv else dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False,
                                    asset_selection=[dg.AssetKey(k) for k in selection] or None)
    print("RESULT", "success" if result.success else "failure", flush=True)
    sys.exit(0 if result.success else 1)
""")


def run_process(settings_file: Path, job: str, tags: dict[str, str], selection: list[str] | None = None,
                env: dict[str, str] | None = None, shared_instance: bool = False) -> WatchedProcess:
    """A run executed in its own process (as the daemon launches runs), with its log lines collected."""
    import json

    args = [str(settings_file), job, json.dumps(tags), json.dumps(selection or [])]
    return WatchedProcess.python(RUN_SCRIPT, *args, *(["--shared-instance"] if shared_instance else []), env=env)


def _settings_file(tmp: Path, settings: Settings) -> Path:
    """The settings as the mapping ``parse_settings`` takes, in a file a run process reads."""
    import json

    path = tmp / "settings.json"
    path.write_text(json.dumps(settings.model_dump(mode="json", by_alias=True, exclude_none=True)))
    return path


def test_two_runs_on_the_embedded_warehouse_queue_instead_of_failing(tmp_path: Path) -> None:
    """Two runs in two processes start while a third process holds the DuckDB file: both wait for the
    lock (they log it), then both finish, and each workspace's tables equal the ground truth."""
    import duckdb

    from genie_obs_dagster.demo import range_tags

    scenario = make_scenario()
    settings = make_settings(tmp_path / "wh.duckdb")
    wh = DuckDBWarehouse(settings.warehouse.duckdb.path, TableNames.from_settings(settings))
    load_system_tables(wh, scenario)
    settings_file = _settings_file(tmp_path, settings)
    last = scenario.start_date + dt.timedelta(days=scenario.days - 1)
    holder = duckdb.connect(settings.warehouse.duckdb.path)
    runs = []
    try:
        runs = [run_process(settings_file, "genie_audit_layer", range_tags(ws, scenario.start_date, last)) for ws in WORKSPACES]
        for run in runs:
            run.wait_for("is locked by another writer; waiting")
    finally:
        holder.close()
    codes = [run.finish() for run in runs]
    assert codes == [0, 0], "\n".join(line for run in runs for line in run.lines[-20:])
    assert all(run.saw("RESULT success") for run in runs)
    got = {(r[0], r[1]): r[2] for r in wh.sql(
        "SELECT workspace_id, message_id, first_seen_date FROM main.genie_analytics.genie_messages_to_fetch")}
    truth = scenario.expected_messages_to_fetch()
    assert got == {k: t.first_seen_date for k, t in truth.items()}


def test_api_work_waits_for_the_workspace_pool_held_by_another_run(tmp_path: Path) -> None:
    """A fetch run in its own process, on a shared instance, while another run holds the workspace's API
    pool: it queues for the slot and sends not one request to that workspace until the slot is free."""
    from dagster._core.test_utils import create_run_for_test

    from genie_obs_dagster.demo import range_tags

    scenario = make_scenario()
    home = tmp_path / "dagster_home"
    home.mkdir()
    with SimulatedDatabricks(scenario, SimConfig(faults=NO_LIMIT)) as sim, \
            dg.instance_for_test(temp_dir=str(home)) as instance:
        workspaces = [{"id": w, "url": sim.urls[w]} for w in WORKSPACES]
        settings = make_settings(tmp_path / "wh.duckdb", workspaces=workspaces, api={"rate_per_s": 1000})
        wh = DuckDBWarehouse(settings.warehouse.duckdb.path, TableNames.from_settings(settings))
        load_system_tables(wh, scenario)
        last = scenario.start_date + dt.timedelta(days=scenario.days - 1)
        tags = range_tags(WORKSPACES[0], scenario.start_date, last)
        audit = build_definitions(settings).resolve_job_def("genie_audit_layer")
        assert audit.execute_in_process(instance=dg.DagsterInstance.ephemeral(), tags=tags).success  # messages listed

        other = create_run_for_test(instance, INGEST_JOB, status=dg.DagsterRunStatus.STARTED)
        pool = api_pool(WORKSPACES[0])
        with workspace_api_slot(instance, other.run_id, "genie_message_fetch", WORKSPACES[0]):
            run = run_process(_settings_file(tmp_path, settings), INGEST_JOB, tags,
                             [k.to_user_string() for k in FETCH_ASSETS], shared_instance=True,
                             env={"DAGSTER_HOME": str(home), "GENIE_OBS_CLIENT_ID": sim.client_id,
                                  "GENIE_OBS_CLIENT_SECRET": sim.client_secret})
            run.wait_for(f"waiting for pool {pool}")
            assert [s.run_id for s in instance.event_log_storage.get_concurrency_info(pool).pending_steps] != []
            assert sim.stats(WORKSPACES[0]).by_kind.get("get_message", 0) == 0
        assert run.finish() == 0, "\n".join(run.lines[-30:])
        assert sim.stats(WORKSPACES[0]).by_kind.get("get_message", 0) > 0
        assert wh.sql("SELECT COUNT(*) FROM main.genie_analytics.message_details WHERE workspace_id = :w",
                      {"w": WORKSPACES[0]})[0][0] > 0
        info = instance.event_log_storage.get_concurrency_info(pool)
        assert info.slot_count == 1 and not info.claimed_slots and not info.pending_steps


def test_run_sensor_once_executes_what_the_sensor_asks(auto_env: Callable[..., AutoEnv]) -> None:
    """The helper the demo uses: one tick, its runs executed in process; the next tick has nothing to do."""
    from genie_obs_dagster.sensors import run_sensor_once

    env = auto_env()
    done, cursor, _ = run_sensor_once(env.defs, env.settings, env.instance)
    assert sorted(r.tags[WORKSPACE_TAG] for r, _ in done) == sorted(WORKSPACES)
    assert all(result.success for _, result in done)
    again, _, skip = run_sensor_once(env.defs, env.settings, env.instance, cursor)
    assert again == [] and skip and "match the source" in skip


def test_the_dev_instance_settings_queue_runs_per_workspace_and_pool_the_warehouse(tmp_path: Path) -> None:
    """deploy/dagster.yaml (copied to DAGSTER_HOME by the Makefile) loads, and says what README promises."""
    import shutil

    shutil.copy(REPO / "deploy" / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        config = instance.get_concurrency_config()
        assert config.pool_config.default_pool_limit == 1  # genie_obs_warehouse and genie_api_<workspace>
        assert config.run_queue_config is not None
        assert {"key": WORKSPACE_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in \
            config.run_queue_config.tag_concurrency_limits
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.event_log_storage.supports_global_concurrency_limits
        with workspace_api_slot(instance, "run-1", "step", "111"):
            assert instance.event_log_storage.get_concurrency_info(api_pool("111")).slot_count == 1
