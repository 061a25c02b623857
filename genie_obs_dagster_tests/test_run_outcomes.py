"""What a run leaves behind beyond the rows it fetched: audit-derived columns that follow late audit rows,
a run that cannot fetch anything is not green, and per-partition figures that add up in the UI."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable

import dagster as dg
import pytest

from genie_obs_dagster.demo import range_tags
from genie_obs_dagster.sandbox.server import Fault, SimConfig, WorkspaceFaults
from genie_obs_dagster.sandbox.system_tables import load_system_tables

from .conftest import WORKSPACES, ApiEnv, Env, make_scenario

SILVER_ASKER = ("SELECT asker_email FROM main.genie_analytics.genie_messages_to_fetch "
                "WHERE workspace_id = :w AND message_id = :m")
DETAIL_ASKER = ("SELECT audit_asker_email, asker_differs_from_audit, asker_user_name, fetch_attempts "
                "FROM main.genie_analytics.message_details WHERE workspace_id = :w AND message_id = :m")


def _event(template: dict, **changes: object) -> dict:
    """A new audit row shaped like ``template`` (a fresh event id), e.g. a late ask by someone else."""
    e = copy.deepcopy(template)
    e.update(event_id=uuid.uuid4().hex, request_id=str(uuid.uuid4()), **changes)
    e["event_date"] = e["event_time"].date()
    return e


def _deliver(env: Env, *events: dict) -> None:
    env.scenario.audit_events.extend(events)
    load_system_tables(env.wh, env.scenario)


@pytest.mark.parametrize("backend", ["duckdb", "databricks"])
def test_late_ask_rows_update_the_audit_columns_of_a_final_message_without_refetching(
        api_env_factory: Callable[..., ApiEnv], backend: str) -> None:
    env = api_env_factory(backend=backend)
    env.ingest_all()
    ws = WORKSPACES[0]
    m = next(m for m in env.scenario.messages if m.workspace_id == ws and m.final_status == "COMPLETED")
    asker = next(u.email for u in env.scenario.users if u.user_id == m.user_id)
    other = next(u.email for u in env.scenario.users if u.email != asker)
    assert env.rows(DETAIL_ASKER, {"w": ws, "m": m.message_id}) == [(asker, False, asker, 1)]
    template = next(e for e in env.scenario.audit_events if e["workspace_id"] == ws
                    and e["request_params"].get("conversation_id") == m.conversation_id
                    and e["event_time"] <= m.created_at)
    # Someone else asked in that conversation just before the message: the audit log now names them.
    late_ask = _event(template, event_time=m.created_at + dt.timedelta(milliseconds=500),
                      action_name="genieStartConversationMessage", user_identity={"email": other, "subject_name": None},
                      request_params={"space_id": m.space_id, "conversation_id": m.conversation_id})
    _deliver(env, late_ask)
    gets = env.sim.stats(ws).by_kind["get_message"]
    env.run_range(ws, late_ask["event_date"], late_ask["event_date"], "genie_ingest")  # what the sensor requests

    assert env.rows(SILVER_ASKER, {"w": ws, "m": m.message_id}) == [(other,)]
    # The API's asker stays authoritative; the audit-derived columns follow silver; nothing was fetched again.
    assert env.rows(DETAIL_ASKER, {"w": ws, "m": m.message_id}) == [(other, True, asker, 1)]
    assert env.sim.stats(ws).by_kind["get_message"] == gets
    drift = env.rows("""
        SELECT COUNT(*) FROM main.genie_analytics.message_details AS d
        JOIN main.genie_analytics.genie_messages_to_fetch AS s USING (workspace_id, message_id)
        WHERE d.first_seen_date <> s.first_seen_date OR d.audit_asker_email IS DISTINCT FROM s.asker_email""")
    assert drift == [(0,)]


def test_a_late_ask_on_the_day_before_recomputes_the_message_it_names(env_factory: Callable[..., Env]) -> None:
    """Ask rows carry no message id: a late ask of day D-1 must still reach a message first seen on D."""
    env = env_factory()
    ws = WORKSPACES[0]
    day = env.scenario.start_date + dt.timedelta(days=2)
    template = next(e for e in env.scenario.audit_events if e["workspace_id"] == ws
                    and e["request_params"].get("message_id") and e["action_name"] == "getConversationMessage")
    reader, asker = sorted({u.email for u in env.scenario.users})[:2]
    space = template["request_params"]["space_id"]
    conversation, message = uuid.uuid4().hex, uuid.uuid4().hex
    midnight = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
    read = _event(template, event_time=midnight + dt.timedelta(seconds=5), user_identity={"email": reader, "subject_name": None},
                  request_params={"space_id": space, "conversation_id": conversation, "message_id": message})
    _deliver(env, read)
    env.run_all()
    assert env.rows(SILVER_ASKER, {"w": ws, "m": message}) == [(reader,)]  # no ask seen yet: the reader
    ask = _event(template, event_time=midnight - dt.timedelta(seconds=2), action_name="createConversationMessage",
                 user_identity={"email": asker, "subject_name": None},
                 request_params={"space_id": space, "conversation_id": conversation})
    _deliver(env, ask)
    env.run_range(ws, ask["event_date"], ask["event_date"])  # only the day that received the row
    assert env.rows(SILVER_ASKER, {"w": ws, "m": message}) == [(asker,)]


def _materializations(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, dict]:
    return {e.partition: e.event_specific_data.materialization.metadata
            for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset}


def test_each_partition_shows_its_own_figures_and_api_calls_are_counted_once(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory()
    ws = WORKSPACES[0]
    result = env.run_range(ws, env.scenario.start_date, env.last_day, "genie_ingest")
    truth = env.scenario.expected_messages_to_fetch()
    per_day = {}
    for (w, _), row in truth.items():
        if w == ws:
            per_day[row.first_seen_date] = per_day.get(row.first_seen_date, 0) + 1
    details = _materializations(result, "message_details")
    assert len(details) == env.scenario.days
    for key, meta in details.items():
        day = dt.date.fromisoformat(key.split("|")[0])
        assert meta["fetched"].value == meta["listed_messages"].value == meta["final_messages"].value == per_day.get(day, 0)
    carrying = [k for k, meta in details.items() if "api_requests" in meta]
    served = env.sim.stats(ws).by_kind
    api_calls = sum(n for kind, n in served.items() if kind not in ("oidc_discovery", "token"))
    assert len(carrying) == 1 and details[carrying[0]]["api_requests"].value == api_calls
    errors = _materializations(result, "message_fetch_errors")
    assert sum(meta["open_errors"].value for meta in errors.values()) == 0


def test_a_workspace_whose_credential_is_missing_records_no_token_errors_and_fails_the_run(
        api_env_factory: Callable[..., ApiEnv], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    env = api_env_factory()
    monkeypatch.delenv("GENIE_OBS_CLIENT_SECRET")
    ws = WORKSPACES[0]
    job = env.defs.resolve_job_def("genie_ingest")
    result = job.execute_in_process(instance=env.instance, raise_on_error=False,
                                    tags=range_tags(ws, env.scenario.start_date, env.last_day))
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    text = failure.step_failure_data.error.message if failure.step_failure_data.error else ""
    user = failure.step_failure_data.user_failure_data
    text += (user.description or "") if user else ""
    assert ws in text and "NO_TOKEN" in text and "GENIE_OBS_CLIENT_SECRET" in text
    listed = env.rows("SELECT COUNT(*) FROM main.genie_analytics.genie_messages_to_fetch WHERE workspace_id = :w", {"w": ws})
    errors = env.rows("SELECT error_type, permanent, COUNT(*) FROM main.genie_analytics.message_fetch_errors "
                      "WHERE workspace_id = :w GROUP BY ALL", {"w": ws})
    assert errors == [("NO_TOKEN", False, listed[0][0])]
    # The failure is on the fetch step; the audit layer before it was written.
    assert {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()} >= {
        "genie_audit_events", "genie_messages_to_fetch"}

    monkeypatch.setenv("GENIE_OBS_CLIENT_SECRET", env.sim.client_secret)  # the operator fixes the variable
    fixed = env.run_range(ws, env.scenario.start_date, env.last_day, "genie_ingest")
    assert fixed.success
    assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.message_fetch_errors WHERE workspace_id = :w "
                    "AND NOT resolved", {"w": ws}) == [(0,)]
    assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.message_details WHERE workspace_id = :w",
                    {"w": ws}) == listed


@pytest.mark.parametrize(("faults", "green"), [
    # A few transient failures among good answers: recorded, retried later, the run is green.
    ({"faults": (Fault("500", kinds=frozenset({"get_message"}), limit=3),)}, True),
    # Every space deleted: nothing to fetch any more is not a pipeline failure.
    ({"deleted_space_ids": "all"}, True),
    # Access to every space revoked: nothing could be fetched, the run says so.
    ({"revoked_space_ids": "all"}, False),
])
def test_the_run_is_red_only_when_nothing_could_be_fetched(api_env_factory: Callable[..., ApiEnv], faults: dict,
                                                          green: bool) -> None:
    scenario = make_scenario()
    ws = WORKSPACES[0]
    spaces = frozenset(s.space_id for s in scenario.spaces if s.workspace_id == ws)
    kw = {k: (spaces if v == "all" else v) for k, v in faults.items()}
    env = api_env_factory(scenario, SimConfig(workspace_faults={ws: WorkspaceFaults(requests_per_second=None, **kw)}),
                          api={"max_attempts": 1})
    job = env.defs.resolve_job_def("genie_ingest")
    result = job.execute_in_process(instance=env.instance, raise_on_error=False,
                                    tags=range_tags(ws, scenario.start_date, env.last_day))
    assert result.success is green
    listed, accounted = env.rows("""
        SELECT COUNT(*), COUNT(d.message_id) + COUNT(e.message_id)
        FROM main.genie_analytics.genie_messages_to_fetch AS s
        LEFT JOIN main.genie_analytics.message_details AS d USING (workspace_id, message_id)
        LEFT JOIN main.genie_analytics.message_fetch_errors AS e USING (workspace_id, message_id)
        WHERE s.workspace_id = :w""", {"w": ws})[0]
    assert listed > 0 and accounted == listed  # every failure is recorded, red or green
