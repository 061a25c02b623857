"""genie_space_details, its configuration history and the conversation-listing cross-check."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from genie_obs_dagster.sandbox.server import Fault, WorkspaceFaults
from genie_obs_dagster.sandbox.server import genie as simulated_genie

from .conftest import WORKSPACES, ApiEnv, make_scenario

WS = WORKSPACES[0]


def space_rows(env: ApiEnv) -> dict[str, tuple]:
    rows = env.rows("SELECT space_id, title, warehouse_id, serialized_space, config_hash "
                    "FROM main.genie_analytics.genie_space_details WHERE workspace_id = :w", {"w": WS})
    return {r[0]: r[1:] for r in rows}


def history(env: ApiEnv) -> list[tuple]:
    return env.rows("SELECT space_id, config_hash, title FROM main.genie_analytics.genie_space_config_history "
                    "WHERE workspace_id = :w ORDER BY space_id, first_seen_at", {"w": WS})


def test_space_details_match_the_scenario_and_keep_history(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory()
    env.ingest_all()
    result = env.refresh_spaces(WS)
    got = space_rows(env)
    seen = {r[0] for r in env.rows("SELECT DISTINCT space_id FROM main.genie_analytics.genie_messages_to_fetch "
                                   "WHERE workspace_id = :w", {"w": WS})}
    spaces = {s.space_id: s for s in env.scenario.spaces if s.workspace_id == WS}
    assert set(got) == seen and seen <= set(spaces)
    for sid, (title, warehouse, serialized, _) in got.items():
        assert title == spaces[sid].title and warehouse == spaces[sid].warehouse_id
        assert json.loads(serialized) == spaces[sid].serialized_space
    assert len(history(env)) == len(got)
    assert all(e.passed for e in result.get_asset_check_evaluations())

    # Unchanged spaces add no version; a changed one adds exactly one, keeping the old.
    env.refresh_spaces(WS)
    assert len(history(env)) == len(got)
    changed = spaces[sorted(got)[0]]
    changed.serialized_space["instructions"]["text_instructions"][0]["content"] = ["Always answer in EUR."]
    changed.update_time = changed.update_time + dt.timedelta(days=1)
    env.refresh_spaces(WS)
    versions = [h for h in history(env) if h[0] == changed.space_id]
    assert len(versions) == 2 and versions[0][1] != versions[1][1]
    assert json.loads(space_rows(env)[changed.space_id][2])["instructions"]["text_instructions"][0]["content"] == [
        "Always answer in EUR."]


def test_a_failed_space_fetch_never_overwrites_good_data(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory(api={"max_attempts": 1})
    env.ingest_all()
    env.refresh_spaces(WS)
    good = space_rows(env)
    env.sim.set_faults(WS, WorkspaceFaults(requests_per_second=None, faults=(Fault("503", kinds=frozenset({"get_space"})),)))
    job = env.defs.resolve_job_def("genie_space_refresh")
    result = job.execute_in_process(instance=env.instance, partition_key=WS, raise_on_error=False)
    assert not result.success  # nothing could be fetched: the run says so, after recording the errors
    assert space_rows(env) == good
    errors = env.rows("SELECT error_type, attempt_count, resolved FROM main.genie_analytics.genie_space_fetch_errors")
    assert len(errors) == len(good) and all(e == ("SERVER_ERROR", 1, False) for e in errors)
    assert all(e.passed for e in result.get_asset_check_evaluations())  # accounted for: by an error row
    env.sim.set_faults(WS, WorkspaceFaults(requests_per_second=None))
    env.refresh_spaces(WS)
    assert all(e[2] for e in env.rows("SELECT error_type, attempt_count, resolved FROM main.genie_analytics.genie_space_fetch_errors"))


HOSTILE_SPACES = {  # what a broken or hostile workspace might answer for one space, each field of the wrong kind
    "serialized_space a number": {"serialized_space": 5},
    "serialized_space nested 100,000 deep": {"serialized_space": "[" * 100_000 + "]" * 100_000},
    "title an object": {"title": {"text": "Sales"}},
    "etag a list": {"etag": ["1"]},
    "update_time not a time": {"update_time": "yesterday"},
}


def test_a_hostile_space_answer_is_a_recorded_error_not_a_crash_or_a_wrong_row(
        api_env_factory: Callable[..., ApiEnv], monkeypatch: pytest.MonkeyPatch) -> None:
    """One space's answer is malformed: its stored row is kept as it was, the answer is recorded as a fetch error of
    that space (read again on the next refresh), and every other space is refreshed as usual."""
    env = api_env_factory(api={"max_attempts": 1})
    env.ingest_all()
    env.refresh_spaces(WS)
    good = space_rows(env)
    victim = sorted(good)[0]
    real = simulated_genie.wire.space_json

    def errors() -> list[tuple]:
        return env.rows("SELECT space_id, error_type, resolved FROM main.genie_analytics.genie_space_fetch_errors")

    for hostile, fields in HOSTILE_SPACES.items():
        def space_json(space: Any, *args: Any, fields: dict[str, Any] = fields, **kw: Any) -> dict[str, Any]:
            body = real(space, *args, **kw)
            return {**body, **fields} if space.space_id == victim else body

        monkeypatch.setattr(simulated_genie.wire, "space_json", space_json)
        env.refresh_spaces(WS)
        assert space_rows(env) == good, hostile
        assert errors() == [(victim, "MALFORMED_RESPONSE", False)], hostile
    monkeypatch.setattr(simulated_genie.wire, "space_json", real)
    env.refresh_spaces(WS)
    assert [e[2] for e in errors()] == [True]


def test_listing_conversations_finds_what_the_audit_log_missed(api_env_factory: Callable[..., ApiEnv]) -> None:
    scenario = make_scenario(unpolled_api_fraction=0.5)
    env = api_env_factory(scenario)
    env.ingest_all()
    unseen = {m.key for m in scenario.messages if m.workspace_id == WS and m.key not in scenario.person_touches}
    assert unseen
    result = env.refresh_spaces(WS)
    api_rows = env.rows("SELECT workspace_id, message_id, discovered_via, status FROM main.genie_analytics.message_details "
                        "WHERE discovered_via = 'api'")
    assert {(r[0], r[1]) for r in api_rows} == unseen
    by_key = {m.key: m for m in scenario.messages}
    assert all(r[3] == by_key[(r[0], r[1])].final_status for r in api_rows)
    listed = {r[0] for r in env.rows("SELECT message_id FROM main.genie_analytics.genie_api_messages WHERE workspace_id = :w",
                                     {"w": WS})}
    assert listed == {m.message_id for m in scenario.messages if m.workspace_id == WS}
    meta = next(e.event_specific_data.materialization.metadata for e in result.get_asset_materialization_events()
                if e.asset_key.to_user_string() == "genie_api_messages")
    assert meta["api_only"].value == len(unseen) and meta["audit_only"].value == 0
    env.refresh_spaces(WS)  # a second listing stores nothing new and duplicates nothing
    assert env.rows("SELECT COUNT(*) - COUNT(DISTINCT message_id) FROM main.genie_analytics.message_details") == [(0,)]
