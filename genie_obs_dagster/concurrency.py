"""One API caller per workspace at a time, across every run: a Dagster concurrency pool per workspace.

Each Genie client keeps its workspace's request budget (rate, threads) inside one process. Two runs that
touch the same workspace at once (the sensor's run, a backfill, a schedule, a click in the UI) would each
spend the full budget. Dagster pools are the instance-wide semaphore for that, but ``pool=`` on an asset
is static and our API assets are partitioned by workspace, so a static pool could only serialize all
workspaces together. The API assets therefore claim a slot of the pool ``genie_api_<workspace_id>``
while they call that workspace, through the same instance storage that backs ``pool=`` (the UI's
concurrency page shows holders and waiters; ``dagster instance concurrency set`` changes a limit).

A pool that has no limit yet is given the instance's ``concurrency.pools.default_limit`` or, failing
that, 1. Keep these pools at 1: a higher limit lets that many processes spend the budget at once.

Slots are claimed per workspace and released as soon as that workspace's work is done, never held while
waiting for another workspace's slot, so two runs cannot deadlock on each other.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

import dagster as dg

log = logging.getLogger(__name__)

API_POOL_PREFIX = "genie_api_"
DEFAULT_API_POOL_LIMIT = 1
_MAX_POLL_S = 5.0


def api_pool(workspace_id: str) -> str:
    """The pool that serializes API work for one workspace (workspace ids are digits only)."""
    return f"{API_POOL_PREFIX}{workspace_id}"


def _ensure_limit(instance: dg.DagsterInstance, pool: str) -> None:
    storage = instance.event_log_storage
    if pool in storage.get_concurrency_keys():
        return  # configured (by us earlier, by an operator, or from the default): never override
    if instance.global_op_concurrency_default_limit is not None:
        storage.initialize_concurrency_limit_to_default(pool)
    else:
        storage.set_concurrency_slots(pool, DEFAULT_API_POOL_LIMIT)


def _free_finished_holders(instance: dg.DagsterInstance, pool: str) -> list[str]:
    """Release slots still held by runs that have finished (a process killed while holding one); return
    the ids of the runs that hold the pool's slots now."""
    storage = instance.event_log_storage
    holders = []
    for slot in storage.get_concurrency_info(pool).claimed_slots:
        run = instance.get_run_by_id(slot.run_id)
        if run is not None and run.is_finished:
            storage.free_concurrency_slots_for_run(slot.run_id)
        else:
            holders.append(slot.run_id)
    return holders


@contextlib.contextmanager
def workspace_api_slot(
    instance: dg.DagsterInstance,
    run_id: str,
    step_key: str,
    workspace_id: str,
    progress: Callable[[str], None] = log.info,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the workspace's API pool slot for the duration of the block (wait for it first).

    Instances whose storage has no concurrency tables (the in-memory instance of ``execute_in_process``
    without ``DAGSTER_HOME``) cannot coordinate anything: the block then runs unguarded, as it would in
    a single process.
    """
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        yield
        return
    pool = api_pool(workspace_id)
    claim_key = f"{step_key}[{pool}]"
    _ensure_limit(instance, pool)
    waited, delay, announced = 0.0, 0.5, False
    try:
        while True:
            status = storage.claim_concurrency_slot(pool, run_id, claim_key)
            if status.is_claimed:
                break
            holders = _free_finished_holders(instance, pool)
            if not announced:
                progress(f"waiting for pool {pool}: run(s) {', '.join(holders) or '?'} calling workspace "
                         f"{workspace_id}'s API hold its slot")
                announced = True
            pause = status.sleep_interval or delay
            sleep(pause)
            waited += pause
            delay = min(delay * 1.5, _MAX_POLL_S)
        if announced:
            progress(f"pool {pool}: slot claimed after {waited:.0f}s")
        yield
    finally:
        # Frees the slot, or withdraws the pending claim if we never got one (error, cancel).
        storage.free_concurrency_slot_for_step(run_id, claim_key)


def slot_guard(context: dg.AssetExecutionContext) -> Callable[[str], contextlib.AbstractContextManager[None]]:
    """``guard(workspace_id)`` for an asset body: the API slot of that workspace for this run and step."""

    def guard(workspace_id: str) -> contextlib.AbstractContextManager[None]:
        return workspace_api_slot(context.instance, context.run_id, str(context.op_handle),
                                  workspace_id, context.log.info)

    return guard
