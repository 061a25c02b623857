"""Validated settings: the only place configuration is read.

Settings come from a YAML file (``GENIE_OBS_CONFIG``, else ``genie_obs.yaml`` in the working directory)
plus environment overrides of the form ``GENIE_OBS__SECTION__KEY=value`` (value parsed as YAML).
Credentials are stored *by reference* (an env var name or a secret scope key), never as values.

Every invalid value fails at load with a :class:`SettingsError` that names the setting, the bad value
and what is allowed, so a typo never turns into a stack trace deep inside a run.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONFIG_ENV_VAR = "GENIE_OBS_CONFIG"
OVERRIDE_PREFIX = "GENIE_OBS__"
DEFAULT_CONFIG_FILE = "genie_obs.yaml"
# The embedded default shipped in the package: a copy of the repository's genie_obs.yaml (a test keeps them equal)
# that `genie-obs demo` and `genie-obs sandbox` fall back to where no settings file is given or found.
PACKAGED_DEFAULT_CONFIG = "genie_obs.default.yaml"

WORKSPACE_ID_RE = re.compile(r"^[0-9]{1,20}$")
SPACE_ID_RE = re.compile(r"^[0-9a-f]{32}$")
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DATABRICKS_SENSOR_INTERVAL_S = 1800
CRON_RE = re.compile(r"^\s*[0-9*/,\-]+(\s+[0-9A-Za-z*/,\-]+){4}\s*$")


class SettingsError(ValueError):
    """Raised when settings are missing or invalid; the message is meant for a person."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def validate_identifier(value: str, what: str) -> str:
    """A SQL identifier that may reach a statement: letters, digits and underscores only."""
    if not IDENTIFIER_RE.match(value or ""):
        raise ValueError(f"{what} {value!r} is not allowed; use letters, digits and underscores, starting with a letter")
    return value


def validate_table_name(value: str) -> str:
    parts = value.split(".")
    if len(parts) != 3:
        raise ValueError(f"{value!r} is not a three-part name; expected catalog.schema.table")
    for part in parts:
        validate_identifier(part, "name part")
    return value


def validate_workspace_url(v: str, what: str) -> str:
    """A workspace URL: https://<host> (http only for loopback test servers), no path, query or fragment."""
    parsed = urlparse(v)
    if (parsed.scheme not in ("https", "http") or not parsed.hostname or parsed.query or parsed.fragment
            or parsed.path.strip("/")):
        raise ValueError(f"{what} {v!r} is not allowed; expected https://<workspace-host> (http only for loopback)")
    if parsed.scheme == "http" and parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"{what} {v!r} uses http; only https:// is allowed except for loopback test servers")
    return v.rstrip("/")


class SecretRef(_Strict):
    """Where a secret lives: an environment variable, or a Databricks secret scope and key."""

    env: str | None = None
    secret_scope: str | None = None
    key: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if bool(self.env) == bool(self.secret_scope):
            raise ValueError("give either 'env' (an environment variable name) or 'secret_scope' with 'key'")
        if self.env and not ENV_NAME_RE.match(self.env):
            raise ValueError(f"env {self.env!r} is not an environment variable name")
        if self.secret_scope and not self.key:
            raise ValueError("'secret_scope' needs a 'key'")
        return self

    def describe(self) -> str:
        return f"env var {self.env}" if self.env else f"secret {self.secret_scope}/{self.key}"


class Credentials(_Strict):
    """OAuth M2M credentials of the ingestion service principal, by reference."""

    client_id: SecretRef = SecretRef(env="GENIE_OBS_CLIENT_ID")
    client_secret: SecretRef = SecretRef(env="GENIE_OBS_CLIENT_SECRET")


class ApiSettings(_Strict):
    """How hard we may call a workspace's Genie API (a budget shared by every thread of a run)."""

    rate_per_s: float = Field(20.0, gt=0, le=1000)
    concurrency: int = Field(8, ge=1, le=64)
    timeout_s: float = Field(30.0, gt=0, le=600)
    max_attempts: int = Field(6, ge=1, le=20)
    batch_size: int = Field(500, ge=1, le=100_000)


class WorkspaceSettings(_Strict):
    id: str
    url: str
    name: str | None = None
    space_ids: list[str] = Field(default_factory=list)
    credentials: Credentials | None = None
    api: ApiSettings | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: Any) -> str:
        v = str(v).strip() if isinstance(v, (str, int)) and not isinstance(v, bool) else v
        if not isinstance(v, str) or not WORKSPACE_ID_RE.match(v):
            raise ValueError(f"workspace id {v!r} is not allowed; expected digits only, e.g. 1234567890123456")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return validate_workspace_url(v, "url")

    @field_validator("space_ids")
    @classmethod
    def _spaces(cls, v: list[str]) -> list[str]:
        for sid in v:
            if not isinstance(sid, str) or not SPACE_ID_RE.match(sid):
                raise ValueError(f"space id {sid!r} is not allowed; expected 32 lowercase hex characters")
        return sorted(set(v))


class TargetSettings(_Strict):
    catalog: str = "main"
    schema_: str = Field("genie_analytics", alias="schema")

    @field_validator("catalog", "schema_")
    @classmethod
    def _ident(cls, v: str) -> str:
        return validate_identifier(v, "name")


class SourceSettings(_Strict):
    audit: str = "system.access.audit"
    workspaces: str = "system.access.workspaces_latest"
    query_history: str = "system.query.history"

    @field_validator("audit", "workspaces", "query_history")
    @classmethod
    def _table(cls, v: str) -> str:
        return validate_table_name(v)


class HistorySettings(_Strict):
    """First day of the date partitions: a fixed ``start_date`` (recommended) or ``lookback_days`` from today."""

    start_date: dt.date | None = None
    lookback_days: int | None = Field(None, ge=1, le=3650)

    @model_validator(mode="after")
    def _one(self) -> HistorySettings:
        if (self.start_date is None) == (self.lookback_days is None):
            raise ValueError("give exactly one of 'start_date' (YYYY-MM-DD) or 'lookback_days' (1-3650)")
        return self

    def first_day(self, today: dt.date | None = None) -> dt.date:
        if self.start_date is not None:
            return self.start_date
        today = today or dt.datetime.now(dt.timezone.utc).date()
        return today - dt.timedelta(days=self.lookback_days or 0)


class IngestionPrincipal(_Strict):
    """How the ingestion service principal appears in ``user_identity.email`` of the audit log."""

    identity: str = Field(min_length=1)


class DuckDBSettings(_Strict):
    path: str = "data/genie_obs.duckdb"


class DatabricksWarehouseSettings(_Strict):
    """The control workspace whose SQL warehouse runs the SQL and whose Unity Catalog holds the tables."""

    host: str
    warehouse_id: str
    volume: str = "genie_obs_staging"   # UC volume in the target schema where Python rows are staged as Parquet
    credentials: Credentials | None = None  # default: the top-level credentials
    wait_timeout_s: int = 10            # the API's synchronous wait per statement: 0 or 5-50
    statement_timeout_s: int = Field(3600, ge=60, le=172_800)  # a statement still running then is cancelled

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        return validate_workspace_url(v, "host")

    @field_validator("warehouse_id")
    @classmethod
    def _wh(cls, v: str) -> str:
        if not isinstance(v, str) or not re.match(r"^[0-9a-f]{16}$", v):
            raise ValueError(f"warehouse_id {v!r} is not allowed; expected 16 lowercase hex characters "
                             "(the id in the SQL warehouse's connection details)")
        return v

    @field_validator("volume")
    @classmethod
    def _volume(cls, v: str) -> str:
        return validate_identifier(v, "volume name")

    @field_validator("wait_timeout_s")
    @classmethod
    def _wait(cls, v: int) -> int:
        if v != 0 and not 5 <= v <= 50:
            raise ValueError(f"wait_timeout_s {v!r} is not allowed; the Statement Execution API takes 0 or 5 to 50 seconds")
        return v


class WarehouseSettings(_Strict):
    backend: Literal["duckdb", "databricks"] = "duckdb"
    duckdb: DuckDBSettings = DuckDBSettings()
    databricks: DatabricksWarehouseSettings | None = None

    @model_validator(mode="after")
    def _backend_settings(self) -> WarehouseSettings:
        if self.backend == "databricks" and self.databricks is None:
            raise ValueError("backend 'databricks' needs a 'databricks' section with host and warehouse_id")
        return self


class SandboxSettings(_Strict):
    """Shape of the generated sandbox scenario (embedded default only)."""

    seed: int = 7
    spaces_per_workspace: int = Field(4, ge=1, le=200)
    users: int = Field(16, ge=1, le=100_000)
    questions_per_day: int = Field(30, ge=0, le=1_000_000)
    requests_per_second: float = Field(20.0, ge=0, le=10_000)  # the simulated server's API limit (0: none)


class AutomationSettings(_Strict):
    """How the sensor and the schedules keep the partitions current (README, "Operating it").

    The sensor compares the source audit log with bronze for the last ``lookback_days`` days on every tick,
    so late rows and missed days are found without anyone editing a lookback; older days are the initial
    load's and the reconciliation's business.
    """

    # Minimum seconds between sensor ticks; default 60 on the embedded default and 1800 on Databricks, where every
    # tick runs a statement: a serverless warehouse auto-stops between ticks only if they are further apart.
    sensor_interval_s: int | None = Field(None, ge=30, le=86_400)
    lookback_days: int = Field(7, ge=1, le=90)                  # days (up to today) the sensor watches
    retry_after_s: int = Field(900, ge=60, le=86_400)           # wait before fetching a pending/failed message again
    max_retry_interval_s: int = Field(21_600, ge=60, le=604_800)  # the wait doubles per attempt up to this
    max_attempts: int = Field(3, ge=1, le=20)                   # runs per unchanged change before the sensor stops asking
    reconcile_days: int = Field(3, ge=1, le=90)                 # nightly reconciliation: the last N days, today included
    reconcile_cron: str = "30 2 * * *"                          # UTC
    space_refresh_cron: str = "0 4 * * *"                       # UTC

    def interval_s(self, backend: str) -> int:
        if self.sensor_interval_s is not None:
            return self.sensor_interval_s
        return DATABRICKS_SENSOR_INTERVAL_S if backend == "databricks" else 60

    @field_validator("reconcile_cron", "space_refresh_cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        if not CRON_RE.match(v or ""):
            raise ValueError(f"cron expression {v!r} is not allowed; expected five fields, e.g. '30 2 * * *'")
        return v


class Settings(_Strict):
    workspaces: list[WorkspaceSettings] = Field(min_length=1)
    target: TargetSettings = TargetSettings()
    sources: SourceSettings = SourceSettings()
    history: HistorySettings
    ingestion_principal: IngestionPrincipal
    credentials: Credentials = Credentials()
    api: ApiSettings = ApiSettings()
    warehouse: WarehouseSettings = WarehouseSettings()
    sandbox: SandboxSettings | None = None
    automation: AutomationSettings = AutomationSettings()

    @field_validator("workspaces")
    @classmethod
    def _unique(cls, v: list[WorkspaceSettings]) -> list[WorkspaceSettings]:
        ids = [w.id for w in v]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"workspace ids must be unique; repeated: {', '.join(dupes)}")
        return v

    def workspace(self, workspace_id: str) -> WorkspaceSettings:
        for ws in self.workspaces:
            if ws.id == workspace_id:
                return ws
        raise KeyError(f"workspace {workspace_id!r} is not configured; configured: {self.workspace_ids}")

    @property
    def workspace_ids(self) -> list[str]:
        return [w.id for w in self.workspaces]

    def credentials_for(self, workspace_id: str) -> Credentials:
        return self.workspace(workspace_id).credentials or self.credentials

    def api_for(self, workspace_id: str) -> ApiSettings:
        return self.workspace(workspace_id).api or self.api


# Databricks personal access tokens and OAuth secrets (dapi…, dose…, dkea…), and JWTs (access tokens).
SECRET_LIKE_RE = re.compile(r"(dapi|dose|dkea)[0-9a-f]{16,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")


def looks_like_secret(value: Any) -> bool:
    return isinstance(value, str) and bool(SECRET_LIKE_RE.search(value))


def _format_errors(err: ValidationError, source: str) -> str:
    lines = [f"invalid settings in {source}:"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]).replace(".schema_", ".schema") or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown setting; check the spelling against the README's configuration section"
        elif e["type"] == "missing":
            msg = "required setting is missing"
        got = e.get("input")
        # Never echo what was given under credentials: a user may have pasted a secret value there.
        secret = "credentials" in loc
        if secret and e["type"] not in ("missing", "extra_forbidden") and not isinstance(got, dict):
            msg = "expected a reference such as {env: VAR_NAME} or {secret_scope: NAME, key: KEY}, never a value"
        if looks_like_secret(got):  # a token pasted into the wrong setting (a host, an id): never echo it either
            msg = msg.replace(repr(got), "<a value that looks like a token, not shown>")
            secret = True
        hidden = secret or e["type"] == "missing" or isinstance(got, dict) or repr(got) in msg
        shown = "" if hidden else f" (got {got!r})"
        lines.append(f"  - {loc}: {msg}{shown}")
    return "\n".join(lines)


def _apply_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    for name, value in sorted(environ.items()):
        if not name.startswith(OVERRIDE_PREFIX):
            continue
        path = [p.lower() for p in name[len(OVERRIDE_PREFIX) :].split("__")]
        if not all(p and IDENTIFIER_RE.match(p) for p in path):
            raise SettingsError(f"environment override {name} is not of the form GENIE_OBS__SECTION__KEY")
        node = raw
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise SettingsError(f"environment override {name}: {'.'.join(path)} is not a section")
            node = child
        try:
            node[path[-1]] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise SettingsError(f"environment override {name}: value is not valid YAML ({exc})") from None
    return raw


def parse_settings(raw: Mapping[str, Any] | None, source: str = "settings", environ: Mapping[str, str] | None = None) -> Settings:
    """Validate a settings mapping (plus env overrides) into :class:`Settings`."""
    if raw is not None and not isinstance(raw, Mapping):
        raise SettingsError(f"invalid settings in {source}: expected a mapping at the top level, got {type(raw).__name__}")
    data = _apply_overrides(dict(raw or {}), os.environ if environ is None else environ)
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        raise SettingsError(_format_errors(err, source)) from None


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_FILE)


def packaged_default_config() -> Path:
    """The embedded-default settings file inside the installed package."""
    return Path(str(importlib.resources.files("genie_obs_dagster").joinpath(PACKAGED_DEFAULT_CONFIG)))


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Load settings from ``path`` (or ``GENIE_OBS_CONFIG`` / ``genie_obs.yaml``) and env overrides."""
    file = Path(path) if path else config_path(environ)
    if not file.is_file():
        raise SettingsError(
            f"settings file {str(file)!r} not found; set {CONFIG_ENV_VAR} to a YAML file "
            f"(see genie_obs.yaml in the repository for the embedded default)"
        )
    try:
        raw = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"settings file {str(file)!r} is not valid YAML: {exc}") from None
    return parse_settings(raw, source=str(file), environ=environ)
