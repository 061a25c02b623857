"""Pool slots (``concurrency.pool_slot``): a killed holder never keeps a slot, and every wait has a limit.

The instance is a real SQLite one in a temporary DAGSTER_HOME (the in-memory instance has no concurrency
tables), shared with the processes the tests start and kill. Waits on those processes are on events (a line
printed, a slot claimed); their limits are a safety net, never what is tested. No test sleeps for real or
asserts a duration: pool waits get a fake clock and a sleep that must not be called.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
import signal
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log.base import EventLogStorage
from dagster._core.test_utils import create_run_for_test

from genie_obs_dagster import concurrency
from genie_obs_dagster.code_location import build_definitions
from genie_obs_dagster.component import defs_yaml_for
from genie_obs_dagster.concurrency import (
    WAREHOUSE_POOL,
    PoolWaitTimeout,
    Process,
    api_pool,
    claim_key,
    pool_slot,
    process_state,
    reap_dead_holders,
    this_host,
    this_process,
)
from genie_obs_dagster.demo import materialize_range
from genie_obs_dagster.resources import WarehouseResource
from genie_obs_dagster.sandbox.system_tables import load_system_tables
from genie_obs_dagster.sensors import build_audit_sensor
from genie_obs_dagster.warehouse import TableNames
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

from .conftest import WORKSPACES, Env, make_scenario, make_settings
from .processes import SAFETY_S, WatchedProcess


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A DAGSTER_HOME whose pools default to 1 slot, as deploy/dagster.yaml sets it."""
    path = tmp_path / "dagster_home"
    path.mkdir()
    (path / "dagster.yaml").write_text("concurrency:\n  pools:\n    default_limit: 1\ntelemetry:\n  enabled: false\n")
    return path


@pytest.fixture
def instance(home: Path) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.from_config(str(home)) as inst:
        assert inst.event_log_storage.supports_global_concurrency_limits
        yield inst


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"waited {seconds}s for a slot that a dead process held")


def claims(instance: dg.DagsterInstance, pool: str, run_id: str) -> list[str]:
    """The run's held slots and queued claims on the pool."""
    info = instance.event_log_storage.get_concurrency_info(pool)
    return [s.step_key for s in info.claimed_slots if s.run_id == run_id] + \
        [s.step_key for s in info.pending_steps if s.run_id == run_id]


def failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    events = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert events, f"run {run_id} has no failure event"
    return events[-1].dagster_event.message or ""  # type: ignore[union-attr]


def start_child(script: str, home: Path, *args: str) -> WatchedProcess:
    """A Python process sharing the instance (not in a session of its own: ``kill`` takes the process only)."""
    return WatchedProcess.python(textwrap.dedent(script), *args, env={"DAGSTER_HOME": str(home)}, new_session=False)


# The process of a run executed in process (as `execute_in_process` does: its steps run in the orchestrating
# process, which says so in the engine event the reaper reads), holding a pool slot until it is killed.
HOLD_SCRIPT = """
    import os, sys, time
    import dagster as dg
    from dagster._core.events import EngineEventData
    from dagster._core.test_utils import create_run_for_test
    from genie_obs_dagster.concurrency import pool_slot

    pool, job = sys.argv[1], sys.argv[2]
    tags = {"genie_obs/workspace": sys.argv[3]} if len(sys.argv) > 3 else {}
    instance = dg.DagsterInstance.get()
    run = create_run_for_test(instance, job_name=job, status=dg.DagsterRunStatus.STARTED, tags=tags)
    instance.report_engine_event(f"Executing steps in process (pid: {os.getpid()})", run,
                                 EngineEventData.in_process(os.getpid()))
    with pool_slot(instance, run.run_id, "held_step", pool):
        print("held", run.run_id, flush=True)
        time.sleep(3600)
"""


def hold_then_kill(home: Path, pool: str, job: str = "genie_marts", *workspace: str) -> str:
    """A process that holds the pool's slot, killed with SIGKILL; the id of its run (left STARTED, tagged with the
    workspace if one is given, as the sensor's runs are)."""
    holder = start_child(HOLD_SCRIPT, home, pool, job, *workspace)
    try:
        run_id = holder.wait_for("held ", at_start=True).split()[1]
        assert holder.kill() == -signal.SIGKILL
    finally:
        holder.kill()
    return run_id


# -- the instance storage calls concurrency.py relies on ---------------------------------------------------------
def test_the_instance_storage_calls_we_use_still_exist(instance: dg.DagsterInstance) -> None:
    """concurrency.py claims and frees slots through instance storage methods that are not public API: a Dagster
    upgrade that removes or renames one of them, or a parameter we pass by name, fails here."""
    storage = instance.event_log_storage
    for name, params in concurrency.STORAGE_METHODS.items():
        for owner in (EventLogStorage, type(storage)):
            method = getattr(owner, name, None)
            assert callable(method), f"{owner.__name__}.{name} is gone"
            missing = set(params) - set(inspect.signature(method).parameters)
            assert not missing, f"{owner.__name__}.{name} no longer takes {sorted(missing)}"
    for name in concurrency.STORAGE_PROPERTIES:
        assert isinstance(getattr(EventLogStorage, name, None), property), f"EventLogStorage.{name} is gone"
    # What the reaper reads of the executors: the in-process one names its pid in this engine event.
    from dagster._core.executor import in_process, multiprocess

    assert "Executing steps in process (pid:" in inspect.getsource(in_process)
    assert "Executing steps using multiprocess executor" in inspect.getsource(multiprocess)


def test_a_claim_names_its_process_and_a_reused_pid_is_not_its_holder() -> None:
    me = this_process()
    assert claim_key("mart_messages", WAREHOUSE_POOL).endswith(f"[{WAREHOUSE_POOL}]@{me.token}")
    assert me.host == this_host() and me.pid == os.getpid()
    assert process_state(me) == concurrency.ALIVE
    if me.start:  # Linux: the start tick tells this process from a later one given the same pid
        boot, _, tick = me.start.partition(".")
        assert process_state(Process(me.host, me.pid, f"{boot}.{int(tick) + 1}")) == concurrency.GONE
        assert process_state(Process(me.host, me.pid, f"00000000.{tick}")) == concurrency.GONE  # an earlier boot
    assert process_state(Process("another-host", me.pid, me.start)) == concurrency.UNKNOWN  # never touched


# -- a killed holder -------------------------------------------------------------------------------------------------
def test_a_slot_held_by_a_killed_process_is_freed_at_once_and_its_run_fails(home: Path,
                                                                             instance: dg.DagsterInstance) -> None:
    """A run's process killed with SIGKILL while holding the warehouse slot: the next claim frees it on its first
    try (the fake sleep is never called), the dead run is marked failed saying why, and holds nothing."""
    dead = hold_then_kill(home, WAREHOUSE_POOL)
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.STARTED  # type: ignore[union-attr]
    assert claims(instance, WAREHOUSE_POOL, dead)

    nxt = create_run_for_test(instance, job_name="genie_audit_layer", status=dg.DagsterRunStatus.STARTED)
    said: list[str] = []
    with pool_slot(instance, nxt.run_id, "genie_audit_events", WAREHOUSE_POOL, progress=said.append,
                   sleep=no_sleep, wait_limit_s=60):
        assert claims(instance, WAREHOUSE_POOL, nxt.run_id)
    assert not claims(instance, WAREHOUSE_POOL, nxt.run_id)

    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE  # type: ignore[union-attr]
    why = failure_message(instance, dead)
    assert "is gone" in why and WAREHOUSE_POOL in why and "held_step" in why
    assert not claims(instance, WAREHOUSE_POOL, dead)
    assert any(dead in line and "freed" in line for line in said), said


def test_reap_dead_holders_frees_a_killed_api_holder(home: Path, instance: dg.DagsterInstance) -> None:
    """What a sensor tick can call: the slot of a killed process is freed, its run failed; live holders stay."""
    pool = api_pool(WORKSPACES[0])
    dead = hold_then_kill(home, pool, job="genie_ingest")
    live = create_run_for_test(instance, job_name="genie_ingest", status=dg.DagsterRunStatus.STARTED)
    other = api_pool(WORKSPACES[1])
    with pool_slot(instance, live.run_id, "genie_message_fetch", other, fallback_limit=1):
        done = reap_dead_holders(instance)
        assert len(done) == 1 and dead in done[0] and pool in done[0], done
        assert claims(instance, other, live.run_id)  # this process is alive: its slot stays
    assert not claims(instance, pool, dead)
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE  # type: ignore[union-attr]
    assert reap_dead_holders(instance) == []


def test_a_sensor_tick_fails_a_killed_run_and_plans_its_workspace_again(home: Path, instance: dg.DagsterInstance,
                                                                       env_factory: Callable[..., Env]) -> None:
    """A killed run stays STARTED: without the tick's clean-up the sensor would wait for it forever."""
    ws = WORKSPACES[0]
    dead = hold_then_kill(home, api_pool(ws), "genie_ingest", ws)
    env = env_factory()  # bronze is empty: every day of both workspaces differs from the source
    noon = dt.datetime.combine(env.last_day, dt.time(12), dt.timezone.utc)
    sensor = build_audit_sensor(env.settings, clock=lambda: noon)
    with dg.build_sensor_context(instance=instance, definitions=env.defs,
                                 resources={"warehouse": WarehouseResource.from_settings(env.settings)}) as ctx:
        data = sensor.evaluate_tick(ctx)
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE  # type: ignore[union-attr]
    assert not claims(instance, api_pool(ws), dead)
    assert {r.tags["genie_obs/workspace"] for r in data.run_requests or []} == set(WORKSPACES)


# -- a live holder ---------------------------------------------------------------------------------------------------
def test_a_wait_for_a_live_holder_ends_at_its_limit_naming_the_holder(instance: dg.DagsterInstance) -> None:
    holder = create_run_for_test(instance, job_name="genie_marts", status=dg.DagsterRunStatus.STARTED)
    waiter = create_run_for_test(instance, job_name="genie_audit_layer", status=dg.DagsterRunStatus.STARTED)
    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    said: list[str] = []
    with pool_slot(instance, holder.run_id, "mart_messages", WAREHOUSE_POOL):
        with pytest.raises(PoolWaitTimeout) as err, pool_slot(
                instance, waiter.run_id, "genie_audit_events", WAREHOUSE_POOL, progress=said.append, sleep=sleep,
                clock=lambda: now[0], wait_limit_s=300):
            pytest.fail("claimed a slot that a live run holds")
        assert claims(instance, WAREHOUSE_POOL, holder.run_id)  # never freed: its process (this one) is alive
        assert not claims(instance, WAREHOUSE_POOL, waiter.run_id)  # the queued claim was withdrawn
    message = err.value.description or ""
    for part in (WAREHOUSE_POOL, holder.run_id, "genie_marts", "mart_messages", "Deployment → Concurrency", "300"):
        assert part in message, (part, message)
    assert said and said[0].startswith(f"waiting for pool {WAREHOUSE_POOL}")
    assert holder.run_id in said[0] and "at most 300s" in said[0]
    assert sum(slept) == 300 and instance.get_run_by_id(holder.run_id).status == dg.DagsterRunStatus.STARTED  # type: ignore[union-attr]


# -- end to end: a run killed mid-materialization -----------------------------------------------------------------------
# A run of genie_audit_layer executed in process (as the demo and the CLI do), stuck in its first SQL write,
# i.e. while it holds the warehouse slot, until it is killed.
RUN_SCRIPT = """
    import datetime as dt, sys, time
    import dagster as dg
    from genie_obs_dagster.code_location import build_definitions
    from genie_obs_dagster.demo import materialize_range
    from genie_obs_dagster.resources import WarehouseResource
    from genie_obs_dagster.component import load_component_settings
    from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

    def stuck(self, *args, **kwargs):
        print("writing", flush=True)
        time.sleep(3600)

    DuckDBWarehouse.replace = stuck
    settings_file, ws, start, end = sys.argv[1:5]
    materialize_range(build_definitions(load_component_settings(settings_file)), "genie_audit_layer", ws,
                      dt.date.fromisoformat(start), dt.date.fromisoformat(end), dg.DagsterInstance.get())
"""


def test_a_run_killed_mid_materialization_does_not_block_the_next(tmp_path: Path, home: Path,
                                                                   instance: dg.DagsterInstance) -> None:
    scenario = make_scenario(days=2, questions_per_day=4)
    settings = make_settings(tmp_path / "wh.duckdb", automation={"pool_wait_timeout_s": 60})
    load_system_tables(DuckDBWarehouse(settings.warehouse.duckdb.path, TableNames.from_settings(settings)), scenario)
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(defs_yaml_for(settings))
    ws, start = WORKSPACES[0], scenario.start_date
    end = start + dt.timedelta(days=scenario.days - 1)

    run = start_child(RUN_SCRIPT, home, str(settings_file), ws, start.isoformat(), end.isoformat())
    try:
        deadline = time.monotonic() + SAFETY_S
        while not instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots:
            assert run.proc.poll() is None, "the run ended before it held the warehouse slot:\n" + run.tail()
            assert time.monotonic() < deadline, "safety limit passed before the run held the warehouse slot"
            time.sleep(0.1)
        killed = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots[0].run_id
        assert run.kill() == -signal.SIGKILL
    finally:
        run.kill()
    assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.STARTED  # type: ignore[union-attr]

    result = materialize_range(build_definitions(settings), "genie_audit_layer", ws, start, end, instance)
    assert result.success
    assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE  # type: ignore[union-attr]
    assert "is gone" in failure_message(instance, killed)
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    assert not info.claimed_slots and not info.pending_steps
