"""Result sets of the simulated SQL warehouse as the Statement Execution API ships them (genie-api.md §6).

A finished statement's Arrow table is cut once into chunks of ``chunk_rows`` rows and rendered in the
requested format, so every later GET of the statement or of a chunk answers the same bytes:

- ``JSON_ARRAY``: rows of **strings** (SQL NULL -> ``null``), as the API documents ("each value is either the
  string representation of a value, or null"); booleans ``true``/``false``, DATE ``YYYY-MM-DD``, TIMESTAMP
  ISO-8601 in UTC with milliseconds and ``Z`` (``2026-03-02T10:00:00.000Z``, the form the Genie query-result
  synthesiser in ``results.py`` uses as well; microseconds are kept when present), complex types as compact
  JSON text. EXTERNAL_LINKS chunks hold the same arrays as compact JSON.
- ``ARROW_STREAM``: each chunk an Arrow IPC *stream* (``pyarrow.ipc.new_stream``).
- ``CSV``: RFC 4180, values as in JSON_ARRAY, NULL as ``null``, header row in the first chunk only
  (SDK 0.60 ``execute_statement`` docstring).

Limits (SDK 0.60 ``StatementExecutionAPI`` docstring): ``row_limit`` / ``byte_limit`` trim the result and set
``manifest.truncated``; an INLINE result over 25 MiB makes the statement FAIL (see :data:`INLINE_LIMIT_MESSAGE`).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import decimal
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from .sql_types import ColumnInfo, StatementResult

# Databricks fails INLINE statements whose result is over the limit rather than truncating them: "Statements
# with disposition=INLINE are limited to 25 MiB and will fail when this limit is exceeded" (SDK 0.60
# StatementExecutionAPI docstring). The message below is the one users report from real warehouses
# (github.com/databrickslabs/ucx/issues/3447 and #4675: a BadRequest built from status.error).
INLINE_LIMIT_MESSAGE = ("Inline byte limit exceeded. Statements executed with disposition=INLINE can have a result "
                        "size of at most {limit} bytes. Please execute the statement with disposition=EXTERNAL_LINKS "
                        "if you want to download the full result.")
CONTENT_TYPES = {"JSON_ARRAY": "application/json", "ARROW_STREAM": "application/vnd.apache.arrow.stream",
                 "CSV": "text/csv"}


class InlineLimitExceeded(Exception):
    """The INLINE result is larger than the warehouse's inline limit (the statement FAILS)."""


@dataclass(frozen=True)
class Chunk:
    """One chunk of a result: INLINE chunks keep their rows, EXTERNAL_LINKS chunks their file bytes."""

    chunk_index: int
    row_offset: int
    row_count: int
    byte_count: int
    rows: list[list[str | None]] | None = None
    payload: bytes | None = None


@dataclass(frozen=True)
class ResultSet:
    format: str
    disposition: str
    columns: Sequence[ColumnInfo]
    chunks: Sequence[Chunk]
    total_row_count: int
    truncated: bool

    def manifest(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"column_count": len(self.columns)}
        if self.columns:
            schema["columns"] = [c.to_manifest(i) for i, c in enumerate(self.columns)]
        out: dict[str, Any] = {"format": self.format, "schema": schema, "total_chunk_count": len(self.chunks),
                               "total_row_count": self.total_row_count, "truncated": self.truncated}
        if self.chunks:
            external = self.disposition == "EXTERNAL_LINKS"
            out["chunks"] = [{"chunk_index": c.chunk_index, "row_offset": c.row_offset, "row_count": c.row_count,
                              **({"byte_count": c.byte_count} if external else {})} for c in self.chunks]
        return out


# -- values as strings ----------------------------------------------------------------------------------
def _timestamp(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    frac = f".{value.microsecond // 1000:03d}" if value.microsecond % 1000 == 0 else f".{value.microsecond:06d}"
    return text + frac + ("Z" if value.tzinfo is not None else "")


def _float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dt.timedelta):
        return str(value)
    raise TypeError(f"cannot render {type(value).__name__}")


def _nested(value: Any, arrow_type: pa.DataType) -> Any:
    """Maps arrive from Arrow as lists of (key, value) pairs; JSON shows them as objects."""
    if value is None:
        return None
    if pa.types.is_map(arrow_type):
        return {str(k): _nested(v, arrow_type.item_type) for k, v in value}
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type) or pa.types.is_fixed_size_list(arrow_type):
        return [_nested(v, arrow_type.value_type) for v in value]
    if pa.types.is_struct(arrow_type):
        return {f.name: _nested(value.get(f.name), f.type) for f in arrow_type}
    return value


def _to_text(value: Any, arrow_type: pa.DataType) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(_nested(value, arrow_type), separators=(",", ":"), default=_json_default)
    try:
        return _json_default(value)  # dates, timestamps, decimals, bytes, intervals: as inside nested values
    except TypeError:
        return str(value)


def text_rows(table: pa.Table) -> list[list[str | None]]:
    """The table's rows as JSON_ARRAY strings."""
    columns = [[_to_text(v, col.type) for v in col.to_pylist()] for col in table.columns]
    return [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in range(table.num_rows)]


def _row_bytes(row: list[str | None]) -> int:
    return len(json.dumps(row, separators=(",", ":")).encode())


# -- chunking -------------------------------------------------------------------------------------------
def _arrow_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _csv_bytes(rows: list[list[str | None]], header: list[str] | None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows([["null" if v is None else v for v in row] for row in rows])
    return out.getvalue().encode()


def build(result: StatementResult, *, fmt: str, disposition: str, chunk_rows: int, row_limit: int | None,
          byte_limit: int | None, inline_limit: int) -> ResultSet:
    """Trim, check and cut a statement's result; raises :class:`InlineLimitExceeded`."""
    table, truncated = result.table, False
    if row_limit is not None and table.num_rows > row_limit:
        table, truncated = table.slice(0, row_limit), True
    needs_text = fmt != "ARROW_STREAM" or byte_limit is not None or disposition == "INLINE"
    rows = text_rows(table) if needs_text else None
    if byte_limit is not None and rows is not None:
        # Databricks counts "internal" bytes; the compact JSON size of each row stands in for them.
        total, keep = 0, 0
        for row in rows:
            total += _row_bytes(row)
            if total > byte_limit:
                break
            keep += 1
        if keep < len(rows):
            table, rows, truncated = table.slice(0, keep), rows[:keep], True
    if disposition == "INLINE" and rows is not None:
        size = sum(_row_bytes(r) for r in rows)
        if size > inline_limit:
            raise InlineLimitExceeded(INLINE_LIMIT_MESSAGE.format(limit=inline_limit))
    step = max(1, chunk_rows)
    chunks = []
    for i, offset in enumerate(range(0, table.num_rows, step)):
        n = min(step, table.num_rows - offset)
        part = rows[offset:offset + n] if rows is not None else None
        if disposition == "INLINE":
            assert part is not None
            chunks.append(Chunk(i, offset, n, sum(_row_bytes(r) for r in part), rows=part))
            continue
        if fmt == "ARROW_STREAM":
            payload = _arrow_bytes(table.slice(offset, n))
        elif fmt == "CSV":
            assert part is not None
            payload = _csv_bytes(part, [c.name for c in result.columns] if i == 0 else None)
        else:
            payload = json.dumps(part, separators=(",", ":")).encode()
        chunks.append(Chunk(i, offset, n, len(payload), payload=payload))
    return ResultSet(fmt, disposition, tuple(result.columns), tuple(chunks), table.num_rows, truncated)
