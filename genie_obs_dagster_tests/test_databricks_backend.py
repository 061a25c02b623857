"""The Databricks back end against the simulated workspace's SQL warehouse (Statement Execution and Files APIs):
the whole graph gives the same tables as the embedded default, writes are single atomic statements, staged rows
leave nothing behind, failures name the file, the table and Databricks' error, statements carry query tags, a
terminated run cancels its statement, and the schema is created and extended without dropping anything."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pyarrow as pa
import pytest

from genie_obs_dagster.resources import open_warehouse
from genie_obs_dagster.sandbox.server import SimConfig, WorkspaceFaults
from genie_obs_dagster.sandbox.server.sql_types import SqlGrants, SqlWarehouseConfig
from genie_obs_dagster.warehouse import WarehouseError
from genie_obs_dagster.warehouse import sql as sqlmod
from genie_obs_dagster.warehouse import statements as statements_module
from genie_obs_dagster.warehouse.databricks_backend import (
    DatabricksWarehouse,
    column_ddl,
    forget_checked_schemas,
    split_statements,
)
from genie_obs_dagster.warehouse.staging import VALUES_MAX_PARAMS
from genie_obs_dagster.warehouse.statements import api_parameters

from .conftest import WORKSPACES, ApiEnv

# Set by the clock when a run writes, so they differ between any two runs; everything else must be equal.
RUN_TIME_COLUMNS = {"fetched_at", "first_fetched_at", "first_attempt_at", "last_attempt_at", "resolved_at",
                    "first_seen_at", "last_seen_at", "listed_at", "refreshed_at", "latest_fetch_time",
                    "latest_space_fetch_time"}
TARGET_TABLES = [name.rsplit("/", 1)[1] for name in sqlmod.ddl_files("ddl/target")]
NO_LIMIT = WorkspaceFaults(requests_per_second=None)


def table_rows(env: ApiEnv, table: str) -> list[tuple]:
    cols = [c for c in sqlmod.ddl_columns(table) if c not in RUN_TIME_COLUMNS]
    rows = env.rows(f"SELECT {', '.join(cols)} FROM main.genie_analytics.{table}")  # noqa: S608 (DDL names)
    return sorted(rows, key=repr)


def warehouse_of(env: ApiEnv) -> DatabricksWarehouse:
    with open_warehouse(env.settings) as wh:
        assert isinstance(wh, DatabricksWarehouse)
        return wh


def test_whole_graph_gives_the_same_tables_on_both_back_ends(api_env_factory: Callable[..., ApiEnv]) -> None:
    envs = {backend: api_env_factory(backend=backend) for backend in ("duckdb", "databricks")}
    for env in envs.values():
        for result in env.ingest_all():
            evals = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
            assert evals and all(evals.values()), evals
        for ws in WORKSPACES:
            env.refresh_spaces(ws)
        env.run_marts()
    duck, bricks = envs["duckdb"], envs["databricks"]
    assert table_rows(duck, "message_details"), "the scenario must produce messages"
    for table in TARGET_TABLES:
        assert table_rows(bricks, table) == table_rows(duck, table), table
    statements = bricks.sim.sql_statements()
    assert statements and all(s.state == "SUCCEEDED" for s in statements)
    texts = [s.statement for s in statements]
    assert any("REPLACE WHERE" in t for t in texts) and any("INSERT OVERWRITE" in t for t in texts)
    assert any("read_files(" in t for t in texts) and any("FROM VALUES" in t for t in texts)
    # Every value travelled as a typed parameter: no scenario id or e-mail is spelled out in any statement text.
    user_emails = {u.email for u in bricks.scenario.users}
    assert not any(email in t for t in texts for email in user_emails)
    assert not any(ws in t for t in texts for ws in WORKSPACES)
    # Staged files were removed after each statement.
    staging = bricks.sim.volumes.root
    assert not [p for p in staging.rglob("*.parquet")]


def test_statements_carry_query_tags_for_cost_attribution(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory(backend="databricks")
    result = env.run_range(WORKSPACES[0], env.scenario.start_date, env.last_day)
    tags = [{t["key"]: t.get("value") for t in s.query_tags} for s in env.sim.sql_statements()]
    bronze = [t for t in tags if t.get("genie_obs_sql") == "sql/audit/genie_audit_events.sql"]
    assert bronze, tags[:3]
    tag = bronze[0]
    assert tag["dagster_run_id"] == result.run_id
    assert tag["dagster_asset"] == "genie_audit_events"
    assert tag["dagster_partition"] == (f"{env.scenario.start_date}|{WORKSPACES[0]}...{env.last_day}|{WORKSPACES[0]}")
    assert tag["genie_obs_sql"] == "sql/audit/genie_audit_events.sql"


@pytest.mark.parametrize("inline_limit", [25 * 1024 * 1024, 2_000], ids=["inline-chunks", "external-links"])
def test_large_results_arrive_whole_and_typed(api_env_factory: Callable[..., ApiEnv], inline_limit: int) -> None:
    config = SimConfig(faults=NO_LIMIT, sql=SqlWarehouseConfig(chunk_rows=10, inline_limit_bytes=inline_limit))
    duck, bricks = api_env_factory(), api_env_factory(config=config, backend="databricks")
    for env in (duck, bricks):
        env.run_all()
    params = {"workspace_id": WORKSPACES[0], "start_date": duck.scenario.start_date, "end_date": duck.last_day,
              "space_ids": ""}
    with open_warehouse(duck.settings) as wh:
        want = wh.query("genie/messages_pending_fetch", params)
    got = warehouse_of(bricks).query("genie/messages_pending_fetch", params)
    assert want.num_rows > 30  # several chunks of 10
    assert got.schema == want.schema
    assert sorted(got.to_pylist(), key=repr) == sorted(want.to_pylist(), key=repr)
    # Over the inline limit the first attempt FAILS saying so, and the rows come through external links.
    failed = [s for s in bricks.sim.sql_statements() if s.state == "FAILED"]
    assert len(failed) == (0 if inline_limit > 2_000 else 1)


def test_replace_is_one_statement_and_exact(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory(backend="databricks")
    env.run_all()
    before = env.rows("SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events")[0][0]
    n_before = len(env.sim.sql_statements())
    wh = warehouse_of(env)
    day = env.scenario.start_date
    wh.replace("genie_audit_events", "audit/genie_audit_events",
               {"workspace_id": WORKSPACES[0], "start_date": day, "end_date": day,
                "ingestion_principal": env.settings.ingestion_principal.identity, "space_ids": ""},
               where={"workspace_id": WORKSPACES[0], "event_date": (day, day)})
    writes = [s for s in env.sim.sql_statements()[n_before:] if "genie_audit_events" in s.statement]
    assert len(writes) == 1 and "REPLACE WHERE" in writes[0].statement
    assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events")[0][0] == before


@pytest.mark.parametrize("rows", [3, 400], ids=["bound-values", "parquet-in-volume"])
def test_merge_rows_stages_small_batches_as_values_and_large_ones_as_parquet(
        api_env_factory: Callable[..., ApiEnv], rows: int) -> None:
    env = api_env_factory(backend="databricks")
    wh = warehouse_of(env)
    wh.ensure_schema()
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc)
    table = pa.table({
        "workspace_id": [WORKSPACES[0]] * rows, "message_id": [f"m{i:04d}" for i in range(rows)],
        "space_id": ["s"] * rows, "conversation_id": ["c"] * rows, "created_date": [now.date()] * rows,
        "created_timestamp": [i for i in range(rows)], "user_id": [None] * rows,
        "status": ["COMPLETED" if i % 2 else None for i in range(rows)], "listed_at": [now] * rows,
    }, schema=pa.schema([("workspace_id", pa.string()), ("message_id", pa.string()), ("space_id", pa.string()),
                         ("conversation_id", pa.string()), ("created_date", pa.date32()),
                         ("created_timestamp", pa.int64()), ("user_id", pa.int64()), ("status", pa.string()),
                         ("listed_at", pa.timestamp("us", tz="UTC"))]))
    table = table.select(wh.columns("genie_api_messages"))
    assert (rows * table.num_columns <= VALUES_MAX_PARAMS) == (rows == 3)
    n_before = len(env.sim.sql_statements())
    assert wh.merge_rows("genie_api_messages", table, ["workspace_id", "message_id"]) == rows
    wh.merge_rows("genie_api_messages", table, ["workspace_id", "message_id"])  # idempotent
    got = env.rows("SELECT message_id, created_date, created_timestamp, user_id, status, listed_at "
                   "FROM main.genie_analytics.genie_api_messages ORDER BY message_id")
    assert got == [(f"m{i:04d}", now.date(), i, None, "COMPLETED" if i % 2 else None, now) for i in range(rows)]
    texts = [s.statement for s in env.sim.sql_statements()[n_before:]]
    assert all(("read_files(" in t) == (rows == 400) for t in texts)
    assert not [p for p in env.sim.volumes.root.rglob("*.parquet")]


def test_leftovers_of_a_crashed_run_are_removed_by_the_next_run(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory(backend="databricks")
    wh = warehouse_of(env)
    wh.ensure_schema()
    # A run that died between upload and MERGE leaves its folder; one still in use is younger than the limit.
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    dead = f"{wh.stager.root}/{old.strftime('%Y%m%dT%H%M%SZ')}-{'a' * 32}"
    live = f"{wh.stager.root}/{dt.datetime.now(dt.timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{'b' * 32}"
    for folder in (dead, live):
        wh.client.files.upload(f"{folder}/__staged_messages.parquet", io.BytesIO(b"PAR1"), overwrite=True)
    forget_checked_schemas()
    warehouse_of(env).ensure_schema()
    left = sorted(p.parent.name for p in env.sim.volumes.root.rglob("*.parquet"))
    assert left == [live.rsplit("/", 1)[1]]


def test_a_failed_statement_names_file_table_and_databricks_error(api_env_factory: Callable[..., ApiEnv]) -> None:
    revoked = SqlGrants(frozenset({("MODIFY", "main.genie_analytics.genie_audit_events")}))
    env = api_env_factory(config=SimConfig(faults=NO_LIMIT, sql=SqlWarehouseConfig(grants=revoked)), backend="databricks")
    wh = warehouse_of(env)
    wh.ensure_schema()
    day = env.scenario.start_date
    with pytest.raises(WarehouseError) as err:
        wh.replace("genie_audit_events", "audit/genie_audit_events",
                   {"workspace_id": WORKSPACES[0], "start_date": day, "end_date": day,
                    "ingestion_principal": "x", "space_ids": ""},
                   where={"workspace_id": WORKSPACES[0], "event_date": (day, day)})
    text = str(err.value)
    assert "sql/audit/genie_audit_events.sql" in text and "main.genie_analytics.genie_audit_events" in text
    assert "FAILED" in text and "42501" in text and "INSUFFICIENT_PERMISSIONS" in text


def test_a_terminated_run_cancels_its_statement(api_env_factory: Callable[..., ApiEnv],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    config = SimConfig(faults=NO_LIMIT, sql=SqlWarehouseConfig(latency_s=60.0))
    env = api_env_factory(config=config, backend="databricks")
    base = warehouse_of(env)
    wh = DatabricksWarehouse(base.client, base.warehouse_id, base.names, base.volume, wait_timeout_s=0)

    def interrupted(_: float) -> None:  # Dagster raises this in the step when the run is terminated
        raise KeyboardInterrupt

    monkeypatch.setattr(statements_module.time, "sleep", interrupted)
    with pytest.raises(KeyboardInterrupt):
        wh.query("databricks/target_columns", {"schema": "genie_analytics"})
    (record,) = env.sim.sql_statements()
    assert record.state == "CANCELED"


def test_new_ddl_columns_are_added_without_dropping_data(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory(backend="databricks")
    engine = env.sim.sql_engine
    engine.execute("CREATE SCHEMA IF NOT EXISTS main.genie_analytics")
    # An older version of the table, without the last two columns, holding a row.
    cols = sqlmod.ddl_columns("genie_api_messages")
    old = ", ".join(column_ddl("genie_api_messages", c) for c in cols[:-2])
    engine.execute(f"CREATE TABLE main.genie_analytics.genie_api_messages ({old})")
    engine.execute("INSERT INTO main.genie_analytics.genie_api_messages (workspace_id, message_id, space_id, "
                   "conversation_id) VALUES ('1', 'm', 's', 'c')")
    warehouse_of(env).ensure_schema()
    assert env.rows("SELECT message_id, status FROM main.genie_analytics.genie_api_messages") == [("m", None)]
    found = env.rows("SELECT column_name FROM main.information_schema.columns WHERE table_schema = 'genie_analytics' "
                     "AND table_name = 'genie_api_messages' ORDER BY ordinal_position")
    assert [r[0] for r in found] == list(cols)
    texts = [s.statement for s in env.sim.sql_statements()]
    assert any("ADD COLUMNS" in t for t in texts) and not any("DROP" in t.upper() for t in texts)


def test_ensure_schema_costs_one_statement_once_everything_exists(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory(backend="databricks")
    warehouse_of(env).ensure_schema()
    forget_checked_schemas()
    n = len(env.sim.sql_statements())
    warehouse_of(env).ensure_schema()
    warehouse_of(env).ensure_schema()
    assert len(env.sim.sql_statements()) == n + 1


def test_parameters_are_typed() -> None:
    day, at = dt.date(2026, 3, 2), dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    got = api_parameters({"a": "x", "b": 3, "c": True, "d": day, "e": at, "f": None, "g": 1.5}, list("abcdefg"))
    assert got == [{"name": "a", "value": "x", "type": "STRING"}, {"name": "b", "value": "3", "type": "BIGINT"},
                   {"name": "c", "value": "true", "type": "BOOLEAN"}, {"name": "d", "value": "2026-03-02", "type": "DATE"},
                   {"name": "e", "value": "2026-03-02T08:30:00+00:00", "type": "TIMESTAMP"}, {"name": "f"},
                   {"name": "g", "value": "1.5", "type": "DOUBLE"}]
    with pytest.raises(WarehouseError, match=":h"):
        api_parameters({"h": object()}, ["h"])


def test_statements_are_split_outside_strings_and_comments() -> None:
    text = "SELECT ';' AS a; -- a comment; still\nSELECT 2 AS b;\n-- trailing comment only\n"
    assert split_statements(text) == ["SELECT ';' AS a", "-- a comment; still\nSELECT 2 AS b"]


def test_added_columns_are_nullable_with_their_comment() -> None:
    ddl = column_ddl("message_details", "fetch_attempts")
    assert ddl.startswith("fetch_attempts INT") and "NOT NULL" not in ddl and "COMMENT" in ddl


@pytest.mark.parametrize("rows", [2, 300], ids=["bound-values", "parquet-in-volume"])
def test_hostile_values_arrive_unchanged(api_env_factory: Callable[..., ApiEnv], rows: int) -> None:
    hostile = ["'); DROP TABLE main.genie_analytics.message_details; --", ":workspace_id", "a\nb\tc\\'\"`",
               "SELECT * FROM read_files('/etc/passwd')", "héllo ✓ 𝄞", ""]
    env = api_env_factory(backend="databricks")
    wh = warehouse_of(env)
    wh.ensure_schema()
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc)
    values = [hostile[i % len(hostile)] for i in range(rows)]
    table = pa.table({
        "workspace_id": [WORKSPACES[0]] * rows, "message_id": [f"m{i:04d}" for i in range(rows)],
        "space_id": values, "conversation_id": values[::-1], "created_date": [None] * rows,
        "created_timestamp": [None] * rows, "user_id": [-(2**63)] * rows, "status": values, "listed_at": [now] * rows,
    }, schema=pa.schema([("workspace_id", pa.string()), ("message_id", pa.string()), ("space_id", pa.string()),
                         ("conversation_id", pa.string()), ("created_date", pa.date32()),
                         ("created_timestamp", pa.int64()), ("user_id", pa.int64()), ("status", pa.string()),
                         ("listed_at", pa.timestamp("us", tz="UTC"))]))
    wh.merge_rows("genie_api_messages", table, ["workspace_id", "message_id"])
    got = env.rows("SELECT space_id, conversation_id, status, user_id FROM main.genie_analytics.genie_api_messages "
                   "ORDER BY message_id")
    assert got == [(v, w, v, -(2**63)) for v, w in zip(values, values[::-1], strict=True)]
    assert not any(v in s.statement for s in env.sim.sql_statements() for v in hostile if v)
    assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.message_details") == [(0,)]


def test_a_statement_past_its_time_limit_is_cancelled_with_a_clear_error(api_env_factory: Callable[..., ApiEnv]) -> None:
    config = SimConfig(faults=NO_LIMIT, sql=SqlWarehouseConfig(latency_s=600.0))
    env = api_env_factory(config=config, backend="databricks")
    base = warehouse_of(env)
    wh = DatabricksWarehouse(base.client, base.warehouse_id, base.names, base.volume, wait_timeout_s=0,
                             statement_timeout_s=0.5)
    with pytest.raises(WarehouseError, match=r"sql/databricks/target_columns.sql: statement .* still running after "
                                             r"0.5s; cancelled"):
        wh.query("databricks/target_columns", {"schema": "genie_analytics"})
    (record,) = env.sim.sql_statements()
    assert record.state == "CANCELED"
