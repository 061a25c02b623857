"""Pool slots claimed by our own code: one mechanism for the warehouse pool and the per-workspace API pools.

Two kinds of pools share the instance-wide semaphore Dagster keeps for ``pool=`` (the same tables: the UI's
Deployment → Concurrency page shows holders and waiters, ``dagster instance concurrency set`` changes a limit):

- ``genie_obs_warehouse``: the SQL steps (the embedded DuckDB file has a single writer). Claimed around a step's
  SQL work by ``WarehouseResource.session``. Like a static ``pool=``, it takes the instance's
  ``concurrency.pools.default_limit`` (or an operator's limit) and is not limited when neither is set.
- ``genie_api_<workspace_id>``: one API caller per workspace at a time, across every run, so each Genie client's
  request budget (rate, threads) is the workspace's whole budget. A static ``pool=`` could only serialize all
  workspaces together, so the API assets claim the workspace's pool while they call it (``slot_guard``). A pool
  without a limit gets the instance default or, failing that, 1. Keep these at 1.

Why not ``pool=`` on the SQL assets: Dagster's executor waits for those slots with no limit and no hook, so a
run killed with SIGKILL outside the daemon (the demo, the CLI, ``execute_in_process``) kept its slot and every
later SQL step waited forever. Here every wait is bounded (``automation.pool_wait_timeout_s``; the error names
the holders and what to do) and, while waiting, dead holders are reaped:

- a claim's step key records the claiming process (``<step>[<pool>]@<host>/<pid>/<start>``; the host part
  includes the pid namespace, the start is the boot id and the start tick from ``/proc/<pid>/stat``, so a
  reused pid is never taken for the holder; elsewhere the pid alone);
- a slot (or queued claim) of a run that has finished is freed, unless its process is known to be alive;
- a slot (or queued claim) whose process was on this host and is gone is freed; if its run is still
  STARTING/STARTED and the run's orchestrating process (in-process or multiprocess executor: same host, pid
  from the "Executing steps ..." engine event) is gone too, the run is reported failed, which also releases
  the sensor's per-workspace hold and the run queue's tag limit;
- claims of processes on other hosts are never touched (the daemon's run monitoring handles those).

Slots are released as soon as the work is done and never held while waiting for another pool's slot, so two
runs cannot deadlock on each other. The few instance-storage calls this needs are not public Dagster API;
they are all in the "storage" section below, listed in ``STORAGE_METHODS``, and a test checks them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

log = logging.getLogger(__name__)

WAREHOUSE_POOL = "genie_obs_warehouse"
API_POOL_PREFIX = "genie_api_"
DEFAULT_API_POOL_LIMIT = 1
DEFAULT_POOL_WAIT_TIMEOUT_S = 3600
_MAX_POLL_S = 5.0
_ACTIVE = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED)
# The engine events of the executors whose steps all run on the orchestrator's host (their pid is the
# orchestrator's); emitted by dagster/_core/executor/in_process.py and multiprocess.py.
_ORCHESTRATOR_EVENTS = ("Executing steps in process", "Executing steps using multiprocess executor")


def api_pool(workspace_id: str) -> str:
    """The pool that serializes API work for one workspace (workspace ids are digits only)."""
    return f"{API_POOL_PREFIX}{workspace_id}"


def is_our_pool(pool: str) -> bool:
    return pool == WAREHOUSE_POOL or pool.startswith(API_POOL_PREFIX)


class PoolWaitTimeout(dg.Failure):
    """A step waited longer than ``automation.pool_wait_timeout_s`` for a pool slot."""


# -- storage: the only calls to Dagster's instance storage (not public API) -------------------------------
# name -> the parameters we pass by keyword; test_pool_slots.py checks them against the installed Dagster.
STORAGE_METHODS: dict[str, tuple[str, ...]] = {
    "claim_concurrency_slot": ("concurrency_key", "run_id", "step_key"),
    "free_concurrency_slot_for_step": ("run_id", "step_key"),
    "get_concurrency_infos": ("concurrency_keys",),
    "get_concurrency_keys": (),
    "get_pool_limits": (),
    "initialize_concurrency_limit_to_default": ("concurrency_key",),
    "set_concurrency_slots": ("concurrency_key", "num"),
}
STORAGE_PROPERTIES = ("supports_global_concurrency_limits",)


def _supported(instance: dg.DagsterInstance) -> bool:
    return bool(instance.event_log_storage.supports_global_concurrency_limits)


def _ensure_limit(instance: dg.DagsterInstance, pool: str, fallback: int | None) -> bool:
    """Give the pool its limit the way Dagster does for ``pool=`` (the instance default, kept in step with a
    changed default; an operator's limit is never overridden); without a default, ``fallback``. False when
    the pool has no limit at all (then nothing is claimed, as for an unlimited ``pool=``)."""
    storage = instance.event_log_storage
    default = instance.global_op_concurrency_default_limit
    current = next((p for p in storage.get_pool_limits() if p.name == pool), None)
    if default is not None and (current is None or (current.from_default and current.limit != default)):
        storage.initialize_concurrency_limit_to_default(concurrency_key=pool)
        return True
    if current is not None:
        return True
    if fallback is None:
        return False
    storage.set_concurrency_slots(concurrency_key=pool, num=fallback)
    return True


def _claim(instance: dg.DagsterInstance, pool: str, run_id: str, key: str) -> Any:
    return instance.event_log_storage.claim_concurrency_slot(concurrency_key=pool, run_id=run_id, step_key=key)


def _free(instance: dg.DagsterInstance, run_id: str, key: str) -> None:
    """Free the step's slot, or withdraw its queued claim (then the next claim in the queue is assigned)."""
    instance.event_log_storage.free_concurrency_slot_for_step(run_id=run_id, step_key=key)


def _infos(instance: dg.DagsterInstance, pools: Sequence[str]) -> dict[str, Any]:
    return dict(instance.event_log_storage.get_concurrency_infos(concurrency_keys=list(pools)))


def _our_pools(instance: dg.DagsterInstance) -> list[str]:
    return sorted(p for p in instance.event_log_storage.get_concurrency_keys() if is_our_pool(p))


# -- the claiming process --------------------------------------------------------------------------------
def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return None


@functools.cache
def _boot_id() -> str:
    return (_read("/proc/sys/kernel/random/boot_id") or "").strip().replace("-", "")[:8]


@functools.cache
def this_host() -> str:
    """Host name, plus the pid namespace where there is one (containers sharing a host name)."""
    host = re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "localhost"
    try:
        ns = re.sub(r"\D", "", os.readlink("/proc/self/ns/pid"))
    except OSError:
        ns = ""
    return f"{host}~{ns}" if ns else host


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start tick since boot) of a process from /proc/<pid>/stat, None when there is no such process."""
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    fields = text.rpartition(")")[2].split()  # the command name (field 2) may hold spaces and parentheses
    return fields[0], int(fields[19])  # fields 3 (state) and 22 (starttime)


def _has_proc() -> bool:
    return bool(_boot_id()) and os.path.isdir("/proc/self")


@dataclass(frozen=True)
class Process:
    host: str
    pid: int
    start: str  # "<boot id>.<start tick>" on Linux, "" where unknown

    @property
    def token(self) -> str:
        return f"{self.host}/{self.pid}/{self.start or '?'}"

    @property
    def start_tick(self) -> int | None:
        boot, _, tick = self.start.partition(".")
        return int(tick) if boot and tick.isdigit() else None


def this_process() -> Process:
    pid = os.getpid()
    stat = _proc_stat(pid) if _has_proc() else None
    return Process(this_host(), pid, f"{_boot_id()}.{stat[1]}" if stat else "")


_KEY_RE = re.compile(r"^(?P<step>.*)\[(?P<pool>[^\[\]]+)\]@(?P<host>[^/@]+)/(?P<pid>\d+)/(?P<start>[^/]*)$")


def claim_key(step_key: str, pool: str, process: Process | None = None) -> str:
    """The step key a claim is stored under: ``<step>[<pool>]@<host>/<pid>/<start>``."""
    return f"{step_key}[{pool}]@{(process or this_process()).token}"


def parse_claim_key(key: str) -> tuple[str, Process | None]:
    """(step, claiming process) of a stored step key; a claim made otherwise (``pool=``, older code): no process."""
    m = _KEY_RE.match(key)
    if not m:
        return key.split("[", 1)[0], None
    start = "" if m["start"] == "?" else m["start"]
    return m["step"], Process(m["host"], int(m["pid"]), start)


ALIVE, GONE, UNKNOWN = "alive", "gone", "unknown"


def _signal0(pid: int) -> str:
    """Whether a pid exists, asking the kernel (signal 0 sends nothing)."""
    if os.name != "posix":
        return UNKNOWN  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return GONE
    except PermissionError:
        return ALIVE
    except OSError:
        return UNKNOWN
    return ALIVE


def _missing(pid: int) -> str:
    """A pid /proc does not show: gone, unless the kernel still knows it (/proc mounted with hidepid)."""
    return GONE if _signal0(pid) == GONE else UNKNOWN


def _pid_state(pid: int, started_by_tick: int | None = None) -> str:
    """Whether a process of this host is alive; with ``started_by_tick``, a process that started later (the pid
    was reused) counts as gone."""
    if not _has_proc():
        return _signal0(pid)
    stat = _proc_stat(pid)
    if stat is None:
        return _missing(pid)
    if stat[0] in ("Z", "X"):
        return GONE
    return GONE if started_by_tick is not None and stat[1] > started_by_tick else ALIVE


def process_state(process: Process | None) -> str:
    """ALIVE, GONE or UNKNOWN (another host, or no way to tell) for a claim's process."""
    if process is None or process.host != this_host():
        return UNKNOWN
    if process.start:
        boot, _, tick = process.start.partition(".")
        if not _has_proc():
            return UNKNOWN
        if boot != _boot_id():
            return GONE  # claimed before this host last booted
        stat = _proc_stat(process.pid)
        if stat is None:
            return _missing(process.pid)
        if stat[0] in ("Z", "X") or str(stat[1]) != tick:
            return GONE  # exited, or its pid now belongs to a newer process
        return ALIVE
    return _pid_state(process.pid)


# -- holders -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Holder:
    """A claim on a pool: a held slot, or a place in its queue."""

    pool: str
    run_id: str
    key: str
    holds: bool  # holds a slot (False: queued)
    since: dt.datetime | None  # when the slot was assigned (held) or the claim queued
    job: str = "?"

    @property
    def step(self) -> str:
        return parse_claim_key(self.key)[0]

    @property
    def process(self) -> Process | None:
        return parse_claim_key(self.key)[1]

    def describe(self) -> str:
        p = self.process
        where = f", pid {p.pid} on {p.host}" if p else ""
        since = f" since {self.since:%Y-%m-%d %H:%M:%S} UTC" if self.since else ""
        return f"run {self.run_id} (job {self.job}, step {self.step}{where}){since}"


def _holders(infos: dict[str, Any]) -> list[Holder]:
    out = []
    for pool, info in infos.items():
        held = {(s.run_id, s.step_key) for s in info.claimed_slots}
        seen = set()
        for p in info.pending_steps:
            holds = (p.run_id, p.step_key) in held
            seen.add((p.run_id, p.step_key))
            out.append(Holder(pool, p.run_id, p.step_key, holds,
                              p.assigned_timestamp if holds else p.enqueued_timestamp))
        out += [Holder(pool, r, k, True, None) for r, k in held - seen]
    return out


def _runs(instance: dg.DagsterInstance, run_ids: Iterable[str]) -> dict[str, dg.DagsterRun]:
    ids = sorted(set(run_ids))
    return {r.run_id: r for r in instance.get_runs(dg.RunsFilter(run_ids=ids))} if ids else {}


def _orchestrator_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the process executing the run's steps, when its executor runs them all on its own host."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=50).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None or not (event.message or "").startswith(_ORCHESTRATOR_EVENTS):
            continue
        pid = event.engine_event_data.metadata.get("pid")
        text = getattr(pid, "value", pid)
        if isinstance(text, (str, int)) and str(text).isdigit():
            return int(text)
    return None


def _orchestrator_gone(instance: dg.DagsterInstance, run: dg.DagsterRun, claimer: Process) -> tuple[bool, int | None]:
    pid = _orchestrator_pid(instance, run.run_id)
    if pid is None:
        return False, None  # another executor: the orchestrator may be elsewhere; run monitoring's business
    if pid == claimer.pid:
        return True, pid  # the in-process executor: the claimer was the orchestrator
    # A multiprocess executor's steps are its children: it started no later than the claimer.
    return _pid_state(pid, claimer.start_tick) == GONE, pid


def _reap(instance: dg.DagsterInstance, pools: Sequence[str], keep: str | None = None) -> tuple[list[str], list[Holder]]:
    """Free the claims of finished runs and dead processes in ``pools``; report failed the runs whose
    orchestrating process is gone. Returns (what was done, the claims left)."""
    infos = _infos(instance, pools)
    claims = _holders(infos)
    runs = _runs(instance, (c.run_id for c in claims))
    done: list[str] = []
    failed: set[str] = set()
    left: list[Holder] = []
    for c in claims:
        run = runs.get(c.run_id)
        c = Holder(c.pool, c.run_id, c.key, c.holds, c.since, run.job_name if run else "?")
        state = UNKNOWN if c.key == keep else process_state(c.process)
        what = "slot" if c.holds else "queued claim"
        if state == GONE:
            proc = c.process
            assert proc is not None
            why = f"its process (pid {proc.pid} on {proc.host}) is gone"
            if run is not None and run.status in _ACTIVE and c.run_id not in failed:
                gone, orch = _orchestrator_gone(instance, run, proc)
                run = instance.get_run_by_id(c.run_id) if gone else run  # another waiter may have reported it
                if gone and run is not None and run.status in _ACTIVE:
                    instance.report_run_failed(run, (
                        f"The process running this run (pid {orch} on {proc.host}) is gone (killed?) while step "
                        f"{c.step} held a claim on pool {c.pool}; marked failed by genie_obs and its pool slots "
                        f"freed so that other runs can go on."))
                    failed.add(c.run_id)
                    why += "; the run's process is gone too, so the run was marked failed"
            _free(instance, c.run_id, c.key)
            done.append(f"pool {c.pool}: freed the {what} of {c.describe()}: {why}")
        elif state != ALIVE and run is not None and run.is_finished and c.key != keep:
            _free(instance, c.run_id, c.key)
            done.append(f"pool {c.pool}: freed the {what} of {c.describe()}: the run has ended ({run.status.value})")
        else:
            left.append(c)
    for m in done:
        log.warning(m)
    return done, left


def reap_dead_holders(instance: dg.DagsterInstance, pools: Sequence[str] | None = None) -> list[str]:
    """Free the slots of our pools (all of them by default) held by finished runs or by processes of this host
    that are gone, and report failed the runs whose process is gone; return one line per freed claim.

    Cheap when nothing is dead: one read of the pools, one of their runs (and of the pool names when ``pools``
    is not given). Safe to call from a sensor tick or any process with the instance."""
    if not _supported(instance):
        return []
    pools = list(pools) if pools is not None else _our_pools(instance)
    return _reap(instance, pools)[0] if pools else []


# -- claiming ------------------------------------------------------------------------------------------------
def _what_to_do(pool: str) -> str:
    return (f"If that run is stuck, terminate it (Runs in the UI), or free its slots under Deployment → "
            f"Concurrency → {pool} (`dagster instance concurrency get {pool}` shows the pool); raise "
            f"automation.pool_wait_timeout_s if such waits are expected.")


@contextlib.contextmanager
def pool_slot(
    instance: dg.DagsterInstance,
    run_id: str,
    step_key: str,
    pool: str,
    progress: Callable[[str], None] = log.info,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    wait_limit_s: float = DEFAULT_POOL_WAIT_TIMEOUT_S,
    fallback_limit: int | None = None,
    what: str = "",
) -> Iterator[None]:
    """Hold a slot of ``pool`` for the block: claim it, waiting at most ``wait_limit_s`` (then
    :class:`PoolWaitTimeout`, naming the holders) and freeing dead holders' slots meanwhile.

    ``fallback_limit`` is the pool's limit when neither an operator nor the instance default set one (None: the
    pool is then unlimited and nothing is claimed). Instances without concurrency tables (the in-memory
    instance of ``execute_in_process`` without ``DAGSTER_HOME``) cannot coordinate anything: the block then
    runs unguarded, as in a single process.
    """
    if not _supported(instance) or not _ensure_limit(instance, pool, fallback_limit):
        yield
        return
    key = claim_key(step_key, pool)
    started = clock()
    deadline = started + wait_limit_s
    delay, announced, reaped_in_a_row = 0.5, False, 0
    try:
        while True:
            status = _claim(instance, pool, run_id, key)
            if status.is_claimed:
                break
            done, left = _reap(instance, [pool], keep=key)
            for m in done:
                progress(m)
            if done and reaped_in_a_row < 3:
                reaped_in_a_row += 1
                continue  # a slot may be free now: claim again at once
            reaped_in_a_row = 0
            holders = [h for h in left if h.holds] or [h for h in left if h.key != key]
            names = "; ".join(h.describe() for h in holders) or "no run (a slot freed meanwhile)"
            now = clock()
            if now >= deadline:
                raise PoolWaitTimeout(
                    description=(f"gave up waiting for pool {pool}{what} after {now - started:.0f}s "
                                 f"(automation.pool_wait_timeout_s = {wait_limit_s:g}): held by {names}. "
                                 + _what_to_do(pool)),
                    metadata={"pool": pool, "holder_run_ids": ", ".join(sorted({h.run_id for h in holders}))},
                )
            if not announced:
                progress(f"waiting for pool {pool}{what} (at most {wait_limit_s:g}s): held by {names}")
                announced = True
            sleep(max(0.0, min(status.sleep_interval or delay, deadline - now)))
            delay = min(delay * 1.5, _MAX_POLL_S)
        if announced:
            progress(f"pool {pool}: slot claimed after {clock() - started:.0f}s")
        yield
    finally:
        # Frees the slot, or withdraws the pending claim if we never got one (error, cancel, time-out).
        _free(instance, run_id, key)


def pool_wait_limit(context: Any) -> float:
    """``automation.pool_wait_timeout_s`` as the step's resources know it (the Genie resource carries it); the
    default when the step has no such resource."""
    try:
        return float(context.resources.genie.pool_wait_timeout_s)
    except Exception:  # no genie resource on this step, or settings without the field
        return float(DEFAULT_POOL_WAIT_TIMEOUT_S)


@contextlib.contextmanager
def workspace_api_slot(
    instance: dg.DagsterInstance,
    run_id: str,
    step_key: str,
    workspace_id: str,
    progress: Callable[[str], None] = log.info,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    wait_limit_s: float = DEFAULT_POOL_WAIT_TIMEOUT_S,
) -> Iterator[None]:
    """Hold the workspace's API pool slot for the duration of the block (see :func:`pool_slot`)."""
    with pool_slot(instance, run_id, step_key, api_pool(workspace_id), progress, sleep, clock, wait_limit_s,
                   fallback_limit=DEFAULT_API_POOL_LIMIT, what=f" (calling workspace {workspace_id}'s API)"):
        yield


def _step_of(context: dg.OpExecutionContext | dg.AssetExecutionContext) -> str:
    """The step's op handle (an asset context reaches it through its op context; its own accessor is deprecated)."""
    return str(getattr(context, "op_execution_context", context).op_handle)


def slot_guard(context: dg.AssetExecutionContext) -> Callable[[str], contextlib.AbstractContextManager[None]]:
    """``guard(workspace_id)`` for an asset body: the API slot of that workspace for this run and step."""
    limit = pool_wait_limit(context)

    def guard(workspace_id: str) -> contextlib.AbstractContextManager[None]:
        return workspace_api_slot(context.instance, context.run.run_id, _step_of(context),
                                  workspace_id, context.log.info, wait_limit_s=limit)

    return guard


def warehouse_slot(context: dg.OpExecutionContext | dg.AssetExecutionContext,
                   wait_limit_s: float) -> contextlib.AbstractContextManager[None]:
    """The ``genie_obs_warehouse`` slot for this run and step (``WarehouseResource.session``)."""
    return pool_slot(context.instance, context.run.run_id, _step_of(context), WAREHOUSE_POOL, context.log.info,
                     wait_limit_s=wait_limit_s, what=" (the warehouse's SQL steps)")
