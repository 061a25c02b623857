"""Rows built in Python and the tables they are merged into agree, with the DDL as the one source.

``sql/ddl/target/<table>.sql`` declares a table's columns once. Row shaping takes its Arrow schema from it
(``sql.ddl_arrow_schema``) and checks every row it shapes has exactly those columns (``rows.conform``); the
staging code casts each staged Arrow column back to a Databricks type (``staging.sql_type``). What still names
columns, and why:

- ``message_row`` / ``error_row`` compute each column's value, so they name them: a column added to the DDL
  and not shaped (or shaped and not in the DDL) fails here and at run time, never lands as NULL.
- The MERGE files list their ``UPDATE SET`` columns, since each column has a rule (updated, accumulated,
  kept). Each file declares the columns it keeps on match (``-- Kept on match: ...``); every DDL column must be
  a key, an assignment or kept, so a column added to the DDL and forgotten in the MERGE fails here.

The tests on a changed DDL run on a copy of ``sql/`` (``SQL_DIR`` pointed at it), as a change would.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from sqlglot import exp

from genie_obs_dagster.genie import discovery, rows, spaces
from genie_obs_dagster.genie.errors import GenieApiError
from genie_obs_dagster.genie.rows import FetchOutcome, MessageRef, RowShapeError
from genie_obs_dagster.warehouse import sql as sqlmod
from genie_obs_dagster.warehouse.staging import sql_type

from .test_asset_checks_fail import changed_sql

TARGET_TABLES = [name.split("/")[-1] for name in sqlmod.ddl_files("ddl/target")]
# MERGEs of rows staged from Python into a target table (``USING __staged_...`` with ``INSERT *``).
STAGED_MERGES = [n for n in sqlmod.ddl_files("genie") if n.split("/")[-1].startswith("merge_")]
KEPT_RE = re.compile(r"^-- Kept on match: ([a-z0-9_]+(?:, [a-z0-9_]+)*)$", re.MULTILINE)
NOW = dt.datetime(2024, 5, 2, 10, 30, tzinfo=dt.timezone.utc)
# Schemas of staged rows still written out in code (genie/spaces.py, genie/discovery.py): held to the DDL.
WRITTEN_OUT = {
    "genie_space_details": lambda: spaces.SPACE_SCHEMA,
    "genie_space_config_history": lambda: spaces.HISTORY_SCHEMA,
    "genie_space_fetch_errors": lambda: spaces.SPACE_ERROR_SCHEMA,
    "genie_api_messages": lambda: discovery.API_MESSAGE_SCHEMA,
}


@pytest.fixture(autouse=True)
def _fresh_sql_cache() -> Iterator[None]:
    yield
    sqlmod.clear_caches()


def add_column(table: str, column: str = "reviewer_note STRING COMMENT 'A column new in the DDL'") -> Callable[[str], str]:
    """Insert ``column`` after the first column of ``table``'s CREATE TABLE."""
    def change(text: str) -> str:
        first = re.search(r"\(\n  [^\n]*,\n", text)
        assert first, f"sql/ddl/target/{table}.sql: no first column found"
        return text[:first.end()] + f"  {column},\n" + text[first.end():]
    return change


def outcome(**message: object) -> FetchOutcome:
    ref = MessageRef("ws1", "space1", "conv1", "msg1", dt.date(2024, 5, 1), "ann@example.com")
    body = {"id": "msg1", "space_id": "space1", "conversation_id": "conv1", "content": "How many orders?",
            "status": "COMPLETED", "created_timestamp": 1714559400000, "last_updated_timestamp": "1714559460000",
            "user_id": 42, "feedback": {"rating": "POSITIVE"},
            "attachments": [{"attachment_id": "a1", "query": {"query": "SELECT 1", "title": "Orders",
                                                              "statement_id": "st1",
                                                              "query_result_metadata": {"row_count": 3}}},
                            {"attachment_id": "a2", "text": {"content": "Three."}},
                            {"attachment_id": "a3", "suggested_questions": {"questions": ["And last week?"]}}],
            **message}
    user = {"userName": "ann", "displayName": "Ann", "emails": [{"value": "ann@example.com", "primary": True}]}
    return FetchOutcome(ref, NOW, 1, message=body, user=user)


def failed() -> FetchOutcome:
    return FetchOutcome(MessageRef("ws1", "space1", "conv1", "msg2", dt.date(2024, 5, 1)), NOW, 1,
                        error=GenieApiError("NOT_FOUND", "gone", 404))


# -- the Arrow schema is the DDL's ---------------------------------------------------------------------------

@pytest.mark.parametrize("table", TARGET_TABLES)
def test_every_ddl_type_is_staged_and_read_back_as_itself(table: str) -> None:
    """Each column's Arrow type is cast back (staging.sql_type) to the very type the DDL declares."""
    schema = sqlmod.ddl_arrow_schema(table)
    assert schema.names == list(sqlmod.ddl_columns(table))
    declared = {d.name: d.kind.sql(dialect="databricks").replace(" ", "") for d in _column_defs(table)}
    assert {f.name: sql_type(f.type) for f in schema} == declared
    assert all(f.nullable for f in schema), "NOT NULL is the table's to enforce"


def test_the_arrow_types_are_the_ones_rows_were_always_staged_with() -> None:
    """What lands in Parquet and in the VALUES casts does not change: the types rows.py used to spell out."""
    expected = {"STRING": pa.string(), "BIGINT": pa.int64(), "INT": pa.int32(), "BOOLEAN": pa.bool_(),
                "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us", tz="UTC"), "DOUBLE": pa.float64(),
                "DECIMAL(12, 2)": pa.decimal128(12, 2), "DECIMAL": pa.decimal128(10, 0)}
    for spark, arrow in expected.items():
        kind = exp.DataType.build(spark, dialect="databricks")
        assert sqlmod.arrow_type(kind) == arrow, spark
    with pytest.raises(sqlmod.SqlFileError, match="no Arrow type"):
        sqlmod.arrow_type(exp.DataType.build("ARRAY<STRING>", dialect="databricks"))


def test_row_schemas_are_the_ddl() -> None:
    assert rows.message_schema() == sqlmod.ddl_arrow_schema("message_details")
    assert rows.error_schema() == sqlmod.ddl_arrow_schema("message_fetch_errors")


@pytest.mark.parametrize("table", sorted(WRITTEN_OUT))
def test_schemas_written_out_in_code_match_the_ddl(table: str) -> None:
    """Names, order (DuckDB's INSERT * is positional) and types of the schemas not derived from the DDL yet."""
    assert WRITTEN_OUT[table]() == sqlmod.ddl_arrow_schema(table)


# -- row shaping produces exactly the DDL's columns ----------------------------------------------------------

def test_a_shaped_message_has_exactly_the_ddl_columns() -> None:
    o = rows.shape(outcome())
    assert o.error is None and o.row is not None
    assert set(rows.message_row(outcome())) == set(sqlmod.ddl_columns("message_details"))
    assert o.row.schema.names == list(sqlmod.ddl_columns("message_details"))
    messages, errors, resolved = rows.to_tables([o, failed()])
    assert messages.schema == sqlmod.ddl_arrow_schema("message_details") and messages.num_rows == 1
    assert errors.schema == sqlmod.ddl_arrow_schema("message_fetch_errors") and errors.num_rows == 1
    assert set(rows.error_row(failed())) == set(sqlmod.ddl_columns("message_fetch_errors"))
    assert resolved.num_rows == 1
    (row,) = messages.to_pylist()
    assert row["query_row_count"] == 3 and row["last_updated_timestamp"] == 1714559460000
    assert row["asker_user_name"] == "ann@example.com" and row["text_answer"] == "Three."


@pytest.mark.parametrize("table", ["message_details", "message_fetch_errors"])
def test_a_column_added_to_the_ddl_and_not_shaped_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                        table: str) -> None:
    changed_sql(monkeypatch, tmp_path, f"ddl/target/{table}", add_column(table))
    assert "reviewer_note" in sqlmod.ddl_arrow_schema(table).names
    with pytest.raises(RowShapeError, match=r"not shaped \['reviewer_note'\], not in the DDL none"):
        rows.to_tables([outcome(), failed()])


def test_a_column_shaped_and_not_in_the_ddl_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    changed_sql(monkeypatch, tmp_path, "ddl/target/message_details",
                lambda text: re.sub(r"\n  query_description STRING COMMENT '[^']*',", "", text))
    with pytest.raises(RowShapeError, match=r"not shaped none, not in the DDL \['query_description'\]"):
        rows.shape(outcome())


def test_a_malformed_answer_is_still_the_messages_error() -> None:
    """The shape check does not swallow API problems, nor API problems the shape check."""
    o = rows.shape(outcome(user_id=[1]))
    assert o.error is not None and o.error.error_type == "MALFORMED_RESPONSE" and o.row is None


# -- every MERGE of staged rows accounts for every DDL column ------------------------------------------------

def merge_problems(name: str) -> list[str]:
    """What is wrong with how ``sql/<name>.sql`` treats the columns of the table it merges into (empty: fine)."""
    text = sqlmod.file_text(name)
    (merge,) = sqlmod.parse_file(name)
    assert isinstance(merge, exp.Merge), f"sql/{name}.sql is not one MERGE"
    table = merge.this.name
    columns = list(sqlmod.ddl_columns(table))
    on = merge.args["on"]
    keys = [eq.this.name for eq in on.find_all(exp.EQ)]
    whens = merge.args["whens"].expressions
    (update,) = [w.args["then"] for w in whens if w.args.get("matched") and isinstance(w.args["then"], exp.Update)]
    inserts = [w.args["then"] for w in whens if not w.args.get("matched")]
    assigned = [eq.this.name for eq in update.expressions]
    found = KEPT_RE.findall(text)
    kept = found[0].split(", ") if len(found) == 1 else []
    problems = []
    if len(found) != 1:
        problems.append("needs one '-- Kept on match: a, b' line (the DDL columns not updated on match)")
    if not (len(inserts) == 1 and isinstance(inserts[0].this, exp.Star)):
        problems.append("inserts with something else than INSERT *")
    for what, names in (("a key", keys), ("updated", assigned), ("kept", kept)):
        unknown = [c for c in names if c not in columns]
        if unknown:
            problems.append(f"{what} but not in sql/ddl/target/{table}.sql: {unknown}")
    both = (set(keys) & set(assigned)) | (set(keys) & set(kept)) | (set(assigned) & set(kept))
    if both:
        problems.append(f"more than one of key, updated, kept: {sorted(both)}")
    forgotten = [c for c in columns if c not in {*keys, *assigned, *kept}]
    if forgotten:
        problems.append(f"neither a key, updated nor kept on match: {forgotten}")
    return problems


@pytest.mark.parametrize("name", STAGED_MERGES)
def test_a_staged_merge_accounts_for_every_ddl_column(name: str) -> None:
    assert merge_problems(name) == []


def test_a_column_added_to_the_ddl_and_not_in_the_merge_fails(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    changed_sql(monkeypatch, tmp_path, "ddl/target/message_details", add_column("message_details"))
    assert merge_problems("genie/merge_message_details") == [
        "neither a key, updated nor kept on match: ['reviewer_note']"]


def _column_defs(table: str) -> list[exp.ColumnDef]:
    (create,) = [s for s in sqlmod.parse_file(f"ddl/target/{table}") if isinstance(s, exp.Create)]
    return [c for c in create.this.expressions if isinstance(c, exp.ColumnDef)]
