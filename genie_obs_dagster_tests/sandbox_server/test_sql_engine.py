"""The simulated warehouse's SQL engine: Databricks SQL on DuckDB, failing the way Databricks fails."""
# ruff: noqa: S608 (statements are built from constants and the product's own SQL files)

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlglot import exp

from genie_obs_dagster.sandbox.server.sql_engine import SqlEngine
from genie_obs_dagster.sandbox.server.sql_types import (
    SqlFailure,
    SqlGrants,
    SqlWarehouseConfig,
    StatementResult,
)
from genie_obs_dagster.sandbox.server.volumes import VolumeStore
from genie_obs_dagster.warehouse import sql as sqlmod

T = "main.s.t"
PRODUCT_SCHEMAS = ("main.genie_analytics", "system.access", "system.query")
SELECT_FOLDERS = ("audit", "checks", "checks/marts", "genie", "marts", "dashboards", "automation")
PLAUSIBLE = {
    "workspace_id": ("1234567890123456", "STRING"), "start_date": ("2026-11-11", "DATE"),
    "end_date": ("2026-11-24", "DATE"), "ingestion_principal": ("sp-app-id", "STRING"), "space_ids": ("", "STRING"),
    "workspace_ids": ("1234567890123456,2345678901234567", "STRING"), "all_space_workspaces": ("1234567890123456", "STRING"),
    "allowed_spaces": ("2345678901234567/01ef0000000000000000000000000000", "STRING"),
}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[SqlEngine]:
    eng = SqlEngine(tmp_path / "warehouse.duckdb", VolumeStore(tmp_path / "volumes"), SqlWarehouseConfig())
    yield eng
    eng.close()


@pytest.fixture
def table(engine: SqlEngine) -> SqlEngine:
    """main.s.t (k, v, d) with rows a/2026-01-01, b/2026-01-01, c/2026-01-02."""
    engine.execute("CREATE SCHEMA main.s")
    engine.execute(f"CREATE TABLE {T} (k STRING NOT NULL COMMENT 'key', v BIGINT, d DATE) CLUSTER BY (d) COMMENT 'demo'")
    engine.execute(f"INSERT INTO {T} VALUES ('a', 1, DATE'2026-01-01'), ('b', 2, DATE'2026-01-01'), ('c', 3, DATE'2026-01-02')")
    return engine


def rows(engine: SqlEngine, sql: str, params: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return engine.execute(sql, params or []).table.to_pylist()


def failure(engine: SqlEngine, sql: str, params: list[dict[str, Any]] | None = None, **kw: Any) -> SqlFailure:
    with pytest.raises(SqlFailure) as info:
        engine.execute(sql, params or [], **kw)
    return info.value


def revoke(engine: SqlEngine, *pairs: tuple[str, str]) -> None:
    engine.config = dataclasses.replace(engine.config, grants=SqlGrants(revoked=frozenset(pairs)))


def counters(result: StatementResult) -> dict[str, int]:
    assert all(c.type_name == "LONG" for c in result.columns)
    return result.table.to_pylist()[0]


# -- writes --------------------------------------------------------------------------------------------------

def test_insert_returns_databricks_counters(table: SqlEngine) -> None:
    result = table.execute(f"INSERT INTO {T} (k, d) VALUES ('x', DATE'2026-02-01')")
    assert counters(result) == {"num_affected_rows": 1, "num_inserted_rows": 1}
    assert rows(table, f"SELECT v FROM {T} WHERE k = 'x'") == [{"v": None}]


def test_replace_where_replaces_exactly_the_predicates_rows(table: SqlEngine) -> None:
    day = [{"name": "day", "value": "2026-01-01", "type": "DATE"}]
    result = table.execute(f"INSERT INTO {T} REPLACE WHERE d = :day SELECT 'n', 9, :day", day)
    assert counters(result) == {"num_affected_rows": 1, "num_inserted_rows": 1}
    assert rows(table, f"SELECT k FROM {T} ORDER BY k") == [{"k": "c"}, {"k": "n"}]


def test_replace_where_is_all_or_nothing_on_mismatch(table: SqlEngine) -> None:
    err = failure(table, f"INSERT INTO {T} REPLACE WHERE d = DATE'2026-01-01' "
                  "SELECT * FROM VALUES ('n', 9, DATE'2026-01-01'), ('m', 8, DATE'2026-01-09') AS v(k, v, d)")
    assert (err.error_class, err.sql_state) == ("DELTA_REPLACE_WHERE_MISMATCH", "44000")
    assert rows(table, f"SELECT k FROM {T} ORDER BY k") == [{"k": "a"}, {"k": "b"}, {"k": "c"}]


def test_a_failed_write_changes_nothing(table: SqlEngine) -> None:
    err = failure(table, f"INSERT INTO {T} REPLACE WHERE d = DATE'2026-01-01' SELECT NULL, 1, DATE'2026-01-01'")
    assert (err.error_class, err.sql_state) == ("DELTA_NOT_NULL_CONSTRAINT_VIOLATED", "23502")
    assert len(rows(table, f"SELECT * FROM {T}")) == 3


def test_insert_overwrite_replaces_everything(table: SqlEngine) -> None:
    result = table.execute(f"INSERT OVERWRITE TABLE {T} SELECT 'z', 0, DATE'2026-03-01'")
    assert counters(result)["num_inserted_rows"] == 1
    assert rows(table, f"SELECT k FROM {T}") == [{"k": "z"}]


def test_merge_with_star_actions_and_counters(table: SqlEngine) -> None:
    result = table.execute(
        f"MERGE INTO {T} AS t USING (SELECT * FROM VALUES ('a', 10, DATE'2026-01-01'), ('q', 7, DATE'2026-01-05') "
        "AS v(k, v, d)) AS s ON t.k = s.k WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")
    assert counters(result) == {"num_affected_rows": 2, "num_updated_rows": 1, "num_deleted_rows": 0,
                                "num_inserted_rows": 1}
    assert rows(table, f"SELECT k, v FROM {T} ORDER BY k") == [
        {"k": "a", "v": 10}, {"k": "b", "v": 2}, {"k": "c", "v": 3}, {"k": "q", "v": 7}]


def test_merge_conditions_and_not_matched_by_source(table: SqlEngine) -> None:
    result = table.execute(
        f"MERGE INTO {T} AS t USING (SELECT 'a' AS k, 5 AS v) AS s ON t.k = s.k "
        "WHEN MATCHED AND s.v > t.v THEN UPDATE SET v = s.v WHEN NOT MATCHED BY SOURCE AND t.k = 'c' THEN DELETE")
    assert counters(result) == {"num_affected_rows": 2, "num_updated_rows": 1, "num_deleted_rows": 1,
                                "num_inserted_rows": 0}
    assert rows(table, f"SELECT k, v FROM {T} ORDER BY k") == [{"k": "a", "v": 5}, {"k": "b", "v": 2}]


def test_merge_with_several_source_rows_per_target_row_fails_and_changes_nothing(table: SqlEngine) -> None:
    err = failure(table, f"MERGE INTO {T} AS t USING (SELECT * FROM VALUES ('a', 10), ('a', 11), ('new', 1) AS v(k, v)) "
                  "AS s ON t.k = s.k WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT (k, v) VALUES (s.k, s.v)")
    assert (err.error_class, err.sql_state) == ("DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE", "21506")
    assert rows(table, f"SELECT k, v FROM {T} ORDER BY k") == [{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"k": "c", "v": 3}]


def test_insert_only_merge_allows_duplicate_matches(table: SqlEngine) -> None:
    result = table.execute(f"MERGE INTO {T} AS t USING (SELECT * FROM VALUES ('a'), ('a') AS v(k)) AS s ON t.k = s.k "
                           "WHEN NOT MATCHED THEN INSERT (k) VALUES (s.k)")
    assert counters(result)["num_affected_rows"] == 0


def test_delete_and_update(table: SqlEngine) -> None:
    assert counters(table.execute(f"DELETE FROM {T} WHERE d = DATE'2026-01-01'")) == {"num_affected_rows": 2}
    assert counters(table.execute(f"UPDATE {T} SET v = v + 1")) == {"num_affected_rows": 1}
    assert rows(table, f"SELECT k, v FROM {T}") == [{"k": "c", "v": 4}]


# -- DDL and information_schema ------------------------------------------------------------------------------

def test_information_schema_after_create_and_add_columns(table: SqlEngine) -> None:
    table.execute(f"ALTER TABLE {T} ADD COLUMNS (note STRING COMMENT 'free text', amount DECIMAL(12,2), "
                  "tags ARRAY<STRING>, seen TIMESTAMP)")
    table.execute(f"ALTER TABLE {T} ADD COLUMN extra INT")
    got = rows(table, "SELECT column_name, ordinal_position, data_type, full_data_type, is_nullable, comment "
               "FROM main.information_schema.columns WHERE table_schema = 's' AND table_name = 't' ORDER BY ordinal_position")
    assert got == [
        {"column_name": "k", "ordinal_position": 1, "data_type": "STRING", "full_data_type": "string", "is_nullable": "NO", "comment": "key"},
        {"column_name": "v", "ordinal_position": 2, "data_type": "LONG", "full_data_type": "bigint", "is_nullable": "YES", "comment": None},
        {"column_name": "d", "ordinal_position": 3, "data_type": "DATE", "full_data_type": "date", "is_nullable": "YES", "comment": None},
        {"column_name": "note", "ordinal_position": 4, "data_type": "STRING", "full_data_type": "string", "is_nullable": "YES", "comment": "free text"},
        {"column_name": "amount", "ordinal_position": 5, "data_type": "DECIMAL", "full_data_type": "decimal(12,2)", "is_nullable": "YES", "comment": None},
        {"column_name": "tags", "ordinal_position": 6, "data_type": "ARRAY", "full_data_type": "array<string>", "is_nullable": "YES", "comment": None},
        {"column_name": "seen", "ordinal_position": 7, "data_type": "TIMESTAMP", "full_data_type": "timestamp", "is_nullable": "YES", "comment": None},
        {"column_name": "extra", "ordinal_position": 8, "data_type": "INT", "full_data_type": "int", "is_nullable": "YES", "comment": None},
    ]
    assert rows(table, "SELECT table_schema, table_name, table_type, comment FROM main.information_schema.tables") == [
        {"table_schema": "s", "table_name": "t", "table_type": "MANAGED", "comment": "demo"}]
    assert rows(table, "SELECT count(*) AS n FROM system.information_schema.columns") == [{"n": 0}]


def test_add_columns_rules(table: SqlEngine) -> None:
    err = failure(table, f"ALTER TABLE {T} ADD COLUMNS (V INT)")
    assert (err.error_class, err.sql_state) == ("FIELDS_ALREADY_EXISTS", "42710")
    assert failure(table, f"ALTER TABLE {T} ADD COLUMN n INT NOT NULL").error_class == "DELTA_OPERATION_NOT_ALLOWED"
    assert failure(table, f"ALTER TABLE {T} RENAME COLUMN v TO w").error_class == "NOT_SUPPORTED_IN_SANDBOX"


def test_create_table_rules(table: SqlEngine) -> None:
    table.execute(f"CREATE TABLE IF NOT EXISTS {T} (other INT)")  # exists: nothing happens
    assert failure(table, f"CREATE TABLE {T} (k STRING)").error_class == "TABLE_OR_VIEW_ALREADY_EXISTS"
    err = failure(table, "CREATE TABLE main.s.u (a INT) CLUSTER BY (nope)")
    assert (err.error_class, err.sql_state) == ("DELTA_COLUMN_NOT_FOUND_IN_SCHEMA", "42703")
    assert failure(table, "CREATE TABLE main.nope.u (a INT)").error_class == "SCHEMA_NOT_FOUND"
    assert failure(table, "CREATE TABLE other.s.u (a INT)").sql_state == "42704"
    assert failure(table, "CREATE TABLE main.s.u (a VARIANT)").error_class == "NOT_SUPPORTED_IN_SANDBOX"
    assert failure(table, "CREATE TABLE main.s.u (a INT) LOCATION 's3://bucket/x'").error_class == "NOT_SUPPORTED_IN_SANDBOX"
    table.execute("CREATE TABLE main.s.types (a STRING, b BIGINT, c INT, d SMALLINT, e TINYINT, f BOOLEAN, g DATE, "
                  "h TIMESTAMP, i DOUBLE, j FLOAT, k DECIMAL(5,1), l DECIMAL, m ARRAY<INT>, n MAP<STRING, BIGINT>, "
                  "o STRUCT<x: INT, y: STRING>) USING DELTA TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')")
    table.execute("INSERT INTO main.s.types (h, l) VALUES (TIMESTAMP'2026-01-01 10:00:00', 12345)")
    result = table.execute("SELECT * FROM main.s.types")
    assert [(c.type_name, c.type_text) for c in result.columns] == [
        ("STRING", "STRING"), ("LONG", "BIGINT"), ("INT", "INT"), ("SHORT", "SMALLINT"), ("BYTE", "TINYINT"),
        ("BOOLEAN", "BOOLEAN"), ("DATE", "DATE"), ("TIMESTAMP", "TIMESTAMP"), ("DOUBLE", "DOUBLE"), ("FLOAT", "FLOAT"),
        ("DECIMAL", "DECIMAL(5,1)"), ("DECIMAL", "DECIMAL(10,0)"), ("ARRAY", "ARRAY<INT>"), ("MAP", "MAP<STRING, BIGINT>"),
        ("STRUCT", "STRUCT<x: INT, y: STRING>")]
    assert result.table.schema.field("h").type == pa.timestamp("us", tz="UTC")
    assert result.columns[10].type_precision == 5 and result.columns[10].type_scale == 1


def test_schema_and_volume_ddl(engine: SqlEngine) -> None:
    engine.execute("CREATE SCHEMA IF NOT EXISTS main.ops COMMENT 'ops'")
    engine.execute("CREATE SCHEMA IF NOT EXISTS main.ops")
    assert failure(engine, "CREATE SCHEMA main.ops").error_class == "SCHEMA_ALREADY_EXISTS"
    err = failure(engine, "CREATE SCHEMA nocat.ops")
    assert (err.error_class, err.sql_state) == ("NO_SUCH_CATALOG_EXCEPTION", "42704")
    engine.execute("CREATE VOLUME IF NOT EXISTS main.ops.staging COMMENT 'staged rows'")
    engine.execute("CREATE VOLUME IF NOT EXISTS main.ops.staging")
    assert engine.volumes.volume_exists("main", "ops", "staging")
    assert failure(engine, "CREATE VOLUME main.nope.staging").error_class == "SCHEMA_NOT_FOUND"


def test_drop_table_if_exists(table: SqlEngine) -> None:
    table.execute(f"DROP TABLE IF EXISTS {T}")
    table.execute(f"DROP TABLE IF EXISTS {T}")
    assert failure(table, f"SELECT * FROM {T}").error_class == "TABLE_OR_VIEW_NOT_FOUND"


# -- read_files ----------------------------------------------------------------------------------------------

def test_read_files_on_a_file_and_a_folder(table: SqlEngine) -> None:
    table.execute("CREATE VOLUME main.s.staging")
    folder = table.volumes.local_path("/Volumes/main/s/staging") / "batch"
    folder.mkdir()
    pq.write_table(pa.table({"k": ["a", "x"], "v": [100, 200]}), folder / "part-0.parquet")
    pq.write_table(pa.table({"k": ["y"], "v": [300]}), folder / "part-1.parquet")
    one = rows(table, "SELECT k, v FROM read_files('/Volumes/main/s/staging/batch/part-1.parquet', format => 'parquet')")
    assert one == [{"k": "y", "v": 300}]
    path = [{"name": "path", "value": "/Volumes/main/s/staging/batch"}]
    result = table.execute(f"MERGE INTO {T} AS t USING (SELECT k, v FROM read_files(:path, format => 'parquet')) AS s "
                           "ON t.k = s.k WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT (k, v) "
                           "VALUES (s.k, s.v)", path)
    assert counters(result)["num_updated_rows"] == 1 and counters(result)["num_inserted_rows"] == 2
    assert rows(table, f"SELECT sum(v) AS total FROM {T}") == [{"total": 100 + 2 + 3 + 200 + 300}]


def test_read_files_refuses_what_databricks_would_not_read(table: SqlEngine) -> None:
    table.execute("CREATE VOLUME main.s.staging")
    assert failure(table, "SELECT * FROM read_files('/Volumes/main/s/staging/none.parquet', format => 'parquet')").sql_state == "42K03"
    assert failure(table, "SELECT * FROM read_files('/Volumes/main/s/other/x.parquet', format => 'parquet')").sql_state == "42K03"
    assert failure(table, "SELECT * FROM read_files('/tmp/x.parquet', format => 'parquet')").error_class == "PATH_NOT_FOUND"
    assert failure(table, "SELECT * FROM read_files('/Volumes/main/s/staging', format => 'parquet')").error_class == "UNABLE_TO_INFER_SCHEMA"
    assert failure(table, "SELECT * FROM read_files('/Volumes/main/s/staging', format => 'csv')").error_class == "NOT_SUPPORTED_IN_SANDBOX"
    assert failure(table, "SELECT * FROM read_csv('/etc/passwd')").error_class == "NOT_SUPPORTED_IN_SANDBOX"


# -- parameters ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("type_", "value", "expected", "type_name"), [
    (None, "text", "text", "STRING"),
    ("STRING", None, None, None),
    ("BIGINT", "9007199254740993", 9007199254740993, "LONG"),
    ("LONG", "-5", -5, "LONG"),
    ("INT", "42", 42, "INT"),
    ("INTEGER", "42", 42, "INT"),
    ("SMALLINT", "-7", -7, "SHORT"),
    ("SHORT", "7", 7, "SHORT"),
    ("TINYINT", "8", 8, "BYTE"),
    ("BYTE", "-8", -8, "BYTE"),
    ("BOOLEAN", "TRUE", True, "BOOLEAN"),
    ("BOOLEAN", "false", False, "BOOLEAN"),
    ("DATE", "2026-11-24", dt.date(2026, 11, 24), "DATE"),
    ("TIMESTAMP", "2026-11-24T10:00:00+02:00", dt.datetime(2026, 11, 24, 8, tzinfo=dt.timezone.utc), "TIMESTAMP"),
    ("TIMESTAMP", "2026-11-24T10:00:00Z", dt.datetime(2026, 11, 24, 10, tzinfo=dt.timezone.utc), "TIMESTAMP"),
    ("TIMESTAMP", "2026-11-24 10:00:00.123456", dt.datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=dt.timezone.utc), "TIMESTAMP"),
    ("DOUBLE", "2.5", 2.5, "DOUBLE"),
    ("FLOAT", "0.5", 0.5, "FLOAT"),
    ("DECIMAL(10,2)", "3.14159", decimal.Decimal("3.14"), "DECIMAL"),
    ("DECIMAL", "12", decimal.Decimal("12"), "DECIMAL"),
    ("BIGINT", None, None, "LONG"),
    ("DATE", None, None, "DATE"),
])
def test_parameter_types(engine: SqlEngine, type_: str | None, value: str | None, expected: Any, type_name: str | None) -> None:
    param: dict[str, Any] = {"name": "p"}
    if type_ is not None:
        param["type"] = type_
    if value is not None:
        param["value"] = value
    result = engine.execute("SELECT :p AS p", [param])
    got = result.table.to_pylist()[0]["p"]
    if isinstance(got, dt.datetime):
        got = got.astimezone(dt.timezone.utc)
    assert got == expected
    if type_name is not None:
        assert result.columns[0].type_name == type_name


def test_string_parameters_compare_with_dates(table: SqlEngine) -> None:
    params = [{"name": "lo", "value": "2026-01-01"}, {"name": "hi", "value": "2026-01-01"}, {"name": "unused", "value": "x"}]
    assert len(rows(table, f"SELECT k FROM {T} WHERE d BETWEEN :lo AND :hi", params)) == 2


@pytest.mark.parametrize(("type_", "value"), [
    ("BIGINT", "12x"), ("INT", "3000000000"), ("TINYINT", "128"), ("BOOLEAN", "yes"), ("DATE", "24/11/2026"),
    ("DATE", "2026-13-01"), ("TIMESTAMP", "yesterday"), ("DOUBLE", "two"), ("DECIMAL(3,1)", "1234.5"), ("INTERVAL", "1"),
])
def test_bad_parameter_values_name_the_parameter(engine: SqlEngine, type_: str, value: str) -> None:
    err = failure(engine, "SELECT :start_day AS d", [{"name": "start_day", "value": value, "type": type_}])
    assert err.sql_state == "22023" and "`start_day`" in str(err)


def test_long_bad_values_are_not_echoed(engine: SqlEngine) -> None:
    err = failure(engine, "SELECT :n AS n", [{"name": "n", "value": "9" * 500, "type": "INT"}])
    assert "9" * 100 not in str(err)


def test_parameter_markers_databricks_rejects(engine: SqlEngine) -> None:
    err = failure(engine, "SELECT :missing AS m", [{"name": "other", "value": "1"}])
    assert (err.error_class, err.sql_state) == ("UNBOUND_SQL_PARAMETER", "42P02")
    assert failure(engine, "SELECT ? AS m", [{"name": "m", "value": "1"}]).sql_state == "42P02"
    assert failure(engine, "SELECT $m AS m", [{"name": "m", "value": "1"}]).sql_state == "42601"
    assert failure(engine, "SELECT :m AS m", [{"name": "m", "value": "1"}, {"name": "m", "value": "2"}]).sql_state == "22023"


def test_current_user_is_the_principal(engine: SqlEngine) -> None:
    assert engine.execute("SELECT current_user() AS u", principal="sp-app-id").table.to_pylist() == [{"u": "sp-app-id"}]


# -- names, grants and errors --------------------------------------------------------------------------------

def test_short_names_use_the_requests_catalog_and_schema(table: SqlEngine) -> None:
    assert len(table.execute("SELECT * FROM t", catalog="main", schema="s").table) == 3
    assert len(table.execute("SELECT * FROM S.T", catalog="MAIN").table) == 3
    assert failure(table, "SELECT * FROM t").error_class == "TABLE_OR_VIEW_NOT_FOUND"
    assert failure(table, "SELECT * FROM s.t").error_class == "TABLE_OR_VIEW_NOT_FOUND"
    assert failure(table, "SELECT 1", catalog="nope").error_class == "NO_SUCH_CATALOG_EXCEPTION"


@pytest.mark.parametrize(("sql", "error_class", "sql_state"), [
    ("SELECT * FROM main.s.nope", "TABLE_OR_VIEW_NOT_FOUND", "42P01"),
    ("SELECT * FROM main.nope.t", "TABLE_OR_VIEW_NOT_FOUND", "42P01"),
    ("SELECT * FROM nocat.s.t", "TABLE_OR_VIEW_NOT_FOUND", "42P01"),
    ("SELECT * FROM main.information_schema.nope", "TABLE_OR_VIEW_NOT_FOUND", "42P01"),
    ("SELECT nope FROM main.s.t", "UNRESOLVED_COLUMN.WITH_SUGGESTION", "42703"),
    ("SELECT CAST('x' AS INT) AS n", "CAST_INVALID_INPUT", "22018"),
    ("SELECT 1 / 0 AS n", "DIVIDE_BY_ZERO", "22012"),
    ("SELEC 1", "PARSE_SYNTAX_ERROR", "42601"),
    ("SELECT 1; SELECT 2", "PARSE_SYNTAX_ERROR", "42601"),
    ("   ", "PARSE_SYNTAX_ERROR", "42601"),
    ("SELECT no_such_function(1)", "UNRESOLVED_ROUTINE", "42883"),
    ("INSERT INTO main.s.t VALUES ('only one')", "INSERT_COLUMN_ARITY_MISMATCH", "21S01"),
    ("INSERT INTO main.s.t VALUES (NULL, 1, NULL)", "DELTA_NOT_NULL_CONSTRAINT_VIOLATED", "23502"),
    ("GRANT SELECT ON TABLE main.s.t TO `x`", "NOT_SUPPORTED_IN_SANDBOX", "0A000"),
])
def test_error_classes(table: SqlEngine, sql: str, error_class: str, sql_state: str) -> None:
    err = failure(table, sql)
    assert (err.error_class, err.sql_state) == (error_class, sql_state)
    assert str(err).startswith(f"[{error_class}] ") and str(err).endswith(f"SQLSTATE: {sql_state}")


@pytest.mark.parametrize(("privilege", "securable", "sql", "kind"), [
    ("SELECT", "main.s.t", f"SELECT * FROM {T}", "Table"),
    ("MODIFY", "main.s.t", f"INSERT INTO {T} (k) VALUES ('x')", "Table"),
    ("MODIFY", "main.s.t", f"MERGE INTO {T} AS t USING (SELECT 'x' AS k) AS s ON t.k = s.k WHEN NOT MATCHED THEN INSERT (k) VALUES (s.k)", "Table"),
    ("MODIFY", "main.s.t", f"ALTER TABLE {T} ADD COLUMNS (n INT)", "Table"),
    ("MODIFY", "main.s.t", f"INSERT OVERWRITE {T} SELECT * FROM {T}", "Table"),
    ("SELECT", "main.s.t", f"INSERT INTO main.s.u SELECT k FROM {T}", "Table"),
    ("CREATE TABLE", "main.s", "CREATE TABLE main.s.new_table (a INT)", "Schema"),
    ("CREATE SCHEMA", "main", "CREATE SCHEMA main.new_schema", "Catalog"),
    ("CREATE VOLUME", "main.s", "CREATE VOLUME main.s.new_volume", "Schema"),
    ("USE CATALOG", "main", f"SELECT * FROM {T}", "Catalog"),
    ("USE SCHEMA", "main.s", f"SELECT * FROM {T}", "Schema"),
    ("USE CATALOG", "main", "SELECT * FROM main.information_schema.tables", "Catalog"),
    ("READ VOLUME", "main.s.staging", "SELECT * FROM read_files('/Volumes/main/s/staging/a.parquet', format => 'parquet')", "Volume"),
])
def test_revoked_grants_fail_insufficient_permissions(table: SqlEngine, privilege: str, securable: str, sql: str, kind: str) -> None:
    table.execute("CREATE TABLE main.s.u (k STRING)")
    table.execute("CREATE VOLUME main.s.staging")
    pq.write_table(pa.table({"a": [1]}), table.volumes.local_path("/Volumes/main/s/staging") / "a.parquet")
    table.execute(sql.replace("new_", "before_") if privilege.startswith("CREATE") else "SELECT 1")  # allowed before
    revoke(table, (privilege, securable))
    err = failure(table, sql)
    assert (err.error_class, err.sql_state) == ("INSUFFICIENT_PERMISSIONS", "42501")
    assert f"User does not have {privilege} on {kind} '{securable}'" in str(err)


def test_existing_objects_need_no_create_grant(table: SqlEngine) -> None:
    revoke(table, ("CREATE TABLE", "main.s"), ("CREATE SCHEMA", "main"))
    table.execute(f"CREATE TABLE IF NOT EXISTS {T} (k STRING)")
    table.execute("CREATE SCHEMA IF NOT EXISTS main.s")


# -- running ---------------------------------------------------------------------------------------------------

def test_cancel_interrupts_a_running_statement(table: SqlEngine) -> None:
    started, outcome = threading.Event(), {}

    def run() -> None:
        try:
            table.execute("WITH n AS (SELECT explode(sequence(1, 100000)) AS x) "
                          "SELECT sum(a.x * b.x * c.x) AS s FROM n AS a CROSS JOIN n AS b CROSS JOIN n AS c",
                          statement_id="long", on_start=started.set)
        except SqlFailure as exc:
            outcome["failure"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(60)
    assert table.cancel("long")
    worker.join(60)
    assert not worker.is_alive()
    assert outcome["failure"].error_class == "OPERATION_CANCELED"
    assert not table.cancel("long")
    assert len(rows(table, f"SELECT * FROM {T}")) == 3  # the connection still works


def test_load_arrow_inserts_by_name(table: SqlEngine) -> None:
    assert table.load_arrow(("MAIN", "s", "t"), pa.table({"d": [dt.date(2026, 5, 1)], "k": ["loaded"]})) == 1
    assert rows(table, f"SELECT v, d FROM {T} WHERE k = 'loaded'") == [{"v": None, "d": dt.date(2026, 5, 1)}]
    with pytest.raises(SqlFailure, match="TABLE_OR_VIEW_NOT_FOUND"):
        table.load_arrow(("main", "s", "nope"), pa.table({"k": ["x"]}))


# -- the product's own SQL -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlEngine]:
    """The product's schemas and tables, created once from its DDL files through the engine."""
    root = tmp_path_factory.mktemp("product")
    engine = SqlEngine(root / "warehouse.duckdb", VolumeStore(root / "volumes"), SqlWarehouseConfig())
    for schema in PRODUCT_SCHEMAS:
        engine.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for name in sqlmod.ddl_files("ddl/system") + sqlmod.ddl_files("ddl/target"):
        engine.execute(sqlmod.sql_path(name).read_text())
    yield engine
    engine.close()


def _select_files() -> list[str]:
    names = [n for folder in SELECT_FOLDERS for n in sqlmod.ddl_files(folder)]
    return [n for n in names if len(sqlmod.parse_file(n)) == 1 and isinstance(sqlmod.parse_file(n)[0], exp.Query)]


def _params_for(text: str) -> list[dict[str, Any]]:
    names = {p.name for stmt in sqlmod.parse_text(text) for p in stmt.find_all(exp.Placeholder)}
    return [{"name": n, "value": PLAUSIBLE[n][0], "type": PLAUSIBLE[n][1]} for n in sorted(names)]


@pytest.mark.parametrize("name", _select_files())
def test_every_product_select_runs(product: SqlEngine, name: str) -> None:
    text = sqlmod.sql_path(name).read_text()
    product.execute(text, _params_for(text), principal="sp-app-id")


def test_product_writes_run_as_the_databricks_back_end_would_send_them(product: SqlEngine) -> None:
    audit = sqlmod.body_of("audit/genie_audit_events")
    cols = ", ".join(sqlmod.ddl_columns("genie_audit_events"))
    text = (f"INSERT INTO main.genie_analytics.genie_audit_events REPLACE WHERE workspace_id = :workspace_id "
            f"AND event_date BETWEEN :start_date AND :end_date SELECT {cols} FROM ({audit}) AS src")
    product.execute(text, _params_for(text))
    for mart in (n for n in sqlmod.ddl_files("marts") if n in _select_files()):
        table = mart.split("/")[1]
        cols = ", ".join(sqlmod.ddl_columns(table))
        text = f"INSERT OVERWRITE main.genie_analytics.{table} SELECT {cols} FROM ({sqlmod.body_of(mart)}) AS src"
        product.execute(text, _params_for(text))
    prune = sqlmod.sql_path("marts/prune_pipeline_health").read_text()
    product.execute(prune, _params_for(prune))
