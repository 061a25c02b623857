"""Spark's own SQL parser and analyzer judge every SQL file in sql/: evidence DuckDB cannot give.

Every file is Databricks SQL, but the embedded back end runs it on DuckDB after sqlglot rewrote it, so DuckDB
accepting a statement says nothing about Databricks. Databricks SQL is Spark SQL with extensions, and
open-source Spark's parser and analyzer are the closest judge that runs offline. This module starts one local
SparkSession (pyspark comes with dagster-databricks; it needs Java) and:

- parses every statement of every file as written: three-part names, DDL with COMMENT / CLUSTER BY,
  MERGE INTO ... INSERT *, named parameter markers; the MERGE files with their staged relation replaced by the
  ``read_files`` subquery the Databricks back end sends (parse only: read_files is Databricks-only);
- creates the system and target DDL as tables of the session catalog and checks Spark reads the same
  columns, comments and clustering keys as ``sql.ddl_columns`` / ``sql.ddl_column_comments`` (sqlglot);
- analyzes every query file against those tables with typed parameters, and for files that feed a table
  checks the result columns against the DDL (names, and Spark's own store-assignment rules via EXPLAIN INSERT);
- parses the INSERT ... REPLACE WHERE / INSERT OVERWRITE / MERGE statements generated around files for each
  ``wh.replace`` / ``wh.merge`` call of the assets (parse only: Delta operations, not in the session catalog).

Local translation is kept to what the session catalog needs, each noted where it happens: three-part names
become two-part ``catalog__schema.table`` (the embedded back end's convention), ``USING DELTA`` becomes
``USING parquet``. CLUSTER BY and COMMENT stay: the session catalog keeps them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from genie_obs_dagster.assets.evals import EVAL_MART
from genie_obs_dagster.assets.marts import MARTS, Mart
from genie_obs_dagster.assets.space_lifecycle import CHANGES_MART, DIFFS_TABLE
from genie_obs_dagster.dashboard.lakeview import bind_range
from genie_obs_dagster.lifecycle import conversations, evals
from genie_obs_dagster.lifecycle.promotion import tables_query
from genie_obs_dagster.warehouse import TableNames, Warehouse
from genie_obs_dagster.warehouse import sql as sqlmod


def _java_available() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    return shutil.which("java") is not None or bool(java_home and Path(java_home, "bin", "java").is_file())


if not _java_available():
    pytest.skip("Java is not installed (no `java` on PATH, no JAVA_HOME): pyspark cannot start a local Spark",
                allow_module_level=True)

from py4j.protocol import Py4JJavaError  # noqa: E402  (pyspark is a dependency of dagster-databricks)
from pyspark.errors.exceptions.captured import CapturedException  # noqa: E402
from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import types as T  # noqa: E402

ALL_SQL = sorted(p.relative_to(sqlmod.SQL_DIR).with_suffix("").as_posix() for p in sqlmod.SQL_DIR.rglob("*.sql"))
DDL = sqlmod.ddl_files("ddl/system") + sqlmod.ddl_files("ddl/target")
TARGET_TABLES = [name.split("/")[-1] for name in sqlmod.ddl_files("ddl/target")]
QUERY_FILES = [n for n in ALL_SQL if not n.startswith("ddl/") and len(sqlmod.parse_file(n)) == 1
               and isinstance(sqlmod.parse_file(n)[0], exp.Query)]
# Query files that read tables only Databricks has: parsed, not analyzed. Each says why.
PARSE_ONLY = {
    "databricks/target_columns": "reads main.information_schema.columns, which only Unity Catalog provides",
}
# Files whose rows are written into a target table by the assets: their result must fit the table's DDL.
# The lifecycle marts (assets/space_lifecycle.py, assets/evals.py) are built outside MARTS: listed here too.
LIFECYCLE_MARTS = (EVAL_MART, Mart(CHANGES_MART, (), (), ""))
FEEDS = {
    "audit/genie_audit_events": "genie_audit_events",
    "audit/genie_messages_to_fetch": "genie_messages_to_fetch",
    **{f"marts/{m.name}": m.name for m in (*MARTS, *LIFECYCLE_MARTS)},
}
# Rows built in Python and written with ``wh.merge_rows`` (a MERGE from the staged relation) by the lifecycle
# assets and commands: table -> its MERGE keys.
MERGED_ROWS = {
    conversations.TABLE: conversations.KEYS,
    DIFFS_TABLE: ("workspace_id", "space_id", "to_config_hash"),
    evals.RUNS_TABLE: evals.RUN_KEYS,
    evals.RESULTS_TABLE: evals.RESULT_KEYS,
}
# What the Databricks back end sends in place of a staged relation (rows uploaded as Parquet to a volume).
STAGED_SUBQUERY = "(SELECT * FROM read_files('/Volumes/main/genie_analytics/genie_obs_staging/x', format => 'parquet'))"

WORKSPACE = "1234567890123456"
# Typed values per parameter name, as the callers bind them (grep genie_obs_dagster/ for the file's name):
# Slice.params() gives the workspace id as str and the dates as datetime.date; space_filter(),
# automation.space_params() and the prune call join ids with commas into one str; the principal is a str.
PARAM_VALUES: dict[str, Any] = {
    "workspace_id": WORKSPACE,
    "start_date": dt.date(2026, 3, 2),
    "end_date": dt.date(2026, 3, 6),
    "ingestion_principal": "5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f",
    "space_ids": "01f0a1b2c3d4e5f60718293a4b5c6d7e,01f0a1b2c3d4e5f60718293a4b5c6d7f",
    "workspace_ids": f"{WORKSPACE},2345678901234567",
    "all_space_workspaces": "2345678901234567",
    "allowed_spaces": f"{WORKSPACE}/01f0a1b2c3d4e5f60718293a4b5c6d7e",
    # Lakeview's DATE RANGE parameter, as the product binds it outside Lakeview (lakeview.bind_range)
    "date_range_min": dt.date(2026, 3, 2),
    "date_range_max": dt.date(2026, 3, 6),
}


@dataclass(frozen=True)
class Generated:
    """One ``wh.replace`` / ``wh.merge`` call of the assets, as the Databricks back end turns it into SQL."""

    table: str
    sql_name: str
    where: dict[str, Any] | None = None  # replace: the slice it swaps ({} = the whole table)
    keys: tuple[str, ...] = ()  # merge: the ON keys

    @property
    def id(self) -> str:
        return f"{'merge' if self.keys else 'replace'}-{self.table}"


# assets/audit.py (genie_audit_events replace, genie_messages_to_fetch merge) and assets/marts.py rebuild()
# (each mart replaced whole, or per workspace for a per-workspace mart).
GENERATED = [
    Generated("genie_audit_events", "audit/genie_audit_events",
              where={"workspace_id": WORKSPACE, "event_date": (dt.date(2026, 3, 2), dt.date(2026, 3, 6))}),
    Generated("genie_messages_to_fetch", "audit/genie_messages_to_fetch", keys=("workspace_id", "message_id")),
    *[Generated(m.name, f"marts/{m.name}", where={"workspace_id": WORKSPACE} if m.per_workspace else {})
      for m in (*MARTS, *LIFECYCLE_MARTS)],
]


# -- helpers ------------------------------------------------------------------------------------------------
def file_text(name: str) -> str:
    return sqlmod.sql_path(name).read_text()


def statements_of(text: str) -> list[str]:
    """The statements of a file as written, split where sqlglot's Databricks tokenizer sees a ``;`` (so one
    inside a string or a comment does not split). Leading ``--`` comments are not part of a statement."""
    groups: list[list[Any]] = [[]]
    for token in Dialect.get_or_raise(sqlmod.SOURCE_DIALECT).tokenize(text):
        if token.token_type == TokenType.SEMICOLON:
            groups.append([])
        else:
            groups[-1].append(token)
    return [text[g[0].start:g[-1].end + 1] for g in groups if g]


def local_name(table: exp.Table) -> str:
    """``catalog.schema.table`` -> ``catalog__schema.table``: Spark's session catalog has one level of
    databases, not Unity Catalog's catalogs (same convention as the embedded DuckDB back end)."""
    if not table.catalog or not table.db:
        raise AssertionError(f"{table.sql()} is not a three-part name")
    return f"{TableNames.duckdb_schema(table.catalog, table.db)}.{table.name}"


def for_local_spark(text: str, source: str) -> str:
    """The text with names the session catalog has (see :func:`local_name`); nothing else changes."""
    return sqlmod.rewrite_tables(text, source, local_name)


def with_staged_subquery(text: str, source: str) -> str:
    """The staged relation replaced by the read_files subquery the Databricks back end sends."""
    def rename(table: exp.Table) -> str:  # the name only: rewrite_tables keeps the alias that follows it
        if table.name.startswith(sqlmod.STAGED_PREFIX):
            return STAGED_SUBQUERY
        return ".".join(part.sql(sqlmod.SOURCE_DIALECT) for part in table.parts)

    return sqlmod.rewrite_tables(text, source, rename)


def spark_parse(spark: SparkSession, text: str, source: str) -> Any:
    """Spark's own parser (no analysis): the plan, or a test failure quoting Spark's error."""
    try:
        return spark._jsparkSession.sessionState().sqlParser().parsePlan(text)
    except (CapturedException, Py4JJavaError) as exc:  # pyspark converts known JVM errors (ParseException)
        pytest.fail(f"{source}: Spark's parser rejects it: {exc}\n--- statement ---\n{text}")


def query_text(name: str) -> str:
    """The file's text as it runs: a Lakeview dataset with its ``:date_range.min/max`` as two DATE markers."""
    return bind_range(file_text(name)) if name.startswith("dashboards/lakeview/") else file_text(name)


def params_of(name: str) -> dict[str, Any]:
    """Typed values for every named parameter the file binds (a new name must be given a type above)."""
    names = {p.name for stmt in sqlmod.parse_text(query_text(name), f"sql/{name}.sql")
             for p in stmt.find_all(exp.Placeholder) if p.name}
    unknown = sorted(names - PARAM_VALUES.keys())
    assert not unknown, f"sql/{name}.sql binds {unknown}: add typed values to PARAM_VALUES (as the callers bind them)"
    return {n: PARAM_VALUES[n] for n in sorted(names)}


def analyzed(spark: SparkSession, text: str, args: dict[str, Any], source: str) -> DataFrame:
    """The query analyzed against the session catalog (spark.sql analyzes eagerly; nothing runs)."""
    try:
        df = spark.sql(text, args=args)
        df._jdf.queryExecution().assertAnalyzed()
    except Exception as exc:  # pyspark turns analyzer errors into AnalysisException and friends
        pytest.fail(f"{source}: Spark's analyzer rejects it: {exc}\n--- statement ---\n{text}")
    return df


def clustering_of(spark: SparkSession, table: str) -> list[str]:
    """Clustering columns the session catalog recorded (DESCRIBE TABLE EXTENDED, '# Clustering Information')."""
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED {table}").collect()
    names = [r.col_name for r in rows]
    if "# Clustering Information" not in names:
        return []
    keys = []
    for r in rows[names.index("# Clustering Information") + 1:]:
        if not r.col_name:
            break
        if not r.col_name.startswith("#"):
            keys.append(r.col_name)
    return keys


def ddl_cluster_keys(table: str) -> list[str]:
    (create,) = [s for s in sqlmod.parse_file(f"ddl/target/{table}") if isinstance(s, exp.Create)]
    prop = create.find(exp.ClusterProperty)
    return [c.name for c in prop.expressions] if prop is not None else []


# -- the session --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """One local Spark for the module (JVM start-up is the slow part): loopback only, no UI, one partition,
    an in-memory session catalog, ANSI mode on and UTC as on Databricks SQL warehouses."""
    tmp = tmp_path_factory.mktemp("spark")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPARK_LOCAL_IP", "127.0.0.1")  # no lookup of the host name, no listening beyond loopback
        session = (
            SparkSession.builder.master("local[1]")
            .appName("genie-obs-sql-fidelity")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.default.parallelism", "1")
            .config("spark.sql.ansi.enabled", "true")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.catalogImplementation", "in-memory")
            .config("spark.sql.warehouse.dir", str(tmp / "warehouse"))
            # A short-lived JVM: C1 only and the serial collector start faster and take less of a shared machine.
            .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
            .config("spark.driver.memory", "1g")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("FATAL")  # failures are reported by the tests themselves
        try:
            yield session
        finally:
            session.stop()


@pytest.fixture(scope="module")
def ddl_errors(spark: SparkSession) -> dict[str, str]:
    """sql/ddl/system and sql/ddl/target created as tables of the session catalog, so the analyzer can
    resolve against them; returns the files it rejected (file -> error), so one bad DDL fails its own test
    (and the queries reading that table) instead of every test of the module.

    USING DELTA -> USING parquet: Delta Lake is not on the local classpath (and fetching it would need the
    network). COMMENT and CLUSTER BY are kept: the session catalog records both (checked below)."""
    errors: dict[str, str] = {}
    for name in DDL:
        source = f"sql/{name}.sql"
        for text in statements_of(file_text(name)):
            local = for_local_spark(text, source).replace("USING DELTA", "USING parquet")
            try:
                table = sqlmod.parse_text(text, source)[0].find(exp.Table)
                assert table is not None, "no table"
                spark.sql(f"CREATE DATABASE IF NOT EXISTS {TableNames.duckdb_schema(table.catalog, table.db)}")
                spark.sql(local)
            except Exception as exc:  # reported by test_session_catalog_creates_every_table
                errors[name] = f"{exc}\n--- statement ---\n{local}"
    return errors


@pytest.fixture()
def tables(spark: SparkSession, ddl_errors: dict[str, str]) -> SparkSession:
    """The session, with the system and target tables created (as far as their DDL allowed)."""
    return spark


# -- tests --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL_SQL)
def test_spark_parses_every_statement(spark: SparkSession, name: str) -> None:
    """As written (names, USING DELTA, CLUSTER BY, COMMENT, :params); staged relations as read_files."""
    source = f"sql/{name}.sql"
    texts = statements_of(file_text(name))
    assert len(texts) == len(sqlmod.parse_file(name)), "the split finds the statements sqlglot parses"
    for text in texts:
        if any(t.name.startswith(sqlmod.STAGED_PREFIX) for s in sqlmod.parse_text(text, source)
               for t in s.find_all(exp.Table)):
            text = with_staged_subquery(text, source)
            assert "read_files(" in text and sqlmod.STAGED_PREFIX not in text
        spark_parse(spark, text, source)


@pytest.mark.parametrize("name", DDL)
def test_session_catalog_creates_every_table(ddl_errors: dict[str, str], name: str) -> None:
    """Spark's analyzer accepts the DDL (types, NOT NULL, COMMENT, CLUSTER BY on existing columns)."""
    assert name not in ddl_errors, f"sql/{name}.sql: the session catalog rejects it: {ddl_errors[name]}"


@pytest.mark.parametrize("table", TARGET_TABLES)
def test_spark_reads_the_ddl_like_sqlglot(tables: SparkSession, table: str) -> None:
    """Columns (in order), column comments and clustering keys as Spark stored them equal what the project's
    helpers read with sqlglot: the two parsers agree on the DDL Databricks will get."""
    local = f"main__genie_analytics.{table}"
    fields = tables.table(local).schema.fields
    assert [f.name for f in fields] == list(sqlmod.ddl_columns(table))
    assert {f.name: f.metadata.get("comment") for f in fields} == sqlmod.ddl_column_comments(table)
    assert clustering_of(tables, local) == ddl_cluster_keys(table)


@pytest.mark.parametrize("name", QUERY_FILES)
def test_spark_analyzes_every_query_file(tables: SparkSession, name: str) -> None:
    source = f"sql/{name}.sql"
    if name in PARSE_ONLY:
        pytest.skip(f"{source}: parsed only, {PARSE_ONLY[name]}")
    df = analyzed(tables, for_local_spark(query_text(name), source), params_of(name), source)
    assert df.schema.fields, f"{source} returns no column"
    assert len({f.name for f in df.schema.fields}) == len(df.schema.fields), f"{source} repeats a column name"


# Safe widenings on write (nothing lost): a narrower integer into a wider one, any integer or float into DOUBLE.
_INTEGRAL_WIDTH = {T.ByteType: 1, T.ShortType: 2, T.IntegerType: 4, T.LongType: 8}


def compatible(produced: T.DataType, column: T.DataType) -> bool:
    if produced == column or isinstance(produced, T.NullType):
        return True
    p, c = type(produced), type(column)
    if p in _INTEGRAL_WIDTH and c in _INTEGRAL_WIDTH:
        return _INTEGRAL_WIDTH[p] <= _INTEGRAL_WIDTH[c]
    return isinstance(column, T.DoubleType) and (p in _INTEGRAL_WIDTH or isinstance(produced, T.FloatType))


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_result_columns_fit_the_table_they_feed(tables: SparkSession, name: str) -> None:
    """The assets write ``SELECT <DDL columns> FROM (<file>)`` (by name), so every DDL column must come out of
    the file with a type that widens to the column's; Spark's own INSERT rules (ANSI store assignment, as on
    Databricks) must accept the write too."""
    table, source = FEEDS[name], f"sql/{name}.sql"
    local = f"main__genie_analytics.{table}"
    params = params_of(name)
    produced = {f.name: f.dataType for f in analyzed(tables, for_local_spark(file_text(name), source), params, source)
                .schema.fields}
    columns = {f.name: f.dataType for f in tables.table(local).schema.fields}
    assert sorted(produced) == sorted(columns), (
        f"{source} vs {table}: missing {sorted(columns.keys() - produced.keys())}, "
        f"extra {sorted(produced.keys() - columns.keys())}")
    bad = {c: f"{produced[c].simpleString()} -> {t.simpleString()}" for c, t in columns.items()
           if not compatible(produced[c], t)}
    assert not bad, f"{source} produces types that do not fit {table}: {bad}"
    # The INSERT the embedded back end runs (the Databricks one adds REPLACE WHERE): EXPLAIN analyzes and
    # plans it, applying Spark's write rules, without writing anything.
    _, insert, _ = sqlmod.replace_text(table, list(columns), sqlmod.body_of(name), {})
    plan = "\n".join(r.plan for r in tables.sql(f"EXPLAIN {for_local_spark(insert, source)}", args=params).collect())
    assert not plan.startswith("Error occurred"), f"Spark refuses to write {source} into {table}: {plan}"


@pytest.mark.parametrize("call", GENERATED, ids=lambda g: g.id)
def test_spark_parses_generated_writes(spark: SparkSession, call: Generated) -> None:
    """The single Delta statement the Databricks back end sends per ``wh.replace`` / ``wh.merge``: INSERT INTO
    ... REPLACE WHERE (a slice), INSERT OVERWRITE (a whole mart), MERGE INTO (silver). Parse only: REPLACE WHERE
    and MERGE need Delta tables, which the local session catalog does not have."""
    columns = sqlmod.ddl_columns(call.table)
    body = sqlmod.body_of(call.sql_name)
    if call.keys:
        text = sqlmod.merge_text(call.table, columns, call.keys, body)
        plan = spark_parse(spark, text, call.id)
        assert plan.getClass().getSimpleName() == "MergeIntoTable"
        return
    assert call.where is not None
    text, _ = sqlmod.replace_where_text(call.table, columns, body, call.where)
    plan = spark_parse(spark, text, call.id)
    assert plan.getClass().getSimpleName() == "InsertIntoStatement" and plan.overwrite()
    assert plan.replaceCriteriaOpt().isDefined() == bool(call.where), "REPLACE WHERE for a slice, OVERWRITE for all"
    assert plan.userSpecifiedCols().mkString(",") == ",".join(columns)


@pytest.mark.parametrize("table", sorted(MERGED_ROWS))
def test_spark_parses_merges_of_staged_rows(spark: SparkSession, table: str) -> None:
    """The MERGE ``wh.merge_rows`` sends for rows built in Python (generated conversations, config diffs, eval runs
    and results), with the staged relation as the Databricks back end's read_files subquery. Parse only (Delta)."""
    columns = sqlmod.ddl_columns(table)
    keys = MERGED_ROWS[table]
    assert set(keys) <= set(columns), f"{table}: merge keys {keys} are not all columns"
    text = sqlmod.merge_text(table, columns, keys, sqlmod.select_staged(Warehouse.STAGED_ROWS, columns))
    text = with_staged_subquery(text, f"merge rows into {table}")
    plan = spark_parse(spark, text, f"merge rows into {table}")
    assert plan.getClass().getSimpleName() == "MergeIntoTable"


def test_spark_parses_the_promotion_table_lookup(spark: SparkSession) -> None:
    """``genie-obs spaces promote`` asks Unity Catalog's information_schema which target tables exist (Python-built
    text: a validated catalog name, the schemas bound). Parse only: information_schema is Unity Catalog's."""
    text = tables_query("prod_sales")
    plan = spark_parse(spark, text, "promotion: target tables exist")
    assert "information_schema" in str(plan) and ":schemas" in text
