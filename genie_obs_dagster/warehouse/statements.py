"""The SQL Statement Execution API as the Databricks back end uses it: submit, wait, cancel, read results.

Plain Python over a ``databricks.sdk.WorkspaceClient``. Values travel as the API's typed named
``parameters``; every statement carries ``query_tags`` so that warehouse cost can be attributed per asset in
``system.query.history``. The pinned SDK (0.60) has no ``query_tags`` argument, so the documented request
body is sent through the SDK's own ``ApiClient`` (same auth, same retries); polling, result chunks and
cancellation use ``WorkspaceClient.statement_execution``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.ipc
import requests
from databricks.sdk.errors import DatabricksError
from databricks.sdk.service.sql import (
    ColumnInfo,
    ExternalLink,
    ResultData,
    StatementResponse,
    StatementState,
)

from .base import WarehouseError

log = logging.getLogger(__name__)

STATEMENTS_PATH = "/api/2.0/sql/statements/"
TERMINAL = {StatementState.SUCCEEDED, StatementState.FAILED, StatementState.CANCELED, StatementState.CLOSED}
STATEMENT_TEXT_LIMIT = 16 * 1024 * 1024  # bytes, the API's limit
INLINE = ("INLINE", "JSON_ARRAY")
EXTERNAL = ("EXTERNAL_LINKS", "ARROW_STREAM")
QUERY_TAG_MAX = 128
# A query whose INLINE result exceeds the API's limit (25 MiB) FAILS saying so; it is then read with EXTERNAL_LINKS.
INLINE_LIMIT_MESSAGE = "inline byte limit exceeded"  # characters kept of a tag value (tags are attribution, not data)

_ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": pa.string(), "CHAR": pa.string(), "LONG": pa.int64(), "INT": pa.int32(), "SHORT": pa.int16(),
    "BYTE": pa.int8(), "BOOLEAN": pa.bool_(), "DOUBLE": pa.float64(), "FLOAT": pa.float32(),
    "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us", tz="UTC"), "BINARY": pa.binary(),
}


class StatementFailed(WarehouseError):
    """A statement ended FAILED (or CANCELED/CLOSED); carries Databricks' error code and SQLSTATE."""

    def __init__(self, message: str, error_code: str | None = None, sql_state: str | None = None):
        super().__init__(message)
        self.error_code = error_code
        self.sql_state = sql_state


@dataclass(frozen=True)
class StatementSettings:
    warehouse_id: str
    wait_timeout_s: int = 10          # the API's synchronous wait: 0, or 5..50
    poll_max_s: float = 5.0           # polling interval grows to this
    statement_timeout_s: float = 3600.0  # our own limit: past it the statement is cancelled


def api_parameters(values: Mapping[str, Any], names: Sequence[str]) -> list[dict[str, str]]:
    """The API's ``[{name, value, type}]`` for the named markers a statement uses (a missing value is NULL)."""
    return [_parameter(name, values[name]) for name in names]


def _parameter(name: str, value: Any) -> dict[str, str]:
    if value is None:
        return {"name": name}
    if isinstance(value, bool):
        return {"name": name, "value": "true" if value else "false", "type": "BOOLEAN"}
    if isinstance(value, int):
        return {"name": name, "value": str(value), "type": "BIGINT"}
    if isinstance(value, float):
        return {"name": name, "value": repr(value), "type": "DOUBLE"}
    if isinstance(value, decimal.Decimal):
        return {"name": name, "value": str(value), "type": "DECIMAL"}
    if isinstance(value, dt.datetime):
        utc = value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
        return {"name": name, "value": utc.isoformat(), "type": "TIMESTAMP"}
    if isinstance(value, dt.date):
        return {"name": name, "value": value.isoformat(), "type": "DATE"}
    if isinstance(value, str):
        return {"name": name, "value": value, "type": "STRING"}
    raise WarehouseError(f"parameter :{name} has a {type(value).__name__} value; allowed: str, int, float, bool, "
                         "decimal, date, datetime or None")


def query_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": str(v)[:QUERY_TAG_MAX]} for k, v in sorted(tags.items()) if v is not None]


class StatementRunner:
    """Runs one statement at a time to its end and returns its rows as Arrow."""

    def __init__(self, client: Any, settings: StatementSettings):
        self.client = client
        self.settings = settings
        self._count = 0
        self._lock = threading.Lock()
        self._http = requests.Session()  # external links: pre-signed URLs, never sent our Databricks token

    @property
    def statements_run(self) -> int:
        return self._count

    def run(self, text: str, parameters: list[dict[str, str]], tags: Mapping[str, str], what: str,
            result: tuple[str, str] = INLINE) -> pa.Table:
        """Submit, wait (cancelling if we are interrupted or out of time), then read every chunk."""
        if len(text.encode()) > STATEMENT_TEXT_LIMIT:
            raise WarehouseError(f"{what}: statement text is {len(text.encode())} bytes; the API allows at most "
                                 f"{STATEMENT_TEXT_LIMIT}")
        resp = self._submit(text, parameters, tags, what, result)
        with self._lock:
            self._count += 1
        resp = self._wait(resp, what)
        state = resp.status.state if resp.status else None
        if state != StatementState.SUCCEEDED:
            failure = self._failure(resp, what)
            if result == INLINE and INLINE_LIMIT_MESSAGE in str(failure).lower():
                log.info("%s: result over the API's inline limit; reading it through external links", what)
                return self.run(text, parameters, tags, what, EXTERNAL)
            raise failure
        return self._arrow(resp, what, result)

    # -- submit and wait -------------------------------------------------------------------------------
    def _submit(self, text: str, parameters: list[dict[str, str]], tags: Mapping[str, str], what: str,
                result: tuple[str, str]) -> StatementResponse:
        body = {
            "warehouse_id": self.settings.warehouse_id, "statement": text, "parameters": parameters,
            "wait_timeout": f"{self.settings.wait_timeout_s}s", "on_wait_timeout": "CONTINUE",
            "disposition": result[0], "format": result[1], "query_tags": query_tags(tags),
        }
        try:
            raw = self.client.api_client.do("POST", STATEMENTS_PATH, body=body,
                                            headers={"Accept": "application/json", "Content-Type": "application/json"})
        except DatabricksError as exc:
            raise WarehouseError(f"{what}: the SQL warehouse {self.settings.warehouse_id} refused the statement: "
                                 f"{type(exc).__name__}: {exc}") from None
        return StatementResponse.from_dict(raw)

    def _wait(self, resp: StatementResponse, what: str) -> StatementResponse:
        statement_id = resp.statement_id or ""
        deadline = time.monotonic() + self.settings.statement_timeout_s
        delay = 0.1
        try:
            while resp.status is None or resp.status.state not in TERMINAL:
                if time.monotonic() > deadline:
                    self._cancel(statement_id)
                    raise WarehouseError(f"{what}: statement {statement_id} still running after "
                                         f"{self.settings.statement_timeout_s:g}s; cancelled")
                time.sleep(delay)
                delay = min(delay * 1.6, self.settings.poll_max_s)
                try:
                    resp = self.client.statement_execution.get_statement(statement_id)
                except DatabricksError as exc:  # the SDK already retried 429/503 and broken connections
                    self._cancel(statement_id)
                    raise WarehouseError(f"{what}: lost statement {statement_id} while waiting for it: "
                                         f"{type(exc).__name__}: {exc}") from None
        except BaseException as exc:
            # The Dagster run was terminated (or anything else broke the wait): stop the warehouse's work too.
            if not isinstance(exc, WarehouseError):
                self._cancel(statement_id)
            raise
        return resp

    def _cancel(self, statement_id: str) -> None:
        if not statement_id:
            return
        try:
            self.client.statement_execution.cancel_execution(statement_id)
            log.info("cancelled statement %s", statement_id)
        except Exception as exc:  # best effort: the statement may have ended meanwhile
            log.warning("could not cancel statement %s: %s", statement_id, type(exc).__name__)

    def _failure(self, resp: StatementResponse, what: str) -> StatementFailed:
        status = resp.status
        state = status.state.value if status and status.state else "UNKNOWN"
        err = status.error if status else None
        code = err.error_code.value if err and err.error_code else None
        sql_state = getattr(status, "sql_state", None) or self._sql_state(resp.statement_id)
        message = (err.message if err else None) or "no message"
        return StatementFailed(f"{what} {state} on Databricks (statement {resp.statement_id}): "
                               f"{code or 'no error code'}, SQLSTATE {sql_state or '-'}: {message}", code, sql_state)

    def _sql_state(self, statement_id: str | None) -> str | None:
        """SQLSTATE of a failed statement: SDK 0.60's StatementStatus drops it, so read the raw answer once."""
        if not statement_id:
            return None
        try:
            raw = self.client.api_client.do("GET", f"{STATEMENTS_PATH}{statement_id}", headers={"Accept": "application/json"})
        except DatabricksError:
            return None
        return ((raw or {}).get("status") or {}).get("sql_state")

    # -- results ---------------------------------------------------------------------------------------
    def _arrow(self, resp: StatementResponse, what: str, result: tuple[str, str]) -> pa.Table:
        manifest = resp.manifest
        columns = (manifest.schema.columns or []) if manifest and manifest.schema else []
        schema = pa.schema([(c.name, arrow_type(c)) for c in columns])
        if not columns:
            return pa.table({})
        if result == EXTERNAL:
            return self._external(resp, schema, what)
        rows: list[list[str | None]] = []
        chunk: ResultData | None = resp.result
        while chunk is not None:
            rows.extend(chunk.data_array or [])
            if chunk.next_chunk_index is None:
                break
            chunk = self.client.statement_execution.get_statement_result_chunk_n(resp.statement_id, chunk.next_chunk_index)
        return from_json_rows(rows, columns, schema)

    def _external(self, resp: StatementResponse, schema: pa.Schema, what: str) -> pa.Table:
        tables = []
        chunk: ResultData | None = resp.result
        while chunk is not None:
            links = chunk.external_links or []
            for link in links:
                tables.append(self._download(link, what))
            nxt = links[-1].next_chunk_index if links else chunk.next_chunk_index
            if nxt is None:
                break
            chunk = self.client.statement_execution.get_statement_result_chunk_n(resp.statement_id, nxt)
        if not tables:
            return schema.empty_table()
        return pa.concat_tables([t.cast(schema) if t.schema != schema else t for t in tables])

    def _download(self, link: ExternalLink, what: str) -> pa.Table:
        # A pre-signed URL: only the headers the API lists, never the Databricks Authorization header.
        resp = self._http.get(link.external_link, headers=dict(link.http_headers or {}), timeout=120)
        if resp.status_code != 200:
            raise WarehouseError(f"{what}: downloading result chunk {link.chunk_index} failed with HTTP {resp.status_code}")
        with pa.ipc.open_stream(io.BytesIO(resp.content)) as reader:
            return reader.read_all()


def arrow_type(column: ColumnInfo) -> pa.DataType:
    name = column.type_name.value if column.type_name else "STRING"
    if name == "DECIMAL":
        return pa.decimal128(column.type_precision or 38, column.type_scale or 0)
    return _ARROW_TYPES.get(name, pa.string())


def from_json_rows(rows: list[list[str | None]], columns: Sequence[ColumnInfo], schema: pa.Schema) -> pa.Table:
    """JSON_ARRAY rows (every value a string, NULL as null) typed by the manifest."""
    arrays = []
    for i, (col, field) in enumerate(zip(columns, schema, strict=True)):
        parse = _parser(col.type_name.value if col.type_name else "STRING")
        arrays.append(pa.array([None if r[i] is None else parse(r[i]) for r in rows], type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _timestamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def _parser(type_name: str) -> Any:
    if type_name in ("LONG", "INT", "SHORT", "BYTE"):
        return int
    if type_name in ("DOUBLE", "FLOAT"):
        return float
    if type_name == "DECIMAL":
        return decimal.Decimal
    if type_name == "BOOLEAN":
        return lambda s: s.lower() == "true"
    if type_name == "DATE":
        return dt.date.fromisoformat
    if type_name == "TIMESTAMP":
        return _timestamp
    if type_name in ("ARRAY", "MAP", "STRUCT"):
        return lambda s: json.dumps(json.loads(s))  # kept as JSON text, normalised
    return str
