"""Databricks-dialect SQL files render for DuckDB with mapped names and bound parameters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlglot

from genie_obs_dagster.warehouse import TableNames
from genie_obs_dagster.warehouse import sql as sqlmod
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse
from genie_obs_dagster.warehouse.naming import UnknownTableError

ALL_SQL = sorted(p.relative_to(sqlmod.SQL_DIR).with_suffix("").as_posix() for p in sqlmod.SQL_DIR.rglob("*.sql"))


@pytest.mark.parametrize("name", ALL_SQL)
def test_every_sql_file_is_databricks_sql_and_renders_for_duckdb(name: str) -> None:
    statements = sqlmod.parse_file(name)  # raises if it is not Databricks SQL
    rendered = DuckDBWarehouse(":memory:")._statements(name)
    assert len(rendered) == len(statements)
    for st in rendered:
        code = sqlglot.parse_one(st.sql, read="duckdb").sql(dialect="duckdb", comments=False)  # parses back
        assert "system.access" not in code and "main.genie_analytics" not in code


def test_logical_names_map_to_duckdb_schemas_and_params_bind() -> None:
    (st,) = DuckDBWarehouse(":memory:")._statements("audit/genie_audit_events")
    code = sqlglot.parse_one(st.sql, read="duckdb").sql(dialect="duckdb", comments=False)
    assert "system__access.audit" in code and "system__access.workspaces_latest" in code
    assert "$workspace_id" in code and ":workspace_id" not in code
    assert set(st.params) == {"workspace_id", "start_date", "end_date", "ingestion_principal", "space_ids"}
    bound = st.bind({"workspace_id": "1", "start_date": dt.date(2026, 1, 1), "end_date": dt.date(2026, 1, 2),
                     "ingestion_principal": "sp", "space_ids": "", "unused": 1})
    assert "unused" not in bound


def test_missing_parameter_is_named() -> None:
    (st,) = DuckDBWarehouse(":memory:")._statements("audit/genie_audit_events")
    with pytest.raises(sqlmod.SqlFileError, match=r"sql/audit/genie_audit_events.sql needs parameter\(s\) :end_date"):
        st.bind({"workspace_id": "1", "start_date": dt.date(2026, 1, 1), "ingestion_principal": "sp", "space_ids": ""})


def test_configured_target_and_source_names_are_used() -> None:
    names = TableNames.build("ops", "genie", "audit_copy.access.audit", "system.access.workspaces_latest",
                             "system.query.history")
    (st,) = DuckDBWarehouse(":memory:", names)._statements("audit/genie_messages_to_fetch")
    assert "ops__genie.genie_audit_events" in st.sql
    (st,) = DuckDBWarehouse(":memory:", names)._statements("audit/genie_audit_events")
    assert "audit_copy__access.audit" in st.sql


@pytest.mark.parametrize("bad", ["x;drop", "a b", "", "1abc"])
def test_identifiers_are_validated(bad: str) -> None:
    with pytest.raises(ValueError):
        TableNames.build(bad, "s", "system.access.audit", "system.access.workspaces_latest", "system.query.history")
    with pytest.raises(sqlmod.SqlFileError):
        sqlmod.ident(bad)


def test_unknown_three_part_names_and_two_part_names_are_rejected(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(":memory:")
    with pytest.raises(UnknownTableError, match="other.db.t is neither"):
        wh._generated("SELECT * FROM other.db.t", "t")
    with pytest.raises(sqlmod.SqlFileError, match="must be written catalog.schema.table"):
        wh._generated("SELECT * FROM genie_audit_events", "t")


def test_values_never_reach_sql_text() -> None:
    delete, insert, params = sqlmod.replace_text("genie_audit_events", ["event_id"], "SELECT 'x' AS event_id",
                                                 {"workspace_id": "1'; DROP TABLE t; --", "event_date": (1, 2)})
    assert "DROP" not in delete and ":w_workspace_id" in delete and ":w_event_date_lo" in delete
    assert params["w_workspace_id"] == "1'; DROP TABLE t; --"


def test_sql_file_names_are_validated() -> None:
    with pytest.raises(sqlmod.SqlFileError, match="not allowed"):
        sqlmod.sql_path("../etc/passwd")
    with pytest.raises(sqlmod.SqlFileError, match="does not exist"):
        sqlmod.sql_path("audit/nope")
