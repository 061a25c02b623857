"""The real databricks-sdk 0.60 ``w.statement_execution`` against the simulated SQL warehouse.

Statements run on the real engine (``sql_engine.SqlEngine``, Databricks SQL on DuckDB) unless a test needs
to hold a statement inside the engine (``SELECT wait_for_cancel()``): those use the fake of ``sql_fake``.
Nothing here is timed: tests wait on statement states with generous bounded loops.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest, InvalidParameterValue, NotFound, PermissionDenied
from databricks.sdk.service.sql import (
    ColumnInfoTypeName,
    Disposition,
    ExecuteStatementRequestOnWaitTimeout,
    Format,
    ServiceErrorCode,
    StatementParameterListItem,
    StatementResponse,
    StatementState,
)

from genie_obs_dagster.sandbox.model import Scenario
from genie_obs_dagster.sandbox.server import Fault, SimulatedDatabricks, WorkspaceFaults
from genie_obs_dagster.sandbox.server.sql_types import SANDBOX_WAREHOUSE_ID, SqlGrants, SqlWarehouseConfig

from .conftest import NO_LIMITS, MutableClock, sdk_client
from .sql_fake import FakeFactory, RecordingFactory

WH = SANDBOX_WAREHOUSE_ID
TERMINAL = {StatementState.SUCCEEDED, StatementState.FAILED, StatementState.CANCELED, StatementState.CLOSED}


@pytest.fixture
def engines() -> RecordingFactory:
    """The real engine, remembered so a test can look at it."""
    return RecordingFactory()


@pytest.fixture
def fake_engines() -> FakeFactory:
    return FakeFactory()


@pytest.fixture
def make_sql_sim(make_sim: Callable[..., SimulatedDatabricks], engines: RecordingFactory,
                 fake_engines: FakeFactory) -> Callable[..., SimulatedDatabricks]:
    def make(faults: WorkspaceFaults = NO_LIMITS, fake: bool = False, **sql: Any) -> SimulatedDatabricks:
        return make_sim(engine_factory=fake_engines if fake else engines, faults=faults, sql=SqlWarehouseConfig(**sql))

    return make


@pytest.fixture
def sim(make_sql_sim: Callable[..., SimulatedDatabricks]) -> SimulatedDatabricks:
    return make_sql_sim(chunk_rows=4)


def client(sim: SimulatedDatabricks, wid: str) -> WorkspaceClient:
    return sdk_client(sim.urls[wid], sim.client_id, sim.client_secret)


SAFETY_S = 120  # outer limit of waits on the simulated warehouse: a safety net, never what is tested


@pytest.fixture
def w(sim: SimulatedDatabricks, wid: str) -> WorkspaceClient:
    return client(sim, wid)


def wait_for(w: WorkspaceClient, statement_id: str, states: set[StatementState] = TERMINAL) -> StatementResponse:
    deadline = time.monotonic() + SAFETY_S
    while time.monotonic() < deadline:
        resp = w.statement_execution.get_statement(statement_id)
        assert resp.status is not None
        if resp.status.state in states:
            return resp
        time.sleep(0.05)
    raise AssertionError(f"statement {statement_id} never reached {states}")


def test_inline_json_array_strings_and_enums(w: WorkspaceClient, sim: SimulatedDatabricks) -> None:
    resp = w.statement_execution.execute_statement(
        "SELECT CAST(7 AS BIGINT) AS n, 'a' AS s, CAST(NULL AS STRING) AS z, TRUE AS b, DATE'2026-03-02' AS d, "
        "TIMESTAMP'2026-03-02 10:00:00' AS ts, CAST(1.5 AS DECIMAL(10,2)) AS amount, array(1, 2) AS l", WH,
        wait_timeout="30s")
    assert resp.status is not None and resp.status.state is StatementState.SUCCEEDED
    assert resp.manifest is not None and resp.manifest.schema is not None and resp.manifest.schema.columns is not None
    assert resp.manifest.format is Format.JSON_ARRAY
    assert [c.type_name for c in resp.manifest.schema.columns] == [
        ColumnInfoTypeName.LONG, ColumnInfoTypeName.STRING, ColumnInfoTypeName.STRING, ColumnInfoTypeName.BOOLEAN,
        ColumnInfoTypeName.DATE, ColumnInfoTypeName.TIMESTAMP, ColumnInfoTypeName.DECIMAL, ColumnInfoTypeName.ARRAY]
    assert resp.manifest.schema.columns[6].type_precision == 10
    assert resp.manifest.total_row_count == 1 and resp.manifest.truncated is False
    assert resp.result is not None
    assert resp.result.data_array == [["7", "a", None, "true", "2026-03-02", "2026-03-02T10:00:00.000Z", "1.50", "[1,2]"]]
    assert resp.result.next_chunk_index is None
    assert sim.emitted_audit_events() == []  # not Genie actions


def test_async_polling_and_chunks(w: WorkspaceClient) -> None:
    resp = w.statement_execution.execute_statement("SELECT explode(sequence(0, 9)) AS n", WH, wait_timeout="0s")
    assert resp.status is not None and resp.status.state in (StatementState.PENDING, StatementState.RUNNING,
                                                             StatementState.SUCCEEDED)
    assert resp.statement_id
    done = wait_for(w, resp.statement_id)
    assert done.status is not None and done.status.state is StatementState.SUCCEEDED
    assert done.manifest is not None and done.manifest.chunks is not None
    assert done.manifest.total_chunk_count == 3 and done.manifest.total_row_count == 10
    assert [(c.chunk_index, c.row_offset, c.row_count) for c in done.manifest.chunks] == [(0, 0, 4), (1, 4, 4), (2, 8, 2)]
    assert done.result is not None and done.result.next_chunk_index == 1
    assert done.result.next_chunk_internal_link == f"/api/2.0/sql/statements/{resp.statement_id}/result/chunks/1"
    rows = list(done.result.data_array or [])
    index = done.result.next_chunk_index
    while index is not None:
        chunk = w.statement_execution.get_statement_result_chunk_n(resp.statement_id, index)
        assert chunk.chunk_index == index and chunk.row_offset == len(rows)
        rows += chunk.data_array or []
        index = chunk.next_chunk_index
    assert rows == [[str(i)] for i in range(10)]
    with pytest.raises(BadRequest):
        w.statement_execution.get_statement_result_chunk_n(resp.statement_id, 3)


def test_external_links_arrow_stream_are_presigned(w: WorkspaceClient, sim: SimulatedDatabricks, wid: str,
                                                    clock: MutableClock) -> None:
    resp = w.statement_execution.execute_statement(
        "SELECT n, concat('x', CAST(n AS STRING)) AS s FROM (SELECT explode(sequence(0, 5)) AS n) ORDER BY n", WH, wait_timeout="30s",
        disposition=Disposition.EXTERNAL_LINKS, format=Format.ARROW_STREAM)
    assert resp.status is not None and resp.status.state is StatementState.SUCCEEDED
    assert resp.manifest is not None and resp.manifest.format is Format.ARROW_STREAM
    assert resp.manifest.total_chunk_count == 2
    assert resp.manifest.chunks is not None and all(c.byte_count for c in resp.manifest.chunks)
    links = list(resp.result.external_links or []) if resp.result else []
    links += w.statement_execution.get_statement_result_chunk_n(resp.statement_id, 1).external_links or []
    assert [link.chunk_index for link in links] == [0, 1] and links[0].next_chunk_index == 1
    tables = []
    for link in links:
        assert link.external_link and link.external_link.startswith(sim.urls[wid]) and link.expiration
        got = requests.get(link.external_link, timeout=10)  # no Databricks auth: it is a pre-signed URL
        assert got.status_code == 200 and len(got.content) == link.byte_count
        tables.append(pa.ipc.open_stream(io.BytesIO(got.content)).read_all())
    table = pa.concat_tables(tables)
    assert table.column("n").to_pylist() == list(range(6)) and table.column("s").to_pylist()[5] == "x5"
    leaked = requests.get(links[0].external_link, headers={"Authorization": "Bearer dapi-secret"}, timeout=10)
    assert leaked.status_code == 400 and b"Only one auth mechanism allowed" in leaked.content
    clock.advance(seconds=sim.warehouse.config.link_ttl_s + 1)
    assert requests.get(links[0].external_link, timeout=10).status_code == 403
    assert sim.stats(wid).by_kind["sql_external"] == 4


def test_cancel_during_latency(make_sql_sim: Callable[..., SimulatedDatabricks], wid: str) -> None:
    sim = make_sql_sim(latency_s=120.0)
    w = client(sim, wid)
    resp = w.statement_execution.execute_statement("SELECT 1", WH, wait_timeout="0s")
    assert resp.status is not None and resp.status.state is StatementState.PENDING
    w.statement_execution.cancel_execution(resp.statement_id)
    done = wait_for(w, resp.statement_id)
    assert done.status is not None and done.status.state is StatementState.CANCELED
    w.statement_execution.cancel_execution(resp.statement_id)  # already terminal: still 200
    assert sim.sql_state_counts() == {"CANCELED": 1}


def test_cancel_while_executing_interrupts_the_engine(make_sql_sim: Callable[..., SimulatedDatabricks], wid: str,
                                                      fake_engines: FakeFactory) -> None:
    w, engines = client(make_sql_sim(fake=True), wid), fake_engines
    resp = w.statement_execution.execute_statement("SELECT wait_for_cancel()", WH, wait_timeout="0s")
    wait_for(w, resp.statement_id, {StatementState.RUNNING})
    assert _engine_running(engines)
    w.statement_execution.cancel_execution(resp.statement_id)
    done = wait_for(w, resp.statement_id)
    assert done.status is not None and done.status.state is StatementState.CANCELED
    assert engines.engines[0].canceled == [resp.statement_id]


def test_on_wait_timeout_cancel(make_sql_sim: Callable[..., SimulatedDatabricks], wid: str) -> None:
    sim = make_sql_sim(latency_s=300.0)
    resp = client(sim, wid).statement_execution.execute_statement(
        "SELECT 1", WH, wait_timeout="5s", on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CANCEL)
    assert resp.status is not None and resp.status.state is StatementState.CANCELED


def test_failed_statement(w: WorkspaceClient, sim: SimulatedDatabricks) -> None:
    resp = w.statement_execution.execute_statement("SELECT * FROM no_such_table", WH, wait_timeout="30s")
    assert resp.status is not None and resp.status.state is StatementState.FAILED
    raw = w.api_client.do("GET", f"/api/2.0/sql/statements/{resp.statement_id}")
    assert isinstance(raw, dict) and raw["status"]["sql_state"] == "42P01"  # SDK 0.60 does not parse sql_state
    assert resp.status.error is not None and resp.status.error.error_code is ServiceErrorCode.BAD_REQUEST
    assert "[TABLE_OR_VIEW_NOT_FOUND]" in (resp.status.error.message or "")
    assert resp.manifest is None and resp.result is None
    assert sim.sql_state_counts() == {"FAILED": 1}


def test_parameters_and_query_tags_are_recorded(w: WorkspaceClient, sim: SimulatedDatabricks, wid: str) -> None:
    resp = w.statement_execution.execute_statement(
        "SELECT :who AS who, :n + 1 AS n, :missing IS NULL AS nothing", WH, wait_timeout="30s",
        parameters=[StatementParameterListItem(name="who", value="ada"),
                    StatementParameterListItem(name="n", value="41", type="INT"),
                    StatementParameterListItem(name="missing")])
    assert resp.result is not None and resp.result.data_array == [["ada", "42", "true"]]
    body = {"warehouse_id": WH, "statement": "SELECT 1 AS one", "wait_timeout": "30s",
            "query_tags": [{"key": "genie_obs_asset", "value": "message_details"}, {"key": "dagster"}]}
    tagged = w.api_client.do("POST", "/api/2.0/sql/statements", body=body)
    assert isinstance(tagged, dict) and tagged["status"]["state"] == "SUCCEEDED"
    records = sim.sql_statements(wid)
    assert [r.state for r in records] == ["SUCCEEDED", "SUCCEEDED"]
    assert records[0].parameters == ({"name": "who", "value": "ada"}, {"name": "n", "value": "41", "type": "INT"},
                                     {"name": "missing"})
    assert records[1].query_tags == ({"key": "genie_obs_asset", "value": "message_details"}, {"key": "dagster"})
    assert records[1].principal == sim.client_id


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"wait_timeout": "3s"}, InvalidParameterValue),
    ({"wait_timeout": "51s"}, InvalidParameterValue),
    ({"wait_timeout": "ten"}, InvalidParameterValue),
    ({"format": Format.ARROW_STREAM}, InvalidParameterValue),  # INLINE only with JSON_ARRAY
    ({"format": Format.CSV, "disposition": Disposition.INLINE}, InvalidParameterValue),
    ({"warehouse_id": "0123456789abcdef"}, NotFound),
    ({"statement": ""}, InvalidParameterValue),
])
def test_validation(w: WorkspaceClient, kwargs: dict[str, Any], error: type[Exception]) -> None:
    args: dict[str, Any] = {"statement": "SELECT 1", "warehouse_id": WH, **kwargs}
    with pytest.raises(error):
        w.statement_execution.execute_statement(**args)


def test_unknown_statement_and_statement_text_limit(make_sql_sim: Callable[..., SimulatedDatabricks], wid: str) -> None:
    w = client(make_sql_sim(statement_text_limit_bytes=64), wid)
    with pytest.raises(NotFound):
        w.statement_execution.get_statement("01f00000-0000-1000-8000-000000000000")
    with pytest.raises(InvalidParameterValue, match="maximum query text size"):
        w.statement_execution.execute_statement("SELECT '" + "x" * 100 + "'", WH)


def test_can_use_revoked(make_sql_sim: Callable[..., SimulatedDatabricks], wid: str) -> None:
    sim = make_sql_sim(grants=SqlGrants(frozenset({("CAN USE", WH)})))
    with pytest.raises(PermissionDenied, match="CAN USE"):
        client(sim, wid).statement_execution.execute_statement("SELECT 1", WH)
    assert sim.sql_statements() == []


def test_limits_truncate_and_inline_limit_fails(make_sql_sim: Callable[..., SimulatedDatabricks], wid: str) -> None:
    w = client(make_sql_sim(inline_limit_bytes=200), wid)
    limited = w.statement_execution.execute_statement("SELECT explode(sequence(0, 49)) AS n", WH, wait_timeout="30s",
                                                      row_limit=5)
    assert limited.manifest is not None and limited.manifest.truncated is True and limited.manifest.total_row_count == 5
    by_bytes = w.statement_execution.execute_statement("SELECT explode(sequence(0, 49)) AS n", WH, wait_timeout="30s",
                                                       byte_limit=30)
    assert by_bytes.manifest is not None and by_bytes.manifest.truncated is True
    assert 0 < (by_bytes.manifest.total_row_count or 0) < 50
    too_big = w.statement_execution.execute_statement("SELECT explode(sequence(0, 499)) AS n", WH, wait_timeout="30s")
    assert too_big.status is not None and too_big.status.state is StatementState.FAILED
    assert too_big.status.error is not None and "Inline byte limit exceeded" in (too_big.status.error.message or "")
    external = w.statement_execution.execute_statement("SELECT explode(sequence(0, 499)) AS n", WH, wait_timeout="30s",
                                                       disposition=Disposition.EXTERNAL_LINKS, format=Format.CSV)
    assert external.status is not None and external.status.state is StatementState.SUCCEEDED
    assert external.result is not None and external.result.external_links
    csv_text = requests.get(external.result.external_links[0].external_link or "", timeout=10).text
    assert csv_text.splitlines()[:3] == ["n", "0", "1"]


def test_results_expire_to_closed(w: WorkspaceClient, sim: SimulatedDatabricks, clock: MutableClock) -> None:
    resp = w.statement_execution.execute_statement("SELECT 1 AS one", WH, wait_timeout="30s")
    clock.advance(seconds=sim.warehouse.config.result_ttl_s + 1)
    closed = w.statement_execution.get_statement(resp.statement_id)
    assert closed.status is not None and closed.status.state is StatementState.CLOSED and closed.result is None
    with pytest.raises(NotFound):
        w.statement_execution.get_statement_result_chunk_n(resp.statement_id, 0)


def test_statements_belong_to_their_workspace(sim: SimulatedDatabricks, scenario: Scenario) -> None:
    first, second = (client(sim, ws.workspace_id) for ws in scenario.workspaces[:2])
    resp = first.statement_execution.execute_statement("SELECT 1", WH, wait_timeout="30s")
    with pytest.raises(NotFound):
        second.statement_execution.get_statement(resp.statement_id)


def test_waiting_statement_does_not_block_genie(make_sql_sim: Callable[..., SimulatedDatabricks], wid: str,
                                                fake_engines: FakeFactory) -> None:
    """A POST waiting on its statement must not hold the scenario lock the Genie handlers share."""
    sim, engines = make_sql_sim(fake=True), fake_engines
    w = client(sim, wid)
    answers: list[StatementResponse] = []
    waiting = threading.Thread(target=lambda: answers.append(w.statement_execution.execute_statement(
        "SELECT wait_for_cancel()", WH, wait_timeout="50s")), daemon=True)
    waiting.start()
    assert _engine_running(engines)
    spaces = list(client(sim, wid).genie.list_spaces().spaces or [])  # answers while the POST is waiting
    assert spaces
    statement_id = sim.sql_statements(wid)[0].statement_id
    w.statement_execution.cancel_execution(statement_id)
    waiting.join(SAFETY_S)
    assert answers and answers[0].status is not None and answers[0].status.state is StatementState.CANCELED


def _engine_running(engines: FakeFactory) -> bool:
    deadline = time.monotonic() + SAFETY_S
    while time.monotonic() < deadline:
        if engines.engines and engines.engines[0].running.wait(0.05):
            return True
    return False


def test_faults_and_rate_limits_apply_to_sql_routes(make_sql_sim: Callable[..., SimulatedDatabricks], wid: str) -> None:
    faults = dataclasses.replace(NO_LIMITS, faults=(Fault("503", kinds=frozenset({"sql_get"}), limit=1),))
    sim = make_sql_sim(faults=faults)
    w = client(sim, wid)
    resp = w.statement_execution.execute_statement("SELECT 1", WH, wait_timeout="0s")
    done = wait_for(w, resp.statement_id)  # the SDK retries the 503
    assert done.status is not None and done.status.state is StatementState.SUCCEEDED
    stats = sim.stats(wid)
    assert stats.by_status[503] == 1 and stats.by_kind["sql_execute"] == 1 and stats.by_kind["sql_get"] >= 2
    unauthenticated = requests.get(f"{sim.urls[wid]}/api/2.0/sql/statements/{resp.statement_id}", timeout=10)
    assert unauthenticated.status_code == 401


def test_stop_closes_the_engine(make_sql_sim: Callable[..., SimulatedDatabricks], wid: str,
                                fake_engines: FakeFactory) -> None:
    sim, engines = make_sql_sim(fake=True), fake_engines
    client(sim, wid).statement_execution.execute_statement("SELECT 1", WH, wait_timeout="30s")
    assert sim.sql_engine is engines.engines[0]
    sim.stop()
    assert engines.engines[0].closed
