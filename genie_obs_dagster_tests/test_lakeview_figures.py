"""The Lakeview dashboard's queries on the simulated SQL warehouse, after a small ingest on the Databricks back end.

Every dataset runs through the Statement Execution API with its date range bound (as Lakeview binds the
``date_range`` parameter: ``:date_range.min`` / ``:date_range.max``), widgets are evaluated the way Lakeview
evaluates them (the widget's field expressions over the dataset, after the field filters), and the counters are
compared with the scenario's ground truth for several ranges and workspace selections: the date range really
filters, and distinct counts (spaces, conversations, askers) are exact rather than sums of daily counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.service.sql import StatementParameterListItem, StatementState

from genie_obs_dagster.dashboard import lakeview
from genie_obs_dagster.sandbox.model import Scenario
from genie_obs_dagster.sandbox.server import (
    SANDBOX_WAREHOUSE_ID,
    SimConfig,
    SimulatedDatabricks,
    WorkspaceFaults,
)
from genie_obs_dagster.warehouse import TableNames

from .conftest import DAYS, START, WORKSPACES, DatabricksApiEnv, make_scenario


@dataclass
class World:
    env: DatabricksApiEnv
    w: WorkspaceClient
    dashboard: dict[str, Any]
    scenario: Scenario


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    scenario = make_scenario()
    sim = SimulatedDatabricks(scenario, SimConfig(faults=WorkspaceFaults(requests_per_second=None)))
    sim.start()
    mp = pytest.MonkeyPatch()
    try:
        env = DatabricksApiEnv(tmp_path_factory.mktemp("lakeview"), scenario, sim, mp)
        env.ingest_all()
        for ws in WORKSPACES:
            env.refresh_spaces(ws)
        env.run_marts()
        w = WorkspaceClient(config=Config(host=sim.urls[WORKSPACES[0]], client_id=sim.client_id,
                                          client_secret=sim.client_secret, auth_type="oauth-m2m"))
        yield World(env, w, lakeview.serialized_dashboard(TableNames.from_settings(env.settings)), scenario)
    finally:
        sim.stop()
        mp.undo()


def run(world: World, sql: str, days: tuple[dt.date, dt.date]) -> list[dict[str, Any]]:
    params = [StatementParameterListItem(name=f"{lakeview.DATE_RANGE}_{end}", value=day.isoformat(), type="DATE")
              for end, day in zip(("min", "max"), days, strict=True)]
    resp = world.w.statement_execution.execute_statement(statement=lakeview.bind_range(sql), warehouse_id=SANDBOX_WAREHOUSE_ID,
                                                         parameters=params, wait_timeout="30s")
    assert resp.status and resp.status.state == StatementState.SUCCEEDED, (resp.status, sql)
    assert resp.manifest and resp.manifest.schema and resp.manifest.schema.columns
    names = [c.name for c in resp.manifest.schema.columns]
    rows = resp.result.data_array if resp.result and resp.result.data_array else []
    assert not (resp.manifest.truncated or (resp.result and resp.result.next_chunk_index)), "one chunk expected"
    return [dict(zip(names, r, strict=True)) for r in rows]


def dataset(world: World, name: str) -> str:
    return dict(lakeview.dataset_queries(world.dashboard))[name]


def widget(world: World, name: str) -> dict[str, Any]:
    found = [item["widget"] for p in world.dashboard["pages"] for item in p["layout"] if item["widget"]["name"] == name]
    assert len(found) == 1, name
    return found[0]


def counter(world: World, name: str, days: tuple[dt.date, dt.date], workspaces: tuple[str, ...] = WORKSPACES) -> int:
    """A counter as Lakeview computes it: its field's aggregate over the dataset's rows that the workspace filter
    keeps (the date range already bound into the dataset)."""
    query = widget(world, name)["queries"][0]["query"]
    (f,) = query["fields"]
    names = {ws.workspace_id: ws.name for ws in world.scenario.workspaces}
    keep = ", ".join(f"'{names[w]}'" for w in workspaces)
    sql = (f"SELECT {f['expression']} AS value FROM ({dataset(world, query['datasetName'])}) AS d "  # noqa: S608
           f"WHERE `workspace_name` IN ({keep})")
    (row,) = run(world, sql, days)
    return int(row["value"] or 0)


def truth(world: World, days: tuple[dt.date, dt.date], workspaces: tuple[str, ...] = WORKSPACES) -> dict[str, int]:
    emails = {u.user_id: u.email.lower() for u in world.scenario.users}
    msgs = [m for m in world.scenario.messages
            if m.workspace_id in workspaces and days[0] <= m.created_at.date() <= days[1]]
    per_day = {}
    for m in msgs:
        per_day.setdefault((m.workspace_id, m.space_id, m.created_at.date()), set()).add(m.conversation_id)
    return {"spaces": len({(m.workspace_id, m.space_id) for m in msgs}),
            "conversations": len({(m.workspace_id, m.conversation_id) for m in msgs}),
            "questions": len(msgs),
            "askers": len({emails[m.user_id] for m in msgs}),
            "daily_conversations_summed": sum(len(v) for v in per_day.values())}


DAY_COLUMNS = ("activity_date", "asked_at", "first_asked_at", "last_asked_at")
RANGES = [(START + dt.timedelta(days=1), START + dt.timedelta(days=2)), (START + dt.timedelta(days=3),) * 2,
          (START, START + dt.timedelta(days=DAYS - 1))]


def test_the_ingest_knows_every_message_of_the_scenario(world: World) -> None:
    (row,) = world.env.rows("SELECT COUNT(*) FROM main.genie_analytics.mart_messages")
    assert row[0] == len(world.scenario.messages)


def test_every_dataset_runs_on_the_warehouse_with_its_range_bound(world: World) -> None:
    days = RANGES[0]
    full = {d["name"]: run(world, "".join(d["queryLines"]), RANGES[2]) for d in world.dashboard["datasets"]}
    for d in world.dashboard["datasets"]:
        rows = run(world, "".join(d["queryLines"]), days)
        if not d.get("parameters"):
            assert d["name"] in lakeview.UNDATED and rows == full[d["name"]]
            continue
        assert rows != full[d["name"]], f"{d['name']}: the range changes nothing"
        dated = [r[k][:10] for r in rows for k in DAY_COLUMNS if r.get(k)]
        assert all(days[0].isoformat() <= v <= days[1].isoformat() for v in dated), d["name"]
    empty = [n for n, rows in full.items() if not rows]
    assert empty == ["fetch_errors"]  # the scenario fills every dataset; a clean run has no fetch error


@pytest.mark.parametrize("days", RANGES, ids=lambda r: f"{r[0]}..{r[1]}")
def test_the_counters_are_the_true_distinct_counts_of_the_range(world: World, days: tuple[dt.date, dt.date]) -> None:
    for workspaces in (WORKSPACES, WORKSPACES[:1], WORKSPACES[1:]):
        want = truth(world, days, workspaces)
        got = {"spaces": counter(world, "kpi_spaces", days, workspaces),
               "conversations": counter(world, "kpi_conversations", days, workspaces),
               "questions": counter(world, "kpi_questions", days, workspaces),
               "askers": counter(world, "kpi_askers", days, workspaces)}
        assert got == {k: want[k] for k in got}, (days, workspaces)


def test_conversations_spanning_days_are_counted_once(world: World) -> None:
    """What makes the counter meaningful: over a range, summing each day's conversations would count a
    conversation once per day it was active in."""
    days = RANGES[2]
    want = truth(world, days)
    assert want["daily_conversations_summed"] > want["conversations"]
    daily = run(world, f"SELECT SUM(conversations) AS n FROM ({dataset(world, 'daily_activity')}) AS d", days)  # noqa: S608
    assert int(daily[0]["n"]) == want["daily_conversations_summed"]
    assert counter(world, "kpi_conversations", days) == want["conversations"]


def test_the_space_page_shows_one_space(world: World) -> None:
    """The per-space page's filter field (space_name) selects the same space in every dataset of the page."""
    days = RANGES[2]
    space = next(s for s in world.scenario.spaces if s.workspace_id == WORKSPACES[1])
    ws_name = next(w.name for w in world.scenario.workspaces if w.workspace_id == WORKSPACES[1])
    label = f"{space.title} ({ws_name})"
    msgs = [m for m in world.scenario.messages if (m.workspace_id, m.space_id) == (WORKSPACES[1], space.space_id)]
    assert msgs
    page = next(p for p in world.dashboard["pages"] if p["name"] == "space_detail")
    filter_widget = next(i["widget"] for i in page["layout"] if i["widget"]["name"] == "space_filter")
    for q in filter_widget["queries"]:
        name = q["query"]["datasetName"]
        rows = run(world, f"SELECT * FROM ({dataset(world, name)}) AS d WHERE space_name = '{label}'", days)  # noqa: S608
        assert rows, name
        assert {r["space_id"] for r in rows} == {space.space_id}, name
    (row,) = run(world, f"SELECT SUM(questions) AS q, SUM(conversations) AS c FROM ({dataset(world, 'space_activity')}) "  # noqa: S608
                 f"AS d WHERE space_name = '{label}'", days)
    assert (int(row["q"]), int(row["c"])) == (len(msgs), len({m.conversation_id for m in msgs}))


def test_the_space_label_is_the_same_in_every_dataset(world: World) -> None:
    labels = {}
    for name in ("space_activity", "space_askers", "space_prompts", "space_sql_performance", "daily_activity", "failures"):
        rows = run(world, f"SELECT DISTINCT space_id, space_name FROM ({dataset(world, name)}) AS d", RANGES[2])  # noqa: S608
        for r in rows:
            assert labels.setdefault(r["space_id"], r["space_name"]) == r["space_name"], name
    assert len(set(labels.values())) == len(labels)
