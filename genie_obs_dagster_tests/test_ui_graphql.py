"""Headless check that the Dagster UI serves the code location: ``dagster-webserver`` on loopback with the
dev instance settings (``deploy/dagster.yaml``), queried through its GraphQL API for the asset graph,
partitions, checks, freshness and automation; then the documented initial-load command launches an
asset backfill through the same API, and one iteration of the real sensor and backfill daemons on that
instance shows what they submit (one queued run per workspace each). The webserver is shut down and no
process is left behind."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import requests
import yaml

from genie_obs_dagster.code_location import build_definitions
from genie_obs_dagster.component import load_component_settings
from genie_obs_dagster.initial_load import graphql, launch_initial_load
from genie_obs_dagster.sandbox.system_tables import load_system_tables
from genie_obs_dagster.warehouse import TableNames
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

from .conftest import PRINCIPAL, WORKSPACES, make_scenario

REPO = Path(__file__).resolve().parents[1]
WEBSERVER = Path(sys.executable).with_name("dagster-webserver")
SAFETY_S = 300  # outer limit of every wait (start, stop): a safety net against a hang, never a performance assertion

ASSETS_QUERY = """
{ assetNodes {
    assetKey { path } groupName isPartitioned kinds description
    owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
    internalFreshnessPolicy { ... on TimeWindowFreshnessPolicy { failWindowSeconds } }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
} }"""
PARTITIONS_QUERY = """
query($path: [String!]!) { assetNodeOrError(assetKey: {path: $path}) {
  ... on AssetNode { partitionKeysByDimension { name partitionKeys } } } }"""
LOCATION_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus locationOrLoadError {
    __typename
    ... on PythonError { message }
    ... on RepositoryLocation { repositories { jobs { name } sensors { name sensorState { status } }
                                               schedules { name scheduleState { status } } } }
} } } } }"""
RESOURCE_QUERY = """
query($name: String!) { topLevelResourceDetailsOrError(resourceSelector: {
    repositoryName: "__repository__", repositoryLocationName: "genie_obs_dagster", resourceName: $name}) {
  __typename ... on ResourceDetails { configFields { name } configuredValues { key value type } } } }"""
# What a secret looks like (a Databricks token); the webserver's environment holds it as the client secret.
UI_SECRET = "dapi00112233445566778899aabbccddeeff"
BACKFILL_QUERY = """
query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { isAssetBackfill status title assetSelection { path } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pgid: int) -> list[int]:
    """Processes of the group that are still running (zombies waiting to be reaped do not count)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


@pytest.fixture
def webserver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, str]]]:
    """The repository's code location as `dg dev` serves it: its defs folder's component instance (the embedded
    default), with the DuckDB file moved to the test's folder through the instance's own template variable."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("GENIE_OBS_DUCKDB_PATH", str(tmp_path / "wh.duckdb"))
    monkeypatch.setenv("GENIE_OBS_CLIENT_SECRET", UI_SECRET)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    settings = load_component_settings()
    assert settings.warehouse.duckdb.path == str(tmp_path / "wh.duckdb")
    assert [w.id for w in settings.workspaces] == list(WORKSPACES) and settings.ingestion_principal.identity == PRINCIPAL
    today = dt.datetime.now(dt.timezone.utc).date()
    load_system_tables(DuckDBWarehouse(settings.warehouse.duckdb.path, TableNames.from_settings(settings)),
                       make_scenario(start_date=today - dt.timedelta(days=3), days=3, questions_per_day=4))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_file = tmp_path / "webserver.log"  # a file, not a pipe nobody reads (a full pipe would block the server)
    with log_file.open("wb") as log:
        proc = subprocess.Popen([str(WEBSERVER), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # Wait on the event "the code location is loaded", polled; the limit is only a safety net.
        deadline = time.monotonic() + SAFETY_S
        while True:
            assert proc.poll() is None, "webserver exited:\n" + log_file.read_text(errors="replace")[-3000:]
            try:
                if requests.get(f"{url}/server_info", timeout=SAFETY_S).ok:
                    entries = graphql(url, LOCATION_QUERY, timeout_s=SAFETY_S)["workspaceOrError"]["locationEntries"]
                    if entries and entries[0]["loadStatus"] == "LOADED":
                        break
            except requests.RequestException:
                pass  # not listening yet
            assert time.monotonic() < deadline, "the webserver never served the code location:\n" + \
                log_file.read_text(errors="replace")[-3000:]
            time.sleep(0.25)
        yield url, env
    finally:
        # Stopping is awaited as events (the webserver exits, then its code server): no time budget is tested.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(SAFETY_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(SAFETY_S)
        deadline = time.monotonic() + SAFETY_S
        while _alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = _alive(proc.pid)
        if left:  # clean up before failing, so nothing outlives the test
            os.killpg(proc.pid, signal.SIGKILL)
        assert proc.returncode is not None
        assert not left, f"processes left behind by the webserver: {left}"


def test_the_ui_serves_the_code_location_and_launches_the_initial_load(webserver: tuple[str, dict[str, str]]) -> None:
    url, env = webserver
    settings = load_component_settings()
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()

    # The code location, its jobs and automation (running by default).
    (entry,) = graphql(url, LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
    assert entry["name"] == "genie_obs_dagster"
    (repo,) = entry["locationOrLoadError"]["repositories"]
    assert {j["name"] for j in repo["jobs"]} >= {"genie_audit_layer", "genie_ingest", "genie_space_refresh"}
    assert {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]} == {"genie_audit_sensor": "RUNNING",
                                                                                  "genie_marts_sensor": "RUNNING"}
    assert {s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]} == {
        "genie_space_refresh_daily": "RUNNING", "genie_nightly_reconciliation": "RUNNING"}

    # The asset graph: every asset, grouped, described, owned, with kinds, its checks and freshness.
    nodes = {tuple(n["assetKey"]["path"]): n for n in graphql(url, ASSETS_QUERY)["assetNodes"]}
    assert set(nodes) == {tuple(k.path) for k in graph.get_all_asset_keys()}
    for key in graph.get_all_asset_keys():
        node, spec = nodes[tuple(key.path)], graph.get(key)
        assert node["groupName"] == spec.group_name and node["description"] and node["kinds"] and node["owners"], key
        assert node["isPartitioned"] is (spec.partitions_def is not None)
        checks = {c.name for c in graph.get_check_keys_for_assets({key})}
        assert {c["name"] for c in node["assetChecksOrError"]["checks"]} == checks, key
    for name in ("genie_audit_events", "genie_messages_to_fetch", "message_details", "genie_space_details"):
        assert nodes[(name,)]["internalFreshnessPolicy"]["failWindowSeconds"] == 26 * 3600
        assert nodes[(name,)]["assetChecksOrError"]["checks"]

    # Partitions: the (date x workspace) keys of the audit layer, the workspace keys of space details.
    dims = {d["name"]: d["partitionKeys"] for d in graphql(url, PARTITIONS_QUERY, {"path": ["genie_audit_events"]})[
        "assetNodeOrError"]["partitionKeysByDimension"]}
    today = dt.datetime.now(dt.timezone.utc).date()
    assert dims["workspace"] == list(WORKSPACES)
    assert dims["date"] == [(today - dt.timedelta(days=14 - i)).isoformat() for i in range(15)]
    spaces = graphql(url, PARTITIONS_QUERY, {"path": ["genie_space_details"]})["assetNodeOrError"]
    assert [d["partitionKeys"] for d in spaces["partitionKeysByDimension"]] == [list(WORKSPACES)]

    # The resources page: each resource's configuration field by field; credentials by reference, never a value.
    genie = graphql(url, RESOURCE_QUERY, {"name": "genie"})["topLevelResourceDetailsOrError"]
    values = {v["key"]: v["value"] for v in genie["configuredValues"]}
    assert {"workspaces", "pool_wait_timeout_s"} <= set(values)
    shown = yaml.safe_load(values["workspaces"])
    assert [(w["id"], w["url"], w["rate_per_s"]) for w in shown] == [
        (w.id, w.url, settings.api_for(w.id).rate_per_s) for w in settings.workspaces]
    assert all({k: v for k, v in w["client_secret"].items() if v is not None} == {"env": "GENIE_OBS_CLIENT_SECRET"}
               for w in shown), shown
    warehouse = graphql(url, RESOURCE_QUERY, {"name": "warehouse"})["topLevelResourceDetailsOrError"]
    shown_wh = {v["key"]: v["value"] for v in warehouse["configuredValues"]}
    assert shown_wh["backend"] == '"duckdb"' and shown_wh["duckdb_path"] == f'"{settings.warehouse.duckdb.path}"'
    assert UI_SECRET not in str(genie) + str(warehouse)

    # The initial load, as documented: one asset backfill of every partition of every asset.
    backfill_id = launch_initial_load(url)
    backfill = graphql(url, BACKFILL_QUERY, {"id": backfill_id})["partitionBackfillOrError"]
    assert backfill["isAssetBackfill"] and backfill["status"] == "REQUESTED"
    assert {tuple(a["path"]) for a in backfill["assetSelection"]} == set(nodes)
    # A workspace added later: the same command with --workspace backfills only its partitions.
    added = launch_initial_load(url, workspace_id=WORKSPACES[1])
    assert graphql(url, BACKFILL_QUERY, {"id": added})["partitionBackfillOrError"]["isAssetBackfill"]

    sensor_runs, runs_by_backfill = _run_the_daemons_once([backfill_id, added], env)
    backfill_runs = runs_by_backfill[backfill_id]

    # The sensor, evaluated by the real sensor daemon: the days with audit rows and nothing loaded yet,
    # one queued genie_ingest run per workspace, tagged with it (the run queue limits one per workspace).
    first_day = settings.history.first_day(today)
    recent = (today - dt.timedelta(days=3)).isoformat(), (today - dt.timedelta(days=1)).isoformat()
    assert {(r.tags["genie_obs/workspace"], r.tags["dagster/asset_partition_range_start"],
             r.tags["dagster/asset_partition_range_end"]) for r in sensor_runs} == {
        (w, f"{recent[0]}|{w}", f"{recent[1]}|{w}") for w in WORKSPACES}
    assert all(r.job_name == "genie_ingest" and r.status == dg.DagsterRunStatus.QUEUED for r in sensor_runs)

    # The backfill's first iteration: the roots and everything that can share their runs (the whole ingest
    # graph), one run per workspace over its whole history; space details and marts follow once these succeed.
    assert {(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in backfill_runs} == {(f"{first_day}|{w}", f"{today}|{w}") for w in WORKSPACES}
    assert len(backfill_runs) == len(WORKSPACES)
    assert all(r.status == dg.DagsterRunStatus.QUEUED for r in backfill_runs)
    assert {k.to_user_string() for k in backfill_runs[0].asset_selection} == {
        "genie_audit_events", "genie_messages_to_fetch", "message_details", "message_fetch_errors"}
    (added_run,) = runs_by_backfill[added]
    assert (added_run.tags["dagster/asset_partition_range_start"], added_run.tags["dagster/asset_partition_range_end"]) \
        == (f"{first_day}|{WORKSPACES[1]}", f"{today}|{WORKSPACES[1]}")


def _run_the_daemons_once(backfill_ids: list[str], env: dict[str, str]) -> tuple[list[Any], dict[str, list[Any]]]:
    """One iteration of the sensor daemon, then of the backfill daemon, on the webserver's instance and
    workspace; returns the runs each submitted (queued: no queue daemon runs here to launch them)."""
    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.workspace.load_target import WorkspaceFileTarget
    from dagster._daemon.backfill import execute_backfill_iteration
    from dagster._daemon.sensor import execute_sensor_iteration

    saved = {k: os.environ.get(k) for k in ("DAGSTER_HOME",)}
    os.environ.update({k: env[k] for k in saved})
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        with dg.DagsterInstance.get() as instance, create_test_daemon_workspace_context(
                WorkspaceFileTarget(paths=[str(REPO / "workspace.yaml")]), instance) as context:
            list(execute_sensor_iteration(context, logging.getLogger("sensor-daemon"), None, None))
            sensor_runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/sensor_name": "genie_audit_sensor"}))
            list(execute_backfill_iteration(context, logging.getLogger("backfill-daemon")))
            return list(sensor_runs), {b: list(instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": b})))
                                       for b in backfill_ids}
    finally:
        os.chdir(cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
