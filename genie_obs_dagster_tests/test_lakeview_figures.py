"""The Lakeview dashboard's queries on the simulated SQL warehouse, after a small ingest on the Databricks back end.

Every dataset runs through the Statement Execution API with its date range bound (as Lakeview binds the
``date_range`` parameter: ``:date_range.min`` / ``:date_range.max``), widgets are evaluated the way Lakeview
evaluates them (the widget's field expressions over the dataset, after the field filters), and the counters are
compared with the scenario's ground truth for several ranges and workspace selections: the date range really
filters, and distinct counts (spaces, conversations, askers) are exact rather than sums of daily counts.

The environment also holds configuration changes (one space per workspace, on different days) and benchmark (eval)
runs of every space on two days, so the before/after and accuracy figures can be compared with the marts' rows for
ranges that hold some of them and leave others out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.service.sql import StatementParameterListItem, StatementState

from genie_obs_dagster.assets.evals import AS_OF_TAG, EVAL_JOB
from genie_obs_dagster.dashboard import lakeview
from genie_obs_dagster.sandbox.model import Scenario, Space
from genie_obs_dagster.sandbox.server import (
    SANDBOX_WAREHOUSE_ID,
    SimConfig,
    SimulatedDatabricks,
    WorkspaceFaults,
)
from genie_obs_dagster.sandbox.server.evals import EvalTiming, set_eval_timing, store_of
from genie_obs_dagster.warehouse import TableNames

from .conftest import DAYS, START, WORKSPACES, DatabricksApiEnv, make_scenario


@dataclass
class World:
    env: DatabricksApiEnv
    w: WorkspaceClient
    dashboard: dict[str, Any]
    scenario: Scenario
    changed: dict[tuple[str, str], dt.date]  # (workspace_id, space_id) -> the UTC day its configuration changed


class Clock:
    """The simulated workspace's clock: real time unless set (eval runs progress on it)."""

    def __init__(self) -> None:
        self.fixed: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.fixed or dt.datetime.now(dt.timezone.utc)


EVAL_DAYS = (0, 2)  # days of the scenario with an eval tick (05:00 UTC): every space is evaluated on both
CHANGE_DAYS = {WORKSPACES[1]: 1, WORKSPACES[0]: 4}  # the first fetched space of each workspace changes that day


def change_configurations(env: DatabricksApiEnv) -> dict[tuple[str, str], dt.date]:
    """A new instruction and one table less in one space per workspace, made at noon UTC of its day, then fetched."""
    changed = {}
    for ws, day in CHANGE_DAYS.items():
        seen = {r[0] for r in env.rows("SELECT space_id FROM main.genie_analytics.genie_space_details "
                                       "WHERE workspace_id = :w", {"w": ws})}
        space: Space = next(s for s in env.scenario.spaces if s.workspace_id == ws and s.space_id in seen)
        cfg = space.serialized_space
        cfg["instructions"]["text_instructions"][0]["content"] = [f"Answer in EUR ({ws})."]
        cfg["data_sources"]["tables"].pop()
        at = dt.datetime.combine(START + dt.timedelta(days=day), dt.time(12), dt.timezone.utc)
        space.update_time = at
        env.refresh_spaces(ws)
        changed[(ws, space.space_id)] = at.date()
    return changed


def run_evals(env: DatabricksApiEnv, clock: Clock) -> None:
    """Eval ticks on EVAL_DAYS: each starts a run of every space with benchmarks, collected finished an hour later."""
    job = env.defs.resolve_job_def(EVAL_JOB)
    for ws in WORKSPACES:
        set_eval_timing(env.sim.app(ws).state, EvalTiming(start_delay_s=5, seconds_per_question=10, failure_rate=0.0))
    for day in EVAL_DAYS:
        tick = dt.datetime.combine(START + dt.timedelta(days=day), dt.time(6), dt.timezone.utc)
        for at in (tick, tick + dt.timedelta(hours=1)):
            clock.fixed = at
            for ws in WORKSPACES:
                result = job.execute_in_process(instance=env.instance, partition_key=ws,
                                                tags={AS_OF_TAG: at.isoformat()})
                assert result.success
    clock.fixed = None


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    scenario = make_scenario()
    clock = Clock()
    sim = SimulatedDatabricks(scenario, SimConfig(clock=clock, faults=WorkspaceFaults(requests_per_second=None)))
    sim.start()
    mp = pytest.MonkeyPatch()
    try:
        env = DatabricksApiEnv(tmp_path_factory.mktemp("lakeview"), scenario, sim, mp, evals={"cron": "0 5 * * *"})
        env.ingest_all()
        for ws in WORKSPACES:
            env.refresh_spaces(ws)
        changed = change_configurations(env)
        run_evals(env, clock)
        env.run_marts()
        w = WorkspaceClient(config=Config(host=sim.urls[WORKSPACES[0]], client_id=sim.client_id,
                                          client_secret=sim.client_secret, auth_type="oauth-m2m"))
        yield World(env, w, lakeview.serialized_dashboard(TableNames.from_settings(env.settings)), scenario, changed)
    finally:
        sim.stop()
        mp.undo()


def run(world: World, sql: str, days: tuple[dt.date, dt.date] | None) -> list[dict[str, Any]]:
    """Rows of ``sql`` through the Statement Execution API, the range bound (``days``) or none (a plain query)."""
    params = [StatementParameterListItem(name=f"{lakeview.DATE_RANGE}_{end}", value=day.isoformat(), type="DATE")
              for end, day in zip(("min", "max"), days, strict=True)] if days else []
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


DAY_COLUMNS = ("activity_date", "asked_at", "first_asked_at", "last_asked_at", "changed_at", "run_date")
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
    for name in ("space_activity", "space_askers", "space_prompts", "space_sql_performance", "daily_activity", "failures",
                 "config_change_impact", "eval_accuracy", "space_eval_latest"):
        rows = run(world, f"SELECT DISTINCT space_id, space_name FROM ({dataset(world, name)}) AS d", RANGES[2])  # noqa: S608
        for r in rows:
            assert labels.setdefault(r["space_id"], r["space_name"]) == r["space_name"], name
    assert len(set(labels.values())) == len(labels)


# -- configuration changes and benchmark accuracy --------------------------------------------------------------


def widget_rows(world: World, name: str, days: tuple[dt.date, dt.date], where: str = "TRUE") -> list[dict[str, Any]]:
    """A chart or table as Lakeview computes it: the widget's fields over the dataset's rows the filters keep
    (``where``), grouped by its plain fields unless the query is disaggregated (a table)."""
    query = widget(world, name)["queries"][0]["query"]
    fields = query["fields"]
    select = ", ".join(f"{f['expression']} AS `{f['name']}`" for f in fields)
    plain = [f["expression"] for f in fields if f["expression"] == f"`{f['name']}`"]
    group = "" if query["disaggregated"] or len(plain) == len(fields) else f" GROUP BY {', '.join(plain)}"
    return run(world, f"SELECT {select} FROM ({dataset(world, query['datasetName'])}) AS d WHERE {where}{group}", days)  # noqa: S608


def label(world: World, workspace_id: str, space_id: str) -> str:
    title = next(s.title for s in world.scenario.spaces if (s.workspace_id, s.space_id) == (workspace_id, space_id))
    return f"{title} ({workspace_name(world, workspace_id)})"


def workspace_name(world: World, workspace_id: str) -> str:
    return next(w.name for w in world.scenario.workspaces if w.workspace_id == workspace_id)


def mart(world: World, table: str) -> list[dict[str, Any]]:
    """Every row of a mart, through the same API (so values are formatted alike)."""
    return run(world, f"SELECT * FROM main.genie_analytics.{table}", None)  # noqa: S608


def day(offset: int) -> dt.date:
    return START + dt.timedelta(days=offset)


CHANGE_RANGES = [(day(1), day(2)), (day(3), day(4)), (day(0), day(DAYS - 1))]


@pytest.mark.parametrize("days", CHANGE_RANGES, ids=lambda r: f"{r[0]}..{r[1]}")
def test_before_and_after_figures_are_the_marts_rows_of_the_changes_in_the_range(
        world: World, days: tuple[dt.date, dt.date]) -> None:
    rows = mart(world, "mart_space_config_changes")
    assert {(r["workspace_id"], r["space_id"]): r["changed_at"][:10] for r in rows} == \
        {k: v.isoformat() for k, v in world.changed.items()}  # the changes made, each on its day
    in_range = [r for r in rows if days[0].isoformat() <= r["changed_at"][:10] <= days[1].isoformat()]
    if days != CHANGE_RANGES[-1]:
        assert in_range and len(in_range) < len(rows)  # the range holds one change and leaves the other out
    assert any(r["questions_before"] != "0" and r["questions_after"] != "0" for r in in_range)
    columns = [c for c, _ in lakeview.IMPACT_COLUMNS]

    def shown(rs: list[dict[str, Any]]) -> list[tuple]:
        return sorted(tuple(r[c] for c in ["space", "workspace_name", *columns]) for r in rs)

    def expected(rs: list[dict[str, Any]]) -> list[tuple]:
        return shown([{**r, "space": r["space_title"], "workspace_name": r["workspace_name"]} for r in rs])

    # Space configuration page: every change of the range, across workspaces, and one workspace's only.
    assert shown(widget_rows(world, "change_impact", days)) == expected(in_range)
    for ws in WORKSPACES:
        mine = [r for r in in_range if r["workspace_id"] == ws]
        got = widget_rows(world, "change_impact", days, f"workspace_name = '{workspace_name(world, ws)}'")
        assert shown(got) == expected(mine)
    # Space detail page: the selected space's changes only.
    for (ws, space_id) in world.changed:
        want = [r for r in in_range if (r["workspace_id"], r["space_id"]) == (ws, space_id)]
        got = widget_rows(world, "space_change_impact", days, f"space_name = '{label(world, ws, space_id)}'")
        assert sorted(tuple(r[c] for c in columns) for r in got) == sorted(tuple(r[c] for c in columns) for r in want)


ACCURACY_RANGES = [(day(1), day(2)), (day(0), day(0)), (day(0), day(DAYS - 1))]


@pytest.mark.parametrize("days", ACCURACY_RANGES, ids=lambda r: f"{r[0]}..{r[1]}")
def test_benchmark_accuracy_is_the_marts_runs_of_the_range(world: World, days: tuple[dt.date, dt.date]) -> None:
    runs = mart(world, "mart_eval_accuracy")
    store = {rid: r for ws in WORKSPACES for rid, r in store_of(world.env.sim.app(ws).state).runs.items()}
    assert {r["eval_run_id"] for r in runs} == set(store)  # every run the workspaces made is DONE and in the mart
    for r in runs:  # ... with the accuracy the simulated workspace assessed
        good = sum(q.assessment == "GOOD" for q in store[r["eval_run_id"]].questions)
        assert float(r["accuracy"]) == pytest.approx(good / len(store[r["eval_run_id"]].questions))
    assert {r["run_date"] for r in runs} == {day(d).isoformat() for d in EVAL_DAYS}
    in_range = [r for r in runs if days[0].isoformat() <= r["run_date"] <= days[1].isoformat()]
    assert in_range and (days == ACCURACY_RANGES[-1] or len(in_range) < len(runs))
    spaces = sorted({(r["workspace_id"], r["space_id"]) for r in runs})
    assert {(r["workspace_id"], r["space_id"]) for r in in_range} == set(spaces)

    # Accuracy over time by space (configuration page), and for the selected space (space detail page).
    # Spaces of different workspaces share titles: the series are per space_name ("title (workspace)").
    by_space = widget_rows(world, "accuracy_by_space", days)
    assert sorted((r["space_name"], r["finished_at"], round(float(r["avg(accuracy)"]), 9)) for r in by_space) == \
        sorted((label(world, r["workspace_id"], r["space_id"]), r["finished_at"], round(float(r["accuracy"]), 9))
               for r in in_range)
    for ws, space_id in spaces:
        mine = [r for r in in_range if (r["workspace_id"], r["space_id"]) == (ws, space_id)]
        got = widget_rows(world, "space_accuracy", days, f"space_name = '{label(world, ws, space_id)}'")
        assert sorted((r["finished_at"], round(float(r["avg(accuracy)"]), 9)) for r in got) == \
            sorted((r["finished_at"], round(float(r["accuracy"]), 9)) for r in mine)

        # The latest run of the range, and its change from the space's previous run (in the range or not).
        latest = max(mine, key=lambda r: int(r["run_number"]))
        (row,) = widget_rows(world, "space_accuracy_latest", days, f"space_name = '{label(world, ws, space_id)}'")
        assert {k: row[k] for k in ("finished_at", "run_number", "accuracy", "previous_accuracy", "accuracy_change",
                                     "num_questions", "num_correct")} == \
            {k: latest[k] for k in ("finished_at", "run_number", "accuracy", "previous_accuracy", "accuracy_change",
                                    "num_questions", "num_correct")}
        assert int(row["runs_in_range"]) == len(mine)
        if days == ACCURACY_RANGES[0]:  # the range leaves the first run out, the change still compares with it
            assert latest["run_number"] == "2" and row["previous_accuracy"] is not None
        if days == ACCURACY_RANGES[-1]:
            assert latest["is_latest"] == "true"
    table = widget_rows(world, "accuracy_latest", days)
    assert sorted((r["workspace_name"], r["space"]) for r in table) == \
        sorted((workspace_name(world, ws), label(world, ws, s).rsplit(" (", 1)[0]) for ws, s in spaces)
