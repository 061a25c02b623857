"""Dagster resources: thin wrappers that build the plain-Python warehouse and clients from settings."""

from __future__ import annotations

import dagster as dg
from pydantic import PrivateAttr

from .settings import Settings
from .warehouse import TableNames, Warehouse
from .warehouse.duckdb_backend import DuckDBWarehouse


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse both back ends implement; assets only see :class:`Warehouse`.

    Fields mirror the settings file so that a run's configuration is visible in the Dagster UI.
    """

    backend: str = "duckdb"
    duckdb_path: str = "data/genie_obs.duckdb"
    target_catalog: str = "main"
    target_schema: str = "genie_analytics"
    source_audit: str = "system.access.audit"
    source_workspaces: str = "system.access.workspaces_latest"
    source_query_history: str = "system.query.history"

    _warehouse: Warehouse | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        return cls(
            backend=settings.warehouse.backend,
            duckdb_path=settings.warehouse.duckdb.path,
            target_catalog=settings.target.catalog,
            target_schema=settings.target.schema_,
            source_audit=settings.sources.audit,
            source_workspaces=settings.sources.workspaces,
            source_query_history=settings.sources.query_history,
        )

    def table_names(self) -> TableNames:
        return TableNames.build(
            self.target_catalog, self.target_schema, self.source_audit, self.source_workspaces, self.source_query_history
        )

    def get(self) -> Warehouse:
        if self._warehouse is None:
            if self.backend != "duckdb":
                raise dg.DagsterInvariantViolationError(
                    f"warehouse backend {self.backend!r} is not available yet; allowed: 'duckdb'"
                )
            self._warehouse = DuckDBWarehouse(self.duckdb_path, self.table_names())
        return self._warehouse
