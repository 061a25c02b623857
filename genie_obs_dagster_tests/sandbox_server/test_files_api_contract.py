"""The real databricks-sdk 0.60 ``w.files`` against the simulated Unity Catalog volumes (real SQL engine)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import AlreadyExists, BadRequest, NotFound, PermissionDenied, ResourceConflict
from databricks.sdk.service.sql import StatementState

from genie_obs_dagster.sandbox.server import SimulatedDatabricks
from genie_obs_dagster.sandbox.server.sql_types import SqlGrants, SqlWarehouseConfig

from .conftest import sdk_client

VOLUME = "/Volumes/main/genie_analytics/genie_obs_staging"
SECURABLE = "main.genie_analytics.genie_obs_staging"


@pytest.fixture
def make_files_sim(make_sim: Callable[..., SimulatedDatabricks], tmp_path: Any) -> Callable[..., SimulatedDatabricks]:
    def make(**sql: Any) -> SimulatedDatabricks:
        sim = make_sim(sql=SqlWarehouseConfig(**sql), data_dir=tmp_path / "warehouse")
        sim.volumes.create_volume("main", "genie_analytics", "genie_obs_staging")
        return sim

    return make


@pytest.fixture
def sim(make_files_sim: Callable[..., SimulatedDatabricks]) -> SimulatedDatabricks:
    return make_files_sim()


@pytest.fixture
def w(sim: SimulatedDatabricks, wid: str) -> WorkspaceClient:
    return sdk_client(sim.urls[wid], sim.client_id, sim.client_secret)


def test_file_round_trip(w: WorkspaceClient, sim: SimulatedDatabricks) -> None:
    path = f"{VOLUME}/runs/event_date=2026-03-02/part-0.parquet"  # '=' arrives escaped as %3D
    payload = b"PAR1" + bytes(range(256)) * 40
    w.files.upload(path, io.BytesIO(payload), overwrite=True)
    assert sim.volumes.local_path(path).read_bytes() == payload
    downloaded = w.files.download(path)
    assert downloaded.contents is not None and downloaded.contents.read() == payload
    assert downloaded.content_type == "application/octet-stream"
    meta = w.files.get_metadata(path)
    assert meta.content_length == len(payload) and meta.last_modified and meta.last_modified.endswith("GMT")
    w.files.upload(path, io.BytesIO(b"v2"))  # overwrite defaults to true
    assert w.files.download(path).contents.read() == b"v2"  # type: ignore[union-attr]
    w.files.delete(path)
    with pytest.raises(NotFound):
        w.files.download(path)
    with pytest.raises(NotFound):
        w.files.get_metadata(path)
    with pytest.raises(NotFound):
        w.files.delete(path)
    assert sim.emitted_audit_events() == []


def test_overwrite_false_conflicts(w: WorkspaceClient) -> None:
    w.files.upload(f"{VOLUME}/a.parquet", io.BytesIO(b"one"), overwrite=False)
    with pytest.raises(AlreadyExists):
        w.files.upload(f"{VOLUME}/a.parquet", io.BytesIO(b"two"), overwrite=False)
    assert w.files.download(f"{VOLUME}/a.parquet").contents.read() == b"one"  # type: ignore[union-attr]


def test_directories_and_paged_listing(w: WorkspaceClient) -> None:
    w.files.create_directory(f"{VOLUME}/staging/run-1")
    w.files.create_directory(f"{VOLUME}/staging/run-1")  # idempotent
    w.files.get_directory_metadata(f"{VOLUME}/staging/run-1")
    for i in range(5):
        w.files.upload(f"{VOLUME}/staging/run-1/part-{i}.parquet", io.BytesIO(b"x" * (i + 1)))
    w.files.create_directory(f"{VOLUME}/staging/run-1/sub")
    entries = list(w.files.list_directory_contents(f"{VOLUME}/staging/run-1", page_size=2))
    assert [e.name for e in entries] == [f"part-{i}.parquet" for i in range(5)] + ["sub"]
    assert entries[0].path == f"{VOLUME}/staging/run-1/part-0.parquet" and entries[0].is_directory is False
    assert entries[4].file_size == 5 and (entries[4].last_modified or 0) > 1_600_000_000_000
    assert entries[5].is_directory is True
    with pytest.raises(ResourceConflict):
        w.files.delete_directory(f"{VOLUME}/staging/run-1")  # not empty
    for e in entries[:5]:
        w.files.delete(e.path or "")
    w.files.delete_directory(f"{VOLUME}/staging/run-1/sub")
    w.files.delete_directory(f"{VOLUME}/staging/run-1")
    with pytest.raises(NotFound):
        w.files.get_directory_metadata(f"{VOLUME}/staging/run-1")
    with pytest.raises(NotFound):
        list(w.files.list_directory_contents(f"{VOLUME}/staging/run-1"))
    assert [e.name for e in w.files.list_directory_contents(VOLUME)] == ["staging"]


def test_missing_volume_and_malformed_paths(w: WorkspaceClient) -> None:
    with pytest.raises(NotFound):
        w.files.upload("/Volumes/main/genie_analytics/nope/a.parquet", io.BytesIO(b"x"))
    with pytest.raises(NotFound):
        list(w.files.list_directory_contents("/Volumes/main/nope/vol"))
    with pytest.raises(BadRequest):
        w.files.upload("/tmp/a.parquet", io.BytesIO(b"x"))
    with pytest.raises(BadRequest):
        w.files.upload(f"{VOLUME}/bad name?.parquet", io.BytesIO(b"x"))  # not a volume path segment


def test_volume_privileges(make_files_sim: Callable[..., SimulatedDatabricks], wid: str) -> None:
    sim = make_files_sim(grants=SqlGrants(frozenset({("WRITE VOLUME", SECURABLE)})))
    w = sdk_client(sim.urls[wid], sim.client_id, sim.client_secret)
    with pytest.raises(PermissionDenied, match="WRITE VOLUME"):
        w.files.upload(f"{VOLUME}/a.parquet", io.BytesIO(b"x"))
    with pytest.raises(PermissionDenied):
        w.files.create_directory(f"{VOLUME}/dir")
    sim.volumes.local_path(VOLUME).joinpath("seeded.parquet").write_bytes(b"seed")
    assert w.files.download(f"{VOLUME}/seeded.parquet").contents.read() == b"seed"  # type: ignore[union-attr]
    with pytest.raises(PermissionDenied):
        w.files.delete(f"{VOLUME}/seeded.parquet")


def test_read_volume_revoked(make_files_sim: Callable[..., SimulatedDatabricks], wid: str) -> None:
    sim = make_files_sim(grants=SqlGrants(frozenset({("READ VOLUME", SECURABLE)})))
    w = sdk_client(sim.urls[wid], sim.client_id, sim.client_secret)
    w.files.upload(f"{VOLUME}/a.parquet", io.BytesIO(b"x"))
    with pytest.raises(PermissionDenied):
        w.files.download(f"{VOLUME}/a.parquet")
    with pytest.raises(PermissionDenied):
        list(w.files.list_directory_contents(VOLUME))


def test_files_need_a_token(sim: SimulatedDatabricks, wid: str) -> None:
    resp = requests.get(f"{sim.urls[wid]}/api/2.0/fs/files{VOLUME}/a.parquet", timeout=10)
    assert resp.status_code == 401


def test_data_dir_survives_restart(make_files_sim: Callable[..., SimulatedDatabricks], wid: str) -> None:
    sim = make_files_sim()
    w = sdk_client(sim.urls[wid], sim.client_id, sim.client_secret)
    w.files.upload(f"{VOLUME}/kept.parquet", io.BytesIO(b"kept"))
    local = sim.volumes.local_path(f"{VOLUME}/kept.parquet")
    sim.stop()
    assert local.read_bytes() == b"kept"  # data_dir given: nothing is removed on stop


def test_sql_reads_what_the_files_api_staged(w: WorkspaceClient) -> None:
    """Stage Parquet through the Files API, read it back with SQL: the back end's load path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for ddl in ("CREATE SCHEMA IF NOT EXISTS main.genie_analytics", "CREATE VOLUME IF NOT EXISTS main.genie_analytics.loads"):
        created = w.statement_execution.execute_statement(ddl, "5a1db0c5e11a4e0f", wait_timeout="30s")
        assert created.status is not None and created.status.state is StatementState.SUCCEEDED
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": [1, 2, 3]}), buf)
    w.files.upload("/Volumes/main/genie_analytics/loads/run-1/part-0.parquet", io.BytesIO(buf.getvalue()))
    read = w.statement_execution.execute_statement(
        "SELECT sum(id) AS total FROM read_files('/Volumes/main/genie_analytics/loads/run-1/', format => 'parquet')",
        "5a1db0c5e11a4e0f", wait_timeout="30s")
    assert read.result is not None and read.result.data_array == [["6"]]
