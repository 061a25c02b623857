"""Ingest the messages of many (workspace, date range) slices: list what is pending in the warehouse,
fetch it from each workspace's API, write it back in batches. Workspaces run in parallel, each within
its own request budget; the slices of one workspace run one after the other."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from ..partitions import Slice
from ..warehouse import Warehouse
from .client import GenieClient
from .errors import GenieApiError
from .fetch import FetchSummary, fetch_messages
from .rows import FetchOutcome, MessageRef, to_tables

log = logging.getLogger(__name__)


@dataclass
class SliceResult:
    """What one slice's fetch did: totals, per first-seen day (what each partition shows), the slice's
    quality figures, and the API calls it cost (the workspace's client, counted once per slice)."""

    slice: Slice
    summary: FetchSummary
    quality: dict[str, int]
    requests: int
    throttled: int
    retries: int
    by_day: dict[dt.date, Counter[str]] = field(default_factory=dict)
    first_error: GenieApiError | None = None


TYPE_PREFIX = "type:"  # a by_day counter's failures by error type: "type:<error_type>"


def failed_types(counts: Counter[str]) -> dict[str, int]:
    """The failures by error type of a ``SliceResult.by_day`` counter."""
    return {k.removeprefix(TYPE_PREFIX): n for k, n in counts.items() if k.startswith(TYPE_PREFIX)}


def write_outcomes(wh: Warehouse, outcomes: list[FetchOutcome]) -> None:
    """One batch: messages merged, errors of fetched messages resolved, failures recorded."""
    messages, errors, resolved = to_tables(outcomes)
    if messages.num_rows:
        wh.execute("genie/merge_message_details", staged={"__staged_messages": messages})
        wh.execute("genie/resolve_fetch_errors", staged={"__staged_resolved": resolved})
    if errors.num_rows:
        wh.execute("genie/merge_fetch_errors", staged={"__staged_errors": errors})


def pending_refs(wh: Warehouse, sl: Slice, spaces: str) -> tuple[int, Iterator[MessageRef]]:
    pending = wh.query("genie/messages_pending_fetch", {**sl.params(), "space_ids": spaces})

    def gen() -> Iterator[MessageRef]:
        for batch in pending.to_batches(max_chunksize=1000):
            for r in batch.to_pylist():
                yield MessageRef(r["workspace_id"], r["space_id"], r["conversation_id"], r["message_id"],
                                 r["first_seen_date"], r["audit_asker_email"])

    return pending.num_rows, gen()


def ingest_slice(wh: Warehouse, client: GenieClient, sl: Slice, spaces: str, batch_size: int,
                 write: Callable[[Warehouse, list[FetchOutcome]], None] | None = None,
                 progress: Callable[[str], None] = log.info) -> SliceResult:
    wh.execute("genie/sync_from_audit", sl.params())
    n, refs = pending_refs(wh, sl, spaces)
    progress(f"workspace {sl}: {n} messages without a final record")
    before = client.stats.as_dict()
    writer = write or write_outcomes
    by_day: dict[dt.date, Counter[str]] = defaultdict(Counter)
    first_error: list[GenieApiError] = []

    def on_batch(batch: list[FetchOutcome]) -> None:
        writer(wh, batch)
        for o in batch:  # counted once written: what the tables hold
            by_day[o.ref.first_seen_date]["failed" if o.error else "fetched"] += 1
            if o.error:
                by_day[o.ref.first_seen_date][TYPE_PREFIX + o.error.error_type] += 1
            if o.error and not first_error:
                first_error.append(o.error)

    summary = fetch_messages(client, refs, on_batch, batch_size=batch_size, progress=progress, total=n)
    after = client.stats.as_dict()
    q = wh.query("genie/messages_slice_quality", {**sl.params(), "space_ids": spaces}).to_pylist()[0]
    progress(f"workspace {sl}: {summary.fetched} fetched ({summary.final} final, {summary.pending} pending), "
             f"{summary.failed} failed in {summary.seconds:.1f}s")
    return SliceResult(sl, summary, {k: int(v or 0) for k, v in q.items()},
                       after["requests"] - before["requests"], after["throttled_429"] - before["throttled_429"],
                       after["retries"] - before["retries"], dict(by_day), first_error[0] if first_error else None)


def ingest(wh: Warehouse, slices: Sequence[Slice], client_for: Callable[[str], GenieClient],
           options_for: Callable[[str], dict[str, Any]], progress: Callable[[str], None] = log.info,
           write: Callable[[Warehouse, list[FetchOutcome]], None] | None = None,
           max_parallel_workspaces: int = 8,
           guard: Callable[[str], AbstractContextManager[object]] | None = None) -> list[SliceResult]:
    """Every slice, workspaces in parallel. A failing workspace does not stop the others; its first
    error is raised once they are done (what the others fetched is written either way).

    ``guard(workspace_id)`` wraps all API work of one workspace (the Dagster pool that keeps other runs
    off that workspace's API meanwhile, see ``concurrency.py``)."""
    by_ws: dict[str, list[Slice]] = defaultdict(list)
    for sl in slices:
        by_ws[sl.workspace_id].append(sl)

    def one_workspace(ws: str) -> list[SliceResult]:
        client = client_for(ws)
        opts = options_for(ws)
        with guard(ws) if guard else nullcontext():
            return [ingest_slice(wh, client, sl, opts["spaces"], opts["batch_size"], write, progress) for sl in by_ws[ws]]

    results: list[SliceResult] = []
    errors: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=max(1, min(max_parallel_workspaces, len(by_ws)))) as pool:
        futures = {ws: pool.submit(one_workspace, ws) for ws in by_ws}
        for ws, fut in futures.items():
            try:
                results.extend(fut.result())
            except Exception as exc:  # reported after the other workspaces finished
                progress(f"workspace {ws} failed: {exc}")
                errors.append(exc)
    if errors:
        raise errors[0]
    return results
