"""The AI/BI (Lakeview) dashboard: the same pages and datasets as the local one, as a ``serialized_dashboard``
(the content of a ``.lvdash.json`` file), and the create-or-update call through the Databricks SDK.

Datasets are the queries of ``sql/dashboards/`` written as Databricks SQL on the configured table names; widgets
aggregate them (``SUM``) the way the local page does, and a global filter on ``workspace_name`` narrows every
page. Adoption figures are distinct counts, so they come per scope (one workspace, or 'All workspaces') and
have their own filter on ``scope_name`` instead of being summed across workspaces.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..warehouse import TableNames
from . import datasets as ds

DISPLAY_NAME = "Genie observability"
DEFAULT_PARENT_PATH = "/Workspace/Shared/genie-obs"
GRID_COLUMNS = 6
ALL_SCOPES = "All workspaces"


def _field(name: str, expression: str | None = None) -> dict[str, str]:
    return {"name": name, "expression": expression or f"`{name}`"}


def _sum(column: str) -> dict[str, str]:
    return {"name": f"sum({column})", "expression": f"SUM(`{column}`)"}


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

    def text(self, name: str, *lines: str) -> None:
        self.add({"name": name, "multilineTextboxSpec": {"lines": list(lines)}}, GRID_COLUMNS, 1)

    def widget(self, name: str, dataset: str, fields: list[dict[str, str]], spec: dict[str, Any], title: str,
               width: int, height: int, disaggregated: bool = False) -> None:
        spec = {**spec, "frame": {"showTitle": True, "title": title}}
        self.add({"name": name, "queries": [{"name": "main_query", "query": {
            "datasetName": dataset, "fields": fields, "disaggregated": disaggregated}}], "spec": spec}, width, height)

    def counter(self, name: str, dataset: str, column: str, title: str, width: int = 1) -> None:
        f = _sum(column)
        self.widget(name, dataset, [f], {"version": 2, "widgetType": "counter",
                                         "encodings": {"value": {"fieldName": f["name"], "displayName": title}}},
                    title, width, 2)

    def chart(self, name: str, kind: str, dataset: str, x: str, y: str, title: str, width: int = 3, height: int = 6,
              color: str | None = None, x_scale: str = "temporal", y_label: str | None = None) -> None:
        """A bar or line chart of SUM(y) by x (and by color, stacked, when given)."""
        fields, ys = [_field(x)], _sum(y)
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

    def table(self, name: str, dataset: str, columns: list[tuple[str, str]], title: str, height: int = 8) -> None:
        self.widget(name, dataset, [_field(c) for c, _ in columns], {"version": 2, "widgetType": "table", "encodings": {
            "columns": [{"fieldName": c, "displayName": label} for c, label in columns]}}, title, GRID_COLUMNS, height,
            disaggregated=True)

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


SCOPED = ("adoption_daily", "top_askers")  # distinct counts per scope: never summed across workspaces


def _pages() -> list[Page]:
    summary = Page("executive_summary", "Executive summary")
    summary.text("summary_title", "## Genie observability", "Usage, quality and adoption of AI/BI Genie spaces.")
    for col, title in (("questions", "Questions"), ("completed", "Completed"), ("failed", "Failed"),
                       ("positive_feedback", "Rated positive"), ("negative_feedback", "Rated negative"),
                       ("sql_statements", "SQL statements")):
        summary.counter(f"kpi_{col}", "daily_activity", col, title)
    summary.chart("questions_per_day", "bar", "daily_outcomes", "activity_date", "questions", "Questions per day", 4,
                  color="outcome")
    summary.pie("outcomes", "daily_outcomes", "questions", "outcome", "Outcomes")
    summary.chart("top_spaces", "bar", "space_leaderboard", "space", "questions", "Questions per space", 6,
                  x_scale="categorical")

    usage = Page("usage", "Usage")
    usage.chart("questions_by_space", "bar", "daily_activity", "activity_date", "questions", "Questions per day by space",
                6, color="space")
    usage.chart("conversations_per_day", "bar", "daily_activity", "activity_date", "new_conversations",
                "Conversations started per day", 3)
    usage.chart("askers_by_space", "bar", "space_leaderboard", "space", "askers", "Askers per space", 3, x_scale="categorical")
    usage.table("leaderboard", "space_leaderboard", [
        ("questions_rank", "#"), ("space", "Space"), ("workspace_name", "Workspace"), ("questions", "Questions"),
        ("conversations", "Conversations"), ("askers", "Askers"), ("completed", "Completed"), ("failed", "Failed"),
        ("cancelled", "Cancelled"), ("success_rate", "Success rate"), ("positive_feedback", "Positive"),
        ("negative_feedback", "Negative"), ("review_requests", "Reviews"), ("last_asked_at", "Last question")],
        "Space leaderboard")

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
        "Questions, answers and SQL (latest 200 per workspace)", 14)

    perf = Page("sql_performance", "SQL performance")
    for col, title in (("statements", "SQL statements"), ("failed_statements", "Failed statements"),
                       ("read_rows", "Rows read"), ("read_bytes", "Bytes read")):
        perf.counter(f"perf_{col}", "sql_performance", col, title, width=1)
    perf.chart("duration_histogram", "bar", "sql_duration_histogram", "bucket", "statements",
               "How long Genie's SQL took", 3, x_scale="categorical")
    perf.chart("failed_per_day", "bar", "daily_activity", "activity_date", "failed_statements",
               "Failed statements per day", 3)
    perf.table("perf_by_space", "sql_performance", [
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
    adoption.table("top_users", "top_askers", [
        ("questions_rank", "#"), ("asker", "Asker"), ("questions", "Questions"), ("spaces", "Spaces"),
        ("active_days", "Active days"), ("failed", "Failed"), ("negative_feedback", "Negative"),
        ("last_asked_at", "Last question")], "Top users")

    config = Page("space_configuration", "Space configuration")
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
        ("tables", "Tables"), ("sample_questions", "Sample questions"), ("benchmarks", "Benchmarks")],
        "Configuration changes", 6)

    health = Page("pipeline_health", "Pipeline health")
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
    return [summary, usage, quality, prompts, perf, adoption, config, health]


def _query_lines(sql: str) -> list[str]:
    lines = sql.splitlines()
    return [line + "\n" for line in lines[:-1]] + lines[-1:]


def serialized_dashboard(names: TableNames) -> dict[str, Any]:
    """The dashboard definition (what a ``.lvdash.json`` file holds)."""
    sqls = {d.name: (d.title, ds.databricks_sql(d, names)) for d in ds.DATASETS}
    pages = _pages()
    used = {q["query"]["datasetName"] for p in pages for item in p.layout for q in item["widget"].get("queries", [])}
    by_workspace = sorted(n for n in used if n not in SCOPED and n != "workspaces")
    filters = Page("global_filters", "Filters")
    filters.add(_filter("workspace_filter", "Workspace", "workspace_name", by_workspace, "filter-multi-select"), 2, 2)
    datasets = [{"name": n, "displayName": title, "queryLines": _query_lines(sql)}
                for n, (title, sql) in sqls.items() if n in used]
    return {"datasets": datasets,
            "pages": [{**filters.as_dict(), "pageType": "PAGE_TYPE_GLOBAL_FILTERS"}] + [p.as_dict() for p in pages]}


def dataset_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for d in dashboard["datasets"]:
        yield d["name"], "".join(d["queryLines"])


# -- create or update through the SDK -------------------------------------------------------------------------


class LakeviewClient(Protocol):
    """The part of ``databricks.sdk.WorkspaceClient`` used here (``w.lakeview``)."""

    @property
    def lakeview(self) -> Any: ...


@dataclass(frozen=True)
class Published:
    dashboard_id: str
    created: bool
    published: bool
    path: str | None


def find_existing(client: LakeviewClient, display_name: str, parent_path: str) -> str | None:
    """The id of the dashboard of that name in that folder, if one exists (so a second run updates it)."""
    expected_path = f"{parent_path.rstrip('/')}/{display_name}.lvdash.json"
    for d in client.lakeview.list():
        if d.path == expected_path or (d.display_name == display_name and d.parent_path == parent_path):
            return d.dashboard_id
    return None


def deploy(client: LakeviewClient, dashboard: dict[str, Any], *, warehouse_id: str, parent_path: str = DEFAULT_PARENT_PATH,
           display_name: str = DISPLAY_NAME, dashboard_id: str | None = None, publish: bool = True) -> Published:
    """Create the dashboard, or update it in place when it exists (by id, else by name and folder); then publish
    it so that viewers see this version (viewers run the queries with their own credentials)."""
    from databricks.sdk.service.dashboards import Dashboard

    body = Dashboard(display_name=display_name, serialized_dashboard=json.dumps(dashboard), warehouse_id=warehouse_id,
                     parent_path=parent_path)
    existing = dashboard_id or find_existing(client, display_name, parent_path)
    if existing:
        result = client.lakeview.update(existing, Dashboard(display_name=display_name, warehouse_id=warehouse_id,
                                                            serialized_dashboard=body.serialized_dashboard))
    else:
        result = client.lakeview.create(body)
    new_id = result.dashboard_id or existing
    if publish:
        client.lakeview.publish(new_id, embed_credentials=False, warehouse_id=warehouse_id)
    return Published(new_id, created=not existing, published=publish, path=result.path)
