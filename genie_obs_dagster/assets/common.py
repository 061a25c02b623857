"""Helpers shared by asset modules: per-slice loops with progress logs, and UI metadata."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import dagster as dg
import pyarrow as pa

from ..partitions import Slice, partition_key, slices
from ..settings import Settings

BACKFILL = dg.BackfillPolicy.single_run()


def space_filter(settings: Settings, workspace_id: str) -> str:
    """The space allow list as the SQL files take it: comma-separated validated ids, '' for every space."""
    return ",".join(settings.workspace(workspace_id).space_ids)


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


def add_daily_metadata(context: dg.AssetExecutionContext, sl: Slice, per_day: pa.Table, row_count: str) -> None:
    """Give each (workspace, day) partition of a slice its own figures from a query grouped by ``day``, so that a
    range run's figures add up over partitions in the UI (a day without rows shows zeros)."""
    rows = {r.pop("day"): r for r in per_day.to_pylist()}
    columns = [c for c in per_day.column_names if c != "day"]
    for day in sl.each_day():
        figures = rows.get(day) or dict.fromkeys(columns, 0)
        context.add_asset_metadata({"dagster/row_count": dg.MetadataValue.int(int(figures[row_count] or 0)),
                                    **int_metadata({k: v or 0 for k, v in figures.items()})},
                                   partition_key=partition_key(sl.workspace_id, day))


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
