"""Dagster resources: thin wrappers that build the plain-Python warehouse and clients from settings."""

from __future__ import annotations

import threading

import dagster as dg
from pydantic import PrivateAttr

from .genie.auth import OAuthTokenSource, resolve_secret
from .genie.client import ClientSettings, GenieClient
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

    def for_sensor(self, lock_timeout_s: float) -> Warehouse:
        """A warehouse that gives up opening after ``lock_timeout_s`` (raising ``WarehouseBusy``): a sensor
        tick must stay short, and a run writing to the embedded file is a reason to look again next tick."""
        if self.backend != "duckdb":
            return self.get()
        return DuckDBWarehouse(self.duckdb_path, self.table_names(), lock_timeout_s=lock_timeout_s)


class GenieResource(dg.ConfigurableResource):
    """Genie API clients, one per workspace: OAuth M2M token, request budget, retries.

    Holds the validated settings (which name credentials by reference only); secret values are resolved
    from the environment or a Databricks secret scope when a client is first needed, inside the run.
    """

    settings_json: str

    _clients: dict[str, GenieClient] = PrivateAttr(default_factory=dict)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Settings) -> GenieResource:
        return cls(settings_json=settings.model_dump_json(by_alias=True))

    def settings(self) -> Settings:
        return Settings.model_validate_json(self.settings_json)

    def client(self, workspace_id: str) -> GenieClient:
        with self._lock:
            if workspace_id not in self._clients:
                s = self.settings()
                ws, creds, api = s.workspace(workspace_id), s.credentials_for(workspace_id), s.api_for(workspace_id)
                tokens = OAuthTokenSource(ws.url, resolve_secret(creds.client_id), resolve_secret(creds.client_secret),
                                          http_timeout_s=api.timeout_s)
                self._clients[workspace_id] = GenieClient(
                    workspace_id, ws.url, tokens,
                    ClientSettings(rate_per_s=api.rate_per_s, concurrency=api.concurrency, timeout_s=api.timeout_s,
                                   max_attempts=api.max_attempts),
                )
            return self._clients[workspace_id]

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()
