"""Dagster resources: thin wrappers that build the plain-Python warehouse and clients from settings."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from typing import Any, Optional

import dagster as dg
from dagster_databricks import DatabricksClientResource
from dagster_databricks.resources import OauthCredentials
from pydantic import PrivateAttr

from .concurrency import warehouse_slot
from .genie.auth import OAuthTokenSource, resolve_secret
from .genie.client import ClientSettings, GenieClient
from .settings import SecretRef, Settings, WorkspaceSettings
from .warehouse import TableNames, Warehouse
from .warehouse.databricks_backend import DatabricksWarehouse
from .warehouse.duckdb_backend import DuckDBWarehouse


class SecretReference(dg.Config):
    """Where a credential lives, never its value: an environment variable's name, or a Databricks secret scope
    and key. Read inside the run when a token is first needed (``genie.auth.resolve_secret``)."""

    env: Optional[str] = None  # noqa: UP045 (Dagster reads the annotation at run time)
    secret_scope: Optional[str] = None  # noqa: UP045
    key: Optional[str] = None  # noqa: UP045

    @classmethod
    def of(cls, ref: SecretRef) -> SecretReference:
        return cls(env=ref.env, secret_scope=ref.secret_scope, key=ref.key)

    def ref(self) -> SecretRef:
        return SecretRef(env=self.env, secret_scope=self.secret_scope, key=self.key)


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse both back ends implement; assets only see :class:`Warehouse`.

    Fields mirror the settings file so that a run's configuration is visible in the Dagster UI. On Databricks
    the control workspace is a ``dagster_databricks.DatabricksClientResource`` (host, OAuth M2M client id and
    secret as ``dg.EnvVar``, masked by Dagster); credentials kept in a secret scope are resolved inside the run
    instead (``databricks_client_id``/``databricks_client_secret`` name them), never stored in the resource's configuration.
    """

    backend: str = "duckdb"
    duckdb_path: str = "data/genie_obs.duckdb"
    duckdb_memory_limit_mb: int = 192
    pool_wait_timeout_s: int = 3600  # automation.pool_wait_timeout_s: the longest a step waits for the pool slot
    target_catalog: str = "main"
    target_schema: str = "genie_analytics"
    source_audit: str = "system.access.audit"
    source_workspaces: str = "system.access.workspaces_latest"
    source_query_history: str = "system.query.history"
    databricks: Optional[DatabricksClientResource] = None  # noqa: UP045 (Dagster reads the annotation at run time)
    databricks_host: Optional[str] = None  # noqa: UP045
    # Credentials kept in a secret scope (or mixed): references, read inside the run, never values.
    databricks_client_id: Optional[SecretReference] = None  # noqa: UP045
    databricks_client_secret: Optional[SecretReference] = None  # noqa: UP045
    warehouse_id: Optional[str] = None  # noqa: UP045
    volume: str = "genie_obs_staging"
    wait_timeout_s: int = 10
    statement_timeout_s: int = 3600

    _warehouse: Warehouse | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        fields: dict[str, Any] = {}
        db = settings.warehouse.databricks
        if settings.warehouse.backend == "databricks" and db is not None:
            creds = db.credentials or settings.credentials
            fields = {"warehouse_id": db.warehouse_id, "volume": db.volume, "wait_timeout_s": db.wait_timeout_s,
                      "statement_timeout_s": db.statement_timeout_s, "databricks_host": db.host}
            if creds.client_id.env and creds.client_secret.env:
                fields["databricks"] = DatabricksClientResource(host=db.host, oauth_credentials=OauthCredentials(
                    client_id=dg.EnvVar(creds.client_id.env), client_secret=dg.EnvVar(creds.client_secret.env)))
            else:
                fields["databricks_client_id"] = SecretReference.of(creds.client_id)
                fields["databricks_client_secret"] = SecretReference.of(creds.client_secret)
        return cls(
            backend=settings.warehouse.backend,
            duckdb_path=settings.warehouse.duckdb.path,
            duckdb_memory_limit_mb=settings.warehouse.duckdb.memory_limit_mb,
            pool_wait_timeout_s=settings.automation.pool_wait_timeout_s,
            target_catalog=settings.target.catalog,
            target_schema=settings.target.schema_,
            source_audit=settings.sources.audit,
            source_workspaces=settings.sources.workspaces,
            source_query_history=settings.sources.query_history,
            **fields,
        )

    def table_names(self) -> TableNames:
        return TableNames.build(
            self.target_catalog, self.target_schema, self.source_audit, self.source_workspaces, self.source_query_history
        )

    def _client_resource(self) -> DatabricksClientResource:
        if self.databricks is not None:
            return self.databricks
        if not (self.databricks_host and self.databricks_client_id and self.databricks_client_secret):
            raise dg.DagsterInvariantViolationError(
                "warehouse backend 'databricks' needs warehouse.databricks.host and credentials in the settings")
        return DatabricksClientResource(host=self.databricks_host, oauth_credentials=OauthCredentials(
            client_id=resolve_secret(self.databricks_client_id.ref()),
            client_secret=resolve_secret(self.databricks_client_secret.ref())))

    def get(self, context: dg.OpExecutionContext | None = None) -> Warehouse:
        """The warehouse; given the run's context, its statements are tagged with asset, partitions and run id."""
        if self._warehouse is None:
            if self.backend == "duckdb":
                self._warehouse = DuckDBWarehouse(self.duckdb_path, self.table_names(),
                                                  memory_limit_mb=self.duckdb_memory_limit_mb)
            elif self.backend == "databricks":
                if not self.warehouse_id:
                    raise dg.DagsterInvariantViolationError("warehouse backend 'databricks' needs warehouse.databricks."
                                                            "warehouse_id in the settings")
                client = self._client_resource().get_client().workspace_client
                self._warehouse = DatabricksWarehouse(client, self.warehouse_id, self.table_names(), self.volume,
                                                      wait_timeout_s=self.wait_timeout_s,
                                                      statement_timeout_s=self.statement_timeout_s)
            else:
                raise dg.DagsterInvariantViolationError(
                    f"warehouse backend {self.backend!r} is not known; allowed: 'duckdb', 'databricks'")
        if context is not None and isinstance(self._warehouse, DatabricksWarehouse):
            return self._warehouse.tagged(run_tags(context))
        return self._warehouse

    @contextlib.contextmanager
    def session(self, context: dg.OpExecutionContext) -> Iterator[Warehouse]:
        """The warehouse for a step's SQL work, inside a slot of the pool ``genie_obs_warehouse`` (one writer of
        the DuckDB file at a time): waits at most ``pool_wait_timeout_s`` (``automation.pool_wait_timeout_s``)
        and frees slots of dead holders meanwhile (``concurrency.pool_slot``); released when the block ends.

        The embedded file is opened once for the block (``Warehouse.hold``), not once per statement: other
        processes (the sensor, a command) cannot open it until the block ends, which is what the slot already
        says; the sensor skips a tick that finds the file busy. Keep API calls and other slow work outside."""
        with warehouse_slot(context, self.pool_wait_timeout_s):
            wh = self.get(context)
            with wh.hold():
                yield wh

    def for_sensor(self, lock_timeout_s: float) -> Warehouse:
        """A warehouse that gives up opening after ``lock_timeout_s`` (raising ``WarehouseBusy``): a sensor
        tick must stay short, and a run writing to the embedded file is a reason to look again next tick."""
        if self.backend != "duckdb":
            wh = self.get()
            return wh.tagged({"dagster_sensor": "genie_audit_sensor"}) if isinstance(wh, DatabricksWarehouse) else wh
        return DuckDBWarehouse(self.duckdb_path, self.table_names(), lock_timeout_s=lock_timeout_s,
                               memory_limit_mb=self.duckdb_memory_limit_mb)


def run_tags(context: dg.OpExecutionContext | dg.AssetCheckExecutionContext) -> dict[str, str]:
    """Query tags of a run's statements: what a platform team groups warehouse cost by in system.query.history.
    Any step's context (an asset's, an op's, a standalone asset check's) is read through its op context."""
    context = getattr(context, "op_execution_context", context)
    tags = {"dagster_run_id": context.run.run_id, "dagster_job": context.job_name}
    try:
        keys = sorted(k.to_user_string() for k in context.selected_asset_keys)
    except Exception:  # an op without assets
        keys = []
    if keys:
        tags["dagster_asset"] = ",".join(keys)
    if context.has_partition_key_range:
        rng = context.partition_key_range
        tags["dagster_partition"] = rng.start if rng.start == rng.end else f"{rng.start}...{rng.end}"
    return tags


class GenieWorkspace(dg.Config):
    """One workspace as the Genie client sees it: where, who (by reference) and how hard it may be called."""

    id: str
    name: Optional[str] = None  # noqa: UP045
    url: str
    client_id: SecretReference
    client_secret: SecretReference
    rate_per_s: float
    concurrency: int
    timeout_s: float
    max_attempts: int


class GenieResource(dg.ConfigurableResource):
    """Genie API clients, one per workspace: OAuth M2M token, request budget, retries.

    Every workspace is a typed field the UI's resource page shows (id, url, budget, and where its credentials
    live). The credentials are *references* (an environment variable's name or a secret scope key), resolved when
    a workspace's client first asks for a token, inside the run: a variable unset for one workspace then gives
    that workspace retryable ``NO_TOKEN`` rows while the others carry on, which ``dg.EnvVar`` (resolved for the
    whole resource when the step starts) would not allow. The value never enters Dagster's configuration.
    """

    workspaces: list[GenieWorkspace]
    # automation.pool_wait_timeout_s: the longest a step waits for its workspace's API pool slot
    pool_wait_timeout_s: int = 3600

    _clients: dict[str, GenieClient] = PrivateAttr(default_factory=dict)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Settings) -> GenieResource:
        def workspace(ws: WorkspaceSettings) -> GenieWorkspace:
            creds, api = settings.credentials_for(ws.id), settings.api_for(ws.id)
            return GenieWorkspace(id=ws.id, name=ws.name, url=ws.url, client_id=SecretReference.of(creds.client_id),
                                  client_secret=SecretReference.of(creds.client_secret), rate_per_s=api.rate_per_s,
                                  concurrency=api.concurrency, timeout_s=api.timeout_s, max_attempts=api.max_attempts)

        return cls(workspaces=[workspace(ws) for ws in settings.workspaces],
                   pool_wait_timeout_s=settings.automation.pool_wait_timeout_s)

    def workspace(self, workspace_id: str) -> GenieWorkspace:
        for ws in self.workspaces:
            if ws.id == workspace_id:
                return ws
        raise KeyError(f"workspace {workspace_id!r} is not configured; configured: {[w.id for w in self.workspaces]}")

    def client(self, workspace_id: str) -> GenieClient:
        with self._lock:
            if workspace_id not in self._clients:
                ws = self.workspace(workspace_id)
                # Resolved on the first token request: an unset variable or unreadable secret is then a
                # (retryable) NO_TOKEN error of each message of this workspace, not a failed step.
                tokens = OAuthTokenSource(ws.url, functools.partial(resolve_secret, ws.client_id.ref()),
                                          functools.partial(resolve_secret, ws.client_secret.ref()),
                                          http_timeout_s=ws.timeout_s)
                self._clients[workspace_id] = GenieClient(
                    workspace_id, ws.url, tokens,
                    ClientSettings(rate_per_s=ws.rate_per_s, concurrency=ws.concurrency, timeout_s=ws.timeout_s,
                                   max_attempts=ws.max_attempts),
                )
            return self._clients[workspace_id]

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()


@contextlib.contextmanager
def open_warehouse(settings: Settings) -> Iterator[Warehouse]:
    """The configured warehouse outside a run (commands, tests), with ``dg.EnvVar`` fields resolved as in a run."""
    with WarehouseResource.from_settings(settings).process_config_and_initialize_cm() as resource:
        yield resource.get()
