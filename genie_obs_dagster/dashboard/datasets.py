"""The dashboard datasets: one SELECT each in ``sql/dashboards/``, shared by the local page and Lakeview."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from ..warehouse import TableNames, Warehouse
from ..warehouse import sql as sqlmod


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str

    @property
    def sql_name(self) -> str:
        return f"dashboards/{self.name}"


DATASETS: tuple[Dataset, ...] = (
    Dataset("workspaces", "Workspaces"),
    Dataset("daily_activity", "Daily activity"),
    Dataset("daily_outcomes", "Outcomes per day"),
    Dataset("space_leaderboard", "Space leaderboard"),
    Dataset("adoption_daily", "Adoption"),
    Dataset("top_askers", "Top users"),
    Dataset("failures", "Genie failures"),
    Dataset("negative_feedback", "Negative feedback"),
    Dataset("recent_prompts", "Prompts and SQL"),
    Dataset("sql_performance", "SQL performance"),
    Dataset("sql_duration_histogram", "SQL duration distribution"),
    Dataset("space_config", "Space configuration"),
    Dataset("space_config_items", "Space configuration items"),
    Dataset("config_changes", "Configuration changes"),
    Dataset("pipeline_health", "Pipeline health"),
    Dataset("fetch_errors", "Fetch errors"),
    # the local page's search, filters and date ranges (bounded: see each file)
    Dataset("messages", "Messages"),
    Dataset("people_by_period", "Askers and conversations per period"),
    Dataset("config_item_changes", "Configuration changes, item by item"),
    Dataset("sql_reads_daily", "Data read per day"),
    # the space lifecycle: how a space did around each configuration change, and its benchmark accuracy over time
    Dataset("config_change_impact", "Before and after configuration changes"),
    Dataset("eval_accuracy", "Benchmark accuracy"),
)


def _plain(value: Any) -> Any:
    """JSON-ready values: ISO dates and times (UTC), floats for decimals."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat(timespec="seconds") if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def load(wh: Warehouse) -> dict[str, list[dict[str, Any]]]:
    """Run every dataset query; rows as plain dicts, ready to embed as JSON."""
    return {d.name: [{k: _plain(v) for k, v in row.items()} for row in wh.query(d.sql_name).to_pylist()]
            for d in DATASETS}


def databricks_sql(dataset: Dataset, names: TableNames) -> str:
    """The dataset's query as Databricks SQL naming the configured tables (for a Lakeview dataset)."""

    def rewrite(table: exp.Table) -> None:
        catalog, schema, name = names.logical(table.catalog, table.db, table.name)
        for part, value in (("catalog", catalog), ("db", schema), ("this", name)):
            table.set(part, exp.to_identifier(value))

    source = f"sql/{dataset.sql_name}.sql"
    statements = sqlmod.parse_file(dataset.sql_name)
    if len(statements) != 1:
        raise sqlmod.SqlFileError(f"{source} must hold exactly one query")
    sqlmod.render(statements, sqlmod.SOURCE_DIALECT, rewrite, source)  # validates every table name
    tree = statements[0].copy()
    for table in tree.find_all(exp.Table):
        if table.args.get("db"):
            rewrite(table)
    return tree.sql(dialect=sqlmod.SOURCE_DIALECT, pretty=True)


def row_counts(data: Mapping[str, list[dict[str, Any]]]) -> dict[str, int]:
    return {name: len(rows) for name, rows in data.items()}
