"""Simulated Databricks workspace server: what the real ``databricks-sdk`` talks to in tests and demos.

Serves OAuth M2M, the Genie REST API and a SCIM user lookup over the data of a sandbox
:class:`~genie_obs_dagster.sandbox.model.Scenario`, with Databricks' JSON shapes, error codes, limits and
side effects (audit rows, query history), plus injectable faults; and, shared by every workspace, a SQL
warehouse (Statement Execution API, ``sql_api``) and Unity Catalog volumes (Files API, ``files_api``).
See ``app.SimulatedDatabricks``.
"""

from .app import ROUTE_KINDS, SimulatedDatabricks, Stats, WorkspaceApp, loopback_ports
from .config import DEFAULT_SECRET, Principal, SimConfig, utc_now
from .faults import Fault, WorkspaceFaults
from .sql_types import SANDBOX_WAREHOUSE_ID, SqlFailure, SqlGrants, SqlWarehouseConfig
from .volumes import VolumeStore
from .warehouse import Engine, EngineFactory, StatementRecord, Warehouse

__all__ = [
    "DEFAULT_SECRET",
    "ROUTE_KINDS",
    "SANDBOX_WAREHOUSE_ID",
    "Engine",
    "EngineFactory",
    "Fault",
    "Principal",
    "SimConfig",
    "SimulatedDatabricks",
    "SqlFailure",
    "SqlGrants",
    "SqlWarehouseConfig",
    "StatementRecord",
    "Stats",
    "VolumeStore",
    "Warehouse",
    "WorkspaceApp",
    "WorkspaceFaults",
    "loopback_ports",
    "utc_now",
]
