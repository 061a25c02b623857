"""Ports of the simulated workspaces and of the Dagster UI: the demo picks free ones, `make dev` takes them from
the command line and gives the sandbox and the code location the same ones."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from genie_obs_dagster.lifecycle.conversations import (
    ASKER_CLIENT_ID_ENV,
    ASKER_CLIENT_SECRET_ENV,
    GenerateOptions,
    asker_client,
)
from genie_obs_dagster.sandbox.runtime import TEST_ASKER, env_file_lines, on_free_ports, start_sandbox
from genie_obs_dagster.sandbox.server.sql_types import SANDBOX_WAREHOUSE_ID
from genie_obs_dagster_tests.conftest import WORKSPACES, make_settings
from genie_obs_dagster_tests.processes import REPO

REMOTE = "https://adb-1234567890123456.7.azuredatabricks.net"


def test_free_ports_move_every_simulated_workspace_and_the_control_host_with_it(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "wh.duckdb",
        workspaces=[{"id": WORKSPACES[0], "url": "http://127.0.0.1:8781"}, {"id": WORKSPACES[1], "url": REMOTE}],
        warehouse={"backend": "databricks",
                   "databricks": {"host": "http://127.0.0.1:8781", "warehouse_id": SANDBOX_WAREHOUSE_ID}})
    moved = on_free_ports(settings)
    local = urlsplit(moved.workspaces[0].url)
    assert (local.scheme, local.hostname) == ("http", "127.0.0.1") and local.port not in (None, 8781)
    assert moved.workspaces[1].url == REMOTE  # a real workspace is not the sandbox's to move
    assert moved.warehouse.databricks is not None and moved.warehouse.databricks.host == moved.workspaces[0].url
    assert settings.workspaces[0].url == "http://127.0.0.1:8781"  # the settings given are not changed


def test_the_sandbox_env_file_names_the_ports_it_serves(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "wh.duckdb", credentials={"client_id": {"env": "GENIE_OBS_CLIENT_ID"},
                                                                   "client_secret": {"env": "GENIE_OBS_CLIENT_SECRET"}})
    sim = SimpleNamespace(client_id="cid", client_secret="sandbox-secret",
                          urls={WORKSPACES[1]: "http://127.0.0.1:9782", WORKSPACES[0]: "http://127.0.0.1:9781"})
    assert env_file_lines(SimpleNamespace(settings=settings, sim=sim)) == [  # type: ignore[arg-type]
        "GENIE_OBS_CLIENT_ID=cid", "GENIE_OBS_CLIENT_SECRET=sandbox-secret",
        f"{ASKER_CLIENT_ID_ENV}={TEST_ASKER.client_id}", f"{ASKER_CLIENT_SECRET_ENV}={TEST_ASKER.client_secret}",
        "GENIE_OBS_SANDBOX_PORT_1=9781", "GENIE_OBS_SANDBOX_PORT_2=9782"]  # numbered in the settings' order


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # -n: print the recipe only; -o: never (re)install the venv from here.
    return subprocess.run(["make", "-n", "-o", ".venv/.installed-stamp", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "PORT": "8080", "HOST": "example"})


def test_make_dev_runs_dg_dev_with_the_venv_on_the_port_given() -> None:
    default, custom = _make("dev"), _make("dev", "PORT=3100")
    assert default.returncode == 0 and custom.returncode == 0, default.stderr + custom.stderr
    # the environment's PORT and HOST (which some hosts set for their own use) are not the UI's
    assert f"VIRTUAL_ENV={REPO}/.venv .venv/bin/dg dev --host 127.0.0.1 --port 3000" in default.stdout, default.stdout
    assert "dg dev --host 127.0.0.1 --port 3100" in custom.stdout, custom.stdout
    assert "dagster dev" not in default.stdout
    assert "initial-load --url http://127.0.0.1:3100" in _make("initial-load", "PORT=3100").stdout


def test_make_dev_wants_one_sandbox_port_per_simulated_workspace() -> None:
    assert _make("dev", "SANDBOX_PORTS=9781 9782").returncode == 0
    bad = _make("dev", "SANDBOX_PORTS=9781")
    assert bad.returncode != 0 and 'SANDBOX_PORTS takes two ports' in bad.stderr, bad.stderr


def test_the_sandbox_serves_a_test_asker_whose_questions_the_audit_path_finds(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`genie-obs sandbox` (and `make dev`, through .env) gives `generate-conversations` a test-asker principal of its
    own: its credentials are exported, they obtain a token from the simulated workspace, a question asked with them is
    audited under the asker's identity (not the ingestion principal's, which the audit path ignores), so it is found."""
    for name in (ASKER_CLIENT_ID_ENV, ASKER_CLIENT_SECRET_ENV):
        monkeypatch.delenv(name, raising=False)
    settings = on_free_ports(make_settings(tmp_path / "wh.duckdb", sandbox={"questions_per_day": 2}))
    box = start_sandbox(settings, export_credentials=True)
    try:
        lines = env_file_lines(box)
        assert f"{ASKER_CLIENT_ID_ENV}={TEST_ASKER.client_id}" in lines
        assert f"{ASKER_CLIENT_SECRET_ENV}={TEST_ASKER.client_secret}" in lines
        client, asker = asker_client(settings, GenerateOptions(workspace_id=WORKSPACES[0]))
        assert asker == TEST_ASKER.client_id != settings.ingestion_principal.identity
        space = next(iter(client.list_spaces()))["space_id"]
        asked = client.start_conversation(space, "How many orders shipped last week?")
        client.get_message(space, asked["conversation_id"], asked["message_id"])  # the generator's first poll
        rows = [r for r in box.scenario.audit_events
                if r["request_params"].get("message_id") == asked["message_id"]]
        assert rows and {r["user_identity"]["email"] for r in rows} == {TEST_ASKER.identity}
        assert (WORKSPACES[0], asked["message_id"]) in box.scenario.expected_messages_to_fetch([WORKSPACES[0]])
    finally:
        box.stop()
