"""SQL files in ``sql/`` (Databricks dialect) parsed once and rendered per back end with sqlglot.

Rendering rewrites table names (see :mod:`.naming`) and keeps named parameters (``:name``) as bound
parameters of the target dialect (``$name`` for DuckDB). Statements built in code (DELETE/INSERT/MERGE
around a query) are assembled from validated identifiers and go through the same renderer.

Caches are keyed on the SQL *text* (a file is read on every use, a few microseconds), never on the file name:
an edited file is parsed and rendered again in a long-lived process (``dagster dev``), an unchanged one never.
Parses (:func:`parse_text`), rendered statements (:func:`render_cached`, per dialect and table names) and the
positions of table names (:func:`rewrite_tables`) are each computed once per process.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import os
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from ..settings import IDENTIFIER_RE

SOURCE_DIALECT = "databricks"
# sqlglot warns about Databricks-only table properties (COMMENT, CLUSTER BY) it drops for DuckDB: expected.
logging.getLogger("sqlglot").setLevel(logging.ERROR)
# The top-level sql/ folder, shipped as the package genie_obs_dagster.sql (pyproject.toml): found the same
# way in a checkout, an editable install and an installed wheel.
SQL_DIR = Path(os.environ.get("GENIE_OBS_SQL_DIR") or str(importlib.resources.files("genie_obs_dagster.sql")))

TableRewriter = Callable[[exp.Table], None]
# Rows produced in Python are staged under names with this prefix (a DuckDB view, a Databricks VALUES list).
STAGED_PREFIX = "__staged"


class SqlFileError(ValueError):
    pass


@dataclass(frozen=True)
class Statement:
    """One rendered statement and the names of the parameters it binds."""

    sql: str
    params: tuple[str, ...]
    source: str

    def bind(self, values: Mapping[str, Any]) -> dict[str, Any]:
        missing = [p for p in self.params if p not in values]
        if missing:
            raise SqlFileError(f"{self.source} needs parameter(s) {', '.join(':' + m for m in missing)}")
        return {p: values[p] for p in self.params}


def sql_path(name: str) -> Path:
    if not all(IDENTIFIER_RE.match(part) for part in name.split("/")):
        raise SqlFileError(f"SQL file name {name!r} is not allowed; use folder/name with letters, digits, underscores")
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise SqlFileError(f"SQL file {path} does not exist")
    return path


def file_text(name: str) -> str:
    """The current text of ``sql/<name>.sql`` (read on every call: the caches below are keyed on it)."""
    return sql_path(name).read_text()


def parse_file(name: str) -> tuple[exp.Expression, ...]:
    """The parsed statements of ``sql/<name>.sql``, parsed once per distinct text (see :func:`parse_text`)."""
    return parse_text(file_text(name), source=f"sql/{name}.sql")


def clear_caches() -> None:
    """Forget every parse and rendering (tests that point ``SQL_DIR`` elsewhere; never needed for edits)."""
    parse_text.cache_clear()
    _table_spans.cache_clear()
    ddl_columns.cache_clear()  # cached per table name, not per text
    with _rendered_lock:
        _rendered.clear()


parse_file.cache_clear = clear_caches  # type: ignore[attr-defined]  # the name callers have used since it was an lru_cache


@functools.lru_cache(maxsize=1024)
def parse_text(text: str, source: str = "<generated>") -> tuple[exp.Expression, ...]:
    try:
        statements = tuple(s for s in sqlglot.parse(text, read=SOURCE_DIALECT) if s is not None)
    except sqlglot.errors.ParseError as exc:
        raise SqlFileError(f"{source} does not parse as Databricks SQL: {exc}") from None
    if not statements:
        raise SqlFileError(f"{source} holds no statement")
    return statements


def render(statements: Sequence[exp.Expression], dialect: str, rewrite: TableRewriter, source: str) -> list[Statement]:
    out = []
    for stmt in statements:
        tree = stmt.copy()
        cte_names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if not table.args.get("db"):
                if table.name not in cte_names and not table.name.startswith(STAGED_PREFIX):
                    raise SqlFileError(f"{source}: table {table.name!r} must be written catalog.schema.table")
                continue
            rewrite(table)
        names = tuple(dict.fromkeys(p.name for p in tree.find_all(exp.Placeholder) if p.name))
        out.append(Statement(tree.sql(dialect=dialect), names, source))
    return out


_rendered: dict[tuple[str, str, str, Hashable], tuple[Statement, ...]] = {}
_rendered_lock = threading.Lock()
RENDER_CACHE_SIZE = 2048


def render_cached(text: str, source: str, dialect: str, rewrite: TableRewriter, names_key: Hashable) -> list[Statement]:
    """:func:`render` of ``text`` (parsed with :func:`parse_text`), computed once per (text, source, dialect,
    ``names_key``): ``names_key`` must identify what ``rewrite`` does (the configured table names), so that two
    warehouses with different names never share a rendering. Statements are immutable, hence shared."""
    key = (text, source, dialect, names_key)
    hit = _rendered.get(key)
    if hit is None:
        hit = tuple(render(parse_text(text, source), dialect, rewrite, source))
        with _rendered_lock:
            if len(_rendered) >= RENDER_CACHE_SIZE:
                _rendered.clear()  # a bound, not an LRU: a process renders a few hundred distinct texts
            _rendered[key] = hit
    return list(hit)


def ident(name: str) -> str:
    """A validated, unquoted identifier for generated statements."""
    if not IDENTIFIER_RE.match(name or ""):
        raise SqlFileError(f"identifier {name!r} is not allowed")
    return name


def target_table(table: str) -> str:
    return f"main.genie_analytics.{ident(table)}"


def where_clause(where: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``col = :w_col`` / ``col BETWEEN :w_col_lo AND :w_col_hi`` with the values as parameters."""
    parts, params = [], {}
    for col, value in where.items():
        c = ident(col)
        if isinstance(value, tuple):
            lo, hi = value
            parts.append(f"{c} BETWEEN :w_{c}_lo AND :w_{c}_hi")
            params[f"w_{c}_lo"], params[f"w_{c}_hi"] = lo, hi
        else:
            parts.append(f"{c} = :w_{c}")
            params[f"w_{c}"] = value
    return " AND ".join(parts) or "TRUE", params


def body_of(name: str) -> str:
    """The single SELECT of a SQL file, as written, for embedding as a subquery.

    The file's own text is used, not a re-generated one: sqlglot's Databricks output is not always the
    input (it turns ``percentile_cont`` into ``percentile_approx``, for one).
    """
    statements = parse_file(name)
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise SqlFileError(f"sql/{name}.sql must hold exactly one SELECT to be used as a source")
    # A trailing newline, so that a file ending in a ``--`` comment cannot swallow the caller's ``)``.
    return file_text(name).strip().rstrip(";") + "\n"


# Generated statements below splice only identifiers that passed ``ident`` (letters, digits, underscores)
# and SQL that comes from files in sql/; every value is a named parameter. Hence the S608 exemptions.


def replace_text(table: str, columns: Sequence[str], source_sql: str, where: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    cond, params = where_clause(where)
    cols = ", ".join(ident(c) for c in columns)
    delete = f"DELETE FROM {target_table(table)} WHERE {cond}"  # noqa: S608
    insert = f"INSERT INTO {target_table(table)} ({cols}) SELECT {cols} FROM ({source_sql}) AS src"  # noqa: S608
    return delete, insert, params


def replace_where_text(table: str, columns: Sequence[str], source_sql: str,
                       where: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """One atomic Delta statement that swaps the rows matching ``where`` for the query's rows: readers never
    see the slice empty. ``INSERT OVERWRITE`` when ``where`` is empty (a whole-table rebuild)."""
    cols = ", ".join(ident(c) for c in columns)
    select = f"SELECT {cols} FROM ({source_sql}) AS src"  # noqa: S608
    if not where:
        return f"INSERT OVERWRITE TABLE {target_table(table)} ({cols}) {select}", {}
    cond, params = where_clause(where)
    return f"INSERT INTO {target_table(table)} ({cols}) REPLACE WHERE {cond} {select}", params


def merge_text(table: str, columns: Sequence[str], keys: Sequence[str], source_sql: str) -> str:
    on = " AND ".join(f"t.{ident(k)} = s.{ident(k)}" for k in keys)
    updates = ", ".join(f"{ident(c)} = s.{ident(c)}" for c in columns if c not in keys)
    cols = ", ".join(ident(c) for c in columns)
    vals = ", ".join(f"s.{ident(c)}" for c in columns)
    return (
        f"MERGE INTO {target_table(table)} AS t USING ({source_sql}) AS s ON {on} "  # noqa: S608
        f"WHEN MATCHED THEN UPDATE SET {updates} WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({vals})"
    )


def select_staged(staged: str, columns: Sequence[str]) -> str:
    """SELECT of rows staged from Python, in the target table's column order."""
    if not staged.startswith(STAGED_PREFIX):
        raise SqlFileError(f"staged relation {staged!r} must start with {STAGED_PREFIX}")
    return f"SELECT {', '.join(ident(c) for c in columns)} FROM {ident(staged)}"  # noqa: S608


@functools.lru_cache(maxsize=64)
def ddl_columns(table: str) -> tuple[str, ...]:
    """Column names of a target table from ``sql/ddl/target/<table>.sql``."""
    for stmt in parse_file(f"ddl/target/{ident(table)}"):
        if isinstance(stmt, exp.Create) and isinstance(stmt.this, exp.Schema):
            return tuple(col.name for col in stmt.this.expressions if isinstance(col, exp.ColumnDef))
    raise SqlFileError(f"sql/ddl/target/{table}.sql has no CREATE TABLE with columns")


@functools.lru_cache(maxsize=64)
def _ddl_column_comments(table: str) -> tuple[tuple[str, str], ...]:
    for stmt in parse_file(f"ddl/target/{ident(table)}"):
        if isinstance(stmt, exp.Create) and isinstance(stmt.this, exp.Schema):
            return tuple(
                (col.name, constraint.kind.this.name)
                for col in stmt.this.expressions if isinstance(col, exp.ColumnDef)
                for constraint in col.constraints if isinstance(constraint.kind, exp.CommentColumnConstraint)
            )
    raise SqlFileError(f"sql/ddl/target/{table}.sql has no CREATE TABLE with columns")


def ddl_column_comments(table: str) -> dict[str, str]:
    """Column -> ``COMMENT '...'`` of a target table, in DDL column order, from ``sql/ddl/target/<table>.sql``.

    Read from the parsed DDL so the comments shown elsewhere (e.g. Dagster column metadata) are the ones
    Unity Catalog stores, with no second copy to drift. Columns without a comment are left out; a fresh
    dict per call, so callers may change it without touching the cache.
    """
    return dict(_ddl_column_comments(table))


def ddl_files(folder: str) -> list[str]:
    return sorted(f"{folder}/{p.stem}" for p in (SQL_DIR / folder).glob("*.sql"))


def rewrite_tables(text: str, source: str, rename: Callable[[exp.Table], str]) -> str:
    """The SQL text exactly as written, with every table reference replaced by ``rename(table)``.

    Positions come from sqlglot's parse, so nothing else of the text changes: sqlglot's own Databricks
    output is not always its input (see :func:`body_of`), and what Databricks receives should be what the
    file says. ``rename`` sees each ``exp.Table`` (CTE names excluded) and returns the replacement text for the
    name, e.g. a configured three-part name or a subquery for a staged relation.
    """
    edits = [(start, end, rename(table)) for start, end, table in _table_spans(text, source)]
    out = text
    for start, end, replacement in sorted(edits, key=lambda e: e[:2], reverse=True):
        out = out[:start] + replacement + out[end:]
    return out


@functools.lru_cache(maxsize=1024)
def _table_spans(text: str, source: str) -> tuple[tuple[int, int, exp.Table], ...]:
    """Where each table reference of ``text`` is (CTE names excluded), found once per text. The tables are the
    cached parse's nodes: ``rename`` callbacks read them and must not change them."""
    spans = []
    for stmt in parse_text(text, source):
        cte_names = {cte.alias_or_name for cte in stmt.find_all(exp.CTE)}
        for table in stmt.find_all(exp.Table):
            parts = [p for p in table.parts if isinstance(p, exp.Identifier)]
            if not parts or isinstance(table.this, exp.Func) or (len(parts) == 1 and table.name in cte_names):
                continue
            try:
                start, end = parts[0].meta["start"], parts[-1].meta["end"]
            except KeyError:
                raise SqlFileError(f"{source}: cannot locate table {table.sql()} in the text") from None
            spans.append((start, end + 1, table))
    return tuple(spans)


# Staged rows (rows built in Python, see staging.py) are declared with the target table's DDL, so a column
# exists in one place. Arrow here is the inverse of ``staging.sql_type`` (what a staged Arrow column is cast to
# on Databricks): a staged column is read back as its DDL type. pyarrow is imported where used: the rest of
# this module does not need it.


def arrow_type(kind: exp.DataType, where: str = "column") -> Any:
    """The Arrow type a value of the Databricks column type ``kind`` is staged as (``DECIMAL(p,s)`` included)."""
    import pyarrow as pa

    t = exp.DataType.Type
    simple: dict[exp.DataType.Type, Callable[[], Any]] = {
        t.TEXT: pa.string, t.VARCHAR: pa.string, t.BIGINT: pa.int64, t.INT: pa.int32, t.SMALLINT: pa.int16,
        t.TINYINT: pa.int8, t.DOUBLE: pa.float64, t.FLOAT: pa.float32, t.BOOLEAN: pa.bool_, t.DATE: pa.date32,
        # Databricks' TIMESTAMP is an instant (WITH LOCAL TIME ZONE): staged as UTC microseconds.
        t.TIMESTAMPTZ: lambda: pa.timestamp("us", tz="UTC"),
    }
    if kind.this == t.DECIMAL:
        params = [int(p.name) for p in kind.expressions] or [10, 0]  # Spark's DECIMAL is DECIMAL(10,0)
        return pa.decimal128(*(params + [0])[:2])
    make = simple.get(kind.this)
    if make is None:
        raise SqlFileError(f"{where}: type {kind.sql(dialect=SOURCE_DIALECT)} has no Arrow type for staged rows; "
                           "use STRING, BIGINT, INT, SMALLINT, TINYINT, DOUBLE, FLOAT, BOOLEAN, DATE, TIMESTAMP "
                           "or DECIMAL")
    return make()


def ddl_arrow_schema(table: str) -> Any:
    """The ``pyarrow.Schema`` of rows staged into a target table: the columns of ``sql/ddl/target/<table>.sql``
    in DDL order with their Arrow types (:func:`arrow_type`), every field nullable.

    Row shaping declares its rows with it (genie/rows.py), so a column exists in one place, the DDL. The order
    matters beyond tidiness: DuckDB's ``MERGE ... INSERT *`` / ``UPDATE SET *`` take the source's columns by
    *position* (Databricks by name), so staged rows must be in DDL order. Nullable even for ``NOT NULL``
    columns: the table enforces those, and a conversion that fails on a None would not say which rule broke.
    Computed once per DDL *text* (like every parse here): an edited DDL is followed, an unchanged one costs a
    file read.
    """
    name = f"ddl/target/{ident(table)}"
    return _arrow_schema_of(file_text(name), f"sql/{name}.sql")


@functools.lru_cache(maxsize=64)
def _arrow_schema_of(text: str, source: str) -> Any:
    import pyarrow as pa

    for stmt in parse_text(text, source):
        if isinstance(stmt, exp.Create) and isinstance(stmt.this, exp.Schema):
            return pa.schema([
                pa.field(col.name, arrow_type(col.kind, f"{source} column {col.name}"))
                for col in stmt.this.expressions if isinstance(col, exp.ColumnDef)
            ])
    raise SqlFileError(f"{source} has no CREATE TABLE with columns")


@dataclass(frozen=True)
class DdlColumn:
    """One column of a target table as its DDL declares it."""

    name: str
    type: str  # the Databricks SQL type as sqlglot writes it back (STRING, BIGINT, TIMESTAMP, ...)
    comment: str | None  # the column's ``COMMENT '...'``
    not_null: bool


def ddl_column_defs(table: str) -> tuple[DdlColumn, ...]:
    """Every column of ``sql/ddl/target/<table>.sql`` in DDL order: name, type, comment, NOT NULL.

    Computed once per DDL *text* (like every parse here), so a process that shows the columns (the Dagster UI's
    column schema) follows an edited DDL like the SQL it runs does, and an unchanged one costs a file read.
    """
    name = f"ddl/target/{ident(table)}"
    return _column_defs_of(file_text(name), f"sql/{name}.sql")


@functools.lru_cache(maxsize=64)
def _column_defs_of(text: str, source: str) -> tuple[DdlColumn, ...]:
    for stmt in parse_text(text, source):
        if isinstance(stmt, exp.Create) and isinstance(stmt.this, exp.Schema):
            out = []
            for col in stmt.this.expressions:
                if not isinstance(col, exp.ColumnDef):
                    continue
                kind = col.args.get("kind")
                comments = [c.kind.this.name for c in col.constraints if isinstance(c.kind, exp.CommentColumnConstraint)]
                out.append(DdlColumn(
                    name=col.name,
                    type=kind.sql(dialect=SOURCE_DIALECT) if isinstance(kind, exp.DataType) else "STRING",
                    comment=comments[0] if comments else None,
                    not_null=any(isinstance(c.kind, exp.NotNullColumnConstraint) and not c.kind.args.get("allow_null")
                                 for c in col.constraints),
                ))
            return tuple(out)
    raise SqlFileError(f"{source} has no CREATE TABLE with columns")
