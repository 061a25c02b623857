"""Partitions: UTC day x workspace, and helpers that turn any set of keys into per-workspace date ranges."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import dagster as dg

from .settings import Settings

DATE_DIM = "date"
WORKSPACE_DIM = "workspace"


def workspace_partitions(settings: Settings) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition(settings.workspace_ids)


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    # end_offset=1 includes today: its partition is refreshed as audit rows arrive during the day.
    return dg.DailyPartitionsDefinition(
        start_date=settings.history.first_day().isoformat(), timezone="UTC", end_offset=1
    )


def workspace_day_partitions(settings: Settings) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {DATE_DIM: daily_partitions(settings), WORKSPACE_DIM: workspace_partitions(settings)}
    )


@dataclass(frozen=True, order=True)
class Slice:
    """A contiguous, inclusive range of days of one workspace: the unit one SQL statement processes."""

    workspace_id: str
    start_date: dt.date
    end_date: dt.date

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def each_day(self) -> Iterator[dt.date]:
        return (self.start_date + dt.timedelta(days=i) for i in range(self.days))

    def blocks(self, days: int) -> Iterator[Slice]:
        """This range as consecutive ranges of at most ``days`` days."""
        for first in range(0, self.days, days):
            start = self.start_date + dt.timedelta(days=first)
            yield Slice(self.workspace_id, start, min(self.end_date, start + dt.timedelta(days=days - 1)))

    def params(self) -> dict[str, object]:
        return {"workspace_id": self.workspace_id, "start_date": self.start_date, "end_date": self.end_date}

    def __str__(self) -> str:
        if self.start_date == self.end_date:
            return f"{self.workspace_id} {self.start_date}"
        return f"{self.workspace_id} {self.start_date}..{self.end_date}"


def key_parts(key: str | dg.MultiPartitionKey) -> tuple[str, dt.date]:
    """(workspace_id, day) of a ``date|workspace`` key."""
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
    else:
        date_s, ws = key.split("|")
        dims = {DATE_DIM: date_s, WORKSPACE_DIM: ws}
    return dims[WORKSPACE_DIM], dt.date.fromisoformat(dims[DATE_DIM])


def slices(keys: Iterable[str | dg.MultiPartitionKey]) -> list[Slice]:
    """Group partition keys by workspace into contiguous date ranges (a range run need not be a rectangle)."""
    days: dict[str, set[dt.date]] = defaultdict(set)
    for key in keys:
        ws, day = key_parts(key)
        days[ws].add(day)
    out: list[Slice] = []
    for ws, ds in days.items():
        ordered = sorted(ds)
        start = prev = ordered[0]
        for d in ordered[1:]:
            if d != prev + dt.timedelta(days=1):
                out.append(Slice(ws, start, prev))
                start = d
            prev = d
        out.append(Slice(ws, start, prev))
    return sorted(out)


def partition_key(workspace_id: str, day: dt.date) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({DATE_DIM: day.isoformat(), WORKSPACE_DIM: workspace_id})
