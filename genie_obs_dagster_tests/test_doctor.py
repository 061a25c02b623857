"""`genie-obs doctor` against the simulated workspace: all green when every grant is there, and the exact
GRANT (or permission) to add when one is missing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from genie_obs_dagster.cli import run_doctor_command
from genie_obs_dagster.sandbox.server import SimConfig, WorkspaceFaults
from genie_obs_dagster.sandbox.server.sql_types import SANDBOX_WAREHOUSE_ID, SqlGrants, SqlWarehouseConfig

from .conftest import PRINCIPAL, ApiEnv

NO_LIMIT = WorkspaceFaults(requests_per_second=None)


def doctor(env: ApiEnv, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run_doctor_command(env.settings)
    return code, capsys.readouterr().out


def test_doctor_passes_with_every_grant(api_env_factory: Callable[..., ApiEnv], capsys: pytest.CaptureFixture[str]) -> None:
    env = api_env_factory(backend="databricks")
    code, out = doctor(env, capsys)
    assert code == 0, out
    assert "FAIL" not in out and "read system.access.audit: readable" in out
    assert "staging volume main.genie_analytics.genie_obs_staging" in out and "0 failed" in out
    assert not list(env.sim.volumes.root.rglob("probe.txt"))  # the probe file was removed


@pytest.mark.parametrize(("revoked", "fix"), [
    (("SELECT", "system.access.audit"), f"GRANT SELECT ON TABLE system.access.audit TO `{PRINCIPAL}`;"),
    (("MODIFY", "main.genie_analytics.genie_audit_events"), f"GRANT SELECT, MODIFY ON SCHEMA main.genie_analytics TO `{PRINCIPAL}`;"),
    (("WRITE VOLUME", "main.genie_analytics.genie_obs_staging"),
     f"GRANT READ VOLUME, WRITE VOLUME ON VOLUME main.genie_analytics.genie_obs_staging TO `{PRINCIPAL}`;"),
    (("CAN USE", SANDBOX_WAREHOUSE_ID), f"CAN USE on SQL warehouse {SANDBOX_WAREHOUSE_ID}"),
], ids=["system-table", "modify", "volume", "warehouse"])
def test_doctor_names_the_missing_grant(api_env_factory: Callable[..., ApiEnv], capsys: pytest.CaptureFixture[str],
                                        revoked: tuple[str, str], fix: str) -> None:
    config = SimConfig(faults=NO_LIMIT, sql=SqlWarehouseConfig(grants=SqlGrants(frozenset({revoked}))))
    env = api_env_factory(config=config, backend="databricks")
    code, out = doctor(env, capsys)
    assert code == 1
    assert fix in out, out
    assert len([line for line in out.splitlines() if line.startswith("FAIL")]) == 1, out


def test_doctor_names_the_missing_credential(api_env_factory: Callable[..., ApiEnv], capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    env = api_env_factory(backend="duckdb")
    monkeypatch.delenv("GENIE_OBS_CLIENT_SECRET")
    code, out = doctor(env, capsys)
    assert code == 1
    assert "env var GENIE_OBS_CLIENT_SECRET" in out and env.sim.client_secret not in out
