"""Shared fixtures: a small deterministic scenario, settings that match it, an embedded warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from genie_obs_dagster.code_location import build_definitions
from genie_obs_dagster.demo import materialize_range
from genie_obs_dagster.sandbox.model import Scenario
from genie_obs_dagster.sandbox.scenario import ScenarioParams, generate
from genie_obs_dagster.sandbox.system_tables import load_system_tables
from genie_obs_dagster.settings import Settings, parse_settings
from genie_obs_dagster.warehouse import TableNames
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

START = dt.date(2026, 3, 2)
DAYS = 5
WORKSPACES = ("1234567890123456", "2345678901234567")
PRINCIPAL = "5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f"


def make_settings(db_path: Path, **overrides: object) -> Settings:
    raw: dict[str, object] = {
        "workspaces": [{"id": w, "url": f"http://127.0.0.1:{8781 + i}"} for i, w in enumerate(WORKSPACES)],
        "history": {"start_date": START.isoformat()},
        "ingestion_principal": {"identity": PRINCIPAL},
        "warehouse": {"backend": "duckdb", "duckdb": {"path": str(db_path)}},
    }
    raw.update(overrides)
    return parse_settings(raw, environ={})


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
