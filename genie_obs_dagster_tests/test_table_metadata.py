"""What a person reads in the Dagster UI about every table asset: the columns (from the DDL, with their comments),
the configured table name, the SQL and Python files behind it, and the rows each materialization wrote.

The definitions are checked directly; then the graph is materialized once on the embedded default (against a
simulated workspace, with a non-default target catalog and schema) and the UI's own GraphQL API is queried
in-process for every table asset, as the asset page would; last, each partition's ``dagster/row_count`` is
compared with the rows that partition owns in the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.test_utils import in_process_test_workspace
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster_graphql.test.utils import execute_dagster_graphql
from sqlglot import exp

import genie_obs_dagster
from genie_obs_dagster.assets.dashboard import dashboard_path
from genie_obs_dagster.assets.marts import MARTS
from genie_obs_dagster.code_location import build_definitions
from genie_obs_dagster.partitions import partition_key
from genie_obs_dagster.sandbox.server import SimConfig, SimulatedDatabricks, WorkspaceFaults
from genie_obs_dagster.warehouse import sql as sqlmod

from .conftest import START, WORKSPACES, ApiEnv, make_scenario, make_settings
from .test_ddl_metadata import TARGET_TABLES, column_defs

CATALOG, SCHEMA = "obs_catalog", "genie_ui"  # not the defaults: the names shown must follow the settings
TARGET = {"catalog": CATALOG, "schema": SCHEMA}
DASHBOARD = "genie_dashboard_html"
# Every asset that writes a warehouse table, named like its table.
TABLE_ASSETS = ("genie_audit_events", "genie_messages_to_fetch", "message_details", "message_fetch_errors",
                "genie_space_details", "genie_api_messages", *(m.name for m in MARTS),
                # space lifecycle (issue 14): generated test conversations, configuration changes, eval runs
                "generated_conversations", "mart_space_config_changes", "genie_eval_runs", "mart_eval_accuracy")
FILE_ASSETS = (DASHBOARD, "genie_space_backups")  # they write files, not tables
# The world fixture materializes every table asset but the generated conversations (they need a test-asker service
# principal in the simulated workspace: test_generated_conversations.py runs them).
NOT_MATERIALIZED_HERE = ("generated_conversations",)
EVALS_ON = {"evals": {}}  # the eval-run assets exist only with an `evals` section
PACKAGE_DIR = Path(genie_obs_dagster.__file__).resolve().parent


def ddl_schema(table: str) -> list[tuple[str, str, str, bool]]:
    """(name, type, comment, nullable) of every column, read from the DDL here (not through the code under test)."""
    out = []
    for col in column_defs(table):
        comment = col.find(exp.CommentColumnConstraint)
        out.append((col.name, col.args["kind"].sql(dialect="databricks"), comment.this.name if comment else "",
                    col.find(exp.NotNullColumnConstraint) is None))
    return out


# -- the definitions ---------------------------------------------------------------------------------------------


def test_every_table_asset_defines_its_columns_configured_name_and_files(tmp_path: Path) -> None:
    defs = build_definitions(make_settings(tmp_path / "wh.duckdb", target=TARGET, **EVALS_ON))
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == {*TABLE_ASSETS, *FILE_ASSETS}
    written: set[str] = set()
    for name in TABLE_ASSETS:
        metadata = graph.get(dg.AssetKey(name)).metadata
        assert name in TARGET_TABLES, f"{name} has no DDL in sql/ddl/target"

        schema = metadata["dagster/column_schema"]
        assert isinstance(schema, dg.TableSchema), name
        got = [(c.name, c.type, c.description, c.constraints.nullable) for c in schema.columns]
        assert got == ddl_schema(name), name
        assert all(c.description and c.description.strip() for c in schema.columns), f"{name}: a column without a comment"
        assert any(not c.constraints.nullable for c in schema.columns), f"{name}: NOT NULL keys are shown"

        assert metadata["dagster/table_name"] == f"{CATALOG}.{SCHEMA}.{name}"
        assert metadata["duckdb_table"] == f"{CATALOG}__{SCHEMA}.{name}"
        also = [t.rsplit(".", 1)[1] for t in metadata.get("also_writes", "").split(", ") if t]
        written |= {name, *also}

        refs = metadata["dagster/code_references"].code_references
        files = [Path(r.file_path) for r in refs]
        assert all(p.is_absolute() and p.is_file() for p in files), f"{name}: {files}"
        sql_files = [p for p in files if p.suffix == ".sql"]
        assert all(p.is_relative_to(sqlmod.SQL_DIR.resolve()) for p in sql_files), name
        ddl = [sqlmod.sql_path(f"ddl/target/{t}").resolve() for t in (name, *also)]
        assert sql_files[:len(ddl)] == ddl, f"{name}: the DDL comes first"
        builders = sql_files[len(ddl):]
        assert any(f"main.genie_analytics.{name}" in p.read_text() for p in builders), \
            f"{name}: no referenced SQL file besides the DDL names the table: {builders}"
        assert all(r.label == f"sql/{p.relative_to(sqlmod.SQL_DIR.resolve()).as_posix()}"
                   for r, p in zip(refs, files, strict=True) if p.suffix == ".sql"), name
        python = [r for r in refs if r.file_path.endswith(".py")]
        assert len(python) == 1 and Path(python[0].file_path).is_relative_to(PACKAGE_DIR / "assets"), name
        assert python[0].line_number, name
    assert written == set(TARGET_TABLES), "every target table is shown by the asset that writes it"


def test_the_dashboard_shows_where_it_is_written_and_its_queries(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "wh.duckdb", target=TARGET)
    metadata = build_definitions(settings).resolve_asset_graph().get(dg.AssetKey(DASHBOARD)).metadata
    assert "dagster/column_schema" not in metadata and "dagster/table_name" not in metadata  # a file, not a table
    assert metadata["dagster/uri"] == dashboard_path(settings).as_uri()
    files = [Path(r.file_path) for r in metadata["dagster/code_references"].code_references]
    assert all(p.is_file() for p in files)
    assert {p.stem for p in files if p.suffix == ".sql"} == {p.stem for p in (sqlmod.SQL_DIR / "dashboards").glob("*.sql")}


# -- the UI after one materialization of the graph --------------------------------------------------------------

# What the in-process code location of the GraphQL test loads (set by the ``world`` fixture).
UI_DEFINITIONS: dg.Definitions | None = None

UI_QUERY = """
{ assetNodes {
    assetKey { path }
    metadataEntries {
      __typename label
      ... on TextMetadataEntry { text }
      ... on TableSchemaMetadataEntry { schema { columns { name type description constraints { nullable } } } }
      ... on CodeReferencesMetadataEntry { codeReferences { ... on LocalFileCodeReference { filePath label } } }
    }
    assetMaterializations(limit: 1) {
      partition
      metadataEntries { __typename label ... on IntMetadataEntry { intValue } ... on PathMetadataEntry { path } }
    }
} }"""


# The instance of the runs and of the UI's workspace context: a persistent one (a workspace context, as the webserver
# builds, refuses an ephemeral instance) whose event log stays in memory, which halves the runs' time against the
# sqlite default. The code location is in-process, so the UI reads the same events the runs wrote.
IN_MEMORY_EVENTS = {"event_log_storage": {"module": "dagster._core.storage.event_log.in_memory",
                                         "class": "InMemoryEventLogStorage"}}


@dataclass
class World:
    env: ApiEnv
    workspace: str
    days: tuple[dt.date, ...]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One workspace ingested over two days, its spaces refreshed, the marts and dashboard built. One of its spaces
    is deleted (its messages and the space itself fail with 404: the error tables get rows). Every message is also
    seen in the audit log, so the API cross-check adds no row to message_details after the fetch counted them."""
    global UI_DEFINITIONS
    scenario = make_scenario(days=2, questions_per_day=6, spaces_per_workspace=2, unpolled_api_fraction=0.0)
    ws = WORKSPACES[0]
    deleted = next(s for s in scenario.spaces if s.workspace_id == ws)
    faults = {ws: WorkspaceFaults(requests_per_second=None, deleted_space_ids=frozenset({deleted.space_id}))}
    sim = SimulatedDatabricks(scenario, SimConfig(faults=WorkspaceFaults(requests_per_second=None), workspace_faults=faults))
    sim.start()
    mp = pytest.MonkeyPatch()
    try:
        home = str(tmp_path_factory.mktemp("dagster_home"))
        with dg.instance_for_test(temp_dir=home, overrides=IN_MEMORY_EVENTS) as instance:
            env = ApiEnv(tmp_path_factory.mktemp("table_metadata"), scenario, sim, mp, target=TARGET, **EVALS_ON)
            env.instance = instance
            days = (START, START + dt.timedelta(days=1))
            env.run_range(ws, days[0], days[-1], "genie_ingest")
            env.refresh_spaces(ws)
            env.run_marts()
            for job in ("genie_space_lifecycle", "genie_evals"):  # backups and config changes; eval runs started
                assert env.defs.resolve_job_def(job).execute_in_process(instance=instance, partition_key=ws).success
            env.run_marts()  # mart_eval_accuracy follows the eval runs
            UI_DEFINITIONS = env.defs
            yield World(env, ws, days)
    finally:
        UI_DEFINITIONS = None
        sim.stop()
        mp.undo()


def ui_asset_nodes(world: World) -> dict[str, dict[str, Any]]:
    """The asset nodes as the UI's GraphQL API serves them, from an in-process code location of the definitions."""
    origin = LoadableTargetOrigin(module_name=__name__, attribute="UI_DEFINITIONS", working_directory=str(Path.cwd()))
    with in_process_test_workspace(world.env.instance, origin) as context:
        result = execute_dagster_graphql(context, UI_QUERY)
    assert not result.errors, result.errors
    return {"/".join(n["assetKey"]["path"]): n for n in result.data["assetNodes"]}


def test_the_ui_shows_columns_table_name_and_row_count_of_every_table_asset(world: World) -> None:
    nodes = ui_asset_nodes(world)
    assert set(nodes) == {*TABLE_ASSETS, *FILE_ASSETS}
    for name in TABLE_ASSETS:
        entries = {e["label"]: e for e in nodes[name]["metadataEntries"]}
        schema = entries["dagster/column_schema"]
        assert schema["__typename"] == "TableSchemaMetadataEntry", name
        columns = [(c["name"], c["type"], c["description"], c["constraints"]["nullable"])
                   for c in schema["schema"]["columns"]]
        assert columns == ddl_schema(name), name
        assert entries["dagster/table_name"]["text"] == f"{CATALOG}.{SCHEMA}.{name}", name
        refs = entries["dagster/code_references"]["codeReferences"]
        assert refs[0]["label"] == f"sql/ddl/target/{name}.sql" and Path(refs[0]["filePath"]).is_file(), name

        if name in NOT_MATERIALIZED_HERE:
            continue
        (latest,) = nodes[name]["assetMaterializations"]
        figures = {e["label"]: e for e in latest["metadataEntries"]}
        assert figures["dagster/row_count"]["__typename"] == "IntMetadataEntry", name
        assert figures["dagster/row_count"]["intValue"] >= 0, name
    # Where the dashboard is written, before and after a run.
    entries = {e["label"]: e for e in nodes[DASHBOARD]["metadataEntries"]}
    assert entries["dagster/uri"]["text"] == dashboard_path(world.env.settings).as_uri()
    (latest,) = nodes[DASHBOARD]["assetMaterializations"]
    assert Path({e["label"]: e for e in latest["metadataEntries"]}["path"]["path"]).is_file()


def recorded_row_counts(world: World, asset: str) -> dict[str | None, int]:
    """The ``dagster/row_count`` of the latest materialization of each partition (None: unpartitioned)."""
    records = world.env.instance.fetch_materializations(dg.AssetKey(asset), limit=1000).records  # newest first
    out: dict[str | None, int] = {}
    for rec in records:
        mat = rec.asset_materialization
        assert mat is not None
        out.setdefault(mat.partition, mat.metadata["dagster/row_count"].value)
    return out


def test_each_partition_row_count_is_the_rows_it_owns(world: World) -> None:
    """Counts add up: a range run gives each (workspace, day) its own row count, the rows that day owns."""
    env, ws = world.env, world.workspace

    def count(table: str, where: str = "TRUE", **params: object) -> int:
        return env.rows(f"SELECT COUNT(*) FROM main.genie_analytics.{table} WHERE {where}", params)[0][0]  # noqa: S608

    assert count("message_details", "discovered_via = 'api'") == 0, "the cross-check stored no message after the fetch"
    daily = {"genie_audit_events": "event_date", "genie_messages_to_fetch": "first_seen_date",
             "message_details": "first_seen_date", "message_fetch_errors": "first_seen_date"}
    for table, day_column in daily.items():
        expected = {str(partition_key(ws, day)): count(table, f"workspace_id = :ws AND {day_column} = :day", ws=ws, day=day)
                    for day in world.days}
        assert recorded_row_counts(world, table) == expected, table
        assert sum(expected.values()) > 0, f"{table}: the scenario writes rows"
    for table in ("genie_space_details", "genie_api_messages"):
        assert recorded_row_counts(world, table) == {ws: count(table, "workspace_id = :ws", ws=ws)}, table
        assert count(table) > 0, table
    for mart in MARTS:
        assert recorded_row_counts(world, mart.name) == {None: count(mart.name)}, mart.name
