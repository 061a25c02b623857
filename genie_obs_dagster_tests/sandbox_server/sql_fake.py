"""A stand-in for ``sql_engine.SqlEngine`` (same interface) so the HTTP side of the simulated SQL warehouse can
be tested on its own: plain DuckDB in memory, Databricks ``:name`` markers turned into DuckDB ``$name``.

``SELECT wait_for_cancel()`` blocks inside :meth:`execute` until :meth:`cancel` interrupts it, which makes
"cancel while executing" deterministic without timing anything.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import warnings
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from genie_obs_dagster.sandbox.server.sql_types import (
    ColumnInfo,
    Parameters,
    SqlFailure,
    SqlWarehouseConfig,
    StatementResult,
)
from genie_obs_dagster.sandbox.server.volumes import VolumeStore
from genie_obs_dagster.sandbox.server.warehouse import Engine, default_engine

_MARKER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_CASTS: dict[str, Any] = {"INT": int, "BIGINT": int, "SMALLINT": int, "TINYINT": int, "DOUBLE": float,
                          "BOOLEAN": lambda v: v.lower() == "true", "DATE": dt.date.fromisoformat}


def column_info(field: pa.Field) -> ColumnInfo:
    t = field.type
    simple = [(pa.types.is_int64, "LONG", "BIGINT"), (pa.types.is_int32, "INT", "INT"),
              (pa.types.is_int16, "SHORT", "SMALLINT"), (pa.types.is_boolean, "BOOLEAN", "BOOLEAN"),
              (pa.types.is_float64, "DOUBLE", "DOUBLE"), (pa.types.is_date, "DATE", "DATE"),
              (pa.types.is_timestamp, "TIMESTAMP", "TIMESTAMP"), (pa.types.is_string, "STRING", "STRING"),
              (pa.types.is_map, "MAP", "MAP"), (pa.types.is_list, "ARRAY", "ARRAY"), (pa.types.is_struct, "STRUCT", "STRUCT")]
    if pa.types.is_decimal(t):
        return ColumnInfo(field.name, "DECIMAL", f"DECIMAL({t.precision},{t.scale})", t.precision, t.scale)
    for check, name, text in simple:
        if check(t):
            return ColumnInfo(field.name, name, text)
    return ColumnInfo(field.name, "STRING", "STRING")


class FakeSqlEngine:
    def __init__(self, database: Path | str, volumes: VolumeStore, config: SqlWarehouseConfig):
        self.database, self.volumes, self.config = database, volumes, config
        self._con = duckdb.connect()
        self._lock = threading.Lock()
        self._blocked: dict[str, threading.Event] = {}
        self.calls: list[dict[str, Any]] = []
        self.canceled: list[str] = []
        self.closed = False
        self.running = threading.Event()  # set while a wait_for_cancel() statement blocks

    def execute(self, statement: str, parameters: Parameters = (), *, statement_id: str = "",
                catalog: str | None = None, schema: str | None = None, principal: str = "") -> StatementResult:
        self.calls.append({"statement": statement, "parameters": list(parameters), "statement_id": statement_id,
                           "catalog": catalog, "schema": schema, "principal": principal})
        if "wait_for_cancel()" in statement:
            event = self._blocked.setdefault(statement_id, threading.Event())
            self.running.set()
            event.wait(60)
            raise SqlFailure("OPERATION_CANCELED", "HY008", "The statement was canceled.")
        values = {p["name"]: None if p.get("value") is None else _CASTS.get(p.get("type", "STRING").upper(), str)(p["value"])
                  for p in parameters}
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                table = self._con.execute(_MARKER.sub(r"$\1", statement), values or None).to_arrow_table()
            except duckdb.CatalogException as e:
                raise SqlFailure("TABLE_OR_VIEW_NOT_FOUND", "42P01", str(e).splitlines()[0]) from None
            except duckdb.Error as e:
                raise SqlFailure("PARSE_SYNTAX_ERROR", "42601", str(e).splitlines()[0]) from None
        return StatementResult(table, [column_info(f) for f in table.schema])

    def cancel(self, statement_id: str) -> bool:
        self.canceled.append(statement_id)
        event = self._blocked.setdefault(statement_id, threading.Event())
        event.set()
        return True

    def load_arrow(self, table: tuple[str, str, str], rows: pa.Table) -> int:
        raise NotImplementedError

    def close(self) -> None:
        self.closed = True
        for event in self._blocked.values():
            event.set()
        self._con.close()


class FakeFactory:
    """Builds the fake and remembers it, so a test can look at what the warehouse ran."""

    def __init__(self) -> None:
        self.engines: list[FakeSqlEngine] = []

    def __call__(self, database: Path, volumes: VolumeStore, config: SqlWarehouseConfig) -> FakeSqlEngine:
        engine = FakeSqlEngine(database, volumes, config)
        self.engines.append(engine)
        return engine


class RecordingFactory:
    """Builds the real engine (``sql_engine.SqlEngine``) and remembers it."""

    def __init__(self) -> None:
        self.engines: list[Engine] = []

    def __call__(self, database: Path, volumes: VolumeStore, config: SqlWarehouseConfig) -> Engine:
        engine = default_engine(database, volumes, config)
        self.engines.append(engine)
        return engine
