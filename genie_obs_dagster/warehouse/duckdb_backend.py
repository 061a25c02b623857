"""Embedded back end: one DuckDB file. Single writer at a time; connections retry while the file is locked.

The file is opened per unit of work (a statement or a transaction), or once for a block with :meth:`hold`
(a Dagster step's SQL work, ``WarehouseResource.session``): units of work inside it, from any thread, then run on
cursors of the held connection, one at a time, with no new open of the file. Holding the file keeps other
*processes* out for the whole block (DuckDB's file lock: one process at a time), which the warehouse pool does
for runs anyway; the sensor, which waits a few seconds for the lock, then skips its tick and looks again next one.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from . import sql as sqlmod
from .base import Params, Warehouse, WarehouseBusy, WarehouseError
from .naming import DEFAULT_SOURCES, TableNames

log = logging.getLogger(__name__)
DIALECT = "duckdb"


_WORK_LOCKS: dict[str, threading.RLock] = {}
_WORK_LOCKS_GUARD = threading.Lock()


def _work_lock(path: str) -> threading.RLock:
    key = path if path == ":memory:" else str(Path(path).resolve())
    with _WORK_LOCKS_GUARD:
        return _WORK_LOCKS.setdefault(key, threading.RLock())


class DuckDBWarehouse(Warehouse):
    backend = "duckdb"

    def __init__(self, path: str | Path, names: TableNames | None = None, lock_timeout_s: float = 600.0,
                 memory_limit_mb: int = 192):
        self.path = str(path)
        self.memory_limit_mb = int(memory_limit_mb)  # an int: the only value formatted into a statement
        self.names = names or TableNames()
        self.lock_timeout_s = lock_timeout_s
        self._local = threading.local()
        # One unit of work at a time per process and file, whichever instance runs it (parallel in-process runs
        # of the demo each build their own): DuckDB lets threads of one process write concurrently, but MERGEs
        # touching the same table would then fail on write conflicts; the work here is short.
        self._work_lock = _work_lock(self.path)
        self._held: duckdb.DuckDBPyConnection | None = None  # see hold()
        self._holders = 0
        self._hold_lock = threading.Lock()
        self._names_key = (self.names.target_catalog, self.names.target_schema, tuple(sorted(self.names.sources.items())))
        self._schema_ready = False
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

    # -- connections -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Open the file once for the block; every unit of work inside it (any thread) uses a cursor of that
        connection instead of opening the file again. Blocks may overlap (threads, nested calls): the file is
        closed when the last one ends. Other processes cannot open the file meanwhile."""
        with self._hold_lock:
            if self._holders == 0:
                self._held = self._open()
            self._holders += 1
        try:
            yield
        finally:
            with self._hold_lock:
                self._holders -= 1
                if self._holders == 0:
                    with self._work_lock:  # no unit of work is running on a cursor of it
                        held, self._held = self._held, None
                    if held is not None:
                        held.close()

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work; nested calls reuse it (one transaction scope)."""
        existing = getattr(self._local, "conn", None)
        if existing is not None:
            yield existing
            return
        with self._work_lock:
            held = self._held
            if held is not None:
                conn = held.cursor()  # same database, own transaction scope; settings are per connection
                conn.execute("SET TimeZone = 'UTC'")
            else:
                conn = self._open()
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None
                conn.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout_s
        delay = 0.05
        while True:
            try:
                conn = duckdb.connect(self.path)
                conn.execute("SET TimeZone = 'UTC'")
                # A bounded memory budget instead of DuckDB's 80% of RAM: beyond it, joins, sorts and aggregates
                # spill to <path>.tmp (warehouse.duckdb.memory_limit; 192MB by default).
                conn.execute(f"SET memory_limit = '{int(self.memory_limit_mb)}MiB'")
                return conn
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise WarehouseError(f"cannot open DuckDB file {self.path}: {exc}") from None
                if time.monotonic() > deadline:
                    raise WarehouseBusy(f"cannot open DuckDB file {self.path}: still locked by another process "
                                        f"after {self.lock_timeout_s:g}s: {exc}") from None
                log.info("DuckDB file %s is locked by another writer; waiting %.1fs", self.path, delay)
                time.sleep(delay + random.random() * delay)
                delay = min(delay * 2, 2.0)

    # -- rendering ---------------------------------------------------------------------------------
    def _rewrite(self, table: exp.Table) -> None:
        catalog, schema, name = self.names.logical(table.catalog, table.db, table.name)
        table.set("catalog", None)
        table.set("db", exp.to_identifier(TableNames.duckdb_schema(catalog, schema)))
        table.set("this", exp.to_identifier(name))

    def _statements(self, name: str) -> list[sqlmod.Statement]:
        return self._generated(sqlmod.file_text(name), f"sql/{name}.sql")

    def _generated(self, text: str, source: str) -> list[sqlmod.Statement]:
        """Rendered once per text and configured names (``sql.render_cached``)."""
        return sqlmod.render_cached(text, source, DIALECT, self._rewrite, self._names_key)

    def _run(self, conn: duckdb.DuckDBPyConnection, stmts: Sequence[sqlmod.Statement], params: Params) -> duckdb.DuckDBPyConnection:
        for st in stmts:
            try:
                conn.execute(st.sql, st.bind(params))
            except duckdb.Error as exc:
                raise WarehouseError(f"{st.source} failed on DuckDB: {exc}") from None
        return conn

    # -- interface ---------------------------------------------------------------------------------
    def physical_schemas(self) -> list[str]:
        logical = {(self.names.target_catalog, self.names.target_schema)}
        logical |= {self.names.logical(*src)[:2] for src in DEFAULT_SOURCES.values()}
        return sorted(TableNames.duckdb_schema(c, s) for c, s in logical)

    def ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self.connect() as conn:
            for schema in self.physical_schemas():
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            for name in sqlmod.ddl_files("ddl/target"):
                self._run(conn, self._statements(name), {})
        self._schema_ready = True

    def ensure_system_tables(self) -> None:
        """Local stand-ins for Databricks system tables (embedded default only), with their real schemas."""
        self.ensure_schema()
        with self.connect() as conn:
            for name in sqlmod.ddl_files("ddl/system"):
                self._run(conn, self._statements(name), {})

    def execute(self, sql_name: str, params: Params | None = None, staged: Mapping[str, pa.Table] | None = None) -> None:
        staged = dict(staged or {})
        for name in staged:
            if not name.startswith(sqlmod.STAGED_PREFIX):
                raise WarehouseError(f"staged relation {name!r} must start with {sqlmod.STAGED_PREFIX}")
        stmts = self._statements(sql_name)
        with self.connect() as conn:
            for name, rows in staged.items():
                conn.register(name, rows)
            try:
                self._run(conn, stmts, params or {})
            finally:
                for name in staged:
                    conn.unregister(name)

    def query(self, sql_name: str, params: Params | None = None) -> pa.Table:
        stmts = self._statements(sql_name)
        if len(stmts) != 1:
            raise WarehouseError(f"sql/{sql_name}.sql must hold exactly one query")
        (st,) = stmts
        with self.connect() as conn:
            try:
                return conn.sql(st.sql, params=st.bind(params or {})).to_arrow_table()
            except duckdb.Error as exc:
                raise WarehouseError(f"{st.source} failed on DuckDB: {exc}") from None

    def columns(self, table: str) -> list[str]:
        return list(sqlmod.ddl_columns(table))

    def replace(self, table: str, sql_name: str, params: Params, where: Mapping[str, Any]) -> int:
        delete, insert, wparams = sqlmod.replace_text(table, self.columns(table), sqlmod.body_of(sql_name), where)
        stmts = self._generated(delete, f"replace {table} (delete)") + self._generated(insert, f"replace {table} from sql/{sql_name}.sql")
        with self.connect() as conn:
            conn.execute("BEGIN TRANSACTION")
            try:
                self._run(conn, stmts[:1], {**params, **wparams})
                inserted = self._run(conn, stmts[1:], {**params, **wparams}).fetchone()
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return int(inserted[0]) if inserted else 0

    def merge(self, table: str, sql_name: str, params: Params, keys: Sequence[str]) -> int:
        text = sqlmod.merge_text(table, self.columns(table), keys, sqlmod.body_of(sql_name))
        stmts = self._generated(text, f"merge {table} from sql/{sql_name}.sql")
        with self.connect() as conn:
            row = self._run(conn, stmts, params).fetchone()
        return int(row[0]) if row else 0

    def merge_rows(self, table: str, rows: pa.Table, keys: Sequence[str]) -> int:
        text, staged = self.merge_rows_text(table, rows, keys), self.STAGED_ROWS
        stmts = self._generated(text, f"merge rows into {table}")
        with self.connect() as conn:
            conn.register(staged, rows)
            try:
                self._run(conn, stmts, {})
            finally:
                conn.unregister(staged)
        return rows.num_rows

    # -- embedded-only helpers ---------------------------------------------------------------------
    def insert_arrow(self, logical_table: tuple[str, str, str], rows: pa.Table) -> int:
        """Append rows to a (source) table by column name; used to load the sandbox's system tables."""
        catalog, schema, name = self.names.logical(*logical_table)
        physical = f'"{TableNames.duckdb_schema(catalog, schema)}"."{sqlmod.ident(name)}"'
        with self.connect() as conn:
            conn.register("__staged_load", rows)
            try:
                conn.execute(f"INSERT INTO {physical} BY NAME SELECT * FROM __staged_load")  # noqa: S608 (validated names)
            finally:
                conn.unregister("__staged_load")
        return rows.num_rows

    def sql(self, text: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run ad-hoc Databricks SQL against the embedded warehouse (tests, the demo's summary)."""
        stmts = self._generated(text, "<ad hoc>")
        with self.connect() as conn:
            return self._run(conn, stmts, params or {}).fetchall()
