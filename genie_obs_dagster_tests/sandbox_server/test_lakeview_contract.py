"""The real databricks-sdk 0.60 ``w.lakeview`` (and ``w.workspace.get_status`` / ``mkdirs``) against the simulated
workspace's AI/BI dashboard endpoints: shapes, enums, paging, lifecycle and Databricks' error bodies."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    Aborted,
    InvalidParameterValue,
    NotFound,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from databricks.sdk.service.dashboards import Dashboard, LifecycleState
from databricks.sdk.service.workspace import ObjectType

from genie_obs_dagster.sandbox.server import SANDBOX_WAREHOUSE_ID, SimulatedDatabricks

from .conftest import bearer

FOLDER = "/Workspace/Shared/genie-obs"


def payload(*, dataset: str = "ds", parameters: list[dict[str, Any]] | None = None,
            widget_params: list[dict[str, Any]] | None = None) -> str:
    """A small valid dashboard: one dataset, one page with a counter (and a date filter when asked)."""
    query: dict[str, Any] = {"datasetName": dataset, "fields": [{"name": "sum(n)", "expression": "SUM(`n`)"}],
                             "disaggregated": False}
    layout = [{"widget": {"name": "n", "queries": [{"name": "main_query", "query": query}],
                          "spec": {"version": 2, "widgetType": "counter",
                                   "encodings": {"value": {"fieldName": "sum(n)"}}}},
               "position": {"x": 0, "y": 0, "width": 1, "height": 2}}]
    if widget_params is not None:
        layout.append({"widget": {"name": "range", "queries": [{"name": "q", "query": {
            "datasetName": "ds", "parameters": widget_params, "disaggregated": False}}],
            "spec": {"version": 2, "widgetType": "filter-date-range-picker",
                     "encodings": {"fields": [{"parameterName": "date_range", "queryName": "q"}]}}},
            "position": {"x": 1, "y": 0, "width": 2, "height": 2}})
    ds: dict[str, Any] = {"name": "ds", "displayName": "DS", "queryLines": ["SELECT 1 AS n"]}
    if parameters is not None:
        ds["parameters"] = parameters
    return json.dumps({"datasets": [ds], "pages": [{"name": "p", "displayName": "P", "layout": layout}]})


RANGE = {"keyword": "date_range", "dataType": "DATE", "complexType": "RANGE",
         "defaultSelection": {"range": {"dataType": "DATE", "min": {"value": "now-7d/d"}, "max": {"value": "now/d"}}}}


def create(w: WorkspaceClient, name: str = "Genie observability", folder: str = FOLDER, **kw: Any) -> Dashboard:
    return w.lakeview.create(Dashboard(display_name=name, parent_path=folder,
                                       serialized_dashboard=kw.pop("serialized", payload()),
                                       warehouse_id=SANDBOX_WAREHOUSE_ID, **kw))


def test_create_get_update_publish_round_trip(w: WorkspaceClient) -> None:
    with pytest.raises(NotFound, match=re.escape(f"Path ({FOLDER}) doesn't exist.")):
        create(w)
    w.workspace.mkdirs(FOLDER)
    w.workspace.mkdirs(FOLDER)  # idempotent
    made = create(w)
    assert made.dashboard_id and re.fullmatch(r"[0-9a-f]{32}", made.dashboard_id)
    assert made.lifecycle_state == LifecycleState.ACTIVE and made.etag and made.etag.isdigit()
    assert (made.parent_path, made.path) == ("/Shared/genie-obs", "/Shared/genie-obs/Genie observability.lvdash.json")
    assert made.serialized_dashboard == payload() and made.warehouse_id == SANDBOX_WAREHOUSE_ID
    assert made.create_time and made.create_time.endswith("Z")
    got = w.lakeview.get(made.dashboard_id)
    assert got == made
    changed = payload(parameters=[RANGE], widget_params=[{"name": "date_range", "keyword": "date_range"}])
    updated = w.lakeview.update(made.dashboard_id, Dashboard(serialized_dashboard=changed, etag=made.etag))
    assert updated.serialized_dashboard == changed and updated.etag != made.etag
    assert (updated.display_name, updated.path, updated.warehouse_id) == (made.display_name, made.path, made.warehouse_id)
    assert updated.update_time and updated.update_time >= (made.update_time or "")
    with pytest.raises(Aborted):  # the etag read before the update is stale now
        w.lakeview.update(made.dashboard_id, Dashboard(serialized_dashboard=payload(), etag=made.etag))
    published = w.lakeview.publish(made.dashboard_id, embed_credentials=False, warehouse_id=SANDBOX_WAREHOUSE_ID)
    assert (published.display_name, published.embed_credentials, published.warehouse_id) == \
        (made.display_name, False, SANDBOX_WAREHOUSE_ID)
    assert w.lakeview.get_published(made.dashboard_id) == published
    w.lakeview.unpublish(made.dashboard_id)
    with pytest.raises(NotFound):
        w.lakeview.get_published(made.dashboard_id)


def test_the_workspace_api_finds_a_dashboard_by_path(w: WorkspaceClient) -> None:
    w.workspace.mkdirs(f"{FOLDER}/a/b")
    folder = w.workspace.get_status("/Workspace/Shared/genie-obs/a")
    assert folder.object_type == ObjectType.DIRECTORY and folder.path == "/Shared/genie-obs/a"
    made = create(w, folder=f"{FOLDER}/a")
    for path in (f"{FOLDER}/a/Genie observability.lvdash.json", "/Shared/genie-obs/a/Genie observability.lvdash.json"):
        info = w.workspace.get_status(path)
        assert info.object_type == ObjectType.DASHBOARD and info.resource_id == made.dashboard_id
    with pytest.raises(ResourceDoesNotExist, match=r"Path \(/Shared/nothing\) doesn't exist\."):
        w.workspace.get_status("/Shared/nothing")
    with pytest.raises(ResourceAlreadyExists):  # a dashboard is not a folder
        w.workspace.mkdirs(f"{FOLDER}/a/Genie observability.lvdash.json/c")


def test_one_dashboard_per_name_and_folder(w: WorkspaceClient) -> None:
    w.workspace.mkdirs(FOLDER)
    first = create(w)
    with pytest.raises(ResourceAlreadyExists, match=re.escape("Node named 'Genie observability.lvdash.json' "
                                                              "already exists")):
        create(w)
    create(w, "Second")
    with pytest.raises(ResourceAlreadyExists):  # renaming onto a taken name
        w.lakeview.update(first.dashboard_id, Dashboard(display_name="Second"))
    home = create(w, "Mine", folder=None)  # no folder: the caller's home folder
    assert home.parent_path == f"/Users/{w.config.client_id}"


def test_invalid_dashboards_are_refused(w: WorkspaceClient) -> None:
    w.workspace.mkdirs(FOLDER)
    cases = {
        "not json": "not valid JSON",
        json.dumps({"datasets": []}): "at least one page",
        json.dumps({"pages": []}): "at least one page",
        payload(dataset="missing"): "'missing', which the dashboard does not define",
        payload(widget_params=[{"name": "date_range", "keyword": "date_range"}]): "does not declare",
        json.dumps({"datasets": [{"name": "ds"}], "pages": [{"name": "p"}]}): "has no query",
    }
    for serialized, message in cases.items():
        with pytest.raises(InvalidParameterValue, match=message):
            create(w, serialized=serialized)
    assert list(w.lakeview.list()) == []
    made = create(w)
    with pytest.raises(InvalidParameterValue, match="does not define"):
        w.lakeview.update(made.dashboard_id, Dashboard(serialized_dashboard=payload(dataset="missing")))
    assert w.lakeview.get(made.dashboard_id).serialized_dashboard == payload()


def test_errors_use_databricks_error_bodies(sim: SimulatedDatabricks, wid: str) -> None:
    url, headers = sim.urls[wid], bearer(sim.urls[wid], sim.client_id, sim.client_secret)
    resp = requests.post(f"{url}/api/2.0/lakeview/dashboards", headers=headers, timeout=5,
                         json={"display_name": "x", "parent_path": "/Shared", "serialized_dashboard": "{}"})
    assert resp.status_code == 400
    body = resp.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE" and "page" in body["message"]
    assert body["details"][0]["@type"] == "type.googleapis.com/google.rpc.RequestInfo"
    missing = requests.get(f"{url}/api/2.0/lakeview/dashboards/{'0' * 32}", headers=headers, timeout=5)
    assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    taken = {"display_name": "t", "parent_path": "/Shared"}
    assert requests.post(f"{url}/api/2.0/lakeview/dashboards", headers=headers, json=taken, timeout=5).ok
    again = requests.post(f"{url}/api/2.0/lakeview/dashboards", headers=headers, json=taken, timeout=5)
    assert (again.status_code, again.json()["error_code"]) == (409, "RESOURCE_ALREADY_EXISTS")
    bad_id = requests.get(f"{url}/api/2.0/lakeview/dashboards/nope", headers=headers, timeout=5)
    assert (bad_id.status_code, bad_id.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert requests.get(f"{url}/api/2.0/lakeview/dashboards", timeout=5).status_code == 401


def test_list_pages_and_leaves_out_the_heavy_fields(w: WorkspaceClient) -> None:
    w.workspace.mkdirs(FOLDER)
    made = [create(w, f"d{i}").dashboard_id for i in range(5)]
    listed = list(w.lakeview.list(page_size=2))
    assert [d.dashboard_id for d in listed] == made  # in creation order, over three pages
    assert all(d.serialized_dashboard is None and d.path is None and d.parent_path is None and d.etag is None
               for d in listed)
    assert all(d.display_name and d.lifecycle_state == LifecycleState.ACTIVE for d in listed)


def test_trash_frees_the_name_and_only_once(w: WorkspaceClient) -> None:
    w.workspace.mkdirs(FOLDER)
    first = create(w)
    w.lakeview.trash(first.dashboard_id)
    assert w.lakeview.get(first.dashboard_id).lifecycle_state == LifecycleState.TRASHED
    with pytest.raises(PermissionDenied):
        w.lakeview.trash(first.dashboard_id)
    with pytest.raises(PermissionDenied):
        w.lakeview.publish(first.dashboard_id)
    assert [d.dashboard_id for d in w.lakeview.list()] == []
    assert [d.dashboard_id for d in w.lakeview.list(show_trashed=True)] == [first.dashboard_id]
    with pytest.raises(NotFound):
        w.workspace.get_status(f"{FOLDER}/Genie observability.lvdash.json")
    second = create(w)
    assert second.dashboard_id != first.dashboard_id


def test_publishing_needs_a_warehouse_that_exists(w: WorkspaceClient) -> None:
    w.workspace.mkdirs(FOLDER)
    made = w.lakeview.create(Dashboard(display_name="No warehouse", parent_path=FOLDER, serialized_dashboard=payload()))
    with pytest.raises(InvalidParameterValue, match="warehouse"):
        w.lakeview.publish(made.dashboard_id)
    with pytest.raises(NotFound, match="0123456789abcdef"):
        w.lakeview.publish(made.dashboard_id, warehouse_id="0123456789abcdef")
    published = w.lakeview.publish(made.dashboard_id, warehouse_id=SANDBOX_WAREHOUSE_ID)
    assert published.embed_credentials is True and published.warehouse_id == SANDBOX_WAREHOUSE_ID
    with pytest.raises(ResourceDoesNotExist):
        w.lakeview.publish("f" * 32)
