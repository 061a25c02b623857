"""Shared types of the simulated SQL warehouse: its configuration, grants, failures and results.

The SQL engine (``sql_engine.py``: Databricks SQL run on an embedded DuckDB) and the HTTP side
(``sql_api.py``: the Statement Execution API; ``files_api.py``: the Files API on volumes) meet here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

SANDBOX_WAREHOUSE_ID = "5a1db0c5e11a4e0f"  # 16 lowercase hex, the shape of a real warehouse id


@dataclass(frozen=True)
class SqlGrants:
    """Unity Catalog privileges and warehouse permissions of the ingestion principal: everything is granted
    except the ``revoked`` (privilege, securable) pairs, e.g. ``("SELECT", "system.access.audit")``,
    ``("USE SCHEMA", "system.access")``, ``("CREATE TABLE", "main.genie_analytics")``,
    ``("MODIFY", "main.genie_analytics.message_details")``, ``("CREATE VOLUME", "main.genie_analytics")``,
    ``("READ VOLUME", "main.genie_analytics.genie_obs_staging")``, ``("WRITE VOLUME", ...)``,
    ``("CREATE SCHEMA", "main")``, ``("USE CATALOG", "main")``, ``("CAN USE", "<warehouse id>")``."""

    revoked: frozenset[tuple[str, str]] = frozenset()

    def allows(self, privilege: str, securable: str) -> bool:
        return (privilege.upper(), securable) not in self.revoked


@dataclass(frozen=True)
class SqlWarehouseConfig:
    """How the simulated SQL warehouse behaves (one warehouse shared by every simulated workspace: Unity
    Catalog and the system tables are account-wide).

    - ``warehouse_ids``: ids accepted in ``warehouse_id``; others get 404.
    - ``catalogs``: catalogs that exist (creating catalogs is a metastore admin's job, not ours).
    - ``latency_s``: time a statement spends PENDING then RUNNING before it executes.
    - ``chunk_rows``: rows per result chunk; ``inline_limit_bytes``: the INLINE result limit (25 MiB).
    - ``link_ttl_s``: lifetime of EXTERNAL_LINKS URLs.
    - ``result_ttl_s``: how long a SUCCEEDED statement's result can be fetched (then its state is CLOSED).
    - ``grants``: what the ingestion principal may do.
    """

    warehouse_ids: tuple[str, ...] = (SANDBOX_WAREHOUSE_ID,)
    catalogs: tuple[str, ...] = ("main", "system")
    latency_s: float = 0.0
    chunk_rows: int = 10_000
    inline_limit_bytes: int = 25 * 1024 * 1024
    statement_text_limit_bytes: int = 16 * 1024 * 1024
    link_ttl_s: float = 900.0
    result_ttl_s: float = 3600.0
    grants: SqlGrants = field(default_factory=SqlGrants)


class SqlFailure(Exception):
    """A statement that fails the way Databricks SQL fails: an error class, a SQLSTATE and a message.

    The API shows it as ``status.state = FAILED``, ``status.sql_state`` and ``status.error`` with
    ``error_code`` (a ServiceErrorCode, usually ``BAD_REQUEST``) and ``message``
    (``"[ERROR_CLASS] text SQLSTATE: xxxxx"``)."""

    def __init__(self, error_class: str, sql_state: str, message: str, error_code: str = "BAD_REQUEST"):
        super().__init__(f"[{error_class}] {message} SQLSTATE: {sql_state}")
        self.error_class = error_class
        self.sql_state = sql_state
        self.error_code = error_code

    @property
    def message(self) -> str:
        return str(self)


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a result as the manifest describes it (``type_name`` is the API's enum)."""

    name: str
    type_name: str           # STRING, LONG, INT, SHORT, BYTE, BOOLEAN, DATE, TIMESTAMP, DOUBLE, FLOAT, DECIMAL, ARRAY, MAP, STRUCT, ...
    type_text: str           # the SQL type as Databricks prints it: STRING, BIGINT, INT, DECIMAL(38,0), ARRAY<STRING>, ...
    type_precision: int | None = None
    type_scale: int | None = None

    def to_manifest(self, position: int) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "position": position, "type_name": self.type_name,
                               "type_text": self.type_text}
        if self.type_precision is not None:
            out["type_precision"] = self.type_precision
            out["type_scale"] = self.type_scale or 0
        return out


@dataclass(frozen=True)
class StatementResult:
    """What a statement returned: rows (Arrow, typed) and the manifest's column descriptions.

    DML returns Databricks' counters (e.g. ``num_affected_rows``, ``num_inserted_rows``); DDL returns no
    columns."""

    table: pa.Table
    columns: Sequence[ColumnInfo]


Parameters = Sequence[Mapping[str, Any]]  # the API's [{name, value?, type?}]
