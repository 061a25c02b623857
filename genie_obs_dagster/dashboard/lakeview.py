"""The AI/BI (Lakeview) dashboard: the pages of the local one plus a per-space page, as a ``serialized_dashboard``
(the content of a ``.lvdash.json`` file), and the create-or-update call through the Databricks SDK.

Datasets are the queries of ``sql/dashboards/`` written as Databricks SQL on the configured table names, plus
Lakeview-only queries in ``sql/dashboards/lakeview/``; widgets aggregate them (``SUM``,
``COUNT(DISTINCT)``, ``AVG`` for benchmark accuracy).

Filters:

- **Workspace** (global): a field filter on ``workspace_name`` of every dataset but the per-scope ones. Adoption
  figures are distinct counts, so they come per scope (one workspace, or 'All workspaces') and have their own filter
  on ``scope_name`` instead of being summed across workspaces.
- **Date range** (global): a ``filter-date-range-picker`` bound to the ``date_range`` parameter (``DATE``,
  ``RANGE``) of every dataset about activity. The shared queries take no parameter (the local page runs them as
  they are), so the restriction is added here: ``<day> BETWEEN :date_range.min AND :date_range.max`` goes into the
  WHERE of every SELECT that reads the dataset's table (:data:`RANGE_FILTERED`), before any aggregation, QUALIFY or
  ranking. Figures the shared queries take from all-time marts (space leaderboard, SQL performance, top users)
  come from Lakeview-only queries that compute them for the range (:data:`LAKEVIEW_DATASETS`). Configuration
  changes are dated by the day of the change (their before/after figures always cover the mart's window either
  side of it, whatever the range) and benchmark (eval) runs by the day of the run; the latest accuracy of a space
  is that of its latest run in the range. Datasets that describe configuration and the pipeline's state (space
  configuration and its versions, pipeline health, open fetch errors) are not about activity: the range leaves
  them whole (:data:`UNDATED`) and their pages say so.
- **Space** (the per-space page): a ``filter-single-select`` on ``space_name`` ("title (workspace)") of the
  page's datasets.

Counters that count distinct things stay exact for any filter: conversations and active spaces are summed over
rows of one space each (a conversation belongs to one space), askers are ``COUNT(DISTINCT asker)`` over
(space, asker) pairs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlglot
from sqlglot import exp

from ..warehouse import TableNames
from ..warehouse import sql as sqlmod
from . import datasets as ds

DISPLAY_NAME = "Genie observability"
DEFAULT_PARENT_PATH = "/Workspace/Shared/genie-obs"
GRID_COLUMNS = 6
ALL_SCOPES = "All workspaces"
DATE_RANGE = "date_range"  # the dataset parameter the date-range filter sets (``:date_range.min`` / ``.max``)
DEFAULT_RANGE = ("now-90d/d", "now/d")  # Lakeview's relative dates: the last 90 days up to today (UTC days)
SPACE_NAME = "space_name"


@dataclass(frozen=True)
class LakeviewDataset(ds.Dataset):
    """A query only the Lakeview dashboard runs (``sql/dashboards/lakeview/<name>.sql``)."""

    @property
    def sql_name(self) -> str:
        return f"dashboards/lakeview/{self.name}"


LAKEVIEW_DATASETS: tuple[LakeviewDataset, ...] = (
    LakeviewDataset("space_activity", "Spaces in the period"),
    LakeviewDataset("space_askers", "Askers per space in the period"),
    LakeviewDataset("space_prompts", "Latest questions per space"),
    LakeviewDataset("space_sql_performance", "SQL performance in the period"),
    LakeviewDataset("top_askers_in_range", "Top users in the period"),
    LakeviewDataset("space_eval_latest", "Latest benchmark accuracy per space in the period"),
)

# Shared datasets the date range restricts: (table whose rows it selects, that row's UTC day as an expression).
RANGE_FILTERED: dict[str, tuple[str, str]] = {
    "daily_activity": ("mart_daily_activity", "activity_date"),
    "daily_outcomes": ("mart_daily_activity", "activity_date"),
    "failures": ("mart_failures", "activity_date"),
    "adoption_daily": ("mart_adoption_daily", "activity_date"),
    "negative_feedback": ("mart_messages", "activity_date"),
    "recent_prompts": ("mart_messages", "activity_date"),
    "sql_duration_histogram": ("mart_messages", "activity_date"),
    "config_change_impact": ("mart_space_config_changes", "CAST(changed_at AS DATE)"),  # the UTC day of the change
    "eval_accuracy": ("mart_eval_accuracy", "run_date"),  # the UTC day the eval run started
}
# Datasets not about activity, which the date range leaves whole: configuration (current, and every version: the
# day a version was first seen is the day the pipeline fetched it, not a day of activity) and the pipeline's state.
UNDATED = ("space_config", "space_config_items", "config_changes", "pipeline_health", "fetch_errors")
# Shared datasets the Lakeview dashboard does not read, and why: every shared dataset is on Lakeview (dated, or
# UNDATED) or here.
LOCAL_ONLY: dict[str, str] = {
    "workspaces": "Lakeview's workspace filter takes its values from the datasets it filters",
    "space_leaderboard": "counts all time: space_activity computes the leaderboard for the date range",
    "top_askers": "counts all time: top_askers_in_range computes it for the date range",
    "sql_performance": "counts all time: space_sql_performance computes it for the date range",
    "messages": "the local page's search and its exact figures over its own date ranges",
    "people_by_period": "the local page's date-range presets: Lakeview counts askers exactly for any range (space_askers)",
    "config_item_changes": "the local page's item-by-item diff: config_change_impact carries the semantic diff",
    "sql_reads_daily": "the local page's data-read chart: space_sql_performance sums the reads of the range",
}
SCOPED = ("adoption_daily", "top_askers_in_range")  # distinct counts per scope: never summed across workspaces


def _field(name: str, expression: str | None = None) -> dict[str, str]:
    return {"name": name, "expression": expression or f"`{name}`"}


def _sum(column: str) -> dict[str, str]:
    return {"name": f"sum({column})", "expression": f"SUM(`{column}`)"}


def _count_distinct(column: str) -> dict[str, str]:
    return {"name": f"countdistinct({column})", "expression": f"COUNT(DISTINCT `{column}`)"}


def _avg(column: str) -> dict[str, str]:
    return {"name": f"avg({column})", "expression": f"AVG(`{column}`)"}


AGGREGATES = {"sum": _sum, "avg": _avg}


@dataclass
class Page:
    """Lays widgets out on Lakeview's 6-column grid, row after row."""

    name: str
    title: str
    layout: list[dict[str, Any]] = field(default_factory=list)
    _x: int = 0
    _y: int = 0
    _row_height: int = 0

    def add(self, widget: dict[str, Any], width: int, height: int) -> None:
        if self._x + width > GRID_COLUMNS:
            self._x, self._y, self._row_height = 0, self._y + self._row_height, 0
        self.layout.append({"widget": widget, "position": {"x": self._x, "y": self._y, "width": width, "height": height}})
        self._x += width
        self._row_height = max(self._row_height, height)

    def text(self, name: str, *lines: str, width: int = GRID_COLUMNS, height: int = 1) -> None:
        self.add({"name": name, "multilineTextboxSpec": {"lines": list(lines)}}, width, height)

    def widget(self, name: str, dataset: str, fields: list[dict[str, str]], spec: dict[str, Any], title: str,
               width: int, height: int, disaggregated: bool = False) -> None:
        spec = {**spec, "frame": {"showTitle": True, "title": title}}
        self.add({"name": name, "queries": [{"name": "main_query", "query": {
            "datasetName": dataset, "fields": fields, "disaggregated": disaggregated}}], "spec": spec}, width, height)

    def counter(self, name: str, dataset: str, column: str, title: str, width: int = 1, *,
                distinct: bool = False) -> None:
        """SUM(column), or COUNT(DISTINCT column) when ``distinct``."""
        f = _count_distinct(column) if distinct else _sum(column)
        self.widget(name, dataset, [f], {"version": 2, "widgetType": "counter",
                                         "encodings": {"value": {"fieldName": f["name"], "displayName": title}}},
                    title, width, 2)

    def chart(self, name: str, kind: str, dataset: str, x: str, y: str, title: str, width: int = 3, height: int = 6,
              color: str | None = None, x_scale: str = "temporal", y_label: str | None = None,
              aggregate: str = "sum") -> None:
        """A bar or line chart of SUM(y) (or AVG(y): a rate) by x (and by color, stacked, when given)."""
        fields, ys = [_field(x)], AGGREGATES[aggregate](y)
        fields.append(ys)
        encodings: dict[str, Any] = {
            "x": {"fieldName": x, "scale": {"type": x_scale}, "displayName": x.replace("_", " ")},
            "y": {"fieldName": ys["name"], "scale": {"type": "quantitative"}, "displayName": y_label or y.replace("_", " ")},
        }
        if color:
            fields.append(_field(color))
            encodings["color"] = {"fieldName": color, "scale": {"type": "categorical"}, "displayName": color.replace("_", " ")}
        self.widget(name, dataset, fields, {"version": 3, "widgetType": kind, "encodings": encodings}, title, width, height)

    def pie(self, name: str, dataset: str, value: str, category: str, title: str, width: int = 2, height: int = 6) -> None:
        v = _sum(value)
        self.widget(name, dataset, [_field(category), v], {"version": 3, "widgetType": "pie", "encodings": {
            "angle": {"fieldName": v["name"], "scale": {"type": "quantitative"}, "displayName": value.replace("_", " ")},
            "color": {"fieldName": category, "scale": {"type": "categorical"}, "displayName": category.replace("_", " ")},
        }}, title, width, height)

    def table(self, name: str, dataset: str, columns: list[tuple[str, str]], title: str, height: int = 8,
              width: int = GRID_COLUMNS) -> None:
        self.widget(name, dataset, [_field(c) for c, _ in columns], {"version": 2, "widgetType": "table", "encodings": {
            "columns": [{"fieldName": c, "displayName": label} for c, label in columns]}}, title, width, height,
            disaggregated=True)

    def datasets(self) -> list[str]:
        """Datasets the page's widgets read, in first-use order."""
        names = [q["query"]["datasetName"] for item in self.layout for q in item["widget"].get("queries", [])]
        return list(dict.fromkeys(names))

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "displayName": self.title, "pageType": "PAGE_TYPE_CANVAS", "layout": self.layout}


def _filter(name: str, title: str, column: str, datasets: list[str], kind: str,
            default: str | None = None) -> dict[str, Any]:
    """A filter widget bound to ``column`` of every listed dataset."""
    queries = [{"name": f"{name}_{d}", "query": {"datasetName": d, "fields": [_field(column)], "disaggregated": False}}
               for d in datasets]
    spec: dict[str, Any] = {"version": 2, "widgetType": kind, "encodings": {"fields": [
        {"fieldName": column, "displayName": title, "queryName": q["name"]} for q in queries]},
        "frame": {"showTitle": True, "title": title}}
    if default is not None:
        spec["selection"] = {"defaultSelection": {"values": {"dataType": "STRING", "values": [{"value": default}]}}}
    return {"name": name, "queries": queries, "spec": spec}


def _parameter_filter(name: str, title: str, keyword: str, datasets: list[str]) -> dict[str, Any]:
    """A date-range picker that sets the ``keyword`` parameter of every listed dataset (Lakeview's parameter
    binding: the filter's queries name the dataset parameter, its encodings the ``parameterName``)."""
    queries = [{"name": f"{name}_{d}", "query": {"datasetName": d, "parameters": [{"name": keyword, "keyword": keyword}],
                                                 "disaggregated": False}} for d in datasets]
    spec = {"version": 2, "widgetType": "filter-date-range-picker", "encodings": {"fields": [
        {"parameterName": keyword, "queryName": q["name"]} for q in queries]},
        "frame": {"showTitle": True, "title": title}}
    return {"name": name, "queries": queries, "spec": spec}


def range_parameter() -> dict[str, Any]:
    """The ``date_range`` parameter every dated dataset declares (its SQL reads ``:date_range.min`` / ``.max``)."""
    low, high = DEFAULT_RANGE
    return {"displayName": "Date range", "keyword": DATE_RANGE, "dataType": "DATE", "complexType": "RANGE",
            "defaultSelection": {"range": {"dataType": "DATE", "min": {"value": low}, "max": {"value": high}}}}


CURRENT_STATE_NOTE = "Current state of the pipeline: the date range does not apply to this page."
IMPACT_NOTE = ("a change's before/after figures always cover the days either side of it given in its row, whatever "
               "the range.")
# The before/after columns of config_change_impact (rates are shares: 0.8 = 80%).
IMPACT_COLUMNS = [
    ("changed_at", "Changed at"), ("version_number", "Version"), ("diff_summary", "What changed"),
    ("window_days", "Days either side"), ("questions_before", "Questions before"),
    ("success_rate_before", "Success rate before"), ("negative_feedback_rate_before", "Negative feedback rate before"),
    ("questions_after", "Questions after"), ("success_rate_after", "Success rate after"),
    ("negative_feedback_rate_after", "Negative feedback rate after"), ("success_rate_change", "Success rate change"),
    ("negative_feedback_rate_change", "Negative feedback rate change")]
LATEST_ACCURACY_COLUMNS = [
    ("finished_at", "Latest run finished"), ("run_number", "Run"), ("accuracy", "Accuracy"),
    ("previous_accuracy", "Previous run's accuracy"), ("accuracy_change", "Change"), ("num_questions", "Questions"),
    ("num_correct", "Correct"), ("runs_in_range", "Runs in the period")]


def _pages() -> list[Page]:
    summary = Page("executive_summary", "Executive summary")
    summary.text("summary_title", "## Genie observability",
                 "Usage, quality and adoption of AI/BI Genie spaces in the selected date range.")
    summary.counter("kpi_spaces", "space_activity", "active_spaces", "Genie spaces")
    summary.counter("kpi_conversations", "space_activity", "conversations", "Conversations")
    summary.counter("kpi_questions", "daily_activity", "questions", "Questions")
    summary.counter("kpi_askers", "space_askers", "asker", "Askers", distinct=True)
    for col, title in (("completed", "Completed"), ("failed", "Failed")):
        summary.counter(f"kpi_{col}", "daily_activity", col, title)
    for col, title in (("positive_feedback", "Rated positive"), ("negative_feedback", "Rated negative"),
                       ("sql_statements", "SQL statements")):
        summary.counter(f"kpi_{col}", "daily_activity", col, title, width=2)
    summary.chart("questions_per_day", "bar", "daily_outcomes", "activity_date", "questions", "Questions per day", 4,
                  color="outcome")
    summary.pie("outcomes", "daily_outcomes", "questions", "outcome", "Outcomes")
    summary.chart("top_spaces", "bar", "space_activity", "space", "questions", "Questions per space", 6,
                  x_scale="categorical")

    usage = Page("usage", "Usage")
    usage.chart("questions_by_space", "bar", "daily_activity", "activity_date", "questions", "Questions per day by space",
                6, color="space")
    usage.chart("conversations_per_day", "bar", "daily_activity", "activity_date", "new_conversations",
                "Conversations started per day", 3)
    usage.chart("askers_by_space", "bar", "space_activity", "space", "askers", "Askers per space", 3, x_scale="categorical")
    usage.table("leaderboard", "space_activity", [
        ("questions_rank", "#"), ("space", "Space"), ("workspace_name", "Workspace"), ("questions", "Questions"),
        ("conversations", "Conversations"), ("askers", "Askers"), ("completed", "Completed"), ("failed", "Failed"),
        ("cancelled", "Cancelled"), ("success_rate", "Success rate"), ("positive_feedback", "Positive"),
        ("negative_feedback", "Negative"), ("review_requests", "Reviews"), ("last_asked_at", "Last question")],
        "Space leaderboard (every space, ranked by questions in the period)")

    space = Page("space_detail", "Space detail")
    space_filter: dict[str, Any] = {}  # bound below, once the page's datasets are known
    space.add(space_filter, 3, 2)
    space.text("space_note", "Pick a space (title and workspace). Activity, configuration changes (by the day of "
               "the change) and benchmark runs (by the day of the run) are those of the selected date range; "
               f"{IMPACT_NOTE} The current configuration and every version seen ignore the range.", width=3, height=2)
    space.counter("space_questions", "space_activity", "questions", "Questions")
    space.counter("space_conversations", "space_activity", "conversations", "Conversations")
    space.counter("space_askers", "space_askers", "asker", "Askers", distinct=True)
    space.counter("space_completed", "space_activity", "completed", "Completed")
    space.counter("space_failed", "space_activity", "failed", "Failed")
    space.counter("space_negative", "space_activity", "negative_feedback", "Rated negative")
    space.chart("space_questions_per_day", "bar", "daily_activity", "activity_date", "questions", "Questions per day", 3)
    space.chart("space_failures", "bar", "failures", "error_type", "failures", "Failures by error type", 3,
                x_scale="categorical")
    space.chart("space_accuracy", "line", "eval_accuracy", "finished_at", "accuracy",
                "Benchmark accuracy over time (eval runs in the period)", 3, color=SPACE_NAME, aggregate="avg")
    space.table("space_accuracy_latest", "space_eval_latest", LATEST_ACCURACY_COLUMNS,
                "Latest benchmark accuracy and change vs the previous run", 6, width=3)
    space.table("space_sql", "space_sql_performance", [
        ("statements", "SQL statements"), ("failed_statements", "Failed"), ("duration_p50_ms", "p50 ms"),
        ("duration_p90_ms", "p90 ms"), ("duration_p95_ms", "p95 ms"), ("duration_avg_ms", "Average ms"),
        ("read_rows", "Rows read"), ("read_bytes", "Bytes read")], "SQL Genie ran", 3)
    space.table("space_prompts", "space_prompts", [
        ("asked_at", "Asked"), ("asker", "Asker"), ("question", "Question"), ("query_description", "Genie's description"),
        ("query_sql", "SQL"), ("text_answer", "Answer"), ("outcome", "Status"), ("feedback_rating", "Feedback"),
        ("sql_total_duration_ms", "SQL ms")], "Latest questions (100 per space)", 10)
    space.table("space_items", "space_config_items", [
        ("item_type", "Item"), ("item_text", "Text"), ("item_detail", "SQL / condition"), ("column_count", "Columns")],
        "Current configuration: sample questions, tables, instructions, joins and benchmarks", 8)
    space.table("space_change_impact", "config_change_impact", IMPACT_COLUMNS,
                "Before and after configuration changes (changes made in the period)", 5)
    space.table("space_changes", "config_changes", [
        ("first_seen_at", "First seen"), ("version_number", "Version"), ("is_current", "Current"), ("title", "Title"),
        ("tables", "Tables"), ("sample_questions", "Sample questions"), ("benchmarks", "Benchmarks")],
        "Configuration changes", 5)
    space_filter.update(_filter("space_filter", "Space", SPACE_NAME, space.datasets(), "filter-single-select"))

    quality = Page("quality", "Quality and feedback")
    for col, title in (("failed", "Failed answers"), ("positive_feedback", "Rated positive"),
                       ("negative_feedback", "Rated negative"), ("review_requests", "Review requests")):
        quality.counter(f"quality_{col}", "daily_activity", col, title, width=1)
    quality.chart("failures_by_type", "bar", "failures", "error_type", "failures", "Failures by error type", 3,
                  x_scale="categorical")
    quality.chart("failures_per_day", "bar", "failures", "activity_date", "failures", "Failures per day", 3,
                  color="error_type")
    quality.chart("negative_per_day", "line", "daily_activity", "activity_date", "negative_feedback",
                  "Negative feedback per day", 3)
    quality.chart("reviews_per_day", "line", "daily_activity", "activity_date", "review_requests",
                  "Review requests per day", 3)
    quality.table("negative_answers", "negative_feedback", [
        ("asked_at", "Asked"), ("space", "Space"), ("asker", "Asker"), ("question", "Question"),
        ("query_description", "Genie's description"), ("query_sql", "SQL"), ("outcome", "Status"),
        ("review_requested", "Review requested")], "Answers rated negative, with their SQL", 10)

    prompts = Page("prompts_sql", "Prompts and SQL")
    prompts.table("prompts", "recent_prompts", [
        ("asked_at", "Asked"), ("space", "Space"), ("asker", "Asker"), ("question", "Question"),
        ("query_description", "Genie's description"), ("query_sql", "SQL"), ("text_answer", "Answer"),
        ("outcome", "Status"), ("feedback_rating", "Feedback"), ("sql_total_duration_ms", "SQL ms")],
        "Questions, answers and SQL (latest 200 per workspace in the period)", 14)

    perf = Page("sql_performance", "SQL performance")
    for col, title in (("statements", "SQL statements"), ("failed_statements", "Failed statements"),
                       ("read_rows", "Rows read"), ("read_bytes", "Bytes read")):
        perf.counter(f"perf_{col}", "space_sql_performance", col, title, width=1)
    perf.chart("duration_histogram", "bar", "sql_duration_histogram", "bucket", "statements",
               "How long Genie's SQL took", 3, x_scale="categorical")
    perf.chart("failed_per_day", "bar", "daily_activity", "activity_date", "failed_statements",
               "Failed statements per day", 3)
    perf.table("perf_by_space", "space_sql_performance", [
        ("space", "Space"), ("workspace_name", "Workspace"), ("statements", "Statements"),
        ("failed_statements", "Failed"), ("duration_p50_ms", "p50 ms"), ("duration_p90_ms", "p90 ms"),
        ("duration_p95_ms", "p95 ms"), ("duration_avg_ms", "Average ms"), ("read_rows", "Rows read"),
        ("read_bytes", "Bytes read")], "By space (exact percentiles of total duration)")

    adoption = Page("adoption", "Adoption")
    adoption.add(_filter("scope_filter", "Scope", "scope_name", list(SCOPED), "filter-single-select", ALL_SCOPES), 2, 2)
    adoption.text("adoption_note", "Askers come from each question's asker (API, else audit log), counted once per scope.")
    adoption.chart("dau", "line", "adoption_daily", "activity_date", "active_askers", "Daily active askers", 3)
    adoption.chart("wau", "line", "adoption_daily", "activity_date", "weekly_active_askers",
                   "Weekly active askers (7 days)", 3)
    adoption.chart("new_askers", "bar", "adoption_daily", "activity_date", "new_askers", "New askers per day", 3)
    adoption.chart("returning_askers", "bar", "adoption_daily", "activity_date", "returning_askers",
                   "Returning askers per day", 3)
    adoption.table("top_users", "top_askers_in_range", [
        ("questions_rank", "#"), ("asker", "Asker"), ("questions", "Questions"), ("spaces", "Spaces"),
        ("active_days", "Active days"), ("failed", "Failed"), ("negative_feedback", "Negative"),
        ("last_asked_at", "Last question")], "Top users in the period")

    config = Page("space_configuration", "Space configuration")
    config.text("config_note", "Current configuration of every space and every version seen: the date range does "
                "not apply to them. Configuration changes with their impact are those made in the selected date range "
                f"(by the day of the change); {IMPACT_NOTE} Benchmark accuracy is that of the eval runs of the range.",
                height=2)
    config.table("spaces", "space_config", [
        ("space", "Space"), ("workspace_name", "Workspace"), ("sample_questions", "Sample questions"),
        ("tables", "Tables"), ("columns", "Columns"), ("text_instructions", "Instructions"),
        ("example_sqls", "Example SQL"), ("join_specs", "Joins"), ("benchmarks", "Benchmarks"),
        ("versions", "Versions"), ("update_time", "Updated")], "Spaces (current configuration)", 6)
    config.table("items", "space_config_items", [
        ("space", "Space"), ("item_type", "Item"), ("item_text", "Text"), ("item_detail", "SQL / condition"),
        ("column_count", "Columns")], "Sample questions, tables, instructions, joins and benchmarks", 12)
    config.table("changes", "config_changes", [
        ("first_seen_at", "First seen"), ("space", "Space"), ("version_number", "Version"), ("is_current", "Current"),
        ("title", "Title"), ("tables", "Tables"), ("sample_questions", "Sample questions"), ("benchmarks", "Benchmarks")],
        "Configuration changes", 6)
    config.table("change_impact", "config_change_impact", [
        ("space", "Space"), ("workspace_name", "Workspace"), *IMPACT_COLUMNS, ("diff_json", "Items added, removed, changed")],
        "Before and after configuration changes (changes made in the period)", 8)
    config.chart("accuracy_by_space", "line", "eval_accuracy", "finished_at", "accuracy",
                 "Benchmark accuracy over time by space", 3, color=SPACE_NAME, aggregate="avg")
    config.table("accuracy_latest", "space_eval_latest", [
        ("space", "Space"), ("workspace_name", "Workspace"), *LATEST_ACCURACY_COLUMNS],
        "Benchmark accuracy by space (latest run in the period)", 6, width=3)

    health = Page("pipeline_health", "Pipeline health")
    health.text("health_note", CURRENT_STATE_NOTE)
    for col, title in (("messages_listed", "Messages listed"), ("messages_with_details", "With details"),
                       ("messages_pending", "Pending"), ("messages_missing", "Missing details"),
                       ("open_fetch_errors", "Open fetch errors"), ("messages_api_only", "Found only by the API")):
        health.counter(f"health_{col}", "pipeline_health", col, title)
    health.chart("errors_by_type", "bar", "fetch_errors", "error_type", "open_errors", "Open fetch errors by type", 6,
                 x_scale="categorical", color="object_type")
    health.table("freshness", "pipeline_health", [
        ("workspace_name", "Workspace"), ("coverage", "Coverage"), ("latest_audit_event_time", "Latest audit event"),
        ("latest_fetch_time", "Latest fetch"), ("messages_listed", "Listed"), ("messages_with_details", "With details"),
        ("messages_pending", "Pending"), ("messages_missing", "Missing"), ("open_fetch_errors", "Open errors"),
        ("open_space_fetch_errors", "Space errors")], "Coverage and freshness per workspace", 5)
    return [summary, usage, space, quality, prompts, perf, adoption, config, health]


# -- dataset SQL -------------------------------------------------------------------------------------------------


def _query_lines(sql: str) -> list[str]:
    lines = sql.splitlines()
    return [line + "\n" for line in lines[:-1]] + lines[-1:]


def restrict_to_range(sql: str, table: str, day: str) -> str:
    """``sql`` with ``<day> BETWEEN :date_range.min AND :date_range.max`` added to the WHERE of every SELECT that
    reads ``table`` (the last part of its name) directly, so the range applies before aggregation and ranking."""
    tree = sqlglot.parse_one(sql, read=sqlmod.SOURCE_DIALECT)
    found = False
    for select in list(tree.find_all(exp.Select)):
        sources = [select.args.get("from_") or select.args.get("from")] + list(select.args.get("joins") or [])
        tables = [s.this for s in sources if s is not None and isinstance(s.this, exp.Table)]
        for t in tables:
            if t.name != table:
                continue
            qualifier = t.alias_or_name if len(tables) > 1 else None
            column = sqlglot.parse_one(day, read=sqlmod.SOURCE_DIALECT)
            if qualifier:
                for c in column.find_all(exp.Column):
                    c.set("table", exp.to_identifier(qualifier))
            bounds = [sqlglot.parse_one(f":{DATE_RANGE}.{end}", read=sqlmod.SOURCE_DIALECT) for end in ("min", "max")]
            select.where(exp.Between(this=column, low=bounds[0], high=bounds[1]), copy=False)
            found = True
    if not found:
        raise ValueError(f"no SELECT reads {table}: the date range cannot be applied")
    return tree.sql(dialect=sqlmod.SOURCE_DIALECT, pretty=True)


def with_space_name(sql: str) -> str:
    """Add ``space_name`` ("title (workspace)", the per-space page's filter field) to a query whose outermost
    SELECT has ``space`` and ``workspace_name`` columns; other queries are returned as they are."""
    tree = sqlglot.parse_one(sql, read=sqlmod.SOURCE_DIALECT)
    if not isinstance(tree, exp.Select):
        return sql
    outputs = {e.alias_or_name: e for e in tree.expressions}
    if SPACE_NAME in outputs or "space" not in outputs or "workspace_name" not in outputs:
        return sql

    def value(e: exp.Expression) -> exp.Expression:
        return (e.this if isinstance(e, exp.Alias) else e).copy()

    label = exp.func("concat", value(outputs["space"]), exp.Literal.string(" ("), value(outputs["workspace_name"]),
                     exp.Literal.string(")"))
    tree.select(exp.alias_(label, SPACE_NAME), copy=False)
    return tree.sql(dialect=sqlmod.SOURCE_DIALECT, pretty=True)


def _placeholders(sql: str) -> set[str]:
    return {p.name for p in sqlglot.parse_one(sql, read=sqlmod.SOURCE_DIALECT).find_all(exp.Placeholder)}


def dataset_sql(name: str, names: TableNames) -> tuple[str, str]:
    """(title, Databricks SQL) of a dataset of the dashboard, shared or Lakeview-only, with its Lakeview additions."""
    shared = {d.name: d for d in ds.DATASETS}
    own = {d.name: d for d in LAKEVIEW_DATASETS}
    if name in own:  # written for Lakeview: a space_name of its own, or one added like the shared ones'
        return own[name].title, with_space_name(ds.databricks_sql(own[name], names))
    sql = ds.databricks_sql(shared[name], names)
    if name in RANGE_FILTERED:
        sql = restrict_to_range(sql, *RANGE_FILTERED[name])
    return shared[name].title, with_space_name(sql)


def serialized_dashboard(names: TableNames) -> dict[str, Any]:
    """The dashboard definition (what a ``.lvdash.json`` file holds)."""
    pages = _pages()
    used = {n for p in pages for n in p.datasets()}
    order = [d.name for d in ds.DATASETS] + [d.name for d in LAKEVIEW_DATASETS]
    unknown = used - set(order)
    if unknown:
        raise ValueError(f"widgets read unknown datasets: {sorted(unknown)}")
    datasets, dated = [], []
    for name in (n for n in order if n in used):
        title, sql = dataset_sql(name, names)
        entry: dict[str, Any] = {"name": name, "displayName": title, "queryLines": _query_lines(sql)}
        params = _placeholders(sql)
        if params - {DATE_RANGE}:
            raise ValueError(f"dataset {name} reads undeclared parameters {sorted(params - {DATE_RANGE})}")
        if params:
            entry["parameters"] = [range_parameter()]
            dated.append(name)
        elif name not in UNDATED:
            raise ValueError(f"dataset {name} is neither restricted to the date range nor listed in UNDATED")
        datasets.append(entry)
    by_workspace = [d["name"] for d in datasets if d["name"] not in SCOPED]
    filters = Page("global_filters", "Filters")
    filters.add(_filter("workspace_filter", "Workspace", "workspace_name", by_workspace, "filter-multi-select"), 2, 2)
    filters.add(_parameter_filter("date_range_filter", "Date range", DATE_RANGE, dated), 2, 2)
    return {"datasets": datasets,
            "pages": [{**filters.as_dict(), "pageType": "PAGE_TYPE_GLOBAL_FILTERS"}] + [p.as_dict() for p in pages]}


def bind_range(sql: str) -> str:
    """A dataset's SQL with ``:date_range.min`` / ``:date_range.max`` as the plain markers ``:date_range_min`` /
    ``:date_range_max``, so it runs outside Lakeview (Statement Execution API, the embedded warehouse) with the
    range given as two DATE parameters."""
    tree = sqlglot.parse_one(sql, read=sqlmod.SOURCE_DIALECT)
    for dot in list(tree.find_all(exp.Dot)):
        if isinstance(dot.this, exp.Placeholder) and dot.this.name == DATE_RANGE and dot.name in ("min", "max"):
            dot.replace(exp.Placeholder(this=f"{DATE_RANGE}_{dot.name}"))
    if any(p.name == DATE_RANGE for p in tree.find_all(exp.Placeholder)):
        raise ValueError(f"{DATE_RANGE} is read other than as {DATE_RANGE}.min / {DATE_RANGE}.max")
    return tree.sql(dialect=sqlmod.SOURCE_DIALECT, pretty=True)


def dataset_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for d in dashboard["datasets"]:
        yield d["name"], "".join(d["queryLines"])


# -- create or update through the SDK -------------------------------------------------------------------------


class LakeviewClient(Protocol):
    """The parts of ``databricks.sdk.WorkspaceClient`` used here (``w.lakeview``, ``w.workspace``)."""

    @property
    def lakeview(self) -> Any: ...

    @property
    def workspace(self) -> Any: ...


class LakeviewError(RuntimeError):
    pass


@dataclass(frozen=True)
class Published:
    dashboard_id: str
    created: bool
    published: bool
    path: str | None


def dashboard_path(parent_path: str, display_name: str) -> str:
    """The workspace path of a dashboard: ``<folder>/<name>.lvdash.json``."""
    return f"{parent_path.rstrip('/')}/{display_name}.lvdash.json"


def find_existing(client: LakeviewClient, display_name: str, parent_path: str) -> str | None:
    """The id of the dashboard of that name in that folder, if one exists (so a second run updates it).

    Asked of the Workspace API (``GET /api/2.0/workspace/get-status``): a dashboard's ``resource_id`` is its
    dashboard id. Lakeview's own list leaves ``path`` and ``parent_path`` out, so it cannot tell folders apart."""
    from databricks.sdk.errors import NotFound
    from databricks.sdk.service.workspace import ObjectType

    path = dashboard_path(parent_path, display_name)
    try:
        info = client.workspace.get_status(path)
    except NotFound:
        return None
    if info.object_type != ObjectType.DASHBOARD or not info.resource_id:
        kind = info.object_type.value if info.object_type else "object"
        raise LakeviewError(f"{path} exists and is a {kind}, not a dashboard: choose another --name or --parent-path")
    return str(info.resource_id)


def _missing_folder(exc: Exception) -> bool:
    """Lakeview's answer to a create in a folder that does not exist: 404 "Path (<folder>) doesn't exist."."""
    text = str(exc)
    return text.startswith("Path (") and text.endswith(") doesn't exist.")


def deploy(client: LakeviewClient, dashboard: dict[str, Any], *, warehouse_id: str, parent_path: str = DEFAULT_PARENT_PATH,
           display_name: str = DISPLAY_NAME, dashboard_id: str | None = None, publish: bool = True) -> Published:
    """Create the dashboard (and its folder when missing), or update it in place when it exists (by id, else by
    name and folder); then publish it so that viewers see this version (they run the queries with their own
    credentials)."""
    from databricks.sdk.errors import NotFound
    from databricks.sdk.service.dashboards import Dashboard

    serialized = json.dumps(dashboard)
    existing = dashboard_id or find_existing(client, display_name, parent_path)
    if existing:
        result = client.lakeview.update(existing, Dashboard(display_name=display_name, warehouse_id=warehouse_id,
                                                            serialized_dashboard=serialized))
    else:
        body = Dashboard(display_name=display_name, serialized_dashboard=serialized, warehouse_id=warehouse_id,
                         parent_path=parent_path)
        try:
            result = client.lakeview.create(body)
        except NotFound as exc:
            if not _missing_folder(exc):
                raise
            client.workspace.mkdirs(parent_path)
            result = client.lakeview.create(body)
    new_id = result.dashboard_id or existing
    if publish:
        client.lakeview.publish(new_id, embed_credentials=False, warehouse_id=warehouse_id)
    return Published(new_id, created=not existing, published=publish, path=result.path)
