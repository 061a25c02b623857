"""AI/BI (Lakeview) dashboards and the two Workspace API calls that go with them, as databricks-sdk 0.60 calls them
(databricks-backend.md §4; SDK 0.60 ``service/dashboards.py`` ``LakeviewAPI``, ``service/workspace.py``
``WorkspaceAPI.get_status`` / ``mkdirs``).

``/api/2.0/lakeview/dashboards``: POST (create), GET (list: ``page_size``, ``page_token``, ``show_trashed``;
items leave out ``etag``, ``parent_path``, ``path``, ``serialized_dashboard`` and ``update_time``, as the SDK
documents). ``/api/2.0/lakeview/dashboards/{id}``: GET, PATCH (only the given fields change; a stale ``etag`` is
refused), DELETE (trash: ``lifecycle_state`` TRASHED, the path is freed; trashing again is 403).
``/api/2.0/lakeview/dashboards/{id}/published``: POST (publish the current draft: ``embed_credentials``,
``warehouse_id``), GET, DELETE (unpublish). ``/api/2.0/workspace/get-status`` (a dashboard is an object of type
DASHBOARD whose ``resource_id`` is its dashboard id) and ``/api/2.0/workspace/mkdirs``.

Behaviour taken from Databricks' own clients: the backend stores paths without the ``/Workspace`` prefix (the
Databricks CLI adds it back); a create in a folder that does not exist is 404 ``RESOURCE_DOES_NOT_EXIST`` "Path
(<folder>) doesn't exist." (the CLI and the Terraform provider then call mkdirs and retry); a second dashboard
with the same name in the same folder is ``RESOURCE_ALREADY_EXISTS`` "Node named '<name>.lvdash.json' already
exists". The dashboard is ``<parent_path>/<display_name>.lvdash.json``; ``parent_path`` defaults to the caller's
home folder. ``serialized_dashboard`` must be a JSON string holding an object with at least one page, uniquely
named datasets that each have a query, and widgets whose queries name a defined dataset and only parameters that
dataset declares (400 ``INVALID_PARAMETER_VALUE``).

Not confirmed ([U]) and chosen here: the wording of the validation messages; the status of a duplicate name (409,
the status Databricks gives RESOURCE_ALREADY_EXISTS); a stale etag is 409 ``ABORTED``; updating or publishing a
trashed dashboard is 403 like trashing it twice; publishing needs a warehouse (the request's or the draft's) that
exists (else 400 / 404), ``embed_credentials`` defaults to true; ``parent_path`` in an update is ignored; list
pages hold 20 dashboards by default, at most 100, ordered by creation. No permissions: every principal may
create, change and publish anything. State is kept per workspace, in memory, for the life of the server; the
routes run outside the scenario lock and guard their own state.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .paging import page_size, paginate
from .protocol import ApiError, Response, denied, invalid, json_response, not_found
from .routing import Call, Route, route

if TYPE_CHECKING:
    from .app import WorkspaceApp

LV = "/api/2.0/lakeview/dashboards"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
SUFFIX = ".lvdash.json"
WORKSPACE_PREFIX = "/Workspace"
ROOT_FOLDERS = ("/", "/Shared", "/Users")


def _iso(at: dt.datetime) -> str:
    at = at.astimezone(dt.timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def _object_id() -> int:
    return 10**15 + secrets.randbelow(9 * 10**15)


@dataclass(frozen=True)
class PublishedRevision:
    """What viewers of a published dashboard see: the draft as it was when it was published."""

    serialized_dashboard: str | None
    display_name: str
    warehouse_id: str
    embed_credentials: bool
    revision_create_time: dt.datetime

    def as_json(self) -> dict[str, Any]:
        return {"display_name": self.display_name, "embed_credentials": self.embed_credentials,
                "warehouse_id": self.warehouse_id, "revision_create_time": _iso(self.revision_create_time)}


@dataclass
class StoredDashboard:
    dashboard_id: str
    display_name: str
    parent_path: str  # without the /Workspace prefix, no trailing slash ("/" for the root)
    serialized_dashboard: str | None
    warehouse_id: str | None
    create_time: dt.datetime
    update_time: dt.datetime
    etag: int
    seq: int  # creation order (list order)
    object_id: int = field(default_factory=_object_id)
    lifecycle_state: str = "ACTIVE"
    published: PublishedRevision | None = None

    @property
    def path(self) -> str:
        return f"{self.parent_path.rstrip('/')}/{self.display_name}{SUFFIX}"

    @property
    def active(self) -> bool:
        return self.lifecycle_state == "ACTIVE"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dashboard_id": self.dashboard_id, "display_name": self.display_name,
                               "path": self.path, "parent_path": self.parent_path, "create_time": _iso(self.create_time),
                               "update_time": _iso(self.update_time), "etag": str(self.etag),
                               "lifecycle_state": self.lifecycle_state}
        if self.serialized_dashboard is not None:
            out["serialized_dashboard"] = self.serialized_dashboard
        if self.warehouse_id is not None:
            out["warehouse_id"] = self.warehouse_id
        return out

    def list_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dashboard_id": self.dashboard_id, "display_name": self.display_name,
                               "create_time": _iso(self.create_time), "lifecycle_state": self.lifecycle_state}
        if self.warehouse_id is not None:
            out["warehouse_id"] = self.warehouse_id
        return out


class DashboardStore:
    """The folders and dashboards of one workspace (the workspace tree as far as dashboards need it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.folders: dict[str, int] = {p: _object_id() for p in ROOT_FOLDERS}
        self.dashboards: dict[str, StoredDashboard] = {}
        self._etag = 80_000_000 + secrets.randbelow(10_000_000)

    def next_etag(self) -> int:
        self._etag += 1
        return self._etag

    def at(self, path: str) -> StoredDashboard | None:
        """The active dashboard at ``path``, if any."""
        return next((d for d in self.dashboards.values() if d.active and d.path == path), None)

    def occupied(self, path: str) -> bool:
        return path in self.folders or self.at(path) is not None

    def new_id(self) -> str:
        while True:
            candidate = "01f1" + secrets.token_hex(14)
            if candidate not in self.dashboards:
                return candidate


_STORES: weakref.WeakKeyDictionary[WorkspaceApp, DashboardStore] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def store(app: WorkspaceApp) -> DashboardStore:
    """The dashboards and folders of one simulated workspace (made on first use)."""
    with _STORES_LOCK:
        found = _STORES.get(app)
        if found is None:
            found = _STORES[app] = DashboardStore()
        return found


# -- request checks ------------------------------------------------------------------------------------------
def workspace_path(raw: Any, name: str = "path") -> str:
    """An absolute workspace path as the backend keeps it: without the /Workspace prefix or a trailing slash."""
    if not isinstance(raw, str) or not raw.startswith("/"):
        raise invalid(f"{name} must be an absolute workspace path starting with '/', got {raw!r}")
    path = raw.rstrip("/") or "/"
    if path == WORKSPACE_PREFIX:
        path = "/"
    elif path.startswith(WORKSPACE_PREFIX + "/"):
        path = path[len(WORKSPACE_PREFIX):]
    if path != "/" and any(part in ("", ".", "..") for part in path.split("/")[1:]):
        raise invalid(f"{name} {raw!r} is not a valid workspace path")
    return path


def _parent_of(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def _display_name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise invalid("display_name is required and must be a non-empty string")
    if "/" in raw:
        raise invalid(f"display_name {raw!r} cannot contain '/'")
    return raw


def _opt_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid(f"{name} must be a string")
    return value or None


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def validate_serialized_dashboard(raw: Any) -> dict[str, Any]:
    """The parsed dashboard, or 400 naming the first problem."""
    if not isinstance(raw, str):
        raise invalid("serialized_dashboard must be a JSON string")
    try:
        value = json.loads(raw)
    except ValueError:
        raise invalid("Invalid serialized_dashboard: not valid JSON") from None
    if not isinstance(value, dict):
        raise invalid("Invalid serialized_dashboard: expected a JSON object with datasets and pages")
    datasets = value.get("datasets", [])
    if not isinstance(datasets, list):
        raise invalid("Invalid serialized_dashboard: datasets must be a list")
    declared: dict[str, set[str]] = {}
    for d in datasets:
        name = d.get("name") if isinstance(d, dict) else None
        if not isinstance(name, str) or not name:
            raise invalid("Invalid serialized_dashboard: every dataset needs a name")
        if name in declared:
            raise invalid(f"Invalid serialized_dashboard: dataset name '{name}' is used twice")
        if not (_strings(d.get("queryLines")) and "".join(d["queryLines"]).strip()) and \
                not (isinstance(d.get("query"), str) and d["query"].strip()):
            raise invalid(f"Invalid serialized_dashboard: dataset '{name}' has no query (queryLines)")
        params = d.get("parameters", [])
        if not isinstance(params, list) or not all(isinstance(p, dict) and isinstance(p.get("keyword"), str)
                                                    for p in params):
            raise invalid(f"Invalid serialized_dashboard: parameters of dataset '{name}' need a keyword each")
        declared[name] = {p["keyword"] for p in params}
    pages = value.get("pages")
    if not isinstance(pages, list) or not pages:
        raise invalid("Invalid serialized_dashboard: a dashboard needs at least one page")
    page_names: set[str] = set()
    widget_names: set[str] = set()
    for page in pages:
        pname = page.get("name") if isinstance(page, dict) else None
        if not isinstance(pname, str) or not pname or pname in page_names:
            raise invalid(f"Invalid serialized_dashboard: every page needs a unique name (got {pname!r})")
        page_names.add(pname)
        layout = page.get("layout", [])
        if not isinstance(layout, list):
            raise invalid(f"Invalid serialized_dashboard: layout of page '{pname}' must be a list")
        for item in layout:
            widget = item.get("widget") if isinstance(item, dict) else None
            wname = widget.get("name") if isinstance(widget, dict) else None
            if not isinstance(wname, str) or not wname or wname in widget_names:
                raise invalid(f"Invalid serialized_dashboard: every widget on page '{pname}' needs a unique name "
                              f"(got {wname!r})")
            widget_names.add(wname)
            assert isinstance(widget, dict)
            for q in widget.get("queries", []) or []:
                query = q.get("query") if isinstance(q, dict) else None
                dataset = query.get("datasetName") if isinstance(query, dict) else None
                if dataset not in declared:
                    raise invalid(f"Invalid serialized_dashboard: widget '{wname}' on page '{pname}' reads dataset "
                                  f"{dataset!r}, which the dashboard does not define")
                assert isinstance(query, dict) and isinstance(dataset, str)
                for p in query.get("parameters", []) or []:
                    keyword = p.get("keyword") if isinstance(p, dict) else None
                    if keyword not in declared[dataset]:
                        raise invalid(f"Invalid serialized_dashboard: widget '{wname}' on page '{pname}' sets "
                                      f"parameter {keyword!r}, which dataset '{dataset}' does not declare")
    return value


def _id(call: Call) -> str:
    value = call.path["dashboard_id"]
    if not HEX32.match(value):
        raise invalid(f"Invalid dashboard id {value!r}: expected 32 lowercase hexadecimal characters")
    return value


def _dashboard(call: Call, st: DashboardStore) -> StoredDashboard:
    dashboard_id = _id(call)
    found = st.dashboards.get(dashboard_id)
    if found is None:
        raise not_found(f"Dashboard {dashboard_id} does not exist.")
    return found


def _active(call: Call, st: DashboardStore, doing: str) -> StoredDashboard:
    found = _dashboard(call, st)
    if not found.active:
        raise denied(f"Cannot {doing} dashboard {found.dashboard_id}: it is in the trash.")
    return found


def _home(call: Call, st: DashboardStore) -> str:
    """The caller's home folder (every user of a workspace has one)."""
    home = f"/Users/{call.caller.identity}"
    st.folders.setdefault(home, _object_id())
    return home


def _taken(display_name: str) -> ApiError:
    return ApiError(409, "RESOURCE_ALREADY_EXISTS", f"Node named '{display_name}{SUFFIX}' already exists")


# -- dashboards ----------------------------------------------------------------------------------------------
def create_dashboard(call: Call) -> Response:
    body = call.request.json_body()
    display_name = _display_name(body.get("display_name"))
    serialized = body.get("serialized_dashboard")
    if serialized is not None:
        validate_serialized_dashboard(serialized)
    warehouse_id = _opt_str(body, "warehouse_id")
    raw_parent = body.get("parent_path")
    st = store(call.app)
    with st.lock:
        home = _home(call, st)
        parent = workspace_path(raw_parent, "parent_path") if raw_parent is not None else home
        if parent not in st.folders:
            raise not_found(f"Path ({raw_parent}) doesn't exist.")
        path = f"{parent.rstrip('/')}/{display_name}{SUFFIX}"
        if st.occupied(path):
            raise _taken(display_name)
        d = StoredDashboard(st.new_id(), display_name, parent, serialized, warehouse_id, call.now, call.now,
                            st.next_etag(), len(st.dashboards))
        st.dashboards[d.dashboard_id] = d
        return json_response(d.as_json())


def get_dashboard(call: Call) -> Response:
    st = store(call.app)
    with st.lock:
        return json_response(_dashboard(call, st).as_json())


def update_dashboard(call: Call) -> Response:
    body = call.request.json_body()
    st = store(call.app)
    with st.lock:
        d = _active(call, st, "update")
        etag = body.get("etag")
        if etag and str(etag) != str(d.etag):
            raise ApiError(409, "ABORTED", f"Dashboard {d.dashboard_id} was modified since etag {etag!r} was read; "
                                           "get it again and retry with the new etag.")
        display_name = _display_name(body["display_name"]) if body.get("display_name") is not None else d.display_name
        serialized = body.get("serialized_dashboard")
        if serialized is not None:
            validate_serialized_dashboard(serialized)
        warehouse_id = _opt_str(body, "warehouse_id")
        if display_name != d.display_name:
            if st.occupied(f"{d.parent_path.rstrip('/')}/{display_name}{SUFFIX}"):
                raise _taken(display_name)
            d.display_name = display_name
        if serialized is not None:
            d.serialized_dashboard = serialized
        if warehouse_id is not None:
            d.warehouse_id = warehouse_id
        d.update_time = max(call.now, d.update_time + dt.timedelta(milliseconds=1))
        d.etag = st.next_etag()
        return json_response(d.as_json())


def list_dashboards(call: Call) -> Response:
    req = call.request
    size = page_size(req.int_param("page_size"), strict_max=False)
    show_trashed = req.bool_param("show_trashed")
    view = req.query.get("view")
    if view not in (None, "", "DASHBOARD_VIEW_BASIC"):
        raise invalid(f"Invalid view {view!r}; expected DASHBOARD_VIEW_BASIC")
    st = store(call.app)
    with st.lock:
        items = [d for d in st.dashboards.values() if d.active or show_trashed]
        page, token = paginate(items, lambda d: (d.seq,), size, req.query.get("page_token"))
        out: dict[str, Any] = {"dashboards": [d.list_json() for d in page]}
    if token:
        out["next_page_token"] = token
    return json_response(out)


def trash_dashboard(call: Call) -> Response:
    st = store(call.app)
    with st.lock:
        d = _active(call, st, "trash")
        d.lifecycle_state = "TRASHED"
        d.update_time = max(call.now, d.update_time + dt.timedelta(milliseconds=1))
        d.etag = st.next_etag()
    return json_response({})


# -- published versions --------------------------------------------------------------------------------------
def publish_dashboard(call: Call) -> Response:
    body = call.request.json_body()
    embed = body.get("embed_credentials", True)
    if not isinstance(embed, bool):
        raise invalid("embed_credentials must be a boolean")
    requested = _opt_str(body, "warehouse_id")
    st = store(call.app)
    with st.lock:
        d = _active(call, st, "publish")
        warehouse_id = requested or d.warehouse_id
        if not warehouse_id:
            raise invalid(f"Dashboard {d.dashboard_id} has no warehouse: give warehouse_id to publish it")
        if warehouse_id not in call.app.warehouse.config.warehouse_ids:
            raise not_found(f"SQL warehouse {warehouse_id} does not exist.")
        d.published = PublishedRevision(d.serialized_dashboard, d.display_name, warehouse_id, embed, call.now)
        return json_response(d.published.as_json())


def _published(call: Call, st: DashboardStore) -> StoredDashboard:
    d = _dashboard(call, st)
    if d.published is None or not d.active:
        raise not_found(f"Dashboard {d.dashboard_id} is not published.")
    return d


def get_published(call: Call) -> Response:
    st = store(call.app)
    with st.lock:
        revision = _published(call, st).published
        assert revision is not None
        return json_response(revision.as_json())


def unpublish_dashboard(call: Call) -> Response:
    st = store(call.app)
    with st.lock:
        _published(call, st).published = None
    return json_response({})


# -- workspace objects ---------------------------------------------------------------------------------------
def get_status(call: Call) -> Response:
    raw = call.request.query.get("path")
    if not raw:
        raise invalid("path is required")
    path = workspace_path(raw)
    st = store(call.app)
    with st.lock:
        _home(call, st)
        if path in st.folders:
            oid = st.folders[path]
            return json_response({"object_type": "DIRECTORY", "path": path, "object_id": oid, "resource_id": str(oid)})
        d = st.at(path)
        if d is None:
            raise not_found(f"Path ({raw}) doesn't exist.")
        return json_response({"object_type": "DASHBOARD", "path": path, "object_id": d.object_id,
                              "resource_id": d.dashboard_id, "created_at": _ms(d.create_time),
                              "modified_at": _ms(d.update_time)})


def mkdirs(call: Call) -> Response:
    raw = call.request.json_body().get("path")
    path = workspace_path(raw)
    st = store(call.app)
    with st.lock:
        _home(call, st)
        parts = path.split("/")[1:] if path != "/" else []
        prefixes = ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]
        blocked = next((p for p in prefixes if st.at(p) is not None), None)
        if blocked is not None:
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Cannot create directory {path}: {blocked} exists and is "
                                                           "not a directory")
        for p in prefixes:
            st.folders.setdefault(p, _object_id())
    return json_response({})


ROUTES: tuple[Route, ...] = (
    route("POST", LV, "lakeview_create", create_dashboard, locked=False),
    route("GET", LV, "lakeview_list", list_dashboards, locked=False),
    route("GET", LV + "/{dashboard_id}", "lakeview_get", get_dashboard, locked=False),
    route("PATCH", LV + "/{dashboard_id}", "lakeview_update", update_dashboard, locked=False),
    route("DELETE", LV + "/{dashboard_id}", "lakeview_trash", trash_dashboard, locked=False),
    route("POST", LV + "/{dashboard_id}/published", "lakeview_publish", publish_dashboard, locked=False),
    route("GET", LV + "/{dashboard_id}/published", "lakeview_get_published", get_published, locked=False),
    route("DELETE", LV + "/{dashboard_id}/published", "lakeview_unpublish", unpublish_dashboard, locked=False),
    route("GET", "/api/2.0/workspace/get-status", "workspace_get_status", get_status, locked=False),
    route("POST", "/api/2.0/workspace/mkdirs", "workspace_mkdirs", mkdirs, locked=False),
)
