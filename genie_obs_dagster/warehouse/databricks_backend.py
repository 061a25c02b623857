"""Databricks back end: the same SQL files, run on a SQL warehouse against Unity Catalog Delta tables.

What the file says is what Databricks receives: table names are replaced in the text as written (see
:func:`.sql.rewrite_tables`), never regenerated. Writes are single Delta statements, so each is atomic:
``replace`` is ``INSERT INTO t REPLACE WHERE <slice> SELECT ...`` (readers never see the slice empty; a whole
table is ``INSERT OVERWRITE``), ``merge`` is ``MERGE INTO``. Rows built in Python are staged by
:mod:`.staging`. Every statement carries query tags (asset, partition range, run id, SQL file).
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from ..settings import validate_identifier
from . import sql as sqlmod
from .base import Params, Warehouse, WarehouseError
from .naming import TableNames
from .staging import Stager
from .statements import INLINE, StatementFailed, StatementRunner, StatementSettings, api_parameters

log = logging.getLogger(__name__)
DIALECT = "databricks"
CONFLICT_RETRIES = 3
# Schemas checked (and created or extended) by this process: (host, warehouse, catalog, schema). A step process
# then pays one information_schema query, the long-lived daemon one per start.
_READY: set[tuple[str, str, str, str]] = set()
_READY_LOCK = threading.Lock()


def forget_checked_schemas() -> None:
    """Check the schema again on the next ensure_schema (tests that recreate a workspace in one process)."""
    with _READY_LOCK:
        _READY.clear()


def _quoted(*parts: str) -> str:
    return ".".join(f"`{sqlmod.ident(p)}`" for p in parts)


class DatabricksWarehouse(Warehouse):
    backend = "databricks"

    def __init__(self, client: Any, warehouse_id: str, names: TableNames, volume: str, *,
                 wait_timeout_s: int = 10, statement_timeout_s: float = 3600.0, tags: Mapping[str, str] | None = None):
        validate_identifier(volume, "volume")
        self.client = client
        self.names = names
        self.volume = volume
        self.warehouse_id = warehouse_id
        self.runner = StatementRunner(client, StatementSettings(warehouse_id, wait_timeout_s,
                                                                statement_timeout_s=statement_timeout_s))
        self.stager = Stager(client.files, self.volume_path, max_age_s=statement_timeout_s)
        self.tags: dict[str, str] = dict(tags or {})
        self._write_lock = threading.RLock()  # one write at a time per process, as on the embedded back end

    @property
    def volume_path(self) -> str:
        return f"/Volumes/{self.names.target_catalog}/{self.names.target_schema}/{self.volume}"

    @property
    def statements_run(self) -> int:
        return self.runner.statements_run

    def tagged(self, tags: Mapping[str, str]) -> DatabricksWarehouse:
        """The same warehouse (connection, counters, write lock) whose statements carry these query tags too."""
        other = copy.copy(self)
        other.tags = {**self.tags, **{k: v for k, v in tags.items() if v}}
        return other

    # -- rendering ---------------------------------------------------------------------------------
    def _name(self, table: exp.Table, relations: Mapping[str, str], source: str) -> str:
        if not table.args.get("db"):
            if table.name in relations:
                return relations[table.name] if table.alias else f"{relations[table.name]} AS {sqlmod.ident(table.name)}"
            raise sqlmod.SqlFileError(f"{source}: table {table.name!r} must be written catalog.schema.table")
        return _quoted(*self.names.logical(table.catalog, table.db, table.name))

    def render(self, text: str, source: str, relations: Mapping[str, str] | None = None) -> list[str]:
        """The statements of ``text`` with configured names and staged relations, one string each."""
        rels = relations or {}
        out = sqlmod.rewrite_tables(text, source, lambda t: self._name(t, rels, source))
        return split_statements(out)

    # -- running -----------------------------------------------------------------------------------
    def _run(self, text: str, params: Params, source: str, table: str | None = None,
             result: tuple[str, str] = INLINE) -> pa.Table:
        names = tuple(dict.fromkeys(p.name for s in sqlmod.parse_text(text, source) for p in s.find_all(exp.Placeholder)
                                    if p.name))
        missing = [n for n in names if n not in params]
        if missing:
            raise sqlmod.SqlFileError(f"{source} needs parameter(s) {', '.join(':' + m for m in missing)}")
        what = f"{source}" + (f" (table {self._target(table)})" if table else "")
        tags = {**self.tags, "genie_obs_sql": source, "genie_obs_table": table or ""}
        attempt = 0
        while True:
            try:
                return self.runner.run(text, api_parameters(params, names), {k: v for k, v in tags.items() if v},
                                       what, result)
            except StatementFailed as exc:
                attempt += 1
                if not _is_conflict(exc) or attempt > CONFLICT_RETRIES:
                    raise
                log.info("%s: concurrent write conflict, trying again (%d/%d)", what, attempt, CONFLICT_RETRIES)
                time.sleep(0.5 * 2**attempt)

    def _target(self, table: str | None) -> str:
        return ".".join(self.names.target(table)) if table else ""

    def _write(self, statements: Sequence[str], params: Params, source: str, table: str | None = None) -> pa.Table:
        result = pa.table({})
        with self._write_lock:
            for st in statements:
                result = self._run(st, params, source, table)
        return result

    # -- interface ---------------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create the schema, the tables and the staging volume if missing; add columns new in the DDL.

        One information_schema query when everything exists (and none once this process checked). Tables are
        never dropped: a column added to a DDL file becomes ``ALTER TABLE ... ADD COLUMNS`` (nullable, as
        Delta requires for added columns)."""
        key = (str(getattr(self.client.config, "host", "")), self.warehouse_id, self.names.target_catalog,
               self.names.target_schema)
        with _READY_LOCK:
            if key in _READY:
                return
        with self._write_lock:
            found = self.query("databricks/target_columns", {"schema": self.names.target_schema}).to_pylist()
            have: dict[str, set[str]] = {}
            for r in found:
                have.setdefault(r["table_name"], set()).add(r["column_name"])
            catalog, schema = self.names.target_catalog, self.names.target_schema
            if not have:
                self._ddl(f"CREATE SCHEMA IF NOT EXISTS {_quoted(catalog, schema)}", "create schema")
                self.create_volume()
            for name in sqlmod.ddl_files("ddl/target"):
                table = name.rsplit("/", 1)[1]
                if table not in have:
                    log.info("creating table %s", self._target(table))
                    self._write(self.render(sqlmod.sql_path(name).read_text(), f"sql/{name}.sql"), {}, f"sql/{name}.sql",
                                table)
                    continue
                new = [c for c in sqlmod.ddl_columns(table) if c.lower() not in have[table]]
                if new:
                    log.info("adding column(s) %s to %s", ", ".join(new), self._target(table))
                    cols = ", ".join(column_ddl(table, c) for c in new)
                    self._ddl(f"ALTER TABLE {_quoted(*self.names.target(table))} ADD COLUMNS ({cols})",
                              f"add columns to {table}", table)
            self.stager.remove_leftovers()
        with _READY_LOCK:
            _READY.add(key)

    def create_volume(self) -> None:
        self._ddl(f"CREATE VOLUME IF NOT EXISTS {_quoted(self.names.target_catalog, self.names.target_schema, self.volume)} "
                  "COMMENT 'genie-obs-dagster: rows staged as Parquet for one MERGE (staging/, removed afterwards) "
                  "and space configuration backups (space_backups/, kept)'",
                  "create staging volume")

    def _ddl(self, text: str, what: str, table: str | None = None) -> None:
        # Statements of validated identifiers only (no values): schema, volume and added columns.
        self._write([text], {}, what, table)

    def execute(self, sql_name: str, params: Params | None = None, staged: Mapping[str, pa.Table] | None = None) -> None:
        staged = dict(staged or {})
        for name in staged:
            if not name.startswith(sqlmod.STAGED_PREFIX):
                raise WarehouseError(f"staged relation {name!r} must start with {sqlmod.STAGED_PREFIX}")
        text = sqlmod.sql_path(sql_name).read_text()
        source = f"sql/{sql_name}.sql"
        sqlmod.parse_file(sql_name)  # a file that is not Databricks SQL fails here, naming the file
        with self.stager.staged(staged, self.create_volume) as batch:
            self._write(self.render(text, source, batch.relations), {**(params or {}), **batch.params}, source)

    def query(self, sql_name: str, params: Params | None = None) -> pa.Table:
        source = f"sql/{sql_name}.sql"
        statements = self.render(sqlmod.sql_path(sql_name).read_text(), source)
        if len(statements) != 1:
            raise WarehouseError(f"{source} must hold exactly one query")
        return self._run(statements[0], params or {}, source)

    def columns(self, table: str) -> list[str]:
        return list(sqlmod.ddl_columns(table))

    def replace(self, table: str, sql_name: str, params: Params, where: Mapping[str, Any]) -> int:
        text, wparams = sqlmod.replace_where_text(table, self.columns(table), sqlmod.body_of(sql_name), where)
        source = f"sql/{sql_name}.sql"
        out = self._write(self.render(text, source), {**params, **wparams}, source, table)
        return _counter(out, "num_inserted_rows", "num_affected_rows")

    def merge(self, table: str, sql_name: str, params: Params, keys: Sequence[str]) -> int:
        text = sqlmod.merge_text(table, self.columns(table), keys, sqlmod.body_of(sql_name))
        source = f"sql/{sql_name}.sql"
        out = self._write(self.render(text, source), params, source, table)
        return _counter(out, "num_affected_rows")

    def merge_rows(self, table: str, rows: pa.Table, keys: Sequence[str]) -> int:
        text, source = self.merge_rows_text(table, rows, keys), f"merge rows into {table}"
        with self.stager.staged({self.STAGED_ROWS: rows.select(self.columns(table))}, self.create_volume) as batch:
            self._write(self.render(text, source, batch.relations), batch.params, source, table)
        return rows.num_rows


def split_statements(text: str) -> list[str]:
    """Split SQL text at top-level semicolons (the tokenizer knows strings and comments)."""
    tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(text)
    cuts = [t.start for t in tokens if t.token_type == TokenType.SEMICOLON]
    pieces, start = [], 0
    for cut in [*cuts, len(text)]:
        piece = text[start:cut]
        start = cut + 1
        if sqlglot.Dialect.get_or_raise(DIALECT).tokenize(piece):
            pieces.append(piece.strip())
    return pieces


def column_ddl(table: str, column: str) -> str:
    """``name TYPE COMMENT '...'`` of a DDL column, without NOT NULL (Delta adds columns as nullable)."""
    for stmt in sqlmod.parse_file(f"ddl/target/{sqlmod.ident(table)}"):
        if isinstance(stmt, exp.Create) and isinstance(stmt.this, exp.Schema):
            for col in stmt.this.expressions:
                if isinstance(col, exp.ColumnDef) and col.name == column:
                    col = col.copy()
                    for c in list(col.args.get("constraints") or []):
                        if isinstance(c.args.get("kind"), exp.NotNullColumnConstraint):
                            c.pop()
                    return col.sql(dialect=DIALECT)
    raise sqlmod.SqlFileError(f"sql/ddl/target/{table}.sql has no column {column!r}")


def _counter(result: pa.Table, *names: str) -> int:
    row = result.to_pylist()[0] if result.num_rows else {}
    for n in names:
        if row.get(n) is not None:
            return int(row[n])
    return 0


def _is_conflict(exc: StatementFailed) -> bool:
    """Delta's optimistic concurrency conflicts (another writer committed first): safe to run again."""
    text = str(exc)
    return (exc.sql_state or "").startswith("2D521") or "DELTA_CONCURRENT" in text or "ConcurrentAppend" in text
