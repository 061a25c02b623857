"""Simulated Databricks workspace server: what the real ``databricks-sdk`` talks to in tests and demos.

Serves OAuth M2M, the Genie REST API and a SCIM user lookup over the data of a sandbox
:class:`~genie_obs_dagster.sandbox.model.Scenario`, with Databricks' JSON shapes, error codes, limits and
side effects (audit rows, query history), plus injectable faults. See ``app.SimulatedDatabricks``.
"""

from .app import ROUTE_KINDS, SimulatedDatabricks, Stats, WorkspaceApp, loopback_ports
from .config import DEFAULT_SECRET, Principal, SimConfig, utc_now
from .faults import Fault, WorkspaceFaults

__all__ = [
    "DEFAULT_SECRET",
    "ROUTE_KINDS",
    "Fault",
    "Principal",
    "SimConfig",
    "SimulatedDatabricks",
    "Stats",
    "WorkspaceApp",
    "WorkspaceFaults",
    "loopback_ports",
    "utc_now",
]
