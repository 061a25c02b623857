"""Rows built in Python (API results) made readable by a Databricks statement.

Two ways, chosen per relation by size:
- **bound VALUES** for small batches (at most ``VALUES_MAX_PARAMS`` values): no file, one round trip, every
  value a typed parameter; the statement text grows with the rows, so this is for small batches only.
- **Parquet in a Unity Catalog volume** for the rest: uploaded through the Files API, read by
  ``read_files(..., format => 'parquet')`` inside the same statement, removed afterwards. Files left by a
  crashed run are removed by the next run that finds them older than the statement time limit (no statement
  can still be reading them).

Either way the relation is a subquery that casts every column to the Databricks type of its Arrow type,
so both paths produce identical types and no extra column (``read_files`` may add ``_rescued_data``).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from databricks.sdk.errors import NotFound

from .base import WarehouseError
from .sql import ident

log = logging.getLogger(__name__)

VALUES_MAX_PARAMS = 256
STAGING_DIR = "staging"
_STAMP = "%Y%m%dT%H%M%SZ"


def sql_type(t: pa.DataType) -> str:
    """The Databricks SQL type a staged Arrow column is read as. For rows of a target table this is the DDL's
    type again: their Arrow types come from the DDL (``sql.arrow_type``, the inverse of this; test_row_schema.py)."""
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t):
        return "STRING"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    for check, name in ((pa.types.is_int64, "BIGINT"), (pa.types.is_int32, "INT"), (pa.types.is_int16, "SMALLINT"),
                        (pa.types.is_int8, "TINYINT"), (pa.types.is_float64, "DOUBLE"), (pa.types.is_float32, "FLOAT"),
                        (pa.types.is_date32, "DATE"), (pa.types.is_timestamp, "TIMESTAMP")):
        if check(t):
            return name
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    raise WarehouseError(f"staged column type {t} is not supported; stage strings, integers, floats, booleans, "
                         "decimals, dates or timestamps")


def _projection(schema: pa.Schema, source: str) -> str:
    cols = ", ".join(f"CAST({ident(f.name)} AS {sql_type(f.type)}) AS {ident(f.name)}" for f in schema)
    return f"SELECT {cols} FROM {source}"  # noqa: S608 (validated identifiers, generated source)


@dataclass
class StagedBatch:
    """The relations of one statement: SQL text per relation, bound values, files to remove afterwards."""

    relations: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    folder: str | None = None


class Stager:
    """Stages relations for one statement in ``/Volumes/<catalog>/<schema>/<volume>/staging/<batch>/``."""

    def __init__(self, files_api: Any, volume_path: str, max_age_s: float):
        self.files = files_api
        self.root = f"{volume_path.rstrip('/')}/{STAGING_DIR}"
        self.max_age_s = max_age_s

    @contextmanager
    def staged(self, tables: dict[str, pa.Table], on_missing_volume: Any) -> Iterator[StagedBatch]:
        """Relations for ``tables``; uploaded files are removed when the block ends, whatever happened."""
        batch = StagedBatch()
        try:
            for k, (name, rows) in enumerate(sorted(tables.items())):
                if rows.num_rows * max(rows.num_columns, 1) <= VALUES_MAX_PARAMS:
                    batch.relations[name] = self._values(rows, k, batch.params)
                else:
                    batch.relations[name] = self._upload(name, rows, batch, on_missing_volume)
            yield batch
        finally:
            self._remove(batch)

    def _values(self, rows: pa.Table, k: int, params: dict[str, Any]) -> str:
        schema = rows.schema
        if rows.num_rows == 0:
            nulls = ", ".join(f"CAST(NULL AS {sql_type(f.type)}) AS {ident(f.name)}" for f in schema)
            return f"(SELECT {nulls} WHERE FALSE)"
        tuples = []
        for r, row in enumerate(rows.to_pylist()):
            names = []
            for c, f in enumerate(schema):
                p = f"s{k}_{r}_{c}"
                params[p] = row[f.name]
                names.append(f"CAST(:{p} AS {sql_type(f.type)})")
            tuples.append(f"({', '.join(names)})")
        cols = ", ".join(ident(f.name) for f in schema)
        return f"(SELECT * FROM VALUES {', '.join(tuples)} AS v({cols}))"  # noqa: S608 (values are parameters)

    def _upload(self, name: str, rows: pa.Table, batch: StagedBatch, on_missing_volume: Any) -> str:
        if batch.folder is None:
            batch.folder = f"{self.root}/{dt.datetime.now(dt.timezone.utc).strftime(_STAMP)}-{uuid.uuid4().hex}"
        path = f"{batch.folder}/{ident(name)}.parquet"
        buf = io.BytesIO()
        pq.write_table(rows, buf)
        try:
            self._put(path, buf.getvalue())
        except NotFound:
            on_missing_volume()  # the volume was dropped or never made: create it once and try again
            self._put(path, buf.getvalue())
        batch.files.append(path)
        # The path is built from validated identifiers, a timestamp and a hex uuid: no quote can reach the text.
        source = f"read_files('{path}', format => 'parquet')"
        return f"({_projection(rows.schema, source)})"

    def _put(self, path: str, data: bytes) -> None:
        self.files.upload(path, io.BytesIO(data), overwrite=True)

    def _remove(self, batch: StagedBatch) -> None:
        for path in batch.files:
            try:
                self.files.delete(path)
            except Exception as exc:  # a leftover is removed by a later run; never fail the statement for it
                log.warning("could not remove staged file %s: %s", path, type(exc).__name__)
        if batch.folder:
            try:
                self.files.delete_directory(batch.folder)
            except Exception as exc:
                log.warning("could not remove staging folder %s: %s", batch.folder, type(exc).__name__)

    def remove_leftovers(self, now: dt.datetime | None = None) -> int:
        """Delete staging folders older than ``max_age_s`` (a crashed run's); returns how many."""
        now = now or dt.datetime.now(dt.timezone.utc)
        try:
            entries = list(self.files.list_directory_contents(self.root))
        except NotFound:
            return 0
        removed = 0
        for entry in entries:
            name = (entry.name or entry.path or "").rstrip("/").rsplit("/", 1)[-1]
            try:
                stamp = dt.datetime.strptime(name.split("-", 1)[0], _STAMP).replace(tzinfo=dt.timezone.utc)
            except ValueError:
                continue  # not ours
            if (now - stamp).total_seconds() < self.max_age_s:
                continue
            folder = f"{self.root}/{name}"
            for f in self._files_in(folder):
                self.files.delete(f)
            self.files.delete_directory(folder)
            removed += 1
        if removed:
            log.info("removed %d staging folder(s) left by earlier runs under %s", removed, self.root)
        return removed

    def _files_in(self, folder: str) -> Sequence[str]:
        try:
            return [e.path for e in self.files.list_directory_contents(folder) if not e.is_directory and e.path]
        except NotFound:
            return []
