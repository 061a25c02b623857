"""What the Dagster UI shows about a table asset before anything runs: its columns, its configured name, the files
that define it.

Plain Python from a table name and settings to a definition metadata dict, used by every asset builder:

- ``dagster/column_schema``: the columns of ``sql/ddl/target/<table>.sql`` (name, type, ``COMMENT`` as the
  description, ``NOT NULL`` as ``nullable=False``), read from the DDL so the UI and Unity Catalog show the same
  comments, with no second copy to drift;
- ``dagster/table_name``: the configured three-part name (``target.catalog``.``target.schema``.table), the name to
  query on Databricks; ``dagster/storage_kind``: the warehouse back end; on the embedded default also
  ``duckdb_table``, the name to query in the DuckDB file (DuckDB reserves the catalog names, see ``naming.py``);
- ``dagster/code_references``: the table's DDL and the SQL files that build and check it, as absolute paths found
  through ``sql.sql_path`` (so they resolve in a checkout and in an installed wheel alike), plus the Python
  function of the asset (:func:`with_python_source`).

Row counts are not here: they are figures of a materialization (``dagster/row_count``), recorded by each asset,
per partition for partitioned ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import dagster as dg

from ..settings import Settings
from ..warehouse import TableNames
from ..warehouse import sql as sqlmod

COLUMN_SCHEMA = "dagster/column_schema"
TABLE_NAME = "dagster/table_name"
STORAGE_KIND = "dagster/storage_kind"
CODE_REFERENCES = "dagster/code_references"
ROW_COUNT = "dagster/row_count"


def column_schema(table: str) -> dg.TableSchema:
    """The columns of ``sql/ddl/target/<table>.sql`` as Dagster shows them."""
    return dg.TableSchema(columns=[
        dg.TableColumn(name=c.name, type=c.type, description=c.comment,
                       constraints=dg.TableColumnConstraints(nullable=not c.not_null))
        for c in sqlmod.ddl_column_defs(table)
    ])


def table_name(settings: Settings, table: str) -> str:
    """The configured three-part name of a target table, e.g. ``main.genie_analytics.message_details``."""
    return ".".join(TableNames.from_settings(settings).target(table))


def sql_references(names: Iterable[str]) -> list[dg.LocalFileCodeReference]:
    """Code references to ``sql/<name>.sql`` files (absolute paths; a missing file fails here, at load)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return [dg.LocalFileCodeReference(file_path=str(sqlmod.sql_path(n).resolve()), label=f"sql/{n}.sql")
                for n in dict.fromkeys(names)]


def code_references(sql: Iterable[str]) -> dg.CodeReferencesMetadataValue:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.CodeReferencesMetadataValue(code_references=sql_references(sql))


def table_metadata(settings: Settings, table: str, sql: Sequence[str] = (),
                   also_writes: Sequence[str] = ()) -> dict[str, Any]:
    """Definition metadata of the asset that writes ``table``: column schema, configured name, storage, and code
    references to the table's DDL (and that of ``also_writes``, the tables the asset keeps beside it) followed by
    ``sql``, the files that build and check it (``folder/name``, as the warehouse takes them)."""
    names = TableNames.from_settings(settings)
    metadata: dict[str, Any] = {
        TABLE_NAME: table_name(settings, table),
        STORAGE_KIND: settings.warehouse.backend,
        COLUMN_SCHEMA: column_schema(table),
    }
    if settings.warehouse.backend == "duckdb":
        catalog, schema, _ = names.target(table)
        metadata["duckdb_table"] = f"{TableNames.duckdb_schema(catalog, schema)}.{table}"
    if also_writes:
        metadata["also_writes"] = ", ".join(table_name(settings, t) for t in also_writes)
    metadata[CODE_REFERENCES] = code_references([f"ddl/target/{t}" for t in (table, *also_writes)] + list(sql))
    return metadata


def with_python_source(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The assets with a code reference to the Python function that computes them, after their SQL files."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return [a for a in dg.with_source_code_references(assets) if isinstance(a, dg.AssetsDefinition)]
