"""The AI/BI (Lakeview) dashboard definition and its publishing. The simulated workspace has no dashboard
endpoint, so the payload is validated here (structure, SQL, references) and the SDK calls go to a fake client."""

from __future__ import annotations

import argparse
import json
import re
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from databricks.sdk.service.dashboards import Dashboard, PublishedDashboard
from sqlglot import exp

from genie_obs_dagster import cli
from genie_obs_dagster.dashboard import lakeview
from genie_obs_dagster.warehouse import TableNames
from genie_obs_dagster.warehouse import sql as sqlmod

from .conftest import WORKSPACES, make_settings

NAMES = TableNames.build("prod", "genie_obs", "system.access.audit", "system.access.workspaces_latest",
                         "system.query.history")
WAREHOUSE = "0123456789abcdef"


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return lakeview.serialized_dashboard(NAMES)


def widgets(d: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [(p["name"], item["widget"], item["position"]) for p in d["pages"] for item in p["layout"]]


def output_columns(sql: str) -> set[str]:
    return set(sqlglot.parse_one(sql, read="databricks").named_selects)


def test_eight_pages_behind_a_global_workspace_filter(dashboard: dict[str, Any]) -> None:
    pages = dashboard["pages"]
    assert pages[0]["pageType"] == "PAGE_TYPE_GLOBAL_FILTERS"
    assert [p["displayName"] for p in pages[1:]] == ["Executive summary", "Usage", "Quality and feedback",
                                                     "Prompts and SQL", "SQL performance", "Adoption",
                                                     "Space configuration", "Pipeline health"]
    assert all(p["pageType"] == "PAGE_TYPE_CANVAS" for p in pages[1:])
    assert len({p["name"] for p in pages}) == len(pages)
    names = [w["name"] for _, w, _ in widgets(dashboard)]
    assert len(names) == len(set(names))
    kinds = {w["spec"]["widgetType"] for _, w, _ in widgets(dashboard) if "spec" in w}
    assert {"counter", "bar", "line", "pie", "table", "filter-multi-select", "filter-single-select"} <= kinds
    json.loads(json.dumps(dashboard))  # plain JSON all the way down


def test_every_dataset_is_databricks_sql_on_known_tables_only(dashboard: dict[str, Any]) -> None:
    known = {f"prod.genie_obs.{p.stem}" for p in (sqlmod.SQL_DIR / "ddl" / "target").glob("*.sql")}
    known |= {"system.access.audit", "system.access.workspaces_latest", "system.query.history"}
    assert len({d["name"] for d in dashboard["datasets"]}) == len(dashboard["datasets"])
    for name, sql in lakeview.dataset_queries(dashboard):
        tree = sqlglot.parse_one(sql, read="databricks")
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        tables = {".".join(p for p in (t.catalog, t.db, t.name) if p) for t in tree.find_all(exp.Table)} - ctes
        assert tables and tables <= known, (name, tables - known)
        assert not list(tree.find_all(exp.Placeholder)), f"{name}: a Lakeview dataset cannot take :parameters"


def test_every_widget_reads_fields_its_dataset_has(dashboard: dict[str, Any]) -> None:
    columns = {name: output_columns(sql) for name, sql in lakeview.dataset_queries(dashboard)}
    used = set()
    for page, w, _ in widgets(dashboard):
        if "multilineTextboxSpec" in w:
            continue
        queries = {q["name"]: q["query"] for q in w["queries"]}
        for q in queries.values():
            assert q["datasetName"] in columns, (page, w["name"], q["datasetName"])
            used.add(q["datasetName"])
            for f in q["fields"]:
                refs = set(re.findall(r"`([^`]+)`", f["expression"]))
                assert refs and refs <= columns[q["datasetName"]], (w["name"], f, columns[q["datasetName"]])
        enc = w["spec"]["encodings"]
        refs = [e for e in enc.get("fields", []) + enc.get("columns", [])] + [v for k, v in enc.items() if isinstance(v, dict)]
        assert refs, w["name"]
        for e in refs:
            fields = queries[e["queryName"]]["fields"] if "queryName" in e else next(iter(queries.values()))["fields"]
            assert e["fieldName"] in {f["name"] for f in fields}, (w["name"], e)
    assert used == set(columns), "datasets no widget uses"


def test_the_workspace_filter_covers_every_dataset_but_the_per_scope_ones(dashboard: dict[str, Any]) -> None:
    by_name = {w["name"]: w for _, w, _ in widgets(dashboard)}
    global_ = {q["query"]["datasetName"] for q in by_name["workspace_filter"]["queries"]}
    scope = {q["query"]["datasetName"] for q in by_name["scope_filter"]["queries"]}
    assert scope == set(lakeview.SCOPED) and not global_ & scope
    assert global_ | scope == {d["name"] for d in dashboard["datasets"]}
    default = by_name["scope_filter"]["spec"]["selection"]["defaultSelection"]["values"]["values"]
    assert default == [{"value": lakeview.ALL_SCOPES}]


def test_widgets_fit_the_grid_without_overlapping(dashboard: dict[str, Any]) -> None:
    for page in dashboard["pages"]:
        boxes = [item["position"] for item in page["layout"]]
        for b in boxes:
            assert all(isinstance(b[k], int) for k in ("x", "y", "width", "height"))
            assert b["x"] >= 0 and b["y"] >= 0 and b["width"] >= 1 and b["x"] + b["width"] <= lakeview.GRID_COLUMNS
        for a, b in combinations(boxes, 2):
            apart = (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                     or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])
            assert apart, (page["name"], a, b)


def _no_comments(tree: exp.Expression) -> exp.Expression:
    tree = tree.copy()
    for node in tree.walk():
        node.comments = None
    return tree


@pytest.mark.parametrize("folder", ["marts", "dashboards"])
def test_sql_means_the_same_once_written_back_as_databricks_sql(folder: str) -> None:
    """Lakeview datasets and generated MERGE/INSERT statements are Databricks SQL written by sqlglot; they must mean
    what the files say (sqlglot once turned percentile_cont into percentile_approx on the way)."""
    for path in sorted((sqlmod.SQL_DIR / folder).glob("*.sql")):
        for st in sqlmod.parse_file(f"{folder}/{path.stem}"):
            again = sqlglot.parse_one(st.sql(dialect="databricks"), read="databricks")
            assert _no_comments(again).sql("duckdb") == _no_comments(st).sql("duckdb"), path.name


# -- publishing ------------------------------------------------------------------------------------------------


class FakeLakeview:
    """Records calls the way ``WorkspaceClient.lakeview`` would receive them."""

    def __init__(self) -> None:
        self.dashboards: dict[str, Dashboard] = {}
        self.calls: list[tuple[str, Any]] = []

    def list(self, **_: Any) -> list[Dashboard]:
        return list(self.dashboards.values())

    def create(self, dashboard: Dashboard) -> Dashboard:
        new = Dashboard(dashboard_id=f"d{len(self.dashboards) + 1:031d}", display_name=dashboard.display_name,
                        parent_path=dashboard.parent_path, path=f"{dashboard.parent_path}/{dashboard.display_name}.lvdash.json",
                        serialized_dashboard=dashboard.serialized_dashboard, warehouse_id=dashboard.warehouse_id)
        self.dashboards[new.dashboard_id] = new
        self.calls.append(("create", dashboard))
        return new

    def update(self, dashboard_id: str, dashboard: Dashboard) -> Dashboard:
        old = self.dashboards[dashboard_id]
        old.serialized_dashboard, old.warehouse_id = dashboard.serialized_dashboard, dashboard.warehouse_id
        self.calls.append(("update", dashboard_id))
        return old

    def publish(self, dashboard_id: str, *, embed_credentials: bool | None = None,
                warehouse_id: str | None = None) -> PublishedDashboard:
        self.calls.append(("publish", (dashboard_id, embed_credentials, warehouse_id)))
        return PublishedDashboard(display_name=self.dashboards[dashboard_id].display_name)


class FakeClient:
    def __init__(self) -> None:
        self.lakeview = FakeLakeview()


def test_deploy_creates_then_updates_the_same_dashboard(dashboard: dict[str, Any]) -> None:
    client = FakeClient()
    first = lakeview.deploy(client, dashboard, warehouse_id=WAREHOUSE)
    second = lakeview.deploy(client, dashboard, warehouse_id=WAREHOUSE)
    assert first.created and not second.created and first.dashboard_id == second.dashboard_id
    assert len(client.lakeview.dashboards) == 1
    stored = client.lakeview.dashboards[first.dashboard_id]
    assert json.loads(stored.serialized_dashboard) == dashboard and stored.warehouse_id == WAREHOUSE
    assert stored.path == f"{lakeview.DEFAULT_PARENT_PATH}/{lakeview.DISPLAY_NAME}.lvdash.json"
    assert [c[0] for c in client.lakeview.calls] == ["create", "publish", "update", "publish"]
    assert client.lakeview.calls[1][1] == (first.dashboard_id, False, WAREHOUSE)  # viewers use their own credentials


def test_deploy_by_id_and_as_a_draft(dashboard: dict[str, Any]) -> None:
    client = FakeClient()
    made = lakeview.deploy(client, dashboard, warehouse_id=WAREHOUSE, display_name="Other", parent_path="/Workspace/x")
    again = lakeview.deploy(client, dashboard, warehouse_id=WAREHOUSE, dashboard_id=made.dashboard_id, publish=False)
    assert again.dashboard_id == made.dashboard_id and not again.created and not again.published
    assert client.lakeview.calls[-1] == ("update", made.dashboard_id)


def _args(**kw: Any) -> argparse.Namespace:
    base = {"out": None, "publish": False, "workspace_id": None, "warehouse_id": None, "parent_path": None, "name": None,
            "dashboard_id": None, "draft": False}
    return argparse.Namespace(**{**base, **kw})


def test_the_command_writes_the_file_and_publishes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(tmp_path / "wh.duckdb")
    client, asked = FakeClient(), []
    out = tmp_path / "genie.lvdash.json"

    def make_client(s: Any, ws: str) -> FakeClient:
        asked.append(ws)
        return client

    rc = cli.run_lakeview(settings, _args(out=str(out), publish=True, workspace_id=WORKSPACES[1], warehouse_id=WAREHOUSE),
                          make_client)
    assert rc == 0 and asked == [WORKSPACES[1]]
    assert json.loads(out.read_text()) == lakeview.serialized_dashboard(TableNames.from_settings(settings))
    assert len(client.lakeview.dashboards) == 1 and "created dashboard" in capsys.readouterr().out
    assert cli.run_lakeview(settings, _args(publish=True, workspace_id="999", warehouse_id=WAREHOUSE), make_client) == 2
    assert cli.run_lakeview(settings, _args(publish=True, workspace_id=WORKSPACES[0]), make_client) == 2  # no warehouse
    assert cli.run_lakeview(settings, _args(), make_client) == 2  # nothing to do


def test_the_workspace_client_uses_the_configured_url_and_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import databricks.sdk

    seen: dict[str, Any] = {}
    monkeypatch.setattr(databricks.sdk, "WorkspaceClient", lambda **kw: seen.update(kw) or "client")
    monkeypatch.setenv("GENIE_OBS_CLIENT_ID", "app-id")
    monkeypatch.setenv("GENIE_OBS_CLIENT_SECRET", "s3cret")
    settings = make_settings(tmp_path / "wh.duckdb")
    assert cli.workspace_client(settings, WORKSPACES[0]) == "client"
    assert seen == {"host": settings.workspace(WORKSPACES[0]).url, "client_id": "app-id", "client_secret": "s3cret"}
