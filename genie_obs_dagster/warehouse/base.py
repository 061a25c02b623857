"""The Warehouse interface that both back ends implement.

Everything is addressed by SQL *file name* (``audit/genie_audit_events``) plus bound parameters, and by
*logical* table name (``genie_audit_events`` inside the target schema). Values never reach SQL text.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

Params = Mapping[str, Any]


class WarehouseError(RuntimeError):
    """A statement failed; the message names the SQL file and the back end."""


class WarehouseBusy(WarehouseError):
    """The warehouse could not be opened in time because another process holds it (the embedded DuckDB
    file has one writer at a time). Callers that can come back later (the sensor) skip instead of failing."""


class Warehouse(abc.ABC):
    """Execute SQL files with bound parameters; replace a partition's rows; merge rows by key."""

    backend: str = "abstract"

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Keep what the warehouse connects through open for the block (a step's SQL work). The embedded back end
        opens its file once; a back end whose statements are HTTP requests has nothing to hold."""
        yield

    @abc.abstractmethod
    def ensure_schema(self) -> None:
        """Create the target schema and every table in ``sql/ddl/target`` if missing."""

    @abc.abstractmethod
    def execute(self, sql_name: str, params: Params | None = None, staged: Mapping[str, pa.Table] | None = None) -> None:
        """Run every statement of ``sql/<sql_name>.sql``.

        ``staged`` maps relation names starting with ``__staged`` to rows produced in Python, which the
        file reads like tables (e.g. ``MERGE ... USING __staged_messages``).
        """

    @abc.abstractmethod
    def query(self, sql_name: str, params: Params | None = None) -> pa.Table:
        """Run a single SELECT from ``sql/<sql_name>.sql`` and return its rows as Arrow."""

    @abc.abstractmethod
    def replace(self, table: str, sql_name: str, params: Params, where: Mapping[str, Any]) -> int:
        """Atomically delete the rows of ``table`` matching ``where`` and insert the query's rows.

        ``where`` maps a column to a value, or to a ``(low, high)`` inclusive range. Returns rows inserted.
        """

    @abc.abstractmethod
    def merge(self, table: str, sql_name: str, params: Params, keys: Sequence[str]) -> int:
        """Upsert the query's rows into ``table`` on ``keys`` (every column updated). Returns source rows.

        The query must yield each key at most once (Databricks rejects ambiguous MERGE sources).
        """

    @abc.abstractmethod
    def merge_rows(self, table: str, rows: pa.Table, keys: Sequence[str]) -> int:
        """Upsert rows produced in Python (API results) into ``table`` on ``keys``."""

    @abc.abstractmethod
    def columns(self, table: str) -> list[str]:
        """Column names of a target table, in DDL order."""

    STAGED_ROWS = "__staged_rows"

    def merge_rows_text(self, table: str, rows: pa.Table, keys: Sequence[str]) -> str:
        """The MERGE of ``merge_rows`` (rows staged as ``STAGED_ROWS``), after checking every column is given."""
        from . import sql as sqlmod

        columns = self.columns(table)
        missing = sorted(set(columns) - set(rows.column_names))
        if missing:
            raise WarehouseError(f"rows for {table} lack column(s) {', '.join(missing)}")
        return sqlmod.merge_text(table, columns, keys, sqlmod.select_staged(self.STAGED_ROWS, columns))
