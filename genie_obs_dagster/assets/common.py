"""Helpers shared by asset modules: per-slice loops with progress logs, and UI metadata."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import dagster as dg
import pyarrow as pa

from ..partitions import Slice, slices
from ..settings import Settings

BACKFILL = dg.BackfillPolicy.single_run()


def space_filter(settings: Settings, workspace_id: str) -> str:
    """The space allow list as the SQL files take it: comma-separated validated ids, '' for every space."""
    return ",".join(settings.workspace(workspace_id).space_ids)

WAREHOUSE_POOL = "genie_obs_warehouse"


def run_slices(context: dg.AssetExecutionContext, what: str, work: Callable[[Slice], int]) -> tuple[list[Slice], int]:
    """Run ``work`` for every (workspace, date range) of the run's partition keys, logging progress."""
    todo = slices(context.partition_keys)
    total, started = 0, time.monotonic()
    for i, sl in enumerate(todo, 1):
        t0 = time.monotonic()
        n = work(sl)
        total += n
        context.log.info(f"{what}: [{i}/{len(todo)}] workspace {sl} ({sl.days} day(s)): {n} rows in {time.monotonic() - t0:.2f}s")
    context.log.info(f"{what}: {total} rows over {len(todo)} slice(s) in {time.monotonic() - started:.2f}s")
    return todo, total


def sum_first_rows(tables: Iterable[pa.Table]) -> dict[str, int]:
    """Add up one-row summary queries run per slice."""
    out: Counter[str] = Counter()
    for t in tables:
        for k, v in t.to_pylist()[0].items():
            out[k] += int(v or 0)
    return dict(out)


def md_preview(table: pa.Table, limit: int = 10) -> dg.MetadataValue:
    rows = table.slice(0, limit).to_pylist()
    if not rows:
        return dg.MetadataValue.md("_no rows_")
    cols = table.column_names
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return dg.MetadataValue.md("\n".join(lines))


def int_metadata(figures: Mapping[str, Any]) -> dict[str, dg.MetadataValue]:
    return {k: dg.MetadataValue.int(int(v)) for k, v in figures.items()}


def check(name: str, passed: bool, description: str, asset_key: str | None = None, **figures: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=name, passed=bool(passed), description=description, metadata=int_metadata(figures),
        asset_key=asset_key,
    )
