"""Validated settings: the models behind the component's YAML attributes (``component.py``).

Settings are the attributes of the ``GenieObservabilityComponent`` instance in a ``defs.yaml`` (templates such as
``{{ env.X }}`` resolved first). Credentials are stored *by reference* (an env var name or a secret scope key),
never as values.

Every invalid value fails at load with a :class:`SettingsError` that names the setting, the bad value
and what is allowed, so a typo never turns into a stack trace deep inside a run. A value that could be a
secret is never shown: not an unknown setting's, not anything under ``credentials``, not a token-like value.

"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

WORKSPACE_ID_RE = re.compile(r"^[0-9]{1,20}$")
SPACE_ID_RE = re.compile(r"^[0-9a-f]{32}$")
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DATABRICKS_SENSOR_INTERVAL_S = 1800
CRON_RE = re.compile(r"^\s*[0-9*/,\-]+(\s+[0-9A-Za-z*/,\-]+){4}\s*$")  # only if Dagster's own check is unavailable
CRON_ALLOWED = 'allowed: five fields "minute hour day-of-month month day-of-week", e.g. "0 3 * * *"'
URL_ALLOWED = "expected https://<workspace-host> (http only for loopback test servers, e.g. http://127.0.0.1:<port>)"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class SettingsError(ValueError):
    """Raised when settings are missing or invalid; the message is meant for a person."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Databricks personal access tokens and OAuth secrets (dapi…, dose…, dkea…), JWTs (access tokens), private keys.
SECRET_LIKE_RE = re.compile(r"(dapi|dose|dkea)[0-9a-f]{16,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
                            r"|-----BEGIN [A-Z ]*PRIVATE KEY")
# A long run of token characters mixing lower case, upper case and digits: a generated secret (Azure client
# secrets, random keys, base64). '/', '.', ':' and '@' end a run, so paths, host names and URLs stay readable.
TOKEN_RUN_RE = re.compile(r"[A-Za-z0-9_+=~-]{20,}")
NOT_SHOWN = "<a value that looks like a token, not shown>"


def _mixed_case_and_digits(run: str) -> bool:
    return any(c.islower() for c in run) and any(c.isupper() for c in run) and any(c.isdigit() for c in run)


def looks_like_secret(value: Any) -> bool:
    """Whether ``value`` could be a secret (a Databricks token or OAuth secret, a JWT, a private key, or a long
    generated-looking string): such a value is never echoed in an error message."""
    return isinstance(value, str) and (
        bool(SECRET_LIKE_RE.search(value)) or any(map(_mixed_case_and_digits, TOKEN_RUN_RE.findall(value))))


def _redact(text: str) -> str:
    """``text`` with anything that could be a secret replaced: the last guard before a message is shown."""
    text = SECRET_LIKE_RE.sub(NOT_SHOWN, text)
    return TOKEN_RUN_RE.sub(lambda m: NOT_SHOWN if _mixed_case_and_digits(m.group()) else m.group(), text)


def _show(value: Any) -> str:
    """How a value given in the settings appears in an error message: a scalar as typed unless it could be a secret,
    a section or a list only by its kind (it may hold anything)."""
    if isinstance(value, str):
        return NOT_SHOWN if looks_like_secret(value) else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return "a mapping" if isinstance(value, Mapping) else "a list" if isinstance(value, (list, tuple)) else "a value"


def validate_identifier(value: str, what: str) -> str:
    """A SQL identifier that may reach a statement: letters, digits and underscores only."""
    if not IDENTIFIER_RE.match(value or ""):
        raise ValueError(f"{what} {_show(value)} is not allowed; use letters, digits and underscores, "
                         "starting with a letter")
    return value


def validate_table_name(value: str) -> str:
    parts = value.split(".")
    if len(parts) != 3:
        raise ValueError(f"{_show(value)} is not a three-part name; expected catalog.schema.table")
    for part in parts:
        validate_identifier(part, "name part")
    return value


def _without_userinfo(url: str) -> str:
    """``url`` as it may appear in a message: a user name or password in it replaced by ``***``."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)?[^/?#]*@", lambda m: f"{m.group(1) or ''}***@", url)


def validate_workspace_url(v: str, what: str) -> str:
    """A workspace URL: https://<host>[:port] (http only for loopback test servers); no user name or password,
    path, query or fragment. The URL is echoed in the error, never a user name or password in it."""
    shown = _show(_without_userinfo(v))

    def bad(problem: str) -> ValueError:
        return ValueError(f"{what} {shown} is not allowed: {problem}; {URL_ALLOWED}")

    if any(c.isspace() for c in v):
        raise bad("it contains whitespace")
    try:
        parsed = urlsplit(v)
    except ValueError:
        raise bad("it is not a valid URL") from None
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise bad("it is not an https:// URL with a host")
    if "@" in parsed.netloc:
        raise bad("it has a user name or password in it (not shown)")
    try:
        parsed.port  # noqa: B018 - raises ValueError if the port is not a number in range
    except ValueError:
        raise bad("its port is not a number from 0 to 65535") from None
    if parsed.path.strip("/"):
        raise bad("it has a path")
    if parsed.query or "?" in v:
        raise bad("it has a query")
    if parsed.fragment or "#" in v:
        raise bad("it has a fragment")
    if parsed.scheme == "http" and parsed.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"{what} {shown} uses http; only https:// is allowed except for loopback test servers, "
                         "e.g. http://127.0.0.1:<port>")
    return v.rstrip("/")


def validate_duckdb_path(v: str) -> str:
    """The DuckDB file: ``:memory:`` or a file whose folder exists or can be created. Checked, not created:
    loading settings has no side effects (the warehouse creates the folder when it first opens the file)."""
    allowed = "allowed: a file path in a writable folder (created if missing), or :memory:"
    if v == ":memory:":
        return v
    shown = _show(v)
    if not v.strip() or "\0" in v:
        raise ValueError(f"path {shown} is not allowed; {allowed}")
    path = Path(v)
    try:
        if path.is_dir():
            raise ValueError(f"path {shown} is not allowed: it is a folder, not a file; {allowed}")
        ancestor = path.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise ValueError(f"path {shown} is not allowed: its folder cannot be created because "
                             f"{_show(str(ancestor))} is a file; {allowed}")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            problem = "" if ancestor == path.parent else ", so its folder cannot be created"
            raise ValueError(f"path {shown} is not allowed: folder {_show(str(ancestor))} is not writable{problem}; "
                             f"{allowed}")
    except OSError as exc:  # e.g. a name too long for the file system
        raise ValueError(f"path {shown} cannot be checked ({exc.strerror}); {allowed}") from None
    return v


def _is_valid_cron(v: str) -> bool:
    """The check Dagster applies when it builds a schedule, so a bad cron fails here rather than at definitions load."""
    try:
        from dagster._utils.schedules import is_valid_cron_schedule
    except ImportError:  # pragma: no cover - Dagster moved its helper: fall back to the shape check
        return bool(CRON_RE.match(v))
    try:
        return bool(is_valid_cron_schedule(v))
    except Exception:  # noqa: BLE001 - any failure of the parser means the expression is not valid
        return False


class SecretRef(_Strict):
    """Where a secret lives: an environment variable, or a Databricks secret scope and key."""

    env: str | None = None
    secret_scope: str | None = None
    key: str | None = None

    @field_validator("env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        # Never echoed: a user may have pasted the secret itself here.
        if v is not None and not ENV_NAME_RE.match(v):
            raise ValueError("the value is not an environment variable name (not shown: it may be a secret); allowed: "
                             "letters, digits and underscores, not starting with a digit, e.g. GENIE_OBS_CLIENT_SECRET")
        if v is not None and looks_like_secret(v):
            raise ValueError("the value looks like a secret, not an environment variable name (not shown); allowed: "
                             "the name of the variable that holds the secret, e.g. GENIE_OBS_CLIENT_SECRET")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if bool(self.env) == bool(self.secret_scope):
            raise ValueError("give either 'env' (an environment variable name) or 'secret_scope' with 'key'")
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


# JSON schema of fields as `dg check yaml` sees them (component.py): the same rule as the field's validator.
IDENTIFIER_SCHEMA = dict(pattern=IDENTIFIER_RE.pattern)
TABLE_NAME_SCHEMA = dict(pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


class WorkspaceSettings(_Strict):
    # YAML may give the id as a number; JSON schema applies 'pattern' to strings and 'minimum' to numbers only.
    id: str = Field(json_schema_extra=dict(type=["string", "integer"], pattern=WORKSPACE_ID_RE.pattern, minimum=0))
    url: str = Field(json_schema_extra=dict(pattern=r"^https?://[^/?#@\s]+/?$"))
    name: str | None = None
    space_ids: list[str] = Field(default_factory=list,
                                 json_schema_extra=dict(items={"type": "string", "pattern": SPACE_ID_RE.pattern}))
    credentials: Credentials | None = None
    api: ApiSettings | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: Any) -> str:
        v = str(v).strip() if isinstance(v, (str, int)) and not isinstance(v, bool) else v
        if not isinstance(v, str) or not WORKSPACE_ID_RE.match(v):
            raise ValueError(f"workspace id {_show(v)} is not allowed; expected digits only, e.g. 1234567890123456")
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
                raise ValueError(f"space id {_show(sid)} is not allowed; expected 32 lowercase hex characters")
        return sorted(set(v))


class TargetSettings(_Strict):
    catalog: str = Field("main", json_schema_extra=IDENTIFIER_SCHEMA)
    schema_: str = Field("genie_analytics", alias="schema", json_schema_extra=IDENTIFIER_SCHEMA)

    @field_validator("catalog", "schema_")
    @classmethod
    def _ident(cls, v: str) -> str:
        return validate_identifier(v, "name")


class SourceSettings(_Strict):
    audit: str = Field("system.access.audit", json_schema_extra=TABLE_NAME_SCHEMA)
    workspaces: str = Field("system.access.workspaces_latest", json_schema_extra=TABLE_NAME_SCHEMA)
    query_history: str = Field("system.query.history", json_schema_extra=TABLE_NAME_SCHEMA)

    @field_validator("audit", "workspaces", "query_history")
    @classmethod
    def _table(cls, v: str) -> str:
        return validate_table_name(v)


class HistorySettings(_Strict):
    """First day of the date partitions: a fixed ``start_date`` (recommended) or ``lookback_days`` from today."""

    start_date: dt.date | None = None
    lookback_days: int | None = Field(None, ge=1, le=3650)

    @field_validator("start_date")
    @classmethod
    def _not_in_the_future(cls, v: dt.date | None) -> dt.date | None:
        today = dt.datetime.now(dt.timezone.utc).date()
        if v is not None and v > today:
            raise ValueError(f"{v.isoformat()} is in the future; allowed: a date on or before today "
                             f"({today.isoformat()}, UTC)")
        return v

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
    # DuckDB's memory budget (its buffer pool and operators; beyond it, joins, sorts and aggregates spill to
    # <path>.tmp). DuckDB's own default is 80% of RAM; 192MB keeps a 90-day x 1,000 questions/day backfill of the
    # audit layer (written in 14-day blocks), Dagster and Python included, under 512 MB peak RSS
    # (bench/bench_audit_scaling.py). Raise it for busier workspaces: a statement needing more fails, naming it.
    memory_limit: str = "192MB"

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        return validate_duckdb_path(v)

    @field_validator("memory_limit", mode="before")
    @classmethod
    def _memory_limit(cls, v: object) -> str:
        # The value is never shown (a misplaced secret must not reach a log), only what is allowed.
        allowed = "allowed: a size from 64MB to 1024GB written as a whole number and MB or GB, e.g. 256MB or 2GB"
        m = re.fullmatch(r"([0-9]{1,7}) ?([MG]B)", v.strip().upper()) if isinstance(v, str) else None
        if m is None:
            raise ValueError(f"memory_limit is not allowed; {allowed}")
        mb = int(m.group(1)) * (1024 if m.group(2) == "GB" else 1)
        if not 64 <= mb <= 1024 * 1024:
            raise ValueError(f"memory_limit is out of range; {allowed}")
        return f"{mb}MB"

    @property
    def memory_limit_mb(self) -> int:
        return int(self.memory_limit.removesuffix("MB"))


class DatabricksWarehouseSettings(_Strict):
    """The control workspace whose SQL warehouse runs the SQL and whose Unity Catalog holds the tables."""

    host: str = Field(json_schema_extra=dict(pattern=r"^https?://[^/?#@\s]+/?$"))
    warehouse_id: str = Field(json_schema_extra=dict(pattern=r"^[0-9a-f]{16}$"))
    # UC volume in the target schema: Python rows staged as Parquet (staging/) and space backups (space_backups/)
    volume: str = Field("genie_obs_staging", json_schema_extra=IDENTIFIER_SCHEMA)
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
            raise ValueError(f"warehouse_id {_show(v)} is not allowed; expected 16 lowercase hex characters "
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
    # The marts and the dashboard are rebuilt after their upstream changed, at most once per period of this cron
    # (automation.marts_condition): "15 * * * *" = at most hourly, "*/15 * * * *" = every quarter hour.
    marts_cron: str = "15 * * * *"                              # UTC
    # A step waits at most this long for a pool slot (genie_obs_warehouse, genie_api_<workspace>), then fails
    # naming the run that holds it; slots of processes that died on this host are freed while waiting.
    pool_wait_timeout_s: int = Field(3600, ge=60, le=86_400)

    def interval_s(self, backend: str) -> int:
        if self.sensor_interval_s is not None:
            return self.sensor_interval_s
        return DATABRICKS_SENSOR_INTERVAL_S if backend == "databricks" else 60

    @field_validator("reconcile_cron", "space_refresh_cron", "marts_cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        if not _is_valid_cron(v):
            raise ValueError(f"{_show(v)} is not a valid cron expression; {CRON_ALLOWED}")
        return v


class EvalSettings(_Strict):
    """Benchmarks (Genie eval runs) on a schedule, for the spaces whose configuration has benchmark questions.

    A space is due when a tick of its cron (``spaces`` override, else ``cron``; UTC) passed since its latest eval
    run started (any run, also one a person started in the UI); a space never evaluated is due at once. The
    ``genie_eval_runs`` asset starts the due spaces' runs and stores every run and finished run's results without
    waiting for them; runs still in progress are collected by the next materialization (``collect_cron``).
    """

    cron: str = "0 5 * * 1"                       # UTC: default schedule of every space with benchmarks
    # Per-space schedule: space id -> cron, or null to never start runs for that space (its runs are still stored).
    spaces: dict[str, str | None] = Field(
        default_factory=dict,
        json_schema_extra=dict(propertyNames={"pattern": SPACE_ID_RE.pattern}))
    # UTC: how often runs still in progress are collected (only workspaces with such runs get a run); null = never
    collect_cron: str | None = "*/30 * * * *"
    accuracy_drop_margin: float = Field(0.1, ge=0, le=1)  # the check warns when accuracy falls by more than this
    page_size: int = Field(100, ge=1, le=100)             # runs and results per list request

    @field_validator("cron", "collect_cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is not None and not _is_valid_cron(v):
            raise ValueError(f"{_show(v)} is not a valid cron expression; {CRON_ALLOWED}")
        return v

    @field_validator("spaces")
    @classmethod
    def _spaces(cls, v: dict[str, str | None]) -> dict[str, str | None]:
        for sid, cron in v.items():
            if not SPACE_ID_RE.match(sid):
                raise ValueError(f"space id {_show(sid)} is not allowed; expected 32 lowercase hex characters")
            if cron is not None and not _is_valid_cron(cron):
                raise ValueError(f"cron of space {sid}: {_show(cron)} is not a valid cron expression; {CRON_ALLOWED}")
        return v

    def cron_for(self, space_id: str) -> str | None:
        """The space's cron, or None when its runs are never started by us."""
        return self.spaces.get(space_id, self.cron)

    @property
    def crons(self) -> list[str]:
        """Every distinct cron that starts runs, the default first."""
        return list(dict.fromkeys([self.cron, *(c for c in self.spaces.values() if c is not None)]))


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
    evals: EvalSettings | None = None  # benchmarks on a schedule; absent = no eval-run assets or schedules

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


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The settings section (model) a field holds, looking through ``X | None`` and ``list[X]``."""
    if isinstance(annotation, type) and not typing.get_args(annotation) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if (found := _model_in(arg)) is not None:
            return found
    return None


def _known_keys(section: tuple[Any, ...]) -> list[str] | None:
    """The settings allowed in the section at ``section`` (a pydantic error location), or None if unknown."""
    model: type[BaseModel] | None = Settings
    for part in section:
        if isinstance(part, int):  # an item of a list: the list's item model was taken at its field
            continue
        fields = model.model_fields if model is not None else {}
        field = next((f for n, f in fields.items() if part in (n, f.alias)), None)
        model = _model_in(field.annotation) if field is not None else None
        if model is None:
            return None
    return [f.alias or n for n, f in model.model_fields.items()] if model is not None else None


def _format_errors(err: ValidationError, source: str) -> str:
    """One line per problem: the setting, what is wrong with the value (shown only if it cannot be a secret) and
    what is allowed. Unknown settings are named without their value; nothing under ``credentials`` is echoed."""
    lines = [f"invalid settings in {source}:"]
    for e in err.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"]).replace(".schema_", ".schema") or "(top level)"
        kind, got = e["type"], e.get("input")
        if kind == "extra_forbidden":
            keys = _known_keys(tuple(e["loc"][:-1]))
            allowed = f"allowed: {', '.join(keys)}" if keys else "check the spelling against the README's configuration section"
            msg = f"unknown setting (its value is not shown); {allowed}"
        elif kind == "missing":
            msg = "required setting is missing"
        elif kind == "value_error":  # our validators: their message shows the value only where it cannot be a secret
            msg = e["msg"].removeprefix("Value error, ")
        elif "credentials" in (str(p) for p in e["loc"]) and not isinstance(got, dict):
            # Never echo what was given under credentials: a user may have pasted a secret value there.
            msg = "expected a reference such as {env: VAR_NAME} or {secret_scope: NAME, key: KEY}, never a value"
        else:
            msg = f"{e['msg']} (got {_show(got)})"
        lines.append(_redact(f"  - {loc}: {msg}"))
    return "\n".join(lines)


def yaml_problem(exc: yaml.YAMLError) -> str:
    """What is wrong with some YAML and where, without the text around it (it may hold a secret)."""
    problem = getattr(exc, "problem", None) or "syntax error"
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return _redact(f"{problem}{where}")


def parse_settings(raw: Mapping[str, Any] | None, source: str = "settings") -> Settings:
    """Validate a settings mapping into :class:`Settings`; ``raw`` is not changed."""
    if raw is not None and not isinstance(raw, Mapping):
        raise SettingsError(f"invalid settings in {source}: expected a mapping at the top level, got {type(raw).__name__}")
    data = copy.deepcopy(dict(raw or {}))
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        message = _format_errors(err, source)
    # Raised outside the handler so that the ValidationError, whose text quotes every input value, is not chained
    # as the context: a traceback shows only the message above.
    raise SettingsError(message)
