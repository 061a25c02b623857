"""The AI/BI (Lakeview) dashboard definition and its publishing.

The payload is validated here (structure, SQL, references, filters and parameters); publishing goes through the
real databricks-sdk to the simulated workspace's Lakeview endpoints (``genie-obs lakeview --publish``). What the
queries compute on a warehouse is in ``test_lakeview_figures.py``."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.errors import InvalidParameterValue
from sqlglot import exp

from genie_obs_dagster import cli
from genie_obs_dagster.dashboard import lakeview
from genie_obs_dagster.sandbox.server import (
    SANDBOX_WAREHOUSE_ID,
    SimConfig,
    SimulatedDatabricks,
    WorkspaceFaults,
    lakeview_api,
)
from genie_obs_dagster.warehouse import TableNames
from genie_obs_dagster.warehouse import sql as sqlmod

from .conftest import WORKSPACES, make_scenario, make_settings

NAMES = TableNames.build("prod", "genie_obs", "system.access.audit", "system.access.workspaces_latest",
                         "system.query.history")
PAGES = ["Executive summary", "Usage", "Space detail", "Quality and feedback", "Prompts and SQL", "SQL performance",
         "Adoption", "Space configuration", "Pipeline health"]


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return lakeview.serialized_dashboard(NAMES)


def widgets(d: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [(p["name"], item["widget"], item["position"]) for p in d["pages"] for item in p["layout"]]


def by_name(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["name"]: w for _, w, _ in widgets(d)}


def output_columns(sql: str) -> set[str]:
    return set(sqlglot.parse_one(sql, read="databricks").named_selects)


def test_nine_pages_behind_global_workspace_and_date_filters(dashboard: dict[str, Any]) -> None:
    pages = dashboard["pages"]
    assert pages[0]["pageType"] == "PAGE_TYPE_GLOBAL_FILTERS"
    assert [w["widget"]["name"] for w in pages[0]["layout"]] == ["workspace_filter", "date_range_filter"]
    assert [p["displayName"] for p in pages[1:]] == PAGES
    assert all(p["pageType"] == "PAGE_TYPE_CANVAS" for p in pages[1:])
    assert len({p["name"] for p in pages}) == len(pages)
    names = [w["name"] for _, w, _ in widgets(dashboard)]
    assert len(names) == len(set(names))
    kinds = {w["spec"]["widgetType"] for _, w, _ in widgets(dashboard) if "spec" in w}
    assert {"counter", "bar", "line", "pie", "table", "filter-multi-select", "filter-single-select",
            "filter-date-range-picker"} <= kinds
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


def test_datasets_read_only_the_date_range_they_declare(dashboard: dict[str, Any]) -> None:
    """A parameter must be declared by the dataset that reads it; the range is read as :date_range.min/.max, as
    the lower and upper bound of a BETWEEN in a WHERE (before any aggregation or ranking)."""
    for d in dashboard["datasets"]:
        tree = sqlglot.parse_one("".join(d["queryLines"]), read="databricks")
        markers = list(tree.find_all(exp.Placeholder))
        declared = [p["keyword"] for p in d.get("parameters", [])]
        assert {m.name for m in markers} == set(declared), d["name"]
        if not markers:
            assert d["name"] in lakeview.UNDATED
            continue
        assert d.get("parameters") == [lakeview.range_parameter()]
        param = d["parameters"][0]
        assert (param["dataType"], param["complexType"]) == ("DATE", "RANGE")
        assert set(param["defaultSelection"]["range"]) == {"dataType", "min", "max"}
        betweens = {m.find_ancestor(exp.Between) for m in markers}
        assert None not in betweens, d["name"]
        for between in betweens:
            assert between is not None
            low, high = between.args["low"], between.args["high"]
            assert (low.sql("databricks"), high.sql("databricks")) == (":date_range.min", ":date_range.max"), d["name"]
            assert between.find_ancestor(exp.Where) is not None, d["name"]


def test_the_range_goes_into_every_select_of_the_dated_table() -> None:
    """Shared queries get the range where their rows are read: in each part of a UNION, inside the subquery a
    GROUP BY aggregates, and before a QUALIFY that keeps the latest rows."""
    for name, (table, _) in lakeview.RANGE_FILTERED.items():
        _, sql = lakeview.dataset_sql(name, NAMES)
        tree = sqlglot.parse_one(sql, read="databricks")
        sources = {s: [s.args.get("from_") or s.args.get("from"), *(s.args.get("joins") or [])]
                   for s in tree.find_all(exp.Select)}
        readers = [s for s, src in sources.items()
                   if any(isinstance(f.this, exp.Table) and f.this.name == table for f in src if f is not None)]
        assert readers, name
        for s in readers:
            where = s.args.get("where")
            assert where is not None and ":date_range.min" in where.sql("databricks"), name
    _, prompts = lakeview.dataset_sql("recent_prompts", NAMES)
    tree = sqlglot.parse_one(prompts, read="databricks")
    assert tree.args.get("qualify") is not None and ":date_range" in tree.args["where"].sql("databricks")


def test_every_widget_reads_fields_its_dataset_has(dashboard: dict[str, Any]) -> None:
    columns = {name: output_columns(sql) for name, sql in lakeview.dataset_queries(dashboard)}
    params = {d["name"]: {p["keyword"] for p in d.get("parameters", [])} for d in dashboard["datasets"]}
    used = set()
    for page, w, _ in widgets(dashboard):
        if "multilineTextboxSpec" in w:
            continue
        queries = {q["name"]: q["query"] for q in w["queries"]}
        for q in queries.values():
            assert q["datasetName"] in columns, (page, w["name"], q["datasetName"])
            used.add(q["datasetName"])
            for f in q.get("fields", []):
                refs = set(re.findall(r"`([^`]+)`", f["expression"]))
                assert refs and refs <= columns[q["datasetName"]], (w["name"], f, columns[q["datasetName"]])
            for p in q.get("parameters", []):
                assert p["keyword"] in params[q["datasetName"]], (w["name"], p)
            assert q.get("fields") or q.get("parameters"), w["name"]
        enc = w["spec"]["encodings"]
        refs = [e for e in enc.get("fields", []) + enc.get("columns", [])] + [v for k, v in enc.items() if isinstance(v, dict)]
        assert refs, w["name"]
        for e in refs:
            query = queries[e["queryName"]] if "queryName" in e else next(iter(queries.values()))
            if "parameterName" in e:
                assert e["parameterName"] in {p["keyword"] for p in query["parameters"]}, (w["name"], e)
            else:
                assert e["fieldName"] in {f["name"] for f in query["fields"]}, (w["name"], e)
    assert used == set(columns), "datasets no widget uses"


def test_the_workspace_filter_covers_every_dataset_but_the_per_scope_ones(dashboard: dict[str, Any]) -> None:
    widget = by_name(dashboard)
    global_ = {q["query"]["datasetName"] for q in widget["workspace_filter"]["queries"]}
    scope = {q["query"]["datasetName"] for q in widget["scope_filter"]["queries"]}
    assert scope == set(lakeview.SCOPED) and not global_ & scope
    assert global_ | scope == {d["name"] for d in dashboard["datasets"]}
    default = widget["scope_filter"]["spec"]["selection"]["defaultSelection"]["values"]["values"]
    assert default == [{"value": lakeview.ALL_SCOPES}]


def test_the_date_range_filter_sets_the_parameter_of_every_dated_dataset(dashboard: dict[str, Any]) -> None:
    picker = by_name(dashboard)["date_range_filter"]
    assert picker["spec"]["widgetType"] == "filter-date-range-picker" and picker["spec"]["version"] == 2
    bound = {q["query"]["datasetName"] for q in picker["queries"]}
    dated = {d["name"] for d in dashboard["datasets"] if d.get("parameters")}
    assert bound == dated == {d["name"] for d in dashboard["datasets"]} - set(lakeview.UNDATED)
    for q in picker["queries"]:
        assert q["query"]["parameters"] == [{"name": lakeview.DATE_RANGE, "keyword": lakeview.DATE_RANGE}]
        assert "fields" not in q["query"]
    assert picker["spec"]["encodings"]["fields"] == [{"parameterName": lakeview.DATE_RANGE, "queryName": q["name"]}
                                                     for q in picker["queries"]]
    # Everything about activity is dated; what is left describes configuration and the pipeline.
    assert set(lakeview.UNDATED) == {"space_config", "space_config_items", "config_changes", "pipeline_health",
                                     "fetch_errors"}


def test_the_summary_counts_spaces_conversations_and_askers_exactly(dashboard: dict[str, Any]) -> None:
    """Distinct counts are never sums of daily distinct counts: conversations and active spaces are summed over
    rows of one space each, askers are counted distinct over (space, asker) pairs."""
    widget = by_name(dashboard)

    def field(name: str) -> tuple[str, str]:
        (q,) = widget[name]["queries"]
        (f,) = q["query"]["fields"]
        return q["query"]["datasetName"], f["expression"]

    assert field("kpi_spaces") == ("space_activity", "SUM(`active_spaces`)")
    assert field("kpi_conversations") == ("space_activity", "SUM(`conversations`)")
    assert field("kpi_askers") == ("space_askers", "COUNT(DISTINCT `asker`)")
    assert field("space_askers") == ("space_askers", "COUNT(DISTINCT `asker`)")
    summary = next(p for p in dashboard["pages"] if p["name"] == "executive_summary")
    counters = [i["widget"]["spec"]["frame"]["title"] for i in summary["layout"]
                if i["widget"].get("spec", {}).get("widgetType") == "counter"]
    assert counters[:4] == ["Genie spaces", "Conversations", "Questions", "Askers"]
    # one row per space, so summing over rows never counts a conversation twice
    tree = sqlglot.parse_one(lakeview.dataset_sql("space_activity", NAMES)[1], read="databricks")
    assert {"workspace_id", "space_id", "active_spaces", "conversations"} <= set(tree.named_selects)


def test_the_space_page_filters_every_dataset_it_shows_by_space(dashboard: dict[str, Any]) -> None:
    page = next(p for p in dashboard["pages"] if p["name"] == "space_detail")
    space_filter = page["layout"][0]["widget"]
    assert space_filter["name"] == "space_filter" and space_filter["spec"]["widgetType"] == "filter-single-select"
    shown = {q["query"]["datasetName"] for item in page["layout"][1:] for q in item["widget"].get("queries", [])}
    bound = {q["query"]["datasetName"] for q in space_filter["queries"]}
    assert bound == shown and len(shown) >= 6
    columns = {name: output_columns(sql) for name, sql in lakeview.dataset_queries(dashboard)}
    for q in space_filter["queries"]:
        assert [f["expression"] for f in q["query"]["fields"]] == [f"`{lakeview.SPACE_NAME}`"]
        assert lakeview.SPACE_NAME in columns[q["query"]["datasetName"]]


def _range_subjects(sql: str) -> set[str]:
    """What the dataset's date range restricts: the left side of each ``BETWEEN :date_range.min AND ...max``."""
    tree = sqlglot.parse_one(sql, read="databricks")
    return {b.this.sql("databricks") for b in tree.find_all(exp.Between)
            if b.args["low"].sql("databricks") == ":date_range.min"}


def test_the_space_page_charts_benchmark_accuracy_and_the_impact_of_configuration_changes(
        dashboard: dict[str, Any]) -> None:
    widget = by_name(dashboard)
    page = next(p for p in dashboard["pages"] if p["name"] == "space_detail")
    on_page = {i["widget"]["name"] for i in page["layout"]}
    assert {"space_accuracy", "space_accuracy_latest", "space_change_impact"} <= on_page

    # Accuracy over time: a line of each run's accuracy (x: when it finished), one series per space.
    chart = widget["space_accuracy"]
    (q,) = chart["queries"]
    assert q["query"]["datasetName"] == "eval_accuracy" and not q["query"]["disaggregated"]
    assert {f["name"]: f["expression"] for f in q["query"]["fields"]} == {
        "finished_at": "`finished_at`", "avg(accuracy)": "AVG(`accuracy`)", "space_name": "`space_name`"}
    enc = chart["spec"]["encodings"]
    assert (chart["spec"]["widgetType"], chart["spec"]["version"]) == ("line", 3)
    assert (enc["x"]["fieldName"], enc["x"]["scale"]["type"]) == ("finished_at", "temporal")
    assert (enc["y"]["fieldName"], enc["y"]["scale"]["type"]) == ("avg(accuracy)", "quantitative")
    assert enc["color"]["fieldName"] == "space_name"

    def columns(name: str) -> list[str]:
        spec = widget[name]["spec"]
        assert (spec["widgetType"], spec["version"]) == ("table", 2)
        assert widget[name]["queries"][0]["query"]["disaggregated"]
        return [c["fieldName"] for c in spec["encodings"]["columns"]]

    assert widget["space_accuracy_latest"]["queries"][0]["query"]["datasetName"] == "space_eval_latest"
    assert {"finished_at", "accuracy", "previous_accuracy", "accuracy_change"} <= set(columns("space_accuracy_latest"))
    assert widget["space_change_impact"]["queries"][0]["query"]["datasetName"] == "config_change_impact"
    assert columns("space_change_impact")[:3] == ["changed_at", "version_number", "diff_summary"]
    assert {f"{m}_{w}" for m in ("questions", "success_rate", "negative_feedback_rate") for w in ("before", "after")} \
        | {"success_rate_change"} <= set(columns("space_change_impact"))

    # Bound to the space filter and to the date range; a change is dated by its UTC day, a run by run_date.
    new = {"eval_accuracy", "space_eval_latest", "config_change_impact"}
    space = {q["query"]["datasetName"] for q in widget["space_filter"]["queries"]}
    dated = {q["query"]["datasetName"] for q in widget["date_range_filter"]["queries"]}
    assert new <= space and new <= dated and not new & set(lakeview.UNDATED)
    sql = dict(lakeview.dataset_queries(dashboard))
    assert _range_subjects(sql["config_change_impact"]) == {"CAST(c.changed_at AS DATE)"}  # the mart, aliased c
    for name in ("eval_accuracy", "space_eval_latest"):
        (subject,) = _range_subjects(sql[name])
        assert subject.split(".")[-1] == "run_date", name
    note = " ".join(next(i["widget"] for i in page["layout"] if i["widget"]["name"] == "space_note")
                    ["multilineTextboxSpec"]["lines"])
    assert "configuration changes" in note and "benchmark runs" in note and "date range" in note


def test_the_configuration_page_shows_every_change_with_its_impact_and_accuracy_by_space(
        dashboard: dict[str, Any]) -> None:
    widget = by_name(dashboard)
    page = next(p for p in dashboard["pages"] if p["name"] == "space_configuration")
    on_page = {i["widget"]["name"]: i["widget"] for i in page["layout"]}
    impact = on_page["change_impact"]
    assert impact["queries"][0]["query"]["datasetName"] == "config_change_impact"
    cols = [c["fieldName"] for c in impact["spec"]["encodings"]["columns"]]
    assert cols[:2] == ["space", "workspace_name"] and {"diff_summary", "success_rate_before", "success_rate_after",
                                                        "success_rate_change", "diff_json"} <= set(cols)
    latest = on_page["accuracy_latest"]
    assert latest["queries"][0]["query"]["datasetName"] == "space_eval_latest"
    assert {"space", "workspace_name", "accuracy", "accuracy_change"} <= {c["fieldName"] for c in
                                                                        latest["spec"]["encodings"]["columns"]}
    assert on_page["accuracy_by_space"]["spec"]["encodings"]["color"]["fieldName"] == lakeview.SPACE_NAME
    workspace = {q["query"]["datasetName"] for q in widget["workspace_filter"]["queries"]}
    assert {"config_change_impact", "eval_accuracy", "space_eval_latest"} <= workspace
    note = " ".join(on_page["config_note"]["multilineTextboxSpec"]["lines"])
    assert "date range" in note and "changes" in note and "Benchmark accuracy" in note


def test_every_shared_dataset_is_on_lakeview_or_local_only_with_a_reason(dashboard: dict[str, Any]) -> None:
    """A new shared dataset is either read by a widget (then dated or UNDATED, else publishing fails) or listed in
    LOCAL_ONLY with the reason Lakeview leaves it out."""
    on_lakeview = {d["name"] for d in dashboard["datasets"]}
    shared = {d.name for d in lakeview.ds.DATASETS}
    assert set(lakeview.LOCAL_ONLY) == shared - on_lakeview and all(lakeview.LOCAL_ONLY.values())
    assert on_lakeview == (shared - set(lakeview.LOCAL_ONLY)) | {d.name for d in lakeview.LAKEVIEW_DATASETS}
    assert set(lakeview.RANGE_FILTERED) <= on_lakeview and set(lakeview.UNDATED) <= on_lakeview


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


@pytest.mark.parametrize("folder", ["marts", "dashboards", "dashboards/lakeview"])
def test_sql_means_the_same_once_written_back_as_databricks_sql(folder: str) -> None:
    """Lakeview datasets and generated MERGE/INSERT statements are Databricks SQL written by sqlglot; they must mean
    what the files say (sqlglot once turned percentile_cont into percentile_approx on the way)."""
    paths = sorted((sqlmod.SQL_DIR / folder).glob("*.sql"))
    assert paths
    for path in paths:
        for st in sqlmod.parse_file(f"{folder}/{path.stem}"):
            again = sqlglot.parse_one(st.sql(dialect="databricks"), read="databricks")
            assert _no_comments(again).sql("duckdb") == _no_comments(st).sql("duckdb"), path.name


# -- publishing to the simulated workspace, through the real SDK -------------------------------------------------


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatedDatabricks]:
    with SimulatedDatabricks(make_scenario(days=1, questions_per_day=2),
                             SimConfig(faults=WorkspaceFaults(requests_per_second=None))) as s:
        yield s


@pytest.fixture
def client(sim: SimulatedDatabricks) -> WorkspaceClient:
    return WorkspaceClient(config=Config(host=sim.urls[WORKSPACES[0]], client_id=sim.client_id,
                                         client_secret=sim.client_secret, auth_type="oauth-m2m"))


@pytest.fixture
def folder(request: pytest.FixtureRequest) -> str:
    """A folder of its own per test (the simulated workspace lives for the module), not created yet."""
    return f"/Workspace/Shared/genie-obs-{request.node.name.replace('[', '-').rstrip(']')}"


def test_deploy_creates_the_folder_and_the_dashboard_then_updates_the_same_one(
        client: WorkspaceClient, dashboard: dict[str, Any], folder: str) -> None:
    first = lakeview.deploy(client, dashboard, warehouse_id=SANDBOX_WAREHOUSE_ID, parent_path=folder)
    draft = client.lakeview.get(first.dashboard_id)
    changed = {**dashboard, "pages": dashboard["pages"][:-1]}
    second = lakeview.deploy(client, changed, warehouse_id=SANDBOX_WAREHOUSE_ID, parent_path=folder)
    assert first.created and not second.created and first.dashboard_id == second.dashboard_id
    assert first.published and second.published
    got = client.lakeview.get(first.dashboard_id)
    assert json.loads(got.serialized_dashboard) == changed and got.etag != draft.etag
    assert got.warehouse_id == SANDBOX_WAREHOUSE_ID and got.display_name == lakeview.DISPLAY_NAME
    # The backend keeps workspace paths without the /Workspace prefix.
    short = folder.removeprefix("/Workspace")
    assert got.parent_path == short and got.path == f"{short}/{lakeview.DISPLAY_NAME}.lvdash.json" == first.path
    mine = [d for d in client.lakeview.list() if d.display_name == lakeview.DISPLAY_NAME
            and client.lakeview.get(d.dashboard_id).parent_path == short]
    assert [d.dashboard_id for d in mine] == [first.dashboard_id]
    published = client.lakeview.get_published(first.dashboard_id)
    assert (published.warehouse_id, published.embed_credentials) == (SANDBOX_WAREHOUSE_ID, False)


def test_a_draft_update_leaves_the_published_version_alone(sim: SimulatedDatabricks, client: WorkspaceClient,
                                                           dashboard: dict[str, Any], folder: str) -> None:
    made = lakeview.deploy(client, dashboard, warehouse_id=SANDBOX_WAREHOUSE_ID, display_name="Other",
                           parent_path=folder)
    changed = {**dashboard, "pages": dashboard["pages"][:2]}
    again = lakeview.deploy(client, changed, warehouse_id=SANDBOX_WAREHOUSE_ID, dashboard_id=made.dashboard_id,
                            publish=False)
    assert again.dashboard_id == made.dashboard_id and not again.created and not again.published
    assert json.loads(client.lakeview.get(made.dashboard_id).serialized_dashboard) == changed
    stored = lakeview_api.store(sim.app(WORKSPACES[0])).dashboards[made.dashboard_id]
    assert stored.published is not None and json.loads(stored.published.serialized_dashboard or "") == dashboard


def test_a_bad_payload_is_refused_with_the_api_error(client: WorkspaceClient, dashboard: dict[str, Any],
                                                     folder: str) -> None:
    page = json.loads(json.dumps(dashboard["pages"][1]))
    page["layout"][1]["widget"]["queries"][0]["query"]["datasetName"] = "no_such_dataset"
    broken = {**dashboard, "pages": [page]}
    with pytest.raises(InvalidParameterValue, match="no_such_dataset") as info:
        lakeview.deploy(client, broken, warehouse_id=SANDBOX_WAREHOUSE_ID, parent_path=folder)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert lakeview.find_existing(client, lakeview.DISPLAY_NAME, folder) is None  # nothing was created
    undeclared = json.loads(json.dumps(dashboard))
    for d in undeclared["datasets"]:
        d.pop("parameters", None)
    with pytest.raises(InvalidParameterValue, match="date_range"):
        lakeview.deploy(client, undeclared, warehouse_id=SANDBOX_WAREHOUSE_ID, parent_path=folder)


def test_a_name_taken_by_a_folder_is_an_error_not_an_update(client: WorkspaceClient, dashboard: dict[str, Any],
                                                            folder: str) -> None:
    client.workspace.mkdirs(lakeview.dashboard_path(folder, "Taken"))
    with pytest.raises(lakeview.LakeviewError, match="DIRECTORY"):
        lakeview.deploy(client, dashboard, warehouse_id=SANDBOX_WAREHOUSE_ID, parent_path=folder, display_name="Taken")


def _args(**kw: Any) -> argparse.Namespace:
    base = {"out": None, "publish": False, "workspace_id": None, "warehouse_id": None, "parent_path": None, "name": None,
            "dashboard_id": None, "draft": False}
    return argparse.Namespace(**{**base, **kw})


def test_the_command_writes_the_file_and_publishes(sim: SimulatedDatabricks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """``genie-obs lakeview --out FILE --publish`` with the settings' workspace URL and OAuth credentials."""
    monkeypatch.setenv("GENIE_OBS_CLIENT_ID", sim.client_id)
    monkeypatch.setenv("GENIE_OBS_CLIENT_SECRET", sim.client_secret)
    settings = make_settings(tmp_path / "wh.duckdb", workspaces=[{"id": w, "url": sim.urls[w]} for w in WORKSPACES])
    out = tmp_path / "genie.lvdash.json"
    publish = {"publish": True, "workspace_id": WORKSPACES[1], "warehouse_id": SANDBOX_WAREHOUSE_ID,
               "parent_path": "/Workspace/Shared/genie-obs-cli"}
    assert cli.run_lakeview(settings, _args(out=str(out), **publish)) == 0
    written = json.loads(out.read_text())
    assert written == lakeview.serialized_dashboard(TableNames.from_settings(settings))
    assert "created dashboard" in capsys.readouterr().out
    assert cli.run_lakeview(settings, _args(**publish)) == 0
    assert "updated dashboard" in capsys.readouterr().out
    w = WorkspaceClient(config=Config(host=sim.urls[WORKSPACES[1]], client_id=sim.client_id,
                                      client_secret=sim.client_secret, auth_type="oauth-m2m"))
    found = lakeview.find_existing(w, lakeview.DISPLAY_NAME, "/Workspace/Shared/genie-obs-cli")
    assert found and json.loads(w.lakeview.get(found).serialized_dashboard) == written
    assert w.lakeview.get_published(found).warehouse_id == SANDBOX_WAREHOUSE_ID
    # The workspace's refusal is reported without a stack trace.
    assert cli.run_lakeview(settings, _args(**{**publish, "warehouse_id": "0123456789abcdef"})) == 1
    assert "does not exist" in capsys.readouterr().err
    assert cli.run_lakeview(settings, _args(publish=True, workspace_id="999", warehouse_id=SANDBOX_WAREHOUSE_ID)) == 2
    assert cli.run_lakeview(settings, _args(publish=True, workspace_id=WORKSPACES[0])) == 2  # no warehouse
    assert cli.run_lakeview(settings, _args()) == 2  # nothing to do


def test_the_workspace_client_uses_the_configured_url_and_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import databricks.sdk

    seen: dict[str, Any] = {}
    monkeypatch.setattr(databricks.sdk, "WorkspaceClient", lambda **kw: seen.update(kw) or "client")
    monkeypatch.setenv("GENIE_OBS_CLIENT_ID", "app-id")
    monkeypatch.setenv("GENIE_OBS_CLIENT_SECRET", "s3cret")
    settings = make_settings(tmp_path / "wh.duckdb")
    assert cli.workspace_client(settings, WORKSPACES[0]) == "client"
    assert seen == {"host": settings.workspace(WORKSPACES[0]).url, "client_id": "app-id", "client_secret": "s3cret"}
