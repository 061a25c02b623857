"""The target DDL is documented Delta DDL: every column has a COMMENT, every table a comment and liquid
clustering keys that can work, and the embedded DuckDB back end still gets the same tables.

Why these rules: Unity Catalog shows column comments to everyone who browses the tables (and the Dagster UI
shows them as the column descriptions of each table asset, read through ``ddl_column_defs``: see
test_table_metadata.py), so an empty one is a gap in the product's documentation. Liquid clustering only prunes
files on columns Delta keeps statistics for (the first 32 columns by default,
``delta.dataSkippingNumIndexedCols``), on types it can cluster (not BOOLEAN or nested types), on at most 4
columns; a key that breaks one of these is rejected or useless on Databricks, and nothing local would notice.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from genie_obs_dagster.warehouse import sql as sqlmod
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

TARGET_TABLES = [name.split("/")[-1] for name in sqlmod.ddl_files("ddl/target")]
STATS_COLUMNS = 32  # Delta's default delta.dataSkippingNumIndexedCols: clustering keys need statistics
CLUSTERABLE = {exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP,
               exp.DataType.Type.TIMESTAMPNTZ, exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
               exp.DataType.Type.SMALLINT, exp.DataType.Type.TINYINT, exp.DataType.Type.DOUBLE,
               exp.DataType.Type.FLOAT, exp.DataType.Type.DECIMAL}


def create_of(table: str) -> exp.Create:
    (stmt,) = [s for s in sqlmod.parse_file(f"ddl/target/{table}") if isinstance(s, exp.Create)]
    assert isinstance(stmt, exp.Create)
    return stmt


def column_defs(table: str) -> list[exp.ColumnDef]:
    schema = create_of(table).this
    assert isinstance(schema, exp.Schema)
    return [c for c in schema.expressions if isinstance(c, exp.ColumnDef)]


def cluster_keys(table: str) -> list[str]:
    """CLUSTER BY columns of a target table as sqlglot reads them (empty when there is none)."""
    prop = create_of(table).find(exp.ClusterProperty)
    return [col.name for col in prop.expressions] if prop is not None else []


@pytest.mark.parametrize("table", TARGET_TABLES)
def test_every_column_and_table_has_a_comment(table: str) -> None:
    comments = sqlmod.ddl_column_comments(table)
    assert list(comments) == list(sqlmod.ddl_columns(table)), "every column, in DDL order, has a COMMENT"
    blank = [c for c, text in comments.items() if not text.strip()]
    assert not blank, f"empty COMMENT on {blank}"
    # Spark (and so Databricks) reads backslash escapes and joins adjacent literals; sqlglot may not agree.
    # Plain text keeps the comment Unity Catalog stores identical to the one ddl_column_comments returns.
    odd = {c: text for c, text in comments.items() if re.search(r"['\\;]", text)}
    assert not odd, f"comments with quotes, backslashes or semicolons: {odd}"
    table_comment = create_of(table).find(exp.SchemaCommentProperty)
    assert table_comment is not None and table_comment.this.name.strip(), "the table keeps its COMMENT"
    leftovers = [c.name for c in column_defs(table) if c.comments]
    assert not leftovers, f"columns still documented with -- comments instead of COMMENT: {leftovers}"


@pytest.mark.parametrize("table", TARGET_TABLES)
def test_every_table_is_clustered_on_usable_columns(table: str) -> None:
    keys = cluster_keys(table)
    columns = {c.name: (i, c) for i, c in enumerate(column_defs(table))}
    assert 1 <= len(keys) <= 4, f"CLUSTER BY needs 1 to 4 columns, has {keys}"
    assert len(set(keys)) == len(keys), f"repeated clustering key in {keys}"
    missing = [k for k in keys if k not in columns]
    assert not missing, f"CLUSTER BY names columns that do not exist: {missing}"
    for key in keys:
        position, col = columns[key]
        assert position < STATS_COLUMNS, f"{key} is column {position + 1}: Delta keeps no statistics for it"
        kind = col.args["kind"]
        assert isinstance(kind, exp.DataType) and kind.this in CLUSTERABLE, f"{key} has a type Delta cannot cluster"


@pytest.mark.parametrize("table", TARGET_TABLES)
def test_ddl_column_defs_read_names_types_comments_and_not_null(table: str) -> None:
    """What the Dagster UI shows of a table's columns agrees with the other readers of the same DDL."""
    cols = sqlmod.ddl_column_defs(table)
    assert tuple(c.name for c in cols) == sqlmod.ddl_columns(table)
    assert {c.name: c.comment for c in cols} == sqlmod.ddl_column_comments(table)
    assert [c.name for c in cols if c.not_null] == [c.name for c in column_defs(table) if c.find(exp.NotNullColumnConstraint)]
    assert [c.type for c in cols] == [c.args["kind"].sql(dialect="databricks") for c in column_defs(table)]


def test_ddl_column_comments_returns_a_fresh_dict() -> None:
    first = sqlmod.ddl_column_comments("genie_audit_events")
    first["event_id"] = "changed"
    assert sqlmod.ddl_column_comments("genie_audit_events")["event_id"] != "changed"


def test_duckdb_gets_the_same_tables_without_delta_clauses(tmp_path: Path) -> None:
    """sqlglot drops USING DELTA, CLUSTER BY and every COMMENT for DuckDB; the columns, their order, types and
    NOT NULL constraints must survive, or the embedded back end silently diverges from Databricks."""
    wh = DuckDBWarehouse(tmp_path / "ddl.duckdb")
    for table in TARGET_TABLES:
        (st,) = wh._statements(f"ddl/target/{table}")
        code = re.sub(r"/\*.*?\*/", "", st.sql)  # the header comments travel along as /* */ comments
        assert "CLUSTER" not in code.upper() and "COMMENT" not in code.upper() and "DELTA" not in code.upper()
    wh.ensure_schema()
    conn = duckdb.connect(str(tmp_path / "ddl.duckdb"), read_only=True)
    try:
        for table in TARGET_TABLES:
            rows = conn.execute(
                "SELECT column_name, is_nullable FROM information_schema.columns "
                "WHERE table_schema = 'main__genie_analytics' AND table_name = ? ORDER BY ordinal_position",
                [table]).fetchall()
            assert [r[0] for r in rows] == list(sqlmod.ddl_columns(table))
            not_null = [c.name for c in column_defs(table) if c.find(exp.NotNullColumnConstraint)]
            assert [r[0] for r in rows if r[1] == "NO"] == not_null
    finally:
        conn.close()
