"""The embedded back end's contract: atomic partition replace, merge by key, waiting for the file lock."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from genie_obs_dagster.sandbox.system_tables import load_system_tables
from genie_obs_dagster.warehouse import WarehouseError
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

from .conftest import PRINCIPAL, START, WORKSPACES, make_scenario

TS = dt.datetime(2026, 3, 2, 12, tzinfo=dt.timezone.utc)


def message_rows(ids: list[str], asker: str) -> pa.Table:
    n = len(ids)
    return pa.table({
        "workspace_id": [WORKSPACES[0]] * n, "message_id": ids, "space_id": ["s"] * n, "conversation_id": ["c"] * n,
        "workspace_name": [None] * n, "workspace_url": [None] * n, "first_seen_date": [START] * n,
        "first_event_time": [TS] * n, "last_event_time": [TS] * n, "asker_email": [asker] * n, "asked_at": [None] * n,
        "ask_channel": [None] * n, "discovered_via": ["getConversationMessage"] * n, "event_count": [1] * n,
        "reader_count": [1] * n, "feedback_rating": [None] * n, "review_requested": [False] * n,
    })


def test_merge_rows_upserts_by_key(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    wh.ensure_schema()
    wh.merge_rows("genie_messages_to_fetch", message_rows(["m1", "m2"], "a@x"), ["workspace_id", "message_id"])
    wh.merge_rows("genie_messages_to_fetch", message_rows(["m2", "m3"], "b@x"), ["workspace_id", "message_id"])
    rows = wh.sql("SELECT message_id, asker_email FROM main.genie_analytics.genie_messages_to_fetch ORDER BY 1")
    assert rows == [("m1", "a@x"), ("m2", "b@x"), ("m3", "b@x")]
    with pytest.raises(WarehouseError, match="lack column"):
        wh.merge_rows("genie_messages_to_fetch", pa.table({"message_id": ["x"]}), ["message_id"])


def test_replace_touches_only_its_slice_and_is_atomic(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    load_system_tables(wh, make_scenario())
    wh.ensure_schema()
    params = {"workspace_id": WORKSPACES[0], "start_date": START, "end_date": START + dt.timedelta(days=4),
              "ingestion_principal": PRINCIPAL, "space_ids": ""}
    where = {"workspace_id": WORKSPACES[0], "event_date": (START, START + dt.timedelta(days=4))}
    n = wh.replace("genie_audit_events", "audit/genie_audit_events", params, where)
    assert n > 0
    one_day = {**params, "start_date": START + dt.timedelta(days=1), "end_date": START + dt.timedelta(days=1)}
    n_day = wh.replace("genie_audit_events", "audit/genie_audit_events", one_day,
                       {"workspace_id": WORKSPACES[0], "event_date": (one_day["start_date"], one_day["end_date"])})
    assert wh.sql("SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events") == [(n,)]
    assert 0 < n_day < n
    # A failing insert rolls the delete back: the partition keeps its rows.
    with pytest.raises(WarehouseError):
        wh.replace("genie_audit_events", "audit/genie_audit_events", {**params, "start_date": "not a date"}, where)
    assert wh.sql("SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events") == [(n,)]


SAFETY_S = 180  # outer limit of any wait here: a safety net against a hung process, never what is tested


def hold_lock(path: Path) -> subprocess.Popen[str]:
    """Another process that holds the DuckDB file until its stdin is closed, then says it let go."""
    DuckDBWarehouse(path).ensure_schema()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
                               "sys.stdin.read(); c.close(); print('released', flush=True)"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


class LockWaits(logging.Handler):
    """Sets an event when the warehouse logs that it is waiting for another writer's lock."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "is locked by another writer; waiting" in record.getMessage():
            self.seen.set()


def test_a_second_writer_waits_for_the_file_lock(tmp_path: Path) -> None:
    """Events only: the writer is seen waiting, then the holder lets go, then the write lands."""
    holder = hold_lock(tmp_path / "w.duckdb")
    waits = LockWaits()
    logger = logging.getLogger("genie_obs_dagster.warehouse.duckdb_backend")
    logger.addHandler(waits)
    level = logger.level
    logger.setLevel(logging.INFO)
    wh = DuckDBWarehouse(tmp_path / "w.duckdb", lock_timeout_s=SAFETY_S)
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            wh.merge_rows("genie_messages_to_fetch", message_rows(["m1"], "a@x"), ["workspace_id", "message_id"])
            outcome.append(None)
        except BaseException as exc:  # reported by the test thread
            outcome.append(exc)

    writer = threading.Thread(target=write, daemon=True)
    try:
        writer.start()
        assert waits.seen.wait(SAFETY_S), "the second writer never reported waiting for the lock"
        assert outcome == []  # still waiting: it neither wrote nor failed while the file was held
        out, _ = holder.communicate("", timeout=SAFETY_S)  # let go
        assert out.strip() == "released"
        writer.join(SAFETY_S)
        assert outcome == [None]  # it waited for the other writer instead of failing
    finally:
        logger.removeHandler(waits)
        logger.setLevel(level)
        if holder.poll() is None:
            holder.kill()
    assert wh.sql("SELECT COUNT(*) FROM main.genie_analytics.genie_messages_to_fetch") == [(1,)]


def test_lock_wait_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path / "w.duckdb")  # held until we say so, however slow the machine
    try:
        with pytest.raises(WarehouseError, match="cannot open DuckDB file"):
            DuckDBWarehouse(tmp_path / "w.duckdb", lock_timeout_s=0.3).sql("SELECT 1")
    finally:
        holder.kill()
        holder.wait(SAFETY_S)


def test_the_memory_limit_setting_reaches_every_connection(tmp_path: Path) -> None:
    """warehouse.duckdb.memory_limit bounds DuckDB (its own default is 80% of RAM) in runs and in the sensor."""
    from genie_obs_dagster.resources import WarehouseResource

    from .conftest import make_settings

    settings = make_settings(tmp_path / "wh.duckdb",
                             warehouse={"backend": "duckdb", "duckdb": {"path": str(tmp_path / "wh.duckdb"),
                                                                        "memory_limit": "1GB"}})
    resource = WarehouseResource.from_settings(settings)
    for wh in (resource.get(), resource.for_sensor(5.0)):
        assert wh.sql("SELECT current_setting('memory_limit')") == [("1.0 GiB",)]
