"""Load a scenario's system-table rows into the embedded warehouse, honouring audit delivery lag."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

import pyarrow as pa

from .model import Scenario

_S = pa.string()
AUDIT_SCHEMA = pa.schema([
    ("account_id", _S), ("workspace_id", _S), ("version", _S),
    ("event_time", pa.timestamp("us", tz="UTC")), ("event_date", pa.date32()),
    ("source_ip_address", _S), ("user_agent", _S), ("session_id", _S),
    ("user_identity", pa.struct([("email", _S), ("subject_name", _S)])),
    ("service_name", _S), ("action_name", _S), ("request_id", _S),
    ("request_params", pa.map_(_S, _S)),
    ("response", pa.struct([("status_code", pa.int32()), ("error_message", _S), ("result", _S)])),
    ("audit_level", _S), ("event_id", _S),
    ("identity_metadata", pa.struct([("run_by", _S), ("run_as", _S), ("acting_resource", _S)])),
])
WORKSPACES_SCHEMA = pa.schema([
    ("account_id", _S), ("workspace_id", _S), ("workspace_name", _S), ("workspace_url", _S),
    ("create_time", pa.timestamp("us", tz="UTC")), ("status", _S),
])

AUDIT = ("system", "access", "audit")
WORKSPACES = ("system", "access", "workspaces_latest")
QUERY_HISTORY = ("system", "query", "history")


def _table(rows: Iterable[dict[str, Any]], schema: pa.Schema | None = None) -> pa.Table:
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    return pa.Table.from_pylist(rows, schema=schema)


class SandboxTables(Protocol):
    """Where the sandbox puts system-table rows: the embedded DuckDB file, or the simulated Databricks' warehouse."""

    def ensure_system_tables(self) -> None: ...
    def sql(self, text: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]: ...
    def insert_arrow(self, logical_table: tuple[str, str, str], rows: pa.Table) -> int: ...


def load_system_tables(wh: SandboxTables, scenario: Scenario, as_of: dt.datetime | None = None) -> int:
    """Insert audit rows delivered by ``as_of`` (default: all) that are not loaded yet; load the other
    system tables once. Idempotent: calling it again with a later ``as_of`` delivers only the new rows.
    Returns the number of audit rows inserted.
    """
    wh.ensure_system_tables()
    loaded = {r[0] for r in wh.sql("SELECT event_id FROM system.access.audit")}
    new = [r for r in scenario.audit_events
           if r["event_id"] not in loaded and (as_of is None or r["_delivered_at"] <= as_of)]
    if new:
        wh.insert_arrow(AUDIT, _table(new, AUDIT_SCHEMA))
    if not wh.sql("SELECT 1 FROM system.access.workspaces_latest LIMIT 1"):
        wh.insert_arrow(WORKSPACES, _table(scenario.workspaces_latest, WORKSPACES_SCHEMA))
    known = {r[0] for r in wh.sql("SELECT statement_id FROM system.query.history")}
    history = [r for r in scenario.query_history if r["statement_id"] not in known]
    if history:
        wh.insert_arrow(QUERY_HISTORY, _table(history))
    return len(new)
