"""Every figure of every mart against the sandbox's ground truth, computed here in plain Python from the
scenario (messages, users, feedback, statements, query history, spaces), never from the tables under test.

One environment for the module: two workspaces ingested end to end against the simulated workspace, with a
deleted space in the second (its messages are listed but cannot be fetched), the server clock stopped while
Genie still works on the last question (one message in progress), and one space reconfigured between two
space refreshes (two configuration versions).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from genie_obs_dagster.assets.marts import MARTS, rebuild
from genie_obs_dagster.dashboard import datasets as dashboard_datasets
from genie_obs_dagster.dashboard.lakeview import bind_range, dataset_queries, serialized_dashboard
from genie_obs_dagster.sandbox.model import Message, Scenario, Space
from genie_obs_dagster.sandbox.server import SimConfig, SimulatedDatabricks, WorkspaceFaults
from genie_obs_dagster.sandbox.server.wire import SQL_STATUSES

from .browser import chromium_or_skip, dump_dom, screenshot
from .conftest import WORKSPACES, ApiEnv, make_scenario, make_settings

OUTCOME = {"COMPLETED": "completed", "QUERY_RESULT_EXPIRED": "completed", "FAILED": "failed", "CANCELLED": "cancelled"}
APPROX = 1e-9


@dataclass
class World:
    env: ApiEnv
    scenario: Scenario
    clock: dt.datetime
    deleted_space: Space
    changed_space: Space
    original_config: dict[str, Any]
    result: dg.ExecuteInProcessResult
    loaded_audit: list[dict[str, Any]]  # the audit rows in system.access.audit (the server appends its own later)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    scenario = make_scenario(unpolled_api_fraction=0.5)  # some messages only the API listing finds
    deleted = next(s for s in scenario.spaces if s.workspace_id == WORKSPACES[1])
    last = max(scenario.messages, key=lambda m: m.created_at)
    clock = last.created_at + (last.final_at - last.created_at) / 3
    faults = {WORKSPACES[1]: WorkspaceFaults(requests_per_second=None, deleted_space_ids=frozenset({deleted.space_id}))}
    sim = SimulatedDatabricks(scenario, SimConfig(faults=WorkspaceFaults(requests_per_second=None),
                                                  workspace_faults=faults, clock=lambda: clock))
    sim.start()
    mp = pytest.MonkeyPatch()
    try:
        env = ApiEnv(tmp_path_factory.mktemp("marts"), scenario, sim, mp)
        loaded = list(scenario.audit_events)
        env.ingest_all()
        for ws in WORKSPACES:
            env.refresh_spaces(ws)
        changed = next(s for s in scenario.spaces if s.workspace_id == WORKSPACES[0])
        original = json.loads(json.dumps(changed.serialized_space))
        changed.title = changed.title + " (v2)"
        changed.serialized_space["config"]["sample_questions"].append({"id": "f" * 32, "question": ["Added later?"]})
        env.refresh_spaces(WORKSPACES[0])
        result = env.defs.resolve_job_def("genie_marts").execute_in_process(instance=env.instance)
        yield World(env, scenario, clock, deleted, changed, original, result, loaded)
    finally:
        sim.stop()
        mp.undo()


# -- ground truth, from the scenario only --------------------------------------------------------------


@dataclass(frozen=True)
class Truth:
    """What each message must look like in mart_messages."""

    m: Message
    fetched: bool
    status: str
    outcome: str
    asker: str
    rating: str | None
    review: bool
    statement: dict[str, Any] | None  # the query-history row of the statement the API reported
    title: str | None

    @property
    def day(self) -> dt.date:
        return self.m.created_at.date()


def truth(w: World) -> dict[tuple[str, str], Truth]:
    """Messages the pipeline can know: those a person touched in the audit log, plus those the API lists
    (every conversation of every space that still exists, created by the server's 'now')."""
    sc = w.scenario
    audit = sc.expected_messages_to_fetch()
    listed = {m.key for m in sc.messages if m.space_id != w.deleted_space.space_id and m.created_at <= w.clock}
    history = {(q["workspace_id"], q["statement_id"]): q for q in sc.query_history}
    emails = {u.user_id: u.email for u in sc.users}
    titles = {(s.workspace_id, s.space_id): s.title for s in sc.spaces if s is not w.deleted_space}
    out = {}
    for m in sc.messages:
        if m.key not in audit and m.key not in listed:
            continue
        fetched = m.space_id != w.deleted_space.space_id
        status = m.status_at(w.clock) if fetched else "NOT_FETCHED"
        outcome = OUTCOME.get(status, "in_progress") if fetched else "not_fetched"
        stmt = history.get((m.workspace_id, m.statement_id)) if fetched and m.sql and status in SQL_STATUSES else None
        rated = m.feedback_at is not None and m.feedback_at < sc.end
        reviewed = m.key in audit and m.review_requested_at is not None and m.review_requested_at < sc.end
        out[m.key] = Truth(m, fetched, status, outcome, emails[m.user_id], m.feedback_rating if rated else None,
                           reviewed, stmt, titles.get((m.workspace_id, m.space_id)))
    return out


def rows(w: World, table: str, order: str = "") -> list[dict[str, Any]]:
    wh = w.env.wh
    cols = wh.columns(table)
    sql = f"SELECT {', '.join(cols)} FROM main.genie_analytics.{table} {order}"  # noqa: S608 (test, fixed names)
    return [dict(zip(cols, r, strict=True)) for r in wh.sql(sql)]


def keyed(w: World, table: str, *keys: str) -> dict[tuple, dict[str, Any]]:
    out = {}
    for r in rows(w, table):
        k = tuple(r[c] for c in keys)
        assert k not in out, f"{table}: key {k} repeated"
        out[k] = r
    return out


def rate(num: int, den: int) -> float | None:
    return num / den if den else None


def percentile_cont(values: list[int], q: float) -> float:
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= APPROX * max(1.0, abs(b)))


# -- the tests --------------------------------------------------------------------------------------------


def test_marts_build_and_every_check_passes(world: World) -> None:
    assert world.result.success
    evals = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in world.result.get_asset_check_evaluations()}
    graph = world.env.defs.resolve_asset_graph()
    marts = {m.to_user_string() for m in graph.get_all_asset_keys()  # the genie_marts job's marts
             if m.to_user_string().startswith("mart_") and graph.get(m).group_name == "genie_marts"}
    assert {a for a, _ in evals} == marts and len(marts) == 12  # 11 of MARTS and mart_space_config_changes
    assert all(evals.values()), {k: v for k, v in evals.items() if not v}


def test_the_scenario_exercises_every_case(world: World) -> None:
    """Guard: the ground truth below would prove little if the scenario lacked these cases."""
    t = truth(world)
    outcomes = Counter(x.outcome for x in t.values())
    assert {"completed", "failed", "cancelled", "in_progress", "not_fetched"} <= set(outcomes)
    assert any(x.rating == "NEGATIVE" for x in t.values()) and any(x.review for x in t.values())
    assert any(x.statement and x.statement["execution_status"] == "FAILED" for x in t.values())
    audit = world.scenario.expected_messages_to_fetch()
    assert any(k not in audit for k in t), "no message found only by listing the API"


def test_mart_messages_has_one_row_per_message_with_the_truth(world: World) -> None:
    t = truth(world)
    got = keyed(world, "mart_messages", "workspace_id", "message_id")
    assert set(got) == set(t)
    for key, r in got.items():
        x = t[key]
        assert r["outcome"] == x.outcome and r["status"] == x.status and r["has_details"] == x.fetched, key
        assert r["asker"] == x.asker and r["asker_source"] == ("api" if x.fetched else "audit"), key
        assert r["activity_date"] == x.day and r["space_id"] == x.m.space_id, key
        assert r["conversation_id"] == x.m.conversation_id and r["space_title"] == x.title, key
        assert r["feedback_rating"] == x.rating and r["review_requested"] == x.review, key
        assert r["question"] == (x.m.content if x.fetched else None), key
        assert r["fetch_error_type"] == (None if x.fetched else "NOT_FOUND"), key
        if x.fetched and x.outcome == "completed":
            assert r["query_sql"] == x.m.sql and r["query_description"] == x.m.sql_description, key
            assert r["text_answer"] and r["query_row_count"] == x.m.row_count, key
        if x.outcome == "failed":
            assert r["error_type"] == x.m.error_type, key
        s = x.statement or {}
        assert r["statement_id"] == s.get("statement_id"), key
        assert r["sql_execution_status"] == s.get("execution_status"), key
        assert r["sql_total_duration_ms"] == s.get("total_duration_ms"), key
        assert r["sql_read_rows"] == s.get("read_rows") and r["sql_read_bytes"] == s.get("read_bytes"), key


def test_daily_activity_counts_questions_conversations_askers_and_outcomes(world: World) -> None:
    t = truth(world)
    groups: dict[tuple, list[Truth]] = defaultdict(list)
    started: dict[tuple[str, str], dt.datetime] = {}
    for x in t.values():
        groups[(x.m.workspace_id, x.m.space_id, x.day)].append(x)
        conv = (x.m.workspace_id, x.m.conversation_id)
        started[conv] = min(started.get(conv, x.m.created_at), x.m.created_at)
    got = keyed(world, "mart_daily_activity", "workspace_id", "space_id", "activity_date")
    assert set(got) == set(groups)
    for key, xs in groups.items():
        r, n = got[key], Counter(x.outcome for x in xs)
        finished = n["completed"] + n["failed"] + n["cancelled"]
        expected = {
            "questions": len(xs),
            "conversations": len({x.m.conversation_id for x in xs}),
            "new_conversations": len({x.m.conversation_id for x in xs
                                      if started[(x.m.workspace_id, x.m.conversation_id)].date() == key[2]}),
            "askers": len({x.asker for x in xs}),
            "completed": n["completed"], "failed": n["failed"], "cancelled": n["cancelled"],
            "in_progress": n["in_progress"], "not_fetched": n["not_fetched"],
            "positive_feedback": sum(x.rating == "POSITIVE" for x in xs),
            "negative_feedback": sum(x.rating == "NEGATIVE" for x in xs),
            "review_requests": sum(x.review for x in xs),
            "sql_statements": sum(x.statement is not None for x in xs),
            "failed_statements": sum(bool(x.statement) and x.statement["execution_status"] == "FAILED" for x in xs),
            "sql_total_duration_ms": sum(x.statement["total_duration_ms"] for x in xs if x.statement),
        }
        assert {k: r[k] for k in expected} == expected, key
        assert close(r["success_rate"], rate(n["completed"], finished)), key


def test_space_leaderboard_ranks_spaces_with_their_titles(world: World) -> None:
    t = truth(world)
    per_space: dict[tuple[str, str], list[Truth]] = defaultdict(list)
    for x in t.values():
        per_space[(x.m.workspace_id, x.m.space_id)].append(x)
    got = keyed(world, "mart_space_leaderboard", "workspace_id", "space_id")
    assert set(got) == set(per_space)
    for key, xs in per_space.items():
        r, n = got[key], Counter(x.outcome for x in xs)
        assert r["space_title"] == xs[0].title and r["questions"] == len(xs), key
        assert r["conversations"] == len({x.m.conversation_id for x in xs}), key
        assert r["askers"] == len({x.asker for x in xs}) and r["active_days"] == len({x.day for x in xs}), key
        assert (r["completed"], r["failed"], r["cancelled"]) == (n["completed"], n["failed"], n["cancelled"]), key
        assert close(r["success_rate"], rate(n["completed"], n["completed"] + n["failed"] + n["cancelled"])), key
        assert r["negative_feedback"] == sum(x.rating == "NEGATIVE" for x in xs), key
        assert r["review_requests"] == sum(x.review for x in xs), key
    for ws in WORKSPACES:
        ranked = sorted((r for r in got.values() if r["workspace_id"] == ws), key=lambda r: r["questions_rank"])
        assert [r["questions_rank"] for r in ranked] == list(range(1, len(ranked) + 1))
        assert [r["questions"] for r in ranked] == sorted((r["questions"] for r in ranked), reverse=True)


def _scoped(t: dict[tuple[str, str], Truth]) -> dict[str, list[Truth]]:
    out: dict[str, list[Truth]] = defaultdict(list)
    for x in t.values():
        out[x.m.workspace_id].append(x)
        out["all"].append(x)
    return out


def test_adoption_counts_askers_from_the_audit_and_api_asker_per_workspace_and_overall(world: World) -> None:
    scopes = _scoped(truth(world))
    days = sorted({x.day for x in scopes["all"]})
    spine = [days[0] + dt.timedelta(days=i) for i in range((days[-1] - days[0]).days + 1)]
    got = keyed(world, "mart_adoption_daily", "scope", "activity_date")
    assert set(got) == {(s, d) for s in scopes for d in spine}
    for scope, xs in scopes.items():
        by_day: dict[dt.date, set[str]] = defaultdict(set)
        for x in xs:
            by_day[x.day].add(x.asker)
        first = {}
        for d in sorted(by_day):
            for a in by_day[d]:
                first.setdefault(a, d)
        for d in spine:
            active = by_day.get(d, set())
            new = {a for a in active if first[a] == d}
            week = set().union(*(by_day.get(d - dt.timedelta(days=i), set()) for i in range(7)))
            r = got[(scope, d)]
            assert (r["active_askers"], r["new_askers"], r["returning_askers"]) == (len(active), len(new), len(active - new))
            assert r["weekly_active_askers"] == len(week) and r["questions"] == sum(x.day == d for x in xs)
    # people active in both workspaces are counted once overall
    assert any(got[("all", d)]["active_askers"] < sum(got[(w, d)]["active_askers"] for w in WORKSPACES) for d in spine)


def test_top_users(world: World) -> None:
    got = keyed(world, "mart_askers", "scope", "asker")
    for scope, xs in _scoped(truth(world)).items():
        per: dict[str, list[Truth]] = defaultdict(list)
        for x in xs:
            per[x.asker].append(x)
        assert {a for s, a in got if s == scope} == set(per)
        for asker, mine in per.items():
            r = got[(scope, asker)]
            assert r["questions"] == len(mine) and r["active_days"] == len({x.day for x in mine})
            assert r["conversations"] == len({(x.m.workspace_id, x.m.conversation_id) for x in mine})
            assert r["spaces"] == len({(x.m.workspace_id, x.m.space_id) for x in mine})
            assert r["completed"] == sum(x.outcome == "completed" for x in mine)
            assert r["failed"] == sum(x.outcome == "failed" for x in mine)
            assert r["negative_feedback"] == sum(x.rating == "NEGATIVE" for x in mine)
        top = min((r for (s, _), r in got.items() if s == scope), key=lambda r: r["questions_rank"])
        assert top["questions"] == max(len(v) for v in per.values())


def test_failures_by_error_type(world: World) -> None:
    expected = Counter((x.m.workspace_id, x.m.space_id, x.day, x.m.error_type or "UNKNOWN")
                       for x in truth(world).values() if x.outcome == "failed")
    got = keyed(world, "mart_failures", "workspace_id", "space_id", "activity_date", "error_type")
    assert {k: r["failures"] for k, r in got.items()} == dict(expected)


def test_sql_performance_from_query_history(world: World) -> None:
    per: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for x in truth(world).values():
        if x.statement:
            per[(x.m.workspace_id, x.m.space_id)].append(x.statement)
    got = keyed(world, "mart_sql_performance", "workspace_id", "space_id")
    assert set(got) == set(per)
    for key, stmts in per.items():
        r, durations = got[key], [s["total_duration_ms"] for s in stmts]
        assert r["statements"] == r["statements_with_history"] == len(stmts), key
        assert r["failed_statements"] == sum(s["execution_status"] == "FAILED" for s in stmts), key
        for q, col in ((0.5, "duration_p50_ms"), (0.9, "duration_p90_ms"), (0.95, "duration_p95_ms")):
            assert close(r[col], percentile_cont(durations, q)), (key, col)
        assert close(r["duration_avg_ms"], sum(durations) / len(durations)) and r["duration_max_ms"] == max(durations)
        assert r["read_rows"] == sum(s["read_rows"] for s in stmts), key
        assert r["read_bytes"] == sum(s["read_bytes"] for s in stmts), key
        assert r["produced_rows"] == sum(s["produced_rows"] for s in stmts), key


def _items(config: dict[str, Any]) -> dict[tuple[str, int], tuple[str | None, str | None, int | None]]:
    """(item_type, index) -> (text, detail, column_count), read from a serialized_space dict."""
    out: dict[tuple[str, int], tuple[str | None, str | None, int | None]] = {}
    ins = config.get("instructions", {})
    for i, q in enumerate(config.get("config", {}).get("sample_questions", [])):
        out[("sample_question", i)] = ("".join(q["question"]), None, None)
    for i, tb in enumerate(config.get("data_sources", {}).get("tables", [])):
        out[("table", i)] = (tb["identifier"], "".join(tb.get("description", [])) or None, len(tb.get("column_configs", [])))
    for i, ti in enumerate(ins.get("text_instructions", [])):
        out[("text_instruction", i)] = ("".join(ti["content"]), None, None)
    for i, ex in enumerate(ins.get("example_question_sqls", [])):
        out[("example_sql", i)] = ("".join(ex["question"]), "".join(ex["sql"]), None)
    for i, j in enumerate(ins.get("join_specs", [])):
        out[("join_spec", i)] = (f"{j['left']['identifier']} = {j['right']['identifier']}", "".join(j["sql"]), None)
    for i, b in enumerate(config.get("benchmarks", {}).get("questions", [])):
        out[("benchmark", i)] = ("".join(b["question"]), "".join(b["answer"][0]["content"]), None)
    return out


def test_space_configuration_is_parsed_from_serialized_space(world: World) -> None:
    got = rows(world, "mart_space_config_items")
    current = {(r["workspace_id"], r["space_id"], r["item_type"], r["item_index"]): r for r in got if r["is_current"]}
    expected = {}
    for s in world.scenario.spaces:
        if s is not world.deleted_space:
            for (kind, i), v in _items(s.serialized_space).items():
                expected[(s.workspace_id, s.space_id, kind, i)] = v
    assert {k: (r["item_text"], r["item_detail"], r["column_count"]) for k, r in current.items()} == expected
    # the first configuration of the changed space is kept too, with its own items
    old = {(r["item_type"], r["item_index"]): (r["item_text"], r["item_detail"], r["column_count"])
           for r in got if r["space_id"] == world.changed_space.space_id and not r["is_current"]}
    assert old == _items(world.original_config)


def test_configuration_changes_over_time(world: World) -> None:
    got = keyed(world, "mart_space_config_versions", "workspace_id", "space_id", "config_hash")
    per_space: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in got.values():
        per_space[r["space_id"]].append(r)
    live = [s for s in world.scenario.spaces if s is not world.deleted_space]
    assert set(per_space) == {s.space_id for s in live}
    for s in live:
        versions = sorted(per_space[s.space_id], key=lambda r: r["version_number"])
        assert [v["version_number"] for v in versions] == list(range(1, len(versions) + 1))
        assert [v["is_current"] for v in versions] == [False] * (len(versions) - 1) + [True]
        cur, items = versions[-1], Counter(kind for kind, _ in _items(s.serialized_space))
        assert cur["title"] == s.title
        assert (cur["sample_questions"], cur["tables"], cur["text_instructions"], cur["example_sqls"],
                cur["join_specs"], cur["benchmarks"]) == (items["sample_question"], items["table"],
                                                          items["text_instruction"], items["example_sql"],
                                                          items["join_spec"], items["benchmark"])
        assert cur["columns"] == sum(len(t.get("column_configs", [])) for t in s.serialized_space["data_sources"]["tables"])
    changed = sorted(per_space[world.changed_space.space_id], key=lambda r: r["version_number"])
    assert len(changed) == 2 and changed[1]["sample_questions"] == changed[0]["sample_questions"] + 1
    assert changed[0]["title"] + " (v2)" == changed[1]["title"]


def test_pipeline_health_coverage_pending_errors_and_freshness(world: World) -> None:
    t, audit = truth(world), world.scenario.expected_messages_to_fetch()
    got = keyed(world, "mart_pipeline_health", "workspace_id")
    assert set(got) == {(w,) for w in WORKSPACES}
    for ws in WORKSPACES:
        r = got[(ws,)]
        listed = [t[k] for k in audit if k[0] == ws]
        fetched = [x for x in listed if x.fetched]
        pending = [x for k, x in t.items() if k[0] == ws and x.outcome == "in_progress"]
        genie_rows = [e for e in world.loaded_audit if e["workspace_id"] == ws and e["service_name"] == "aibiGenie"]
        expected = {
            "messages_listed": len(listed), "messages_excluded": 0, "messages_with_details": len(fetched),
            "messages_pending": len(pending),
            "messages_missing": len(listed) - len(fetched),
            "messages_api_only": sum(1 for k in t if k[0] == ws and k not in audit),
            "open_fetch_errors": len(listed) - len(fetched), "permanent_fetch_errors": len(listed) - len(fetched),
            "audit_events": len(genie_rows),
            "spaces_listed": len({x.m.space_id for x in listed}),
            "spaces_with_details": len({s.space_id for s in world.scenario.spaces
                                        if s.workspace_id == ws and s is not world.deleted_space}),
            "open_space_fetch_errors": int(ws == world.deleted_space.workspace_id),
        }
        assert {k: r[k] for k in expected} == expected, ws
        assert close(r["coverage"], len(fetched) / len(listed))
        assert r["latest_audit_event_time"] == max(e["event_time"] for e in genie_rows)
        assert r["latest_fetch_time"] is not None and r["latest_space_fetch_time"] is not None
    assert got[(WORKSPACES[1],)]["coverage"] < 1.0 and sum(got[(w,)]["messages_pending"] for w in WORKSPACES) >= 1


def test_fetch_errors_by_type(world: World) -> None:
    t = truth(world)
    gone = sum(1 for k, x in t.items() if not x.fetched and k in world.scenario.expected_messages_to_fetch())
    got = keyed(world, "mart_fetch_errors", "workspace_id", "object_type", "error_type")
    ws = world.deleted_space.workspace_id
    assert set(got) == {(ws, "message", "NOT_FOUND"), (ws, "space", "NOT_FOUND")}
    assert (got[(ws, "message", "NOT_FOUND")]["open_errors"], got[(ws, "message", "NOT_FOUND")]["permanent_errors"]) == (gone, gone)
    assert got[(ws, "space", "NOT_FOUND")]["open_errors"] == 1


def test_a_rebuild_changes_nothing(world: World) -> None:
    before = {m: rows(world, m, "ORDER BY ALL") for m in ("mart_messages", "mart_daily_activity", "mart_adoption_daily")}
    result = world.env.defs.resolve_job_def("genie_marts").execute_in_process(instance=world.env.instance)
    assert result.success
    assert {m: rows(world, m, "ORDER BY ALL") for m in before} == before


def test_coverage_counts_only_the_allowed_spaces(world: World) -> None:
    ws, mart = WORKSPACES[0], next(m for m in MARTS if m.name == "mart_pipeline_health")
    keep = next(s.space_id for s in world.scenario.spaces if s.workspace_id == ws)
    audit = [k for k, v in world.scenario.expected_messages_to_fetch().items() if k[0] == ws]
    in_space = sum(1 for k in audit if truth(world)[k].m.space_id == keep)
    allow = [{"id": w, "url": world.env.settings.workspace(w).url, "space_ids": [keep] if w == ws else []} for w in WORKSPACES]
    narrowed = make_settings(Path(world.env.settings.warehouse.duckdb.path), workspaces=allow)
    try:
        rebuild(world.env.wh, mart, narrowed)
        r = keyed(world, "mart_pipeline_health", "workspace_id")[(ws,)]
        assert (r["messages_listed"], r["messages_excluded"]) == (in_space, len(audit) - in_space)
        assert r["messages_with_details"] == in_space and r["coverage"] == 1.0
    finally:
        rebuild(world.env.wh, mart, world.env.settings)


# -- the local dashboard ------------------------------------------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def dashboard_file(w: World) -> Path:
    events = [e for e in w.result.get_asset_materialization_events()
              if e.asset_key.to_user_string() == "genie_dashboard_html"]
    assert len(events) == 1
    meta = events[0].event_specific_data.materialization.metadata
    return Path(meta["path"].value)


def test_the_dashboard_is_written_next_to_the_warehouse_and_needs_no_network(world: World) -> None:
    path = dashboard_file(world)
    assert path == Path(world.env.settings.warehouse.duckdb.path).resolve().parent / "dashboard" / "index.html"
    text = path.read_text()
    for remote in ('src="http', "src='http", 'href="http', "@import", "url(http", "<link "):
        assert remote not in text, remote


def test_the_dashboard_renders_its_charts_in_a_browser(world: World) -> None:
    chromium = chromium_or_skip()
    path, t = dashboard_file(world), truth(world)
    dom = dump_dom(chromium, path, "tab=all")
    assert dom.root.get("data-rendered") == "ok" and not dom.errors, dom.errors
    assert set(dom.charts_per_page) == {"summary", "usage", "quality", "prompts", "performance", "adoption", "config", "health"}
    assert all(n >= 1 for n in dom.charts_per_page.values()), dom.charts_per_page
    assert sum(dom.charts_per_page.values()) >= 20
    assert dom.kpis["questions"] == len(t)
    assert dom.kpis["askers"] == len({x.asker for x in t.values()})
    assert dom.kpis["failed"] == sum(x.outcome == "failed" for x in t.values())
    ws = WORKSPACES[1]
    one = dump_dom(chromium, path, f"ws={ws}&tab=summary")
    mine = [x for k, x in t.items() if k[0] == ws]
    assert one.root.get("data-workspace") == ws and not one.errors
    assert one.kpis["questions"] == len(mine) and one.kpis["askers"] == len({x.asker for x in mine})
    ARTIFACTS.mkdir(exist_ok=True)
    for tab, height in (("summary", 1300), ("all", 9000)):
        shot = screenshot(chromium, path, f"tab={tab}", ARTIFACTS / f"dashboard-{tab}.png", height)
        assert shot.stat().st_size > 10_000


def test_the_lakeview_datasets_run_and_match_the_local_ones(world: World) -> None:
    """The Lakeview queries (Databricks SQL written by our generator), over the whole history, return what the
    local page shows (Lakeview adds a space_name column: compared on the local columns)."""
    lakeview = dict(dataset_queries(serialized_dashboard(world.env.wh.names)))
    whole = {"date_range_min": dt.date(2000, 1, 1), "date_range_max": dt.date(2999, 12, 31)}
    for d in dashboard_datasets.DATASETS:
        if d.name not in lakeview:
            continue
        local = world.env.wh.query(d.sql_name)
        columns = ", ".join(f"`{c}`" for c in local.column_names)
        remote = world.env.wh.sql(f"SELECT {columns} FROM ({bind_range(lakeview[d.name])}) AS d", whole)  # noqa: S608
        # no eval runs here (evals are off by default): test_lakeview_figures.py runs that dataset over some
        assert len(remote) == local.num_rows > 0 or d.name in ("fetch_errors", "negative_feedback", "eval_accuracy"), \
            d.name
        assert sorted(map(repr, remote)) == sorted(repr(tuple(r.values())) for r in local.to_pylist()), d.name
