"""The initial load: one asset backfill over every partition of every asset, launched like the UI does.

Why an *asset* backfill through the webserver's GraphQL API (``launchPartitionBackfill``):

- it is what "Materialize all" -> "Launch backfill" in the UI creates, and the backfill daemon applies the
  assets' ``BackfillPolicy.single_run()``: one run per workspace spanning its whole history (50 workspaces x
  90 days = 50 ingest runs), then the workspace-partitioned API assets and the marts after their upstream;
- ``dagster job backfill`` launches one run per partition (4,500 for 50 x 90) and a job backfill does not
  carry the assets' backfill policy to multi-partitions (dagster issues #17404, #28861);
- ``dagster asset materialize`` / ``dg launch --partition-range`` execute in the calling process, one run,
  with no queue, no retries and no per-run fault isolation.

The backfill needs a running daemon (``make dev`` runs ``dagster dev``: webserver + daemon).
"""

from __future__ import annotations

from typing import Any

import requests

ASSETS_QUERY = """
query AllAssets { assetNodes {
  assetKey { path }
  partitionDefinition { type }
  partitionKeysByDimension { name partitionKeys }
} }"""
LAUNCH_MUTATION = """
mutation LaunchInitialLoad($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
    ... on PartitionSetNotFoundError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on RunConflict { message }
    ... on ConflictingExecutionParamsError { message }
    ... on PresetNotFoundError { message }
    ... on InvalidSubsetError { message }
  }
}
"""
TITLE = "genie-obs initial load"


class LaunchError(RuntimeError):
    """The webserver refused the backfill; the message is GraphQL's."""


def graphql(url: str, query: str, variables: dict[str, Any] | None = None, timeout_s: float = 60) -> dict[str, Any]:
    resp = requests.post(f"{url.rstrip('/')}/graphql", json={"query": query, "variables": variables or {}},
                         timeout=timeout_s)
    resp.raise_for_status()
    body = resp.json()
    if body.get("errors"):
        raise LaunchError("; ".join(e.get("message", str(e)) for e in body["errors"]))
    return body["data"]


def launch_initial_load(url: str = "http://127.0.0.1:3000", workspace_id: str | None = None) -> str:
    """Launch an asset backfill of every partition of every asset of the webserver's workspace, or with
    ``workspace_id`` of that workspace's partitions only (a workspace added later; the unpartitioned marts
    are rebuilt after it). Returns the backfill id (the UI shows it at ``<url>/runs/b/<id>``)."""
    nodes = graphql(url, ASSETS_QUERY)["assetNodes"]
    params: dict[str, Any] = {
        "title": TITLE if workspace_id is None else f"{TITLE}: workspace {workspace_id}",
        "tags": [{"key": "genie_obs/trigger", "value": "initial-load"}],
    }
    if workspace_id is None:
        params.update(assetSelection=[{"path": n["assetKey"]["path"]} for n in nodes], allPartitions=True)
    else:
        params["partitionsByAssets"] = [_workspace_selector(n, workspace_id) for n in nodes]
    result = graphql(url, LAUNCH_MUTATION, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise LaunchError(f"{result['__typename']}: {result.get('message') or result}")
    return result["backfillId"]


def _workspace_selector(node: dict[str, Any], workspace_id: str) -> dict[str, Any]:
    """All of one workspace's partitions of an asset: (date x workspace) assets as the range of its days
    (a range with one workspace at both ends is that workspace's column), workspace assets as that key."""
    selector: dict[str, Any] = {"assetKey": {"path": node["assetKey"]["path"]}}
    dims = {d["name"]: d["partitionKeys"] for d in node.get("partitionKeysByDimension") or []}
    if not node.get("partitionDefinition"):
        return selector  # not partitioned: materialized once, after its upstream
    workspaces = dims.get("workspace") or (next(iter(dims.values())) if len(dims) == 1 else [])
    if workspace_id not in workspaces:
        raise LaunchError(f"workspace {workspace_id} is not a partition of {'/'.join(node['assetKey']['path'])}; "
                          "add it to the settings and reload the code location first")
    if "date" in dims:
        days = dims["date"]
        start, end = f"{days[0]}|{workspace_id}", f"{days[-1]}|{workspace_id}"
    else:
        start = end = workspace_id
    selector["partitions"] = {"range": {"start": start, "end": end}}
    return selector
