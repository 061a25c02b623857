"""The simulated SQL warehouse's engine: one Databricks SQL statement at a time, run on an embedded DuckDB.

The HTTP side (the Statement Execution API) hands each statement here. Statements are parsed as Databricks SQL
with sqlglot, checked the way Unity Catalog and Delta check them (names, grants, one statement, bound
parameters, REPLACE WHERE and MERGE rules), rewritten to physical DuckDB names (``catalog.schema.table`` ->
``"catalog__schema"."table"``, as the embedded back end does) and generated as DuckDB SQL. What the engine does
not understand fails with a :class:`SqlFailure` instead of being passed through: the point of the simulator is
that dialect mistakes of the product surface in tests, not in production.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from ...warehouse.duckdb_backend import DIALECT
from ...warehouse.naming import TableNames
from ...warehouse.sql import SOURCE_DIALECT
from .sql_types import ColumnInfo, Parameters, SqlFailure, SqlWarehouseConfig, StatementResult
from .volumes import VolumePathError, VolumeStore

Name = tuple[str, str, str]
_NAME_PART = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")
_MAX_ECHO = 64
_CANCEL_POLL_S = 0.02
_CANCEL_GIVE_UP_S = 10.0
_MAX_CLUSTER_COLUMNS = 4
_VOLUME_DDL = re.compile(
    r"^\s*CREATE\s+VOLUME\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?(?P<name>[`\w.]+)"
    r"(?:\s+COMMENT\s+'(?:[^'\\]|\\.)*')?\s*;?\s*$", re.IGNORECASE | re.DOTALL)
_ALLOWED_TYPES = {
    exp.DataType.Type.TEXT, exp.DataType.Type.BIGINT, exp.DataType.Type.INT, exp.DataType.Type.SMALLINT,
    exp.DataType.Type.TINYINT, exp.DataType.Type.BOOLEAN, exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMPTZ,
    exp.DataType.Type.TIMESTAMPNTZ, exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT, exp.DataType.Type.DECIMAL,
    exp.DataType.Type.ARRAY, exp.DataType.Type.MAP, exp.DataType.Type.STRUCT, exp.DataType.Type.BINARY,
}


# -- failures ------------------------------------------------------------------------------------------------

def _q(name: Sequence[str]) -> str:
    """A name as Databricks prints it in messages: `a`.`b`.`c`."""
    return ".".join(f"`{part}`" for part in name)


def _clip(value: object) -> str:
    text = str(value)
    return text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "..."


def _unsupported(what: str) -> SqlFailure:
    """The simulator's own limit (not Databricks'): named so that nobody mistakes it for a product bug."""
    return SqlFailure("NOT_SUPPORTED_IN_SANDBOX", "0A000",
                      f"{what} is not supported by the simulated SQL warehouse.")


def _not_found(name: Name) -> SqlFailure:
    return SqlFailure("TABLE_OR_VIEW_NOT_FOUND", "42P01",
                      f"The table or view {_q(name)} cannot be found. Verify the spelling and correctness of the "
                      "schema and catalog.")


def _no_catalog(catalog: str) -> SqlFailure:
    return SqlFailure("NO_SUCH_CATALOG_EXCEPTION", "42704", f"Catalog '{catalog}' was not found. Please verify "
                      "the catalog name and then retry the query or command again.")


def _no_schema(catalog: str, schema: str) -> SqlFailure:
    return SqlFailure("SCHEMA_NOT_FOUND", "42704", f"The schema {_q((catalog, schema))} cannot be found. Verify "
                      "the spelling and correctness of the schema and catalog.")


def _syntax(detail: str) -> SqlFailure:
    return SqlFailure("PARSE_SYNTAX_ERROR", "42601", f"Syntax error: {detail}.")


def _canceled() -> SqlFailure:
    return SqlFailure("OPERATION_CANCELED", "HY008", "The statement was canceled.", error_code="CANCELLED")


_DUCKDB_PATTERNS: tuple[tuple[type[duckdb.Error], str, str, str], ...] = (
    (duckdb.BinderException, r'Referenced column "?([^"\s]+)"? not found', "UNRESOLVED_COLUMN.WITH_SUGGESTION", "42703"),
    (duckdb.BinderException, r"Referenced table .* not found", "UNRESOLVED_COLUMN.WITH_SUGGESTION", "42703"),
    (duckdb.BinderException, r"has \d+ columns but \d+ values were supplied", "INSERT_COLUMN_ARITY_MISMATCH", "21S01"),
    (duckdb.BinderException, r"No function matches|explicit cast is required|Cannot compare", "DATATYPE_MISMATCH", "42K09"),
    (duckdb.CatalogException, r"(Scalar|Table|Aggregate) Function with name", "UNRESOLVED_ROUTINE", "42883"),
    (duckdb.CatalogException, r"Table with name|does not exist", "TABLE_OR_VIEW_NOT_FOUND", "42P01"),
    (duckdb.ConstraintException, r"NOT NULL constraint", "DELTA_NOT_NULL_CONSTRAINT_VIOLATED", "23502"),
    (duckdb.ConversionException, r"out of range|Overflow", "CAST_OVERFLOW", "22003"),
    (duckdb.ConversionException, r"", "CAST_INVALID_INPUT", "22018"),
    (duckdb.OutOfRangeException, r"", "ARITHMETIC_OVERFLOW", "22003"),
    (duckdb.InvalidInputException, r"Division by zero", "DIVIDE_BY_ZERO", "22012"),
    (duckdb.ParserException, r"", "PARSE_SYNTAX_ERROR", "42601"),
)


def _from_duckdb(exc: duckdb.Error) -> SqlFailure:
    """Databricks' error class for what DuckDB reported; the DuckDB text is kept so a developer sees why."""
    if isinstance(exc, duckdb.InterruptException):
        return _canceled()
    text = " ".join(str(exc).split())
    for kind, pattern, error_class, state in _DUCKDB_PATTERNS:
        if isinstance(exc, kind) and re.search(pattern, text):
            return SqlFailure(error_class, state, f"{text} (simulated warehouse, DuckDB)")
    return SqlFailure("INTERNAL_ERROR", "XX000", f"{text} (simulated warehouse, DuckDB {type(exc).__name__})")


# -- parameters ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Param:
    """A bound parameter: its Python value and the DuckDB type it is cast to (None: bind as is, STRING)."""

    value: Any
    cast: str | None


_INT_TYPES = {"BIGINT": ("BIGINT", 63), "LONG": ("BIGINT", 63), "INT": ("INTEGER", 31), "INTEGER": ("INTEGER", 31),
              "SMALLINT": ("SMALLINT", 15), "SHORT": ("SMALLINT", 15), "TINYINT": ("TINYINT", 7),
              "BYTE": ("TINYINT", 7)}
_DECIMAL_TYPE = re.compile(r"^(?:DECIMAL|DEC|NUMERIC)(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$")


def _convert_param(name: str, type_text: str, value: str | None) -> _Param:
    """The API's string value as the typed value Databricks would bind; raises ValueError when it does not parse."""
    kind = " ".join(type_text.upper().split())
    if kind in ("STRING", ""):
        return _Param(value, None)
    if kind in _INT_TYPES:
        duck, bits = _INT_TYPES[kind]
        number = None if value is None else int(value.strip())
        if number is not None and not -(2 ** bits) <= number < 2 ** bits:
            raise ValueError(f"out of range for {kind}")
        return _Param(number, duck)
    if kind in ("DOUBLE", "FLOAT", "REAL"):
        return _Param(None if value is None else float(value), "DOUBLE" if kind == "DOUBLE" else "FLOAT")
    if kind in ("BOOLEAN", "BOOL"):
        return _Param(None if value is None else _parse_bool(value), "BOOLEAN")
    if kind == "DATE":
        return _Param(None if value is None else _parse_date(value), "DATE")
    if kind == "TIMESTAMP":
        return _Param(None if value is None else _parse_timestamp(value), "TIMESTAMPTZ")
    match = _DECIMAL_TYPE.match(kind)
    if match:
        precision, scale = int(match.group(1) or 10), int(match.group(2) or 0)
        if not 1 <= precision <= 38 or scale > precision:
            raise ValueError(f"{kind} is not a valid DECIMAL type")
        return _Param(None if value is None else _parse_decimal(value, precision, scale),
                      f"DECIMAL({precision},{scale})")
    raise ValueError(f"unsupported parameter type {kind!r}")


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError("not a BOOLEAN (true or false)")
    return lowered == "true"


def _parse_date(value: str) -> dt.date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError("not a DATE (YYYY-MM-DD)")
    return dt.date.fromisoformat(value.strip())


def _parse_timestamp(value: str) -> dt.datetime:
    """ISO 8601 with or without an offset; a timestamp without one is UTC (the session time zone)."""
    text = value.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        raise ValueError("not a TIMESTAMP (ISO 8601)")
    parsed = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    return parsed.replace(tzinfo=dt.timezone.utc) if parsed.tzinfo is None else parsed.astimezone(dt.timezone.utc)


def _parse_decimal(value: str, precision: int, scale: int) -> decimal.Decimal:
    number = decimal.Decimal(value.strip())
    if not number.is_finite():
        raise ValueError("not a finite DECIMAL")
    quantized = number.quantize(decimal.Decimal(1).scaleb(-scale), rounding=decimal.ROUND_HALF_UP)
    if len(quantized.as_tuple().digits) > precision and quantized != 0:
        raise ValueError(f"does not fit DECIMAL({precision},{scale})")
    return quantized


def _parameters(parameters: Parameters) -> dict[str, _Param]:
    """The request's ``[{name, value?, type?}]`` as typed values; bad input fails naming the parameter."""
    out: dict[str, _Param] = {}
    for item in parameters:
        name = item.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise SqlFailure("INVALID_PARAMETER_MARKER_VALUE", "22023", f"Parameter name {_clip(name)!r} is not a valid identifier.")
        if name in out:
            raise SqlFailure("INVALID_PARAMETER_MARKER_VALUE", "22023", f"Parameter `{name}` is given more than once.")
        value, type_text = item.get("value"), item.get("type") or "STRING"
        if value is not None and not isinstance(value, str):
            raise SqlFailure("INVALID_PARAMETER_MARKER_VALUE", "22023", f"Parameter `{name}`: the value must be a string.")
        try:
            out[name] = _convert_param(name, str(type_text), value)
        except (ValueError, ArithmeticError) as exc:
            raise SqlFailure("INVALID_PARAMETER_MARKER_VALUE", "22023",
                             f"Parameter `{name}` of type {_clip(type_text)}: value {_clip(value)!r} is invalid ({exc}).") from None
    return out


# -- result types --------------------------------------------------------------------------------------------

def _databricks_type(t: pa.DataType) -> tuple[str, str, pa.DataType]:
    """(type_name, type_text, Arrow type to deliver) of a DuckDB result column's Arrow type."""
    simple: list[tuple[Callable[[pa.DataType], bool], str, str, pa.DataType | None]] = [
        (pa.types.is_boolean, "BOOLEAN", "BOOLEAN", None), (pa.types.is_int8, "BYTE", "TINYINT", None),
        (pa.types.is_int16, "SHORT", "SMALLINT", None), (pa.types.is_int32, "INT", "INT", None),
        (pa.types.is_int64, "LONG", "BIGINT", None), (pa.types.is_uint8, "SHORT", "SMALLINT", pa.int16()),
        (pa.types.is_uint16, "INT", "INT", pa.int32()), (pa.types.is_uint32, "LONG", "BIGINT", pa.int64()),
        (pa.types.is_float32, "FLOAT", "FLOAT", None), (pa.types.is_float64, "DOUBLE", "DOUBLE", None),
        (pa.types.is_date32, "DATE", "DATE", None), (pa.types.is_null, "NULL", "VOID", None),
        (pa.types.is_timestamp, "TIMESTAMP", "TIMESTAMP", pa.timestamp("us", tz="UTC")),
        (lambda x: pa.types.is_string(x) or pa.types.is_large_string(x), "STRING", "STRING", pa.string()),
        (lambda x: pa.types.is_binary(x) or pa.types.is_large_binary(x), "BINARY", "BINARY", pa.binary()),
    ]
    for test, name, text, target in simple:
        if test(t):
            return name, text, target or t
    if pa.types.is_uint64(t):
        return "DECIMAL", "DECIMAL(20,0)", pa.decimal128(20, 0)
    if pa.types.is_decimal(t) and t.precision <= 38:
        return "DECIMAL", f"DECIMAL({t.precision},{t.scale})", pa.decimal128(t.precision, t.scale)
    if pa.types.is_dictionary(t):
        return _databricks_type(t.value_type)
    return _nested_type(t)


def _nested_type(t: pa.DataType) -> tuple[str, str, pa.DataType]:
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        _, text, target = _databricks_type(t.value_type)
        return "ARRAY", f"ARRAY<{text}>", pa.list_(target)
    if pa.types.is_map(t):
        _, key_text, key = _databricks_type(t.key_type)
        _, item_text, item = _databricks_type(t.item_type)
        return "MAP", f"MAP<{key_text}, {item_text}>", pa.map_(key, item)
    if pa.types.is_struct(t):
        fields = [(f.name, *_databricks_type(f.type)[1:]) for f in t]
        text = ", ".join(f"{name}: {ftext}" for name, ftext, _ in fields)
        return "STRUCT", f"STRUCT<{text}>", pa.struct([pa.field(name, ftype) for name, _, ftype in fields])
    raise _unsupported(f"A result column of Arrow type {t}")


def _result(table: pa.Table) -> StatementResult:
    """Rows and manifest columns with Databricks' type names; timestamps delivered as UTC microseconds."""
    columns, arrays = [], []
    for fld, column in zip(table.schema, table.columns, strict=True):
        type_name, type_text, target = _databricks_type(fld.type)
        precision = target.precision if pa.types.is_decimal(target) else None
        scale = target.scale if pa.types.is_decimal(target) else None
        columns.append(ColumnInfo(fld.name, type_name, type_text, precision, scale))
        arrays.append(column if column.type == target else column.cast(target))
    names = [c.name for c in columns]
    return StatementResult(table=pa.Table.from_arrays(arrays, names=names) if arrays else table, columns=columns)


def _counts(**counts: int) -> StatementResult:
    """The one-row result Databricks returns for DML (LONG counters)."""
    table = pa.table({k: pa.array([v], pa.int64()) for k, v in counts.items()})
    return StatementResult(table=table, columns=[ColumnInfo(k, "LONG", "BIGINT") for k in counts])


def _no_rows() -> StatementResult:
    """DDL returns no columns."""
    return StatementResult(table=pa.table({}), columns=[])


def _information_type(type_text: str) -> tuple[str, str]:
    """(data_type, full_data_type) of information_schema.columns from a DuckDB column type: the simple type
    name (Unity Catalog's type name: STRING, LONG, INT, DECIMAL, ARRAY, ...) and the lower-case full type."""
    duck = exp.DataType.build(type_text, dialect=DIALECT)
    full = re.sub(r"([,:])\s+", r"\1", duck.sql(dialect=SOURCE_DIALECT).lower())  # decimal(10,2), struct<a:int>
    if duck.this == exp.DataType.Type.TIMESTAMP:
        return "TIMESTAMP_NTZ", full
    return _databricks_type(_arrow_of(duck))[0], full


def _arrow_of(duck: exp.DataType) -> pa.DataType:
    """Only the top-level kind matters for the simple type name."""
    t = exp.DataType.Type
    kinds = {t.TEXT: pa.string(), t.VARCHAR: pa.string(), t.BIGINT: pa.int64(), t.INT: pa.int32(),
             t.SMALLINT: pa.int16(), t.TINYINT: pa.int8(), t.BOOLEAN: pa.bool_(), t.DATE: pa.date32(),
             t.TIMESTAMPTZ: pa.timestamp("us", tz="UTC"), t.DOUBLE: pa.float64(), t.FLOAT: pa.float32(),
             t.DECIMAL: pa.decimal128(38, 0), t.ARRAY: pa.list_(pa.null()), t.MAP: pa.map_(pa.string(), pa.null()),
             t.STRUCT: pa.struct([]), t.BINARY: pa.binary(), t.VARBINARY: pa.binary(), t.INT128: pa.decimal128(38, 0)}
    if duck.this not in kinds:
        raise _unsupported(f"A column of DuckDB type {duck.sql(dialect=DIALECT)}")
    return kinds[duck.this]


# -- the statement being run ---------------------------------------------------------------------------------

@dataclass
class _Request:
    """One statement's context: defaults for short names, who runs it, its parameters, views to drop after."""

    statement_id: str
    catalog: str | None
    schema: str | None
    principal: str
    params: dict[str, _Param]
    registered: list[str] = field(default_factory=list)


SYSTEM_PRINCIPAL = "system"  # Databricks itself, not an API caller: no grants are checked

class SqlEngine:
    """Databricks SQL on one embedded DuckDB file; one statement at a time (one connection, one lock)."""

    def __init__(self, database: Path | str, volumes: VolumeStore, config: SqlWarehouseConfig):
        self.database = Path(database)
        self.database.parent.mkdir(parents=True, exist_ok=True)
        self.volumes = volumes
        self.config = config
        self._catalogs = {c.lower() for c in config.catalogs}
        self._conn = duckdb.connect(str(self.database))
        self._conn.execute("SET TimeZone = 'UTC'")
        # Databricks (ANSI mode) fails on division by zero; DuckDB returns inf/NaN unless told otherwise.
        self._conn.execute("SET ieee_floating_point_ops = false")
        # Only volumes may be read by path: no DuckDB file function can reach anything else on this machine.
        allowed = [str(volumes.root.resolve()) + "/", str(self.database.resolve()) + ".tmp/"]
        self._conn.execute(f"SET allowed_directories = [{', '.join(_string(d) for d in allowed)}]")
        self._conn.execute("SET enable_external_access = false")
        self._lock = threading.Lock()
        self._state = threading.Lock()
        self._running: str | None = None
        self._system = False  # the statement running is Databricks' own (no grants checked)
        self._done = threading.Event()
        self._waiting: set[str] = set()
        self._cancelled: set[str] = set()

    # -- public API ------------------------------------------------------------------------------------------
    def execute(self, statement: str, parameters: Parameters = (), *, statement_id: str = "",
                catalog: str | None = None, schema: str | None = None, principal: str = "",
                on_start: Callable[[], None] | None = None) -> StatementResult:
        """Run one Databricks SQL statement; any failure is a :class:`SqlFailure`.

        ``on_start`` is called once the statement holds the connection (PENDING -> RUNNING for the API)."""
        params = _parameters(parameters)
        tree = self._parse(statement)
        req = _Request(statement_id, _lower(catalog), _lower(schema), principal, params)
        with self._slot(statement_id):
            if on_start is not None:
                on_start()
            # Grants are the API callers'; Databricks' own work (the sandbox delivering system tables) has them all.
            self._system = principal == SYSTEM_PRINCIPAL
            try:
                self._check_defaults(req)
                return self._dispatch(tree, statement, req)
            except SqlFailure:
                raise
            except duckdb.Error as exc:
                raise _from_duckdb(exc) from None
            except Exception as exc:  # noqa: BLE001 (the API must answer with a failure, never crash)
                raise SqlFailure("INTERNAL_ERROR", "XX000", f"{type(exc).__name__}: {exc} (simulated warehouse)") from None
            finally:
                self._cleanup(req)

    def cancel(self, statement_id: str) -> bool:
        """Interrupt a running statement (it then fails OPERATION_CANCELED), or cancel one still waiting for the
        connection; False when no such statement is waiting or running. Returns once the statement stopped."""
        with self._state:
            if not statement_id or (statement_id != self._running and statement_id not in self._waiting):
                return False
            self._cancelled.add(statement_id)
        waited = 0.0
        while waited < _CANCEL_GIVE_UP_S:
            with self._state:
                if self._running != statement_id:
                    return True
                # Interrupt again until it stops: an interrupt that lands between two DuckDB calls is lost.
                self._conn.interrupt()
                done = self._done
            done.wait(_CANCEL_POLL_S)
            waited += _CANCEL_POLL_S
        return True

    def load_arrow(self, table: tuple[str, str, str], rows: pa.Table) -> int:
        """Append rows by column name, server side (how the sandbox delivers system-table rows): no grants."""
        name = self._name_parts(list(table))
        with self._slot(""):
            if not self._table_exists(name):
                raise _not_found(name)
            view = f"__load_{uuid.uuid4().hex}"
            self._conn.register(view, rows)
            try:
                self._fetch(f"INSERT INTO {_physical(name)} BY NAME SELECT * FROM {view}")  # noqa: S608 (validated)
            except duckdb.Error as exc:
                raise _from_duckdb(exc) from None
            finally:
                self._conn.unregister(view)
        return rows.num_rows

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- scheduling and cancellation -----------------------------------------------------------------------
    @contextmanager
    def _slot(self, statement_id: str) -> Iterator[None]:
        """Wait for the connection (cancellable while waiting), then run as the current statement."""
        if statement_id:
            with self._state:
                self._waiting.add(statement_id)
        try:
            with self._lock:
                with self._state:
                    self._waiting.discard(statement_id)
                    if statement_id in self._cancelled:
                        self._cancelled.discard(statement_id)
                        raise _canceled()
                    self._running, self._done = statement_id or None, threading.Event()
                try:
                    yield
                finally:
                    with self._state:
                        self._running = None
                        self._cancelled.discard(statement_id)
                        self._done.set()
        finally:
            with self._state:
                self._waiting.discard(statement_id)

    def _check_cancel(self, req: _Request) -> None:
        with self._state:
            if req.statement_id and req.statement_id in self._cancelled:
                raise _canceled()

    def _cleanup(self, req: _Request) -> None:
        for view in req.registered:
            self._conn.unregister(view)
        req.registered.clear()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """All or nothing: a failure (or a cancel) leaves the tables as they were."""
        self._conn.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- parsing and dispatch --------------------------------------------------------------------------------
    def _parse(self, statement: str) -> exp.Expression:
        if not statement or not statement.strip():
            raise _syntax("the statement is empty")
        if len(statement.encode()) > self.config.statement_text_limit_bytes:
            raise SqlFailure("STATEMENT_TOO_LARGE", "54000", "The statement text exceeds the limit of "
                             f"{self.config.statement_text_limit_bytes} bytes.")
        try:
            trees = [t for t in sqlglot.parse(statement, read=SOURCE_DIALECT) if t is not None]
        except sqlglot.errors.SqlglotError as exc:
            raise _syntax(" ".join(str(exc).split())[:500]) from None
        if not trees:
            raise _syntax("the statement holds no SQL")
        if len(trees) > 1:
            raise SqlFailure("PARSE_SYNTAX_ERROR", "42601", f"Syntax error: {len(trees)} statements were sent; "
                             "the Statement Execution API runs exactly one statement per request.")
        return trees[0]

    def _dispatch(self, tree: exp.Expression, text: str, req: _Request) -> StatementResult:
        handlers: list[tuple[type[exp.Expression], Callable[[Any, _Request], StatementResult]]] = [
            (exp.Query, self._select), (exp.Values, self._select), (exp.Insert, self._insert),
            (exp.Merge, self._merge), (exp.Create, self._create), (exp.Alter, self._alter),
            (exp.Drop, self._drop), (exp.Delete, self._delete), (exp.Update, self._update),
        ]
        for kind, handler in handlers:
            if isinstance(tree, kind):
                return handler(tree, req)
        if isinstance(tree, exp.Command) and _VOLUME_DDL.match(text):
            return self._create_volume(text, req)
        first = " ".join(text.split()[:3])
        raise _unsupported(f"The statement `{_clip(first)}`")

    # -- names and grants ----------------------------------------------------------------------------------
    def _check_defaults(self, req: _Request) -> None:
        """The request's catalog/schema are session settings: they must exist, like USE CATALOG / USE SCHEMA."""
        if req.catalog is not None and req.catalog not in self._catalogs:
            raise _no_catalog(req.catalog)
        if req.catalog is not None and req.schema is not None and not self._schema_exists(req.catalog, req.schema):
            raise _no_schema(req.catalog, req.schema)

    def _name_parts(self, parts: Sequence[str], req: _Request | None = None, size: int = 3) -> Name:
        """A name completed from the request's catalog/schema (Databricks' session defaults), lower-cased."""
        given = [p.lower() for p in parts if p]
        defaults = [] if req is None else [req.catalog, req.schema][: size - 1]
        prefix = defaults[: size - len(given)]
        full = [*prefix, *given]
        if not given or len(full) != size or any(p is None for p in full):
            if size == 2:
                raise SqlFailure("SCHEMA_NOT_FOUND", "42704", f"The schema {_q(given)} cannot be found: name it "
                                 "catalog.schema or send a catalog with the statement.")
            raise _not_found(tuple(given))  # type: ignore[arg-type]
        for part in full:
            if not _NAME_PART.match(part):  # type: ignore[arg-type]
                raise SqlFailure("INVALID_IDENTIFIER", "42602", f"The name {_q(full)} is not supported by the "  # type: ignore[arg-type]
                                 "simulated warehouse: use letters, digits and underscores.")
        return tuple(full)  # type: ignore[return-value]

    def _table_name(self, table: exp.Table, req: _Request) -> Name:
        if not isinstance(table.this, exp.Identifier):
            raise _not_found(tuple(p.lower() for p in table.sql(dialect=SOURCE_DIALECT).split(".")))  # type: ignore[arg-type]
        return self._name_parts([table.catalog, table.db, table.name], req)

    def _grant(self, privilege: str, securable: str, kind: str) -> None:
        if not self._system and not self.config.grants.allows(privilege, securable):
            raise SqlFailure("INSUFFICIENT_PERMISSIONS", "42501", "Insufficient privileges: User does not have "
                             f"{privilege} on {kind} '{securable}'.")

    def _use(self, catalog: str, schema: str | None = None) -> None:
        """USE CATALOG and USE SCHEMA, which every access to an object needs."""
        if catalog not in self._catalogs:
            raise _no_catalog(catalog)
        self._grant("USE CATALOG", catalog, "Catalog")
        if schema is not None:
            self._grant("USE SCHEMA", f"{catalog}.{schema}", "Schema")

    def _access_table(self, name: Name, privilege: str) -> None:
        """A table read (SELECT) or written (MODIFY): it must exist, with the grants on its way."""
        if name[0] not in self._catalogs or not self._schema_exists(name[0], name[1]):
            raise _not_found(name)
        self._use(name[0], name[1])
        if not self._table_exists(name):
            raise _not_found(name)
        self._grant(privilege, ".".join(name), "Table")

    def _schema_exists(self, catalog: str, schema: str) -> bool:
        rows = self._fetch("SELECT count(*) FROM duckdb_schemas() WHERE database_name = current_database() "
                           "AND schema_name = $s", {"s": TableNames.duckdb_schema(catalog, schema)})
        return bool(rows[0][0])

    def _table_exists(self, name: Name) -> bool:
        return bool(self._columns(name))

    def _columns(self, name: Name) -> list[str]:
        rows = self._fetch(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = $s "
            "AND table_name = $t ORDER BY column_index",
            {"s": TableNames.duckdb_schema(name[0], name[1]), "t": name[2]})
        return [r[0] for r in rows]

    # -- rewriting -----------------------------------------------------------------------------------------
    def _rewrite(self, tree: exp.Expression, req: _Request, target: exp.Table | None = None) -> Name | None:
        """Map every table of the tree to its physical name after checking it; returns the target's name."""
        target_name = None
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in list(tree.find_all(exp.Table)):
            if isinstance(table.this, exp.Func):
                self._table_function(table, req)
                continue
            if not table.db and not table.catalog and table.name.lower() in ctes:
                continue
            name = self._table_name(table, req)
            if name[1] == "information_schema":
                self._information_schema(table, name, req)
                continue
            self._access_table(name, "MODIFY" if table is target else "SELECT")
            if table is target:
                target_name = name
            _set_physical(table, name)
        for node in list(tree.find_all(exp.CurrentUser)):
            node.replace(exp.Literal.string(req.principal))
        return target_name

    def _table_function(self, table: exp.Table, req: _Request) -> None:
        """``read_files(path, format => 'parquet')`` over a volume -> ``read_parquet([...])``; nothing else."""
        fn = table.this
        fname = (fn.name if isinstance(fn, exp.Anonymous) else fn.sql_name()).lower()
        if fname != "read_files":
            raise _unsupported(f"The table-valued function {fname}()")
        positional = [a for a in fn.expressions if not isinstance(a, exp.Kwarg)]
        options = {a.this.name.lower(): a.expression for a in fn.expressions if isinstance(a, exp.Kwarg)}
        if len(positional) != 1:
            raise SqlFailure("WRONG_NUM_ARGS", "42605", "read_files takes one path and named options.")
        fmt = self._constant(options.pop("format", None), req)
        if fmt is None or fmt.lower() != "parquet":
            raise _unsupported(f"read_files with format {_clip(fmt)!r} (only format => 'parquet')")
        if options:
            raise _unsupported(f"read_files option(s) {', '.join(sorted(options))}")
        files = self._volume_files(self._constant(positional[0], req), req)
        reader = exp.Anonymous(this="read_parquet", expressions=[
            exp.Array(expressions=[exp.Literal.string(str(f)) for f in files])])
        table.set("this", reader)

    def _constant(self, node: exp.Expression | None, req: _Request) -> str | None:
        """A string literal or a bound STRING parameter (what read_files accepts as its path and options)."""
        if isinstance(node, exp.Literal) and node.is_string:
            return node.this
        if isinstance(node, exp.Placeholder) and node.name in req.params:
            value = req.params[node.name].value
            return value if isinstance(value, str) else None
        if node is None:
            return None
        raise _unsupported("A read_files argument that is not a string literal or a STRING parameter")

    def _volume_files(self, path: str | None, req: _Request) -> list[Path]:
        if not path:
            raise SqlFailure("PATH_NOT_FOUND", "42K03", "Path does not exist: read_files needs a path.")
        try:
            (catalog, schema, volume), _ = self.volumes.split(path)
            local = self.volumes.local_path(path)
        except VolumePathError as exc:
            raise SqlFailure("PATH_NOT_FOUND", "42K03", f"Path does not exist: {_clip(path)} ({exc}).") from None
        self._use(catalog, schema)
        self._grant("READ VOLUME", f"{catalog}.{schema}.{volume}", "Volume")
        if local.is_file():
            return [local.resolve()]
        if not local.is_dir():
            raise SqlFailure("PATH_NOT_FOUND", "42K03", f"Path does not exist: {_clip(path)}.")
        files = sorted(p.resolve() for p in local.glob("*.parquet") if p.is_file() and not p.name.startswith((".", "_")))
        if not files:
            raise SqlFailure("UNABLE_TO_INFER_SCHEMA", "42KD9", f"Unable to infer schema for Parquet at {_clip(path)}: "
                             "the folder holds no .parquet file. It must be specified manually.")
        return files

    def _information_schema(self, table: exp.Table, name: Name, req: _Request) -> None:
        """``<catalog>.information_schema.columns|tables`` as a snapshot of the catalog's DuckDB schemas."""
        catalog, _, view = name
        self._use(catalog)
        builders = {"columns": self._info_columns, "tables": self._info_tables}
        if view not in builders:
            raise _not_found(name)
        registered = f"__info_{view}_{uuid.uuid4().hex}"
        self._conn.register(registered, builders[view](catalog))
        req.registered.append(registered)
        alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(view))
        table.replace(exp.Table(this=exp.to_identifier(registered, quoted=True), alias=alias))

    def _info_rows(self, catalog: str, sql: str) -> list[tuple[Any, ...]]:
        prefix = TableNames.duckdb_schema(catalog, "")
        return self._fetch(sql, {"p": prefix})

    def _info_columns(self, catalog: str) -> pa.Table:
        rows = self._info_rows(catalog, "SELECT schema_name, table_name, column_name, column_index, data_type, "
                               "is_nullable, comment FROM duckdb_columns() WHERE database_name = current_database() "
                               "AND NOT internal AND starts_with(schema_name, $p) ORDER BY schema_name, table_name, column_index")
        cols: dict[str, list[Any]] = {k: [] for k in ("table_catalog", "table_schema", "table_name", "column_name",
                                                      "ordinal_position", "is_nullable", "full_data_type",
                                                      "data_type", "comment")}
        for schema, table, column, index, type_text, nullable, comment in rows:
            data_type, full = _information_type(type_text)
            values = (catalog, schema[len(catalog) + 2:], table, column, index, "YES" if nullable else "NO",
                      full, data_type, comment)
            for key, value in zip(cols, values, strict=True):
                cols[key].append(value)
        types = {"ordinal_position": pa.int32()}
        return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in cols.items()})

    def _info_tables(self, catalog: str) -> pa.Table:
        rows = self._info_rows(catalog, "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE "
                               "database_name = current_database() AND NOT internal AND NOT temporary "
                               "AND starts_with(schema_name, $p) ORDER BY ALL")
        return pa.table({
            "table_catalog": pa.array([catalog] * len(rows), pa.string()),
            "table_schema": pa.array([r[0][len(catalog) + 2:] for r in rows], pa.string()),
            "table_name": pa.array([r[1] for r in rows], pa.string()),
            "table_type": pa.array(["MANAGED"] * len(rows), pa.string()),
            "data_source_format": pa.array(["DELTA"] * len(rows), pa.string()),
            "comment": pa.array([r[2] for r in rows], pa.string()),
        })

    # -- rendering and running -----------------------------------------------------------------------------
    def _render(self, node: exp.Expression, req: _Request) -> tuple[str, dict[str, Any] | None]:
        """DuckDB SQL of a (rewritten) tree and the values of the parameters it uses, typed like Databricks'."""
        tree = node.copy()
        if tree.find(exp.Parameter) is not None:
            raise _syntax("`$name` parameter markers are not Databricks SQL; use `:name`")
        bound: dict[str, Any] = {}
        for marker in list(tree.find_all(exp.Placeholder)):
            if not marker.name:
                raise SqlFailure("UNBOUND_SQL_PARAMETER", "42P02", "Positional parameter markers (?) are not "
                                 "supported by the Statement Execution API; use named markers (:name).")
            param = req.params.get(marker.name)
            if param is None:
                raise SqlFailure("UNBOUND_SQL_PARAMETER", "42P02", f"Found the unbound parameter: {marker.name}. "
                                 "Please, fix `args` and provide a mapping of the parameter to either a SQL literal "
                                 "or collection constructor functions such as `map()`, `array()`, `struct()`.")
            bound[marker.name] = param.value
            if param.cast is not None:
                marker.replace(exp.Cast(this=marker.copy(), to=exp.DataType.build(param.cast, dialect=DIALECT)))
        return tree.sql(dialect=DIALECT), (bound or None)

    def _run(self, node: exp.Expression | str, req: _Request) -> list[tuple[Any, ...]]:
        """One DuckDB statement, fully fetched (DuckDB refuses new work while a result is pending); checks for a
        cancel first, since an interrupt that lands between two DuckDB calls is lost."""
        self._check_cancel(req)
        if isinstance(node, str):
            return self._fetch(node, None)
        return self._fetch(*self._render(node, req))

    def _fetch(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        result = self._conn.execute(sql, params)
        return result.fetchall() if result.description else []

    def _scalar(self, node: exp.Expression | str, req: _Request) -> int:
        rows = self._run(node, req)
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    # -- statements ----------------------------------------------------------------------------------------
    def _select(self, tree: exp.Expression, req: _Request) -> StatementResult:
        self._rewrite(tree, req)
        sql, bound = self._render(tree, req)
        self._check_cancel(req)
        return _result(self._conn.sql(sql, params=bound).to_arrow_table())

    def _insert(self, tree: exp.Insert, req: _Request) -> StatementResult:
        """INSERT INTO [(cols)], INSERT OVERWRITE and INSERT INTO ... REPLACE WHERE (Delta's selective overwrite)."""
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        if not isinstance(target, exp.Table) or tree.args.get("partition") or tree.args.get("alternative"):
            raise _unsupported("This INSERT form")
        name = self._rewrite(tree, req, target=target)
        assert name is not None
        predicate = tree.args.get("where")
        if predicate is None and not tree.args.get("overwrite"):
            return self._insert_rows(tree, req)
        if predicate is not None and tree.args.get("overwrite"):
            raise _syntax("INSERT OVERWRITE does not take REPLACE WHERE")
        return self._replace(tree, predicate, req)

    def _insert_rows(self, tree: exp.Insert, req: _Request) -> StatementResult:
        inserted = self._scalar(tree, req)
        return _counts(num_affected_rows=inserted, num_inserted_rows=inserted)

    def _replace(self, tree: exp.Insert, predicate: exp.Expression | None, req: _Request) -> StatementResult:
        """Stage the new rows in the target's shape, check each satisfies the predicate, then delete and insert,
        all in one transaction (Delta's REPLACE WHERE: atomic, readers never see the slice empty)."""
        physical = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        staged = exp.to_identifier(f"__replace_{uuid.uuid4().hex}", quoted=True)
        stage = tree.copy()
        stage.set("where", None)
        stage.set("overwrite", False)
        staged_table = exp.Table(this=staged.copy())
        if isinstance(stage.this, exp.Schema):
            stage.this.set("this", staged_table)
        else:
            stage.set("this", staged_table)
        with self._transaction():
            self._run(f"CREATE TEMP TABLE {staged.sql(dialect=DIALECT)} AS SELECT * FROM "  # noqa: S608 (generated names)
                      f"{physical.sql(dialect=DIALECT)} LIMIT 0", req)
            inserted = self._scalar(stage, req)
            if predicate is not None:
                self._check_replace(staged_table, predicate, req)
            delete = exp.Delete(this=physical.copy(), where=exp.Where(this=predicate.copy()) if predicate else None)
            self._run(delete, req)
            self._run(f"INSERT INTO {physical.sql(dialect=DIALECT)} SELECT * FROM {staged.sql(dialect=DIALECT)}", req)  # noqa: S608
            self._run(f"DROP TABLE {staged.sql(dialect=DIALECT)}", req)  # a failure rolls the temp table back too
        return _counts(num_affected_rows=inserted, num_inserted_rows=inserted)

    def _check_replace(self, staged: exp.Table, predicate: exp.Expression, req: _Request) -> None:
        check = exp.select("count(*)").from_(staged.copy()).where(
            exp.not_(exp.func("coalesce", exp.paren(predicate.copy()), exp.false())))
        bad = self._scalar(check, req)
        if bad:
            raise SqlFailure("DELTA_REPLACE_WHERE_MISMATCH", "44000", "Written data does not conform to partial table "
                             f"overwrite condition or constraint '{_clip(predicate.sql(dialect=SOURCE_DIALECT))}': "
                             f"{bad} row(s) do not satisfy it.")

    def _merge(self, tree: exp.Merge, req: _Request) -> StatementResult:
        """Delta MERGE: ``*`` actions expanded to the target's columns, several source rows matching one target
        row fail before anything changes, and Databricks' counters are returned."""
        target = tree.this
        if not isinstance(target, exp.Table):
            raise _unsupported("This MERGE target")
        name = self._rewrite(tree, req, target=target)
        assert name is not None
        columns = self._columns(name)
        source_ref = _alias_or_name(tree.args["using"])
        whens = tree.args["whens"].expressions
        for when in whens:
            _expand_star(when, columns, source_ref)
        with self._transaction():
            if _needs_unique_match(whens):
                self._check_single_match(tree, req)
            returning = tree.copy()
            returning.set("returning", exp.Returning(expressions=[exp.column("merge_action")]))
            sql, bound = self._render(returning, req)
            self._check_cancel(req)
            actions = [r[0] for r in self._fetch(sql, bound)]
        counts = {kind: actions.count(kind) for kind in ("UPDATE", "DELETE", "INSERT")}
        return _counts(num_affected_rows=len(actions), num_updated_rows=counts["UPDATE"],
                       num_deleted_rows=counts["DELETE"], num_inserted_rows=counts["INSERT"])

    def _check_single_match(self, tree: exp.Merge, req: _Request) -> None:
        target = tree.this
        ref = _alias_or_name(target)
        dup = (exp.select("1").from_(target.copy()).join(tree.args["using"].copy(), on=tree.args["on"].copy())
               .group_by(exp.column("rowid", table=ref)).having("count(*) > 1"))
        if self._scalar(exp.select("count(*)").from_(dup.subquery("d")), req):
            raise SqlFailure("DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE", "21506",
                             "Cannot perform Merge as multiple source rows matched and attempted to modify the same "
                             "target row in the Delta table in possibly conflicting ways.")

    def _delete(self, tree: exp.Delete, req: _Request) -> StatementResult:
        target = tree.this
        if not isinstance(target, exp.Table) or tree.args.get("using"):
            raise _unsupported("This DELETE form")
        self._rewrite(tree, req, target=target)
        return _counts(num_affected_rows=self._scalar(tree, req))

    def _update(self, tree: exp.Update, req: _Request) -> StatementResult:
        target = tree.this
        if not isinstance(target, exp.Table) or tree.args.get("from_") or tree.args.get("from"):
            raise _unsupported("UPDATE ... FROM (use MERGE)")
        self._rewrite(tree, req, target=target)
        return _counts(num_affected_rows=self._scalar(tree, req))

    # -- DDL -----------------------------------------------------------------------------------------------
    def _create(self, tree: exp.Create, req: _Request) -> StatementResult:
        kind = (tree.args.get("kind") or "").upper()
        if tree.args.get("replace") or tree.args.get("expression") is not None:
            raise _unsupported(f"CREATE OR REPLACE / CREATE {kind} AS SELECT")
        if kind in ("SCHEMA", "DATABASE"):
            return self._create_schema(tree, req)
        if kind == "TABLE" and isinstance(tree.this, exp.Schema):
            return self._create_table(tree, req)
        raise _unsupported(f"CREATE {kind or 'this object'}")

    def _create_schema(self, tree: exp.Create, req: _Request) -> StatementResult:
        node = tree.this
        catalog, schema = self._name_parts([node.catalog, node.db, node.name], req, size=2)
        for prop in _properties(tree):
            if not isinstance(prop, exp.SchemaCommentProperty):
                raise _unsupported(f"CREATE SCHEMA property {prop.key}")
        if schema == "information_schema":
            raise SqlFailure("SCHEMA_ALREADY_EXISTS", "42P06", f"Cannot create schema {_q((catalog, schema))} because it already exists.")
        self._use(catalog)
        if self._schema_exists(catalog, schema):
            if tree.args.get("exists"):
                return _no_rows()
            raise SqlFailure("SCHEMA_ALREADY_EXISTS", "42P06", f"Cannot create schema {_q((catalog, schema))} "
                             "because it already exists. Choose a different name, drop the existing schema, or add "
                             "the IF NOT EXISTS clause to tolerate pre-existing schema.")
        self._grant("CREATE SCHEMA", catalog, "Catalog")
        self._run(f'CREATE SCHEMA "{TableNames.duckdb_schema(catalog, schema)}"', req)
        return _no_rows()

    def _create_table(self, tree: exp.Create, req: _Request) -> StatementResult:
        schema_node: exp.Schema = tree.this
        name = self._name_parts([schema_node.this.catalog, schema_node.this.db, schema_node.this.name], req)
        columns = _column_defs(schema_node.expressions, allow_not_null=True)
        table_comment, cluster = _table_properties(tree)
        known = {c.name.lower() for c in columns}
        for col in cluster:
            if col.lower() not in known:
                raise SqlFailure("DELTA_COLUMN_NOT_FOUND_IN_SCHEMA", "42703", f"Unable to find the column `{col}` "
                                 f"of the clustering columns in the schema of {_q(name)}.")
        if len(cluster) > _MAX_CLUSTER_COLUMNS:
            raise SqlFailure("DELTA_CLUSTER_BY_INVALID_NUM_COLUMNS", "54000", "CLUSTER BY supports up to "
                             f"{_MAX_CLUSTER_COLUMNS} clustering columns, but the table has {len(cluster)}.")
        if name[0] not in self._catalogs:
            raise _no_catalog(name[0])
        if not self._schema_exists(name[0], name[1]):
            raise _no_schema(name[0], name[1])
        self._use(name[0], name[1])
        if self._table_exists(name):
            if tree.args.get("exists"):
                return _no_rows()
            raise SqlFailure("TABLE_OR_VIEW_ALREADY_EXISTS", "42P07", f"Cannot create table or view {_q(name)} "
                             "because it already exists.")
        self._grant("CREATE TABLE", f"{name[0]}.{name[1]}", "Schema")
        body = ", ".join(c.ddl for c in columns)
        with self._transaction():
            self._run(f"CREATE TABLE {_physical(name)} ({body})", req)
            if table_comment is not None:
                self._run(f"COMMENT ON TABLE {_physical(name)} IS {_string(table_comment)}", req)
            for col in columns:
                self._comment_column(name, col, req)
        return _no_rows()

    def _comment_column(self, name: Name, col: _ColumnDef, req: _Request) -> None:
        if col.comment is not None:
            self._run(f'COMMENT ON COLUMN {_physical(name)}."{col.name}" IS {_string(col.comment)}', req)

    def _alter(self, tree: exp.Alter, req: _Request) -> StatementResult:
        """ALTER TABLE ... ADD COLUMN(S) (nullable, with comments) and ALTER TABLE ... CLUSTER BY."""
        if (tree.args.get("kind") or "").upper() != "TABLE":
            raise _unsupported("This ALTER statement")
        name = self._table_name(tree.this, req)
        if tree.args.get("exists") and not self._table_exists(name):
            return _no_rows()
        self._access_table(name, "MODIFY")
        existing = {c.lower() for c in self._columns(name)}
        actions = tree.args.get("actions") or []
        if len(actions) == 1 and isinstance(actions[0], exp.ClusterProperty):
            return self._alter_cluster(name, actions[0], existing)
        defs = [d for a in actions for d in (a.expressions if isinstance(a, exp.Schema) else [a])]
        if not defs or not all(isinstance(d, exp.ColumnDef) for d in defs):
            raise _unsupported("This ALTER TABLE action (only ADD COLUMN(S) and CLUSTER BY)")
        columns = _column_defs(defs, allow_not_null=False)
        for col in columns:
            if col.name.lower() in existing:
                raise SqlFailure("FIELDS_ALREADY_EXISTS", "42710", f"Cannot add column, because `{col.name}` already "
                                 f"exists in {_q(name)}.")
        with self._transaction():
            for col in columns:
                self._run(f"ALTER TABLE {_physical(name)} ADD COLUMN {col.ddl}", req)
                self._comment_column(name, col, req)
        return _no_rows()

    def _alter_cluster(self, name: Name, prop: exp.ClusterProperty, existing: set[str]) -> StatementResult:
        cols = [c.name for c in prop.expressions]
        missing = [c for c in cols if c.lower() not in existing]
        if missing:
            raise SqlFailure("DELTA_COLUMN_NOT_FOUND_IN_SCHEMA", "42703", f"Unable to find the column `{missing[0]}` "
                             f"of the clustering columns in the schema of {_q(name)}.")
        return _no_rows()

    def _drop(self, tree: exp.Drop, req: _Request) -> StatementResult:
        """DROP TABLE [IF EXISTS] (the product never drops; tests do)."""
        tables = tree.args.get("tables") or []
        if (tree.args.get("kind") or "").upper() != "TABLE" or len(tables) != 1:
            raise _unsupported("This DROP statement")
        name = self._table_name(tables[0], req)
        if not self._table_exists(name):
            if tree.args.get("exists"):
                return _no_rows()
            raise _not_found(name)
        self._use(name[0], name[1])
        self._run(f"DROP TABLE {_physical(name)}", req)
        return _no_rows()

    def _create_volume(self, text: str, req: _Request) -> StatementResult:
        match = _VOLUME_DDL.match(text)
        assert match is not None
        parts = [p.strip("`") for p in match.group("name").split(".")]
        catalog, schema, volume = self._name_parts(parts, req)
        if catalog not in self._catalogs:
            raise _no_catalog(catalog)
        if not self._schema_exists(catalog, schema):
            raise _no_schema(catalog, schema)
        self._use(catalog, schema)
        if self.volumes.volume_exists(catalog, schema, volume):
            if match.group("ine"):
                return _no_rows()
            raise SqlFailure("RESOURCE_ALREADY_EXISTS", "42710", f"Volume {_q((catalog, schema, volume))} already exists.")
        self._grant("CREATE VOLUME", f"{catalog}.{schema}", "Schema")
        self.volumes.create_volume(catalog, schema, volume)
        return _no_rows()


# -- helpers on trees ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _ColumnDef:
    name: str
    ddl: str
    comment: str | None


def _string(value: str) -> str:
    """A SQL string literal (quotes escaped) for the few DuckDB statements that take no parameters."""
    return exp.Literal.string(value).sql(dialect=DIALECT)


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


def _physical(name: Name) -> str:
    return f'"{TableNames.duckdb_schema(name[0], name[1])}"."{name[2]}"'


def _set_physical(table: exp.Table, name: Name) -> None:
    """Rewrite a table node to DuckDB's physical name; an unaliased table keeps its name as reference."""
    table.set("catalog", None)
    table.set("db", exp.to_identifier(TableNames.duckdb_schema(name[0], name[1]), quoted=True))
    table.set("this", exp.to_identifier(name[2], quoted=True))


def _alias_or_name(node: exp.Expression) -> str:
    return node.alias_or_name


def _properties(tree: exp.Create) -> list[exp.Expression]:
    props = tree.args.get("properties")
    return list(props.expressions) if props else []


def _table_properties(tree: exp.Create) -> tuple[str | None, list[str]]:
    """(table comment, clustering columns); USING DELTA and TBLPROPERTIES are accepted, the rest fails."""
    comment, cluster = None, []
    for prop in _properties(tree):
        if isinstance(prop, exp.SchemaCommentProperty):
            comment = prop.this.this
        elif isinstance(prop, exp.ClusterProperty):
            cluster = [c.name for c in prop.expressions]
        elif isinstance(prop, exp.FileFormatProperty) and prop.name.upper() == "DELTA":
            continue
        elif type(prop) is not exp.Property:
            raise _unsupported(f"CREATE TABLE property {prop.sql(dialect=SOURCE_DIALECT)}")
    return comment, cluster


def _column_defs(defs: Sequence[exp.Expression], *, allow_not_null: bool) -> list[_ColumnDef]:
    out: list[_ColumnDef] = []
    seen: set[str] = set()
    for node in defs:
        if not isinstance(node, exp.ColumnDef):
            raise _unsupported(f"The table element {node.sql(dialect=SOURCE_DIALECT)}")
        name = node.name
        if name.lower() in seen:
            raise SqlFailure("COLUMN_ALREADY_EXISTS", "42711", f"The column `{name.lower()}` already exists.")
        seen.add(name.lower())
        not_null, comment = False, None
        for constraint in node.constraints:
            kind = constraint.args.get("kind")
            if isinstance(kind, exp.NotNullColumnConstraint) and not kind.args.get("allow_null"):
                not_null = True
            elif isinstance(kind, exp.CommentColumnConstraint):
                comment = kind.this.this
            else:
                raise _unsupported(f"The column constraint {constraint.sql(dialect=SOURCE_DIALECT)}")
        if not_null and not allow_not_null:
            raise SqlFailure("DELTA_OPERATION_NOT_ALLOWED", "0AKDC", "Operation not allowed: ALTER TABLE ADD COLUMNS "
                             f"with NOT NULL column `{name}`: a column added to a Delta table must be nullable.")
        ddl = f'"{name}" {_duckdb_type(node.args.get("kind"), name)}' + (" NOT NULL" if not_null else "")
        out.append(_ColumnDef(name, ddl, comment))
    return out


def _duckdb_type(kind: exp.DataType | None, column: str) -> str:
    """The DuckDB type of a Databricks column type (TIMESTAMP -> TIMESTAMPTZ, DECIMAL -> DECIMAL(10,0))."""
    if not isinstance(kind, exp.DataType):
        raise _syntax(f"column `{column}` needs a type")
    kind = kind.copy()
    for node in kind.find_all(exp.DataType):
        if node.this not in _ALLOWED_TYPES:
            raise _unsupported(f"The column type {node.sql(dialect=SOURCE_DIALECT)} (column `{column}`)")
        if node.this == exp.DataType.Type.DECIMAL and not node.expressions:
            node.set("expressions", [exp.DataTypeParam(this=exp.Literal.number(10)), exp.DataTypeParam(this=exp.Literal.number(0))])
    return kind.sql(dialect=DIALECT)


def _expand_star(when: exp.When, columns: list[str], source: str) -> None:
    """``UPDATE SET *`` / ``INSERT *`` name every target column, taken by name from the source (Delta's rule)."""
    then = when.args.get("then")
    if isinstance(then, exp.Update) and any(isinstance(e, exp.Star) for e in then.expressions):
        then.set("expressions", [exp.EQ(this=exp.column(c), expression=exp.column(c, table=source)) for c in columns])
    elif isinstance(then, exp.Insert) and isinstance(then.this, exp.Star):
        then.set("this", exp.Tuple(expressions=[exp.column(c) for c in columns]))
        then.set("expression", exp.Tuple(expressions=[exp.column(c, table=source) for c in columns]))


def _needs_unique_match(whens: Sequence[exp.When]) -> bool:
    """Delta allows several source rows per target row only when no WHEN MATCHED clause can update it (insert
    only, or a single unconditional DELETE)."""
    matched = [w for w in whens if w.args.get("matched") and not w.args.get("source")]
    if not matched:
        return False
    only_delete = len(matched) == 1 and not matched[0].args.get("condition") and _is_delete(matched[0])
    return not only_delete


def _is_delete(when: exp.When) -> bool:
    then = when.args.get("then")
    return isinstance(then, exp.Var) and then.name.upper() == "DELETE"
