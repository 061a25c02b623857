"""Shared fixtures: a small deterministic scenario, settings that match it, an embedded warehouse."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest

from genie_obs_dagster.code_location import build_definitions
from genie_obs_dagster.demo import materialize_range
from genie_obs_dagster.sandbox.model import Scenario
from genie_obs_dagster.sandbox.scenario import ScenarioParams, generate
from genie_obs_dagster.sandbox.server import SimConfig, SimulatedDatabricks, WorkspaceFaults
from genie_obs_dagster.sandbox.server.sql_types import SANDBOX_WAREHOUSE_ID
from genie_obs_dagster.sandbox.simulated_tables import SimulatedTables
from genie_obs_dagster.sandbox.system_tables import load_system_tables
from genie_obs_dagster.settings import Settings, parse_settings
from genie_obs_dagster.warehouse import TableNames
from genie_obs_dagster.warehouse.databricks_backend import forget_checked_schemas
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

START = dt.date(2026, 3, 2)
DAYS = 5
WORKSPACES = ("1234567890123456", "2345678901234567")
PRINCIPAL = "5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f"


@pytest.fixture(autouse=True)
def _isolated_sdk_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep a developer's DATABRICKS_* variables and ~/.databrickscfg out of the SDK's config resolution."""
    for name in list(os.environ):
        if name.startswith("DATABRICKS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no-databrickscfg"))


def make_settings(db_path: Path, **overrides: object) -> Settings:
    raw: dict[str, object] = {
        "workspaces": [{"id": w, "url": f"http://127.0.0.1:{8781 + i}"} for i, w in enumerate(WORKSPACES)],
        "history": {"start_date": START.isoformat()},
        "ingestion_principal": {"identity": PRINCIPAL},
        "warehouse": {"backend": "duckdb", "duckdb": {"path": str(db_path)}},
    }
    raw.update(overrides)
    return parse_settings(raw)


def make_scenario(**kw: object) -> Scenario:
    params = dict(seed=11, start_date=START, days=DAYS, workspace_ids=WORKSPACES, questions_per_day=12,
                  ingestion_principal=PRINCIPAL)
    params.update(kw)
    return generate(ScenarioParams(**params))  # type: ignore[arg-type]


class Env:
    """A scenario loaded into a fresh embedded warehouse, with helpers to run the assets."""

    def __init__(self, tmp: Path, scenario: Scenario, as_of: dt.datetime | None = None):
        self.settings = make_settings(tmp / "wh.duckdb")
        self.scenario = scenario
        self.wh = DuckDBWarehouse(self.settings.warehouse.duckdb.path, TableNames.from_settings(self.settings))
        load_system_tables(self.wh, scenario, as_of=as_of)
        self.defs = build_definitions(self.settings)
        self.instance = dg.DagsterInstance.ephemeral()

    @property
    def last_day(self) -> dt.date:
        return self.scenario.start_date + dt.timedelta(days=self.scenario.days - 1)

    def run_range(self, workspace_id: str, start: dt.date, end: dt.date, job: str = "genie_audit_layer") -> dg.ExecuteInProcessResult:
        result = materialize_range(self.defs, job, workspace_id, start, end, self.instance)
        assert result.success
        return result

    def run_all(self, job: str = "genie_audit_layer") -> None:
        for ws in WORKSPACES:
            self.run_range(ws, self.scenario.start_date, self.last_day, job)

    def rows(self, sql: str, params: dict[str, object] | None = None) -> list[tuple]:
        return self.wh.sql(sql, params)


@pytest.fixture
def env_factory(tmp_path: Path) -> Callable[..., Env]:
    counter = iter(range(100))

    def make(scenario: Scenario | None = None, as_of: dt.datetime | None = None) -> Env:
        folder = tmp_path / f"env{next(counter)}"
        folder.mkdir()
        return Env(folder, scenario or make_scenario(), as_of)

    return make


class ApiEnv(Env):
    """An Env whose workspaces are served by a running simulated Databricks (credentials in env vars)."""

    def __init__(self, tmp: Path, scenario: Scenario, sim: SimulatedDatabricks, monkeypatch: pytest.MonkeyPatch,
                 space_ids: dict[str, list[str]] | None = None, **settings_overrides: object):
        self.sim = sim
        monkeypatch.setenv("GENIE_OBS_CLIENT_ID", sim.client_id)
        monkeypatch.setenv("GENIE_OBS_CLIENT_SECRET", sim.client_secret)
        workspaces = [{"id": w, "url": sim.urls[w], "space_ids": (space_ids or {}).get(w, [])} for w in WORKSPACES]
        # Tests are not about our own request budget unless they say so: let the client go fast.
        settings_overrides["api"] = {"rate_per_s": 1000, **dict(settings_overrides.get("api") or {})}  # type: ignore[arg-type]
        self.settings = make_settings(tmp / "wh.duckdb", workspaces=workspaces, **settings_overrides)
        self.scenario = scenario
        self._load()
        self.defs = build_definitions(self.settings)
        self.instance = dg.DagsterInstance.ephemeral()

    def run_marts(self) -> dg.ExecuteInProcessResult:
        result = self.defs.resolve_job_def("genie_marts").execute_in_process(instance=self.instance)
        assert result.success
        return result

    def _load(self) -> None:
        self.wh = DuckDBWarehouse(self.settings.warehouse.duckdb.path, TableNames.from_settings(self.settings))
        load_system_tables(self.wh, self.scenario)

    def ingest_all(self) -> list[dg.ExecuteInProcessResult]:
        return [self.run_range(ws, self.scenario.start_date, self.last_day, "genie_ingest") for ws in WORKSPACES]

    def refresh_spaces(self, workspace_id: str) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def("genie_space_refresh")
        result = job.execute_in_process(instance=self.instance, partition_key=workspace_id)
        assert result.success
        return result


class DatabricksApiEnv(ApiEnv):
    """An ApiEnv on the Databricks back end: the system tables and the product's tables live in the simulated
    workspace's SQL warehouse, reached only through the Statement Execution and Files APIs."""

    def __init__(self, tmp: Path, scenario: Scenario, sim: SimulatedDatabricks, monkeypatch: pytest.MonkeyPatch,
                 **settings_overrides: object):
        forget_checked_schemas()
        warehouse = {"backend": "databricks", "databricks": {"host": sim.urls[WORKSPACES[0]],
                                                             "warehouse_id": SANDBOX_WAREHOUSE_ID, "wait_timeout_s": 5}}
        super().__init__(tmp, scenario, sim, monkeypatch, warehouse=warehouse, **settings_overrides)

    def _load(self) -> None:
        self.wh = SimulatedTables(self.sim.sql_engine, TableNames.from_settings(self.settings))
        load_system_tables(self.wh, self.scenario)


@pytest.fixture
def api_env_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ApiEnv]]:
    """Start a simulated workspace server (no rate limit unless the test sets one) and an env around it."""
    sims: list[SimulatedDatabricks] = []
    counter = iter(range(100))

    def make(scenario: Scenario | None = None, config: SimConfig | None = None, backend: str = "duckdb",
             **settings_overrides: object) -> ApiEnv:
        scenario = scenario or make_scenario()
        sim = SimulatedDatabricks(scenario, config or SimConfig(faults=WorkspaceFaults(requests_per_second=None)))
        sim.start()
        sims.append(sim)
        folder = tmp_path / f"api{next(counter)}"
        folder.mkdir()
        kind = DatabricksApiEnv if backend == "databricks" else ApiEnv
        return kind(folder, scenario, sim, monkeypatch, **settings_overrides)

    yield make
    for sim in sims:
        sim.stop()
