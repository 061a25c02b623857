"""Side effects a real workspace has: audit rows, query history, message progress on the server clock."""

from __future__ import annotations

import datetime as dt

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import ResourceDoesNotExist

from genie_obs_dagster.sandbox.model import PROGRESS_STATUSES, Scenario
from genie_obs_dagster.sandbox.server import Principal, SimulatedDatabricks

from .conftest import ANSWER_DELAY_S, AUDIT_DELAY_S, MutableClock

G = "/api/2.0/genie/spaces"
AUDIT_KEYS = {"account_id", "workspace_id", "version", "event_time", "event_date", "source_ip_address", "user_agent",
              "session_id", "user_identity", "service_name", "action_name", "request_id", "request_params", "response",
              "audit_level", "event_id", "identity_metadata", "_delivered_at"}


def test_api_calls_write_aibigenie_audit_rows(w: WorkspaceClient, sim: SimulatedDatabricks, scenario: Scenario,
                                              wid: str, clock: MutableClock) -> None:
    m = next(m for m in scenario.messages if m.workspace_id == wid)
    before = len(scenario.audit_events)
    w.genie.list_spaces()
    w.genie.get_space(m.space_id)
    w.genie.list_conversations(m.space_id)
    w.genie.get_message(m.space_id, m.conversation_id, m.message_id)
    with pytest.raises(ResourceDoesNotExist):
        w.genie.get_message(m.space_id, m.conversation_id, "f" * 32)
    rows = sim.emitted_audit_events(wid)
    assert scenario.audit_events[before:] == rows  # appended to the scenario, the source of truth
    assert [r["action_name"] for r in rows] == ["genieListSpaces", "genieGetSpace", "genieListConversations",
                                                "genieGetConversationMessage", "genieGetConversationMessage"]
    ids = {"space_id": m.space_id, "conversation_id": m.conversation_id}
    assert [r["request_params"] for r in rows] == [{}, {"space_id": m.space_id}, {"space_id": m.space_id},
                                                   {**ids, "message_id": m.message_id}, {**ids, "message_id": "f" * 32}]
    assert [r["response"]["status_code"] for r in rows] == [200, 200, 200, 200, 404]
    assert rows[-1]["response"]["error_message"].startswith("RESOURCE_DOES_NOT_EXIST")
    for r in rows:
        assert set(r) == AUDIT_KEYS
        assert r["service_name"] == "aibiGenie" and r["workspace_id"] == wid
        assert r["user_identity"]["email"] == scenario.ingestion_principal  # the principal's application id
        assert "databricks-sdk-py/0.60.0" in r["user_agent"] and r["source_ip_address"] == "127.0.0.1"
        assert r["event_time"] == clock.now and r["event_date"] == clock.now.date()
        assert r["_delivered_at"] == clock.now + dt.timedelta(seconds=AUDIT_DELAY_S)
    # Not delivered yet, then delivered.
    assert sim.delivered_audit_events(clock.now, after=clock.now - dt.timedelta(hours=1), workspace_id=wid) == []
    later = clock.now + dt.timedelta(seconds=AUDIT_DELAY_S)
    assert sim.delivered_audit_events(later, after=clock.now, workspace_id=wid) == rows


def test_questions_create_objects_audit_and_query_history(user_client: WorkspaceClient, sim: SimulatedDatabricks,
                                                           asker: Principal, scenario: Scenario, wid: str,
                                                           clock: MutableClock) -> None:
    space = next(s for s in scenario.spaces if s.workspace_id == wid and s.domain == "sales")
    history_before = len(scenario.query_history)
    started = user_client.genie.start_conversation(space.space_id, "Who are our top 10 customers by revenue?").response
    follow_up = user_client.genie.create_message(space.space_id, started.conversation_id,
                                                 "What is the average order value by customer segment?").response
    m1 = next(m for m in scenario.messages if m.message_id == started.message_id)
    m2 = next(m for m in scenario.messages if m.message_id == follow_up.message_id)
    assert (m1.user_id, m1.channel, m1.created_at, m1.final_at) == (asker.user_id, "API", clock.now,
                                                                   clock.now + dt.timedelta(seconds=ANSWER_DELAY_S))
    assert any(c.conversation_id == started.conversation_id and c.user_id == asker.user_id for c in scenario.conversations)
    new_history = scenario.query_history[history_before:]
    assert [h["statement_id"] for h in new_history] == [m1.statement_id, m2.statement_id]
    assert all(h["query_source"]["genie_space_id"] == space.space_id and h["executed_by"] == asker.identity
               for h in new_history)
    asks = [r for r in sim.emitted_audit_events(wid) if r["action_name"].startswith("genie") and "Message" in r["action_name"]]
    assert [(r["action_name"], r["request_params"]) for r in asks] == [
        ("genieStartConversationMessage", {"space_id": space.space_id, "conversation_id": started.conversation_id}),
        ("genieCreateConversationMessage", {"space_id": space.space_id, "conversation_id": started.conversation_id}),
    ]  # ask events never carry the new message id
    assert all(r["user_identity"]["email"] == asker.identity for r in asks)


def test_message_status_follows_the_server_clock(w: WorkspaceClient, scenario: Scenario, wid: str,
                                                 clock: MutableClock) -> None:
    space = next(s for s in scenario.spaces if s.workspace_id == wid and s.domain == "sales")
    started = w.genie.start_conversation(space.space_id, "What were total sales by region last month?").response
    path = f"{G}/{space.space_id}/conversations/{started.conversation_id}/messages/{started.message_id}"
    statuses, updated, query_states = [], [], []
    for _ in range(8):
        raw = w.api_client.do("GET", path)
        statuses.append(raw["status"])
        updated.append(raw["last_updated_timestamp"])
        query = [a for a in raw.get("attachments", []) if "query" in a]
        if query:
            result = w.api_client.do("GET", f"{path}/attachments/{query[0]['attachment_id']}/query-result")
            query_states.append(result["statement_response"]["status"]["state"])
        clock.advance(seconds=ANSWER_DELAY_S / 6)
    assert statuses[0] == "SUBMITTED" and statuses[-1] == "COMPLETED"
    progress = [s for s in statuses if s != "COMPLETED"]
    assert progress == sorted(progress, key=PROGRESS_STATUSES.index) and "EXECUTING_QUERY" in progress
    assert updated == sorted(updated)
    assert query_states[0] == "PENDING" and query_states[-1] == "SUCCEEDED" and "RUNNING" in query_states


def test_person_reads_are_ground_truth_touches_principal_reads_are_not(w: WorkspaceClient, user_client: WorkspaceClient,
                                                                       asker: Principal, scenario: Scenario,
                                                                       wid: str) -> None:
    m = next(m for m in scenario.messages if m.workspace_id == wid and m.user_id == asker.user_id)
    before = list(scenario.person_touches.get(m.key, []))
    w.genie.get_message(m.space_id, m.conversation_id, m.message_id)
    assert scenario.person_touches.get(m.key, []) == before
    user_client.genie.get_message(m.space_id, m.conversation_id, m.message_id)
    assert len(scenario.person_touches[m.key]) == len(before) + 1
    assert m.key in scenario.expected_messages_to_fetch([wid])


def test_scenario_messages_are_final_and_future_objects_do_not_exist(w: WorkspaceClient, scenario: Scenario, wid: str,
                                                                      clock: MutableClock) -> None:
    m = max((m for m in scenario.messages if m.workspace_id == wid), key=lambda m: m.created_at)
    assert w.genie.get_message(m.space_id, m.conversation_id, m.message_id).status.value == m.final_status
    clock.now = m.created_at - dt.timedelta(seconds=1)  # the workspace as it was before the question
    with pytest.raises(ResourceDoesNotExist):
        w.genie.get_message(m.space_id, m.conversation_id, m.message_id)
    clock.now = m.created_at
    assert w.genie.get_message(m.space_id, m.conversation_id, m.message_id).status.value == "SUBMITTED"
